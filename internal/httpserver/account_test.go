package httpserver_test

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
)

func TestSignUpLogOutLogIn(t *testing.T) {
	ts := newTestServer(t)
	b := ts.browser(t)
	b.signUp("  Ann@Example.COM ", goodPassword)

	r := b.get("/profile")
	if r.Status != http.StatusOK || !strings.Contains(r.Body, "ann@example.com") {
		t.Fatalf("profile after sign-up: %d\n%.500s", r.Status, r.Body)
	}
	if !strings.Contains(r.Body, "Your account is ready") {
		t.Error("sign-up flash not shown on the next page")
	}
	if again := b.get("/profile"); strings.Contains(again.Body, "Your account is ready") {
		t.Error("flash shown twice")
	}
	if n := ts.count(t, `SELECT count(*) FROM events WHERE kind = 'user_created'`); n != 1 {
		t.Errorf("user_created events = %d, want 1", n)
	}

	if r := b.post("/logout", nil); r.Status != http.StatusSeeOther || r.Location != "/" {
		t.Fatalf("logout: %d %q", r.Status, r.Location)
	}
	if r := b.get("/profile"); r.Status != http.StatusSeeOther || !strings.HasPrefix(r.Location, "/login?next=") {
		t.Fatalf("profile after logout: %d %q", r.Status, r.Location)
	}

	r = b.logIn("ANN@example.com", goodPassword)
	if r.Status != http.StatusSeeOther || r.Location != "/profile" {
		t.Fatalf("login: %d %q\n%.500s", r.Status, r.Location, r.Body)
	}
	if n := ts.count(t, `SELECT count(*) FROM sessions`); n != 1 {
		t.Errorf("sessions = %d, want 1 (logout must delete its session)", n)
	}
	if n := ts.count(t, `SELECT count(*) FROM events WHERE kind = 'login_completed'`); n != 1 {
		t.Errorf("login_completed events = %d, want 1", n)
	}
}

func TestLoginRotatesSession(t *testing.T) {
	ts := newTestServer(t)
	b := ts.browser(t)
	b.signUp("rot@example.com", goodPassword)
	before := b.cookie("dc_session").Value
	if r := b.logIn("rot@example.com", goodPassword); r.Status != http.StatusSeeOther {
		t.Fatalf("login while logged in: %d", r.Status)
	}
	// Someone holding the pre-login session id (session fixation) must get
	// nothing from it once the victim logs in.
	attacker := ts.browser(t)
	u, _ := url.Parse(ts.URL)
	attacker.client.Jar.SetCookies(u, []*http.Cookie{{Name: "dc_session", Value: before, Path: "/"}})
	after := b.cookie("dc_session").Value
	if before == after {
		t.Fatal("session id not rotated on login")
	}
	if r := attacker.get("/profile"); r.Status != http.StatusSeeOther {
		t.Fatalf("old session id still works after login: %d", r.Status)
	}
}

func TestNextIsOnlyFollowedOnSite(t *testing.T) {
	ts := newTestServer(t)
	ts.browser(t).signUp("next@example.com", goodPassword)
	for _, tc := range []struct{ next, want string }{
		{"/profile?tab=sessions", "/profile?tab=sessions"},
		{"//evil.example", "/profile"},
		{"https://evil.example/", "/profile"},
		{"/\\evil.example", "/profile"},
		{"/%5Cevil.example", "/%5Cevil.example"},
		{"javascript:alert(1)", "/profile"},
		{"", "/profile"},
	} {
		t.Run(tc.next, func(t *testing.T) {
			b := ts.browser(t)
			r := b.post("/login", url.Values{"email": {"next@example.com"}, "password": {goodPassword}, "next": {tc.next}})
			if r.Status != http.StatusSeeOther || r.Location != tc.want {
				t.Fatalf("next=%q: %d -> %q, want %q", tc.next, r.Status, r.Location, tc.want)
			}
		})
	}
}

