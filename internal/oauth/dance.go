package oauth

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"net/url"
	"strings"
)

// Begin starts a dance: it returns the URL to send the browser to and what
// must be remembered server-side until the callback. callbackURL is the exact
// redirect URI (<base_url>/auth/<id>/callback); extraScopes are added to
// p.Scopes without duplicates. OAuth 1 asks the provider for a request token
// here, and OIDC may fetch the discovery document; OAuth 2 makes no request.
func (c *Client) Begin(ctx context.Context, p *Provider, callbackURL string, extraScopes []string) (authURL string, pending Pending, err error) {
	switch p.Protocol {
	case OAuth2, OIDC:
		return c.begin2(ctx, p, callbackURL, extraScopes)
	case OAuth1:
		return c.begin1(ctx, p, callbackURL, extraScopes)
	default:
		return "", Pending{}, fmt.Errorf("oauth: begin %s: protocol %q: %w", p.ID, p.Protocol, ErrMisconfigured)
	}
}

// WithLoginHint adds hint to an authorization URL that Begin returned, as
// the parameter with which p preselects an account (LoginHintParam, else
// login_hint): a reconnect asks for the account being reconnected rather
// than whichever one the browser is signed in to. Providers that know no
// such parameter ignore it.
func WithLoginHint(p *Provider, authURL, hint string) (string, error) {
	if hint == "" {
		return authURL, nil
	}
	u, err := url.Parse(authURL)
	if err != nil {
		return "", fmt.Errorf("oauth: login hint for %s: %w", p.ID, err)
	}
	param := p.LoginHintParam
	if param == "" {
		param = "login_hint"
	}
	q := u.Query()
	q.Set(param, hint)
	u.RawQuery = q.Encode()
	return u.String(), nil
}

// UserinfoURL is p's userinfo endpoint: the configured one or, for OpenID
// Connect without one, the discovered one ("" when there is none).
func (c *Client) UserinfoURL(ctx context.Context, p *Provider) (string, error) {
	ep, err := c.endpoints(ctx, p)
	if err != nil {
		return "", err
	}
	return ep.userinfo, nil
}

// Finish completes a dance from the callback's parameters (the query for a
// GET, the form for a form_post) and what Begin returned. The caller has
// already found pending by the state or oauth_token in params and checked
// that it belongs to this browser; Finish checks them again anyway, because
// comparing costs nothing and a mismatch means an attack.
func (c *Client) Finish(ctx context.Context, p *Provider, callbackURL string, pending Pending, params url.Values) (Token, Profile, error) {
	switch p.Protocol {
	case OAuth2, OIDC:
		return c.finish2(ctx, p, callbackURL, pending, params)
	case OAuth1:
		return c.finish1(ctx, p, pending, params)
	default:
		return Token{}, Profile{}, fmt.Errorf("oauth: finish %s: protocol %q: %w", p.ID, p.Protocol, ErrMisconfigured)
	}
}

// Refresh exchanges t's refresh token for a new access token (OAuth 2 and
// OIDC). The old refresh token is kept when the provider returns none, and
// so are the old scopes when it does not restate them. The ID token is the
// one verified when the dance finished: a refreshed one is not re-verified,
// so it is not stored.
func (c *Client) Refresh(ctx context.Context, p *Provider, t Token) (Token, error) {
	switch {
	case p.Protocol != OAuth2 && p.Protocol != OIDC:
		return Token{}, fmt.Errorf("oauth: refresh %s: %w", p.ID, errors.ErrUnsupported)
	case t.RefreshToken == "":
		return Token{}, fmt.Errorf("oauth: refresh %s: %w", p.ID, ErrNoRefreshToken)
	}
	return c.refresh2(ctx, p, t)
}

// Revoke revokes t at the provider: RFC 7009 for OAuth 2 when the provider
// has a revocation endpoint (configured, or from OIDC discovery), else
// ErrRevokeUnsupported. The refresh token is revoked when there is one, since
// that ends the whole grant; otherwise the access token.
func (c *Client) Revoke(ctx context.Context, p *Provider, t Token) error {
	if p.Protocol != OAuth2 && p.Protocol != OIDC {
		return fmt.Errorf("oauth: revoke %s: %w", p.ID, ErrRevokeUnsupported)
	}
	return c.revoke2(ctx, p, t)
}

// randomToken returns 32 random bytes, base64url: the state, the nonce.
func randomToken() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b) // never fails (crypto/rand since Go 1.24)
	return base64.RawURLEncoding.EncodeToString(b)
}

// equal compares a callback value with the remembered one in constant time.
func equal(got, want string) bool {
	return want != "" && subtle.ConstantTimeCompare([]byte(got), []byte(want)) == 1
}

// mergeScopes returns base followed by extra, without empties or duplicates.
func mergeScopes(base, extra []string) []string {
	out := make([]string, 0, len(base)+len(extra))
	seen := make(map[string]bool, len(base)+len(extra))
	for _, list := range [][]string{base, extra} {
		for _, s := range list {
			s = strings.TrimSpace(s)
			if s != "" && !seen[s] {
				seen[s] = true
				out = append(out, s)
			}
		}
	}
	return out
}

// splitScopes parses a granted-scope string: providers separate scopes with
// spaces (RFC 6749) or commas (GitHub, Facebook).
func splitScopes(s string) []string {
	return mergeScopes(strings.FieldsFunc(s, func(r rune) bool {
		return r == ' ' || r == ',' || r == '\t' || r == '\n'
	}), nil)
}

// badCallback reports a callback that does not belong to the dance.
func badCallback(p *Provider, why string) error {
	return fmt.Errorf("oauth: callback for %s: %s: %w", p.ID, why, ErrBadCallback)
}
