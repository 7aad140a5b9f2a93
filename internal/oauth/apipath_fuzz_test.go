package oauth_test

import (
	"errors"
	"net/url"
	"path"
	"strings"
	"testing"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"

	"github.com/dancecard/dancecard/internal/oauth"
)

// FuzzAPIURL feeds arbitrary caller paths and queries to APIURL, the proxy's
// guard against calls that leave a provider's API. Whatever it accepts must,
// as the transport sends it and as the provider's server reads it, stay on
// the API's scheme and host and below its path, with no dot segment or
// encoded slash left to move it, even for a server that decodes twice,
// NFKC-normalises or cuts ";params" off segments; whatever it refuses is
// ErrInvalidPath.
func FuzzAPIURL(f *testing.F) {
	for _, seed := range []string{
		"user", "repos/o/r/issues", "a%20b/c", "x/", "", "..", "../admin", "%2e%2e/admin", "a/%2F/b",
		"//evil.example/x", "http://evil.example", "@evil.example", "a@b/c", "user%40evil.example",
		"a\\b", "%5c", "a//b", "%00", "a%zz", "%2E", ".%2e", "a/./b", "~user;p=1/x:y", "é",
		"repos/o/r/contents/a.b.c", "users/octo%40cat", "files/%E2%9C%93.txt", "api/v1.2/x", "a/...x/x..",
		"files/100%25", "files/a%2520b", "a;b=c/x;y/z;", "a/%20", "a/%E2%80%A6x", "a/%EF%BC%A1",
	} {
		f.Add(seed, "page=2&per_page=50")
	}
	for _, tc := range apiPathBypasses {
		f.Add(tc.path, "")
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
	checkServerReadings(t, apiPath, sent.EscapedPath(), prefix)
}

// checkServerReadings fails unless escaped, read as servers behind an API
// may read it (each segment decoded up to twice, NFKC-normalised or not,
// ";params" cut off), is valid UTF-8 with no slash or backslash inside a
// segment, has no dot segment past prefix, and resolves below prefix.
func checkServerReadings(t *testing.T, apiPath, escaped, prefix string) {
	t.Helper()
	for decodes := 0; decodes <= 2; decodes++ {
		for _, nfkc := range []bool{false, true} {
			read := func(p string) string {
				segs := strings.Split(p, "/")
				for i, seg := range segs {
					for range decodes {
						if d, err := url.PathUnescape(seg); err == nil {
							seg = d
						}
					}
					if nfkc {
						seg = norm.NFKC.String(seg)
					}
					if !utf8.ValidString(seg) || strings.ContainsAny(seg, "/\\") {
						t.Fatalf("APIURL(%q) sends %q, whose segment reads as %q (decoded %d times, NFKC %v)", apiPath, escaped, seg, decodes, nfkc)
					}
					segs[i], _, _ = strings.Cut(seg, ";")
					if i > strings.Count(prefix, "/")-1 && (segs[i] == "." || segs[i] == "..") {
						t.Fatalf("APIURL(%q) sends %q, whose segment %q reads as a dot segment (decoded %d times, NFKC %v)", apiPath, escaped, seg, decodes, nfkc)
					}
				}
				return strings.Join(segs, "/")
			}
			readPrefix := read(prefix)
			if clean := path.Clean(read(escaped)); !strings.HasPrefix(clean+"/", readPrefix) {
				t.Fatalf("APIURL(%q) sends %q, which resolves to %q outside %q (decoded %d times, NFKC %v)", apiPath, escaped, clean, readPrefix, decodes, nfkc)
			}
		}
	}
}
