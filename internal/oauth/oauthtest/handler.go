package oauthtest

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// The engine's paths, below its base URL.
const (
	pathAuthorize2   = "/oauth2/authorize"
	pathToken        = "/oauth2/token"
	pathRevoke       = "/oauth2/revoke"
	pathJWKS         = "/oauth2/jwks"
	pathDiscovery    = "/.well-known/openid-configuration"
	pathUserinfo     = "/userinfo"
	pathRequestToken = "/oauth1/request_token"
	pathAuthorize1   = "/oauth1/authorize"
	pathAccessToken  = "/oauth1/access_token"
	pathAPI          = "/api/"
	pathAvatars      = "/avatars/"
)

// ServeHTTP routes to the endpoints. Paths are matched below the base URL's
// path, so the engine works mounted under a prefix with or without
// http.StripPrefix.
func (p *Provider) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	cfg := p.config()
	path := r.URL.Path
	if prefix := cfg.base.Path; prefix != "" && strings.HasPrefix(path, prefix+"/") {
		path = strings.TrimPrefix(path, prefix)
	}
	switch {
	case path == pathAuthorize2:
		p.serveAuthorize(w, r, p.authorize2)
	case path == pathAuthorize1:
		p.serveAuthorize(w, r, p.authorize1)
	case path == pathToken:
		p.serveToken(w, r, cfg)
	case path == pathRevoke:
		p.serveRevoke(w, r, cfg)
	case path == pathDiscovery:
		p.serveDiscovery(w, cfg)
	case path == pathJWKS:
		p.serveJWKS(w)
	case path == pathUserinfo:
		p.serveUserinfo(w, r, cfg)
	case path == pathRequestToken:
		p.serveRequestToken(w, r, cfg)
	case path == pathAccessToken:
		p.serveAccessToken(w, r, cfg)
	case strings.HasPrefix(path, pathAPI):
		p.serveAPI(w, r, cfg, strings.TrimPrefix(path, pathAPI[:len(pathAPI)-1]))
	case strings.HasPrefix(path, pathAvatars):
		serveAvatar(w, strings.TrimPrefix(path, pathAvatars))
	default:
		http.NotFound(w, r)
	}
}

// Callback is where the provider sends the browser after an authorization
// request.
type Callback struct {
	// URL is the redirect URI with the response parameters in its query.
	// For form_post the parameters are added to the query too, so a test
	// can read them in one place.
	URL *url.URL
	// Method is GET, or POST for response_mode=form_post.
	Method string
	// Form holds the POSTed fields for form_post.
	Form url.Values
}

// authorizer handles one protocol's authorization request: it returns the
// callback, or nil when it has written a response itself (an error page, or
// the hook's consent page).
type authorizer func(w http.ResponseWriter, r *http.Request) *Callback

func (p *Provider) serveAuthorize(w http.ResponseWriter, r *http.Request, auth authorizer) {
	p.counters.authorizations.Add(1)
	cb := auth(w, r)
	if cb == nil {
		return
	}
	if cb.Method == http.MethodPost {
		writeFormPost(w, cb)
		return
	}
	http.Redirect(w, r, cb.URL.String(), http.StatusFound)
}

// decide asks the hook, if any, else consents as the configured user (or
// denies, when the Deny knob says so).
func (p *Provider) decide(w http.ResponseWriter, r *http.Request, cfg config, req AuthRequest) Decision {
	if cfg.knobs.Deny {
		return Decision{Deny: true}
	}
	if cfg.authorize != nil {
		return cfg.authorize(w, r, req)
	}
	return Decision{User: cfg.user}
}

// callbackTo builds the callback to redirect (or form-post) to.
func callbackTo(redirect *url.URL, formPost bool, params url.Values) *Callback {
	u := *redirect
	q := u.Query()
	for k, vs := range params {
		q[k] = vs
	}
	u.RawQuery = q.Encode()
	if formPost {
		return &Callback{URL: &u, Method: http.MethodPost, Form: params}
	}
	return &Callback{URL: &u, Method: http.MethodGet}
}

func writeFormPost(w http.ResponseWriter, cb *Callback) {
	action := *cb.URL
	action.RawQuery = ""
	var b strings.Builder
	fmt.Fprintf(&b, `<!doctype html><title>Continue</title><body onload="document.forms[0].submit()">`+
		`<form method="post" action="%s">`, htmlEscape(action.String()))
	for k, vs := range cb.Form {
		for _, v := range vs {
			fmt.Fprintf(&b, `<input type="hidden" name="%s" value="%s">`, htmlEscape(k), htmlEscape(v))
		}
	}
	b.WriteString(`<noscript><button>Continue</button></noscript></form>`)
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	_, _ = w.Write([]byte(b.String()))
}

func htmlEscape(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&quot;", "'", "&#39;").Replace(s)
}

// delay waits d, or until the client gives up; it reports whether to go on.
func delay(r *http.Request, d time.Duration) bool {
	if d <= 0 {
		return true
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-r.Context().Done():
		return false
	}
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// oauthError writes an RFC 6749 error response.
func oauthError(w http.ResponseWriter, status int, code, description string) {
	if status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Basic realm="oauthtest"`)
	}
	writeJSON(w, status, map[string]string{"error": code, "error_description": description})
}

func randomString() string {
	b := make([]byte, 24)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// serveAvatar draws a placeholder avatar so dev pages have an image.
func serveAvatar(w http.ResponseWriter, name string) {
	letter := "?"
	if name != "" {
		letter = strings.ToUpper(name[:1])
	}
	w.Header().Set("Content-Type", "image/svg+xml")
	w.Header().Set("Cache-Control", "public, max-age=3600")
	fmt.Fprintf(w, `<svg xmlns="http://www.w3.org/2000/svg" width="64" height="64"><rect width="64" height="64" fill="#6a5acd"/>`+
		`<text x="32" y="42" font-size="32" text-anchor="middle" fill="#fff" font-family="sans-serif">%s</text></svg>`, htmlEscape(letter))
}
