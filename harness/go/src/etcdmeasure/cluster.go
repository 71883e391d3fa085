package main

import (
	"bufio"
	"context"
	"etcdharness"
	"fmt"
	"io"
	"io/ioutil"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"go.etcd.io/etcd/clientv3"
)

// schedSample is one GODEBUG=schedtrace line of a member: when it arrived, the global run
// queue and the sum of the per-P local run queues.
type schedSample struct {
	at     int64
	global float64
	local  float64
}

type member struct {
	index      int
	name       string
	clientPort int
	peerPort   int
	dataDir    string
	args       []string // the command line (a restart uses it again)
	env        []string
	cmdline    string
	logPath    string
	id         uint64

	mu     sync.Mutex
	sched  []schedSample
	cmd    *exec.Cmd     // the current incarnation (a fault event may kill and restart it)
	exited chan struct{} // closed when the current incarnation has exited
	err    error
	starts int
}

// proc returns the current incarnation and the channel closed when it exits.
func (m *member) proc() (*exec.Cmd, chan struct{}) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.cmd, m.exited
}

func (m *member) exitErr() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.err
}

func (m *member) pid() int {
	cmd, _ := m.proc()
	if cmd == nil || cmd.Process == nil {
		return 0
	}
	return cmd.Process.Pid
}

// start starts an incarnation of the member with its command line and environment: the
// first at cluster start, again after a kill (same data directory, same flags; etcd ignores
// the --initial-cluster flags once its data directory holds a WAL). Its stdout and stderr go
// to the member's log (appended), the SCHED lines of stderr into its samples.
func (m *member) start() error {
	cmd := exec.Command(m.args[0], m.args[1:]...)
	cmd.Env = m.env
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	logf, err := os.OpenFile(m.logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0644)
	if err != nil {
		return err
	}
	cmd.Stdout = logf
	stderr, err := cmd.StderrPipe()
	if err != nil {
		logf.Close()
		return err
	}
	if err := cmd.Start(); err != nil {
		logf.Close()
		return fmt.Errorf("start %s: %v", m.name, err)
	}
	exited := make(chan struct{})
	m.mu.Lock()
	m.cmd, m.exited, m.err = cmd, exited, nil
	m.starts++
	m.mu.Unlock()
	registerPid(cmd.Process.Pid)
	var reader sync.WaitGroup
	reader.Add(1)
	go m.readStderr(stderr, logf, &reader)
	go func() {
		reader.Wait()
		err := cmd.Wait()
		unregisterPid(cmd.Process.Pid)
		m.mu.Lock()
		m.err = err
		m.mu.Unlock()
		close(exited)
	}()
	return nil
}

func (m *member) clientURL() string { return fmt.Sprintf("http://127.0.0.1:%d", m.clientPort) }
func (m *member) peerURL() string   { return fmt.Sprintf("http://127.0.0.1:%d", m.peerPort) }
func (m *member) endpoint() string  { return fmt.Sprintf("127.0.0.1:%d", m.clientPort) }

type cluster struct {
	dir      string
	members  []*member
	leader   int
	elected  int     // the member that won the first election
	healthyS float64 // seconds from start to every member healthy
	leaderS  float64 // seconds from start to the leader known (and moved to m0)
}

