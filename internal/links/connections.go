package links

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/dancecard/dancecard/internal/accounts"
	"github.com/dancecard/dancecard/internal/events"
	"github.com/dancecard/dancecard/internal/oauth"
	"github.com/dancecard/dancecard/internal/postgres"
)

// Status is a connection's health as the last dance or API call saw it.
type Status string

// The statuses.
const (
	StatusActive      Status = "active"
	StatusExpiring    Status = "expiring"     // no refresh token and the access token is about to expire
	StatusNeedsReauth Status = "needs_reauth" // refresh failed or the provider revoked it
	StatusRevoked     Status = "revoked"
)

// expiringWithin is how close to expiry a token without a refresh token
// counts as expiring.
const expiringWithin = time.Hour

// Connection is one linked provider account. It never carries tokens.
type Connection struct {
	ID             int64
	UserID         int64
	Provider       string
	ProviderUserID string
	Username       string
	Name           string
	ProfileURL     string
	AvatarURL      string
	Email          string
	EmailVerified  bool
	Scopes         []string
	Status         Status
	Rank           int
	ExpiresAt      *time.Time
	CreatedAt      time.Time
	UpdatedAt      time.Time
	LastUsedAt     *time.Time
	// CheckedAt is when Check last asked the provider about the
	// connection; LastError (with LastErrorAt) is the last problem the
	// provider reported: a refused token, or a failed check.
	CheckedAt   *time.Time
	LastError   string
	LastErrorAt *time.Time
}

const connectionColumns = `id, user_id, provider, provider_user_id, username, name, profile_url, avatar_url,
	email, email_verified, scopes, status, rank, expires_at, created_at, updated_at, last_used_at,
	checked_at, last_error, last_error_at`

func scanConnection(row pgx.Row) (Connection, error) {
	var c Connection
	err := row.Scan(&c.ID, &c.UserID, &c.Provider, &c.ProviderUserID, &c.Username, &c.Name, &c.ProfileURL,
		&c.AvatarURL, &c.Email, &c.EmailVerified, &c.Scopes, &c.Status, &c.Rank, &c.ExpiresAt,
		&c.CreatedAt, &c.UpdatedAt, &c.LastUsedAt, &c.CheckedAt, &c.LastError, &c.LastErrorAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return Connection{}, ErrNotFound
	}
	return c, err
}

// statusFor is the status a freshly stored token has.
func statusFor(tok oauth.Token, hasRefresh bool) Status {
	if !hasRefresh && !tok.Expiry.IsZero() && time.Until(tok.Expiry) < expiringWithin {
		return StatusExpiring
	}
	return StatusActive
}

// tokenContext binds a sealed token to its row and column.
func tokenContext(provider, providerUserID, column string) string {
	return "connection:" + provider + ":" + providerUserID + ":" + column
}

