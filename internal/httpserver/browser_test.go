package httpserver_test

import (
	"bytes"
	"context"
	"errors"
	"image/png"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
)

// TestBrowserAccountJourney walks one person through the account pages in a
// real Chromium: a refused sign-up, sign-up, log out, a wrong and a right
// log-in, a password change, a second browser, and "Log out everywhere". Each
// step checks what the page shows and what the database holds.
func TestBrowserAccountJourney(t *testing.T) {
	ts := newTestServer(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel) // registered first, so it runs after the browsers have closed
	b := newChrome(t, ctx, ts.URL)

	const email = "ada@example.com"
	const newPassword = "a brand new passphrase for ada"

	// A confirmation that does not match is refused on its field, and no
	// account is made.
	b.open("/signup", `form[action="/signup"]`)
	b.fill("email", email, "password", goodPassword, "password_confirm", goodPassword+"!")
	b.submit("Create account", "/signup", "#password_confirm-error")
	b.contains("#password_confirm-error", "The two passwords do not match.")
	wantCount(t, ts, 0, `SELECT count(*) FROM users`)

	// Sign up.
	b.open("/signup", `form[action="/signup"]`)
	b.fill("email", email, "password", goodPassword, "password_confirm", goodPassword)
	b.submit("Create account", "/profile", "#account-title")
	b.contains("#account-title + .details dd", email)
	b.contains(".flash-success", "Your account is ready.")
	wantCount(t, ts, 1, `SELECT count(*) FROM users WHERE email = $1`, email)

	// Log out from the header.
	b.submit("Log out", "/", "#hero-title")
	b.contains(".flash-info", "You have been logged out.")
	b.contains(".site-nav", "Log in")
	b.lacks(".site-nav", email)

	// A wrong password gets the generic message; the right one logs in.
	b.logIn(email, "not the password", false)
	b.logIn(email, goodPassword, true)
	b.contains(".flash-success", "You are logged in.")

	// Change the password; only the new one logs in afterwards.
	b.open("/profile", "#account-title")
	b.fill("current_password", goodPassword, "new_password", newPassword, "new_password_confirm", newPassword)
	b.submit("Change password", "/profile", ".flash-success")
	b.contains(".flash-success", "Your password has been changed.")
	b.submit("Log out", "/", "#hero-title")
	b.logIn(email, goodPassword, false)
	b.logIn(email, newPassword, true)

	// A second browser with its own cookies logs in too, and the first one
	// sees both sessions.
	b2 := b.incognito()
	b2.logIn(email, newPassword, true)
	b.open("/profile", "#account-title")
	if n := b.eval(`document.querySelectorAll("#sessions-title ~ .table-wrap tbody tr").length`); n != 2 {
		t.Fatalf("sessions listed on /profile = %d, want 2", n)
	}
	if n := b.eval(`document.querySelectorAll("tbody .badge").length`); n != 1 {
		t.Fatalf(`"This device" badges = %d, want 1`, n)
	}
	wantCount(t, ts, 2, `SELECT count(*) FROM sessions`)
	b.screenshot()

	// "Log out everywhere" ends both sessions.
	b.submit("Log out everywhere", "/login", `form[action="/login"]`)
	b.contains(".flash-info", "You have been logged out everywhere.")
	b2.open("/profile", `form[action="/login"]`)
	b2.at("/login")
	wantCount(t, ts, 0, `SELECT count(*) FROM sessions`)
}

func wantCount(t *testing.T, ts *testServer, want int, sql string, args ...any) {
	t.Helper()
	if n := ts.count(t, sql, args...); n != want {
		t.Fatalf("%s = %d, want %d", sql, n, want)
	}
}

// chrome is a tab in a headless Chromium, with cookies of its own.
type chrome struct {
	t    *testing.T
	ctx  context.Context
	base string
}

// newChrome starts a browser that lives until the test ends. It skips the
// test when no Chromium is installed, except in CI, which installs one.
func newChrome(t *testing.T, parent context.Context, base string) *chrome {
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
	return &chrome{t: t, ctx: ctx, base: base}
}

// incognito opens a new browser context in the same Chromium: a fresh
// cookie jar, like a second browser, without the cost of starting one.
func (c *chrome) incognito() *chrome {
	c.t.Helper()
	ctx, cancel := chromedp.NewContext(c.ctx, chromedp.WithNewBrowserContext())
	c.t.Cleanup(cancel)
	if err := chromedp.Do(ctx); err != nil {
		c.t.Fatalf("open a browser context: %v", err)
	}
	return &chrome{t: c.t, ctx: ctx, base: c.base}
}

