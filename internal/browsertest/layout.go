package browsertest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"image/png"
	"os"
	"path/filepath"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
)

// Viewport makes the tab width CSS pixels wide and height tall. A mobile
// viewport is a phone's: the page's viewport meta tag applies, touch events
// are on, and (pointer: coarse) matches, as on a real phone.
func (c *Browser) Viewport(width, height int64, mobile bool) {
	c.t.Helper()
	c.Do("set the viewport", chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		if _, err := cdp.Call(ctx, t, emulation.SetDeviceMetricsOverride, emulation.SetDeviceMetricsOverrideParams{
			Width: width, Height: height, DeviceScaleFactor: 1, Mobile: mobile}); err != nil {
			return err
		}
		touch := emulation.SetTouchEmulationEnabledParams{Enabled: mobile}
		if mobile {
			touch.MaxTouchPoints = 5
		}
		_, err := cdp.Call(ctx, t, emulation.SetTouchEmulationEnabled, touch)
		return err
	}))
}

// Widths returns the document's scrollWidth and clientWidth: a page wider
// than its viewport has a scrollWidth above its clientWidth and drags
// sideways.
func (c *Browser) Widths() (scroll, client int) {
	c.t.Helper()
	return c.Eval(`document.documentElement.scrollWidth`), c.Eval(`document.documentElement.clientWidth`)
}

// Overflowing names up to ten elements whose right edge lies beyond the
// viewport, innermost first, with how far each reaches: what makes a page
// wider than the screen.
func (c *Browser) Overflowing() []string {
	c.t.Helper()
	const js = `(() => {
	const w = document.documentElement.clientWidth, out = [];
	for (const el of document.querySelectorAll("body *")) {
		const r = el.getBoundingClientRect();
		if (r.width === 0 || r.right <= w + 0.5) continue;
		if ([...el.children].some(k => k.getBoundingClientRect().right > w + 0.5)) continue;
		out.push(el.tagName.toLowerCase() + (el.id ? "#" + el.id : "") +
			[...el.classList].map(k => "." + k).join("") + " reaches " + Math.round(r.right) + "px");
		if (out.length === 10) break;
	}
	return out;
})()`
	out, err := chromedp.Run(c.ctx, chromedp.Evaluate[[]string](js))
	if err != nil {
		c.t.Fatalf("find overflowing elements: %v", err)
	}
	return out
}

// SmallTargets names the visible elements sel matches that are shorter or
// narrower than size CSS pixels: touch targets too small for a finger.
func (c *Browser) SmallTargets(sel string, size int) []string {
	c.t.Helper()
	const js = `((sel, size) => [...document.querySelectorAll(sel)].filter(el => {
	const r = el.getBoundingClientRect(), s = getComputedStyle(el);
	return r.width > 0 && r.height > 0 && s.visibility !== "hidden" && (r.height < size - 0.5 || r.width < size - 0.5);
}).slice(0, 10).map(el => {
	const r = el.getBoundingClientRect();
	return el.tagName.toLowerCase() + (el.id ? "#" + el.id : "") + [...el.classList].map(k => "." + k).join("") +
		' "' + (el.textContent || el.value || "").trim().slice(0, 30) + '" ' + Math.round(r.width) + "x" + Math.round(r.height);
}))`
	quoted, _ := json.Marshal(sel)
	out, err := chromedp.Run(c.ctx, chromedp.Evaluate[[]string](fmt.Sprintf("(%s)(%s, %d)", js, quoted, size)))
	if err != nil {
		c.t.Fatalf("measure touch targets: %v", err)
	}
	return out
}

// ScreenshotAs captures the whole page as a PNG into dir/name and returns
// the file's path. It fails the test unless the image decodes to a page
// at least as wide as the viewport.
func (c *Browser) ScreenshotAs(dir, name string) string {
	c.t.Helper()
	buf, err := chromedp.Run(c.ctx, chromedp.FullScreenshot(100)) // 100 means PNG
	if err != nil {
		c.t.Fatalf("screenshot: %v", err)
	}
	cfg, err := png.DecodeConfig(bytes.NewReader(buf))
	if err != nil {
		c.t.Fatalf("screenshot is not a PNG: %v", err)
	}
	if _, client := c.Widths(); cfg.Width < client || cfg.Height < 200 {
		c.t.Fatalf("screenshot is %dx%d, want a whole page %d wide", cfg.Width, cfg.Height, client)
	}
	file := filepath.Join(dir, name)
	if err := os.WriteFile(file, buf, 0o644); err != nil {
		c.t.Fatal(err)
	}
	c.t.Logf("screenshot: %s (%dx%d)", file, cfg.Width, cfg.Height)
	return file
}

// Resource is one file the page loaded, as the Resource Timing API saw it:
// Transfer counts headers and body on the wire (0 when it came from the
// cache), Encoded the body as sent, Decoded the body once uncompressed.
type Resource struct {
	URL      string `json:"url"`
	Type     string `json:"type"` // "navigation" for the page itself, else "link", "script", "img", ...
	Transfer int    `json:"transfer"`
	Encoded  int    `json:"encoded"`
	Decoded  int    `json:"decoded"`
}

// Resources lists the page and every file it has loaded so far.
func (c *Browser) Resources() []Resource {
	c.t.Helper()
	const js = `performance.getEntriesByType("navigation").concat(performance.getEntriesByType("resource")).map(e => ({
	url: e.name, type: e.entryType === "navigation" ? "navigation" : e.initiatorType,
	transfer: e.transferSize, encoded: e.encodedBodySize, decoded: e.decodedBodySize}))`
	out, err := chromedp.Run(c.ctx, chromedp.Evaluate[[]Resource](js))
	if err != nil {
		c.t.Fatalf("read resource timings: %v", err)
	}
	return out
}

// Strings returns the list of strings a JavaScript expression gives.
func (c *Browser) Strings(expr string) []string {
	c.t.Helper()
	out, err := chromedp.Run(c.ctx, chromedp.Evaluate[[]string](expr))
	if err != nil {
		c.t.Fatalf("%s: %v", expr, err)
	}
	return out
}

// Ints returns the list of numbers a JavaScript expression gives.
func (c *Browser) Ints(expr string) []int {
	c.t.Helper()
	out, err := chromedp.Run(c.ctx, chromedp.Evaluate[[]int](expr))
	if err != nil {
		c.t.Fatalf("%s: %v", expr, err)
	}
	return out
}

// Navigate runs js, which must load another page (a form's submit(), say),
// and waits for that page to show ready.
func (c *Browser) Navigate(js, ready string) {
	c.t.Helper()
	loaded := chromedp.WaitEvent(page.LoadEventFired, nil, chromedp.Evaluate[bool](js+";true"))
	if _, err := chromedp.Run(c.ctx, loaded); err != nil {
		loc, _ := chromedp.Run(c.ctx, chromedp.Location())
		c.t.Fatalf("%s (at %s): %v", js, loc, err)
	}
	c.Do("wait for "+ready, chromedp.WaitVisible(chromedp.CSS(ready)))
}
