#!/usr/bin/python3
"""Build a bad-input corpus: the real Exchange capture with hostile lines mixed in.

usage: make_bad_corpus.py --out FILE [--real CAPTURE] [--seed N]

Every real line is kept, in order. Between them, at seeded random places,
go two kinds of extra lines:

* BAD lines, each one a strict parser must reject WHOLE (nothing of it may
  reach a book): truncated real lines, wrong JSON types for known fields of
  known message types, nesting 10,000 deep, 100 KB lines (garbage, and JSON
  whose over-long string is a product id or price, so it is bad even without
  a line limit), NUL bytes, absurd numbers ("1e308", "-5", "NaN", "0.-10000",
  "99999999999999999999", "1.123456789", ...), malformed timestamps, invalid
  UTF-8, bad escapes, duplicate keys, trailing garbage, empty or incomplete
  objects, non-object JSON.
* UNKNOWN lines: valid JSON objects of a type/channel nobody knows; a parser
  must accept and ignore them (counted apart).

Deliberately absent: anything valid, such as an l2update whose time is
"0001-01-01T00:00:00.000000Z" (a real anomaly the C side repairs, not
rejects) or a 1970 time -- those are not rejections.

Lines never start like a capture wrapper ('{"recv_ns":', '<digits>: ', 'wss://')
and are never blank, so each counts as exactly one message. The file may
contain NUL bytes and invalid UTF-8; it is written in binary.

Outputs FILE and FILE.json = {"bad_lines": n, "unknown_lines": n,
"real_lines": n, "seed": s, "by_category": {...}}; the counts also go to stderr.
Same seed, same capture -> same bytes.
"""
import argparse
import json
import os
import random
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
CAPTURE = "data/real/coinbase_exchange_ws_2021-04-17.ndjson"
T = b'"2021-04-17T16:43:40.000000Z"'


def default_real():
    shared = os.environ.get("QW_SHARED") or os.path.join(HERE, "..", "..", "..", "shared")
    return os.path.join(shared, CAPTURE)


def l2(changes=b'[["buy","0.7901","10"]]', pid=b'"SKL-USD"', time=T, extra=b""):
    return (b'{"type":"l2update","product_id":' + pid + b',"changes":' + changes +
            b',"time":' + time + extra + b"}")


def match(price=b'"0.7912"', size=b'"1"', side=b'"sell"', tid=b"1568300", seq=b"201390200",
          time=T, pid=b'"SKL-USD"'):
    return (b'{"type":"match","trade_id":' + tid + b',"maker_order_id":"a","taker_order_id":"b",'
            b'"side":' + side + b',"size":' + size + b',"price":' + price + b',"product_id":' +
            pid + b',"sequence":' + seq + b',"time":' + time + b"}")


def adv(events, channel=b'"l2_data"', extra=b""):
    return (b'{"channel":' + channel + b',"timestamp":"2021-04-17T16:43:40.1Z"' + extra +
            b',"events":' + events + b"}")


def adv_update(side=b'"bid"', px=b'"0.79"', qty=b'"5"', pid=b'"SKL-USD"', et=T):
    return adv(b'[{"type":"update","product_id":' + pid + b',"updates":[{"side":' + side +
               b',"event_time":' + et + b',"price_level":' + px + b',"new_quantity":' + qty +
               b"}]}]")


def adv_trade(tid=b'"77"', px=b'"0.79"', side=b'"BUY"'):
    return adv(b'[{"type":"update","trades":[{"product_id":"SKL-USD","trade_id":' + tid +
               b',"price":' + px + b',"size":"1","time":' + T + b',"side":' + side + b"}]}]",
               channel=b'"market_trades"')


ABSURD = [b"1e308", b"-5", b"NaN", b"0.-10000", b"1" + b"0" * 22, b"1.123456789", b"",
          b"+1", b" 1", b"1 ", b".5", b"5.", b"0x10", b"Infinity", b"1,5", b"1e-3", b"-0",
          b"9" * 23, b"0" * 41, b"1.000000001", b"\\u0031.5x", b"\xd9\xa1"]
# Prices are int64 e8 (below 92233720368.54775808); sizes are 128-bit e8 and
# take up to 22 integer digits, so these are absurd only as prices.
ABSURD_PRICE = [b"99999999999999999999", b"92233720368.54775808"]
BAD_TIMES = [b'"2021-13-45T99:99:99Z"', b'"yesterday"', b'""', b'"2021-04-17T16:43:37.1234567890Z"',
             b'"2021-04-17 16:43:37"', b'"2021-02-30T00:00:00Z"', b'"2021-04-17T23:59:60Z"',
             b'"2021-04-17T16:43:37+25:00"', b'"1618677817"', b'"2021-04-17T16:43:37.Z"',
             b'"2021-4-17T16:43:37Z"', b'"2021-04-17T16:43:37"', b'"2021-04-17T16:43:37zz"']
BAD_UTF8 = [b"\xff", b"\xc0\xaf", b"\xed\xa0\x80", b"\xf8\x88\x80\x80\x80", b"\x80", b"\xe2\x82",
            b"\xf4\x90\x80\x80", b"\xc3"]


