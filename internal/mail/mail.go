// Package mail sends the service's mail durably. A mail is written to an
// outbox in the same transaction as the change it reports, so it goes out
// exactly when that change commits; a sender (one per replica) claims due
// mail, renders it and hands it to SMTP, retrying with backoff and parking
// what keeps failing for an administrator.
//
// Mail that proves something (an address, the right to reset a password)
// carries a one-time link. Its secret is minted by the sender at the moment
// of sending and only its SHA-256 is stored, so no table, log or event ever
// holds a working token, and a retried mail invalidates the link of any
// earlier attempt.
package mail

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	netmail "net/mail"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// notifyChannel wakes the senders when a mail is enqueued or retried. The
// notification is delivered at commit, so a sender never looks too early.
const notifyChannel = "dancecard_mail"

// ErrNotFound is returned for a mail or dev mailbox message that does not
// exist (or, for Retry, is not dead).
var ErrNotFound = errors.New("mail: not found")

// Kind names a message template; the web package renders each kind.
type Kind string

// The kinds of mail. Each link kind must carry a link of its purpose, and
// the others none, so a template never shows a link it lacks.
const (
	KindVerifyEmail   Kind = "verify_email"   // link purpose PurposeVerifyEmail
	KindEmailChange   Kind = "email_change"   // sent to the NEW address; link purpose PurposeEmailChange
	KindPasswordReset Kind = "password_reset" // link purpose PurposePasswordReset
	KindLoginUnlock   Kind = "login_unlock"   // link purpose PurposeLoginUnlock
	KindSignupExists  Kind = "signup_exists"  // someone tried to sign up with your address; no link
	// KindNotice tells the user something happened to the account;
	// Data["notice"] says what: password_changed, password_reset,
	// email_changed, connection_added, connection_removed, token_created,
	// account_deleted, mfa_changed.
	KindNotice Kind = "notice"
)

// Purpose says what a one-time link is good for. A link is only accepted
// where its purpose is expected, so a verification link cannot reset a
// password.
type Purpose string

// The link purposes.
const (
	PurposeVerifyEmail   Purpose = "verify_email"
	PurposeEmailChange   Purpose = "email_change"
	PurposePasswordReset Purpose = "password_reset"
	PurposeLoginUnlock   Purpose = "login_unlock"
)

// linkPurpose maps each link kind to the purpose of its link; kinds not in
// it carry no link.
var linkPurpose = map[Kind]Purpose{
	KindVerifyEmail:   PurposeVerifyEmail,
	KindEmailChange:   PurposeEmailChange,
	KindPasswordReset: PurposePasswordReset,
	KindLoginUnlock:   PurposeLoginUnlock,
}

// knownKind reports whether k is one of the kinds above.
func knownKind(k Kind) bool {
	_, link := linkPurpose[k]
	return link || k == KindSignupExists || k == KindNotice
}

// Message is a mail to send after the enqueuing transaction commits.
type Message struct {
	UserID int64             // 0 when the mail concerns no account (or one being deleted in this transaction)
	To     string            // the recipient's address
	Kind   Kind              // which template renders it
	Data   map[string]string // non-secret values the template shows (never a token)
	Link   *LinkSpec         // nil: the mail carries no one-time link
	// Lang is the language to write the mail in when the recipient chose
	// none; "" takes the language of the request in ctx (WithLanguage).
	Lang string

	byAddress bool // EnqueueForAddress: the link is made when the sender resolves the address
}

// LinkSpec asks for a one-time link in a mail.
type LinkSpec struct {
	Purpose Purpose
	Email   string        // the address the link proves; empty means To's address
	TTL     time.Duration // how long the link works after it is enqueued
}

// Querier is what the read-only and single-statement functions need: a pool
// or a transaction.
type Querier interface {
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
}

