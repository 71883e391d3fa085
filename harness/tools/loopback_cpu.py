#!/usr/bin/env python3
"""The CPU a loopback TCP message costs outside the processes that send and receive it.

    harness/tools/loopback_cpu.py [SECONDS [SIZE]]

Two processes ping-pong SIZE-byte messages (default 256) over one loopback TCP connection for
SECONDS (default 5). It prints the round trips per second, the two processes' own CPU per
message (user + system, as /proc/<pid>/stat counts it and as the harness charges etcd), and
the machine's softirq and irq time per message (/proc/stat), which no process is charged
for: the kernel runs loopback's receive path in softirq context, and with IRQ time accounting
that time leaves the task's counters. A CPU-bound job elsewhere on the machine (a compiler)
adds little softirq time, so the figure holds on a busy machine too; the idle share does not,
and is not printed.
"""
import os
import socket
import sys
import time

TICK = os.sysconf("SC_CLK_TCK")


def irq_softirq_s():
    with open("/proc/stat") as f:
        cpu = f.readline().split()
    return (int(cpu[6]) + int(cpu[7])) / TICK


def echo(listener, out):
    conn, _ = listener.accept()
    conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    while True:
        data = conn.recv(65536)
        if not data:
            break
        conn.sendall(data)
    t = os.times()
    os.write(out, f"{t.user + t.system}\n".encode())
    os._exit(0)


def main():
    secs = float(sys.argv[1]) if len(sys.argv) > 1 else 5.0
    size = int(sys.argv[2]) if len(sys.argv) > 2 else 256
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        echo(listener, w)
    c = socket.create_connection(listener.getsockname())
    c.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    msg = b"x" * size
    for _ in range(2000):  # warm-up
        c.sendall(msg)
        got = 0
        while got < size:
            got += len(c.recv(65536))
    t0, s0, p0 = time.perf_counter(), irq_softirq_s(), os.times()
    n = 0
    while time.perf_counter() - t0 < secs:
        c.sendall(msg)
        got = 0
        while got < size:
            got += len(c.recv(65536))
        n += 1
    t1, s1, p1 = time.perf_counter(), irq_softirq_s(), os.times()
    c.close()
    os.waitpid(pid, 0)
    echo_cpu = float(os.read(r, 100).decode())
    own = (p1.user - p0.user) + (p1.system - p0.system)
    msgs = 2 * n
    print(
        f"size={size} B: {n / (t1 - t0):7.0f} round trips/s; per message: the client's own CPU "
        f"{own / n * 1e6 / 2:5.1f} us (half a round trip), the echo's {echo_cpu / n * 1e6 / 2:5.1f} us "
        f"(incl. its warm-up), irq+softirq {(s1 - s0) / msgs * 1e6:5.1f} us"
    )


if __name__ == "__main__":
    main()
