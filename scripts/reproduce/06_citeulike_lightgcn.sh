#!/usr/bin/env bash
# Run 4: LightGCN on CiteULike with DirectSpec+ and adaptive DirectSpec+, reference settings
# except the epochs, cut to EPOCHS (default 30; the presets train 200 and 390 epochs) to fit the
# time budget; evaluated every 5 epochs. Optionally LightGCN-BPR (BPR_EPOCHS > 0).
source "$(dirname "$0")/common.sh"
EPOCHS="${EPOCHS:-30}"
BPR_EPOCHS="${BPR_EPOCHS:-0}"
C="$DATASETS/citeulike"
run citeulike-lightgcn --preset citeulike-lightgcn --epochs "$EPOCHS" --data "$C" \
    --metrics both --eval-every 5
run citeulike-lightgcn-adaptive --preset citeulike-lightgcn-adaptive --epochs "$EPOCHS" --data "$C" \
    --metrics both --eval-every 5
if [ "$BPR_EPOCHS" -gt 0 ]; then
    run citeulike-lightgcn-bpr --preset lightgcn-bpr --epochs "$BPR_EPOCHS" --data "$C" \
        --metrics both --eval-every 5
fi
