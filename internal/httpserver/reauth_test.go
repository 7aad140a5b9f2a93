package httpserver_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/dancecard/dancecard/internal/oauth/oauthtest"
)

// ageSessions makes every session's last proof of identity an hour old.
func (ts *testServer) ageSessions(t *testing.T) {
	t.Helper()
	if _, err := ts.DB.Exec(t.Context(), `UPDATE sessions SET authenticated_at = now() - interval '1 hour'`); err != nil {
		t.Fatal(err)
	}
}

func TestSensitiveActionsNeedRecentAuthentication(t *testing.T) {
	hub := oauthtest.NewServer(t)
	ts := newTestServer(t, withProviders(fakeOAuth2(hub, "hub")))
	b := ts.browser(t)
	b.signUp("hal@example.com", goodPassword)
	b.dance(hub, "/auth/hub/connect", nil)
	var connID, userID string
	ts.DB.QueryRow(t.Context(), `SELECT id::text, user_id::text FROM connections`).Scan(&connID, &userID)
	ts.DB.Exec(t.Context(), `UPDATE users SET is_admin = true`)
	ts.browser(t).signUp("other@example.com", goodPassword)
	var otherID string
	ts.DB.QueryRow(t.Context(), `SELECT id::text FROM users WHERE email = 'other@example.com'`).Scan(&otherID)
	ts.ageSessions(t)

	actions := []struct {
		path  string
		form  url.Values
		check string // counts rows that the action would change; must stay as it was
	}{
		{"/profile/password", url.Values{"current_password": {goodPassword}, "new_password": {"changed passphrase x"}, "new_password_confirm": {"changed passphrase x"}},
			`SELECT count(*) FROM events WHERE kind = 'password_changed'`},
		{"/profile/email", url.Values{"email": {"hal2@example.com"}}, `SELECT count(*) FROM mail_links WHERE purpose = 'email_change'`},
		{"/profile/tokens", url.Values{"name": {"x"}, "scope": {"read"}, "expires_in_days": {"0"}}, `SELECT count(*) FROM api_tokens`},
		{"/profile/delete", url.Values{"confirm_email": {"hal@example.com"}}, `SELECT count(*) FROM users`},
		{"/auth/hub/connect", nil, `SELECT count(*) FROM dances`},
		{"/connections/" + connID + "/delete", nil, `SELECT count(*) FROM connections`},
		{"/admin/users/" + otherID + "/disable", nil, `SELECT count(*) FROM users WHERE disabled_at IS NOT NULL`},
		{"/admin/users/" + otherID + "/admin", url.Values{"admin": {"true"}}, `SELECT count(*) FROM users WHERE is_admin`},
	}
	for _, a := range actions {
		before := ts.count(t, a.check)
		form := cloneValues(a.form)
		req, _ := http.NewRequest(http.MethodPost, ts.URL+a.path, strings.NewReader(func() string {
			form.Set("csrf_token", b.csrf())
			return form.Encode()
		}()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Referer", ts.URL+"/profile?tab=security")
		r := b.do(req)
		if r.Status != http.StatusSeeOther || r.Location != "/reauth?next=%2Fprofile%3Ftab%3Dsecurity" {
			t.Errorf("%s: %d %q, want a redirect to /reauth", a.path, r.Status, r.Location)
		}
		if after := ts.count(t, a.check); after != before {
			t.Errorf("%s was performed without re-authentication (%d -> %d)", a.path, before, after)
		}
	}
	// JSON calls with the session get a problem document.
	for _, c := range []apiCall{
		{method: "POST", path: "/api/v1/tokens", body: `{"name":"x","scope":"read"}`, csrf: true},
		{method: "DELETE", path: "/api/v1/connections/" + connID, csrf: true},
	} {
		r := b.api(c)
		if r.Status != http.StatusForbidden || !strings.Contains(r.Body, `"code":"recent_auth_required"`) {
			t.Errorf("%s %s: %d %s", c.method, c.path, r.Status, r.Body)
		}
	}
	// Reading is not sensitive.
	if r := b.get("/profile"); r.Status != http.StatusOK {
		t.Fatalf("profile: %d", r.Status)
	}

	// The re-authentication page takes the password and returns to next.
	page := b.get("/reauth?next=%2Fprofile%3Ftab%3Dsecurity")
	if page.Status != http.StatusOK || !strings.Contains(page.Body, `action="/auth/hub/reauth"`) {
		t.Fatalf("reauth page: %d\n%.800s", page.Status, page.Body)
	}
	if r := b.post("/reauth", url.Values{"password": {"wrong password!"}, "next": {"/profile"}}); r.Status != http.StatusUnauthorized {
		t.Fatalf("wrong password: %d", r.Status)
	}
	if r := b.post("/reauth", url.Values{"password": {goodPassword}, "next": {"https://evil.example/"}}); r.Status != http.StatusSeeOther || r.Location != "/profile" {
		t.Fatalf("reauth: %d %q", r.Status, r.Location)
	}
	if r := b.post("/profile/tokens", url.Values{"name": {"x"}, "scope": {"read"}, "expires_in_days": {"0"}}); r.Status != http.StatusSeeOther {
		t.Fatalf("token after reauth: %d", r.Status)
	}
	if n := ts.count(t, `SELECT count(*) FROM events WHERE kind = 'reauthenticated'`); n != 1 {
		t.Fatalf("reauthenticated events = %d", n)
	}
}

func TestReauthWithLinkedProvider(t *testing.T) {
	hub := oauthtest.NewServer(t)
	ts := newTestServer(t, withProviders(fakeOAuth2(hub, "hub")))
	b := ts.browser(t)
	b.signUp("ida@example.com", goodPassword)
	b.dance(hub, "/auth/hub/connect", nil)
	ts.ageSessions(t)
	linked := oauthtest.User{ID: "42", Login: "octo", Name: "Octo Cat", Email: "octo@example.com", EmailVerified: true}

	// Another provider account than the linked one proves nothing.
	hub.SetUser(oauthtest.User{ID: "stranger", Login: "stranger"})
	r := b.dance(hub, "/auth/hub/reauth", url.Values{"next": {"/profile"}})
	if r.Status != http.StatusSeeOther || !strings.HasPrefix(r.Location, "/reauth") {
		t.Fatalf("stranger reauth: %d %q", r.Status, r.Location)
	}
	if n := ts.count(t, `SELECT count(*) FROM sessions WHERE authenticated_at > now() - interval '1 minute'`); n != 0 {
		t.Fatal("a stranger's provider account re-authenticated the session")
	}
	if n := ts.count(t, `SELECT count(*) FROM connections`); n != 1 {
		t.Fatal("reauth linked a new account")
	}
	hub.SetUser(linked)
	r = b.dance(hub, "/auth/hub/reauth", url.Values{"next": {"/profile"}})
	if r.Status != http.StatusSeeOther || r.Location != "/profile" {
		t.Fatalf("reauth: %d %q", r.Status, r.Location)
	}
	if n := ts.count(t, `SELECT count(*) FROM sessions WHERE authenticated_at > now() - interval '1 minute'`); n != 1 {
		t.Fatal("the linked provider did not re-authenticate the session")
	}
}
