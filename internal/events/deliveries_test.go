package events_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/dancecard/dancecard/internal/events"
	"github.com/dancecard/dancecard/internal/postgres/pgtest"
)

// After MaxAttempts failures a delivery is parked as dead, shown to
// administrators, and does not hold back the user's later events; an
// administrator's retry delivers it and is itself recorded.
func TestDeadLetterAndRetry(t *testing.T) {
	db := pgtest.New(t)
	ctx := context.Background()
	var healthy atomic.Bool
	j := &journal{}
	start(t, events.DispatcherOptions{DB: db, MaxAttempts: 3, Subscribers: []events.Subscriber{{
		Name:  "hook",
		Kinds: []events.Kind{events.ConnectionUpdated},
		Handle: func(ctx context.Context, e events.Event) error {
			if !healthy.Load() && e.Reason == "step 1" {
				return errors.New("endpoint down")
			}
			return j.handler("hook", 0)(ctx, e)
		},
	}}})
	record(t, db, userEvent(5, 1), userEvent(5, 2))
	waitFor(t, 10*time.Second, "event 1 dead, event 2 delivered", func() (bool, error) {
		return state(t, db, 1, "hook").Dead && state(t, db, 2, "hook").Delivered, nil
	})
	s := state(t, db, 1, "hook")
	if s.Attempts != 3 || s.LastError != "endpoint down" {
		t.Fatalf("dead delivery %+v, want 3 attempts and the last error", s)
	}

	admin := events.NewDeliveries(db)
	dead, err := admin.Dead(ctx, 50)
	if err != nil {
		t.Fatal(err)
	}
	if len(dead) != 1 || dead[0].ID != s.ID || dead[0].Event.Reason != "step 1" || dead[0].Subscriber != "hook" {
		t.Fatalf("Dead() = %+v, want the one parked delivery", dead)
	}
	stats, err := admin.Stats(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(stats) != 1 || stats[0].Subscriber != "hook" || stats[0].Pending != 0 || stats[0].Dead != 1 ||
		stats[0].Lag != 0 || stats[0].Owner == "" {
		t.Fatalf("Stats() = %+v, want one dead, nothing waiting, an owner", stats)
	}

	if err := admin.Retry(ctx, s.ID+1000, 9); !errors.Is(err, events.ErrDeliveryNotFound) {
		t.Errorf("retry of an unknown delivery: %v, want ErrDeliveryNotFound", err)
	}
	if err := admin.Retry(ctx, state(t, db, 2, "hook").ID, 9); !errors.Is(err, events.ErrDeliveryNotDead) {
		t.Errorf("retry of a delivered delivery: %v, want ErrDeliveryNotDead", err)
	}
	healthy.Store(true)
	if err := admin.Retry(ctx, s.ID, 9); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 5*time.Second, "the retried delivery", func() (bool, error) {
		return state(t, db, 1, "hook").Delivered, nil
	})
	if s := state(t, db, 1, "hook"); s.Attempts != 1 || s.Dead {
		t.Errorf("after retry: %+v, want delivered on its first new attempt", s)
	}
	var who int64
	var data string
	err = db.QueryRow(ctx, `SELECT user_id, data::text FROM events WHERE kind = 'admin_delivery_retried'`).Scan(&who, &data)
	if err != nil || who != 9 || !strings.Contains(data, `"subscriber": "hook"`) {
		t.Errorf("admin_delivery_retried event: user %d data %s err %v", who, data, err)
	}
	if err := admin.Retry(ctx, s.ID, 9); !errors.Is(err, events.ErrDeliveryNotDead) {
		t.Errorf("second retry: %v, want ErrDeliveryNotDead", err)
	}
}

// Prune removes old events every cursor has passed whose deliveries are
// all done, in batches, and keeps the others whatever their age.
func TestPruneKeepsUndelivered(t *testing.T) {
	db := pgtest.New(t)
	ctx := context.Background()
	d, err := events.NewDispatcher(events.DispatcherOptions{DB: db, Subscribers: []events.Subscriber{
		{Name: "s", Kinds: []events.Kind{events.ConnectionUpdated}, Handle: func(context.Context, events.Event) error { return nil }}}})
	if err != nil {
		t.Fatal(err)
	}
	if err := d.Register(ctx); err != nil {
		t.Fatal(err)
	}
	for i := range 7 {
		record(t, db, userEvent(1, i)) // events 1-7
	}
	record(t, db, events.Event{Kind: events.LoginFailed, Reason: "no subscriber"}) // 8
	record(t, db, userEvent(2, 0))                                                 // 9: recent
	// The cursor passed 1-6; 3 was delivered on a retry, 5 waits for one,
	// 6 is dead. 7 and 8 are past the cursor.
	_, err = db.Exec(ctx, `
		UPDATE events SET created_at = now() - interval '40 days' WHERE id <= 8;
		UPDATE event_subscribers s SET cursor_tx = e.tx, cursor_id = e.id FROM events e WHERE e.id = 6;
		INSERT INTO event_deliveries (event_id, subscriber, user_id, attempts, delivered_at, dead_at) VALUES
			(3, 's', 1, 2, now(), NULL), (5, 's', 1, 1, NULL, NULL), (6, 's', 1, 10, NULL, now());`)
	if err != nil {
		t.Fatal(err)
	}
	n, err := events.NewDeliveries(db).Prune(ctx, 30*24*time.Hour, 2)
	if err != nil {
		t.Fatal(err)
	}
	if n != 4 {
		t.Errorf("pruned %d events, want 4 (1-4: passed by the cursor, delivered)", n)
	}
	rows, err := db.Query(ctx, `SELECT id FROM events ORDER BY id`)
	if err != nil {
		t.Fatal(err)
	}
	left, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(left) != "[5 6 7 8 9]" {
		t.Errorf("left %v, want [5 6 7 8 9]: pending, dead, past the cursor (7, 8) and recent", left)
	}
}