def wrong_types():
    return [
        match(price=b"12"), match(size=b"0.5"), match(side=b"1"), match(tid=b'"1568300"'),
        match(seq=b'"201390200"'), match(pid=b"5"), match(time=b"1618677820"),
        match(price=b"null"), match(side=b"true"), match(price=b'["0.79"]'),
        l2(changes=b"{}"), l2(pid=b"5"), l2(time=b"1618677820"), l2(changes=b'"none"'),
        l2(changes=b'[["buy",0.7901,"10"]]'), l2(changes=b'[["buy","0.7901",10]]'),
        l2(changes=b'[["buy","0.7901"]]'), l2(changes=b'[["buy","0.7901","10","x"]]'),
        l2(changes=b'[{"side":"buy"}]'), l2(changes=b'[[1,"0.7901","10"]]'),
        l2(changes=b'[["bid","0.7901","10"]]'), l2(pid=b'"SKL USD"'), l2(pid=b'""'),
        l2(pid=b'"' + b"X" * 40 + b'"'), l2(pid=b"null"),
        b'{"type":7,"product_id":"SKL-USD"}', b'{"type":null}', b'{"type":["l2update"]}',
        b'{"type":"snapshot","product_id":"SKL-USD","bids":"x","asks":[]}',
        b'{"type":"snapshot","product_id":"SKL-USD","bids":[["0.78",1]],"asks":[]}',
        b'{"type":"snapshot","product_id":"SKL-USD","bids":[["0.78"]],"asks":[]}',
        b'{"type":"snapshot","product_id":"SKL-USD","bids":[],"asks":{}}',
        adv(b"{}"), adv(b'"x"'), adv(b"[5]"), adv(b"[]", extra=b',"sequence_num":"3"'),
        adv(b"[]", extra=b',"sequence_num":-1'), adv(b"[]", extra=b',"sequence_num":1.5'),
        adv(b"[]", channel=b"5"), adv_update(side=b'"ask"'), adv_update(side=b"0"),
        adv_update(px=b"0.79"), adv_update(qty=b"5"), adv_update(pid=b"7"),
        adv(b'[{"type":"refresh","product_id":"SKL-USD","updates":[]}]'),
        adv(b'[{"type":"update","product_id":"SKL-USD","updates":{}}]'),
        adv_trade(tid=b"77"), adv_trade(tid=b'""'), adv_trade(tid=b'"' + b"9" * 40 + b'"'),
        adv_trade(side=b'"sell"'), adv_trade(px=b"1"),
    ]


def missing_or_empty():
    return [b"{}", b'{"type":"l2update"}', b'{"type":"l2update","product_id":"SKL-USD"}',
            b'{"type":"match","product_id":"SKL-USD","price":"1","size":"1","side":"buy"}',
            b'{"type":"snapshot","product_id":"SKL-USD","bids":[]}', b'{"channel":"l2_data"}',
            adv(b'[{"type":"update","updates":[]}]'),
            adv_update().replace(b',"new_quantity":"5"', b""), b'{"events":[]}',
            b'{"product_id":"SKL-USD","changes":[]}']


def syntax():
    return [l2(extra=b',"type":"l2update"'), l2(extra=b',"changes":[]'), match() + b"x",
            match() + b"}", l2() + l2(), l2()[:-1] + b",}", l2().replace(b",", b",,", 1),
            l2().replace(b'"changes"', b"changes"), l2().replace(b'"buy"', b"'buy'"),
            l2(pid=b'"SKL\\u0000USD"'), l2(pid=b'"SKL\\ud800"'), l2(pid=b'"SKL\\x41"'),
            l2(pid=b'"SKL\tUSD"'), l2().replace(b"}", b"]"), b"{", b"}", b"{{}}", b"nul",
            b'{"type":"l2update",}', b"\xef\xbb\xbf" + l2(), b'{"type":"l2update" "x":1}',
            match(price=b'"0.79\\"'), match(tid=b"1568300.5"), match(seq=b"1e400"),
            match(tid=b"99999999999999999999"), match(seq=b"-99999999999999999999"),
            l2(extra=b',"pad":1e400'), l2(extra=b',"pad":18446744073709551616')]


def non_objects():
    return [b"[]", b"[1,2,3]", b"42", b'"hello"', b"null", b"true", b"false", b"3.14", b"-1",
            b'[{"type":"l2update"}]', b'"{\\"type\\":\\"l2update\\"}"']


