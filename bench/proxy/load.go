package main

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"slices"
	"sync"
	"time"

	"github.com/dancecard/dancecard/bench/internal/benchkit"
)

// call is one request a client repeats.
type call struct {
	method, url, bearer string
	body                []byte
	contentType         string
	want                []byte // a successful answer is a 200 containing this
}

// result is what one target did in one scenario.
type result struct {
	Target    string        `json:"target"`
	Requests  int           `json:"requests"`
	Errors    int           `json:"errors"`
	PerSec    float64       `json:"req_per_s"`
	P50       time.Duration `json:"p50_ns"`
	P90       time.Duration `json:"p90_ns"`
	P99       time.Duration `json:"p99_ns"`
	Max       time.Duration `json:"max_ns"`
	ServerCPU time.Duration `json:"server_cpu_per_req_ns,omitempty"`
	PGCPU     time.Duration `json:"postgres_cpu_per_req_ns"`
	DriverCPU time.Duration `json:"driver_cpu_per_req_ns"`
	ServerRSS int64         `json:"server_rss_peak_kib,omitempty"`
	ServerRW  float64       `json:"server_read_writes_per_req,omitempty"`
	Sleeps    float64       `json:"server_sleeps_per_req,omitempty"`
}

// sample is one measured slice of load against one target.
type sample struct {
	lat                      []time.Duration
	errors                   int
	d                        time.Duration
	server, driver, postgres time.Duration // CPU used in the slice
	rssPeak                  int64         // KiB
	readWrites               int64         // the server's read and write system calls
	sleeps                   int64         // times the server's threads went to sleep
}

// runLoad runs c closed-loop clients, each with its own keep-alive
// connection, for warmup (unmeasured) and then d, and samples the
// server's RSS and CPU when serverPID is not 0.
func runLoad(ctx context.Context, cl call, c int, warmup, d time.Duration, serverPID int) sample {
	start := time.Now()
	measureFrom, end := start.Add(warmup), start.Add(warmup+d)
	lat := make([][]time.Duration, c)
	errs := make([]int, c)
	var wg sync.WaitGroup
	for w := range c {
		lat[w] = make([]time.Duration, 0, 1<<14)
		wg.Go(func() {
			hc := &http.Client{Transport: &http.Transport{Proxy: nil, MaxIdleConnsPerHost: 2, DisableCompression: true}}
			defer hc.CloseIdleConnections()
			var buf bytes.Buffer
			for ctx.Err() == nil {
				t0 := time.Now()
				if t0.After(end) {
					return
				}
				ok := once(ctx, hc, cl, &buf)
				switch {
				case t0.Before(measureFrom):
				case !ok:
					errs[w]++
				default:
					lat[w] = append(lat[w], time.Since(t0))
				}
			}
		})
	}
	// CPU and RSS over the measured window only.
	time.Sleep(time.Until(measureFrom))
	cpu0, self0, pg0 := benchkit.ProcCPU(serverPID), benchkit.ProcCPU(0), benchkit.PostgresCPU()
	rw0, sl0 := benchkit.ProcReadWrites(serverPID), benchkit.ProcSleeps(serverPID)
	s := sample{d: d}
	for time.Now().Before(end) && ctx.Err() == nil {
		if serverPID != 0 {
			s.rssPeak = max(s.rssPeak, benchkit.ProcStatusKiB(serverPID, "VmRSS:"))
		}
		time.Sleep(100 * time.Millisecond)
	}
	cpu1, self1, pg1 := benchkit.ProcCPU(serverPID), benchkit.ProcCPU(0), benchkit.PostgresCPU()
	rw1, sl1 := benchkit.ProcReadWrites(serverPID), benchkit.ProcSleeps(serverPID)
	wg.Wait()
	s.lat = slices.Concat(lat...)
	for _, e := range errs {
		s.errors += e
	}
	if serverPID != 0 {
		s.server, s.readWrites, s.sleeps = cpu1-cpu0, rw1-rw0, sl1-sl0
	}
	s.driver, s.postgres = self1-self0, pg1-pg0
	return s
}

// summarize merges the slices measured against one target.
func summarize(name string, samples []sample) *result {
	var all []time.Duration
	var d, srv, drv, pg time.Duration
	var rw, sl int64
	r := &result{Target: name}
	for _, s := range samples {
		all = append(all, s.lat...)
		d += s.d
		srv, drv, pg = srv+s.server, drv+s.driver, pg+s.postgres
		rw, sl = rw+s.readWrites, sl+s.sleeps
		r.Errors += s.errors
		r.ServerRSS = max(r.ServerRSS, s.rssPeak)
	}
	slices.Sort(all)
	n := len(all)
	r.Requests, r.PerSec = n, float64(n)/d.Seconds()
	if n > 0 {
		pct := func(p float64) time.Duration { return all[min(n-1, int(float64(n)*p))] }
		r.P50, r.P90, r.P99, r.Max = pct(0.50), pct(0.90), pct(0.99), all[n-1]
		r.ServerCPU, r.DriverCPU, r.PGCPU = srv/time.Duration(n), drv/time.Duration(n), pg/time.Duration(n)
		r.ServerRW, r.Sleeps = float64(rw)/float64(n), float64(sl)/float64(n)
	}
	return r
}

// once makes one call and reports whether it succeeded.
func once(ctx context.Context, hc *http.Client, cl call, buf *bytes.Buffer) bool {
	var body io.Reader
	if cl.body != nil {
		body = bytes.NewReader(cl.body)
	}
	req, err := http.NewRequestWithContext(ctx, cl.method, cl.url, body)
	if err != nil {
		return false
	}
	req.Header.Set("Authorization", "Bearer "+cl.bearer)
	if cl.contentType != "" {
		req.Header.Set("Content-Type", cl.contentType)
	}
	resp, err := hc.Do(req)
	if err != nil {
		return false
	}
	defer resp.Body.Close()
	buf.Reset()
	if _, err := buf.ReadFrom(resp.Body); err != nil {
		return false
	}
	return resp.StatusCode == http.StatusOK && bytes.Contains(buf.Bytes(), cl.want)
}
