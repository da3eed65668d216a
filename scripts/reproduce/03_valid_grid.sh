#!/usr/bin/env bash
# Run 5, tuning linear DirectSpec: split CiteULike train into train/valid (20% of each user's
# items, seed 2024; test.csv is never read) and grid alpha in {0.5, 1, 2, 4} with lr 180,
# shrink 0.03, 30 epochs, the rest of the citeulike-mf preset; metrics on the valid rows.
source "$(dirname "$0")/common.sh"
"$PYTHON" "$HERE/make_valid_split.py" "$DATASETS/citeulike/train.csv" "$REPRO_OUT/citeulike-valid"
for a in 0.5 1 2 4; do
    run "valid-directspec-a$a" --preset citeulike-mf --filter directspec --alpha "$a" \
        --lr 180 --shrink 0.03 --epochs 30 --eval-every 10 \
        --train "$REPRO_OUT/citeulike-valid/train.csv" --test "$REPRO_OUT/citeulike-valid/valid.csv"
done
# How long to train: the chosen alpha (2) for 100 epochs on the same validation split.
run valid-directspec-a2-100ep --preset citeulike-mf --filter directspec --alpha 2 \
    --lr 180 --shrink 0.03 --epochs 100 --eval-every 10 \
    --train "$REPRO_OUT/citeulike-valid/train.csv" --test "$REPRO_OUT/citeulike-valid/valid.csv"
