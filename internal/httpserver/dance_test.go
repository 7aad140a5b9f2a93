package httpserver_test

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dancecard/dancecard/internal/config"
	"github.com/dancecard/dancecard/internal/links"
	"github.com/dancecard/dancecard/internal/oauth"
	"github.com/dancecard/dancecard/internal/oauth/oauthtest"
)

// fakeOAuth2 configures the fake as a custom OAuth 2 provider, exactly as an
// operator would in the YAML file.
func fakeOAuth2(f *oauthtest.Server, id string) config.Provider {
	return config.Provider{ID: id, Protocol: "oauth2", Name: "Hub " + id, ClientID: f.ClientID(), ClientSecret: f.ClientSecret(),
		AuthURL: f.AuthURL(), TokenURL: f.TokenURL(), RevokeURL: f.RevokeURL(), APIBaseURL: f.APIBaseURL(),
		UserinfoURL: f.UserinfoURL(), Scopes: []string{"read:user"}, Timeout: 2 * time.Second,
		Profile: map[string]string{"id": "id", "username": "login", "name": "name", "email": "email",
			"email_verified": "email_verified", "avatar_url": "avatar_url", "profile_url": "html_url"}}
}

func fakeOAuth1(f *oauthtest.Server, id string) config.Provider {
	return config.Provider{ID: id, Protocol: "oauth1", Name: "Bird " + id, ConsumerKey: f.ConsumerKey(),
		ConsumerSecret: f.ConsumerSecret(), RequestTokenURL: f.RequestTokenURL(), AuthorizeURL: f.AuthorizeURL(),
		AccessTokenURL: f.AccessTokenURL(), APIBaseURL: f.APIBaseURL(), UserinfoURL: f.UserinfoURL(),
		Timeout: 2 * time.Second, Profile: map[string]string{"id": "id", "username": "login", "name": "name"}}
}

// fakeOAuth1RSA configures the fake as an RSA-SHA1 OAuth 1.0a provider (the
// JIRA shape), with the PEM key in the configuration.
func fakeOAuth1RSA(t *testing.T, f *oauthtest.Server, id string) config.Provider {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	f.SetRSAPublicKey(&key.PublicKey)
	c := fakeOAuth1(f, id)
	c.ConsumerSecret, c.SignatureMethod = "", "RSA-SHA1"
	c.PrivateKey = string(pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)}))
	return c
}

func fakeOIDC(f *oauthtest.Server, id string) config.Provider {
	return config.Provider{ID: id, Protocol: "oidc", Name: "SSO " + id, Issuer: f.Issuer(),
		ClientID: f.ClientID(), ClientSecret: f.ClientSecret(), Timeout: 2 * time.Second}
}

// startDance posts a dance form and returns the provider URL it redirects to.
func (b *browser) startDance(path string, form url.Values) string {
	b.t.Helper()
	r := b.post(path, form)
	if r.Status != http.StatusSeeOther || !strings.HasPrefix(r.Location, "http") {
		b.t.Fatalf("POST %s: %d %q\n%.800s", path, r.Status, r.Location, r.Body)
	}
	return r.Location
}

// callback follows the provider's redirect back to the server.
func (b *browser) callback(cb *url.URL) response {
	b.t.Helper()
	u, _ := url.Parse(b.ts.URL)
	cb.Scheme, cb.Host = u.Scheme, u.Host
	req, _ := http.NewRequest(http.MethodGet, cb.String(), nil)
	return b.do(req)
}

// dance runs a whole dance: start, consent at the fake, callback.
func (b *browser) dance(f *oauthtest.Server, path string, form url.Values) response {
	b.t.Helper()
	return b.callback(f.Authorize(b.t, b.startDance(path, form)))
}

// connect links the account f knows to b's user through provider id and
// fails the test unless the dance ends on the profile.
func (b *browser) connect(f *oauthtest.Server, id string) {
	b.t.Helper()
	if r := b.dance(f, "/auth/"+id+"/connect", nil); r.Status != http.StatusSeeOther || r.Location != "/profile" {
		b.t.Fatalf("connect %s: %d %q", id, r.Status, r.Location)
	}
}

