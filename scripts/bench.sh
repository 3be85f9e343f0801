#!/usr/bin/env bash
# Runs the standard load scenarios (crates/chat-bench) against the release
# server and prints median tables (Markdown) plus JSON for machines.
#
# The server runs pinned to one core and the generator to another; every
# scenario run gets a fresh server on a fresh temporary data directory
# (rate limits off, connection and room limits raised). Each scenario is
# repeated REPEATS times, interleaved, and the tables show medians.
#
# Knobs (environment):
#   REPEATS=3            runs per scenario
#   STEP_SECS=5          seconds each load step sends for
#   SCENARIOS="fanout rooms idle durable logins"
#   IDLE_CONNS="5000 10000 19000"
#   SERVER_CPU=0 GEN_CPU=1   cores for taskset
#   PORT=3917            server port (loopback)
#   OUT=target/bench/<timestamp>   logs and tables; runs/*.json; summary.md/.json
#   NICE=0               scheduling priority of server and generator (e.g.
#                        -10 on a machine shared with compile jobs; needs root)
#   EXTRA_ARGS=""        appended to every chat-bench call
#   SERVER=path          the server binary (default: this tree's release build)
#   SKIP_BUILD=1         use the binaries as they are (A/B pairs of copies)
set -euo pipefail
cd "$(dirname "$0")/.."

REPEATS=${REPEATS:-3}
STEP_SECS=${STEP_SECS:-5}
SCENARIOS=${SCENARIOS:-"fanout rooms idle durable logins"}
IDLE_CONNS=${IDLE_CONNS:-"5000 10000 19000"}
SERVER_CPU=${SERVER_CPU:-0}
GEN_CPU=${GEN_CPU:-1}
PORT=${PORT:-3917}
OUT=${OUT:-target/bench/$(date +%Y%m%d-%H%M%S)}
EXTRA_ARGS=${EXTRA_ARGS:-}
NICE=${NICE:-0}

# SERVER may name another build (an older commit, for A/B pairs).
SERVER=${SERVER:-target/release/bidirectional-chat-server}
BENCH=${BENCH:-target/release/chat-bench}

if [ "${SKIP_BUILD:-0}" != 1 ]; then
    cargo build --release -p bidirectional-chat-server -p bidirectional-chat-bench
fi
mkdir -p "$OUT/runs"

{
    echo "date: $(date -u +%FT%TZ)"
    echo "nproc: $(nproc)"
    echo "cpu: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //')"
    echo "kernel: $(uname -sr)"
    echo "memory: $(grep MemTotal /proc/meminfo | awk '{print $2 " kB"}')"
    echo "open files: $(ulimit -n)"
    echo "uptime: $(uptime)"
    echo "nice: $NICE, server cpu $SERVER_CPU, generator cpu $GEN_CPU, step ${STEP_SECS}s, repeats $REPEATS"
    echo "git: $(git rev-parse --short HEAD 2>/dev/null || echo '?') $(git status --porcelain 2>/dev/null | wc -l) files changed"
} | tee "$OUT/machine.txt"

SERVER_PID=
DATA_DIR=

# start_server [existing data dir]
start_server() {
    DATA_DIR=${1:-$(mktemp -d)}
    nice -n "$NICE" env CHAT_DATA_DIR="$DATA_DIR" HOST=127.0.0.1 PORT="$PORT" \
        CHAT__RATE_LIMIT__ENABLED=false \
        CHAT__SERVER__MAX_CONNECTIONS=20000 \
        CHAT__SERVER__CONNECTIONS_PER_IP=20000 \
        CHAT__SERVER__MAX_PENDING_CONNECTIONS=20000 \
        CHAT__CHAT__MAX_USERS_PER_ROOM=20000 \
        CHAT__LOGGING__LEVEL=warn \
        taskset -c "$SERVER_CPU" "$SERVER" >>"$OUT/server.log" 2>&1 &
    SERVER_PID=$!
    for _ in $(seq 1 300); do
        if curl -fsS "http://127.0.0.1:$PORT/health" >/dev/null 2>&1; then
            return 0
        fi
        if ! kill -0 "$SERVER_PID" 2>/dev/null; then
            echo "server exited at start-up; see $OUT/server.log" >&2
            exit 2
        fi
        sleep 0.1
    done
    echo "server did not become healthy; see $OUT/server.log" >&2
    exit 2
}

# stop_server [keep]: with "keep", the data directory stays for a restart.
stop_server() {
    if [ -n "$SERVER_PID" ]; then
        kill -TERM "$SERVER_PID" 2>/dev/null || true
        wait "$SERVER_PID" 2>/dev/null || true
        SERVER_PID=
    fi
    if [ -n "$DATA_DIR" ] && [ "${1:-}" != keep ]; then
        rm -rf "$DATA_DIR"
        DATA_DIR=
    fi
}
trap stop_server EXIT

FAILED=0
RUNS=0

# run <name> <chat-bench args...>: on a fresh server. Each run binds its
# client sockets to other loopback addresses than the run before, whose
# ports are still in TIME_WAIT.
run() {
    local name=$1
    shift
    [ -n "$SERVER_PID" ] || start_server
    RUNS=$((RUNS + 1))
    local base=$((2 + (RUNS * 4) % 240))
    echo "== $name: $BENCH $* (server pid $SERVER_PID, load $(cut -d' ' -f1-3 /proc/loadavg))"
    # shellcheck disable=SC2086
    if ! nice -n "$NICE" taskset -c "$GEN_CPU" "$BENCH" "$@" --url "http://127.0.0.1:$PORT" \
        --server-pid "$SERVER_PID" --source-base "$base" \
        --step-secs "$STEP_SECS" --json "$OUT/runs/$name.json" $EXTRA_ARGS 2>"$OUT/$name.log" >"$OUT/$name.md"; then
        echo "   $name FAILED (see $OUT/$name.md and $OUT/$name.log)"
        FAILED=1
    fi
    stop_server
}

for rep in $(seq 1 "$REPEATS"); do
    for scenario in $SCENARIOS; do
        case "$scenario" in
            fanout) run "fanout-$rep" fanout ;;
            rooms) run "rooms-$rep" rooms ;;
            idle)
                for n in $IDLE_CONNS; do
                    # Log in first, then restart the server on the same data:
                    # the measured process has never hashed a password (argon2
                    # leaves tens of MiB in the allocator that connections
                    # would silently reuse).
                    start_server
                    "$BENCH" tokens --url "http://127.0.0.1:$PORT" --out "$OUT/tokens.list" 2>>"$OUT/tokens.log"
                    local_dir=$DATA_DIR
                    stop_server keep
                    start_server "$local_dir"
                    run "idle-$n-$rep" idle --conns "$n" --tokens-file "$OUT/tokens.list"
                done
                ;;
            durable) run "durable-$rep" durable ;;
            logins) run "logins-$rep" logins ;;
            *) echo "unknown scenario $scenario" >&2; exit 2 ;;
        esac
    done
done

echo
echo "== medians ($OUT/summary.md, $OUT/summary.json)"
"$BENCH" summarize "$OUT"/runs/*.json --json "$OUT/summary.json" | tee "$OUT/summary.md" || FAILED=1
exit "$FAILED"
