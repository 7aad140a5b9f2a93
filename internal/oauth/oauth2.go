package oauth

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"golang.org/x/oauth2"
)

// reservedAuthParams are the authorization parameters a dance owns; a
// provider's AuthParams must not override them.
var reservedAuthParams = map[string]bool{
	"response_type": true, "client_id": true, "redirect_uri": true, "state": true, "scope": true,
	"code_challenge": true, "code_challenge_method": true, "nonce": true, "response_mode": true,
}

func (c *Client) begin2(ctx context.Context, p *Provider, callbackURL string, extra []string) (string, Pending, error) {
	ep, err := c.endpoints(ctx, p)
	if err != nil {
		return "", Pending{}, err
	}
	if ep.auth == "" || ep.token == "" {
		return "", Pending{}, fmt.Errorf("oauth: begin %s: no authorization or token URL: %w", p.ID, ErrMisconfigured)
	}
	pending := Pending{State: randomToken(), Scopes: requestedScopes(p, extra)}
	opts := []oauth2.AuthCodeOption{oauth2.SetAuthURLParam("redirect_uri", callbackURL)}
	for _, k := range sortedKeys(p.AuthParams) {
		if !reservedAuthParams[k] {
			opts = append(opts, oauth2.SetAuthURLParam(k, p.AuthParams[k]))
		}
	}
	// x/oauth2 joins scopes with a space; the parameter is set here so that a
	// provider that wants commas gets them.
	if len(pending.Scopes) > 0 {
		sep := p.ScopeSep
		if sep == "" {
			sep = " "
		}
		opts = append(opts, oauth2.SetAuthURLParam("scope", strings.Join(pending.Scopes, sep)))
	}
	if p.PKCE {
		pending.Verifier = oauth2.GenerateVerifier()
		opts = append(opts, oauth2.S256ChallengeOption(pending.Verifier))
	}
	if p.Protocol == OIDC {
		pending.Nonce = randomToken()
		opts = append(opts, oauth2.SetAuthURLParam("nonce", pending.Nonce))
	}
	if p.ResponseMode != "" {
		opts = append(opts, oauth2.SetAuthURLParam("response_mode", p.ResponseMode))
	}
	return c.oauth2Config(p, ep, oauth2.AuthStyleInHeader).AuthCodeURL(pending.State, opts...), pending, nil
}

// requestedScopes are the provider's scopes plus the extra ones; OpenID
// Connect always asks for openid, and for profile and email by default.
func requestedScopes(p *Provider, extra []string) []string {
	if p.Protocol != OIDC {
		return mergeScopes(p.Scopes, extra)
	}
	base := p.Scopes
	if len(base) == 0 {
		base = []string{"openid", "profile", "email"}
	}
	return mergeScopes(append([]string{"openid"}, base...), extra)
}

func (c *Client) finish2(ctx context.Context, p *Provider, callbackURL string, pending Pending, params url.Values) (Token, Profile, error) {
	ep, err := c.endpoints(ctx, p)
	if err != nil {
		return Token{}, Profile{}, err
	}
	if err := checkCallback2(p, ep, pending, params); err != nil {
		return Token{}, Profile{}, err
	}
	if ep.token == "" {
		return Token{}, Profile{}, fmt.Errorf("oauth: finish %s: no token URL: %w", p.ID, ErrMisconfigured)
	}
	opts := []oauth2.AuthCodeOption{oauth2.SetAuthURLParam("redirect_uri", callbackURL)}
	if pending.Verifier != "" {
		opts = append(opts, oauth2.VerifierOption(pending.Verifier))
	}
	ot, err := c.retrieve(p, ep, func(cfg *oauth2.Config) (*oauth2.Token, error) {
		return cfg.Exchange(c.oauth2Context(ctx, p), params.Get("code"), opts...)
	})
	if err != nil {
		return Token{}, Profile{}, tokenError(ctx, "token", err)
	}
	if err := checkTokenType(p, "token", ot); err != nil {
		return Token{}, Profile{}, err
	}
	tok := Token{
		AccessToken:  ot.AccessToken,
		RefreshToken: ot.RefreshToken,
		TokenType:    ot.TokenType,
		Expiry:       ot.Expiry,
		Scopes:       grantedScopes(ot, pending.Scopes),
	}
	var prof Profile
	if p.Protocol == OIDC {
		tok.IDToken, prof, err = c.oidcProfile(ctx, p, ep, ot, pending.Nonce)
	} else {
		prof, err = c.profile(ctx, p, ep.userinfo, bearer(p, ot.AccessToken))
	}
	if err != nil {
		return Token{}, Profile{}, err
	}
	return tok, prof, nil
}

