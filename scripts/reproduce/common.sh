# shellcheck shell=bash
# Shared settings for the reproduction scripts (sourced, not run).
# DIRECTSPEC_TRAIN: the CLI binary; REPRO_OUT: where JSON logs, models and logs go;
# DATASETS: the folder holding citeulike/, gowalla/, lastfm/ (train.csv, test.csv).
# Every run uses one thread: the numbers in docs/reproduction.md were measured that way on a
# shared 2-core machine.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
DIRECTSPEC_TRAIN="${DIRECTSPEC_TRAIN:-$ROOT/build/examples/directspec-train}"
REPRO_OUT="${REPRO_OUT:-/tmp/repro}"
DATASETS="${DATASETS:-$ROOT/datasets}"
mkdir -p "$REPRO_OUT"
# The spectrum plots need numpy: Debian's python3-numpy lives under /usr/bin/python3.
PYTHON="${PYTHON:-$(command -v /usr/bin/python3 || command -v python3)}"

# run NAME ARGS...: one training run, JSON log in $REPRO_OUT/NAME.jsonl, console in NAME.log.
run() {
    local name="$1"
    shift
    echo "== $name: $DIRECTSPEC_TRAIN $* --threads 1 --quiet --json $REPRO_OUT/$name.jsonl"
    "$DIRECTSPEC_TRAIN" "$@" --threads 1 --quiet --json "$REPRO_OUT/$name.jsonl" \
        >"$REPRO_OUT/$name.log" 2>&1
    "$PYTHON" "$HERE/summarize.py" final "$name=$REPRO_OUT/$name.jsonl" | tail -n 1
}
