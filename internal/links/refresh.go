package links

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
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

// refused follows up a 401 (resp) for c's token tok, stored longer ago
// than issueGrace. A refreshable token is refreshed (once however many
// calls need it) and the call sent again; when the refresh is refused, or
// the fresh token draws a 401 too, the connection is marked needs_reauth
// and the call returns a *ReauthError. A token that cannot be refreshed is
// marked at once. A body too large to keep cannot be sent twice: its 401
// comes back, and the caller's retry gets the fresh token.
func (s *Service) refused(ctx context.Context, p *oauth.Provider, c Connection, tok oauth.Token, refreshable bool,
	req oauth.APIRequest, replay func() io.Reader, resp *http.Response) (*http.Response, error) {
	if refreshable {
		fresh, err := s.refresh(ctx, p, c, tok.AccessToken)
		if err != nil {
			_ = resp.Body.Close()
			return nil, err
		}
		if replay == nil {
			// The body was streamed and is spent: the 401 goes back, and
			// the caller's retry finds the fresh token.
			return resp, nil
		}
		_ = resp.Body.Close()
		req.Body = replay()
		if resp, err = s.Client.CallAPI(ctx, p, fresh, req); err != nil || resp.StatusCode != http.StatusUnauthorized {
			return resp, err
		}
		tok = fresh
	}
	reauth, err := s.markRefused(ctx, c, tok.AccessToken)
	if err != nil {
		// The provider's answer still stands; the marking waits for the
		// next 401.
		s.Logger.Warn("mark a refused token needs_reauth", "provider", c.Provider, "connection_id", c.ID, "err", err)
		return resp, nil
	}
	if !reauth {
		return resp, nil
	}
	_ = resp.Body.Close()
	return nil, &ReauthError{ConnectionID: c.ID, Provider: c.Provider}
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
// would hold every subscriber back for that long; it would also make a
// reconnect wait for the provider. The row is locked only once the provider
// has answered, and read again: if a writer that does not take the advisory
// lock (a reconnect) replaced the tokens meanwhile, its tokens stand and the
// provider's answer is dropped. Re-sealing under a new key (keys rotate)
// changes the stored bytes but not the tokens, so it is not mistaken for one.
//
// The new token is stored sealed, keeping the old refresh token when the
// provider sends none. A refresh the provider refuses with invalid_grant
// marks the connection needs_reauth and records connection_updated in the
// same transaction; any other failure changes nothing.
func (s *Service) refreshLocked(ctx context.Context, p *oauth.Provider, c Connection, staleAccess string) (oauth.Token, error) {
	var fresh oauth.Token
	var reauth bool
	err := postgres.InTx(ctx, s.DB, func(tx pgx.Tx) error {
		// Keyed by the connection id alone: Dancecard takes no other
		// single-key advisory locks on its database (golang-migrate's key
		// is a hash of the database name).
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, c.ID); err != nil {
			return err
		}
		cur, tok, err := s.readWithToken(ctx, tx, c.UserID, c.ID, "")
		if err != nil {
			return err
		}
		if cur.Status == StatusNeedsReauth || cur.Status == StatusRevoked {
			reauth = true
			return nil
		}
		if tok.AccessToken != staleAccess && !stale(tok, cur.UpdatedAt) {
			fresh = tok
			return nil
		}
		next, err := s.Client.Refresh(ctx, p, tok)
		pe := (*oauth.ProviderError)(nil)
		refused := errors.As(err, &pe) && pe.Code == "invalid_grant"
		s.observeRefresh(p.ID, err, refused)
		if err != nil && !refused {
			return err
		}
		now, nowTok, err := s.lockWithToken(ctx, tx, c.UserID, c.ID)
		switch {
		case err != nil:
			return err
		case nowTok.AccessToken != tok.AccessToken || nowTok.RefreshToken != tok.RefreshToken:
			reauth = now.Status == StatusNeedsReauth || now.Status == StatusRevoked
			fresh = nowTok
			return nil
		case refused:
			reauth = true
			return markReauth(ctx, tx, cur, pe)
		}
		fresh = next
		return s.storeRefreshed(ctx, tx, p, cur, next)
	})
	switch {
	case err != nil:
		return oauth.Token{}, fmt.Errorf("links: refresh connection %d: %w", c.ID, err)
	case reauth:
		return oauth.Token{}, &ReauthError{ConnectionID: c.ID, Provider: c.Provider}
	}
	return fresh, nil
}

// storeRefreshed writes a refreshed token over cur's, recording
// connection_updated only when the status changes (expiring -> active).
func (s *Service) storeRefreshed(ctx context.Context, tx pgx.Tx, p *oauth.Provider, cur Connection, t oauth.Token) error {
	seal, expires, scopes := s.tokenColumns(p, oauth.Profile{ID: cur.ProviderUserID}, t)
	if t.Scopes == nil {
		scopes = cur.Scopes // a refresh that names no scopes keeps the granted ones
	}
	status := statusFor(t, t.RefreshToken != "")
	_, err := tx.Exec(ctx, `UPDATE connections SET access_token = $2, refresh_token = coalesce($3, refresh_token),
		    token_type = $4, expires_at = $5, scopes = $6, status = $7, updated_at = now()
		WHERE id = $1`, cur.ID, seal(t.AccessToken, "access_token"), seal(t.RefreshToken, "refresh_token"),
		t.TokenType, expires, scopes, status)
	if err != nil || status == cur.Status {
		return err
	}
	return events.Record(ctx, tx, events.Event{Kind: events.ConnectionUpdated, UserID: cur.UserID,
		Provider: cur.Provider, ProviderUserID: cur.ProviderUserID, ConnectionID: cur.ID, Reason: "access token refreshed",
		Data: map[string]any{"old_status": cur.Status, "new_status": status}})
}

// markReauth moves a connection whose refresh token was refused to
// needs_reauth and records connection_updated, inside tx.
func markReauth(ctx context.Context, tx pgx.Tx, cur Connection, pe *oauth.ProviderError) error {
	if _, err := tx.Exec(ctx, `UPDATE connections SET status = 'needs_reauth', updated_at = now(),
		    last_error = $2, last_error_at = now() WHERE id = $1`, cur.ID, problem(ProblemRefreshRefused, pe.Code)); err != nil {
		return err
	}
	return events.Record(ctx, tx, events.Event{Kind: events.ConnectionUpdated, UserID: cur.UserID,
		Provider: cur.Provider, ProviderUserID: cur.ProviderUserID, ConnectionID: cur.ID,
		Reason: "the provider refused the refresh token (" + pe.Code + ")",
		Data:   map[string]any{"old_status": cur.Status, "new_status": StatusNeedsReauth}})
}

func (s *Service) observeRefresh(provider string, err error, refused bool) {
	if s.OnRefresh == nil {
		return
	}
	outcome := "ok"
	switch {
	case refused:
		outcome = "refused"
	case err != nil:
		outcome = "error"
	}
	s.OnRefresh(provider, outcome)
}
