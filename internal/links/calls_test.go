package links_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/dancecard/dancecard/internal/accounts"
	"github.com/dancecard/dancecard/internal/links"
	"github.com/dancecard/dancecard/internal/oauth"
	"github.com/dancecard/dancecard/internal/oauth/oauthtest"
	"github.com/dancecard/dancecard/internal/postgres/pgtest"
)

// callEnv is a database, a fake provider "hub" and a user connected to it.
type callEnv struct {
	db     *pgxpool.Pool
	accts  *accounts.Service
	fake   *oauthtest.Server
	cat    catalog
	keys   *links.Keyring
	svc    *links.Service
	userID int64
	connID int64
}

func newCallEnv(t *testing.T, knobs oauthtest.Knobs) *callEnv {
	t.Helper()
	db := pgtest.New(t)
	e := &callEnv{db: db, accts: accounts.New(db, accounts.Options{TestHashMemoryKiB: 64}), fake: oauthtest.NewServer(t, oauthtest.WithKnobs(knobs)),
		keys: ring(t, 1)}
	e.cat = catalog{"hub": e.fake.OAuth2Provider("hub"), "bird": e.fake.OAuth1Provider("bird")}
	e.svc = e.service()
	u, err := e.accts.SignUp(context.Background(), "caller@example.com", "correct horse battery staple")
	if err != nil {
		t.Fatal(err)
	}
	e.userID = u.ID
	e.connID = e.connect(t, u.ID, "hub")
	return e
}

// service is another links service on the same database: another replica.
func (e *callEnv) service() *links.Service {
	return links.New(links.Options{DB: e.db, Accounts: e.accts, Catalog: e.cat,
		Client: oauth.NewClient(oauth.ClientOptions{}), Keys: e.keys})
}

// connect runs a connect dance for userID with the fake's current user.
func (e *callEnv) connect(t *testing.T, userID int64, provider string) int64 {
	t.Helper()
	ctx := context.Background()
	authURL, err := e.svc.Start(ctx, links.StartRequest{Provider: provider, Intent: links.IntentConnect, UserID: userID, Browser: "b"})
	if err != nil {
		t.Fatal(err)
	}
	res, err := e.svc.Finish(ctx, links.FinishRequest{Provider: provider, Params: e.fake.Authorize(t, authURL).Query(), Browser: "b", UserID: userID})
	if err != nil {
		t.Fatal(err)
	}
	return res.Connection.ID
}

// expire makes the stored token look expired and the fake forget it, so a
// call without a refresh fails.
func (e *callEnv) expire(t *testing.T) {
	t.Helper()
	if _, err := e.db.Exec(context.Background(), `UPDATE connections SET expires_at = now() - interval '1 minute'`); err != nil {
		t.Fatal(err)
	}
	e.fake.ForgetAccessTokens()
}

// age makes the stored token look stored a while ago, so that a 401 makes
// it refreshed.
func (e *callEnv) age(t *testing.T) {
	t.Helper()
	if _, err := e.db.Exec(context.Background(), `UPDATE connections SET updated_at = now() - interval '1 hour'`); err != nil {
		t.Fatal(err)
	}
}

func call(t *testing.T, svc *links.Service, c links.APICall) (int, oauthtest.Echo, error) {
	t.Helper()
	if c.Request.Method == "" {
		c.Request.Method = "GET"
	}
	if c.Request.Path == "" {
		c.Request.Path = "user"
	}
	resp, err := svc.CallAPI(context.Background(), c)
	if err != nil {
		return 0, oauthtest.Echo{}, err
	}
	defer resp.Body.Close()
	var echo oauthtest.Echo
	body, _ := io.ReadAll(resp.Body)
	_ = json.Unmarshal(body, &echo)
	return resp.StatusCode, echo, nil
}

