#!/usr/bin/env bash
# A Slurm job array that runs one experiment as 8 shards: task K runs `--shard K/8`.
# Submit from the repository root with:   sbatch experiments/scale-out/slurm.sh
# then, when every task has finished:     etcdsim merge experiments/quickstart.toml output/quickstart/shard-*-of-8
#SBATCH --job-name=etcdsim-sweep
#SBATCH --array=1-8
#SBATCH --cpus-per-task=2
#SBATCH --mem=1G
#SBATCH --time=01:00:00
#SBATCH --output=output/slurm-%A_%a.log
set -euo pipefail
K=${SLURM_ARRAY_TASK_ID}
N=8
EXPERIMENT=${EXPERIMENT:-experiments/quickstart.toml}
NAME=$(basename "$EXPERIMENT" .toml)
# --resume makes a requeued task keep the runs it had finished.
./target/release/etcdsim run "$EXPERIMENT" --shard "$K/$N" --resume \
  --threads "${SLURM_CPUS_PER_TASK:-2}" --out "output/$NAME/shard-$K-of-$N"
