#!/usr/bin/env python3
"""backtest_check.py: recompute every metric of a `quotewatch backtest`
report with scikit-learn from the same predictions (--predictions-csv) and
compare (relative tolerance 1e-9; docs/BACKTEST.md).

usage: backtest_check.py REPORT.json PREDICTIONS.csv

Checked per configuration: pooled, per product and per time window --
samples, positives, positive_rate, baseline_accuracy, accuracy
(accuracy_score of p >= 0.5), roc_auc (roc_auc_score; null when one class),
log_loss (log_loss, labels=[0, 1]), brier (brier_score_loss), mean_p; the
calibration table (pooled and per product) against calibration_curve
(n_bins=10, strategy="uniform") plus counts by numpy searchsorted; the ROC
points lie on sklearn's roc_curve. Prints one line per configuration.
"""
import csv
import json
import math
import sys
from collections import defaultdict

import numpy as np
from sklearn.calibration import calibration_curve
from sklearn.metrics import (accuracy_score, brier_score_loss, log_loss,
                             roc_auc_score, roc_curve)

TOL = 1e-9
fails = 0


def close(a, b):
    if a is None or b is None:
        return a is None and b is None
    if a == b:
        return True
    return abs(a - b) <= TOL * max(abs(a), abs(b))


def check(what, got, want):
    global fails
    if not close(got, want):
        fails += 1
        if fails <= 30:
            print(f"FAIL {what}: report {got!r}, sklearn {want!r}")


def metrics(p, y):
    p = np.asarray(p, dtype=np.float64)
    y = np.asarray(y, dtype=np.int64)
    n = len(p)
    pos = int(y.sum())
    rate = pos / n
    m = {
        "samples": n,
        "positives": pos,
        "positive_rate": rate,
        "baseline_accuracy": max(rate, 1 - rate),
        "accuracy": float(accuracy_score(y, (p >= 0.5).astype(np.int64))),
        "roc_auc": float(roc_auc_score(y, p)) if 0 < pos < n else None,
        "log_loss": float(log_loss(y, p, labels=[0, 1])),
        "brier": float(brier_score_loss(y, p)),
        "mean_p": float(np.mean(p)),
    }
    return m


def check_metrics(what, rep, p, y, calibration):
    want = metrics(p, y)
    for k, v in want.items():
        check(f"{what} {k}", rep[k], v)
    if not calibration:
        return
    p = np.asarray(p, dtype=np.float64)
    y = np.asarray(y, dtype=np.int64)
    bins = np.linspace(0.0, 1.0, 11)
    ids = np.searchsorted(bins[1:-1], p)
    cal = rep["calibration"]
    for k in range(10):
        sel = ids == k
        check(f"{what} calibration[{k}] count", cal[k]["count"], int(sel.sum()))
        check(f"{what} calibration[{k}] positives", cal[k]["positives"], int(y[sel].sum()))
    prob_true, prob_pred = calibration_curve(y, p, n_bins=10, strategy="uniform")
    nonempty = [b for b in cal if b["count"] > 0]
    check(f"{what} calibration nonempty bins", len(nonempty), len(prob_true))
    for b, t, q in zip(nonempty, prob_true, prob_pred):
        check(f"{what} calibration rate", b["rate"], float(t))
        check(f"{what} calibration mean_p", b["mean_p"], float(q))


def main():
    rep = json.load(open(sys.argv[1]))
    preds = defaultdict(list)
    with open(sys.argv[2]) as f:
        for row in csv.DictReader(f):
            preds[int(row["config"])].append(
                (row["product"], int(row["t_ns"]), float(row["p"]), int(row["y"])))
    w_ns = int(round(rep["window_s"] * 1e9))
    for c in rep["configs"]:
        rows = preds[c["index"]]
        cid = c["id"]
        check(f"{cid} scored", c["scored"], len(rows) + c["dropped"])
        p = [r[2] for r in rows]
        y = [r[3] for r in rows]
        check_metrics(f"{cid} pooled", c["pooled"], p, y, True)
        byp = defaultdict(list)
        for r in rows:
            byp[r[0]].append(r)
        for prod, rep_m in c["products"].items():
            rr = byp.get(prod, [])
            if not rr:
                check(f"{cid} {prod} samples", rep_m["samples"], 0)
                continue
            check_metrics(f"{cid} {prod}", rep_m, [r[2] for r in rr], [r[3] for r in rr], True)
        missing = set(byp) - set(c["products"])
        check(f"{cid} products missing from report", sorted(missing), [])
        byw = defaultdict(list)
        for r in rows:
            byw[(r[1] // w_ns) * w_ns].append(r)
        check(f"{cid} windows", [w["start_ns"] for w in c["windows"]], sorted(byw))
        for w in c["windows"]:
            rr = byw.get(w["start_ns"], [])
            check_metrics(f"{cid} window {w['start']}", w, [r[2] for r in rr],
                          [r[3] for r in rr], False)
        # the ROC points lie on sklearn's curve (thinned): each (fpr, tpr)
        # is one of roc_curve(drop_intermediate=False)'s points
        if c["pooled"]["roc_auc"] is not None:
            fpr, tpr, _ = roc_curve(y, p, drop_intermediate=False)
            pts = set(zip(np.round(fpr, 12), np.round(tpr, 12)))
            for a, b in c["roc"]:
                if (round(a, 12), round(b, 12)) not in pts:
                    check(f"{cid} roc point", (a, b), "on sklearn's roc_curve")
                    break
        print(f"{cid}: {len(rows)} predictions, {len(c['products'])} products, "
              f"{len(c['windows'])} windows checked")
    if fails:
        print(f"{fails} mismatches")
        sys.exit(1)
    print("backtest metrics equal scikit-learn's")


if __name__ == "__main__":
    main()
