package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/dancecard/dancecard/bench/internal/benchkit"
)

// server is the Dancecard process the driver started.
type server struct {
	cmd      *exec.Cmd
	baseURL  string
	tmpDir   string
	log      *benchkit.TailWriter
	exited   chan struct{} // closed when the process has exited
	waitErr  error
	rss      *rssSampler
	finalHWM int64 // KiB, read after the last scenario
}

// startServer builds the server unless bin names one, and starts it on a
// free loopback port with rate limits off and quiet logs.
func startServer(ctx context.Context, bin string, getenv func(string) string, stderr io.Writer) (*server, error) {
	if getenv("DATABASE_URL") == "" {
		return nil, errors.New("DATABASE_URL is not set: run `make bench`, or set it to a PostgreSQL database the server may migrate")
	}
	s := &server{log: &benchkit.TailWriter{Max: 64 << 10}, exited: make(chan struct{})}
	if bin == "" {
		dir, err := os.MkdirTemp("", "dancecard-bench-")
		if err != nil {
			return nil, err
		}
		s.tmpDir = dir
		bin = filepath.Join(dir, "server")
		if err := benchkit.BuildServer(ctx, bin, stderr); err != nil {
			os.RemoveAll(dir)
			return nil, err
		}
	}
	port, err := benchkit.FreePort()
	if err != nil {
		s.cleanUp()
		return nil, err
	}
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	s.baseURL = "http://" + addr
	s.cmd = exec.Command(bin, "serve")
	s.cmd.Env = append(os.Environ(),
		"DANCECARD_ADDR="+addr,
		"DANCECARD_BASE_URL="+s.baseURL,
		"DANCECARD_DEV=true",
		"DANCECARD_RATE_LIMITS_ENABLED=false",
		"DANCECARD_LOG_LEVEL=warn",
	)
	s.cmd.Stdout, s.cmd.Stderr = s.log, s.log
	// Pdeathsig stops the server if the driver dies without cleaning up.
	s.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGTERM}
	if err := s.cmd.Start(); err != nil {
		s.cleanUp()
		return nil, fmt.Errorf("start %s: %w", bin, err)
	}
	go func() {
		s.waitErr = s.cmd.Wait()
		close(s.exited)
	}()
	s.rss = startRSSSampler(s.cmd.Process.Pid, s.exited)
	fmt.Fprintf(stderr, "started server pid %d on %s\n", s.cmd.Process.Pid, s.baseURL)
	return s, nil
}

// waitReady polls /readyz until it answers 200. srv, when the driver
// started the server, lets it give up at once if the process exits.
func waitReady(ctx context.Context, baseURL string, srv *server) error {
	var exited <-chan struct{}
	if srv != nil {
		exited = srv.exited
	}
	deadline := time.Now().Add(90 * time.Second) // the first start migrates
	c := &http.Client{Timeout: 2 * time.Second}
	for {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, baseURL+"/readyz", nil)
		if resp, err := c.Do(req); err == nil {
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-exited:
			srv.dumpLog(os.Stderr)
			return fmt.Errorf("the server exited before it was ready: %v", srv.waitErr)
		case <-time.After(100 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			srv.dumpLog(os.Stderr)
			return fmt.Errorf("%s/readyz did not answer 200 within 90s", baseURL)
		}
	}
}

// stop sends SIGTERM, waits for the server to drain and exit, and kills it
// if it does not within its 25-second grace.
func (s *server) stop(stderr io.Writer) {
	defer s.cleanUp()
	select {
	case <-s.exited:
		return
	default:
	}
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.exited:
	case <-time.After(30 * time.Second):
		fmt.Fprintln(stderr, "server did not stop within 30s of SIGTERM; killing it")
		_ = s.cmd.Process.Kill()
		<-s.exited
	}
}

func (s *server) cleanUp() {
	if s.tmpDir != "" {
		os.RemoveAll(s.tmpDir)
	}
}

// pid is the server's process id, or 0 when the driver did not start it.
func (s *server) pid() int {
	if s == nil {
		return 0
	}
	return s.cmd.Process.Pid
}

// hwm is the server's peak resident set so far, in KiB (0 if unknown).
func (s *server) hwm() int64 {
	if s == nil {
		return 0
	}
	return benchkit.ProcStatusKiB(s.pid(), "VmHWM:")
}

// dumpLog prints the end of the server's output, which holds its warnings
// and errors. The dev-mode administrator's password line is left out.
func (s *server) dumpLog(w io.Writer) {
	if s == nil {
		return
	}
	fmt.Fprintln(w, "--- end of the server's output ---")
	sc := bufio.NewScanner(bytes.NewReader(s.log.Bytes()))
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	for sc.Scan() {
		if !strings.Contains(sc.Text(), "password:") {
			fmt.Fprintln(w, sc.Text())
		}
	}
	fmt.Fprintln(w, "---")
}
