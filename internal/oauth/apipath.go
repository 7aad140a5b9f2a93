package oauth

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
)

// APIURL resolves an escaped path and raw query strictly under p's
// APIBaseURL: same scheme, same host, below its path. path is relative (no
// leading slash) and is refused, with ErrInvalidPath, when it
//   - is or starts like an absolute URL or a host ("http:", "//", "@"),
//   - has a "." or ".." segment, percent-encoded or not,
//   - has an encoded slash or backslash (%2F, %5C), a backslash, an empty
//     segment before its end, a malformed escape,
//   - has control characters, raw or encoded, or characters a URL path
//     may not carry unescaped.
//
// The query must be free of control characters and spaces; it is otherwise
// passed on untouched.
func APIURL(p *Provider, path, rawQuery string) (*url.URL, error) {
	if p.APIBaseURL == "" {
		return nil, fmt.Errorf("oauth: call %s: %w", p.ID, ErrNoAPI)
	}
	base, err := url.Parse(p.APIBaseURL)
	if err != nil || base.Host == "" || (base.Scheme != "http" && base.Scheme != "https") {
		return nil, fmt.Errorf("oauth: call %s: no usable api_base_url: %w", p.ID, ErrMisconfigured)
	}
	if why := checkAPIPath(path); why != "" {
		return nil, fmt.Errorf("oauth: call %s: %s: %w", p.ID, why, ErrInvalidPath)
	}
	if strings.ContainsFunc(rawQuery, func(r rune) bool { return r <= ' ' || r == 0x7f || r == '#' }) {
		return nil, fmt.Errorf("oauth: call %s: the query has spaces or control characters: %w", p.ID, ErrInvalidPath)
	}
	prefix := base.EscapedPath()
	if !strings.HasSuffix(prefix, "/") {
		prefix += "/"
	}
	raw := prefix + path
	decoded, err := url.PathUnescape(raw)
	if err != nil {
		return nil, fmt.Errorf("oauth: call %s: malformed escape: %w", p.ID, ErrInvalidPath)
	}
	u := &url.URL{Scheme: base.Scheme, Host: base.Host, Path: decoded, RawPath: raw, RawQuery: rawQuery}
	// Belt and braces: whatever the checks above missed, the URL that is
	// sent must still be on the base URL's host and below its path.
	if u.Host != base.Host || !strings.HasPrefix(u.EscapedPath(), prefix) || u.User != nil {
		return nil, fmt.Errorf("oauth: call %s: %w", p.ID, ErrInvalidPath)
	}
	return u, nil
}

// checkAPIPath says what is wrong with an escaped relative API path, or "".
func checkAPIPath(path string) string {
	for i := 0; i < len(path); i++ {
		if !pathByte(path[i]) {
			return fmt.Sprintf("character %q is not allowed in a path", path[i])
		}
	}
	segs := strings.Split(path, "/")
	for i, seg := range segs {
		dec, err := url.PathUnescape(seg)
		switch {
		case err != nil:
			return "malformed percent-escape"
		case seg == "" && i < len(segs)-1:
			return "empty path segment (// or a leading slash)"
		case dec == "." || dec == "..":
			return "dot segments are not allowed"
		case strings.ContainsAny(dec, "/\\"):
			return "encoded slashes are not allowed"
		case strings.ContainsFunc(dec, func(r rune) bool { return r < ' ' || r == 0x7f }):
			return "control characters are not allowed"
		case i == 0 && strings.ContainsAny(dec, ":@"):
			return "absolute URLs and user@host forms are not allowed"
		}
	}
	return ""
}

// pathByte reports whether c may appear unescaped in a URL path (RFC 3986
// pchar, plus "/" and the "%" of an escape).
func pathByte(c byte) bool {
	switch {
	case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		return true
	}
	return strings.IndexByte("-._~!$&'()*+,;=:@/%", c) >= 0
}

// hopByHop are the headers of one connection (RFC 9110 7.6.1), never
// forwarded either way.
var hopByHop = map[string]bool{
	"Connection": true, "Keep-Alive": true, "Proxy-Connection": true, "Proxy-Authenticate": true,
	"Proxy-Authorization": true, "Te": true, "Trailer": true, "Transfer-Encoding": true, "Upgrade": true,
}

// callerOnly are request headers that belong to the caller's session with
// Dancecard or say where the caller is: they never reach a provider.
var callerOnly = map[string]bool{
	"Authorization": true, "Cookie": true, "X-Csrf-Token": true, "Origin": true, "Referer": true,
	"Forwarded": true, "X-Forwarded-For": true, "X-Forwarded-Host": true, "X-Forwarded-Proto": true,
	"X-Real-Ip": true, "X-Request-Id": true, "Host": true, "Content-Length": true,
}

// RequestHeader returns the headers of a caller's request that may go to a
// provider: everything but hop-by-hop headers (and those named in
// Connection), the caller's credentials, cookies and CSRF token, and
// headers that reveal where the caller is.
func RequestHeader(in http.Header) http.Header {
	out := make(http.Header, len(in))
	named := connectionNamed(in)
	for k, vs := range in {
		ck := http.CanonicalHeaderKey(k)
		if hopByHop[ck] || callerOnly[ck] || named[ck] || strings.HasPrefix(ck, "Sec-") {
			continue
		}
		out[ck] = append([]string(nil), vs...)
	}
	return out
}

// responseHeaders are the provider response headers a caller gets back:
// what describes the body, caching and validation, pagination and rate
// limits. Set-Cookie and anything else stays behind.
var responseHeaders = map[string]bool{
	"Content-Type": true, "Content-Length": true, "Content-Encoding": true, "Content-Disposition": true,
	"Content-Language": true, "Content-Range": true, "Accept-Ranges": true, "Etag": true, "Last-Modified": true,
	"Cache-Control": true, "Expires": true, "Vary": true, "Link": true, "Location": true, "Retry-After": true,
	"X-Total-Count": true, "X-Total": true, "X-Total-Pages": true, "X-Page": true, "X-Per-Page": true,
	"X-Next-Page": true, "X-Prev-Page": true, "X-Oauth-Scopes": true, "X-Accepted-Oauth-Scopes": true,
}

// ResponseHeader returns the provider response headers to pass back.
func ResponseHeader(in http.Header) http.Header {
	out := make(http.Header, len(in))
	for k, vs := range in {
		ck := http.CanonicalHeaderKey(k)
		if responseHeaders[ck] || strings.HasPrefix(ck, "X-Ratelimit-") || strings.HasPrefix(ck, "Ratelimit") {
			out[ck] = append([]string(nil), vs...)
		}
	}
	return out
}

func connectionNamed(h http.Header) map[string]bool {
	named := map[string]bool{}
	for _, v := range h.Values("Connection") {
		for f := range strings.SplitSeq(v, ",") {
			if f = strings.TrimSpace(f); f != "" {
				named[http.CanonicalHeaderKey(f)] = true
			}
		}
	}
	return named
}