func TestConnectLogInAndDisconnectEveryProtocol(t *testing.T) {
	hub, bird, sso, jira := oauthtest.NewServer(t), oauthtest.NewServer(t), oauthtest.NewServer(t), oauthtest.NewServer(t)
	jira.SetUser(oauthtest.User{ID: "jira-7", Login: "jdev", Name: "J Dev"})
	ts := newTestServer(t, withProviders(fakeOAuth2(hub, "hub"), fakeOAuth1(bird, "bird"), fakeOIDC(sso, "sso"),
		fakeOAuth1RSA(t, jira, "jira")))
	b := ts.browser(t)
	b.signUp("dancer@example.com", goodPassword)
	for _, tc := range []struct {
		id string
		f  *oauthtest.Server
	}{{"hub", hub}, {"bird", bird}, {"sso", sso}, {"jira", jira}} {
		r := b.dance(tc.f, "/auth/"+tc.id+"/connect", nil)
		if r.Status != http.StatusSeeOther || r.Location != "/profile" {
			t.Fatalf("%s connect callback: %d %q\n%.500s", tc.id, r.Status, r.Location, r.Body)
		}
		if p := b.get("/profile"); !strings.Contains(p.Body, "Connected your") {
			t.Fatalf("%s: no success flash", tc.id)
		}
	}
	if n := ts.count(t, `SELECT count(*) FROM connections`); n != 4 {
		t.Fatalf("connections = %d, want 4", n)
	}
	if n := ts.count(t, `SELECT count(*) FROM events WHERE kind = 'connection_created'`); n != 4 {
		t.Fatalf("connection_created events = %d", n)
	}
	// Log out, then log in with each provider: the same user every time.
	for _, id := range []string{"hub", "bird", "sso"} {
		b.post("/logout", nil)
		f := map[string]*oauthtest.Server{"hub": hub, "bird": bird, "sso": sso}[id]
		r := b.dance(f, "/auth/"+id+"/login", url.Values{"next": {"/profile?from=" + id}})
		if r.Status != http.StatusSeeOther || r.Location != "/profile?from="+id {
			t.Fatalf("%s login: %d %q", id, r.Status, r.Location)
		}
		if p := b.get("/profile"); p.Status != 200 || !strings.Contains(p.Body, "dancer@example.com") {
			t.Fatalf("%s login did not log in the linked user", id)
		}
	}
	if n := ts.count(t, `SELECT count(*) FROM users`); n != 1 {
		t.Fatalf("users = %d: logging in with a linked account created a user", n)
	}
	// Disconnect the OAuth 2 one: its token is revoked at the provider.
	var id string
	ts.DB.QueryRow(t.Context(), `SELECT id::text FROM connections WHERE provider = 'hub'`).Scan(&id)
	if r := b.postConfirmed("/connections/"+id+"/delete", nil); r.Status != http.StatusSeeOther {
		t.Fatalf("disconnect: %d", r.Status)
	}
	if hub.Counts().Revocations != 1 {
		t.Errorf("revocations at the provider = %d, want 1", hub.Counts().Revocations)
	}
	if n := ts.count(t, `SELECT count(*) FROM events WHERE kind = 'connection_removed'`); n != 1 {
		t.Fatalf("connection_removed events = %d", n)
	}
}