// upsert links prof to userID inside tx: a new connection, or the existing
// one refreshed in place (same id). A provider account linked to someone
// else is ErrLinkedToOtherUser. Concurrent callbacks for one provider
// account serialise on the unique key: exactly one inserts.
//
// A new connection comes with the statements that complete it (the user's
// name from the link, connection_created), which the caller sends in tx
// with its own before committing (postgres.ExecAll). onLogin records
// connection_updated only when the status changes: the login_completed
// event already reports the log-in and names the connection.
func (s *Service) upsert(ctx context.Context, tx pgx.Tx, userID int64, p *oauth.Provider, tok oauth.Token, prof oauth.Profile,
	onLogin bool) (c Connection, created bool, after []postgres.Statement, err error) {
	seal, expires, scopes := s.tokenColumns(p, prof, tok)
	c, err = scanConnection(tx.QueryRow(ctx, `
		INSERT INTO connections (user_id, provider, provider_user_id, username, name, profile_url, avatar_url,
		    email, email_verified, scopes, access_token, token_secret, refresh_token, token_type, expires_at, status, rank)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16,
		    (SELECT coalesce(max(rank) + 1, 0) FROM connections WHERE user_id = $1 AND provider = $2))
		ON CONFLICT (provider, provider_user_id) DO NOTHING
		RETURNING `+connectionColumns,
		userID, p.ID, prof.ID, prof.Username, prof.Name, prof.ProfileURL, prof.AvatarURL, prof.Email, prof.EmailVerified,
		scopes, seal(tok.AccessToken, "access_token"), seal(tok.TokenSecret, "token_secret"),
		seal(tok.RefreshToken, "refresh_token"), tok.TokenType, expires, statusFor(tok, tok.RefreshToken != "")))
	if err == nil {
		ev, err := events.Insert(ctx, events.Event{Kind: events.ConnectionCreated, UserID: userID,
			Provider: p.ID, ProviderUserID: prof.ID, ConnectionID: c.ID, Data: map[string]any{"scopes": scopes}})
		return c, true, append(accounts.NameFromLink(userID, prof.Name), ev), err
	}
	if !errors.Is(err, ErrNotFound) {
		return Connection{}, false, nil, fmt.Errorf("insert connection: %w", err)
	}
	l, err := lockLink(ctx, tx, p.ID, prof.ID)
	if err != nil {
		return Connection{}, false, nil, fmt.Errorf("lock connection: %w", err)
	}
	if l.UserID != userID {
		return Connection{}, false, nil, ErrLinkedToOtherUser
	}
	stmts, err := s.updateLink(ctx, &l, p, tok, prof, onLogin)
	if err != nil {
		return Connection{}, false, nil, err
	}
	c, err = sendUpdate(ctx, tx, stmts)
	return c, false, nil, err
}

// tokenColumns is how tok is stored for prof's connection: a sealer bound
// to the row and column, the expiry (nil for none) and the granted scopes.
func (s *Service) tokenColumns(p *oauth.Provider, prof oauth.Profile, tok oauth.Token) (func(v, col string) []byte, *time.Time, []string) {
	seal := func(v, col string) []byte { return s.Keys.Seal(v, tokenContext(p.ID, prof.ID, col)) }
	var expires *time.Time
	if !tok.Expiry.IsZero() {
		expires = &tok.Expiry
	}
	scopes := tok.Scopes
	if scopes == nil {
		scopes = []string{}
	}
	return seal, expires, scopes
}

// updateLink is the update of l, a connection of its user that is locked,
// with a fresh token and profile (first; it returns the row), and the
// connection_updated event that goes with it: none when onLogin and the
// status stays. sendUpdate runs them.
func (s *Service) updateLink(ctx context.Context, l *link, p *oauth.Provider, tok oauth.Token, prof oauth.Profile,
	onLogin bool) ([]postgres.Statement, error) {
	seal, expires, scopes := s.tokenColumns(p, prof, tok)
	status := statusFor(tok, tok.RefreshToken != "" || l.HasRefresh)
	stmts := []postgres.Statement{{SQL: `
		UPDATE connections SET username = $2, name = $3, profile_url = $4, avatar_url = $5, email = $6,
		    email_verified = $7, scopes = $8, access_token = $9, token_secret = $10,
		    refresh_token = coalesce($11, refresh_token), token_type = $12, expires_at = $13, status = $14,
		    updated_at = now()
		WHERE id = $1 RETURNING ` + connectionColumns,
		Args: []any{l.ID, prof.Username, prof.Name, prof.ProfileURL, prof.AvatarURL, prof.Email, prof.EmailVerified, scopes,
			seal(tok.AccessToken, "access_token"), seal(tok.TokenSecret, "token_secret"), seal(tok.RefreshToken, "refresh_token"),
			tok.TokenType, expires, status}}}
	if onLogin && status == l.Status {
		return stmts, nil
	}
	ev, err := events.Insert(ctx, events.Event{Kind: events.ConnectionUpdated, UserID: l.UserID,
		Provider: p.ID, ProviderUserID: prof.ID, ConnectionID: l.ID,
		Data: map[string]any{"old_status": l.Status, "new_status": status, "scopes": scopes}})
	return append(stmts, ev), err
}