// checkCallback2 vets the callback before any code is exchanged: the state
// must be the dance's, the issuer (RFC 9207, the mix-up defence) the
// provider's, and the provider must not have reported an error.
func checkCallback2(p *Provider, ep endpoints, pending Pending, params url.Values) error {
	if !equal(params.Get("state"), pending.State) {
		return badCallback(p, "state does not match the dance")
	}
	if iss := params.Get("iss"); p.Issuer != "" && (iss != "" || ep.issRequired) && iss != p.Issuer {
		return badCallback(p, "iss is not the provider's issuer")
	}
	if e := params.Get("error"); e != "" {
		if e == "access_denied" {
			return fmt.Errorf("oauth: authorize %s: %w", p.ID, ErrDenied)
		}
		return &ProviderError{Step: "authorize", Code: clip(e, 100), Description: clip(params.Get("error_description"), 500)}
	}
	if params.Get("code") == "" {
		return badCallback(p, "no code")
	}
	return nil
}

func (c *Client) refresh2(ctx context.Context, p *Provider, t Token) (Token, error) {
	ep, err := c.endpoints(ctx, p)
	if err != nil {
		return Token{}, err
	}
	if ep.token == "" {
		return Token{}, fmt.Errorf("oauth: refresh %s: no token URL: %w", p.ID, ErrMisconfigured)
	}
	ot, err := c.retrieve(p, ep, func(cfg *oauth2.Config) (*oauth2.Token, error) {
		return cfg.TokenSource(c.oauth2Context(ctx, p), &oauth2.Token{RefreshToken: t.RefreshToken}).Token()
	})
	if err != nil {
		return Token{}, tokenError(ctx, "refresh", err)
	}
	if err := checkTokenType(p, "refresh", ot); err != nil {
		return Token{}, err
	}
	out := Token{
		AccessToken:  ot.AccessToken,
		RefreshToken: ot.RefreshToken,
		TokenType:    ot.TokenType,
		Expiry:       ot.Expiry,
		Scopes:       grantedScopes(ot, t.Scopes),
		IDToken:      t.IDToken,
	}
	if out.RefreshToken == "" {
		out.RefreshToken = t.RefreshToken
	}
	return out, nil
}

// checkTokenType refuses a token that is not a bearer token (RFC 6749 7.1:
// a client must not use a token whose type it does not understand, and a
// MAC or DPoP token sent as a bearer token fails or leaks). An empty
// token_type is tolerated only from a provider known to leave it out.
func checkTokenType(p *Provider, step string, t *oauth2.Token) error {
	if strings.EqualFold(t.TokenType, "bearer") || (t.TokenType == "" && p.TokenTypeOptional) {
		return nil
	}
	return &ProviderError{Step: step, Description: fmt.Sprintf("token_type %q is not bearer", clip(t.TokenType, 40))}
}

// configKey identifies an x/oauth2 configuration. The redirect URI is not
// part of it (it is passed per call), so one configuration serves every
// dance with a provider.
type configKey struct {
	clientID, clientSecret, authURL, tokenURL string
	style                                     oauth2.AuthStyle
}

func (c *Client) oauth2Config(p *Provider, ep endpoints, style oauth2.AuthStyle) *oauth2.Config {
	key := configKey{p.ClientID, p.ClientSecret, ep.auth, ep.token, style}
	if v, ok := c.configs.Load(key); ok {
		return v.(*oauth2.Config)
	}
	cfg := &oauth2.Config{
		ClientID:     p.ClientID,
		ClientSecret: p.ClientSecret,
		Endpoint:     oauth2.Endpoint{AuthURL: ep.auth, TokenURL: ep.token, AuthStyle: style},
	}
	v, _ := c.configs.LoadOrStore(key, cfg)
	return v.(*oauth2.Config)
}

