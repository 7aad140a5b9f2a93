package devprovider

import (
	"context"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/dancecard/dancecard/internal/i18n"
	"github.com/dancecard/dancecard/internal/oauth/oauthtest"
	"github.com/dancecard/dancecard/web"
)

// The failures the consent page offers.
const (
	failNone    = "none"
	failDeny    = "deny"
	failExpire  = "expire"
	failRefresh = "refresh"
	failRevoke  = "revoke"
)

// shortLife is how long tokens live when the developer asks for expiry.
const shortLife = 10 * time.Second

// presets are the identities one can pick without typing.
var presets = []web.DevIdentity{
	{ID: "1001", Login: "ada", Name: "Ada Lovelace", Email: "ada@dev.test"},
	{ID: "1002", Login: "grace", Name: "Grace Hopper", Email: "grace@dev.test"},
	{ID: "1003", Login: "linus", Name: "Linus Torvalds", Email: "linus@dev.test"},
}

// failures lists what can go wrong; OAuth 1.0a tokens neither expire nor refresh.
func failures(protocol string) []web.DevChoice {
	cs := []web.DevChoice{
		{Value: failNone, Label: i18n.ID("devprovider.fail.none"), Help: i18n.ID("devprovider.fail.none_help")},
		{Value: failDeny, Label: i18n.ID("devprovider.fail.deny"), Help: i18n.ID("devprovider.fail.deny_help")},
	}
	if protocol == "oauth2" {
		cs = append(cs,
			web.DevChoice{Value: failExpire, Label: i18n.ID("devprovider.fail.expire"), Help: i18n.ID("devprovider.fail.expire_help")},
			web.DevChoice{Value: failRefresh, Label: i18n.ID("devprovider.fail.refresh"), Help: i18n.ID("devprovider.fail.refresh_help")})
	}
	return append(cs, web.DevChoice{Value: failRevoke, Label: i18n.ID("devprovider.fail.revoke"),
		Help: i18n.ID("devprovider.fail.revoke_help")})
}

// authorize is the engine's consent hook: GET shows the consent page, POST
// decides with what the developer chose.
func (p *Provider) authorize(w http.ResponseWriter, r *http.Request, req oauthtest.AuthRequest) oauthtest.Decision {
	r = r.WithContext(localized(r))
	v := p.form(r, req)
	if r.Method != http.MethodPost {
		render(w, r, http.StatusOK, v)
		return oauthtest.Decision{Handled: true}
	}
	if err := r.ParseForm(); err != nil {
		http.Error(w, "devprovider: "+err.Error(), http.StatusBadRequest)
		return oauthtest.Decision{Handled: true}
	}
	if r.PostForm.Get("decision") == "deny" {
		return oauthtest.Decision{Deny: true}
	}
	readForm(&v, r)
	user, problem := chosenUser(v)
	if problem == "" && !slices.ContainsFunc(v.Failures, func(c web.DevChoice) bool { return c.Value == v.Failure }) {
		problem = i18n.ID("devprovider.choose_failure")
	}
	if problem != "" {
		v.Error = i18n.T(r.Context(), problem)
		render(w, r, http.StatusUnprocessableEntity, v)
		return oauthtest.Decision{Handled: true}
	}
	d := oauthtest.Decision{User: user}
	if v.Identity == "custom" {
		p.remember(v.Custom)
	}
	p.setRevokeAfter(user.ID, v.Failure == failRevoke)
	switch v.Failure {
	case failDeny:
		return oauthtest.Decision{Deny: true}
	case failExpire:
		d.ExpiresIn = shortLife
	case failRefresh:
		d.ExpiresIn, d.FailRefresh = shortLife, true
	}
	return d
}

// form is the consent page for req with its defaults: the identity the app
// asked for (login_hint, which a reconnect sends), else the first preset;
// email verified; no failure.
func (p *Provider) form(r *http.Request, req oauthtest.AuthRequest) web.DevConsentForm {
	v := web.DevConsentForm{
		Provider: nameOAuth2, Protocol: "OAuth 2", App: "Dancecard", ClientID: req.ClientID, RedirectURI: req.RedirectURI,
		Scopes: req.Scopes, Action: p.basePath + r.URL.Path,
		Identities: presets, Identity: presets[0].ID, EmailVerified: true,
		Failures: failures(req.Protocol), Failure: failNone,
	}
	if req.Protocol == "oauth1" {
		v.Provider, v.Protocol = nameOAuth1, "OAuth 1.0a"
	}
	if r.URL.RawQuery != "" {
		v.Action += "?" + r.URL.RawQuery
	}
	if hint := strings.TrimSpace(r.URL.Query().Get("login_hint")); hint != "" {
		v.Hint = hint
		v.Identity, v.Custom = p.hinted(hint)
	}
	return v
}

