"""Tunes DirectSpec+ MF with Optuna on a validation split carved from train: never on test.

Each trial fits directspec.MF with sampled lr, alpha and tau; a callback reports the validation
NDCG@20 after every epoch, and Optuna's median pruner stops poor trials early (the fit stops
cleanly and raises optuna.TrialPruned). The best setting is then refitted on the same train
split and evaluated once on test.

    PYTHONPATH=build/python python3 python/examples/optuna_tune.py --data datasets/ml-100k \\
        --trials 20 --epochs 10

Without --data it tunes on the built-in synthetic dataset. Needs python3-optuna.
"""

import argparse

import optuna

import directspec


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", help="a dataset folder (train.csv, test.csv)")
    parser.add_argument("--trials", type=int, default=20)
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()

    # 10% of each user's train items become the validation set; test stays untouched.
    data = directspec.load_dataset(args.data, valid_fraction=0.1, seed=args.seed)
    metric = "ndcg@20"

    def objective(trial):
        model = directspec.MF(lr=trial.suggest_float("lr", 1.0, 100.0, log=True),
                              alpha=trial.suggest_float("alpha", 0.25, 4.0, log=True),
                              tau=trial.suggest_float("tau", 0.5, 5.0),
                              epochs=args.epochs, seed=args.seed, threads=args.threads)
        history = []

        def report(logs):  # validation metrics arrive every epoch (eval_every defaults to 1)
            history.append(logs[metric])
            trial.report(logs[metric], logs["epoch"])
            if trial.should_prune():
                raise optuna.TrialPruned()

        model.fit(data, callbacks=[report], progress=False)
        return max(history)

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(direction="maximize",
                                sampler=optuna.samplers.TPESampler(seed=args.seed),
                                pruner=optuna.pruners.MedianPruner(n_warmup_steps=2))
    study.optimize(objective, n_trials=args.trials)
    print(f"best validation {metric}: {study.best_value:.4f} with {study.best_params}")

    best = directspec.MF(**study.best_params, epochs=args.epochs, seed=args.seed,
                         threads=args.threads).fit(data, progress=False)
    test = best.evaluate(data)
    print(f"test (reported once): recall@20 {test['recall@20']:.4f}  "
          f"ndcg@20 {test['ndcg@20']:.4f}")


if __name__ == "__main__":
    main()
