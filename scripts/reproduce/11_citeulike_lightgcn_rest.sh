#!/usr/bin/env bash
# Run 5: the rest of the CiteULike LightGCN column, evaluated every 10 epochs, one after the
# other (RUNS selects a subset, e.g. RUNS="bpr none"):
#   adaptive  adaptive DirectSpec+, the citeulike-lightgcn-adaptive preset, 390 epochs
#   bpr       LightGCN-BPR, the lightgcn-bpr preset, 300 epochs
#   none      the positive-only log loss without a filter: citeulike-lightgcn, --filter none
#   directau  DirectAU on LightGCN, the MF table's DirectAU settings (Adam 1e-3, B 1024, γ 1, 50 epochs)
#   linear    linear DirectSpec with the α 2 chosen for MF (section 3), 100 epochs
source "$(dirname "$0")/common.sh"
RUNS="${RUNS:-adaptive bpr none directau linear}"
C="$DATASETS/citeulike"
for r in $RUNS; do
    case "$r" in
    adaptive) run citeulike-lightgcn-adaptive-390ep --preset citeulike-lightgcn-adaptive \
        --data "$C" --metrics both --eval-every 10 ;;
    bpr) run citeulike-lightgcn-bpr --preset lightgcn-bpr --data "$C" --metrics both --eval-every 10 ;;
    none) run citeulike-lightgcn-none --preset citeulike-lightgcn --filter none --data "$C" \
        --metrics both --eval-every 10 ;;
    directau) run citeulike-lightgcn-directau --model lightgcn --loss directau --filter none \
        --optimizer adam --lr 1e-3 --batch 1024 --gamma 1 --dim 64 --epochs 50 --data "$C" \
        --metrics both --eval-every 10 ;;
    linear) run citeulike-lightgcn-linear --preset citeulike-lightgcn --filter directspec --alpha 2 \
        --epochs 100 --data "$C" --metrics both --eval-every 10 ;;
    *) echo "unknown run '$r' (adaptive, bpr, none, directau, linear)" >&2; exit 2 ;;
    esac
done
