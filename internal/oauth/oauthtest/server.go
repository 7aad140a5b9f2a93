package oauthtest

import (
	"crypto/rsa"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"

	"github.com/dancecard/dancecard/internal/oauth"
)

// TB is the part of testing.TB the helpers use. Declaring it here keeps the
// testing package out of binaries that mount the engine (the dev provider).
type TB interface {
	Helper()
	Cleanup(func())
	Fatalf(format string, args ...any)
}

// Server is the engine on an httptest.Server, closed when the test ends.
type Server struct {
	*httptest.Server
	*Provider
}

// NewServer starts a fake provider for t.
func NewServer(t TB, opts ...Option) *Server {
	t.Helper()
	p := NewHandler(opts...)
	ts := httptest.NewServer(p)
	p.SetBaseURL(ts.URL)
	t.Cleanup(ts.Close)
	return &Server{Server: ts, Provider: p}
}

// Authorize plays the browser at the provider: it follows authURL (OAuth 2
// or OAuth 1) through consent and returns where the provider sends the
// browser back to, parameters in the query (form_post ones too).
func (s *Server) Authorize(t TB, authURL string) *url.URL {
	t.Helper()
	return s.AuthorizeCallback(t, authURL).URL
}

// AuthorizeCallback is Authorize with the full callback: method and, for
// response_mode=form_post, the form to POST.
func (s *Server) AuthorizeCallback(t TB, authURL string) *Callback {
	t.Helper()
	cb, err := s.Consent(authURL)
	if err != nil {
		t.Fatalf("oauthtest: %v", err)
	}
	return cb
}

// Consent runs an authorization request in process and returns the
// callback, without going through HTTP. It fails when the request is not
// for this provider or the provider answered with a page instead of a
// redirect (an error, or a consent page from an Authorize hook).
func (p *Provider) Consent(authURL string) (*Callback, error) {
	u, err := url.Parse(authURL)
	if err != nil {
		return nil, fmt.Errorf("authorization URL: %w", err)
	}
	cfg := p.config()
	if u.Host != cfg.base.Host {
		return nil, fmt.Errorf("authorization URL %s is not for the provider at %s", u.Redacted(), cfg.base.Host)
	}
	var auth authorizer
	switch strings.TrimPrefix(u.Path, cfg.base.Path) {
	case pathAuthorize2:
		auth = p.authorize2
	case pathAuthorize1:
		auth = p.authorize1
	default:
		return nil, fmt.Errorf("%s is not an authorization endpoint", u.Path)
	}
	p.counters.authorizations.Add(1)
	rec := httptest.NewRecorder()
	cb := auth(rec, httptest.NewRequest(http.MethodGet, authURL, nil))
	if cb == nil {
		return nil, fmt.Errorf("the provider answered %d: %s", rec.Code, strings.TrimSpace(rec.Body.String()))
	}
	return cb, nil
}

// The providers below are ready-made oauth.Provider values for the fake,
// with the mapping of its default userinfo document.

// ProfileMap maps the fake's default (GitHub-like) userinfo document.
func ProfileMap() oauth.ProfileMap {
	return oauth.ProfileMap{ID: "id", Username: "login", Name: "name", Email: "email",
		EmailVerified: "email_verified", AvatarURL: "avatar_url", ProfileURL: "html_url"}
}

// OAuth2Provider describes the fake as an OAuth 2 provider with PKCE.
func (p *Provider) OAuth2Provider(id string) *oauth.Provider {
	return &oauth.Provider{
		ID: id, Name: "Fake " + id, Protocol: oauth.OAuth2,
		ClientID: p.ClientID(), ClientSecret: p.ClientSecret(),
		AuthURL: p.AuthURL(), TokenURL: p.TokenURL(), RevokeURL: p.RevokeURL(),
		PKCE: true, Scopes: []string{"read:user"},
		APIBaseURL: p.APIBaseURL(), UserinfoURL: p.UserinfoURL(), Profile: ProfileMap(),
	}
}

// OIDCProvider describes the fake as an OpenID Connect provider: only the
// issuer is given, the rest comes from discovery.
func (p *Provider) OIDCProvider(id string) *oauth.Provider {
	return &oauth.Provider{
		ID: id, Name: "Fake " + id, Protocol: oauth.OIDC, Issuer: p.Issuer(),
		ClientID: p.ClientID(), ClientSecret: p.ClientSecret(), PKCE: true,
		APIBaseURL: p.APIBaseURL(),
	}
}

// OAuth1Provider describes the fake as an OAuth 1.0a provider (HMAC-SHA1).
func (p *Provider) OAuth1Provider(id string) *oauth.Provider {
	return &oauth.Provider{
		ID: id, Name: "Fake " + id, Protocol: oauth.OAuth1,
		ConsumerKey: p.ConsumerKey(), ConsumerSecret: p.ConsumerSecret(),
		RequestTokenURL: p.RequestTokenURL(), AuthorizeURL: p.AuthorizeURL(), AccessTokenURL: p.AccessTokenURL(),
		SignatureMethod: "HMAC-SHA1",
		APIBaseURL:      p.APIBaseURL(), UserinfoURL: p.UserinfoURL(), Profile: ProfileMap(),
	}
}

// OAuth1RSAProvider describes the fake as an OAuth 1.0a provider that signs
// with RSA-SHA1 (JIRA), and registers key's public half with the fake.
func (p *Provider) OAuth1RSAProvider(id string, key *rsa.PrivateKey) *oauth.Provider {
	p.SetRSAPublicKey(&key.PublicKey)
	op := p.OAuth1Provider(id)
	op.SignatureMethod, op.PrivateKey, op.ConsumerSecret = "RSA-SHA1", key, ""
	return op
}
