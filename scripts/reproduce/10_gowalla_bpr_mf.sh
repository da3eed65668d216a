#!/usr/bin/env bash
# Run 10: the BPR-MF baseline on Gowalla (`--preset bpr-mf`: BPR with one uniform negative, Adam
# lr 0.001, weight decay 1e-4, B 2048, 300 epochs), evaluated every 10 epochs, to set beside the
# published MF-BPR figure on this split (Recall@20 0.1291, NDCG@20 0.1109).
source "$(dirname "$0")/common.sh"
run gowalla-bpr-mf --preset bpr-mf --data "$DATASETS/gowalla" --metrics both --eval-every 10
