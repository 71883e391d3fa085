// etcdmeasure runs a grid of cases against real etcd clusters on loopback and writes one CSV
// row per case (harness/README.md). Every repetition of every case gets a fresh cluster with
// fresh data directories; etcdload (built beside this program) drives the load.
//
//	etcdmeasure GRID.toml --out FILE.csv [--reps 3] [--only CASE-SUBSTRING] [--raw FILE.jsonl]
//	etcdmeasure GRID.toml --dry-run
//	etcdmeasure --probe-machine
package main

import (
	"bufio"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io/ioutil"
	"math"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"regexp"
	"runtime"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

var errInterrupted = errors.New("interrupted")

var interruptFlag int32

func interrupted() bool { return atomic.LoadInt32(&interruptFlag) != 0 }

var (
	dirMu sync.Mutex
	dirs  = map[string]bool{}
)

func registerDir(d string)   { dirMu.Lock(); dirs[d] = true; dirMu.Unlock() }
func unregisterDir(d string) { dirMu.Lock(); delete(dirs, d); dirMu.Unlock() }

func removeRegisteredDirs() {
	dirMu.Lock()
	defer dirMu.Unlock()
	for d := range dirs {
		os.RemoveAll(d)
	}
}

func usage() {
	fmt.Fprint(os.Stderr, `usage:
  measure GRID.toml --out FILE.csv [--reps N] [--only SUBSTR[,SUBSTR...]] [--raw FILE.jsonl] [--verbose]
  measure GRID.toml --dry-run            list the expanded cases and estimate the wall time
  measure --probe-machine                loopback RTT, fdatasync latency and cores of this machine
flags:
`)
	flag.PrintDefaults()
}

func main() {
	fs := flag.CommandLine
	fs.Usage = usage
	out := fs.String("out", "", "CSV file to write (required for a grid run)")
	reps := fs.Int("reps", 3, "repetitions of each case, each on a fresh cluster (default 3; wins over the grid's reps)")
	only := fs.String("only", "", "run only the expanded cases whose name contains one of these comma-separated substrings")
	raw := fs.String("raw", "", "also write every repetition's full figures as JSON lines to this file")
	dry := fs.Bool("dry-run", false, "list the expanded cases and the estimated wall time, run nothing")
	probe := fs.Bool("probe-machine", false, "measure loopback TCP round trips, fdatasync latency and the core count, print them as comments")
	etcdBin := fs.String("etcd", "", "etcd binary (default: etcd on PATH)")
	tmp := fs.String("tmpdir", "", "parent of the temporary data directories (default $TMPDIR or /tmp)")
	keepLogs := fs.String("keep-logs", "", "copy every repetition's member and load generator logs into this directory")
	verbose := fs.Bool("verbose", false, "print each repetition's server-side request counts and the load generator's stderr")
	echo := fs.Bool("echo-server", false, "internal: the echo process of --probe-machine")
	nbKind := fs.String("neighbour", "", "internal: the neighbour process of a fsync_neighbour or cpu_hog event")
	nbS := fs.Float64("neighbour-s", 0, "internal: the neighbour's duration")
	nbThreads := fs.Int("neighbour-threads", 1, "internal: the neighbour's threads")
	nbDir := fs.String("neighbour-dir", "", "internal: the fsync neighbour's directory")
	intervalsOut := fs.String("intervals", "", "with events or interval_ms: the per-interval CSV (default: --out with -intervals.csv for .csv)")
	eventsOut := fs.String("events", "", "with events: the per-event CSV (default: --out with -events.csv for .csv)")
	// The grid file may come before or after the flags.
	var positional []string
	args := os.Args[1:]
	for {
		if err := fs.Parse(args); err != nil {
			os.Exit(2)
		}
		if fs.NArg() == 0 {
			break
		}
		positional = append(positional, fs.Arg(0))
		args = fs.Args()[1:]
	}
	repsGiven := false
	fs.Visit(func(f *flag.Flag) {
		if f.Name == "reps" {
			repsGiven = true
		}
	})
	if *echo {
		echoServer()
		return
	}
	if *nbKind != "" {
		neighbourMain(*nbKind, *nbS, *nbThreads, *nbDir)
		return
	}
	if *tmp == "" {
		*tmp = os.TempDir()
	}
	if *probe {
		lines, err := probeMachine(*tmp)
		if err != nil {
			fatal(1, "probe-machine: %v", err)
		}
		for _, l := range lines {
			fmt.Println("# " + l)
		}
		if len(positional) == 0 {
			return
		}
	}
	if len(positional) != 1 {
		usage()
		os.Exit(2)
	}
	gridPath := positional[0]
	cases, err := loadGrid(gridPath)
	if err != nil {
		fatal(2, "%v", err)
	}
	if *only != "" {
		var keep []Case
		for _, c := range cases {
			for _, s := range strings.Split(*only, ",") {
				if s != "" && strings.Contains(c.Name, s) {
					keep = append(keep, c)
					break
				}
			}
		}
		if len(keep) == 0 {
			fatal(2, "--only %q matches no case of %s", *only, gridPath)
		}
		cases = keep
	}
	for i := range cases {
		if repsGiven || cases[i].Reps == 0 {
			cases[i].Reps = *reps
		}
		if cases[i].Reps < 1 {
			fatal(2, "--reps must be at least 1")
		}
		if cases[i].ClientProfile && *keepLogs == "" && !*dry {
			fatal(2, "%s: %s: client_profile = true needs --keep-logs DIR (the profile is kept there)", gridPath, cases[i].Name)
		}
	}
	if *dry {
		dryRun(cases)
		return
	}
	if *out == "" {
		fatal(2, "--out FILE.csv is required")
	}
	if *etcdBin == "" {
		p, err := exec.LookPath("etcd")
		if err != nil {
			fatal(1, "etcd not found on PATH (run harness/install)")
		}
		*etcdBin = p
	}
	self, _ := os.Executable()
	loadBin := filepath.Join(filepath.Dir(self), "etcdload")
	if _, err := os.Stat(loadBin); err != nil {
		fatal(1, "%s not found (run harness/install)", loadBin)
	}
	opensslBin, _ := exec.LookPath("openssl")
	r := &runner{etcdBin: *etcdBin, loadBin: loadBin, tmpBase: *tmp, openssl: opensslBin, verbose: *verbose, keepLogs: *keepLogs}
	if *keepLogs != "" {
		if err := os.MkdirAll(*keepLogs, 0755); err != nil {
			fatal(1, "%v", err)
		}
	}

	sigc := make(chan os.Signal, 2)
	signal.Notify(sigc, syscall.SIGINT, syscall.SIGTERM)
	go func() {
		<-sigc
		atomic.StoreInt32(&interruptFlag, 1)
		fmt.Fprintln(os.Stderr, "\ninterrupted: stopping the cluster, removing its data")
		killRegistered()
		<-sigc
		removeRegisteredDirs()
		os.Exit(130)
	}()

	head := environmentComments(*etcdBin, gridPath)
	if lines, err := probeMachine(*tmp); err == nil {
		head = append(head, lines...)
	} else {
		head = append(head, "machine probe failed: "+err.Error())
	}
	var rawF *os.File
	if *raw != "" {
		if rawF, err = os.Create(*raw); err != nil {
			fatal(1, "%v", err)
		}
		defer rawF.Close()
	}

	totalRuns := 0
	for _, c := range cases {
		totalRuns += c.Reps
	}
	var rows, notes, ivRows, evRows []string
	timeline := false
	for _, c := range cases {
		timeline = timeline || c.IntervalMs > 0
	}
	if timeline {
		if *intervalsOut == "" {
			*intervalsOut = sideFile(*out, "intervals")
		}
		if *eventsOut == "" {
			*eventsOut = sideFile(*out, "events")
		}
	}
	configs := map[string]*config{}
	var configOrder []string
	loadCmds := []string{}
	failed := 0
	done := 0
	start := time.Now()
	for ci := range cases {
		c := &cases[ci]
		if c.Auth == "password" && c.AuthToken == "jwt" && opensslBin == "" {
			msg := fmt.Sprintf("skipped %s: auth_token jwt needs RSA keys and openssl is not installed", c.Name)
			fmt.Fprintln(os.Stderr, msg)
			notes = append(notes, msg)
			done += c.Reps
			continue
		}
		var results []*repResult
		var lastErr error
		for rep := 1; rep <= c.Reps && !interrupted(); rep++ {
			var res *repResult
			for attempt := 1; attempt <= 2; attempt++ {
				res, lastErr = r.runRep(c, rep)
				if lastErr == nil || lastErr == errInterrupted || interrupted() {
					break
				}
				fmt.Fprintf(os.Stderr, "[%s rep %d] attempt %d failed: %v\n", c.Name, rep, attempt, lastErr)
			}
			done++
			if res == nil {
				continue
			}
			results = append(results, res)
			eta := time.Duration(float64(time.Since(start)) / float64(done) * float64(totalRuns-done))
			lr := res.Load
			fmt.Fprintf(os.Stderr, "[%d/%d] %s rep %d/%d: %.0f req/s, mean %.3f ms, p99 %.3f ms, errors %d, leader m%d (start %.1fs, run %.1fs) ETA %s\n",
				done, totalRuns, c.Name, rep, c.Reps, lr.QPS, lr.Latency.Mean, lr.Latency.P99, lr.Errors,
				res.Leader, res.StartS, res.WallS, eta.Round(time.Second))
			if res.LeaderEnd != res.Leader {
				msg := fmt.Sprintf("warning %s rep %d: leader m%d at the start, m%d at the window's end", c.Name, rep, res.Leader, res.LeaderEnd)
				fmt.Fprintln(os.Stderr, "  "+msg)
				notes = append(notes, msg)
			}
			if *verbose {
				fmt.Fprintf(os.Stderr, "  server-side RPCs finished in the window: %s; sched samples %v; client auth calls %d\n",
					handledString(res.Handled), res.SchedSamples, lr.AuthCalls)
				fmt.Fprintf(os.Stderr, "  cluster: healthy after %.2fs, m%d elected first, leader m%d after %.2fs\n",
					res.HealthyS, res.Elected, res.Leader, res.LeaderS)
			}
			if rawF != nil {
				writeRaw(rawF, c, rep, res)
			}
			if timeline {
				ivRows = append(ivRows, intervalRows(c, rep, res)...)
				er := eventRows(c, rep, res)
				evRows = append(evRows, er...)
				for _, l := range er {
					fmt.Fprintf(os.Stderr, "  event: %s\n", l)
				}
			}
		}
		if interrupted() {
			break
		}
		if len(results) < c.Reps {
			failed++
			msg := fmt.Sprintf("failed %s: %d of %d repetitions ran; last error: %v", c.Name, len(results), c.Reps, oneLine(lastErr))
			fmt.Fprintln(os.Stderr, msg)
			notes = append(notes, msg)
			if len(results) == 0 {
				continue
			}
		}
		rows = append(rows, row(c, results))
		// Group the member command lines by configuration.
		key := normalize(strings.Join(results[0].MemberCmds, "\n"))
		cf, ok := configs[key]
		if !ok {
			cf = &config{label: fmt.Sprintf("C%d", len(configs)+1), cmds: results[0].MemberCmds}
			configs[key] = cf
			configOrder = append(configOrder, key)
		}
		cf.cases = append(cf.cases, c.Name)
		loadCmds = append(loadCmds, fmt.Sprintf("load %s (%s): %s", c.Name, cf.label, results[0].LoadCmd))
		writeCSV(*out+".partial", head, configs, configOrder, loadCmds, notes, rows)
		if timeline {
			writeTimelineCSV(*intervalsOut+".partial", head, intervalHeader, ivRows)
			writeTimelineCSV(*eventsOut+".partial", head, eventHeader, evRows)
		}
	}
	if interrupted() {
		removeRegisteredDirs()
		if _, err := os.Stat(*out + ".partial"); err == nil {
			fmt.Fprintf(os.Stderr, "the finished cases are in %s.partial\n", *out)
		} else {
			fmt.Fprintln(os.Stderr, "no case had finished")
		}
		os.Exit(130)
	}
	head = append(head, fmt.Sprintf("wall time: %s for %d cases", time.Since(start).Round(time.Second), len(cases)))
	if err := writeCSV(*out, head, configs, configOrder, loadCmds, notes, rows); err != nil {
		fatal(1, "%v", err)
	}
	os.Remove(*out + ".partial")
	if timeline {
		th := append(append([]string{}, head...), loadCmds...)
		if err := writeTimelineCSV(*intervalsOut, th, intervalHeader, ivRows); err != nil {
			fatal(1, "%v", err)
		}
		if err := writeTimelineCSV(*eventsOut, th, eventHeader, evRows); err != nil {
			fatal(1, "%v", err)
		}
		os.Remove(*intervalsOut + ".partial")
		os.Remove(*eventsOut + ".partial")
		fmt.Fprintf(os.Stderr, "wrote %s (%d rows) and %s (%d rows)\n", *intervalsOut, len(ivRows), *eventsOut, len(evRows))
	}
	fmt.Fprintf(os.Stderr, "wrote %s: %d rows in %s\n", *out, len(rows), time.Since(start).Round(time.Second))
	if failed > 0 {
		fmt.Fprintf(os.Stderr, "%d case(s) failed (see the # failed comments)\n", failed)
		os.Exit(1)
	}
}

type config struct {
	label string
	cmds  []string
	cases []string
}

var (
	rePort  = regexp.MustCompile(`127\.0\.0\.1:[0-9]+`)
	reDir   = regexp.MustCompile(`etcdsim-harness-[0-9]+`)
	reToken = regexp.MustCompile(`etcdsim-[0-9]{6,}`)
)

func normalize(s string) string {
	s = rePort.ReplaceAllString(s, "127.0.0.1:PORT")
	s = reDir.ReplaceAllString(s, "etcdsim-harness-N")
	return reToken.ReplaceAllString(s, "etcdsim-TOKEN")
}

func writeCSV(path string, head []string, configs map[string]*config, order []string, loads, notes, rows []string) error {
	var b strings.Builder
	for _, h := range head {
		b.WriteString("# " + h + "\n")
	}
	b.WriteString("# member command lines, one configuration each (ports, data directories and the cluster token differ per run):\n")
	for _, k := range order {
		cf := configs[k]
		fmt.Fprintf(&b, "# %s, cases %s:\n", cf.label, strings.Join(cf.cases, " "))
		for _, c := range cf.cmds {
			b.WriteString("#   " + c + "\n")
		}
	}
	b.WriteString("# load generator command lines (first repetition):\n")
	for _, l := range loads {
		b.WriteString("#   " + l + "\n")
	}
	for _, n := range notes {
		b.WriteString("# " + n + "\n")
	}
	b.WriteString(strings.Join(Header, ",") + "\n")
	for _, r := range rows {
		b.WriteString(r + "\n")
	}
	tmp := path + ".tmp"
	if err := ioutil.WriteFile(tmp, []byte(b.String()), 0644); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

func handledString(h map[string]map[string]float64) string {
	var names []string
	for n := range h {
		names = append(names, n)
	}
	sort.Strings(names)
	var parts []string
	for _, n := range names {
		var ms []string
		for m, v := range h[n] {
			ms = append(ms, fmt.Sprintf("%s=%.0f", m, v))
		}
		sort.Strings(ms)
		parts = append(parts, n+"{"+strings.Join(ms, " ")+"}")
	}
	return strings.Join(parts, " ")
}

func writeRaw(f *os.File, c *Case, rep int, res *repResult) {
	vals := map[string]interface{}{}
	for k, v := range res.Values {
		if math.IsNaN(v) {
			vals[k] = nil
		} else {
			vals[k] = v
		}
	}
	obj := map[string]interface{}{
		"case": c.Name, "rep": rep, "leader": res.Leader, "leader_at_window_end": res.LeaderEnd,
		"values": vals, "server_handled_in_window": res.Handled, "sched_samples": res.SchedSamples,
		"member_commands": res.MemberCmds, "load_command": res.LoadCmd, "cluster_start_s": res.StartS,
		"wall_s": res.WallS, "load": res.Load, "healthy_s": res.HealthyS, "leader_s": res.LeaderS,
		"first_elected": res.Elected, "events": res.Events,
	}
	b, err := json.Marshal(obj)
	if err != nil {
		fmt.Fprintf(os.Stderr, "raw: %v\n", err)
		return
	}
	f.Write(append(b, '\n'))
}

func oneLine(err error) string {
	if err == nil {
		return ""
	}
	return strings.Join(strings.Fields(err.Error()), " ")
}

// estimateRun is the expected wall time of one repetition (seconds), from runs on this 2-vCPU
// machine: members started one after the other and the first election, the expected
// leadership move to m0, the load generator's start, dial and preload, warm-up and window, and
// the kill.
func estimateRun(c *Case) float64 {
	n := float64(c.Members)
	s := 0.2 + 0.15*n // start and first election
	if c.ForceLeader && c.Members > 1 {
		s += 0.2 * (n - 1) / n // leadership moved in (n-1)/n of the runs
	}
	s += 0.35 // load generator: start, dial, preload of a few keys; kill and clean-up
	if c.Auth == "password" {
		s += 0.3 + 0.08*float64(c.Conns) // users and roles (bcrypt); one Authenticate per connection
		if c.AuthToken == "jwt" {
			s += 0.2 // openssl genrsa
		}
	}
	s += float64(c.KeysInRange) * float64(c.ValueSize+c.KeySize+40) / 10e6 // preload
	return s + c.WarmupS + c.DurationS
}

func dryRun(cases []Case) {
	var total float64
	runs := 0
	for _, c := range cases {
		e := estimateRun(&c) * float64(c.Reps)
		total += e
		runs += c.Reps
		fmt.Printf("%-40s kind=%-12s members=%d target=%-13q clients=%-3d conns=%-3d reps=%d  ~%.0fs\n",
			c.Name, c.Kind, c.Members, c.Target, c.Clients, c.Conns, c.Reps, e)
	}
	fmt.Printf("%d cases, %d runs, estimated %.0f s (%.1f min)\n", len(cases), runs, total, total/60)
}

func environmentComments(etcdBin, gridPath string) []string {
	var h []string
	h = append(h, "etcdsim real-etcd measurements (harness/measure); columns: harness/README.md")
	h = append(h, "date: "+time.Now().UTC().Format(time.RFC3339))
	if out, err := exec.Command(etcdBin, "--version").Output(); err == nil {
		var parts []string
		for _, l := range strings.Split(strings.TrimSpace(string(out)), "\n") {
			parts = append(parts, strings.TrimSpace(l))
		}
		h = append(h, "etcd: "+strings.Join(parts, "; ")+" ("+etcdBin+")")
	}
	goVer := runtime.Version()
	if out, err := exec.Command("go", "version").Output(); err == nil {
		goVer = strings.TrimSpace(string(out))
	}
	h = append(h, "go: "+goVer+" (load generator built with "+runtime.Version()+")")
	kern := readTrim("/proc/sys/kernel/ostype") + " " + readTrim("/proc/sys/kernel/osrelease") + " " + readTrim("/proc/sys/kernel/version")
	h = append(h, "kernel: "+strings.TrimSpace(kern))
	if os := osRelease(); os != "" {
		h = append(h, "os: "+os)
	}
	h = append(h, "cpu: "+cpuModel())
	h = append(h, fmt.Sprintf("cores: %d (runtime.NumCPU, the affinity mask of this process)", runtime.NumCPU()))
	h = append(h, "memory: "+memTotal())
	sum := ""
	if b, err := ioutil.ReadFile(gridPath); err == nil {
		sum = fmt.Sprintf(" (sha256 %x)", sha256.Sum256(b))
	}
	h = append(h, "grid: "+gridPath+sum)
	h = append(h, "command: harness/measure "+shellQuote(os.Args[1:]))
	return h
}

func readTrim(p string) string {
	b, _ := ioutil.ReadFile(p)
	return strings.TrimSpace(string(b))
}

func osRelease() string {
	f, err := os.Open("/etc/os-release")
	if err != nil {
		return ""
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if strings.HasPrefix(sc.Text(), "PRETTY_NAME=") {
			return strings.Trim(strings.TrimPrefix(sc.Text(), "PRETTY_NAME="), `"`)
		}
	}
	return ""
}

func cpuModel() string {
	f, err := os.Open("/proc/cpuinfo")
	if err != nil {
		return "unknown"
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	model, n := "unknown", 0
	for sc.Scan() {
		l := sc.Text()
		if strings.HasPrefix(l, "model name") {
			n++
			if i := strings.IndexByte(l, ':'); i >= 0 {
				model = strings.TrimSpace(l[i+1:])
			}
		}
	}
	return fmt.Sprintf("%s (%d logical CPUs in /proc/cpuinfo)", model, n)
}

func memTotal() string {
	for _, l := range strings.Split(readTrim("/proc/meminfo"), "\n") {
		if strings.HasPrefix(l, "MemTotal:") {
			return strings.Join(strings.Fields(strings.TrimPrefix(l, "MemTotal:")), " ")
		}
	}
	return "unknown"
}

func fatal(code int, format string, args ...interface{}) {
	fmt.Fprintf(os.Stderr, "measure: "+format+"\n", args...)
	os.Exit(code)
}
