package httpserver_test

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/pquerna/otp/totp"

	"github.com/dancecard/dancecard/internal/oauth/oauthtest"
)

var (
	secretInPage = regexp.MustCompile(`secret=([A-Z2-7]+)`)
	recoveryCode = regexp.MustCompile(`\b[0-9a-z]{4}-[0-9a-z]{4}-[0-9a-z]{4}\b`)
)

// enrolTOTP turns on an authenticator app for b's user through the pages
// and returns its secret and recovery codes.
func enrolTOTP(t *testing.T, b *browser) (string, []string) {
	t.Helper()
	page := b.post("/profile/mfa/totp", nil)
	m := secretInPage.FindStringSubmatch(page.Body)
	if page.Status != http.StatusOK || m == nil || !strings.Contains(page.Body, "data:image/png;base64,") {
		t.Fatalf("enrolment page: %d\n%.800s", page.Status, page.Body)
	}
	secret := m[1]
	if r := b.post("/profile/mfa/totp/confirm", url.Values{"code": {"000000"}}); r.Status != http.StatusUnprocessableEntity {
		t.Fatalf("wrong confirmation code: %d", r.Status)
	}
	code, _ := totp.GenerateCode(secret, time.Now())
	r := b.post("/profile/mfa/totp/confirm", url.Values{"code": {code}})
	list := r.Body
	if i := strings.Index(list, `class="recovery-codes"`); i >= 0 {
		list = list[i:]
		list = list[strings.Index(list, ">")+1 : strings.Index(list, "</ol>")] // the items, not the tag's data-copy-text
	}
	codes := recoveryCode.FindAllString(list, -1)
	if r.Status != http.StatusOK || len(codes) != 10 {
		t.Fatalf("confirm: %d, %d recovery codes\n%.800s", r.Status, len(codes), r.Body)
	}
	return secret, codes
}

// nextCode is a valid code for a later time step than any used so far.
func nextCode(secret string, steps int) string {
	code, _ := totp.GenerateCode(secret, time.Now().Add(time.Duration(steps)*30*time.Second))
	return code
}

func TestTOTPLogIn(t *testing.T) {
	ts := newTestServer(t)
	b := ts.browser(t)
	b.signUp("tia@example.com", goodPassword)
	secret, codes := enrolTOTP(t, b)
	b.post("/logout", nil)

	// The password alone leads to the second step, not to a session.
	r := b.logIn("tia@example.com", goodPassword)
	if r.Status != http.StatusSeeOther || !strings.HasPrefix(r.Location, "/login/mfa") || b.cookie("dc_session") != nil {
		t.Fatalf("password log-in: %d %q", r.Status, r.Location)
	}
	if p := b.get("/profile"); p.Status != http.StatusSeeOther {
		t.Fatal("logged in before the second step")
	}
	if r := b.post("/login/mfa", url.Values{"code": {"123456"}}); r.Status != http.StatusUnauthorized {
		t.Fatalf("wrong code: %d", r.Status)
	}
	code := nextCode(secret, 1)
	if r := b.post("/login/mfa", url.Values{"code": {code}}); r.Status != http.StatusSeeOther || r.Location != "/profile" || b.cookie("dc_session") == nil {
		t.Fatalf("right code: %d %q", r.Status, r.Location)
	}
	// The same code again (replay) is refused.
	b.post("/logout", nil)
	b.logIn("tia@example.com", goodPassword)
	if r := b.post("/login/mfa", url.Values{"code": {code}}); r.Status != http.StatusUnauthorized {
		t.Fatalf("replayed code: %d", r.Status)
	}
	// A recovery code works once.
	if r := b.post("/login/mfa", url.Values{"code": {strings.ToUpper(codes[0])}}); r.Status != http.StatusSeeOther {
		t.Fatalf("recovery code: %d", r.Status)
	}
	b.post("/logout", nil)
	b.logIn("tia@example.com", goodPassword)
	if r := b.post("/login/mfa", url.Values{"code": {codes[0]}}); r.Status != http.StatusUnauthorized {
		t.Fatalf("reused recovery code: %d", r.Status)
	}
	// Five wrong codes end the held log-in.
	for range 4 {
		b.post("/login/mfa", url.Values{"code": {"999999"}})
	}
	if r := b.post("/login/mfa", url.Values{"code": {codes[1]}}); r.Status != http.StatusSeeOther || r.Location != "/login" {
		t.Fatalf("after five wrong codes: %d %q", r.Status, r.Location)
	}
	for kind, n := range map[string]int{"mfa_enabled": 1, "mfa_failed": 7, "recovery_code_used": 1} {
		if got := ts.count(t, `SELECT count(*) FROM events WHERE kind = $1`, kind); got != n {
			t.Errorf("%s events = %d, want %d", kind, got, n)
		}
	}
	// The API says so.
	b.logIn("tia@example.com", goodPassword)
	b.post("/login/mfa", url.Values{"code": {codes[2]}})
	if r := b.api(apiCall{method: "GET", path: "/api/v1/me"}); !strings.Contains(r.Body, `"mfa":{"totp":true,"passkeys":0,"recovery_codes_left":8}`) {
		t.Fatalf("me: %s", r.Body)
	}
}