// sendUpdate runs stmts inside tx in one round trip and returns the row of
// the first, a connection's update (updateLink), followed by any statements
// that go with it.
func sendUpdate(ctx context.Context, tx pgx.Tx, stmts []postgres.Statement) (Connection, error) {
	br := tx.SendBatch(ctx, postgres.Batch(stmts...))
	c, err := scanConnection(br.QueryRow())
	if cerr := br.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return Connection{}, fmt.Errorf("update connection: %w", err)
	}
	return c, nil
}

// link is a connection row locked for update, with what the flows decide on.
type link struct {
	ID, UserID   int64
	UserDisabled bool
	Status       Status
	HasRefresh   bool
}

// lockLink finds and locks the connection of a provider account, with its
// owner's disabled flag, in one round trip; ErrNotLinked when there is none.
func lockLink(ctx context.Context, tx pgx.Tx, provider, providerUserID string) (link, error) {
	var l link
	err := tx.QueryRow(ctx, `
		SELECT c.id, c.user_id, u.disabled_at IS NOT NULL, c.status, c.refresh_token IS NOT NULL
		FROM connections c JOIN users u ON u.id = c.user_id
		WHERE c.provider = $1 AND c.provider_user_id = $2 FOR UPDATE OF c`, provider, providerUserID).
		Scan(&l.ID, &l.UserID, &l.UserDisabled, &l.Status, &l.HasRefresh)
	if errors.Is(err, pgx.ErrNoRows) {
		return link{}, ErrNotLinked
	}
	return l, err
}

// Connections lists a user's connections by provider, primary first.
func (s *Service) Connections(ctx context.Context, userID int64) ([]Connection, error) {
	rows, err := s.DB.Query(ctx, `SELECT `+connectionColumns+` FROM connections WHERE user_id = $1 ORDER BY provider, rank, id`, userID)
	if err != nil {
		return nil, fmt.Errorf("list connections: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (Connection, error) { return scanConnection(row) })
	if err != nil {
		return nil, fmt.Errorf("list connections: %w", err)
	}
	return out, nil
}

// Disconnect removes one of userID's connections. It refuses to remove the
// last way the user can log in, and revokes the token at the provider after
// the commit (best effort: a provider that is down must not keep the link).
func (s *Service) Disconnect(ctx context.Context, userID, connectionID int64) error {
	var c Connection
	var tok oauth.Token
	err := postgres.InTx(ctx, s.DB, func(tx pgx.Tx) error {
		u, err := s.Accounts.UserTx(ctx, tx, userID)
		if err != nil {
			return err
		}
		if c, tok, err = s.lockWithToken(ctx, tx, userID, connectionID); err != nil {
			return err
		}
		var others int
		if err := tx.QueryRow(ctx, `SELECT count(*) FROM connections WHERE user_id = $1 AND id <> $2`,
			userID, connectionID).Scan(&others); err != nil {
			return err
		}
		if !u.HasPassword && others == 0 {
			return ErrLastLoginMethod
		}
		if _, err := tx.Exec(ctx, `DELETE FROM connections WHERE id = $1`, connectionID); err != nil {
			return err
		}
		if err := s.Accounts.Notify(ctx, tx, userID, "connection_removed", map[string]string{"provider": s.providerName(c.Provider), "username": c.Username}); err != nil {
			return err
		}
		return events.Record(ctx, tx, events.Event{Kind: events.ConnectionRemoved, UserID: userID,
			Provider: c.Provider, ProviderUserID: c.ProviderUserID, ConnectionID: c.ID})
	})
	if err != nil {
		return err
	}
	s.revoke(ctx, c, tok)
	return nil
}

// providerName is a provider's display name, or its id when it is no
// longer configured.
func (s *Service) providerName(id string) string {
	if p, ok := s.Catalog.Get(id); ok && p.Name != "" {
		return p.Name
	}
	return id
}
