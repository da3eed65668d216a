#!/usr/bin/env bash
# Run 6: Gowalla MF + DirectSpec+ with the reference settings except the epochs, cut to EPOCHS
# (default 30; the preset trains 300, run with EPOCHS=300), evaluated every 10 epochs.
source "$(dirname "$0")/common.sh"
EPOCHS="${EPOCHS:-30}"
SPAN="first $EPOCHS of 300 epochs"
[ "$EPOCHS" -ge 300 ] && SPAN="$EPOCHS epochs"
run "gowalla-mf-${EPOCHS}ep" --preset gowalla-mf --epochs "$EPOCHS" --data "$DATASETS/gowalla" \
    --metrics both --eval-every 10
# Recall@20 and NDCG@20 per epoch against the published converged LightGCN / MF BPR values.
"$PYTHON" "$HERE/plot_svg.py" curve --key ndcg@20 --ylabel "NDCG@20 (standard)" \
    --out "$ROOT/docs/figures/gowalla-mf.svg" \
    --title "Gowalla MF + DirectSpec+ ($SPAN): test NDCG@20" \
    --hline "LightGCN-BPR, published=0.1554" --hline "MF-BPR, published=0.1109" \
    "MF + DirectSpec+ (directspec)=$REPRO_OUT/gowalla-mf-${EPOCHS}ep.jsonl"
