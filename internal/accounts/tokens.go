package accounts

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"

	"github.com/dancecard/dancecard/internal/events"
	"github.com/dancecard/dancecard/internal/postgres"
)

// Scope is what a personal access token may do. Scopes are ordered: each
// allows everything the ones before it allow.
type Scope string

// The scopes, lowest first.
const (
	ScopeRead  Scope = "read"  // read the caller's own data
	ScopeProxy Scope = "proxy" // ... and call providers as the caller, remove own connections
	ScopeAdmin Scope = "admin" // ... and the admin API (administrators only)
)

var scopeRank = map[Scope]int{ScopeRead: 1, ScopeProxy: 2, ScopeAdmin: 3}

// Allows reports whether a caller holding s may do what needs want.
func (s Scope) Allows(want Scope) bool {
	return scopeRank[s] >= scopeRank[want] && scopeRank[want] > 0
}

// ErrTokenInvalid is an unknown, revoked or expired token, or one whose
// account is disabled: all look the same to the caller.
var ErrTokenInvalid = errors.New("accounts: invalid access token")

// tokenPrefix marks Dancecard tokens so secret scanners can find leaked ones.
const tokenPrefix = "dct_"

// maxTokensPerUser bounds how many tokens one account may hold.
const maxTokensPerUser = 50

// APIToken is a personal access token as lists show it: never the secret.
type APIToken struct {
	ID         int64
	UserID     int64
	Name       string
	Scope      Scope
	Prefix     string // the first characters of the token, to tell tokens apart
	CreatedAt  time.Time
	ExpiresAt  *time.Time
	LastUsedAt *time.Time
}

// NewToken is what creating a token needs.
type NewToken struct {
	Name      string
	Scope     Scope
	ExpiresAt *time.Time // nil: never expires
}

// CreateToken creates a personal access token for user and returns it with
// its secret, which is shown this once and stored only as a hash. A refused
// token is every *FieldError at once, joined (see FieldErrors).
func (s *Service) CreateToken(ctx context.Context, user User, nt NewToken) (APIToken, string, error) {
	nt.Name = strings.TrimSpace(nt.Name)
	if err := CheckNewToken(user, nt); err != nil {
		return APIToken{}, "", err
	}
	var t APIToken
	var secret string
	err := postgres.InTx(ctx, s.db, func(tx pgx.Tx) (err error) {
		t, secret, err = insertToken(ctx, tx, user, nt)
		return err
	})
	if err != nil {
		if fe := (*FieldError)(nil); errors.As(err, &fe) {
			return APIToken{}, "", err
		}
		return APIToken{}, "", fmt.Errorf("create token: %w", err)
	}
	return t, secret, nil
}

// CheckNewToken returns every reason nt would be refused for user, joined,
// or nil; the name is taken as trimmed.
func CheckNewToken(user User, nt NewToken) error {
	var errs []error
	name := strings.TrimSpace(nt.Name)
	switch {
	case name == "":
		errs = append(errs, &FieldError{Field: "name", Message: "Give the token a name, so you can tell it apart later.", MessageID: "field_error.token_name_missing"})
	case !utf8.ValidString(name) || utf8.RuneCountInString(name) > 100 || strings.ContainsFunc(name, isControl):
		errs = append(errs, &FieldError{Field: "name", Message: "The name must be at most 100 printable characters.", MessageID: "field_error.token_name_long"})
	}
	switch {
	case scopeRank[nt.Scope] == 0:
		errs = append(errs, &FieldError{Field: "scope", Message: "The scope must be read, proxy or admin.", MessageID: "field_error.token_scope"})
	case nt.Scope == ScopeAdmin && !user.IsAdmin:
		errs = append(errs, &FieldError{Field: "scope", Message: "Only administrators may create admin tokens.", MessageID: "field_error.token_scope_admin"})
	}
	switch {
	case nt.ExpiresAt != nil && !nt.ExpiresAt.After(time.Now()):
		errs = append(errs, &FieldError{Field: "expires_at", Message: "The expiry must be in the future.", MessageID: "field_error.token_expiry_past"})
	case nt.ExpiresAt != nil && nt.ExpiresAt.After(time.Now().AddDate(5, 0, 0)):
		errs = append(errs, &FieldError{Field: "expires_at", Message: "The expiry must be within five years.", MessageID: "field_error.token_expiry_far"})
	}
	return errors.Join(errs...)
}

