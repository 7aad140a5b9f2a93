package httpserver_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/dancecard/dancecard/internal/oauth/oauthtest"
)

// profileSections are the profile's pages with a form or text only each
// one shows.
var profileSections = []struct {
	path, tab string
	has       []string
}{
	{"/profile", "Connections", []string{`id="connections"`, `id="link-another"`, `action="/auth/hub/connect"`, "/static/profile.js"}},
	{"/profile/security", "Security", []string{`action="/profile/password"`, `id="mfa-title"`, `id="sessions-title"`, `action="/profile/sessions/delete"`}},
	{"/profile/tokens", "API tokens", []string{`action="/profile/tokens"`, `id="tokens-title"`, `name="expires_in_days"`}},
	{"/profile/account", "Account", []string{`action="/profile/email"`, `action="/profile/name"`, `href="/profile/export"`, `action="/profile/delete"`}},
}

// TestProfileSectionsRender: each section is a page of its own with the
// section navigation, the current section marked, and only its content.
func TestProfileSectionsRender(t *testing.T) {
	hub := oauthtest.NewServer(t)
	ts := newTestServer(t, withProviders(fakeOAuth2(hub, "hub")))
	b := ts.browser(t)
	b.signUp("sections@example.com", goodPassword)
	current := regexp.MustCompile(`<a class="profile-tab current" href="([^"]+)" aria-current="page">([^<]+)</a>`)
	for _, sec := range profileSections {
		r := b.get(sec.path)
		if r.Status != http.StatusOK {
			t.Fatalf("GET %s: %d", sec.path, r.Status)
		}
		if !strings.Contains(r.Body, `<nav class="profile-nav" aria-label="Profile sections">`) {
			t.Errorf("%s has no section navigation", sec.path)
		}
		for _, other := range profileSections {
			if !strings.Contains(r.Body, `href="`+other.path+`"`) {
				t.Errorf("%s: the navigation lacks %s", sec.path, other.path)
			}
			if other.path == sec.path {
				continue
			}
			for _, s := range other.has {
				if strings.Contains(r.Body, s) {
					t.Errorf("%s shows %s, which belongs on %s", sec.path, s, other.path)
				}
			}
		}
		if m := current.FindAllStringSubmatch(r.Body, -1); len(m) != 1 || m[0][1] != sec.path || m[0][2] != sec.tab {
			t.Errorf("%s: current tab %v, want %s", sec.path, m, sec.tab)
		}
		if !strings.Contains(r.Body, "<h1>"+sec.tab+"</h1>") || !strings.Contains(r.Body, "<title>"+sec.tab+" · Your profile") {
			t.Errorf("%s: heading or title is not %q", sec.path, sec.tab)
		}
		for _, s := range sec.has {
			if !strings.Contains(r.Body, s) {
				t.Errorf("%s lacks %s", sec.path, s)
			}
		}
	}
	// Connections come first: signing up lands there.
	if r := b.get("/profile"); !strings.Contains(r.Body, "No linked accounts yet.") {
		t.Error("a new account's profile does not open on its connections")
	}
	// Anonymous visitors are sent to log in, from every section.
	for _, sec := range profileSections {
		if r := ts.browser(t).get(sec.path); r.Status != http.StatusSeeOther || !strings.HasPrefix(r.Location, "/login") {
			t.Errorf("anonymous GET %s: %d %q", sec.path, r.Status, r.Location)
		}
	}
}

