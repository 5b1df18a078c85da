#!/usr/bin/env bash
# --summary / --save-model (and --status-file, same writer: core/file.c)
# on every kind of path: a regular file is replaced atomically, a symlink
# is followed and stays a symlink, FIFOs and character devices are written
# in place, /dev/stdout writes to the process's stdout. The system's
# /dev/stdout and /dev/null are used only after private stand-ins (a
# symlink to /proc/self/fd/1, a private null-device node) proved that the
# binary under test writes in place, so this test cannot replace them.
. "$(dirname "$0")/lib.sh"
head -3000 "$REAL" > "$T/in.ndjson"
run() { "$QW_BIN" replay "$@" "$T/in.ndjson" 2>>"$T/log"; }
is_summary() { "$PY" -c "import json,sys; d=json.load(open(sys.argv[1])); assert d['messages']==3000 or d['messages']>0" "$1" \
  || die "$2: not a summary: $(head -c 200 "$1")"; }

# regular file: replaced (new inode), no temp file left
run --summary "$T/s.json" || die "regular"
ino1=$(stat -c %i "$T/s.json"); run --summary "$T/s.json" || die "regular again"
[ "$(stat -c %i "$T/s.json")" != "$ino1" ] || die "regular file not replaced atomically"
is_summary "$T/s.json" regular
ls "$T" | grep -q '\.tmp\.' && die "temp file left: $(ls "$T")"

# symlink to a regular file (relative link): target rewritten, link kept
mkdir "$T/d"; echo old > "$T/d/target.json"; ln -s target.json "$T/d/link.json"
run --summary "$T/d/link.json" || die "symlink"
[ -L "$T/d/link.json" ] || die "symlink replaced by a regular file"
is_summary "$T/d/target.json" "symlink target"

# FIFO, and a symlink to a FIFO: written in place, still FIFOs
mkfifo "$T/fifo"; ln -s "$T/fifo" "$T/fifo.link"
for p in "$T/fifo" "$T/fifo.link"; do
  cat "$T/fifo" > "$T/fifo.out" & rd=$!
  run --summary "$p" & w=$!
  for _ in $(seq 100); do kill -0 $w 2>/dev/null || break; sleep 0.1; done
  if kill -0 $w 2>/dev/null; then kill $w; kill $rd 2>/dev/null; die "$p: writer hangs"; fi
  wait $w || { kill $rd 2>/dev/null; die "$p: exit $?"; }
  [ -p "$T/fifo" ] || { kill $rd 2>/dev/null; die "$p: the FIFO was replaced"; }
  wait $rd || die "reader"
  is_summary "$T/fifo.out" "$p"
done
[ -L "$T/fifo.link" ] || die "FIFO symlink replaced"
# the model checkpoint goes through the same writer
cat "$T/fifo" > "$T/model.out" & rd=$!
run --save-model "$T/fifo" || die "--save-model to a FIFO"
wait $rd; [ -p "$T/fifo" ] || die "--save-model replaced the FIFO"
head -c 8 "$T/model.out" | grep -q QWMODELS || die "--save-model: no checkpoint through the FIFO"

# descriptor path through a private symlink: stdout is appended to, the link stays
ln -s /proc/self/fd/1 "$T/stdout.link"
echo head > "$T/out.txt"
run --summary "$T/stdout.link" >> "$T/out.txt" || die "stdout link"
[ -L "$T/stdout.link" ] || die "stdout symlink replaced"
[ "$(head -1 "$T/out.txt")" = head ] || die "stdout not appended to"
tail -n +2 "$T/out.txt" > "$T/out.json"; is_summary "$T/out.json" "stdout link"
# ... so the real /dev/stdout is safe to use
[ -L /dev/stdout ] && was_link=1 || was_link=0
run --summary /dev/stdout > "$T/stdout.json" || die "/dev/stdout"
is_summary "$T/stdout.json" /dev/stdout
[ "$was_link" = 0 ] || [ -L /dev/stdout ] || die "/dev/stdout is no longer a symlink"

# character device: a private null-device node first (needs root/mknod)
if mknod "$T/null" c 1 3 2>/dev/null; then
  run --summary "$T/null" || die "private null device"
  [ -c "$T/null" ] || die "private character device replaced by $(stat -c %F "$T/null")"
  [ -c /dev/null ] || die "/dev/null is not a character device before the test"
  run --summary /dev/null --save-model /dev/null || die "/dev/null"
  [ -c /dev/null ] || die "/dev/null replaced by $(stat -c %F /dev/null)"
else
  echo "SKIPPED: character device case (mknod not permitted; /dev/null not touched)"
fi

# a directory is refused (the run fails, the directory stays)
mkdir "$T/dir"
run --summary "$T/dir" && die "--summary to a directory succeeded"
[ -d "$T/dir" ] || die "directory replaced"
echo ok
