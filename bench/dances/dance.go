package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
)

// target is one consumer the driver dances with.
type target struct {
	name      string
	base      string // http://127.0.0.1:port
	page      string // the page before the start, which holds the CSRF token
	csrf      bool   // whether page has a <meta name="csrf-token">
	start     string // POST here starts the dance
	callback  string // path of the redirect URI
	final     string // where the callback sends the browser
	finalHas  func(user string) string
	authorize string // the fake's authorize URL
}

// The steps of a dance, timed one by one.
const (
	stepPage = iota
	stepStart
	stepAuthorize
	stepCallback
	stepFinal
	nSteps
)

var stepNames = [nSteps]string{"page", "start", "authorize", "callback", "final"}

var csrfMeta = regexp.MustCompile(`<meta name="csrf-token" content="([^"]+)"`)

// browser is one virtual user. It keeps its transport (a browser keeps its
// connections) but starts every dance with an empty cookie jar: a new
// browser, or one whose cookies expired.
type browser struct {
	http *http.Client
	buf  bytes.Buffer
}

func newBrowser() *browser {
	return &browser{http: &http.Client{
		Transport: &http.Transport{
			Proxy:               nil, // loopback; never through a proxy from the environment
			MaxIdleConns:        16,
			MaxIdleConnsPerHost: 16,
			IdleConnTimeout:     5 * time.Minute,
		},
		Timeout: 30 * time.Second,
		// Redirects are followed by hand, so each hop is timed on its own.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
}

// do sends req, reads the body into b.buf and checks the status.
func (b *browser) do(req *http.Request, want int) (*http.Response, error) {
	resp, err := b.http.Do(req)
	if err != nil {
		return nil, err
	}
	b.buf.Reset()
	_, err = io.Copy(&b.buf, io.LimitReader(resp.Body, 4<<20))
	resp.Body.Close()
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != want {
		return nil, &statusError{path: req.URL.Path, got: resp.StatusCode, want: want, body: b.buf.String()}
	}
	return resp, nil
}

type statusError struct {
	path      string
	got, want int
	body      string
}

func (e *statusError) Error() string {
	body := strings.Join(strings.Fields(e.body), " ")
	if len(body) > 200 {
		body = body[:200] + "..."
	}
	return fmt.Sprintf("%s: status %d, want %d: %s", e.path, e.got, e.want, body)
}

// dance runs one complete log-in dance as provider account user and returns
// each step's duration.
func (b *browser) dance(ctx context.Context, t *target, user string) (steps [nSteps]time.Duration, err error) {
	jar, _ := cookiejar.New(nil)
	b.http.Jar = jar
	timed := func(i int, req *http.Request, want int) (*http.Response, error) {
		t0 := time.Now()
		resp, err := b.do(req, want)
		steps[i] = time.Since(t0)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", stepNames[i], err)
		}
		return resp, nil
	}
	get := func(u string) *http.Request {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
		return req
	}

	// 1. The page with the log-in buttons.
	if _, err := timed(stepPage, get(t.base+t.page), http.StatusOK); err != nil {
		return steps, err
	}
	form := url.Values{}
	if t.csrf {
		m := csrfMeta.FindSubmatch(b.buf.Bytes())
		if m == nil {
			return steps, errors.New("page: no csrf-token meta")
		}
		form.Set("csrf_token", string(m[1]))
	}
	// 2. Start: a 303 to the provider.
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, t.base+t.start, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := timed(stepStart, req, http.StatusSeeOther)
	if err != nil {
		return steps, err
	}
	loc, err := resp.Location()
	if err != nil || !strings.HasPrefix(loc.String(), t.authorize+"?") {
		return steps, fmt.Errorf("start: redirect to %v, not the fake's authorize URL", loc)
	}
	// 3. The provider consents at once and sends the browser back.
	req = get(loc.String())
	req.Header.Set(userHeader, user)
	if resp, err = timed(stepAuthorize, req, http.StatusFound); err != nil {
		return steps, err
	}
	if loc, err = resp.Location(); err != nil || !strings.HasPrefix(loc.String(), t.base+t.callback+"?") {
		return steps, fmt.Errorf("authorize: redirect to %v, not the callback", loc)
	}
	// 4. The callback: exchange, profile, link, session.
	if resp, err = timed(stepCallback, get(loc.String()), http.StatusSeeOther); err != nil {
		return steps, err
	}
	if loc, err = resp.Location(); err != nil || loc.String() != t.base+t.final {
		return steps, fmt.Errorf("callback: redirect to %v, not %s", loc, t.final)
	}
	// 5. The final page, logged in.
	if _, err = timed(stepFinal, get(loc.String()), http.StatusOK); err != nil {
		return steps, err
	}
	if want := t.finalHas(user); want != "" && !bytes.Contains(b.buf.Bytes(), []byte(want)) {
		return steps, fmt.Errorf("final: the page does not show %q", want)
	}
	return steps, nil
}

// result is one target's measured window.
type result struct {
	Target       string             `json:"target"`
	Dances       int                `json:"dances"`
	Errors       int                `json:"errors"`
	ErrorSamples []string           `json:"error_samples,omitempty"`
	PerSec       float64            `json:"dances_per_sec"`
	Dance        latency            `json:"dance"`
	Steps        map[string]latency `json:"steps"`
	// CPU per dance over the measured window. Other is every other process
	// on the machine and the kernel.
	ServerCPU   time.Duration `json:"server_cpu_per_dance_ns,omitempty"`
	DriverCPU   time.Duration `json:"driver_cpu_per_dance_ns"`
	PostgresCPU time.Duration `json:"postgres_cpu_per_dance_ns"`
	OtherCPU    time.Duration `json:"other_cpu_per_dance_ns"`
	MachineCPU  time.Duration `json:"machine_busy_cpu_per_dance_ns"`
	// Transactions committed and rows written / read per dance in the
	// benchmark database (both consumers use it; each runs alone).
	CommitsPerDance float64 `json:"commits_per_dance"`
	WrittenPerDance float64 `json:"rows_written_per_dance"`
	ReadPerDance    float64 `json:"rows_read_per_dance"`
}

type latency struct {
	P50 time.Duration `json:"p50_ns"`
	P99 time.Duration `json:"p99_ns"`
}

func percentiles(d []time.Duration) latency {
	if len(d) == 0 {
		return latency{}
	}
	slices.Sort(d)
	at := func(q float64) time.Duration { return d[min(len(d)-1, int(q*float64(len(d))))] }
	return latency{P50: at(0.50), P99: at(0.99)}
}

// runLoad runs c browsers in closed loops for warmup+d. Dances that start
// after the warm-up and end within the window are measured. serverPID, when
// not 0, is the process whose CPU is charged to the target.
func runLoad(ctx context.Context, t *target, c int, warmup, d time.Duration, serverPID int, db *pgxpool.Pool, user func(worker int) string) *result {
	begin := time.Now()
	measure, end := begin.Add(warmup), begin.Add(warmup+d)
	type workerStats struct {
		dances  []time.Duration
		steps   [nSteps][]time.Duration
		errors  int
		samples []string
	}
	stats := make([]workerStats, c)
	var wg sync.WaitGroup
	for w := range c {
		wg.Add(1)
		go func() {
			defer wg.Done()
			b := newBrowser()
			defer b.http.CloseIdleConnections()
			st := &stats[w]
			for ctx.Err() == nil {
				t0 := time.Now()
				if !t0.Before(end) {
					return
				}
				steps, err := b.dance(ctx, t, user(w))
				t1 := time.Now()
				if t0.Before(measure) || t1.After(end) {
					continue
				}
				if err != nil {
					st.errors++
					if len(st.samples) < 3 {
						st.samples = append(st.samples, err.Error())
					}
					continue
				}
				st.dances = append(st.dances, t1.Sub(t0))
				for i := range steps {
					st.steps[i] = append(st.steps[i], steps[i])
				}
			}
		}()
	}
	// CPU over the measured window.
	sleepUntil(ctx, measure)
	cpu0, db0 := snapCPU(serverPID), dbStats(ctx, db)
	sleepUntil(ctx, end)
	cpu1, db1 := snapCPU(serverPID), dbStats(ctx, db)
	wg.Wait()

	r := &result{Target: t.name, Steps: map[string]latency{}}
	var all []time.Duration
	var steps [nSteps][]time.Duration
	for _, st := range stats {
		all = append(all, st.dances...)
		for i := range steps {
			steps[i] = append(steps[i], st.steps[i]...)
		}
		r.Errors += st.errors
		for _, s := range st.samples {
			if len(r.ErrorSamples) < 5 {
				r.ErrorSamples = append(r.ErrorSamples, s)
			}
		}
	}
	r.Dances = len(all)
	r.PerSec = float64(r.Dances) / d.Seconds()
	r.Dance = percentiles(all)
	for i := range steps {
		r.Steps[stepNames[i]] = percentiles(steps[i])
	}
	if r.Dances > 0 {
		n := time.Duration(r.Dances)
		r.ServerCPU = (cpu1.server - cpu0.server) / n
		r.DriverCPU = (cpu1.driver - cpu0.driver) / n
		r.PostgresCPU = (cpu1.postgres - cpu0.postgres) / n
		r.MachineCPU = (cpu1.machine - cpu0.machine) / n
		r.OtherCPU = max(0, r.MachineCPU-r.ServerCPU-r.DriverCPU-r.PostgresCPU)
		r.CommitsPerDance = float64(db1.commits-db0.commits) / float64(r.Dances)
		r.WrittenPerDance = float64(db1.written-db0.written) / float64(r.Dances)
		r.ReadPerDance = float64(db1.read-db0.read) / float64(r.Dances)
	}
	return r
}

func sleepUntil(ctx context.Context, t time.Time) {
	select {
	case <-ctx.Done():
	case <-time.After(time.Until(t)):
	}
}
