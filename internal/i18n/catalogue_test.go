package i18n

import (
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	goi18n "github.com/nicksnyder/go-i18n/v2/i18n"
)

// Message ids are found in the sources by the calls that take them:
// t(ctx, "id") and tn(ctx, "id", n) in web, tr(c, "id") and trn(c, "id", n)
// in httpserver, T/N(ctx, "id") of this package, l.T("id") and l.N("id", n)
// of a Localizer, ID("id") in tables, and MessageID: "id" in
// accounts.FieldError.
var (
	idCall = regexp.MustCompile(`(?:\b(?:t|tn|tr|trn|T|N)\(\s*[A-Za-z_][\w.()]*\s*,\s*|\.(?:T|N)\(\s*|\bID\(\s*|\bMessageID:\s*)"([^"]*)"`)
	// pluralCall: the calls that pass a count.
	pluralCall = regexp.MustCompile(`(?:\b(?:tn|trn|N)\(\s*[A-Za-z_][\w.()]*\s*,\s*|\.N\(\s*)"([^"]*)"`)
	// nonLiteral: a helper given an id the scan cannot see.
	nonLiteral = regexp.MustCompile(`\b(?:t|tn|tr|trn)\(\s*[A-Za-z_][\w.()]*\s*,\s*[^"\s]`)
	validID    = regexp.MustCompile(`^[a-z][a-z0-9_]*(\.[a-z0-9_]+)+$`)
	// placeholder finds {{.Name}} (and {{if .Name}}) in a message.
	placeholder = regexp.MustCompile(`\{\{-?\s*(?:if\s+|with\s+)?\.(\w+)`)
)