// A subscriber that no dispatcher has served for longer than the retention
// period (removed from the configuration) holds nothing back: neither its
// frozen cursor nor its pending deliveries. One served recently still does.
func TestPruneIgnoresAbandonedSubscribers(t *testing.T) {
	db := pgtest.New(t)
	ctx := context.Background()
	for i := range 4 {
		record(t, db, userEvent(1, i)) // events 1-4
	}
	_, err := db.Exec(ctx, `
		UPDATE events SET created_at = now() - interval '40 days';
		INSERT INTO event_subscribers (name, cursor_tx, cursor_id, lease_until, registered_at) VALUES
			('gone', '0', 0, now() - interval '35 days', now() - interval '90 days');
		INSERT INTO event_deliveries (event_id, subscriber, user_id, attempts) VALUES (1, 'gone', 1, 3);`)
	if err != nil {
		t.Fatal(err)
	}
	if n, err := events.NewDeliveries(db).Prune(ctx, 30*24*time.Hour, 100); err != nil || n != 4 {
		t.Fatalf("Prune = %d, %v; want all 4 events: their only subscriber is gone", n, err)
	}
	record(t, db, userEvent(1, 5)) // event 5
	_, err = db.Exec(ctx, `
		UPDATE events SET created_at = now() - interval '40 days';
		UPDATE event_subscribers SET lease_until = now() + interval '1 minute' WHERE name = 'gone';`)
	if err != nil {
		t.Fatal(err)
	}
	if n, err := events.NewDeliveries(db).Prune(ctx, 30*24*time.Hour, 100); err != nil || n != 0 {
		t.Fatalf("Prune = %d, %v; want 0: the subscriber is served again and its cursor is behind event 5", n, err)
	}
}

// Configuration mistakes are refused with a message saying which.
func TestDispatcherRefusesBadSubscribers(t *testing.T) {
	ok := func(context.Context, events.Event) error { return nil }
	for _, tc := range []struct {
		subs []events.Subscriber
		want string
	}{
		{[]events.Subscriber{{Name: "", Handle: ok}}, "name"},
		{[]events.Subscriber{{Name: "a b", Handle: ok}}, "name"},
		{[]events.Subscriber{{Name: "a", Handle: ok}, {Name: "a", Handle: ok}}, "used twice"},
		{[]events.Subscriber{{Name: "a"}}, "no handler"},
		{[]events.Subscriber{{Name: "a", Kinds: []events.Kind{"conection_created"}, Handle: ok}}, `unknown kind "conection_created"`},
	} {
		_, err := events.NewDispatcher(events.DispatcherOptions{Subscribers: tc.subs})
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: %v, want an error about %s", tc.subs, err, tc.want)
		}
	}
}

// An older transaction still open (in any database of the cluster) holds
// the cursor back while later events are delivered ahead of it. Those are
// done: the deliveries page shows no lag for them and Undelivered does not
// count them.
func TestStatsLeaveOutEventsDeliveredAheadOfTheCursor(t *testing.T) {
	db := pgtest.New(t)
	ctx := context.Background()
	j := &journal{}
	start(t, events.DispatcherOptions{DB: db, Subscribers: []events.Subscriber{{Name: "s", Handle: j.handler("s", 0)}}})
	older := begin(t, db)
	if _, err := older.Exec(ctx, `SELECT pg_current_xact_id()`); err != nil {
		t.Fatal(err)
	}
	record(t, db, userEvent(1, 1))
	waitFor(t, 10*time.Second, "the event delivered", func() (bool, error) { return j.count("s") == 1, nil })
	admin := events.NewDeliveries(db)
	waitFor(t, 10*time.Second, "the cursor saved with the event ahead of it", func() (bool, error) {
		var ahead int
		err := db.QueryRow(ctx, `SELECT cardinality(ahead) FROM event_subscribers WHERE name = 's'`).Scan(&ahead)
		return ahead == 1, err
	})
	stats, err := admin.Stats(ctx)
	if err != nil || len(stats) != 1 || stats[0].Lag != 0 {
		t.Fatalf("Stats() = %+v, %v; want no lag", stats, err)
	}
	if n, err := admin.Undelivered(ctx); err != nil || n != 0 {
		t.Fatalf("Undelivered() = %d, %v; want 0", n, err)
	}
}
