// Package browsertest drives a real headless Chromium (chromedp) for the
// browser tests of every package: one tab with its own cookies, waiting on
// selectors rather than sleeping, failing the test with the page's address.
package browsertest

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

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
)

// Browser is a tab in a headless Chromium, with cookies of its own.
type Browser struct {
	t    *testing.T
	ctx  context.Context
	base string
}

// New starts a browser that lives until the test ends. It skips the
// test when no Chromium is installed, except in CI, which installs one.
func New(t *testing.T, parent context.Context, base string) *Browser {
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
	return &Browser{t: t, ctx: ctx, base: base}
}

// Incognito opens a new browser context in the same Chromium: a fresh
// cookie jar, like a second browser, without the cost of starting one.
func (c *Browser) Incognito() *Browser {
	c.t.Helper()
	ctx, cancel := chromedp.NewContext(c.ctx, chromedp.WithNewBrowserContext())
	c.t.Cleanup(cancel)
	if err := chromedp.Do(ctx); err != nil {
		c.t.Fatalf("open a browser context: %v", err)
	}
	return &Browser{t: c.t, ctx: ctx, base: c.base}
}

// Do runs actions and fails the test with the page's address on error.
func (c *Browser) Do(what string, actions ...chromedp.Action[chromedp.Void]) {
	c.t.Helper()
	if err := chromedp.Do(c.ctx, actions...); err != nil {
		loc, _ := chromedp.Run(c.ctx, chromedp.Location())
		c.t.Fatalf("%s (at %s): %v", what, loc, err)
	}
}

// Open loads path and waits until ready, a selector of the page it should
// end on, is visible.
func (c *Browser) Open(path, ready string) {
	c.t.Helper()
	c.Do("open "+path, chromedp.Navigate(c.base+path), chromedp.WaitVisible(chromedp.CSS(ready)))
}

// Fill sets the values of inputs, given as id, value pairs. It sets each
// value in one step rather than typing it key by key, which took a third of
// the test's time and proves nothing the server cares about.
func (c *Browser) Fill(pairs ...string) {
	c.t.Helper()
	for i := 0; i+1 < len(pairs); i += 2 {
		c.Do("fill "+pairs[i], chromedp.SetValue(chromedp.ID(pairs[i]), pairs[i+1]))
	}
}

// Submit clicks the button labelled label, waits for the page it loads, and
// checks that the page is path and shows ready.
func (c *Browser) Submit(label, path, ready string) {
	c.t.Helper()
	c.Click(`//button[normalize-space()="`+label+`"]`, path, ready)
}

// Follow clicks the link labelled label, as Submit does a button.
func (c *Browser) Follow(label, path, ready string) {
	c.t.Helper()
	c.Click(`//a[normalize-space()="`+label+`"]`, path, ready)
}

// Click clicks what sel finds (CSS or XPath), waits for the page it loads to
// show ready, and, unless path is empty, checks the page's path.
func (c *Browser) Click(sel, path, ready string) {
	c.t.Helper()
	clicked := chromedp.WaitEvent(page.LoadEventFired, nil, chromedp.Click(chromedp.Search(sel)))
	if _, err := chromedp.Run(c.ctx, clicked); err != nil {
		loc, _ := chromedp.Run(c.ctx, chromedp.Location())
		c.t.Fatalf("click %s (at %s): %v", sel, loc, err)
	}
	c.Do("wait for "+ready, chromedp.WaitVisible(chromedp.CSS(ready)))
	if path != "" {
		c.At(path)
	}
}

// Location is the address of the page the browser shows.
func (c *Browser) Location() *url.URL {
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

// At checks the path of the page the browser shows.
func (c *Browser) At(path string) {
	c.t.Helper()
	if u := c.Location(); u.Path != path {
		c.t.Fatalf("browser is at %s, want path %s", u, path)
	}
}

// Text returns the visible text of the first element sel matches.
func (c *Browser) Text(sel string) string {
	c.t.Helper()
	s, err := chromedp.Run(c.ctx, chromedp.Text(chromedp.CSS(sel), chromedp.NodeVisible))
	if err != nil {
		c.t.Fatalf("text of %s: %v", sel, err)
	}
	return s
}

// Contains fails the test unless sel shows want.
func (c *Browser) Contains(sel, want string) {
	c.t.Helper()
	if got := c.Text(sel); !strings.Contains(got, want) {
		c.t.Fatalf("%s shows %q, want it to contain %q", sel, got, want)
	}
}

// Lacks fails the test if sel shows unwanted.
func (c *Browser) Lacks(sel, unwanted string) {
	c.t.Helper()
	if got := c.Text(sel); strings.Contains(got, unwanted) {
		c.t.Fatalf("%s shows %q, want no %q", sel, got, unwanted)
	}
}

// Eval returns the number a JavaScript expression gives.
func (c *Browser) Eval(expr string) int {
	c.t.Helper()
	n, err := chromedp.Run(c.ctx, chromedp.Evaluate[int](expr))
	if err != nil {
		c.t.Fatalf("%s: %v", expr, err)
	}
	return n
}

// Await evaluates expr, waits for the promise it gives, and returns its
// value, which must be a string.
func (c *Browser) Await(expr string) string {
	c.t.Helper()
	v, err := chromedp.Run(c.ctx, chromedp.Evaluate[string](expr, chromedp.EvalAwaitPromise))
	if err != nil {
		c.t.Fatalf("%s: %v", expr, err)
	}
	return v
}

// Screenshot captures the whole page as a PNG into the test's temporary
// directory and checks that it decodes to a page-sized image.
func (c *Browser) Screenshot() {
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
	file := filepath.Join(c.t.TempDir(), "page.png")
	if err := os.WriteFile(file, buf, 0o600); err != nil {
		c.t.Fatal(err)
	}
	c.t.Logf("screenshot: %s (%dx%d, %d bytes)", file, cfg.Width, cfg.Height, len(buf))
}
