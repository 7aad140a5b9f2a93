package events

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"os"
	"regexp"
	"slices"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/dancecard/dancecard/internal/postgres"
)

// notifyChannel is what the events trigger (migration 000016) notifies on
// commit of an event some subscriber wants, unless it is being polled.
const notifyChannel = "dancecard_events"

// Handler receives one event. Returning an error (or panicking, or running
// past the subscriber's timeout) schedules another attempt with backoff.
type Handler func(ctx context.Context, e Event) error

// Subscriber is a Go function registered at start-up for some event kinds.
// Its Name is stable across restarts and replicas: delivery state is kept
// under it, so renaming a subscriber starts it afresh, from where its Start
// says.
type Subscriber struct {
	Name    string
	Kinds   []Kind        // nil or empty: every kind
	Timeout time.Duration // for one call; 0 means DefaultTimeout
	// Start is where the subscriber begins the first time it is registered
	// (empty means StartNewest). Later runs go on from its cursor whatever
	// Start says, so changing it never repeats or skips events.
	Start Start
	// Gap is the least time between two reads of new events for this
	// subscriber: under load, one read takes the events of every commit in
	// that time. 0 means 20 ms, which keeps the delivery lag in tens of
	// milliseconds; a subscriber that need not be that quick (the log line)
	// saves database work with a longer one.
	Gap    time.Duration
	Handle Handler
}

// Start says which events a subscriber seen for the first time gets.
type Start string

// The choices of Start.
const (
	// StartNewest: the events of transactions that end after its first
	// registration; what was recorded before is not sent to it.
	StartNewest Start = "newest"
	// StartOldest: every event still kept (see Deliveries.Prune), then the
	// new ones, in order per user as always.
	StartOldest Start = "oldest"
)

// Dispatcher defaults.
const (
	DefaultTimeout     = 10 * time.Second
	DefaultMaxAttempts = 10
	defaultPoll        = time.Second
	defaultInFlight    = 64
	workConns          = 4
	// claimGap is the default Subscriber.Gap: it spaces one lane's reads
	// when notifications come faster, so that under load one read picks up
	// the events of several commits. It adds at most this much to the
	// delivery lag.
	claimGap = 20 * time.Millisecond
	// awakeMargin is how long a lane keeps polling after its promise to poll
	// lapsed, for transactions that checked the promise just before it did.
	awakeMargin = 250 * time.Millisecond
	maxBackoff  = time.Hour
)

// subscriberNameRE keeps names printable in logs and the admin page.
var subscriberNameRE = regexp.MustCompile(`^[a-zA-Z0-9][!-~]{0,199}$`)

// DispatcherOptions configures NewDispatcher.
type DispatcherOptions struct {
	DB          *pgxpool.Pool
	Subscribers []Subscriber
	Logger      *slog.Logger
	// MaxAttempts is how many failed attempts park a delivery as dead.
	MaxAttempts int
	// Backoff is the wait before attempt n+1 after n failed ones; nil means
	// exponential from one second, capped at an hour, with jitter.
	Backoff func(failed int) time.Duration
	// Poll is how often a dispatcher looks for work without a notification:
	// the fallback when LISTEN is down, the clock for retries, and how often
	// a standing-by dispatcher tries to take a subscriber over.
	Poll time.Duration
	// Lease is how long a subscriber belongs to the dispatcher delivering for
	// it after its last sign of life; it is renewed while the dispatcher
	// works and idles. A dispatcher that dies is replaced when it runs out;
	// 0 means the longest timeout plus 30 seconds.
	Lease time.Duration
	// InFlight bounds concurrent calls per subscriber.
	InFlight int
	// OnDelivery, when set, hears of every attempt with its outcome
	// ("delivered" or "failed"), and of every delivery parked ("dead"),
	// with the event's age at that moment (the delivery lag). For metrics.
	OnDelivery func(subscriber, outcome string, lag time.Duration)
}

