"""XGBoost baseline for bench/model.bench.ts (run by it; /usr/bin/python3 with xgboost 1.7).

Reads the float32 row-major matrices the benchmark wrote (NaN = missing, categorical columns hold
dictionary codes), trains with tree_method=hist on the same rows and parameters, and prints one JSON
line: training seconds (DMatrix construction included, as our timing includes binning), held-out ROC
AUC and prediction rows/s.
"""
import json
import sys
import time

import numpy as np
import xgboost as xgb
from sklearn.metrics import roc_auc_score


def load(prefix, features):
    x = np.fromfile(prefix + ".x.f32", dtype=np.float32).reshape(-1, features)
    y = np.fromfile(prefix + ".y.u8", dtype=np.uint8)
    return x, y


def main():
    spec = json.loads(sys.argv[1])
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
