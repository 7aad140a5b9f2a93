package oauthtest

import "time"

// Knobs are the failures and quirks the fake can be told to produce. The
// zero value is a well-behaved provider. Knobs apply from the next request
// on; change them with SetKnobs or UpdateKnobs, from any goroutine.
type Knobs struct {
	// Deny refuses consent: error=access_denied, or OAuth 1's denied.
	Deny bool

	// Token endpoints (OAuth 2 token, OAuth 1 request_token and access_token).
	TokenError     string        // answer 400 with this OAuth error code ("invalid_grant"); OAuth 1: 401 oauth_problem
	TokenStatus    int           // answer this HTTP status (500) with a plain-text body
	TokenMalformed bool          // answer 200 with a body that is not a token response
	TokenDelay     time.Duration // wait this long (or until the client gives up) before answering

	// OAuth 2 token responses.
	FormEncoded      bool          // application/x-www-form-urlencoded instead of JSON
	ExpiresIn        time.Duration // access token lifetime; 0 means an hour, negative means no expires_in
	GrantedScopes    []string      // the scope granted; nil grants what was asked
	OmitScope        bool          // no scope field in token responses
	ScopeSep         string        // separator of the granted scope field; "" is a space
	RotateRefresh    bool          // each refresh issues a new refresh token and invalidates the old
	OmitRefreshToken bool          // refresh responses carry no refresh_token (the old one stays valid)
	RefreshError     string        // refresh_token grants answer 400 with this code ("invalid_grant")
	RefreshDelay     time.Duration // refresh_token grants wait this long (or until the client gives up) before answering
	RequirePKCE      bool          // authorization requests without code_challenge are refused
	IssuerParam      bool          // authorization responses carry iss (RFC 9207)
	TokenType        string        // token_type of token responses ("mac", "DPoP"); "" is bearer
	OmitTokenType    bool          // token responses carry no token_type (LinkedIn, Foursquare, Weibo, Douban)

	// IDTokenClaims, when set, may change an ID token's claims before it is
	// signed: a wrong nonce, audience or issuer, an exp in the past, several
	// audiences and an azp, no iat or one in the future.
	IDTokenClaims func(claims map[string]any)

	// OAuth 1.
	NoCallbackConfirmed bool // request_token answers without oauth_callback_confirmed=true

	// Userinfo endpoint.
	UserinfoStatus    int           // answer this HTTP status (500)
	UserinfoGarbage   bool          // answer 200 with a body that is not JSON
	UserinfoMissingID bool          // answer a profile without its id (id / sub)
	UserinfoSub       string        // OpenID Connect userinfo names this sub, not the user's (not for a User.Userinfo document)
	UserinfoDelay     time.Duration // wait this long (or until the client gives up) before answering

	// API endpoints (below APIBaseURL).
	APIStatus int           // answer this HTTP status with a plain-text body, before authenticating (a provider that is down)
	APIDelay  time.Duration // wait this long (or until the client gives up) before answering

	// Revocation endpoint.
	RevokeStatus int // answer this HTTP status (503)
}

// Knobs returns the current knobs.
func (p *Provider) Knobs() Knobs {
	p.mu.RLock()
	defer p.mu.RUnlock()
	return p.knobs
}

// SetKnobs replaces the knobs.
func (p *Provider) SetKnobs(k Knobs) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.knobs = k
}

// UpdateKnobs changes the knobs in place: srv.UpdateKnobs(func(k *Knobs) { k.Deny = true }).
func (p *Provider) UpdateKnobs(f func(*Knobs)) {
	p.mu.Lock()
	defer p.mu.Unlock()
	f(&p.knobs)
}

// The endpoints, as the clients see them.

// BaseURL is the URL the engine is served at.
func (p *Provider) BaseURL() string { c := p.config(); return c.base.String() }

// Issuer is the OpenID Connect issuer (the base URL).
func (p *Provider) Issuer() string { return p.BaseURL() }

// AuthURL is the OAuth 2 authorization endpoint.
func (p *Provider) AuthURL() string { return p.BaseURL() + pathAuthorize2 }

// TokenURL is the OAuth 2 token endpoint.
func (p *Provider) TokenURL() string { return p.BaseURL() + pathToken }

// RevokeURL is the RFC 7009 revocation endpoint.
func (p *Provider) RevokeURL() string { return p.BaseURL() + pathRevoke }

// UserinfoURL is the userinfo endpoint (Bearer or OAuth 1 signed).
func (p *Provider) UserinfoURL() string { return p.BaseURL() + pathUserinfo }

// JWKSURL is the key set ID tokens are verified with.
func (p *Provider) JWKSURL() string { return p.BaseURL() + pathJWKS }

// RequestTokenURL is the OAuth 1 temporary credentials endpoint.
func (p *Provider) RequestTokenURL() string { return p.BaseURL() + pathRequestToken }

// AuthorizeURL is the OAuth 1 resource owner authorization endpoint.
func (p *Provider) AuthorizeURL() string { return p.BaseURL() + pathAuthorize1 }

// AccessTokenURL is the OAuth 1 token credentials endpoint.
func (p *Provider) AccessTokenURL() string { return p.BaseURL() + pathAccessToken }

// APIBaseURL is the root of the echoing API (ends with a slash).
func (p *Provider) APIBaseURL() string { return p.BaseURL() + pathAPI }

// ClientID is the OAuth 2 client id.
func (p *Provider) ClientID() string { return p.config().clientID }

// ClientSecret is the OAuth 2 client secret.
func (p *Provider) ClientSecret() string { return p.config().secret }

// ConsumerKey is the OAuth 1 consumer key.
func (p *Provider) ConsumerKey() string { return p.config().consumer }

// ConsumerSecret is the OAuth 1 consumer secret.
func (p *Provider) ConsumerSecret() string { return p.config().consSc }

// CurrentUser is the user who consents now.
func (p *Provider) CurrentUser() User { return p.config().user }
