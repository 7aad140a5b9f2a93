package links

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/dancecard/dancecard/internal/oauth"
)

// StartRequest starts a dance.
type StartRequest struct {
	Provider string
	Intent   Intent
	UserID   int64    // the logged-in user, for connect
	Browser  string   // the browser-binding cookie value
	Next     string   // a same-site path, already checked by the caller
	Scopes   []string // extra scopes asked for on the connect form
	// Reconnect is one of UserID's connections that this connect dance
	// renews: the provider is asked to preselect its account (a login
	// hint), and Provider may be left empty.
	Reconnect int64
}

var scopeRE = regexp.MustCompile(`^[A-Za-z0-9_:./+\-]{1,128}$`)

// Start begins a dance and returns the provider URL to send the browser to.
// What must stay secret (PKCE verifier, OIDC nonce, OAuth 1 request secret)
// is sealed into the dance row; only the state travels.
func (s *Service) Start(ctx context.Context, r StartRequest) (string, error) {
	var hint string
	if r.Reconnect != 0 {
		var err error
		if r.Provider, hint, err = s.reconnectHint(ctx, r); err != nil {
			return "", err
		}
	}
	p, ok := s.Catalog.Get(r.Provider)
	if !ok {
		return "", ErrUnknownProvider
	}
	if len(r.Scopes) > 20 {
		return "", ErrBadScope
	}
	for _, sc := range r.Scopes {
		if !scopeRE.MatchString(sc) {
			return "", ErrBadScope
		}
	}
	if r.Browser == "" || (r.Intent != IntentLogin && r.UserID == 0) {
		return "", ErrWrongBrowser
	}
	authURL, pending, err := s.Client.Begin(ctx, p, s.Catalog.CallbackURL(p.ID), r.Scopes)
	if err == nil {
		authURL, err = oauth.WithLoginHint(p, authURL, hint)
	}
	if err != nil {
		s.fail(ctx, p, r.Intent, r.UserID, oauth.Profile{}, err)
		return "", fmt.Errorf("start %s dance: %w", p.ID, err)
	}
	if s.Hooks.BeforeLogin != nil {
		if err := s.Hooks.BeforeLogin(ctx, p, r.Intent, authURL); err != nil {
			return "", err
		}
	}
	lookup := hashString(pending.Lookup())
	secrets, err := json.Marshal(pending)
	if err != nil {
		return "", err
	}
	var userID *int64
	if r.Intent != IntentLogin {
		userID = &r.UserID
	}
	_, err = s.DB.Exec(ctx, `
		INSERT INTO dances (lookup_hash, provider, intent, user_id, browser_hash, secrets, next, expires_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, now() + make_interval(secs => $8))`,
		lookup, p.ID, r.Intent, userID, hashString(r.Browser),
		s.Keys.Seal(string(secrets), danceContext(lookup)), r.Next, danceTTL.Seconds())
	if err != nil {
		return "", fmt.Errorf("store dance: %w", err)
	}
	return authURL, nil
}

// reconnectHint is the provider of the connection a connect dance renews
// and the hint that names its account there: the username, else the
// email, else the provider's id for it. Another user's connection is
// ErrNotFound, and so is one at another provider than r names.
func (s *Service) reconnectHint(ctx context.Context, r StartRequest) (provider, hint string, err error) {
	if r.Intent != IntentConnect || r.UserID == 0 {
		return "", "", ErrNotFound
	}
	var username, email, puid string
	err = s.DB.QueryRow(ctx, `SELECT provider, username, email, provider_user_id FROM connections
		WHERE id = $1 AND user_id = $2`, r.Reconnect, r.UserID).Scan(&provider, &username, &email, &puid)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return "", "", ErrNotFound
	case err != nil:
		return "", "", fmt.Errorf("find connection to reconnect: %w", err)
	case r.Provider != "" && r.Provider != provider:
		return "", "", ErrNotFound
	}
	for _, h := range []string{username, email, puid} {
		if h != "" {
			return provider, h, nil
		}
	}
	return provider, "", nil
}

// dance is a started dance, taken back by its callback.
type dance struct {
	Provider string
	Intent   Intent
	UserID   int64
	Next     string
	Pending  oauth.Pending
}

// take finds and deletes the dance a callback belongs to, so each state is
// used once. A dance found under another browser's cookie is left in place
// (so a stranger replaying a state cannot cancel the real user's dance) and
// reported as ErrWrongBrowser. On ErrWrongBrowser and ErrStateExpired the
// dance's Intent and UserID come back too, so the failure can be recorded
// as what it was.
func (s *Service) take(ctx context.Context, provider, lookupValue, browser string) (dance, error) {
	if lookupValue == "" || len(lookupValue) > 512 || browser == "" {
		return dance{}, ErrStateUnknown
	}
	lookup := hashString(lookupValue)
	var d dance
	var sealed []byte
	var userID *int64
	var expires time.Time
	// One statement finds and consumes the dance, so the common path costs a
	// single round trip and two callbacks can never both take it.
	err := s.DB.QueryRow(ctx, `
		DELETE FROM dances WHERE lookup_hash = $1 AND browser_hash = $2
		RETURNING provider, intent, user_id, secrets, next, expires_at`, lookup, hashString(browser)).
		Scan(&d.Provider, &d.Intent, &userID, &sealed, &d.Next, &expires)
	if errors.Is(err, pgx.ErrNoRows) {
		// Read only: the dance stays for the browser that started it.
		err = s.DB.QueryRow(ctx, `SELECT intent, user_id FROM dances WHERE lookup_hash = $1`, lookup).Scan(&d.Intent, &userID)
		switch {
		case errors.Is(err, pgx.ErrNoRows):
			return dance{}, ErrStateUnknown
		case err != nil:
			return dance{}, fmt.Errorf("find dance: %w", err)
		}
		d.UserID = deref(userID)
		return d, ErrWrongBrowser
	}
	if err != nil {
		return dance{}, fmt.Errorf("take dance: %w", err)
	}
	d.UserID = deref(userID)
	if d.Provider != provider {
		return dance{}, ErrStateUnknown
	}
	if time.Now().After(expires) {
		return d, ErrStateExpired
	}
	plain, err := s.Keys.Open(sealed, danceContext(lookup))
	if err != nil {
		return dance{}, fmt.Errorf("open dance secrets: %w", err)
	}
	if err := json.Unmarshal([]byte(plain), &d.Pending); err != nil {
		return dance{}, fmt.Errorf("decode dance secrets: %w", err)
	}
	return d, nil
}

// PruneDances deletes dances nobody finished.
func (s *Service) PruneDances(ctx context.Context) (int64, error) {
	tag, err := s.DB.Exec(ctx, `DELETE FROM dances WHERE expires_at < now() - interval '1 hour'`)
	if err != nil {
		return 0, fmt.Errorf("prune dances: %w", err)
	}
	return tag.RowsAffected(), nil
}

// deref is *p, or 0 for nil.
func deref(p *int64) int64 {
	if p == nil {
		return 0
	}
	return *p
}

func hashString(s string) []byte {
	h := sha256.Sum256([]byte(s))
	return h[:]
}

func danceContext(lookup []byte) string {
	return "dance:" + hex.EncodeToString(lookup)
}
