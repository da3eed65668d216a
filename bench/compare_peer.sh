#!/usr/bin/env bash
# Runs directspec-train and the PyTorch peer (bench/peer/torch_directspec.py) on the same
# dataset and settings, back to back, several times, and prints the median seconds per epoch of
# each and their ratio. Needs Debian's python3-torch for the peer (without it: a message saying
# the comparison is skipped, exit status 77), and an optimised BLAS behind it (apt-get install
# libopenblas0-pthread: with Debian's reference libblas3 the peer's GEMMs are about 10x slower
# and the comparison is meaningless).
#
#   bench/compare_peer.sh [--model mf|lightgcn] [--data DIR] [--epochs N] [--repeats R]
#                         [--threads T] [--cli PATH] [-- extra flags for both]
# Defaults: MF + DirectSpec+ with the CiteULike reference settings, 3 epochs, 3 repeats, 1 thread.
# PEER_PYTHON (default /usr/bin/python3) is the interpreter that runs the peer.
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
model=mf; data="$here/datasets/citeulike"; epochs=3; repeats=3; threads=1
cli="$here/build/examples/directspec-train"; peer="$here/bench/peer/torch_directspec.py"
extra=()
while [ $# -gt 0 ]; do
  case "$1" in
    --model) model=$2; shift 2 ;;
    --data) data=$2; shift 2 ;;
    --epochs) epochs=$2; shift 2 ;;
    --repeats) repeats=$2; shift 2 ;;
    --threads) threads=$2; shift 2 ;;
    --cli) cli=$2; shift 2 ;;
    --) shift; extra=("$@"); break ;;
    *) echo "compare_peer.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done
# Without torch there is nothing to compare: say so before any other check.
peer_python="${PEER_PYTHON:-/usr/bin/python3}"
"$peer_python" -c "import numpy, torch" 2>/dev/null || {
  echo "compare_peer.sh: python3-torch not installed for $peer_python: skipping the peer comparison" >&2
  exit 77
}
[ -x "$cli" ] || { echo "compare_peer.sh: build the CLI first ($cli)" >&2; exit 2; }
[ -f "$peer" ] || { echo "compare_peer.sh: peer script not found at $peer" >&2; exit 2; }

# The CiteULike reference settings (docs/method.md#reference-recipe); LightGCN adds reg 0.01.
common=(--dim 64 --batch 256 --lr 180 --lr-decay 0.9995 --alpha 1 --tau 3 --shrink 0.03 --epochs "$epochs")
[ "$model" = lightgcn ] && common+=(--output-l2 0.01 --layers 3)
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
ours=(); theirs=()
for r in $(seq 1 "$repeats"); do
  "$cli" --data "$data" --model "$model" --filter directspec+ "${common[@]}" --threads "$threads" \
    --quiet --json "$work/ours.json" "${extra[@]}" >/dev/null
  ours+=("$(/usr/bin/python3 -c "import json,sys; d=[json.loads(l) for l in open(sys.argv[1])][-1]; print(d['train_seconds']/d['epoch'])" "$work/ours.json")")
  # The machine's OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE pin an old kernel that slows current
  # OpenBLAS: unset them for the peer's run only (see the env notes in docs/performance.md).
  env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE "$peer_python" "$peer" --data "$data" --model "$model" "${common[@]}" --eval-every 0 \
    --threads "$threads" "${extra[@]}" >"$work/peer.txt"
  theirs+=("$(/usr/bin/python3 -c "import json,sys; s=[l for l in open(sys.argv[1]) if l.startswith('SUMMARY ')][-1]; print(json.loads(s[8:])['median_epoch_s'])" "$work/peer.txt")")
  echo "repeat $r: directspec ${ours[-1]} s/epoch, peer ${theirs[-1]} s/epoch"
done
/usr/bin/python3 - "${#ours[@]}" "${ours[@]}" "${theirs[@]}" <<'PY'
import statistics, sys
n = int(sys.argv[1]); ours = list(map(float, sys.argv[2:2 + n])); theirs = list(map(float, sys.argv[2 + n:]))
o, t = statistics.median(ours), statistics.median(theirs)
print(f"median s/epoch: directspec {o:.3f}, peer {t:.3f}, speed-up {t / o:.2f}x")
PY
