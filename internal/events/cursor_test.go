package events_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/dancecard/dancecard/internal/events"
	"github.com/dancecard/dancecard/internal/postgres/pgtest"
)

// Commits come out of id order: transaction A takes event id 1, B takes id
// 2 and commits first, then A commits. Both are delivered, once each. B
// took its transaction id before A did, so its event is final (and
// delivered) while A still runs; A's event comes after it in the cursor's
// (tx, id) order, which a cursor over ids alone would have skipped.
func TestEventsCommittedOutOfIDOrder(t *testing.T) {
	db := pgtest.New(t)
	ctx := context.Background()
	j := &journal{}
	start(t, events.DispatcherOptions{DB: db, Subscribers: []events.Subscriber{{Name: "s", Handle: j.handler("s", 0)}}})
	a, b := begin(t, db), begin(t, db)
	if _, err := b.Exec(ctx, `SELECT pg_current_xact_id()`); err != nil { // B's xid first
		t.Fatal(err)
	}
	for _, step := range []struct {
		tx   pgx.Tx
		user int64
	}{{a, 1}, {b, 2}} { // A's event id first
		if err := events.Record(ctx, step.tx, userEvent(step.user, 0)); err != nil {
			t.Fatal(err)
		}
	}
	if err := b.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 10*time.Second, "B's event", func() (bool, error) { return j.count("s") == 1, nil })
	time.Sleep(200 * time.Millisecond)
	if calls := j.snapshot(); len(calls) != 1 || calls[0].event.ID != 2 {
		t.Fatalf("while A runs: calls %+v, want only event 2", calls)
	}
	commitAndDrain(t, a, db)
	if calls := j.snapshot(); len(calls) != 2 || calls[1].event.ID != 1 {
		t.Fatalf("calls %+v, want event 2 then event 1, once each", calls)
	}
}

// begin starts a transaction the test commits, rolled back at its end if not.
// commitAndDrain commits a, waits until every event is delivered and a
// little longer, for any delivery that should not come.
func commitAndDrain(t *testing.T, a pgx.Tx, db *pgxpool.Pool) {
	t.Helper()
	if err := a.Commit(context.Background()); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 20*time.Second, "every delivery", pending(db))
	time.Sleep(200 * time.Millisecond)
}

// running records user 1's first event in a transaction it leaves open.
func running(t *testing.T, db *pgxpool.Pool) pgx.Tx {
	t.Helper()
	a := begin(t, db)
	if err := events.Record(context.Background(), a, userEvent(1, 0)); err != nil {
		t.Fatal(err)
	}
	return a
}

func begin(t *testing.T, db *pgxpool.Pool) pgx.Tx {
	t.Helper()
	tx, err := db.Begin(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = tx.Rollback(context.Background()) })
	return tx
}

// An event whose transaction is still running does not hold back the events
// of transactions that committed after it took its id: those are delivered
// at once, and exactly once however often the lane reads while the cursor
// cannot pass them; the older event is delivered when its transaction
// commits.
func TestRunningTransactionDoesNotHoldCommittedEvents(t *testing.T) {
	db := pgtest.New(t)
	j := &journal{}
	start(t, events.DispatcherOptions{DB: db, Subscribers: []events.Subscriber{{Name: "s", Handle: j.handler("s", 0)}}})
	a := running(t, db)            // event 1, its transaction still running
	record(t, db, userEvent(1, 1)) // event 2, committed
	waitFor(t, 10*time.Second, "event 2 while event 1's transaction runs", func() (bool, error) { return j.count("s") == 1, nil })
	record(t, db, userEvent(2, 0), userEvent(1, 2)) // events 3 and 4
	waitFor(t, 10*time.Second, "events 3 and 4", func() (bool, error) { return j.count("s") == 3, nil })
	time.Sleep(300 * time.Millisecond) // many reads, each of which sees events 2 to 4 past the cursor
	if n := j.count("s"); n != 3 {
		t.Fatalf("%d calls while event 1's transaction runs, want 3 (events 2, 3 and 4 once each)", n)
	}
	commitAndDrain(t, a, db)
	var all, user1 []int64
	for _, c := range j.snapshot() {
		all = append(all, c.event.ID)
		if c.event.UserID == 1 {
			user1 = append(user1, c.event.ID)
		}
	}
	slices.Sort(all)
	if !slices.Equal(all, []int64{1, 2, 3, 4}) || !slices.Equal(user1, []int64{2, 4, 1}) {
		t.Fatalf("events delivered %v, user 1's in the order %v; want each once, user 1's as their transactions committed: [2 4 1]", all, user1)
	}
}

