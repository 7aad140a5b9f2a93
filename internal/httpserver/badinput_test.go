package httpserver_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

func TestSignUpBadInput(t *testing.T) {
	ts := newTestServer(t)
	ts.browser(t).signUp("taken@example.com", goodPassword)
	long := strings.Repeat("a", 1025)
	for _, tc := range []struct {
		name        string
		form        url.Values
		contentType string
		rawBody     string
		status      int
		message     string
	}{
		{name: "empty form", form: url.Values{}, status: 422, message: "Enter your email address"},
		{name: "not an email", form: form("not-an-email", goodPassword), status: 422, message: "Enter an email address like"},
		{name: "display name", form: form("Ann <ann@example.com>", goodPassword), status: 422, message: "Enter an email address like"},
		{name: "invalid utf-8 email", form: form("ann\xff@example.com", goodPassword), status: 422, message: "Enter an email address like"},
		{name: "short password", form: form("a@example.com", "short"), status: 422, message: "at least 8 characters"},
		{name: "common password", form: form("a@example.com", "password123"), status: 422, message: "most commonly used"},
		{name: "email as password", form: form("longname@example.com", "longname@example.com"), status: 422, message: "email address as your password"},
		{name: "oversized password", form: form("a@example.com", long), status: 422, message: "at most 1024"},
		{name: "invalid utf-8 password", form: form("a@example.com", "pass\xffword-long"), status: 422, message: "characters that cannot be used"},
		{name: "confirmation differs", form: url.Values{"email": {"a@example.com"}, "password": {goodPassword}, "password_confirm": {goodPassword + "!"}}, status: 422, message: "do not match"},
		{name: "duplicate email, other case", form: form("TAKEN@Example.com", goodPassword), status: 409, message: "already exists"},
		{name: "missing csrf", form: withCSRF(form("a@example.com", goodPassword), ""), status: 403, message: "Form expired"},
		{name: "wrong csrf", form: withCSRF(form("a@example.com", goodPassword), "forged"), status: 403, message: "Form expired"},
		{name: "json body", contentType: "application/json", rawBody: `{"email":"a@example.com"}`, status: 403, message: "Form expired"},
		{name: "oversized body", contentType: "application/x-www-form-urlencoded", rawBody: "email=" + strings.Repeat("x", 70<<10), status: 413, message: "larger than this form accepts"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := ts.browser(t)
			var r response
			if tc.rawBody != "" {
				b.csrf() // the browser has its anonymous cookie, as a real one would
				r = b.postRaw("/signup", tc.contentType, tc.rawBody)
			} else {
				r = b.post("/signup", tc.form)
			}
			if r.Status != tc.status || !strings.Contains(r.Body, tc.message) {
				t.Fatalf("status %d (want %d), body lacks %q:\n%.1500s", r.Status, tc.status, tc.message, r.Body)
			}
			if n := ts.count(t, `SELECT count(*) FROM users`); n != 1 {
				t.Fatalf("users = %d after a refused sign-up, want 1", n)
			}
			if b.cookie("dc_session") != nil {
				t.Fatal("a refused sign-up set a session cookie")
			}
		})
	}
}

func form(email, password string) url.Values {
	return url.Values{"email": {email}, "password": {password}, "password_confirm": {password}}
}

func withCSRF(v url.Values, token string) url.Values {
	v.Set("csrf_token", token)
	if token == "" {
		v["csrf_token"] = nil
	}
	return v
}

func TestLoginBadInput(t *testing.T) {
	ts := newTestServer(t)
	ts.browser(t).signUp("known@example.com", goodPassword)
	generic := "do not match an account"
	for _, tc := range []struct {
		name    string
		form    url.Values
		status  int
		message string
	}{
		{"unknown email", url.Values{"email": {"nobody@example.com"}, "password": {goodPassword}}, 401, generic},
		{"wrong password", url.Values{"email": {"known@example.com"}, "password": {"wrong password!"}}, 401, generic},
		{"empty", url.Values{}, 401, generic},
		{"invalid utf-8", url.Values{"email": {"known\xff@example.com"}, "password": {"\xff\xfe"}}, 401, generic},
		{"huge password", url.Values{"email": {"known@example.com"}, "password": {strings.Repeat("p", 5000)}}, 401, generic},
		{"missing csrf", withCSRF(url.Values{"email": {"known@example.com"}, "password": {goodPassword}}, ""), 403, "Form expired"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := ts.browser(t)
			r := b.post("/login", tc.form)
			if r.Status != tc.status || !strings.Contains(r.Body, tc.message) {
				t.Fatalf("status %d (want %d), body lacks %q:\n%.1500s", r.Status, tc.status, tc.message, r.Body)
			}
			if b.cookie("dc_session") != nil {
				t.Fatal("a refused log-in set a session cookie")
			}
		})
	}
	if n := ts.count(t, `SELECT count(*) FROM sessions`); n != 1 {
		t.Fatalf("sessions = %d, want only the sign-up's", n)
	}
	if n := ts.count(t, `SELECT count(*) FROM events WHERE kind = 'login_failed'`); n < 4 {
		t.Fatalf("login_failed events = %d, want one per failed attempt", n)
	}
}