func TestNoPlaintextTokensStored(t *testing.T) {
	hub := oauthtest.NewServer(t)
	var issued oauth.Token
	capture := links.Hooks{Authorized: func(_ context.Context, a links.Authorized) links.Decision {
		issued = a.Token
		return links.Decision{}
	}}
	ts := newTestServer(t, withProviders(fakeOAuth2(hub, "hub")), withHooks(capture))
	b := ts.browser(t)
	b.signUp("vault@example.com", goodPassword)
	b.dance(hub, "/auth/hub/connect", nil)
	if issued.AccessToken == "" || issued.RefreshToken == "" {
		t.Fatal("the Authorized hook did not see the issued token")
	}
	// The text of every row of every table that could hold a token (and
	// the bytea columns hex-encoded) must not contain the issued tokens.
	var dump string
	err := ts.DB.QueryRow(t.Context(), `
		SELECT string_agg(t::text, E'\n') FROM (
		  SELECT row_to_json(c)::text AS t FROM connections c UNION ALL
		  SELECT row_to_json(d)::text FROM dances d UNION ALL
		  SELECT row_to_json(e)::text FROM events e) x`).Scan(&dump)
	if err != nil {
		t.Fatal(err)
	}
	for _, secret := range []string{issued.AccessToken, issued.RefreshToken} {
		hexed := fmt.Sprintf("%x", secret)
		if strings.Contains(dump, secret) || strings.Contains(dump, hexed) {
			t.Errorf("database dump contains a plaintext token")
		}
	}
	if n := ts.count(t, `SELECT count(*) FROM connections WHERE access_token IS NOT NULL AND refresh_token IS NOT NULL`); n != 1 {
		t.Fatal("tokens not stored")
	}
}

func TestLoginWithProviderSignupRules(t *testing.T) {
	hub := oauthtest.NewServer(t)
	hub.SetUser(oauthtest.User{ID: "77", Login: "newbie", Name: "New Bie", Email: "newbie@example.com", EmailVerified: true})
	ts := newTestServer(t, withProviders(fakeOAuth2(hub, "hub")))
	b := ts.browser(t)
	r := b.dance(hub, "/auth/hub/login", nil)
	if r.Status != http.StatusSeeOther || r.Location != "/profile" {
		t.Fatalf("login via provider: %d %q", r.Status, r.Location)
	}
	if n := ts.count(t, `SELECT count(*) FROM users WHERE email = 'newbie@example.com' AND password_hash IS NULL
	    AND name = 'New Bie' AND email_verified_at IS NOT NULL`); n != 1 {
		t.Fatal("user not created, named and verified from the provider's profile")
	}
	// The three events, in the order the changes happened, each naming the account.
	var kinds string
	ts.DB.QueryRow(t.Context(), `SELECT string_agg(kind, ' ' ORDER BY id) FROM events
	    WHERE user_id = (SELECT id FROM users WHERE email = 'newbie@example.com')`).Scan(&kinds)
	if kinds != "user_created connection_created login_completed" {
		t.Errorf("events = %q", kinds)
	}
	// The only way in is the connection: disconnecting it is refused.
	var id string
	ts.DB.QueryRow(t.Context(), `SELECT id::text FROM connections`).Scan(&id)
	r = b.postConfirmed("/connections/"+id+"/delete", nil)
	if p := b.get("/profile"); !strings.Contains(p.Body, "last way to log in") {
		t.Fatalf("last login method removed: %d", r.Status)
	}
	if n := ts.count(t, `SELECT count(*) FROM connections`); n != 1 {
		t.Fatal("the last login method was deleted")
	}

	// A verified email that belongs to a local account is never attached.
	ts.browser(t).signUp("owner@example.com", goodPassword)
	ts.DB.Exec(t.Context(), `UPDATE users SET email_verified_at = now() WHERE email = 'owner@example.com'`)
	hub.SetUser(oauthtest.User{ID: "78", Login: "imposter", Email: "owner@example.com", EmailVerified: true})
	b2 := ts.browser(t)
	r = b2.dance(hub, "/auth/hub/login", nil)
	if r.Location != "/login" || b2.cookie("dc_session") != nil {
		t.Fatalf("provider email matched a local account: %d %q", r.Status, r.Location)
	}
	if n := ts.count(t, `SELECT count(*) FROM connections WHERE provider_user_id = '78'`); n != 0 {
		t.Fatal("a connection was stored for the refused log-in")
	}
}

