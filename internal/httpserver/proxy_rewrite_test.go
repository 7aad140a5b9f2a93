package httpserver

import (
	"net/http"
	"net/url"
	"testing"

	"github.com/dancecard/dancecard/internal/oauth"
)

// rewriteFor is the rewrite of a call to GET {api}repos/o/r/issues?page=1
// through route, for a provider whose api_base_url is api.
func rewriteFor(t *testing.T, api, route, tokenParam string, connectionID int64) *proxyRewrite {
	t.Helper()
	p := &oauth.Provider{ID: "hub", APIBaseURL: api, TokenParam: tokenParam}
	base, _ := url.Parse("https://dc.example/")
	rw, err := newProxyRewrite(p, base, proxyTarget{provider: "hub", path: "repos/o/r/issues", route: route}, "page=1", connectionID)
	if err != nil {
		t.Fatal(err)
	}
	return rw
}

func TestRewriteProxyURL(t *testing.T) {
	const route = "/api/v1/providers/hub/api/"
	const proxy = "https://dc.example" + route
	for _, c := range []struct {
		name, api, in, want string
	}{
		{"absolute, below the base", "https://api.example.com/v3/", "https://api.example.com/v3/repos/o/r/issues?page=2&per_page=10",
			proxy + "repos/o/r/issues?page=2&per_page=10"},
		{"the query byte for byte", "https://api.example.com/v3/", "https://api.example.com/v3/search?q=a+b%2Fc&&x=%E2%9C%93&flag",
			proxy + "search?q=a+b%2Fc&&x=%E2%9C%93&flag"},
		{"escaped path kept", "https://api.example.com/v3/", "https://api.example.com/v3/repos/o%20o/r%E2%9C%93",
			proxy + "repos/o%20o/r%E2%9C%93"},
		{"fragment kept", "https://api.example.com/v3/", "https://api.example.com/v3/a#b", proxy + "a#b"},
		{"the base itself", "https://api.example.com/v3/", "https://api.example.com/v3/", proxy},
		{"the base without its slash", "https://api.example.com/v3/", "https://api.example.com/v3?x=1", proxy + "?x=1"},
		{"base configured without a slash", "https://api.example.com/v3", "https://api.example.com/v3/user", proxy + "user"},
		{"base at the root", "https://api.example.com/", "https://api.example.com/user", proxy + "user"},
		{"base at the root without a slash", "https://api.example.com", "https://api.example.com/user", proxy + "user"},
		{"host case and default port", "https://api.example.com/v3/", "HTTPS://API.Example.COM:443/v3/user", proxy + "user"},
		{"userinfo dropped", "https://api.example.com/v3/", "https://u:p@api.example.com/v3/user", proxy + "user"},
		{"dot segments removed", "https://api.example.com/v3/", "https://api.example.com/v3/a/../b/./c", proxy + "b/c"},

		// Relative references resolve against .../v3/repos/o/r/issues?page=1.
		{"query only", "https://api.example.com/v3/", "?page=3", proxy + "repos/o/r/issues?page=3"},
		{"empty reference", "https://api.example.com/v3/", "", proxy + "repos/o/r/issues?page=1"},
		{"path relative", "https://api.example.com/v3/", "comments?page=2", proxy + "repos/o/r/comments?page=2"},
		{"path relative upwards", "https://api.example.com/v3/", "../../x", proxy + "repos/x"},
		{"path absolute", "https://api.example.com/v3/", "/v3/user/repos?page=2", proxy + "user/repos?page=2"},
		{"scheme relative", "https://api.example.com/v3/", "//api.example.com/v3/user", proxy + "user"},

		// Outside the base: absolute URLs as they came, relative ones
		// made absolute at the provider.
		{"another host", "https://api.example.com/v3/", "https://codeload.example.com/o/r/tar.gz/main",
			"https://codeload.example.com/o/r/tar.gz/main"},
		{"a look-alike host", "https://api.example.com/v3/", "https://api.example.com.evil.example/v3/user",
			"https://api.example.com.evil.example/v3/user"},
		{"another scheme", "https://api.example.com/v3/", "http://api.example.com/v3/user", "http://api.example.com/v3/user"},
		{"another port", "https://api.example.com/v3/", "https://api.example.com:8443/v3/user", "https://api.example.com:8443/v3/user"},
		{"a sibling path", "https://api.example.com/v3/", "https://api.example.com/v30/user", "https://api.example.com/v30/user"},
		{"above the base", "https://api.example.com/v3/", "https://api.example.com/login", "https://api.example.com/login"},
		{"climbing out", "https://api.example.com/v3/", "https://api.example.com/v3/../oauth/token", "https://api.example.com/v3/../oauth/token"},
		{"relative, above the base", "https://api.example.com/v3/", "/login?next=x", "https://api.example.com/login?next=x"},
		{"relative, climbing out", "https://api.example.com/v3/", "../../../../oauth", "https://api.example.com/oauth"},
		{"not a URL", "https://api.example.com/v3/", "http://[::1", "http://[::1"},
		{"opaque", "https://api.example.com/v3/", "mailto:ops@example.com", "mailto:ops@example.com"},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got := rewriteFor(t, c.api, route, "", 0).url(c.in); got != c.want {
				t.Fatalf("url(%q) under %s\n got %q\nwant %q", c.in, c.api, got, c.want)
			}
		})
	}
}

