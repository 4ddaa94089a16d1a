#!/usr/bin/env bash
# A throwaway PostgreSQL cluster for tests: scripts/pg.sh start | stop | url | status
#
#   start  create a cluster in a temporary folder, listen on 127.0.0.1 (first free port from
#          $GUANXI_PG_PORT, default 54329), trust authentication, create database `guanxi`,
#          and print its DATABASE_URL
#   url    print the DATABASE_URL of the running cluster
#   stop   stop the cluster and remove its folder
#
# As root the cluster belongs to the `postgres` system user (initdb refuses to run as root);
# as anybody else it belongs to that user. $GUANXI_PG_ROOT picks the folder
# (default /tmp/guanxi-pg-<uid>).
set -euo pipefail

ROOT_DIR="${GUANXI_PG_ROOT:-/tmp/guanxi-pg-$(id -u)}"
DATA="$ROOT_DIR/data"
PORT_FILE="$ROOT_DIR/port"
LOG="$ROOT_DIR/postgres.log"

die() { echo "pg.sh: $*" >&2; exit 1; }

find_bindir() {
    local candidate
    if candidate="$(command -v pg_ctl 2>/dev/null)" && [ -x "$(dirname "$candidate")/initdb" ]; then
        dirname "$(readlink -f "$candidate")"
        return
    fi
    for candidate in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r); do
        if [ -x "$candidate/initdb" ] && [ -x "$candidate/pg_ctl" ]; then
            echo "$candidate"
            return
        fi
    done
    return 1
}

BIN="$(find_bindir)" || die "PostgreSQL is not installed (Debian/Ubuntu: apt-get install -y postgresql)"

# Who owns and runs the cluster.
if [ "$(id -u)" = 0 ]; then
    PGUSER_OS=postgres
    if ! id "$PGUSER_OS" >/dev/null 2>&1; then
        useradd --system --no-create-home --shell /usr/sbin/nologin "$PGUSER_OS" \
            || die "cannot create the postgres system user"
    fi
    as_owner() { runuser -u "$PGUSER_OS" -- "$@"; }
else
    PGUSER_OS="$(id -un)"
    as_owner() { "$@"; }
fi

port_is_free() {
    python3 - "$1" <<'PY'
import socket, sys
s = socket.socket()
try:
    s.bind(("127.0.0.1", int(sys.argv[1])))
except OSError:
    sys.exit(1)
finally:
    s.close()
PY
}

is_running() {
    [ -f "$DATA/postmaster.pid" ] && as_owner "$BIN/pg_ctl" -D "$DATA" status >/dev/null 2>&1
}

url() {
    [ -f "$PORT_FILE" ] || die "no cluster: run scripts/pg.sh start"
    echo "postgres://postgres@127.0.0.1:$(cat "$PORT_FILE")/guanxi"
}

start() {
    if is_running; then
        url
        return
    fi
    rm -rf "$ROOT_DIR"
    mkdir -p "$ROOT_DIR"
    chown "$PGUSER_OS" "$ROOT_DIR"
    chmod 700 "$ROOT_DIR"

    local port="${GUANXI_PG_PORT:-54329}" tries=0
    until port_is_free "$port"; do
        port=$((port + 1))
        tries=$((tries + 1))
        [ "$tries" -lt 100 ] || die "no free port from ${GUANXI_PG_PORT:-54329} on"
    done
    echo "$port" >"$PORT_FILE"

    as_owner "$BIN/initdb" -D "$DATA" -U postgres -A trust -E UTF8 --no-locale >"$ROOT_DIR/initdb.log" 2>&1 \
        || { cat "$ROOT_DIR/initdb.log" >&2; die "initdb failed"; }
    # Durability is worthless for a test cluster; speed is not.
    as_owner "$BIN/pg_ctl" -D "$DATA" -l "$LOG" -w -t 60 \
        -o "-c listen_addresses=127.0.0.1 -p $port -k $ROOT_DIR -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200" \
        start >/dev/null \
        || { cat "$LOG" >&2; die "PostgreSQL did not start"; }
    as_owner "$BIN/createdb" -h 127.0.0.1 -p "$port" -U postgres guanxi
    url
}

stop() {
    if [ -d "$DATA" ] && is_running; then
        as_owner "$BIN/pg_ctl" -D "$DATA" -m fast -w stop >/dev/null || true
    fi
    rm -rf "$ROOT_DIR"
}

case "${1:-}" in
    start) start ;;
    stop) stop ;;
    url) url ;;
    status) if is_running; then echo "running: $(url)"; else echo "stopped"; exit 1; fi ;;
    *) echo "usage: $0 start|stop|url|status" >&2; exit 2 ;;
esac
