#!/usr/bin/python3
"""Independent reference replayer for Coinbase feed captures.

usage: ref_replay.py [--crossed] FILE [FILE...]      (FILE may be .zst; "-" = stdin)

Written from the protocol (docs: shared/docs/coinbase_protocol.md, docs/FEED.md),
not from the C code, with the standard library only: every number is a
decimal.Decimal. Tests compare its output with `quotewatch replay --summary`
(tests/ref/compare_books.py), so the two implementations check each other.

Semantics
* Lines: one server message per line. Blank lines are skipped. The capture
  wrappers QuoteWatch replays are unwrapped: recorder {"recv_ns":N,"msg":RAW}
  (connect markers skipped) and cryptofeed "<unix s>: RAW" (its "wss://... <-"
  and "<->" lines skipped). Files ending in .zst go through `zstd -dc`.
* Feed per line: Exchange messages have a top-level "type" (first key);
  Advanced Trade messages have "channel" + "events".
* Per product, a book per side: dict price -> size.
  Exchange: `snapshot` replaces both sides (zero sizes dropped); `l2update`
  applies each change [side "buy"->bid / "sell"->ask, price, size], a
  numerically zero size removes the level (absent: no-op); `match` and
  `last_match` each count one trade; a `heartbeat` naming a product creates
  it (as the C pipeline does). Advanced: channel `l2_data`, events of type
  snapshot|update with updates[] {side bid|offer, price_level, new_quantity};
  `market_trades`: every trade of every event counts for its product_id.
* A book group (one snapshot, one l2update, one Advanced event) with a price
  of zero, or a snapshot repeating a price on one side, is refused whole
  (book unchanged, not counted) -- the book's contract (src/book/book.h).
* Rejection: a line that is not valid strict JSON, or not well formed, is
  skipped WHOLE (nothing of it applied) and counted in "rejected":
  - JSON: UTF-8, no NaN/Infinity, integers within int64, reals that do not
    overflow a double, no \\u0000 or lone surrogates, nesting <= 32, the
    top level an object, no duplicate key among the keys read;
  - prices/sizes: strings of DIGITS[.DIGITS], <= 40 chars, <= 8 significant
    decimals, <= 92233720368.54775807 (so signs, exponents, NaN, "",
    "0.-10000", "1.123456789" are rejected);
  - product ids [A-Za-z0-9._-]{1,31}; sides buy|sell, bid|offer, BUY|SELL;
    times RFC 3339 (0-9 fractional digits, Z or +-HH:MM; well-formed but
    absurd times such as 0001-01-01 are NOT rejections: the C side repairs
    them); trade_id/sequence JSON integers (Advanced trade_id: a 1..39 byte
    string); sequence_num a non-negative integer; required fields present.
  Valid messages of unknown types/channels count in "unknown_types".

Output (stdout, JSON): {"messages", "rejected", "unknown_types",
 "products": {PID: {"snapshots", "book_updates", "trades", "bids": [[px, sz]
 x top 10, best first], "asks": [...], "bid_levels", "ask_levels"}}}
with px/sz as the shortest exact decimal strings ("14.8024", "123.1", "100",
"0"). Products appear in order of first appearance. --crossed adds, per
product, "crossed": how many messages left its book crossed or locked.
"""
import heapq
import json
import re
import subprocess
import sys
from decimal import Decimal

MAX_DEPTH = 32
INT64_MIN, INT64_MAX = -(2 ** 63), 2 ** 63 - 1
DEC_MAX = Decimal("92233720368.54775807")
DEC_RE = re.compile(r"([0-9]+)(?:\.([0-9]+))?")
PRODUCT_RE = re.compile(r"[A-Za-z0-9._-]{1,31}")
TIME_RE = re.compile(
    r"([0-9]{4})-([0-9]{2})-([0-9]{2})[Tt ]([0-9]{2}):([0-9]{2}):([0-9]{2})"
    r"(?:\.[0-9]{1,9})?(?:[Zz]|[+-]([0-9]{2}):([0-9]{2}))")
BAD_CHARS = re.compile("[\x00\ud800-\udfff]")
MDAYS = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]
CRYPTOFEED_RE = re.compile(rb"[0-9]+(?:\.[0-9]*)?: ")

EX_PRODUCT_TYPES = {"snapshot", "l2update", "match", "last_match", "heartbeat", "error"}
EX_KNOWN = EX_PRODUCT_TYPES | {"subscriptions"}
EX_IGNORED = {"ticker", "status", "received", "open", "done", "change", "activate", "pong"}
ADV_KNOWN = {"l2_data", "market_trades", "heartbeats", "subscriptions"}
ADV_IGNORED = {"ticker", "ticker_batch", "candles", "status", "user", "futures_balance_summary"}


