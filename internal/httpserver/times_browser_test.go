package httpserver_test

import (
	"context"
	"regexp"
	"strings"
	"testing"
	"time"
	_ "time/tzdata" // Europe/Berlin on machines without a zone database

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"

	"github.com/dancecard/dancecard/internal/browsertest"
)

// TestBrowserTimesInLocalZone opens the profile in a Chromium whose zone is
// Europe/Berlin: a session's last activity (on the security page) and the
// member-since date (on the account page) show
// Berlin's time with relative text, and the full local time in the title.
// With JavaScript off, the same elements show UTC and say so.
func TestBrowserTimesInLocalZone(t *testing.T) {
	ts := newTestServer(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	b := browsertest.New(t, ctx, ts.URL)
	b.Do("live in Berlin", chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		_, err := cdp.Call(ctx, t, emulation.SetTimezoneOverride, emulation.SetTimezoneOverrideParams{TimezoneID: "Europe/Berlin"})
		return err
	}))

	const email = "tz@example.com"
	ts.browser(t).signUp(email, goodPassword) // a session elsewhere, to be seen on the list
	var lastSeen, since time.Time
	if err := ts.DB.QueryRow(t.Context(), `
		UPDATE sessions SET last_seen_at = now() - interval '2 hours 5 minutes' RETURNING last_seen_at`).Scan(&lastSeen); err != nil {
		t.Fatal(err)
	}
	if err := ts.DB.QueryRow(t.Context(), `
		UPDATE users SET created_at = now() - interval '3 days' RETURNING created_at`).Scan(&since); err != nil {
		t.Fatal(err)
	}
	logIn(b, email, goodPassword, true)
	b.Open("/profile/security", "#sessions-title")
	b.Do("wait for local times", chromedp.WaitReady(chromedp.CSS(`time[data-local]`)))

	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Fatal(err)
	}
	seenSel := `time[datetime="` + lastSeen.UTC().Format(time.RFC3339) + `"]`
	sinceSel := `time[datetime="` + since.UTC().Format(time.RFC3339) + `"]`
	local := lastSeen.In(berlin)
	seen := b.Text(seenSel)
	// 24-hour or 12-hour clock, as the browser's locale has it.
	clock := regexp.MustCompile(`\b(` + local.Format("15:04") + `|` + local.Format("3:04") + `\s?[AP]M)\b`)
	if !clock.MatchString(seen) || !strings.Contains(seen, "2 hours ago") || strings.Contains(seen, "UTC") {
		t.Fatalf("last active shows %q, want Berlin's %s and %q", seen, local.Format("15:04"), "2 hours ago")
	}
	if title := b.Await(`Promise.resolve(document.querySelector('` + seenSel + `').title)`); title == "" || strings.Contains(title, "UTC") ||
		!strings.Contains(title, local.Format("2006")) {
		t.Fatalf("last active's title is %q, want the full local time", title)
	}
	if n := b.Eval(`document.querySelectorAll("time:not([data-local])").length`); n != 0 {
		t.Fatalf("%d times were left in UTC", n)
	}
	b.Open("/profile/account", "#account-title")
	b.Do("wait for local times", chromedp.WaitReady(chromedp.CSS(`time[data-local]`)))
	t.Logf("last active shows %q; member since %q", seen, b.Text(sinceSel))
	if got := b.Text(sinceSel); !strings.Contains(got, "3 days ago") || strings.Contains(got, "UTC") {
		t.Fatalf("member since shows %q, want the local date and %q", got, "3 days ago")
	}
	if n := b.Eval(`document.querySelectorAll("time:not([data-local])").length`); n != 0 {
		t.Fatalf("%d times were left in UTC", n)
	}

	// Without JavaScript: UTC, and said so.
	b.Do("turn JavaScript off", chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		_, err := cdp.Call(ctx, t, emulation.SetScriptExecutionDisabled, emulation.SetScriptExecutionDisabledParams{Value: true})
		return err
	}))
	b.Open("/profile/security", "h1")
	if want := lastSeen.UTC().Format("2 Jan 2006, 15:04") + " UTC"; b.Text(seenSel) != want {
		t.Fatalf("without JavaScript last active shows %q, want %q", b.Text(seenSel), want)
	}
	if n := b.Eval(`document.querySelectorAll("time[data-local]").length`); n != 0 {
		t.Fatalf("%d times were rewritten with JavaScript off", n)
	}
	b.Open("/profile/account", "h1")
	if want := since.UTC().Format("2 Jan 2006") + " UTC"; b.Text(sinceSel) != want {
		t.Fatalf("without JavaScript member since shows %q, want %q", b.Text(sinceSel), want)
	}
	if n := b.Eval(`document.querySelectorAll("time[data-local]").length`); n != 0 {
		t.Fatalf("%d times were rewritten with JavaScript off", n)
	}
}
