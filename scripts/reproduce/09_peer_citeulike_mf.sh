#!/usr/bin/env bash
# Run 9: the PyTorch peer (bench/peer/torch_directspec.py; PEER=path picks another copy) with the
# citeulike-mf settings (its defaults: B 256, lr 180 x 0.9995, alpha 1, tau 3, shrink 0.03, 300
# epochs), one thread, seed SEED (default 0), evaluated every 30 epochs (standard metrics; on
# CiteULike standard and paper NDCG@20 coincide). Tells a difference of implementation from seed
# spread. Needs Debian's python3-torch for PEER_PYTHON (default /usr/bin/python3); without it the
# run is skipped with a message (status 77).
source "$(dirname "$0")/common.sh"
SEED="${SEED:-0}"
PEER="${PEER:-$ROOT/bench/peer/torch_directspec.py}"
PEER_PYTHON="${PEER_PYTHON:-/usr/bin/python3}"
if ! "$PEER_PYTHON" -c "import numpy, torch" 2>/dev/null; then
    echo "09_peer_citeulike_mf.sh: python3-torch not installed for $PEER_PYTHON: skipping the peer run" >&2
    exit 77
fi
echo "== peer-citeulike-mf-seed$SEED: $PEER (log in $REPRO_OUT/peer-citeulike-mf-seed$SEED.log)"
# The machine pins an old OpenBLAS kernel through these variables; the peer runs without them
# (bench/compare_peer.sh does the same).
env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE "$PEER_PYTHON" "$PEER" \
    --data "$DATASETS/citeulike" --epochs 300 --eval-every 30 --threads 1 --seed "$SEED" \
    >"$REPRO_OUT/peer-citeulike-mf-seed$SEED.log" 2>&1
grep '^eval' "$REPRO_OUT/peer-citeulike-mf-seed$SEED.log" | tail -n 1
