// Command proxy measures the provider proxy's overhead: the same calls to
// the same fake provider, direct and through Dancecard, in one run. See
// bench/README.md.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"strconv"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/dancecard/dancecard/bench/internal/benchkit"
)

// The goals from the issue.
const (
	goalAddedP50 = time.Millisecond
	goalRatio    = 0.7
	goalRSSMB    = 150
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "proxy:", err)
		os.Exit(1)
	}
}

// scenario is one kind of call, made direct, through the floors and
// through Dancecard.
type scenario struct {
	Name     string        `json:"name"`
	Direct   *result       `json:"direct"`
	Floor    *result       `json:"floor,omitempty"`
	FloorDB  *result       `json:"floor_db,omitempty"`
	Proxy    *result       `json:"proxy"`
	AddedP50 time.Duration `json:"added_p50_ns"`
	Ratio    float64       `json:"throughput_ratio"`
}

// target is one place the clients send a scenario's calls.
type target struct {
	name, base, bearer string
	pid                int // the process to sample, 0 for none
	into               func(*scenario, *result)
}

type report struct {
	Time       time.Time   `json:"time"`
	C          int         `json:"c"`
	Rounds     int         `json:"rounds"`
	Warmup     string      `json:"warmup"`
	Duration   string      `json:"duration"`
	NumCPU     int         `json:"num_cpu"`
	GOMAXPROCS int         `json:"gomaxprocs"`
	GoVersion  string      `json:"go_version"`
	LatencyMS  float64     `json:"provider_api_latency_ms"`
	Scenarios  []*scenario `json:"scenarios"`
	ServerHWM  int64       `json:"server_vmhwm_kib"`
}

