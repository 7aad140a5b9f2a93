package main

import (
	"bufio"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/dancecard/dancecard/bench/internal/benchkit"
)

// This file reads Linux's /proc: the server's memory, CPU time by process
// and the machine's facts. Where /proc is missing the numbers are zero.

// rssSampler reads the server's VmRSS once a second and remembers the
// highest value since the last reset.
type rssSampler struct {
	pid  int
	mu   sync.Mutex
	peak int64
}

func startRSSSampler(pid int, done <-chan struct{}) *rssSampler {
	r := &rssSampler{pid: pid}
	go func() {
		t := time.NewTicker(time.Second)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				r.sample()
			}
		}
	}()
	return r
}

func (r *rssSampler) sample() {
	v := benchkit.ProcStatusKiB(r.pid, "VmRSS:")
	r.mu.Lock()
	r.peak = max(r.peak, v)
	r.mu.Unlock()
}

// reset starts a new window and returns the peak of the one that ended,
// counting a sample taken now.
func (r *rssSampler) reset() int64 {
	if r == nil {
		return 0
	}
	r.sample()
	r.mu.Lock()
	defer r.mu.Unlock()
	p := r.peak
	r.peak = 0
	return p
}

// cpuTimes are cumulative CPU ticks (user + system) at one moment.
type cpuTimes struct {
	at                        time.Time
	machineTotal, machineIdle uint64 // over all CPUs, from /proc/stat
	server, postgres, driver  uint64
}

// readCPUTimes reads the server's, the driver's and PostgreSQL's CPU time.
// PostgreSQL's is that of its own processes and of the backends serving
// database db; backends of other databases (say, tests running beside the
// benchmark) are left to "other". An empty db counts every backend.
func readCPUTimes(serverPID int, db string) cpuTimes {
	t := cpuTimes{at: time.Now()}
	t.machineTotal, t.machineIdle = machineTicks()
	if serverPID != 0 {
		t.server, _ = procTicks(strconv.Itoa(serverPID))
	}
	t.driver, _ = procTicks("self")
	dirs, _ := filepath.Glob("/proc/[0-9]*")
	for _, d := range dirs {
		id := filepath.Base(d)
		ticks, comm := procTicks(id)
		if comm != "postgres" {
			continue
		}
		if other := pgBackendDB(id); db != "" && other != "" && other != db {
			continue
		}
		t.postgres += ticks
	}
	return t
}

// pgBackendDB is the database a PostgreSQL client backend serves, read from
// its process title ("postgres: [cluster: ]user db host(port) state"), or ""
// for the postmaster and the auxiliary processes.
func pgBackendDB(id string) string {
	b, err := os.ReadFile("/proc/" + id + "/cmdline")
	if err != nil {
		return ""
	}
	f := strings.Fields(strings.ReplaceAll(string(b), "\x00", " "))
	for i := 3; i < len(f); i++ {
		if f[i] == "[local]" || (strings.Contains(f[i], "(") && strings.HasSuffix(f[i], ")")) {
			return f[i-1]
		}
	}
	return ""
}

// databaseName is the database a PostgreSQL URL or key=value DSN names.
func databaseName(dsn string) string {
	if u, err := url.Parse(dsn); err == nil && (u.Scheme == "postgres" || u.Scheme == "postgresql") {
		return strings.TrimPrefix(u.Path, "/")
	}
	for _, kv := range strings.Fields(dsn) {
		if v, ok := strings.CutPrefix(kv, "dbname="); ok {
			return strings.Trim(v, "'")
		}
	}
	return ""
}

// procTicks returns utime+stime, in clock ticks like /proc/stat's, and the
// command name of /proc/ID/stat.
func procTicks(id string) (uint64, string) {
	d, comm := benchkit.StatCPU("/proc/" + id + "/stat")
	return uint64(d / (time.Second / 100)), comm
}

