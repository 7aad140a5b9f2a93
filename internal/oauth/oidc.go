package oauth

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"
)

// discoveryTTL is how long a discovery document (and with it the JWKS key
// cache go-oidc keeps) is reused: long enough that a dance costs no
// discovery request, short enough that a moved endpoint is picked up.
const discoveryTTL = time.Hour

// idTokenClaims maps standard OpenID Connect claims onto a Profile.
var idTokenClaims = ProfileMap{
	ID: "sub", Username: "preferred_username", Name: "name", Email: "email",
	EmailVerified: "email_verified", AvatarURL: "picture", ProfileURL: "profile",
}

// endpoints are a provider's URLs as configured, completed from OIDC
// discovery where the configuration leaves them empty.
type endpoints struct {
	auth, token, userinfo, revoke string
	issRequired                   bool           // RFC 9207: the provider always sends iss
	oidc                          *oidc.Provider // nil unless OIDC
}

type discovered struct {
	provider *oidc.Provider
	meta     struct {
		Revocation string `json:"revocation_endpoint"`
		IssParam   bool   `json:"authorization_response_iss_parameter_supported"`
	}
	expires time.Time
}

func (c *Client) endpoints(ctx context.Context, p *Provider) (endpoints, error) {
	ep := endpoints{auth: p.AuthURL, token: p.TokenURL, userinfo: p.UserinfoURL, revoke: p.RevokeURL}
	if p.Protocol != OIDC {
		return ep, nil
	}
	if p.Issuer == "" {
		return ep, fmt.Errorf("oauth: %s: OpenID Connect needs an issuer: %w", p.ID, ErrMisconfigured)
	}
	d, err := c.discover(ctx, p)
	if err != nil {
		return ep, err
	}
	ep.oidc, ep.issRequired = d.provider, d.meta.IssParam
	fill := func(dst *string, v string) {
		if *dst == "" {
			*dst = v
		}
	}
	fill(&ep.auth, d.provider.Endpoint().AuthURL)
	fill(&ep.token, d.provider.Endpoint().TokenURL)
	fill(&ep.userinfo, d.provider.UserInfoEndpoint())
	fill(&ep.revoke, d.meta.Revocation)
	return ep, nil
}

// discover returns the issuer's discovery document, cached per issuer.
// Failures are not cached: the next dance tries again.
func (c *Client) discover(ctx context.Context, p *Provider) (discovered, error) {
	c.mu.Lock()
	d, ok := c.discovered[p.Issuer]
	c.mu.Unlock()
	if ok && c.now().Before(d.expires) {
		return d, nil
	}
	op, err := oidc.NewProvider(c.oauth2Context(ctx, p), p.Issuer)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) || ctx.Err() != nil {
			return d, transportError(ctx, "discovery", err)
		}
		return d, &ProviderError{Step: "discovery", Description: err.Error()}
	}
	d = discovered{provider: op, expires: c.now().Add(discoveryTTL)}
	_ = op.Claims(&d.meta) // optional metadata; absent fields stay zero
	c.mu.Lock()
	c.discovered[p.Issuer] = d
	c.mu.Unlock()
	return d, nil
}

// oidcProfile verifies the ID token (signature, issuer, audience, expiry,
// nonce, azp, iat, and at_hash when present) and builds the profile from its
// claims, filling what the ID token leaves out from the userinfo endpoint.
func (c *Client) oidcProfile(ctx context.Context, p *Provider, ep endpoints, ot *oauth2.Token, nonce string) (string, Profile, error) {
	raw, _ := ot.Extra("id_token").(string)
	if raw == "" {
		return "", Profile{}, &ProviderError{Step: "id_token", Description: "the token response has no id_token"}
	}
	verifier := ep.oidc.Verifier(&oidc.Config{ClientID: p.ClientID, Now: c.now})
	idt, err := verifier.Verify(ctx, raw)
	if err != nil {
		return "", Profile{}, &ProviderError{Step: "id_token", Description: err.Error()}
	}
	if !equal(idt.Nonce, nonce) {
		return "", Profile{}, badCallback(p, "the ID token's nonce is not the dance's")
	}
	if idt.AccessTokenHash != "" && idt.VerifyAccessToken(ot.AccessToken) != nil {
		return "", Profile{}, &ProviderError{Step: "id_token", Description: "at_hash does not match the access token"}
	}
	if err := c.checkIDToken(p, idt); err != nil {
		return "", Profile{}, err
	}
	var claims json.RawMessage
	if err := idt.Claims(&claims); err != nil {
		return "", Profile{}, &ProviderError{Step: "id_token", Description: "unreadable claims"}
	}
	if p.ProfileFunc != nil {
		prof, err := c.runProfileFunc(ctx, p, ep.userinfo, bearer(p, ot.AccessToken), claims, idt.Subject)
		return raw, prof, err
	}
	m := p.Profile
	if m.ID == "" {
		m = idTokenClaims
	}
	prof, err := MapJSON(claims, m)
	if err != nil {
		return "", Profile{}, profileError(p, err)
	}
	if incomplete(prof) && ep.userinfo != "" {
		if prof, err = c.mergeUserinfo(ctx, p, ep.userinfo, ot.AccessToken, m, prof, idt.Subject); err != nil {
			return "", Profile{}, err
		}
	}
	return raw, prof, nil
}

