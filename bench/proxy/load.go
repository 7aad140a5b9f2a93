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
}

// runLoad runs c closed-loop clients, each with its own keep-alive
// connection, for warmup (unmeasured) and then d, and samples the
// server's RSS and CPU when serverPID is not 0.
func runLoad(ctx context.Context, name string, cl call, c int, warmup, d time.Duration, serverPID int) *result {
	start := time.Now()
	measureFrom, end := start.Add(warmup), start.Add(warmup+d)
	lat := make([][]time.Duration, c)
	errs := make([]int, c)
	var wg sync.WaitGroup
	for w := range c {
		lat[w] = make([]time.Duration, 0, 1<<16)
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
				if t0.Before(measureFrom) {
					continue
				}
				if !ok {
					errs[w]++
					continue
				}
				lat[w] = append(lat[w], time.Since(t0))
			}
		})
	}
	// Measure the server's CPU and RSS over the measured window only.
	time.Sleep(time.Until(measureFrom))
	cpu0, self0, pg0 := benchkit.ProcCPU(serverPID), benchkit.ProcCPU(0), benchkit.PostgresCPU()
	var rss int64
	for time.Now().Before(end) && ctx.Err() == nil {
		if serverPID != 0 {
			rss = max(rss, benchkit.ProcStatusKiB(serverPID, "VmRSS:"))
		}
		time.Sleep(100 * time.Millisecond)
	}
	cpu1, self1, pg1 := benchkit.ProcCPU(serverPID), benchkit.ProcCPU(0), benchkit.PostgresCPU()
	wg.Wait()
	all := slices.Concat(lat...)
	slices.Sort(all)
	r := &result{Target: name, Requests: len(all), PerSec: float64(len(all)) / d.Seconds(), ServerRSS: rss}
	for _, e := range errs {
		r.Errors += e
	}
	if n := len(all); n > 0 {
		pct := func(p float64) time.Duration { return all[min(n-1, int(float64(n)*p))] }
		r.P50, r.P90, r.P99, r.Max = pct(0.50), pct(0.90), pct(0.99), all[n-1]
		if serverPID != 0 {
			r.ServerCPU = (cpu1 - cpu0) / time.Duration(n)
		}
		r.DriverCPU = (self1 - self0) / time.Duration(n)
		r.PGCPU = (pg1 - pg0) / time.Duration(n)
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
