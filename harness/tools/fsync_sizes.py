#!/usr/bin/env python3
"""fdatasync latency by write size and by concurrent writers, on the file system of DIR.

    harness/tools/fsync_sizes.py DIR

Each writer preallocates a 64 MiB file (as etcd's WAL segments are), then 200 times writes SIZE
bytes and calls fdatasync. With 3 writers, the three files are on one file system, as the three
members' data directories are under harness/measure. The model of this machine takes its disk
(`disk.fsync_us`, `disk.fsync_ns_per_byte`, `disk.shared`) from this.
"""
import os
import statistics
import sys
import threading
import time


def run(path, size, n, out):
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    os.posix_fallocate(fd, 0, 64 << 20)
    buf = b"x" * size
    for i in range(n):
        os.pwrite(fd, buf, (i * size) % (60 << 20))
        t = time.perf_counter()
        os.fdatasync(fd)
        out.append((time.perf_counter() - t) * 1e6)
    os.close(fd)
    os.unlink(path)


def main():
    d = sys.argv[1] if len(sys.argv) > 1 else "."
    for writers in (1, 3):
        for size in (2304, 16384, 65536, 262144):
            outs = [[] for _ in range(writers)]
            th = [
                threading.Thread(target=run, args=(f"{d}/fsync-probe-{w}", size, 200, outs[w]))
                for w in range(writers)
            ]
            for t in th:
                t.start()
            for t in th:
                t.join()
            ts = sorted(x for o in outs for x in o)
            print(
                f"writers={writers} size={size:7d} B: mean {statistics.mean(ts):7.1f} us, "
                f"p50 {ts[len(ts) // 2]:7.1f}, p99 {ts[int(len(ts) * 0.99)]:7.1f}"
            )


if __name__ == "__main__":
    main()
