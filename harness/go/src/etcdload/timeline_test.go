package main

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"go.etcd.io/etcd/etcdserver/api/v3rpc/rpctypes"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

func TestClassify(t *testing.T) {
	cases := []struct {
		err  error
		want string
	}{
		{context.DeadlineExceeded, "deadline"},
		{fmt.Errorf("wrapped: %w", context.DeadlineExceeded), "deadline"},
		{status.Error(codes.DeadlineExceeded, "context deadline exceeded"), "deadline"},
		{status.Error(codes.Unknown, "context deadline exceeded"), "deadline"},
		{context.Canceled, "canceled"},
		{rpctypes.ErrLeaderChanged, "leader_changed"},
		{rpctypes.ErrNoLeader, "no_leader"},
		{rpctypes.ErrTimeout, "etcd_timeout"},
		{rpctypes.ErrGRPCNoLeader, "no_leader"},
		{status.Error(codes.Unavailable, "connection refused"), "unavailable"},
		{errors.New("boom"), "other"},
	}
	for _, c := range cases {
		k, _ := classify(c.err)
		if got := kindName(k); got != c.want {
			t.Errorf("classify(%v) = %s, want %s", c.err, got, c.want)
		}
	}
	if k, _ := classify(nil); k != kindOK {
		t.Errorf("classify(nil) = %d", k)
	}
}

func TestIntervals(t *testing.T) {
	ms := time.Millisecond
	g := newIntervalGrid(1000*ms, 2000*ms, 100*ms)
	if g.n != 10 {
		t.Fatalf("n = %d", g.n)
	}
	recs := []record{
		{end: 1050 * ms, lat: 10 * ms, kind: kindOK, ep: 0},
		{end: 1150 * ms, lat: 20 * ms, kind: kindOK, ep: 1},
		{end: 1950 * ms, lat: 900 * ms, kind: kindDeadline, ep: 1}, // started at 1.05 s: under way at the ends of intervals 0..8
		{end: 2500 * ms, lat: 10 * ms, kind: kindOK, ep: 0},        // after the window
	}
	out := buildIntervals(g, []string{"m0", "m1"}, recs, nil, nil, &rateSchedule{})
	if len(out) != 10 {
		t.Fatalf("%d intervals", len(out))
	}
	if out[0].Main.OK != 1 || out[1].Main.OK != 1 || out[9].Main.Failed != 1 || out[9].Main.FailedKinds["deadline"] != 1 {
		t.Fatalf("counts: %+v %+v %+v", out[0].Main, out[1].Main, out[9].Main)
	}
	if out[1].ByEndpoint["m1"].OK != 1 || out[1].ByEndpoint["m0"].OK != 0 {
		t.Fatalf("by member: %+v", out[1].ByEndpoint)
	}
	if out[0].Main.Outstanding != 1 || out[1].Main.Outstanding != 1 || out[8].Main.Outstanding != 1 || out[9].Main.Outstanding != 0 {
		t.Fatalf("outstanding: %d %d %d %d", out[0].Main.Outstanding, out[1].Main.Outstanding, out[8].Main.Outstanding, out[9].Main.Outstanding)
	}
	if out[0].Main.MeanMs != 10 || out[0].Main.P50Ms != 10 {
		t.Fatalf("latency: %+v", out[0].Main)
	}
}

func TestRateSchedule(t *testing.T) {
	s := &rateSchedule{base: 0, at: []time.Duration{3 * time.Second}, rates: []float64{1000}}
	if s.rateAt(2*time.Second) != 0 || s.rateAt(3*time.Second) != 1000 || s.nextChange(0) != 3*time.Second || s.nextChange(3*time.Second) != -1 {
		t.Fatal("schedule")
	}
	st, err := parseSteps("3:1000,5:0")
	if err != nil || len(st) != 2 || st[0] != [2]float64{3, 1000} {
		t.Fatalf("parseSteps: %v %v", st, err)
	}
	if _, err := parseSteps("5:1,3:2"); err == nil {
		t.Fatal("out of order steps accepted")
	}
}
