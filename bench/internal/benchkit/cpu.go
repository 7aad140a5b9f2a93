package benchkit

import (
	"bytes"
	"os"
	"strconv"
	"strings"
	"time"
)

// ProcCPU is a process's user+system CPU time so far (pid 0: this process).
func ProcCPU(pid int) time.Duration {
	p := "self"
	if pid != 0 {
		p = strconv.Itoa(pid)
	}
	cpu, _ := StatCPU("/proc/" + p + "/stat")
	return cpu
}

// StatCPU reads utime+stime and the command name from a /proc/PID/stat.
func StatCPU(path string) (time.Duration, string) {
	data, err := os.ReadFile(path)
	if err != nil {
		return 0, ""
	}
	open, i := bytes.IndexByte(data, '('), bytes.LastIndexByte(data, ')')
	if open < 0 || i < open {
		return 0, ""
	}
	f := strings.Fields(string(data[i+1:]))
	if len(f) < 13 {
		return 0, ""
	}
	ut, _ := strconv.ParseInt(f[11], 10, 64) // utime, field 14
	st, _ := strconv.ParseInt(f[12], 10, 64) // stime, field 15
	return time.Duration(ut+st) * (time.Second / 100), string(data[open+1 : i])
}

// PostgresCPU is the CPU time of every process named postgres: the server,
// its auxiliary processes and all backends (other databases' too).
// Backends that exit in between are not counted.
func PostgresCPU() time.Duration {
	ents, err := os.ReadDir("/proc")
	if err != nil {
		return 0
	}
	var sum time.Duration
	for _, e := range ents {
		if e.Name()[0] < '0' || e.Name()[0] > '9' {
			continue
		}
		if cpu, comm := StatCPU("/proc/" + e.Name() + "/stat"); comm == "postgres" {
			sum += cpu
		}
	}
	return sum
}

// ProcReadWrites is how many read and write system calls a process has
// made so far (syscr + syscw of /proc/PID/io): on the proxy's path each is
// a socket read or write, and most writes wake another process.
func ProcReadWrites(pid int) int64 {
	data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/io")
	if err != nil {
		return 0
	}
	var n int64
	for line := range strings.Lines(string(data)) {
		k, v, _ := strings.Cut(line, ":")
		if k == "syscr" || k == "syscw" {
			c, _ := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
			n += c
		}
	}
	return n
}

// ProcSleeps is how many times a process's threads have given up the CPU
// so far (voluntary_ctxt_switches over /proc/PID/task/*/status): each is a
// thread that went to sleep and had to be woken again, which costs tens of
// microseconds on a VM.
func ProcSleeps(pid int) int64 {
	dir := "/proc/" + strconv.Itoa(pid) + "/task/"
	tasks, err := os.ReadDir(dir)
	if err != nil {
		return 0
	}
	var n int64
	for _, t := range tasks {
		n += statusField(dir+t.Name()+"/status", "voluntary_ctxt_switches:")
	}
	return n
}