func TestLoginWithUnlinkedAccountWhenSignupOff(t *testing.T) {
	hub := oauthtest.NewServer(t)
	ts := newTestServer(t, withProviders(fakeOAuth2(hub, "hub")), withSignup(linksSignupOff()))
	b := ts.browser(t)
	b.dance(hub, "/auth/hub/login", nil)
	if p := b.get("/login"); !strings.Contains(p.Body, "connect it from your profile first") {
		t.Fatalf("no explanation shown:\n%.1000s", p.Body)
	}
	if n := ts.count(t, `SELECT count(*) FROM users`); n != 0 {
		t.Fatal("a user was created with sign-up via provider off")
	}
	if n := ts.count(t, `SELECT count(*) FROM events WHERE kind = 'login_failed'`); n != 1 {
		t.Fatalf("login_failed events = %d", n)
	}
}

func TestDanceStateAttacks(t *testing.T) {
	hub := oauthtest.NewServer(t)
	ts := newTestServer(t, withProviders(fakeOAuth2(hub, "hub")))
	victim := ts.browser(t)
	victim.signUp("victim@example.com", goodPassword)

	cb := hub.Authorize(t, victim.startDance("/auth/hub/connect", nil))
	// Another browser (the attacker) cannot finish the victim's dance.
	attacker := ts.browser(t)
	attacker.signUp("attacker@example.com", goodPassword)
	if r := attacker.callback(cloneURL(cb)); r.Location != "/profile" {
		t.Fatalf("cross-browser callback: %d %q", r.Status, r.Location)
	}
	if n := ts.count(t, `SELECT count(*) FROM connections`); n != 0 {
		t.Fatal("cross-browser callback stored a connection")
	}
	// Tampered state.
	tampered := cloneURL(cb)
	q := tampered.Query()
	q.Set("state", q.Get("state")+"x")
	tampered.RawQuery = q.Encode()
	victim.callback(tampered)
	if p := victim.get("/profile"); !strings.Contains(p.Body, "already been used or is not valid") {
		t.Fatal("tampered state not explained")
	}
	// The real callback still works once, then is single-use.
	if r := victim.callback(cloneURL(cb)); r.Status != http.StatusSeeOther {
		t.Fatalf("real callback: %d", r.Status)
	}
	victim.get("/profile")
	victim.callback(cloneURL(cb))
	if p := victim.get("/profile"); !strings.Contains(p.Body, "already been used") {
		t.Fatal("replayed state accepted")
	}
	if n := ts.count(t, `SELECT count(*) FROM connections`); n != 1 {
		t.Fatalf("connections = %d", n)
	}
	// An expired dance.
	cb2 := hub.Authorize(t, victim.startDance("/auth/hub/connect", nil))
	ts.DB.Exec(t.Context(), `UPDATE dances SET expires_at = now() - interval '1 second'`)
	victim.callback(cb2)
	if p := victim.get("/profile"); !strings.Contains(p.Body, "more than 10 minutes") {
		t.Fatal("expired dance not explained")
	}
}

func TestDanceNextStaysOnSite(t *testing.T) {
	hub := oauthtest.NewServer(t)
	ts := newTestServer(t, withProviders(fakeOAuth2(hub, "hub")))
	for _, next := range []string{"//evil.example", "https://evil.example", "/\\evil.example"} {
		b := ts.browser(t)
		r := b.dance(hub, "/auth/hub/login", url.Values{"next": {next}})
		if r.Location != "/profile" {
			t.Fatalf("next=%q landed on %q", next, r.Location)
		}
	}
}

