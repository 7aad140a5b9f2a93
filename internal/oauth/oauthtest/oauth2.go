package oauthtest

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

// authorize2 handles an OAuth 2 / OpenID Connect authorization request.
// Problems with the client or the redirect URI get an error page, never a
// redirect (RFC 6749 4.1.2.1); everything else answers at the redirect URI.
func (p *Provider) authorize2(w http.ResponseWriter, r *http.Request) *Callback {
	cfg := p.config()
	q := r.URL.Query()
	if q.Get("client_id") != cfg.clientID {
		http.Error(w, "oauthtest: unknown client_id", http.StatusBadRequest)
		return nil
	}
	redirect, err := url.Parse(q.Get("redirect_uri"))
	if err != nil || (redirect.Scheme != "http" && redirect.Scheme != "https") || redirect.Host == "" || redirect.Fragment != "" {
		http.Error(w, "oauthtest: redirect_uri must be an absolute http(s) URL", http.StatusBadRequest)
		return nil
	}
	formPost := q.Get("response_mode") == "form_post"
	reply := func(params url.Values) *Callback {
		if s := q.Get("state"); s != "" {
			params.Set("state", s)
		}
		if cfg.knobs.IssuerParam {
			params.Set("iss", cfg.base.String())
		}
		return callbackTo(redirect, formPost, params)
	}
	fail := func(code, description string) *Callback {
		return reply(url.Values{"error": {code}, "error_description": {description}})
	}
	challenge, method := q.Get("code_challenge"), q.Get("code_challenge_method")
	switch {
	case q.Get("response_type") != "code":
		return fail("unsupported_response_type", "only the authorization code flow is supported")
	case challenge != "" && method != "S256":
		return fail("invalid_request", "code_challenge_method must be S256")
	case challenge == "" && cfg.knobs.RequirePKCE:
		return fail("invalid_request", "PKCE is required")
	}
	scopes := splitScopes(q.Get("scope"))
	d := p.decide(w, r, cfg, AuthRequest{Protocol: "oauth2", ClientID: cfg.clientID,
		RedirectURI: redirect.String(), Scopes: scopes, State: q.Get("state")})
	switch {
	case d.Handled:
		return nil
	case d.Deny:
		return fail("access_denied", "The user denied the request.")
	}
	g := &grant{user: d.User, clientID: cfg.clientID, scopes: scopes, openid: slices.Contains(scopes, "openid"),
		nonce: q.Get("nonce"), expiresIn: d.ExpiresIn, failRefresh: d.FailRefresh}
	code := randomString()
	now := p.now()
	p.store.putCode(code, &authCode{grant: g, redirectURI: q.Get("redirect_uri"), challenge: challenge,
		expires: now.Add(10 * time.Minute)}, now)
	return reply(url.Values{"code": {code}})
}

// serveToken is the token endpoint: authorization_code and refresh_token.
func (p *Provider) serveToken(w http.ResponseWriter, r *http.Request, cfg config) {
	if r.Method != http.MethodPost {
		http.Error(w, "POST only", http.StatusMethodNotAllowed)
		return
	}
	if err := r.ParseForm(); err != nil {
		oauthError(w, http.StatusBadRequest, "invalid_request", "unreadable form")
		return
	}
	grantType := r.PostForm.Get("grant_type")
	switch grantType {
	case "authorization_code":
		p.counters.tokenExchanges.Add(1)
	case "refresh_token":
		p.counters.refreshes.Add(1)
	}
	if !tokenKnobs(w, r, cfg.knobs, false) {
		return
	}
	if !clientAuthenticated(r, cfg) {
		oauthError(w, http.StatusUnauthorized, "invalid_client", "client authentication failed")
		return
	}
	switch grantType {
	case "authorization_code":
		p.exchangeCode(w, r, cfg)
	case "refresh_token":
		p.exchangeRefresh(w, r, cfg)
	default:
		oauthError(w, http.StatusBadRequest, "unsupported_grant_type", "")
	}
}

// tokenKnobs applies the token endpoint failure knobs; it reports whether
// the request should be served normally. oauth1 shapes errors as OAuth 1
// problems.
func tokenKnobs(w http.ResponseWriter, r *http.Request, k Knobs, oauth1 bool) bool {
	if !delay(r, k.TokenDelay) {
		return false
	}
	switch {
	case k.TokenStatus != 0:
		http.Error(w, "oauthtest: the provider is having a bad day", k.TokenStatus)
	case k.TokenMalformed && oauth1:
		w.Header().Set("Content-Type", "text/html")
		_, _ = w.Write([]byte("<html><body>Welcome!</body></html>"))
	case k.TokenMalformed:
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"access_token": "tok`))
	case k.TokenError != "" && oauth1:
		writeForm(w, http.StatusUnauthorized, url.Values{"oauth_problem": {k.TokenError}})
	case k.TokenError != "":
		oauthError(w, http.StatusBadRequest, k.TokenError, "the knob says so")
	default:
		return true
	}
	return false
}

