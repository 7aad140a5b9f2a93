package oauthtest

import (
	"bytes"
	"encoding/base64"
	"io"
	"net/http"
	"strconv"
	"strings"
)

// maxAPIBody caps what the fake API reads of a request body.
const maxAPIBody = 32 << 20

// The API endpoints below APIBaseURL, for proxy tests. All of them need a
// valid access token (or OAuth 1 signature) and answer 401 otherwise.
//
//	raw/...         the request body back byte for byte, with its content
//	                type; method, path and query in X-Echo-* headers
//	status/{code}   that status, with caching, pagination and rate-limit
//	                headers, a Set-Cookie and a private header
//	redirect?to=URL a 302 (or ?code=) to URL
//	garbage         200 with a body that is neither JSON nor complete HTML
//	paged/...       one page of a list, with pagination URLs in Link,
//	                Content-Location and (for a "moved" segment) a 301's
//	                Location, in every form providers use (see servePaged)
//	anything else   a JSON echo: method, path, raw query, content type,
//	                headers, body (as text and base64), user, auth scheme;
//	                ?echo_status= picks the status
func (p *Provider) serveAPI(w http.ResponseWriter, r *http.Request, cfg config, path string) {
	p.counters.apiCalls.Add(1)
	k := cfg.knobs
	if !delay(r, k.APIDelay) {
		return
	}
	if k.APIStatus != 0 {
		http.Error(w, "oauthtest: the API is down", k.APIStatus)
		return
	}
	// The body is read before authentication, which (for OAuth 1 form
	// bodies) parses it, and put back so both see the same bytes.
	body, err := io.ReadAll(io.LimitReader(r.Body, maxAPIBody))
	if err != nil {
		http.Error(w, "oauthtest: unreadable body", http.StatusBadRequest)
		return
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	c, ok := p.authenticate(r, cfg)
	if !ok {
		unauthorized(w)
		return
	}
	switch {
	case strings.HasPrefix(path, "/raw/"):
		h := w.Header()
		h.Set("Content-Type", r.Header.Get("Content-Type"))
		h.Set("X-Echo-Method", r.Method)
		h.Set("X-Echo-Path", path)
		h.Set("X-Echo-Query", r.URL.RawQuery)
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write(body)
	case strings.HasPrefix(path, "/status/"):
		serveStatus(w, strings.TrimPrefix(path, "/status/"))
	case path == "/redirect":
		code, err := strconv.Atoi(r.URL.Query().Get("code"))
		if err != nil || code < 300 || code > 399 {
			code = http.StatusFound
		}
		w.Header().Set("Location", r.URL.Query().Get("to"))
		w.WriteHeader(code)
	case strings.HasPrefix(path, pathPaged):
		p.servePaged(w, r, cfg, path)
	case path == "/garbage":
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte("<html><body>Oops {\"not\": json"))
	default:
		status := http.StatusOK
		if s, err := strconv.Atoi(r.URL.Query().Get("echo_status")); err == nil && s >= 200 && s <= 599 {
			status = s
		}
		w.Header().Set("X-Oauthtest-Echo", "1")
		writeJSON(w, status, Echo{
			Method: r.Method, Path: path, Query: r.URL.RawQuery, ContentType: r.Header.Get("Content-Type"),
			Header: r.Header, Body: string(body), BodyBase64: base64.StdEncoding.EncodeToString(body),
			User: c.grant.user.ID, Auth: c.scheme,
		})
	}
}

// Echo is what the API's echo endpoint answers.
type Echo struct {
	Method      string      `json:"method"`
	Path        string      `json:"path"`  // below the API base URL, with a leading slash, decoded
	Query       string      `json:"query"` // raw, as received
	ContentType string      `json:"content_type"`
	Header      http.Header `json:"headers"`
	Body        string      `json:"body"`
	BodyBase64  string      `json:"body_base64"`
	User        string      `json:"user"`
	Auth        string      `json:"auth"` // "Bearer" or "OAuth"
}

// serveStatus answers with the status in the path and the headers a proxy
// should pass back (and two it should not).
func serveStatus(w http.ResponseWriter, code string) {
	status, err := strconv.Atoi(code)
	if err != nil || status < 200 || status > 599 {
		http.Error(w, "oauthtest: status must be 200..599", http.StatusBadRequest)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/plain; charset=utf-8")
	h.Set("ETag", `"v1"`)
	h.Set("Last-Modified", "Mon, 02 Jan 2006 15:04:05 GMT")
	h.Set("Cache-Control", "private, max-age=60")
	h.Set("Link", `<https://api.example.com/items?page=2>; rel="next"`)
	h.Set("X-RateLimit-Remaining", "4999")
	h.Set("RateLimit-Limit", "5000")
	h.Set("Retry-After", "30")
	h.Set("Set-Cookie", "provider_session=secret; Path=/")
	h.Set("X-Provider-Internal", "secret")
	w.WriteHeader(status)
	if status != http.StatusNoContent && status != http.StatusNotModified {
		_, _ = w.Write([]byte("status " + code))
	}
}

// ForgetAccessTokens invalidates every OAuth 2 access token issued so far
// while their refresh tokens stay valid, as a provider does when it
// shortens token lifetimes: the next API call with one draws a 401.
func (p *Provider) ForgetAccessTokens() {
	p.store.mu.Lock()
	defer p.store.mu.Unlock()
	clear(p.store.access)
}
