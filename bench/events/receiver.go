// Package events is the load drivers' webhook endpoint: it receives
// Dancecard's signed event webhooks on loopback, checks each signature and
// records how long after the event's transaction began it arrived, so a
// driver can report delivery lag and dispatch throughput. See
// bench/README.md ("Event delivery").
package events

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"slices"
	"strconv"
	"sync"
	"time"

	dcevents "github.com/dancecard/dancecard/internal/events"
)

// Secret is the webhook secret the driver configures the server with.
const Secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"

// Receiver is an HTTP server on a loopback port that accepts webhooks.
type Receiver struct {
	URL string
	srv *http.Server
	key []byte

	mu      sync.Mutex
	samples []sample
	seen    map[string]int
	bad     int
}

// sample is one accepted webhook.
type sample struct {
	at  time.Time
	lag time.Duration
}

// Start listens on a free loopback port.
func Start() (*Receiver, error) {
	key, err := dcevents.DecodeWebhookSecret(Secret)
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	r := &Receiver{URL: "http://" + ln.Addr().String() + "/hook", key: key, seen: map[string]int{}}
	r.srv = &http.Server{Handler: r, ReadHeaderTimeout: 5 * time.Second}
	go r.srv.Serve(ln)
	return r, nil
}

// Close stops the server.
func (r *Receiver) Close() { r.srv.Close() }

// ServeHTTP accepts a webhook whose signature verifies and records its lag:
// arrival time minus the event's timestamp (its transaction's start, so the
// lag includes the rest of that transaction and its commit).
func (r *Receiver) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	at := time.Now()
	body, err := io.ReadAll(io.LimitReader(req.Body, 1<<20))
	var p struct {
		Timestamp time.Time `json:"timestamp"`
	}
	if err == nil {
		err = json.Unmarshal(body, &p)
	}
	id, ts := req.Header.Get("webhook-id"), req.Header.Get("webhook-timestamp")
	sec, tsErr := strconv.ParseInt(ts, 10, 64)
	if err != nil || tsErr != nil || req.Header.Get("webhook-signature") != dcevents.SignWebhook(r.key, id, sec, body) {
		r.mu.Lock()
		r.bad++
		r.mu.Unlock()
		http.Error(w, "bad webhook", http.StatusBadRequest)
		return
	}
	r.mu.Lock()
	r.samples = append(r.samples, sample{at, at.Sub(p.Timestamp)})
	r.seen[id]++
	r.mu.Unlock()
	w.WriteHeader(http.StatusNoContent)
}

// Reset forgets everything received so far.
func (r *Receiver) Reset() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.samples, r.seen, r.bad = nil, map[string]int{}, 0
}

// Count is how many distinct events were received.
func (r *Receiver) Count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.seen)
}

// Stats sums up the webhooks received in [from, to).
type Stats struct {
	Received   int           `json:"received"`
	PerSec     float64       `json:"per_sec"`
	P50        time.Duration `json:"lag_p50_ns"`
	P99        time.Duration `json:"lag_p99_ns"`
	Max        time.Duration `json:"lag_max_ns"`
	Duplicates int           `json:"duplicates"` // over the receiver's whole life since Reset
	BadSigs    int           `json:"bad_signatures"`
}

// Between returns the stats of webhooks that arrived in [from, to).
func (r *Receiver) Between(from, to time.Time) Stats {
	r.mu.Lock()
	defer r.mu.Unlock()
	var lags []time.Duration
	for _, s := range r.samples {
		if !s.at.Before(from) && s.at.Before(to) {
			lags = append(lags, s.lag)
		}
	}
	st := Stats{Received: len(lags), BadSigs: r.bad}
	for _, n := range r.seen {
		st.Duplicates += n - 1
	}
	if len(lags) == 0 {
		return st
	}
	slices.Sort(lags)
	at := func(q float64) time.Duration { return lags[min(len(lags)-1, int(q*float64(len(lags))))] }
	st.PerSec = float64(len(lags)) / to.Sub(from).Seconds()
	st.P50, st.P99, st.Max = at(0.50), at(0.99), lags[len(lags)-1]
	return st
}

// WaitFor waits until n distinct events have arrived and returns when the
// last one did, or an error when timeout passes first.
func (r *Receiver) WaitFor(ctx context.Context, n int, timeout time.Duration) (time.Time, error) {
	deadline := time.Now().Add(timeout)
	for {
		r.mu.Lock()
		got := len(r.seen)
		var last time.Time
		if len(r.samples) > 0 {
			last = r.samples[len(r.samples)-1].at
		}
		r.mu.Unlock()
		if got >= n {
			return last, nil
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			return time.Time{}, fmt.Errorf("only %d of %d events arrived within %s", got, n, timeout)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
