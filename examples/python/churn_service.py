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

What a service copies is the block "Talking to churnwatch" below: log_predictions() where the model
answers, send_outcomes() where the outcome becomes known, and call_churnwatch() under both
(docs/your-model.md shows them in a FastAPI service).
"""
import argparse
import csv
import json
import os
import sys
import time
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


# --- Talking to churnwatch: copy from here ---------------------------------------------------------


class ChurnwatchError(RuntimeError):
    """churnwatch refused a request (the message has its answer), or could not be reached."""


def call_churnwatch(url, path, body=None, attempts=6):
    """GET `path` (no body) or POST `body` as JSON; the answer as JSON. A refused connection, a timeout,
    a 503 (the prediction log is behind) or a 429 (rate limit) is retried after the server's Retry-After,
    else after 0.5, 1, 2, 4, 8 s; anything else raises ChurnwatchError. Retrying /log and /feedback is
    safe: churnwatch answers a prediction_id it has logged already in "already_logged" and a label it
    has already as "duplicate", and counts each once. CHURNWATCH_API_TOKEN, when set, is sent as the
    Bearer token a server with client tokens asks for."""
    headers = {"content-type": "application/json"}
    token = os.environ.get("CHURNWATCH_API_TOKEN")
    if token:
        headers["authorization"] = f"Bearer {token}"
    data = None if body is None else json.dumps(body).encode("utf-8")
    for attempt in range(1, attempts + 1):
        request = urllib.request.Request(url + path, data=data, headers=headers, method="GET" if body is None else "POST")
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return json.loads(response.read())
        except urllib.error.HTTPError as error:
            if error.code not in (429, 503) or attempt == attempts:
                raise ChurnwatchError(f"{request.method} {path} answered {error.code}: {error.read().decode()}") from None
            reason, delay = f"answered {error.code}", float(error.headers.get("retry-after") or 2 ** (attempt - 2))
        except (urllib.error.URLError, TimeoutError, ConnectionError) as error:
            if attempt == attempts:
                raise ChurnwatchError(f"{request.method} {path}: churnwatch at {url} is not reachable ({error})") from None
            reason, delay = f"not reachable ({getattr(error, 'reason', error)})", 2 ** (attempt - 2)
        print(f"churnwatch at {url} {reason}; retry {attempt} of {attempts - 1} in {delay:g} s", file=sys.stderr)
        time.sleep(delay)


def log_predictions(url, records):
    """POST /log: what the model predicted. Each record holds the features (GET /model lists them,
    under "dataset_schema"), "score" (the probability of churn) and the service's own "prediction_id"
    (a retry is then safe, and the outcome can name it); "class" (0/1) when the service decides
    otherwise than score >= the threshold; the customer id and a "timestamp" optionally. At most the
    server's --batch-limit records (default 1000) per call. Returns the answer: "prediction_ids",
    "model_version" and "already_logged" (the ids churnwatch had, counted once)."""
    return call_churnwatch(url, "/log", {"records": records})


def send_outcomes(url, outcomes):
    """POST /feedback: what happened, [{"prediction_id": ..., "churn": 0 or 1}, ...] (or the customer id
    instead of the prediction id: its latest prediction). Returns one result per outcome, in order:
    "joined", "pending" (the prediction is not logged yet), "duplicate" or "conflict"."""
    return call_churnwatch(url, "/feedback", {"records": outcomes})["results"]


# --- to here -------------------------------------------------------------------------------------


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
    schema = call_churnwatch(args.url, "/model")["dataset_schema"]
    kinds = {f["name"]: f["kind"] for f in schema["features"]}
    probabilities = score(part)
    logged, already = 0, 0
    for start in range(0, len(part), args.batch):
        batch = part[start : start + args.batch]
        records = []
        for r, p in zip(batch, probabilities[start : start + args.batch]):
            record = {name: cell(r[name], kind) for name, kind in kinds.items()}
            record.update({args.id: r[args.id], "score": round(float(p), 6), "prediction_id": f"py-{r[args.id]}"})
            records.append(record)
        answer = log_predictions(args.url, records)
        logged += len(answer["prediction_ids"])
        already += len(answer["already_logged"])
        print(f"POST /log: {len(records)} predictions (model {answer['model_version']})")
    # Later, the outcomes arrive: by prediction id here (a customer id works too).
    labels = [
        {"prediction_id": f"py-{r[args.id]}", "churn": 1 if r[args.target].strip().lower() in POSITIVE else 0}
        for r in part
    ]
    statuses = {}
    for start in range(0, len(labels), args.batch):
        for result in send_outcomes(args.url, labels[start : start + args.batch]):
            statuses[result["status"]] = statuses.get(result["status"], 0) + 1
    print(f"POST /feedback: {len(labels)} labels, {statuses}")
    summary = {"logged": logged, "already_logged": already, "labels": len(labels)}
    print(json.dumps({**summary, **{s: statuses.get(s, 0) for s in ("joined", "duplicate")}}))


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
    try:
        reference(args) if args.mode == "reference" else traffic(args)
    except ChurnwatchError as error:
        sys.exit(str(error))


if __name__ == "__main__":
    main()
