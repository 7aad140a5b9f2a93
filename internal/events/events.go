// Package events records what happened to accounts and connections. Each
// event is written in the same transaction as the change it reports, so the
// log never claims a change that rolled back and never misses one that
// committed.
package events

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"

	"github.com/dancecard/dancecard/internal/postgres"
)

// Kind names an event. The set is part of the product contract.
type Kind string

// The event kinds.
const (
	UserCreated        Kind = "user_created"
	LoginCompleted     Kind = "login_completed"
	LoginFailed        Kind = "login_failed"
	PasswordChanged    Kind = "password_changed"
	ConnectionCreated  Kind = "connection_created"
	ConnectionUpdated  Kind = "connection_updated"
	ConnectionFailed   Kind = "connection_failed"
	ConnectionRemoved  Kind = "connection_removed"
	AdminUserCreated   Kind = "admin_user_created"
	AdminPasswordReset Kind = "admin_password_reset"
	// What administrators do in the console. UserID is the account acted
	// on; Data["admin_id"] is the administrator who acted.
	AdminRoleGranted       Kind = "admin_role_granted"
	AdminRoleRevoked       Kind = "admin_role_revoked"
	AdminUserDisabled      Kind = "admin_user_disabled"
	AdminUserEnabled       Kind = "admin_user_enabled"
	AdminSessionsEnded     Kind = "admin_sessions_ended"
	AdminConnectionRemoved Kind = "admin_connection_removed"
	TokenCreated           Kind = "token_created"
	TokenRevoked           Kind = "token_revoked"
	// AdminDeliveryRetried: an administrator re-queued a dead delivery.
	AdminDeliveryRetried Kind = "admin_delivery_retried"
	// The account's life: proofs of address, recovery and deletion.
	EmailVerified   Kind = "email_verified"
	EmailChanged    Kind = "email_changed"
	PasswordReset   Kind = "password_reset"
	Reauthenticated Kind = "reauthenticated"
	// AccountClaimed: a provider log-in proved the email that an unverified
	// local account held; that account was wiped and handed to the prover.
	AccountClaimed Kind = "account_claimed"
	UserDeleted    Kind = "user_deleted"
	MailFailed     Kind = "mail_failed"
	// AdminMailRetried: an administrator re-queued a dead mail.
	AdminMailRetried Kind = "admin_mail_retried"
	// Second factors.
	MFAEnabled       Kind = "mfa_enabled"
	MFADisabled      Kind = "mfa_disabled"
	MFAFailed        Kind = "mfa_failed"
	RecoveryCodeUsed Kind = "recovery_code_used"
	PasskeyAdded     Kind = "passkey_added"
	PasskeyRemoved   Kind = "passkey_removed"
)

// Kinds lists every kind, in the order of the const block above: for
// checking subscriber and webhook configuration, and for the admin
// console's kind filter. Keep it in step with the block.
func Kinds() []Kind {
	return []Kind{UserCreated, LoginCompleted, LoginFailed, PasswordChanged,
		ConnectionCreated, ConnectionUpdated, ConnectionFailed, ConnectionRemoved,
		AdminUserCreated, AdminPasswordReset, AdminRoleGranted, AdminRoleRevoked,
		AdminUserDisabled, AdminUserEnabled, AdminSessionsEnded, AdminConnectionRemoved,
		TokenCreated, TokenRevoked, AdminDeliveryRetried,
		EmailVerified, EmailChanged, PasswordReset, Reauthenticated, AccountClaimed, UserDeleted, MailFailed, AdminMailRetried,
		MFAEnabled, MFADisabled, MFAFailed, RecoveryCodeUsed, PasskeyAdded, PasskeyRemoved}
}

// Event is one row of the event log.
type Event struct {
	ID             int64
	Kind           Kind
	UserID         int64 // 0 when no user is known (a failed log-in by an unknown email)
	Provider       string
	ProviderUserID string
	ConnectionID   int64
	Reason         string
	Data           map[string]any
	Meta           Meta
	CreatedAt      time.Time
}

// Meta says where a request came from. The HTTP layer puts it in the context
// so domain code can record it without knowing about HTTP.
type Meta struct {
	RequestID string
	IP        string
	UserAgent string
}

type metaKey struct{}

// WithMeta returns ctx carrying m.
func WithMeta(ctx context.Context, m Meta) context.Context {
	return context.WithValue(ctx, metaKey{}, m)
}

// MetaFrom returns the Meta in ctx, or the zero Meta.
func MetaFrom(ctx context.Context) Meta {
	m, _ := ctx.Value(metaKey{}).(Meta)
	return m
}

// insertSQL writes one event row.
const insertSQL = `
	INSERT INTO events (kind, user_id, provider, provider_user_id, connection_id,
	                    reason, request_id, ip, user_agent, data)
	VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`

// Record writes e inside tx, filling its request metadata from ctx when e
// carries none.
func Record(ctx context.Context, tx pgx.Tx, e Event) error {
	st, err := Insert(ctx, e)
	if err != nil {
		return err
	}
	if _, err := tx.Exec(ctx, st.SQL, st.Args...); err != nil {
		return fmt.Errorf("record %s event: %w", e.Kind, err)
	}
	return nil
}

// Insert is the statement that writes e, for a transaction that sends it
// in one round trip with its own (postgres.ExecAll); its request metadata
// comes from ctx when e carries none.
func Insert(ctx context.Context, e Event) (postgres.Statement, error) {
	args, err := insertArgs(ctx, e)
	if err != nil {
		return postgres.Statement{}, err
	}
	return postgres.Statement{SQL: insertSQL, Args: args}, nil
}

// RecordAll writes many events inside tx in one round trip, for changes
// that touch many rows at once (a sweep over expiring connections).
func RecordAll(ctx context.Context, tx pgx.Tx, es []Event) error {
	stmts := make([]postgres.Statement, 0, len(es))
	for _, e := range es {
		st, err := Insert(ctx, e)
		if err != nil {
			return err
		}
		stmts = append(stmts, st)
	}
	if len(stmts) == 0 {
		return nil
	}
	if err := postgres.ExecAll(ctx, tx, stmts...); err != nil {
		return fmt.Errorf("record %d events: %w", len(es), err)
	}
	return nil
}

func insertArgs(ctx context.Context, e Event) ([]any, error) {
	if e.Meta == (Meta{}) {
		e.Meta = MetaFrom(ctx)
	}
	data := []byte("{}")
	if len(e.Data) > 0 {
		var err error
		if data, err = json.Marshal(e.Data); err != nil {
			return nil, fmt.Errorf("record %s event: %w", e.Kind, err)
		}
	}
	return []any{e.Kind, nullInt(e.UserID), nullString(e.Provider), nullString(e.ProviderUserID),
		nullInt(e.ConnectionID), Clip(e.Reason, 1024), Clip(e.Meta.RequestID, 128), Clip(e.Meta.IP, 64),
		Clip(e.Meta.UserAgent, 512), data}, nil
}

func nullInt(v int64) *int64 {
	if v == 0 {
		return nil
	}
	return &v
}

func nullString(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// Clip makes s safe for a text column: valid UTF-8, no NUL bytes, at
// most n bytes, cut on a rune boundary. Request headers are attacker-chosen.
func Clip(s string, n int) string {
	s = strings.ToValidUTF8(strings.ReplaceAll(s, "\x00", ""), "\uFFFD")
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}
