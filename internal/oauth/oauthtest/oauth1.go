package oauthtest

import (
	"net/http"
	"net/url"
	"time"
)

// serveRequestToken issues temporary credentials (RFC 5849 2.1).
func (p *Provider) serveRequestToken(w http.ResponseWriter, r *http.Request, cfg config) {
	p.counters.requestTokens.Add(1)
	if r.Method != http.MethodPost {
		http.Error(w, "POST only", http.StatusMethodNotAllowed)
		return
	}
	if !tokenKnobs(w, r, cfg.knobs, true) {
		return
	}
	params, problem := p.verifySignature(r, cfg, func(string) (string, bool) { return "", false })
	if problem != "" {
		writeForm(w, http.StatusUnauthorized, url.Values{"oauth_problem": {problem}})
		return
	}
	callback := params["oauth_callback"]
	if callback != "oob" {
		if u, err := url.Parse(callback); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			writeForm(w, http.StatusBadRequest, url.Values{"oauth_problem": {"parameter_absent"},
				"oauth_parameters_absent": {"oauth_callback"}})
			return
		}
	}
	token, secret := randomString(), randomString()
	now := p.now()
	p.store.putRequest(token, &requestToken{secret: secret, callback: callback, consumer: params["oauth_consumer_key"],
		expires: now.Add(10 * time.Minute)}, now)
	resp := url.Values{"oauth_token": {token}, "oauth_token_secret": {secret}}
	if !cfg.knobs.NoCallbackConfirmed {
		resp.Set("oauth_callback_confirmed", "true")
	}
	writeForm(w, http.StatusOK, resp)
}

// authorize1 is the resource owner authorization (RFC 5849 2.2): consent
// sends the browser to the callback with oauth_token and oauth_verifier, a
// refusal with denied=<token> (as Twitter does).
func (p *Provider) authorize1(w http.ResponseWriter, r *http.Request) *Callback {
	cfg := p.config()
	token := r.URL.Query().Get("oauth_token")
	rt, ok := p.store.request(token, p.now())
	if !ok || rt.verifier != "" {
		http.Error(w, "oauthtest: unknown, used or expired oauth_token", http.StatusBadRequest)
		return nil
	}
	d := p.decide(w, r, cfg, AuthRequest{Protocol: "oauth1", ClientID: rt.consumer, RedirectURI: rt.callback, State: token})
	if d.Handled {
		return nil
	}
	var params url.Values
	if d.Deny {
		p.store.takeRequest(token)
		params = url.Values{"denied": {token}}
	} else {
		verifier := randomString()
		g := &grant{user: d.User, clientID: rt.consumer, expiresIn: d.ExpiresIn}
		if !p.store.authorizeRequest(token, verifier, g) {
			http.Error(w, "oauthtest: the request token expired", http.StatusBadRequest)
			return nil
		}
		params = url.Values{"oauth_token": {token}, "oauth_verifier": {verifier}}
	}
	if rt.callback == "oob" {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = w.Write([]byte("oauth_verifier=" + params.Get("oauth_verifier") + "\n"))
		return nil
	}
	redirect, _ := url.Parse(rt.callback) // checked when the token was issued
	return callbackTo(redirect, false, params)
}

// serveAccessToken exchanges authorised temporary credentials for token
// credentials (RFC 5849 2.3). Each request token is exchanged once.
func (p *Provider) serveAccessToken(w http.ResponseWriter, r *http.Request, cfg config) {
	p.counters.accessTokens.Add(1)
	if r.Method != http.MethodPost {
		http.Error(w, "POST only", http.StatusMethodNotAllowed)
		return
	}
	if !tokenKnobs(w, r, cfg.knobs, true) {
		return
	}
	now := p.now()
	params, problem := p.verifySignature(r, cfg, func(tok string) (string, bool) {
		rt, ok := p.store.request(tok, now)
		return rt.secret, ok
	})
	if problem != "" {
		writeForm(w, http.StatusUnauthorized, url.Values{"oauth_problem": {problem}})
		return
	}
	rt := p.store.takeRequest(params["oauth_token"])
	switch {
	case rt == nil || rt.grant == nil:
		writeForm(w, http.StatusUnauthorized, url.Values{"oauth_problem": {"token_rejected"}})
		return
	case !same(params["oauth_verifier"], rt.verifier):
		writeForm(w, http.StatusUnauthorized, url.Values{"oauth_problem": {"verifier_invalid"}})
		return
	}
	token, secret := randomString(), randomString()
	p.store.putAccess1(token, access1{secret: secret, grant: rt.grant}, now)
	writeForm(w, http.StatusOK, url.Values{"oauth_token": {token}, "oauth_token_secret": {secret},
		"user_id": {rt.grant.user.ID}, "screen_name": {rt.grant.user.Login}})
}