// sources are the Go and templ files that can show a message: everything
// but tests and generated templ output (which repeats its .templ file).
func sources(t *testing.T) map[string]string {
	t.Helper()
	root := filepath.Join("..", "..")
	out := map[string]string{}
	for _, dir := range []string{"internal", "web", "cmd"} {
		err := filepath.WalkDir(filepath.Join(root, dir), func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			name := d.Name()
			if d.IsDir() || strings.HasSuffix(name, "_test.go") || strings.HasSuffix(name, "_templ.go") ||
				!(strings.HasSuffix(name, ".go") || strings.HasSuffix(name, ".templ")) {
				return nil
			}
			raw, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			out[path] = string(raw)
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	if len(out) < 50 {
		t.Fatalf("found only %d source files under %s: is the test running in internal/i18n?", len(out), root)
	}
	return out
}

// usedIDs are the message ids the sources name, and those they pass a
// count with.
func usedIDs(t *testing.T) (used, plural map[string][]string) {
	t.Helper()
	used, plural = map[string][]string{}, map[string][]string{}
	for path, src := range sources(t) {
		for _, m := range idCall.FindAllStringSubmatch(src, -1) {
			if !validID.MatchString(m[1]) {
				t.Errorf("%s: %q is not a message id (lower-case dotted words): put the text in the catalogues", path, m[1])
				continue
			}
			used[m[1]] = append(used[m[1]], path)
		}
		for _, m := range pluralCall.FindAllStringSubmatch(src, -1) {
			plural[m[1]] = append(plural[m[1]], path)
		}
		for _, m := range nonLiteral.FindAllString(src, -1) {
			t.Errorf("%s: %q: pass message ids as string literals, so this test can check them", path, m)
		}
	}
	if len(used) < 100 {
		t.Fatalf("found only %d message ids in the sources: is the scan broken?", len(used))
	}
	return used, plural
}

// TestCatalogueComplete fails when a message id used in the code lacks an
// English or a German text, when a catalogue keeps an id nobody uses, when
// a count is passed to a message without plural forms (or one with plural
// forms is shown without a count), and when a translation drops or invents
// a placeholder.
func TestCatalogueComplete(t *testing.T) {
	c := Embedded()
	used, plural := usedIDs(t)
	for _, l := range Languages {
		ms := c.Messages(l.Code)
		for _, id := range slices.Sorted(maps.Keys(used)) {
			if m := ms[id]; m == nil || m.Other == "" {
				t.Errorf("%s: %q (used in %s) has no text", l.Code, id, used[id][0])
			}
		}
		for _, id := range slices.Sorted(maps.Keys(ms)) {
			if _, ok := used[id]; !ok {
				t.Errorf("%s: %q is in the catalogue but no code uses it", l.Code, id)
			}
			m := ms[id]
			_, counted := plural[id]
			switch {
			case counted && m.One == "":
				t.Errorf("%s: %q is shown with a count but has no 'one' form", l.Code, id)
			case !counted && m.One != "":
				t.Errorf("%s: %q has plural forms but is shown without a count (use tn/trn/N)", l.Code, id)
			}
		}
	}
	en, de := c.Messages("en"), c.Messages("de")
	for id, m := range en {
		if d := de[id]; d != nil {
			if a, b := placeholders(m), placeholders(d); !slices.Equal(a, b) {
				t.Errorf("%q: English has placeholders %v, German %v", id, a, b)
			}
		}
	}
}

// placeholders lists the {{.Name}}s of every form of a message, Count
// aside in plural messages (a language may leave the number out of its
// singular).
func placeholders(m *goi18n.Message) []string {
	set := map[string]bool{}
	for _, s := range []string{m.Zero, m.One, m.Two, m.Few, m.Many, m.Other} {
		for _, p := range placeholder.FindAllStringSubmatch(s, -1) {
			if p[1] != "Count" || m.One == "" {
				set[p[1]] = true
			}
		}
	}
	return slices.Sorted(maps.Keys(set))
}

// TestCatalogueRenders executes every message in every language with its
// placeholders filled, for each plural form, so that a broken template in
// a translation fails here rather than on a page.
func TestCatalogueRenders(t *testing.T) {
	c := Embedded()
	for _, l := range Languages {
		loc := c.Localizer(l.Code)
		for id, m := range c.Messages(l.Code) {
			data := Data{}
			for _, p := range placeholders(m) {
				data[p] = "X" + p
			}
			counts := []int{-1}
			if m.One != "" {
				counts = []int{1, 2, 5}
			}
			for _, n := range counts {
				lc := &goi18n.LocalizeConfig{MessageID: id, TemplateData: data}
				if n >= 0 {
					data["Count"] = n
					lc.PluralCount = n
				}
				got, err := loc.l.Localize(lc)
				if err != nil || got == "" || strings.Contains(got, "<no value>") {
					t.Errorf("%s %q (count %d): %q, %v", l.Code, id, n, got, err)
				}
			}
		}
	}
}

// TestGermanIsTranslated catches English left in the German catalogue:
// a German text may equal the English one only if it is short (a name, a
// word both languages share) or listed here.
func TestGermanIsTranslated(t *testing.T) {
	same := map[string]bool{"time.date_time": true}
	en, de := Embedded().Messages("en"), Embedded().Messages("de")
	for id, m := range en {
		d := de[id]
		if d == nil || same[id] {
			continue
		}
		if d.Other == m.Other && len(strings.Fields(m.Other)) > 2 {
			t.Errorf("%q: the German text is the English one: %q", id, m.Other)
		}
	}
}

// TestPluralForms: English and German both need "one" and "other" for
// every message shown with a count, and the forms must differ where the
// number is written.
func TestPluralForms(t *testing.T) {
	en := Embedded().Localizer("en")
	de := Embedded().Localizer("de")
	if got := en.N("confirm.log_out_others.question", 1); got != "Log out your 1 other session?" {
		t.Errorf("en one: %q", got)
	}
	if got := en.N("confirm.log_out_others.question", 2); got != "Log out your 2 other sessions?" {
		t.Errorf("en other: %q", got)
	}
	if got := de.N("confirm.log_out_others.question", 1); got != "Ihre andere Sitzung abmelden?" {
		t.Errorf("de one: %q", got)
	}
	if got := de.N("confirm.log_out_others.question", 3); got != "Ihre 3 anderen Sitzungen abmelden?" {
		t.Errorf("de other: %q", got)
	}
}

func TestMatch(t *testing.T) {
	c := Embedded()
	for _, tt := range []struct {
		accept  string
		choices []string
		want    string
	}{
		{"", nil, "en"},
		{"de", nil, "de"},
		{"de-CH,de;q=0.9,en;q=0.5", nil, "de"},
		{"fr-FR,fr;q=0.9", nil, "en"},
		{"fr,de;q=0.5", nil, "de"},
		{"en-GB,de;q=0.5", nil, "en"},
		{"garbage;;q=x", nil, "en"},
		{"en", []string{"de"}, "de"},
		{"de", []string{"", "en"}, "en"},
		{"de", []string{"xx"}, "de"},
	} {
		if got := c.Match(tt.accept, tt.choices...); got != tt.want {
			t.Errorf("Match(%q, %q) = %q, want %q", tt.accept, tt.choices, got, tt.want)
		}
	}
}
