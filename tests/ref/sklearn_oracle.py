#!/usr/bin/python3
"""Reference fixtures for the online model (src/model/), from scikit-learn.

Runs Debian's python3-sklearn (1.2.x; use /usr/bin/python3) one sample at a
time, exactly as QuoteWatch's model does per labeled sample:

    scaler.partial_fit(x)
    clf.partial_fit(scaler.transform(x), [y], classes=[0, 1])

with StandardScaler() and SGDClassifier(loss="log_loss", alpha=ALPHA) (all
other hyper-parameters default; ALPHA is 1e-4, the default, except in the
streams that exist to reach the weight-scale reset branch).

Output: DIR/index.txt (one fixture file name per line) and one text file
per stream:

    qw-sklearn-fixture 1
    name <stream>
    n_features <nf>
    alpha <alpha>
    n_steps <n>
    step <k> <y> <x[nf]> <has_p> <p> <coef[nf]> <intercept> <mean[nf]> <var[nf]> <n_seen> <t>
    ...

Each "step" row k (0-based) holds the sample (x, y) and:
  has_p, p  the probability predicted for x BEFORE the sample is learned, with
            the model as it stood after steps 0..k-1:
            clf.predict_proba(scaler.transform(x))[0][1]. has_p is 0 (and p
            is 0) on step 0 only: before its first fit the model has no
            prediction (sklearn raises NotFittedError).
  coef, intercept, mean, var, n_seen, t
            the state AFTER learning the sample: clf.coef_[0],
            clf.intercept_[0], scaler.mean_, scaler.var_,
            scaler.n_samples_seen_, clf.t_.
Floats are printed with repr(), which round-trips binary64 exactly.

The streams are deterministic (numpy Generator, fixed seeds): balanced and
heavily imbalanced labels, a run of one class at the start, constant
(zero-variance) features, large (~1e4, ~1e8) and tiny (~1e-6) magnitudes,
near-constant large features (relative noise ~1e-13), heavy tails that
push |w.x + b| past the log-loss clipping threshold 18, 1 and 16 features.

usage: sklearn_oracle.py OUTDIR
"""
import os
import sys

import numpy as np
from sklearn.linear_model import SGDClassifier
from sklearn.preprocessing import StandardScaler


def sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def bern(rng, p):
    return (rng.random(len(p)) < p).astype(int)


def stream_balanced(rng, n):
    spread = rng.lognormal(0.5, 0.6, n)
    imb = rng.uniform(-1.0, 1.0, n)
    depth = 1e4 * rng.lognormal(0.0, 0.3, n)
    vol = 1e-6 * rng.lognormal(0.0, 0.5, n)
    z = 1.5 * imb + 0.8 * (np.log(spread) - 0.5) + 0.4 * (vol / 1e-6 - 1.1) - 0.3
    return np.column_stack([spread, imb, depth, vol]), bern(rng, sigmoid(z))


def stream_imbalanced(rng, n):
    x, _ = stream_balanced(rng, n)
    z = 2.0 * x[:, 1] - 4.0
    return x, bern(rng, sigmoid(z))  # ~3% positives


def stream_constant(rng, n):
    # feature 0 is exactly 0, feature 2 a non-representable constant whose
    # running mean picks up rounding noise (the near-constant test must catch
    # it), feature 3 is tiny; the first 250 labels are all 0.
    x = np.column_stack([
        np.zeros(n),
        rng.normal(0.0, 1.0, n),
        np.full(n, 12345.678),
        1e-6 * rng.standard_normal(n),
    ])
    y = bern(rng, sigmoid(1.2 * x[:, 1] + 0.5))
    y[:250] = 0
    return x, y


def stream_magnitude(rng, n):
    depth = 1e4 + 1e-9 * rng.standard_normal(n)   # near-constant at 1e4
    big = 1e8 * rng.lognormal(0.0, 0.2, n)
    tiny = 1e-6 * rng.uniform(0.5, 1.5, n)
    imb = rng.uniform(-1.0, 1.0, n)
    y = bern(rng, sigmoid(3.0 * imb + 2.0 * (tiny / 1e-6 - 1.0)))
    return np.column_stack([depth, big, tiny, imb]), y


