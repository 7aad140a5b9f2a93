package links_test

import (
	"testing"
	"time"

	"github.com/dancecard/dancecard/internal/links"
	"github.com/dancecard/dancecard/internal/oauth/oauthtest"
)

// setLife makes the stored token look stored ago and expiring in left.
func (e *callEnv) setLife(t *testing.T, ago, left time.Duration) {
	t.Helper()
	if _, err := e.db.Exec(t.Context(), `UPDATE connections SET updated_at = now() - make_interval(secs => $1),
		expires_at = now() + make_interval(secs => $2) WHERE id = $3`, ago.Seconds(), left.Seconds(), e.connID); err != nil {
		t.Fatal(err)
	}
}

// callRefreshes makes one call and returns how many refreshes the provider
// has seen.
func (e *callEnv) callRefreshes(t *testing.T) int64 {
	t.Helper()
	if status, _, err := call(t, e.svc, links.APICall{UserID: e.userID, Provider: "hub"}); err != nil || status != 200 {
		t.Fatalf("call: %d %v", status, err)
	}
	return e.fake.Counts().Refreshes
}

// A token that lives less than the 30 s refresh margin is used until about
// half its lifetime is left, not refreshed on every call; a long-lived one
// keeps the 30 s margin.
func TestRefreshMarginScalesWithTheTokensLifetime(t *testing.T) {
	t.Parallel()
	e := newCallEnv(t, oauthtest.Knobs{ExpiresIn: 20 * time.Second})
	for range 5 {
		if n := e.callRefreshes(t); n != 0 {
			t.Fatalf("%d refreshes of a 20 s token stored moments ago, want 0", n)
		}
	}
	e.setLife(t, 8*time.Second, 12*time.Second) // more than half of 20 s left
	if n := e.callRefreshes(t); n != 0 {
		t.Fatalf("a 20 s token with 12 s left was refreshed (%d)", n)
	}
	e.setLife(t, 12*time.Second, 8*time.Second) // less than half left
	if n := e.callRefreshes(t); n != 1 {
		t.Fatalf("a 20 s token with 8 s left: %d refreshes, want 1", n)
	}
	if n := e.callRefreshes(t); n != 1 {
		t.Fatalf("the refreshed 20 s token was refreshed again (%d)", n)
	}
	e.setLife(t, time.Hour-40*time.Second, 40*time.Second) // an hour's token, 40 s left
	if n := e.callRefreshes(t); n != 1 {
		t.Fatalf("an hour's token with 40 s left was refreshed (%d)", n)
	}
	e.setLife(t, time.Hour-20*time.Second, 20*time.Second) // inside the 30 s margin
	if n := e.callRefreshes(t); n != 2 {
		t.Fatalf("an hour's token with 20 s left: %d refreshes, want 2", n)
	}
}
