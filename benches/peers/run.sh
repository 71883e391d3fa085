#!/usr/bin/env bash
# Side-by-side M/M/1 benchmark: etcdsim's engine against a BinaryHeap loop, NeXosim, SimCore and
# SimPy. See README.md.
#
# usage: benches/peers/run.sh [--out FILE]
# environment:
#   ROUNDS=5                rounds; each runs every engine once, the order rotating each round
#   CUSTOMERS=1000000       measured customers per run of a Rust engine
#   SIMPY_CUSTOMERS=200000  measured customers per SimPy run (it is ~100x slower)
#   WARMUP=10000            customers discarded before measuring
#   ENGINES="etcdsim etcdsim-ondemand heap nexosim nexosim1 simcore simpy"
#   PIN_CPU=1               core for taskset (when taskset exists)
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
out=""
while [[ $# -gt 0 ]]; do
    case "$1" in
        --out) out="${2:?--out needs a file}"; shift 2 ;;
        --out=*) out="${1#--out=}"; shift ;;
        -h|--help) sed -n '2,13p' "${BASH_SOURCE[0]}"; exit 0 ;;
        *) echo "unknown argument: $1" >&2; exit 2 ;;
    esac
done

ROUNDS="${ROUNDS:-5}"
CUSTOMERS="${CUSTOMERS:-1000000}"
SIMPY_CUSTOMERS="${SIMPY_CUSTOMERS:-200000}"
WARMUP="${WARMUP:-10000}"
read -r -a engines <<< "${ENGINES:-etcdsim etcdsim-ondemand heap nexosim nexosim1 simcore simpy}"

# Build the Rust peers (their own workspace and target directory).
export CARGO_TARGET_DIR="$here/target"
echo "building peers (release) ..." >&2
cargo build --release --quiet --manifest-path "$here/Cargo.toml"
peers="$CARGO_TARGET_DIR/release/peers"

# SimPy in a private venv, installed only if missing.
python="$here/.venv/bin/python"
if [[ " ${engines[*]} " == *" simpy "* ]]; then
    if [[ ! -x "$python" ]]; then
        python3 -m venv "$here/.venv"
    fi
    if ! "$python" -c 'import simpy' 2>/dev/null; then
        "$python" -m pip install --quiet simpy
    fi
fi

pin=()
if command -v taskset >/dev/null 2>&1; then
    pin=(taskset -c "${PIN_CPU:-1}")
fi

results="$(mktemp)"
trap 'rm -f "$results"' EXIT

n=${#engines[@]}
for ((round = 1; round <= ROUNDS; round++)); do
    seed=$round
    for ((i = 0; i < n; i++)); do
        engine="${engines[$(((i + round - 1) % n))]}"
        if [[ "$engine" == simpy ]]; then
            line="$("${pin[@]}" "$python" "$here/mm1_simpy.py" "$SIMPY_CUSTOMERS" "$seed" "$WARMUP")"
        else
            line="$("${pin[@]}" "$peers" "$engine" "$CUSTOMERS" "$seed" "$WARMUP")"
        fi
        echo "round=$round $line" | tee -a "$results" >&2
    done
done

versions="$(awk '/^name = "(nexosim|simcore)"$/ {n=$3; getline; gsub(/"/, "", n); gsub(/"/, "", $3); printf "%s %s, ", n, $3}' "$here/Cargo.lock")"
if [[ -x "$python" ]]; then
    versions+="simpy $("$python" -c 'import simpy; print(simpy.__version__)'), $("$python" --version 2>&1)"
fi
cpu="$(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo 2>/dev/null || true)"

status=0
python3 "$here/summarize.py" "$results" "${engines[*]}" "$versions" "$cpu" "${pin[*]:-unpinned}" > "$results.md" || status=$?
cat "$results.md"
if [[ -n "$out" ]]; then
    cp "$results.md" "$out"
    echo "table written to $out" >&2
fi
rm -f "$results.md"
exit "$status"