func TestProviderFailuresStoreNothing(t *testing.T) {
	hub := oauthtest.NewServer(t)
	ts := newTestServer(t, withProviders(fakeOAuth2(hub, "hub")))
	b := ts.browser(t)
	b.signUp("fails@example.com", goodPassword)
	for _, tc := range []struct {
		name  string
		knobs oauthtest.Knobs
		flash string
	}{
		{"access denied", oauthtest.Knobs{Deny: true}, "You cancelled"},
		{"invalid_grant", oauthtest.Knobs{TokenError: "invalid_grant"}, "reported an error"},
		{"token 500", oauthtest.Knobs{TokenStatus: 500}, "reported an error"},
		{"malformed token", oauthtest.Knobs{TokenMalformed: true}, "reported an error"},
		{"slow token", oauthtest.Knobs{TokenDelay: 5 * time.Second}, "did not answer in time"},
		{"userinfo 500", oauthtest.Knobs{UserinfoStatus: 500}, "reported an error"},
		{"userinfo garbage", oauthtest.Knobs{UserinfoGarbage: true}, "reported an error"},
		{"profile without id", oauthtest.Knobs{UserinfoMissingID: true}, "did not say which account"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			hub.SetKnobs(tc.knobs)
			defer hub.SetKnobs(oauthtest.Knobs{})
			r := b.dance(hub, "/auth/hub/connect", nil)
			if r.Location != "/profile" {
				t.Fatalf("callback: %d %q", r.Status, r.Location)
			}
			if p := b.get("/profile"); !strings.Contains(p.Body, tc.flash) {
				t.Fatalf("flash lacks %q", tc.flash)
			}
			if n := ts.count(t, `SELECT count(*) FROM connections`); n != 0 {
				t.Fatal("a failed dance stored a connection")
			}
		})
	}
	if n := ts.count(t, `SELECT count(*) FROM events WHERE kind = 'connection_failed' AND reason <> ''`); n != 8 {
		t.Fatalf("connection_failed events with a reason = %d, want 8", n)
	}
}

// TestConcurrentCallbacksForOneAccount: two users finish dances for the same
// provider account at the same moment; exactly one gets the connection.
func TestConcurrentCallbacksForOneAccount(t *testing.T) {
	hub := oauthtest.NewServer(t)
	ts := newTestServer(t, withProviders(fakeOAuth2(hub, "hub")))
	a, c := ts.browser(t), ts.browser(t)
	a.signUp("a@example.com", goodPassword)
	c.signUp("c@example.com", goodPassword)
	cbA := hub.Authorize(t, a.startDance("/auth/hub/connect", nil))
	cbC := hub.Authorize(t, c.startDance("/auth/hub/connect", nil))
	var wg sync.WaitGroup
	for _, pair := range []struct {
		b  *browser
		cb *url.URL
	}{{a, cbA}, {c, cbC}} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			pair.b.callback(pair.cb)
		}()
	}
	wg.Wait()
	if n := ts.count(t, `SELECT count(*) FROM connections`); n != 1 {
		t.Fatalf("connections = %d, want exactly 1", n)
	}
	if n := ts.count(t, `SELECT count(*) FROM events WHERE kind = 'connection_failed'`); n != 1 {
		t.Fatalf("connection_failed = %d, want exactly 1", n)
	}
}

func TestReconnectKeepsConnection(t *testing.T) {
	hub := oauthtest.NewServer(t)
	ts := newTestServer(t, withProviders(fakeOAuth2(hub, "hub")))
	b := ts.browser(t)
	b.signUp("re@example.com", goodPassword)
	b.dance(hub, "/auth/hub/connect", nil)
	ts.DB.Exec(t.Context(), `UPDATE connections SET status = 'needs_reauth'`)
	var before, after string
	ts.DB.QueryRow(t.Context(), `SELECT id::text FROM connections`).Scan(&before)
	hub.UpdateKnobs(func(k *oauthtest.Knobs) { k.GrantedScopes = []string{"read:user", "repo"} })
	b.dance(hub, "/auth/hub/connect", url.Values{"scopes": {"repo"}})
	ts.DB.QueryRow(t.Context(), `SELECT id::text FROM connections`).Scan(&after)
	if before != after {
		t.Fatalf("reconnect replaced the connection: %s -> %s", before, after)
	}
	if n := ts.count(t, `SELECT count(*) FROM connections WHERE status = 'active' AND scopes @> '{repo}'`); n != 1 {
		t.Fatal("reconnect did not restore the status or record the granted scopes")
	}
	if n := ts.count(t, `SELECT count(*) FROM events WHERE kind = 'connection_updated' AND data->>'old_status' = 'needs_reauth' AND data->>'new_status' = 'active'`); n != 1 {
		t.Fatal("connection_updated with old and new status not recorded")
	}
}

