#!/usr/bin/env bash
# README command 2: prepare this checkout (without starting the server) and run every check
# and test: ruff, migrations, the test suite on SQLite, then on a throwaway PostgreSQL.
#
#   scripts/test.sh [--sqlite-only | --pg-only] [pytest arguments ...]
#
# GUANXI_SKIP_E2E=1 leaves out the browser tests (for machines without Chromium).
# With CI=true a missing browser or database is a failure, never a skip.
set -uo pipefail
cd "$(dirname "$0")/.."

MODE=both
PYTEST_ARGS=()
for arg in "$@"; do
    case "$arg" in
        --sqlite-only) MODE=sqlite ;;
        --pg-only) MODE=pg ;;
        *) PYTEST_ARGS+=("$arg") ;;
    esac
done

is_ci() { [ "${CI:-}" = true ] || [ "${CI:-}" = 1 ]; }
can_apt() { [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; }
apt_install() {
    echo "test: installing $* with apt-get"
    export DEBIAN_FRONTEND=noninteractive
    apt-get install -y -q --no-install-recommends "$@" >/dev/null \
        || { apt-get update -q >/dev/null && apt-get install -y -q --no-install-recommends "$@" >/dev/null; }
}
die() { echo "test: $*" >&2; exit 1; }
have_postgres() { command -v initdb >/dev/null 2>&1 || ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; }
find_chromium() {
    local candidate
    for candidate in "${GUANXI_CHROMIUM:-}" chromium chromium-browser; do
        if [ -n "$candidate" ] && command -v "$candidate" >/dev/null 2>&1; then
            command -v "$candidate"
            return
        fi
    done
    return 1
}

bash scripts/setup.sh || die "set-up failed"

# --- What the tests need from the machine ---------------------------------------------------
MARK_ARGS=()
if [ "${GUANXI_SKIP_E2E:-}" = 1 ]; then
    echo "test: GUANXI_SKIP_E2E=1: the browser tests are NOT run"
    MARK_ARGS=(-m "not e2e")
else
    if ! find_chromium >/dev/null && can_apt; then
        apt_install chromium
    fi
    CHROMIUM="$(find_chromium)" || die "Chromium is needed for the browser tests.
    Debian/Ubuntu: sudo apt-get install -y chromium fonts-noto-cjk
    (or set GUANXI_CHROMIUM=/path/to/chromium, or GUANXI_SKIP_E2E=1 to leave them out)"
    export GUANXI_CHROMIUM="$CHROMIUM"
    # Chinese text in screenshots needs a CJK font; the tests do not depend on it.
    if can_apt && ! dpkg -s fonts-noto-cjk >/dev/null 2>&1; then
        apt_install fonts-noto-cjk || echo "test: could not install fonts-noto-cjk (not needed)"
    fi
fi

if [ "$MODE" != sqlite ] && ! have_postgres; then
    if can_apt; then
        apt_install postgresql
    fi
    have_postgres || die "PostgreSQL is needed for the PostgreSQL run.
    Debian/Ubuntu: sudo apt-get install -y postgresql   (or run: scripts/test.sh --sqlite-only)"
fi

WORK="$(mktemp -d)"
export GUANXI_DATA_DIR="$WORK/data"
export GUANXI_PG_ROOT="/tmp/guanxi-pg-test-$$"
REDIS_PID_FILE="$WORK/redis.pid"
cleanup() {
    if [ -n "${PG_STARTED:-}" ]; then
        bash scripts/pg.sh stop >/dev/null 2>&1 || true
    fi
    if [ -f "$REDIS_PID_FILE" ]; then
        kill "$(cat "$REDIS_PID_FILE")" 2>/dev/null || true
    fi
    rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# A Redis for the tests that check the Redis configuration (optional outside CI).
free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}
if command -v redis-server >/dev/null 2>&1; then
    REDIS_PORT="$(free_port)"
    if redis-server --bind 127.0.0.1 --port "$REDIS_PORT" --daemonize yes --save "" \
        --appendonly no --dir "$WORK" --pidfile "$REDIS_PID_FILE" --logfile "$WORK/redis.log" \
        >/dev/null; then
        export GUANXI_TEST_REDIS_URL="redis://127.0.0.1:$REDIS_PORT/0"
    fi
elif is_ci; then
    die "redis-server is needed in CI (apt-get install -y redis-server)"
fi

# --- Checks and test runs -------------------------------------------------------------------
SUMMARY=()
FAILED=0
TOTAL_PASSED=0
TOTAL_FAILED=0
TOTAL_SKIPPED=0

step() {
    local label="$1"
    shift
    echo
    echo "=== $label: $*"
    if "$@"; then
        SUMMARY+=("$(printf '%-22s OK' "$label")")
    else
        SUMMARY+=("$(printf '%-22s FAILED' "$label")")
        FAILED=1
    fi
}

count() { grep -oE "[0-9]+ $1" <<<"$2" | tail -1 | grep -oE '^[0-9]+' || echo 0; }

run_suite() {
    local label="$1"
    shift
    local log="$WORK/$label.log"
    echo
    echo "=== $label: pytest -n auto ${MARK_ARGS[*]} ${PYTEST_ARGS[*]}"
    env "$@" timeout -k 30 "${GUANXI_TEST_TIMEOUT:-2400}" \
        .venv/bin/pytest -n auto "${MARK_ARGS[@]}" "${PYTEST_ARGS[@]}" 2>&1 | tee "$log"
    local rc="${PIPESTATUS[0]}"
    local line
    line="$(grep -E '^=+ .*(passed|failed|error|skipped|no tests ran).* in [0-9.]+s' "$log" | tail -1 | sed -E 's/^=+ //; s/ =+$//')"
    local passed failed errors skipped
    passed="$(count passed "$line")"
    failed="$(count failed "$line")"
    errors="$(count 'errors?' "$line")"
    skipped="$(count skipped "$line")"
    TOTAL_PASSED=$((TOTAL_PASSED + passed))
    TOTAL_FAILED=$((TOTAL_FAILED + failed + errors))
    TOTAL_SKIPPED=$((TOTAL_SKIPPED + skipped))
    local verdict=OK
    case "$rc" in
        0) ;;
        5) verdict="FAILED (no tests ran)"; TOTAL_FAILED=$((TOTAL_FAILED + 1)) ;;
        124 | 137) verdict="FAILED (timed out)"; TOTAL_FAILED=$((TOTAL_FAILED + 1)) ;;
        *) verdict="FAILED (exit $rc)"; [ "$((failed + errors))" -gt 0 ] || TOTAL_FAILED=$((TOTAL_FAILED + 1)) ;;
    esac
    [ "$rc" = 0 ] || FAILED=1
    SUMMARY+=("$(printf '%-22s %s: %s' "tests on $label" "$verdict" "${line:-no summary}")")
}

step "ruff format" .venv/bin/ruff format --check .
step "ruff check" .venv/bin/ruff check .
step "migrations" .venv/bin/python manage.py makemigrations --check --dry-run

if [ "$MODE" != pg ]; then
    run_suite sqlite -u DATABASE_URL
fi
if [ "$MODE" != sqlite ]; then
    echo
    echo "=== starting a throwaway PostgreSQL"
    PG_STARTED=1
    if PG_URL="$(bash scripts/pg.sh start)"; then
        echo "PostgreSQL at $PG_URL"
        run_suite postgresql "DATABASE_URL=$PG_URL"
    else
        SUMMARY+=("$(printf '%-22s FAILED: PostgreSQL did not start' "tests on postgresql")")
        FAILED=1
        TOTAL_FAILED=$((TOTAL_FAILED + 1))
    fi
fi

echo
echo "=== summary"
for line in "${SUMMARY[@]}"; do
    echo "$line"
done
echo "total: $TOTAL_PASSED passed, $TOTAL_FAILED failed, $TOTAL_SKIPPED skipped"
exit "$FAILED"
