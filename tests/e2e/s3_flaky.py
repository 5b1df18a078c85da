#!/usr/bin/env python3
"""s3_flaky.py: an S3-shaped HTTP server on 127.0.0.1 that fails on purpose,
for the client's retry tests (no signature check). Prints "ready PORT".
Keys (path /BUCKET/KEY) choose the behaviour:
  slow*     503 SlowDown twice, then 200      r429*   429 once, then 200
  reset*    the first two requests' connections are closed without an answer
  fail500*  always 500 InternalError          deny*   always 403 AccessDenied
  anything else: 200
"""
import http.server
import sys
import threading

counts = {}
lock = threading.Lock()


class H(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *a):
        pass

    def answer(self, code, xml_code=None):
        body = b""
        if xml_code:
            body = ("<?xml version=\"1.0\"?><Error><Code>%s</Code><Message>test</Message></Error>"
                    % xml_code).encode()
        self.send_response(code)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("ETag", "\"e\"")
        self.end_headers()
        self.wfile.write(body)

    def handle_any(self):
        n = int(self.headers.get("Content-Length") or 0)
        if n:
            self.rfile.read(n)
        key = self.path.split("?")[0].split("/", 2)[-1]
        with lock:
            counts[key] = counts.get(key, 0) + 1
            c = counts[key]
        if key.startswith("slow") and c <= 2:
            return self.answer(503, "SlowDown")
        if key.startswith("r429") and c <= 1:
            return self.answer(429, "TooManyRequests")
        if key.startswith("reset") and c <= 2:
            self.close_connection = True
            self.connection.shutdown(2)
            return
        if key.startswith("fail500"):
            return self.answer(500, "InternalError")
        if key.startswith("deny"):
            return self.answer(403, "AccessDenied")
        return self.answer(200)

    do_PUT = do_GET = do_POST = do_DELETE = do_HEAD = handle_any


srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
print("ready", srv.server_address[1], flush=True)
srv.serve_forever()
