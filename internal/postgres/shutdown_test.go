package postgres_test

import (
	"testing"

	"github.com/dancecard/dancecard/internal/postgres"
	"github.com/dancecard/dancecard/internal/postgres/pgtest"
)

// TestPoolDropsItsConnectionsWhenTheServerShutsDown: after a restart
// terminates every backend, the first query to meet a dead connection
// fails, and the pool drops the others with it rather than handing each
// one out to fail in turn.
func TestPoolDropsItsConnectionsWhenTheServerShutsDown(t *testing.T) {
	pool, err := postgres.Open(t.Context(), pgtest.NewURL(t))
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	// Four live connections, all used a moment ago (pgxpool pings only
	// those idle for over a second before handing them out).
	var held []interface{ Release() }
	for range 4 {
		c, err := pool.Acquire(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		held = append(held, c)
	}
	for _, c := range held {
		c.Release()
	}
	killed := pgtest.TerminateBackends(t, pool)
	if killed < 4 {
		t.Fatalf("terminated %d backends, want the pool's 4", killed)
	}
	failures := 0
	for range killed + 1 {
		var one int
		if err := pool.QueryRow(t.Context(), `SELECT 1`).Scan(&one); err == nil {
			break
		}
		failures++
	}
	if failures > 1 {
		t.Fatalf("%d queries failed on dead connections, want at most the first", failures)
	}
}