// maxIssuedAhead is how far in the future an ID token's iat may lie: the
// provider's clock may run a little ahead of ours, as go-oidc allows for nbf.
const maxIssuedAhead = 5 * time.Minute

// checkIDToken checks the claims go-oidc's verifier leaves to the client
// (OpenID Connect Core 3.1.3.7). An azp, when present, must be our client_id
// (item 5), whatever the audience. An ID token for several audiences must
// carry one (item 4): without it nothing says which of them the token was
// issued to, so it is refused rather than trusted. With azp ours, the other
// audiences are accepted: we keep no list of trusted ones (item 3), and the
// provider has said the token is ours. iat is required (section 2) and may
// not lie more than maxIssuedAhead in the future.
func (c *Client) checkIDToken(p *Provider, idt *oidc.IDToken) error {
	var extra struct {
		AZP *string `json:"azp"`
	}
	if err := idt.Claims(&extra); err != nil {
		return &ProviderError{Step: "id_token", Description: "unreadable azp"}
	}
	var why string
	switch {
	case extra.AZP != nil && *extra.AZP != p.ClientID:
		why = "the ID token's azp is not our client_id"
	case extra.AZP == nil && len(idt.Audience) > 1:
		why = "the ID token has several audiences and no azp"
	case idt.IssuedAt.Unix() <= 0: // go-oidc leaves a missing iat as the zero time
		why = "the ID token has no iat"
	case idt.IssuedAt.After(c.now().Add(maxIssuedAhead)):
		why = "the ID token's iat is in the future"
	default:
		return nil
	}
	return &ProviderError{Step: "id_token", Description: why}
}

func incomplete(p Profile) bool {
	return p.Username == "" || p.Name == "" || p.Email == "" || p.AvatarURL == ""
}

// mergeUserinfo fills empty profile fields from the userinfo endpoint. It is
// best effort: the ID token already proved who the user is, so a failing
// userinfo endpoint, or a response that names no subject, costs detail, not
// the login (its values are not used). A response for another subject than
// the ID token's is refused (OpenID Connect Core 5.3.2): it means the access
// token is not the one the ID token was issued with.
func (c *Client) mergeUserinfo(ctx context.Context, p *Provider, endpoint, access string, m ProfileMap, prof Profile, sub string) (Profile, error) {
	raw, err := c.getter(ctx, p, c.httpClient(p, nil), bearer(p, access), endpoint)(endpoint)
	if err != nil {
		return prof, nil
	}
	if ok, err := userinfoFor(raw, sub); !ok {
		return prof, err
	}
	more, err := MapJSON(raw, m)
	if err != nil || more.ID != prof.ID {
		return prof, nil
	}
	for _, f := range [][2]*string{
		{&prof.Username, &more.Username}, {&prof.Name, &more.Name},
		{&prof.AvatarURL, &more.AvatarURL}, {&prof.ProfileURL, &more.ProfileURL},
	} {
		if *f[0] == "" {
			*f[0] = *f[1]
		}
	}
	switch {
	case prof.Email == "":
		prof.Email, prof.EmailVerified = more.Email, more.EmailVerified
	case prof.Email == more.Email && more.EmailVerified:
		prof.EmailVerified = true
	}
	return prof, nil
}

// userinfoFor reports whether a userinfo response may be used for the ID
// token's subject sub: only when its sub is exactly sub. A response for
// another sub is an error; one without a sub (or not a JSON object) is
// merely unusable.
func userinfoFor(raw []byte, sub string) (bool, error) {
	doc, err := DecodeJSON(raw)
	if err != nil {
		return false, nil
	}
	got, present := doc["sub"]
	switch {
	case !present:
		return false, nil
	case got != sub:
		return false, &ProviderError{Step: "profile", Description: "the userinfo response is for another sub than the ID token's"}
	}
	return true, nil
}
