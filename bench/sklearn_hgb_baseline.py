"""scikit-learn baseline for bench/telco-auc.bench.ts (run by it; /usr/bin/python3 with sklearn 1.2).

Reads the train and held-out CSVs the benchmark wrote and the feature list it passes (name and kind, from
churnwatch's inferred schema), ordinal-encodes the categorical features on the training rows (a value not
seen there, or a missing one, is NaN) and passes them as categorical_features, then fits
HistGradientBoostingClassifier with its default parameters and prints one JSON line: the held-out ROC AUC
and the training seconds.
"""
import csv
import json
import sys
import time

import numpy as np
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.metrics import roc_auc_score


def read(path):
    with open(path, newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    return rows


def number(text, missing):
    text = text.strip()
    if text.lower() in missing:
        return np.nan
    try:
        return float(text)
    except ValueError:
        return np.nan


def main():
    spec = json.loads(sys.argv[1])
    features = spec["features"]
    missing = {t.strip().lower() for t in spec["missingTokens"]}
    train, test = read(spec["train"]), read(spec["holdout"])
    codes = {}
    for f in features:
        if f["kind"] == "categorical":
            values = sorted({r[f["name"]].strip() for r in train} - missing)
            codes[f["name"]] = {v: i for i, v in enumerate(values)}

    def matrix(rows):
        x = np.empty((len(rows), len(features)), dtype=np.float64)
        for j, f in enumerate(features):
            name = f["name"]
            if f["kind"] == "categorical":
                table = codes[name]
                x[:, j] = [table.get(r[name].strip(), np.nan) for r in rows]
            else:
                x[:, j] = [number(r[name], missing) for r in rows]
        return x

    def labels(rows):
        return np.array([1 if r[spec["target"]].strip() == spec["positive"] else 0 for r in rows])

    x_train, y_train = matrix(train), labels(train)
    x_test, y_test = matrix(test), labels(test)
    mask = np.array([f["kind"] == "categorical" for f in features])
    t0 = time.perf_counter()
    model = HistGradientBoostingClassifier(categorical_features=mask, random_state=0)
    model.fit(x_train, y_train)
    seconds = time.perf_counter() - t0
    auc = roc_auc_score(y_test, model.predict_proba(x_test)[:, 1])
    print(json.dumps({"rocAuc": auc, "trainSeconds": seconds, "iterations": int(model.n_iter_)}))


if __name__ == "__main__":
    main()
