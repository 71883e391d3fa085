package main

// Results over time (--interval-ms): error kinds, per-interval records, the members' Status
// answers, and the background write rate's steps.

import (
	"context"
	"errors"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"etcdharness"

	"go.etcd.io/etcd/clientv3"
	"go.etcd.io/etcd/etcdserver/api/v3rpc/rpctypes"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// Error kinds, as indices into etcdharness.ErrorKinds plus one (0 is success).
const (
	kindOK uint8 = iota
	kindUnavailable
	kindDeadline
	kindNoLeader
	kindEtcdTimeout
	kindLeaderChanged
	kindCanceled
	kindOther
)

func kindName(k uint8) string { return etcdharness.ErrorKinds[k-1] }

// classify names the kind of a request's error and its gRPC code. clientv3 hands back
// etcd's own errors as rpctypes.EtcdError (all of "no leader", "request timed out" and
// "leader changed" carry gRPC code Unavailable: rpctypes/error.go), a deadline or
// cancellation of the caller's context as context.DeadlineExceeded / context.Canceled
// (clientv3/client.go toErr), and anything else as a gRPC status error.
func classify(err error) (uint8, string) {
	if err == nil {
		return kindOK, ""
	}
	code := codes.Unknown
	var ee rpctypes.EtcdError
	if errors.As(err, &ee) {
		code = ee.Code()
	} else if st, ok := status.FromError(err); ok {
		code = st.Code()
	}
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		code = codes.DeadlineExceeded
	case errors.Is(err, context.Canceled):
		code = codes.Canceled
	}
	msg := err.Error()
	switch {
	case code == codes.DeadlineExceeded || strings.Contains(msg, "context deadline exceeded"):
		// The second: the client's deadline, propagated to the member, whose handler returned
		// the context's error as a plain error (gRPC code Unknown).
		return kindDeadline, code.String()
	case code == codes.Canceled:
		return kindCanceled, code.String()
	case strings.Contains(msg, "etcdserver: no leader"):
		return kindNoLeader, code.String()
	case strings.Contains(msg, "etcdserver: request timed out"):
		return kindEtcdTimeout, code.String()
	case strings.Contains(msg, "etcdserver: leader changed"):
		return kindLeaderChanged, code.String()
	case code == codes.Unavailable:
		return kindUnavailable, code.String()
	}
	return kindOther, code.String()
}

// errorLog keeps the distinct errors one goroutine (or a group under one lock) saw.
type errorLog struct {
	byKey map[string]*etcdharness.ErrorSample
}

const maxDistinctErrors = 50

func (l *errorLog) add(workload string, kind uint8, code string, err error, at time.Duration) {
	if l.byKey == nil {
		l.byKey = map[string]*etcdharness.ErrorSample{}
	}
	msg := err.Error()
	if len(msg) > 300 {
		msg = msg[:300] + "..."
	}
	key := workload + "\x00" + msg
	s, ok := l.byKey[key]
	if !ok {
		if len(l.byKey) >= maxDistinctErrors {
			key = workload + "\x00(more distinct errors)"
			if s, ok = l.byKey[key]; !ok {
				s = &etcdharness.ErrorSample{Workload: workload, Kind: "other", Code: "", Message: "(more distinct errors)", FirstS: at.Seconds()}
				l.byKey[key] = s
			}
		} else {
			s = &etcdharness.ErrorSample{Workload: workload, Kind: kindName(kind), Code: code, Message: msg, FirstS: at.Seconds()}
			l.byKey[key] = s
		}
	}
	s.Count++
	s.LastS = at.Seconds()
}

// mergeErrorLogs merges logs into one list, times made relative to the window's start t0,
// sorted by workload, then first appearance.
func mergeErrorLogs(t0 time.Duration, logs ...*errorLog) []etcdharness.ErrorSample {
	m := map[string]*etcdharness.ErrorSample{}
	var keys []string
	for _, l := range logs {
		for k, s := range l.byKey {
			if t, ok := m[k]; ok {
				t.Count += s.Count
				t.FirstS = math.Min(t.FirstS, s.FirstS)
				t.LastS = math.Max(t.LastS, s.LastS)
				continue
			}
			c := *s
			m[k] = &c
			keys = append(keys, k)
		}
	}
	var out []etcdharness.ErrorSample
	for _, k := range keys {
		s := *m[k]
		s.FirstS -= t0.Seconds()
		s.LastS -= t0.Seconds()
		out = append(out, s)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Workload != out[j].Workload {
			return out[i].Workload < out[j].Workload
		}
		return out[i].FirstS < out[j].FirstS
	})
	return out
}

