"""XGBoost baseline for bench/model.bench.ts (run by it; /usr/bin/python3 with xgboost 1.7).

Reads the float32 row-major matrices the benchmark wrote (NaN = missing, categorical columns hold
dictionary codes), trains with tree_method=hist on the same rows and parameters, and prints one JSON
line: training seconds (DMatrix construction included, as our timing includes binning), held-out ROC
AUC and prediction rows/s. With "predictOnly" in the spec it trains (or loads "boosterCache") without
timing it and reports only predict rows/s, best and median of "repeats" runs on the prebuilt DMatrix.
"""
import json
import os
import sys
import time

import numpy as np
import xgboost as xgb
from sklearn.metrics import roc_auc_score


def load(prefix, features):
    x = np.fromfile(prefix + ".x.f32", dtype=np.float32).reshape(-1, features)
    y = np.fromfile(prefix + ".y.u8", dtype=np.uint8)
    return x, y


def predict_only(spec, x_train, y_train, x_test):
    """Trains (or loads the cached booster), then times predict alone, `repeats` times."""
    params = {
        "objective": "binary:logistic",
        "tree_method": "hist",
        "max_depth": spec["maxDepth"],
        "eta": spec["learningRate"],
        "max_bin": spec["maxBin"],
        "min_child_weight": spec["minChildWeight"],
        "lambda": spec["lambda"],
        "nthread": spec["threads"],
        "seed": 0,
    }
    cache = spec.get("boosterCache")
    booster = xgb.Booster(params)
    if cache and os.path.exists(cache):
        booster.load_model(cache)
    else:
        dtrain = xgb.DMatrix(
            x_train, label=y_train, feature_types=spec["featureTypes"], enable_categorical=True, nthread=spec["threads"]
        )
        booster = xgb.train(params, dtrain, num_boost_round=spec["trees"])
        if cache:
            booster.save_model(cache)
    booster.set_param({"nthread": spec["threads"]})
    rates = []
    for run in range(spec.get("repeats", 5) + 1):
        # A fresh DMatrix each run: the booster caches its predictions per DMatrix, so predicting the
        # same one twice would time a cache look-up.
        dtest = xgb.DMatrix(
            x_test, feature_types=spec["featureTypes"], enable_categorical=True, nthread=spec["threads"]
        )
        t1 = time.perf_counter()
        booster.predict(dtest)
        if run > 0:  # the first run is a warm-up
            rates.append(len(x_test) / (time.perf_counter() - t1))
        del dtest
    rates.sort()
    return {
        "predictRowsPerSecond": rates[-1],
        "predictRowsPerSecondMedian": rates[len(rates) // 2],
        "predictRuns": rates,
        "trees": spec["trees"],
        "version": xgb.__version__,
    }


def main():
    spec = json.loads(sys.argv[1])
    if spec.get("predictOnly"):
        nf = len(spec["featureTypes"])
        x_train, y_train = load(spec["train"], nf)
        x_test, _ = load(spec["test"], nf)
        print(json.dumps(predict_only(spec, x_train, y_train, x_test)))
        return
    nf = len(spec["featureTypes"])
    x_train, y_train = load(spec["train"], nf)
    x_test, y_test = load(spec["test"], nf)
    params = {
        "objective": "binary:logistic",
        "tree_method": "hist",
        "max_depth": spec["maxDepth"],
        "eta": spec["learningRate"],
        "max_bin": spec["maxBin"],
        "min_child_weight": spec["minChildWeight"],
        "lambda": spec["lambda"],
        "nthread": spec["threads"],
        "seed": 0,
    }
    t0 = time.perf_counter()
    c0 = time.process_time()
    dtrain = xgb.DMatrix(
        x_train, label=y_train, feature_types=spec["featureTypes"], enable_categorical=True, nthread=spec["threads"]
    )
    booster = xgb.train(params, dtrain, num_boost_round=spec["trees"])
    train_seconds = time.perf_counter() - t0
    train_cpu = time.process_time() - c0
    dtest = xgb.DMatrix(x_test, feature_types=spec["featureTypes"], enable_categorical=True, nthread=spec["threads"])
    t1 = time.perf_counter()
    scores = booster.predict(dtest)
    predict_seconds = time.perf_counter() - t1
    print(
        json.dumps(
            {
                "trainSeconds": train_seconds,
                "trainCpuSeconds": train_cpu,
                "heldOutAuc": float(roc_auc_score(y_test, scores)),
                "predictRowsPerSecond": len(y_test) / predict_seconds,
                "version": xgb.__version__,
            }
        )
    )


if __name__ == "__main__":
    main()
