package main

import (
	"bytes"
	"cmp"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"
)

// vclient is one virtual user: a browser with its own cookie jar and its own
// transport, so its connection stays open between requests and is not
// shared with other clients.
type vclient struct {
	base     string
	http     *http.Client
	email    string
	password string
	buf      bytes.Buffer // the last response body
}

func newClient(base string) *vclient {
	jar, _ := cookiejar.New(nil)
	tr := &http.Transport{
		Proxy:               nil, // loopback; never through a proxy from the environment
		MaxIdleConns:        16,
		MaxIdleConnsPerHost: 16,
		IdleConnTimeout:     5 * time.Minute,
	}
	return &vclient{
		base: base,
		http: &http.Client{
			Transport: tr,
			Jar:       jar,
			Timeout:   60 * time.Second,
			// A 303 is the answer being measured, not a hop to follow.
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		},
	}
}

// get fetches path into c.buf and returns the status.
func (c *vclient) get(ctx context.Context, path string) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.base+path, nil)
	if err != nil {
		return nil, err
	}
	return c.do(req)
}

// post sends a form to path and reads the answer into c.buf.
func (c *vclient) post(ctx context.Context, path string, form url.Values) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.base+path, strings.NewReader(form.Encode()))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return c.do(req)
}

// do reads the whole body, so the connection goes back to the pool.
func (c *vclient) do(req *http.Request) (*http.Response, error) {
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	c.buf.Reset()
	if _, err := c.buf.ReadFrom(resp.Body); err != nil {
		return nil, fmt.Errorf("%s %s: read body: %w", req.Method, req.URL.Path, err)
	}
	return resp, nil
}

var csrfMeta = []byte(`<meta name="csrf-token" content="`)

// csrfToken is the token of the page in c.buf.
func (c *vclient) csrfToken() (string, error) {
	b := c.buf.Bytes()
	i := bytes.Index(b, csrfMeta)
	if i < 0 {
		return "", errors.New("no csrf-token meta element in the page")
	}
	b = b[i+len(csrfMeta):]
	end := bytes.IndexByte(b, '"')
	if end <= 0 {
		return "", errors.New("malformed csrf-token meta element")
	}
	return string(b[:end]), nil
}

// expect checks a response's status and, for a redirect, its target.
func expect(resp *http.Response, status int, location string) error {
	if resp.StatusCode == http.StatusTooManyRequests {
		return errors.New("429 rate limited: run the server with DANCECARD_RATE_LIMITS_ENABLED=false")
	}
	if resp.StatusCode != status {
		return fmt.Errorf("%s %s: status %d, want %d", resp.Request.Method, resp.Request.URL.Path, resp.StatusCode, status)
	}
	if location != "" && resp.Header.Get("Location") != location {
		return fmt.Errorf("%s %s: redirect to %q, want %q", resp.Request.Method, resp.Request.URL.Path, resp.Header.Get("Location"), location)
	}
	return nil
}

// signUp creates the client's account through the sign-up form, which
// leaves the client logged in, and checks its profile page.
func (c *vclient) signUp(ctx context.Context, email, password string) error {
	c.email, c.password = email, password
	resp, err := c.get(ctx, "/signup")
	if err != nil {
		return err
	}
	if err := expect(resp, http.StatusOK, ""); err != nil {
		return err
	}
	token, err := c.csrfToken()
	if err != nil {
		return err
	}
	resp, err = c.post(ctx, "/signup", url.Values{
		"email": {email}, "password": {password}, "password_confirm": {password}, "csrf_token": {token},
	})
	if err != nil {
		return err
	}
	if err := expect(resp, http.StatusSeeOther, "/profile"); err != nil {
		return err
	}
	return c.checkProfile(ctx)
}

// checkHealthz is the healthz scenario's one request.
func (c *vclient) checkHealthz(ctx context.Context) error {
	resp, err := c.get(ctx, "/healthz")
	if err != nil {
		return err
	}
	return expect(resp, http.StatusOK, "")
}

// checkProfile is the profile scenario's one request.
func (c *vclient) checkProfile(ctx context.Context) error {
	resp, err := c.get(ctx, "/profile")
	if err != nil {
		return err
	}
	if err := expect(resp, http.StatusOK, ""); err != nil {
		return err
	}
	if !bytes.Contains(c.buf.Bytes(), []byte(c.email)) {
		return errors.New("GET /profile: the page does not show the user's email")
	}
	return nil
}

// logIn is the login scenario's one operation: a browser with no cookies
// opens the log-in page and submits it.
func (c *vclient) logIn(ctx context.Context) error {
	c.http.Jar, _ = cookiejar.New(nil)
	resp, err := c.get(ctx, "/login")
	if err != nil {
		return err
	}
	if err := expect(resp, http.StatusOK, ""); err != nil {
		return err
	}
	token, err := c.csrfToken()
	if err != nil {
		return err
	}
	resp, err = c.post(ctx, "/login", url.Values{
		"email": {c.email}, "password": {c.password}, "csrf_token": {token}, "next": {""},
	})
	if err != nil {
		return err
	}
	return expect(resp, http.StatusSeeOther, "/profile")
}

// population is every virtual user, by the scenario family that uses it.
type population struct {
	page  []*vclient // healthz and profile
	login []*vclient // login
}

// setUp creates the clients and signs up the users the chosen scenarios
// need. Emails carry a per-run id, so runs against one database never clash.
func setUp(ctx context.Context, base string, set settings, stderr io.Writer) (population, error) {
	var pop population
	for range set.Clients {
		pop.page = append(pop.page, newClient(base))
	}
	need := map[string]bool{}
	for _, s := range set.Scenarios {
		need[s] = true
	}
	var users []*vclient
	if need["profile"] {
		users = append(users, pop.page...)
	}
	if need["login"] {
		for range set.LoginClients {
			pop.login = append(pop.login, newClient(base))
		}
		users = append(users, pop.login...)
	}
	if len(users) == 0 {
		return pop, nil
	}
	start := time.Now()
	runID := strconv.FormatInt(time.Now().UnixNano(), 36)
	if err := signUpAll(ctx, users, runID); err != nil {
		return pop, fmt.Errorf("sign-up: %w", err)
	}
	fmt.Fprintf(stderr, "signed up %d users in %s\n", len(users), time.Since(start).Round(time.Millisecond))
	return pop, nil
}

// signUpAll signs users up four at a time: each sign-up hashes a password
// with argon2id, and the server queues hashes beyond twice its cores anyway.
func signUpAll(ctx context.Context, users []*vclient, runID string) error {
	sem := make(chan struct{}, 4)
	errs := make([]error, len(users))
	var wg sync.WaitGroup
	for i, u := range users {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			email := fmt.Sprintf("bench-%s-%d@example.test", runID, i)
			errs[i] = u.signUp(ctx, email, "bench-"+rand.Text())
		})
	}
	wg.Wait()
	failed := 0
	var first error
	for _, err := range errs {
		if err != nil {
			failed++
			first = cmp.Or(first, err)
		}
	}
	if failed > 0 {
		return fmt.Errorf("%d of %d failed, the first with: %w", failed, len(users), first)
	}
	return nil
}
