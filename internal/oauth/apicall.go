package oauth

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"time"

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
	// ErrNoAPI is a provider configured without an api_base_url: there is
	// no API to call.
	ErrNoAPI = errors.New("oauth: the provider has no API base URL")
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
// The provider's timeout is an idle timeout: it bounds the wait for the
// response and every pause in either body, not a long transfer that keeps
// moving. The caller must close the response body.
func (c *Client) CallAPI(ctx context.Context, p *Provider, t Token, r APIRequest) (*http.Response, error) {
	u, err := APIURL(p, r.Path, r.RawQuery)
	if err != nil {
		return nil, err
	}
	parent := ctx
	ctx, cancel := context.WithCancel(ctx)
	// The timeout is an idle timeout: it restarts whenever a byte of
	// either body moves, so a large upload or download is not cut off
	// while a provider that stalls still is.
	idle := &idleTimer{timeout: timeoutOf(p)}
	idle.timer = time.AfterFunc(idle.timeout, func() { idle.fired.Store(true); cancel() })
	stop := func() { idle.timer.Stop(); cancel() }
	body := &watchedBody{r: r.Body, idle: idle}
	var reqBody io.Reader
	if r.Body != nil {
		reqBody = body
	}
	req, err := http.NewRequestWithContext(ctx, r.Method, u.String(), reqBody)
	if err != nil {
		stop()
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
		stop()
		return nil, err
	}
	resp, err := c.apiClient().Do(req)
	switch {
	case err == nil:
		idle.reset()
		resp.Body = &idleBody{ReadCloser: resp.Body, idle: idle, stop: stop}
		return resp, nil
	case body.err != nil:
		stop()
		return nil, fmt.Errorf("oauth: call %s: reading the request body: %w", p.ID, body.err)
	default:
		stop()
		return nil, callError(parent, p, idle.fired.Load(), err)
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

// idleTimer cancels a call when nothing has moved for timeout.
type idleTimer struct {
	timeout time.Duration
	timer   *time.Timer
	fired   atomic.Bool
}

func (t *idleTimer) reset() { t.timer.Reset(t.timeout) }

// watchedBody remembers a read error of the caller's body, so a body that
// broke off (or grew past the caller's size cap) is not reported as the
// provider's fault, and restarts the idle timer as it is read.
type watchedBody struct {
	r    io.Reader
	idle *idleTimer
	err  error
}

func (b *watchedBody) Read(p []byte) (int, error) {
	b.idle.reset()
	n, err := b.r.Read(p)
	if err != nil && err != io.EOF {
		b.err = err
	}
	return n, err
}

// idleBody restarts the idle timer as the response is read, and ends the
// call when it is closed.
type idleBody struct {
	io.ReadCloser
	idle *idleTimer
	stop func()
}

func (b *idleBody) Read(p []byte) (int, error) {
	b.idle.reset()
	return b.ReadCloser.Read(p)
}

func (b *idleBody) Close() error {
	err := b.ReadCloser.Close()
	b.stop()
	return err
}
