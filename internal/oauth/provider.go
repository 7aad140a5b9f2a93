// Package oauth speaks the protocols: OAuth 2 (authorization code with PKCE),
// OpenID Connect and OAuth 1.0a. Providers are data (a catalogue of presets
// plus custom ones from the configuration). It knows nothing of the database
// or of HTTP routing: Begin returns where to send the browser and what to
// remember; Finish turns the callback parameters and what was remembered into
// a token and a profile.
package oauth

import (
	"crypto/rsa"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Protocol is how a provider is spoken to.
type Protocol string

// The protocols.
const (
	OAuth1 Protocol = "oauth1"
	OAuth2 Protocol = "oauth2"
	OIDC   Protocol = "oidc"
)

// TokenAuth is how the client authenticates at an OAuth 2 token endpoint.
type TokenAuth string

// Token endpoint authentication styles.
const (
	TokenAuthAuto  TokenAuth = ""      // try basic, fall back to post (x/oauth2's auto-detection)
	TokenAuthBasic TokenAuth = "basic" // client_secret_basic
	TokenAuthPost  TokenAuth = "post"  // client_secret_post
)

// Provider is everything needed to run a dance with one provider and call its
// API. Presets fill most fields; the configuration fills the rest.
type Provider struct {
	ID       string
	Name     string
	Protocol Protocol
	Preset   string // "" for a custom provider
	// Colour and Mark are how pages show a preset's provider: its brand
	// colour ("#24292f") and the name of the mark the web package draws
	// for it ("github"). A custom provider has neither and is shown with
	// its initial.
	Colour string
	Mark   string

	// OAuth 2 and OpenID Connect.
	ClientID     string
	ClientSecret string
	AuthURL      string
	TokenURL     string
	RevokeURL    string // RFC 7009 revocation endpoint; "" when unsupported
	TokenAuth    TokenAuth
	PKCE         bool
	Issuer       string            // OIDC: discovery and ID-token issuer
	ScopeSep     string            // separator for the scope parameter; "" means a space
	AuthParams   map[string]string // extra parameters for the authorization URL
	ResponseMode string            // "" or "form_post" (Apple): the callback arrives as a POST
	// TokenTypeOptional tolerates token responses without token_type (RFC
	// 6749 5.1 requires it; LinkedIn, Foursquare, Weibo and Douban leave it
	// out): the token is then used as a bearer token. Any token_type other
	// than bearer is refused either way.
	TokenTypeOptional bool
	// LoginHintParam is the authorization-URL parameter that asks the
	// provider to preselect an account when one is reconnected: "" means
	// OpenID Connect's login_hint, which many OAuth providers read too.
	LoginHintParam string

	// OAuth 1.0a.
	ConsumerKey     string
	ConsumerSecret  string
	RequestTokenURL string
	AuthorizeURL    string
	AccessTokenURL  string
	SignatureMethod string          // "HMAC-SHA1" or "RSA-SHA1"
	PrivateKey      *rsa.PrivateKey // RSA-SHA1

	// The provider's API and the profile of the account that authorised.
	Scopes      []string
	APIBaseURL  string // every proxied API call stays under it
	UserinfoURL string // absolute; built from APIBaseURL when configured as a path
	Profile     ProfileMap
	// ProfileFunc, when set, replaces Profile for providers whose profile
	// needs more than field mapping (a second request for the email, a
	// nested envelope, ...). get fetches a URL with the user's credentials.
	ProfileFunc func(raw []byte, get Getter) (Profile, error)

	// Request shapes some providers' APIs need.
	UserinfoBody string            // when set, userinfo is POSTed with this JSON body (Dropbox, Meetup's GraphQL)
	TokenParam   string            // send the access token as this query parameter, not a Bearer header (Foursquare, Weibo)
	APIHeaders   map[string]string // extra headers on profile and API requests (Reddit's User-Agent, Twitch's Client-Id);
	// ClientIDPlaceholder in a value is replaced by ClientID

	Timeout time.Duration // per request to the provider; default 10s
}

// ClientIDPlaceholder in an APIHeaders value stands for the configured
// client id, which presets cannot know.
const ClientIDPlaceholder = "{client_id}"

// Getter fetches url with the user's freshly issued credentials and returns
// the body of a 2xx response.
type Getter func(url string) ([]byte, error)

// ProfileMap names, for each profile field, the JSON path in the userinfo
// response ("id", "data.user.id", "emails.0.value").
type ProfileMap struct {
	ID, Username, Name, Email, EmailVerified, AvatarURL, ProfileURL string
}

// Profile is the provider account that authorised.
type Profile struct {
	ID            string // required: the provider's stable user id
	Username      string
	Name          string
	Email         string
	EmailVerified bool
	AvatarURL     string
	ProfileURL    string
}

// Token is what a dance yields. TokenSecret is OAuth 1's; RefreshToken and
// Expiry are OAuth 2's. Scopes are what the provider says it granted (or,
// when it says nothing, what was asked for).
type Token struct {
	AccessToken  string
	TokenSecret  string
	RefreshToken string
	TokenType    string
	Expiry       time.Time // zero: does not expire
	Scopes       []string
	IDToken      string
}

// Pending is what must be remembered server-side between Begin and Finish.
// Nothing in it may reach the browser except State (OAuth 2) and
// RequestToken (OAuth 1), which the provider echoes back and which find the
// dance again.
type Pending struct {
	State         string // OAuth 2 / OIDC state parameter
	Verifier      string // PKCE code verifier
	Nonce         string // OIDC nonce
	RequestToken  string // OAuth 1 request token
	RequestSecret string // OAuth 1 request token secret: never leaves the server readable
	Scopes        []string
}

// Lookup is the value the callback carries that finds the dance: the state
// for OAuth 2, the request token for OAuth 1.
func (p Pending) Lookup() string {
	if p.State != "" {
		return p.State
	}
	return p.RequestToken
}

// Errors that Finish and Begin return, wrapped with the step that failed.
var (
	// ErrDenied is the user declining at the provider (error=access_denied,
	// or OAuth 1's denied parameter).
	ErrDenied = errors.New("oauth: the user denied access")
	// ErrBadCallback is a callback missing its code/verifier or carrying
	// values that do not match the dance (wrong iss, wrong oauth_token).
	ErrBadCallback = errors.New("oauth: invalid callback")
	// ErrNoProfileID is a profile without the stable id a connection needs.
	ErrNoProfileID = errors.New("oauth: the provider's profile has no user id")
	// ErrUnreachable is a timeout or connection failure talking to the provider.
	ErrUnreachable = errors.New("oauth: provider unreachable")
	// ErrRevokeUnsupported is returned by Revoke for providers without a
	// revocation endpoint.
	ErrRevokeUnsupported = errors.New("oauth: provider does not support revocation")
)

// ProviderError is an error the provider reported (an error parameter on the
// callback, an OAuth error response, a 5xx) or a response that could not be
// understood.
type ProviderError struct {
	Step        string // "authorize", "request_token", "token", "access_token", "id_token", "profile", "revoke"
	Code        string // OAuth error code when the provider gave one ("invalid_grant", "server_error", ...)
	Description string // the provider's own words, for logs and events; shown to users only via a fixed message
	Status      int    // HTTP status when the failure was an HTTP response
}

func (e *ProviderError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "oauth: %s failed", e.Step)
	if e.Code != "" {
		fmt.Fprintf(&b, ": %s", e.Code)
	}
	if e.Status != 0 {
		fmt.Fprintf(&b, " (HTTP %d)", e.Status)
	}
	if e.Description != "" {
		fmt.Fprintf(&b, ": %.200s", e.Description)
	}
	return b.String()
}
