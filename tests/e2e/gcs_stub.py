#!/usr/bin/env python3
"""gcs_stub.py UPSTREAM EXPIRES_IN STATE_FILE: two loopback HTTP servers for
tests/e2e/test_lake_gcs_token.sh.

* a GCE metadata-server stub: GET /computeMetadata/v1/instance/service-
  accounts/default/token with "Metadata-Flavor: Google" issues a new token
  ("ya29.stub-N-<random>", expires_in EXPIRES_IN seconds); without the header,
  403 (as the real server does);
* a GCS XML API stub: every request must carry "Authorization: Bearer T" for a
  token T issued here and not yet expired (else 401 with an XML error); it is
  then forwarded without the header to UPSTREAM (an S3 server on loopback
  that takes anonymous requests) and its answer relayed.

* a service-account token endpoint on the metadata port: POST /token with
  grant_type=urn:ietf:params:oauth:grant-type:jwt-bearer and an RS256 JWT
  assertion, verified with the public key in $STUB_SA_PUBKEY (iss
  $STUB_SA_EMAIL, aud this endpoint's URL, a devstorage scope, exp - iat <=
  3600, iat within 60 s of now) by python3-cryptography; then a token as
  above (counted as jwt_fetches), else 400 invalid_grant.
* revocation, on the metadata port: POST /revoke revokes every token issued
  so far (a revoked token is answered 401 "revoked token", counted in
  revoked_rejected); POST /revoke?all=1 also revokes every token issued from
  then on (a credential that stays refused), POST /revoke?all=0 ends that.

Prints "ready METADATA_PORT GCS_PORT"; counters (fetches, requests, rejected,
tokens used) are rewritten to STATE_FILE as JSON after each request."""
import http.client, json, secrets, sys, threading, time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

UP = urlsplit(sys.argv[1])
LIFE = float(sys.argv[2])
STATE = sys.argv[3]
lock = threading.Lock()
tokens = {}  # token -> expiry (time.time())
revoked = set()
revoke_all = [False]
st = {"fetches": 0, "jwt_fetches": 0, "jwt_rejected": [], "requests": 0, "rejected": 0,
      "reject_reasons": [], "tokens_used": [], "revokes": 0, "revoked_rejected": 0}


def save():
    with open(STATE + ".tmp", "w") as f:
        json.dump(st, f)
    import os
    os.replace(STATE + ".tmp", STATE)


def b64d(s):
    import base64
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))


def jwt_ok(assertion, aud):
    """None if the assertion is a valid grant for aud, else why not."""
    import os
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import padding
    try:
        h, c, s = assertion.split(".")
        if json.loads(b64d(h)) != {"alg": "RS256", "typ": "JWT"}:
            return "header"
        pub = serialization.load_pem_public_key(open(os.environ["STUB_SA_PUBKEY"], "rb").read())
        pub.verify(b64d(s), (h + "." + c).encode(), padding.PKCS1v15(), hashes.SHA256())
        cl = json.loads(b64d(c))
    except Exception as e:  # noqa: BLE001 -- any malformation is a rejection
        return "malformed or bad signature: %s" % type(e).__name__
    if cl.get("iss") != os.environ.get("STUB_SA_EMAIL") or cl.get("aud") != aud:
        return "iss/aud"
    if "devstorage" not in cl.get("scope", ""):
        return "scope"
    if not (0 < cl["exp"] - cl["iat"] <= 3600 and abs(cl["iat"] - time.time()) < 60):
        return "iat/exp"
    return None


