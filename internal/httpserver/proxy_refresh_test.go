package httpserver_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dancecard/dancecard/internal/accounts"
	"github.com/dancecard/dancecard/internal/config"
	"github.com/dancecard/dancecard/internal/httpserver"
	"github.com/dancecard/dancecard/internal/links"
	"github.com/dancecard/dancecard/internal/oauth"
	"github.com/dancecard/dancecard/internal/oauth/oauthtest"
	"github.com/dancecard/dancecard/internal/postgres"
	"github.com/dancecard/dancecard/internal/ratelimit"
)

// replica is a second server on ts's database, with its own links service
// (its own refresh flights), as another replica of the service would be.
func replica(t *testing.T, ts *testServer, providers ...config.Provider) *httptest.Server {
	t.Helper()
	secret, err := postgres.Secret(context.Background(), ts.DB, "cookie-signing")
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewUnstartedServer(nil)
	base, _ := url.Parse("http://" + srv.Listener.Addr().String())
	catalog, err := oauth.NewCatalog(providers, base)
	if err != nil {
		t.Fatal(err)
	}
	accts := accounts.New(ts.DB, accounts.Options{TestHashMemoryKiB: testHashKiB})
	lk := links.New(links.Options{DB: ts.DB, Accounts: accts, Catalog: catalog, Client: oauth.NewClient(oauth.ClientOptions{}), Keys: ts.Keys})
	srv.Config.Handler = validateAgainstOpenAPI(t, httpserver.New(httpserver.Options{Logger: slog.New(slog.DiscardHandler), DB: ts.DB, Accounts: accts,
		Links: lk, Limiter: ratelimit.New(ts.DB, false), BaseURL: base, Secret: secret}).Handler())
	srv.Start()
	t.Cleanup(srv.Close)
	return srv
}

// expireHubToken makes the stored token expired and the provider forget
// it, so only a refreshed token gets through.
func (e *proxyEnv) expireHubToken(t *testing.T) {
	t.Helper()
	if _, err := e.ts.DB.Exec(context.Background(), `UPDATE connections SET expires_at = now() - interval '1 minute'`); err != nil {
		t.Fatal(err)
	}
	e.hub.ForgetAccessTokens()
}

func TestProxyRefreshesOnceForConcurrentCalls(t *testing.T) {
	for _, replicas := range []int{1, 2} {
		t.Run(strconv.Itoa(replicas)+" servers", func(t *testing.T) {
			e := newProxyEnv(t, oauthtest.Knobs{RotateRefresh: true})
			bases := []string{e.ts.URL}
			if replicas == 2 {
				bases = append(bases, replica(t, e.ts, fakeOAuth2(e.hub, "hub")).URL)
			}
			e.expireHubToken(t)
			var wg sync.WaitGroup
			statuses := make(chan int, 50)
			for i := range 50 {
				wg.Go(func() {
					req, _ := http.NewRequest("GET", bases[i%len(bases)]+"/api/v1/providers/hub/api/user", nil)
					req.Header.Set("Authorization", "Bearer "+e.token)
					res, err := http.DefaultClient.Do(req)
					if err != nil {
						statuses <- 0
						return
					}
					_, _ = io.Copy(io.Discard, res.Body)
					res.Body.Close()
					statuses <- res.StatusCode
				})
			}
			wg.Wait()
			close(statuses)
			for s := range statuses {
				if s != 200 {
					t.Errorf("a concurrent call answered %d", s)
				}
			}
			if n := e.hub.Counts().Refreshes; n != 1 {
				t.Fatalf("the provider saw %d refreshes, want exactly 1", n)
			}
		})
	}
}

