// etcdload is a closed-loop load generator for a real etcd cluster with the semantics of etcd's
// `benchmark` tool (written for etcdsim; no code taken from the tool): --clients goroutines over
// --conns clientv3 clients, connection j dialing only endpoint j mod n, client goroutine i using
// connection i mod conns, and one op-producer goroutine feeding the clients through a channel of
// `clients` slots. Requests that complete inside the measured window (after --warmup-s, for
// --duration-s) are counted. It prints one JSON object (etcdharness.LoadResult) on stdout.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"io/ioutil"
	"math/rand"
	"net/http"
	"os"
	"runtime"
	"runtime/pprof"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"etcdharness"

	"go.etcd.io/etcd/clientv3"
	pb "go.etcd.io/etcd/etcdserver/etcdserverpb"
	"golang.org/x/time/rate"
	"google.golang.org/grpc/grpclog"
	"google.golang.org/grpc/metadata"
)

type options struct {
	endpoints   []string
	conns       int
	clients     int
	op          string
	keySize     int
	valueSize   int
	keysInRange int
	consistency string
	limit       int64
	countOnly   bool
	keySpace    int64
	rate        float64
	writeRate   float64
	user        string
	password    string
	tokenReuse  bool
	warmup      time.Duration
	duration    time.Duration
	drain       time.Duration
	probeRate   float64
	probeEP     string
	cpuPids     [][2]string
	metricsURLs [][2]string
	peerURLs    [][2]string
	peerHz      float64
	preload     bool
	seed        int64

	// Results over time and faults.
	interval       time.Duration
	requestTimeout time.Duration
	writeSteps     [][2]float64
	dial           string
	statusEPs      [][2]string
	statusPoll     time.Duration
	fillKeys       int
	fillValueSize  int
	fillRevisions  int
	cpuProfile     string
}

