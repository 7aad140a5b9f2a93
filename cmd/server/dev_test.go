package main

import (
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"
)

// TestDevProviderDances boots run() in dev mode and, through the built-in
// dev provider's consent page, signs up by logging in with devhub (OAuth 2),
// connects devbird (OAuth 1.0a), logs out and logs in with devbird.
func TestDevProviderDances(t *testing.T) {
	s := startServe(t, nil)
	jar, _ := cookiejar.New(nil)
	client := &http.Client{Jar: jar}

	page := func(path string) string {
		t.Helper()
		res, err := client.Get(s.base + path)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return string(b)
	}
	csrf := func() string {
		m := regexp.MustCompile(`name="csrf-token" content="([^"]+)"`).FindStringSubmatch(page("/login"))
		if m == nil {
			t.Fatal("no csrf token")
		}
		return m[1]
	}
	// dance posts the start form; the client follows to the consent page,
	// which is approved as identity; the redirect chain ends on our site.
	dance := func(path, identity string) string {
		t.Helper()
		res, err := client.PostForm(s.base+path, url.Values{"csrf_token": {csrf()}})
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		consentURL := res.Request.URL.String()
		if !strings.Contains(consentURL, "/dev/provider/") {
			t.Fatalf("%s did not reach the dev provider: %s", path, consentURL)
		}
		res, err = client.PostForm(consentURL, url.Values{"identity": {identity}, "email_verified": {"on"},
			"failure": {"none"}, "decision": {"approve"}})
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res.Request.URL.Path + "\n" + string(b)
	}

	if got := dance("/auth/devhub/login", "1001"); !strings.HasPrefix(got, "/profile\n") || !strings.Contains(got, "created with DevHub") {
		t.Fatalf("log in with devhub:\n%.600s", got)
	}
	if got := dance("/auth/devbird/connect", "1002"); !strings.Contains(got, "Connected your DevBird account") {
		t.Fatalf("connect devbird:\n%.600s", got)
	}
	if p := page("/profile"); !strings.Contains(p, "ada@dev.test") || !strings.Contains(p, "DevBird") {
		t.Fatalf("profile lacks the account or its connections:\n%.600s", p)
	}
	res, err := client.PostForm(s.base+"/logout", url.Values{"csrf_token": {regexp.MustCompile(`name="csrf-token" content="([^"]+)"`).FindStringSubmatch(page("/profile"))[1]}})
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if got := dance("/auth/devbird/login", "1002"); !strings.HasPrefix(got, "/profile\n") || !strings.Contains(got, "ada@dev.test") {
		t.Fatalf("log in with devbird did not reach the same account:\n%.600s", got)
	}
}
