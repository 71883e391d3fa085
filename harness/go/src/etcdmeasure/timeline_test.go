package main

import (
	"math"
	"strings"
	"testing"

	"etcdharness"
)

// ivs builds 100 ms intervals with the given reads each.
func ivs(reads ...int64) []etcdharness.Interval {
	out := make([]etcdharness.Interval, len(reads))
	for k, r := range reads {
		out[k] = etcdharness.Interval{StartS: float64(k) / 10, EndS: float64(k+1) / 10, Main: etcdharness.Flow{OK: r}}
	}
	return out
}

func repeat(v int64, n int) []int64 {
	out := make([]int64, n)
	for i := range out {
		out[i] = v
	}
	return out
}

func TestRecoveryAfterOutage(t *testing.T) {
	// 1000 reads/s steady, then 1 s of nothing from 2.0 s, then steady again.
	r := append(append(repeat(100, 20), repeat(0, 10)...), repeat(100, 20)...)
	rec, ok := recoveryFrom(ivs(r...), 2.0, 5.0, 1000)
	// The first 500 ms mean at or above 900/s starts at 3.0 s.
	if ok != "yes" || math.Abs(rec-1.0) > 1e-9 {
		t.Fatalf("recovery %v %q, want 1.0 yes", rec, ok)
	}
}

func TestNoDip(t *testing.T) {
	rec, ok := recoveryFrom(ivs(repeat(100, 50)...), 2.0, 5.0, 1000)
	if ok != "yes" || rec != 0 {
		t.Fatalf("steady: recovery %v %q, want 0 yes", rec, ok)
	}
	// A dip that starts more than 1 s after the event is not the event's.
	r := append(repeat(100, 35), repeat(0, 15)...)
	rec, ok = recoveryFrom(ivs(r...), 2.0, 5.0, 1000)
	if ok != "yes" || rec != 0 {
		t.Fatalf("late dip: recovery %v %q, want 0 yes", rec, ok)
	}
}

func TestNeverRecovers(t *testing.T) {
	r := append(repeat(100, 20), repeat(40, 30)...)
	rec, ok := recoveryFrom(ivs(r...), 2.0, 5.0, 1000)
	if ok != "no" || !math.IsNaN(rec) {
		t.Fatalf("step: recovery %v %q, want NaN no", rec, ok)
	}
}

func TestEventRow(t *testing.T) {
	r := append(append(repeat(100, 20), repeat(0, 10)...), repeat(100, 20)...)
	iv := ivs(r...)
	iv[29].Main.Failed = 64
	iv[29].Main.FailedKinds = map[string]int{"deadline": 64}
	for k := range iv {
		iv[k].Leader = "m0"
	}
	res := &repResult{
		Load: &etcdharness.LoadResult{WindowS: 5, Intervals: iv, StatusPolls: []etcdharness.StatusPoll{
			{T: 2.5, Member: "m1", OK: true, Leader: "m0"},
			{T: 3.05, Member: "m1", OK: true, Leader: "m2"},
		}},
		Events: []EventLog{{Label: "kill leader", Kind: "kill", Member: "m0", PlanS: 2, T: 2.0, EndS: 2.01}},
	}
	rows := eventRows(&Case{Name: "c"}, 1, res)
	if len(rows) != 1 {
		t.Fatalf("%d rows", len(rows))
	}
	f := strings.Split(rows[0], ",")
	col := func(name string) string {
		for i, h := range eventHeader {
			if h == name {
				return f[i]
			}
		}
		t.Fatalf("no column %s", name)
		return ""
	}
	for name, want := range map[string]string{
		"pre_median_rps": "1000.0", "min_rps": "0.0", "recovery_s": "1.000", "recovered": "yes",
		"failed": "64", "timeouts": "64", "leader_before": "m0", "new_leader": "m2", "new_leader_s": "1.050",
		"lost_s": "1.000",
	} {
		if got := col(name); got != want {
			t.Errorf("%s = %q, want %q", name, got, want)
		}
	}
}
