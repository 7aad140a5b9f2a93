package httpserver_test

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// logInFrom tries a password from the network addr.
func (b *browser) logInFrom(addr, email, password string) response {
	b.t.Helper()
	form := url.Values{"email": {email}, "password": {password}, "csrf_token": {b.csrf()}}
	req, _ := http.NewRequest(http.MethodPost, b.ts.URL+"/login", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("X-Forwarded-For", addr)
	return b.do(req)
}

func TestLoginLimitsCannotLockTheOwnerOut(t *testing.T) {
	ts := newTestServer(t, withRateLimits, withTrustedProxies)
	owner := ts.browser(t)
	owner.signUp("jo@example.com", goodPassword)
	owner.post("/logout", nil)

	// Guessing from one network stops that network only.
	attacker := ts.browser(t)
	for i := range 10 {
		if r := attacker.logInFrom("198.51.100.1", "jo@example.com", fmt.Sprintf("guess number %d", i)); r.Status != http.StatusUnauthorized {
			t.Fatalf("guess %d: %d", i, r.Status)
		}
	}
	if r := attacker.logInFrom("198.51.100.1", "jo@example.com", goodPassword); r.Status != http.StatusTooManyRequests {
		t.Fatalf("11th try from the guessing network: %d", r.Status)
	}
	if r := owner.logInFrom("203.0.113.9", "jo@example.com", goodPassword); r.Status != http.StatusSeeOther {
		t.Fatalf("owner from another network: %d", r.Status)
	}
	owner.post("/logout", nil)
	// The owner's success did not clear the guessing network's failures.
	if r := attacker.logInFrom("198.51.100.1", "jo@example.com", "guess again"); r.Status != http.StatusTooManyRequests {
		t.Fatalf("the owner's log-in reset the attacker's count: %d", r.Status)
	}

	// Guessing from many networks locks the account for unknown browsers,
	// but not for a browser that logged in to it before.
	for i := range 50 {
		attacker.logInFrom(fmt.Sprintf("198.51.100.%d", 10+i%5*40+i/5), "jo@example.com", fmt.Sprintf("spread guess %d", i))
	}
	stranger := ts.browser(t)
	r := stranger.logInFrom("192.0.2.7", "jo@example.com", goodPassword)
	if r.Status != http.StatusTooManyRequests || !strings.Contains(r.Body, "Email me an unlock link") {
		t.Fatalf("unknown browser during a distributed attack: %d\n%.800s", r.Status, r.Body)
	}
	if r := owner.logInFrom("192.0.2.8", "jo@example.com", goodPassword); r.Status != http.StatusSeeOther {
		t.Fatalf("known browser during a distributed attack: %d", r.Status)
	}

	// The unlock link lets a new browser in.
	if r := stranger.post("/login/unlock-request", url.Values{"email": {"jo@example.com"}}); r.Status != http.StatusOK {
		t.Fatalf("unlock request: %d", r.Status)
	}
	link := linkIn(t, ts.mailTo(t, "jo@example.com"))
	if r := stranger.get(link); r.Status != http.StatusOK {
		t.Fatalf("unlock page: %d", r.Status)
	}
	if r := stranger.post("/login/unlock", url.Values{"token": {strings.TrimPrefix(link, "/login/unlock?token=")}}); r.Status != http.StatusSeeOther {
		t.Fatalf("unlock: %d", r.Status)
	}
	if r := stranger.logInFrom("192.0.2.7", "jo@example.com", goodPassword); r.Status != http.StatusSeeOther {
		t.Fatalf("unlocked browser: %d\n%.500s", r.Status, r.Body)
	}
}
