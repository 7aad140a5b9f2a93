package browsertest_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/dancecard/dancecard/internal/browsertest"
)

// badPage breaks two axe-core rules (an image without alt text, a button
// without a name), is wider than a phone, and has a 20-pixel button.
const badPage = `<!DOCTYPE html><html lang="en"><head><title>Bad</title>
<meta name="viewport" content="width=device-width, initial-scale=1"></head>
<body><main><h1>Bad</h1><img src="/x.png"><button style="width:20px;height:20px"></button>
<div id="wide" style="width:1000px">wide</div></main></body></html>`

// TestHelpersSeeProblems checks that the helpers find what they are for,
// so a page test that passes does not pass because a helper saw nothing.
func TestHelpersSeeProblems(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// The page's CSP forbids scripts: axe-core must run all the same.
		w.Header().Set("Content-Security-Policy", "default-src 'self'; script-src 'self'; style-src 'unsafe-inline'")
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_, _ = w.Write([]byte(badPage))
	}))
	t.Cleanup(srv.Close)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	b := browsertest.New(t, ctx, srv.URL)
	b.Open("/", "h1")

	var ids []string
	for _, v := range b.Axe() {
		if v.Serious() {
			ids = append(ids, v.ID)
			if len(v.Nodes) == 0 || v.Nodes[0].Target == "" || !strings.Contains(v.String(), v.Nodes[0].Target) {
				t.Errorf("violation %s names no element: %s", v.ID, v)
			}
		}
	}
	for _, want := range []string{"image-alt", "button-name"} {
		if !slices.Contains(ids, want) {
			t.Errorf("axe-core found %v, want %s among them", ids, want)
		}
	}
	if again := b.Axe(); len(again) < len(ids) { // axe-core is in the page now
		t.Errorf("a second run found %d violations, the first %d serious ones", len(again), len(ids))
	}

	b.Viewport(390, 844, true)
	if scroll, client := b.Widths(); client != 390 || scroll < 1000 {
		t.Errorf("widths at 390 px: scroll %d, client %d; want 1000+ in 390", scroll, client)
	}
	if over := b.Overflowing(); len(over) != 1 || !strings.HasPrefix(over[0], "div#wide reaches ") {
		t.Errorf("overflowing = %q, want only div#wide", over)
	}
	if small := b.SmallTargets("button", 44); len(small) != 1 || !strings.Contains(small[0], "20x20") {
		t.Errorf("small targets = %q, want the 20x20 button", small)
	}
	if rs := b.Resources(); len(rs) == 0 || rs[0].Type != "navigation" || rs[0].Decoded != len(badPage) {
		t.Errorf("resources = %+v, want the page first with its %d bytes", rs, len(badPage))
	}
	file := b.ScreenshotAs(t.TempDir(), "bad.png")
	if !strings.HasSuffix(file, "bad.png") {
		t.Errorf("screenshot saved as %s", file)
	}
}