def build(real, rng):
    cats = {}

    def add(cat, lines):
        cats.setdefault(cat, []).extend(lines)

    msgs = [ln for ln in real if ln.startswith(b'{"type":"l2update"') or
            ln.startswith(b'{"type":"match"')]
    for _ in range(120):  # cut at a random point: never complete, never blank
        ln = rng.choice(real)
        add("truncated", [ln[:rng.randrange(1, len(ln) - 1)]])
    add("wrong_type", wrong_types())
    add("missing_or_empty", missing_or_empty())
    add("syntax", syntax())
    add("non_object", non_objects())
    for v in ABSURD:
        q = b'"' + v + b'"'
        add("absurd_number", [l2(changes=b'[["sell",' + q + b',"1"]]'),
                              l2(changes=b'[["buy","0.7901",' + q + b"]]"),
                              match(price=q), adv_update(qty=q)])
    for v in ABSURD_PRICE:
        q = b'"' + v + b'"'
        add("absurd_number", [l2(changes=b'[["sell",' + q + b',"1"]]'), match(price=q),
                              adv_update(px=q)])
    add("absurd_number", [b'{"type":"snapshot","product_id":"SKL-USD","bids":[["0.78","0.-10000"]],'
                          b'"asks":[]}'])
    for v in BAD_TIMES:
        add("bad_time", [l2(time=v), match(time=v), adv_update(et=v)])
    add("bad_time", [adv(b"[]", extra=b',"timestamp":"noon"').replace(
        b'"timestamp":"2021-04-17T16:43:40.1Z",', b"")])
    for b in BAD_UTF8:
        ln = rng.choice(msgs)
        at = rng.randrange(1, len(ln))
        add("bad_utf8", [ln[:at] + b + ln[at:], l2(pid=b'"SKL-' + b + b'"'),
                         adv_trade(tid=b'"7' + b + b'"')])
    for _ in range(40):
        ln = rng.choice(real)
        at = rng.randrange(0, len(ln) + 1)
        add("nul_byte", [ln[:at] + b"\x00" + ln[at:]])
    add("nul_byte", [b"\x00", b"\x00" * 5 + l2(), l2() + b"\x00"])
    deep = 10000
    add("deep", [l2(changes=b"[" * deep + b"]" * deep), b'{"a":' * deep + b"1" + b"}" * deep,
                 b'{"type":"ticker","x":' + b"[" * deep + b"]" * deep + b"}",
                 b"[" * deep + b"]" * deep, l2(extra=b',"x":' + b'{"y":' * 40 + b"0" + b"}" * 40)])
    big = 100 * 1024
    junk = bytes(rng.choice(b"~!#%&*()<>?;:=+|abcXYZ \xfe\xc3") for _ in range(big))
    add("huge", [b"~" + junk, l2(pid=b'"' + b"A" * big + b'"'),
                 l2(changes=b'[["buy","1' + b"0" * big + b'","1"]]'),
                 match(price=b'"' + b"9" * big + b'"'),
                 b'{"type":"l2update","product_id":"SKL-USD","changes":[' +
                 b",".join([b'["buy","0.7901","1"]'] * 5000) + b'],"time":"then"}'])
    unknown = [b'{"type":"rfq_match","product_id":"SKL-USD","time":' + T + b"}",
               b'{"type":"foo"}', b'{"type":"l3update","product_id":"SKL-USD","changes":{}}',
               b'{"type":"auction","x":[1,2,{"y":null}]}', b'{"type":"","price":12}',
               b'{"channel":"mystery","timestamp":"2021-04-17T16:43:40Z","events":[]}',
               b'{"channel":"futures_balance_summary_v2","events":[{"a":1}]}',
               b'{"type":"l2update_v2","product_id":"SKL-USD","changes":[["buy","x","y"]]}']
    return cats, unknown * 3


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", required=True)
    ap.add_argument("--real", default=default_real())
    ap.add_argument("--seed", type=int, default=20210417)
    a = ap.parse_args()
    with open(a.real, "rb") as f:
        real = [ln.rstrip(b"\n") for ln in f if ln.strip()]
    rng = random.Random(a.seed)
    cats, unknown = build(real, rng)
    bad = [ln for c in sorted(cats) for ln in cats[c]]
    for ln in bad + unknown:  # one message per line, and never a wrapper line
        assert b"\n" not in ln and ln.strip(b" \t\r") and not ln.startswith(
            (b'{"recv_ns":', b"wss://", b"ws://")), ln[:80]
        assert not (ln[:1].isdigit() and b": " in ln[:24]), ln[:80]
    extra = [(ln, "bad") for ln in bad] + [(ln, "unknown") for ln in unknown]
    rng.shuffle(extra)
    slots = sorted(rng.randrange(len(real) + 1) for _ in extra)  # insert before real[slot]
    out, k = [], 0
    for i in range(len(real) + 1):
        while k < len(extra) and slots[k] == i:
            out.append(extra[k][0])
            k += 1
        if i < len(real):
            out.append(real[i])
    with open(a.out, "wb") as f:
        f.write(b"\n".join(out) + b"\n")
    side = {"bad_lines": len(bad), "unknown_lines": len(unknown), "real_lines": len(real),
            "seed": a.seed, "by_category": {c: len(v) for c, v in sorted(cats.items())}}
    with open(a.out + ".json", "w") as f:
        json.dump(side, f, indent=1)
        f.write("\n")
    sys.stderr.write("make_bad_corpus: %d bad lines, %d unknown lines, %d real lines -> %s\n"
                     % (len(bad), len(unknown), len(real), a.out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