// parseSteps reads "AT:RATE,AT:RATE" (seconds after the window's start, puts per second).
func parseSteps(s string) ([][2]float64, error) {
	var out [][2]float64
	for _, f := range splitList(s) {
		i := strings.IndexByte(f, ':')
		if i <= 0 {
			return nil, fmt.Errorf("%q is not AT:RATE", f)
		}
		at, err1 := strconv.ParseFloat(f[:i], 64)
		r, err2 := strconv.ParseFloat(f[i+1:], 64)
		if err1 != nil || err2 != nil || r < 0 || math.IsNaN(at) || math.IsInf(at, 0) || math.IsInf(r, 0) {
			return nil, fmt.Errorf("%q is not AT:RATE with a finite time and a rate of at least 0", f)
		}
		if len(out) > 0 && at < out[len(out)-1][0] {
			return nil, fmt.Errorf("steps must be in time order (%q)", f)
		}
		out = append(out, [2]float64{at, r})
	}
	return out, nil
}

// rateSchedule is the background write rate over time: base before the first step, then
// each step's rate from its time on. Times are relative to the run's base clock.
type rateSchedule struct {
	base  float64
	at    []time.Duration
	rates []float64
}

func (s *rateSchedule) rateAt(t time.Duration) float64 {
	r := s.base
	for i, a := range s.at {
		if t >= a {
			r = s.rates[i]
		}
	}
	return r
}

// nextChange is the first step strictly after t, or -1.
func (s *rateSchedule) nextChange(t time.Duration) time.Duration {
	for _, a := range s.at {
		if a > t {
			return a
		}
	}
	return -1
}

// statusPoller asks every member for its Status once per period, on a connection of its own,
// with the period as the timeout. It learns the members' IDs from their answers.
type statusPoller struct {
	mu    sync.Mutex
	polls []rawPoll
	names map[uint64]string
	clis  []*clientv3.Client
	wg    sync.WaitGroup
}

type rawPoll struct {
	at     time.Duration
	member string
	ok     bool
	leader uint64
	term   uint64
	index  uint64
}

func startStatusPoller(eps [][2]string, period time.Duration, since func() time.Duration, stop chan struct{}) (*statusPoller, error) {
	p := &statusPoller{names: map[uint64]string{}}
	for _, e := range eps {
		c, err := clientv3.New(clientv3.Config{LogConfig: etcdharness.QuietLog(), Endpoints: []string{e[1]}, DialTimeout: 20 * time.Second})
		if err != nil {
			p.close()
			return nil, fmt.Errorf("status connection to %s: %v", e[0], err)
		}
		p.clis = append(p.clis, c)
		// Learn the member's ID before the run (it must answer now).
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		st, err := c.Status(ctx, e[1])
		cancel()
		if err != nil {
			p.close()
			return nil, fmt.Errorf("status of %s: %v", e[0], err)
		}
		p.names[st.Header.MemberId] = e[0]
	}
	for i, e := range eps {
		p.wg.Add(1)
		go func(c *clientv3.Client, name, ep string) {
			defer p.wg.Done()
			tick := time.NewTicker(period)
			defer tick.Stop()
			for {
				at := since()
				ctx, cancel := context.WithTimeout(context.Background(), period)
				st, err := c.Status(ctx, ep)
				cancel()
				r := rawPoll{at: at, member: name, ok: err == nil}
				if err == nil {
					r.leader, r.term, r.index = st.Leader, st.RaftTerm, st.RaftIndex
				}
				p.mu.Lock()
				p.polls = append(p.polls, r)
				p.mu.Unlock()
				select {
				case <-stop:
					return
				case <-tick.C:
				}
			}
		}(p.clis[i], e[0], e[1])
	}
	return p, nil
}

func (p *statusPoller) close() {
	for _, c := range p.clis {
		c.Close()
	}
}

// results returns the polls, times relative to t0, leaders by name.
func (p *statusPoller) results(t0 time.Duration) []etcdharness.StatusPoll {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := make([]etcdharness.StatusPoll, 0, len(p.polls))
	for _, r := range p.polls {
		s := etcdharness.StatusPoll{T: (r.at - t0).Seconds(), Member: r.member, OK: r.ok}
		if r.ok {
			s.Term, s.Index = r.term, r.index
			switch name, ok := p.names[r.leader]; {
			case r.leader == 0:
				s.Leader = "none"
			case ok:
				s.Leader = name
			default:
				s.Leader = "?"
			}
		}
		out = append(out, s)
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].T < out[j].T })
	return out
}

// leaderIn names the leader the answers in [from, to) agree on most (the latest answer breaks a
// tie); "" if no member answered.
func leaderIn(polls []etcdharness.StatusPoll, from, to float64) string {
	votes := map[string]int{}
	last := map[string]float64{}
	for _, p := range polls {
		if p.T >= from && p.T < to && p.OK {
			votes[p.Leader]++
			last[p.Leader] = p.T
		}
	}
	best := ""
	for l, n := range votes {
		if best == "" || n > votes[best] || (n == votes[best] && last[l] > last[best]) {
			best = l
		}
	}
	return best
}

// flowAcc accumulates one Flow.
type flowAcc struct {
	f    etcdharness.Flow
	lats []int64
}

func newFlowAcc() *flowAcc {
	return &flowAcc{f: etcdharness.Flow{FirstOKS: -1, LastOKS: -1}}
}

