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
	"recovery_s,recovered,degraded_s,post_median_rps,failed,failed_kinds,timeouts,writes_failed,leader_before,"+
	"new_leader,new_leader_s,note", ",")

// Recovery: from the event to the start of the first interval after the span's slowest one
// from which recoverRun intervals in a row have a throughput of at least recoverFrac of the
// pre-event median (0 if no interval of the span falls below it). The span is the intervals
// starting at or after the event and before the next event (or the window's end).
const (
	recoverFrac = 0.9
	recoverRun  = 3
)

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
		recovery, recovered, degraded := math.NaN(), "no", math.NaN()
		if !math.IsNaN(preMed) {
			degraded = 0
			minK := 0
			for k, iv := range span {
				x := throughput(iv)
				if x < recoverFrac*preMed {
					degraded += iv.EndS - iv.StartS
				}
				if x < throughput(span[minK]) {
					minK = k
				}
			}
			if len(span) > 0 && throughput(span[minK]) >= recoverFrac*preMed {
				recovery, recovered = 0, "yes" // never below 90%
			}
			for k := minK + 1; recovered == "no" && k+recoverRun <= len(span); k++ {
				ok := true
				for j := k; j < k+recoverRun; j++ {
					if throughput(span[j]) < recoverFrac*preMed {
						ok = false
						break
					}
				}
				if ok {
					recovery, recovered = span[k].StartS-e.T, "yes"
				}
			}
		} else {
			recovered = "" // no steady state before the event to recover to
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
			f1(preMed), f1(minR), f3(minT), f3(recovery), recovered, f3(degraded), f1(median(post)),
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
