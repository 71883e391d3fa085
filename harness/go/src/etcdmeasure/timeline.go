package main

// The results over time: one CSV row per interval per repetition of a case, and one row per
// event with what it cost (docs/faults-harness.md defines every column).

import (
	"fmt"
	"io/ioutil"
	"math"
	"os"
	"sort"
	"strconv"
	"strings"

	"etcdharness"
)

var intervalHeader = strings.Split("case,rep,t_start_s,t_end_s,leader,write_rate_offered,reads,throughput,mean_ms,p50_ms,p99_ms,max_ms,failed,"+
	"unavailable,deadline,no_leader,etcd_timeout,leader_changed,canceled,other,timeouts,outstanding,"+
	"writes_ok,writes_failed,write_mean_ms,write_p99_ms,events", ",")

var eventHeader = strings.Split("case,rep,event,kind,member,planned_s,t_s,end_s,pre_median_rps,min_rps,min_rps_t_s,"+
	"recovery_s,recovered,recovery_after_end_s,lost_s,post_median_rps,failed,failed_kinds,timeouts,writes_failed,leader_before,"+
	"new_leader,new_leader_s,note", ",")

// Recovery (recoveryFrom): the throughput smoothed over recoverRun intervals (the mean of an
// interval and the recoverRun-1 after it) is compared with recoverFrac of the pre-event median.
// A dip is a smoothed value below it that begins within dipWithinS of the event; with no dip
// the recovery time is 0. After a dip, it is the time from the event to the start of the first
// interval whose smoothed value is back at or above recoverFrac of the median ("no" if none
// before the next event or the window's end).
const (
	recoverFrac = 0.9
	recoverRun  = 5
	dipWithinS  = 1.0
)

func recoveryFrom(ivs []etcdharness.Interval, t0, spanEnd, preMed float64) (float64, string) {
	if math.IsNaN(preMed) {
		return math.NaN(), "" // no steady state before the event to recover to
	}
	var ks []int
	for k, iv := range ivs {
		if iv.StartS >= t0-1e-9 && iv.StartS < spanEnd && k+recoverRun <= len(ivs) {
			ks = append(ks, k)
		}
	}
	smooth := func(k int) float64 {
		var s float64
		for j := k; j < k+recoverRun; j++ {
			s += throughput(ivs[j])
		}
		return s / recoverRun
	}
	dip := -1
	for j, k := range ks {
		if ivs[k].StartS-t0 > dipWithinS {
			break
		}
		if smooth(k) < recoverFrac*preMed {
			dip = j
			break
		}
	}
	if dip < 0 {
		return 0, "yes"
	}
	for _, k := range ks[dip:] {
		if smooth(k) >= recoverFrac*preMed {
			return ivs[k].StartS - t0, "yes"
		}
	}
	return math.NaN(), "no"
}

func f3(x float64) string {
	if math.IsNaN(x) || math.IsInf(x, 0) {
		return ""
	}
	return strconv.FormatFloat(x, 'f', 3, 64)
}

func f1(x float64) string {
	if math.IsNaN(x) || math.IsInf(x, 0) {
		return ""
	}
	return strconv.FormatFloat(x, 'f', 1, 64)
}

func throughput(iv etcdharness.Interval) float64 {
	d := iv.EndS - iv.StartS
	if d <= 0 {
		return math.NaN()
	}
	return float64(iv.Main.OK) / d
}

func timeoutsOf(f etcdharness.Flow) int {
	return f.FailedKinds["deadline"] + f.FailedKinds["etcd_timeout"]
}

// intervalRows are the repetition's rows of the intervals CSV.
func intervalRows(c *Case, rep int, res *repResult) []string {
	lr := res.Load
	if lr == nil {
		return nil
	}
	var rows []string
	for _, iv := range lr.Intervals {
		var evs []string
		for _, e := range res.Events {
			if e.T >= iv.StartS && e.T < iv.EndS {
				evs = append(evs, strings.TrimSpace(e.Label+" "+e.Member))
			}
			if e.EndS > e.T && e.EndS >= iv.StartS && e.EndS < iv.EndS {
				evs = append(evs, "end of "+strings.TrimSpace(e.Label+" "+e.Member))
			}
		}
		cells := []string{csvField(c.Name), strconv.Itoa(rep), f3(iv.StartS), f3(iv.EndS), iv.Leader, f1(iv.WriteRate),
			strconv.FormatInt(iv.Main.OK, 10), f1(throughput(iv))}
		if iv.Main.OK > 0 {
			cells = append(cells, f3(iv.Main.MeanMs), f3(iv.Main.P50Ms), f3(iv.Main.P99Ms), f3(iv.Main.MaxMs))
		} else {
			cells = append(cells, "", "", "", "")
		}
		cells = append(cells, strconv.FormatInt(iv.Main.Failed, 10))
		for _, k := range etcdharness.ErrorKinds {
			cells = append(cells, strconv.Itoa(iv.Main.FailedKinds[k]))
		}
		cells = append(cells, strconv.Itoa(timeoutsOf(iv.Main)), strconv.FormatInt(iv.Main.Outstanding, 10),
			strconv.FormatInt(iv.Write.OK, 10), strconv.FormatInt(iv.Write.Failed, 10))
		if iv.Write.OK > 0 {
			cells = append(cells, f3(iv.Write.MeanMs), f3(iv.Write.P99Ms))
		} else {
			cells = append(cells, "", "")
		}
		cells = append(cells, csvField(strings.Join(evs, "; ")))
		rows = append(rows, strings.Join(cells, ","))
	}
	return rows
}