// state is what a failed call must leave unchanged.
func (e *callEnv) state(t *testing.T) string {
	t.Helper()
	var s string
	err := e.db.QueryRow(context.Background(), `SELECT (SELECT string_agg(concat_ws('|', id, access_token, refresh_token,
		expires_at, status, last_used_at), ',' ORDER BY id) FROM connections) || ' events=' || (SELECT count(*) FROM events)`).Scan(&s)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestCallAPIFailuresChangeNothing(t *testing.T) {
	t.Parallel()
	e := newCallEnv(t, oauthtest.Knobs{})
	e.expire(t)
	want := e.state(t)
	e.fake.UpdateKnobs(func(k *oauthtest.Knobs) { k.TokenStatus = 503 })
	_, _, err := call(t, e.svc, links.APICall{UserID: e.userID, Provider: "hub"})
	var pe *oauth.ProviderError
	if !errors.As(err, &pe) || pe.Status != 503 {
		t.Fatalf("refresh at a provider that is down: %v", err)
	}
	e.fake.UpdateKnobs(func(k *oauthtest.Knobs) { k.TokenStatus, k.RefreshError = 0, "invalid_request" })
	if _, _, err := call(t, e.svc, links.APICall{UserID: e.userID, Provider: "hub"}); errors.Is(err, links.ErrReauthRequired) || err == nil {
		t.Fatalf("invalid_request refresh: %v", err)
	}
	if _, _, err := call(t, e.svc, links.APICall{UserID: e.userID, Provider: "hub", Request: oauth.APIRequest{Path: "../x"}}); !errors.Is(err, oauth.ErrInvalidPath) {
		t.Fatalf("bad path: %v", err)
	}
	if _, err := e.svc.FlushUsage(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := e.state(t); got != want {
		t.Fatalf("failed calls changed the database:\n%s\n%s", want, got)
	}
}

func TestCallAPIPicksTheConnection(t *testing.T) {
	t.Parallel()
	e := newCallEnv(t, oauthtest.Knobs{})
	ctx := context.Background()
	e.fake.SetUser(oauthtest.User{ID: "77", Login: "second"})
	second := e.connect(t, e.userID, "hub")
	other, err := e.accts.SignUp(ctx, "other@example.com", "correct horse battery staple")
	if err != nil {
		t.Fatal(err)
	}
	e.fake.SetUser(oauthtest.User{ID: "88", Login: "other"})
	othersConn := e.connect(t, other.ID, "hub")

	if _, echo, _ := call(t, e.svc, links.APICall{UserID: e.userID, Provider: "hub"}); echo.User != "42" {
		t.Fatalf("default connection answered as %q, want the first (rank 0)", echo.User)
	}
	if _, echo, _ := call(t, e.svc, links.APICall{UserID: e.userID, Provider: "hub", ConnectionID: second}); echo.User != "77" {
		t.Fatalf("?connection picked %q", echo.User)
	}
	if _, err := e.db.Exec(ctx, `UPDATE connections SET rank = -1 WHERE id = $1`, second); err != nil {
		t.Fatal(err)
	}
	if _, echo, _ := call(t, e.svc, links.APICall{UserID: e.userID, Provider: "hub"}); echo.User != "77" {
		t.Fatalf("default connection answered as %q, want the highest-ranked", echo.User)
	}
	for _, c := range []links.APICall{
		{UserID: e.userID, Provider: "hub", ConnectionID: othersConn},
		{UserID: e.userID, Provider: "hub", ConnectionID: 999999},
		{UserID: e.userID, Provider: "bird"},
		{UserID: e.userID, Provider: "bird", ConnectionID: e.connID},
	} {
		if _, _, err := call(t, e.svc, c); !errors.Is(err, links.ErrNotFound) {
			t.Errorf("%+v: %v, want ErrNotFound", c, err)
		}
	}
	if _, _, err := call(t, e.svc, links.APICall{UserID: e.userID, Provider: "nope"}); !errors.Is(err, links.ErrUnknownProvider) {
		t.Errorf("unknown provider: %v", err)
	}
	if _, err := e.db.Exec(ctx, `UPDATE users SET disabled_at = now() WHERE id = $1`, e.userID); err != nil {
		t.Fatal(err)
	}
	if _, _, err := call(t, e.svc, links.APICall{UserID: e.userID, Provider: "hub"}); !errors.Is(err, accounts.ErrAccountDisabled) {
		t.Errorf("disabled user: %v", err)
	}
}

func TestLastUsedIsCoalesced(t *testing.T) {
	t.Parallel()
	e := newCallEnv(t, oauthtest.Knobs{})
	ctx := context.Background()
	for range 5 {
		if status, _, err := call(t, e.svc, links.APICall{UserID: e.userID, Provider: "hub"}); err != nil || status != 200 {
			t.Fatal(status, err)
		}
	}
	lastUsed := func() *string {
		var s *string
		if err := e.db.QueryRow(ctx, `SELECT last_used_at::text FROM connections WHERE id = $1`, e.connID).Scan(&s); err != nil {
			t.Fatal(err)
		}
		return s
	}
	if s := lastUsed(); s != nil {
		t.Fatalf("last_used_at written on the hot path: %s", *s)
	}
	if n, err := e.svc.FlushUsage(ctx); err != nil || n != 1 {
		t.Fatalf("flush: %d %v", n, err)
	}
	if lastUsed() == nil {
		t.Fatal("last_used_at not flushed")
	}
	if n, err := e.svc.FlushUsage(ctx); err != nil || n != 0 {
		t.Fatalf("second flush: %d %v", n, err)
	}
	// The flusher flushes what is left when it stops.
	call(t, e.svc, links.APICall{UserID: e.userID, Provider: "hub"})
	runCtx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { e.svc.RunUsageFlusher(runCtx, time.Hour); close(done) }()
	cancel()
	<-done
	if n, _ := e.svc.FlushUsage(ctx); n != 0 {
		t.Fatalf("the flusher left %d behind at shutdown", n)
	}
}
