package events_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/dancecard/dancecard/internal/events"
	"github.com/dancecard/dancecard/internal/postgres/pgtest"
)

// Three dispatchers on one database, two subscribers each: every event
// reaches each subscriber exactly once and each user's events in order,
// whichever dispatcher holds a subscriber's lease.
func TestExactlyOnceAcrossThreeDispatchers(t *testing.T) {
	db := pgtest.New(t)
	j := &journal{}
	for i := range 3 {
		start(t, events.DispatcherOptions{DB: db, InFlight: 8, Subscribers: []events.Subscriber{
			{Name: "a", Handle: j.handler("a", i)},
			{Name: "b", Kinds: []events.Kind{events.ConnectionUpdated}, Handle: j.handler("b", i)},
		}})
	}
	const users, perUser = 12, 25
	var wg sync.WaitGroup
	for u := range int64(users) {
		wg.Go(func() {
			for i := range perUser {
				record(t, db, userEvent(u+1, i))
			}
		})
	}
	record(t, db, events.Event{Kind: events.LoginFailed, Reason: "unknown email"}) // no user; only "a" wants it
	wg.Wait()
	waitFor(t, 30*time.Second, "every delivery", pending(db))

	calls := j.snapshot()
	seen := map[string]int{}
	for _, c := range calls {
		seen[fmt.Sprint(c.subscriber, "/", c.event.ID)]++
	}
	for key, n := range seen {
		if n != 1 {
			t.Errorf("delivery %q happened %d times, want once", key, n)
		}
	}
	if got, want := j.count("a"), users*perUser+1; got != want {
		t.Errorf("a got %d events, want %d", got, want)
	}
	if got, want := j.count("b"), users*perUser; got != want {
		t.Errorf("b got %d events, want %d (only connection_updated)", got, want)
	}
	checkOrder(t, calls, "a")
	checkOrder(t, calls, "b")
}

// A failing delivery holds back the same user's later events for that
// subscriber, but not other users' events nor other subscribers.
func TestOrderPerUserSurvivesRetries(t *testing.T) {
	db := pgtest.New(t)
	j := &journal{}
	var failed sync.Map
	flaky := func(ctx context.Context, e events.Event) error {
		if _, again := failed.LoadOrStore(e.ID, true); !again && e.ID%3 == 0 {
			return errors.New("first attempt fails")
		}
		return j.handler("flaky", 0)(ctx, e)
	}
	start(t, events.DispatcherOptions{DB: db, Subscribers: []events.Subscriber{{Name: "flaky", Handle: flaky}},
		Backoff: func(int) time.Duration { return 30 * time.Millisecond }})
	for i := range 40 {
		record(t, db, userEvent(int64(i%4+1), i))
	}
	waitFor(t, 20*time.Second, "every delivery", pending(db))
	if got := j.count("flaky"); got != 40 {
		t.Fatalf("got %d events, want 40", got)
	}
	checkOrder(t, j.snapshot(), "flaky")
	if s := state(t, db, 3, "flaky"); s.Attempts != 2 || !s.Delivered {
		t.Errorf("event 3: %+v, want delivered on the second attempt", s)
	}
	// Events held back behind a failure were not attempted before it: one
	// attempt each, from event_deliveries; the others have no row at all.
	for id := int64(1); id <= 40; id++ {
		if s := state(t, db, id, "flaky"); id%3 != 0 && s.Attempts > 1 {
			t.Errorf("event %d: %d attempts, want at most 1", id, s.Attempts)
		}
	}
}

// A dispatcher that died holding a subscriber's lease, after delivering
// some events but before moving the cursor, and in the middle of a retry,
// is replaced once its lease runs out: the new owner delivers from the old
// cursor (again: at least once) and retries the claimed delivery.
func TestRedeliveryAfterCrash(t *testing.T) {
	db := pgtest.New(t)
	ctx := context.Background()
	d, err := events.NewDispatcher(events.DispatcherOptions{DB: db, Subscribers: []events.Subscriber{
		{Name: "s", Handle: func(context.Context, events.Event) error { return nil }}}})
	if err != nil {
		t.Fatal(err)
	}
	if err := d.Register(ctx); err != nil {
		t.Fatal(err)
	}
	// Event 1 failed once and was being retried when the dispatcher died
	// (its claim counts as an attempt); events 2 and 3 were past the cursor.
	record(t, db, userEvent(8, 1))
	record(t, db, userEvent(7, 1), userEvent(7, 2))
	if _, err := db.Exec(ctx, `
		UPDATE event_subscribers s SET cursor_tx = e.tx, cursor_id = e.id,
		       owner = 'crashed', lease_until = now() + interval '300 milliseconds'
		FROM events e WHERE e.id = 1;
		INSERT INTO event_deliveries (event_id, subscriber, user_id, attempts) VALUES (1, 's', 8, 1)`); err != nil {
		t.Fatal(err)
	}
	crashedAt := time.Now()
	j := &journal{}
	start(t, events.DispatcherOptions{DB: db, Subscribers: []events.Subscriber{{Name: "s", Handle: j.handler("s", 1)}}})
	waitFor(t, 10*time.Second, "redelivery", pending(db))
	if since := time.Since(crashedAt); since < 300*time.Millisecond {
		t.Errorf("redelivered after %s, before the dead dispatcher's lease ended", since)
	}
	calls := j.snapshot()
	if len(calls) != 3 {
		t.Fatalf("calls %+v, want events 1, 2 and 3 once each", calls)
	}
	checkOrder(t, calls, "s")
	if s := state(t, db, 1, "s"); s.Attempts != 2 || !s.Delivered {
		t.Errorf("event 1: %+v, want delivered at attempt 2 (the crashed one counts)", s)
	}
}