func main() {
	var o options
	var endpoints, cpuPids, metricsURLs, peerURLs, writeSteps, statusEPs string
	var warmup, duration, drain float64
	var tokenReuse, intervalMs, statusPollMs int
	flag.StringVar(&endpoints, "endpoints", "127.0.0.1:2379", "comma-separated gRPC endpoints (host:port)")
	flag.IntVar(&o.conns, "conns", 1, "number of clientv3 clients (connections); connection j dials endpoint j mod n")
	flag.IntVar(&o.clients, "clients", 1, "closed-loop client goroutines; goroutine i uses connection i mod conns (0: no closed loop, only the probe and background puts)")
	flag.StringVar(&o.op, "op", "range", "range | put | authenticate")
	flag.IntVar(&o.keySize, "key-size", 8, "key size in bytes (at least 3: 'b', a kind letter, digits)")
	flag.IntVar(&o.valueSize, "value-size", 256, "value size in bytes (preloaded range keys, puts, background puts)")
	flag.IntVar(&o.keysInRange, "keys-in-range", 1, "range: keys returned by the range (1 = a single-key get; N>1 = a prefix range over N preloaded keys)")
	flag.StringVar(&o.consistency, "consistency", "l", "range: l (linearizable) or s (serializable)")
	flag.Int64Var(&o.limit, "limit", 0, "range: limit on returned keys (0 = none)")
	flag.BoolVar(&o.countOnly, "count-only", false, "range: return only the count")
	flag.Int64Var(&o.keySpace, "key-space", 100000, "put: sequential keys wrap around after this many")
	flag.Float64Var(&o.rate, "rate", 0, "shared rate limit of the closed loop in requests/s (0 = none; burst 1)")
	flag.Float64Var(&o.writeRate, "write-rate", 0, "background puts per second (Poisson arrivals, asynchronous)")
	flag.StringVar(&o.user, "user", "", "user name for password auth")
	flag.StringVar(&o.password, "password", "", "password for --user")
	flag.IntVar(&tokenReuse, "token-reuse", 1, "1: clientv3 authenticates at dial and reuses its token; 0: every op calls Authenticate and then the request, timed as one op")
	flag.Float64Var(&warmup, "warmup-s", 1, "warm-up seconds (load runs, nothing counted)")
	flag.Float64Var(&duration, "duration-s", 3, "measured window in seconds")
	flag.Float64Var(&drain, "drain-s", 5, "after the window, seconds to wait for in-flight requests before cancelling them")
	flag.Float64Var(&o.probeRate, "probe-rate", 0, "probe: single-key reads per second, alternating linearizable and serializable, on a connection of its own (0 = no probe)")
	flag.StringVar(&o.probeEP, "probe-endpoint", "", "probe: endpoint to dial (default: the first of --endpoints)")
	flag.StringVar(&cpuPids, "cpu-pids", "", "name=pid,... processes whose CPU (utime+stime) and RSS are read at the window's edges")
	flag.StringVar(&metricsURLs, "metrics", "", "name=url,... Prometheus pages scraped just before and just after the window")
	flag.StringVar(&peerURLs, "peer-urls", "", "name=url,... members' peer URLs: during the window GET <url>/raft/probing (etcd's own peer prober endpoint) on each, --peer-probe-hz times a second, and report the mean round trip")
	flag.Float64Var(&o.peerHz, "peer-probe-hz", 20, "round trips per second and member of the peer probe")
	flag.BoolVar(&o.preload, "preload", true, "put the keys the op needs before the run (unmeasured)")
	flag.Int64Var(&o.seed, "seed", 1, "seed of the background puts' arrival times")
	flag.IntVar(&intervalMs, "interval-ms", 0, "results over time: split the window into intervals of this many ms and report each (0 = none)")
	flag.DurationVar(&o.requestTimeout, "request-timeout", 0, "per-request client timeout, e.g. 1s (0 = none: context.Background(), as etcd's benchmark tool)")
	flag.StringVar(&writeSteps, "write-rate-steps", "", "AT:RATE,... the background write rate becomes RATE puts/s at AT seconds after the window's start (--write-rate is the rate before the first step)")
	flag.StringVar(&o.dial, "dial", "pinned", "pinned: connection j dials endpoint j mod n only (the benchmark tool); balanced: every connection dials every endpoint (clientv3's round-robin balancer, retries may go to another member)")
	flag.StringVar(&statusEPs, "status", "", "name=host:port,... members to ask for their Status (leader, term) every --status-poll-ms; names also label the per-member intervals")
	flag.IntVar(&statusPollMs, "status-poll-ms", 0, "period of the Status polls (default: --interval-ms, or 100)")
	flag.IntVar(&o.fillKeys, "fill-keys", 0, "unmeasured filler: put this many extra keys before the run (e.g. to give a defragmentation something to copy)")
	flag.IntVar(&o.fillValueSize, "fill-value-size", 1024, "value size of the filler keys")
	flag.IntVar(&o.fillRevisions, "fill-revisions", 1, "write every filler key this many times (revisions a compaction can drop)")
	flag.StringVar(&o.cpuProfile, "cpu-profile", "", "write a Go CPU profile of this process over the measured window to this file (runtime/pprof; read it with go tool pprof)")
	flag.Parse()
	if flag.NArg() > 0 {
		fatalf("unexpected arguments: %v", flag.Args())
	}
	o.endpoints = splitList(endpoints)
	o.tokenReuse = tokenReuse != 0
	o.warmup = secs(warmup)
	o.duration = secs(duration)
	o.drain = secs(drain)
	var err error
	if o.cpuPids, err = pairs(cpuPids); err != nil {
		fatalf("--cpu-pids: %v", err)
	}
	if o.metricsURLs, err = pairs(metricsURLs); err != nil {
		fatalf("--metrics: %v", err)
	}
	if o.peerURLs, err = pairs(peerURLs); err != nil {
		fatalf("--peer-urls: %v", err)
	}
	if o.statusEPs, err = pairs(statusEPs); err != nil {
		fatalf("--status: %v", err)
	}
	if o.writeSteps, err = parseSteps(writeSteps); err != nil {
		fatalf("--write-rate-steps: %v", err)
	}
	if intervalMs < 0 || statusPollMs < 0 {
		fatalf("--interval-ms and --status-poll-ms must not be negative")
	}
	o.interval = time.Duration(intervalMs) * time.Millisecond
	o.statusPoll = time.Duration(statusPollMs) * time.Millisecond
	if o.statusPoll == 0 {
		o.statusPoll = o.interval
		if o.statusPoll == 0 {
			o.statusPoll = 100 * time.Millisecond
		}
	}
	if err := o.validate(); err != nil {
		fatalf("%v", err)
	}
	clientv3.SetLogger(grpclog.NewLoggerV2(ioutil.Discard, ioutil.Discard, os.Stderr))
	res, err := run(&o)
	if err != nil {
		fatalf("%v", err)
	}
	enc := json.NewEncoder(os.Stdout)
	enc.SetIndent("", "  ")
	if err := enc.Encode(res); err != nil {
		fatalf("%v", err)
	}
}