// do runs actions and fails the test with the page's address on error.
func (c *chrome) do(what string, actions ...chromedp.Action[chromedp.Void]) {
	c.t.Helper()
	if err := chromedp.Do(c.ctx, actions...); err != nil {
		loc, _ := chromedp.Run(c.ctx, chromedp.Location())
		c.t.Fatalf("%s (at %s): %v", what, loc, err)
	}
}

// open loads path and waits until ready, a selector of the page it should
// end on, is visible.
func (c *chrome) open(path, ready string) {
	c.t.Helper()
	c.do("open "+path, chromedp.Navigate(c.base+path), chromedp.WaitVisible(chromedp.CSS(ready)))
}

// fill sets the values of inputs, given as id, value pairs. It sets each
// value in one step rather than typing it key by key, which took a third of
// the test's time and proves nothing the server cares about.
func (c *chrome) fill(pairs ...string) {
	c.t.Helper()
	for i := 0; i+1 < len(pairs); i += 2 {
		c.do("fill "+pairs[i], chromedp.SetValue(chromedp.ID(pairs[i]), pairs[i+1]))
	}
}

// submit clicks the button labelled label, waits for the page it loads, and
// checks that the page is path and shows ready.
func (c *chrome) submit(label, path, ready string) {
	c.t.Helper()
	button := chromedp.Search(`//button[normalize-space()="` + label + `"]`)
	clicked := chromedp.WaitEvent(page.LoadEventFired, nil, chromedp.Click(button))
	if _, err := chromedp.Run(c.ctx, clicked); err != nil {
		c.t.Fatalf("click %q: %v", label, err)
	}
	c.do("wait for "+ready, chromedp.WaitVisible(chromedp.CSS(ready)))
	c.at(path)
}

// logIn submits the log-in form; ok says whether it should succeed.
func (c *chrome) logIn(email, password string, ok bool) {
	c.t.Helper()
	c.open("/login", `form[action="/login"]`)
	c.fill("email", email, "password", password)
	if ok {
		c.submit("Log in", "/profile", "#account-title")
		c.contains("#account-title + .details dd", email)
		return
	}
	c.submit("Log in", "/login", ".form-error")
	c.contains(".form-error", "That email and password do not match an account.")
}

// at checks the path of the page the browser shows.
func (c *chrome) at(path string) {
	c.t.Helper()
	loc, err := chromedp.Run(c.ctx, chromedp.Location())
	if err != nil {
		c.t.Fatal(err)
	}
	if u, err := url.Parse(loc); err != nil || u.Path != path {
		c.t.Fatalf("browser is at %s, want path %s", loc, path)
	}
}

// text returns the visible text of the first element sel matches.
func (c *chrome) text(sel string) string {
	c.t.Helper()
	s, err := chromedp.Run(c.ctx, chromedp.Text(chromedp.CSS(sel), chromedp.NodeVisible))
	if err != nil {
		c.t.Fatalf("text of %s: %v", sel, err)
	}
	return s
}

func (c *chrome) contains(sel, want string) {
	c.t.Helper()
	if got := c.text(sel); !strings.Contains(got, want) {
		c.t.Fatalf("%s shows %q, want it to contain %q", sel, got, want)
	}
}

func (c *chrome) lacks(sel, unwanted string) {
	c.t.Helper()
	if got := c.text(sel); strings.Contains(got, unwanted) {
		c.t.Fatalf("%s shows %q, want no %q", sel, got, unwanted)
	}
}

// eval returns the number a JavaScript expression gives.
func (c *chrome) eval(expr string) int {
	c.t.Helper()
	n, err := chromedp.Run(c.ctx, chromedp.Evaluate[int](expr))
	if err != nil {
		c.t.Fatalf("%s: %v", expr, err)
	}
	return n
}

// screenshot captures the whole page as a PNG into the test's temporary
// directory and checks that it decodes to a page-sized image.
func (c *chrome) screenshot() {
	c.t.Helper()
	buf, err := chromedp.Run(c.ctx, chromedp.FullScreenshot(100)) // 100 means PNG
	if err != nil {
		c.t.Fatalf("screenshot: %v", err)
	}
	cfg, err := png.DecodeConfig(bytes.NewReader(buf))
	if err != nil {
		c.t.Fatalf("screenshot is not a PNG: %v", err)
	}
	if cfg.Width < 320 || cfg.Height < 320 {
		c.t.Fatalf("screenshot is %dx%d, want a whole page", cfg.Width, cfg.Height)
	}
	file := filepath.Join(c.t.TempDir(), "profile.png")
	if err := os.WriteFile(file, buf, 0o600); err != nil {
		c.t.Fatal(err)
	}
	c.t.Logf("screenshot: %s (%dx%d, %d bytes)", file, cfg.Width, cfg.Height, len(buf))
}