// A subscriber that panics, one that hangs past its timeout and one that
// errors never hold up a healthy one.
func TestFaultySubscribersDoNotBlockOthers(t *testing.T) {
	db := pgtest.New(t)
	j := &journal{}
	block := make(chan struct{})
	t.Cleanup(func() { close(block) })
	var mu sync.Mutex
	heard := map[string]int{}
	onDelivery := func(sub, outcome string, lag time.Duration) {
		mu.Lock()
		defer mu.Unlock()
		heard[sub+":"+outcome]++
	}
	start(t, events.DispatcherOptions{DB: db, InFlight: 4, MaxAttempts: 2, OnDelivery: onDelivery, Subscribers: []events.Subscriber{
		{Name: "panics", Handle: func(context.Context, events.Event) error { panic("boom") }},
		{Name: "hangs", Timeout: 300 * time.Millisecond, Handle: func(context.Context, events.Event) error { <-block; return nil }},
		{Name: "errors", Handle: func(context.Context, events.Event) error { return errors.New("nope") }},
		{Name: "good", Handle: j.handler("good", 0)},
	}})
	began := time.Now()
	for i := range 30 {
		record(t, db, userEvent(int64(i+1), i))
	}
	waitFor(t, 5*time.Second, "the healthy subscriber", func() (bool, error) { return j.count("good") == 30, nil })
	// Held up behind the hanging one, it would need 30 × 300 ms at least.
	if took := time.Since(began); took > 8*time.Second {
		t.Errorf("healthy subscriber took %s for 30 events", took)
	}
	waitFor(t, 20*time.Second, "the faulty ones to be parked", func() (bool, error) {
		var n int
		err := db.QueryRow(context.Background(), `SELECT count(*) FROM event_deliveries WHERE dead_at IS NOT NULL`).Scan(&n)
		return n == 90, err
	})
	for sub, want := range map[string]string{"panics": "panic: boom", "hangs": "timed out after 300ms", "errors": "nope"} {
		if s := state(t, db, 1, sub); !s.Dead || s.Attempts != 2 || !strings.Contains(s.LastError, want) {
			t.Errorf("%s: %+v, want dead after 2 attempts with %q", sub, s, want)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if heard["good:delivered"] != 30 || heard["errors:failed"] != 60 || heard["errors:dead"] != 30 || heard["good:failed"] != 0 {
		t.Errorf("OnDelivery heard %v", heard)
	}
}

// Killing every connection of the dispatchers mid-burst, as a PostgreSQL
// restart does, loses no event.
func TestNothingLostWhenConnectionsDie(t *testing.T) {
	url := pgtest.NewURL(t)
	writer, err := pgxpool.New(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(writer.Close)
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		t.Fatal(err)
	}
	cfg.ConnConfig.RuntimeParams["application_name"] = "dispatcher_under_test"
	dispatch, err := pgxpool.NewWithConfig(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(dispatch.Close)

	var got sync.Map
	var calls atomic.Int64
	for range 2 {
		start(t, events.DispatcherOptions{DB: dispatch, Lease: time.Second, Poll: 100 * time.Millisecond,
			Subscribers: []events.Subscriber{{Name: "s", Handle: func(_ context.Context, e events.Event) error {
				got.Store(e.ID, true)
				calls.Add(1)
				return nil
			}}}})
	}
	stop := make(chan struct{})
	var killer sync.WaitGroup
	var kills atomic.Int64
	killer.Go(func() {
		for {
			select {
			case <-stop:
				return
			case <-time.After(150 * time.Millisecond):
			}
			tag, err := writer.Exec(context.Background(), `SELECT pg_terminate_backend(pid) FROM pg_stat_activity
				WHERE datname = current_database() AND application_name = 'dispatcher_under_test'`)
			if err == nil {
				kills.Add(tag.RowsAffected())
			}
		}
	})
	const n = 400
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Go(func() {
			for i := range n / 4 {
				record(t, writer, userEvent(int64(w*10+i%10+1), i))
			}
		})
	}
	wg.Wait()
	time.Sleep(300 * time.Millisecond)
	close(stop)
	killer.Wait()
	if kills.Load() == 0 {
		t.Fatal("no dispatcher connection was terminated; the test proved nothing")
	}
	waitFor(t, 30*time.Second, "every event after the connection kills", pending(writer))
	for id := int64(1); id <= n; id++ {
		if _, ok := got.Load(id); !ok {
			t.Errorf("event %d was never delivered", id)
		}
	}
	t.Logf("%d events, %d calls (redeliveries: %d), %d backends terminated", n, calls.Load(), calls.Load()-n, kills.Load())
}