func median(xs []float64) float64 { return etcdharness.Median(xs) }

// eventRows are the repetition's rows of the events CSV.
func eventRows(c *Case, rep int, res *repResult) []string {
	lr := res.Load
	if lr == nil {
		return nil
	}
	ivs := lr.Intervals
	var rows []string
	for i, e := range res.Events {
		prevEnd := 0.0
		if i > 0 {
			prevEnd = math.Max(res.Events[i-1].T, res.Events[i-1].EndS)
		}
		spanEnd := lr.WindowS
		if i+1 < len(res.Events) {
			spanEnd = res.Events[i+1].T
		}
		var pre []float64
		for _, iv := range ivs {
			if iv.StartS >= prevEnd && iv.EndS <= e.T {
				pre = append(pre, throughput(iv))
			}
		}
		if len(pre) < 3 && i > 0 {
			// Too little quiet time since the previous event: the steady state before the first.
			pre = pre[:0]
			for _, iv := range ivs {
				if iv.EndS <= res.Events[0].T {
					pre = append(pre, throughput(iv))
				}
			}
		}
		preMed := math.NaN()
		if len(pre) >= 3 {
			preMed = median(pre)
		}
		// The intervals of the event's span: starting at or after the event, before the next.
		var span []etcdharness.Interval
		for _, iv := range ivs {
			if iv.StartS >= e.T-1e-9 && iv.StartS < spanEnd {
				span = append(span, iv)
			}
		}
		minR, minT := math.NaN(), math.NaN()
		for _, iv := range span {
			if x := throughput(iv); math.IsNaN(minR) || x < minR {
				minR, minT = x, iv.StartS
			}
		}
		recovery, recovered := recoveryFrom(ivs, e.T, spanEnd, preMed)
		recEnd := math.NaN()
		if e.EndS > e.T+0.05 && e.EndS < spanEnd {
			recEnd, _ = recoveryFrom(ivs, e.EndS, spanEnd, preMed)
		}
		// Reads lost against the steady state over the span, in seconds of pre-event throughput.
		lost := math.NaN()
		if !math.IsNaN(preMed) && preMed > 0 {
			lost = 0
			for _, iv := range span {
				lost += preMed*(iv.EndS-iv.StartS) - float64(iv.Main.OK)
			}
			lost /= preMed
		}
		// The steady state after the event: the median of its span's second half.
		var post []float64
		for _, iv := range span {
			if iv.StartS >= (e.T+spanEnd)/2 {
				post = append(post, throughput(iv))
			}
		}
		// Failures from the event to the next event (or the window's end): requests that ended
		// in an interval starting at or after the interval the event happened in.
		var failed, timeouts, wfailed int64
		kinds := map[string]int{}
		for _, iv := range ivs {
			if iv.EndS > e.T && iv.StartS < spanEnd {
				failed += iv.Main.Failed
				timeouts += int64(timeoutsOf(iv.Main))
				wfailed += iv.Write.Failed
				for k, n := range iv.Main.FailedKinds {
					kinds[k] += n
				}
			}
		}
		var kl []string
		for _, k := range etcdharness.ErrorKinds {
			if kinds[k] > 0 {
				kl = append(kl, fmt.Sprintf("%s:%d", k, kinds[k]))
			}
		}
		// The leader before the event, and the first Status answer after it that names a live
		// leader other than the member killed or paused (for a kill or pause of the leader: the
		// election as the members report it, at the poll period's resolution).
		before := ""
		for _, iv := range ivs {
			if iv.EndS <= e.T && iv.Leader != "" {
				before = iv.Leader
			}
		}
		newLeader, newLeaderS := "", math.NaN()
		if (e.Kind == "kill" || e.Kind == "pause") && e.Member == before {
			for _, p := range lr.StatusPolls {
				if p.T > e.T && p.OK && p.Leader != "none" && p.Leader != "?" && p.Leader != e.Member && p.Leader != "" {
					newLeader, newLeaderS = p.Leader, p.T-e.T
					break
				}
			}
		}
		cells := []string{csvField(c.Name), strconv.Itoa(rep), csvField(e.Label), e.Kind, e.Member, f3(e.PlanS), f3(e.T), f3(e.EndS),
			f1(preMed), f1(minR), f3(minT), f3(recovery), recovered, f3(recEnd), f3(lost), f1(median(post)),
			strconv.FormatInt(failed, 10), csvField(strings.Join(kl, " ")), strconv.FormatInt(timeouts, 10),
			strconv.FormatInt(wfailed, 10), before, newLeader, f3(newLeaderS), csvField(e.Note)}
		rows = append(rows, strings.Join(cells, ","))
	}
	return rows
}

// writeTimelineCSV writes a header of comments, the column names and the rows, atomically.
func writeTimelineCSV(path string, head []string, header []string, rows []string) error {
	var b strings.Builder
	for _, h := range head {
		b.WriteString("# " + h + "\n")
	}
	b.WriteString(strings.Join(header, ",") + "\n")
	for _, r := range rows {
		b.WriteString(r + "\n")
	}
	tmp := path + ".tmp"
	if err := ioutil.WriteFile(tmp, []byte(b.String()), 0644); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

// sideFile is --out with "-intervals.csv" (or "-events.csv") in place of its ".csv".
func sideFile(out, suffix string) string {
	return strings.TrimSuffix(out, ".csv") + "-" + suffix + ".csv"
}

var _ = sort.Strings