def stream_separable(rng, n):
    # heavy tails: scaled values reach hundreds, so |w.x + b| > 18 happens
    x = rng.standard_t(1.5, size=(n, 4))
    x[:, 2] *= 1e4
    y = (x[:, 0] + 0.1 * x[:, 1] > 0).astype(int)
    return x, y


def stream_wide(rng, n):
    nf = 16
    scales = 10.0 ** rng.uniform(-6, 4, nf)
    x = rng.standard_normal((n, nf)) * scales + scales * rng.uniform(-2, 2, nf)
    w = rng.standard_normal(nf)
    z = ((x - scales * 0) / scales) @ w * 0.5
    return x, bern(rng, sigmoid(z - z.mean()))


def stream_alpha(rng, n):
    x = rng.normal(0.0, 1.0, (n, 3)) * np.array([1.0, 5.0, 1e-3])
    return x, bern(rng, sigmoid(x[:, 0] - 0.4 * x[:, 1]))


def stream_one(rng, n):
    x = rng.lognormal(0.0, 1.0, (n, 1))
    return x, bern(rng, sigmoid(np.log(x[:, 0])))


# name, seed, samples, alpha, generator
STREAMS = [
    ("balanced_s11", 11, 2500, 1e-4, stream_balanced),
    ("imbalanced_s22", 22, 3000, 1e-4, stream_imbalanced),
    ("constant_s33", 33, 2000, 1e-4, stream_constant),
    ("magnitude_s44", 44, 2000, 1e-4, stream_magnitude),
    ("separable_s55", 55, 2500, 1e-4, stream_separable),
    ("wide16_s66", 66, 2000, 1e-4, stream_wide),
    # alpha 2: 1 - eta*alpha < 0 on the first step, so sklearn clamps the
    # scale to 0 and takes the wscale < 1e-9 reset branch; alpha 1 gives
    # exactly 0 on the first step.
    ("alpha2_s77", 77, 600, 2.0, stream_alpha),
    ("alpha1_s78", 78, 600, 1.0, stream_alpha),
    ("onefeature_s88", 88, 2000, 1e-4, stream_one),
]


def r(v):
    return repr(float(v))


def run(outdir, name, seed, n, alpha, gen):
    rng = np.random.default_rng(seed)
    x_all, y_all = gen(rng, n)
    x_all = np.ascontiguousarray(x_all, dtype=np.float64)
    nf = x_all.shape[1]
    scaler = StandardScaler()
    clf = SGDClassifier(loss="log_loss", alpha=alpha)
    lines = ["qw-sklearn-fixture 1", f"name {name}", f"n_features {nf}",
             f"alpha {r(alpha)}", f"n_steps {n}"]
    for k in range(n):
        x = x_all[k:k + 1].copy()
        y = int(y_all[k])
        if k > 0:
            has_p, p = 1, clf.predict_proba(scaler.transform(x))[0][1]
        else:
            has_p, p = 0, 0.0
        scaler.partial_fit(x)
        clf.partial_fit(scaler.transform(x), [y], classes=[0, 1])
        row = ["step", str(k), str(y), *map(r, x[0]), str(has_p), r(p),
               *map(r, clf.coef_[0]), r(clf.intercept_[0]),
               *map(r, scaler.mean_), *map(r, scaler.var_),
               str(int(scaler.n_samples_seen_)), r(clf.t_)]
        lines.append(" ".join(row))
    fname = f"{name}.txt"
    with open(os.path.join(outdir, fname), "w") as f:
        f.write("\n".join(lines) + "\n")
    return fname, int(y_all.sum()), n


def main():
    if len(sys.argv) != 2:
        sys.stderr.write(__doc__)
        return 2
    outdir = sys.argv[1]
    os.makedirs(outdir, exist_ok=True)
    names = []
    for name, seed, n, alpha, gen in STREAMS:
        fname, pos, total = run(outdir, name, seed, n, alpha, gen)
        names.append(fname)
        sys.stderr.write(f"{fname}: {total} samples, {pos} positive\n")
    with open(os.path.join(outdir, "index.txt"), "w") as f:
        f.write("\n".join(names) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
