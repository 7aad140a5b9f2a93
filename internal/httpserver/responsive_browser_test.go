package httpserver_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
	"github.com/pquerna/otp/totp"

	"github.com/dancecard/dancecard/internal/accounts"
	"github.com/dancecard/dancecard/internal/browsertest"
	"github.com/dancecard/dancecard/internal/devprovider"
)

// withDevProvider runs the server as dev mode does: the built-in provider
// mounted at /dev/provider with its DevHub and DevBird, and the dev banner.
func withDevProvider(s *setup) {
	base := s.opts.BaseURL.String()
	s.providers = append(s.providers, devprovider.Providers(base)...)
	s.opts.DevProvider = devprovider.New(base)
	s.opts.Dev = true
}

// TestBrowserResponsive visits every page type in Chromium as a phone (360
// and 390 CSS pixels, touch) and as a desktop (1280): no page may be wider
// than the screen, and axe-core may find nothing serious or critical. On a
// phone every button, form control and navigation link must also be a
// 44-pixel touch target, and chart labels readable. It saves screenshots of
// the busiest pages to $DANCECARD_SCREENSHOTS (else a temporary directory)
// and logs what /profile and /admin/events weigh.
func TestBrowserResponsive(t *testing.T) {
	// In German too: its words are longer, and a phone must still fit them.
	for _, lang := range []string{"en", "de"} {
		t.Run(lang, func(t *testing.T) { checkResponsive(t, lang) })
	}
}

// speak makes b ask for pages in lang.
func speak(b *browsertest.Browser, lang string) *browsertest.Browser {
	b.Do("speak "+lang, chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		if _, err := cdp.Call(ctx, t, network.Enable, network.EnableParams{}); err != nil {
			return err
		}
		_, err := cdp.Call(ctx, t, network.SetExtraHTTPHeaders, network.SetExtraHTTPHeadersParams{
			Headers: network.Headers{"Accept-Language": lang}})
		return err
	}))
	return b
}

