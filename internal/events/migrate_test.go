package events_test

import (
	"context"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/dancecard/dancecard/internal/events"
	"github.com/dancecard/dancecard/internal/postgres"
	"github.com/dancecard/dancecard/internal/postgres/pgtest"
)

// Migrating to cursors (000016) with deliveries still queued in
// event_deliveries delivers those from there, does not deliver again the
// events the old dispatcher had delivered, and keeps the user's order for
// new events.
func TestMigrationToCursorsKeepsQueuedDeliveries(t *testing.T) {
	url := pgtest.NewURL(t)
	m, err := postgres.NewMigrator(url)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	for {
		v, _, err := m.Version()
		if err != nil {
			t.Fatal(err)
		}
		if v <= 15 {
			break
		}
		if err := m.Down(1); err != nil {
			t.Fatal(err)
		}
	}
	db, err := pgxpool.New(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(db.Close)
	// Before: the trigger queued a row per event; the first was delivered.
	if _, err := db.Exec(context.Background(), `INSERT INTO event_subscribers (name) VALUES ('s')`); err != nil {
		t.Fatal(err)
	}
	record(t, db, userEvent(1, 1), userEvent(1, 2), userEvent(1, 3))
	if _, err := db.Exec(context.Background(), `UPDATE event_deliveries SET delivered_at = now() WHERE event_id = 1`); err != nil {
		t.Fatal(err)
	}
	if err := m.Up(); err != nil {
		t.Fatal(err)
	}
	j := &journal{}
	start(t, events.DispatcherOptions{DB: db, Subscribers: []events.Subscriber{{Name: "s", Handle: j.handler("s", 0)}}})
	record(t, db, userEvent(1, 4))
	waitFor(t, 10*time.Second, "every delivery", pending(db))
	calls := j.snapshot()
	if len(calls) != 3 || calls[0].event.ID != 2 || calls[1].event.ID != 3 || calls[2].event.ID != 4 {
		t.Fatalf("calls %+v, want events 2, 3 and 4 in order", calls)
	}
}