// hinted is the identity a login hint names: a preset, or a made-up
// identity that consented before, by id, login or email; otherwise a
// made-up one with the hint as its login, for the developer to complete.
func (p *Provider) hinted(hint string) (string, web.DevIdentity) {
	match := func(id web.DevIdentity) bool {
		return strings.EqualFold(id.ID, hint) || strings.EqualFold(id.Login, hint) || strings.EqualFold(id.Email, hint)
	}
	if i := slices.IndexFunc(presets, match); i >= 0 {
		return presets[i].ID, web.DevIdentity{}
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if id, ok := p.known[strings.ToLower(hint)]; ok {
		return "custom", id
	}
	return "custom", web.DevIdentity{Login: hint}
}

// remember keeps a made-up identity that consented, so a reconnect that
// names it finds it again. It lasts as long as the process.
func (p *Provider) remember(id web.DevIdentity) {
	if id.Login == "" {
		id.Login = id.ID
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.known) > 3000 {
		clear(p.known) // a dev-only memory, bounded all the same
	}
	for _, k := range []string{id.ID, id.Login, id.Email} {
		if k != "" {
			p.known[strings.ToLower(k)] = id
		}
	}
}

// readForm copies the POSTed choices into v, so a refused form shows them again.
func readForm(v *web.DevConsentForm, r *http.Request) {
	f := r.PostForm
	v.Identity = f.Get("identity")
	v.Custom = web.DevIdentity{
		ID: strings.TrimSpace(f.Get("custom_id")), Login: strings.TrimSpace(f.Get("custom_login")),
		Name: strings.TrimSpace(f.Get("custom_name")), Email: strings.TrimSpace(f.Get("custom_email")),
	}
	v.EmailVerified = f.Get("email_verified") != ""
	v.Failure = f.Get("failure")
	if v.Failure == "" {
		v.Failure = failNone
	}
}

// chosenUser is the account that consents, or the message id of what is
// wrong with the choice.
func chosenUser(v web.DevConsentForm) (oauthtest.User, string) {
	var id web.DevIdentity
	switch i := slices.IndexFunc(presets, func(p web.DevIdentity) bool { return p.ID == v.Identity }); {
	case i >= 0:
		id = presets[i]
	case v.Identity == "custom" && v.Custom.ID == "":
		return oauthtest.User{}, i18n.ID("devprovider.needs_id")
	case v.Identity == "custom":
		id = v.Custom
		if id.Login == "" {
			id.Login = id.ID
		}
	default:
		return oauthtest.User{}, i18n.ID("devprovider.choose_identity")
	}
	return oauthtest.User{ID: id.ID, Login: id.Login, Name: id.Name, Email: id.Email,
		EmailVerified: v.EmailVerified}, ""
}

// render writes the consent page.
func render(w http.ResponseWriter, r *http.Request, status int, v web.DevConsentForm) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	page := web.Page{Title: i18n.T(r.Context(), "devprovider.page_title", i18n.Data{"App": v.App, "Provider": v.Provider}), Dev: true}
	_ = web.DevConsent(page, v).Render(r.Context(), w)
}

// localized is r's context with the language the browser asks for: the
// dev provider is a site of its own, so it reads Accept-Language, and the
// language Dancecard's footer form stored in a cookie when it shares the
// host.
func localized(r *http.Request) context.Context {
	var choices []string
	for _, name := range []string{"__Host-dc_lang", "dc_lang"} {
		if ck, err := r.Cookie(name); err == nil {
			choices = append(choices, ck.Value)
		}
	}
	c := i18n.Embedded()
	return i18n.With(r.Context(), c.Localizer(c.Match(r.Header.Get("Accept-Language"), choices...)))
}