func TestRewriteProxyURLKeepsTheRouteAndConnection(t *testing.T) {
	const api = "https://api.example.com/v3/"
	for _, c := range []struct {
		name, route, tokenParam string
		connection              int64
		in, want                string
	}{
		{"connection added", "/api/v1/providers/hub/api/", "", 7, api + "items?page=2",
			"https://dc.example/api/v1/providers/hub/api/items?page=2&connection=7"},
		{"connection without a query", "/api/v1/providers/hub/api/", "", 7, api + "items",
			"https://dc.example/api/v1/providers/hub/api/items?connection=7"},
		{"admin route", "/api/v1/admin/users/12/providers/hub/api/", "", 0, api + "items?page=2",
			"https://dc.example/api/v1/admin/users/12/providers/hub/api/items?page=2"},
		{"admin route and connection", "/api/v1/admin/users/12/providers/hub/api/", "", 3, api + "items",
			"https://dc.example/api/v1/admin/users/12/providers/hub/api/items?connection=3"},
		{"the provider's token parameter goes", "/api/v1/providers/hub/api/", "oauth_token", 0,
			api + "items?oauth_token=SECRET&page=2&%6Fauth_token=S2", "https://dc.example/api/v1/providers/hub/api/items?page=2"},
		{"only the provider's token parameter", "/api/v1/providers/hub/api/", "oauth_token", 0,
			api + "items?oauth_token_x=1&token=2", "https://dc.example/api/v1/providers/hub/api/items?oauth_token_x=1&token=2"},
		{"a foreign URL keeps its token and gets no connection", "/api/v1/providers/hub/api/", "oauth_token", 7,
			"https://cdn.example.com/f?oauth_token=x", "https://cdn.example.com/f?oauth_token=x"},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got := rewriteFor(t, api, c.route, c.tokenParam, c.connection).url(c.in); got != c.want {
				t.Fatalf("url(%q)\n got %q\nwant %q", c.in, got, c.want)
			}
		})
	}
}

func TestRewriteLinkHeader(t *testing.T) {
	const api = "https://api.example.com/v3/"
	const proxy = "https://dc.example/api/v1/providers/hub/api/"
	for _, c := range []struct{ name, in, want string }{
		{"GitHub's form",
			`<` + api + `user/repos?page=2>; rel="next", <` + api + `user/repos?page=5>; rel="last"`,
			`<` + proxy + `user/repos?page=2>; rel="next", <` + proxy + `user/repos?page=5>; rel="last"`},
		{"relative entries",
			`<?page=1>; rel="first", </v3/x?page=4>; rel="prev"`,
			`<` + proxy + `repos/o/r/issues?page=1>; rel="first", <` + proxy + `x?page=4>; rel="prev"`},
		{"a foreign entry among ours",
			`<https://cdn.example.com/a>; rel="alternate", <` + api + `b>; rel=next`,
			`<https://cdn.example.com/a>; rel="alternate", <` + proxy + `b>; rel=next`},
		{"quoted commas, angle brackets and escapes",
			`<` + api + `a>; title="page 2, <` + api + `not-a-link> \"x\", y"; rel="next",<` + api + `c>;rel=last`,
			`<` + proxy + `a>; title="page 2, <` + api + `not-a-link> \"x\", y"; rel="next",<` + proxy + `c>;rel=last`},
		{"commas in the URL", `<` + api + `a?ids=1,2,3>; rel="next"`, `<` + proxy + `a?ids=1,2,3>; rel="next"`},
		{"spacing kept", "  <" + api + "a> ;rel=\"next\" ,\t<" + api + "b>", "  <" + proxy + "a> ;rel=\"next\" ,\t<" + proxy + "b>"},
		{"unterminated", `<` + api + `a>; rel="next", <` + api + `b; rel="last"`, `<` + proxy + `a>; rel="next", <` + api + `b; rel="last"`},
		{"empty", ``, ``},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got := rewriteFor(t, api, "/api/v1/providers/hub/api/", "", 0).link(c.in); got != c.want {
				t.Fatalf("link(%q)\n got %q\nwant %q", c.in, got, c.want)
			}
		})
	}
}

func TestRewriteProxyHeaders(t *testing.T) {
	const api = "https://api.example.com/v3/"
	const proxy = "https://dc.example/api/v1/providers/hub/api/"
	h := http.Header{
		"Link":             {`<` + api + `a?page=2>; rel="next"`, `<` + api + `a?page=9>; rel="last"`},
		"Location":         {api + "repos/o/renamed"},
		"Content-Location": {"/v3/a?page=1"},
		"Etag":             {`"` + api + `"`},
	}
	rewriteFor(t, api, "/api/v1/providers/hub/api/", "", 0).header(h)
	want := http.Header{
		"Link":             {`<` + proxy + `a?page=2>; rel="next"`, `<` + proxy + `a?page=9>; rel="last"`},
		"Location":         {proxy + "repos/o/renamed"},
		"Content-Location": {proxy + "a?page=1"},
		"Etag":             {`"` + api + `"`},
	}
	for k, vs := range want {
		if len(h[k]) != len(vs) {
			t.Fatalf("%s = %q, want %q", k, h[k], vs)
		}
		for i := range vs {
			if h[k][i] != vs[i] {
				t.Errorf("%s[%d] = %q, want %q", k, i, h[k][i], vs[i])
			}
		}
	}
}
