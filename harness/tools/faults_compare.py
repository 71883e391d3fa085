#!/usr/bin/env python3
"""The model's scripted events beside the real cluster's: one Markdown table.

    harness/tools/faults_compare.py output/faults/events.csv \
        experiments/reference/faults-loopback-2vcpu-idle-events.csv \
        experiments/reference/faults-loopback-2vcpu-norestart-events.csv

The first file is what `etcdsim run experiments/timeline/faults.toml` writes; the others are the
harness's measurements of the same events (harness/grids/faults.toml). Each model point is
matched to a harness case by what happens (kind, member, balancer); every repetition is listed,
so the spread of each side shows.
"""
import csv
import sys

# (model point's event, its balancer) -> harness case
CASES = {
    ("write_rate to 1000/s", ""): "f-write-step",
    ("pause member1 3s", ""): "f-follower-pause-pinned",
    ("pause member1 3s", "round-robin"): "f-follower-pause-balanced",
    ("defrag member0 3.4s", ""): "f-defrag",
    ("pause member0 3s", ""): "f-leader-pause",
    ("kill member0", ""): "f-leader-kill-norestart-pinned",
    ("kill member0", "round-robin"): "f-leader-kill-norestart-balanced",
    ("kill member0, restart after 3s", ""): "f-leader-kill-pinned",
    ("kill member0, restart after 3s", "round-robin"): "f-leader-kill-balanced",
    ("compact member0", ""): "f-compact",
}


def rows(path):
    with open(path) as f:
        return list(csv.DictReader(l for l in f if not l.startswith("#")))


def values(rs, key):
    return " / ".join(r[key] or "–" for r in rs)


def lasted(rs, start):
    """How long each event lasted, from its start to its end (a compaction: until the call
    returned)."""
    return " / ".join(f"{float(r['end_s']) - float(r[start]):.3f}" for r in rs)


def main():
    model = rows(sys.argv[1])
    real = [r for path in sys.argv[2:] for r in rows(path)]
    print("| event | side | steady reads/s before | lowest | recovery s | reads lost (s) | failed | timed out | new leader after s | lasted s |")
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    seen = []
    for r in model:
        key = (r["event"], r.get("balancer", ""))
        if key in seen or key not in CASES:
            continue
        seen.append(key)
        m = [x for x in model if (x["event"], x.get("balancer", "")) == key]
        h = [x for x in real if x["case"] == CASES[key]]
        name = r["event"] + (" (" + key[1] + ")" if key[1] else "")
        print(f"| {name} | model | {values(m, 'pre_median_rps')} | {values(m, 'min_rps')} | {values(m, 'recovery_s')} | {values(m, 'lost_s')} | {values(m, 'failed')} | {values(m, 'timeouts')} | {values(m, 'new_leader_s')} | {lasted(m, 'at_s')} |")
        print(f"| {CASES[key]} | real | {values(h, 'pre_median_rps')} | {values(h, 'min_rps')} | {values(h, 'recovery_s')} | {values(h, 'lost_s')} | {values(h, 'failed')} | {values(h, 'timeouts')} | {values(h, 'new_leader_s')} | {lasted(h, 't_s')} |")


if __name__ == "__main__":
    main()
