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
