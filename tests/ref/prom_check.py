#!/usr/bin/env python3
"""prom_check.py FILE: a strict check of Prometheus text exposition 0.0.4.

Stricter than scrapers are: every family has one HELP and one TYPE line
before its samples, a family's samples are contiguous (not interleaved with
another family), no series appears twice, counters end in _total, label
names and values are well formed, histogram buckets are cumulative with a
+Inf bucket equal to _count, and no "all" label value sits beside per-label
series (sum() would double count). Then, when python3-prometheus-client is
installed, its parser must accept the text too. Prints a summary; exits 1
with the first problem found."""
import re
import sys

NAME = r"[a-zA-Z_:][a-zA-Z0-9_:]*"
LABELS = r'\{(?:[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\[\\"n])*"(?:,[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\[\\"n])*")*)?\}'
SAMPLE = re.compile(rf"({NAME})({LABELS})? (-?(?:[0-9]+(?:\.[0-9]*)?(?:[eE][+-]?[0-9]+)?|NaN|\+Inf|-Inf))$")


def fail(msg):
    print("prom_check:", msg)
    sys.exit(1)


def family_of(name, types):
    if name in types:
        return name
    for suf in ("_bucket", "_sum", "_count"):
        if name.endswith(suf) and types.get(name[: -len(suf)]) in ("histogram", "summary"):
            return name[: -len(suf)]
    return None


def main(path):
    text = open(path).read()
    if not text.endswith("\n"):
        fail("the text must end with a newline")
    helps, types, done, seen = set(), {}, set(), set()
    current, nsamples = None, 0
    buckets = {}
    for ln, line in enumerate(text.split("\n")[:-1], 1):
        if line.startswith("# HELP "):
            name = line.split(" ", 3)[2]
            if name in helps:
                fail(f"line {ln}: second HELP for {name}")
            if name in done:
                fail(f"line {ln}: {name} starts again after another family")
            helps.add(name)
            continue
        if line.startswith("# TYPE "):
            parts = line.split(" ")
            if len(parts) != 4 or parts[3] not in ("counter", "gauge", "histogram", "summary", "untyped"):
                fail(f"line {ln}: bad TYPE line: {line}")
            name = parts[2]
            if name in types:
                fail(f"line {ln}: second TYPE for {name}")
            if name not in helps:
                fail(f"line {ln}: TYPE for {name} without HELP before it")
            if current and current != name:
                done.add(current)
            types[name], current = parts[3], name
            if parts[3] == "counter" and not name.endswith("_total"):
                fail(f"line {ln}: counter {name} must end in _total")
            continue
        if line.startswith("#") or not line:
            fail(f"line {ln}: unexpected line: {line!r}")
        m = SAMPLE.match(line)
        if not m:
            fail(f"line {ln}: malformed sample: {line}")
        fam = family_of(m.group(1), types)
        if fam is None:
            fail(f"line {ln}: sample {m.group(1)} has no TYPE before it")
        if fam != current:
            fail(f"line {ln}: sample of {fam} interleaved inside family {current}")
        key = (m.group(1), m.group(2) or "")
        if key in seen:
            fail(f"line {ln}: duplicate series {line}")
        seen.add(key)
        labels = dict(re.findall(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"', m.group(2) or ""))
        if "all" in labels.values():
            fail(f"line {ln}: an 'all' series beside per-label series double counts: {line}")
        if types[fam] == "histogram":
            b = buckets.setdefault(fam, {"le": [], "count": None})
            if m.group(1).endswith("_bucket"):
                b["le"].append((labels.get("le"), float(m.group(3))))
            elif m.group(1).endswith("_count"):
                b["count"] = float(m.group(3))
        nsamples += 1
    for fam, b in buckets.items():
        vals = [v for _, v in b["le"]]
        if not b["le"] or b["le"][-1][0] != "+Inf":
            fail(f"{fam}: no +Inf bucket last")
        if any(x > y for x, y in zip(vals, vals[1:])):
            fail(f"{fam}: buckets not cumulative")
        if b["count"] != vals[-1]:
            fail(f"{fam}: +Inf bucket {vals[-1]} != _count {b['count']}")
    try:
        from prometheus_client.parser import text_string_to_metric_families
    except ImportError:
        lib = "prometheus_client not installed"
    else:
        n = sum(len(f.samples) for f in text_string_to_metric_families(text))
        lib = f"prometheus_client parsed {n} samples"
    print(f"prom_check: {len(types)} families, {nsamples} samples ok; {lib}")


if __name__ == "__main__":
    main(sys.argv[1])
