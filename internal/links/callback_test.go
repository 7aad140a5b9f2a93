package links_test

import (
	"errors"
	"net/url"
	"testing"

	"github.com/dancecard/dancecard/internal/events"
	"github.com/dancecard/dancecard/internal/links"
	"github.com/dancecard/dancecard/internal/oauth/oauthtest"
)

// failedEvent is the newest login_failed or connection_failed event.
type failedEvent struct {
	Kind, Provider, Reason, IP string
	UserID                     *int64
	Count                      int
}

func (e *callEnv) lastFailed(t *testing.T) failedEvent {
	t.Helper()
	var f failedEvent
	err := e.db.QueryRow(t.Context(), `SELECT kind, coalesce(provider, ''), reason, ip, user_id,
		    (SELECT count(*) FROM events WHERE kind IN ('login_failed', 'connection_failed'))
		FROM events WHERE kind IN ('login_failed', 'connection_failed') ORDER BY id DESC LIMIT 1`).
		Scan(&f.Kind, &f.Provider, &f.Reason, &f.IP, &f.UserID, &f.Count)
	if err != nil {
		t.Fatalf("no failed dance recorded: %v", err)
	}
	return f
}

// Callbacks that fail on their state (forged, expired, from another
// browser) are recorded like every other failed dance, with the kind of
// the dance when it is known, and a forged or stolen state still cannot
// cancel the real user's dance.
func TestFailedCallbackStatesAreRecorded(t *testing.T) {
	t.Parallel()
	e := newCallEnv(t, oauthtest.Knobs{})
	ctx := events.WithMeta(t.Context(), events.Meta{IP: "203.0.113.9"})
	start := func(intent links.Intent, userID int64, browser string) url.Values {
		t.Helper()
		authURL, err := e.svc.Start(ctx, links.StartRequest{Provider: "hub", Intent: intent, UserID: userID, Browser: browser})
		if err != nil {
			t.Fatal(err)
		}
		return e.fake.Authorize(t, authURL).Query()
	}
	victimConnect := start(links.IntentConnect, e.userID, "victim")
	strangerLogin := start(links.IntentLogin, 0, "stranger")
	expired := start(links.IntentConnect, e.userID, "victim")
	if _, err := e.db.Exec(ctx, `UPDATE dances SET expires_at = now() - interval '1 second' WHERE lookup_hash = sha256($1)`,
		[]byte(expired.Get("state"))); err != nil {
		t.Fatal(err)
	}
	uid := e.userID
	for _, tc := range []struct {
		name   string
		req    links.FinishRequest
		want   error
		kind   string
		userID *int64
	}{
		{"forged state", links.FinishRequest{Params: url.Values{"state": {"forged"}, "code": {"x"}}, Browser: "victim", UserID: uid},
			links.ErrStateUnknown, "login_failed", &uid},
		{"no state, no browser", links.FinishRequest{Params: url.Values{"code": {"x"}}},
			links.ErrStateUnknown, "login_failed", nil},
		{"connect state in another browser", links.FinishRequest{Params: victimConnect, Browser: "attacker"},
			links.ErrWrongBrowser, "connection_failed", &uid},
		{"login state in another browser", links.FinishRequest{Params: strangerLogin, Browser: "attacker"},
			links.ErrWrongBrowser, "login_failed", nil},
		{"expired state", links.FinishRequest{Params: expired, Browser: "victim", UserID: uid},
			links.ErrStateExpired, "connection_failed", &uid},
	} {
		before := e.failedCount(t)
		tc.req.Provider = "hub"
		if _, err := e.svc.Finish(ctx, tc.req); !errors.Is(err, tc.want) {
			t.Fatalf("%s: Finish = %v, want %v", tc.name, err, tc.want)
		}
		got := e.lastFailed(t)
		if got.Count != before+1 || got.Kind != tc.kind || got.Provider != "hub" || got.Reason != tc.want.Error() ||
			got.IP != "203.0.113.9" || (got.UserID == nil) != (tc.userID == nil) || (got.UserID != nil && *got.UserID != *tc.userID) {
			t.Errorf("%s: recorded %+v (user %v), want one more %s for user %v with reason %q", tc.name, got, deref(got.UserID),
				tc.kind, deref(tc.userID), tc.want.Error())
		}
	}
	// The stolen states did not cancel their dances: their owners finish them.
	if _, err := e.svc.Finish(ctx, links.FinishRequest{Provider: "hub", Params: victimConnect, Browser: "victim", UserID: uid}); err != nil {
		t.Fatalf("the victim's own callback after the attack: %v", err)
	}
	if _, err := e.svc.Finish(ctx, links.FinishRequest{Provider: "hub", Params: strangerLogin, Browser: "stranger"}); err != nil {
		t.Fatalf("the stranger's own log-in after the attack: %v", err)
	}
}

func (e *callEnv) failedCount(t *testing.T) int {
	t.Helper()
	var n int
	if err := e.db.QueryRow(t.Context(), `SELECT count(*) FROM events WHERE kind IN ('login_failed', 'connection_failed')`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func deref(p *int64) any {
	if p == nil {
		return nil
	}
	return *p
}
