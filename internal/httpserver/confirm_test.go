package httpserver_test

import (
	"context"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/dancecard/dancecard/internal/oauth/oauthtest"
	"github.com/dancecard/dancecard/web"
)

// postConfirmed posts a destructive form as its confirmation page, or
// confirm.js's dialog, does: with confirm=yes.
func (b *browser) postConfirmed(path string, form url.Values) response {
	b.t.Helper()
	form = cloneValues(form)
	form.Set("confirm", "yes")
	return b.post(path, form)
}

// askFirst posts a form as confirm.js does before it shows its dialog.
func (b *browser) askFirst(path string, form url.Values) response {
	b.t.Helper()
	form = cloneValues(form)
	form.Set("csrf_token", b.csrf())
	req, _ := http.NewRequest(http.MethodPost, b.ts.URL+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("X-Confirm", "ask")
	return b.do(req)
}

var (
	confirmForm  = regexp.MustCompile(`(?s)data-confirm-page.*?<form[^>]* action="([^"]*)"[^>]*>(.*?)</form>`)
	hiddenInput  = regexp.MustCompile(`<input type="hidden" name="([^"]*)" value="([^"]*)"`)
	cancelLink   = regexp.MustCompile(`<a class="btn btn-secondary" href="([^"]*)">Cancel</a>`)
	markedForms  = regexp.MustCompile(`<form[^>]*>`)
	formAction   = regexp.MustCompile(`\baction="([^"]*)"`)
	confirmTitle = regexp.MustCompile(`<h1 id="confirm-title">([^<]*)</h1>`)
)

// confirmPage is what a confirmation page asks and what its form posts.
type confirmPage struct {
	Text, Action, Cancel string
	Fields               url.Values
}

// wantConfirmPage checks that r is a confirmation page for path that says
// every one of says, and returns it.
func wantConfirmPage(t *testing.T, r response, path string, says ...string) confirmPage {
	t.Helper()
	m := confirmForm.FindStringSubmatch(r.Body)
	if r.Status != http.StatusOK || m == nil || confirmTitle.FindString(r.Body) == "" {
		t.Fatalf("POST %s: %d %q, want a confirmation page:\n%.1500s", path, r.Status, r.Location, r.Body)
	}
	p := confirmPage{Text: html.UnescapeString(r.Body), Action: html.UnescapeString(m[1]), Fields: url.Values{}}
	for _, f := range hiddenInput.FindAllStringSubmatch(m[2], -1) {
		p.Fields.Add(html.UnescapeString(f[1]), html.UnescapeString(f[2]))
	}
	if c := cancelLink.FindStringSubmatch(r.Body); c != nil {
		p.Cancel = html.UnescapeString(c[1])
	}
	if p.Action != path || p.Fields.Get("confirm") != "yes" || p.Fields.Get("csrf_token") == "" || p.Cancel == "" {
		t.Fatalf("POST %s: the confirmation posts to %q with %v, cancel %q", path, p.Action, p.Fields, p.Cancel)
	}
	for _, s := range says {
		if !strings.Contains(p.Text, s) {
			t.Errorf("POST %s: the confirmation does not say %q:\n%s", path, s, between(p.Text, `data-confirm-page`, `</section>`))
		}
	}
	return p
}

func between(s, from, to string) string {
	if i := strings.Index(s, from); i >= 0 {
		s = s[i:]
	}
	if i := strings.Index(s, to); i >= 0 {
		s = s[:i]
	}
	return s
}

// destructive is one action that must ask first.
type destructive struct {
	name  string
	b     *browser
	path  string
	form  url.Values
	says  []string
	check string // a number the action changes
}

// run posts the action without confirmation, as a form and as confirm.js
// asks, and checks that both answer the confirmation page and change
// nothing; then submits that page's own form and checks that it happens.
func (d destructive) run(t *testing.T, ts *testServer) confirmPage {
	t.Helper()
	before := ts.count(t, d.check)
	p := wantConfirmPage(t, d.b.post(d.path, d.form), d.path, d.says...)
	wantConfirmPage(t, d.b.askFirst(d.path, d.form), d.path, d.says...)
	for k, vs := range d.form {
		if got := p.Fields[k]; strings.Join(got, ",") != strings.Join(vs, ",") {
			t.Errorf("%s: the confirmation posts %s=%q, want %q", d.name, k, got, vs)
		}
	}
	// A confirmation needs the CSRF token like any post.
	forged := cloneValues(p.Fields)
	forged.Set("csrf_token", "forged")
	if r := d.b.post(p.Action, forged); r.Status != http.StatusForbidden {
		t.Errorf("%s: a confirmation with a forged CSRF token: %d", d.name, r.Status)
	}
	if after := ts.count(t, d.check); after != before {
		t.Fatalf("%s happened without confirmation: %s went %d -> %d", d.name, d.check, before, after)
	}
	r := d.b.post(p.Action, p.Fields)
	if r.Status != http.StatusSeeOther && r.Status != http.StatusOK {
		t.Fatalf("%s confirmed: %d\n%.800s", d.name, r.Status, r.Body)
	}
	if after := ts.count(t, d.check); after == before {
		t.Fatalf("%s confirmed (%d %q) did not happen: %s stays %d", d.name, r.Status, r.Location, d.check, before)
	}
	return p
}

func idOf(t *testing.T, ts *testServer, sql string, args ...any) string {
	t.Helper()
	var id int64
	if err := ts.DB.QueryRow(t.Context(), sql, args...).Scan(&id); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
	return strconv.FormatInt(id, 10)
}

// TestConfirmationsOfTheProfile: every destructive action on one's own
// account asks first, names what it acts on, changes nothing until
// confirmed, and happens once the confirmation page's form is posted.
func TestConfirmationsOfTheProfile(t *testing.T) {
	hub := oauthtest.NewServer(t)
	ts := newTestServer(t, withProviders(fakeOAuth2(hub, "hub")))
	b := ts.browser(t)
	b.signUp("ada@example.com", goodPassword)
	b.dance(hub, "/auth/hub/connect", nil)
	b.newToken("nightly sync", "read")
	ts.browser(t).logIn("ada@example.com", goodPassword)
	enrolTOTP(t, b)
	if _, err := ts.DB.Exec(t.Context(), `INSERT INTO passkeys (user_id, credential_id, public_key, name)
		SELECT id, '\x01', '\x02', 'Work laptop' FROM users`); err != nil {
		t.Fatal(err)
	}
	mine := `(SELECT id FROM sessions ORDER BY id LIMIT 1)`
	steps := []destructive{
		{"revoke a token", b, "/profile/tokens/" + idOf(t, ts, `SELECT id FROM api_tokens`) + "/delete", nil,
			[]string{"Revoke the API token “nightly sync”?", "It has never been used."}, `SELECT count(*) FROM api_tokens`},
		{"end a session", b, "/profile/sessions/" + idOf(t, ts, `SELECT id FROM sessions WHERE id <> `+mine) + "/delete", nil,
			[]string{"End the session on Go program, last active ", "That browser is logged out at once."},
			`SELECT count(*) FROM sessions`},
		{"remove a passkey", b, "/profile/passkeys/" + idOf(t, ts, `SELECT id FROM passkeys`) + "/delete", nil,
			[]string{"Remove the passkey “Work laptop”?", "delete it there too"}, `SELECT count(*) FROM passkeys`},
		{"make new recovery codes", b, "/profile/mfa/recovery-codes", nil,
			[]string{"Make new recovery codes, voiding your 10 unused codes?", "Your old codes stop working at once."},
			`SELECT coalesce(max(id), 0) FROM recovery_codes`},
		{"turn off two-step verification", b, "/profile/mfa/totp/delete", nil,
			[]string{"Remove your authenticator app and turn off two-step verification?", "Your 10 unused recovery codes stop working too.",
				"a stolen password alone opens your account"}, `SELECT count(*) FROM totp_factors`},
		{"disconnect", b, "/connections/" + idOf(t, ts, `SELECT id FROM connections`) + "/delete", nil,
			[]string{"Disconnect your Hub hub account @octo?", "Dancecard will also revoke its token at Hub hub."},
			`SELECT count(*) FROM connections`},
	}
	for _, d := range steps {
		d.run(t, ts)
	}
	if n := hub.Counts().Revocations; n != 1 {
		t.Errorf("revocations at the provider = %d, want 1", n)
	}

	// Logging out no other session changes nothing and is not asked.
	if r := b.post("/profile/sessions/delete", url.Values{"scope": {"others"}}); r.Status != http.StatusSeeOther {
		t.Fatalf("log out no other session: %d", r.Status)
	}
	if r := b.askFirst("/profile/sessions/delete", url.Values{"scope": {"others"}}); r.Status != http.StatusNoContent {
		t.Fatalf("confirm.js asking about no other session: %d", r.Status)
	}
	ts.browser(t).logIn("ada@example.com", goodPassword)
	ts.browser(t).logIn("ada@example.com", goodPassword)
	p := destructive{"log out other sessions", b, "/profile/sessions/delete", url.Values{"scope": {"others"}},
		[]string{"Log out your 2 other sessions?"}, `SELECT count(*) FROM sessions`}.run(t, ts)
	if p.Cancel != "/profile" {
		t.Errorf("Cancel goes to %q, want /profile", p.Cancel)
	}
	wantCount(t, ts, 1, `SELECT count(*) FROM sessions`)

	b.newToken("deploy", "read")
	b.newToken("backup", "read")
	ts.browser(t).logIn("ada@example.com", goodPassword)
	destructive{"log out everywhere", b, "/profile/sessions/delete", url.Values{"scope": {"all"}, "revoke_tokens": {"1"}},
		[]string{"Log out everywhere: here and on your 1 other session?", "Your 2 API tokens will be revoked too"},
		`SELECT count(*) FROM sessions`}.run(t, ts)
	wantCount(t, ts, 0, `SELECT count(*) FROM sessions`)
	wantCount(t, ts, 0, `SELECT count(*) FROM api_tokens`)
}

// TestConfirmationsOfTheAdminConsole: the administrator's destructive
// actions ask first and name the account; making someone an administrator
// does not ask.
func TestConfirmationsOfTheAdminConsole(t *testing.T) {
	hub := oauthtest.NewServer(t)
	ts := newTestServer(t, withProviders(fakeOAuth2(hub, "hub")))
	victim := ts.browser(t)
	victim.signUp("vic@example.com", goodPassword)
	victim.dance(hub, "/auth/hub/connect", nil)
	enrolTOTP(t, victim)
	boss := ts.adminBrowser(t, "boss@example.com")
	uid := idOf(t, ts, `SELECT id FROM users WHERE email = 'vic@example.com'`)
	ts.DB.Exec(t.Context(), `UPDATE users SET is_admin = true WHERE id = $1::bigint`, uid)
	user := "/admin/users/" + uid

	destructive{"revoke administrator", boss, user + "/admin", url.Values{"admin": {"false"}},
		[]string{"Take administrator rights away from vic@example.com?"}, `SELECT count(*) FROM users WHERE is_admin`}.run(t, ts)
	if r := boss.post(user+"/admin", url.Values{"admin": {"true"}}); r.Status != http.StatusSeeOther {
		t.Fatalf("make administrator: %d, want it done without asking", r.Status)
	}
	wantCount(t, ts, 2, `SELECT count(*) FROM users WHERE is_admin`)

	p := destructive{"reset second factors", boss, user + "/mfa/delete", nil,
		[]string{"Reset two-step verification for vic@example.com?", "This removes their authenticator app and 10 recovery codes."},
		`SELECT count(*) FROM totp_factors`}.run(t, ts)
	if p.Cancel != "/profile" && !strings.HasPrefix(p.Cancel, "/admin/") {
		t.Errorf("Cancel goes to %q", p.Cancel)
	}
	destructive{"end all sessions", boss, user + "/sessions/delete", nil,
		[]string{"Log vic@example.com out of their 1 session?"},
		`SELECT count(*) FROM sessions WHERE user_id = ` + uid}.run(t, ts)
	cid := idOf(t, ts, `SELECT id FROM connections`)
	p = destructive{"disconnect as administrator", boss, "/admin/connections/" + cid + "/delete", url.Values{"back": {user}},
		[]string{"Disconnect vic@example.com’s Hub hub account @octo?", "Dancecard will also revoke its token at Hub hub."},
		`SELECT count(*) FROM connections`}.run(t, ts)
	if p.Fields.Get("back") != user {
		t.Errorf("the confirmation loses back: %v", p.Fields)
	}
	victim.logIn("vic@example.com", goodPassword)
	destructive{"disable", boss, user + "/disable", nil,
		[]string{"Disable vic@example.com?", "They are logged out of their 1 session at once", "Their API tokens stop working"},
		`SELECT count(*) FROM users WHERE disabled_at IS NOT NULL`}.run(t, ts)
}

// TestConfirmingNeedsRecentAuthentication: a stale session is sent to
// /reauth before it is asked anything, also when confirm.js asks, with one
// message; a confirmation posted after the session went stale goes back to
// the page it started from, not to the action's address.
func TestConfirmingNeedsRecentAuthentication(t *testing.T) {
	hub := oauthtest.NewServer(t)
	ts := newTestServer(t, withProviders(fakeOAuth2(hub, "hub")))
	b := ts.browser(t)
	b.signUp("rei@example.com", goodPassword)
	b.dance(hub, "/auth/hub/connect", nil)
	path := "/connections/" + idOf(t, ts, `SELECT id FROM connections`) + "/delete"
	page := wantConfirmPage(t, b.post(path, nil), path, "Disconnect your Hub hub account @octo?")

	ts.ageSessions(t)
	for _, r := range []response{b.askFirst(path, nil), b.post(path, nil), b.post(page.Action, page.Fields)} {
		if r.Status != http.StatusSeeOther || r.Location != "/reauth?next=%2Fprofile" {
			t.Fatalf("stale session: %d %q, want /reauth?next=%%2Fprofile", r.Status, r.Location)
		}
	}
	wantCount(t, ts, 1, `SELECT count(*) FROM connections`)
	if n := strings.Count(b.get("/reauth?next=%2Fprofile").Body, "then repeat what you were doing"); n != 1 {
		t.Errorf("the re-authentication page says why %d times, want once", n)
	}
	if r := b.post("/reauth", url.Values{"password": {goodPassword}, "next": {"/profile"}}); r.Location != "/profile" {
		t.Fatalf("reauth: %d %q", r.Status, r.Location)
	}
	// Back on the profile, the same click asks again, and the answer does it.
	page = wantConfirmPage(t, b.post(path, nil), path, "Disconnect your Hub hub account @octo?")
	if r := b.post(page.Action, page.Fields); r.Status != http.StatusSeeOther || r.Location != "/profile" {
		t.Fatalf("confirmed: %d %q", r.Status, r.Location)
	}
	wantCount(t, ts, 0, `SELECT count(*) FROM connections`)
}

// TestEveryMarkedFormAsksFirst: every form the pages mark data-confirm
// posts to an action that answers confirm.js's question without acting,
// so the dialog can never perform what it asks about.
func TestEveryMarkedFormAsksFirst(t *testing.T) {
	hub := oauthtest.NewServer(t)
	ts := newTestServer(t, withProviders(fakeOAuth2(hub, "hub")))
	victim := ts.browser(t)
	victim.signUp("vic@example.com", goodPassword)
	victim.dance(hub, "/auth/hub/connect", nil)
	victim.newToken("cli", "read")
	ts.browser(t).logIn("vic@example.com", goodPassword)
	enrolTOTP(t, victim)
	ts.DB.Exec(t.Context(), `INSERT INTO passkeys (user_id, credential_id, public_key, name) SELECT id, '\x01', '\x02', 'Key' FROM users`)
	boss := ts.adminBrowser(t, "boss@example.com")
	uid := idOf(t, ts, `SELECT id FROM users WHERE email = 'vic@example.com'`)
	ts.DB.Exec(t.Context(), `UPDATE users SET is_admin = true WHERE id = $1::bigint`, uid)

	state := func() string {
		var s string
		ts.DB.QueryRow(t.Context(), `SELECT concat_ws(',', (SELECT count(*) FROM sessions), (SELECT count(*) FROM connections),
			(SELECT count(*) FROM api_tokens), (SELECT count(*) FROM passkeys), (SELECT count(*) FROM totp_factors),
			(SELECT max(id) FROM recovery_codes), (SELECT count(*) FROM users WHERE is_admin),
			(SELECT count(*) FROM users WHERE disabled_at IS NOT NULL))`).Scan(&s)
		return s
	}
	before := state()
	asked := map[string]bool{}
	for _, pg := range []struct {
		b    *browser
		path string
	}{{victim, "/profile"}, {victim, "/profile/security"}, {victim, "/profile/tokens"}, {victim, "/profile/account"},
		{boss, "/admin/users/" + uid}, {boss, "/admin/connections"}} {
		body := pg.b.get(pg.path).Body
		for _, tag := range markedForms.FindAllString(body, -1) {
			if !strings.Contains(tag, " data-confirm") {
				continue
			}
			action := html.UnescapeString(formAction.FindStringSubmatch(tag)[1])
			form := url.Values{}
			if strings.HasSuffix(action, "/admin") {
				form.Set("admin", "false")
			}
			if action == "/profile/sessions/delete" {
				form.Set("scope", "all")
			}
			r := pg.b.askFirst(action, form)
			if r.Status != http.StatusOK || !strings.Contains(r.Body, "data-confirm-page") {
				t.Errorf("%s on %s: confirm.js's question got %d %q", action, pg.path, r.Status, r.Location)
			}
			asked[strings.Trim(regexp.MustCompile(`/\d+`).ReplaceAllString(action, "/N"), "/")] = true
		}
	}
	if after := state(); after != before {
		t.Fatalf("asking changed something: %s -> %s", before, after)
	}
	for _, want := range []string{"connections/N/delete", "profile/tokens/N/delete", "profile/sessions/N/delete", "profile/sessions/delete",
		"profile/passkeys/N/delete", "profile/mfa/totp/delete", "profile/mfa/recovery-codes", "admin/users/N/admin",
		"admin/users/N/disable", "admin/users/N/mfa/delete", "admin/users/N/sessions/delete", "admin/connections/N/delete"} {
		if !asked[want] {
			t.Errorf("no form marked data-confirm posts to %s (marked: %v)", want, asked)
		}
	}
}

// TestConfirmWording: the questions read right in the cases the pages
// above do not reach: one of a thing, nothing to name, no revocation.
func TestConfirmWording(t *testing.T) {
	said := func(q web.Confirm) string { return q.Question + " | " + strings.Join(q.Consequences, " | ") }
	bg := context.Background()
	for _, c := range []struct {
		q    web.Confirm
		want []string
	}{
		{web.AskDisconnect(bg, "Bird", "", false), []string{"Disconnect your Bird account?",
			"Bird gives Dancecard no way to revoke its access: remove Dancecard in your Bird settings"}},
		{web.AskAdminDisconnect(bg, "", 7, "DevHub", "Ada Lovelace", true, true), []string{"Disconnect User 7 (no email)’s DevHub account Ada Lovelace?",
			"It is their only way to log in"}},
		{web.AskRevokeToken(bg, "ci", nil), []string{"Revoke the API token “ci”?", "It has never been used."}},
		{web.AskEndSession(bg, "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0", "", time.Date(2026, 1, 2, 15, 4, 0, 0, time.UTC), false),
			[]string{"End the session on Firefox on Linux, last active 2 Jan 2026, 15:04 UTC?"}},
		{web.AskEndSession(bg, "", "", time.Now(), true), []string{"End this session on Unknown device?", "You will be logged out of this browser."}},
		{web.AskLogOutOthers(bg, 1, 1), []string{"Log out your 1 other session?", "Your API token will be revoked too: programs using it"}},
		{web.AskLogOutEverywhere(bg, 0, 0), []string{"You have no other sessions, so only this browser is logged out.", "You have no API tokens to revoke."}},
		{web.AskDisableUser(bg, "z@example.com", 3, 0), []string{"Disable z@example.com?", "They cannot log in in any way"}},
		{web.AskResetSecondFactors(bg, "z@example.com", 3, web.MFASection{TOTP: true, Passkeys: 1, RecoveryCodesLeft: 1}),
			[]string{"This removes their authenticator app, 1 passkey and 1 recovery code."}},
		{web.AskRemovePasskey(bg, "Phone", true), []string{"It is your last second factor"}},
		{web.AskTurnOffTOTP(bg, 1, 1), []string{"Remove your authenticator app?", "Your last unused recovery code stops working too.", "Your passkey still counts"}},
		{web.AskNewRecoveryCodes(bg, 0), []string{"Make new recovery codes?", "The new codes are shown once"}},
	} {
		got := said(c.q)
		for _, w := range c.want {
			if !strings.Contains(got, w) {
				t.Errorf("%q\n  lacks %q", got, w)
			}
		}
		if c.q.Title == "" || c.q.Button == "" || !c.q.Asks() {
			t.Errorf("%q: no title, button or question", got)
		}
	}
}

// TestLastWayToLogInIsRefusedWithoutAsking: disconnecting the only way an
// account logs in is refused at once, with the reason on the profile, and
// not asked about first. (Should the refusal ever go, this test sees the
// connection go without a confirmation.)
func TestLastWayToLogInIsRefusedWithoutAsking(t *testing.T) {
	hub := oauthtest.NewServer(t)
	ts := newTestServer(t, withProviders(fakeOAuth2(hub, "hub")))
	b := ts.browser(t)
	if r := b.dance(hub, "/auth/hub/login", nil); r.Status != http.StatusSeeOther {
		t.Fatalf("sign up with the provider: %d", r.Status)
	}
	path := "/connections/" + idOf(t, ts, `SELECT id FROM connections`) + "/delete"
	if r := b.askFirst(path, nil); r.Status != http.StatusNoContent {
		t.Errorf("confirm.js asking about the last way to log in: %d, want 204", r.Status)
	}
	if r := b.post(path, nil); r.Status != http.StatusSeeOther || r.Location != "/profile" {
		t.Errorf("disconnect the last way to log in: %d %q, want the profile", r.Status, r.Location)
	}
	if p := b.get("/profile"); !strings.Contains(p.Body, "last way to log in") {
		t.Error("the profile does not say why")
	}
	wantCount(t, ts, 1, `SELECT count(*) FROM connections`)
}