class Reject(Exception):
    pass


class Obj(dict):
    """A JSON object that remembers which keys were repeated."""
    dups = frozenset()


def _pairs(pairs):
    o = Obj(pairs)
    if len(o) != len(pairs):
        seen, dups = set(), set()
        for k, _ in pairs:
            (dups if k in seen else seen).add(k)
        o.dups = dups
    return o


def _int(s):
    digits = s.lstrip("-")
    if len(digits) > 19 or not INT64_MIN <= int(s) <= INT64_MAX:
        raise Reject("integer out of int64 range")
    return int(s)


def _float(s):
    f = float(s)
    if f in (float("inf"), float("-inf")):
        raise Reject("real overflows a double")
    return f


def _constant(s):
    raise Reject("NaN/Infinity is not JSON")


def load(raw):
    """Strict JSON text (bytes) -> value, or Reject."""
    try:
        text = raw.decode("utf-8")
        v = json.loads(text, object_pairs_hook=_pairs, parse_int=_int, parse_float=_float,
                       parse_constant=_constant)
    except (UnicodeDecodeError, ValueError, RecursionError) as e:
        raise Reject(str(e)) from None
    stack = [(v, 1)]
    while stack:  # depth, \u0000 and lone surrogates anywhere
        x, d = stack.pop()
        if isinstance(x, dict):
            if d > MAX_DEPTH:
                raise Reject("too deep")
            for k, y in x.items():
                if BAD_CHARS.search(k):
                    raise Reject("bad string")
                stack.append((y, d + 1))
        elif isinstance(x, list):
            if d > MAX_DEPTH:
                raise Reject("too deep")
            stack.extend((y, d + 1) for y in x)
        elif isinstance(x, str) and BAD_CHARS.search(x):
            raise Reject("bad string")
    return v


# ---- typed fields ----
def dec(v):
    if type(v) is not str:
        raise Reject("decimal: not a string")
    m = DEC_RE.fullmatch(v)
    if len(v) > 40 or not m or (m.group(2) or "")[8:].strip("0"):
        raise Reject("bad decimal %r" % v[:40])
    d = Decimal(v)
    if d > DEC_MAX:
        raise Reject("decimal out of range")
    return d


def product(v):
    if type(v) is not str or not PRODUCT_RE.fullmatch(v):
        raise Reject("bad product id")
    return v


def time_ok(v):
    """Malformed -> Reject; well-formed (however implausible) -> fine."""
    if type(v) is not str:
        raise Reject("time: not a string")
    m = TIME_RE.fullmatch(v)
    if not m or not 20 <= len(v) <= 35:
        raise Reject("bad time %r" % v[:40])
    y, mo, d, h, mi, s = (int(x) for x in m.groups()[:6])
    leap = y % 4 == 0 and (y % 100 != 0 or y % 400 == 0)
    if not (1 <= mo <= 12 and 1 <= d <= MDAYS[mo - 1] + (mo == 2 and leap) and h <= 23
            and mi <= 59 and s <= 59):
        raise Reject("bad time %r" % v)
    if m.group(7) is not None and (int(m.group(7)) > 23 or int(m.group(8)) > 59):
        raise Reject("bad offset %r" % v)


def integer(v):
    if type(v) is float:
        raise Reject("integer expected, got a real")
    if type(v) is not int:
        raise Reject("integer expected")
    return v


def enum(v, table):
    if type(v) is not str:
        raise Reject("side: not a string")
    if v not in table:
        raise Reject("bad side %r" % v)
    return table[v]


def need(o, keys):
    for k in keys:
        if k not in o:
            raise Reject("missing %s" % k)


def no_dups(o, keys):
    if o.dups & set(keys):
        raise Reject("duplicate key")


def array(v):
    if type(v) is not list:
        raise Reject("array expected")
    return v


def obj(v):
    if not isinstance(v, dict):
        raise Reject("object expected")
    return v


EX_SIDE = {"buy": "bid", "sell": "ask"}
ADV_SIDE = {"bid": "bid", "offer": "ask"}
TRADE_SIDE = {"BUY": 1, "SELL": 1}