// Dispatcher delivers recorded events to subscribers after commit: at least
// once, in order per user and subscriber, retried with backoff, parked as
// dead after MaxAttempts. Each subscriber keeps a cursor over the events
// table (see readSQL); event_deliveries only holds the deliveries that
// failed and the same user's events queued behind them. Any number of
// dispatchers (one per replica) can share one database: a lease gives each
// subscriber to one of them at a time, the others stand by to take over, so
// each delivery happens once in normal operation.
type Dispatcher struct {
	o     DispatcherOptions
	id    string // this dispatcher's name as a lease owner
	lanes []*lane
	// work is the dispatcher's own small pool for reads and results, with
	// synchronous_commit off: losing the last few of those writes in a
	// PostgreSQL crash only means some events are delivered again (a lost
	// cursor move repeats the calls since the previous one), which at-least-
	// once delivery allows, and it spares the WAL flush that would otherwise
	// compete with the requests' own commits. Its own pool also keeps
	// deliveries from taking the connections requests need.
	work *pgxpool.Pool
}

// NewDispatcher checks the subscribers and fills in defaults.
func NewDispatcher(o DispatcherOptions) (*Dispatcher, error) {
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.MaxAttempts <= 0 {
		o.MaxAttempts = DefaultMaxAttempts
	}
	if o.Backoff == nil {
		o.Backoff = ExponentialBackoff(time.Second)
	}
	if o.Poll <= 0 {
		o.Poll = defaultPoll
	}
	if o.InFlight <= 0 {
		o.InFlight = defaultInFlight
	}
	d := &Dispatcher{o: o, id: ownerID()}
	seen := map[string]bool{}
	longest := time.Duration(0)
	for i, s := range o.Subscribers {
		if !subscriberNameRE.MatchString(s.Name) {
			return nil, fmt.Errorf("events: subscriber %d: name %q must be 1-200 printable ASCII characters without spaces, starting with a letter or digit", i, s.Name)
		}
		if seen[s.Name] {
			return nil, fmt.Errorf("events: subscriber name %q is used twice", s.Name)
		}
		seen[s.Name] = true
		if s.Handle == nil {
			return nil, fmt.Errorf("events: subscriber %q has no handler", s.Name)
		}
		for _, k := range s.Kinds {
			if !slices.Contains(Kinds(), k) {
				return nil, fmt.Errorf("events: subscriber %q: unknown kind %q", s.Name, k)
			}
		}
		switch s.Start {
		case "":
			s.Start = StartNewest
		case StartNewest, StartOldest:
		default:
			return nil, fmt.Errorf("events: subscriber %q: start %q must be oldest or newest", s.Name, s.Start)
		}
		if s.Timeout <= 0 {
			s.Timeout = DefaultTimeout
		}
		if s.Gap <= 0 {
			s.Gap = claimGap
		}
		longest = max(longest, s.Timeout)
		kinds := make([]string, len(s.Kinds))
		for i, k := range s.Kinds {
			kinds[i] = string(k)
		}
		d.lanes = append(d.lanes, &lane{d: d, sub: s, kinds: kinds, wake: make(chan struct{}, 1)})
	}
	if o.DB == nil && len(d.lanes) > 0 {
		return nil, errors.New("events: the dispatcher needs a database pool")
	}
	if d.o.Lease <= 0 {
		d.o.Lease = longest + 30*time.Second
	}
	return d, nil
}

// ExponentialBackoff doubles the wait from base after each failure, up to an
// hour, and spreads it by up to a quarter so that replicas retrying the same
// endpoint do not hit it in step.
func ExponentialBackoff(base time.Duration) func(int) time.Duration {
	return func(failed int) time.Duration {
		d := maxBackoff
		if failed < 40 {
			d = min(base<<max(failed-1, 0), maxBackoff)
		}
		return d + rand.N(d/4+1)
	}
}

