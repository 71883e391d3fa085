package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io/ioutil"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"etcdharness"
)

// repResult is one repetition's figures, keyed by CSV column, plus what the row needs besides.
type repResult struct {
	Leader       int                           `json:"leader"`
	LeaderEnd    int                           `json:"leader_at_window_end"`
	Values       map[string]float64            `json:"values"`
	Handled      map[string]map[string]float64 `json:"server_handled_in_window"`
	Load         *etcdharness.LoadResult       `json:"load"`
	MemberCmds   []string                      `json:"member_commands"`
	LoadCmd      string                        `json:"load_command"`
	SchedSamples map[string]int                `json:"sched_samples"`
	StartS       float64                       `json:"cluster_start_s"`
	HealthyS     float64                       `json:"healthy_s"`
	LeaderS      float64                       `json:"leader_s"`
	Elected      int                           `json:"first_elected"`
	WallS        float64                       `json:"wall_s"`
	Events       []EventLog                    `json:"events,omitempty"`
}

type runner struct {
	etcdBin  string
	loadBin  string
	tmpBase  string
	openssl  string
	verbose  bool
	keepLogs string
}

// runRep starts a fresh cluster in a fresh temporary directory, runs the case once, stops the
// cluster and deletes the directory.
func (r *runner) runRep(c *Case, rep int) (*repResult, error) {
	t0 := time.Now()
	dir, err := ioutil.TempDir(r.tmpBase, "etcdsim-harness-")
	if err != nil {
		return nil, err
	}
	registerDir(dir)
	defer func() {
		if r.keepLogs != "" {
			logs, _ := filepath.Glob(filepath.Join(dir, "*.log"))
			profiles, _ := filepath.Glob(filepath.Join(dir, "*.pprof"))
			logs = append(logs, profiles...)
			for _, l := range logs {
				if b, err := ioutil.ReadFile(l); err == nil {
					ioutil.WriteFile(filepath.Join(r.keepLogs, fmt.Sprintf("%s-rep%d-%s", c.Name, rep, filepath.Base(l))), b, 0644)
				}
			}
		}
		os.RemoveAll(dir)
		unregisterDir(dir)
	}()
	var jwt [2]string
	if c.Auth == "password" && c.AuthToken == "jwt" {
		jwt[0], jwt[1] = filepath.Join(dir, "jwt.pub"), filepath.Join(dir, "jwt.key")
		if out, err := exec.Command(r.openssl, "genrsa", "-out", jwt[1], "2048").CombinedOutput(); err != nil {
			return nil, fmt.Errorf("openssl genrsa: %v: %s", err, out)
		}
		if out, err := exec.Command(r.openssl, "rsa", "-in", jwt[1], "-pubout", "-out", jwt[0]).CombinedOutput(); err != nil {
			return nil, fmt.Errorf("openssl rsa -pubout: %v: %s", err, out)
		}
	}
	cl, err := startCluster(c, dir, r.etcdBin, jwt)
	if err != nil {
		return nil, err
	}
	defer cl.stop()
	res := &repResult{Leader: cl.leader, StartS: time.Since(t0).Seconds(), Elected: cl.elected,
		HealthyS: cl.healthyS, LeaderS: cl.leaderS}
	for _, m := range cl.members {
		res.MemberCmds = append(res.MemberCmds, m.cmdline)
	}
	if c.Auth == "password" {
		if err := cl.setupAuth(); err != nil {
			return nil, err
		}
	}

	// Endpoints by target.
	leader := cl.members[cl.leader]
	var firstFollower *member
	for _, m := range cl.members {
		if m.index != cl.leader {
			firstFollower = m
			break
		}
	}
	var eps []string
	switch c.Target {
	case "leader only":
		eps = []string{leader.endpoint()}
	case "follower only":
		eps = []string{firstFollower.endpoint()}
	default:
		eps = cl.endpoints()
	}
	args := []string{r.loadBin,
		"--endpoints", strings.Join(eps, ","),
		"--conns", strconv.Itoa(c.Conns), "--clients", strconv.Itoa(c.Clients),
		"--key-size", strconv.Itoa(c.KeySize), "--value-size", strconv.Itoa(c.ValueSize),
		"--warmup-s", fmtNum(c.WarmupS), "--duration-s", fmtNum(c.DurationS)}
	switch c.Kind {
	case "read":
		args = append(args, "--op", "range", "--consistency", c.Consistency, "--keys-in-range", strconv.Itoa(c.KeysInRange))
		if c.Limit > 0 {
			args = append(args, "--limit", strconv.FormatInt(c.Limit, 10))
		}
		if c.CountOnly {
			args = append(args, "--count-only")
		}
	case "write":
		args = append(args, "--op", "put")
	case "authenticate":
		args = append(args, "--op", "authenticate")
	}
	if c.Rate > 0 {
		args = append(args, "--rate", fmtNum(c.Rate))
	}
	if c.WriteRate > 0 {
		args = append(args, "--write-rate", fmtNum(c.WriteRate))
	}
	if c.Auth == "password" {
		args = append(args, "--user", "bench", "--password", benchPassword, "--token-reuse", strconv.Itoa(c.TokenReuse))
	}
	if c.ProbeRate > 0 {
		pe := leader
		if c.ProbeTarget == "follower" {
			pe = firstFollower
		}
		args = append(args, "--probe-rate", fmtNum(c.ProbeRate), "--probe-endpoint", pe.endpoint())
	}
	var pidList, metricList, peerList []string
	for _, m := range cl.members {
		pidList = append(pidList, fmt.Sprintf("%s=%d", m.name, m.pid()))
		metricList = append(metricList, fmt.Sprintf("%s=%s/metrics", m.name, m.clientURL()))
		peerList = append(peerList, fmt.Sprintf("%s=%s", m.name, m.peerURL()))
	}
	args = append(args, "--cpu-pids", strings.Join(pidList, ","), "--metrics", strings.Join(metricList, ","))
	if len(cl.members) > 1 {
		args = append(args, "--peer-urls", strings.Join(peerList, ","))
	}
	if c.IntervalMs > 0 {
		args = append(args, "--interval-ms", strconv.Itoa(c.IntervalMs))
	}
	if c.RequestTimeoutS > 0 {
		args = append(args, "--request-timeout", time.Duration(c.RequestTimeoutS*1e9).String())
	}
	if c.Dial != "" && c.Dial != "pinned" {
		args = append(args, "--dial", c.Dial)
	}
	if ws := writeSteps(c); ws != "" {
		args = append(args, "--write-rate-steps", ws)
	}
	if c.IntervalMs > 0 || len(c.Events) > 0 {
		var st []string
		for _, m := range cl.members {
			st = append(st, m.name+"="+m.endpoint())
		}
		args = append(args, "--status", strings.Join(st, ","), "--status-poll-ms", "50")
	}
	if c.FillKeys > 0 {
		args = append(args, "--fill-keys", strconv.Itoa(c.FillKeys), "--fill-value-size", strconv.Itoa(c.FillValueBytes),
			"--fill-revisions", strconv.Itoa(c.FillRevisions))
	}
	if c.ClientProfile {
		args = append(args, "--cpu-profile", filepath.Join(dir, "client.pprof"))
	}
	if c.ClientCPUs != "" {
		args = append([]string{"taskset", "-c", c.ClientCPUs}, args...)
	}
	var extra []string
	if c.GOMAXPROCS > 0 {
		extra = append(extra, fmt.Sprintf("GOMAXPROCS=%d", c.GOMAXPROCS))
	}
	res.LoadCmd = strings.TrimSpace(strings.Join(extra, " ") + " " + shellQuote(args))

	cmd := exec.Command(args[0], args[1:]...)
	cmd.Env = childEnv(extra...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	var stdout, stderr bytes.Buffer
	cmd.Stdout = &stdout
	errPipe, err := cmd.StderrPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start load generator: %v", err)
	}
	registerPid(cmd.Process.Pid)
	limit := time.Duration((c.WarmupS+c.DurationS)*1e9) + 120*time.Second
	timer := time.AfterFunc(limit, func() { cmd.Process.Kill() })
	// etcdload announces the window's start on stderr; the events are timed against it.
	var waitEvents func() []EventLog
	stderrDone := make(chan struct{})
	go func() {
		defer close(stderrDone)
		sc := bufio.NewScanner(errPipe)
		sc.Buffer(make([]byte, 1<<16), 1<<20)
		for sc.Scan() {
			line := sc.Text()
			if f := strings.Fields(line); len(f) == 3 && f[1] == "window-start-unix-ns" {
				if ns, err := strconv.ParseInt(f[2], 10, 64); err == nil && len(c.Events) > 0 && waitEvents == nil {
					waitEvents = r.runEvents(c, cl, dir, time.Unix(0, ns))
				}
				continue
			}
			stderr.WriteString(line + "\n")
		}
	}()
	<-stderrDone
	err = cmd.Wait()
	timer.Stop()
	if waitEvents != nil {
		res.Events = waitEvents()
	} else if len(c.Events) > 0 && err == nil {
		err = fmt.Errorf("etcdload did not announce its window's start: the events did not run")
	}
	ioutil.WriteFile(filepath.Join(dir, "load.log"), stderr.Bytes(), 0644)
	unregisterPid(cmd.Process.Pid)
	if interrupted() {
		return nil, errInterrupted
	}
	if err != nil {
		return nil, fmt.Errorf("load generator: %v: %s", err, strings.TrimSpace(stderr.String()))
	}
	var lr etcdharness.LoadResult
	if err := json.Unmarshal(stdout.Bytes(), &lr); err != nil {
		return nil, fmt.Errorf("load generator output: %v", err)
	}
	res.Load = &lr
	if s := strings.TrimSpace(stderr.String()); s != "" && r.verbose {
		fmt.Fprintf(os.Stderr, "  load generator stderr: %s\n", s)
	}
	r.derive(c, cl, res)
	res.WallS = time.Since(t0).Seconds()
	return res, nil
}

