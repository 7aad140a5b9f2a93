package links

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/dancecard/dancecard/internal/accounts"
	"github.com/dancecard/dancecard/internal/oauth"
)

// ErrReauthRequired is a connection whose grant the provider no longer
// honours (its refresh token was refused, or it was revoked): only a new
// dance fixes it. Calls return it as a *ReauthError.
var ErrReauthRequired = errors.New("links: the connection must be reconnected")

// ReauthError says which connection must be reconnected.
type ReauthError struct {
	ConnectionID int64
	Provider     string
}

func (e *ReauthError) Error() string {
	return fmt.Sprintf("links: connection %d to %s must be reconnected", e.ConnectionID, e.Provider)
}

// Is makes errors.Is(err, ErrReauthRequired) true.
func (e *ReauthError) Is(target error) bool { return target == ErrReauthRequired }

// refreshSkew refreshes a token this long before it expires, so it does
// not expire on its way to the provider; a token that lives less than
// twice as long gets half its lifetime instead (refreshMargin).
const refreshSkew = 30 * time.Second

// issueGrace is how old a stored token must be before a 401 is taken as
// the provider's word that it is no longer good: right after a token is
// issued some providers refuse it until their replicas catch up, and a
// refresh would only cost a round trip on every call.
const issueGrace = 30 * time.Second

// maxReplay is the largest request body kept in memory so that a call that
// draws a 401 can be sent again after a refresh; larger bodies stream and
// the 401 is passed back.
const maxReplay = 64 << 10

// APICall is a call to a provider's API on a user's behalf.
type APICall struct {
	UserID       int64
	Provider     string
	ConnectionID int64 // 0: the user's highest-ranked connection to Provider (lowest rank, then id)
	Request      oauth.APIRequest
}

// CallAPI sends a call with the chosen connection's credentials and returns
// the provider's response; the caller closes its body. An OAuth 2 token
// that has expired, or is about to (refreshMargin), is refreshed first. A
// 401 for a token stored longer ago than issueGrace is the provider saying
// the token is no longer good (refused): see refused. Exactly one refresh
// reaches the provider however many calls need it, in this process or any
// other (refreshLocked). A refused refresh, or a token the provider keeps
// refusing, marks the connection needs_reauth and returns a *ReauthError.
// The only database write on the way is a refreshed token or that marking:
// the last-used time is noted in memory and flushed in batches (FlushUsage).
//
// Unknown providers are ErrUnknownProvider; an unknown connection, or
// another user's, is ErrNotFound.
func (s *Service) CallAPI(ctx context.Context, call APICall) (*http.Response, error) {
	p, ok := s.Catalog.Get(call.Provider)
	if !ok {
		return nil, ErrUnknownProvider
	}
	return s.call(ctx, p, call, true)
}

// call is CallAPI with the provider in hand: Check sends its userinfo
// request this way, under a copy of p whose API base URL is the userinfo
// endpoint's. A call with use set notes a served call as the connection's
// last use; a check is not a use.
func (s *Service) call(ctx context.Context, p *oauth.Provider, call APICall, use bool) (*http.Response, error) {
	// A path that leaves the API is refused before any connection is read.
	if _, err := oauth.APIURL(p, call.Request.Path, call.Request.RawQuery); err != nil {
		return nil, err
	}
	c, tok, err := s.pick(ctx, call)
	if err != nil {
		return nil, err
	}
	if c.Status == StatusNeedsReauth || c.Status == StatusRevoked {
		return nil, &ReauthError{ConnectionID: c.ID, Provider: c.Provider}
	}
	refreshable := p.Protocol != oauth.OAuth1 && tok.RefreshToken != ""
	refreshed := false
	if refreshable && stale(tok, c.UpdatedAt) {
		if tok, err = s.refresh(ctx, p, c, tok.AccessToken); err != nil {
			return nil, err
		}
		refreshed = true
	}
	req := call.Request
	replay := replayable(&req)
	resp, err := s.Client.CallAPI(ctx, p, tok, req)
	if err != nil {
		return nil, err
	}
	// A token refreshed just now, or stored moments ago, is inside the
	// grace: its 401 goes back as it is and changes nothing.
	if resp.StatusCode == http.StatusUnauthorized && !refreshed && time.Since(c.UpdatedAt) > issueGrace {
		if resp, err = s.refused(ctx, p, c, tok, refreshable, req, replay, resp); err != nil {
			return nil, err
		}
	}
	// A call the provider served counts as a use; one it refused the
	// credentials of (401) or failed (5xx) does not.
	if use && resp.StatusCode != http.StatusUnauthorized && resp.StatusCode < 500 {
		s.touch(c.ID, time.Now())
	}
	return resp, nil
}

