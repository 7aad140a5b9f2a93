package oauth

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	"golang.org/x/oauth2"
)

// Errors of provider API calls.
var (
	// ErrInvalidPath is an API path or query that would leave the provider's
	// API base URL (an absolute URL, "..", an encoded slash, a userinfo
	// trick) or that no provider could be sent (control characters).
	ErrInvalidPath = errors.New("oauth: the path is not under the provider's API base URL")
	// ErrInvalidQuery is a query that cannot be signed for OAuth 1 because
	// it is not form-encoded (a bad escape, a semicolon).
	ErrInvalidQuery = errors.New("oauth: the query is not form-encoded and cannot be signed")
	// ErrTimeout is a provider that did not answer within its timeout.
	ErrTimeout = errors.New("oauth: the provider did not answer in time")
)

// APIRequest is a call to a provider's API on a user's behalf. Path and
// RawQuery are sent exactly as given (still escaped), below the provider's
// APIBaseURL; Header must already be filtered with RequestHeader.
type APIRequest struct {
	Method        string
	Path          string // escaped, relative to APIBaseURL, no leading slash: "repos/a/b"
	RawQuery      string
	Header        http.Header
	Body          io.Reader // nil for none
	ContentLength int64     // -1 when unknown
}

// CallAPI sends r to p's API with t's credentials: an OAuth 2 access token
// (as the token type's Authorization header, or the provider's query
// parameter), or an OAuth 1.0a signature. Redirects are never followed: a
// 3xx comes back as it is, so credentials cannot follow a redirect anywhere.
// The provider's timeout bounds the whole call, reading the body included;
// the caller must close the response body.
func (c *Client) CallAPI(ctx context.Context, p *Provider, t Token, r APIRequest) (*http.Response, error) {
	u, err := APIURL(p, r.Path, r.RawQuery)
	if err != nil {
		return nil, err
	}
	body := &watchedBody{r: r.Body}
	var reqBody io.Reader
	if r.Body != nil {
		reqBody = body
	}
	parent := ctx
	ctx, cancel := context.WithTimeout(ctx, timeoutOf(p))
	req, err := http.NewRequestWithContext(ctx, r.Method, u.String(), reqBody)
	if err != nil {
		cancel()
		return nil, fmt.Errorf("oauth: call %s: %w", p.ID, ErrInvalidPath)
	}
	req.URL, req.Host = u, u.Host
	req.Header = r.Header.Clone()
	if req.Header == nil {
		req.Header = http.Header{}
	}
	if r.Body != nil {
		req.ContentLength = r.ContentLength
	}
	for k, v := range p.APIHeaders {
		req.Header.Set(k, strings.ReplaceAll(v, ClientIDPlaceholder, p.ClientID))
	}
	if err := c.authorize(p, t, req); err != nil {
		cancel()
		return nil, err
	}
	resp, err := c.apiClient().Do(req)
	switch {
	case err == nil:
		resp.Body = &cancelBody{ReadCloser: resp.Body, cancel: cancel}
		return resp, nil
	case body.err != nil:
		cancel()
		return nil, fmt.Errorf("oauth: call %s: reading the request body: %w", p.ID, body.err)
	default:
		timedOut := ctx.Err() != nil
		cancel()
		return nil, callError(parent, p, timedOut, err)
	}
}

// callError says why a call got no response: the caller went away (parent
// is done), the provider's timeout ran out, or the provider could not be
// reached.
func callError(parent context.Context, p *Provider, timedOut bool, err error) error {
	if parent.Err() != nil {
		return fmt.Errorf("oauth: call %s: %w", p.ID, parent.Err())
	}
	if timedOut {
		return fmt.Errorf("oauth: call %s: %w: %w", p.ID, ErrUnreachable, ErrTimeout)
	}
	return transportError(context.Background(), "call "+p.ID, err)
}

// apiClient never follows redirects and keeps no cookies.
func (c *Client) apiClient() *http.Client {
	return &http.Client{
		Transport:     c.transport,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		Timeout:       c.overall,
	}
}

// authorize adds t's credentials to req the way p's protocol wants them.
func (c *Client) authorize(p *Provider, t Token, req *http.Request) error {
	if p.Protocol == OAuth1 {
		return c.sign1(p, t, req)
	}
	if p.TokenParam != "" {
		q := url.QueryEscape(p.TokenParam) + "=" + url.QueryEscape(t.AccessToken)
		if req.URL.RawQuery != "" {
			q = req.URL.RawQuery + "&" + q
		}
		req.URL.RawQuery = q
		return nil
	}
	// x/oauth2 knows how token types are spelled in the header
	// ("bearer" -> "Bearer", "mac" -> "MAC").
	req.Header.Set("Authorization", (&oauth2.Token{TokenType: t.TokenType}).Type()+" "+t.AccessToken)
	return nil
}

// watchedBody remembers a read error of the caller's body, so a body that
// broke off (or grew past the caller's size cap) is not reported as the
// provider's fault.
type watchedBody struct {
	r   io.Reader
	err error
}

func (b *watchedBody) Read(p []byte) (int, error) {
	n, err := b.r.Read(p)
	if err != nil && err != io.EOF {
		b.err = err
	}
	return n, err
}

// cancelBody ends the call's deadline when the body is closed.
type cancelBody struct {
	io.ReadCloser
	cancel context.CancelFunc
}

func (b *cancelBody) Close() error {
	err := b.ReadCloser.Close()
	b.cancel()
	return err
}
