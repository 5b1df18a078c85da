#!/usr/bin/env python3
"""lake_bounds.py WAREHOUSE < `quotewatch lake tables` output: per table one
line of what it costs on disk, read independently of QuoteWatch's code:
  TABLE seq S snapshots N meta_json B metadir_bytes M data_files D manifests K
S is the table's last-sequence-number (one per commit, so the commits so
far), B the current metadata.json's size, M the bytes of everything under
metadata/ (every metadata.json kept, manifest lists, manifests), D the
Parquet files under data/ (live or not yet expired), K the entries of the
current snapshot's manifest list (counted from the Avro container's block
headers: the manifests scan planning opens).
Used by bench/lake_day.sh while a writer commits, so a file that
vanishes between the listing and the stat is skipped."""
import json
import os
import sys


def zigzag(buf, i):
    """One Avro long at buf[i:]; returns (value, next index)."""
    shift = acc = 0
    while True:
        b = buf[i]
        i += 1
        acc |= (b & 0x7F) << shift
        shift += 7
        if not b & 0x80:
            return (acc >> 1) ^ -(acc & 1), i


def avro_count(path):
    """Number of objects in an Avro object container file."""
    buf = open(path, "rb").read()
    if buf[:4] != b"Obj\x01":
        raise ValueError(f"{path}: not an Avro container")
    i = 4
    while True:  # file metadata: map<bytes> in blocks
        n, i = zigzag(buf, i)
        if n == 0:
            break
        if n < 0:
            n = -n
            _, i = zigzag(buf, i)
        for _ in range(n):
            for _ in range(2):  # key, value
                ln, i = zigzag(buf, i)
                i += ln
    i += 16  # sync marker
    total = 0
    while i < len(buf):
        n, i = zigzag(buf, i)
        size, i = zigzag(buf, i)
        total += n
        i += size + 16
    return total


def local(uri):
    return uri[7:] if uri.startswith("file://") else uri


def tree(d, suffix=""):
    files = nbytes = 0
    for root, _, names in os.walk(d):
        for f in names:
            if not f.endswith(suffix):
                continue
            try:
                nbytes += os.stat(os.path.join(root, f)).st_size
                files += 1
            except FileNotFoundError:
                pass
    return files, nbytes


def table_line(wh, table, loc):
    meta_path = local(loc)
    m = json.load(open(meta_path))
    cur = m.get("current-snapshot-id")
    manifests = 0
    for s in m.get("snapshots", []):
        if s["snapshot-id"] == cur:
            manifests = avro_count(local(s["manifest-list"]))
    tdir = os.path.join(wh, "quotewatch", table)
    _, metadir = tree(os.path.join(tdir, "metadata"))
    data_files, _ = tree(os.path.join(tdir, "data"), ".parquet")
    print(f"{table} seq {m.get('last-sequence-number', 0)} snapshots {len(m.get('snapshots', []))} "
          f"meta_json {os.stat(meta_path).st_size} metadir_bytes {metadir} "
          f"data_files {data_files} manifests {manifests}")


def main():
    wh = sys.argv[1]
    for line in sys.stdin:
        w = line.split()
        if len(w) >= 10 and w[1] == "snapshots":
            table_line(wh, w[0], w[-1])


if __name__ == "__main__":
    main()
