#!/usr/bin/env bash
# Seconds per LightGCN + DirectSpec+ training step, directspec-train against the PyTorch peer, on
# one dataset (default Gowalla, whose epoch of 3,164 steps is too long to repeat). Ours: the
# difference between a LONG-step and a SHORT-step one-epoch run, divided by LONG - SHORT, so
# loading, graph building and the first touch of the workspaces cancel out. The peer:
# bench/peer_steps.py, the median of its timed steps after a warm-up. Gowalla reference
# settings (docs/method.md#reference-recipe). Prints each repeat and the median ratio. Needs Debian's
# python3-torch for the peer (bench/peer/torch_directspec.py); without it: a message saying the
# comparison is skipped, exit status 77.
#
#   bench/lightgcn_step_ratio.sh [--data DIR] [--threads T] [--repeats R] [--short S] [--long L]
#                                [--cli PATH]
# PEER_PYTHON (default /usr/bin/python3) is the interpreter that runs the peer.
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
data="$here/datasets/gowalla"; threads=1; repeats=3; short=10; long=70
cli="$here/build/examples/directspec-train"
while [ $# -gt 0 ]; do
  case "$1" in
    --data) data=$2; shift 2 ;;
    --threads) threads=$2; shift 2 ;;
    --repeats) repeats=$2; shift 2 ;;
    --short) short=$2; shift 2 ;;
    --long) long=$2; shift 2 ;;
    --cli) cli=$2; shift 2 ;;
    *) echo "lightgcn_step_ratio.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done
# Without torch there is nothing to compare: say so before any other check.
peer_python="${PEER_PYTHON:-/usr/bin/python3}"
"$peer_python" -c "import numpy, torch" 2>/dev/null || {
  echo "lightgcn_step_ratio.sh: python3-torch not installed for $peer_python: skipping the peer comparison" >&2
  exit 77
}
[ -x "$cli" ] || { echo "lightgcn_step_ratio.sh: build the CLI first ($cli)" >&2; exit 2; }
[ "$long" -gt "$short" ] || { echo "lightgcn_step_ratio.sh: --long must exceed --short" >&2; exit 2; }
settings=(--model lightgcn --layers 3 --dim 64 --batch 256 --lr 200 --alpha 0.7 --tau 4 --shrink 0.02 --output-l2 0.01)
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
train_seconds() {  # steps -> train_seconds of a one-epoch run of that many steps
  "$cli" --data "$data" "${settings[@]}" --filter directspec+ --epochs 1 --steps-per-epoch "$1" \
    --eval-every 0 --threads "$threads" --quiet --json "$work/ours.json" >/dev/null
  /usr/bin/python3 -c "import json,sys; print([json.loads(l) for l in open(sys.argv[1])][-1]['train_seconds'])" "$work/ours.json"
}
ours=(); theirs=()
for r in $(seq 1 "$repeats"); do
  a=$(train_seconds "$short"); b=$(train_seconds "$long")
  ours+=("$(/usr/bin/python3 -c "import sys; print((float(sys.argv[2]) - float(sys.argv[1])) / $((long - short)))" "$a" "$b")")
  # As in compare_peer.sh: the peer runs without the machine's old-kernel OpenBLAS pins.
  theirs+=("$(env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE "$peer_python" "$here/bench/peer_steps.py" \
    --steps 20 --warmup 3 -- --data "$data" "${settings[@]}" --threads "$threads" |
    /usr/bin/python3 -c "import json,sys; print(json.loads(sys.stdin.read())['median_step_s'])")")
  echo "repeat $r: directspec ${ours[-1]} s/step, peer ${theirs[-1]} s/step"
done
/usr/bin/python3 - "${#ours[@]}" "${ours[@]}" "${theirs[@]}" <<'PY'
import statistics, sys
n = int(sys.argv[1]); ours = list(map(float, sys.argv[2:2 + n])); theirs = list(map(float, sys.argv[2 + n:]))
o, t = statistics.median(ours), statistics.median(theirs)
print(f"median s/step: directspec {o * 1e3:.1f} ms, peer {t * 1e3:.1f} ms, speed-up {t / o:.2f}x")
PY
