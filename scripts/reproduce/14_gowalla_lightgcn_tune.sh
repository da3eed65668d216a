#!/usr/bin/env bash
# Run 14: LightGCN + DirectSpec+ on Gowalla with amortised propagation (M = 64), its setting
# searched on validation data (docs/reproduction.md section 8): directspec-tune from the
# gowalla-lightgcn preset over lr, alpha, tau and output L2, validation carved from train (10 %
# per user, seed 0), successive halving at 4, 12, 36 and 108 epochs, a 55-minute budget, 2
# threads; then the refit of the best setting on train + validation, tested once. Then the
# preset itself on the same validation part for 36 epochs, as the reference the search has to
# beat, and a one-at-a-time screen around the best setting (norm shrink, depth, layer weights,
# batch, the loss). About 130 minutes on the 2-core machine with nothing else running.
source "$(dirname "$0")/common.sh"
DIRECTSPEC_TUNE="${DIRECTSPEC_TUNE:-$ROOT/build/examples/directspec-tune}"
base=(--data "$DATASETS/gowalla" --preset gowalla-lightgcn --micro-batches 64 --threads 2)
name=gowalla-lightgcn-tune
echo "== $name (load: $(cut -d' ' -f1-3 /proc/loadavg))"
"$DIRECTSPEC_TUNE" "${base[@]}" \
    --space "lr=20:600:log,alpha=0.2:1.5,tau=1.5:10:log,output-l2=0.001:0.1:log,epochs=4:108" \
    --budget-minutes 55 --top 15 --refit --json "$REPRO_OUT/$name.jsonl" \
    --out "$REPRO_OUT/$name.preset" >"$REPRO_OUT/$name.log" 2>&1
grep -E "^best|trials \(|^TEST" "$REPRO_OUT/$name.log"
name=gowalla-lightgcn-preset-valid
echo "== $name (load: $(cut -d' ' -f1-3 /proc/loadavg))"
"$DIRECTSPEC_TUNE" "${base[@]}" --space "lr=200,alpha=0.7,tau=4,output-l2=0.01,epochs=36" \
    --trials 1 --eval-every 4 --json "$REPRO_OUT/$name.jsonl" >"$REPRO_OUT/$name.log" 2>&1
grep -E "^best|->" "$REPRO_OUT/$name.log"
# One-at-a-time screen around the searched setting (trial 32 of the search above), 36 epochs each:
# "space additions|extra flags" per run (the losses other than log need their own extra values).
searched="alpha=0.768,tau=3.592,output-l2=0.01899,epochs=36"
screen=("lr=435.9,shrink=0|" "lr=435.9,shrink=0.01|" "lr=435.9,shrink=0.03|" "lr=435.9,shrink=0.05|"
        "lr=435.9,layers=2|" "lr=435.9,layers=4|" "lr=435.9,layer-weights=sum|"
        "lr=435.9,batch=512|"
        "lr=435.9,weight-decay=0,negatives=1|--loss bpr"
        "lr=435.9,weight-decay=0,negatives=4,temperature=0.1|--loss ssm"
        "lr=100,weight-decay=0,negatives=4,temperature=0.1|--loss ssm"
        "lr=435.9,weight-decay=0,gamma=1|--loss directau"
        "lr=0.001,weight-decay=0,negatives=4,temperature=0.1|--loss ssm --optimizer adam"
        "lr=435.9,tau0=3.092,tau1=3.592|--filter adaptive")
for entry in "${screen[@]}"; do
  change="${entry%%|*}"
  space="$searched,$change"
  [[ "$change" == *tau0=* ]] && space="${space/tau=3.592,/}"
  read -r -a extra <<<"${entry#*|}"
  name="gowalla-lightgcn-screen-${change//[,=]/-}${extra[1]:+-${extra[1]}}"
  "$DIRECTSPEC_TUNE" "${base[@]}" "${extra[@]}" --space "$space" --trials 1 \
      --eval-every 4 --json "$REPRO_OUT/$name.jsonl" >"$REPRO_OUT/$name.log" 2>&1
  echo "$change ${extra[*]}: $(grep -E '^best' "$REPRO_OUT/$name.log")"
done
