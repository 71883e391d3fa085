#!/usr/bin/env python3
"""Per-interval read throughput of the model and of the real cluster, side by side, for each
scripted event: one Markdown table per event, in 0.5 s bins around it.

    harness/tools/faults_curves.py output/faults/intervals.csv \
        experiments/reference/faults-loopback-2vcpu-idle-intervals.csv \
        experiments/reference/faults-loopback-2vcpu-norestart-intervals.csv

The first file is what `etcdsim run experiments/timeline/faults.toml` writes (its first
replication is shown); the others are the harness's measurements (its first repetition).
"""
import csv
import sys

# (model point, harness case, what happens)
CASES = [
    ("0", "f-write-step", "background writes step from 0 to 1,000 puts/s at 3 s"),
    ("1", "f-follower-pause-pinned", "follower member1 paused from 3 to 6 s, pinned clients"),
    ("2", "f-follower-pause-balanced", "the same pause, round-robin (balanced) clients"),
    ("3", "f-leader-pause", "the leader paused from 3 to 6 s"),
    ("4", "f-leader-kill-norestart-pinned", "the leader killed at 3 s, pinned clients"),
    ("5", "f-leader-kill-norestart-balanced", "the leader killed at 3 s, round-robin clients"),
    ("9", "f-leader-kill-pinned", "the leader killed at 3 s, started again at 6 s, pinned clients"),
    ("10", "f-leader-kill-balanced", "the same, round-robin (balanced) clients"),
    ("11", "f-compact", "a compaction of 100,000 revisions called on the leader at 3 s"),
]
BIN = 0.5
FROM, TO = 2.0, 9.0


def rows(path):
    with open(path) as f:
        return list(csv.DictReader(l for l in f if not l.startswith("#")))


def binned(pairs):
    """(start_s, reads) pairs -> reads/s per bin from FROM to TO."""
    n = int(round((TO - FROM) / BIN))
    out = [0.0] * n
    for t, reads in pairs:
        k = int((t - FROM + 1e-9) // BIN)
        if 0 <= k < n:
            out[k] += reads / BIN
    return out


def main():
    model = rows(sys.argv[1])
    real = [r for path in sys.argv[2:] for r in rows(path)]
    for point, case, what in CASES:
        m = binned(
            (float(r["start_s"]), float(r["reads_per_s"]) * float(r["span_s"]))
            for r in model
            if r["point"] == point and r["replication"] == "0"
        )
        h = binned(
            (float(r["t_start_s"]), float(r["reads"]))
            for r in real
            if r["case"] == case and r["rep"] == "1"
        )
        if not any(h):
            continue
        print(f"**{what}** (model point {point}; real `{case}`, repetition 1), reads/s:\n")
        print("| from s | " + " | ".join(f"{FROM + i * BIN:.1f}" for i in range(len(m))) + " |")
        print("|---|" + "---:|" * len(m))
        print("| model | " + " | ".join(f"{x:,.0f}" for x in m) + " |")
        print("| real | " + " | ".join(f"{x:,.0f}" for x in h) + " |")
        print()


if __name__ == "__main__":
    main()
