package links_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dancecard/dancecard/internal/links"
	"github.com/dancecard/dancecard/internal/oauth"
	"github.com/dancecard/dancecard/internal/oauth/oauthtest"
)

func TestCallAPIRefreshesOnceUnderConcurrency(t *testing.T) {
	t.Parallel()
	for _, replicas := range []int{1, 2} {
		t.Run(map[int]string{1: "one process", 2: "two replicas"}[replicas], func(t *testing.T) {
			t.Parallel()
			e := newCallEnv(t, oauthtest.Knobs{RotateRefresh: true})
			svcs := []*links.Service{e.svc, e.service()}[:replicas]
			e.expire(t)
			var wg sync.WaitGroup
			errs := make(chan string, 50)
			for i := range 50 {
				wg.Go(func() {
					status, echo, err := call(t, svcs[i%replicas], links.APICall{UserID: e.userID, Provider: "hub"})
					if err != nil || status != 200 || echo.User != "42" {
						errs <- err.Error()
					}
				})
			}
			wg.Wait()
			close(errs)
			for msg := range errs {
				t.Error(msg)
			}
			if n := e.fake.Counts().Refreshes; n != 1 {
				t.Fatalf("refreshes at the provider = %d, want 1", n)
			}
			// The rotated refresh token was stored: the next expiry
			// refreshes again, with the new one.
			e.expire(t)
			if status, _, err := call(t, svcs[0], links.APICall{UserID: e.userID, Provider: "hub"}); err != nil || status != 200 {
				t.Fatalf("after a second expiry: %d %v", status, err)
			}
			if n := e.fake.Counts().Refreshes; n != 2 {
				t.Fatalf("refreshes = %d, want 2", n)
			}
		})
	}
}

func TestCallAPIRefreshesAfter401AndResendsTheBody(t *testing.T) {
	t.Parallel()
	e := newCallEnv(t, oauthtest.Knobs{OmitRefreshToken: true})
	e.age(t)
	e.fake.ForgetAccessTokens() // the database still thinks the token is good
	status, echo, err := call(t, e.svc, links.APICall{UserID: e.userID, Provider: "hub",
		Request: oauth.APIRequest{Method: "POST", Path: "items", Body: strings.NewReader(`{"a":1}`), ContentLength: 7,
			Header: http.Header{"Content-Type": {"application/json"}}}})
	if err != nil || status != 200 || echo.Body != `{"a":1}` || echo.Method != "POST" {
		t.Fatalf("status %d, echo %+v, err %v", status, echo, err)
	}
	if c := e.fake.Counts(); c.Refreshes != 1 || c.APICalls != 2 {
		t.Fatalf("counts %+v", c)
	}
	// No refresh token came back: the old one was kept and still works.
	e.expire(t)
	if status, _, err := call(t, e.svc, links.APICall{UserID: e.userID, Provider: "hub"}); err != nil || status != 200 {
		t.Fatalf("second refresh: %d %v", status, err)
	}
}

func TestCallAPIInvalidGrantNeedsReauth(t *testing.T) {
	t.Parallel()
	e := newCallEnv(t, oauthtest.Knobs{RefreshError: "invalid_grant"})
	e.expire(t)
	_, _, err := call(t, e.svc, links.APICall{UserID: e.userID, Provider: "hub"})
	var re *links.ReauthError
	if !errors.As(err, &re) || !errors.Is(err, links.ErrReauthRequired) || re.ConnectionID != e.connID {
		t.Fatalf("err = %v", err)
	}
	var status, data, reason string
	if err := e.db.QueryRow(context.Background(), `SELECT c.status, e.data::text, e.reason FROM connections c
		JOIN events e ON e.connection_id = c.id AND e.kind = 'connection_updated' WHERE c.id = $1`, e.connID).Scan(&status, &data, &reason); err != nil {
		t.Fatal(err)
	}
	if status != "needs_reauth" || !strings.Contains(data, `"new_status": "needs_reauth"`) || !strings.Contains(data, `"old_status": "active"`) ||
		!strings.Contains(reason, "invalid_grant") {
		t.Fatalf("status %s, event %s %s", status, data, reason)
	}
	// From now on calls stop before the provider.
	before := e.fake.Counts()
	if _, _, err := call(t, e.svc, links.APICall{UserID: e.userID, Provider: "hub"}); !errors.Is(err, links.ErrReauthRequired) {
		t.Fatalf("second call: %v", err)
	}
	if after := e.fake.Counts(); after != before {
		t.Fatalf("the provider was asked again: %+v -> %+v", before, after)
	}
}