// While an old transaction runs for long, at most 256 transactions are
// delivered ahead of the cursor (internal/events maxAhead); the rest wait
// for it, and every event is delivered once when it ends.
func TestDeliveryAheadIsBounded(t *testing.T) {
	db := pgtest.New(t)
	j := &journal{}
	start(t, events.DispatcherOptions{DB: db, Subscribers: []events.Subscriber{{Name: "s", Handle: j.handler("s", 0)}}})
	a := running(t, db) // event 1, its transaction still running
	const later = 300
	for i := range later {
		record(t, db, userEvent(int64(2+i%7), i)) // one transaction each
	}
	waitFor(t, 20*time.Second, "256 events delivered ahead", func() (bool, error) { return j.count("s") >= 256, nil })
	time.Sleep(300 * time.Millisecond)
	if n := j.count("s"); n != 256 {
		t.Fatalf("%d events delivered while the old transaction runs, want 256", n)
	}
	commitAndDrain(t, a, db)
	seen := map[int64]int{}
	for _, c := range j.snapshot() {
		seen[c.event.ID]++
	}
	for id := int64(1); id <= later+1; id++ {
		if seen[id] != 1 {
			t.Errorf("event %d delivered %d times, want once", id, seen[id])
		}
	}
	checkOrder(t, j.snapshot(), "s")
}

// A dispatcher that takes a subscriber over after a clean stop does not
// deliver again the events its predecessor delivered ahead of the cursor.
func TestTakeoverKeepsEventsDeliveredAhead(t *testing.T) {
	db := pgtest.New(t)
	j := &journal{}
	_, stop1 := startStoppable(t, events.DispatcherOptions{DB: db, Poll: 50 * time.Millisecond,
		Subscribers: []events.Subscriber{{Name: "s", Handle: j.handler("s", 0)}}})
	a := running(t, db)            // event 1, its transaction still running
	record(t, db, userEvent(2, 0)) // event 2, delivered ahead of the cursor
	waitFor(t, 10*time.Second, "event 2", func() (bool, error) { return j.count("s") == 1, nil })
	stop1()
	_, stop2 := startStoppable(t, events.DispatcherOptions{DB: db, Poll: 50 * time.Millisecond,
		Subscribers: []events.Subscriber{{Name: "s", Handle: j.handler("s", 1)}}})
	defer stop2()
	record(t, db, userEvent(3, 0)) // event 3, delivered by the second dispatcher
	waitFor(t, 10*time.Second, "event 3", func() (bool, error) { return j.count("s") == 2, nil })
	commitAndDrain(t, a, db)
	var got []string
	for _, c := range j.snapshot() {
		got = append(got, fmt.Sprintf("%d@%d", c.event.ID, c.dispatcher))
	}
	if !slices.Equal(got, []string{"2@0", "3@1", "1@1"}) {
		t.Fatalf("deliveries (event@dispatcher) %v, want [2@0 3@1 1@1]: each once", got)
	}
}

// A failing delivery holds back the same user's later events (queued behind
// it in event_deliveries) but not other users' events.
func TestFailureHoldsBackOnlyItsUser(t *testing.T) {
	db := pgtest.New(t)
	j := &journal{}
	var healthy atomic.Bool
	// No retry comes due before the checks below (a retry in flight
	// shows its run claimed); the test makes them due itself.
	start(t, events.DispatcherOptions{DB: db, Backoff: func(int) time.Duration { return time.Hour },
		Subscribers: []events.Subscriber{{Name: "s", Handle: func(ctx context.Context, e events.Event) error {
			if e.UserID == 1 && !healthy.Load() {
				return errors.New("user 1's endpoint is down")
			}
			return j.handler("s", 0)(ctx, e)
		}}}})
	record(t, db, userEvent(1, 1), userEvent(2, 1), userEvent(1, 2), userEvent(2, 2))
	waitFor(t, 10*time.Second, "user 2's events", func() (bool, error) { return j.count("s") == 2, nil })
	record(t, db, userEvent(1, 3), userEvent(2, 3)) // 5 queued behind user 1's failure, 6 delivered
	waitFor(t, 10*time.Second, "user 2's third event", func() (bool, error) { return j.count("s") == 3, nil })
	for _, c := range j.snapshot() {
		if c.event.UserID != 2 {
			t.Fatalf("user %d's event %d overtook user 1's failing event", c.event.UserID, c.event.ID)
		}
	}
	if s := state(t, db, 1, "s"); s.Attempts < 1 || s.Delivered || s.LastError != "user 1's endpoint is down" {
		t.Errorf("event 1: %+v, want failed and not delivered", s)
	}
	for _, id := range []int64{3, 5} {
		if s := state(t, db, id, "s"); s.Attempts != 0 || s.Delivered {
			t.Errorf("event %d: %+v, want queued untried behind event 1", id, s)
		}
	}
	healthy.Store(true)
	if _, err := db.Exec(context.Background(), `UPDATE event_deliveries SET next_attempt_at = now()`); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 10*time.Second, "every delivery", pending(db))
	calls := j.snapshot()
	if len(calls) != 6 {
		t.Fatalf("%d calls, want 6", len(calls))
	}
	checkOrder(t, calls, "s")
}

