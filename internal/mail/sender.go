package mail

import (
	"context"
	"log/slog"
	"net/url"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/dancecard/dancecard/internal/events"
	"github.com/dancecard/dancecard/internal/postgres"
)

// Outgoing is what a renderer needs to write one mail.
type Outgoing struct {
	Kind          Kind
	To            string
	Data          map[string]string
	LinkURL       string    // empty when the mail carries no link
	LinkExpiresAt time.Time // zero when the mail carries no link
	Lang          string    // the language to write it in ("en", "de"); "" for English
}

// Rendered is a mail's text. Every mail has all three: both bodies go out
// as alternatives, so any mail client shows something.
type Rendered struct {
	Subject, Text, HTML string
}

// Renderer turns an outgoing mail into text. It lives with the templates,
// in the web package; this package only needs the seam.
type Renderer interface {
	Render(o Outgoing) (Rendered, error)
}

// RendererFunc lets a plain function be a Renderer.
type RendererFunc func(Outgoing) (Rendered, error)

// Render calls f.
func (f RendererFunc) Render(o Outgoing) (Rendered, error) { return f(o) }

// Envelope is one mail ready for a transport.
type Envelope struct {
	From, To, Subject, Text, HTML string
	MessageID                     string // without angle brackets; the transport makes one up when empty
}

// Transport hands a mail over for delivery: SMTP (NewSMTP) or the dev
// mailbox. An error means the mail was not accepted and will be retried.
type Transport interface {
	Send(ctx context.Context, e Envelope) error
}

// Options configure a Sender. DB, Transport, Renderer, BaseURL and From
// are required.
type Options struct {
	DB        *pgxpool.Pool
	Transport Transport
	Renderer  Renderer
	BaseURL   *url.URL // links are BaseURL plus a path by purpose
	From      string   // the From header, "Name <address>" or an address

	// MaxAttempts is how many failed attempts park a mail as dead
	// (default 8: with the default backoff, about 21 minutes of trying).
	MaxAttempts int
	// Backoff is the wait after the attempt-th failure (default 10 s
	// doubling to at most an hour, spread by up to a quarter so replicas
	// do not retry in step).
	Backoff func(attempt int) time.Duration
	// Lease is how long a claimed mail stays locked against other
	// replicas (default 2 min). It must be longer than one send can take
	// (sendTimeout), or a slow send could be repeated by another replica.
	Lease time.Duration
	// Poll is how often Run looks for due mail besides being woken by
	// NOTIFY and by its own retries falling due (default 5 s).
	Poll   time.Duration
	Logger *slog.Logger
	// OnResult, when set, is told each attempt's outcome, for metrics:
	// "sent", "retry", "dead", or "skipped" (its link was no longer valid,
	// or no account takes a mail queued by address).
	OnResult func(kind Kind, outcome string)
	// Resolver finds the account a mail queued by address is for (see
	// EnqueueForAddress); nil refuses such mail.
	Resolver Resolver
}

const (
	defaultMaxAttempts = 8
	defaultLease       = 2 * time.Minute
	defaultPoll        = 5 * time.Second
	batchSize          = 20
	// sendTimeout bounds one render and hand-over, whatever the transport.
	sendTimeout = 30 * time.Second
	// writeTimeout bounds recording an outcome, which must happen even
	// when the sender is being stopped: a sent mail not marked sent would
	// go out again once its lease runs out.
	writeTimeout = 10 * time.Second
)

// Sender delivers the outbox. Any number may run, one per replica; claims
// keep them from sending one mail twice.
type Sender struct {
	o    Options
	wake chan struct{}
}

// NewSender fills in defaults. It panics when a required option is
// missing: that is a wiring mistake, not something to handle at run time.
func NewSender(o Options) *Sender {
	if o.DB == nil || o.Transport == nil || o.Renderer == nil || o.BaseURL == nil || o.From == "" {
		panic("mail: NewSender needs DB, Transport, Renderer, BaseURL and From")
	}
	if o.MaxAttempts <= 0 {
		o.MaxAttempts = defaultMaxAttempts
	}
	if o.Backoff == nil {
		o.Backoff = events.ExponentialBackoff(10 * time.Second)
	}
	if o.Lease <= 0 {
		o.Lease = defaultLease
	}
	if o.Poll <= 0 {
		o.Poll = defaultPoll
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.OnResult == nil {
		o.OnResult = func(Kind, string) {}
	}
	return &Sender{o: o, wake: make(chan struct{}, 1)}
}

// Run sends due mail until ctx ends. It is woken at once by the NOTIFY of
// every committed Enqueue (on a dedicated connection, re-established with
// backoff when lost), when a retry falls due, and otherwise every Poll.
func (s *Sender) Run(ctx context.Context) {
	var wg sync.WaitGroup
	wg.Go(func() { postgres.Listen(ctx, s.o.DB, notifyChannel, s.nudge, s.o.Logger, "mail") })
	defer wg.Wait()
	timer := time.NewTimer(0)
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-s.wake:
		case <-timer.C:
		}
		wait := s.o.Poll
		if _, err := s.SendDue(ctx); err != nil {
			if ctx.Err() != nil {
				return
			}
			s.o.Logger.Warn("mail: sending due mail failed", "err", err)
		} else {
			wait = s.untilDue(ctx)
		}
		timer.Reset(wait)
	}
}

// untilDue is how long until the next pending mail falls due or its lease
// runs out, at most Poll. The floor keeps a mail that is due but cannot be
// claimed from spinning the loop.
func (s *Sender) untilDue(ctx context.Context) time.Duration {
	var ms *int64
	err := s.o.DB.QueryRow(ctx, `
		SELECT (extract(epoch FROM min(greatest(next_attempt_at, coalesce(locked_until, next_attempt_at))) - now()) * 1000)::bigint
		FROM mail_outbox WHERE sent_at IS NULL AND dead_at IS NULL`).Scan(&ms)
	if err != nil || ms == nil {
		return s.o.Poll
	}
	return min(max(time.Duration(*ms)*time.Millisecond, 50*time.Millisecond), s.o.Poll)
}

// nudge wakes Run without blocking; one pending wake-up is enough.
func (s *Sender) nudge() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}
