package events

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/dancecard/dancecard/internal/postgres"
)

// Errors of the administrators' delivery actions.
var (
	ErrDeliveryNotFound = errors.New("events: no such delivery")
	ErrDeliveryNotDead  = errors.New("events: the delivery is not dead")
)

// Delivery is one event's delivery to one subscriber, as administrators see it.
type Delivery struct {
	ID         int64
	Subscriber string
	Attempts   int
	LastError  string
	DeadAt     time.Time
	Event      Event
}

// SubscriberStats sums up one subscriber's queue.
type SubscriberStats struct {
	Subscriber string
	Pending    int64         // deliveries waiting in event_deliveries for another attempt
	Dead       int64         // parked deliveries
	Lag        time.Duration // age of the oldest event of its kinds the cursor has not passed, less those delivered ahead of it
	Owner      string        // the dispatcher holding its lease, if any
}

// Deliveries answers the administrators' questions about delivery and
// carries out their retries.
type Deliveries struct{ db *pgxpool.Pool }

// NewDeliveries returns the delivery administration on db.
func NewDeliveries(db *pgxpool.Pool) *Deliveries { return &Deliveries{db: db} }

// Dead lists parked deliveries, most recently parked first, at most limit.
func (s *Deliveries) Dead(ctx context.Context, limit int) ([]Delivery, error) {
	rows, err := s.db.Query(ctx, `
		SELECT d.id, d.subscriber, d.attempts, d.last_error, d.dead_at, `+eventColumns+`
		FROM event_deliveries d JOIN events e ON e.id = d.event_id
		WHERE d.dead_at IS NOT NULL
		ORDER BY d.dead_at DESC, d.id DESC
		LIMIT $1`, limit)
	if err != nil {
		return nil, fmt.Errorf("list dead deliveries: %w", err)
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (Delivery, error) {
		var d Delivery
		err := r.Scan(append([]any{&d.ID, &d.Subscriber, &d.Attempts, &d.LastError, &d.DeadAt}, eventDest(&d.Event)...)...)
		return d, err
	})
}

// statsSQL is Stats' query, run for the administrators' deliveries page.
const statsSQL = `
	SELECT s.name,
	       (SELECT count(*) FROM event_deliveries d
	        WHERE d.subscriber = s.name AND d.delivered_at IS NULL AND d.dead_at IS NULL),
	       (SELECT count(*) FROM event_deliveries d
	        WHERE d.subscriber = s.name AND d.dead_at IS NOT NULL),
	       coalesce((SELECT (extract(epoch FROM now() - e.created_at) * 1000)::bigint FROM events e
	                 WHERE (e.tx, e.id) > (s.cursor_tx, s.cursor_id) AND e.tx <> ALL (s.ahead)
	                   AND (s.kinds = '{}' OR e.kind = ANY (s.kinds))
	                 ORDER BY e.tx, e.id LIMIT 1), 0),
	       CASE WHEN s.lease_until > now() THEN coalesce(s.owner, '') ELSE '' END
	FROM event_subscribers s ORDER BY s.name`

// Stats counts pending and dead deliveries per registered subscriber, and
// says how far its cursor is behind and who moves it.
func (s *Deliveries) Stats(ctx context.Context) ([]SubscriberStats, error) {
	rows, err := s.db.Query(ctx, statsSQL)
	if err != nil {
		return nil, fmt.Errorf("count deliveries: %w", err)
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (SubscriberStats, error) {
		var st SubscriberStats
		var lagMS int64
		err := r.Scan(&st.Subscriber, &st.Pending, &st.Dead, &lagMS, &st.Owner)
		st.Lag = time.Duration(max(lagMS, 0)) * time.Millisecond
		return st, err
	})
}

// Undelivered counts deliveries not done: events of a subscriber's kinds
// its cursor has not passed (less those delivered ahead of it, while an
// older transaction held it back), and delivery rows not delivered, dead
// ones included. Benchmarks and tests wait for it to reach zero.
func (s *Deliveries) Undelivered(ctx context.Context) (int64, error) {
	var n int64
	err := s.db.QueryRow(ctx, `
		SELECT (SELECT count(*) FROM events e JOIN event_subscribers s
		        ON (s.kinds = '{}' OR e.kind = ANY (s.kinds)) AND (e.tx, e.id) > (s.cursor_tx, s.cursor_id)
		           AND e.tx <> ALL (s.ahead))
		     + (SELECT count(*) FROM event_deliveries WHERE delivered_at IS NULL)`).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("count undelivered: %w", err)
	}
	return n, nil
}

// Retry re-queues the dead delivery id for an immediate attempt with a fresh
// count, and records who did it, in one transaction. The dispatchers are
// woken by the notification the retry sends.
func (s *Deliveries) Retry(ctx context.Context, id, adminID int64) error {
	err := postgres.InTx(ctx, s.db, func(tx pgx.Tx) error {
		var d Delivery
		var dead *time.Time
		err := tx.QueryRow(ctx, `
			SELECT subscriber, event_id, dead_at FROM event_deliveries WHERE id = $1 FOR UPDATE`, id,
		).Scan(&d.Subscriber, &d.Event.ID, &dead)
		if errors.Is(err, pgx.ErrNoRows) {
			return ErrDeliveryNotFound
		}
		if err != nil {
			return err
		}
		if dead == nil {
			return ErrDeliveryNotDead
		}
		if _, err := tx.Exec(ctx, `
			UPDATE event_deliveries
			SET dead_at = NULL, attempts = 0, next_attempt_at = now()
			WHERE id = $1`, id); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `SELECT pg_notify('`+notifyChannel+`', '')`); err != nil {
			return err
		}
		return Record(ctx, tx, Event{Kind: AdminDeliveryRetried, UserID: adminID, Data: map[string]any{
			"delivery_id": id, "event_id": d.Event.ID, "subscriber": d.Subscriber,
		}})
	})
	if err != nil {
		return fmt.Errorf("retry delivery %d: %w", id, err)
	}
	return nil
}

// Prune deletes events older than olderThan that every subscriber's cursor
// has passed and that have no delivery pending or dead (with their delivery
// rows), batch rows per statement so no statement holds locks for long.
// Other events are kept whatever their age: they are not delivered yet. A
// subscriber no dispatcher has served for olderThan (taken out of the
// configuration, renamed) keeps nothing: otherwise its frozen cursor would
// stop retention for good. It returns how many it deleted.
func (s *Deliveries) Prune(ctx context.Context, olderThan time.Duration, batch int) (int64, error) {
	var total int64
	for {
		tag, err := s.db.Exec(ctx, `
			DELETE FROM events WHERE id IN (
				SELECT e.id FROM events e
				WHERE e.created_at < now() - $1 * interval '1 millisecond'
				  AND NOT EXISTS (SELECT 1 FROM event_subscribers s
				                  WHERE (e.tx, e.id) > (s.cursor_tx, s.cursor_id)
				                    AND coalesce(s.lease_until, s.registered_at) > now() - $1 * interval '1 millisecond')
				  AND NOT EXISTS (SELECT 1 FROM event_deliveries d JOIN event_subscribers s ON s.name = d.subscriber
				                  WHERE d.event_id = e.id AND d.delivered_at IS NULL
				                    AND coalesce(s.lease_until, s.registered_at) > now() - $1 * interval '1 millisecond')
				ORDER BY e.created_at
				LIMIT $2)`, olderThan.Milliseconds(), batch)
		if err != nil {
			return total, fmt.Errorf("prune events: %w", err)
		}
		total += tag.RowsAffected()
		if tag.RowsAffected() < int64(batch) {
			return total, nil
		}
	}
}