func (a *flowAcc) finish() etcdharness.Flow {
	if len(a.lats) > 0 {
		s := etcdharness.Summarize(a.lats)
		a.f.MeanMs, a.f.P50Ms, a.f.P99Ms, a.f.MaxMs = s.Mean, s.P50, s.P99, s.Max
	}
	return a.f
}

// intervalGrid splits [t0, t1] into intervals of length step; the last one ends at t1 (it is
// at most half a step shorter or longer than the others: the window overruns its nominal
// length by microseconds).
type intervalGrid struct {
	t0, t1, step time.Duration
	n            int
}

func newIntervalGrid(t0, t1, step time.Duration) intervalGrid {
	n := int((t1 - t0 + step/2) / step)
	if n < 1 {
		n = 1
	}
	return intervalGrid{t0: t0, t1: t1, step: step, n: n}
}

func (g intervalGrid) start(k int) time.Duration { return g.t0 + time.Duration(k)*g.step }
func (g intervalGrid) end(k int) time.Duration {
	e := g.t0 + time.Duration(k+1)*g.step
	if e > g.t1 || k == g.n-1 {
		e = g.t1
	}
	return e
}

// index of the interval a request that ended at t is counted in; -1 outside [t0, t1].
func (g intervalGrid) index(t time.Duration) int {
	if t < g.t0 || t > g.t1 {
		return -1
	}
	k := int((t - g.t0) / g.step)
	if k >= g.n {
		k = g.n - 1
	}
	return k
}

// flows holds one workload's accumulators: all endpoints and one per endpoint name.
type flows struct {
	g     intervalGrid
	all   []*flowAcc
	by    map[string][]*flowAcc
	names []string // endpoint index -> name ("" = not split)
}

func newFlows(g intervalGrid, names []string) *flows {
	f := &flows{g: g, names: names, by: map[string][]*flowAcc{}}
	mk := func() []*flowAcc {
		a := make([]*flowAcc, g.n)
		for i := range a {
			a[i] = newFlowAcc()
		}
		return a
	}
	f.all = mk()
	for _, n := range names {
		if n != "" {
			if _, ok := f.by[n]; !ok {
				f.by[n] = mk()
			}
		}
	}
	return f
}

func (f *flows) add(r record) {
	start := r.end - r.lat
	accs := [][]*flowAcc{f.all}
	if r.ep >= 0 && int(r.ep) < len(f.names) && f.names[r.ep] != "" {
		accs = append(accs, f.by[f.names[r.ep]])
	}
	g := f.g
	for _, a := range accs {
		if k := g.index(start); k >= 0 && start < g.t1 {
			a[k].f.Issued++
		}
		if k := g.index(r.end); k >= 0 {
			fa := a[k]
			if r.kind == kindOK {
				fa.f.OK++
				fa.lats = append(fa.lats, int64(r.lat))
				t := (r.end - g.t0).Seconds()
				if fa.f.FirstOKS < 0 || t < fa.f.FirstOKS {
					fa.f.FirstOKS = t
				}
				if t > fa.f.LastOKS {
					fa.f.LastOKS = t
				}
			} else {
				fa.f.Failed++
				if fa.f.FailedKinds == nil {
					fa.f.FailedKinds = map[string]int{}
				}
				fa.f.FailedKinds[kindName(r.kind)]++
			}
		}
		// Outstanding at the end E_k of interval k: started at or before E_k, ended after it.
		k0 := 0
		if start > g.t0 {
			k0 = int((start - g.t0) / g.step)
		}
		for k := k0; k < g.n; k++ {
			e := g.end(k)
			if e < start {
				continue
			}
			if e >= r.end {
				break
			}
			a[k].f.Outstanding++
		}
	}
}

// buildIntervals turns the records into the per-interval results.
func buildIntervals(g intervalGrid, names []string, main, writes []record, polls []etcdharness.StatusPoll, sched *rateSchedule) []etcdharness.Interval {
	mf := newFlows(g, names)
	for _, r := range main {
		mf.add(r)
	}
	wf := newFlows(g, names)
	for _, r := range writes {
		wf.add(r)
	}
	out := make([]etcdharness.Interval, g.n)
	for k := range out {
		iv := etcdharness.Interval{
			StartS: (g.start(k) - g.t0).Seconds(), EndS: (g.end(k) - g.t0).Seconds(),
			Main: mf.all[k].finish(), Write: wf.all[k].finish(),
		}
		if sched != nil {
			iv.WriteRate = sched.rateAt(g.start(k))
		}
		iv.Leader = leaderIn(polls, iv.StartS, iv.EndS)
		if len(mf.by) > 0 {
			iv.ByEndpoint = map[string]etcdharness.Flow{}
			iv.WriteByEndpt = map[string]etcdharness.Flow{}
			for n, a := range mf.by {
				iv.ByEndpoint[n] = a[k].finish()
			}
			for n, a := range wf.by {
				iv.WriteByEndpt[n] = a[k].finish()
			}
		}
		out[k] = iv
	}
	return out
}