func (o *options) validate() error {
	if len(o.endpoints) == 0 {
		return fmt.Errorf("--endpoints is empty")
	}
	if o.clients < 0 || o.conns < 1 {
		return fmt.Errorf("--clients must not be negative and --conns must be at least 1")
	}
	hasWrites := o.writeRate > 0
	for _, st := range o.writeSteps {
		hasWrites = hasWrites || st[1] > 0
	}
	if o.clients == 0 && o.probeRate <= 0 && !hasWrites {
		return fmt.Errorf("--clients 0 needs a probe or background puts")
	}
	if o.dial != "pinned" && o.dial != "balanced" {
		return fmt.Errorf("--dial must be pinned or balanced, not %q", o.dial)
	}
	if o.requestTimeout < 0 {
		return fmt.Errorf("--request-timeout must not be negative")
	}
	if o.fillKeys < 0 || o.fillValueSize < 0 || o.fillRevisions < 1 {
		return fmt.Errorf("--fill-keys and --fill-value-size must not be negative, --fill-revisions at least 1")
	}
	if o.interval > 0 && o.interval > o.duration {
		return fmt.Errorf("--interval-ms is longer than the window")
	}
	switch o.op {
	case "range", "put", "authenticate":
	default:
		return fmt.Errorf("--op must be range, put or authenticate, not %q", o.op)
	}
	if o.consistency != "l" && o.consistency != "s" {
		return fmt.Errorf("--consistency must be l or s, not %q", o.consistency)
	}
	if o.keySize < 3 {
		return fmt.Errorf("--key-size must be at least 3")
	}
	if o.keysInRange < 1 {
		return fmt.Errorf("--keys-in-range must be at least 1")
	}
	if w := o.keySize - 2; w < 18 && int64(o.keysInRange) > pow10(w) {
		return fmt.Errorf("--keys-in-range %d does not fit in keys of %d bytes", o.keysInRange, o.keySize)
	}
	if w := o.keySize - 2; w < 18 && int64(o.fillKeys) > pow10(w) {
		return fmt.Errorf("--fill-keys %d does not fit in keys of %d bytes", o.fillKeys, o.keySize)
	}
	if o.keySpace < 1 {
		return fmt.Errorf("--key-space must be at least 1")
	}
	if o.op == "authenticate" && o.user == "" {
		return fmt.Errorf("--op authenticate needs --user and --password")
	}
	if !o.tokenReuse && o.user == "" {
		return fmt.Errorf("--token-reuse 0 needs --user and --password")
	}
	if o.duration <= 0 {
		return fmt.Errorf("--duration-s must be positive")
	}
	if o.probeEP == "" {
		o.probeEP = o.endpoints[0]
	}
	return nil
}

// key builds a key of exactly size bytes: 'b', a kind letter, then i in decimal, zero-padded
// (wrapping modulo the decimal width). Every key of the harness starts with 'b', which is the
// prefix the benchmark role may read and write.
func key(kind byte, i int64, size int) string {
	w := size - 2
	if w < 18 {
		i %= pow10(w)
	}
	return "b" + string(kind) + fmt.Sprintf("%0*d", w, i)
}

func pow10(w int) int64 {
	p := int64(1)
	for k := 0; k < w; k++ {
		p *= 10
	}
	return p
}

func value(n int) string {
	b := make([]byte, n)
	r := rand.New(rand.NewSource(42))
	const alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
	for i := range b {
		b[i] = alphabet[r.Intn(len(alphabet))]
	}
	return string(b)
}

// record is one finished request: when it ended and how long it took, relative to the run's
// base time (monotonic clock), how it ended, and which endpoint its connection dials.
type record struct {
	end, lat time.Duration
	kind     uint8 // kindOK or the error's kind (timeline.go)
	ep       int16 // index into --endpoints of a pinned connection; -1 with --dial balanced
	auth     bool
	probe    byte // probe: 'l' or 's'
}

func (r record) failed() bool { return r.kind != kindOK }

type recorder struct {
	recs   []record
	errMsg string
	log    errorLog
}

