#!/usr/bin/env bash
# qw-test: serial (timing budgets or a CPU-heavy browser/container: runs alone)
# The repository's own Dockerfile, built and run offline with podman:
#  - the base image comes from the Debian mirror (scripts/container-base.sh,
#    cached per machine under QW_CACHE); the build reaches Debian's and npm's
#    registries only, through the host network;
#  - the image runs `live` (its default command) with PORT,
#    ENABLE_PERSISTENCE=true and a warehouse on a mounted volume, against
#    `quotewatch sim` on the host: /healthz, /readyz and /api/state answer,
#    the books equal a replay of what the simulator served;
#  - `podman stop -t 10` (SIGTERM) exits 0 within the grace period, and
#    `replay --lake` on the host holds every row the container's summary
#    counted.
# Also checks the image: non-root user, entrypoint, size (goal <= 150 MB).
# This test must run on the project's machines; it fails (it does not skip)
# when podman cannot build or run the image. QW_CONTAINER=0 skips it with
# that reason for a developer without root.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/livelib.sh"
[ "${QW_CONTAINER:-1}" = 0 ] && skip_test "QW_CONTAINER=0 set by the caller"
command -v podman >/dev/null || die "podman missing (scripts/install-deps.sh installs it)"
[ "$(id -u)" = 0 ] || die "the container test needs root (podman with runc, debootstrap)"
source "$QW_ROOT/scripts/container-env.sh"
IMG=localhost/quotewatch:test
NAME=qw-test-$$
cleanup_container() { podman rm -f "$NAME" >/dev/null 2>&1 || true; cleanup_live; }
trap cleanup_container EXIT

t0=$SECONDS
"$QW_ROOT/scripts/container-base.sh" || die "cannot make the base image"
echo "base image: $((SECONDS - t0)) s"
t0=$SECONDS
# npm inside the build trusts what the host trusts (a TLS-intercepting proxy)
ca=/etc/ssl/certs/ca-certificates.crt
podman build --network host -v "$ca:/run/host-ca.crt:ro" --build-arg NODE_EXTRA_CA_CERTS=/run/host-ca.crt \
  -t "$IMG" "$QW_ROOT" > "$T/build.log" 2>&1 || { tail -40 "$T/build.log"; die "podman build failed"; }
echo "image build: $((SECONDS - t0)) s"
# untagged images (earlier builds' stages) older than a week go, so QW_CACHE
# does not grow with every source change; younger ones stay: a cached build
# stage reused by this build keeps its first creation time
podman image prune -f --filter until=168h >/dev/null 2>&1 || echo "note: podman image prune failed"
size=$(podman image inspect "$IMG" --format '{{.Size}}')
echo "image size: $((size / 1024 / 1024)) MiB"
(( size <= 150 * 1024 * 1024 )) || die "image is $((size / 1024 / 1024)) MiB (goal <= 150)"
[ "$(podman image inspect "$IMG" --format '{{.Config.User}}')" = "10001:10001" ] || die "image must run as a non-root user"
podman image inspect "$IMG" --format '{{json .Config.Entrypoint}} {{json .Config.Cmd}}' | grep -q '\["quotewatch"\] \["live"\]' \
  || die "entrypoint/cmd must be quotewatch live"
podman run --rm "$IMG" version > "$T/version.txt" 2>&1 || die "the image cannot run quotewatch version"

# the simulator on the host serves the real capture once, then stays quiet
"$QW_BIN" replay "$REAL" --summary "$T/ref.json" 2>/dev/null
sport=$(free_port); hport=$(free_port)
start_sim sim --port "$sport" --speed max "$REAL"
wait_port "$sport"
# The volume is mounted at the same path inside and outside, so the table
# locations the container writes (absolute file:// URIs) resolve on the host.
mkdir -p "$T/data"; chmod 777 "$T" "$T/data"
podman run -d --name "$NAME" --network host -v "$T/data:$T/data" -w "$T/data" \
  -e PORT="$hport" -e ENABLE_PERSISTENCE=true -e QW_LOG_LEVEL=info \
  -e ICEBERG_WAREHOUSE="file://$T/data/warehouse" \
  "$IMG" live --bind 127.0.0.1 --feed exchange --products "$REAL_PRODUCTS" --url "ws://127.0.0.1:$sport" \
  --summary "$T/data/summary.json" --flush-ms 1000 > /dev/null || die "podman run failed"
