package httpserver

import (
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/dancecard/dancecard/internal/links"
	"github.com/dancecard/dancecard/internal/oauth"
)

// urlHeaders are the response headers whose URLs a client may follow:
// pagination (Link), a redirect or a created resource (Location), and
// where the body came from (Content-Location).
var urlHeaders = []string{"Link", "Location", "Content-Location"}

// proxyRewrite points URLs that a provider's response gives into its own
// API back at the proxy route the call came through. A client that follows
// a Link (octokit's paginate) or a redirect (Go's http.Client, which
// go-github uses) would otherwise leave the proxy for the provider, with
// the credentials it has for Dancecard: its personal access token would
// reach the provider and the call would fail there.
//
// A URL at or below the provider's api_base_url (same scheme, host and
// port, below its path, after resolving a relative reference against the
// URL the call went to and removing dot segments) becomes the proxy route
// plus the part below api_base_url, its query (less the provider's token
// parameter, which the proxy adds itself) and fragment, and the caller's
// ?connection= when the call had one.
//
// Any other URL is left as the provider meant it: an absolute one exactly
// as it came, a relative one made absolute (against the provider, not this
// site, where it would mean something else). The proxy cannot make such a
// URL safe: rewriting it would mean proxying a host it refuses to reach,
// and dropping it would break what it is mostly there for, downloads
// redirected to a CDN or a pre-signed storage URL (GitHub's tarballs and
// release assets) that are fetched without credentials. A client that
// follows it with a header it was given is safe (net/http, curl and fetch
// drop Authorization when a redirect leads to another domain); one that
// adds its token to every request whatever the host (go-github's
// WithAuthToken, x/oauth2's Transport, octokit's auth hook) sends it
// there, so such a client must not follow redirects or links off this
// site on its own.
type proxyRewrite struct {
	request    *url.URL // the provider URL the call went to
	apiBase    *url.URL // the provider's api_base_url
	apiPrefix  string   // apiBase's escaped path, ending in "/"
	route      string   // this proxy route, absolute, ending in "/"
	tokenParam string   // the provider's access token query parameter, if any
	connection string   // "connection=N" to keep, or ""
}

// rewriteProxyURLs points the URLs in h that lead into the provider's API
// back at the route the call came through (see proxyRewrite). Should that
// be impossible, they are dropped rather than passed on: a client following
// one would take its Dancecard credentials to the provider.
func (s *Server) rewriteProxyURLs(r *http.Request, h http.Header, target proxyTarget, query string, connectionID int64) {
	if h["Link"] == nil && h["Location"] == nil && h["Content-Location"] == nil {
		return
	}
	rw, err := (*proxyRewrite)(nil), links.ErrUnknownProvider
	if p, ok := s.opts.Links.Catalog.Get(target.provider); ok {
		rw, err = newProxyRewrite(p, s.opts.BaseURL, target, query, connectionID)
	}
	if err != nil {
		s.log.WarnContext(r.Context(), "provider URLs dropped", "provider", target.provider, "err", err)
		for _, k := range urlHeaders {
			delete(h, k)
		}
		return
	}
	rw.header(h)
}

// newProxyRewrite prepares the rewrite for a call to p (target, with the
// query sent to the provider) through the route the caller used.
func newProxyRewrite(p *oauth.Provider, base *url.URL, target proxyTarget, query string, connectionID int64) (*proxyRewrite, error) {
	request, err := oauth.APIURL(p, target.path, query)
	if err != nil {
		return nil, err
	}
	apiBase, err := url.Parse(p.APIBaseURL)
	if err != nil {
		return nil, fmt.Errorf("httpserver: api_base_url of %s: %w", p.ID, err)
	}
	rw := &proxyRewrite{request: request, apiBase: apiBase, apiPrefix: apiBase.EscapedPath(),
		route: strings.TrimSuffix(base.String(), "/") + target.route, tokenParam: p.TokenParam}
	if !strings.HasSuffix(rw.apiPrefix, "/") {
		rw.apiPrefix += "/"
	}
	if connectionID != 0 {
		rw.connection = "connection=" + strconv.FormatInt(connectionID, 10)
	}
	return rw, nil
}