func run(o *options) (*etcdharness.LoadResult, error) {
	res := &etcdharness.LoadResult{
		Op: o.op, Endpoints: o.endpoints, Clients: o.clients, Conns: o.conns,
		KeySize: o.keySize, ValueSize: o.valueSize, Rate: o.rate,
		WarmupS: o.warmup.Seconds(), DurationS: o.duration.Seconds(),
		TokenReuse: o.tokenReuse, Auth: "none",
	}
	if o.user != "" {
		res.Auth = "password"
	}
	res.RequestTimeoutS = o.requestTimeout.Seconds()
	res.Dial = o.dial
	res.WriteSteps = o.writeSteps
	if o.op == "range" {
		res.Consistency = o.consistency
		res.KeysInRange = o.keysInRange
		res.Limit = o.limit
		res.CountOnly = o.countOnly
	}
	val := value(o.valueSize)

	// Connections: j dials endpoint j mod n only (--dial pinned), or every endpoint (--dial
	// balanced). With token reuse clientv3 authenticates at dial and keeps its token; without
	// it the connection carries no credentials and every op authenticates first.
	conns := make([]*clientv3.Client, o.conns)
	connEP := make([]int16, o.conns)
	errs := make([]error, o.conns)
	var wg sync.WaitGroup
	for j := range conns {
		eps := []string{o.endpoints[j%len(o.endpoints)]}
		connEP[j] = int16(j % len(o.endpoints))
		if o.dial == "balanced" {
			eps = o.endpoints
			connEP[j] = -1
		}
		wg.Add(1)
		go func(j int, eps []string) {
			defer wg.Done()
			cfg := clientv3.Config{LogConfig: etcdharness.QuietLog(), Endpoints: eps, DialTimeout: 20 * time.Second}
			if o.user != "" && o.tokenReuse {
				cfg.Username, cfg.Password = o.user, o.password
			}
			conns[j], errs[j] = clientv3.New(cfg)
		}(j, eps)
	}
	wg.Wait()
	for j, err := range errs {
		if err != nil {
			return nil, fmt.Errorf("connection %d to %s: %v", j, o.endpoints[j%len(o.endpoints)], err)
		}
	}
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()

	// A token for the connections without credentials (token_reuse = 0): the preload check,
	// the background puts. Not counted.
	auxCtx := func(ctx context.Context) context.Context { return ctx }
	if o.user != "" && !o.tokenReuse {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		r, err := authenticate(ctx, conns[0], o.user, o.password)
		cancel()
		if err != nil {
			return nil, fmt.Errorf("authenticate: %v", err)
		}
		tok := r.Token
		auxCtx = func(ctx context.Context) context.Context {
			return metadata.AppendToOutgoingContext(ctx, "token", tok)
		}
	}

	// Preload (unmeasured).
	if o.preload {
		n := 0
		if o.op == "range" {
			n = o.keysInRange
		} else if o.probeRate > 0 {
			n = 1
		}
		if o.fillKeys > 0 {
			t := time.Now()
			fill := value(o.fillValueSize)
			for round := 0; round < o.fillRevisions; round++ {
				if err := preload(o, 'f', o.fillKeys, fill); err != nil {
					return nil, fmt.Errorf("fill: %v", err)
				}
			}
			res.FillKeys, res.FillRevisions = o.fillKeys, o.fillRevisions
			res.FillS = time.Since(t).Seconds()
		}
		t := time.Now()
		if err := preload(o, 'r', n, val); err != nil {
			return nil, fmt.Errorf("preload: %v", err)
		}
		res.PreloadKeys = n
		res.PreloadS = time.Since(t).Seconds()
		// A linearizable read through every endpoint in use, so that each member has applied
		// the preload before serializable reads start.
		if n > 0 {
			for j := 0; j < len(conns) && j < len(o.endpoints); j++ {
				ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
				_, err := conns[j].Get(auxCtx(ctx), key('r', int64(n-1), o.keySize))
				cancel()
				if err != nil {
					return nil, fmt.Errorf("read after preload via %s: %v", o.endpoints[j], err)
				}
			}
		}
	}

	// The op the producer hands out.
	var getOpts []clientv3.OpOption
	rangeKey := key('r', 0, o.keySize)
	if o.keysInRange > 1 {
		rangeKey = rangeKey[:2]
		getOpts = append(getOpts, clientv3.WithPrefix())
	}
	if o.consistency == "s" {
		getOpts = append(getOpts, clientv3.WithSerializable())
	}
	if o.limit > 0 {
		getOpts = append(getOpts, clientv3.WithLimit(o.limit))
	}
	if o.countOnly {
		getOpts = append(getOpts, clientv3.WithCountOnly())
	}
	rangeOp := clientv3.OpGet(rangeKey, getOpts...)

	reqCtx, cancelReqs := context.WithCancel(context.Background())
	defer cancelReqs()
	// withTimeout gives a request its context: --request-timeout, or none.
	withTimeout := func(ctx context.Context) (context.Context, context.CancelFunc) {
		if o.requestTimeout > 0 {
			return context.WithTimeout(ctx, o.requestTimeout)
		}
		return ctx, func() {}
	}
	stop := make(chan struct{})

	// The members' Status, polled from before the warm-up to the window's end.
	pollStop := make(chan struct{})
	var poller *statusPoller
	base := time.Now()
	since := func() time.Duration { return time.Since(base) }
	if len(o.statusEPs) > 0 {
		var err error
		if poller, err = startStatusPoller(o.statusEPs, o.statusPoll, since, pollStop); err != nil {
			return nil, err
		}
		defer poller.close()
	}
	var pollStopped bool
	stopPolls := func() {
		if !pollStopped {
			pollStopped = true
			close(pollStop)
			if poller != nil {
				poller.wg.Wait()
			}
		}
	}
	defer stopPolls()
	// The window starts --warmup-s after this point. It is announced on stderr, so that a
	// caller can time its events against it (etcdmeasure does).
	t0plan := since() + o.warmup
	fmt.Fprintf(os.Stderr, "etcdload: window-start-unix-ns %d\n", base.Add(t0plan).UnixNano())
	sched := &rateSchedule{base: o.writeRate}
	for _, st := range o.writeSteps {
		sched.at = append(sched.at, t0plan+secs(st[0]))
		sched.rates = append(sched.rates, st[1])
	}

	// The op producer: one goroutine, a channel of `clients` slots.
	ops := make(chan clientv3.Op, o.clients)
	go func() {
		defer close(ops)
		var seq int64
		for {
			op := rangeOp
			if o.op == "put" {
				op = clientv3.OpPut(key('w', seq%o.keySpace, o.keySize), val)
				seq++
			}
			select {
			case ops <- op:
			case <-stop:
				return
			}
		}
	}()

	var limiter *rate.Limiter
	if o.rate > 0 {
		limiter = rate.NewLimiter(rate.Limit(o.rate), 1)
	}
	recs := make([]recorder, o.clients)
	var clientsWG sync.WaitGroup
	for i := 0; i < o.clients; i++ {
		clientsWG.Add(1)
		go func(i int) {
			defer clientsWG.Done()
			c := conns[i%len(conns)]
			ep := connEP[i%len(conns)]
			r := &recs[i]
			r.recs = make([]record, 0, 1024)
			for op := range ops {
				if limiter != nil {
					if limiter.Wait(reqCtx) != nil {
						continue
					}
				}
				st := time.Now()
				ctx, cancel := withTimeout(reqCtx)
				var err error
				auth := false
				switch {
				case o.op == "authenticate":
					_, err = authenticate(ctx, c, o.user, o.password)
					auth = true
				case o.user != "" && !o.tokenReuse:
					var ar *pb.AuthenticateResponse
					ar, err = authenticate(ctx, c, o.user, o.password)
					auth = true
					if err == nil {
						_, err = c.Do(metadata.AppendToOutgoingContext(ctx, "token", ar.Token), op)
					}
				default:
					_, err = c.Do(ctx, op)
				}
				end := time.Now()
				cancel()
				kind, code := classify(err)
				r.recs = append(r.recs, record{end: end.Sub(base), lat: end.Sub(st), kind: kind, ep: ep, auth: auth})
				if err != nil {
					if r.errMsg == "" {
						r.errMsg = err.Error()
					}
					r.log.add("main", kind, code, err, end.Sub(base))
				}
			}
		}(i)
	}

	// Background puts: Poisson arrivals at --write-rate (then at the rates of
	// --write-rate-steps), each issued in a goroutine of its own (so a slow put does not lower
	// the rate), round-robin over the connections. At a step the next arrival is drawn afresh
	// at the new rate (exact for a Poisson process, which has no memory).
	var wmu sync.Mutex
	var wrecs []record
	var wlog errorLog
	var wIssued []time.Duration
	var wDropped, wInflight int64
	var writesWG sync.WaitGroup
	if o.writeRate > 0 || len(o.writeSteps) > 0 {
		writesWG.Add(1)
		go func() {
			defer writesWG.Done()
			rng := rand.New(rand.NewSource(o.seed))
			next := since()
			timer := time.NewTimer(time.Hour)
			defer timer.Stop()
			var i int64
			for {
				rt := sched.rateAt(next)
				change := sched.nextChange(next)
				if rt <= 0 {
					if change < 0 {
						<-stop
						return
					}
					next = change
					continue
				}
				cand := next + time.Duration(rng.ExpFloat64()/rt*1e9)
				if change >= 0 && cand > change {
					next = change
					continue
				}
				next = cand
				if d := next - since(); d > 0 {
					timer.Reset(d)
					select {
					case <-stop:
						return
					case <-timer.C:
					}
				} else {
					select {
					case <-stop:
						return
					default:
					}
				}
				if atomic.LoadInt64(&wInflight) >= 100000 {
					atomic.AddInt64(&wDropped, 1)
					continue
				}
				c := conns[i%int64(len(conns))]
				ep := connEP[i%int64(len(conns))]
				k := key('x', i%o.keySpace, o.keySize)
				i++
				atomic.AddInt64(&wInflight, 1)
				writesWG.Add(1)
				go func() {
					defer writesWG.Done()
					defer atomic.AddInt64(&wInflight, -1)
					st := time.Now()
					ctx, cancel := withTimeout(reqCtx)
					_, err := c.Put(auxCtx(ctx), k, val)
					end := time.Now()
					cancel()
					kind, code := classify(err)
					wmu.Lock()
					wIssued = append(wIssued, st.Sub(base))
					wrecs = append(wrecs, record{end: end.Sub(base), lat: end.Sub(st), kind: kind, ep: ep})
					if err != nil {
						wlog.add("write", kind, code, err, end.Sub(base))
					}
					wmu.Unlock()
				}()
			}
		}()
	}

	// The probe: its own connection, one linearizable and one serializable single-key read
	// alternately, at --probe-rate.
	var prob recorder
	var probeWG sync.WaitGroup
	var probeConn *clientv3.Client
	if o.probeRate > 0 {
		cfg := clientv3.Config{LogConfig: etcdharness.QuietLog(), Endpoints: []string{o.probeEP}, DialTimeout: 20 * time.Second}
		if o.user != "" {
			cfg.Username, cfg.Password = o.user, o.password
		}
		var err error
		if probeConn, err = clientv3.New(cfg); err != nil {
			return nil, fmt.Errorf("probe connection to %s: %v", o.probeEP, err)
		}
		defer probeConn.Close()
		pk := key('r', 0, o.keySize)
		probeWG.Add(1)
		go func() {
			defer probeWG.Done()
			tick := time.NewTicker(time.Duration(1e9 / o.probeRate))
			defer tick.Stop()
			lin := true
			for {
				select {
				case <-stop:
					return
				case <-tick.C:
				}
				var opts []clientv3.OpOption
				kind := byte('l')
				if !lin {
					opts = append(opts, clientv3.WithSerializable())
					kind = 's'
				}
				lin = !lin
				st := time.Now()
				ctx, cancel := withTimeout(reqCtx)
				_, err := probeConn.Get(ctx, pk, opts...)
				end := time.Now()
				cancel()
				k, _ := classify(err)
				prob.recs = append(prob.recs, record{end: end.Sub(base), lat: end.Sub(st), kind: k, ep: -1, probe: kind})
			}
		}()
	}

	// Warm-up, then the window: scrape (in the warm-up's last 150 ms), read CPU; wait; read
	// CPU, scrape.
	sleepUntil := func(t time.Duration) {
		if d := t - since(); d > 0 {
			time.Sleep(d)
		}
	}
	sleepUntil(t0plan - 150*time.Millisecond)
	res.MetricsStart = scrapeAll(o.metricsURLs)
	sleepUntil(t0plan)
	t0 := since()
	res.WindowStartNs = base.Add(t0).UnixNano()
	cpu0, err := readCPU(o.cpuPids)
	if err != nil {
		return nil, err
	}
	mach0, machErr := etcdharness.MachineCPU()
	var ms0, ms1 runtime.MemStats
	runtime.ReadMemStats(&ms0)
	var profile *os.File
	if o.cpuProfile != "" {
		if profile, err = os.Create(o.cpuProfile); err != nil {
			return nil, err
		}
		if err := pprof.StartCPUProfile(profile); err != nil {
			return nil, err
		}
	}
	peerStop := make(chan struct{})
	peerDone := startPeerProbe(o, peerStop)
	sleepUntil(t0 + o.duration)
	t1 := since()
	if profile != nil {
		pprof.StopCPUProfile()
		if err := profile.Close(); err != nil {
			return nil, err
		}
	}
	res.WindowEndNs = base.Add(t1).UnixNano()
	stopPolls()
	cpu1, err := readCPU(o.cpuPids)
	if err != nil {
		return nil, err
	}
	if mach1, err := etcdharness.MachineCPU(); err == nil && machErr == nil {
		res.MachineCPUSeconds = map[string]float64{}
		for k, v := range mach1 {
			res.MachineCPUSeconds[k] = v - mach0[k]
		}
	}
	runtime.ReadMemStats(&ms1)
	res.Client = etcdharness.GoStats{
		GC:         ms1.NumGC - ms0.NumGC,
		GCPauseMs:  float64(ms1.PauseTotalNs-ms0.PauseTotalNs) / 1e6,
		Goroutines: runtime.NumGoroutine(),
		GOMAXPROCS: runtime.GOMAXPROCS(0),
		HeapMB:     float64(ms1.HeapAlloc) / (1 << 20),
	}
	res.RSSMB = map[string]float64{}
	for _, p := range o.cpuPids {
		pid, _ := strconv.Atoi(p[1])
		if rss, err := etcdharness.RSSBytes(pid); err == nil {
			res.RSSMB[p[0]] = rss / (1 << 20)
		}
	}
	if rss, err := etcdharness.RSSBytes(0); err == nil {
		res.RSSMB["client"] = rss / (1 << 20)
	}
	close(peerStop)
	res.PeerRTTMs = <-peerDone
	res.MetricsEnd = scrapeAll(o.metricsURLs)

	// Stop and drain.
	close(stop)
	done := make(chan struct{})
	go func() { clientsWG.Wait(); writesWG.Wait(); probeWG.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(o.drain):
		cancelReqs()
		<-done
	}

	// Count what ended inside [t0, t1].
	in := func(r record) bool { return r.end >= t0 && r.end <= t1 }
	window := (t1 - t0).Seconds()
	res.WindowS = window
	var lats []int64
	errSeen := map[string]bool{}
	for i := range recs {
		for _, r := range recs[i].recs {
			if !in(r) {
				continue
			}
			if r.auth {
				res.AuthCalls++
			}
			if r.failed() {
				res.Errors++
				continue
			}
			lats = append(lats, int64(r.lat))
		}
		if m := recs[i].errMsg; m != "" && !errSeen[m] && len(errSeen) < 5 {
			errSeen[m] = true
			res.ErrorSamples = append(res.ErrorSamples, m)
		}
	}
	sort.Strings(res.ErrorSamples)
	res.Requests = int64(len(lats))
	res.QPS = float64(res.Requests) / window
	res.Latency = etcdharness.Summarize(lats)

	if o.writeRate > 0 || len(o.writeSteps) > 0 {
		ws := &etcdharness.WriteStats{TargetRate: o.writeRate, Dropped: atomic.LoadInt64(&wDropped)}
		var wl []int64
		for _, r := range wrecs {
			if !in(r) {
				continue
			}
			if r.failed() {
				ws.Errors++
				continue
			}
			wl = append(wl, int64(r.lat))
		}
		for _, s := range wIssued {
			if s >= t0 && s <= t1 {
				ws.Issued++
			}
		}
		ws.Requests = int64(len(wl))
		ws.QPS = float64(ws.Requests) / window
		ws.MeanMs = etcdharness.Summarize(wl).Mean
		res.Write = ws
	}
	if o.probeRate > 0 {
		ps := &etcdharness.ProbeStats{Rate: o.probeRate, Endpoint: o.probeEP}
		var l, s []int64
		for _, r := range prob.recs {
			if !in(r) {
				continue
			}
			if r.failed() {
				ps.Errors++
				continue
			}
			if r.probe == 'l' {
				l = append(l, int64(r.lat))
			} else {
				s = append(s, int64(r.lat))
			}
		}
		ps.L = etcdharness.Summarize(l)
		ps.S = etcdharness.Summarize(s)
		res.Probe = ps
	}

	// Errors by kind over the window, the distinct errors, and the results over time.
	var all []record
	logs := []*errorLog{&wlog}
	for i := range recs {
		all = append(all, recs[i].recs...)
		logs = append(logs, &recs[i].log)
	}
	countKinds := func(rs []record) map[string]int {
		m := map[string]int{}
		for _, r := range rs {
			if in(r) && r.failed() {
				m[kindName(r.kind)]++
			}
		}
		return m
	}
	res.ErrorKinds = countKinds(all)
	res.WriteErrorKinds = countKinds(wrecs)
	res.ErrorLog = mergeErrorLogs(t0, logs...)
	if poller != nil {
		res.StatusPolls = poller.results(t0)
	}
	if o.interval > 0 {
		names := make([]string, len(o.endpoints))
		if o.dial == "pinned" {
			for i, e := range o.endpoints {
				names[i] = e
				for _, p := range o.statusEPs {
					if p[1] == e {
						names[i] = p[0]
					}
				}
			}
		}
		g := newIntervalGrid(t0, t1, o.interval)
		res.IntervalS = o.interval.Seconds()
		res.Intervals = buildIntervals(g, names, all, wrecs, res.StatusPolls, sched)
	}

	res.ClockTicks = etcdharness.ClockTicks()
	res.CPUSeconds = map[string]float64{}
	res.CPUUsPerReq = map[string]float64{}
	for name, c0 := range cpu0 {
		c1, ok := cpu1[name]
		if !ok {
			continue // the process exited in the window (a killed member)
		}
		c := c1 - c0
		res.CPUSeconds[name] = c
		if res.Requests > 0 {
			res.CPUUsPerReq[name] = c * 1e6 / float64(res.Requests)
		}
	}
	return res, nil
}

