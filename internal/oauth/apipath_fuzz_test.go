package oauth_test

import (
	"errors"
	"net/url"
	"path"
	"strings"
	"testing"

	"github.com/dancecard/dancecard/internal/oauth"
)

// FuzzAPIURL feeds arbitrary caller paths and queries to APIURL, the proxy's
// guard against calls that leave a provider's API. Whatever it accepts must,
// as the transport sends it and as the provider's server reads it, stay on
// the API's scheme and host and below its path, with no dot segment or
// encoded slash left to move it; whatever it refuses is ErrInvalidPath.
func FuzzAPIURL(f *testing.F) {
	for _, seed := range []string{
		"user", "repos/o/r/issues", "a%20b/c", "x/", "", "..", "../admin", "%2e%2e/admin", "a/%2F/b",
		"//evil.example/x", "http://evil.example", "@evil.example", "a@b/c", "user%40evil.example",
		"a\\b", "%5c", "a//b", "%00", "a%zz", "%2E", ".%2e", "a/./b", "~user;p=1/x:y", "é",
	} {
		f.Add(seed, "page=2&per_page=50")
	}
	f.Add("user", "a=%2F&b=..#frag")
	f.Add("user", "a b")
	bases := []string{"https://api.example.com/v3/", "https://api.example.com", "http://127.0.0.1:8080/a%20b"}
	f.Fuzz(func(t *testing.T, apiPath, rawQuery string) {
		for _, base := range bases {
			u, err := oauth.APIURL(&oauth.Provider{ID: "fuzz", APIBaseURL: base}, apiPath, rawQuery)
			if err != nil {
				if !errors.Is(err, oauth.ErrInvalidPath) {
					t.Fatalf("APIURL(%q, %q): %v is not ErrInvalidPath", apiPath, rawQuery, err)
				}
				continue
			}
			checkAPIURL(t, base, apiPath, rawQuery, u)
		}
	})
}

// checkAPIURL fails unless u, as it goes over the wire, is under base.
func checkAPIURL(t *testing.T, base, apiPath, rawQuery string, u *url.URL) {
	t.Helper()
	b := mustParse(t, base)
	prefix := b.EscapedPath()
	if !strings.HasSuffix(prefix, "/") {
		prefix += "/"
	}
	// What the provider's server parses from the request.
	sent, err := url.Parse(u.String())
	switch {
	case err != nil:
		t.Fatalf("APIURL(%q) = %q, which does not parse: %v", apiPath, u, err)
	case sent.Scheme != b.Scheme || sent.Host != b.Host || sent.User != nil || sent.Fragment != "":
		t.Fatalf("APIURL(%q, %q) = %q leaves %s", apiPath, rawQuery, u, base)
	case sent.RawQuery != rawQuery:
		t.Fatalf("APIURL(%q, %q) sends the query %q", apiPath, rawQuery, sent.RawQuery)
	case !strings.HasPrefix(sent.EscapedPath(), prefix) || !strings.HasPrefix(u.RequestURI(), prefix):
		t.Fatalf("APIURL(%q) = %q is not below %s", apiPath, u, prefix)
	}
	// A server that resolves dot segments, or decodes before splitting,
	// must still find the path below the prefix.
	decodedPrefix, _ := url.PathUnescape(prefix)
	if clean := path.Clean(sent.Path); !strings.HasPrefix(clean+"/", decodedPrefix) {
		t.Fatalf("APIURL(%q) = %q resolves to %q, outside %s", apiPath, u, clean, decodedPrefix)
	}
	if got, want := strings.Count(sent.Path, "/"), strings.Count(sent.EscapedPath(), "/"); got != want {
		t.Fatalf("APIURL(%q) = %q carries an encoded slash", apiPath, u)
	}
	for _, seg := range strings.Split(strings.TrimPrefix(sent.Path, decodedPrefix), "/") {
		if seg == "." || seg == ".." || strings.ContainsAny(seg, "\\") {
			t.Fatalf("APIURL(%q) = %q has the segment %q", apiPath, u, seg)
		}
	}
}
