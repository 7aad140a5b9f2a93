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
// nonce, and at_hash when present) and builds the profile from its claims,
// filling what the ID token leaves out from the userinfo endpoint.
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
	var claims json.RawMessage
	if err := idt.Claims(&claims); err != nil {
		return "", Profile{}, &ProviderError{Step: "id_token", Description: "unreadable claims"}
	}
	if p.ProfileFunc != nil {
		prof, err := c.runProfileFunc(ctx, p, ep.userinfo, bearer(p, ot.AccessToken), claims)
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
		prof = c.mergeUserinfo(ctx, p, ep.userinfo, ot.AccessToken, m, prof)
	}
	return raw, prof, nil
}

func incomplete(p Profile) bool {
	return p.Username == "" || p.Name == "" || p.Email == "" || p.AvatarURL == ""
}

// mergeUserinfo fills empty profile fields from the userinfo endpoint. It is
// best effort: the ID token already proved who the user is, so a failing
// userinfo endpoint costs detail, not the login; and a userinfo response for
// another subject is ignored (OpenID Connect Core 5.3.2).
func (c *Client) mergeUserinfo(ctx context.Context, p *Provider, endpoint, access string, m ProfileMap, prof Profile) Profile {
	raw, err := c.getter(ctx, p, c.httpClient(p, nil), bearer(p, access), endpoint)(endpoint)
	if err != nil {
		return prof
	}
	more, err := MapJSON(raw, m)
	if err != nil || more.ID != prof.ID {
		return prof
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
	return prof
}