func run() error {
	c := flag.Int("c", 32, "concurrent clients")
	d := flag.Duration("d", 10*time.Second, "measured time per target and scenario")
	warmup := flag.Duration("warmup", 2*time.Second, "unmeasured warm-up before each")
	rounds := flag.Int("rounds", 4, "take the targets in turn this many times per scenario, d/rounds each, so all see the same machine")
	jsonOut := flag.String("json", "", "also write the results as JSON to this file")
	latency := flag.Duration("latency", 0, "the fake provider answers each API call after this long, as a provider across the internet does (0: at once)")
	noFloor := flag.Bool("no-floor", false, "measure only direct and Dancecard, not the floors (a bare Go proxy, and one with a database read)")
	flag.Parse()
	if *c < 1 || *d <= 0 || *warmup < 0 || *rounds < 1 || *latency < 0 {
		return errors.New("need -c >= 1, -d > 0, -warmup >= 0, -rounds >= 1 and -latency >= 0")
	}
	adminURL := os.Getenv("DATABASE_URL")
	if adminURL == "" {
		return errors.New("DATABASE_URL is not set: a postgres:// URL of a server where the driver may create databases")
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	dbURL, dropDB, err := benchkit.CreateDB(ctx, adminURL, "dancecard_proxy")
	if err != nil {
		return err
	}
	defer dropDB()
	f, err := startFake(*latency)
	if err != nil {
		return err
	}
	defer f.Close()
	srv, cleanUp, err := startServer(ctx, dbURL, f)
	if err != nil {
		return err
	}
	defer cleanUp()
	defer srv.Stop()
	pat, err := setUp(srv.BaseURL)
	if err != nil {
		srv.DumpLog(os.Stderr)
		return fmt.Errorf("set up the user: %w", err)
	}
	direct, err := directToken(ctx, f)
	if err != nil {
		return fmt.Errorf("direct token: %w", err)
	}
	fmt.Fprintf(os.Stderr, "dancecard pid %d on %s, fake provider on %s\n", srv.PID(), srv.BaseURL, f.BaseURL())
	targets := []target{{name: "direct", base: f.APIBaseURL(), bearer: direct,
		into: func(s *scenario, r *result) { s.Direct = r }}}
	if !*noFloor {
		floors, err := startFloors(ctx, dbURL, f, direct)
		if err != nil {
			return err
		}
		defer floors.stop()
		targets = append(targets,
			target{name: "floor", base: floors.bare.BaseURL + floorPrefix, pid: floors.bare.PID(),
				into: func(s *scenario, r *result) { s.Floor = r }},
			target{name: "floor+db", base: floors.db.BaseURL + floorPrefix, pid: floors.db.PID(),
				into: func(s *scenario, r *result) { s.FloorDB = r }})
	}
	targets = append(targets, target{name: "dancecard", base: srv.BaseURL + "/api/v1/providers/fast/api/", bearer: pat,
		pid: srv.PID(), into: func(s *scenario, r *result) { s.Proxy = r }})

	body4k := bytes.Repeat([]byte(`{"k":"0123456789abcdef"}`), 4096/24)
	kinds := []struct {
		name, method, path string
		body               []byte
	}{
		{"GET user", "GET", "user?page=2&per_page=50", nil},
		{"POST 4 KiB", "POST", "repos/o/r/issues", body4k},
	}
	rep := &report{Time: time.Now().UTC(), C: *c, Rounds: *rounds, Warmup: warmup.String(), Duration: d.String(),
		NumCPU: runtime.NumCPU(), GOMAXPROCS: runtime.GOMAXPROCS(0), GoVersion: runtime.Version(),
		LatencyMS: float64(*latency) / 1e6}
	each := *d / time.Duration(*rounds)
	for _, k := range kinds {
		fmt.Fprintf(os.Stderr, "%s: %d targets in turn, %d times; %d clients, %v warm-up + %v each time\n",
			k.name, len(targets), *rounds, *c, *warmup, each)
		samples := make([][]sample, len(targets))
		for range *rounds {
			for i, t := range targets {
				cl := call{method: k.method, url: t.base + k.path, bearer: t.bearer, body: k.body,
					contentType: "application/json", want: []byte(`"user":"42"`)}
				samples[i] = append(samples[i], runLoad(ctx, cl, *c, *warmup, each, t.pid))
				if ctx.Err() != nil {
					return ctx.Err()
				}
			}
		}
		sc := &scenario{Name: k.name}
		for i, t := range targets {
			t.into(sc, summarize(t.name, samples[i]))
		}
		sc.AddedP50 = sc.Proxy.P50 - sc.Direct.P50
		if sc.Direct.PerSec > 0 {
			sc.Ratio = sc.Proxy.PerSec / sc.Direct.PerSec
		}
		rep.Scenarios = append(rep.Scenarios, sc)
	}
	rep.ServerHWM = benchkit.ProcStatusKiB(srv.PID(), "VmHWM:")
	printReport(os.Stdout, rep)
	if *jsonOut != "" {
		data, _ := json.MarshalIndent(rep, "", "  ")
		return os.WriteFile(*jsonOut, append(data, '\n'), 0o644)
	}
	return nil
}

// startServer builds ./cmd/server and starts it with one custom OAuth 2
// provider, fast, whose API is the fake's.
func startServer(ctx context.Context, dbURL string, f *fake) (*benchkit.Process, func(), error) {
	dir, err := os.MkdirTemp("", "dancecard-proxy-")
	if err != nil {
		return nil, nil, err
	}
	cleanUp := func() { os.RemoveAll(dir) }
	bin := filepath.Join(dir, "server")
	cfgFile := filepath.Join(dir, "dancecard.yaml")
	cfg := f.ProviderYAML()
	port, err := benchkit.FreePort()
	if err == nil {
		err = os.WriteFile(cfgFile, []byte(cfg), 0o600)
	}
	if err == nil {
		err = benchkit.BuildServer(ctx, bin, os.Stderr)
	}
	if err != nil {
		cleanUp()
		return nil, nil, err
	}
	addr := "127.0.0.1:" + strconv.Itoa(port)
	p, err := benchkit.Start(ctx, bin, []string{"serve", "-config", cfgFile}, []string{
		"DATABASE_URL=" + dbURL, "DANCECARD_ADDR=" + addr, "DANCECARD_BASE_URL=http://" + addr,
		"DANCECARD_DEV=true", "DANCECARD_RATE_LIMITS_ENABLED=false", "DANCECARD_LOG_LEVEL=warn",
	}, "http://"+addr)
	if err != nil {
		cleanUp()
		return nil, nil, err
	}
	return p, cleanUp, nil
}

func ms(d time.Duration) string { return strconv.FormatFloat(float64(d)/1e6, 'f', 2, 64) }

func printReport(w io.Writer, r *report) {
	fmt.Fprintf(w, "proxy: c=%d, %d rounds, warm-up %s each, measured %s per target, provider API latency %g ms, %d CPUs, GOMAXPROCS %d, %s\n\n",
		r.C, r.Rounds, r.Warmup, r.Duration, r.LatencyMS, r.NumCPU, r.GOMAXPROCS, r.GoVersion)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "scenario\ttarget\trequests\terrors\treq/s\tp50 ms\tadded p50 ms\tp90 ms\tp99 ms\tmax ms\tserver µs/req\tserver r+w/req\tserver sleeps/req\tpostgres µs/req\tdriver µs/req\tserver RSS peak MiB\t")
	for _, s := range r.Scenarios {
		for _, x := range []*result{s.Direct, s.Floor, s.FloorDB, s.Proxy} {
			if x == nil {
				continue
			}
			srvCPU, rw, sleeps, rss, pg := "-", "-", "-", "-", "n/a"
			if x.PGCPU >= 0 {
				pg = strconv.FormatInt(x.PGCPU.Microseconds(), 10)
			}
			if x.ServerCPU > 0 {
				srvCPU = strconv.FormatInt(x.ServerCPU.Microseconds(), 10)
				rw = strconv.FormatFloat(x.ServerRW, 'f', 1, 64)
				sleeps = strconv.FormatFloat(x.Sleeps, 'f', 1, 64)
				rss = strconv.FormatFloat(float64(x.ServerRSS)/1024, 'f', 1, 64)
			}
			added := "-"
			if x != s.Direct {
				added = ms(x.P50 - s.Direct.P50)
			}
			fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%.0f\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%d\t%s\t\n", s.Name, x.Target, x.Requests, x.Errors,
				x.PerSec, ms(x.P50), added, ms(x.P90), ms(x.P99), ms(x.Max), srvCPU, rw, sleeps, pg, x.DriverCPU.Microseconds(), rss)
		}
	}
	tw.Flush()
	verdict := func(ok bool) string {
		if ok {
			return "met"
		}
		return "NOT met"
	}
	fmt.Fprintln(w)
	for _, s := range r.Scenarios {
		fmt.Fprintf(w, "%s: added p50 %s ms (goal < %s ms: %s), throughput ratio %.2f (goal >= %.1f: %s)\n", s.Name,
			ms(s.AddedP50), ms(goalAddedP50), verdict(s.AddedP50 < goalAddedP50), s.Ratio, goalRatio, verdict(s.Ratio >= goalRatio))
		if s.Floor != nil && s.FloorDB != nil {
			fmt.Fprintf(w, "  of which a bare Go proxy hop adds %s ms, one database read %s ms more, Dancecard's own work %s ms\n",
				ms(s.Floor.P50-s.Direct.P50), ms(s.FloorDB.P50-s.Floor.P50), ms(s.Proxy.P50-s.FloorDB.P50))
		}
	}
	fmt.Fprintf(w, "Dancecard VmHWM: %.1f MB (goal < %d MB: %s)\n", float64(r.ServerHWM)/1024, goalRSSMB,
		verdict(r.ServerHWM > 0 && r.ServerHWM < goalRSSMB*1024))
}