// insertToken stores a checked new token inside tx and returns it with its
// secret.
func insertToken(ctx context.Context, tx pgx.Tx, user User, nt NewToken) (APIToken, string, error) {
	secret := tokenPrefix + randomToken()
	t := APIToken{UserID: user.ID, Name: nt.Name, Scope: nt.Scope, Prefix: secret[:len(tokenPrefix)+6], ExpiresAt: nt.ExpiresAt}
	// Counting under the user's row lock keeps concurrent creations from
	// passing the limit together.
	var n int
	if err := tx.QueryRow(ctx, `
		SELECT count(*) FROM api_tokens WHERE user_id = (SELECT id FROM users WHERE id = $1 FOR UPDATE)`,
		user.ID).Scan(&n); err != nil {
		return APIToken{}, "", err
	}
	if n >= maxTokensPerUser {
		return APIToken{}, "", &FieldError{Field: "name", Message: fmt.Sprintf("You already have %d tokens; revoke one first.", n),
			MessageID: "field_error.token_limit", Args: map[string]any{"Count": n}}
	}
	if err := tx.QueryRow(ctx, `
		INSERT INTO api_tokens (user_id, name, scope, token_hash, prefix, expires_at)
		VALUES ($1, $2, $3, $4, $5, $6) RETURNING id, created_at`,
		user.ID, t.Name, t.Scope, hashToken(secret), t.Prefix, t.ExpiresAt).Scan(&t.ID, &t.CreatedAt); err != nil {
		return APIToken{}, "", err
	}
	if err := notify(ctx, tx, user, "token_created", map[string]string{"token_name": t.Name, "scope": string(t.Scope)}); err != nil {
		return APIToken{}, "", err
	}
	return t, secret, events.Record(ctx, tx, events.Event{Kind: events.TokenCreated, UserID: user.ID,
		Data: map[string]any{"token_id": t.ID, "name": t.Name, "scope": t.Scope}})
}

func isControl(r rune) bool { return r < 0x20 || r == 0x7f }

// Tokens lists userID's tokens, newest first.
func (s *Service) Tokens(ctx context.Context, userID int64) ([]APIToken, error) {
	rows, err := s.db.Query(ctx, `
		SELECT id, user_id, name, scope, prefix, created_at, expires_at, last_used_at
		FROM api_tokens WHERE user_id = $1 ORDER BY id DESC`, userID)
	if err != nil {
		return nil, fmt.Errorf("list tokens: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (APIToken, error) {
		var t APIToken
		err := row.Scan(&t.ID, &t.UserID, &t.Name, &t.Scope, &t.Prefix, &t.CreatedAt, &t.ExpiresAt, &t.LastUsedAt)
		return t, err
	})
	if err != nil {
		return nil, fmt.Errorf("list tokens: %w", err)
	}
	return out, nil
}

// RevokeToken deletes one of userID's tokens; it stops working at once.
// Another user's token id is ErrNotFound, exactly like an unknown one.
func (s *Service) RevokeToken(ctx context.Context, userID, id int64) error {
	return postgres.InTx(ctx, s.db, func(tx pgx.Tx) error {
		var name string
		err := tx.QueryRow(ctx, `DELETE FROM api_tokens WHERE id = $1 AND user_id = $2 RETURNING name`, id, userID).Scan(&name)
		if errors.Is(err, pgx.ErrNoRows) {
			return ErrNotFound
		}
		if err != nil {
			return fmt.Errorf("revoke token: %w", err)
		}
		return events.Record(ctx, tx, events.Event{Kind: events.TokenRevoked, UserID: userID,
			Data: map[string]any{"token_id": id, "name": name}})
	})
}

// AuthenticateToken returns the personal access token secret names and its
// user, or ErrTokenInvalid for an unknown, revoked or expired token or a
// disabled account. It records the token's last use at most once a minute,
// so a busy API client costs no write per request.
func (s *Service) AuthenticateToken(ctx context.Context, secret string) (APIToken, User, error) {
	if !strings.HasPrefix(secret, tokenPrefix) || len(secret) > 128 {
		return APIToken{}, User{}, ErrTokenInvalid
	}
	var t APIToken
	u, err := scanUser(s.db.QueryRow(ctx, `
		SELECT u.id, coalesce(u.email, ''), u.email_verified_at IS NOT NULL, u.is_admin, u.password_hash IS NOT NULL, u.disabled_at IS NOT NULL, u.created_at,
		       t.id, t.name, t.scope, t.prefix, t.created_at, t.expires_at, t.last_used_at
		FROM api_tokens t JOIN users u ON u.id = t.user_id
		WHERE t.token_hash = $1 AND (t.expires_at IS NULL OR t.expires_at > now())`, hashToken(secret)),
		&t.ID, &t.Name, &t.Scope, &t.Prefix, &t.CreatedAt, &t.ExpiresAt, &t.LastUsedAt)
	switch {
	case errors.Is(err, ErrNotFound) || (err == nil && u.Disabled):
		return APIToken{}, User{}, ErrTokenInvalid
	case err != nil:
		return APIToken{}, User{}, fmt.Errorf("look up token: %w", err)
	}
	t.UserID = u.ID
	if t.LastUsedAt == nil || time.Since(*t.LastUsedAt) > touchInterval {
		if _, err := s.db.Exec(ctx, `UPDATE api_tokens SET last_used_at = now() WHERE id = $1`, t.ID); err != nil {
			return APIToken{}, User{}, fmt.Errorf("touch token: %w", err)
		}
	}
	return t, u, nil
}

// RevokeAllTokens revokes every API token of userID, as "log out
// everywhere" offers, and returns how many there were.
func (s *Service) RevokeAllTokens(ctx context.Context, userID int64) (int64, error) {
	var n int64
	err := postgres.InTx(ctx, s.db, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `DELETE FROM api_tokens WHERE user_id = $1`, userID)
		if err != nil {
			return fmt.Errorf("revoke tokens: %w", err)
		}
		if n = tag.RowsAffected(); n == 0 {
			return nil
		}
		return events.Record(ctx, tx, events.Event{Kind: events.TokenRevoked, UserID: userID, Data: map[string]any{"count": n, "all": true}})
	})
	return n, err
}
