package httpserver_test

import (
	"bytes"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
)

// logBuffer collects the server's log lines; the server writes from many
// goroutines.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

// withLogs sends everything the server logs, debug lines included, to l.
func withLogs(l *logBuffer) serverOption {
	return func(s *setup) {
		s.opts.Logger = slog.New(slog.NewTextHandler(l, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
}

// wantNoSecret fails when any header of r carries secret.
func wantNoSecret(t *testing.T, what string, r response, secret string) {
	t.Helper()
	for name, vs := range r.Header {
		for _, v := range vs {
			if strings.Contains(v, secret) {
				t.Fatalf("%s: header %s carries the token: %q", what, name, v)
			}
		}
	}
}

// TestTokenHandOff creates an API token on the profile page: the form
// redirects (post/redirect/get), the next profile view shows the secret at
// the top with a copy button, a reload does not, another browser of the
// same user never does, and the secret is in no URL, header or log line.
func TestTokenHandOff(t *testing.T) {
	logs := &logBuffer{}
	ts := newTestServer(t, withLogs(logs))
	b := ts.browser(t)
	b.signUp("hand@example.com", goodPassword)
	other := ts.browser(t) // the same user in another browser
	if r := other.logIn("hand@example.com", goodPassword); r.Status != http.StatusSeeOther {
		t.Fatalf("second browser log in: %d", r.Status)
	}

	created := b.post("/profile/tokens", url.Values{"name": {"nightly sync"}, "scope": {"read"}, "expires_in_days": {"30"}})
	if created.Status != http.StatusSeeOther || created.Location != "/profile/tokens#new-token" {
		t.Fatalf("create: %d %q, want a 303 to /profile/tokens#new-token\n%.500s", created.Status, created.Location, created.Body)
	}
	if strings.Contains(created.Body, "dct_") {
		t.Fatal("the answer to the form carries a token")
	}
	if n := ts.count(t, `SELECT count(*) FROM api_tokens`); n != 1 {
		t.Fatalf("tokens = %d, want 1", n)
	}

	// Another browser of the same user sees the token listed, never its secret.
	if r := other.get("/profile/tokens"); r.Status != http.StatusOK || newTokenRe.MatchString(r.Body) || strings.Contains(r.Body, `id="new-token"`) {
		t.Fatalf("another browser got the hand-off: %d", r.Status)
	}

	// The page the form redirects to shows it once, at the top.
	page := b.get(created.Location)
	m := newTokenRe.FindStringSubmatch(page.Body)
	if page.Status != http.StatusOK || m == nil {
		t.Fatalf("the profile after the redirect does not show the token: %d\n%.2000s", page.Status, page.Body)
	}
	secret := m[1]
	if cc := page.Header.Get("Cache-Control"); cc != "no-store" {
		t.Fatalf("the page with the secret has Cache-Control %q, want no-store", cc)
	}
	callout, list := strings.Index(page.Body, `id="new-token"`), strings.Index(page.Body, `id="tokens"`)
	if callout < 0 || list < 0 || callout > list {
		t.Fatalf("the new token is not at the top of the page (callout at %d, token list at %d)", callout, list)
	}
	for _, want := range []string{"“nightly sync” created", "won’t be shown again", `data-copy="#new-token-secret"`, `/static/copy.js`} {
		if !strings.Contains(page.Body, want) {
			t.Errorf("the callout lacks %q", want)
		}
	}
	wantNoSecret(t, "POST /profile/tokens", created, secret)
	wantNoSecret(t, "GET /profile/tokens", page, secret)

	// A reload shows it no more; the token stays listed by its prefix.
	again := b.get("/profile/tokens")
	if strings.Contains(again.Body, secret) || strings.Contains(again.Body, `id="new-token"`) {
		t.Fatal("a reload shows the token again")
	}
	if !strings.Contains(again.Body, "nightly sync") || !strings.Contains(again.Body, secret[:10]) {
		t.Fatal("the token is not listed after the reload")
	}
	if n := ts.count(t, `SELECT count(*) FROM token_handoffs`); n != 0 {
		t.Fatalf("hand-offs left after the view = %d", n)
	}

	// The secret works for the JSON API.
	if r := ts.browser(t).api(apiCall{method: "GET", path: "/api/v1/me", bearer: secret}); r.Status != http.StatusOK {
		t.Fatalf("the new token does not work: %d %s", r.Status, r.Body)
	}

	// A hand-off waits for its own browser, whatever others view meanwhile.
	b.post("/profile/tokens", url.Values{"name": {"second"}, "scope": {"read"}, "expires_in_days": {"0"}})
	other.get("/profile/tokens")
	if n := ts.count(t, `SELECT count(*) FROM token_handoffs`); n != 1 {
		t.Fatalf("hand-offs after another browser's view = %d, want 1", n)
	}
	second := newTokenRe.FindStringSubmatch(b.get("/profile/tokens").Body)
	if second == nil || second[1] == secret {
		t.Fatal("the second token was not shown to its browser")
	}

	// No log line carries a secret, though every request was logged.
	out := logs.String()
	if !strings.Contains(out, "path=/profile/tokens") {
		t.Fatalf("the capture missed the request log:\n%s", out)
	}
	for _, s := range []string{secret, second[1], "dct_"} {
		if strings.Contains(out, s) {
			t.Fatalf("the log carries a token:\n%s", out)
		}
	}
}

// TestTokenHandOffExpires: a hand-off nobody came for within five minutes
// is not shown, and a token revoked before the view takes its hand-off along.
func TestTokenHandOffExpires(t *testing.T) {
	ts := newTestServer(t)
	b := ts.browser(t)
	b.signUp("late@example.com", goodPassword)
	b.post("/profile/tokens", url.Values{"name": {"late"}, "scope": {"read"}, "expires_in_days": {"30"}})
	var left float64
	ts.DB.QueryRow(t.Context(), `SELECT extract(epoch FROM expires_at - now()) FROM token_handoffs`).Scan(&left)
	if left < 240 || left > 300 {
		t.Fatalf("the hand-off lives %.0f s, want 5 minutes", left)
	}
	if _, err := ts.DB.Exec(t.Context(), `UPDATE token_handoffs SET expires_at = now() - interval '1 second'`); err != nil {
		t.Fatal(err)
	}
	if r := b.get("/profile/tokens"); newTokenRe.MatchString(r.Body) {
		t.Fatal("an expired hand-off was shown")
	}

	b.post("/profile/tokens", url.Values{"name": {"gone"}, "scope": {"read"}, "expires_in_days": {"30"}})
	var id, userID int64
	ts.DB.QueryRow(t.Context(), `SELECT id, user_id FROM api_tokens WHERE name = 'gone'`).Scan(&id, &userID)
	if err := ts.Accounts.RevokeToken(t.Context(), userID, id); err != nil {
		t.Fatal(err)
	}
	if r := b.get("/profile/tokens"); newTokenRe.MatchString(r.Body) {
		t.Fatal("a revoked token's secret was shown")
	}
}

// TestTokenFormReportsEveryError: a create form wrong in every field says
// so for every field at once, keeps what was chosen, and creates nothing.
func TestTokenFormReportsEveryError(t *testing.T) {
	ts := newTestServer(t)
	b := ts.browser(t)
	b.signUp("many@example.com", goodPassword)
	r := b.post("/profile/tokens", url.Values{"name": {"  "}, "scope": {"admin"}, "expires_in_days": {"-4"}})
	if r.Status != http.StatusUnprocessableEntity {
		t.Fatalf("status %d, want 422", r.Status)
	}
	for _, want := range []string{
		"Give the token a name, so you can tell it apart later.",
		"Only administrators may create admin tokens.",
		"Choose when the token expires.",
	} {
		if !strings.Contains(r.Body, want) {
			t.Errorf("the page lacks %q", want)
		}
	}
	r = b.post("/profile/tokens", url.Values{"name": {""}, "scope": {"read"}, "expires_in_days": {"365"}})
	if !strings.Contains(r.Body, `<option value="read" selected>`) || !strings.Contains(r.Body, `<option value="365" selected>`) {
		t.Error("the refused form forgot the scope and expiry chosen")
	}
	if n := ts.count(t, `SELECT count(*) FROM api_tokens`); n != 0 {
		t.Fatalf("tokens = %d, want none", n)
	}
}
