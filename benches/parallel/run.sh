#!/usr/bin/env bash
# Parallel efficiency of `etcdsim run`: twice the runs on 2 threads against half on 1.
# The goal is a ratio of at most 1.15. Run from the repository root.
set -euo pipefail
cargo build --release --quiet
t=$(mktemp)
for i in 1 2 3; do
  /usr/bin/time -f "%e" -o "$t" ./target/release/etcdsim run benches/parallel/eff-8.toml --threads 1 --out /tmp/etcdsim-eff8 >/dev/null 2>&1
  a=$(cat "$t")
  /usr/bin/time -f "%e" -o "$t" ./target/release/etcdsim run benches/parallel/eff-16.toml --threads 2 --out /tmp/etcdsim-eff16 >/dev/null 2>&1
  b=$(cat "$t")
  echo "8 runs on 1 thread: ${a} s; 16 runs on 2 threads: ${b} s; ratio $(python3 -c "print(round($b / $a, 3))")"
done
rm -f "$t"