# the default data directory of the image is writable by its user
podman run --rm --entrypoint sh "$IMG" -c 'touch /data/x && [ "$(id -u)" = 10001 ]' || die "/data is not writable by the image user"

"$PY" - "$hport" "$T/ref.json" "$REAL_PRODUCTS" <<'PYEOF' || { podman logs "$NAME" 2>&1 | tail -30; die "the container's dashboard did not match the replay"; }
import json, sys, time, urllib.request
port, ref, prods = int(sys.argv[1]), json.load(open(sys.argv[2])), sys.argv[3].split(",")
base = f"http://127.0.0.1:{port}"
def get(path):
    try:
        with urllib.request.urlopen(base + path, timeout=2) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()
    except OSError:
        return None, b""
end = time.time() + 60
while time.time() < end and get("/healthz")[0] != 200:
    time.sleep(0.2)
assert get("/healthz")[0] == 200, "no /healthz"
last = None
while time.time() < end:
    code, body = get("/api/state")
    if code == 200:
        st = json.loads(body)
        books = {p["product"]: p for p in st["products"]}
        bad = [p for p in prods if p not in books or not books[p]["valid"]
               or books[p]["bids"] != ref["products"][p]["bids"][:len(books[p]["bids"])]
               or books[p]["asks"] != ref["products"][p]["asks"][:len(books[p]["asks"])]
               or books[p]["bid_levels"] != ref["products"][p]["bid_levels"]
               or books[p]["ask_levels"] != ref["products"][p]["ask_levels"]]
        if not bad and get("/readyz")[0] == 200:
            print("api/state books equal the replay for", len(prods), "products; /readyz 200")
            sys.exit(0)
        last = bad
    time.sleep(0.3)
print("still differing:", last)
sys.exit(1)
PYEOF
sleep 2 # a commit or two
t0=$SECONDS
podman stop -t 10 "$NAME" > /dev/null || die "podman stop failed"
elapsed=$((SECONDS - t0))
rc=$(podman inspect "$NAME" --format '{{.State.ExitCode}}')
podman logs "$NAME" > "$T/container.log" 2>&1 || true
[ "$rc" = 0 ] || { tail -30 "$T/container.log"; die "container exited $rc on SIGTERM"; }
(( elapsed < 10 )) || die "SIGTERM took ${elapsed}s (grace period 10 s)"
[ -s "$T/data/summary.json" ] || die "no summary in the volume"
same_books "$T/data/summary.json" "$T/ref.json" "$REAL_PRODUCTS" || die "container books differ from the capture's"
# every row the container counted is in the lake, read on the host
cd "$T/data"
ICEBERG_WAREHOUSE="file://$T/data/warehouse" "$QW_BIN" replay --lake --summary "$T/lake.json" 2>"$T/lake.log" || { tail "$T/lake.log"; die "replay --lake failed on the container's warehouse"; }
"$PY" - "$T/data/summary.json" "$T/lake.json" <<'PYEOF' || die "the lake lacks rows the container counted"
import json, sys
live, lake = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))
rw = live["live"]["persistence"]["rows_written"]
print("container committed", rw, "; lake replay", lake["messages"], "messages")
assert rw["raw_orderbook"] > 0 and live["live"]["persistence"]["dropped"] == 0, rw
assert lake["messages"] >= rw["raw_orderbook"] // 2, "the lake replay read too few messages"
bad = [p for p in live["products"] if live["products"][p]["book_digest"] != lake["products"][p]["book_digest"]]
assert not bad, f"lake books differ: {bad}"
PYEOF
echo "stopped in ${elapsed}s with exit 0; lake equals the container's books"
