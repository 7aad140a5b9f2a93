package ratelimit_test

import (
	"sync"
	"testing"
	"time"

	"github.com/dancecard/dancecard/internal/postgres/pgtest"
	"github.com/dancecard/dancecard/internal/ratelimit"
)

func TestHitAllowsMaxThenRefuses(t *testing.T) {
	l := ratelimit.New(pgtest.New(t), true)
	ctx := t.Context()
	rule := ratelimit.Rule{Max: 3, Window: time.Minute}
	for i := range 3 {
		if ok, _, err := l.Hit(ctx, "k", rule); err != nil || !ok {
			t.Fatalf("hit %d: ok=%v err=%v", i+1, ok, err)
		}
	}
	ok, retry, err := l.Hit(ctx, "k", rule)
	if err != nil || ok {
		t.Fatalf("hit 4: ok=%v err=%v, want refused", ok, err)
	}
	if retry <= 0 || retry > time.Minute {
		t.Fatalf("retry after %v, want within the window", retry)
	}
	// Other keys are independent.
	if ok, _, _ := l.Hit(ctx, "other", rule); !ok {
		t.Fatal("another key was limited")
	}
}

func TestWindowResets(t *testing.T) {
	db := pgtest.New(t)
	l := ratelimit.New(db, true)
	ctx := t.Context()
	rule := ratelimit.Rule{Max: 1, Window: time.Minute}
	l.Hit(ctx, "k", rule)
	if ok, _, _ := l.Hit(ctx, "k", rule); ok {
		t.Fatal("second hit allowed")
	}
	// Age the window past its end, as a minute passing would.
	if _, err := db.Exec(ctx, `UPDATE rate_limits SET window_start = now() - interval '61 seconds'`); err != nil {
		t.Fatal(err)
	}
	if ok, _, _ := l.Peek(ctx, "k", rule); !ok {
		t.Fatal("peek still limited after the window ended")
	}
	if ok, _, _ := l.Hit(ctx, "k", rule); !ok {
		t.Fatal("hit refused after the window ended")
	}
}

func TestPeekDoesNotCount(t *testing.T) {
	l := ratelimit.New(pgtest.New(t), true)
	ctx := t.Context()
	rule := ratelimit.Rule{Max: 2, Window: time.Minute}
	for range 10 {
		if ok, _, err := l.Peek(ctx, "k", rule); err != nil || !ok {
			t.Fatalf("peek: ok=%v err=%v", ok, err)
		}
	}
	l.Hit(ctx, "k", rule)
	l.Hit(ctx, "k", rule)
	if ok, _, _ := l.Peek(ctx, "k", rule); ok {
		t.Fatal("peek allowed at the limit")
	}
	if err := l.Reset(ctx, "k"); err != nil {
		t.Fatal(err)
	}
	if ok, _, _ := l.Peek(ctx, "k", rule); !ok {
		t.Fatal("still limited after Reset")
	}
}

// TestConcurrentHitsCountEveryOne: replicas share counters, so concurrent
// hits (as from several servers) must each count exactly once.
func TestConcurrentHitsCountEveryOne(t *testing.T) {
	l := ratelimit.New(pgtest.New(t), true)
	rule := ratelimit.Rule{Max: 25, Window: time.Minute}
	var wg sync.WaitGroup
	var mu sync.Mutex
	allowed := 0
	for range 40 {
		wg.Go(func() {
			ok, _, err := l.Hit(t.Context(), "shared", rule)
			if err != nil {
				t.Error(err)
			}
			if ok {
				mu.Lock()
				allowed++
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if allowed != 25 {
		t.Fatalf("allowed %d of 40 concurrent hits, want exactly 25", allowed)
	}
}

func TestDisabledAllowsEverything(t *testing.T) {
	db := pgtest.New(t)
	l := ratelimit.New(db, false)
	rule := ratelimit.Rule{Max: 1, Window: time.Minute}
	for range 5 {
		if ok, _, err := l.Hit(t.Context(), "k", rule); !ok || err != nil {
			t.Fatal("a disabled limiter refused")
		}
	}
	var n int
	db.QueryRow(t.Context(), `SELECT count(*) FROM rate_limits`).Scan(&n)
	if n != 0 {
		t.Fatalf("a disabled limiter wrote %d rows", n)
	}
}

func TestPruneDropsOldWindows(t *testing.T) {
	db := pgtest.New(t)
	l := ratelimit.New(db, true)
	ctx := t.Context()
	rule := ratelimit.Rule{Max: 5, Window: time.Minute}
	l.Hit(ctx, "old", rule)
	l.Hit(ctx, "new", rule)
	db.Exec(ctx, `UPDATE rate_limits SET window_start = now() - interval '2 days' WHERE key = 'old'`)
	if err := l.Prune(ctx, 24*time.Hour); err != nil {
		t.Fatal(err)
	}
	var keys []string
	rows, _ := db.Query(ctx, `SELECT key FROM rate_limits`)
	for rows.Next() {
		var k string
		rows.Scan(&k)
		keys = append(keys, k)
	}
	if len(keys) != 1 || keys[0] != "new" {
		t.Fatalf("left %v, want [new]", keys)
	}
}
