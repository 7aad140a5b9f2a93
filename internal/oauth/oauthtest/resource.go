package oauthtest

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
)

// caller is who a resource request comes from.
type caller struct {
	grant  *grant
	scheme string // "Bearer" or "OAuth"
}

// authenticate accepts an OAuth 2 bearer token or an OAuth 1 signed request.
func (p *Provider) authenticate(r *http.Request, cfg config) (caller, bool) {
	h := r.Header.Get("Authorization")
	if tok, ok := strings.CutPrefix(h, "Bearer "); ok {
		g := p.store.lookupAccess(strings.TrimSpace(tok), p.now())
		return caller{grant: g, scheme: "Bearer"}, g != nil
	}
	if len(h) >= 6 && strings.EqualFold(h[:6], "OAuth ") {
		var g *grant
		params, problem := p.verifySignature(r, cfg, func(tok string) (string, bool) {
			a, ok := p.store.lookupAccess1(tok)
			g = a.grant
			return a.secret, ok
		})
		if problem != "" || params["oauth_token"] == "" {
			return caller{}, false
		}
		return caller{grant: g, scheme: "OAuth"}, true
	}
	return caller{}, false
}

func unauthorized(w http.ResponseWriter) {
	w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token"`)
	writeJSON(w, http.StatusUnauthorized, map[string]string{"error": "invalid_token"})
}

// serveUserinfo answers the profile of the token's user: OpenID Connect
// claims for an openid grant, else a GitHub-like document, or the user's
// own Userinfo bytes when set.
func (p *Provider) serveUserinfo(w http.ResponseWriter, r *http.Request, cfg config) {
	p.counters.userinfo.Add(1)
	k := cfg.knobs
	if !delay(r, k.UserinfoDelay) {
		return
	}
	if k.UserinfoStatus != 0 {
		http.Error(w, "oauthtest: the profile service is down", k.UserinfoStatus)
		return
	}
	c, ok := p.authenticate(r, cfg)
	if !ok {
		unauthorized(w)
		return
	}
	u := c.grant.user
	switch {
	case k.UserinfoGarbage:
		w.Header().Set("Content-Type", "text/html")
		_, _ = w.Write([]byte("<html><body>Sign in again</body></html>"))
		return
	case u.Userinfo != nil && !k.UserinfoMissingID:
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(u.Userinfo)
		return
	}
	var doc map[string]any
	if c.grant.openid {
		doc = userClaims(cfg, u)
		if k.UserinfoSub != "" {
			doc["sub"] = k.UserinfoSub
		}
	} else {
		doc = map[string]any{"id": jsonID(u.ID), "login": u.Login, "name": u.Name, "email": u.Email,
			"email_verified": u.EmailVerified, "avatar_url": avatarURL(cfg, u), "html_url": u.ProfileURL}
	}
	if k.UserinfoMissingID {
		delete(doc, "id")
		delete(doc, "sub")
	}
	writeJSON(w, http.StatusOK, doc)
}

// jsonID makes numeric ids JSON numbers, as GitHub's are, so clients are
// tested on keeping their digits.
func jsonID(id string) any {
	if _, err := strconv.ParseUint(id, 10, 64); err == nil {
		return json.Number(id)
	}
	return id
}

// serveRevoke is the RFC 7009 revocation endpoint: it answers 200 whether
// or not the token was known, as the RFC says.
func (p *Provider) serveRevoke(w http.ResponseWriter, r *http.Request, cfg config) {
	p.counters.revocations.Add(1)
	if r.Method != http.MethodPost {
		http.Error(w, "POST only", http.StatusMethodNotAllowed)
		return
	}
	if err := r.ParseForm(); err != nil {
		oauthError(w, http.StatusBadRequest, "invalid_request", "unreadable form")
		return
	}
	if cfg.knobs.RevokeStatus != 0 {
		http.Error(w, "oauthtest: revocation is down", cfg.knobs.RevokeStatus)
		return
	}
	if !clientAuthenticated(r, cfg) {
		oauthError(w, http.StatusUnauthorized, "invalid_client", "client authentication failed")
		return
	}
	p.store.revoke(r.PostForm.Get("token"))
	w.WriteHeader(http.StatusOK)
}