// TestProfileFormsLandOnTheirSection: every form of the old one-page
// profile redirects to the section that holds it, and one it refuses is
// shown again on that section's page.
func TestProfileFormsLandOnTheirSection(t *testing.T) {
	hub := oauthtest.NewServer(t)
	ts := newTestServer(t, withProviders(fakeOAuth2(hub, "hub")))
	b := ts.browser(t)
	b.signUp("lands@example.com", goodPassword)
	other := ts.browser(t)
	other.logIn("lands@example.com", goodPassword)
	if r := b.dance(hub, "/auth/hub/connect", nil); r.Location != "/profile" {
		t.Fatalf("connect lands on %q", r.Location)
	}
	tok := b.newToken("cli", "read")
	yes := func(v url.Values) url.Values { v.Set("confirm", "yes"); return v }
	for _, tc := range []struct {
		name, path string
		form       url.Values
		want       string // Location of the 303
	}{
		{"end session", "/profile/sessions/" + idOf(t, ts, `SELECT max(id) FROM sessions`) + "/delete", yes(url.Values{}), "/profile/security#sessions"},
		{"end other sessions", "/profile/sessions/delete", yes(url.Values{"scope": {"others"}}), "/profile/security#sessions"},
		{"password", "/profile/password", url.Values{"current_password": {goodPassword},
			"new_password": {goodPassword + "!"}, "new_password_confirm": {goodPassword + "!"}}, "/profile/security"},
		{"token", "/profile/tokens", url.Values{"name": {"ci"}, "scope": {"read"}, "expires_in_days": {"30"}}, "/profile/tokens#new-token"},
		{"revoke token", "/profile/tokens/" + idOf(t, ts, `SELECT id FROM api_tokens WHERE name = 'cli'`) + "/delete", yes(url.Values{}), "/profile/tokens"},
		{"email", "/profile/email", url.Values{"email": {"moved@example.com"}}, "/profile/account"},
		{"resend", "/profile/email/resend", nil, "/profile/account"},
		{"name", "/profile/name", url.Values{"name": {"Ada Lovelace"}}, "/profile/account#display-name"},
		{"authenticator off", "/profile/mfa/totp/delete", yes(url.Values{}), "/profile/security#mfa"},
		{"recovery codes", "/profile/mfa/recovery-codes", yes(url.Values{}), "/profile/security#mfa"},
		{"disconnect", "/connections/" + idOf(t, ts, `SELECT id FROM connections`) + "/delete", yes(url.Values{}), "/profile"},
		{"passkey", "", nil, ""},
		{"rename passkey", "/profile/passkeys/N/rename", url.Values{"name": {"Blue key"}}, "/profile/security#passkeys"},
		{"remove passkey", "/profile/passkeys/N/delete", yes(url.Values{}), "/profile/security#passkeys"},
	} {
		if tc.name == "passkey" {
			ts.DB.Exec(t.Context(), `INSERT INTO passkeys (user_id, credential_id, public_key, name) SELECT id, '\x01', '\x02', 'Key' FROM users`)
			continue
		}
		if tc.form == nil {
			tc.form = url.Values{}
		}
		path := strings.Replace(tc.path, "/N/", "/"+idOf(t, ts, `SELECT coalesce(max(id), 0) FROM passkeys`)+"/", 1)
		r := b.post(path, tc.form)
		if r.Status != http.StatusSeeOther || r.Location != tc.want {
			t.Errorf("%s: %d %q, want a 303 to %s\n%.300s", tc.name, r.Status, r.Location, tc.want, r.Body)
		}
	}
	if r := b.get("/profile/tokens"); !strings.Contains(r.Body, "“ci” created") {
		t.Error("the tokens page the form redirected to does not show the token")
	}
	if tok.Token == "" {
		t.Fatal("no token")
	}
	// The new token waits for the tokens page: another section's view
	// neither shows it nor uses it up.
	b.post("/profile/tokens", url.Values{"name": {"laptop"}, "scope": {"read"}, "expires_in_days": {"30"}})
	for _, path := range []string{"/profile", "/profile/security", "/profile/account"} {
		if strings.Contains(b.get(path).Body, `id="new-token"`) {
			t.Errorf("%s shows the new token", path)
		}
	}
	if r := b.get("/profile/tokens"); !strings.Contains(r.Body, `id="new-token"`) || !strings.Contains(r.Body, "“laptop” created") {
		t.Error("the tokens page does not show the token just created")
	}
	if strings.Contains(b.get("/profile/tokens").Body, `id="new-token"`) {
		t.Error("the new token is shown twice")
	}
	// The name saved shows on the account page.
	if r := b.get("/profile/account"); !strings.Contains(r.Body, `value="Ada Lovelace"`) {
		t.Error("the account page does not show the name saved")
	}
	// Refused forms come back on their own section, with the error.
	for _, tc := range []struct {
		path string
		form url.Values
		tab  string
	}{
		{"/profile/password", url.Values{"current_password": {"wrong"}, "new_password": {"x"}, "new_password_confirm": {"y"}}, "Security"},
		{"/profile/tokens", url.Values{"name": {""}, "scope": {"read"}, "expires_in_days": {"30"}}, "API tokens"},
		{"/profile/email", url.Values{"email": {"not an address"}}, "Account"},
		{"/profile/name", url.Values{"name": {"line\nbreak"}}, "Account"},
		{"/profile/delete", url.Values{"confirm_email": {"nobody@example.com"}}, "Account"},
	} {
		r := b.post(tc.path, tc.form)
		if r.Status != http.StatusUnprocessableEntity || !strings.Contains(r.Body, `aria-current="page">`+tc.tab+`</a>`) ||
			!strings.Contains(r.Body, "field-error") {
			t.Errorf("refused %s: %d, want 422 on the %s page\n%.300s", tc.path, r.Status, tc.tab, r.Body)
		}
	}
}

