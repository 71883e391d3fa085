package main

// Fault events: a case's `events = [...]`, each at a time relative to the measured window's
// start, carried out on the real processes while etcdload measures.
//
//	kill           SIGKILL a member (member = "leader", "follower" or "m0".."m4"); with
//	               restart_after_s, start it again after that delay on the same data directory
//	               with the same flags
//	pause          SIGSTOP the member, SIGCONT after duration_s
//	write_rate     the background write rate becomes rate puts/s (etcdload --write-rate-steps)
//	fsync_neighbour a neighbour process that appends 16 KiB and fdatasyncs in a loop (threads
//	               of them) in the cluster's temporary directory, for duration_s: a slow-disk
//	               stand-in on this machine (no tc netem, no dm-delay here: docs/faults-harness.md)
//	cpu_hog        a neighbour process spinning threads goroutines (GOMAXPROCS = threads) for
//	               duration_s
//	defrag         clientv3 Maintenance.Defragment on the member
//	compact        clientv3 KV.Compact to the member's current revision (physical)

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"etcdharness"

	"go.etcd.io/etcd/clientv3"
)

// Event is one scripted fault.
type Event struct {
	AtS           float64
	Kind          string
	Member        string
	RestartAfterS float64 // kill: < 0 = no restart
	DurationS     float64
	Rate          float64
	Threads       int
}

var eventKinds = []string{"kill", "pause", "write_rate", "fsync_neighbour", "cpu_hog", "defrag", "compact"}

var eventKeys = map[string][]string{
	"kill":            {"restart_after_s"},
	"pause":           {"duration_s"},
	"write_rate":      {"rate"},
	"fsync_neighbour": {"duration_s", "threads"},
	"cpu_hog":         {"duration_s", "threads"},
	"defrag":          {},
	"compact":         {},
}

func (e *Event) hasMember() bool {
	switch e.Kind {
	case "kill", "pause", "defrag", "compact":
		return true
	}
	return false
}

// label is how the event is named in the CSVs: kind, then its parameters.
func (e *Event) label() string {
	switch e.Kind {
	case "kill":
		if e.RestartAfterS >= 0 {
			return fmt.Sprintf("kill %s, restart after %gs", e.Member, e.RestartAfterS)
		}
		return "kill " + e.Member
	case "pause":
		return fmt.Sprintf("pause %s %gs", e.Member, e.DurationS)
	case "write_rate":
		return fmt.Sprintf("write rate to %g/s", e.Rate)
	case "fsync_neighbour", "cpu_hog":
		return fmt.Sprintf("%s x%d %gs", e.Kind, e.Threads, e.DurationS)
	}
	return e.Kind + " " + e.Member
}

