#!/usr/bin/env python3
"""Timeline charts of an intervals CSV of the fault grid: one SVG per case, the throughput of
every repetition per interval (a line each), its failed requests per interval (bars below the
axis, same colour), and the events marked (a dashed line where one fires, a dotted one where it
ends). No dependencies beyond Python 3.

    harness/tools/faults_plot.py experiments/reference/faults-loopback-2vcpu-intervals.csv docs/faults-harness
"""
import csv
import html
import os
import sys

COLOURS = ["#1f77b4", "#ff7f0e", "#2ca02c", "#9467bd", "#8c564b"]
W, H = 720, 300
L, R, T, B = 60, 20, 30, 70  # margins; the failures' bars go below the axis, in B


def nice(x):
    for m in (1, 2, 2.5, 5, 10):
        for e in range(0, 7):
            v = m * 10 ** e
            if v >= x:
                return v
    return x


def plot(case, rows, path):
    reps = sorted({r["rep"] for r in rows}, key=int)
    t_max = max(float(r["t_end_s"]) for r in rows)
    y_max = nice(max(float(r["throughput"] or 0) for r in rows) * 1.05 or 1)
    f_max = max(int(r["failed"]) for r in rows) or 1
    px = lambda t: L + (W - L - R) * t / t_max
    py = lambda y: T + (H - T - B) * (1 - y / y_max)
    base = H - B
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" font-family="sans-serif" font-size="11">',
           f'<rect width="{W}" height="{H}" fill="white"/>',
           f'<text x="{L}" y="18" font-size="13">{html.escape(case)}: reads/s per 100 ms interval, failed requests below the axis</text>']
    for k in range(0, 6):
        y = y_max * k / 5
        out.append(f'<line x1="{L}" x2="{W - R}" y1="{py(y):.1f}" y2="{py(y):.1f}" stroke="#eee"/>')
        out.append(f'<text x="{L - 5}" y="{py(y) + 4:.1f}" text-anchor="end">{y:g}</text>')
    for t in range(0, int(t_max) + 1):
        out.append(f'<text x="{px(t):.1f}" y="{base + 48}" text-anchor="middle">{t}</text>')
    out.append(f'<text x="{(L + W - R) / 2}" y="{H - 6}" text-anchor="middle">seconds after the window\'s start</text>')
    out.append(f'<line x1="{L}" x2="{W - R}" y1="{base}" y2="{base}" stroke="black"/>')
    events = {}
    for r in rows:
        if r["rep"] == reps[0] and r["events"]:
            for e in r["events"].split("; "):
                events.setdefault(e, float(r["t_start_s"]))
    for e, t in events.items():
        dash = "2,3" if e.startswith("end of ") else "6,3"
        out.append(f'<line x1="{px(t):.1f}" x2="{px(t):.1f}" y1="{T}" y2="{base}" stroke="#d62728" stroke-dasharray="{dash}"/>')
        out.append(f'<text x="{px(t) + 3:.1f}" y="{T + 10 + 12 * (list(events).index(e) % 3)}" fill="#d62728">{html.escape(e)}</text>')
    bw = (W - L - R) / max(1, len(rows) / len(reps)) / len(reps)
    for i, rep in enumerate(reps):
        c = COLOURS[i % len(COLOURS)]
        pts = [(px((float(r["t_start_s"]) + float(r["t_end_s"])) / 2), py(float(r["throughput"] or 0)))
               for r in rows if r["rep"] == rep]
        out.append(f'<polyline fill="none" stroke="{c}" stroke-width="1.2" points="' +
                   " ".join(f"{x:.1f},{y:.1f}" for x, y in pts) + '"/>')
        for r in rows:
            if r["rep"] == rep and int(r["failed"]) > 0:
                h = 30 * int(r["failed"]) / f_max
                x = px(float(r["t_start_s"])) + i * bw
                out.append(f'<rect x="{x:.1f}" y="{base + 1}" width="{max(bw, 1.5):.1f}" height="{h:.1f}" fill="{c}"/>')
        out.append(f'<text x="{W - R - 60 * (len(reps) - i)}" y="{T - 2}" fill="{c}">rep {rep}</text>')
    out.append(f'<text x="{L - 5}" y="{base + 32}" text-anchor="end">{f_max} failed</text>')
    out.append("</svg>")
    with open(path, "w") as f:
        f.write("\n".join(out) + "\n")


def main(src, outdir):
    rows = list(csv.DictReader(line for line in open(src) if not line.startswith("#")))
    os.makedirs(outdir, exist_ok=True)
    cases = {}
    for r in rows:
        cases.setdefault(r["case"], []).append(r)
    for case, rs in cases.items():
        path = os.path.join(outdir, case + ".svg")
        plot(case, rs, path)
        print(path)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
