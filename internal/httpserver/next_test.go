package httpserver

import (
	"net/url"
	"testing"
)

// FuzzSafeNext checks that whatever safeNext accepts, a browser resolving it
// against this site stays on this site.
func FuzzSafeNext(f *testing.F) {
	for _, s := range []string{"/profile", "//evil.example", "/\\evil", "https://evil.example", "/%2F%2Fevil", "/a?b=//c", "\t/x", "/.//evil"} {
		f.Add(s)
	}
	base, _ := url.Parse("https://dancecard.example/login")
	f.Fuzz(func(t *testing.T, raw string) {
		got := safeNext(raw)
		if got == "" {
			return
		}
		if got != raw {
			t.Fatalf("safeNext rewrote %q to %q", raw, got)
		}
		ref, err := url.Parse(got)
		if err != nil {
			t.Fatalf("accepted unparsable %q", got)
		}
		if u := base.ResolveReference(ref); u.Host != base.Host || u.Scheme != base.Scheme {
			t.Fatalf("safeNext(%q) leaves the site: %s", raw, u)
		}
	})
}
