#!/usr/bin/env bash
# Run 7: Gowalla LightGCN + DirectSpec+ (the gowalla-lightgcn preset: lr 200 x 0.9999, α 0.7,
# τ 4, shrink 0.02, reg 0.01, 200 epochs) cut to EPOCHS (default 20: one epoch is 3,164 steps,
# about 2 minutes on one thread), evaluated every 2 epochs. THREADS (default 1) sets --threads.
source "$(dirname "$0")/common.sh"
EPOCHS="${EPOCHS:-20}"
THREADS="${THREADS:-1}"
name="gowalla-lightgcn-${EPOCHS}ep"
echo "== $name: $DIRECTSPEC_TRAIN --preset gowalla-lightgcn --epochs $EPOCHS (threads $THREADS)"
"$DIRECTSPEC_TRAIN" --preset gowalla-lightgcn --epochs "$EPOCHS" --data "$DATASETS/gowalla" \
    --metrics both --eval-every 2 --threads "$THREADS" --quiet --json "$REPRO_OUT/$name.jsonl" \
    >"$REPRO_OUT/$name.log" 2>&1
"$PYTHON" "$HERE/summarize.py" final "$name=$REPRO_OUT/$name.jsonl" | tail -n 1
# NDCG@20 per epoch against the published converged LightGCN / MF BPR values and MF + DirectSpec+.
"$PYTHON" "$HERE/plot_svg.py" curve --key ndcg@20 --ylabel "NDCG@20 (standard)" \
    --out "$ROOT/docs/figures/gowalla-lightgcn.svg" \
    --title "Gowalla LightGCN + DirectSpec+ (first $EPOCHS of 200 epochs): test NDCG@20" \
    --hline "LightGCN-BPR, published=0.1554" --hline "MF-BPR, published=0.1109" \
    "LightGCN + DirectSpec+=$REPRO_OUT/$name.jsonl"
