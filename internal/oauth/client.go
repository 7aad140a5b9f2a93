package oauth

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"
)

// DefaultTimeout bounds each request to a provider whose Timeout is unset.
const DefaultTimeout = 10 * time.Second

// Bodies larger than these are refused: providers are not trusted to send
// small responses, and a profile has no business being a megabyte.
const (
	maxProfileBody   = 1 << 20
	maxTransportBody = 4 << 20
)

// ErrMisconfigured is a provider that lacks what its protocol needs (no token
// URL, an RSA-SHA1 provider without its key, ...): a configuration mistake,
// not the provider's fault.
var ErrMisconfigured = errors.New("oauth: provider is misconfigured")

// ErrNoRefreshToken is Refresh called for a token that has no refresh token.
var ErrNoRefreshToken = errors.New("oauth: no refresh token")

// ClientOptions configure a Client.
type ClientOptions struct {
	// HTTPClient supplies the transport for every request to a provider, and,
	// when its Timeout is set, an overall cap on each request. Its Jar and
	// CheckRedirect are ignored: the Client never keeps provider cookies and
	// never follows a redirect to another host. nil means a transport with
	// dial and TLS handshake timeouts and no cookie jar.
	HTTPClient *http.Client
}

// Client runs dances and talks to providers. One Client is shared by every
// provider because what it holds is worth sharing: the connection pool, the
// OIDC discovery cache, and which client authentication style each token
// endpoint accepted.
type Client struct {
	transport http.RoundTripper
	overall   time.Duration
	now       func() time.Time

	mu         sync.Mutex
	discovered map[string]discovered // by issuer

	configs sync.Map // configKey -> *oauth2.Config
	styles  sync.Map // styleKey -> oauth2.AuthStyle detected for TokenAuthAuto
}

// NewClient returns a Client ready for concurrent use.
func NewClient(opts ClientOptions) *Client {
	c := &Client{now: time.Now, discovered: map[string]discovered{}}
	if opts.HTTPClient != nil {
		c.transport = opts.HTTPClient.Transport
		c.overall = opts.HTTPClient.Timeout
	}
	if c.transport == nil {
		c.transport = defaultTransport()
	}
	return c
}

// transportBuffer is the size of each provider connection's read and write
// buffers.
const transportBuffer = 32 << 10

func defaultTransport() http.RoundTripper {
	return &http.Transport{
		Proxy:                 http.ProxyFromEnvironment,
		DialContext:           (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		ForceAttemptHTTP2:     true,
		TLSHandshakeTimeout:   5 * time.Second,
		ExpectContinueTimeout: time.Second,
		MaxIdleConns:          100,
		MaxIdleConnsPerHost:   32,
		IdleConnTimeout:       90 * time.Second,
		// An API answer of a few KiB (most JSON) is read, and a proxied
		// request with its body written, in one system call rather than
		// one per 4 KiB (the default): each is a wake-up on both ends.
		ReadBufferSize:  transportBuffer,
		WriteBufferSize: transportBuffer,
	}
}

// httpClient returns the client for one provider's requests: each request
// gets the provider's timeout, bodies are capped, and redirects stay on the
// host they started on so a token or a signed request never wanders off.
// parent, when not nil, replaces the requests' own context; it is for
// libraries (oauth1) that build requests without one.
func (c *Client) httpClient(p *Provider, parent context.Context) *http.Client {
	return &http.Client{
		Transport:     &limitTransport{base: c.transport, timeout: timeoutOf(p), parent: parent},
		CheckRedirect: sameHostRedirects,
		Timeout:       c.overall,
	}
}

func timeoutOf(p *Provider) time.Duration {
	if p.Timeout > 0 {
		return p.Timeout
	}
	return DefaultTimeout
}

// sameHostRedirects follows a few redirects on the original host and scheme;
// anything else is handed back as the 3xx response it is, which the caller
// then reports as a provider error.
func sameHostRedirects(req *http.Request, via []*http.Request) error {
	first := via[0].URL
	if len(via) >= 5 || !strings.EqualFold(req.URL.Host, first.Host) || req.URL.Scheme != first.Scheme {
		return http.ErrUseLastResponse
	}
	return nil
}

// limitTransport gives each request its own deadline and caps response
// bodies. The deadline lives until the body is closed, so reading a slow body
// is bounded too.
type limitTransport struct {
	base    http.RoundTripper
	timeout time.Duration
	parent  context.Context
}

func (t *limitTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	parent := req.Context()
	if t.parent != nil {
		parent = t.parent
	}
	ctx, cancel := context.WithTimeout(parent, t.timeout)
	resp, err := t.base.RoundTrip(req.WithContext(ctx))
	if err != nil {
		cancel()
		return nil, err
	}
	resp.Body = &cappedBody{r: io.LimitReader(resp.Body, maxTransportBody+1), c: resp.Body, cancel: cancel}
	return resp, nil
}

var errBodyTooLarge = errors.New("response body too large")

type cappedBody struct {
	r      io.Reader
	c      io.Closer
	cancel context.CancelFunc
	n      int64
}

func (b *cappedBody) Read(p []byte) (int, error) {
	n, err := b.r.Read(p)
	b.n += int64(n)
	if b.n > maxTransportBody {
		return n, errBodyTooLarge
	}
	return n, err
}

func (b *cappedBody) Close() error {
	err := b.c.Close()
	b.cancel()
	return err
}

// transportError reports a request that got no response: the provider is
// unreachable, unless the caller itself gave up. The URL is dropped from the
// message because some providers' URLs carry credentials.
func transportError(ctx context.Context, step string, err error) error {
	if ctx.Err() != nil {
		return fmt.Errorf("oauth: %s: %w", step, ctx.Err())
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	return fmt.Errorf("oauth: %s: %w: %w", step, ErrUnreachable, err)
}

// readBody reads at most limit bytes of a response body.
func readBody(resp *http.Response, limit int64) ([]byte, error) {
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(body)) > limit {
		return nil, errBodyTooLarge
	}
	return body, nil
}

func statusOK(code int) bool { return code >= 200 && code <= 299 }