func parseEvents(v interface{}) ([]Event, error) {
	var tables []map[string]interface{}
	switch x := v.(type) {
	case []map[string]interface{}:
		tables = x
	case []interface{}:
		for _, t := range x {
			m, ok := t.(map[string]interface{})
			if !ok {
				return nil, fmt.Errorf("events must be a list of tables: %s", keyHelp["events"])
			}
			tables = append(tables, m)
		}
	default:
		return nil, fmt.Errorf("events must be a list of tables: %s", keyHelp["events"])
	}
	var out []Event
	for i, t := range tables {
		e := Event{RestartAfterS: -1, Threads: 1}
		where := fmt.Sprintf("events[%d]", i)
		kind, ok := t["kind"].(string)
		if !ok || !in(kind, eventKinds...) {
			return nil, fmt.Errorf("%s: kind must be one of %s", where, strings.Join(eventKinds, ", "))
		}
		e.Kind = kind
		allowed := append([]string{"at_s", "kind"}, eventKeys[kind]...)
		if e.hasMember() {
			allowed = append(allowed, "member")
		}
		for k := range t {
			if !in(k, allowed...) {
				return nil, fmt.Errorf("%s (%s): unknown key %q (keys: %s)", where, kind, k, strings.Join(allowed, ", "))
			}
		}
		num := func(k string, dst *float64, need bool) error {
			v, ok := t[k]
			if !ok {
				if need {
					return fmt.Errorf("%s (%s): missing key %q", where, kind, k)
				}
				return nil
			}
			switch n := v.(type) {
			case int64:
				*dst = float64(n)
			case float64:
				*dst = n
			default:
				return fmt.Errorf("%s (%s): %q must be a number", where, kind, k)
			}
			if *dst < 0 {
				return fmt.Errorf("%s (%s): %q must not be negative", where, kind, k)
			}
			return nil
		}
		if err := num("at_s", &e.AtS, true); err != nil {
			return nil, err
		}
		switch kind {
		case "kill":
			if err := num("restart_after_s", &e.RestartAfterS, false); err != nil {
				return nil, err
			}
		case "pause":
			if err := num("duration_s", &e.DurationS, true); err != nil {
				return nil, err
			}
		case "write_rate":
			if err := num("rate", &e.Rate, true); err != nil {
				return nil, err
			}
		case "fsync_neighbour", "cpu_hog":
			if err := num("duration_s", &e.DurationS, true); err != nil {
				return nil, err
			}
			th := float64(e.Threads)
			if err := num("threads", &th, false); err != nil {
				return nil, err
			}
			e.Threads = int(th)
			if float64(e.Threads) != th || e.Threads < 1 || e.Threads > 64 {
				return nil, fmt.Errorf("%s (%s): threads must be an integer from 1 to 64", where, kind)
			}
		}
		if e.hasMember() {
			m, ok := t["member"].(string)
			if !ok {
				return nil, fmt.Errorf("%s (%s): member must be \"leader\", \"follower\" or \"m0\"..", where, kind)
			}
			e.Member = m
		}
		out = append(out, e)
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].AtS < out[j].AtS })
	return out, nil
}

func (e *Event) check(c *Case) error {
	if e.AtS >= c.DurationS {
		return fmt.Errorf("at_s must be inside the window (duration_s %g)", c.DurationS)
	}
	if e.hasMember() {
		switch {
		case e.Member == "leader":
		case e.Member == "follower":
			if c.Members < 2 {
				return fmt.Errorf("a one-member cluster has no follower")
			}
		case strings.HasPrefix(e.Member, "m"):
			n, err := strconv.Atoi(e.Member[1:])
			if err != nil || n < 0 || n >= c.Members {
				return fmt.Errorf("member %q is not one of m0..m%d", e.Member, c.Members-1)
			}
		default:
			return fmt.Errorf("member must be \"leader\", \"follower\" or \"m0\"..")
		}
	}
	return nil
}

// writeSteps are the write_rate events as etcdload's --write-rate-steps.
func writeSteps(c *Case) string {
	var s []string
	for _, e := range c.Events {
		if e.Kind == "write_rate" {
			s = append(s, fmtNum(e.AtS)+":"+fmtNum(e.Rate))
		}
	}
	return strings.Join(s, ",")
}

// EventLog is what happened when an event was carried out: its times (seconds after the
// window's start: the action, and its end: a restart, a SIGCONT, the neighbour's exit, the
// maintenance call's return), the member it resolved to, and a note (an error, the neighbour's
// figures, a defragmentation's duration).
type EventLog struct {
	Index  int     `json:"index"`
	Label  string  `json:"event"`
	Kind   string  `json:"kind"`
	Member string  `json:"member"`
	PlanS  float64 `json:"planned_s"`
	T      float64 `json:"t_s"`
	EndS   float64 `json:"end_s"`
	Note   string  `json:"note,omitempty"`
}

// leaderNow asks the live members which one leads (300 ms per member); -1 if none knows.
func (cl *cluster) leaderNow() int {
	for _, m := range cl.members {
		cli, err := clientv3.New(clientv3.Config{LogConfig: etcdharness.QuietLog(), Endpoints: []string{m.endpoint()}, DialTimeout: 300 * time.Millisecond})
		if err != nil {
			continue
		}
		ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
		st, err := cli.Status(ctx, m.endpoint())
		cancel()
		cli.Close()
		if err != nil || st.Leader == 0 {
			continue
		}
		for _, x := range cl.members {
			if x.id == st.Leader {
				return x.index
			}
		}
	}
	return -1
}