// stale reports a token that has expired or is about to: it is within
// refreshMargin of its expiry.
func stale(t oauth.Token, issued time.Time) bool {
	return !t.Expiry.IsZero() && time.Now().Add(refreshMargin(issued, t.Expiry)).After(t.Expiry)
}

// refreshMargin is how long before its expiry a token issued (stored) at
// issued is refreshed: refreshSkew, or half the token's lifetime when that
// is shorter, so a token that lives 20 s is used for 10 s rather than
// refreshed on every call. The issue time is when the token was stored
// (the connection's updated_at), which may be later than the provider
// issued it (a status change also moves it): the margin then only shrinks,
// and a token is still refreshed before it expires.
func refreshMargin(issued, expiry time.Time) time.Duration {
	if issued.IsZero() {
		return refreshSkew
	}
	return max(0, min(refreshSkew, expiry.Sub(issued)/2))
}

// replayable buffers a small request body so the call can be sent again,
// and returns what gives a fresh copy of it; nil when the body is too large
// to keep (it then streams, once).
func replayable(req *oauth.APIRequest) func() io.Reader {
	if req.Body == nil {
		return func() io.Reader { return nil }
	}
	if req.ContentLength > maxReplay {
		return nil
	}
	head, err := io.ReadAll(io.LimitReader(req.Body, maxReplay+1))
	if err != nil || len(head) > maxReplay {
		// Send what was read, then the rest; a read error surfaces when
		// the transport reads it.
		req.Body = io.MultiReader(bytes.NewReader(head), errReader{err}, req.Body)
		return nil
	}
	req.Body = bytes.NewReader(head)
	return func() io.Reader { return bytes.NewReader(head) }
}

// errReader returns err once, or nothing when err is nil.
type errReader struct{ err error }

func (r errReader) Read([]byte) (int, error) {
	if r.err != nil {
		return 0, r.err
	}
	return 0, io.EOF
}

// pick finds the call's connection and opens its tokens, without locking
// (most calls need no refresh) and reading only what a call needs: this
// runs on every call.
func (s *Service) pick(ctx context.Context, call APICall) (Connection, oauth.Token, error) {
	var access, secret, refresh []byte
	var tokenType string
	var disabled bool
	c := Connection{UserID: call.UserID, Provider: call.Provider}
	err := s.DB.QueryRow(ctx, `
		SELECT id, provider_user_id, status, expires_at, updated_at, access_token, token_secret, refresh_token,
		    token_type, (SELECT disabled_at IS NOT NULL FROM users WHERE users.id = connections.user_id)
		FROM connections WHERE user_id = $1 AND provider = $2 AND ($3::bigint = 0 OR id = $3)
		ORDER BY rank, id LIMIT 1`, call.UserID, call.Provider, call.ConnectionID).
		Scan(&c.ID, &c.ProviderUserID, &c.Status, &c.ExpiresAt, &c.UpdatedAt, &access, &secret, &refresh, &tokenType, &disabled)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return Connection{}, oauth.Token{}, ErrNotFound
	case err != nil:
		return Connection{}, oauth.Token{}, fmt.Errorf("links: pick connection: %w", err)
	case disabled:
		return Connection{}, oauth.Token{}, accounts.ErrAccountDisabled
	}
	tok, err := s.openToken(c, access, secret, refresh, tokenType)
	return c, tok, err
}

// scanExtra lets scanConnection read a row that has more columns after the
// connection's.
type scanExtra struct {
	row   interface{ Scan(...any) error }
	extra []any
}

func (r scanExtra) Scan(dest ...any) error { return r.row.Scan(append(dest, r.extra...)...) }

// openToken decrypts a connection's sealed token columns.
func (s *Service) openToken(c Connection, access, secret, refresh []byte, tokenType string) (oauth.Token, error) {
	var err error
	open := func(b []byte, col string) string {
		v, oerr := s.Keys.Open(b, tokenContext(c.Provider, c.ProviderUserID, col))
		err = errors.Join(err, oerr)
		return v
	}
	tok := oauth.Token{TokenType: tokenType, Scopes: c.Scopes}
	tok.AccessToken, tok.TokenSecret, tok.RefreshToken = open(access, "access_token"), open(secret, "token_secret"), open(refresh, "refresh_token")
	if c.ExpiresAt != nil {
		tok.Expiry = *c.ExpiresAt
	}
	return tok, err
}
