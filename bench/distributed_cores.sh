#!/usr/bin/env bash
# How fast each core is, next to the two-rank run (docs/distributed.md "Measured here"): MF +
# DirectSpec+ on gowalla, one thread, pinned to core 0, pinned to core 1, unpinned, and 2 ranks
# (rank r on core r), interleaved REPEATS times; prints seconds per epoch of each. On a virtual
# machine whose cores run at different speeds the two-rank run is bounded by the slower core.
#
#   bench/distributed_cores.sh [BUILD_DIR] [M] [REPEATS]      (defaults: build 16 3)
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
m=${2:-16}
repeats=${3:-3}
cli="$build/examples/directspec-train"
out=${OUT:-out/distributed-cores}
mkdir -p "$out"
export OMP_NUM_THREADS=1 OMP_WAIT_POLICY=passive
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
flags=(--preset gowalla-mf --data datasets/gowalla --epochs 2 --micro-batches "$m" --threads 1
       --eval-every 0 --quiet)
per_epoch() {  # seconds per epoch of a run's JSON log
  /usr/bin/python3 -c "import json, sys
final = [json.loads(l) for l in open(sys.argv[1]) if l.strip()][-1]
print('%.3f' % (final['train_seconds'] / 2))" "$1"
}
echo "uptime: $(uptime)"
for i in $(seq "$repeats"); do
  taskset -c 0 "$cli" "${flags[@]}" --json "$out/core0.json" >/dev/null
  taskset -c 1 "$cli" "${flags[@]}" --json "$out/core1.json" >/dev/null
  "$cli" "${flags[@]}" --json "$out/unpinned.json" >/dev/null
  mpirun -n 2 "$cli" "${flags[@]}" --distributed --json "$out/ranks2.json" >/dev/null
  echo "repeat $i (s per epoch, M $m): core 0 $(per_epoch "$out/core0.json")" \
       "core 1 $(per_epoch "$out/core1.json") unpinned $(per_epoch "$out/unpinned.json")" \
       "2 ranks $(per_epoch "$out/ranks2.json")"
done
echo "uptime: $(uptime)"
