#!/usr/bin/python3
"""End-to-end oracle for `quotewatch replay --samples FILE`.

Re-runs scikit-learn (Debian python3-sklearn) over the samples CSV, per
product, in learning order, exactly as the original design did:
    scaler.partial_fit(x); clf.partial_fit(scaler.transform(x), [y], classes=[0, 1])
and checks for every row:
  * label == (|mid_future - mid| > 1e-4 * mid)
  * p is present iff the model was ready (>= 100 labels of each class)
    after n_learned samples, and then equals
    clf.predict_proba(scaler.transform(x))[0][1] of the model that had
    learned exactly n_learned samples, to 1e-9 relative;
and, with --summary S, that the summary's final coef/intercept/scaler
mean/var per product match sklearn's after all rows (1e-9 relative).

usage: check_samples.py SAMPLES.csv [--summary SUMMARY.json]
"""
import csv
import json
import math
import sys
from collections import defaultdict

import numpy as np
from sklearn.linear_model import SGDClassifier
from sklearn.preprocessing import StandardScaler

FEATURES = ["spread_bps", "imbalance", "depth", "volatility"]  # the seed set; --features
# sets put their own names between t_ns and mid (docs/FEATURES.md)
ALL = FEATURES + ["microprice_bps", "ofi", "depth_imb_1", "depth_imb_5", "trade_imb", "ret_1s_bps",
                  "since_trade_s", "spread_ticks"]
REL = 1e-9


def close(a, b, rel=REL):
    return abs(a - b) <= rel * max(abs(a), abs(b)) or abs(a - b) <= 1e-300


def main():
    path = sys.argv[1]
    summary = None
    if "--summary" in sys.argv:
        summary = json.load(open(sys.argv[sys.argv.index("--summary") + 1]))
    rows = defaultdict(list)
    with open(path, newline="") as f:
        r = csv.DictReader(f)
        global FEATURES
        names = r.fieldnames[2:-5] if r.fieldnames else []
        if names and all(n in ALL for n in names) and len(set(names)) == len(names):
            FEATURES = names
        want = ["product", "t_ns", *FEATURES, "mid", "mid_future", "label", "n_learned", "p"]
        if r.fieldnames != want:
            print(f"bad header {r.fieldnames}")
            return 1
        for row in r:
            rows[row["product"]].append(row)
    if not rows:
        print("no samples")
        return 1
    errors = 0
    checked_p = 0
    for pid, rs in rows.items():
        by_n = defaultdict(list)
        for k, row in enumerate(rs):
            n = int(row["n_learned"])
            if n > k:
                print(f"{pid} row {k}: n_learned {n} > rows learned before it")
                errors += 1
            by_n[n].append(k)
        scaler = StandardScaler()
        clf = SGDClassifier(loss="log_loss")
        counts = [0, 0]
        fitted = False
        for n in range(len(rs) + 1):
            ready = counts[0] >= 100 and counts[1] >= 100
            for k in by_n.get(n, []):
                row = rs[k]
                x = np.array([[float(row[c]) for c in FEATURES]])
                has_p = row["p"] != ""
                if has_p != ready:
                    print(f"{pid} row {k}: p {'present' if has_p else 'absent'} but ready={ready} after {n}")
                    errors += 1
                    continue
                if has_p:
                    want_p = clf.predict_proba(scaler.transform(x))[0][1]
                    got = float(row["p"])
                    checked_p += 1
                    if not close(got, want_p):
                        if errors < 20:
                            print(f"{pid} row {k}: p {got!r} sklearn {want_p!r}")
                        errors += 1
            if n == len(rs):
                break
            row = rs[n]
            x = np.array([[float(row[c]) for c in FEATURES]])
            y = int(row["label"])
            mid, fut = float(row["mid"]), float(row["mid_future"])
            if y != int(abs(fut - mid) > 1e-4 * mid):
                print(f"{pid} row {n}: label {y} disagrees with mids {mid} -> {fut}")
                errors += 1
            scaler.partial_fit(x)
            clf.partial_fit(scaler.transform(x), [y], classes=[0, 1])
            fitted = True
            counts[y] += 1
        if summary is not None and fitted:
            m = summary["products"][pid]["model"]
            pairs = [("coef", list(clf.coef_[0])), ("intercept", [clf.intercept_[0]]),
                     ("scaler_mean", list(scaler.mean_)), ("scaler_var", list(scaler.var_))]
            for name, want in pairs:
                got = m[name] if isinstance(m[name], list) else [m[name]]
                if len(got) != len(want) or not all(close(a, b) for a, b in zip(got, want)):
                    print(f"{pid} summary {name}: {got} sklearn {want}")
                    errors += 1
            if m["labeled"] != len(rs):
                print(f"{pid} summary labeled {m['labeled']} != {len(rs)} rows")
                errors += 1
    total = sum(len(v) for v in rows.values())
    print(f"{total} samples, {len(rows)} products, {checked_p} probabilities checked, {errors} errors")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
