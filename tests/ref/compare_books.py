#!/usr/bin/python3
"""Compare a quotewatch summary JSON with tests/ref/ref_replay.py output.

usage: compare_books.py SUMMARY.json REF.json [--counts]
Checks, per product: top-10 bids/asks (exact strings), level counts,
and with --counts also snapshots, book_updates and trades. Exit 1 on any
difference, printing each one."""
import json
import sys


def main():
    summary = json.load(open(sys.argv[1]))
    ref = json.load(open(sys.argv[2]))
    counts = "--counts" in sys.argv
    bad = []
    sp, rp = summary["products"], ref["products"]
    if set(sp) != set(rp):
        bad.append(f"products differ: ours-only {sorted(set(sp) - set(rp))}, ref-only {sorted(set(rp) - set(sp))}")
    for pid in sorted(set(sp) & set(rp)):
        s, r = sp[pid], rp[pid]
        keys = ["bids", "asks", "bid_levels", "ask_levels"]
        if counts:
            keys += ["snapshots", "book_updates", "trades"]
        for k in keys:
            if s.get(k) != r.get(k):
                bad.append(f"{pid}.{k}: ours {s.get(k)!r} ref {r.get(k)!r}")
    for b in bad:
        print(b)
    if not sp:
        print("no products at all")
        return 1
    print(f"compared {len(sp)} products: {'OK' if not bad else str(len(bad)) + ' differences'}")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
