package links

import (
	"context"
	"errors"
	"fmt"
	"strconv"

	"github.com/jackc/pgx/v5"

	"github.com/dancecard/dancecard/internal/events"
	"github.com/dancecard/dancecard/internal/oauth"
	"github.com/dancecard/dancecard/internal/postgres"
)

// refresh returns a fresh token for c, whose token staleAccess has expired
// or drawn a 401. Concurrent callers in this process share one flight, so
// a burst of calls costs one database round trip; the flight does not end
// when the caller that started it gives up, so the others are not cut off.
func (s *Service) refresh(ctx context.Context, p *oauth.Provider, c Connection, staleAccess string) (oauth.Token, error) {
	v, err, _ := s.flights.Do(strconv.FormatInt(c.ID, 10), func() (any, error) {
		timeout := p.Timeout
		if timeout <= 0 {
			timeout = oauth.DefaultTimeout
		}
		fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*timeout)
		defer cancel()
		return s.refreshLocked(fctx, p, c, staleAccess)
	})
	if err != nil {
		return oauth.Token{}, err
	}
	return v.(oauth.Token), nil
}

// refreshLocked refreshes c's token while holding a lock on its refresh, so
// that across replicas exactly one refresh reaches the provider and a
// rotating refresh token is never spent twice. After the lock is acquired
// the token is read again: when another caller has replaced staleAccess
// with a token that is still good, that one is used and the provider is not
// asked.
//
// The lock is a transaction-scoped advisory lock on the connection id, not
// a row lock. A row lock gives the transaction an id for as long as the
// provider takes to answer (up to its timeout), and internal/events delivers
// only events of transactions older than every running one, so a row lock
// would hold every subscriber back for that long. The transaction takes an
// id only when it writes, after the provider answered. Writers that do not
// take the advisory lock (a reconnect, a disconnect) may change the row in
// the meantime, so the write is conditional on the sealed access token read
// under the lock: if it changed, their token stands and is used.
//
// The new token is stored sealed, keeping the old refresh token when the
// provider sends none. A refresh the provider refuses with invalid_grant
// marks the connection needs_reauth and records connection_updated in the
// same transaction; any other failure changes nothing.
func (s *Service) refreshLocked(ctx context.Context, p *oauth.Provider, c Connection, staleAccess string) (oauth.Token, error) {
	var fresh oauth.Token
	var reauth bool
	err := postgres.InTx(ctx, s.DB, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, refreshLockKey(c.ID)); err != nil {
			return err
		}
		cur, tok, version, err := s.readWithToken(ctx, tx, c.UserID, c.ID, "")
		if err != nil {
			return err
		}
		if cur.Status == StatusNeedsReauth || cur.Status == StatusRevoked {
			reauth = true
			return nil
		}
		if tok.AccessToken != staleAccess && !stale(tok) {
			fresh = tok
			return nil
		}
		next, err := s.Protocol.Refresh(ctx, p, tok)
		if pe := (*oauth.ProviderError)(nil); errors.As(err, &pe) && pe.Code == "invalid_grant" {
			moved, err := markReauth(ctx, tx, cur, version, pe)
			reauth = moved
			if err == nil && !moved {
				fresh, err = s.replaced(ctx, tx, cur)
			}
			return err
		}
		if err != nil {
			return err
		}
		stored, err := s.storeRefreshed(ctx, tx, p, cur, version, next)
		switch {
		case err != nil:
			return err
		case !stored:
			fresh, err = s.replaced(ctx, tx, cur)
			return err
		}
		fresh = next
		return nil
	})
	switch {
	case err != nil:
		return oauth.Token{}, fmt.Errorf("links: refresh connection %d: %w", c.ID, err)
	case reauth:
		return oauth.Token{}, &ReauthError{ConnectionID: c.ID, Provider: c.Provider}
	}
	return fresh, nil
}

// refreshLockKey is the advisory lock of a connection's refresh. Dancecard
// takes no other single-key advisory locks on the application's database
// (golang-migrate's lock is a hash of the database name).
func refreshLockKey(connectionID int64) int64 { return connectionID }

// replaced returns the token that another writer stored while a refresh
// was in flight (a reconnect). A connection that was removed meanwhile is
// ErrNotFound.
func (s *Service) replaced(ctx context.Context, tx pgx.Tx, cur Connection) (oauth.Token, error) {
	now, tok, _, err := s.readWithToken(ctx, tx, cur.UserID, cur.ID, "")
	if err == nil && (now.Status == StatusNeedsReauth || now.Status == StatusRevoked) {
		return oauth.Token{}, &ReauthError{ConnectionID: cur.ID, Provider: cur.Provider}
	}
	return tok, err
}

// storeRefreshed writes a refreshed token over cur's, recording
// connection_updated only when the status changes (expiring -> active). It
// writes nothing, and reports false, when the row's tokens are no longer
// the version read (sealed access token bytes).
func (s *Service) storeRefreshed(ctx context.Context, tx pgx.Tx, p *oauth.Provider, cur Connection, version []byte, t oauth.Token) (bool, error) {
	seal, expires, scopes := s.tokenColumns(p, oauth.Profile{ID: cur.ProviderUserID}, t)
	if t.Scopes == nil {
		scopes = cur.Scopes // a refresh that names no scopes keeps the granted ones
	}
	status := statusFor(t, t.RefreshToken != "")
	tag, err := tx.Exec(ctx, `UPDATE connections SET access_token = $2, refresh_token = coalesce($3, refresh_token),
		    token_type = $4, expires_at = $5, scopes = $6, status = $7, updated_at = now()
		WHERE id = $1 AND access_token IS NOT DISTINCT FROM $8`, cur.ID, seal(t.AccessToken, "access_token"), seal(t.RefreshToken, "refresh_token"),
		t.TokenType, expires, scopes, status, version)
	if err != nil || tag.RowsAffected() == 0 || status == cur.Status {
		return err == nil && tag.RowsAffected() > 0, err
	}
	return true, events.Record(ctx, tx, events.Event{Kind: events.ConnectionUpdated, UserID: cur.UserID,
		Provider: cur.Provider, ProviderUserID: cur.ProviderUserID, ConnectionID: cur.ID, Reason: "access token refreshed",
		Data: map[string]any{"old_status": cur.Status, "new_status": status}})
}

// markReauth moves a connection whose refresh token was refused to
// needs_reauth and records connection_updated, inside tx. It reports false,
// and changes nothing, when the row's tokens were replaced since they were
// read (a reconnect brought a new refresh token).
func markReauth(ctx context.Context, tx pgx.Tx, cur Connection, version []byte, pe *oauth.ProviderError) (bool, error) {
	tag, err := tx.Exec(ctx, `UPDATE connections SET status = 'needs_reauth', updated_at = now()
		WHERE id = $1 AND access_token IS NOT DISTINCT FROM $2`, cur.ID, version)
	if err != nil || tag.RowsAffected() == 0 {
		return false, err
	}
	return true, events.Record(ctx, tx, events.Event{Kind: events.ConnectionUpdated, UserID: cur.UserID,
		Provider: cur.Provider, ProviderUserID: cur.ProviderUserID, ConnectionID: cur.ID,
		Reason: "the provider refused the refresh token (" + pe.Code + ")",
		Data:   map[string]any{"old_status": cur.Status, "new_status": StatusNeedsReauth}})
}