func TestRefreshRecordsStatusChange(t *testing.T) {
	t.Parallel()
	e := newCallEnv(t, oauthtest.Knobs{})
	e.expire(t)
	ctx := context.Background()
	if _, err := e.db.Exec(ctx, `UPDATE connections SET status = 'expiring'`); err != nil {
		t.Fatal(err)
	}
	if status, _, err := call(t, e.svc, links.APICall{UserID: e.userID, Provider: "hub"}); err != nil || status != 200 {
		t.Fatalf("%d %v", status, err)
	}
	var status string
	var events int
	if err := e.db.QueryRow(ctx, `SELECT status, (SELECT count(*) FROM events WHERE kind = 'connection_updated'
		AND reason = 'access token refreshed' AND data->>'old_status' = 'expiring' AND data->>'new_status' = 'active')
		FROM connections WHERE id = $1`, e.connID).Scan(&status, &events); err != nil {
		t.Fatal(err)
	}
	if status != "active" || events != 1 {
		t.Fatalf("status %s, %d events", status, events)
	}
	// The stored token is the refreshed one: the next call needs no refresh.
	if status, _, err := call(t, e.svc, links.APICall{UserID: e.userID, Provider: "hub"}); err != nil || status != 200 || e.fake.Counts().Refreshes != 1 {
		t.Fatalf("second call: %d %v, %d refreshes", status, err, e.fake.Counts().Refreshes)
	}
}

func TestRefreshAfter401WithLargeBody(t *testing.T) {
	t.Parallel()
	e := newCallEnv(t, oauthtest.Knobs{})
	e.age(t)
	e.fake.ForgetAccessTokens()
	big := strings.Repeat("x", 100<<10)
	status, _, err := call(t, e.svc, links.APICall{UserID: e.userID, Provider: "hub",
		Request: oauth.APIRequest{Method: "PUT", Path: "raw/big", Body: strings.NewReader(big), ContentLength: int64(len(big))}})
	if err != nil || status != 401 || e.fake.Counts().Refreshes != 1 {
		t.Fatalf("%d %v, %d refreshes", status, err, e.fake.Counts().Refreshes)
	}
	status, _, err = call(t, e.svc, links.APICall{UserID: e.userID, Provider: "hub",
		Request: oauth.APIRequest{Method: "PUT", Path: "raw/big", Body: strings.NewReader(big), ContentLength: int64(len(big))}})
	if err != nil || status != 200 || e.fake.Counts().Refreshes != 1 {
		t.Fatalf("retry: %d %v, %d refreshes", status, err, e.fake.Counts().Refreshes)
	}
}

// A 401 for a token stored moments ago is passed back without a refresh
// and marks nothing: the provider may not know the token everywhere yet,
// and refreshing would cost a refresh per call.
func TestNoRefreshFor401OfAFreshToken(t *testing.T) {
	t.Parallel()
	e := newCallEnv(t, oauthtest.Knobs{})
	for range 3 {
		if status, _, err := call(t, e.svc, links.APICall{UserID: e.userID, Provider: "hub", Request: oauth.APIRequest{Path: "status/401"}}); err != nil || status != 401 {
			t.Fatalf("%d %v", status, err)
		}
	}
	if n := e.fake.Counts().Refreshes; n != 0 {
		t.Fatalf("%d refreshes for a token stored moments ago", n)
	}
	// An older token's 401 is refreshed once; when the refreshed token
	// draws a 401 too, the connection must be reconnected.
	e.age(t)
	if _, _, err := call(t, e.svc, links.APICall{UserID: e.userID, Provider: "hub", Request: oauth.APIRequest{Path: "status/401"}}); !errors.Is(err, links.ErrReauthRequired) {
		t.Fatalf("an older token's 401 that a refresh does not cure: %v", err)
	}
	if n := e.fake.Counts().Refreshes; n != 1 {
		t.Fatalf("%d refreshes for an older token's 401, want 1", n)
	}
}