// preload puts n keys of the given kind ('r': the range keys; 'f': the filler) with the given
// value, in transactions of up to 100 puts and about 1 MiB, four at a time.
func preload(o *options, kind byte, n int, val string) error {
	if n == 0 {
		return nil
	}
	cfg := clientv3.Config{LogConfig: etcdharness.QuietLog(), Endpoints: []string{o.endpoints[0]}, DialTimeout: 20 * time.Second}
	if o.user != "" {
		cfg.Username, cfg.Password = o.user, o.password
	}
	c, err := clientv3.New(cfg)
	if err != nil {
		return err
	}
	defer c.Close()
	per := (1 << 20) / (len(val) + o.keySize + 16)
	if per > 100 {
		per = 100
	}
	if per < 1 {
		per = 1
	}
	batches := make(chan [2]int)
	errc := make(chan error, 4)
	var wg sync.WaitGroup
	for w := 0; w < 4; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for b := range batches {
				var puts []clientv3.Op
				for i := b[0]; i < b[1]; i++ {
					puts = append(puts, clientv3.OpPut(key(kind, int64(i), o.keySize), val))
				}
				ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
				_, err := c.Txn(ctx).Then(puts...).Commit()
				cancel()
				if err != nil {
					select {
					case errc <- err:
					default:
					}
					return
				}
			}
		}()
	}
	for i := 0; i < n; i += per {
		j := i + per
		if j > n {
			j = n
		}
		select {
		case batches <- [2]int{i, j}:
		case err := <-errc:
			close(batches)
			wg.Wait()
			return err
		}
	}
	close(batches)
	wg.Wait()
	select {
	case err := <-errc:
		return err
	default:
	}
	return nil
}

