package web

import (
	"strings"
	"testing"
	"time"
)

// TestTimesAreUTCWithoutScript: whatever zone the database driver hands
// over, a page writes the moment in UTC, says so, and gives time.js an RFC
// 3339 UTC datetime to work from.
func TestTimesAreUTCWithoutScript(t *testing.T) {
	tokyo := time.FixedZone("JST", 9*3600)
	at := time.Date(2025, 3, 5, 1, 30, 0, 0, tokyo) // 4 Mar 2025, 16:30 UTC
	cases := []struct {
		name, got, want string
	}{
		{"dateTime", render(t, dateTime(at)),
			`<time datetime="2025-03-04T16:30:00Z" title="4 Mar 2025, 16:30 UTC">4 Mar 2025, 16:30 UTC</time>`},
		{"dateOnly", render(t, dateOnly(at)),
			`<time datetime="2025-03-04T16:30:00Z" data-precision="day" title="4 Mar 2025, 16:30 UTC">4 Mar 2025 UTC</time>`},
		{"optionalDate nil", render(t, optionalDate(nil, "Never")), `<span class="muted">Never</span>`},
		{"optionalDateTime", render(t, optionalDateTime(&at, "Never")), `>4 Mar 2025, 16:30 UTC</time>`},
		{"zero dateTime", render(t, dateTime(time.Time{})), `<span class="muted">—</span>`},
	}
	for _, c := range cases {
		if !strings.Contains(c.got, c.want) {
			t.Errorf("%s = %s, want %s", c.name, c.got, c.want)
		}
	}
}

// TestEveryPageLoadsTimeJS: the layout brings the script that shows times
// in the reader's zone.
func TestEveryPageLoadsTimeJS(t *testing.T) {
	for name, html := range pages(t) {
		if strings.Contains(html, "<html") && !strings.Contains(html, `<script src="/static/time.js?v=abc123" defer></script>`) {
			t.Errorf("%s does not load time.js", name)
		}
		// templ takes "@f(x)" right after text for text: a time lost.
		for _, call := range []string{"@dateTime(", "@dateOnly(", "@optionalDate"} {
			if strings.Contains(html, call) {
				t.Errorf("%s shows %q as text", name, call)
			}
		}
	}
}

func TestCountOf(t *testing.T) {
	for n, want := range map[int64]string{0: "0 sessions", 1: "1 session", 2: "2 sessions", 1000: "1000 sessions"} {
		if got := countOf(n, "session", "sessions"); got != want {
			t.Errorf("countOf(%d) = %q, want %q", n, got, want)
		}
	}
}

// TestNewTokenCallout: a token just made is shown at the top of the
// profile, its secret in a <code> the copy button names, with the warning
// that it will not be shown again; hostile names stay text.
func TestNewTokenCallout(t *testing.T) {
	exp := time.Date(2025, 6, 2, 10, 30, 0, 0, time.UTC)
	v := testProfile()
	v.NewTokens = []NewToken{{Name: "<b>sync</b>", Scope: "read", Secret: "dct_secret123", ExpiresAt: &exp}}
	html := render(t, wholeProfile(testPage(&User{ID: 1, Email: "a@example.com"}), v))
	callout, account := strings.Index(html, `id="new-token"`), strings.Index(html, `id="account"`)
	if callout < 0 || callout > account {
		t.Fatalf("the new token is not above the account section (%d, %d)", callout, account)
	}
	for _, want := range []string{
		`API token “&lt;b&gt;sync&lt;/b&gt;” created`,
		`<code class="break" id="new-token-secret">dct_secret123</code>`,
		`data-copy="#new-token-secret" aria-describedby="new-token-copied" hidden>`,
		`<script src="/static/copy.js?v=abc123" defer></script>`,
		`won’t be shown again`,
		`expires <time datetime="2025-06-02T10:30:00Z"`,
	} {
		if !strings.Contains(html, want) {
			t.Errorf("the callout lacks %s", want)
		}
	}
	if html := render(t, wholeProfile(testPage(&User{ID: 1}), testProfile())); strings.Contains(html, `id="new-token"`) {
		t.Error("a profile without a new token shows the callout")
	}
}