# ---- messages -> events: ("group", pid, kind, [(side, px, sz)]) / ("trade", pid) /
# ("product", pid) / ("unknown",)
def exchange(o):
    no_dups(o, ("type", "product_id", "time"))
    need(o, ("type",))
    t = o["type"]
    if type(t) is not str:
        raise Reject("type: not a string")
    if "time" in o and type(o["time"]) is not str:
        raise Reject("time: not a string")
    if t in EX_IGNORED:
        return []
    if t not in EX_KNOWN:
        return [("unknown",)]
    no_dups(o, ("price", "size", "side", "trade_id", "sequence"))
    if t in ("snapshot", "l2update"):
        no_dups(o, ("bids", "asks", "changes"))
    if "product_id" in o and t in EX_PRODUCT_TYPES:
        product(o["product_id"])
    for k in ("price", "size"):
        if k in o:
            dec(o[k])
    if "side" in o:
        enum(o["side"], EX_SIDE)
    for k in ("trade_id", "sequence"):
        if k in o:
            integer(o[k])
    if "time" in o and t in EX_PRODUCT_TYPES:
        time_ok(o["time"])
    if t == "snapshot":
        need(o, ("product_id", "bids", "asks"))
        lv = []
        for key, side in (("bids", "bid"), ("asks", "ask")):
            for x in array(o[key]):
                if type(x) is not list or len(x) != 2:
                    raise Reject("level: expected [price, size]")
                lv.append((side, dec(x[0]), dec(x[1])))
        return [("group", o["product_id"], "snapshot", lv)]
    if t == "l2update":
        need(o, ("product_id", "changes"))
        lv = []
        for x in array(o["changes"]):
            if type(x) is not list or len(x) != 3:
                raise Reject("change: expected [side, price, size]")
            lv.append((enum(x[0], EX_SIDE), dec(x[1]), dec(x[2])))
        return [("group", o["product_id"], "update", lv)]
    if t in ("match", "last_match"):
        need(o, ("product_id", "price", "size", "side", "trade_id"))
        return [("trade", o["product_id"])]
    if t == "heartbeat" and "product_id" in o:
        return [("product", o["product_id"])]
    return []


def l2_event(e):
    obj(e)
    no_dups(e, ("type", "product_id", "updates"))
    need(e, ("type", "product_id", "updates"))
    if type(e["type"]) is not str or e["type"] not in ("snapshot", "update"):
        raise Reject("l2_data event type")
    pid = product(e["product_id"])
    lv = []
    for u in array(e["updates"]):
        obj(u)
        no_dups(u, ("side", "price_level", "new_quantity", "event_time"))
        need(u, ("side", "price_level", "new_quantity"))
        if "event_time" in u:
            time_ok(u["event_time"])
        lv.append((enum(u["side"], ADV_SIDE), dec(u["price_level"]), dec(u["new_quantity"])))
    return ("group", pid, e["type"], lv)


def trades_event(e):
    obj(e)
    no_dups(e, ("type", "trades"))
    need(e, ("type", "trades"))
    if type(e["type"]) is not str or e["type"] not in ("snapshot", "update"):
        raise Reject("market_trades event type")
    out = []
    for tr in array(e["trades"]):
        obj(tr)
        no_dups(tr, ("product_id", "price", "size", "side", "time", "trade_id"))
        need(tr, ("product_id", "price", "size", "side", "trade_id"))
        dec(tr["price"]), dec(tr["size"]), enum(tr["side"], TRADE_SIDE)
        if "time" in tr:
            time_ok(tr["time"])
        tid = tr["trade_id"]
        if type(tid) is not str or not 1 <= len(tid.encode("utf-8")) <= 39:
            raise Reject("trade_id: a 1..39 byte string")
        out.append(("trade", product(tr["product_id"])))
    return out


def advanced(o):
    no_dups(o, ("channel", "timestamp", "sequence_num", "events", "type"))
    for k in ("channel", "type", "timestamp"):
        if k in o and type(o[k]) is not str:
            raise Reject("%s: not a string" % k)
    if "sequence_num" in o and integer(o["sequence_num"]) < 0:
        raise Reject("negative sequence_num")
    if o.get("type") == "error":
        return []
    if "events" in o:
        array(o["events"])
    need(o, ("channel",))
    ch = o["channel"]
    if "timestamp" in o:
        time_ok(o["timestamp"])
    if ch == "l2_data":
        need(o, ("events",))
        return [l2_event(e) for e in o["events"]]
    if ch == "market_trades":
        need(o, ("events",))
        return [x for e in o["events"] for x in trades_event(e)]
    if ch in ADV_KNOWN or ch in ADV_IGNORED:
        return []
    return [("unknown",)]


def parse(raw):
    o = load(raw)
    if not isinstance(o, dict):
        raise Reject("not an object")
    first = next(iter(o), None)
    if first == "channel" or (first != "type" and ("channel" in o or "events" in o)):
        return advanced(o)
    return exchange(o)


