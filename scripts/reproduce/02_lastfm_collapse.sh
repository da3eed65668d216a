#!/usr/bin/env bash
# Run 2, the collapse figure: LastFM MF with the positive-only log loss and no negatives,
# d 64, B 256, plain SGD lr 10 (no decay), no norm shrink, 30 epochs, evaluated every epoch,
# for no filter, linear DirectSpec (alpha 1) and DirectSpec+ (alpha 1, tau 3). Then the SVGs.
source "$(dirname "$0")/common.sh"
common=(--data "$DATASETS/lastfm" --model mf --loss log --optimizer sgd --lr 10 --lr-decay 1
    --dim 64 --batch 256 --shrink 0 --output-l2 0 --epochs 30 --eval-every 1)
for f in none directspec directspec+; do
    run "lastfm-$f" "${common[@]}" --filter "$f" --alpha 1 --tau 3 \
        --export-npy "$REPRO_OUT/lastfm-$f-npy"
done
"$PYTHON" "$HERE/plot_svg.py" curve --key erank --ylabel "effective rank (d = 64)" --out "$ROOT/docs/figures/lastfm-erank.svg" \
    --title "LastFM MF, positive-only log loss: effective rank per epoch" \
    "no filter=$REPRO_OUT/lastfm-none.jsonl" "DirectSpec (α 1)=$REPRO_OUT/lastfm-directspec.jsonl" \
    "DirectSpec+ (α 1, τ 3)=$REPRO_OUT/lastfm-directspec+.jsonl"
"$PYTHON" "$HERE/plot_svg.py" spectrum --out "$ROOT/docs/figures/lastfm-spectra.svg" \
    --title "LastFM MF after 30 epochs: singular values of [E_U; E_I]" \
    "no filter=$REPRO_OUT/lastfm-none-npy" "DirectSpec (α 1)=$REPRO_OUT/lastfm-directspec-npy" \
    "DirectSpec+ (α 1, τ 3)=$REPRO_OUT/lastfm-directspec+-npy"
