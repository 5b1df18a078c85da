#!/usr/bin/python3
"""ws_probe.py: a tiny independent WebSocket client (RFC 6455 by hand on the
stdlib socket/ssl modules, optional permessage-deflate via zlib) and a
Coinbase book builder for both feeds, used by tests/e2e/test_sim_*.sh to
check `quotewatch sim` on the wire. Shares no code with QuoteWatch.

Library use:  from ws_probe import WS, Books
CLI:          ws_probe.py URL [--send JSON]... [--idle S] [--max S] [--cafile F]
              prints one JSON line per received message to stdout.
"""
import base64, json, os, socket, ssl, struct, sys, time, zlib
from decimal import Decimal
from urllib.parse import urlparse


class Closed(Exception):
    pass


class WS:
    def __init__(self, url, cafile=None, deflate=False, timeout=10.0, headers=None):
        u = urlparse(url)
        self.tls = u.scheme == "wss"
        port = u.port or (443 if self.tls else 80)
        host = u.hostname
        s = socket.create_connection((host, port), timeout=timeout)
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        if self.tls:
            ctx = ssl.create_default_context(cafile=cafile)
            s = ctx.wrap_socket(s, server_hostname=host)
        self.s = s
        self.buf = b""
        self.wire = 0  # bytes received from the socket (handshake and frames)
        key = base64.b64encode(os.urandom(16)).decode()
        req = (f"GET {u.path or '/'} HTTP/1.1\r\nHost: {host}:{port}\r\nUpgrade: websocket\r\n"
               f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n")
        if deflate:
            req += "Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n"
        for k, v in (headers or {}).items():
            req += f"{k}: {v}\r\n"
        s.sendall((req + "\r\n").encode())
        while b"\r\n\r\n" not in self.buf:
            d = s.recv(65536)
            if not d:
                raise Closed("connection closed during the handshake")
            self.wire += len(d)
            self.buf += d
        head, self.buf = self.buf.split(b"\r\n\r\n", 1)
        lines = head.decode("latin1").split("\r\n")
        if " 101 " not in lines[0] + " ":
            raise Closed("handshake refused: " + lines[0])
        hdr = {l.split(":", 1)[0].strip().lower(): l.split(":", 1)[1].strip() for l in lines[1:] if ":" in l}
        self.deflate = "permessage-deflate" in hdr.get("sec-websocket-extensions", "")
        self.inflater = zlib.decompressobj(-15)
        self.frames = 0        # frames of the last message
        self.compressed = 0    # messages received compressed
        self.close_code = None

    def _read(self, n, deadline):
        while len(self.buf) < n:
            left = deadline - time.monotonic() if deadline else None
            if left is not None and left <= 0:
                raise TimeoutError
            self.s.settimeout(left)
            try:
                d = self.s.recv(1 << 20)
            except socket.timeout:
                raise TimeoutError
            if not d:
                raise Closed("eof")
            self.wire += len(d)
            self.buf += d
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def _frame(self, deadline):
        b0, b1 = self._read(2, deadline)
        n = b1 & 127
        if n == 126:
            n = struct.unpack(">H", self._read(2, deadline))[0]
        elif n == 127:
            n = struct.unpack(">Q", self._read(8, deadline))[0]
        if b1 & 128:
            raise Closed("server frame is masked")
        return b0 & 0x80, b0 & 0x40, b0 & 0x0F, self._read(n, deadline) if n else b""

    def recv(self, timeout=None):
        """Next complete message as (opcode, bytes); opcode 8 = close.
        Raises TimeoutError (nothing complete in time) or Closed (EOF)."""
        deadline = time.monotonic() + timeout if timeout is not None else None
        parts, op0, rsv0, self.frames = [], None, 0, 0
        while True:
            fin, rsv1, op, data = self._frame(deadline)
            if op == 9:
                self.send(data, 10)
                continue
            if op == 10:
                continue
            if op == 8:
                self.close_code = struct.unpack(">H", data[:2])[0] if len(data) >= 2 else None
                return 8, data
            if op0 is None:
                if op == 0:
                    raise Closed("continuation without a start")
                op0, rsv0 = op, rsv1
            elif op != 0:
                raise Closed("new message inside a fragmented one")
            self.frames += 1
            parts.append(data)
            if fin:
                msg = b"".join(parts)
                if rsv0:
                    self.compressed += 1
                    msg = self.inflater.decompress(msg + b"\x00\x00\xff\xff")
                return op0, msg

    def recv_text(self, timeout=None):
        op, data = self.recv(timeout)
        if op == 8:
            raise Closed("close frame %s" % (self.close_code,))
        return data.decode("utf-8")

    def send(self, data, op=1):
        if isinstance(data, str):
            data = data.encode()
        mask = os.urandom(4)
        n = len(data)
        hdr = bytes([0x80 | op])
        if n < 126:
            hdr += bytes([0x80 | n])
        elif n < 65536:
            hdr += bytes([0x80 | 126]) + struct.pack(">H", n)
        else:
            hdr += bytes([0x80 | 127]) + struct.pack(">Q", n)
        masked = bytes(b ^ mask[i & 3] for i, b in enumerate(data))
        self.s.sendall(hdr + mask + masked)

    def send_json(self, obj):
        self.send(json.dumps(obj))

    def close(self):
        try:
            self.send(struct.pack(">H", 1000), 8)
        except OSError:
            pass
        self.s.close()


def dnorm(s):
    d = Decimal(s)
    return "0" if d == 0 else format(d.normalize(), "f")


class Books:
    """Books and checks from a stream of Coinbase messages (either feed)."""

    def __init__(self):
        self.bids, self.asks = {}, {}   # product -> {price Decimal: size Decimal}
        self.seq = None                  # last Advanced sequence_num
        self.gaps = []                   # (expected, got)
        self.counts = {}
        self.snapshots = {}
        self.trade_ids = {}              # product -> [trade ids]
        self.errors = []
        self.acks = []
        self.hb = []                     # heartbeat messages

    def apply(self, m):
        if "sequence_num" in m:
            sn = m["sequence_num"]
            if self.seq is not None and sn != self.seq + 1:
                self.gaps.append((self.seq + 1, sn))
            self.seq = sn
        key = m.get("type") or m.get("channel")
        self.counts[key] = self.counts.get(key, 0) + 1
        if key == "error":
            self.errors.append(m)
        elif key == "subscriptions":
            self.acks.append(m)
        elif key in ("heartbeat", "heartbeats"):
            self.hb.append(m)
        elif key == "snapshot":
            p = m["product_id"]
            self.bids[p] = {Decimal(a): Decimal(b) for a, b in m["bids"] if Decimal(b) != 0}
            self.asks[p] = {Decimal(a): Decimal(b) for a, b in m["asks"] if Decimal(b) != 0}
            self.snapshots[p] = self.snapshots.get(p, 0) + 1
        elif key == "l2update":
            p = m["product_id"]
            for side, px, sz in m["changes"]:
                self._set(p, side == "buy", px, sz)
        elif key in ("match", "last_match"):
            self.trade_ids.setdefault(m["product_id"], []).append(m["trade_id"])
        elif key == "l2_data":
            for e in m["events"]:
                p = e["product_id"]
                if e["type"] == "snapshot":
                    self.bids[p], self.asks[p] = {}, {}
                    self.snapshots[p] = self.snapshots.get(p, 0) + 1
                for u in e["updates"]:
                    self._set(p, u["side"] == "bid", u["price_level"], u["new_quantity"])
        elif key == "market_trades":
            for e in m["events"]:
                for t in e["trades"]:
                    self.trade_ids.setdefault(t["product_id"], []).append(int(t["trade_id"]))

    def _set(self, p, bid, px, sz):
        book = (self.bids if bid else self.asks).setdefault(p, {})
        px, sz = Decimal(px), Decimal(sz)
        if sz == 0:
            book.pop(px, None)
        else:
            book[px] = sz

    def top(self, p, n=10):
        b = sorted(self.bids.get(p, {}).items(), reverse=True)[:n]
        a = sorted(self.asks.get(p, {}).items())[:n]
        f = lambda l: [[dnorm(x), dnorm(y)] for x, y in l]
        return f(b), f(a)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Sim:
    """Start `quotewatch sim` on a free port; stop() sends SIGINT and
    returns (exit code, stderr text, summary dict)."""

    def __init__(self, binary, args, logpath, tries=5):
        import subprocess
        for _ in range(tries):
            self.port = free_port()
            self.log = open(logpath, "wb")
            self.p = subprocess.Popen([binary, "sim", "--port", str(self.port)] + list(args),
                                      stdout=subprocess.PIPE, stderr=self.log)
            line = self.p.stdout.readline().decode()
            if line.startswith('{"listening":'):
                assert json.loads(line)["listening"] == self.port
                self.logpath = logpath
                return
            self.p.wait()
            self.log.close()
        raise RuntimeError("sim did not start: " + open(logpath).read()[-2000:])

    def url(self, scheme="ws"):
        return f"{scheme}://127.0.0.1:{self.port}/"

    def stop(self, timeout=20):
        import signal
        if self.p.poll() is None:
            self.p.send_signal(signal.SIGINT)
        rc = self.p.wait(timeout)
        self.log.close()
        err = open(self.logpath).read()
        summ = None
        for l in err.splitlines():
            if l.startswith('{"sim":"summary"'):
                summ = json.loads(l)
        return rc, err, summ


def main():
    import argparse
    ap = argparse.ArgumentParser()
    ap.add_argument("url")
    ap.add_argument("--send", action="append", default=[])
    ap.add_argument("--idle", type=float, default=2.0)
    ap.add_argument("--max", type=float, default=30.0)
    ap.add_argument("--cafile")
    ap.add_argument("--deflate", action="store_true")
    a = ap.parse_args()
    ws = WS(a.url, cafile=a.cafile, deflate=a.deflate)
    for s in a.send:
        ws.send(s)
    end = time.monotonic() + a.max
    try:
        while time.monotonic() < end:
            try:
                op, data = ws.recv(a.idle)
            except TimeoutError:
                break
            if op == 8:
                break
            sys.stdout.write(data.decode() + "\n")
    except Closed:
        pass
    ws.close()


if __name__ == "__main__":
    main()
