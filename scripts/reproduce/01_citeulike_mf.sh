#!/usr/bin/env bash
# Run 1, "the bar": CiteULike MF + DirectSpec+ with the reference settings (300 epochs), both
# metric definitions, evaluated every 10 epochs; also writes the spectrum SVG and the embeddings.
source "$(dirname "$0")/common.sh"
run citeulike-mf --preset citeulike-mf --data "$DATASETS/citeulike" --metrics both --eval-every 10 \
    --spectrum-svg "$REPRO_OUT/citeulike-mf-spectrum.svg" --export-npy "$REPRO_OUT/citeulike-mf-npy"
cp "$REPRO_OUT/citeulike-mf-spectrum.svg" "$ROOT/docs/figures/citeulike-mf-spectrum.svg"
# NDCG@20 per epoch against the authors' logged values (epochs 30, 60, 150, 300).
"$PYTHON" "$HERE/plot_svg.py" curve --key paper_ndcg@20 --ylabel "NDCG@20" \
    --out "$ROOT/docs/figures/citeulike-mf-ndcg.svg" \
    --title "CiteULike MF + DirectSpec+ (reference settings): test NDCG@20" \
    --ref "authors' code=30:0.1856,60:0.2155,150:0.2320,300:0.2350" \
    "directspec (this library)=$REPRO_OUT/citeulike-mf.jsonl"