// Enqueue records m inside tx and returns the outbox id. Nothing is sent
// unless tx commits. When m.Link is set it creates the link (without a
// secret: the sender mints that) and voids every earlier unused link of the
// same user and purpose, so only the newest mail's link works; a mail still
// queued with a voided link is then not sent at all. The notification that
// wakes the senders is delivered at commit.
func Enqueue(ctx context.Context, tx pgx.Tx, m Message) (int64, error) {
	if err := m.check(); err != nil {
		return 0, err
	}
	data := []byte("{}")
	if len(m.Data) > 0 {
		// A map of strings always marshals.
		data, _ = json.Marshal(m.Data)
	}
	var linkID *int64
	if m.Link != nil {
		id, err := insertLink(ctx, tx, m)
		if err != nil {
			return 0, err
		}
		linkID = &id
	}
	var userID *int64
	if m.UserID != 0 {
		userID = &m.UserID
	}
	lang := m.Lang
	if lang == "" {
		lang = LanguageFrom(ctx)
	}
	// The recipient's own choice wins over the request's language.
	var id int64
	if err := tx.QueryRow(ctx, `
		INSERT INTO mail_outbox (user_id, to_addr, kind, data, link_id, lang)
		VALUES ($1, $2, $3, $4, $5, coalesce((SELECT language FROM users WHERE id = $1), $6)) RETURNING id`,
		userID, strings.TrimSpace(m.To), m.Kind, data, linkID, lang).Scan(&id); err != nil {
		return 0, fmt.Errorf("mail: enqueue %s: %w", m.Kind, err)
	}
	if _, err := tx.Exec(ctx, `SELECT pg_notify('`+notifyChannel+`', '')`); err != nil {
		return 0, fmt.Errorf("mail: enqueue %s: notify: %w", m.Kind, err)
	}
	return id, nil
}

// check refuses a message the sender could not send as meant.
func (m Message) check() error {
	switch {
	case !knownKind(m.Kind):
		return fmt.Errorf("mail: enqueue: unknown kind %q", m.Kind)
	case strings.TrimSpace(m.To) == "":
		return fmt.Errorf("mail: enqueue %s: no recipient", m.Kind)
	}
	// Refused now rather than by every attempt until the mail is dead.
	if _, err := netmail.ParseAddress(m.To); err != nil {
		return fmt.Errorf("mail: enqueue %s: the recipient is not a valid address", m.Kind)
	}
	want, needs := linkPurpose[m.Kind]
	switch {
	case needs && m.byAddress:
		return nil
	case needs && m.Link == nil:
		return fmt.Errorf("mail: enqueue %s: the kind needs a link", m.Kind)
	case !needs && m.Link != nil:
		return fmt.Errorf("mail: enqueue %s: the kind carries no link", m.Kind)
	case m.Link == nil:
		return nil
	case m.Link.Purpose != want:
		return fmt.Errorf("mail: enqueue %s: link purpose %q, want %q", m.Kind, m.Link.Purpose, want)
	case m.Link.TTL <= 0:
		return fmt.Errorf("mail: enqueue %s: link TTL must be positive", m.Kind)
	case m.UserID == 0:
		return fmt.Errorf("mail: enqueue %s: a link needs a user", m.Kind)
	}
	return nil
}

// insertLink voids the user's earlier unused links of the purpose and adds
// the new one.
func insertLink(ctx context.Context, tx pgx.Tx, m Message) (int64, error) {
	if err := VoidLinks(ctx, tx, m.UserID, m.Link.Purpose); err != nil {
		return 0, err
	}
	email := m.Link.Email
	if email == "" {
		to, _ := netmail.ParseAddress(m.To) // checked by Message.check
		email = to.Address
	}
	var id int64
	err := tx.QueryRow(ctx, `
		INSERT INTO mail_links (user_id, purpose, email, expires_at)
		VALUES ($1, $2, $3, now() + $4 * interval '1 millisecond') RETURNING id`,
		m.UserID, m.Link.Purpose, strings.ToLower(strings.TrimSpace(email)), m.Link.TTL.Milliseconds(),
	).Scan(&id)
	if err != nil {
		return 0, fmt.Errorf("mail: enqueue %s: link: %w", m.Kind, err)
	}
	return id, nil
}
