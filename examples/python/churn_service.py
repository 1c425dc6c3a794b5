#!/usr/bin/env python3
"""How a Python churn service (scikit-learn, served by FastAPI or anything else) gets monitored by
churnwatch without churnwatch ever scoring: the service keeps its model, and tells churnwatch what it
predicted (POST /log) and, later, what happened (POST /feedback). Standard library + scikit-learn only.

The CSV is split by row order: the first 40 % trains a LogisticRegression, the next 30 % is the
reference (scored once, for `churnwatch profile`), the last 30 % plays production traffic.

  # 1. score the reference and write it with the model's probability beside the label
  python3 churn_service.py reference --data telco.csv --target Churn --out reference.csv
  # 2. make the monitor-only artifact and serve it (see docs/your-model.md)
  npx churnwatch profile --data reference.csv --target Churn --score churn_probability --id customerID
  npx churnwatch serve --model models/latest
  # 3. send production predictions, then their labels
  python3 churn_service.py traffic --data telco.csv --target Churn --url http://127.0.0.1:8080

Retraining in step 3 gives the same model as in step 1 (same rows, deterministic solver), so the logged
scores are those of the model the reference describes; a real service would load its saved model.
"""
import argparse
import csv
import json
import sys
import urllib.error
import urllib.request

from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

POSITIVE = {"1", "yes", "true", "y"}


def read_rows(path):
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def as_number(text):
    try:
        return float(text)
    except ValueError:
        return None


def column_kinds(rows, columns):
    """A column is numeric when every non-blank cell parses as a number (as churnwatch infers it)."""
    kinds = {}
    for c in columns:
        cells = [r[c].strip() for r in rows if r[c].strip() != ""]
        kinds[c] = "numeric" if cells and all(as_number(v) is not None for v in cells) else "categorical"
    return kinds


def matrix(rows, numeric, categorical):
    out = []
    for r in rows:
        values = [as_number(r[c].strip()) if r[c].strip() else float("nan") for c in numeric]
        values += [r[c].strip() or "missing" for c in categorical]
        out.append(values)
    return out


def train(rows, target, id_column):
    """The service's model: one-hot categories, scaled numbers, a logistic regression."""
    features = [c for c in rows[0].keys() if c not in (target, id_column)]
    kinds = column_kinds(rows, features)
    numeric = [c for c in features if kinds[c] == "numeric"]
    categorical = [c for c in features if kinds[c] == "categorical"]
    n = len(numeric)
    model = make_pipeline(
        ColumnTransformer(
            [
                ("num", make_pipeline(SimpleImputer(strategy="median"), StandardScaler()), list(range(n))),
                ("cat", OneHotEncoder(handle_unknown="ignore"), list(range(n, n + len(categorical)))),
            ]
        ),
        LogisticRegression(max_iter=1000),
    )
    train_rows = rows[: int(len(rows) * 0.4)]
    y = [1 if r[target].strip().lower() in POSITIVE else 0 for r in train_rows]
    model.fit(matrix(train_rows, numeric, categorical), y)
    return lambda part: model.predict_proba(matrix(part, numeric, categorical))[:, 1]


def post(url, path, body):
    request = urllib.request.Request(
        url + path,
        data=json.dumps(body).encode("utf-8"),
        headers={"content-type": "application/json"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return json.loads(response.read())
    except urllib.error.HTTPError as error:
        sys.exit(f"POST {path} answered {error.code}: {error.read().decode()}")


def get(url, path):
    with urllib.request.urlopen(url + path, timeout=30) as response:
        return json.loads(response.read())


def reference(args):
    rows = read_rows(args.data)
    score = train(rows, args.target, args.id)
    part = rows[int(len(rows) * 0.4) : int(len(rows) * 0.7)]
    probabilities = score(part)
    with open(args.out, "w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=[*rows[0].keys(), args.score_column])
        writer.writeheader()
        for r, p in zip(part, probabilities):
            writer.writerow({**r, args.score_column: f"{p:.6f}"})
    print(f"reference: {len(part)} rows scored, written to {args.out} (column {args.score_column})")


def cell(value, kind):
    """A CSV cell as the monitor's schema wants it: numbers as numbers, categories as strings, blank = null."""
    value = value.strip()
    if value == "":
        return None
    return as_number(value) if kind == "numeric" else value


def traffic(args):
    rows = read_rows(args.data)
    score = train(rows, args.target, args.id)
    part = rows[int(len(rows) * 0.7) :][: args.rows]
    # GET /model says which fields the monitor takes and their kinds (the profile's schema).
    schema = get(args.url, "/model")["dataset_schema"]
    kinds = {f["name"]: f["kind"] for f in schema["features"]}
    probabilities = score(part)
    ids = []
    for start in range(0, len(part), args.batch):
        batch = part[start : start + args.batch]
        records = []
        for r, p in zip(batch, probabilities[start : start + args.batch]):
            record = {name: cell(r[name], kind) for name, kind in kinds.items()}
            record.update({args.id: r[args.id], "score": round(float(p), 6), "prediction_id": f"py-{r[args.id]}"})
            records.append(record)
        answer = post(args.url, "/log", {"records": records})
        ids += answer["prediction_ids"]
        print(f"POST /log: {len(records)} predictions (model {answer['model_version']})")
    # Later, the outcomes arrive: by prediction id here (a customer id works too).
    labels = [
        {"prediction_id": f"py-{r[args.id]}", "churn": 1 if r[args.target].strip().lower() in POSITIVE else 0}
        for r in part
    ]
    joined = 0
    for start in range(0, len(labels), args.batch):
        results = post(args.url, "/feedback", {"records": labels[start : start + args.batch]})["results"]
        joined += sum(1 for r in results if r["status"] == "joined")
    print(f"POST /feedback: {len(labels)} labels, {joined} joined")
    print(json.dumps({"logged": len(ids), "labels": len(labels), "joined": joined}))


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("mode", choices=["reference", "traffic"])
    parser.add_argument("--data", required=True, help="the labelled CSV")
    parser.add_argument("--target", default="Churn", help="the label column")
    parser.add_argument("--id", default="customerID", help="the customer id column")
    parser.add_argument("--out", default="reference.csv", help="reference: where the scored reference goes")
    parser.add_argument("--score-column", default="churn_probability", help="reference: the score's column")
    parser.add_argument("--url", default="http://127.0.0.1:8080", help="traffic: the churnwatch server")
    parser.add_argument("--rows", type=int, default=1000, help="traffic: how many predictions to send")
    parser.add_argument("--batch", type=int, default=100, help="traffic: records per request")
    args = parser.parse_args()
    reference(args) if args.mode == "reference" else traffic(args)


if __name__ == "__main__":
    main()