// styleKey names a token endpoint and client whose auth style was detected.
type styleKey struct{ tokenURL, clientID string }

// retrieve runs a token request with the provider's client authentication.
// Without a configured style it tries client_secret_basic, then
// client_secret_post only when the provider rejected the client, and
// remembers what worked. This replaces x/oauth2's own detection, which
// retries after any failure: that doubles a timeout, and after a 5xx that
// consumed the code it reports the retry's invalid_grant instead.
func (c *Client) retrieve(p *Provider, ep endpoints, do func(*oauth2.Config) (*oauth2.Token, error)) (*oauth2.Token, error) {
	switch p.TokenAuth {
	case TokenAuthBasic:
		return do(c.oauth2Config(p, ep, oauth2.AuthStyleInHeader))
	case TokenAuthPost:
		return do(c.oauth2Config(p, ep, oauth2.AuthStyleInParams))
	}
	key := styleKey{ep.token, p.ClientID}
	if v, ok := c.styles.Load(key); ok {
		return do(c.oauth2Config(p, ep, v.(oauth2.AuthStyle)))
	}
	style := oauth2.AuthStyleInHeader
	t, err := do(c.oauth2Config(p, ep, style))
	if clientRejected(err) {
		style = oauth2.AuthStyleInParams
		t, err = do(c.oauth2Config(p, ep, style))
	}
	if err == nil {
		c.styles.Store(key, style)
	}
	return t, err
}

// clientRejected reports a token response that blames client
// authentication, the cue to try the other style.
func clientRejected(err error) bool {
	var re *oauth2.RetrieveError
	if !errors.As(err, &re) {
		return false
	}
	switch re.ErrorCode {
	case "invalid_client", "unauthorized_client", "invalid_request":
		return true
	}
	return re.Response != nil && re.Response.StatusCode == http.StatusUnauthorized
}

// oauth2Context carries the provider's HTTP client to x/oauth2 and go-oidc,
// which find it under the same context key.
func (c *Client) oauth2Context(ctx context.Context, p *Provider) context.Context {
	return context.WithValue(ctx, oauth2.HTTPClient, c.httpClient(p, nil))
}

// tokenError turns an x/oauth2 failure into ours: the provider's OAuth error
// code and status, ErrUnreachable, or an unreadable response. The library's
// own message is never used, as it may quote the response body.
func tokenError(ctx context.Context, step string, err error) error {
	var re *oauth2.RetrieveError
	if errors.As(err, &re) {
		pe := &ProviderError{Step: step, Code: clip(re.ErrorCode, 100), Description: clip(re.ErrorDescription, 500)}
		if re.Response != nil {
			pe.Status = re.Response.StatusCode
		}
		if pe.Code == "" && pe.Status >= 200 && pe.Status <= 299 {
			pe.Description = "the token response could not be understood"
		}
		return pe
	}
	var ue *url.Error
	if errors.As(err, &ue) || ctx.Err() != nil {
		return transportError(ctx, step, err)
	}
	return &ProviderError{Step: step, Description: "the token response could not be understood"}
}

// grantedScopes reads the scope field of a token response (space or comma
// separated; an array from the odd provider), falling back to what was
// asked for when the provider does not say.
func grantedScopes(t *oauth2.Token, fallback []string) []string {
	var s []string
	switch v := t.Extra("scope").(type) {
	case nil:
	case string:
		s = splitScopes(v)
	case []any:
		for _, e := range v {
			if str, ok := e.(string); ok {
				s = append(s, splitScopes(str)...)
			}
		}
	default: // form-encoded responses turn a numeric scope into a number
		s = splitScopes(fmt.Sprint(v))
	}
	if len(s) == 0 {
		return slices.Clone(fallback)
	}
	return s
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