func machineTicks() (total, idle uint64) {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0, 0
	}
	line, _, _ := strings.Cut(string(b), "\n")
	f := strings.Fields(line)
	if len(f) < 9 || f[0] != "cpu" {
		return 0, 0
	}
	for i, s := range f[1:9] { // user nice system idle iowait irq softirq steal
		n, _ := strconv.ParseUint(s, 10, 64)
		total += n
		if i == 3 || i == 4 {
			idle += n
		}
	}
	return total, idle
}

// cpuShare is how much CPU each party used in a window, in percent of one
// CPU as top shows it (so up to 100 × nproc), and the machine's busy share.
// The per-operation figures divide CPU time by the operations measured; they
// hold up better than req/s when something else shares the machine.
type cpuShare struct {
	ServerPerOp   float64 `json:"server_cpu_us_per_op"`
	PostgresPerOp float64 `json:"postgres_cpu_us_per_op"`
	DriverPerOp   float64 `json:"driver_cpu_us_per_op"`
	Server        float64 `json:"server_pct_of_one_cpu"`
	Postgres      float64 `json:"postgres_pct_of_one_cpu"`
	Driver        float64 `json:"driver_pct_of_one_cpu"`
	Other         float64 `json:"other_pct_of_one_cpu"` // every other process, and the kernel's own time
	Busy          float64 `json:"machine_busy_pct"`
}

func cpuBetween(a, b cpuTimes, ncpu, ops int) cpuShare {
	total := float64(b.machineTotal - a.machineTotal)
	if total <= 0 {
		return cpuShare{}
	}
	perOne := total / float64(ncpu) / 100 // ticks that make 1% of one CPU
	busy := total - float64(b.machineIdle-a.machineIdle)
	c := cpuShare{
		Server:   float64(b.server-a.server) / perOne,
		Postgres: float64(b.postgres-a.postgres) / perOne,
		Driver:   float64(b.driver-a.driver) / perOne,
		Busy:     100 * busy / total,
	}
	c.Other = max(0, busy/perOne-c.Server-c.Postgres-c.Driver)
	if ops > 0 {
		// percent of one CPU × seconds / 100 = CPU seconds
		usPerOp := b.at.Sub(a.at).Seconds() / 100 * 1e6 / float64(ops)
		c.ServerPerOp = c.Server * usPerOp
		c.PostgresPerOp = c.Postgres * usPerOp
		c.DriverPerOp = c.Driver * usPerOp
	}
	return c
}

// machine describes where the numbers were taken.
type machine struct {
	NProc      int    `json:"nproc"`
	CPUModel   string `json:"cpu_model"`
	MemTotal   string `json:"mem_total"`
	Kernel     string `json:"kernel"`
	GoVersion  string `json:"go_version"`
	GOMAXPROCS int    `json:"gomaxprocs"`
	LoadAvg    string `json:"loadavg_at_start"` // 1, 5 and 15 minutes: is something else busy?
}

func readMachine() machine {
	m := machine{
		NProc:      runtime.NumCPU(),
		CPUModel:   "unknown",
		GoVersion:  runtime.Version(),
		GOMAXPROCS: runtime.GOMAXPROCS(0),
	}
	m.CPUModel = firstField("/proc/cpuinfo", "model name", m.CPUModel)
	m.MemTotal = firstField("/proc/meminfo", "MemTotal", "unknown")
	if kb, ok := strings.CutSuffix(m.MemTotal, " kB"); ok {
		if n, err := strconv.ParseFloat(kb, 64); err == nil {
			m.MemTotal = fmt.Sprintf("%.1f GiB", n/(1<<20))
		}
	}
	if b, err := os.ReadFile("/proc/loadavg"); err == nil {
		if f := strings.Fields(string(b)); len(f) >= 3 {
			m.LoadAvg = strings.Join(f[:3], " ")
		}
	}
	if b, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		m.Kernel = strings.TrimSpace(string(b))
	}
	return m
}

// firstField returns the value of the first "key : value" line of a /proc file.
func firstField(path, key, def string) string {
	f, err := os.Open(path)
	if err != nil {
		return def
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if ok && strings.TrimSpace(k) == key {
			return strings.TrimSpace(v)
		}
	}
	return def
}