func TestProxyRefreshesAfterA401(t *testing.T) {
	e := newProxyEnv(t, oauthtest.Knobs{})
	// A token stored over 30 s ago, which the provider no longer accepts.
	if _, err := e.ts.DB.Exec(context.Background(), `UPDATE connections SET updated_at = now() - interval '1 hour'`); err != nil {
		t.Fatal(err)
	}
	e.hub.ForgetAccessTokens()
	res, out := e.call(t, "POST", "/api/v1/providers/hub/api/items", strings.NewReader(`{"n":1}`), http.Header{"Content-Type": {"application/json"}})
	if got := echoOf(t, res, out); got.Body != `{"n":1}` || e.hub.Counts().Refreshes != 1 {
		t.Fatalf("echo %+v, refreshes %d", got, e.hub.Counts().Refreshes)
	}
}

func TestProxyInvalidGrantAsksToReconnect(t *testing.T) {
	e := newProxyEnv(t, oauthtest.Knobs{RefreshError: "invalid_grant"})
	e.expireHubToken(t)
	res, out := e.call(t, "GET", "/api/v1/providers/hub/api/user", nil, nil)
	wantProblem(t, asResponse(res, out), http.StatusConflict, "reauth_required")
	var doc struct {
		ReconnectURL string `json:"reconnect_url"`
		ConnectionID int64  `json:"connection_id"`
	}
	_ = json.Unmarshal(out, &doc)
	if doc.ReconnectURL != e.ts.URL+"/profile#connections" || doc.ConnectionID == 0 {
		t.Fatalf("problem: %s", out)
	}
	if n := e.ts.count(t, `SELECT count(*) FROM connections WHERE status = 'needs_reauth' AND id = $1`, doc.ConnectionID); n != 1 {
		t.Fatal("connection not marked needs_reauth")
	}
	if n := e.ts.count(t, `SELECT count(*) FROM events WHERE kind = 'connection_updated' AND connection_id = $1
		AND data->>'new_status' = 'needs_reauth' AND data->>'old_status' = 'active'`, doc.ConnectionID); n != 1 {
		t.Fatal("no connection_updated event for needs_reauth")
	}
	// The profile shows it, with a reconnect form.
	if r := e.b.get("/profile"); !strings.Contains(r.Body, `action="/auth/hub/connect"`) || !strings.Contains(r.Body, `id="connections"`) {
		t.Fatalf("profile does not offer to reconnect:\n%.2000s", r.Body)
	}
}

