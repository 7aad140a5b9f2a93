package main

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/dancecard/dancecard/internal/config"
	"github.com/dancecard/dancecard/internal/events"
)

// startEvents adds the webhooks and, when configured, the NATS publisher to
// subs (they keep their deployment id in db), builds the dispatcher, registers the subscribers
// before any request can record an event, and delivers in the background.
// The returned stop function ends delivery, waits for the calls in flight
// to be recorded, so a clean shutdown repeats nothing, and closes NATS.
func startEvents(ctx context.Context, cfg config.Events, subs []events.Subscriber, hooks []events.Webhook, db *pgxpool.Pool, log *slog.Logger,
	reg *prometheus.Registry) (stop func(), err error) {
	subs = slices.Clip(subs)
	for i, w := range hooks {
		w.DB = db
		sub, err := events.NewWebhook(w, nil)
		if err != nil {
			return nil, fmt.Errorf("config: events.webhooks[%d].%w", i, err)
		}
		sub.Start = events.Start(cfg.Webhooks[i].Start)
		subs = append(subs, sub)
	}
	closeNATS := func() {}
	if cfg.NATSURL != "" {
		p, err := events.NewNATSPublisher(events.NATSOptions{URL: cfg.NATSURL, DB: db,
			Stream: cfg.NATSStream, SubjectPrefix: cfg.NATSSubjectPrefix})
		if err != nil {
			return nil, fmt.Errorf("config: events.nats_url: %w", err)
		}
		closeNATS = p.Close
		sub := p.Subscriber()
		sub.Start = events.Start(cfg.NATSStart)
		subs = append(subs, sub)
	}
	d, err := events.NewDispatcher(events.DispatcherOptions{DB: db, Subscribers: subs, Logger: log, MaxAttempts: cfg.MaxAttempts,
		OnDelivery: deliveryMetrics(reg)})
	if err == nil {
		err = d.Register(ctx)
	}
	if err != nil {
		closeNATS()
		return nil, err
	}
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := d.Run(ctx); err != nil {
			log.Error("events: dispatcher stopped", "err", err)
		}
	}()
	return func() { cancel(); <-done; closeNATS() }, nil
}

// eventSubscribers turns the events section into the subscribers that need
// no database (the log line) and the webhooks, their kinds checked, that
// startEvents builds once the database is open (with NATS: they keep their
// deployment id there). It runs before the database is opened so that a
// configuration mistake stops start-up at once.
func eventSubscribers(cfg config.Events, log *slog.Logger) ([]events.Subscriber, []events.Webhook, error) {
	var subs []events.Subscriber
	// The log subscriber writes at info. Below that level its every line
	// would be dropped, so it does not run at all: no cursor to keep, no
	// reads, no deliveries for nothing.
	switch {
	case cfg.Log && log.Enabled(context.Background(), slog.LevelInfo):
		subs = append(subs, events.NewLog(log))
	case cfg.Log:
		log.Warn("events: events.log is on, but log.level drops its info lines: the log subscriber does not run")
	}
	hooks := make([]events.Webhook, len(cfg.Webhooks))
	for i, w := range cfg.Webhooks {
		kinds, err := eventKinds(fmt.Sprintf("events.webhooks[%d].kinds", i), w.Kinds)
		if err != nil {
			return nil, nil, err
		}
		hooks[i] = events.Webhook{URL: w.URL, Secret: w.Secret, Kinds: kinds, Timeout: w.Timeout}
	}
	return subs, hooks, nil
}

// eventKinds checks configured kind names against the kinds that exist.
func eventKinds(key string, names []string) ([]events.Kind, error) {
	known := events.Kinds()
	kinds := make([]events.Kind, len(names))
	for i, n := range names {
		if !slices.Contains(known, events.Kind(n)) {
			list := make([]string, len(known))
			for j, k := range known {
				list[j] = string(k)
			}
			return nil, fmt.Errorf("config: %s[%d]: unknown event kind %q%s (known: %s)",
				key, i, n, config.Suggest(n, list), strings.Join(list, ", "))
		}
		kinds[i] = events.Kind(n)
	}
	return kinds, nil
}

// deliveryMetrics counts deliveries by subscriber and outcome and records
// how old each event was when it was attempted.
func deliveryMetrics(reg *prometheus.Registry) func(subscriber, outcome string, lag time.Duration) {
	count := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "dancecard_event_deliveries_total",
		Help: "Event delivery attempts by subscriber and outcome (delivered, failed), and deliveries parked for an administrator (dead).",
	}, []string{"subscriber", "outcome"})
	lag := prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "dancecard_event_delivery_lag_seconds",
		Help:    "Age of an event when it was delivered, by subscriber.",
		Buckets: []float64{.01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60, 300, 3600},
	}, []string{"subscriber"})
	reg.MustRegister(count, lag)
	return func(subscriber, outcome string, d time.Duration) {
		count.WithLabelValues(subscriber, outcome).Inc()
		if outcome == "delivered" {
			lag.WithLabelValues(subscriber).Observe(d.Seconds())
		}
	}
}