func (cl *cluster) resolve(name string) (*member, error) {
	switch name {
	case "leader", "follower":
		l := cl.leaderNow()
		if l < 0 {
			return nil, fmt.Errorf("no member knows a leader")
		}
		if name == "leader" {
			return cl.members[l], nil
		}
		for _, m := range cl.members {
			if m.index != l {
				return m, nil
			}
		}
		return nil, fmt.Errorf("no follower")
	}
	n, _ := strconv.Atoi(name[1:])
	return cl.members[n], nil
}

// runEvents carries out the case's events against the window that starts at t0, each in a
// goroutine of its own; wait returns their logs once every one has finished.
func (r *runner) runEvents(c *Case, cl *cluster, dir string, t0 time.Time) (wait func() []EventLog) {
	logs := make([]EventLog, len(c.Events))
	var wg sync.WaitGroup
	rel := func() float64 { return time.Since(t0).Seconds() }
	for i := range c.Events {
		e := c.Events[i]
		lg := &logs[i]
		*lg = EventLog{Index: i, Label: e.label(), Kind: e.Kind, PlanS: e.AtS}
		wg.Add(1)
		go func() {
			defer wg.Done()
			time.Sleep(time.Until(t0.Add(time.Duration(e.AtS * 1e9))))
			if interrupted() {
				return
			}
			var m *member
			if e.hasMember() {
				var err error
				if m, err = cl.resolve(e.Member); err != nil {
					lg.T, lg.EndS, lg.Note = rel(), rel(), "not done: "+err.Error()
					return
				}
				lg.Member = m.name
			}
			lg.T = rel()
			switch e.Kind {
			case "kill":
				cmd, exited := m.proc()
				cmd.Process.Signal(syscall.SIGKILL)
				<-exited
				lg.EndS = rel()
				lg.Note = fmt.Sprintf("exited %.3fs after SIGKILL", lg.EndS-lg.T)
				if e.RestartAfterS >= 0 {
					time.Sleep(time.Until(t0.Add(time.Duration((lg.T + e.RestartAfterS) * 1e9))))
					if interrupted() {
						return
					}
					if err := m.start(); err != nil {
						lg.Note += "; restart failed: " + err.Error()
					} else {
						lg.EndS = rel()
						lg.Note += fmt.Sprintf("; restarted at %.3fs (pid %d)", lg.EndS, m.pid())
					}
				}
			case "pause":
				cmd, _ := m.proc()
				cmd.Process.Signal(syscall.SIGSTOP)
				time.Sleep(time.Until(t0.Add(time.Duration((lg.T + e.DurationS) * 1e9))))
				cmd.Process.Signal(syscall.SIGCONT)
				lg.EndS = rel()
			case "write_rate":
				lg.EndS = lg.T // carried out by etcdload (--write-rate-steps)
				lg.Note = "etcdload --write-rate-steps"
			case "fsync_neighbour", "cpu_hog":
				lg.Note = r.neighbour(e, dir)
				lg.EndS = rel()
			case "defrag", "compact":
				lg.Note = maintenance(e.Kind, m)
				lg.EndS = rel()
			}
		}()
	}
	return func() []EventLog {
		wg.Wait()
		return logs
	}
}

// neighbour runs this program as the neighbour process (--neighbour) for the event's duration
// and returns what it reported.
func (r *runner) neighbour(e Event, dir string) string {
	self, err := os.Executable()
	if err != nil {
		return "not done: " + err.Error()
	}
	args := []string{"--neighbour", e.Kind, "--neighbour-s", fmtNum(e.DurationS), "--neighbour-threads", strconv.Itoa(e.Threads), "--neighbour-dir", dir}
	cmd := exec.Command(self, args...)
	cmd.Env = childEnv(fmt.Sprintf("GOMAXPROCS=%d", e.Threads))
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	var out bytes.Buffer
	cmd.Stdout = &out
	if err := cmd.Start(); err != nil {
		return "not done: " + err.Error()
	}
	registerPid(cmd.Process.Pid)
	defer unregisterPid(cmd.Process.Pid)
	if err := cmd.Wait(); err != nil {
		return fmt.Sprintf("neighbour: %v; %s", err, out.String())
	}
	return strings.TrimSpace(out.String())
}