class Meta(BaseHTTPRequestHandler):
    def log_message(self, *a):
        pass

    def do_POST(self):
        from urllib.parse import parse_qs
        n = int(self.headers.get("Content-Length") or 0)
        if self.path.startswith("/revoke"):
            self.rfile.read(n)
            with lock:
                revoked.update(tokens)
                st["revokes"] += 1
                if self.path.endswith("all=1"):
                    revoke_all[0] = True
                elif self.path.endswith("all=0"):
                    revoke_all[0] = False
                save()
            self.send_response(204)
            self.end_headers()
            return
        form = parse_qs(self.rfile.read(n).decode())
        aud = "http://127.0.0.1:%d/token" % self.server.server_address[1]
        why = "path" if self.path != "/token" else None
        if not why and form.get("grant_type") != ["urn:ietf:params:oauth:grant-type:jwt-bearer"]:
            why = "grant_type"
        why = why or jwt_ok(form.get("assertion", [""])[0], aud)
        with lock:
            if why:
                st["jwt_rejected"].append(why)
            else:
                st["jwt_fetches"] += 1
                tok = "ya29.stub-j%d-%s" % (st["jwt_fetches"], secrets.token_hex(16))
                tokens[tok] = time.time() + LIFE
                if revoke_all[0]:
                    revoked.add(tok)
            save()
        body = json.dumps({"error": "invalid_grant", "error_description": why} if why else
                          {"access_token": tok, "expires_in": int(LIFE), "token_type": "Bearer"}).encode()
        self.send_response(400 if why else 200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        if self.path != "/computeMetadata/v1/instance/service-accounts/default/token":
            self.send_error(404)
            return
        if self.headers.get("Metadata-Flavor") != "Google":
            self.send_error(403, "Missing Metadata-Flavor:Google header")
            return
        with lock:
            st["fetches"] += 1
            tok = "ya29.stub-%d-%s" % (st["fetches"], secrets.token_hex(16))
            tokens[tok] = time.time() + LIFE
            if revoke_all[0]:
                revoked.add(tok)
            save()
        body = json.dumps({"access_token": tok, "expires_in": int(LIFE), "token_type": "Bearer"}).encode()
        self.send_response(200)
        self.send_header("Metadata-Flavor", "Google")
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


class Gcs(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body are two writes: no 40 ms stalls

    def log_message(self, *a):
        pass

    def reject(self, why):
        with lock:
            st["requests"] += 1
            st["rejected"] += 1
            st["reject_reasons"].append(why)
            save()
        body = ("<?xml version='1.0' encoding='UTF-8'?><Error><Code>AuthenticationRequired</Code>"
                "<Message>%s</Message></Error>" % why).encode()
        self.send_response(401)
        self.send_header("Content-Type", "application/xml")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def handle_any(self):
        n = int(self.headers.get("Content-Length") or 0)
        data = self.rfile.read(n) if n else b""
        auth = self.headers.get("Authorization", "")
        if not auth.startswith("Bearer "):
            return self.reject("no bearer token")
        tok = auth[7:]
        with lock:
            exp = tokens.get(tok)
        if exp is None:
            return self.reject("unknown token")
        if tok in revoked:
            with lock:
                st["revoked_rejected"] += 1
            return self.reject("revoked token")
        if time.time() >= exp:
            return self.reject("expired token")
        if any(k.lower().startswith("x-amz-") for k in self.headers):
            return self.reject("x-amz header with a bearer token")
        with lock:
            st["requests"] += 1
            if tok.split("-")[1] not in st["tokens_used"]:
                st["tokens_used"].append(tok.split("-")[1])
            save()
        hdrs = {k: v for k, v in self.headers.items()
                if k.lower() not in ("authorization", "host", "connection", "content-length")}
        c = http.client.HTTPConnection(UP.hostname, UP.port, timeout=60)
        c.request(self.command, self.path, body=data if (n or self.command in ("PUT", "POST")) else None,
                  headers=hdrs)
        r = c.getresponse()
        body = r.read()
        self.send_response(r.status)
        for k, v in r.getheaders():
            if k.lower() not in ("transfer-encoding", "connection", "content-length", "date", "server"):
                self.send_header(k, v)
        self.send_header("Content-Length", r.getheader("Content-Length", "0") if self.command == "HEAD"
                         else str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)
        c.close()

    do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = handle_any


m = ThreadingHTTPServer(("127.0.0.1", 0), Meta)
g = ThreadingHTTPServer(("127.0.0.1", 0), Gcs)
with lock:
    save()
threading.Thread(target=m.serve_forever, daemon=True).start()
print("ready %d %d" % (m.server_address[1], g.server_address[1]), flush=True)
g.serve_forever()
