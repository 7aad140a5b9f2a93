package httpserver

import (
	"errors"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"

	"github.com/labstack/echo/v4"

	"github.com/dancecard/dancecard/internal/accounts"
	"github.com/dancecard/dancecard/internal/links"
	"github.com/dancecard/dancecard/internal/oauth"
)

// maxProxyBody caps a request body sent through the provider proxy.
const maxProxyBody = 10 << 20

// errProxyTooLarge is a proxied request body over maxProxyBody.
var errProxyTooLarge = errors.New("httpserver: proxied body too large")

// proxyCSP confines a provider's response served from this origin.
const proxyCSP = "default-src 'none'; frame-ancestors 'none'; sandbox"

// proxyMethods are the methods the proxy forwards. TRACE and CONNECT are
// not: neither is an API call, and TRACE would echo the credentials.
var proxyMethods = []string{http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut,
	http.MethodPatch, http.MethodDelete, http.MethodOptions}

// handleProviderCall passes a call through to the provider's API as the
// user: same method, path, query (less ?connection=), body and content
// type; the provider's status, useful headers and body come back,
// streamed, with the URLs that lead back into the provider's API pointed
// at this route instead (proxyRewrite). Which headers go either way is
// oauth.RequestHeader's and oauth.ResponseHeader's decision; everything
// else is links.CallAPI's.
func (s *Server) handleProviderCall(admin bool) echo.HandlerFunc {
	return func(c echo.Context) error {
		r := c.Request()
		want := accounts.ScopeProxy
		if admin {
			want = accounts.ScopeAdmin
		}
		if err := checkScope(callerFrom(c), want); err != nil {
			return err
		}
		var call links.APICall
		var query string
		target, err := parseProxyPath(c, admin)
		if err == nil {
			call.ConnectionID, query, err = connectionParam(r.URL.RawQuery)
		}
		if err == nil && r.ContentLength > maxProxyBody {
			err = errProxyTooLarge
		}
		if err != nil {
			return err
		}
		call.UserID = callerFrom(c).UserID
		if admin {
			call.UserID = target.userID
		}
		var body io.Reader
		if r.ContentLength != 0 {
			body = http.MaxBytesReader(c.Response(), r.Body, maxProxyBody)
		}
		call.Provider = target.provider
		call.Request = oauth.APIRequest{Method: r.Method, Path: target.path, RawQuery: query,
			Header: oauth.RequestHeader(r.Header), Body: body, ContentLength: r.ContentLength}
		resp, err := s.opts.Links.CallAPI(r.Context(), call)
		if err != nil {
			err = s.proxyError(err)
			if s.knownProvider(target.provider) {
				s.metrics.proxied(target.provider, "dancecard", lookupError(err).status)
			}
			return err
		}
		s.metrics.proxied(target.provider, "provider", resp.StatusCode)
		defer resp.Body.Close()
		h := c.Response().Header()
		for k, vs := range oauth.ResponseHeader(resp.Header) {
			h[k] = vs
		}
		s.rewriteProxyURLs(r, h, target, query, call.ConnectionID)
		// The provider's body is served from this site's origin: whatever
		// it is (an HTML page, a script a user put at the provider), it
		// must not run here, so it is sandboxed and may load nothing.
		h.Set("Content-Security-Policy", proxyCSP)
		c.Response().WriteHeader(resp.StatusCode)
		buf := copyBuffers.Get().(*[]byte)
		defer copyBuffers.Put(buf)
		if _, err := io.CopyBuffer(c.Response(), resp.Body, *buf); err != nil {
			// The status is sent; all that is left is to cut the body
			// short, which the client sees as a broken response.
			s.log.WarnContext(r.Context(), "provider response cut short", "provider", target.provider, "err", err)
		}
		return nil
	}
}

// copyBuffers hold the buffers responses are copied through: io.Copy
// would allocate one per call, which was most of the proxy's garbage.
var copyBuffers = sync.Pool{New: func() any { b := make([]byte, 32<<10); return &b }}

// proxyError turns a failed call into what the error table shows: a body
// over the cap is 413, and a connection to reconnect says where.
func (s *Server) proxyError(err error) error {
	if mbe := (*http.MaxBytesError)(nil); errors.As(err, &mbe) {
		return errProxyTooLarge
	}
	if re := (*links.ReauthError)(nil); errors.As(err, &re) {
		return &problemFields{err: err, fields: map[string]any{
			"reconnect_url": s.opts.BaseURL.JoinPath("/profile").String() + "#connections",
			"connection_id": re.ConnectionID,
		}}
	}
	return err
}

// proxyTarget is whose connection a proxied call uses and where it goes.
type proxyTarget struct {
	userID   int64
	provider string
	path     string // escaped, below the provider's api_base_url
	route    string // the route's path up to path, as the client sent it: "/api/v1/providers/hub/api/"
}

// parseProxyPath reads the provider, the user (admin form) and the API
// path from the request line as the client sent it, still escaped, so that
// the path reaches the provider byte for byte and %2F or %2e%2e are seen
// for what they are. The router's own parameters must agree.
func parseProxyPath(c echo.Context, admin bool) (proxyTarget, error) {
	raw, _, _ := strings.Cut(c.Request().RequestURI, "?")
	if !strings.HasPrefix(raw, "/") {
		raw = c.Request().URL.EscapedPath()
	}
	want := []string{"", "api", "v1", "providers", "*", "api"}
	if admin {
		want = []string{"", "api", "v1", "admin", "users", "*", "providers", "*", "api"}
	}
	segs := strings.SplitN(raw, "/", len(want)+1)
	if len(segs) != len(want)+1 {
		return proxyTarget{}, oauth.ErrInvalidPath
	}
	for i, w := range want {
		if w != "*" && segs[i] != w {
			return proxyTarget{}, oauth.ErrInvalidPath
		}
	}
	t := proxyTarget{path: segs[len(want)], route: strings.Join(segs[:len(want)], "/") + "/"}
	var err error
	if t.provider, err = url.PathUnescape(segs[len(want)-2]); err != nil || t.provider != c.Param("provider") {
		return proxyTarget{}, oauth.ErrInvalidPath
	}
	if admin {
		if segs[5] != c.Param("id") {
			return proxyTarget{}, oauth.ErrInvalidPath
		}
		if t.userID, err = pathID(c, "id"); err != nil {
			return proxyTarget{}, err
		}
	}
	return t, nil
}

// connectionParam takes ?connection={id} out of a raw query, leaving every
// other byte as it was. A malformed or repeated id is 404, like an unknown
// one.
func connectionParam(rawQuery string) (int64, string, error) {
	if !strings.Contains(rawQuery, "connection") && !strings.Contains(rawQuery, "%") {
		// No piece can be the parameter, not even an escaped one.
		return 0, rawQuery, nil
	}
	var id int64
	var kept []string
	for _, piece := range strings.Split(rawQuery, "&") {
		k, v, _ := strings.Cut(piece, "=")
		if key, err := url.QueryUnescape(k); err != nil || key != "connection" {
			kept = append(kept, piece)
			continue
		}
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n <= 0 || id != 0 {
			return 0, "", links.ErrNotFound
		}
		id = n
	}
	return id, strings.Join(kept, "&"), nil
}