// derive computes the row's figures from the load generator's result and the members' samples.
func (r *runner) derive(c *Case, cl *cluster, res *repResult) {
	lr := res.Load
	v := map[string]float64{}
	nan := math.NaN()
	v["requests"] = float64(lr.Requests)
	v["qps"] = lr.QPS
	v["latency_ms_mean"] = lr.Latency.Mean
	v["latency_ms_p50"] = lr.Latency.P50
	v["latency_ms_p90"] = lr.Latency.P90
	v["latency_ms_p99"] = lr.Latency.P99
	v["latency_ms_p999"] = lr.Latency.P999
	if lr.Requests == 0 {
		for _, k := range []string{"latency_ms_mean", "latency_ms_p50", "latency_ms_p90", "latency_ms_p99", "latency_ms_p999"} {
			v[k] = nan
		}
	}
	v["errors"] = float64(lr.Errors)
	v["write_qps"], v["write_latency_ms_mean"] = nan, nan
	if lr.Write != nil {
		v["write_qps"] = lr.Write.QPS
		if lr.Write.Requests > 0 {
			v["write_latency_ms_mean"] = lr.Write.MeanMs
		}
	}
	for _, k := range []string{"probe_l_ms_mean", "probe_l_ms_p99", "probe_s_ms_mean", "probe_s_ms_p99"} {
		v[k] = nan
	}
	if p := lr.Probe; p != nil {
		if p.L.N > 0 {
			v["probe_l_ms_mean"], v["probe_l_ms_p99"] = p.L.Mean, p.L.P99
		}
		if p.S.N > 0 {
			v["probe_s_ms_mean"], v["probe_s_ms_p99"] = p.S.Mean, p.S.P99
		}
	}
	perReq := func(name string) float64 {
		cpu, ok := lr.CPUSeconds[name]
		if !ok || lr.Requests == 0 {
			return nan
		}
		return cpu * 1e6 / float64(lr.Requests)
	}
	v["leader_cpu_us_per_req"] = perReq(cl.members[cl.leader].name)
	var fsum float64
	var fn int
	for _, m := range cl.members {
		if m.index != cl.leader {
			if x := perReq(m.name); !math.IsNaN(x) {
				fsum += x
				fn++
			}
		}
	}
	v["follower_cpu_us_per_req"] = nan
	if fn > 0 {
		v["follower_cpu_us_per_req"] = fsum / float64(fn)
	}
	v["client_cpu_us_per_req"] = perReq("client")
	v["client_gc_per_s"] = float64(lr.Client.GC) / lr.WindowS

	delta := func(name, key string) (float64, bool) {
		a, ok1 := lr.MetricsStart[name][key]
		b, ok2 := lr.MetricsEnd[name][key]
		return b - a, ok1 && ok2
	}
	// GC per second, mean over members.
	var gsum float64
	var gn int
	for _, m := range cl.members {
		if d, ok := delta(m.name, "go_gc_duration_seconds_count"); ok {
			gsum += d / lr.WindowS
			gn++
		}
	}
	v["member_gc_per_s"] = nan
	if gn > 0 {
		v["member_gc_per_s"] = gsum / float64(gn)
	}
	// Histogram means, pooled over members: the window's samples if it has any, else every
	// sample since the members started.
	pooled := func(family string) float64 {
		var ds, dc, cs, cc float64
		for _, m := range cl.members {
			s1, c1 := lr.MetricsEnd[m.name][family+"_sum"], lr.MetricsEnd[m.name][family+"_count"]
			s0, c0 := lr.MetricsStart[m.name][family+"_sum"], lr.MetricsStart[m.name][family+"_count"]
			ds += s1 - s0
			dc += c1 - c0
			cs += s1
			cc += c1
		}
		switch {
		case dc > 0:
			return ds / dc * 1000
		case cc > 0:
			return cs / cc * 1000
		}
		return nan
	}
	v["wal_fsync_ms_mean"] = pooled("etcd_disk_wal_fsync_duration_seconds")
	v["backend_commit_ms_mean"] = pooled("etcd_disk_backend_commit_duration_seconds")
	// Peer round trips: the harness's own probe of every member's /raft/probing (etcd's
	// etcd_network_peer_round_trip_time_seconds is first observed 5 s after start, then every
	// 30 s: too rarely for a window of seconds), mean over members.
	v["peer_rtt_ms_mean"] = nan
	if len(cl.members) > 1 && len(lr.PeerRTTMs) > 0 {
		var s float64
		for _, x := range lr.PeerRTTMs {
			s += x
		}
		v["peer_rtt_ms_mean"] = s / float64(len(lr.PeerRTTMs))
	}
	v["etcd_peer_rtt_ms_mean"] = pooled("etcd_network_peer_round_trip_time_seconds")
	// RSS at the window's end, mean over members.
	var rsum float64
	var rn int
	for _, m := range cl.members {
		if x, ok := lr.RSSMB[m.name]; ok {
			rsum += x
			rn++
		}
	}
	v["server_rss_mb"] = nan
	if rn > 0 {
		v["server_rss_mb"] = rsum / float64(rn)
	}
	// Run queues from schedtrace, mean over members.
	v["member_runq_global_mean"], v["member_runq_local_mean"] = nan, nan
	res.SchedSamples = map[string]int{}
	if c.SchedtraceMs > 0 {
		var gs, ls float64
		var n int
		for _, m := range cl.members {
			g, l, k := m.schedMeans(lr.WindowStartNs, lr.WindowEndNs)
			res.SchedSamples[m.name] = k
			if k > 0 {
				gs += g
				ls += l
				n++
			}
		}
		if n > 0 {
			v["member_runq_global_mean"] = gs / float64(n)
			v["member_runq_local_mean"] = ls / float64(n)
		}
	}
	// Who led at the window's end, and what each member's gRPC server finished in the window.
	res.LeaderEnd = -1
	res.Handled = map[string]map[string]float64{}
	for _, m := range cl.members {
		if lr.MetricsEnd[m.name]["etcd_server_is_leader"] == 1 {
			res.LeaderEnd = m.index
		}
		h := map[string]float64{}
		for k, end := range lr.MetricsEnd[m.name] {
			if strings.HasPrefix(k, etcdharness.HandledPrefix) {
				if d := end - lr.MetricsStart[m.name][k]; d > 0 {
					h[strings.TrimPrefix(k, etcdharness.HandledPrefix)] = d
				}
			}
		}
		res.Handled[m.name] = h
	}
	res.Values = v
}

func fmtNum(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) }
