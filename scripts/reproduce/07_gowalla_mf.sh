#!/usr/bin/env bash
# Run 6: Gowalla MF + DirectSpec+ with the reference settings except the epochs, cut to EPOCHS
# (default 30; the preset trains 300), evaluated every 10 epochs.
source "$(dirname "$0")/common.sh"
EPOCHS="${EPOCHS:-30}"
run gowalla-mf --preset gowalla-mf --epochs "$EPOCHS" --data "$DATASETS/gowalla" \
    --metrics both --eval-every 10