// TestOldProfileAddressesStillLand: the addresses of the one-page profile
// still land somewhere sensible. Fragments never reach the server: each
// lands on /profile, whose script sends it on to its section (see
// TestBrowserProfileSections); the script names each of them.
func TestOldProfileAddressesStillLand(t *testing.T) {
	ts := newTestServer(t)
	b := ts.browser(t)
	b.signUp("old@example.com", goodPassword)
	ts.DB.Exec(t.Context(), `INSERT INTO passkeys (user_id, credential_id, public_key, name) SELECT id, '\x01', '\x02', 'Key' FROM users`)
	if r := b.get("/profile"); r.Status != http.StatusOK || !strings.Contains(r.Body, "/static/profile.js") {
		t.Fatalf("/profile: %d, or without its script", r.Status)
	}
	js := b.get("/static/profile.js")
	for frag, to := range map[string]string{"#account": "/profile/account", "#your-data": "/profile/account#your-data",
		"#passkeys": "/profile/security#passkeys", "#mfa": "/profile/security#mfa", "#sessions": "/profile/security#sessions",
		"#password": "/profile/security#password", "#tokens": "/profile/tokens", "#new-token": "/profile/tokens"} {
		if !strings.Contains(js.Body, `"`+frag+`": "`+to+`"`) {
			t.Errorf("profile.js does not send %s to %s", frag, to)
		}
		// ...and the section has what the fragment named.
		path, id, _ := strings.Cut(to, "#")
		if id != "" && !strings.Contains(b.get(path).Body, `id="`+id+`"`) {
			t.Errorf("%s has no #%s", path, id)
		}
	}
	// The proxy's reconnect_url (/profile#connections) is on the page.
	if !strings.Contains(b.get("/profile").Body, `id="connections"`) {
		t.Error("/profile has no #connections")
	}
}

// proxyUser is the provider account the proxy uses when the call names
// none, by the fake's id for it.
func proxyUser(t *testing.T, b *browser, provider string) string {
	t.Helper()
	r := b.api(apiCall{method: "GET", path: "/api/v1/providers/" + provider + "/api/whoami"})
	var e oauthtest.Echo
	if r.Status != http.StatusOK || json.Unmarshal([]byte(r.Body), &e) != nil {
		t.Fatalf("proxy: %d %.300s", r.Status, r.Body)
	}
	return e.User
}