// Run registers the subscribers (see Register), then delivers until ctx
// ends.
func (d *Dispatcher) Run(ctx context.Context) error {
	if len(d.lanes) == 0 {
		<-ctx.Done()
		return nil
	}
	// Registered before Run by the caller; again here in case the table was
	// changed since, retried while connections die (a database restart).
	if err := retryWrite(ctx, func() error { return d.Register(ctx) }); err != nil {
		return err
	}
	cfg := d.o.DB.Config().Copy()
	cfg.ConnConfig.RuntimeParams["synchronous_commit"] = "off"
	cfg.MaxConns, cfg.MinConns = workConns, 0
	work, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return fmt.Errorf("events: dispatcher pool: %w", err)
	}
	defer work.Close()
	d.work = work
	var wg sync.WaitGroup
	wg.Go(func() { postgres.Listen(ctx, d.o.DB, notifyChannel, d.wakeAll, d.o.Logger, "events") })
	for _, l := range d.lanes {
		wg.Go(func() { l.run(ctx) })
	}
	wg.Wait()
	return nil
}

// registerSQL records subscriber $1 with kinds $2. A known one keeps its
// cursor. A new one starts before every event when $3 (StartOldest), else
// (StartNewest) at the oldest transaction still running, with the
// transactions past it that have already committed counted as delivered
// ahead (see readSQL): it gets exactly the events of transactions that
// commit after this statement. The events are only looked at for a new
// subscriber.
const registerSQL = `
	WITH known AS (
		UPDATE event_subscribers SET kinds = $2 WHERE name = $1 RETURNING name
	), at AS (
		SELECT CASE WHEN $3 THEN '0'::xid8 ELSE pg_snapshot_xmin(pg_current_snapshot()) END AS tx
	)
	INSERT INTO event_subscribers (name, kinds, cursor_tx, cursor_id, ahead)
	SELECT $1, $2, at.tx, 0,
	       CASE WHEN $3 THEN '{}' ELSE ARRAY(SELECT DISTINCT e.tx FROM events e WHERE e.tx >= at.tx) END
	FROM at WHERE NOT EXISTS (SELECT 1 FROM known)
	ON CONFLICT (name) DO UPDATE SET kinds = EXCLUDED.kinds`

// Register records the subscribers, each with a cursor from which it gets
// events: see registerSQL. A subscriber registered before goes on from its
// cursor. Call it before serving requests so that no event of this
// process's first requests is missed; Run calls it again, which is
// harmless. A subscriber no longer configured stays registered (another
// replica may still run it during a rolling deploy); remove its row from
// event_subscribers so that old events can be pruned.
func (d *Dispatcher) Register(ctx context.Context) error {
	for _, l := range d.lanes {
		_, err := d.o.DB.Exec(ctx, registerSQL, l.sub.Name, l.kinds, l.sub.Start == StartOldest)
		if err != nil {
			return fmt.Errorf("events: register subscriber %s: %w", l.sub.Name, err)
		}
	}
	return nil
}

// ownerID names a dispatcher uniquely among the replicas, readably in the
// admin page: host, process and a random suffix.
func ownerID() string {
	host, _ := os.Hostname()
	return fmt.Sprintf("%s/%d/%08x", host, os.Getpid(), rand.Uint32())
}

// wakeAll nudges every lane to look for work now.
func (d *Dispatcher) wakeAll() {
	for _, l := range d.lanes {
		l.nudge()
	}
}

// call runs one handler under its timeout and turns a panic into an error.
// A handler that ignores its context is abandoned at the deadline (its
// goroutine leaks until it returns) so it cannot hold the lane.
func call(ctx context.Context, s Subscriber, e Event) error {
	ctx, cancel := context.WithTimeout(ctx, s.Timeout)
	defer cancel()
	done := make(chan error, 1)
	go func() {
		defer func() {
			if r := recover(); r != nil {
				done <- fmt.Errorf("panic: %v", r)
			}
		}()
		done <- s.Handle(ctx, e)
	}()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			return fmt.Errorf("timed out after %s", s.Timeout)
		}
		return ctx.Err()
	}
}
