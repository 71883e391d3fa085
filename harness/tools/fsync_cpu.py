#!/usr/bin/env python3
"""The CPU an fdatasync costs outside the process that calls it, on the file system of DIR.

    harness/tools/fsync_cpu.py DIR [SECONDS [WRITERS...]]

For 1 and 3 writers (or the counts given; threads, each on a preallocated 64 MiB file, as etcd's WAL segments are,
writing 2,304 bytes then calling fdatasync in a loop for SECONDS, default 5), it prints the
syncs per second, their mean latency, the CPU the writing process used (its own user + system
time), and the CPU the kernel spent on its behalf elsewhere: the journal thread (jbd2), the
kworker threads, and the machine's interrupt and softirq time (/proc/stat). That last part is
charged to no process, so /proc/<pid>/stat, which the harness reads for etcd's CPU per request,
never shows it. Other load on the machine (a compiler) barely touches these counters: they
count block-layer and journal work, which a CPU-bound job does not do.
"""
import os
import statistics
import sys
import threading
import time

TICK = os.sysconf("SC_CLK_TCK")


def kernel_threads():
    """pid -> comm of the jbd2 and kworker threads."""
    out = {}
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open(f"/proc/{pid}/comm") as f:
                comm = f.read().strip()
        except OSError:
            continue
        if comm.startswith("jbd2") or comm.startswith("kworker"):
            out[int(pid)] = comm
    return out


def thread_cpu_s(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / TICK
    except OSError:
        return 0.0


def irq_softirq_s():
    with open("/proc/stat") as f:
        cpu = f.readline().split()
    # cpu user nice system idle iowait irq softirq steal ...
    return (int(cpu[6]) + int(cpu[7])) / TICK


def snapshot(threads):
    # A kworker may exit meanwhile (its time then reads 0): count only threads alive at both ends.
    jbd2 = sum(thread_cpu_s(p) for p, c in threads.items() if c.startswith("jbd2"))
    kw = sum(thread_cpu_s(p) for p, c in threads.items() if c.startswith("kworker"))
    return jbd2, kw, irq_softirq_s()


def writer(path, stop, out):
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    os.posix_fallocate(fd, 0, 64 << 20)
    buf = b"x" * 2304
    i = 0
    while not stop.is_set():
        os.pwrite(fd, buf, (i * 2304) % (60 << 20))
        t = time.perf_counter()
        os.fdatasync(fd)
        out.append((time.perf_counter() - t) * 1e6)
        i += 1
    os.close(fd)
    os.unlink(path)


def main():
    d = sys.argv[1] if len(sys.argv) > 1 else "."
    secs = float(sys.argv[2]) if len(sys.argv) > 2 else 5.0
    counts = [int(x) for x in sys.argv[3:]] or [1, 3]
    for writers in counts:
        threads = kernel_threads()
        stop = threading.Event()
        outs = [[] for _ in range(writers)]
        th = [
            threading.Thread(target=writer, args=(f"{d}/fsync-cpu-{w}", stop, outs[w]))
            for w in range(writers)
        ]
        t0, (j0, k0, s0), p0 = time.perf_counter(), snapshot(threads), os.times()
        for t in th:
            t.start()
        time.sleep(secs)
        stop.set()
        for t in th:
            t.join()
        t1, (j1, k1, s1), p1 = time.perf_counter(), snapshot(threads), os.times()
        n = sum(len(o) for o in outs)
        wall = t1 - t0
        per = lambda x: x / n * 1e6
        own = (p1.user - p0.user) + (p1.system - p0.system)
        print(
            f"writers={writers}: {n / wall:7.0f} syncs/s, mean {statistics.mean(x for o in outs for x in o):6.1f} us; "
            f"per sync: the writer's own CPU {per(own):5.1f} us, jbd2 {per(j1 - j0):5.1f} us, "
            f"kworkers {per(k1 - k0):5.1f} us, irq+softirq {per(s1 - s0):5.1f} us "
            f"(kernel elsewhere {per((j1 - j0) + (k1 - k0) + (s1 - s0)):5.1f} us)"
        )


if __name__ == "__main__":
    main()
