package web

import (
	"encoding/xml"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/dancecard/dancecard/internal/oauth"
)

// TestEveryPresetHasAMark: each preset names a brand colour and a mark
// that this package draws; the mark is well-formed SVG, drawn in white
// only, inside its 24-unit square.
func TestEveryPresetHasAMark(t *testing.T) {
	for name, p := range oauth.Presets() {
		if !colourRE.MatchString(p.Colour) {
			t.Errorf("preset %s: colour %q is not #rrggbb", name, p.Colour)
		}
		if !HasMark(p.Mark) {
			t.Errorf("preset %s: no drawing for mark %q", name, p.Mark)
		}
	}
	colours := regexp.MustCompile(`(?:fill|stroke)="([^"]+)"`)
	for name, d := range markDrawings {
		if err := xml.Unmarshal([]byte("<svg>"+d+"</svg>"), new(struct{})); err != nil {
			t.Errorf("mark %s is not well-formed: %v", name, err)
		}
		for _, m := range colours.FindAllStringSubmatch(d, -1) {
			if m[1] != "#fff" && m[1] != "none" {
				t.Errorf("mark %s draws in %s, not white", name, m[1])
			}
		}
		if strings.Contains(d, "<script") || strings.Contains(d, "style") || strings.Contains(d, "href") {
			t.Errorf("mark %s carries more than shapes", name)
		}
	}
}

// TestProviderMark: a preset's mark on its colour; a custom provider's
// initial on a neutral tint; a colour that is not #rrggbb never reaches
// the page.
func TestProviderMark(t *testing.T) {
	gh := render(t, providerMark(Brand{ID: "github", Name: "GitHub", Mark: "github", Colour: "#24292f"}))
	if !strings.Contains(gh, `data-mark="github"`) || !strings.Contains(gh, `fill="#24292f"`) || !strings.Contains(gh, `aria-hidden="true"`) {
		t.Errorf("preset mark: %s", gh)
	}
	custom := render(t, providerMark(Brand{ID: "company-sso", Name: "<Company> SSO"}))
	if custom != `<span class="provider-mark tint-`+providerTint("company-sso")[len("provider-mark tint-"):]+` provider-initial" aria-hidden="true">&lt;</span>` {
		t.Errorf("custom mark: %s", custom)
	}
	for _, b := range []Brand{{ID: "x", Name: "Evil", Mark: "github", Colour: `red" onload="alert(1)`}, {ID: "x", Name: "Evil", Mark: "nope", Colour: "#000000"}} {
		if html := render(t, providerMark(b)); strings.Contains(html, "<svg") || strings.Contains(html, "onload") {
			t.Errorf("%+v drew a mark: %s", b, html)
		}
	}
}

// TestConnectionCards: marks, what "Primary" means, connect another, the
// check and make-primary buttons, and what the last check and error say.
func TestConnectionCards(t *testing.T) {
	v := testProfile()
	for i := range v.Connections[:2] {
		v.Connections[i].ProviderMark, v.Connections[i].ProviderColour = "github", "#24292f"
	}
	v.ConnectProviders[0].Mark, v.ConnectProviders[0].Colour = "github", "#24292f"
	checked := v.Connections[0].CreatedAt.AddDate(0, 0, 3)
	v.Connections[0].CheckedAt = &checked
	failed := checked.Add(-48 * 3600e9)
	v.Connections[1].CheckedAt, v.Connections[1].LastErrorAt = &failed, &failed
	v.Connections[1].LastError, v.Connections[1].LastErrorDetail = "provider_error", "HTTP 502"
	html := render(t, ProfileConnectionsPage(testPage(&User{ID: 1}), v))
	for _, want := range []string{
		`<h3 id="provider-github-title">GitHub</h3>`,
		`2 accounts`,
		`Your <strong>primary</strong> GitHub account is the one Dancecard uses`,
		`Connect another GitHub account</button>`,
		`<span class="badge badge-primary">Primary</span>`,
		`action="/connections/c2/primary"`,
		`aria-label="Make primary: GitHub account @octo-work"`,
		`aria-label="Check connection: GitHub account @octo">Check connection</button>`,
		`action="/connections/c-3/check"`,
		`<span class="status status-ok">Working</span>`,
		`<span class="status status-bad">Check failed</span>`,
		`GitHub answered with an error (HTTP 502).`,
		`<span class="muted">(<time datetime="` + failed.UTC().Format(time.RFC3339) + `"`,
		`<h3 id="provider-evil-title">Evil</h3>`,
		`<span>Connect &lt;Company&gt; SSO</span>`,
		`Account number c1`,
	} {
		if !strings.Contains(html, want) {
			t.Errorf("connections page lacks %s", want)
		}
	}
	for _, unwanted := range []string{`action="/connections/c1/primary"`, `action="/connections/c-3/primary"`, "@dateTime",
		`Connect another Evil account`, `<span>Connect GitHub</span>`} {
		if strings.Contains(html, unwanted) {
			t.Errorf("connections page shows %s", unwanted)
		}
	}
	if n := strings.Count(html, `data-mark="github"`); n != 3 { // the group's and each card's
		t.Errorf("%d GitHub marks, want one on the group and each card", n)
	}
}