// A second dispatcher stands by while the first holds the subscriber and
// takes over when it stops; no event is delivered twice.
func TestLeaseTakeover(t *testing.T) {
	db := pgtest.New(t)
	j := &journal{}
	stops := map[int]func(){}
	for i := range 2 {
		_, stops[i] = startStoppable(t, events.DispatcherOptions{DB: db,
			Subscribers: []events.Subscriber{{Name: "s", Handle: j.handler("s", i)}}})
	}
	defer func() {
		for _, stop := range stops {
			stop()
		}
	}()
	for i := range 10 {
		record(t, db, userEvent(1, i))
	}
	waitFor(t, 10*time.Second, "the first events", pending(db))
	owner := j.snapshot()[0].dispatcher
	for _, c := range j.snapshot() {
		if c.dispatcher != owner {
			t.Fatalf("both dispatchers delivered to one subscriber: %+v", j.snapshot())
		}
	}
	stops[owner]()
	delete(stops, owner)
	for i := range 10 {
		record(t, db, userEvent(1, 10+i))
	}
	waitFor(t, 10*time.Second, "the events after the takeover", pending(db))
	calls := j.snapshot()
	if len(calls) != 20 {
		t.Fatalf("%d calls, want 20", len(calls))
	}
	for _, c := range calls[10:] {
		if c.dispatcher == owner {
			t.Fatalf("event %d went to the stopped dispatcher", c.event.ID)
		}
	}
	checkOrder(t, calls, "s")
}

// The statements a dispatcher runs on every poll, and the deliveries
// page's counts, go by an index over tables that have never been analyzed
// (a fresh database, or any time between ANALYZEs), with the generic plan
// pgx's prepared statements settle on, and are estimated too cheap for
// PostgreSQL to JIT-compile them where jit is on. The lane's read was once
// planned as a sequential scan of the whole events table, on every read.
func TestDispatcherStatementsUseIndexes(t *testing.T) {
	db := pgtest.New(t)
	ctx := context.Background()
	// A busy day's events, never analyzed: 20,000 events of 10,000
	// transactions, each with a delivery row of subscriber s (all but the
	// last hundred delivered) and a few parked ones.
	if _, err := db.Exec(ctx, `
		INSERT INTO events (kind, user_id, tx)
		SELECT 'connection_updated', g % 100, (1000 + g / 2)::text::xid8 FROM generate_series(1, 20000) g;
		INSERT INTO event_subscribers (name, kinds) VALUES ('s', '{}');
		INSERT INTO event_deliveries (event_id, subscriber, user_id, delivered_at, dead_at)
		SELECT id, 's', user_id, CASE WHEN id <= 19900 THEN now() END, CASE WHEN id % 1000 = 0 THEN now() END
		FROM events`); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name, params, sql, args string
		tables                  []string
	}{
		{"lane read", "text, xid8, bigint, text[], int, text[], bool", events.ReadSQL,
			"('s', '1000', 0, '{}', 1000, '{}', true)", []string{"events", "event_deliveries"}},
		{"retry claim", "text, int, text, int", events.RetrySQL,
			"('s', 100, 'd1', 15)", []string{"events", "event_deliveries"}},
		{"retry finish", "text, bigint[], int[], bool[], bool[], text[], bigint[], bool[]", events.FinishSQL,
			"('s', '{19950}', '{1}', '{true}', '{false}', '{\"\"}', '{0}', '{false}')", []string{"event_deliveries"}},
		{"deliveries page", "", events.StatsSQL, "", []string{"events", "event_deliveries"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			conn, err := db.Acquire(ctx)
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Release()
			prepare := `PREPARE q AS ` + c.sql
			if c.params != "" {
				prepare = `PREPARE q (` + c.params + `) AS ` + c.sql
			}
			for _, q := range []string{`DEALLOCATE ALL`, `SET plan_cache_mode = force_generic_plan`, `SET jit = on`, prepare} {
				if _, err := conn.Exec(ctx, q); err != nil {
					t.Fatal(err)
				}
			}
			var plan string
			if err := conn.QueryRow(ctx, `EXPLAIN (FORMAT JSON) EXECUTE q `+c.args).Scan(&plan); err != nil {
				t.Fatal(err)
			}
			var nodes []struct {
				Plan planNode
				JIT  json.RawMessage
			}
			if err := json.Unmarshal([]byte(plan), &nodes); err != nil || len(nodes) != 1 {
				t.Fatalf("plan %s: %v", plan, err)
			}
			if nodes[0].JIT != nil {
				// Compiling costs tens of milliseconds a run.
				t.Errorf("its estimated cost is high enough to JIT-compile it:\n%s", plan)
			}
			for _, table := range c.tables {
				if nodes[0].Plan.find("Seq Scan", table) {
					t.Errorf("it scans %s sequentially:\n%s", table, plan)
				}
			}
		})
	}
}

type planNode struct {
	NodeType string     `json:"Node Type"`
	Relation string     `json:"Relation Name"`
	Plans    []planNode `json:"Plans"`
}

// find reports whether the plan has a node of type on relation.
func (n planNode) find(typ, relation string) bool {
	if n.NodeType == typ && n.Relation == relation {
		return true
	}
	for _, c := range n.Plans {
		if c.find(typ, relation) {
			return true
		}
	}
	return false
}
