package oauth

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	"github.com/dghubble/oauth1"
)

func (c *Client) begin1(ctx context.Context, p *Provider, callbackURL string, extra []string) (string, Pending, error) {
	rec := &recorder{}
	cfg, err := c.oauth1Config(p, callbackURL, c.recordingClient(ctx, p, rec))
	if err != nil {
		return "", Pending{}, err
	}
	token, secret, err := cfg.RequestToken()
	if err != nil {
		return "", Pending{}, rec.failure(ctx, "request_token", err)
	}
	u, err := cfg.AuthorizationURL(token)
	if err != nil {
		return "", Pending{}, fmt.Errorf("oauth: begin %s: bad authorize URL: %w", p.ID, ErrMisconfigured)
	}
	if len(p.AuthParams) > 0 {
		q := u.Query()
		for _, k := range sortedKeys(p.AuthParams) {
			if k != "oauth_token" {
				q.Set(k, p.AuthParams[k])
			}
		}
		u.RawQuery = q.Encode()
	}
	return u.String(), Pending{RequestToken: token, RequestSecret: secret, Scopes: mergeScopes(p.Scopes, extra)}, nil
}

func (c *Client) finish1(ctx context.Context, p *Provider, pending Pending, params url.Values) (Token, Profile, error) {
	problem := params.Get("oauth_problem")
	switch {
	case params.Get("denied") != "", problem == "user_refused", problem == "permission_denied":
		return Token{}, Profile{}, fmt.Errorf("oauth: authorize %s: %w", p.ID, ErrDenied)
	case problem != "":
		return Token{}, Profile{}, &ProviderError{Step: "authorize", Code: clip(problem, 100)}
	case !equal(params.Get("oauth_token"), pending.RequestToken):
		return Token{}, Profile{}, badCallback(p, "oauth_token is not the dance's request token")
	case params.Get("oauth_verifier") == "":
		return Token{}, Profile{}, badCallback(p, "no oauth_verifier")
	}
	rec := &recorder{}
	cfg, err := c.oauth1Config(p, "", c.recordingClient(ctx, p, rec))
	if err != nil {
		return Token{}, Profile{}, err
	}
	access, secret, err := cfg.AccessToken(pending.RequestToken, pending.RequestSecret, params.Get("oauth_verifier"))
	if err != nil {
		return Token{}, Profile{}, rec.failure(ctx, "access_token", err)
	}
	tok := Token{AccessToken: access, TokenSecret: secret, Scopes: pending.Scopes}
	// The profile request is signed by oauth1's transport, which sits on top
	// of this client's own (timeouts, body cap); redirects stay on the host.
	base := c.httpClient(p, nil)
	signed := cfg.Client(context.WithValue(ctx, oauth1.HTTPClient, base), oauth1.NewToken(access, secret))
	hc := &http.Client{Transport: signed.Transport, CheckRedirect: sameHostRedirects, Timeout: c.overall}
	prof, err := c.profileWith(ctx, p, hc, p.UserinfoURL, noAuth)
	if err != nil {
		return Token{}, Profile{}, err
	}
	return tok, prof, nil
}

// oauth1Config builds dghubble's configuration: HMAC-SHA1 by default,
// RSA-SHA1 when the provider says so or carries a private key (JIRA).
func (c *Client) oauth1Config(p *Provider, callbackURL string, hc *http.Client) (*oauth1.Config, error) {
	if p.ConsumerKey == "" || p.RequestTokenURL == "" || p.AuthorizeURL == "" || p.AccessTokenURL == "" {
		return nil, fmt.Errorf("oauth: %s: OAuth 1 needs a consumer key and three endpoints: %w", p.ID, ErrMisconfigured)
	}
	cfg := &oauth1.Config{
		ConsumerKey:    p.ConsumerKey,
		ConsumerSecret: p.ConsumerSecret,
		CallbackURL:    callbackURL,
		Endpoint: oauth1.Endpoint{
			RequestTokenURL: p.RequestTokenURL,
			AuthorizeURL:    p.AuthorizeURL,
			AccessTokenURL:  p.AccessTokenURL,
		},
		HTTPClient: hc,
	}
	switch {
	case p.SignatureMethod == "RSA-SHA1" || (p.SignatureMethod == "" && p.PrivateKey != nil):
		if p.PrivateKey == nil {
			return nil, fmt.Errorf("oauth: %s: RSA-SHA1 without a private key: %w", p.ID, ErrMisconfigured)
		}
		cfg.Signer = &oauth1.RSASigner{PrivateKey: p.PrivateKey}
	case p.SignatureMethod == "" || p.SignatureMethod == "HMAC-SHA1":
		cfg.Signer = &oauth1.HMACSigner{ConsumerSecret: p.ConsumerSecret}
	default:
		return nil, fmt.Errorf("oauth: %s: signature method %q: %w", p.ID, p.SignatureMethod, ErrMisconfigured)
	}
	return cfg, nil
}

// recordingClient is the client handed to dghubble/oauth1 for the token
// requests. dghubble builds those requests without a context and reports
// failures as bare strings that quote the body, so the client carries ctx
// itself and the recorder keeps the response for failure to classify.
func (c *Client) recordingClient(ctx context.Context, p *Provider, rec *recorder) *http.Client {
	rec.base = &limitTransport{base: c.transport, timeout: timeoutOf(p), parent: ctx}
	return &http.Client{Transport: rec, CheckRedirect: sameHostRedirects, Timeout: c.overall}
}

// recorder keeps the last response's status and (capped) body.
type recorder struct {
	base     http.RoundTripper
	status   int
	body     []byte
	tooLarge bool
}

func (r *recorder) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := r.base.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	body, err := readBody(resp, maxProfileBody)
	if errors.Is(err, errBodyTooLarge) {
		r.status, r.tooLarge = resp.StatusCode, true
	}
	if err != nil {
		return nil, err
	}
	r.status, r.body = resp.StatusCode, body
	resp.Body = io.NopCloser(bytes.NewReader(body))
	return resp, nil
}

// failure classifies a failed OAuth 1 token request from what the provider
// actually answered, never from dghubble's message (it quotes the body).
func (r *recorder) failure(ctx context.Context, step string, err error) error {
	if r.status == 0 {
		return transportError(ctx, step, err)
	}
	pe := &ProviderError{Step: step, Status: r.status}
	if r.tooLarge {
		pe.Description = "response larger than 1 MiB"
		return pe
	}
	vals, _ := url.ParseQuery(strings.TrimSpace(string(r.body)))
	pe.Code = clip(vals.Get("oauth_problem"), 100)
	pe.Description = clip(vals.Get("oauth_problem_advice"), 500)
	switch {
	case r.status != http.StatusOK && r.status != http.StatusCreated:
	case vals.Get("oauth_token") == "" || vals.Get("oauth_token_secret") == "":
		pe.Description = "the response lacks oauth_token or oauth_token_secret"
	case step == "request_token" && vals.Get("oauth_callback_confirmed") != "true":
		pe.Description = "oauth_callback_confirmed is not true"
	default:
		pe.Description = "the response could not be understood"
	}
	return pe
}
