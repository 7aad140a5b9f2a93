// Package benchkit holds what the load drivers share: building and placing
// the server, keeping the end of its output, and reading /proc.
package benchkit

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
)

// BuildServer compiles ./cmd/server of the module the driver belongs to,
// whatever the working directory, reporting progress to w.
func BuildServer(ctx context.Context, out string, w io.Writer) error {
	return Build(ctx, "./cmd/server", out, w)
}

// Build compiles the command pkg (a path from the module's root, such as
// ./cmd/server) of the module the driver belongs to into out.
func Build(ctx context.Context, pkg, out string, w io.Writer) error {
	gomod, err := exec.CommandContext(ctx, "go", "env", "GOMOD").Output()
	if err != nil {
		return fmt.Errorf("go env GOMOD: %w", err)
	}
	root := filepath.Dir(strings.TrimSpace(string(gomod)))
	fmt.Fprintf(w, "building %s/%s\n", root, strings.TrimPrefix(pkg, "./"))
	cmd := exec.CommandContext(ctx, "go", "build", "-o", out, pkg)
	cmd.Dir, cmd.Stdout, cmd.Stderr = root, w, w
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("build %s: %w", pkg, err)
	}
	return nil
}

// FreePort returns a loopback port nothing listens on right now.
func FreePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

// ProcStatusKiB reads one "Key:  N kB" line of /proc/PID/status; 0 when
// there is no such process or line.
func ProcStatusKiB(pid int, key string) int64 {
	if pid == 0 {
		return 0
	}
	return statusField("/proc/"+strconv.Itoa(pid)+"/status", key)
}

// statusField reads the number on the "Key: N ..." line of a status file;
// 0 when there is no such file or line.
func statusField(path, key string) int64 {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0
	}
	for line := range strings.Lines(string(b)) {
		if rest, ok := strings.CutPrefix(line, key); ok {
			if f := strings.Fields(rest); len(f) > 0 {
				n, _ := strconv.ParseInt(f[0], 10, 64)
				return n
			}
		}
	}
	return 0
}

// TailWriter keeps the last Max bytes written to it: the end of a server's
// output, to show when it dies.
type TailWriter struct {
	Max int
	mu  sync.Mutex
	buf []byte
}

func (t *TailWriter) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.buf = append(t.buf, p...)
	if over := len(t.buf) - t.Max; over > 0 {
		t.buf = append(t.buf[:0], t.buf[over:]...)
	}
	return len(p), nil
}

// Bytes returns a copy of what is kept.
func (t *TailWriter) Bytes() []byte {
	t.mu.Lock()
	defer t.mu.Unlock()
	return bytes.Clone(t.buf)
}
