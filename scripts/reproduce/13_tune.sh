#!/usr/bin/env bash
# Run 13: directspec-tune on ml-100k and lastfm (docs/tuning.md): for each data set, a 10-minute
# search of MF + DirectSpec+ (the default space) and one of BPR-MF (`--preset bpr-mf`, the default
# BPR space), validation carved from train (10 % per user, seed 0), 2 threads, each refit on
# train + validation and tested once. About 45 minutes; then prints the table of docs/tuning.md.
source "$(dirname "$0")/common.sh"
DIRECTSPEC_TUNE="${DIRECTSPEC_TUNE:-$ROOT/build/examples/directspec-tune}"
export OMP_WAIT_POLICY=passive  # a spinning second thread is much slower on a busy machine
for ds in ml-100k lastfm; do
  for kind in ds bpr; do
    if [ "$kind" = ds ]; then base=(--filter directspec+); else base=(--preset bpr-mf); fi
    name="tune-$ds-$kind"
    echo "== $name (load: $(cut -d' ' -f1-3 /proc/loadavg))"
    "$DIRECTSPEC_TUNE" --data "$DATASETS/$ds" "${base[@]}" --threads 2 --budget-minutes 10 \
        --refit --json "$REPRO_OUT/$name.jsonl" --out "$REPRO_OUT/$name.preset" \
        >"$REPRO_OUT/$name.log" 2>&1
    grep -E "^best|trials \(|^TEST" "$REPRO_OUT/$name.log"
  done
done
"$PYTHON" "$HERE/tune_table.py" "$REPRO_OUT"/tune-*.jsonl