# ---- books ----
class Book:
    def __init__(self, track):
        self.snapshots = self.book_updates = self.trades = self.crossed = 0
        self.side = {"bid": {}, "ask": {}}
        self.heap = {"bid": [], "ask": []} if track else None  # lazy best-price heaps

    def apply(self, kind, levels):
        if any(px <= 0 for _, px, _ in levels):
            return  # refused whole
        if kind == "snapshot":
            new = {"bid": {}, "ask": {}}
            seen = {"bid": set(), "ask": set()}
            for side, px, sz in levels:
                if px in seen[side]:
                    return  # a repeated price: refused whole
                seen[side].add(px)
                if sz != 0:
                    new[side][px] = sz
            self.side = new
            self.snapshots += 1
            if self.heap is not None:
                self.heap = {"bid": [-p for p in new["bid"]], "ask": list(new["ask"])}
                heapq.heapify(self.heap["bid"])
                heapq.heapify(self.heap["ask"])
            return
        for side, px, sz in levels:
            if sz == 0:
                self.side[side].pop(px, None)
            else:
                if self.heap is not None and px not in self.side[side]:
                    heapq.heappush(self.heap[side], -px if side == "bid" else px)
                self.side[side][px] = sz
        self.book_updates += 1

    def best(self, side):
        h, sign = self.heap[side], -1 if side == "bid" else 1
        while h and sign * h[0] not in self.side[side]:
            heapq.heappop(h)  # a level removed since it was pushed
        return sign * h[0] if h else None

    def is_crossed(self):
        b, a = self.best("bid"), self.best("ask")
        return b is not None and a is not None and b >= a


def fmt(d):
    """Shortest exact decimal string of a non-negative Decimal."""
    s = format(d, "f")
    if "." in s:
        s = s.rstrip("0").rstrip(".")
    return s or "0"


def unwrap(line):
    """A capture line -> the raw server message, or None (not a message)."""
    if line.startswith(b'{"recv_ns":'):
        m = re.match(rb'\{"recv_ns":[0-9]+,"msg":(.*)\}[ \t\r]*\Z', line, re.S)
        if m:
            return m.group(1)
        return None if re.match(rb'\{"recv_ns":[0-9]+,"event":"connect"', line) else line
    if line[:1].isdigit():
        m = CRYPTOFEED_RE.match(line)
        return line[m.end():] if m else line
    if line.startswith((b"wss://", b"ws://")) and re.match(rb"\S+ <-", line):
        return None
    return line


def lines(path):
    if path == "-":
        yield from sys.stdin.buffer
    elif path.endswith(".zst"):
        p = subprocess.Popen(["zstd", "-dc", "--", path], stdout=subprocess.PIPE)
        yield from p.stdout
        if p.wait() != 0:
            sys.exit("ref_replay: zstd -dc %s failed" % path)
    else:
        with open(path, "rb") as f:
            yield from f


def main(argv):
    want_crossed = "--crossed" in argv
    paths = [a for a in argv if a != "--crossed"]
    if not paths:
        sys.exit(__doc__.split("\n\n")[1])
    books, messages, rejected, unknown = {}, 0, 0, 0
    for path in paths:
        for line in lines(path):
            msg = unwrap(line.rstrip(b"\n"))
            if msg is None or not msg.strip(b" \t\r"):
                continue
            messages += 1
            try:
                events = parse(msg)
            except Reject:
                rejected += 1
                continue
            touched = set()
            for ev in events:
                if ev[0] == "unknown":
                    unknown += 1
                    continue
                b = books.setdefault(ev[1], Book(want_crossed))
                touched.add(ev[1])
                if ev[0] == "group":
                    b.apply(ev[2], ev[3])
                elif ev[0] == "trade":
                    b.trades += 1
            if want_crossed:
                for pid in touched:
                    books[pid].crossed += books[pid].is_crossed()
    out = {}
    for pid, b in books.items():
        bids = sorted(b.side["bid"].items(), reverse=True)[:10]
        asks = sorted(b.side["ask"].items())[:10]
        out[pid] = {"snapshots": b.snapshots, "book_updates": b.book_updates, "trades": b.trades,
                    "bids": [[fmt(p), fmt(s)] for p, s in bids],
                    "asks": [[fmt(p), fmt(s)] for p, s in asks],
                    "bid_levels": len(b.side["bid"]), "ask_levels": len(b.side["ask"])}
        if want_crossed:
            out[pid]["crossed"] = b.crossed
    # one line per product: easy to read, diff and paste
    w = sys.stdout.write
    w('{"messages": %d, "rejected": %d, "unknown_types": %d,\n "products": {'
      % (messages, rejected, unknown))
    w(",".join("\n  %s: %s" % (json.dumps(k), json.dumps(v)) for k, v in out.items()))
    w("}}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
