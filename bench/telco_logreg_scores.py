"""External scores for bench/cbpe.bench.ts: scikit-learn's LogisticRegression on the Telco churn table
(../shared/data/telco), one-hot categoricals and standardised numbers (blank TotalCharges read as 0),
fitted on a seeded 40 % of the rows; the other rows are split into a reference half and an analysis
half. Prints CSV: part (reference|analysis), score (predict_proba of Churn = Yes), label (1 = Yes).
Run by /usr/bin/python3 (Debian's, with scikit-learn 1.2): python3 telco_logreg_scores.py <telco.csv>"""
import csv
import sys

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import OneHotEncoder, StandardScaler

with open(sys.argv[1], newline="") as f:
    rows = list(csv.DictReader(f))
numeric = ["SeniorCitizen", "tenure", "MonthlyCharges", "TotalCharges"]
skip = {"customerID", "Churn", *numeric}
categorical = [c for c in rows[0] if c not in skip]
num = np.array([[float(r[c].strip() or 0) for c in numeric] for r in rows])
cat = np.array([[r[c] for c in categorical] for r in rows], dtype=object)
y = np.array([1 if r["Churn"] == "Yes" else 0 for r in rows])

order = np.random.RandomState(7).permutation(len(rows))
fit_rows, rest = order[: int(0.4 * len(rows))], order[int(0.4 * len(rows)) :]
scaler = StandardScaler().fit(num[fit_rows])
encoder = OneHotEncoder(handle_unknown="ignore", sparse_output=False).fit(cat[fit_rows])
X = np.hstack([scaler.transform(num), encoder.transform(cat)])
model = LogisticRegression(max_iter=2000).fit(X[fit_rows], y[fit_rows])
scores = model.predict_proba(X[rest])[:, 1]
half = len(rest) // 2
print("part,score,label")
for k, (i, s) in enumerate(zip(rest, scores)):
    print(f"{'reference' if k < half else 'analysis'},{float(s)!r},{y[i]}")
