package events_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/dancecard/dancecard/internal/events"
	"github.com/dancecard/dancecard/internal/postgres"
)

// journal remembers every handler call, in call order, across dispatchers.
type journal struct {
	mu    sync.Mutex
	calls []call
}

type call struct {
	subscriber string
	dispatcher int
	event      events.Event
}

func (j *journal) handler(sub string, dispatcher int) events.Handler {
	return func(_ context.Context, e events.Event) error {
		j.mu.Lock()
		defer j.mu.Unlock()
		j.calls = append(j.calls, call{sub, dispatcher, e})
		return nil
	}
}

func (j *journal) snapshot() []call {
	j.mu.Lock()
	defer j.mu.Unlock()
	return append([]call(nil), j.calls...)
}

// count is how many calls subscriber sub got.
func (j *journal) count(sub string) int {
	n := 0
	for _, c := range j.snapshot() {
		if c.subscriber == sub {
			n++
		}
	}
	return n
}

// start runs a dispatcher until the test ends, after registering its
// subscribers so that events recorded next are delivered to them.
func start(t *testing.T, o events.DispatcherOptions) *events.Dispatcher {
	t.Helper()
	d, stop := startStoppable(t, o)
	t.Cleanup(stop)
	return d
}

// startStoppable is start with a function that stops the dispatcher (a
// clean shutdown) and waits for it; call it once.
func startStoppable(t *testing.T, o events.DispatcherOptions) (*events.Dispatcher, func()) {
	t.Helper()
	if o.Backoff == nil {
		o.Backoff = func(int) time.Duration { return 10 * time.Millisecond }
	}
	if o.Poll == 0 {
		o.Poll = 50 * time.Millisecond
	}
	d, err := events.NewDispatcher(o)
	if err != nil {
		t.Fatalf("NewDispatcher: %v", err)
	}
	if err := d.Register(context.Background()); err != nil {
		t.Fatalf("Register: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- d.Run(ctx) }()
	return d, func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	}
}

// record writes events in one transaction each, as the domain packages do.
// It may run on goroutines other than the test's, so it reports with Errorf.
func record(t *testing.T, db *pgxpool.Pool, es ...events.Event) {
	t.Helper()
	for _, e := range es {
		if e.Kind == "" {
			e.Kind = events.ConnectionCreated
		}
		err := postgres.InTx(context.Background(), db, func(tx pgx.Tx) error {
			return events.Record(context.Background(), tx, e)
		})
		if err != nil {
			t.Errorf("record: %v", err)
			return
		}
	}
}

// waitFor polls cond until it holds or timeout passes.
func waitFor(t *testing.T, timeout time.Duration, what string, cond func() (bool, error)) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		ok, err := cond()
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", timeout, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// pending reports whether every delivery is done.
func pending(db *pgxpool.Pool) func() (bool, error) {
	return func() (bool, error) {
		n, err := events.NewDeliveries(db).Undelivered(context.Background())
		return n == 0, err
	}
}

// deliveryState reads one delivery row. An event delivered at its first
// attempt has none: its subscriber's cursor passed it.
type deliveryState struct {
	ID        int64
	Attempts  int
	LastError string
	Delivered bool
	Dead      bool
}

func state(t *testing.T, db *pgxpool.Pool, eventID int64, sub string) deliveryState {
	t.Helper()
	var s deliveryState
	err := db.QueryRow(context.Background(), `
		SELECT coalesce(d.id, 0), coalesce(d.attempts, 0), coalesce(d.last_error, ''),
		       CASE WHEN d.event_id IS NULL THEN (e.tx, e.id) <= (s.cursor_tx, s.cursor_id)
		            ELSE d.delivered_at IS NOT NULL END,
		       d.dead_at IS NOT NULL
		FROM events e JOIN event_subscribers s ON s.name = $2
		LEFT JOIN event_deliveries d ON d.event_id = e.id AND d.subscriber = s.name
		WHERE e.id = $1`, eventID, sub).
		Scan(&s.ID, &s.Attempts, &s.LastError, &s.Delivered, &s.Dead)
	if err != nil {
		t.Fatalf("delivery of event %d to %s: %v", eventID, sub, err)
	}
	return s
}

// checkOrder fails when some user's events reached sub out of id order.
func checkOrder(t *testing.T, calls []call, sub string) {
	t.Helper()
	last := map[int64]int64{}
	for _, c := range calls {
		if c.subscriber != sub || c.event.UserID == 0 {
			continue
		}
		if prev := last[c.event.UserID]; c.event.ID < prev {
			t.Fatalf("%s: user %d got event %d after event %d", sub, c.event.UserID, c.event.ID, prev)
		}
		last[c.event.UserID] = c.event.ID
	}
}

func userEvent(user int64, i int) events.Event {
	return events.Event{Kind: events.ConnectionUpdated, UserID: user, Provider: "github",
		Reason: fmt.Sprintf("step %d", i)}
}