func TestChangePasswordEndsOtherSessions(t *testing.T) {
	ts := newTestServer(t)
	a := ts.browser(t)
	a.signUp("pw@example.com", goodPassword)
	other := ts.browser(t)
	if r := other.logIn("pw@example.com", goodPassword); r.Status != http.StatusSeeOther {
		t.Fatalf("second login: %d", r.Status)
	}
	newPassword := "another long passphrase 42"
	r := a.post("/profile/password", url.Values{"current_password": {goodPassword}, "new_password": {newPassword}, "new_password_confirm": {newPassword}})
	if r.Status != http.StatusSeeOther || r.Location != "/profile/security" {
		t.Fatalf("change password: %d\n%.800s", r.Status, r.Body)
	}
	if r := a.get("/profile"); r.Status != http.StatusOK {
		t.Fatalf("changing browser was logged out: %d", r.Status)
	}
	if r := other.get("/profile"); r.Status != http.StatusSeeOther {
		t.Fatalf("other session survived a password change: %d", r.Status)
	}
	fresh := ts.browser(t)
	if r := fresh.logIn("pw@example.com", goodPassword); r.Status != http.StatusUnauthorized {
		t.Fatalf("old password still works: %d", r.Status)
	}
	if r := fresh.logIn("pw@example.com", newPassword); r.Status != http.StatusSeeOther {
		t.Fatalf("new password refused: %d", r.Status)
	}
}

func TestEndSessions(t *testing.T) {
	ts := newTestServer(t)
	a := ts.browser(t)
	a.signUp("s@example.com", goodPassword)
	b := ts.browser(t)
	b.logIn("s@example.com", goodPassword)
	c := ts.browser(t)
	c.logIn("s@example.com", goodPassword)

	if r := a.get("/profile/security"); strings.Count(r.Body, "/delete\"") < 2 {
		t.Fatalf("profile does not list the other sessions with end buttons:\n%.2000s", r.Body)
	}
	var bID int
	if err := ts.DB.QueryRow(t.Context(), `SELECT max(id) - 1 FROM sessions`).Scan(&bID); err != nil {
		t.Fatal(err)
	}
	if r := a.postConfirmed("/profile/sessions/"+itoa(bID)+"/delete", nil); r.Status != http.StatusSeeOther {
		t.Fatalf("end one session: %d", r.Status)
	}
	if r := b.get("/profile"); r.Status != http.StatusSeeOther {
		t.Fatal("ended session still works")
	}
	if r := a.postConfirmed("/profile/sessions/delete", url.Values{"scope": {"others"}}); r.Status != http.StatusSeeOther {
		t.Fatalf("end others: %d", r.Status)
	}
	if r := c.get("/profile"); r.Status != http.StatusSeeOther {
		t.Fatal("other session survived 'log out other sessions'")
	}
	if r := a.get("/profile"); r.Status != http.StatusOK {
		t.Fatal("current session ended by 'log out other sessions'")
	}
	if r := a.postConfirmed("/profile/sessions/delete", url.Values{"scope": {"all"}}); r.Location != "/login" {
		t.Fatalf("end all: %d %q", r.Status, r.Location)
	}
	if n := ts.count(t, `SELECT count(*) FROM sessions`); n != 0 {
		t.Fatalf("sessions left after 'log out everywhere': %d", n)
	}
}

func TestAnotherUsersSessionIsNotFound(t *testing.T) {
	ts := newTestServer(t)
	victim := ts.browser(t)
	victim.signUp("victim@example.com", goodPassword)
	attacker := ts.browser(t)
	attacker.signUp("attacker@example.com", goodPassword)
	var victimSession int
	ts.DB.QueryRow(t.Context(), `SELECT min(id) FROM sessions`).Scan(&victimSession)
	if r := attacker.post("/profile/sessions/"+itoa(victimSession)+"/delete", nil); r.Status != http.StatusNotFound {
		t.Fatalf("ending another user's session: %d, want 404", r.Status)
	}
	if r := victim.get("/profile"); r.Status != http.StatusOK {
		t.Fatal("victim's session was ended by another user")
	}
}

func itoa(n int) string { return strconv.Itoa(n) }

func TestSignupCanBeTurnedOff(t *testing.T) {
	ts := newTestServer(t, withoutSignup)
	b := ts.browser(t)
	if r := b.get("/signup"); r.Status != http.StatusNotFound || !strings.Contains(r.Body, "Sign-up closed") {
		t.Fatalf("GET /signup with sign-up off: %d", r.Status)
	}
	if r := b.post("/signup", form("a@example.com", goodPassword)); r.Status != http.StatusNotFound {
		t.Fatalf("POST /signup with sign-up off: %d", r.Status)
	}
	if r := b.get("/login"); strings.Contains(r.Body, `href="/signup"`) {
		t.Error("log-in page offers sign-up while it is off")
	}
	if n := ts.count(t, `SELECT count(*) FROM users`); n != 0 {
		t.Fatalf("users = %d", n)
	}
}
