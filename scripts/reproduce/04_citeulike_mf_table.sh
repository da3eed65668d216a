#!/usr/bin/env bash
# Run 3, the CiteULike MF table (standard metrics; paper-mode metrics logged too). DirectSpec+ is
# run 1 (01_citeulike_mf.sh). Epoch cuts (time budget on a shared 2-core machine) are noted in
# docs/reproduction.md. Linear DirectSpec is 05_citeulike_mf_directspec.sh (its alpha comes
# from the validation grid).
source "$(dirname "$0")/common.sh"
C="$DATASETS/citeulike"
# Positive-only log loss without a filter (the collapsing baseline), reference MF settings.
run citeulike-mf-none --preset citeulike-mf --filter none --data "$C" \
    --metrics both --eval-every 10
# Adaptive DirectSpec+ with its reference settings (50 epochs).
run citeulike-mf-adaptive --preset citeulike-mf-adaptive --data "$C" --metrics both --eval-every 10
# BPR-MF (Adam 1e-3, batch 2048, 1 negative, weight decay 1e-4), 300 epochs.
run citeulike-bpr-mf --preset bpr-mf --data "$C" --metrics both --eval-every 10
# DirectAU (alignment + uniformity, gamma 1), Adam 1e-3, batch 1024, 50 epochs.
run citeulike-directau --model mf --loss directau --filter none --optimizer adam --lr 1e-3 \
    --batch 1024 --gamma 1 --dim 64 --epochs 50 --data "$C" --metrics both --eval-every 10