func TestCrossSiteFormIsRefused(t *testing.T) {
	ts := newTestServer(t)
	b := ts.browser(t)
	b.signUp("x@example.com", goodPassword)
	token := b.csrf()
	for _, h := range []http.Header{
		{"Origin": {"https://evil.example"}},
		{"Sec-Fetch-Site": {"cross-site"}},
		{"Origin": {"null"}},
	} {
		req, _ := http.NewRequest(http.MethodPost, ts.URL+"/profile/sessions/delete",
			strings.NewReader(url.Values{"csrf_token": {token}, "scope": {"all"}}.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		for k, v := range h {
			req.Header[k] = v
		}
		if r := b.do(req); r.Status != http.StatusForbidden {
			t.Errorf("%v: status %d, want 403", h, r.Status)
		}
	}
	if n := ts.count(t, `SELECT count(*) FROM sessions`); n != 1 {
		t.Fatal("a cross-site request ended sessions")
	}
}

func TestExpiredSessionIsLoggedOut(t *testing.T) {
	ts := newTestServer(t)
	b := ts.browser(t)
	b.signUp("idle@example.com", goodPassword)
	if _, err := ts.DB.Exec(t.Context(), `UPDATE sessions SET last_seen_at = now() - interval '73 hours'`); err != nil {
		t.Fatal(err)
	}
	r := b.get("/profile")
	if r.Status != http.StatusSeeOther || !strings.HasPrefix(r.Location, "/login") {
		t.Fatalf("idle session still served: %d %q", r.Status, r.Location)
	}
	if !strings.Contains(strings.Join(r.Header.Values("Set-Cookie"), ";"), "dc_session=;") {
		t.Error("dead session cookie not cleared")
	}
	if r := b.post("/profile/sessions/delete", url.Values{"scope": {"all"}, "csrf_token": {"stale"}}); r.Status != http.StatusForbidden {
		t.Fatalf("unsafe request on an expired session: %d, want 403", r.Status)
	}

	b2 := ts.browser(t)
	b2.logIn("idle@example.com", goodPassword)
	ts.DB.Exec(t.Context(), `UPDATE sessions SET expires_at = now() - interval '1 second'`)
	if r := b2.get("/profile"); r.Status != http.StatusSeeOther {
		t.Fatalf("session past its absolute expiry still served: %d", r.Status)
	}
}

func TestLoginRateLimits(t *testing.T) {
	ts := newTestServer(t, withRateLimits)
	ts.browser(t).signUp("limited@example.com", goodPassword)
	b := ts.browser(t)
	for i := 0; i < 10; i++ {
		if r := b.logIn("limited@example.com", "wrong password "+time.Now().String()); r.Status != http.StatusUnauthorized {
			t.Fatalf("attempt %d: %d", i, r.Status)
		}
	}
	r := b.logIn("limited@example.com", goodPassword)
	if r.Status != http.StatusTooManyRequests || !strings.Contains(r.Body, "Too many log-in attempts") {
		t.Fatalf("11th attempt: %d, want 429", r.Status)
	}
	if b.cookie("dc_session") != nil {
		t.Fatal("a throttled log-in succeeded")
	}
	// Other accounts from other addresses are unaffected only per account;
	// here the per-IP limit (30 per 5 minutes) is what eventually stops a
	// spray across many accounts.
	for i := 0; i < 19; i++ {
		b.logIn("spray"+itoa(i)+"@example.com", "wrong password!")
	}
	if r := b.logIn("other@example.com", "whatever password"); r.Status != http.StatusTooManyRequests {
		t.Fatalf("per-IP limit not applied: %d", r.Status)
	}
}
