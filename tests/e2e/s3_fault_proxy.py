#!/usr/bin/env python3
"""s3_fault_proxy.py UPSTREAM_PORT CONTROL_FILE: an HTTP proxy on 127.0.0.1
between QuoteWatch and the loopback S3 server that injects faults. Requests
are forwarded byte for byte (Host and every signed header unchanged, so the
server still verifies SigV4). Prints "ready PORT"; counts what it did in
CONTROL_FILE.stats (JSON).

The first word of CONTROL_FILE, read for every request, picks the fault:
  ok            forward
  down          close the connection without an answer
  500 / 503     answer 500 InternalError / 503 SlowDown without forwarding
  stall:S       wait S seconds, then forward
  truncate      forward, then send the answer's headers and half its body, close
  mix:P         each request: with probability P one of down/500/503/truncate/
                stall:1, else forward (seeded: deterministic per request number)
  listleak:KEY  forward; a ListObjectsV2 answer gets one more <Contents> entry,
                KEY (outside the listed prefix: a store answering with another
                table's keys)
  listloop      forward; a ListObjectsV2 answer says IsTruncated with the
                continuation token "loop", every time (a listing that never ends)
"""
import http.client
import http.server
import json
import os
import random
import sys
import threading
import time

UP = int(sys.argv[1])
CTL = sys.argv[2]
lock = threading.Lock()
LOOP_PAGE = []  # listloop: the last listing page, answered again for the token "loop"
stats = {"requests": 0, "forwarded": 0, "down": 0, "500": 0, "503": 0, "stall": 0,
         "truncate": 0, "listleak": 0, "listloop": 0}


def mode():
    try:
        with open(CTL) as f:
            return (f.read().split() or ["ok"])[0]
    except OSError:
        return "ok"


def count(k):
    with lock:
        stats[k] += 1
        with open(CTL + ".stats.tmp", "w") as f:
            json.dump(stats, f)
        os.replace(CTL + ".stats.tmp", CTL + ".stats")


class H(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *a):
        pass

    def error(self, code, xml):
        body = ("<?xml version=\"1.0\"?><Error><Code>%s</Code><Message>injected</Message>"
                "</Error>" % xml).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/xml")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def handle_any(self):
        n = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(n) if n else b""
        with lock:
            stats["requests"] += 1
            seq = stats["requests"]
        m = mode()
        if m.startswith("mix:"):
            rng = random.Random(seq)
            m = rng.choice(["down", "500", "503", "truncate", "stall:1"]) \
                if rng.random() < float(m[4:]) else "ok"
        if m == "down":
            count("down")
            self.close_connection = True
            self.connection.close()
            return
        if m in ("500", "503"):
            count(m)
            self.error(int(m), "InternalError" if m == "500" else "SlowDown")
            return
        if m.startswith("stall:"):
            count("stall")
            time.sleep(float(m[6:]))
        if m == "listloop" and "continuation-token=loop" in self.path and LOOP_PAGE:
            count("listloop")  # the server knows no such token: the page again, from here
            self.send_response(200)
            self.send_header("Content-Type", "application/xml")
            self.send_header("Content-Length", str(len(LOOP_PAGE[0])))
            self.end_headers()
            self.wfile.write(LOOP_PAGE[0])
            return
        c = http.client.HTTPConnection("127.0.0.1", UP, timeout=60)
        c.putrequest(self.command, self.path, skip_host=True, skip_accept_encoding=True)
        for k, v in self.headers.items():
            c.putheader(k, v)
        c.endheaders(body if body else None)
        r = c.getresponse()
        data = r.read()
        c.close()
        if m == "truncate" and len(data) >= 2:
            count("truncate")
            self.send_response(r.status)
            for k, v in r.getheaders():
                if k.lower() not in ("transfer-encoding", "connection"):
                    self.send_header(k, v)
            self.end_headers()
            self.wfile.write(data[: len(data) // 2])
            self.wfile.flush()
            self.close_connection = True
            self.connection.close()
            return
        if "list-type=2" in self.path and r.status == 200 and m.startswith("listleak:"):
            count("listleak")
            extra = "<Contents><Key>%s</Key><Size>1</Size></Contents>" % m[9:]
            data = data.replace(b"</ListBucketResult>", extra.encode() + b"</ListBucketResult>")
        if "list-type=2" in self.path and r.status == 200 and m == "listloop":
            count("listloop")
            import re
            data = re.sub(rb"<IsTruncated>\w+</IsTruncated>", b"<IsTruncated>true</IsTruncated>"
                          b"<NextContinuationToken>loop</NextContinuationToken>", data, count=1)
            LOOP_PAGE[:] = [data]
        count("forwarded")
        self.send_response(r.status)
        for k, v in r.getheaders():
            if k.lower() not in ("transfer-encoding", "connection", "content-length"):
                self.send_header(k, v)
        self.send_header("Content-Length", r.getheader("Content-Length", "0")
                         if self.command == "HEAD" else str(len(data)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = handle_any


class S(http.server.ThreadingHTTPServer):
    daemon_threads = True


srv = S(("127.0.0.1", 0), H)
print("ready", srv.server_address[1], flush=True)
srv.serve_forever()
