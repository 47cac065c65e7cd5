# ---- command line of the exported program ----
import argparse
import json
import sys


def _bad_input(message):
    """Bad input: say what and how to fix it, exit 2 (as t2ml does), and touch no file."""
    sys.stderr.write("error: %s\n" % message)
    sys.exit(2)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--train", default=CONFIG["train_path"], help="training file (default: the run's training file)")
    parser.add_argument("--test", help="rows to predict (the target column may be absent)")
    parser.add_argument("--out", default="predictions.csv", help="where to write predictions for --test")
    parser.add_argument("--save-model", help="write the fitted pipeline to this joblib file")
    parser.add_argument("--load-model", help="skip training: predict --test with a pipeline saved by --save-model")
    parser.add_argument("--metrics", help="write the cross-validated scores as JSON to this file")
    parser.add_argument("--oof", help="write the out-of-fold predictions to this CSV file")
    parser.add_argument("--force", action="store_true", help="overwrite --out if it exists")
    args = parser.parse_args(argv)
    import os

    import joblib

    for path in [args.train, args.test, args.load_model]:
        if path and not os.path.isfile(path):
            _bad_input("file not found: %s" % path)
    if args.load_model and not args.test:
        _bad_input("--load-model only predicts: give --test with the rows to predict")
    if args.test and os.path.exists(args.out) and not args.force:
        _bad_input("%s exists; pass another --out, or --force to overwrite it" % args.out)

    df = None
    if args.test:  # check the rows to predict before spending time on training
        try:
            df = read_table(args.test, CONFIG.get("sep", ","), CONFIG.get("encoding", "utf-8"))
        except (ValueError, UnicodeDecodeError) as exc:
            _bad_input("cannot read %s as a table (%s: %s)" % (args.test, type(exc).__name__, exc))
        missing = [c for c in CONFIG["feature_columns"] if c not in df.columns]
        if missing:
            _bad_input("the test file lacks columns the model uses: %s (the model was trained with them; "
                     "retrain without them, e.g. t2ml run ... %s)" % (missing, " ".join("--drop " + c for c in missing)))

    if args.load_model:
        model = joblib.load(args.load_model)
    else:
        try:
            X, y = load_training(args.train, CONFIG)
        except (ValueError, KeyError, UnicodeDecodeError) as exc:
            _bad_input("cannot read %s as the training table (%s: %s)" % (args.train, type(exc).__name__, exc))
        cv = cross_validate_ensemble(PIPELINES, X, y, CONFIG)
        print("CV %s: %.6f +/- %.6f (%d folds, %d rows)" % (CONFIG["metric"], cv["score"], cv["std"],
                                                           CONFIG["folds"], len(y)))
        if args.metrics:
            with open(args.metrics, "w") as fh:
                json.dump({"metric": CONFIG["metric"], "score": cv["score"], "std": cv["std"],
                           "fold_scores": cv["fold_scores"]}, fh)
        if args.oof:
            oof = cv["oof"]
            cols = ["pred"] if oof.ndim == 1 else ["proba_%d" % j for j in range(oof.shape[1])]
            pd.DataFrame(oof.reshape(len(y), -1), columns=cols).to_csv(args.oof, index=False)
        model = fit_final_ensemble(PIPELINES, X, y, CONFIG, cv)
        if args.save_model:
            joblib.dump(model, args.save_model)
    if df is not None:
        pred = prediction_frame(model.predict_output(prepare_frame(df, CONFIG)), CONFIG, df.index)
        if CONFIG.get("id_column") in df.columns:
            pred.insert(0, CONFIG["id_column"], df[CONFIG["id_column"]].to_numpy())
        pred.to_csv(args.out, index=False)
        print("wrote %d predictions to %s" % (len(pred), args.out))


if __name__ == "__main__":
    main()
