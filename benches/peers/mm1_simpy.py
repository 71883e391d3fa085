"""M/M/1 (lambda = 0.9, mu = 1.0, FIFO, one server) in idiomatic SimPy: a source process starts
one process per customer, and each customer requests a `simpy.Resource` of capacity 1.

usage: python mm1_simpy.py [customers=200000] [seed=1] [warmup=10000]

Prints one line of key=value fields, in the same form as the Rust `peers` binary. Statistics are
the same batch means: the first `warmup` departures are discarded, the rest form 30 batches.
"""

import random
import sys
import time

import simpy

ARRIVAL_RATE = 0.9
SERVICE_RATE = 1.0
BATCHES = 30
T_995_29 = 2.75638590367062  # Student's t(0.995, 29)


class BatchMeans:
    """Response times in departure order: skips `warmup`, then 30 equal batches (the last one
    takes the remainder)."""

    def __init__(self, warmup, measured):
        self.warmup = warmup
        self.measured = measured
        self.batch_size = measured // BATCHES
        self.seen = 0
        self.in_batch = 0
        self.batch_sum = 0.0
        self.sums = []

    def push(self, response):
        self.seen += 1
        if self.seen <= self.warmup:
            return
        self.batch_sum += response
        self.in_batch += 1
        if self.in_batch == self.batch_size and len(self.sums) < BATCHES - 1:
            self._flush()

    def _flush(self):
        self.sums.append((self.batch_sum, self.in_batch))
        self.batch_sum = 0.0
        self.in_batch = 0

    def finish(self):
        assert self.seen == self.warmup + self.measured, (self.seen, self.warmup, self.measured)
        self._flush()
        mean = sum(s for s, _ in self.sums) / self.measured
        means = [s / n for s, n in self.sums]
        grand = sum(means) / BATCHES
        var = sum((m - grand) ** 2 for m in means) / (BATCHES - 1)
        return mean, T_995_29 * (var / BATCHES) ** 0.5


def customer(env, server, rng_service, stats):
    arrived = env.now
    with server.request() as req:
        yield req
        yield env.timeout(rng_service.expovariate(SERVICE_RATE))
    stats.push(env.now - arrived)


def source(env, total, server, rng_arrival, rng_service, stats):
    for _ in range(total):
        yield env.timeout(rng_arrival.expovariate(ARRIVAL_RATE))
        env.process(customer(env, server, rng_service, stats))


def main():
    args = sys.argv[1:]
    measured = int(args[0].replace("_", "")) if len(args) > 0 else 200_000
    seed = int(args[1]) if len(args) > 1 else 1
    warmup = int(args[2].replace("_", "")) if len(args) > 2 else 10_000
    total = warmup + measured

    env = simpy.Environment()
    server = simpy.Resource(env, capacity=1)
    stats = BatchMeans(warmup, measured)
    rng_arrival = random.Random(2 * seed + 1)
    rng_service = random.Random(2 * seed + 2)
    env.process(source(env, total, server, rng_arrival, rng_service, stats))

    t0 = time.perf_counter()
    env.run()
    wall = time.perf_counter() - t0

    mean, ci99 = stats.finish()
    analytic = 1.0 / (SERVICE_RATE - ARRIVAL_RATE)
    print(
        f"engine=simpy customers={measured} warmup={warmup} seed={seed} mean={mean:.6f} "
        f"ci99={ci99:.6f} analytic={analytic} wall_s={wall:.6f} "
        f"customers_per_s={total / wall:.1f} simpy={simpy.__version__}"
    )


if __name__ == "__main__":
    main()
