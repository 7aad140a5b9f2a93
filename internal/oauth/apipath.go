package oauth

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// APIURL resolves an escaped path and raw query strictly under p's
// APIBaseURL: same scheme, same host, below its path. path is relative (no
// leading slash) and is refused, with ErrInvalidPath, when it
//   - is or starts like an absolute URL or a host ("http:", "//", "@"),
//   - has a segment that some server behind an API could read as "." or
//     "..", or as holding a slash or backslash (see checkSegment),
//   - has a backslash, an empty segment before its end, a malformed escape,
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
		if _, err := url.PathUnescape(seg); err != nil {
			return "malformed percent-escape"
		}
		if seg == "" && i < len(segs)-1 {
			return "empty path segment (// or a leading slash)"
		}
		if why := checkSegment(seg, i == 0, i == len(segs)-1); why != "" {
			return why
		}
	}
	return ""
}

// maxDecodes is how many times a server behind an API is assumed to
// percent-decode a path. A segment that would still change on one more
// decoding is refused rather than followed further.
const maxDecodes = 3

// checkSegment says what is wrong with one escaped path segment, or "".
// Go's url package is not the only reader: the provider's server may
// decode the path twice, decode IIS's %uXXXX, accept overlong UTF-8,
// NFKC-normalise (fullwidth and other compatibility forms of "." "/" "\"
// ";" "%"), or cut ";params" off each segment as Tomcat and Spring do. So
// every reading of seg, raw and NFKC-normalised, decoded zero to maxDecodes
// times, must be valid UTF-8 (which rules out overlong forms) with no
// control character, separator or dot segment.
func checkSegment(seg string, first, last bool) string {
	type reading struct {
		s       string
		decodes int
	}
	todo := []reading{{seg, 0}}
	add := func(r reading) {
		for _, t := range todo {
			if t.s == r.s {
				return
			}
		}
		todo = append(todo, r)
	}
	for i := 0; i < len(todo); i++ {
		r := todo[i]
		if why := checkReading(r.s, first, last); why != "" {
			return why
		}
		add(reading{norm.NFKC.String(r.s), r.decodes})
		if d := unescapeLeniently(r.s); d != r.s {
			if r.decodes == maxDecodes {
				return "the path is percent-encoded too many times"
			}
			add(reading{d, r.decodes + 1})
		}
	}
	return ""
}

// checkReading says what is wrong with one reading of a path segment, or "".
func checkReading(s string, first, last bool) string {
	switch {
	case !utf8.ValidString(s):
		return "invalid or overlong UTF-8 is not allowed"
	case strings.ContainsFunc(s, unicode.IsControl):
		return "control characters are not allowed"
	case strings.ContainsFunc(s, isSeparator):
		return "encoded slashes are not allowed"
	case first && strings.ContainsAny(s, ":@"):
		return "absolute URLs and user@host forms are not allowed"
	}
	name, _, _ := strings.Cut(s, ";")
	switch {
	case name == "" && s != "" && !last:
		return "empty path segment before ;parameters"
	case isDotSegment(name):
		return "dot segments are not allowed"
	}
	return ""
}

// isDotSegment reports whether name may be taken for "." or "..". To be
// safe from Windows, which drops trailing dots and spaces, and from
// servers that ignore invisible format characters, it is any name made of
// nothing but dots (".", "...", and the ideographic full stop that IDNA
// maps to "."), spaces and format characters, with at least one dot.
// Names such as "...x", "v1.2", ".x" and "x.." stay legal.
func isDotSegment(name string) bool {
	dots := false
	for _, r := range name {
		switch {
		case r == '.' || r == '\u3002':
			dots = true
		case r != ' ' && !unicode.Is(unicode.Cf, r):
			return false
		}
	}
	return dots
}

// isSeparator reports whether r is a slash or backslash, or a look-alike
// that Windows best-fit code page mapping turns into one (NFKC already
// covers the fullwidth and small forms).
func isSeparator(r rune) bool {
	switch r {
	case '/', '\\', '\u2215', '\u2044', '\u29f8', '\u2216', '\u29f5', '\u29f9':
		return true
	}
	return false
}

// unescapeLeniently decodes the %XX and %uXXXX escapes in s as lenient
// servers do, leaving any other "%" as it is.
func unescapeLeniently(s string) string {
	if !strings.Contains(s, "%") {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '%' {
			if v, ok := unhex(s[i+1:], 2); ok {
				b.WriteByte(byte(v))
				i += 2
				continue
			}
			if rest := s[i+1:]; rest != "" && (rest[0] == 'u' || rest[0] == 'U') {
				if v, ok := unhex(rest[1:], 4); ok {
					b.WriteRune(rune(v))
					i += 5
					continue
				}
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// unhex reads n hex digits at the start of s.
func unhex(s string, n int) (v int, ok bool) {
	if len(s) < n {
		return 0, false
	}
	for _, c := range []byte(s[:n]) {
		switch {
		case '0' <= c && c <= '9':
			v = v<<4 | int(c-'0')
		case 'a' <= c && c <= 'f':
			v = v<<4 | int(c-'a'+10)
		case 'A' <= c && c <= 'F':
			v = v<<4 | int(c-'A'+10)
		default:
			return 0, false
		}
	}
	return v, true
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
	"Cache-Control": true, "Expires": true, "Vary": true, "Link": true, "Location": true, "Content-Location": true, "Retry-After": true,
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
