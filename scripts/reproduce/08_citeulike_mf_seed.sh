#!/usr/bin/env bash
# Run 1 again with another seed (SEED, default 1), to size the seed-to-seed spread of the bar.
source "$(dirname "$0")/common.sh"
SEED="${SEED:-1}"
run "citeulike-mf-seed$SEED" --preset citeulike-mf --seed "$SEED" --data "$DATASETS/citeulike" \
    --metrics both --eval-every 10