func checkResponsive(t *testing.T, lang string) {
	ts := newTestServer(t, withDevMailbox, withDevProvider)
	ctx, cancel := context.WithTimeout(context.Background(), 120*time.Second)
	t.Cleanup(cancel)
	ts.seedList(t, 12)
	parkDelivery(t, ts)
	if _, _, err := ts.Accounts.EnsureAdmin(ctx, "boss@example.com", goodPassword); err != nil {
		t.Fatal(err)
	}
	lc := newLayoutCheck(t, lang)
	start := time.Now()
	b := speak(browsertest.New(t, ctx, ts.URL), lang)

	// A visitor.
	lc.visit(b, "home", "/")
	lc.visit(b, "sign-up", "/signup")
	lc.visit(b, "log-in", "/login")
	lc.shoot(b, "login")
	b.Fill("email", "nobody@example.com", "password", "not the password")
	b.Click(`form[action="/login"] button[type=submit]`, "/login", ".form-error")
	lc.check(b, "log-in refused")
	lc.visit(b, "forgot password", "/password/forgot")
	lc.visit(b, "reset link invalid", "/password/reset?token=x")
	lc.visit(b, "verification link invalid", "/email/verify?token=x")
	lc.visit(b, "not found", "/no/such/page")

	// A user: sign up, link a DevHub account through the consent page, and
	// DevBird too, which then needs reconnecting.
	const email = "ada.lovelace-byron@analytical-engine.example.com"
	u := speak(b.Incognito(), lang)
	u.Open("/signup", `form[action="/signup"]`)
	u.Fill("email", email, "password", goodPassword, "password_confirm", goodPassword)
	u.Click(`form[action="/signup"] button[type=submit]`, "/profile", "main h1")
	u.Click(`form[action="/auth/devhub/connect"] button[type=submit]`, "", `input[name=identity]`)
	lc.check(u, "dev provider consent")
	u.Click(`button[name=decision][value=approve]`, "/profile", "main h1")
	u.Click(`form[action="/auth/devbird/connect"] button[type=submit]`, "", `input[name=identity]`)
	u.Do("pick Grace", chromedp.Click(chromedp.CSS(`input[name=identity][value="1002"]`)))
	u.Click(`button[name=decision][value=approve]`, "/profile", "main h1")
	// A second DevHub account, so the page has a primary and another.
	u.Click(`form.connect-another[action="/auth/devhub/connect"] button[type=submit]`, "", `input[name=identity]`)
	u.Do("pick Linus", chromedp.Click(chromedp.CSS(`input[name=identity][value="1003"]`)))
	u.Click(`button[name=decision][value=approve]`, "/profile", "main h1")
	if _, err := ts.DB.Exec(ctx, `UPDATE connections SET status = 'needs_reauth' WHERE provider = 'devbird'`); err != nil {
		t.Fatal(err)
	}
	wantCount(t, ts, 3, `SELECT count(*) FROM connections c JOIN users u ON u.id = c.user_id WHERE u.email = $1`, email)
	// Check the DevHub account: the result on its card.
	u.Click(`form[action$="/check"] button[type=submit]`, "/profile", ".flash-success")
	// Reconnecting DevBird asks for Grace, whom the consent page preselects.
	u.Click(`form[action$="/reconnect"] button[type=submit]`, "", `input[name=identity][value="1002"]:checked`)
	lc.check(u, "dev provider consent, reconnecting")
	u.Open("/profile", "main h1")

	// Two API tokens, one with a long name in one piece, and a passkey.
	var userID int64
	if err := ts.DB.QueryRow(ctx, `SELECT id FROM users WHERE email = $1`, email).Scan(&userID); err != nil {
		t.Fatal(err)
	}
	user, err := ts.Accounts.User(ctx, userID)
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"nightly sync", "ci-deploy-token-for-the-staging-cluster-in-eu-west-1"} {
		if _, _, err := ts.Accounts.CreateToken(ctx, user, accounts.NewToken{Name: name, Scope: accounts.ScopeProxy}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := ts.DB.Exec(ctx, `INSERT INTO passkeys (user_id, credential_id, public_key, name)
		VALUES ($1, '\x0102', '\x0304', 'YubiKey 5C NFC on the blue keyring')`, userID); err != nil {
		t.Fatal(err)
	}

	// Two-step verification: the set-up page and the recovery codes.
	u.Open("/profile/security", "main h1")
	u.Click(`form[action="/profile/mfa/totp"] button[type=submit]`, "", ".totp-secret")
	lc.check(u, "authenticator set-up")
	secret := strings.ReplaceAll(u.Text(".totp-secret"), " ", "")
	code, err := totp.GenerateCode(secret, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	u.Fill("code", code)
	u.Click(`form[action="/profile/mfa/totp/confirm"] button[type=submit]`, "", "#recovery-codes")
	lc.check(u, "recovery codes")

	// A second session, which logs in with a code.
	u2 := speak(b.Incognito(), lang)
	u2.Open("/login", `form[action="/login"]`)
	u2.Fill("email", email, "password", goodPassword)
	u2.Click(`form[action="/login"] button[type=submit]`, "/login/mfa", "#code")
	lc.check(u2, "log-in code")
	u2.Fill("code", nextCode(secret, 1))
	u2.Click(`form[action="/login/mfa"] button[type=submit]`, "/profile", "main h1")

	lc.visit(u, "profile: connections", "/profile")
	lc.shoot(u, "profile")
	lc.weigh(u, "/profile")
	lc.visit(u, "profile: security", "/profile/security")
	lc.shoot(u, "profile-security")
	lc.visit(u, "profile: API tokens", "/profile/tokens")
	lc.visit(u, "profile: account", "/profile/account")
	lc.visit(u, "re-authentication", "/reauth")

	// A new API token, shown once at the top of the page it redirects to.
	u.Open("/profile/tokens", "main h1")
	u.Fill("name", "laptop script")
	u.Click(`form[action="/profile/tokens"] button[type=submit]`, "", "#new-token")
	lc.check(u, "new API token")

	// Disconnecting asks first: in a dialog with JavaScript, on a page of
	// its own without (here: a submit() that skips confirm.js).
	u.Open("/profile", "main h1")
	u.Do("ask in a dialog", chromedp.Click(chromedp.CSS(`form[action^="/connections/"][action$="/delete"] button[type=submit]`)),
		chromedp.WaitVisible(chromedp.CSS(`dialog[open] [data-confirm-button]`)))
	lc.check(u, "confirmation dialog")
	u.Do("cancel", chromedp.Click(chromedp.CSS(`dialog[open] button[value=cancel]`)),
		chromedp.WaitNotPresent(chromedp.CSS(`dialog[open]`)))
	u.Navigate(`document.querySelector('form[action^="/connections/"][action$="/delete"]').submit()`, "#confirm-title")
	lc.check(u, "confirmation page")
	wantCount(t, ts, 3, `SELECT count(*) FROM connections WHERE user_id = $1`, userID)

	// An administrator.
	a := speak(b.Incognito(), lang)
	a.Open("/login", `form[action="/login"]`)
	a.Fill("email", "boss@example.com", "password", goodPassword)
	a.Click(`form[action="/login"] button[type=submit]`, "", "main h1")
	lc.visit(a, "admin dashboard", "/admin/")
	lc.labels(a)
	lc.shoot(a, "admin-dashboard")
	lc.visit(a, "admin users", "/admin/users")
	lc.visit(a, "admin user", fmt.Sprintf("/admin/users/%d", userID))
	lc.visit(a, "admin connections", "/admin/connections")
	lc.visit(a, "admin events", "/admin/events")
	lc.shoot(a, "admin-events")
	lc.weigh(a, "/admin/events")
	lc.visit(a, "admin deliveries", "/admin/deliveries")
	lc.visit(a, "admin mail", "/admin/mail")
	lc.visit(b, "dev mailbox", "/dev/mail")
	b.Click(`main table a`, "", "main h1")
	lc.check(b, "dev mailbox message")

	t.Logf("%d pages checked in %s; scrollWidth/clientWidth at 360, 390 and 1280 px:\n%s",
		lc.pages, time.Since(start).Round(time.Millisecond), strings.Join(lc.widths, "\n"))
	for rule, pages := range lc.minor {
		t.Logf("axe-core, not serious: %s on %s", rule, strings.Join(pages, ", "))
	}
}

// A viewport the pages must fit.
type viewport struct {
	name          string
	width, height int64
	phone         bool // touch, the viewport meta tag, 44-pixel targets
	axe           bool // run axe-core here too
}

var viewports = []viewport{
	{"360", 360, 780, true, false},
	{"390", 390, 844, true, true},
	{"1280", 1280, 900, false, true},
}

// touchTargets are what a finger must hit on a phone: buttons, form
// controls, the labels of checkboxes and radio buttons, and navigation
// links. Links inside running text are exempt, as WCAG 2.5.8 exempts them.
const touchTargets = `button, .btn, select, textarea, summary, input:not([type=hidden], [type=checkbox], [type=radio]),
	label:has(> input[type=checkbox], > input[type=radio]), .check, nav a`

// scrollingTables names each table wrapper that scrolls sideways, with
// the innermost elements that stick out of it.
const scrollingTables = `[...document.querySelectorAll(".table-wrap")].filter(w => w.scrollWidth > w.clientWidth).map(w => {
	const right = w.getBoundingClientRect().right;
	const out = [...w.querySelectorAll("tbody *")].filter(e => e.getBoundingClientRect().right > right + 0.5 &&
		![...e.children].some(k => k.getBoundingClientRect().right > right + 0.5));
	return (w.getAttribute("aria-label") || w.getAttribute("aria-labelledby") || "table") + " is " + w.scrollWidth + " px wide: " +
		out.slice(0, 3).map(e => e.tagName.toLowerCase() + [...e.classList].map(k => "." + k).join("") + ' "' + e.textContent.trim().slice(0, 40) + '"').join(", ");
})`

// layoutCheck measures pages at every viewport and reports what is wrong
// with each as a test error, so one run lists every page that fails.
type layoutCheck struct {
	t      *testing.T
	dir    string              // where screenshots go
	pages  int                 // how many were checked
	widths []string            // each page's scrollWidth at each viewport, for the log
	minor  map[string][]string // axe-core's lesser findings: rule, then pages
}

func newLayoutCheck(t *testing.T, lang string) *layoutCheck {
	dir := os.Getenv("DANCECARD_SCREENSHOTS")
	if dir == "" {
		dir = t.TempDir()
	} else if lang != "en" {
		dir = filepath.Join(dir, lang)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return &layoutCheck{t: t, dir: dir, minor: map[string][]string{}}
}

// visit opens path in b and checks it.
func (lc *layoutCheck) visit(b *browsertest.Browser, name, path string) {
	lc.t.Helper()
	b.Open(path, "main")
	lc.check(b, name)
}

// check measures the page b shows at every viewport and leaves b at the
// desktop width.
func (lc *layoutCheck) check(b *browsertest.Browser, name string) {
	lc.t.Helper()
	lc.pages++
	where := b.Location().RequestURI()
	// On a phone, tables turn into stacked rows, each value after its
	// column's name, which comes from the cell's data-label.
	if n := b.Eval(`document.querySelectorAll(".table td:not([data-label], .cell-action)").length`); n > 0 {
		lc.t.Errorf("%s (%s): %d table cells have no data-label to name their column on phones", name, where, n)
	}
	line := fmt.Sprintf("%-28s", name)
	for _, vp := range viewports {
		b.Viewport(vp.width, vp.height, vp.phone)
		scroll, client := b.Widths()
		line += fmt.Sprintf(" %5d/%d", scroll, client)
		if scroll > client {
			lc.t.Errorf("%s (%s) at %s px: the page is %d px wide in a %d px viewport; too wide: %s",
				name, where, vp.name, scroll, client, strings.Join(b.Overflowing(), ", "))
		}
		if vp.phone {
			if wide := b.Strings(scrollingTables); len(wide) > 0 {
				lc.t.Errorf("%s (%s) at %s px: tables scroll sideways instead of stacking their rows: %s",
					name, where, vp.name, strings.Join(wide, "; "))
			}
			if small := b.SmallTargets(touchTargets, 44); len(small) > 0 {
				lc.t.Errorf("%s (%s) at %s px: touch targets under 44 px: %s", name, where, vp.name, strings.Join(small, "; "))
			}
		}
		if vp.axe {
			for _, v := range b.Axe() {
				if v.Serious() {
					lc.t.Errorf("%s (%s) at %s px: axe-core: %s", name, where, vp.name, v)
				} else if rule := v.ID + " (" + v.Impact + ", " + v.Nodes[0].Target + ")"; !slices.Contains(lc.minor[rule], name) {
					lc.minor[rule] = append(lc.minor[rule], name)
				}
			}
		}
	}
	lc.widths = append(lc.widths, line)
}

// shoot saves full-page screenshots of what b shows at 390 and 1280 px.
func (lc *layoutCheck) shoot(b *browsertest.Browser, name string) {
	lc.t.Helper()
	for _, vp := range viewports[1:] {
		b.Viewport(vp.width, vp.height, vp.phone)
		b.ScreenshotAs(lc.dir, name+"-"+vp.name+".png")
	}
}

// chartText is the smallest size, in CSS pixels on screen, of the text in
// the dashboard's charts, whether HTML beside the bars or SVG scaled with
// them, and how many pieces of text there are.
const chartText = `(() => {
	const els = [...document.querySelectorAll("#logins-chart *, #providers-chart *")].filter(e =>
		[...e.childNodes].some(n => n.nodeType === 3 && n.textContent.trim()) && e.getBoundingClientRect().height > 0);
	const size = e => parseFloat(getComputedStyle(e).fontSize) * (e instanceof SVGGraphicsElement ? e.getScreenCTM().a : 1);
	return [els.length, els.length ? Math.floor(Math.min(...els.map(size))) : 0];
})()`

// labels fails unless the dashboard's charts have text and all of it is
// at least 10 px on screen at every viewport: a chart drawn in SVG scales
// with its card, and text inside it with it.
func (lc *layoutCheck) labels(b *browsertest.Browser) {
	lc.t.Helper()
	for _, vp := range viewports {
		b.Viewport(vp.width, vp.height, vp.phone)
		got := b.Ints(chartText)
		if got[0] == 0 || got[1] < 10 {
			lc.t.Errorf("dashboard at %s px: the smallest of %d chart labels is %d px, want 10 or more", vp.name, got[0], got[1])
		}
	}
}

// weigh logs the bytes the page b shows took: its HTML and every
// stylesheet, script and image, as sent (bodies, which the server does not
// compress), and what this load transferred (files from the cache count 0).
func (lc *layoutCheck) weigh(b *browsertest.Browser, path string) {
	lc.t.Helper()
	var sent, moved int
	var parts []string
	for _, r := range b.Resources() {
		sent += r.Encoded
		moved += r.Transfer
		name := r.URL
		if i := strings.Index(name, "/static/"); i >= 0 {
			name = name[i:]
		} else {
			name = r.Type
		}
		parts = append(parts, fmt.Sprintf("%s %d", name, r.Encoded))
	}
	lc.t.Logf("weight of %s: %d bytes of bodies (%s); %d bytes transferred on this load", path, sent, strings.Join(parts, ", "), moved)
}
