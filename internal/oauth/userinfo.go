package oauth

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
)

// authorizer adds the user's credentials to a request. OAuth 1 signs in its
// transport instead, and uses noAuth here.
type authorizer func(*http.Request)

// bearer sends an OAuth 2 access token the way p wants it: as a Bearer
// header, or as a query parameter for the providers that require that.
func bearer(p *Provider, token string) authorizer {
	if p.TokenParam != "" {
		return func(r *http.Request) {
			q := r.URL.Query()
			q.Set(p.TokenParam, token)
			r.URL.RawQuery = q.Encode()
		}
	}
	return func(r *http.Request) { r.Header.Set("Authorization", "Bearer "+token) }
}

func noAuth(*http.Request) {}

// profile fetches the userinfo document with the user's fresh credentials
// and maps it: with p.ProfileFunc when the provider needs more than field
// mapping, else with p.Profile.
func (c *Client) profile(ctx context.Context, p *Provider, endpoint string, auth authorizer) (Profile, error) {
	return c.profileWith(ctx, p, c.httpClient(p, nil), endpoint, auth)
}

func (c *Client) profileWith(ctx context.Context, p *Provider, hc *http.Client, endpoint string, auth authorizer) (Profile, error) {
	if endpoint == "" {
		return Profile{}, fmt.Errorf("oauth: profile %s: no userinfo URL: %w", p.ID, ErrMisconfigured)
	}
	get := c.getter(ctx, p, hc, auth, endpoint)
	raw, err := get(endpoint)
	if err != nil {
		return Profile{}, err
	}
	var prof Profile
	if p.ProfileFunc != nil {
		prof, err = p.ProfileFunc(raw, get)
	} else {
		prof, err = MapJSON(raw, p.Profile)
	}
	if err != nil {
		return Profile{}, profileError(p, err)
	}
	if err := prof.Validate(); err != nil {
		return Profile{}, profileError(p, err)
	}
	return prof, nil
}

// runProfileFunc hands an already fetched document (OIDC's ID token claims)
// to p.ProfileFunc, with a getter for anything more it needs. The getter
// only returns the userinfo endpoint's answer when it is about the ID
// token's subject sub (OpenID Connect Core 5.3.2), since a ProfileFunc
// cannot be trusted to check.
func (c *Client) runProfileFunc(ctx context.Context, p *Provider, endpoint string, auth authorizer, raw []byte, sub string) (Profile, error) {
	get := c.getter(ctx, p, c.httpClient(p, nil), auth, endpoint)
	checked := func(rawURL string) ([]byte, error) {
		body, err := get(rawURL)
		if err != nil || rawURL != endpoint {
			return body, err
		}
		if ok, err := userinfoFor(body, sub); !ok {
			if err == nil {
				err = &ProviderError{Step: "profile", Description: "the userinfo response names no sub"}
			}
			return nil, err
		}
		return body, nil
	}
	prof, err := p.ProfileFunc(raw, checked)
	if err == nil {
		err = prof.Validate()
	}
	if err != nil {
		return Profile{}, profileError(p, err)
	}
	return prof, nil
}

// profileError keeps our own errors as they are (wrapped with the step) and
// turns anything else a ProfileFunc returned into a ProviderError, so callers
// meet one vocabulary.
func profileError(p *Provider, err error) error {
	var pe *ProviderError
	switch {
	case errors.As(err, &pe):
		return err
	case errors.Is(err, ErrNoProfileID), errors.Is(err, ErrUnreachable), errors.Is(err, ErrMisconfigured),
		errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return fmt.Errorf("oauth: profile %s: %w", p.ID, err)
	default:
		return &ProviderError{Step: "profile", Description: err.Error()}
	}
}

// getter returns a Getter that GETs URLs with the user's credentials. It
// only sends them to the hosts of the userinfo endpoint and the API base
// URL, so a ProfileFunc following a link in a response cannot leak a token.
func (c *Client) getter(ctx context.Context, p *Provider, hc *http.Client, auth authorizer, endpoint string) Getter {
	hosts := []string{hostOf(endpoint), hostOf(p.APIBaseURL)}
	return func(rawURL string) ([]byte, error) {
		u, err := url.Parse(rawURL)
		if err != nil || u.Host == "" || (!strings.EqualFold(u.Host, hosts[0]) && !strings.EqualFold(u.Host, hosts[1])) {
			return nil, fmt.Errorf("oauth: profile %s: URL not on the provider's hosts: %w", p.ID, ErrMisconfigured)
		}
		req, err := profileRequest(ctx, p, rawURL, endpoint)
		if err != nil {
			return nil, fmt.Errorf("oauth: profile %s: %w", p.ID, ErrMisconfigured)
		}
		auth(req)
		resp, err := hc.Do(req)
		if err != nil {
			return nil, transportError(ctx, "profile", err)
		}
		body, err := readBody(resp, maxProfileBody)
		switch {
		case !statusOK(resp.StatusCode):
			pe := &ProviderError{Step: "profile", Status: resp.StatusCode}
			if err == nil {
				pe.Code, pe.Description = oauthError(body)
			}
			return nil, pe
		case errors.Is(err, errBodyTooLarge):
			return nil, &ProviderError{Step: "profile", Status: resp.StatusCode, Description: "response larger than 1 MiB"}
		case err != nil:
			return nil, transportError(ctx, "profile", err)
		}
		return body, nil
	}
}

func hostOf(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return ""
	}
	return u.Host
}

// profileRequest builds a profile request: a GET, or for the userinfo
// endpoint of a provider with a UserinfoBody, a POST of that JSON, with the
// provider's extra headers.
func profileRequest(ctx context.Context, p *Provider, rawURL, endpoint string) (*http.Request, error) {
	method, body := http.MethodGet, io.Reader(nil)
	if p.UserinfoBody != "" && rawURL == endpoint {
		method, body = http.MethodPost, strings.NewReader(p.UserinfoBody)
	}
	req, err := http.NewRequestWithContext(ctx, method, rawURL, body)
	if err != nil {
		return nil, err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Accept", "application/json")
	for k, v := range p.APIHeaders {
		req.Header.Set(k, strings.ReplaceAll(v, ClientIDPlaceholder, p.ClientID))
	}
	return req, nil
}
