package main

import (
	"context"
	"errors"
	"net/url"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
	"github.com/jackc/pgx/v5"

	"github.com/dancecard/dancecard/internal/postgres/pgtest"
)

// TestBrowserDanceJourney boots the real program in dev mode and, in a real
// Chromium, signs up with a password, connects devhub (OAuth 2) and devbird
// (OAuth 1.0a) through the dev provider's consent page, logs out and back in
// with devhub, disconnects devbird, and in a second browser context makes a
// provider-only user whose last connection cannot be disconnected. Each step
// checks what the page shows and, where it matters, what the database holds.
func TestBrowserDanceJourney(t *testing.T) {
	dbURL := pgtest.NewURL(t)
	s := startServe(t, map[string]string{"DATABASE_URL": dbURL})
	db, err := pgx.Connect(context.Background(), dbURL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close(context.Background()) })
	count := func(want int, sql string, args ...any) {
		t.Helper()
		var n int
		if err := db.QueryRow(context.Background(), sql, args...).Scan(&n); err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
		if n != want {
			t.Fatalf("%s = %d, want %d", sql, n, want)
		}
	}

	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel) // registered before the browser, so it runs after it has closed
	b := newDanceChrome(t, ctx, s.base)

	const email = "dancer@example.com"
	const password = "a long enough passphrase for the dancer"

	// 1. Sign up with email and password.
	b.open("/signup", `form[action="/signup"]`)
	b.fill("email", email, "password", password, "password_confirm", password)
	b.click(`//button[normalize-space()="Create account"]`, "/profile", "#account-title")
	b.contains("#account-title + .details dd", email)
	b.contains(".flash-success", "Your account is ready.")
	count(1, `SELECT count(*) FROM users WHERE email = $1 AND password_hash IS NOT NULL`, email)

	// 2. Connect devhub (OAuth 2) as ada.
	b.click(`//button[.//span[normalize-space()="Connect DevHub"]]`, "", `button[value="approve"]`)
	b.consent("1001", nil)
	b.contains(".flash-success", "Connected your DevHub account")
	b.contains(".connection-list", "DevHub")
	b.contains(".connection-list", "@ada")
	count(1, `SELECT count(*) FROM connections c JOIN users u ON u.id = c.user_id
		WHERE u.email = $1 AND c.provider = 'devhub' AND c.provider_user_id = '1001'`, email)

	// 3. Connect devbird (OAuth 1.0a) as grace.
	b.click(`//button[.//span[normalize-space()="Connect DevBird"]]`, "", `button[value="approve"]`)
	b.consent("1002", nil)
	b.contains(".flash-success", "Connected your DevBird account")
	b.contains(".connection-list", "DevBird")
	b.contains(".connection-list", "@grace")
	if n := b.eval(`document.querySelectorAll(".connection-list > .connection").length`); n != 2 {
		t.Fatalf("connections listed = %d, want 2", n)
	}
	count(1, `SELECT count(*) FROM connections c JOIN users u ON u.id = c.user_id
		WHERE u.email = $1 AND c.provider = 'devbird' AND c.provider_user_id = '1002' AND c.token_secret IS NOT NULL`, email)

	// 4. Log out, then log in with devhub: the same account comes back.
	b.click(`//button[normalize-space()="Log out"]`, "/", "#hero-title")
	b.contains(".flash-info", "You have been logged out.")
	count(0, `SELECT count(*) FROM sessions`)
	b.open("/login", `form[action="/login"]`)
	b.click(`//button[.//span[normalize-space()="Log in with DevHub"]]`, "", `button[value="approve"]`)
	b.consent("1001", nil)
	b.contains(".flash-success", "You are logged in with DevHub.")
	b.contains("#account-title + .details dd", email)
	count(1, `SELECT count(*) FROM users`+notDemo)

	// 5. Disconnect devbird.
	b.click(`button[aria-label="Disconnect DevBird account @grace"]`, "/profile", ".flash-success")
	b.contains(".flash-success", "The account was disconnected.")
	b.lacks(".connection-list", "DevBird")
	b.contains(".connection-list", "@ada")
	count(0, `SELECT count(*) FROM connections WHERE provider = 'devbird'`)

	// 6. A fresh browser context logs in with devhub as someone new: a
	// provider-only user is made, and its only connection cannot go.
	b2 := b.incognito()
	b2.open("/login", `form[action="/login"]`)
	b2.click(`//button[.//span[normalize-space()="Log in with DevHub"]]`, "", `button[value="approve"]`)
	b2.consent("custom", []string{"custom_id", "u-solo", "custom_login", "solo", "custom_name", "Solo Dancer", "custom_email", "solo@dev.test"})
	b2.contains(".flash-success", "Your account was created with DevHub.")
	b2.contains("#account-title + .details dd", "solo@dev.test")
	b2.contains(".connection-list", "@solo")
	count(1, `SELECT count(*) FROM users WHERE email = 'solo@dev.test' AND password_hash IS NULL`)
	count(2, `SELECT count(*) FROM users`+notDemo)
	b2.click(`button[aria-label="Disconnect DevHub account @solo"]`, "/profile", ".flash-error")
	b2.contains(".flash-error", "last way to log in")
	b2.contains(".connection-list", "@solo")
	count(1, `SELECT count(*) FROM connections c JOIN users u ON u.id = c.user_id
		WHERE u.email = 'solo@dev.test' AND c.provider = 'devhub' AND c.provider_user_id = 'u-solo'`)

	// The first browser is still logged in as the dancer, with devhub only.
	b.open("/profile", "#account-title")
	b.contains("#account-title + .details dd", email)
	if n := b.eval(`document.querySelectorAll(".connection-list > .connection").length`); n != 1 {
		t.Fatalf("connections listed for the dancer = %d, want 1", n)
	}
}