// freePorts returns n distinct loopback ports the kernel reports free.
func freePorts(n int) ([]int, error) {
	var ls []net.Listener
	defer func() {
		for _, l := range ls {
			l.Close()
		}
	}()
	var ports []int
	for i := 0; i < n; i++ {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		ls = append(ls, l)
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}

// childEnv is this process's environment without the variables the harness sets itself.
func childEnv(extra ...string) []string {
	var env []string
	for _, e := range os.Environ() {
		if strings.HasPrefix(e, "GODEBUG=") || strings.HasPrefix(e, "GOMAXPROCS=") || strings.HasPrefix(e, "ETCD_") {
			continue
		}
		env = append(env, e)
	}
	return append(env, extra...)
}

// shellQuote renders argv as a shell command line.
func shellQuote(args []string) string {
	var out []string
	for _, a := range args {
		if a == "" || strings.ContainsAny(a, " \t\"'\\$`;&|<>()*?[]{}!#~") {
			a = "'" + strings.Replace(a, "'", `'\''`, -1) + "'"
		}
		out = append(out, a)
	}
	return strings.Join(out, " ")
}

// startCluster starts c.Members etcd members on loopback with fresh data directories under
// dir, waits until every member reports healthy, finds the leader and (ForceLeader) moves
// leadership to member 0.
func startCluster(c *Case, dir, etcdBin string, jwtKeys [2]string) (*cluster, error) {
	ports, err := freePorts(2 * c.Members)
	if err != nil {
		return nil, err
	}
	cl := &cluster{dir: dir}
	var initial []string
	for i := 0; i < c.Members; i++ {
		m := &member{index: i, name: fmt.Sprintf("m%d", i), clientPort: ports[2*i], peerPort: ports[2*i+1],
			dataDir: filepath.Join(dir, fmt.Sprintf("m%d.etcd", i))}
		m.logPath = filepath.Join(dir, m.name+".log")
		cl.members = append(cl.members, m)
		initial = append(initial, m.name+"="+m.peerURL())
	}
	token := fmt.Sprintf("etcdsim-%d", time.Now().UnixNano())
	for _, m := range cl.members {
		args := []string{etcdBin, "--name", m.name, "--data-dir", m.dataDir,
			"--listen-client-urls", m.clientURL(), "--advertise-client-urls", m.clientURL(),
			"--listen-peer-urls", m.peerURL(), "--initial-advertise-peer-urls", m.peerURL(),
			"--initial-cluster", strings.Join(initial, ","), "--initial-cluster-token", token,
			"--initial-cluster-state", "new", "--logger", "zap", "--log-outputs", "stderr"}
		if c.Auth == "password" && c.AuthToken == "jwt" {
			args = append(args, "--auth-token", fmt.Sprintf("jwt,pub-key=%s,priv-key=%s,sign-method=RS256,ttl=10m", jwtKeys[0], jwtKeys[1]))
		}
		args = append(args, strings.Fields(c.MemberFlags)...)
		if c.MemberCPUs != "" {
			args = append([]string{"taskset", "-c", c.MemberCPUs}, args...)
		}
		var extra []string
		if c.SchedtraceMs > 0 {
			extra = append(extra, fmt.Sprintf("GODEBUG=schedtrace=%d", c.SchedtraceMs))
		}
		if c.GOMAXPROCS > 0 {
			extra = append(extra, fmt.Sprintf("GOMAXPROCS=%d", c.GOMAXPROCS))
		}
		m.cmdline = strings.TrimSpace(strings.Join(extra, " ") + " " + shellQuote(args))
		m.args, m.env = args, childEnv(extra...)
		if err := m.start(); err != nil {
			cl.stop()
			return nil, err
		}
		// Start the members one after the other: a new member first asks its peers' /members
		// whether it was bootstrapped already, and a peer that listens but is not serving yet
		// holds each such request for etcd's 1 s bootstrap timeout (2 s per member of a
		// 3-member cluster started all at once). A peer that serves answers at once, and a
		// peer not yet listening refuses at once.
		if m.index < len(cl.members)-1 {
			if err := m.waitPeerServing(10 * time.Second); err != nil {
				cl.stop()
				return nil, err
			}
		}
	}
	t0 := time.Now()
	if err := cl.waitHealthy(30 * time.Second); err != nil {
		cl.stop()
		return nil, err
	}
	cl.healthyS = time.Since(t0).Seconds()
	if err := cl.findLeader(c.ForceLeader); err != nil {
		cl.stop()
		return nil, err
	}
	cl.leaderS = time.Since(t0).Seconds()
	return cl, nil
}

// waitPeerServing waits until the member's peer listener answers GET /members.
func (m *member) waitPeerServing(timeout time.Duration) error {
	hc := http.Client{Timeout: 500 * time.Millisecond}
	deadline := time.Now().Add(timeout)
	for {
		_, exited := m.proc()
		select {
		case <-exited:
			return fmt.Errorf("member %s exited during start-up (%v); its log ends:\n%s", m.name, m.exitErr(), tail(m.logPath, 15))
		default:
		}
		resp, err := hc.Get(m.peerURL() + "/members")
		if err == nil {
			io.Copy(ioutil.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return nil
			}
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("member %s does not serve peer traffic after %v; its log ends:\n%s", m.name, timeout, tail(m.logPath, 15))
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// readStderr keeps the SCHED lines as samples and copies everything to the member's log.
func (m *member) readStderr(r io.Reader, logf *os.File, done *sync.WaitGroup) {
	defer done.Done()
	defer logf.Close()
	br := bufio.NewReaderSize(r, 1<<16)
	w := bufio.NewWriter(logf)
	defer w.Flush()
	for {
		line, err := br.ReadString('\n')
		if len(line) > 0 {
			if strings.HasPrefix(line, "SCHED ") {
				if s, ok := parseSched(line); ok {
					s.at = time.Now().UnixNano()
					m.mu.Lock()
					m.sched = append(m.sched, s)
					m.mu.Unlock()
				}
			} else {
				w.WriteString(line)
			}
		}
		if err != nil {
			return
		}
	}
}

// parseSched reads "SCHED 2009ms: gomaxprocs=2 idleprocs=0 threads=12 ... runqueue=3 [1 5]".
func parseSched(line string) (schedSample, bool) {
	var s schedSample
	i := strings.Index(line, "runqueue=")
	if i < 0 {
		return s, false
	}
	rest := line[i+len("runqueue="):]
	j := strings.IndexAny(rest, " [\n")
	if j < 0 {
		j = len(rest)
	}
	g, err := strconv.Atoi(strings.TrimSpace(rest[:j]))
	if err != nil {
		return s, false
	}
	s.global = float64(g)
	a, b := strings.IndexByte(rest, '['), strings.IndexByte(rest, ']')
	if a < 0 || b < a {
		return s, false
	}
	for _, f := range strings.Fields(rest[a+1 : b]) {
		n, err := strconv.Atoi(f)
		if err != nil {
			return s, false
		}
		s.local += float64(n)
	}
	return s, true
}

// schedMeans returns the mean global and total local run queue over the samples that arrived
// in [from, to] (unix ns); ok is false if there are none.
func (m *member) schedMeans(from, to int64) (global, local float64, n int) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, s := range m.sched {
		if s.at >= from && s.at <= to {
			global += s.global
			local += s.local
			n++
		}
	}
	if n > 0 {
		global /= float64(n)
		local /= float64(n)
	}
	return
}

// waitHealthy polls every member's Status (the maintenance API) until all of them answer and
// agree on a leader. A member serves gRPC only once it is ready (after it has published itself
// through raft), so an answer means ready. (The HTTP /health check costs a second per try while
// the first election is under way: its raft read times out after 1 s.)
func (cl *cluster) waitHealthy(timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	clis := make([]*clientv3.Client, len(cl.members))
	defer func() {
		for _, c := range clis {
			if c != nil {
				c.Close()
			}
		}
	}()
	for i, m := range cl.members {
		c, err := clientv3.New(clientv3.Config{LogConfig: etcdharness.QuietLog(), Endpoints: []string{m.endpoint()}})
		if err != nil {
			return err
		}
		clis[i] = c
	}
	ready := make([]bool, len(cl.members))
	for {
		var lead uint64
		agree := true
		for i, m := range cl.members {
			_, exited := m.proc()
			select {
			case <-exited:
				return fmt.Errorf("member %s exited during start-up (%v); its log ends:\n%s", m.name, m.exitErr(), tail(m.logPath, 15))
			default:
			}
			ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
			st, err := clis[i].Status(ctx, m.endpoint())
			cancel()
			ready[i] = err == nil && st.Leader != 0
			if !ready[i] || (lead != 0 && st.Leader != lead) {
				agree = false
			} else {
				lead = st.Leader
			}
		}
		if agree {
			return nil
		}
		if time.Now().After(deadline) {
			for i, m := range cl.members {
				if !ready[i] {
					return fmt.Errorf("member %s not ready after %v; its log ends:\n%s", m.name, timeout, tail(m.logPath, 15))
				}
			}
			return fmt.Errorf("members do not agree on a leader after %v", timeout)
		}
		time.Sleep(25 * time.Millisecond)
	}
}

func (cl *cluster) endpoints() []string {
	var eps []string
	for _, m := range cl.members {
		eps = append(eps, m.endpoint())
	}
	return eps
}

// status asks every member for its member ID and the leader it knows.
func (cl *cluster) status() (leader int, err error) {
	cli, err := clientv3.New(clientv3.Config{LogConfig: etcdharness.QuietLog(), Endpoints: cl.endpoints(), DialTimeout: 10 * time.Second})
	if err != nil {
		return -1, err
	}
	defer cli.Close()
	var leaderID uint64
	for _, m := range cl.members {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		st, err := cli.Status(ctx, m.endpoint())
		cancel()
		if err != nil {
			return -1, fmt.Errorf("status of %s: %v", m.name, err)
		}
		m.id = st.Header.MemberId
		if leaderID == 0 {
			leaderID = st.Leader
		} else if st.Leader != leaderID {
			return -1, fmt.Errorf("members disagree on the leader")
		}
	}
	for _, m := range cl.members {
		if m.id == leaderID {
			return m.index, nil
		}
	}
	return -1, fmt.Errorf("no member has the leader's ID %x", leaderID)
}

func (cl *cluster) findLeader(force bool) error {
	var err error
	deadline := time.Now().Add(15 * time.Second)
	cl.elected = -1
	for {
		cl.leader, err = cl.status()
		if cl.elected < 0 && err == nil {
			cl.elected = cl.leader
		}
		if err == nil && (!force || cl.leader == 0) {
			return nil
		}
		if time.Now().After(deadline) {
			if err == nil {
				err = fmt.Errorf("leadership did not move to m0 (leader is m%d)", cl.leader)
			}
			return err
		}
		if err == nil && force {
			cli, e := clientv3.New(clientv3.Config{LogConfig: etcdharness.QuietLog(), Endpoints: []string{cl.members[cl.leader].endpoint()}, DialTimeout: 10 * time.Second})
			if e == nil {
				ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
				_, e = cli.MoveLeader(ctx, cl.members[0].id)
				cancel()
				cli.Close()
			}
			if e != nil {
				fmt.Fprintf(os.Stderr, "  move leader to m0: %v (retrying)\n", e)
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// setupAuth creates root (user and role), a role "bench" that may read and write the keys
// [b, c) (every key the load generator uses), a user "bench" with that role, and enables auth.
func (cl *cluster) setupAuth() error {
	cli, err := clientv3.New(clientv3.Config{LogConfig: etcdharness.QuietLog(), Endpoints: []string{cl.members[cl.leader].endpoint()}, DialTimeout: 10 * time.Second})
	if err != nil {
		return err
	}
	defer cli.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	steps := []func() error{
		func() error { _, err := cli.RoleAdd(ctx, "root"); return err },
		func() error { _, err := cli.UserAdd(ctx, "root", benchPassword); return err },
		func() error { _, err := cli.UserGrantRole(ctx, "root", "root"); return err },
		func() error { _, err := cli.RoleAdd(ctx, "bench"); return err },
		func() error {
			_, err := cli.RoleGrantPermission(ctx, "bench", "b", "c", clientv3.PermissionType(clientv3.PermReadWrite))
			return err
		},
		func() error { _, err := cli.UserAdd(ctx, "bench", benchPassword); return err },
		func() error { _, err := cli.UserGrantRole(ctx, "bench", "bench"); return err },
		func() error { _, err := cli.AuthEnable(ctx); return err },
	}
	for i, s := range steps {
		if err := s(); err != nil {
			return fmt.Errorf("auth setup step %d: %v", i+1, err)
		}
	}
	return nil
}

const benchPassword = "etcdsim-bench"

// stop kills every member (SIGKILL) and waits for them. The data directories are deleted next,
// so a graceful stop (which takes seconds in a 3-member cluster: the leader hands over
// leadership, the others lose quorum) would buy nothing.
func (cl *cluster) stop() {
	for _, m := range cl.members {
		if cmd, _ := m.proc(); cmd != nil && cmd.Process != nil {
			cmd.Process.Kill()
		}
	}
	for _, m := range cl.members {
		if cmd, exited := m.proc(); cmd != nil {
			<-exited
		}
	}
}

func tail(path string, n int) string {
	b, err := ioutil.ReadFile(path)
	if err != nil {
		return "(no log)"
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return "    " + strings.Join(lines, "\n    ")
}

// Processes to kill if the harness is interrupted.
var (
	pidMu sync.Mutex
	pids  = map[int]bool{}
)

func registerPid(p int)   { pidMu.Lock(); pids[p] = true; pidMu.Unlock() }
func unregisterPid(p int) { pidMu.Lock(); delete(pids, p); pidMu.Unlock() }

func killRegistered() {
	pidMu.Lock()
	defer pidMu.Unlock()
	for p := range pids {
		syscall.Kill(p, syscall.SIGKILL)
	}
}