// authenticate calls the Auth service's Authenticate RPC on the client's own gRPC connection
// (clientv3 3.4 does not export it), with the interceptors clientv3 dialed it with.
func authenticate(ctx context.Context, c *clientv3.Client, user, password string) (*pb.AuthenticateResponse, error) {
	return pb.NewAuthClient(c.ActiveConnection()).Authenticate(ctx, &pb.AuthenticateRequest{Name: user, Password: password})
}

// startPeerProbe times GET <peer url>/raft/probing on every member, o.peerHz times a second
// each, until stop; it sends the mean round trip per member (ms) when stopped.
func startPeerProbe(o *options, stop chan struct{}) chan map[string]float64 {
	out := make(chan map[string]float64, 1)
	if len(o.peerURLs) == 0 || o.peerHz <= 0 {
		out <- nil
		return out
	}
	var mu sync.Mutex
	means := map[string]float64{}
	var wg sync.WaitGroup
	for _, p := range o.peerURLs {
		wg.Add(1)
		go func(name, url string) {
			defer wg.Done()
			hc := &http.Client{Timeout: 5 * time.Second}
			tick := time.NewTicker(time.Duration(1e9 / o.peerHz))
			defer tick.Stop()
			var sum time.Duration
			n := 0
			for {
				select {
				case <-stop:
					if n > 0 {
						mu.Lock()
						means[name] = float64(sum) / float64(n) / 1e6
						mu.Unlock()
					}
					return
				case <-tick.C:
				}
				st := time.Now()
				resp, err := hc.Get(url + "/raft/probing")
				if err != nil {
					continue
				}
				io.Copy(ioutil.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode == 200 {
					sum += time.Since(st)
					n++
				}
			}
		}(p[0], p[1])
	}
	go func() {
		<-stop
		wg.Wait()
		out <- means
	}()
	return out
}

func readCPU(pids [][2]string) (map[string]float64, error) {
	out := map[string]float64{}
	for _, p := range pids {
		pid, err := strconv.Atoi(p[1])
		if err != nil {
			return nil, fmt.Errorf("--cpu-pids: bad pid %q", p[1])
		}
		c, err := etcdharness.CPUSeconds(pid)
		if err != nil {
			continue // gone (a member killed by a fault event): its CPU is not reported
		}
		out[p[0]] = c
	}
	c, err := etcdharness.CPUSeconds(0)
	if err != nil {
		return nil, err
	}
	out["client"] = c
	return out, nil
}

func scrapeAll(urls [][2]string) map[string]map[string]float64 {
	if len(urls) == 0 {
		return nil
	}
	out := map[string]map[string]float64{}
	var mu sync.Mutex
	var wg sync.WaitGroup
	for _, u := range urls {
		wg.Add(1)
		go func(name, url string) {
			defer wg.Done()
			m, err := etcdharness.Scrape(url, 5*time.Second)
			if err != nil {
				fmt.Fprintf(os.Stderr, "etcdload: scrape %s: %v\n", url, err)
				return
			}
			mu.Lock()
			out[name] = m
			mu.Unlock()
		}(u[0], u[1])
	}
	wg.Wait()
	return out
}

func splitList(s string) []string {
	var out []string
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}

func pairs(s string) ([][2]string, error) {
	var out [][2]string
	for _, f := range splitList(s) {
		i := strings.IndexByte(f, '=')
		if i <= 0 {
			return nil, fmt.Errorf("%q is not name=value", f)
		}
		out = append(out, [2]string{f[:i], f[i+1:]})
	}
	return out, nil
}

func secs(s float64) time.Duration { return time.Duration(s * 1e9) }

func fatalf(format string, args ...interface{}) {
	fmt.Fprintf(os.Stderr, "etcdload: "+format+"\n", args...)
	os.Exit(2)
}
