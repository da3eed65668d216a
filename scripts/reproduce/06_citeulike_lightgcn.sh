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
# NDCG@20 per epoch of the LightGCN runs against MF + DirectSpec+ (run 1) over the same epochs.
R="$REPRO_OUT"
"$PYTHON" -c 'import json, sys
for line in open(sys.argv[1]):
    d = json.loads(line)
    if not d.get("final") and d["epoch"] <= int(sys.argv[2]):
        print(line, end="")' "$R/citeulike-mf.jsonl" "$EPOCHS" >"$R/citeulike-mf-first$EPOCHS.jsonl"
"$PYTHON" "$HERE/plot_svg.py" curve --key ndcg@20 --ylabel "NDCG@20 (standard)" \
    --out "$ROOT/docs/figures/citeulike-lightgcn.svg" \
    --title "CiteULike LightGCN (first $EPOCHS epochs): test NDCG@20" \
    "LightGCN + DirectSpec+=$R/citeulike-lightgcn.jsonl" \
    "LightGCN + adaptive DirectSpec+=$R/citeulike-lightgcn-adaptive.jsonl" \
    "MF + DirectSpec+ (run 1, first $EPOCHS epochs)=$R/citeulike-mf-first$EPOCHS.jsonl"