func cloneURL(u *url.URL) *url.URL {
	c := *u
	return &c
}

func TestAuthorizedHookCanVeto(t *testing.T) {
	hub := oauthtest.NewServer(t)
	veto := links.Hooks{Authorized: func(context.Context, links.Authorized) links.Decision {
		return links.Decision{Veto: true, Message: "Accounts from this provider are not accepted here."}
	}}
	ts := newTestServer(t, withProviders(fakeOAuth2(hub, "hub")), withHooks(veto))
	b := ts.browser(t)
	b.signUp("veto@example.com", goodPassword)
	b.dance(hub, "/auth/hub/connect", nil)
	if p := b.get("/profile"); !strings.Contains(p.Body, "not accepted here") {
		t.Fatal("veto message not shown")
	}
	if n := ts.count(t, `SELECT count(*) FROM connections`); n != 0 {
		t.Fatal("a vetoed token was stored")
	}
}

func TestUnknownProviderAndDisconnectOthers(t *testing.T) {
	hub := oauthtest.NewServer(t)
	ts := newTestServer(t, withProviders(fakeOAuth2(hub, "hub")))
	owner := ts.browser(t)
	owner.signUp("owner@example.com", goodPassword)
	owner.dance(hub, "/auth/hub/connect", nil)
	if r := owner.post("/auth/nope/connect", nil); r.Status != http.StatusNotFound {
		t.Fatalf("unknown provider: %d", r.Status)
	}
	var id string
	ts.DB.QueryRow(t.Context(), `SELECT id::text FROM connections`).Scan(&id)
	other := ts.browser(t)
	other.signUp("other@example.com", goodPassword)
	for _, path := range []string{"/connections/" + id + "/delete", "/connections/999999/delete", "/connections/abc/delete"} {
		if r := other.post(path, nil); r.Status != http.StatusNotFound {
			t.Errorf("%s by another user: %d, want 404", path, r.Status)
		}
	}
	if n := ts.count(t, `SELECT count(*) FROM connections`); n != 1 {
		t.Fatal("another user removed a connection")
	}
}

