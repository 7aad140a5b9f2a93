// Package oauthtest is a fake provider that speaks OAuth 2 (authorization
// code, PKCE S256, refresh, RFC 7009 revocation), OpenID Connect (discovery,
// JWKS, RS256 ID tokens) and OAuth 1.0a (HMAC-SHA1 and RSA-SHA1 signatures,
// verified for real), with a userinfo endpoint and an API endpoint that
// echoes what it receives.
//
// The engine is a plain http.Handler (NewHandler), so the dev provider can
// mount it and plug in a consent page with WithAuthorize; NewServer wraps it
// in an httptest.Server for tests. Consent is automatic by default: the user
// set with SetUser agrees to everything. Failures are switched on at run time
// with SetKnobs / UpdateKnobs, and Counts says what the provider was asked.
//
// Everything lives in memory: it is a fake, and the dev provider it backs is
// a single-process development tool.
package oauthtest

import (
	"crypto/rsa"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// User is the account that consents at the fake provider.
type User struct {
	ID            string
	Login         string
	Name          string
	Email         string
	EmailVerified bool
	AvatarURL     string // "" serves an avatar from the fake itself
	ProfileURL    string
	// Userinfo, when set, is served verbatim by the userinfo endpoint
	// instead of the default document, to mimic a real provider's shape.
	Userinfo []byte
}

// AuthRequest is what an authorization request asks for.
type AuthRequest struct {
	Protocol    string // "oauth2" (also OpenID Connect) or "oauth1"
	ClientID    string // the client id, or the OAuth 1 consumer key
	RedirectURI string // the redirect URI, or the OAuth 1 callback
	Scopes      []string
	State       string // the OAuth 2 state, or the OAuth 1 request token
}

// Decision is what an AuthorizeFunc decided.
type Decision struct {
	User User
	// Deny refuses consent: error=access_denied (OAuth 2), denied (OAuth 1).
	Deny bool
	// Handled means the hook wrote the response itself (a consent page);
	// the engine does nothing more with this request.
	Handled bool
	// ExpiresIn, when set, overrides Knobs.ExpiresIn for this grant's tokens.
	ExpiresIn time.Duration
	// FailRefresh makes every refresh of this grant fail with invalid_grant.
	FailRefresh bool
}

// AuthorizeFunc decides an authorization request: the dev provider's consent
// page. It is called for GET and POST of the authorize endpoints; the
// protocol's own parameters are always read from the URL's query, so a
// consent form may POST its own fields back to r.URL.
type AuthorizeFunc func(w http.ResponseWriter, r *http.Request, req AuthRequest) Decision

// ClientAuth is how the token and revocation endpoints accept the client.
type ClientAuth int

// Client authentication methods.
const (
	ClientAuthAny   ClientAuth = iota // client_secret_basic or client_secret_post
	ClientAuthBasic                   // only client_secret_basic
	ClientAuthPost                    // only client_secret_post
)

// Counts are how many requests each endpoint received (failed ones too).
type Counts struct {
	Authorizations, TokenExchanges, Refreshes, Userinfo, Revocations int64
	RequestTokens, AccessTokens, APICalls                            int64
}

type counters struct {
	authorizations, tokenExchanges, refreshes, userinfo, revocations atomic.Int64
	requestTokens, accessTokens, apiCalls                            atomic.Int64
}

// Provider is the fake provider engine. It is safe for concurrent use.
type Provider struct {
	mu         sync.RWMutex
	base       *url.URL
	clientID   string
	secret     string
	consumer   string
	consumerSc string
	rsaPub     *rsa.PublicKey
	user       User
	knobs      Knobs
	authorize  AuthorizeFunc
	clientAuth ClientAuth

	keyOnce sync.Once
	key     *rsa.PrivateKey // ID token signing key, generated on first use

	store    *store
	counters counters
	now      func() time.Time
}

// Option configures a Provider.
type Option func(*Provider)

// NewHandler returns the engine, ready to serve once its base URL is set
// (WithBaseURL or SetBaseURL): the issuer, the discovery document and OAuth 1
// signature checks all depend on the URL the clients see.
func NewHandler(opts ...Option) *Provider {
	p := &Provider{
		clientID:   "dancecard-client",
		secret:     "dancecard-secret",
		consumer:   "dancecard-consumer",
		consumerSc: "consumer-secret",
		user: User{ID: "42", Login: "octo", Name: "Octo Cat", Email: "octo@example.com",
			EmailVerified: true, ProfileURL: "https://example.com/octo"},
		store: newStore(),
		now:   time.Now,
	}
	for _, o := range opts {
		o(p)
	}
	return p
}

// WithBaseURL sets the URL the engine is reachable at (no trailing slash
// needed), e.g. http://127.0.0.1:8080/dev/provider.
func WithBaseURL(u string) Option { return func(p *Provider) { p.setBase(u) } }

// WithClient sets the OAuth 2 client id and secret.
func WithClient(id, secret string) Option {
	return func(p *Provider) { p.clientID, p.secret = id, secret }
}

// WithConsumer sets the OAuth 1 consumer key and secret (HMAC-SHA1).
func WithConsumer(key, secret string) Option {
	return func(p *Provider) { p.consumer, p.consumerSc = key, secret }
}

// WithRSAPublicKey registers the consumer's RSA public key, which RSA-SHA1
// signatures are verified with (JIRA's "application link").
func WithRSAPublicKey(pub *rsa.PublicKey) Option { return func(p *Provider) { p.rsaPub = pub } }

// WithSigningKey sets the ID token signing key instead of generating one.
func WithSigningKey(k *rsa.PrivateKey) Option {
	return func(p *Provider) { p.keyOnce.Do(func() { p.key = k }) }
}

// WithUser sets the user who consents.
func WithUser(u User) Option { return func(p *Provider) { p.user = u } }

// WithAuthorize plugs in a consent decision (a consent page).
func WithAuthorize(f AuthorizeFunc) Option { return func(p *Provider) { p.authorize = f } }

// WithClientAuth restricts how the client may authenticate.
func WithClientAuth(a ClientAuth) Option { return func(p *Provider) { p.clientAuth = a } }

// WithKnobs sets the initial failure knobs.
func WithKnobs(k Knobs) Option { return func(p *Provider) { p.knobs = k } }

// WithIssuerParam makes authorization responses carry iss (RFC 9207) and
// the discovery document say so.
func WithIssuerParam() Option { return func(p *Provider) { p.knobs.IssuerParam = true } }

// WithFormEncodedTokens answers token requests form-encoded, not JSON.
func WithFormEncodedTokens() Option { return func(p *Provider) { p.knobs.FormEncoded = true } }

// WithRefreshRotation issues a new refresh token on every refresh and
// invalidates the old one.
func WithRefreshRotation() Option { return func(p *Provider) { p.knobs.RotateRefresh = true } }

// WithRequirePKCE refuses authorization requests without a code challenge.
func WithRequirePKCE() Option { return func(p *Provider) { p.knobs.RequirePKCE = true } }

// SetBaseURL sets the URL the engine is reachable at.
func (p *Provider) SetBaseURL(u string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.setBase(u)
}

func (p *Provider) setBase(raw string) {
	u, err := url.Parse(strings.TrimSuffix(raw, "/"))
	if err != nil || u.Scheme == "" || u.Host == "" {
		panic("oauthtest: base URL must be absolute: " + raw)
	}
	p.base = u
}

// SetUser sets the user who consents from now on.
func (p *Provider) SetUser(u User) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.user = u
}