// A reconnect that lands while a refresh is waiting for the provider is not
// blocked by it, and its new token stands: the refresh's invalid_grant,
// which was about the replaced refresh token, marks nothing, and the call
// goes on with the reconnect's token.
func TestReconnectDuringRefreshWins(t *testing.T) {
	t.Parallel()
	e := newCallEnv(t, oauthtest.Knobs{RefreshError: "invalid_grant", RefreshDelay: refreshDelay})
	e.expire(t)
	type result struct {
		status int
		err    error
	}
	done := make(chan result, 1)
	go func() {
		status, _, err := call(t, e.svc, links.APICall{UserID: e.userID, Provider: "hub"})
		done <- result{status, err}
	}()
	for deadline := time.Now().Add(5 * time.Second); e.fake.Counts().Refreshes == 0; time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the refresh never reached the provider")
		}
	}
	started := time.Now()
	if id := e.connect(t, e.userID, "hub"); id != e.connID {
		t.Fatalf("reconnect made connection %d, want %d", id, e.connID)
	}
	if waited := time.Since(started); waited > refreshDelay*3/4 {
		t.Fatalf("the reconnect waited %v for the refresh", waited)
	}
	r := <-done
	if r.err != nil || r.status != http.StatusOK {
		t.Fatalf("call: %d %v", r.status, r.err)
	}
	var status string
	var marks int
	if err := e.db.QueryRow(context.Background(), `SELECT status, (SELECT count(*) FROM events
		WHERE kind = 'connection_updated' AND data->>'new_status' = 'needs_reauth') FROM connections WHERE id = $1`,
		e.connID).Scan(&status, &marks); err != nil {
		t.Fatal(err)
	}
	if status != "active" || marks != 0 {
		t.Fatalf("status %s, %d needs_reauth events", status, marks)
	}
}

// refreshDelay is how long the fake takes to answer a refresh in the tests
// that check nothing waits for one. Whatever waited would wait nearly all
// of it; the tests allow three quarters, room for a machine busy with the
// rest of the suite (-race, in parallel), where half a second once did not
// suffice.
const refreshDelay = 2 * time.Second

// Re-sealing every token under a new key (keys rotate) while a refresh
// waits for the provider neither waits for it nor makes it drop the
// provider's answer: the tokens are the same, only their sealing changed.
// With rotating refresh tokens, dropping the answer would leave a spent
// refresh token stored.
func TestRotateDuringRefreshKeepsTheRefreshedToken(t *testing.T) {
	t.Parallel()
	e := newCallEnv(t, oauthtest.Knobs{RotateRefresh: true, RefreshDelay: refreshDelay})
	e.keys = ring(t, 2, 1) // the new key first, as the servers run while rotating
	e.svc = e.service()
	e.expire(t)
	done := make(chan error, 1)
	go func() {
		status, _, err := call(t, e.svc, links.APICall{UserID: e.userID, Provider: "hub"})
		if err == nil && status != http.StatusOK {
			err = fmt.Errorf("status %d", status)
		}
		done <- err
	}()
	for deadline := time.Now().Add(5 * time.Second); e.fake.Counts().Refreshes == 0; time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the refresh never reached the provider")
		}
	}
	started := time.Now()
	if n, err := e.service().Rotate(context.Background()); err != nil || n != 1 {
		t.Fatalf("Rotate = %d, %v", n, err)
	}
	if waited := time.Since(started); waited > refreshDelay*3/4 {
		t.Fatalf("the rotation waited %v for the refresh", waited)
	}
	if err := <-done; err != nil {
		t.Fatalf("call: %v", err)
	}
	// The refreshed token was stored: the next call needs no refresh.
	if status, _, err := call(t, e.svc, links.APICall{UserID: e.userID, Provider: "hub"}); err != nil || status != http.StatusOK {
		t.Fatalf("second call: %d %v", status, err)
	}
	if n := e.fake.Counts().Refreshes; n != 1 {
		t.Fatalf("%d refreshes, want 1", n)
	}
}

// TestOnRefreshHearsEachRefreshAndItsOutcome: the metrics hook sees every
// refresh asked of a provider, once however many calls needed it.
func TestOnRefreshHearsEachRefreshAndItsOutcome(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		knobs oauthtest.Knobs
		want  string
	}{{oauthtest.Knobs{}, "ok"}, {oauthtest.Knobs{RefreshError: "invalid_grant"}, "refused"}} {
		e := newCallEnv(t, tc.knobs)
		var mu sync.Mutex
		var heard []string
		svc := links.New(links.Options{DB: e.db, Accounts: e.accts, Catalog: e.cat, Client: oauth.NewClient(oauth.ClientOptions{}),
			Keys: e.keys, OnRefresh: func(provider, outcome string) {
				mu.Lock()
				defer mu.Unlock()
				heard = append(heard, provider+":"+outcome)
			}})
		e.expire(t)
		var wg sync.WaitGroup
		for range 5 {
			wg.Go(func() { call(t, svc, links.APICall{UserID: e.userID, Provider: "hub"}) })
		}
		wg.Wait()
		if len(heard) != 1 || heard[0] != "hub:"+tc.want {
			t.Errorf("%s: heard %v", tc.want, heard)
		}
	}
}