// stateOf is what a failed call must leave as it was.
func stateOf(t *testing.T, ts *testServer) string {
	t.Helper()
	var s string
	err := ts.DB.QueryRow(context.Background(), `SELECT coalesce((SELECT string_agg(concat_ws('|', id, access_token, refresh_token,
		expires_at, status, last_used_at, updated_at), ',' ORDER BY id) FROM connections), '') || ' events=' || (SELECT count(*) FROM events)`).Scan(&s)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestProxyAccessRules(t *testing.T) {
	e := newProxyEnv(t, oauthtest.Knobs{})
	ctx := context.Background()
	other := e.ts.browser(t)
	other.signUp("other@example.com", goodPassword)
	e.hub.SetUser(oauthtest.User{ID: "other-account", Login: "other"})
	other.dance(e.hub, "/auth/hub/connect", nil)
	var mine, theirs, otherUser int64
	_ = e.ts.DB.QueryRow(ctx, `SELECT id FROM connections WHERE provider_user_id = '42'`).Scan(&mine)
	_ = e.ts.DB.QueryRow(ctx, `SELECT id, user_id FROM connections WHERE provider_user_id = 'other-account'`).Scan(&theirs, &otherUser)
	readToken := e.b.newToken("read", "read").Token
	if _, _, err := e.ts.Accounts.EnsureAdmin(ctx, "root@example.com", goodPassword); err != nil {
		t.Fatal(err)
	}
	adm := e.ts.browser(t)
	adm.logIn("root@example.com", goodPassword)
	adminToken := adm.newToken("backend", "admin").Token
	revoked := e.b.newToken("gone", "proxy")
	if r := e.b.api(apiCall{method: "DELETE", path: "/api/v1/tokens/" + strconv.FormatInt(revoked.ID, 10), csrf: true}); r.Status != 204 {
		t.Fatalf("revoke: %d %s", r.Status, r.Body)
	}
	before := stateOf(t, e.ts)
	apiCalls := e.hub.Counts().APICalls
	mineQ := strconv.FormatInt(mine, 10)

	for _, c := range []struct {
		target, bearer string
		status         int
		code           string
	}{
		{"/api/v1/providers/hub/api/user", "", 401, "unauthenticated"},
		{"/api/v1/providers/hub/api/user", revoked.Token, 401, "unauthenticated"},
		{"/api/v1/providers/hub/api/user", readToken, 403, "insufficient_scope"},
		{"/api/v1/providers/hub/api/user", "dct_", 401, "unauthenticated"},
		{"/api/v1/providers/hub/api/user", "not-a-token", 401, "unauthenticated"},
		// Nothing about a call is said to a caller who may not make it.
		{"/api/v1/providers/nope/api/user", revoked.Token, 401, "unauthenticated"},
		{"/api/v1/providers/hub/api/user?connection=abc", revoked.Token, 401, "unauthenticated"},
		{"/api/v1/providers/hub/api/%2e%2e/x", revoked.Token, 401, "unauthenticated"},
		{"/api/v1/providers/nope/api/user", readToken, 403, "insufficient_scope"},
		{"/api/v1/providers/hub/api/user?connection=" + strconv.FormatInt(theirs, 10), readToken, 403, "insufficient_scope"},
		{"/api/v1/admin/users/999999/providers/hub/api/user", e.token, 403, "forbidden"},
		{"/api/v1/admin/users/" + strconv.FormatInt(otherUser, 10) + "/providers/hub/api/user", e.token, 403, "forbidden"},
		{"/api/v1/providers/nope/api/user", e.token, 404, "unknown_provider"},
		{"/api/v1/providers/hub/api/user?connection=" + strconv.FormatInt(theirs, 10), e.token, 404, "not_found"},
		{"/api/v1/providers/hub/api/user?connection=999999", e.token, 404, "not_found"},
		{"/api/v1/providers/hub/api/user?connection=abc", e.token, 404, "not_found"},
		{"/api/v1/providers/hub/api/user?connection=" + mineQ + "&connection=" + mineQ, e.token, 404, "not_found"},
		{"/api/v1/admin/users/999999/providers/hub/api/user", adminToken, 404, "not_found"},
		{"/api/v1/admin/users/x/providers/hub/api/user", adminToken, 404, "not_found"},
		{"/api/v1/admin/users/" + strconv.FormatInt(otherUser, 10) + "/providers/hub/api/user?connection=" + mineQ, adminToken, 404, "not_found"},
	} {
		res, out := send(t, e.ts.URL, "GET", c.target, c.bearer, nil, nil)
		wantProblem(t, asResponse(res, out), c.status, c.code)
	}
	// The same body for another user's connection as for an unknown one.
	_, a := e.call(t, "GET", "/api/v1/providers/hub/api/user?connection="+strconv.FormatInt(theirs, 10), nil, nil)
	_, b := e.call(t, "GET", "/api/v1/providers/hub/api/user?connection=999999", nil, nil)
	if stripRequestID(string(a)) != stripRequestID(string(b)) {
		t.Fatalf("another user's connection is distinguishable:\n%s\n%s", a, b)
	}
	if n := e.hub.Counts().APICalls; n != apiCalls {
		t.Fatalf("refused calls reached the provider %d times", n-apiCalls)
	}
	if after := stateOf(t, e.ts); after != before {
		t.Fatalf("refused calls changed the database:\n%s\n%s", before, after)
	}

	// ?connection= picks, and is not forwarded; the admin form acts for the user.
	res, out := e.call(t, "GET", "/api/v1/providers/hub/api/user?a=1&connection="+mineQ+"&b=2", nil, nil)
	if got := echoOf(t, res, out); got.Query != "a=1&b=2" || got.User != "42" {
		t.Fatalf("?connection: %+v", got)
	}
	res, out = send(t, e.ts.URL, "GET", "/api/v1/admin/users/"+strconv.FormatInt(otherUser, 10)+"/providers/hub/api/user", adminToken, nil, nil)
	if got := echoOf(t, res, out); got.User != "other-account" {
		t.Fatalf("admin form acted as %q", got.User)
	}
	// Calls are counted as uses, written in a batch.
	if n := e.ts.count(t, `SELECT count(*) FROM connections WHERE last_used_at IS NOT NULL`); n != 0 {
		t.Fatal("last_used_at written on the request path")
	}
	if _, err := e.ts.Links.FlushUsage(ctx); err != nil {
		t.Fatal(err)
	}
	if n := e.ts.count(t, `SELECT count(*) FROM connections WHERE last_used_at IS NOT NULL`); n != 2 {
		t.Fatalf("%d connections have a last-used time, want 2", n)
	}
}

func TestProxyProviderDownOrSlow(t *testing.T) {
	e := newProxyEnv(t, oauthtest.Knobs{})
	before := stateOf(t, e.ts)
	e.hub.UpdateKnobs(func(k *oauthtest.Knobs) { k.APIDelay = 5 * time.Second })
	start := time.Now()
	res, out := e.call(t, "GET", "/api/v1/providers/hub/api/user", nil, nil)
	wantProblem(t, asResponse(res, out), http.StatusGatewayTimeout, "provider_unreachable")
	if d := time.Since(start); d > 4*time.Second {
		t.Fatalf("the 2s provider timeout took %v", d)
	}
	e.hub.SetKnobs(oauthtest.Knobs{APIStatus: 503})
	if res, out := e.call(t, "GET", "/api/v1/providers/hub/api/user", nil, nil); res.StatusCode != 503 || !strings.Contains(string(out), "down") {
		t.Fatalf("a provider's 503 is passed through: %d %s", res.StatusCode, out)
	}
	e.hub.Close()
	res, out = e.call(t, "GET", "/api/v1/providers/hub/api/user", nil, nil)
	wantProblem(t, asResponse(res, out), http.StatusBadGateway, "provider_unreachable")
	if _, err := e.ts.Links.FlushUsage(context.Background()); err != nil {
		t.Fatal(err)
	}
	// Not even the last-used time: a 5xx is not a use.
	if after := stateOf(t, e.ts); after != before {
		t.Fatalf("failed calls changed the database:\n%s\n%s", before, after)
	}
}

func TestProxySignsOAuth1Calls(t *testing.T) {
	bird, jira := oauthtest.NewServer(t), oauthtest.NewServer(t)
	ts := newTestServer(t, withProviders(fakeOAuth1(bird, "bird"), fakeOAuth1RSA(t, jira, "jira")))
	b := ts.browser(t)
	b.signUp("bird@example.com", goodPassword)
	b.dance(bird, "/auth/bird/connect", nil)
	b.dance(jira, "/auth/jira/connect", nil)
	token := b.newToken("p", "proxy").Token
	form := "status=hello+world&tag=a&tag=b"
	for _, id := range []string{"bird", "jira"} {
		res, out := send(t, ts.URL, "POST", "/api/v1/providers/"+id+"/api/1.1/statuses/update.json?q=%E2%9C%93&q=2&x=",
			token, strings.NewReader(form), http.Header{"Content-Type": {"application/x-www-form-urlencoded; charset=utf-8"}})
		if got := echoOf(t, res, out); got.Auth != "OAuth" || got.Body != form || got.Query != "q=%E2%9C%93&q=2&x=" {
			t.Fatalf("%s: %+v", id, got)
		}
	}
	res, out := send(t, ts.URL, "GET", "/api/v1/providers/bird/api/x?a=1;b=2", token, nil, nil)
	wantProblem(t, asResponse(res, out), http.StatusBadRequest, "invalid_query")
}