// SetRSAPublicKey registers the consumer's RSA-SHA1 public key.
func (p *Provider) SetRSAPublicKey(pub *rsa.PublicKey) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.rsaPub = pub
}

// Counts returns how many requests each endpoint has received.
func (p *Provider) Counts() Counts {
	c := &p.counters
	return Counts{
		Authorizations: c.authorizations.Load(), TokenExchanges: c.tokenExchanges.Load(),
		Refreshes: c.refreshes.Load(), Userinfo: c.userinfo.Load(), Revocations: c.revocations.Load(),
		RequestTokens: c.requestTokens.Load(), AccessTokens: c.accessTokens.Load(), APICalls: c.apiCalls.Load(),
	}
}

// RevokeUser invalidates every token issued to the user with this id, as a
// provider does when the user revokes the app in its settings.
func (p *Provider) RevokeUser(id string) { p.store.revokeUser(id) }

// config is a consistent snapshot of the settings for one request.
type config struct {
	base                               url.URL
	clientID, secret, consumer, consSc string
	rsaPub                             *rsa.PublicKey
	user                               User
	knobs                              Knobs
	authorize                          AuthorizeFunc
	clientAuth                         ClientAuth
}

func (p *Provider) config() config {
	p.mu.RLock()
	defer p.mu.RUnlock()
	c := config{clientID: p.clientID, secret: p.secret, consumer: p.consumer, consSc: p.consumerSc,
		rsaPub: p.rsaPub, user: p.user, knobs: p.knobs, authorize: p.authorize, clientAuth: p.clientAuth}
	if p.base != nil {
		c.base = *p.base
	}
	return c
}
