package httpserver_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// wantFieldErrors fails unless the page shows every message, each in the
// error element of its field.
func wantFieldErrors(t *testing.T, what string, r response, status int, byField map[string]string) {
	t.Helper()
	if r.Status != status {
		t.Fatalf("%s: status %d, want %d", what, r.Status, status)
	}
	for field, msg := range byField {
		if !strings.Contains(r.Body, `id="`+field+`-error"`) || !strings.Contains(r.Body, msg) {
			t.Errorf("%s: no error on %s saying %q", what, field, msg)
		}
	}
}

// TestFormsReportEveryFieldError: sign-up, password change and password
// reset forms wrong in several fields say so for each at once, rather than
// one per submission.
func TestFormsReportEveryFieldError(t *testing.T) {
	ts := newTestServer(t)
	const mismatch = "The two passwords do not match."
	const short = "Use at least 8 characters."

	anon := ts.browser(t)
	r := anon.post("/signup", url.Values{"email": {"not an address"}, "password": {"short"}, "password_confirm": {"other"}})
	wantFieldErrors(t, "sign-up, all three wrong", r, http.StatusUnprocessableEntity, map[string]string{
		"email": "Enter an email address like name@example.com.", "password": short, "password_confirm": mismatch})
	r = anon.post("/signup", url.Values{"email": {"not an address"}, "password": {"short"}, "password_confirm": {"short"}})
	wantFieldErrors(t, "sign-up, email and password wrong", r, http.StatusUnprocessableEntity, map[string]string{
		"email": "Enter an email address like name@example.com.", "password": short})
	if n := ts.count(t, `SELECT count(*) FROM users`); n != 0 {
		t.Fatalf("users = %d after refused sign-ups", n)
	}

	b := ts.browser(t)
	b.signUp("all@example.com", goodPassword)
	r = b.post("/profile/password", url.Values{"current_password": {"not the password"}, "new_password": {"short"}, "new_password_confirm": {"shorter"}})
	wantFieldErrors(t, "password change, all three wrong", r, http.StatusUnprocessableEntity, map[string]string{
		"current_password": "The current password is wrong.", "new_password": short, "new_password_confirm": mismatch})
	r = b.post("/profile/password", url.Values{"current_password": {"not the password"}, "new_password": {"short"}, "new_password_confirm": {"short"}})
	wantFieldErrors(t, "password change, two wrong", r, http.StatusUnprocessableEntity, map[string]string{
		"current_password": "The current password is wrong.", "new_password": short})
	if n := ts.count(t, `SELECT count(*) FROM events WHERE kind = 'password_changed'`); n != 0 {
		t.Fatal("a refused change changed the password")
	}

	anon.post("/password/forgot", url.Values{"email": {"all@example.com"}})
	tok := strings.TrimPrefix(linkIn(t, ts.mailTo(t, "all@example.com")), "/password/reset?token=")
	r = anon.post("/password/reset", url.Values{"token": {tok}, "password": {"short"}, "password_confirm": {"other"}})
	wantFieldErrors(t, "reset, both wrong", r, http.StatusUnprocessableEntity, map[string]string{
		"password": short, "password_confirm": mismatch})
	r = anon.post("/password/reset", url.Values{"token": {tok}, "password": {"all@example.com"}, "password_confirm": {"other"}})
	wantFieldErrors(t, "reset, the address as password", r, http.StatusUnprocessableEntity, map[string]string{
		"password": "Do not use your email address as your password.", "password_confirm": mismatch})
	// The refusals left the link usable.
	if r := anon.post("/password/reset", url.Values{"token": {tok}, "password": {"a fine new passphrase"}, "password_confirm": {"a fine new passphrase"}}); r.Status != http.StatusSeeOther {
		t.Fatalf("reset after refusals: %d", r.Status)
	}
}

// TestCountsAgreeWithTheirNouns: one of a thing is not "1 sessions".
func TestCountsAgreeWithTheirNouns(t *testing.T) {
	ts := newTestServer(t)
	a := ts.adminBrowser(t, "root@example.com")
	u := ts.browser(t)
	u.signUp("one@example.com", goodPassword)
	var id string
	ts.DB.QueryRow(t.Context(), `SELECT id::text FROM users WHERE email = 'one@example.com'`).Scan(&id)
	r := a.post("/admin/users/"+id+"/sessions/delete", url.Values{"confirm": {"yes"}})
	if r.Status != http.StatusSeeOther {
		t.Fatalf("end sessions: %d", r.Status)
	}
	if page := a.get(r.Location); !strings.Contains(page.Body, "Ended 1 session.") {
		t.Fatalf("the flash does not say %q:\n%.3000s", "Ended 1 session.", page.Body)
	}

	b := ts.browser(t)
	b.signUp("two@example.com", goodPassword)
	ts.browser(t).logIn("two@example.com", goodPassword)
	createToken(t, b)
	r = b.post("/profile/sessions/delete", url.Values{"scope": {"others"}, "confirm": {"yes"}})
	if page := b.get(r.Location); !strings.Contains(page.Body, "Logged out 1 other session.") {
		t.Fatalf("the flash does not say %q", "Logged out 1 other session.")
	}
}
