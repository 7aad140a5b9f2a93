package oauth_test

import (
	"errors"
	"testing"

	"github.com/dancecard/dancecard/internal/oauth"
)

// apiPathBypasses are paths that reach no dot segment or separator for Go's
// url package, but do for some server behind a provider's API: Tomcat and
// Spring strip ";params", some apps decode twice, lenient UTF-8 decoders
// accept overlong forms, some stacks NFKC-normalise, IIS decodes %uXXXX and
// Windows drops trailing dots and spaces.
var apiPathBypasses = []struct{ name, path string }{
	{"tomcat dot-dot params", "a/..;/x"},
	{"tomcat dot-dot jsessionid", "a/..;jsessionid=1/admin"},
	{"tomcat dot params", "a/.;x/b"},
	{"encoded dot-dot with params", "a/%2e%2e;x/admin"},
	{"mixed case and literal dots with params", "a/.%2E;p=1/admin"},
	{"encoded semicolon", "a/..%3bx/admin"},
	{"encoded dots and semicolon", "a/%2e%2e%3B/admin"},
	{"double-encoded dot-dot", "%252e%252e/admin"},
	{"double-encoded mixed case", "a/%252E%252e/admin"},
	{"double-encoded dot and literal dot", "a/.%252e/admin"},
	{"double-encoded with params", "a/%252e%252e;x/admin"},
	{"triple-encoded dot-dot", "a/%25252e%25252e/admin"},
	{"encoded four times", "a/%2525252e%2525252e/admin"},
	{"double-encoded slash", "a/..%252fadmin"},
	{"double-encoded backslash", "a/..%255cadmin"},
	{"double-encoded slash in a name", "a%252Fb"},
	{"double-encoded slash with params", "a/x;p=%252f"},
	{"double-encoded NUL", "a/x%2500"},
	{"overlong dot-dot", "a/%c0%ae%c0%ae/admin"},
	{"overlong dot, three bytes", "a/%e0%80%ae%e0%80%ae/admin"},
	{"overlong slash", "a/..%c0%afadmin"},
	{"double-encoded overlong", "a/%25c0%25ae%25c0%25ae/admin"},
	{"invalid UTF-8", "a/%ff"},
	{"fullwidth full stops", "a/%ef%bc%8e%ef%bc%8e/admin"},
	{"fullwidth full stop with params", "a/%EF%BC%8E%EF%BC%8E;x/admin"},
	{"fullwidth and literal dot", "a/.%ef%bc%8e/admin"},
	{"double-encoded fullwidth", "a/%25ef%25bc%258e%25ef%25bc%258e/admin"},
	{"one dot leaders", "a/%e2%80%a4%e2%80%a4/admin"},
	{"two dot leader", "a/%e2%80%a5/admin"},
	{"small full stops", "a/%ef%b9%92%ef%b9%92/admin"},
	{"small full stop", "a/%ef%b9%92"},
	{"horizontal ellipsis", "a/%e2%80%a6/admin"},
	{"fullwidth semicolon", "a/..%ef%bc%9bx/admin"},
	{"fullwidth solidus", "a/..%ef%bc%8fadmin"},
	{"fullwidth reverse solidus", "a/..%ef%bc%bcadmin"},
	{"small reverse solidus", "a/..%ef%b9%a8admin"},
	{"division slash", "a/..%e2%88%95admin"},
	{"fullwidth percent", "a/%ef%bc%852e%ef%bc%852e/admin"},
	{"IIS %u after double decoding", "a/%25u002e%25u002e/admin"},
	{"IIS %u slash after double decoding", "a/..%25u2215admin"},
	{"three dots", "a/.../admin"},
	{"dot-dot and trailing space", "a/..%20/admin"},
	{"dot-dot and trailing dot encoded", "a/.%2e./admin"},
	{"dot-dot around zero-width space", "a/.%e2%80%8b./admin"},
	{"empty after params", "a/;x/admin"},
	{"double-encoded colon in first segment", "http%253A/x"},
}

func TestAPIURLRefusesServerDotSegments(t *testing.T) {
	t.Parallel()
	for _, tc := range apiPathBypasses {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			for _, base := range []string{"https://api.example.com/v3/", "https://jira.example.com/rest/api/2"} {
				p := &oauth.Provider{ID: "jira", APIBaseURL: base}
				if u, err := oauth.APIURL(p, tc.path, ""); !errors.Is(err, oauth.ErrInvalidPath) {
					t.Errorf("APIURL(%q) under %s = %v, %v; want ErrInvalidPath", tc.path, base, u, err)
				}
			}
		})
	}
}

// TestAPIURLKeepsOrdinaryPaths holds the guard to what real APIs need:
// dots inside names, escaped characters, UTF-8, matrix parameters, and
// queries, which are never read as a path.
func TestAPIURLKeepsOrdinaryPaths(t *testing.T) {
	t.Parallel()
	p := &oauth.Provider{ID: "hub", APIBaseURL: "https://api.example.com/v3/"}
	for _, tc := range []struct{ path, query, want string }{
		{"repos/o/r/contents/a.b.c", "", "/v3/repos/o/r/contents/a.b.c"},
		{"users/octo%40cat", "", "/v3/users/octo%40cat"},
		{"search", "q=a..b&p=../%2e%2e;x", "/v3/search?q=a..b&p=../%2e%2e;x"},
		{"files/%E2%9C%93.txt", "", "/v3/files/%E2%9C%93.txt"},
		{"files/caf%C3%A9", "", "/v3/files/caf%C3%A9"},
		{"api/v1.2/x", "", "/v3/api/v1.2/x"},
		{"a/...x/x.../.x./x..", "", "/v3/a/...x/x.../.x./x.."},
		{"a/%E2%80%A6x", "", "/v3/a/%E2%80%A6x"},
		{"a/%EF%BC%A1", "", "/v3/a/%EF%BC%A1"},
		{"files/100%25", "", "/v3/files/100%25"},
		{"files/a%2520b", "", "/v3/files/a%2520b"},
		{"a;b=c/x;y/z;", "", "/v3/a;b=c/x;y/z;"},
		{"a/%20", "", "/v3/a/%20"},
		{"rest/api/2/issue/PROJ-1", "expand=names", "/v3/rest/api/2/issue/PROJ-1?expand=names"},
	} {
		u, err := oauth.APIURL(p, tc.path, tc.query)
		if err != nil {
			t.Errorf("APIURL(%q, %q): %v", tc.path, tc.query, err)
			continue
		}
		if got := u.RequestURI(); got != tc.want {
			t.Errorf("APIURL(%q, %q) sends %q, want %q", tc.path, tc.query, got, tc.want)
		}
	}
}
