#!/usr/bin/env bash
# Data-parallel scaling of directspec-train --distributed (docs/distributed.md "Measured"):
# R = 1 and R = 2 ranks of one thread each, the same M, on MF + DirectSpec+ (gowalla) and
# LightGCN + DirectSpec+ (citeulike). Per run it prints pairs/s, steps/s, the epoch time, the bytes
# each rank receives per update and where rank 0's time went (its own batches, the exchange with
# its waits, the replicated work; wall seconds, then the process's CPU seconds), read from the
# run's final JSON line. Run on a quiet machine.
#
#   bench/distributed_scaling.sh [BUILD_DIR] [EPOCHS] [M]      (defaults: build 2 8)
#
# Environment: MODELS="mf lightgcn" (which runs), RANKS="1 2" (1 is the plain process, without
# MPI), REPEATS (default 1; the runs are repeated interleaved, each repeat ending with the pairs/s
# ratio of its last run to its first), SHARE (balanced | equal, default balanced), STEPS (steps
# per epoch; default: the full epoch), OUT (log folder, default out/distributed-scaling).
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
epochs=${2:-2}
m=${3:-8}
out=${OUT:-out/distributed-scaling}
cli="$build/examples/directspec-train"
mkdir -p "$out"
export OMP_NUM_THREADS=1 OMP_WAIT_POLICY=passive
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1  # CI and containers run as root
steps_flag=()
[ -n "${STEPS:-}" ] && steps_flag=(--steps-per-epoch "$STEPS")

echo "uptime: $(uptime)"
printf '%-9s %-9s %5s %3s %10s %8s %9s %12s %9s %9s %9s %9s %9s %9s\n' model data ranks M pairs/s \
  steps/s epoch_s recv/update share_s exch_s repl_s share_cpu exch_cpu repl_cpu
for model in ${MODELS:-mf lightgcn}; do
  if [ "$model" = mf ]; then preset=gowalla-mf; data=gowalla; else preset=citeulike-lightgcn; data=citeulike; fi
  for repeat in $(seq "${REPEATS:-1}"); do
    first=""
    for r in ${RANKS:-1 2}; do
      log="$out/$model-r$r-m$m.json"
      rm -f "$log"
      # R = 1 is the plain single process (no MPI in the run), the baseline the ranks must beat.
      launch=(mpirun -n "$r" "$cli" --distributed --share "${SHARE:-balanced}")
      [ "$r" = 1 ] && launch=("$cli")
      "${launch[@]}" --preset "$preset" --data "datasets/$data" --epochs "$epochs" \
        --micro-batches "$m" --threads 1 --eval-every 0 --quiet \
        "${steps_flag[@]}" --json "$log"
      line=$(/usr/bin/python3 - "$log" "$model" "$data" "$r" "$m" "$epochs" <<'EOF'
import json, sys
log, model, data, r, m, epochs = sys.argv[1:]
final = [json.loads(l) for l in open(log) if l.strip()][-1]
s = final["settings"]
batches = final["steps_per_epoch"] * int(epochs)
t = final["train_seconds"]
print(f"{model:9s} {data:9s} {r:>5s} {m:>3s} {batches * s['batch'] / t:10.0f} {batches / t:8.1f} "
      f"{t / int(epochs):9.2f} {final.get('exchange_bytes_per_update', 0) / 1024:9.0f} KiB "
      + " ".join(f"{final.get(k, float('nan')):9.2f}" for k in
                 ("share_seconds", "exchange_seconds", "replicated_seconds", "share_cpu_seconds",
                  "exchange_cpu_seconds", "replicated_cpu_seconds")))
EOF
      )
      echo "$line"
      pairs=$(echo "$line" | awk '{print $5}')
      [ -n "$first" ] || first=$pairs
    done
    awk -v a="$first" -v b="$pairs" 'BEGIN { printf "ratio (pairs/s, last run / first): %.2f\n", b / a }'
  done
done
echo "uptime: $(uptime)"
