"""Trains the XGBoost booster bench/xgboost-import.bench.ts imports (/usr/bin/python3 with xgboost 1.7).

Argument: one JSON spec {csv, out, numeric: [names], categorical: [names], target, positive, trees,
depth, eta}. Reads the CSV (blank = missing), codes each categorical column as pandas does (index in
the sorted distinct values), trains binary:logistic with tree_method=hist and saves the JSON model.
"""
import csv
import json
import sys

import numpy as np
import xgboost as xgb


def main():
    spec = json.loads(sys.argv[1])
    with open(spec["csv"], newline="") as fh:
        rows = list(csv.DictReader(fh))
    columns = []
    for name in spec["numeric"]:
        columns.append([float(r[name]) if r[name] != "" else np.nan for r in rows])
    for name in spec["categorical"]:
        categories = sorted({r[name] for r in rows if r[name] != ""})
        code = {c: i for i, c in enumerate(categories)}
        columns.append([code[r[name]] if r[name] != "" else np.nan for r in rows])
    x = np.array(columns, dtype=np.float64).T
    y = np.array([1 if r[spec["target"]] == spec["positive"] else 0 for r in rows])
    names = spec["numeric"] + spec["categorical"]
    types = ["q"] * len(spec["numeric"]) + ["c"] * len(spec["categorical"])
    dtrain = xgb.DMatrix(x, label=y, feature_names=names, feature_types=types, enable_categorical=True)
    params = {
        "objective": "binary:logistic",
        "tree_method": "hist",
        "max_depth": spec["depth"],
        "eta": spec["eta"],
        "seed": 0,
        "nthread": 2,
    }
    xgb.train(params, dtrain, spec["trees"]).save_model(spec["out"])
    print(json.dumps({"xgboost": xgb.__version__, "rows": len(rows)}))


if __name__ == "__main__":
    main()