// TestFormPostCallback: a provider using response_mode=form_post POSTs the
// callback cross-site, without cookies; the server turns it into the GET
// callback, which the browser then sends with its cookies.
func TestFormPostCallback(t *testing.T) {
	hub := oauthtest.NewServer(t)
	ts := newTestServer(t, withProviders(fakeOAuth2(hub, "hub")))
	b := ts.browser(t)
	b.signUp("post@example.com", goodPassword)
	cb := hub.Authorize(t, b.startDance("/auth/hub/connect", nil))

	req, _ := http.NewRequest(http.MethodPost, ts.URL+"/auth/hub/callback",
		strings.NewReader(url.Values{"code": cb.Query()["code"], "state": cb.Query()["state"], "user": {`{"name":"x"}`}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", "https://appleid.apple.com")
	req.Header.Set("Sec-Fetch-Site", "cross-site")
	res, err := http.DefaultTransport.RoundTrip(req) // no cookies, as a cross-site POST
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	loc, _ := url.Parse(res.Header.Get("Location"))
	if res.StatusCode != http.StatusSeeOther || loc.Path != "/auth/hub/callback" || loc.Query().Get("user") != "" {
		t.Fatalf("form_post callback: %d %s", res.StatusCode, loc)
	}
	if r := b.callback(loc); r.Status != http.StatusSeeOther || r.Location != "/profile" {
		t.Fatalf("redirected GET callback: %d %q", r.Status, r.Location)
	}
	if n := ts.count(t, `SELECT count(*) FROM connections`); n != 1 {
		t.Fatal("form_post dance did not connect")
	}
	if r := b.postRaw("/auth/hub/callback", "application/x-www-form-urlencoded", "code=x"); r.Status != http.StatusBadRequest {
		t.Fatalf("form_post without state: %d", r.Status)
	}
}

func TestDanceStartsAreRateLimited(t *testing.T) {
	hub := oauthtest.NewServer(t)
	ts := newTestServer(t, withProviders(fakeOAuth2(hub, "hub")), withRateLimits)
	b := ts.browser(t)
	token := b.csrf()
	for i := 0; i < 60; i++ {
		if r := b.post("/auth/hub/login", url.Values{"csrf_token": {token}}); r.Status != http.StatusSeeOther || !strings.HasPrefix(r.Location, "http") {
			t.Fatalf("start %d: %d %q", i, r.Status, r.Location)
		}
	}
	r := b.post("/auth/hub/login", url.Values{"csrf_token": {token}})
	if r.Location != "/login" {
		t.Fatalf("61st start: %d %q, want a redirect back with a message", r.Status, r.Location)
	}
	if p := b.get("/login"); !strings.Contains(p.Body, "Too many attempts") {
		t.Fatal("no rate-limit message")
	}
	if n := ts.count(t, `SELECT count(*) FROM dances`); n != 60 {
		t.Fatalf("dances = %d, want 60", n)
	}
}

func TestDisabledAccountCannotLogInWithProvider(t *testing.T) {
	hub := oauthtest.NewServer(t)
	ts := newTestServer(t, withProviders(fakeOAuth2(hub, "hub")))
	b := ts.browser(t)
	b.signUp("off@example.com", goodPassword)
	b.dance(hub, "/auth/hub/connect", nil)
	b.post("/logout", nil)
	ts.DB.Exec(t.Context(), `UPDATE users SET disabled_at = now()`)
	r := b.dance(hub, "/auth/hub/login", nil)
	if r.Location != "/login" || b.cookie("dc_session") != nil {
		t.Fatalf("disabled account logged in with a provider: %d %q", r.Status, r.Location)
	}
	if p := b.get("/login"); !strings.Contains(p.Body, "has been disabled") {
		t.Fatal("no explanation for the disabled account")
	}
}

// TestLoginRecordsStatusChangesOnly: logging in with a linked account
// refreshes its tokens; connection_updated is recorded only when that
// changes the connection's status (a dead connection revived by logging in).
func TestLoginRecordsStatusChangesOnly(t *testing.T) {
	hub := oauthtest.NewServer(t)
	ts := newTestServer(t, withProviders(fakeOAuth2(hub, "hub")))
	b := ts.browser(t)
	b.signUp("revive@example.com", goodPassword)
	b.dance(hub, "/auth/hub/connect", nil)
	ts.DB.Exec(t.Context(), `UPDATE connections SET status = 'needs_reauth'`)
	for range 2 {
		b.post("/logout", nil)
		if r := b.dance(hub, "/auth/hub/login", nil); r.Status != http.StatusSeeOther || r.Location != "/profile" {
			t.Fatalf("login: %d %q", r.Status, r.Location)
		}
	}
	if n := ts.count(t, `SELECT count(*) FROM events WHERE kind = 'connection_updated'
		AND data->>'old_status' = 'needs_reauth' AND data->>'new_status' = 'active'`); n != 1 {
		t.Fatalf("status-change events = %d, want 1", n)
	}
	if n := ts.count(t, `SELECT count(*) FROM events WHERE kind = 'connection_updated'`); n != 1 {
		t.Fatalf("connection_updated events = %d, want 1 (the second log-in changed no status)", n)
	}
	if n := ts.count(t, `SELECT count(*) FROM connections WHERE status = 'active'`); n != 1 {
		t.Fatal("logging in did not revive the connection")
	}
}