func TestTOTPChangesNeedRecentAuthAndReauthTakesACode(t *testing.T) {
	ts := newTestServer(t)
	b := ts.browser(t)
	b.signUp("ulf@example.com", goodPassword)
	secret, _ := enrolTOTP(t, b)
	ts.ageSessions(t)
	for _, path := range []string{"/profile/mfa/totp", "/profile/mfa/totp/delete", "/profile/mfa/recovery-codes"} {
		if r := b.post(path, nil); r.Status != http.StatusSeeOther || !strings.HasPrefix(r.Location, "/reauth") {
			t.Errorf("%s without recent authentication: %d %q", path, r.Status, r.Location)
		}
	}
	if r := b.post("/reauth", url.Values{"code": {nextCode(secret, 1)}, "next": {"/profile"}}); r.Status != http.StatusSeeOther || r.Location != "/profile" {
		t.Fatalf("reauth with a code: %d %q", r.Status, r.Location)
	}
	if r := b.postConfirmed("/profile/mfa/totp/delete", nil); r.Status != http.StatusSeeOther {
		t.Fatalf("turn off: %d", r.Status)
	}
	b.post("/logout", nil)
	if r := b.logIn("ulf@example.com", goodPassword); r.Location != "/profile" {
		t.Fatalf("log-in after turning it off: %d %q", r.Status, r.Location)
	}
}

func TestProviderLogInAsksForTheSecondFactorUnlessTrusted(t *testing.T) {
	for _, trust := range []bool{false, true} {
		hub := oauthtest.NewServer(t)
		opts := []serverOption{withProviders(fakeOAuth2(hub, "hub"))}
		if trust {
			opts = append(opts, withTrustedProviderLogins)
		}
		ts := newTestServer(t, opts...)
		b := ts.browser(t)
		b.signUp("vic@example.com", goodPassword)
		b.dance(hub, "/auth/hub/connect", nil)
		secret, _ := enrolTOTP(t, b)
		b.post("/logout", nil)
		r := b.dance(hub, "/auth/hub/login", nil)
		if trust {
			if r.Location != "/profile" || b.cookie("dc_session") == nil {
				t.Errorf("trust: provider log-in stopped: %d %q", r.Status, r.Location)
			}
			continue
		}
		if !strings.HasPrefix(r.Location, "/login/mfa") || b.cookie("dc_session") != nil {
			t.Fatalf("require: provider log-in went through: %d %q", r.Status, r.Location)
		}
		if r := b.post("/login/mfa", url.Values{"code": {nextCode(secret, 1)}}); r.Location != "/profile" {
			t.Fatalf("second step after the provider: %d %q", r.Status, r.Location)
		}
		if n := ts.count(t, `SELECT count(*) FROM events WHERE kind = 'login_completed' AND provider = 'hub'`); n != 1 {
			t.Errorf("provider log-ins completed = %d, want 1", n)
		}
	}
}

func TestAdminsMustEnrol(t *testing.T) {
	ts := newTestServer(t, withAdminsMustEnrol)
	boss := ts.browser(t)
	boss.signUp("boss@example.com", goodPassword)
	ts.DB.Exec(t.Context(), `UPDATE users SET is_admin = true`)
	if r := boss.get("/admin/"); r.Status != http.StatusSeeOther || r.Location != "/profile/security#mfa" {
		t.Fatalf("admin without a second factor: %d %q", r.Status, r.Location)
	}
	if r := boss.api(apiCall{method: "GET", path: "/api/v1/admin/users"}); r.Status != http.StatusForbidden || !strings.Contains(r.Body, "mfa_enrolment_required") {
		t.Fatalf("admin API without a second factor: %d %s", r.Status, r.Body)
	}
	enrolTOTP(t, boss)
	if r := boss.get("/admin/"); r.Status != http.StatusOK {
		t.Fatalf("admin after enrolling: %d", r.Status)
	}
	// An administrator can reset a user's second factors.
	pat := ts.browser(t)
	pat.signUp("pat@example.com", goodPassword)
	enrolTOTP(t, pat)
	var id string
	ts.DB.QueryRow(t.Context(), `SELECT id::text FROM users WHERE email = 'pat@example.com'`).Scan(&id)
	if r := boss.postConfirmed("/admin/users/"+id+"/mfa/delete", nil); r.Status != http.StatusSeeOther {
		t.Fatalf("reset: %d", r.Status)
	}
	if n := ts.count(t, `SELECT count(*) FROM totp_factors WHERE user_id = $1::bigint`, id); n != 0 {
		t.Fatal("second factors survived the reset")
	}
	if n := ts.count(t, `SELECT count(*) FROM events WHERE kind = 'mfa_disabled' AND user_id = $1::bigint AND data ? 'admin_id'`, id); n != 1 {
		t.Fatal("the reset was not recorded")
	}
}

func TestAdminUsersFilterBySecondFactor(t *testing.T) {
	ts := newTestServer(t)
	boss := ts.adminBrowser(t, "boss@example.com")
	enrolTOTP(t, boss)
	ts.browser(t).signUp("plain@example.com", goodPassword)
	for filter, want := range map[string][2]bool{"on": {true, false}, "off": {false, true}, "": {true, true}} {
		p := boss.get("/admin/users?mfa=" + filter)
		if strings.Contains(p.Body, "boss@example.com</a>") != want[0] || strings.Contains(p.Body, "plain@example.com</a>") != want[1] {
			t.Errorf("mfa=%q: boss %v plain %v", filter, strings.Contains(p.Body, "boss@example.com</a>"), strings.Contains(p.Body, "plain@example.com</a>"))
		}
	}
	if r := boss.get("/admin/users?mfa=maybe"); r.Status != http.StatusBadRequest {
		t.Errorf("bad filter: %d", r.Status)
	}
	if r := boss.api(apiCall{method: "GET", path: "/api/v1/admin/users?mfa=on"}); r.Status != http.StatusOK || !strings.Contains(r.Body, "boss@example.com") || strings.Contains(r.Body, "plain@example.com") {
		t.Errorf("API filter: %d %s", r.Status, r.Body)
	}
}
