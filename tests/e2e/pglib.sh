# pglib.sh (sourced): a throwaway PostgreSQL 15 for tests.
#   pg_start  -> sets PG_URI (TCP on a free loopback port, trust auth, db "qw")
#   pg_stop   -> stops it (also run from the EXIT trap via pg_cleanup)
# Runs the server as the unprivileged `postgres` user when started as root.
PG_BIN=/usr/lib/postgresql/15/bin
pg_start() {
  [ -x "$PG_BIN/initdb" ] || die "PostgreSQL 15 is not installed (scripts/install-deps.sh installs postgresql-15)"
  PG_DIR=$(mktemp -d /tmp/qwpg.XXXXXX)
  local as=()
  if [ "$(id -u)" = 0 ]; then chown postgres "$PG_DIR"; as=(runuser -u postgres --); fi
  "${as[@]}" "$PG_BIN/initdb" -D "$PG_DIR/data" -A trust -U qw --no-sync >"$PG_DIR/initdb.log" 2>&1 \
    || { cat "$PG_DIR/initdb.log"; die "initdb failed"; }
  PG_PORT=$("$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  "${as[@]}" "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -l "$PG_DIR/server.log" -w -t 30 \
    -o "-p $PG_PORT -k $PG_DIR -c listen_addresses=127.0.0.1 -c fsync=off" start >/dev/null \
    || { cat "$PG_DIR/server.log"; die "PostgreSQL did not start"; }
  "${as[@]}" "$PG_BIN/../bin/createdb" -h 127.0.0.1 -p "$PG_PORT" -U qw qw 2>/dev/null \
    || psql -h 127.0.0.1 -p "$PG_PORT" -U qw -d postgres -c 'CREATE DATABASE qw' >/dev/null
  PG_URI="postgresql://qw@127.0.0.1:$PG_PORT/qw"
  export PG_URI
}
pg_stop() {
  [ -n "${PG_DIR:-}" ] || return 0
  local as=(); [ "$(id -u)" = 0 ] && as=(runuser -u postgres --)
  "${as[@]}" "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -m immediate stop >/dev/null 2>&1 || true
  rm -rf "$PG_DIR"; PG_DIR=
}
pg_pause() { # stop the server but keep its data (outage tests)
  local as=(); [ "$(id -u)" = 0 ] && as=(runuser -u postgres --)
  "${as[@]}" "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -m fast -w stop >/dev/null
}
pg_resume() {
  local as=(); [ "$(id -u)" = 0 ] && as=(runuser -u postgres --)
  "${as[@]}" "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -l "$PG_DIR/server.log" -w -t 30 \
    -o "-p $PG_PORT -k $PG_DIR -c listen_addresses=127.0.0.1 -c fsync=off" start >/dev/null
}