// clientAuthenticated checks client_secret_basic or client_secret_post, and
// refuses a request that uses both (RFC 6749 2.3).
func clientAuthenticated(r *http.Request, cfg config) bool {
	id, secret, basic := r.BasicAuth()
	formID, formSecret := r.PostForm.Get("client_id"), r.PostForm.Get("client_secret")
	switch {
	case basic && (formSecret != "" || cfg.clientAuth == ClientAuthPost):
		return false
	case basic:
		// RFC 6749 2.3.1: the credentials are form-encoded before Basic.
		id, _ = url.QueryUnescape(id)
		secret, _ = url.QueryUnescape(secret)
		return (formID == "" || formID == id) && same(id, cfg.clientID) && same(secret, cfg.secret)
	case cfg.clientAuth == ClientAuthBasic:
		return false
	default:
		return same(formID, cfg.clientID) && same(formSecret, cfg.secret)
	}
}

func same(a, b string) bool { return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1 }

func (p *Provider) exchangeCode(w http.ResponseWriter, r *http.Request, cfg config) {
	c := p.store.takeCode(r.PostForm.Get("code"), p.now())
	verifier := r.PostForm.Get("code_verifier")
	switch {
	case c == nil || c.grant.clientID != cfg.clientID:
		oauthError(w, http.StatusBadRequest, "invalid_grant", "unknown, used or expired code")
	case r.PostForm.Get("redirect_uri") != c.redirectURI:
		oauthError(w, http.StatusBadRequest, "invalid_grant", "redirect_uri does not match")
	case c.challenge != "" && !same(s256(verifier), c.challenge):
		oauthError(w, http.StatusBadRequest, "invalid_grant", "PKCE verification failed")
	case c.challenge == "" && verifier != "":
		oauthError(w, http.StatusBadRequest, "invalid_grant", "code_verifier without a code_challenge")
	default:
		p.issue(w, cfg, c.grant, "")
	}
}

func s256(verifier string) string {
	sum := sha256.Sum256([]byte(verifier))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

func (p *Provider) exchangeRefresh(w http.ResponseWriter, r *http.Request, cfg config) {
	if !delay(r, cfg.knobs.RefreshDelay) {
		return
	}
	old := r.PostForm.Get("refresh_token")
	g := p.store.lookupRefresh(old, p.now())
	switch {
	case g == nil || g.clientID != cfg.clientID:
		oauthError(w, http.StatusBadRequest, "invalid_grant", "unknown or revoked refresh token")
	case cfg.knobs.RefreshError != "":
		oauthError(w, http.StatusBadRequest, cfg.knobs.RefreshError, "the knob says so")
	case g.failRefresh:
		oauthError(w, http.StatusBadRequest, "invalid_grant", "this grant cannot be refreshed")
	case cfg.knobs.RotateRefresh:
		p.store.dropRefresh(old)
		p.issue(w, cfg, g, "")
	default:
		p.issue(w, cfg, g, old)
	}
}

// issue answers a token request with new tokens for g. keepRefresh is the
// refresh token being reused (not rotated): it stays valid, and is either
// repeated in the response or, with OmitRefreshToken, left out.
func (p *Provider) issue(w http.ResponseWriter, cfg config, g *grant, keepRefresh string) {
	k := cfg.knobs
	now := p.now()
	lifetime := g.expiresIn
	if lifetime == 0 {
		lifetime = k.ExpiresIn
	}
	if lifetime == 0 {
		lifetime = time.Hour
	}
	access, refresh := randomString(), randomString()
	if keepRefresh != "" {
		refresh = ""
	}
	var expires time.Time
	if lifetime > 0 {
		expires = now.Add(lifetime)
	}
	p.store.putTokens(access, refresh, g, expires, now)

	resp := url.Values{"access_token": {access}}
	switch {
	case k.OmitTokenType:
	case k.TokenType != "":
		resp.Set("token_type", k.TokenType)
	default:
		resp.Set("token_type", "bearer")
	}
	if lifetime > 0 {
		resp.Set("expires_in", strconv.FormatInt(int64(lifetime/time.Second), 10))
	}
	switch {
	case refresh != "":
		resp.Set("refresh_token", refresh)
	case !k.OmitRefreshToken:
		resp.Set("refresh_token", keepRefresh)
	}
	if !k.OmitScope {
		granted := g.scopes
		if k.GrantedScopes != nil {
			granted = k.GrantedScopes
		}
		sep := k.ScopeSep
		if sep == "" {
			sep = " "
		}
		resp.Set("scope", strings.Join(granted, sep))
	}
	if g.openid {
		resp.Set("id_token", p.idToken(cfg, g, access, lifetime))
	}
	if k.FormEncoded {
		writeForm(w, http.StatusOK, resp)
		return
	}
	body := map[string]any{}
	for key := range resp {
		body[key] = resp.Get(key)
	}
	if lifetime > 0 {
		body["expires_in"] = int64(lifetime / time.Second)
	}
	writeJSON(w, http.StatusOK, body)
}

func writeForm(w http.ResponseWriter, status int, v url.Values) {
	w.Header().Set("Content-Type", "application/x-www-form-urlencoded")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write([]byte(v.Encode()))
}

// splitScopes accepts space- and comma-separated scope lists.
func splitScopes(s string) []string {
	return strings.FieldsFunc(s, func(r rune) bool { return r == ' ' || r == ',' })
}
