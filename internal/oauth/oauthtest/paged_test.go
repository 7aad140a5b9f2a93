package oauthtest_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"testing"

	"github.com/dancecard/dancecard/internal/oauth"
	"github.com/dancecard/dancecard/internal/oauth/oauthtest"
)

func TestPagedAPIForProxyTests(t *testing.T) {
	t.Parallel()
	srv := oauthtest.NewServer(t)
	p := srv.OAuth2Provider("hub")
	c := oauth.NewClient(oauth.ClientOptions{})
	authURL, pending, _ := c.Begin(context.Background(), p, "https://dancecard.example/cb", nil)
	tok, _, err := c.Finish(context.Background(), p, "https://dancecard.example/cb", pending, srv.Authorize(t, authURL).Query())
	if err != nil {
		t.Fatal(err)
	}
	noRedirects := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	get := func(url string) (*http.Response, []oauthtest.PagedItem) {
		t.Helper()
		req, _ := http.NewRequest("GET", url, nil)
		req.Header.Set("Authorization", "Bearer "+tok.AccessToken)
		res, err := noRedirects.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		body, _ := io.ReadAll(res.Body)
		var items []oauthtest.PagedItem
		if res.StatusCode == 200 {
			if err := json.Unmarshal(body, &items); err != nil {
				t.Fatalf("%s: %v\n%s", url, err, body)
			}
		}
		return res, items
	}
	api := srv.APIBaseURL() + "paged/"
	for _, c := range []struct {
		path, link, contentLocation string
		first, n                    int
	}{
		{"list?per_page=10&x=y", `<` + api + `list?page=2&per_page=10&x=y>; rel="next", <` + api + `list?page=3&per_page=10&x=y>; rel="last", <?page=1&per_page=10&x=y>; rel="first"`,
			"/api/paged/list?page=1&per_page=10&x=y", 1, 10},
		{"list?page=3&per_page=10", `<?page=2&per_page=10>; rel="prev", <` + api + `list?page=3&per_page=10>; rel="last", <?page=1&per_page=10>; rel="first"`,
			"/api/paged/list?page=3&per_page=10", 21, 5},
		{"a/b?total=3", `<` + api + `a/b?page=1&total=3>; rel="last", <?page=1&total=3>; rel="first"`, "/api/paged/a/b?page=1&total=3", 1, 3},
	} {
		res, items := get(api + c.path)
		if res.StatusCode != 200 || res.Header.Get("Link") != c.link || res.Header.Get("Content-Location") != c.contentLocation ||
			len(items) != c.n || items[0].Number != c.first || items[0].Title == "" {
			t.Fatalf("%s: %d, Link %q, Content-Location %q, %+v", c.path, res.StatusCode, res.Header.Get("Link"),
				res.Header.Get("Content-Location"), items)
		}
	}
	res, _ := get(api + "repos/o/moved/issues?page=2")
	if res.StatusCode != http.StatusMovedPermanently || res.Header.Get("Location") != api+"repos/o/renamed/issues?page=2" {
		t.Fatalf("moved: %d, Location %q", res.StatusCode, res.Header.Get("Location"))
	}
}