// notDemo leaves out the demo administrator dev mode creates.
const notDemo = ` WHERE email IS DISTINCT FROM '` + demoAdminEmail + `'`

// danceChrome is a tab in a headless Chromium, with cookies of its own. It
// follows internal/httpserver/browser_test.go.
type danceChrome struct {
	t    *testing.T
	ctx  context.Context
	base string
}

// newDanceChrome starts a browser that lives until the test ends. It skips
// the test when no Chromium is installed, except in CI, which installs one.
func newDanceChrome(t *testing.T, parent context.Context, base string) *danceChrome {
	t.Helper()
	opts := []chromedp.ExecAllocatorOption{
		chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 900),
	}
	if _, err := os.Stat("/usr/bin/chromium"); err == nil {
		opts = append(opts, chromedp.ExecPath("/usr/bin/chromium"))
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(parent, opts...)
	ctx, cancelTab := chromedp.NewContext(actx)
	t.Cleanup(func() { cancelTab(); cancelAlloc() })
	if err := chromedp.Do(ctx); err != nil {
		if errors.Is(err, exec.ErrNotFound) && os.Getenv("CI") == "" {
			t.Skipf("no Chromium found (install the chromium package to run browser tests): %v", err)
		}
		t.Fatalf("start Chromium: %v", err)
	}
	return &danceChrome{t: t, ctx: ctx, base: base}
}

// incognito opens a new browser context in the same Chromium: a fresh
// cookie jar, like a second browser.
func (c *danceChrome) incognito() *danceChrome {
	c.t.Helper()
	ctx, cancel := chromedp.NewContext(c.ctx, chromedp.WithNewBrowserContext())
	c.t.Cleanup(cancel)
	if err := chromedp.Do(ctx); err != nil {
		c.t.Fatalf("open a browser context: %v", err)
	}
	return &danceChrome{t: c.t, ctx: ctx, base: c.base}
}

func (c *danceChrome) do(what string, actions ...chromedp.Action[chromedp.Void]) {
	c.t.Helper()
	if err := chromedp.Do(c.ctx, actions...); err != nil {
		loc, _ := chromedp.Run(c.ctx, chromedp.Location())
		c.t.Fatalf("%s (at %s): %v", what, loc, err)
	}
}