// neighbourMain is the neighbour process: "fsync_neighbour" appends 16 KiB and fdatasyncs,
// in a loop, on threads files of its own in dir; "cpu_hog" spins threads goroutines. It stops
// after seconds and prints what it did.
func neighbourMain(kind string, seconds float64, threads int, dir string) {
	deadline := time.Now().Add(time.Duration(seconds * 1e9))
	var mu sync.Mutex
	var ops int64
	var lats []int64
	var wg sync.WaitGroup
	for t := 0; t < threads; t++ {
		wg.Add(1)
		go func(t int) {
			defer wg.Done()
			switch kind {
			case "cpu_hog":
				x := uint64(t + 1)
				var n int64
				for time.Now().Before(deadline) {
					for k := 0; k < 100000; k++ {
						x ^= x << 13
						x ^= x >> 7
						x ^= x << 17
					}
					n++
				}
				mu.Lock()
				ops += n
				mu.Unlock()
				if x == 0 {
					fmt.Print("")
				}
			case "fsync_neighbour":
				p := filepath.Join(dir, fmt.Sprintf("neighbour-%d.dat", t))
				f, err := os.OpenFile(p, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0644)
				if err != nil {
					fmt.Fprintln(os.Stderr, err)
					return
				}
				defer os.Remove(p)
				defer f.Close()
				buf := make([]byte, 16<<10)
				var written int64
				var my []int64
				for time.Now().Before(deadline) {
					if written > 256<<20 { // keep the file under 256 MiB
						f.Truncate(0)
						f.Seek(0, 0)
						written = 0
					}
					f.Write(buf)
					written += int64(len(buf))
					st := time.Now()
					syscall.Fdatasync(int(f.Fd()))
					my = append(my, int64(time.Since(st)))
				}
				mu.Lock()
				ops += int64(len(my))
				lats = append(lats, my...)
				mu.Unlock()
			}
		}(t)
	}
	wg.Wait()
	if kind == "fsync_neighbour" {
		s := etcdharness.Summarize(lats)
		fmt.Printf("%d fdatasyncs of 16 KiB appends, %.0f/s, mean %.2f ms, p99 %.2f ms", ops, float64(ops)/seconds, s.Mean, s.P99)
	} else {
		fmt.Printf("%d x 100k xorshift rounds on %d threads", ops, threads)
	}
}

// maintenance calls Defragment or Compact on the member and says how long it took.
func maintenance(kind string, m *member) string {
	cli, err := clientv3.New(clientv3.Config{LogConfig: etcdharness.QuietLog(), Endpoints: []string{m.endpoint()}, DialTimeout: 5 * time.Second})
	if err != nil {
		return "not done: " + err.Error()
	}
	defer cli.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	st := time.Now()
	switch kind {
	case "defrag":
		if _, err := cli.Defragment(ctx, m.endpoint()); err != nil {
			return "failed: " + err.Error()
		}
		return fmt.Sprintf("Defragment returned after %.3fs", time.Since(st).Seconds())
	default:
		g, err := cli.Get(ctx, "b")
		if err != nil {
			return "not done: " + err.Error()
		}
		rev := g.Header.Revision
		st = time.Now()
		if _, err := cli.Compact(ctx, rev, clientv3.WithCompactPhysical()); err != nil {
			return fmt.Sprintf("compact to %d failed: %v", rev, err)
		}
		return fmt.Sprintf("compacted to revision %d in %.3fs (physical)", rev, time.Since(st).Seconds())
	}
}

func in(s string, set ...string) bool {
	for _, x := range set {
		if s == x {
			return true
		}
	}
	return false
}
