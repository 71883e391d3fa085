package main

import (
	"bufio"
	"fmt"
	"io"
	"io/ioutil"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"time"

	"etcdharness"
)

const (
	pingSize   = 64
	pingWarmup = 2000
	pingCount  = 10000
	syncSize   = 2304 // a small WAL append: one 2 KiB entry plus framing
	syncCount  = 300
)

// echoServer is the other process of the round-trip probe: it echoes pingSize-byte messages on
// one loopback connection.
func echoServer() {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fatal(1, "echo: %v", err)
	}
	fmt.Println(l.Addr().(*net.TCPAddr).Port)
	c, err := l.Accept()
	if err != nil {
		fatal(1, "echo: %v", err)
	}
	buf := make([]byte, pingSize)
	for {
		if _, err := io.ReadFull(c, buf); err != nil {
			return
		}
		if _, err := c.Write(buf); err != nil {
			return
		}
	}
}

// probeMachine measures what a model of this machine needs, and returns comment lines.
func probeMachine(tmp string) ([]string, error) {
	var lines []string
	lines = append(lines, fmt.Sprintf("machine: %d cores (runtime.NumCPU); cpu %s", runtime.NumCPU(), cpuModel()))
	rtt, err := pingPong()
	if err != nil {
		return nil, fmt.Errorf("loopback round trips: %v", err)
	}
	lines = append(lines, fmt.Sprintf("machine: loopback TCP round trip, Go client and Go echo process, %d-byte messages, %d round trips after %d warm-up: mean %.1f us, p50 %.1f us, p99 %.1f us",
		pingSize, pingCount, pingWarmup, rtt.Mean*1000, rtt.P50*1000, rtt.P99*1000))
	fsDesc := mountOf(tmp)
	for _, prealloc := range []bool{false, true} {
		st, err := syncProbe(tmp, prealloc)
		if err != nil {
			return nil, fmt.Errorf("fdatasync probe: %v", err)
		}
		how := "appends to a growing file"
		if prealloc {
			how = "writes into a preallocated file (as etcd's WAL segments)"
		}
		lines = append(lines, fmt.Sprintf("machine: fdatasync after %d-byte %s in %s (%s), %d syncs: mean %.1f us, p50 %.1f us, p99 %.1f us",
			syncSize, how, tmp, fsDesc, syncCount, st.Mean*1000, st.P50*1000, st.P99*1000))
	}
	return lines, nil
}

func pingPong() (etcdharness.LatencyStats, error) {
	self, err := os.Executable()
	if err != nil {
		return etcdharness.LatencyStats{}, err
	}
	cmd := exec.Command(self, "--echo-server")
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	out, err := cmd.StdoutPipe()
	if err != nil {
		return etcdharness.LatencyStats{}, err
	}
	if err := cmd.Start(); err != nil {
		return etcdharness.LatencyStats{}, err
	}
	defer func() { cmd.Process.Kill(); cmd.Wait() }()
	port, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		return etcdharness.LatencyStats{}, err
	}
	c, err := net.Dial("tcp", "127.0.0.1:"+strings.TrimSpace(port))
	if err != nil {
		return etcdharness.LatencyStats{}, err
	}
	defer c.Close()
	buf := make([]byte, pingSize)
	lat := make([]int64, 0, pingCount)
	for i := 0; i < pingWarmup+pingCount; i++ {
		st := time.Now()
		if _, err := c.Write(buf); err != nil {
			return etcdharness.LatencyStats{}, err
		}
		if _, err := io.ReadFull(c, buf); err != nil {
			return etcdharness.LatencyStats{}, err
		}
		if i >= pingWarmup {
			lat = append(lat, int64(time.Since(st)))
		}
	}
	return etcdharness.Summarize(lat), nil
}

func syncProbe(tmp string, prealloc bool) (etcdharness.LatencyStats, error) {
	dir, err := ioutil.TempDir(tmp, "etcdsim-fsync-")
	if err != nil {
		return etcdharness.LatencyStats{}, err
	}
	defer os.RemoveAll(dir)
	f, err := os.OpenFile(filepath.Join(dir, "probe.wal"), os.O_CREATE|os.O_RDWR, 0600)
	if err != nil {
		return etcdharness.LatencyStats{}, err
	}
	defer f.Close()
	if prealloc {
		if err := syscall.Fallocate(int(f.Fd()), 0, 0, 4<<20); err != nil {
			// Not every filesystem preallocates; write zeros instead.
			if _, err := f.Write(make([]byte, 4<<20)); err != nil {
				return etcdharness.LatencyStats{}, err
			}
		}
		if err := f.Sync(); err != nil {
			return etcdharness.LatencyStats{}, err
		}
	}
	rec := make([]byte, syncSize)
	for i := range rec {
		rec[i] = byte(i)
	}
	lat := make([]int64, 0, syncCount)
	for i := 0; i < syncCount; i++ {
		st := time.Now()
		if _, err := f.WriteAt(rec, int64(i*syncSize)); err != nil {
			return etcdharness.LatencyStats{}, err
		}
		if err := syscall.Fdatasync(int(f.Fd())); err != nil {
			return etcdharness.LatencyStats{}, err
		}
		lat = append(lat, int64(time.Since(st)))
	}
	return etcdharness.Summarize(lat), nil
}

// mountOf describes the filesystem that holds path, from /proc/mounts.
func mountOf(path string) string {
	abs, err := filepath.EvalSymlinks(path)
	if err != nil {
		abs = path
	}
	b, err := ioutil.ReadFile("/proc/mounts")
	if err != nil {
		return "filesystem unknown"
	}
	best, desc := -1, "filesystem unknown"
	for _, l := range strings.Split(string(b), "\n") {
		f := strings.Fields(l)
		if len(f) < 3 {
			continue
		}
		mp := f[1]
		if abs == mp || strings.HasPrefix(abs, strings.TrimSuffix(mp, "/")+"/") || mp == "/" {
			if len(mp) > best {
				best = len(mp)
				desc = fmt.Sprintf("%s on %s mounted at %s", f[2], f[0], mp)
			}
		}
	}
	return desc
}
