package admin

import (
	"context"
	"testing"
	"time"

	"github.com/dancecard/dancecard/internal/postgres/pgtest"
)

// TestCountStaysWithinItsBudget: a count that would take longer than
// countBudget gives way to the estimate instead of slowing the page, and
// leaves its connection fit for the next query.
func TestCountStaysWithinItsBudget(t *testing.T) {
	db := pgtest.New(t)
	s := New(db)
	ctx := context.Background()
	if _, err := db.Exec(ctx, `INSERT INTO events (kind) SELECT 'connection_updated' FROM generate_series(1, 50); ANALYZE events`); err != nil {
		t.Fatal(err)
	}
	var slow where
	slow.add("e.kind = ?", "connection_updated")
	slow.add("(SELECT pg_sleep(0.2)) IS NOT NULL") // a count that reads too much, in effect
	start := time.Now()
	got, err := s.count(ctx, "events e", slow)
	if err != nil {
		t.Fatal(err)
	}
	if took := time.Since(start); took > 150*time.Millisecond {
		t.Errorf("the count took %s, past its %d ms budget", took, countBudget)
	}
	if got.Exact || got.LowerBound || got.Count < 1 {
		t.Errorf("slow count: %+v, want the estimate", got)
	}
	var quick where
	quick.add("e.kind = ?", "connection_updated")
	if got, err := s.count(ctx, "events e", quick); err != nil || got != exact(50) {
		t.Errorf("the next count: %+v, %v; want exactly 50", got, err)
	}
}
