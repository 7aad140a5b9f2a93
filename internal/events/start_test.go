package events_test

import (
	"context"
	"testing"
	"time"

	"github.com/dancecard/dancecard/internal/events"
	"github.com/dancecard/dancecard/internal/postgres/pgtest"
)

// A subscriber seen for the first time starts where its Start says: with
// oldest it gets the events recorded before it first ran, with newest (the
// default) exactly those of transactions that commit later, even while an
// older transaction runs (it holds the cursor back). Once registered it
// goes on from its cursor, whatever Start says on the next run.
func TestSubscriberStart(t *testing.T) {
	db := pgtest.New(t)
	ctx := context.Background()
	slow, err := db.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer slow.Rollback(ctx)
	if err := events.Record(ctx, slow, userEvent(3, 1)); err != nil {
		t.Fatal(err)
	}
	record(t, db, userEvent(1, 1), userEvent(2, 1), events.Event{Kind: events.LoginFailed, Reason: "no user"})
	j := &journal{}
	_, stop := startStoppable(t, events.DispatcherOptions{DB: db, Subscribers: []events.Subscriber{
		{Name: "old", Start: events.StartOldest, Handle: j.handler("old", 0)},
		{Name: "new", Start: events.StartNewest, Handle: j.handler("new", 0)},
		{Name: "default", Handle: j.handler("default", 0)},
	}})
	record(t, db, userEvent(1, 2))
	if err := slow.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 10*time.Second, "every delivery", pending(db))
	stop()
	if got := j.count("old"); got != 5 {
		t.Errorf("oldest: %d events, want 5 (3 committed before it started, 2 after)", got)
	}
	for _, sub := range []string{"new", "default"} {
		if got := j.count(sub); got != 2 {
			t.Errorf("%s: %d events, want 2 (those committed after it started)", sub, got)
		}
	}
	checkOrder(t, j.snapshot(), "old")

	// A second run with the choices swapped: both go on from their cursors.
	record(t, db, userEvent(2, 2))
	j2 := &journal{}
	start(t, events.DispatcherOptions{DB: db, Subscribers: []events.Subscriber{
		{Name: "old", Start: events.StartNewest, Handle: j2.handler("old", 0)},
		{Name: "new", Start: events.StartOldest, Handle: j2.handler("new", 0)},
		{Name: "default", Start: events.StartOldest, Handle: j2.handler("default", 0)},
	}})
	waitFor(t, 10*time.Second, "every delivery", pending(db))
	for _, sub := range []string{"old", "new", "default"} {
		if got := j2.count(sub); got != 1 {
			t.Errorf("second run, %s: %d events, want 1 (the one recorded while it was stopped)", sub, got)
		}
	}
}

func TestSubscriberStartUnknown(t *testing.T) {
	_, err := events.NewDispatcher(events.DispatcherOptions{DB: pgtest.New(t), Subscribers: []events.Subscriber{
		{Name: "s", Start: "yesterday", Handle: (&journal{}).handler("s", 0)},
	}})
	if err == nil || err.Error() != `events: subscriber "s": start "yesterday" must be oldest or newest` {
		t.Errorf("error %v", err)
	}
}
