package oauth

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"golang.org/x/oauth2"
)

func (c *Client) revoke2(ctx context.Context, p *Provider, t Token) error {
	ep, err := c.endpoints(ctx, p)
	if err != nil {
		return err
	}
	if ep.revoke == "" {
		return fmt.Errorf("oauth: revoke %s: %w", p.ID, ErrRevokeUnsupported)
	}
	tok, hint := t.RefreshToken, "refresh_token"
	if tok == "" {
		tok, hint = t.AccessToken, "access_token"
	}
	if tok == "" {
		return nil // nothing to revoke
	}
	// RFC 7009: the client authenticates as it does at the token endpoint.
	// Without a configured style, the one detected there is used; failing
	// that, basic and then post when the provider rejects the client.
	post := p.TokenAuth == TokenAuthPost
	detected, known := c.styles.Load(styleKey{ep.token, p.ClientID})
	if p.TokenAuth == TokenAuthAuto && known {
		post = detected == oauth2.AuthStyleInParams
	}
	err = c.postRevoke(ctx, p, ep.revoke, tok, hint, post)
	var pe *ProviderError
	if errors.As(err, &pe) && p.TokenAuth == TokenAuthAuto && !known && (pe.Status == http.StatusUnauthorized || pe.Code == "invalid_client") {
		err = c.postRevoke(ctx, p, ep.revoke, tok, hint, true)
		post = true
	}
	// A provider that revokes only access tokens says so; the access token
	// is then the best that can be done.
	if errors.As(err, &pe) && pe.Code == "unsupported_token_type" && hint == "refresh_token" && t.AccessToken != "" {
		err = c.postRevoke(ctx, p, ep.revoke, t.AccessToken, "access_token", post)
	}
	return err
}

func (c *Client) postRevoke(ctx context.Context, p *Provider, endpoint, token, hint string, post bool) error {
	form := url.Values{"token": {token}, "token_type_hint": {hint}}
	if post {
		form.Set("client_id", p.ClientID)
		if p.ClientSecret != "" {
			form.Set("client_secret", p.ClientSecret)
		}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, strings.NewReader(form.Encode()))
	if err != nil {
		return fmt.Errorf("oauth: revoke %s: bad revocation URL: %w", p.ID, ErrMisconfigured)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	if !post {
		req.SetBasicAuth(url.QueryEscape(p.ClientID), url.QueryEscape(p.ClientSecret))
	}
	resp, err := c.httpClient(p, nil).Do(req)
	if err != nil {
		return transportError(ctx, "revoke", err)
	}
	body, err := readBody(resp, maxProfileBody)
	if statusOK(resp.StatusCode) {
		return nil
	}
	pe := &ProviderError{Step: "revoke", Status: resp.StatusCode}
	if err == nil {
		pe.Code, pe.Description = oauthError(body)
	}
	return pe
}

// oauthError reads an RFC 6749 error response body, if that is what it is.
func oauthError(body []byte) (code, description string) {
	var e struct {
		Error       any    `json:"error"`
		Description string `json:"error_description"`
	}
	if json.Unmarshal(body, &e) != nil {
		return "", ""
	}
	code, _ = e.Error.(string) // some APIs put an object here
	return clip(code, 100), clip(e.Description, 500)
}
