package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/dancecard/dancecard/bench/internal/benchkit"
	"github.com/dancecard/dancecard/internal/oauth"
	"github.com/dancecard/dancecard/internal/oauth/oauthtest"
)

// fake is the provider both targets call, served from the driver process.
type fake = benchkit.Fake

// startFake serves the fake provider. Its tokens last a day, so no refresh
// happens during a run; its API answers each call after latency (the dance
// endpoints stay immediate).
func startFake(latency time.Duration) (*fake, error) {
	return benchkit.StartFake(oauthtest.WithKnobs(oauthtest.Knobs{ExpiresIn: 24 * time.Hour, APIDelay: latency}))
}

// directToken runs a dance with the fake in process and returns the
// access token, for the direct calls.
func directToken(ctx context.Context, f *fake) (string, error) {
	c := oauth.NewClient(oauth.ClientOptions{})
	p := f.OAuth2Provider("fast")
	const cb = "http://127.0.0.1/callback"
	authURL, pending, err := c.Begin(ctx, p, cb, nil)
	if err != nil {
		return "", err
	}
	back, err := f.Consent(authURL)
	if err != nil {
		return "", err
	}
	tok, _, err := c.Finish(ctx, p, cb, pending, back.URL.Query())
	return tok.AccessToken, err
}

var csrfMeta = regexp.MustCompile(`<meta name="csrf-token" content="([^"]+)"`)

// session is a browser on the Dancecard server.
type session struct {
	base string
	http *http.Client
}

func newSession(base string) *session {
	jar, _ := cookiejar.New(nil)
	return &session{base: base, http: &http.Client{Jar: jar, Timeout: 30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

// do sends a request and returns status, Location and body.
func (s *session) do(method, rawURL string, body io.Reader, header map[string]string) (int, string, string, error) {
	req, err := http.NewRequest(method, rawURL, body)
	if err != nil {
		return 0, "", "", err
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := s.http.Do(req)
	if err != nil {
		return 0, "", "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header.Get("Location"), string(b), err
}

func (s *session) csrf(path string) (string, error) {
	status, _, body, err := s.do("GET", s.base+path, nil, nil)
	if err != nil {
		return "", err
	}
	m := csrfMeta.FindStringSubmatch(body)
	if status != 200 || m == nil {
		return "", fmt.Errorf("GET %s: %d, no CSRF token", path, status)
	}
	return m[1], nil
}

func (s *session) postForm(path string, form url.Values) (int, string, error) {
	status, loc, _, err := s.do("POST", s.base+path, strings.NewReader(form.Encode()),
		map[string]string{"Content-Type": "application/x-www-form-urlencoded"})
	return status, loc, err
}

// setUp signs a user up, connects the fake provider and creates a
// proxy-scope personal access token, all through the server's own pages
// and API, and returns the token.
func setUp(base string) (string, error) {
	s := newSession(base)
	tok, err := s.csrf("/signup")
	if err != nil {
		return "", err
	}
	const pw = "bench proxy correct horse battery"
	if status, _, err := s.postForm("/signup", url.Values{"email": {"proxy-bench@example.test"}, "password": {pw},
		"password_confirm": {pw}, "csrf_token": {tok}}); err != nil || status != http.StatusSeeOther {
		return "", fmt.Errorf("sign up: %d %v", status, err)
	}
	if tok, err = s.csrf("/profile"); err != nil {
		return "", err
	}
	status, authURL, err := s.postForm("/auth/fast/connect", url.Values{"csrf_token": {tok}})
	if err != nil || status != http.StatusSeeOther {
		return "", fmt.Errorf("start the dance: %d %v", status, err)
	}
	status, callback, _, err := s.do("GET", authURL, nil, nil)
	if err != nil || status != http.StatusFound {
		return "", fmt.Errorf("authorize at the fake: %d %v", status, err)
	}
	if status, loc, _, err := s.do("GET", callback, nil, nil); err != nil || status != http.StatusSeeOther || !strings.HasPrefix(loc, "/profile") {
		return "", fmt.Errorf("callback: %d %q %v", status, loc, err)
	}
	status, _, body, err := s.do("POST", base+"/api/v1/tokens", strings.NewReader(`{"name": "bench", "scope": "proxy"}`),
		map[string]string{"Content-Type": "application/json", "X-CSRF-Token": tok})
	if err != nil || status != http.StatusCreated {
		return "", fmt.Errorf("create a token: %d %v %s", status, err, body)
	}
	var created struct{ Token string }
	if err := json.Unmarshal([]byte(body), &created); err != nil || created.Token == "" {
		return "", errors.New("create a token: no token in the answer")
	}
	return created.Token, nil
}

// floorPrefix is the floors' route, the same as Dancecard's proxy route.
const floorPrefix = "/api/v1/providers/fast/api/"

// floors are the two floor processes (bench/proxy/floor): a bare
// reverse proxy, and one that reads a row of the bench's database per call.
type floors struct {
	bare, db *benchkit.Process
	dir      string
}

func (fl *floors) stop() {
	for _, p := range []*benchkit.Process{fl.bare, fl.db} {
		if p != nil {
			p.Stop()
		}
	}
	os.RemoveAll(fl.dir)
}

// startFloors builds and starts the floors, forwarding to the fake's API
// with the direct call's token.
func startFloors(ctx context.Context, dbURL string, f *fake, token string) (*floors, error) {
	dir, err := os.MkdirTemp("", "dancecard-floor-")
	if err != nil {
		return nil, err
	}
	fl := &floors{dir: dir}
	bin := filepath.Join(dir, "floor")
	if err := benchkit.Build(ctx, "./bench/proxy/floor", bin, os.Stderr); err != nil {
		fl.stop()
		return nil, err
	}
	for _, withDB := range []bool{false, true} {
		port, err := benchkit.FreePort()
		if err != nil {
			fl.stop()
			return nil, err
		}
		addr := "127.0.0.1:" + strconv.Itoa(port)
		args := []string{"-addr", addr, "-api", f.APIBaseURL()}
		if withDB {
			args = append(args, "-db", dbURL)
		}
		p, err := benchkit.Start(ctx, bin, args, []string{"FLOOR_TOKEN=" + token}, "http://"+addr)
		if err != nil {
			fl.stop()
			return nil, fmt.Errorf("start the floor: %w", err)
		}
		if withDB {
			fl.db = p
		} else {
			fl.bare = p
		}
	}
	return fl, nil
}
