package events_test

import (
	"context"
	"os"
	"regexp"
	"testing"
	"time"

	"github.com/dancecard/dancecard/internal/events"
	"github.com/dancecard/dancecard/internal/postgres/pgtest"
)

// The trigger on events notifies only while no dispatcher promised to poll
// the subscriber (a NOTIFY serializes commits, so under load it is left
// out), and writes no delivery rows: subscribers read past their cursors.
func TestNotifyOnlyWhileNobodyPolls(t *testing.T) {
	db := pgtest.New(t)
	ctx := context.Background()
	conn, err := db.Acquire(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Release()
	if _, err := conn.Exec(ctx, "LISTEN dancecard_events"); err != nil {
		t.Fatal(err)
	}
	notified := func() bool {
		wctx, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
		defer cancel()
		_, err := conn.Conn().WaitForNotification(wctx)
		return err == nil
	}
	if _, err := db.Exec(ctx, `INSERT INTO event_subscribers (name, awake_until) VALUES ('s', now() + interval '1 hour')`); err != nil {
		t.Fatal(err)
	}
	record(t, db, userEvent(1, 1))
	if notified() {
		t.Error("notified although a dispatcher promised to poll")
	}
	if _, err := db.Exec(ctx, `UPDATE event_subscribers SET awake_until = now() - interval '1 second'`); err != nil {
		t.Fatal(err)
	}
	record(t, db, userEvent(1, 2))
	if !notified() {
		t.Error("not notified after the promise lapsed")
	}
	record(t, db, events.Event{Kind: events.LoginFailed})
	if n := 0; db.QueryRow(ctx, `SELECT count(*) FROM event_deliveries`).Scan(&n) != nil || n != 0 {
		t.Errorf("%d delivery rows, want none", n)
	}
}

// Kinds lists every Kind constant of the package, so configuration that
// names a new kind is accepted.
func TestKindsListsEveryConstant(t *testing.T) {
	src, err := os.ReadFile("events.go")
	if err != nil {
		t.Fatal(err)
	}
	declared := regexp.MustCompile(`(?m)^\s+\w+\s+Kind = "(\w+)"`).FindAllStringSubmatch(string(src), -1)
	listed := map[events.Kind]bool{}
	for _, k := range events.Kinds() {
		listed[k] = true
	}
	if len(declared) != len(listed) {
		t.Errorf("%d kinds declared, %d listed by Kinds()", len(declared), len(listed))
	}
	for _, m := range declared {
		if !listed[events.Kind(m[1])] {
			t.Errorf("kind %q is missing from Kinds()", m[1])
		}
	}
}

// A subscriber's Gap spaces its reads: an event recorded right after a
// delivery waits for the gap (it is taken by the next read), while a
// subscriber with the default gap gets it at once.
func TestGapSpacesReads(t *testing.T) {
	db := pgtest.New(t)
	const gap = time.Second
	arrived := map[string]chan time.Time{"slow": make(chan time.Time, 10), "quick": make(chan time.Time, 10)}
	handler := func(name string) events.Handler {
		return func(context.Context, events.Event) error {
			arrived[name] <- time.Now()
			return nil
		}
	}
	start(t, events.DispatcherOptions{DB: db, Poll: time.Hour, Subscribers: []events.Subscriber{
		{Name: "slow", Gap: gap, Handle: handler("slow")},
		{Name: "quick", Handle: handler("quick")},
	}})
	wait := func(name string) time.Time {
		t.Helper()
		select {
		case at := <-arrived[name]:
			return at
		case <-time.After(10 * time.Second):
			t.Fatalf("%s: no delivery", name)
			return time.Time{}
		}
	}
	record(t, db, userEvent(1, 1))
	first := wait("slow")
	wait("quick")
	sent := time.Now()
	record(t, db, userEvent(1, 2))
	quick, slow := wait("quick"), wait("slow")
	// The slow lane read the first event before its handler ran, and
	// cannot read again before gap has passed since that read.
	if d := slow.Sub(first); d < gap*3/4 {
		t.Errorf("the slow subscriber got the second event %s after the first, want at least about %s", d, gap)
	}
	if d := quick.Sub(sent); d >= gap {
		t.Errorf("the quick subscriber took %s, as long as the slow one's gap", d)
	}
}
