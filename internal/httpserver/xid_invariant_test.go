package httpserver_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/dancecard/dancecard/internal/oauth/oauthtest"
)

// xidWatch is a fake provider that, whenever Dancecard calls it, looks for
// a transaction of Dancecard's that holds a transaction id while it waits
// for the provider. Event cursors rely on there being none: a cursor moves
// only through events below the oldest running transaction id
// (internal/events/cursor.go), so a transaction that held one across a
// network wait would hold every subscriber's cursor back for as long as the
// provider takes, and a slow provider would slow the whole event stream.
type xidWatch struct {
	mu         sync.Mutex
	db         *pgxpool.Pool // set once the test server exists
	violations []string
}

// held lists the transactions that hold a transaction id now, less the
// watcher's own.
func (w *xidWatch) held(ctx context.Context) (map[string]string, error) {
	rows, err := w.db.Query(ctx, `
		SELECT pid || '/' || backend_xid::text, coalesce(state, '') || ': ' || left(query, 200)
		FROM pg_stat_activity
		WHERE datname = current_database() AND backend_xid IS NOT NULL AND pid <> pg_backend_pid()`)
	if err != nil {
		return nil, err
	}
	out := map[string]string{}
	var key, what string
	_, err = pgx.ForEachRow(rows, []any{&key, &what}, func() error { out[key] = what; return nil })
	return out, err
}

// wrap checks before each request reaches the provider. A transaction seen
// twice, 200 ms apart, while the request that may belong to it waits here,
// is held across the call; a background writer's short transaction is gone
// by then.
func (w *xidWatch) wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		w.mu.Lock()
		db := w.db
		w.mu.Unlock()
		if db != nil {
			first, err := w.held(r.Context())
			if err == nil && len(first) > 0 {
				time.Sleep(200 * time.Millisecond)
				var again map[string]string
				if again, err = w.held(r.Context()); err == nil {
					for k, what := range again {
						if _, ok := first[k]; ok {
							w.mu.Lock()
							w.violations = append(w.violations, fmt.Sprintf("%s %s: transaction %s held: %s", r.Method, r.URL.Path, k, what))
							w.mu.Unlock()
						}
					}
				}
			}
			if err != nil {
				w.mu.Lock()
				w.violations = append(w.violations, "watch: "+err.Error())
				w.mu.Unlock()
			}
		}
		next.ServeHTTP(rw, r)
	})
}

// watched starts a fake provider behind w.
func (w *xidWatch) watched(t *testing.T, opts ...oauthtest.Option) *oauthtest.Server {
	p := oauthtest.NewHandler(opts...)
	hs := httptest.NewServer(w.wrap(p))
	p.SetBaseURL(hs.URL)
	t.Cleanup(hs.Close)
	return &oauthtest.Server{Server: hs, Provider: p}
}

// TestNoTransactionIDAcrossProviderCalls runs every kind of provider call
// Dancecard makes (the dances of each protocol with their token and
// userinfo requests, OIDC discovery and keys, proxied API calls, a token
// refresh, revocation on disconnect) and fails when any of them happens
// while a transaction of Dancecard's holds a transaction id.
func TestNoTransactionIDAcrossProviderCalls(t *testing.T) {
	w := &xidWatch{}
	hub := w.watched(t, oauthtest.WithKnobs(oauthtest.Knobs{ExpiresIn: time.Hour}))
	bird, sso := w.watched(t), w.watched(t)
	oidc := fakeOIDC(sso, "sso")
	oidc.APIBaseURL = sso.APIBaseURL()
	ts := newTestServer(t, withProviders(fakeOAuth2(hub, "hub"), fakeOAuth1(bird, "bird"), oidc))
	w.mu.Lock()
	w.db = ts.DB
	w.mu.Unlock()

	b := ts.browser(t)
	b.signUp("xid@example.com", goodPassword)
	for _, p := range []struct {
		id string
		f  *oauthtest.Server
	}{{"hub", hub}, {"bird", bird}, {"sso", sso}} {
		b.connect(p.f, p.id)
		if r := b.api(apiCall{method: "GET", path: "/api/v1/providers/" + p.id + "/api/user"}); r.Status != http.StatusOK {
			t.Fatalf("proxy %s: %d %s", p.id, r.Status, r.Body)
		}
		// "Check connection" asks the userinfo endpoint the same way.
		id := idOf(t, ts, `SELECT id FROM connections WHERE provider = $1`, p.id)
		b.post("/connections/"+id+"/check", nil)
		if page := b.get("/profile").Body; !strings.Contains(page, "account works") {
			t.Fatalf("check %s did not pass", p.id)
		}
	}
	// An expired token is refreshed before the call.
	if _, err := ts.DB.Exec(context.Background(), `UPDATE connections SET expires_at = now() - interval '1 minute' WHERE provider = 'hub'`); err != nil {
		t.Fatal(err)
	}
	if r := b.api(apiCall{method: "GET", path: "/api/v1/providers/hub/api/user"}); r.Status != http.StatusOK {
		t.Fatalf("proxy after expiry: %d %s", r.Status, r.Body)
	}
	if n := hub.Counts().Refreshes; n == 0 {
		t.Fatal("no refresh reached the provider")
	}
	// Log in with a provider in another browser.
	if r := ts.browser(t).dance(sso, "/auth/sso/login", nil); r.Status != http.StatusSeeOther {
		t.Fatalf("log in with sso: %d %q", r.Status, r.Location)
	}
	// Disconnect each: the token is revoked at the provider.
	var ids []string
	rows, _ := ts.DB.Query(context.Background(), `SELECT id::text FROM connections ORDER BY id`)
	for rows.Next() {
		var id string
		rows.Scan(&id)
		ids = append(ids, id)
	}
	rows.Close()
	for _, id := range ids {
		if r := b.post("/connections/"+id+"/delete", url.Values{"confirm": {"yes"}}); r.Status != http.StatusSeeOther {
			t.Fatalf("disconnect %s: %d", id, r.Status)
		}
	}
	if n := hub.Counts().Revocations; n == 0 {
		t.Fatal("no revocation reached the provider")
	}

	w.mu.Lock()
	defer w.mu.Unlock()
	if len(w.violations) > 0 {
		t.Fatalf("provider calls made while a transaction held its id:\n%s", strings.Join(w.violations, "\n"))
	}
}