// header rewrites the URLs of every Link, Location and Content-Location
// value of h in place.
func (rw *proxyRewrite) header(h http.Header) {
	for _, k := range urlHeaders {
		vs := h[k]
		for i, v := range vs {
			if k == "Link" {
				vs[i] = rw.link(v)
			} else {
				vs[i] = rw.url(v)
			}
		}
	}
}

// link rewrites the URI reference of every entry of a Link value (RFC 8288:
// comma-separated "<uri-reference>; param=value" entries), leaving the rest
// byte for byte. A "<" inside a quoted parameter value (where a comma may
// be too) starts no URL; an entry without its closing ">" is kept as is,
// since no client can read a URL out of it either.
func (rw *proxyRewrite) link(v string) string {
	var b strings.Builder
	quoted := false
	for i := 0; i < len(v); i++ {
		c := v[i]
		switch {
		case quoted && c == '\\' && i+1 < len(v):
			b.WriteString(v[i : i+2])
			i++
			continue
		case c == '"':
			quoted = !quoted
		case !quoted && c == '<':
			end := strings.IndexByte(v[i+1:], '>')
			if end < 0 {
				b.WriteString(v[i:])
				return b.String()
			}
			b.WriteByte('<')
			b.WriteString(rw.url(v[i+1 : i+1+end]))
			b.WriteByte('>')
			i += end + 1
			continue
		}
		b.WriteByte(c)
	}
	return b.String()
}

// url rewrites one URI reference (see proxyRewrite). One that does not
// parse is left alone: no client can follow it.
func (rw *proxyRewrite) url(ref string) string {
	u, err := url.Parse(ref)
	if err != nil {
		return ref
	}
	abs := rw.request.ResolveReference(u)
	rest, ok := rw.below(abs)
	switch {
	case !ok && u.IsAbs():
		return ref
	case !ok:
		return abs.String()
	}
	out := rw.route + rest
	if q := rw.query(abs.RawQuery); q != "" {
		out += "?" + q
	}
	if abs.Fragment != "" {
		out += "#" + abs.EscapedFragment()
	}
	return out
}

// below returns the escaped path of u below api_base_url, and whether u is
// at or below it at all. The base's path without its trailing slash counts
// as the base itself.
func (rw *proxyRewrite) below(u *url.URL) (string, bool) {
	if u.Opaque != "" || !strings.EqualFold(u.Scheme, rw.apiBase.Scheme) ||
		!strings.EqualFold(u.Hostname(), rw.apiBase.Hostname()) || port(u) != port(rw.apiBase) {
		return "", false
	}
	p := u.EscapedPath()
	if p+"/" == rw.apiPrefix {
		return "", true
	}
	return strings.CutPrefix(p, rw.apiPrefix)
}

// query is a provider URL's raw query as the proxy takes it: without the
// provider's token parameter, with the caller's connection.
func (rw *proxyRewrite) query(raw string) string {
	var kept []string
	if raw != "" {
		for _, piece := range strings.Split(raw, "&") {
			k, _, _ := strings.Cut(piece, "=")
			if key, err := url.QueryUnescape(k); rw.tokenParam != "" && err == nil && key == rw.tokenParam {
				continue
			}
			kept = append(kept, piece)
		}
	}
	if rw.connection != "" {
		kept = append(kept, rw.connection)
	}
	return strings.Join(kept, "&")
}

// port is u's port, or its scheme's default port.
func port(u *url.URL) string {
	if p := u.Port(); p != "" {
		return p
	}
	switch strings.ToLower(u.Scheme) {
	case "http":
		return "80"
	case "https":
		return "443"
	}
	return ""
}