// open loads path and waits until ready is visible.
func (c *danceChrome) open(path, ready string) {
	c.t.Helper()
	c.do("open "+path, chromedp.Navigate(c.base+path), chromedp.WaitVisible(chromedp.CSS(ready)))
}

// fill sets the values of inputs, given as id, value pairs.
func (c *danceChrome) fill(pairs ...string) {
	c.t.Helper()
	for i := 0; i+1 < len(pairs); i += 2 {
		c.do("fill "+pairs[i], chromedp.SetValue(chromedp.ID(pairs[i]), pairs[i+1]))
	}
}

// click clicks the button sel finds (CSS or XPath), waits for the page it
// loads to show ready, and, unless path is empty, checks the page's path.
func (c *danceChrome) click(sel, path, ready string) {
	c.t.Helper()
	clicked := chromedp.WaitEvent(page.LoadEventFired, nil, chromedp.Click(chromedp.Search(sel)))
	if _, err := chromedp.Run(c.ctx, clicked); err != nil {
		loc, _ := chromedp.Run(c.ctx, chromedp.Location())
		c.t.Fatalf("click %s (at %s): %v", sel, loc, err)
	}
	c.do("wait for "+ready, chromedp.WaitVisible(chromedp.CSS(ready)))
	if path != "" {
		c.at(path)
	}
}

// consent answers the dev provider's consent page as identity (a preset id,
// or "custom" with custom field id, value pairs) and approves; the dance
// must end on /profile.
func (c *danceChrome) consent(identity string, custom []string) {
	c.t.Helper()
	loc := c.location()
	if !strings.Contains(loc.Path, "/dev/provider/") {
		c.t.Fatalf("not on the dev provider's consent page: %s", loc)
	}
	c.contains("h1", "Authorize Dancecard?")
	c.do("choose identity "+identity, chromedp.Click(chromedp.CSS(`input[name="identity"][value="`+identity+`"]`)))
	c.fill(custom...)
	if c.eval(`document.querySelector('input[name="email_verified"]').checked ? 1 : 0`) != 1 {
		c.t.Fatal("email_verified is not checked by default")
	}
	if c.eval(`document.querySelector('input[name="failure"][value="none"]').checked ? 1 : 0`) != 1 {
		c.t.Fatal(`failure "none" is not chosen by default`)
	}
	c.click(`button[value="approve"]`, "/profile", "#account-title")
}

func (c *danceChrome) location() *url.URL {
	c.t.Helper()
	loc, err := chromedp.Run(c.ctx, chromedp.Location())
	if err != nil {
		c.t.Fatal(err)
	}
	u, err := url.Parse(loc)
	if err != nil {
		c.t.Fatal(err)
	}
	return u
}

func (c *danceChrome) at(path string) {
	c.t.Helper()
	if u := c.location(); u.Path != path {
		c.t.Fatalf("browser is at %s, want path %s", u, path)
	}
}

func (c *danceChrome) text(sel string) string {
	c.t.Helper()
	s, err := chromedp.Run(c.ctx, chromedp.Text(chromedp.CSS(sel), chromedp.NodeVisible))
	if err != nil {
		c.t.Fatalf("text of %s: %v", sel, err)
	}
	return s
}

func (c *danceChrome) contains(sel, want string) {
	c.t.Helper()
	if got := c.text(sel); !strings.Contains(got, want) {
		c.t.Fatalf("%s shows %q, want it to contain %q", sel, got, want)
	}
}

func (c *danceChrome) lacks(sel, unwanted string) {
	c.t.Helper()
	if got := c.text(sel); strings.Contains(got, unwanted) {
		c.t.Fatalf("%s shows %q, want no %q", sel, got, unwanted)
	}
}

func (c *danceChrome) eval(expr string) int {
	c.t.Helper()
	n, err := chromedp.Run(c.ctx, chromedp.Evaluate[int](expr))
	if err != nil {
		c.t.Fatalf("%s: %v", expr, err)
	}
	return n
}
