#!/usr/bin/env python3
"""Summarize an events CSV of the fault grid (harness/grids/faults.toml): per case and event,
the repetitions' values of recovery_s, recovery_after_end_s, lost_s, new_leader_s, failed and timeouts, as
min / median / max, as a Markdown table.

    harness/tools/faults_summary.py experiments/reference/faults-loopback-2vcpu-events.csv
"""
import csv
import statistics
import sys


def fmt(vals, d):
    xs = [float(v) for v in vals if v not in ("", None)]
    if not xs:
        return "-"
    m = statistics.median(xs)
    if len(xs) == 1:
        return f"{m:.{d}f}"
    return f"{m:.{d}f} ({min(xs):.{d}f}-{max(xs):.{d}f})"


def main(path):
    rows = [r for r in csv.DictReader(line for line in open(path) if not line.startswith("#"))]
    groups = {}
    for r in rows:
        groups.setdefault((r["case"], r["event"]), []).append(r)
    cols = ["case", "event", "reps", "pre rps", "min rps", "recovery s", "recovered", "after end s",
            "lost s", "post rps", "failed", "timeouts", "new leader s"]
    print("| " + " | ".join(cols) + " |")
    print("|" + "---|" * len(cols))
    for (case, ev), rs in groups.items():
        g = lambda k: [r[k] for r in rs]
        print("| " + " | ".join([
            case, ev, str(len(rs)), fmt(g("pre_median_rps"), 0), fmt(g("min_rps"), 0),
            fmt(g("recovery_s"), 2), "/".join(g("recovered")), fmt(g("recovery_after_end_s"), 2),
            fmt(g("lost_s"), 2),
            fmt(g("post_median_rps"), 0), fmt(g("failed"), 0), fmt(g("timeouts"), 0),
            fmt(g("new_leader_s"), 2)]) + " |")


if __name__ == "__main__":
    main(sys.argv[1])
