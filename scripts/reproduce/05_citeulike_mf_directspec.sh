#!/usr/bin/env bash
# Run 3 (continued): CiteULike MF with linear DirectSpec. ALPHA is the value chosen on the
# validation grid of 03_valid_grid.sh; everything else is the reference citeulike-mf preset
# (lr 180, shrink 0.03, 300 epochs x 0.9995).
source "$(dirname "$0")/common.sh"
ALPHA="${ALPHA:-1}"
C="$DATASETS/citeulike"
# Linear DirectSpec with the validation-chosen alpha, otherwise the reference MF settings.
run "citeulike-mf-directspec-a$ALPHA" --preset citeulike-mf --filter directspec --alpha "$ALPHA" \
    --data "$C" --metrics both --eval-every 10
# NDCG@20 per epoch of every CiteULike MF run (needs 01 and 04 first).
R="$REPRO_OUT"
"$PYTHON" "$HERE/plot_svg.py" curve --key ndcg@20 --ylabel "NDCG@20 (standard)" \
    --out "$ROOT/docs/figures/citeulike-mf-methods.svg" --title "CiteULike MF: test NDCG@20 per epoch" \
    "DirectSpec+=$R/citeulike-mf.jsonl" "adaptive DirectSpec+=$R/citeulike-mf-adaptive.jsonl" \
    "DirectSpec (α $ALPHA)=$R/citeulike-mf-directspec-a$ALPHA.jsonl" "DirectAU=$R/citeulike-directau.jsonl" \
    "BPR=$R/citeulike-bpr-mf.jsonl" "no filter=$R/citeulike-mf-none.jsonl"
