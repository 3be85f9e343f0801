#!/usr/bin/env bash
# Several nodes against one: runs the load scenarios (crates/chat-bench)
# against a cluster of release servers sharing PostgreSQL (storage) and NATS
# (fan-out, presence), and in the same run against one server on SQLite,
# then prints both side by side (Markdown) with medians over REPEATS.
#
# Each scenario run gets fresh servers: the cluster a fresh PostgreSQL
# database (created here, dropped when its run ends), the single server a
# fresh data directory. The runs are interleaved (cluster, single, cluster,
# …) so both sides meet the same machine. Every server is configured as
# scripts/bench.sh configures a measured one (rate limits off, connection
# and room limits raised, log level warn).
#
# Scenarios (SCENARIOS):
#   fanout   one room of 1,000 members (on every node in turn) and 4
#            senders, at offered 100k and 400k deliveries/s (RATES)
#   durable  200 senders each alone in a room: top acked rate, half of it,
#            and 25k/s
# Every step runs even when an earlier one failed (--keep-going), so a
# lost or repeated delivery leaves the other figures standing; the table's
# result lines and the exit status say what failed.
#   idle     authenticated idle connections: IDLE_CLUSTER over the nodes
#            (by default 90 % of the per-process file limit per node, so
#            the total is beyond what one process may hold) and IDLE_SINGLE
#            on one server (95 % of that limit, as bench.sh)
#
# Cores: a machine with 2 cores cannot give 3 nodes, the generator,
# PostgreSQL and NATS a core each. PIN=split (the default) gives all the
# server processes of a side (the 3 nodes, or the single server) core
# SERVER_CPU and the generator core GEN_CPU, as bench.sh does for one
# server: both sides get the same one core for their servers, so the
# comparison shows what clustering costs, not what more cores buy.
# PostgreSQL and NATS are the machine's services and are left where the
# kernel puts them (on either core). PIN=none pins nothing.
#
# Needs: PostgreSQL on PG_URL (trust or a password in the URL; the role
# may create databases), NATS on NATS_URL, psql, curl, jq.
#
# Knobs (environment):
#   REPEATS=3            runs per scenario and side (medians)
#   STEP_SECS=5          seconds each load step sends for
#   SCENARIOS="fanout durable idle"
#   SIDES="cluster single"
#   NODES=3              cluster nodes
#   RATES=100000,400000  fan-out offered deliveries/s
#   IDLE_CLUSTER, IDLE_SINGLE   idle connections (defaults above)
#   PIN=split|none, SERVER_CPU=0, GEN_CPU=1
#   PORT=3930            the single server's port; nodes on PORT+1…PORT+NODES
#   PG_URL=postgres://postgres@127.0.0.1:5432   (no database name)
#   NATS_URL=nats://127.0.0.1:4222
#   OUT=target/bench/cluster-<timestamp>   logs, runs/*.json, summaries
#   EXTRA_ARGS=""        appended to every chat-bench scenario call
#   SERVER=path BENCH=path   binaries (default: this tree's release build)
#   SKIP_BUILD=1         use the binaries as they are
#   GIT_REV=…            the revision to print (default: git rev-parse HEAD)
set -euo pipefail
cd "$(dirname "$0")/.."

REPEATS=${REPEATS:-3}
STEP_SECS=${STEP_SECS:-5}
SCENARIOS=${SCENARIOS:-"fanout durable idle"}
SIDES=${SIDES:-"cluster single"}
NODES=${NODES:-3}
RATES=${RATES:-100000,400000}
PIN=${PIN:-split}
SERVER_CPU=${SERVER_CPU:-0}
GEN_CPU=${GEN_CPU:-1}
PORT=${PORT:-3930}
PG_URL=${PG_URL:-postgres://postgres@127.0.0.1:5432}
PG_URL=${PG_URL%/}
NATS_URL=${NATS_URL:-nats://127.0.0.1:4222}
OUT=${OUT:-target/bench/cluster-$(date +%Y%m%d-%H%M%S)}
EXTRA_ARGS=${EXTRA_ARGS:-}
SERVER=${SERVER:-target/release/bidirectional-chat-server}
BENCH=${BENCH:-target/release/chat-bench}
GIT_REV=${GIT_REV:-$(git rev-parse --short HEAD 2>/dev/null || echo '?')}

for tool in psql curl jq; do
    command -v "$tool" >/dev/null || { echo "cluster-bench: needs $tool" >&2; exit 2; }
done

# Every connection is a descriptor, in the servers and in the generator:
# take the whole hard limit where the soft one is lower.
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
FILES=$(ulimit -n)
if [ "$FILES" = unlimited ]; then FILES=20000; fi
IDLE_CLUSTER=${IDLE_CLUSTER:-$((NODES * FILES * 9 / 10 / 1000 * 1000))}
IDLE_SINGLE=${IDLE_SINGLE:-$((FILES * 95 / 100 / 1000 * 1000))}

case "$PIN" in
    split) SERVER_PIN=(taskset -c "$SERVER_CPU"); GEN_PIN=(taskset -c "$GEN_CPU") ;;
    none) SERVER_PIN=(); GEN_PIN=() ;;
    *) echo "cluster-bench: PIN must be split or none" >&2; exit 2 ;;
esac

if [ "${SKIP_BUILD:-0}" != 1 ]; then
    cargo build --release -p bidirectional-chat-server -p bidirectional-chat-bench
fi
mkdir -p "$OUT/runs"

psql_admin() {
    psql "$PG_URL/postgres" -v ON_ERROR_STOP=1 -qAt "$@"
}
psql_admin -c 'select 1' >/dev/null || { echo "cluster-bench: no PostgreSQL at $PG_URL" >&2; exit 2; }

{
    echo "date: $(date -u +%FT%TZ)"
    echo "nproc: $(nproc)"
    echo "cpu: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //')"
    echo "kernel: $(uname -sr)"
    echo "memory: $(grep MemTotal /proc/meminfo | awk '{print $2 " kB"}')"
    echo "open files: $FILES per process"
    echo "postgresql: $(psql_admin -c 'show server_version') ($(psql_admin -c 'show synchronous_commit') synchronous_commit)"
    echo "nats: $NATS_URL ($(command -v nats-server >/dev/null && nats-server --version 2>/dev/null || echo 'version unknown'))"
    echo "uptime: $(uptime)"
    echo "pinning: $PIN (servers ${SERVER_PIN[*]:-unpinned}, generator ${GEN_PIN[*]:-unpinned}; PostgreSQL and NATS unpinned)"
    echo "nodes: $NODES, step ${STEP_SECS}s, repeats $REPEATS, idle $IDLE_CLUSTER over the nodes / $IDLE_SINGLE on one"
    echo "git: $GIT_REV $(git status --porcelain 2>/dev/null | wc -l) files changed"
} | tee "$OUT/machine.txt"

# What scripts/bench.sh gives a measured server.
SERVER_ENV=(
    CHAT__RATE_LIMIT__ENABLED=false
    CHAT__SERVER__MAX_CONNECTIONS=20000
    CHAT__SERVER__CONNECTIONS_PER_IP=20000
    CHAT__SERVER__MAX_PENDING_CONNECTIONS=20000
    CHAT__CHAT__MAX_USERS_PER_ROOM=20000
    CHAT__LOGGING__LEVEL=warn
)
# Shared by the nodes of a cluster: each checks the tokens the others sign.
JWT=$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')

PIDS=()     # the servers running now (ours alone; stopped by pid)
PORTS=()    # their ports
DIRS=()     # their data directories
DB=         # the cluster's database, while it exists
DB_SEQ=0

# start_server <log name> <port> <data dir> [VAR=value…]
start_server() {
    local name=$1 port=$2 dir=$3
    shift 3
    env "${SERVER_ENV[@]}" CHAT_DATA_DIR="$dir" HOST=127.0.0.1 PORT="$port" "$@" \
        "${SERVER_PIN[@]}" "$SERVER" >>"$OUT/$name.log" 2>&1 &
    PIDS+=($!)
    PORTS+=("$port")
}

# wait_healthy <port> <pid> <log name>
wait_healthy() {
    for _ in $(seq 1 300); do
        if curl -fsS "http://127.0.0.1:$1/health" >/dev/null 2>&1; then
            return 0
        fi
        if ! kill -0 "$2" 2>/dev/null; then
            echo "server on :$1 exited at start-up; see $OUT/$3.log" >&2
            exit 2
        fi
        sleep 0.1
    done
    echo "server on :$1 did not become healthy; see $OUT/$3.log" >&2
    exit 2
}

# up <side> [keep]: starts the side's servers; with "keep", on the data of
# the previous `down keep` (same database, same directories).
up() {
    local side=$1 keep=${2:-}
    if [ "$keep" != keep ]; then
        DIRS=()
        if [ "$side" = cluster ]; then
            DB_SEQ=$((DB_SEQ + 1))
            DB="chatbench_$$_$DB_SEQ"
            psql_admin -c "CREATE DATABASE $DB" >/dev/null
        fi
    fi
    if [ "$side" = single ]; then
        [ ${#DIRS[@]} -gt 0 ] || DIRS=("$(mktemp -d)")
        start_server single "$PORT" "${DIRS[0]}"
        wait_healthy "$PORT" "${PIDS[0]}" single
        return
    fi
    local i
    for i in $(seq 1 "$NODES"); do
        [ ${#DIRS[@]} -ge "$i" ] || DIRS+=("$(mktemp -d)")
        start_server "n$i" $((PORT + i)) "${DIRS[$((i - 1))]}" \
            CHAT__STORAGE__BACKEND=postgres CHAT__STORAGE__POSTGRES_URL="$PG_URL/$DB" \
            CHAT__CLUSTER__NATS_URL="$NATS_URL" CHAT__CLUSTER__NODE_ID="n$i" JWT_SECRET="$JWT"
        # The first node creates the schema; the others start once it has.
        if [ "$i" = 1 ]; then wait_healthy $((PORT + 1)) "${PIDS[0]}" n1; fi
    done
    for i in $(seq 2 "$NODES"); do
        wait_healthy $((PORT + i)) "${PIDS[$((i - 1))]}" "n$i"
    done
}

# down [keep]: stops our servers; without "keep" also drops the database
# and removes the data directories.
down() {
    local pid
    for pid in "${PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
    for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
    PIDS=()
    PORTS=()
    if [ "${1:-}" != keep ]; then
        if [ -n "$DB" ]; then
            psql_admin -c "DROP DATABASE IF EXISTS $DB WITH (FORCE)" >/dev/null || true
            DB=
        fi
        if [ ${#DIRS[@]} -gt 0 ]; then rm -rf "${DIRS[@]}"; fi
        DIRS=()
    fi
}
trap down EXIT
trap 'exit 130' INT TERM

urls() {
    local p list=
    for p in "${PORTS[@]}"; do list+="${list:+,}http://127.0.0.1:$p"; done
    echo "$list"
}
pids() {
    local IFS=,
    echo "${PIDS[*]}"
}

FAILED=0
RUNS=0

# run <side> <name> <chat-bench args…>: on the side's servers (started
# fresh unless already up), which are taken down afterwards. Each run binds
# its client sockets to other loopback addresses than the run before, whose
# ports are still in TIME_WAIT (8 apart: idle spreads over up to 6 workers).
run() {
    local side=$1 name=$2
    shift 2
    [ ${#PIDS[@]} -gt 0 ] || up "$side"
    RUNS=$((RUNS + 1))
    local base=$((2 + (RUNS * 8) % 240))
    echo "== $side $name: $BENCH $* (servers $(pids), load $(cut -d' ' -f1-3 /proc/loadavg))"
    # shellcheck disable=SC2086
    if ! "${GEN_PIN[@]}" "$BENCH" "$@" --url "$(urls)" --server-pid "$(pids)" --source-base "$base" \
        --step-secs "$STEP_SECS" --json "$OUT/runs/$side-$name.json" $EXTRA_ARGS \
        2>"$OUT/$side-$name.log" >"$OUT/$side-$name.md"; then
        echo "   $side $name FAILED (see $OUT/$side-$name.md and $OUT/$side-$name.log)"
        FAILED=1
    fi
    down
}

for rep in $(seq 1 "$REPEATS"); do
    for scenario in $SCENARIOS; do
        for side in $SIDES; do
            case "$scenario" in
                fanout) run "$side" "fanout-$rep" fanout --members 1000 --senders 4 --rates "$RATES" --keep-going ;;
                durable) run "$side" "durable-$rep" durable --keep-going ;;
                idle)
                    n=$IDLE_SINGLE
                    if [ "$side" = cluster ]; then n=$IDLE_CLUSTER; fi
                    # Log in first, then restart on the same data: the
                    # measured processes have never hashed a password.
                    up "$side"
                    "$BENCH" tokens --url "$(urls)" --out "$OUT/tokens-$side.list" 2>>"$OUT/tokens.log"
                    down keep
                    up "$side" keep
                    run "$side" "idle-$rep" idle --conns "$n" --tokens-file "$OUT/tokens-$side.list"
                    ;;
                *) echo "unknown scenario $scenario" >&2; exit 2 ;;
            esac
        done
    done
done

echo
for side in $SIDES; do
    if compgen -G "$OUT/runs/$side-*.json" >/dev/null; then
        "$BENCH" summarize "$OUT"/runs/"$side"-*.json --json "$OUT/summary-$side.json" >"$OUT/summary-$side.md" || FAILED=1
    else
        echo '[]' >"$OUT/summary-$side.json"
    fi
done

# fig <side> <scenario> <row label prefix> <metric>: a median, or empty.
fig() {
    jq -r --arg s "$2" --arg l "$3" --arg m "$4" \
        '[.[] | select(.scenario == $s) | .rows[] | select(.label | startswith($l))
          | .metrics[] | select(.[0] == $m) | .[1]] | first // empty' "$OUT/summary-$1.json"
}
# Figures as the tables in docs/performance.md print them.
int() { [ -n "$1" ] && printf '%.0f' "$1" | sed ':a;s/\B[0-9]\{3\}\>/,&/;ta' || echo '–'; }
ms() { [ -n "$1" ] && printf '%.2f' "$1" || echo '–'; }
kib() { [ -n "$1" ] && printf '%.1f' "$1" || echo '–'; }
result() {
    jq -r --arg s "$2" '[.[] | select(.scenario == $s)] as $r
        | if ($r | length) == 0 then "–"
          elif ([$r[].problems[]] | length) == 0 then "OK, 0 lost (\($r[0].runs) runs)"
          else "FAILED: \([$r[].problems[]] | join("; "))" end' "$OUT/summary-$1.json"
}
# line <label> <cell>…: one table line.
line() {
    printf '| %s |' "$1"
    shift
    printf ' %s |' "$@"
    echo
}
# row <label> <formatter> <scenario> <row label prefix> <metric>: the
# median of every side.
row() {
    local label=$1 format=$2 cells=() side
    shift 2
    for side in $SIDES; do cells+=("$("$format" "$(fig "$side" "$@")")"); done
    line "$label" "${cells[@]}"
}
# results <scenario>: every side's verdict.
results() {
    local cells=() side
    for side in $SIDES; do cells+=("$(result "$side" "$1")"); done
    line "$1: result" "${cells[@]}"
}

first_rate=${RATES%%,*}
last_rate=${RATES##*,}
human() { awk -v v="$1" 'BEGIN { if (v >= 1e6) printf "%gM", v / 1e6; else if (v >= 1e3) printf "%gk", v / 1e3; else printf "%g", v }'; }
lo=$(human "$first_rate")
hi=$(human "$last_rate")
{
    echo "## Several nodes against one ($GIT_REV, medians of $REPEATS)"
    echo
    heads=() rules=()
    for side in $SIDES; do
        case "$side" in
            cluster) heads+=("$NODES nodes (PostgreSQL, NATS)") ;;
            single) heads+=("1 node (SQLite)") ;;
        esac
        rules+=("---:")
    done
    line "" "${heads[@]}"
    line "---" "${rules[@]}" | sed 's/ //g'
    if [[ " $SCENARIOS " == *" fanout "* ]]; then
        row "fan-out, 1,000 members: delivered/s at $lo/s offered" int fanout "$lo/s" "delivered/s"
        row "… p50 ms at $lo/s" ms fanout "$lo/s" "p50 ms"
        row "… p99 ms at $lo/s" ms fanout "$lo/s" "p99 ms"
        row "… server CPU % at $lo/s (all nodes)" int fanout "$lo/s" "srv CPU %"
        row "… delivered/s at $hi/s offered" int fanout "$hi/s" "delivered/s"
        row "… p99 ms at $hi/s" ms fanout "$hi/s" "p99 ms"
        row "… server CPU % at $hi/s (all nodes)" int fanout "$hi/s" "srv CPU %"
        row "… generator CPU % at $hi/s" int fanout "$hi/s" "gen CPU %"
        results fanout
    fi
    if [[ " $SCENARIOS " == *" durable "* ]]; then
        row "durable: acked/s, closed loop (max)" int durable "max" "acked/s"
        row "… ack p99 ms at max" ms durable "max" "ack p99 ms"
        row "… acked/s at 25k/s offered" int durable "25k/s" "acked/s"
        row "… ack p50 ms at 25k/s" ms durable "25k/s" "ack p50 ms"
        row "… ack p99 ms at 25k/s" ms durable "25k/s" "ack p99 ms"
        results durable
    fi
    if [[ " $SCENARIOS " == *" idle "* ]]; then
        cells=()
        for side in $SIDES; do
            n=$IDLE_SINGLE
            if [ "$side" = cluster ]; then n=$IDLE_CLUSTER; fi
            cells+=("$(int "$(fig "$side" idle "$n" connected)") of $(int "$n")")
        done
        line "idle: authenticated connections held" "${cells[@]}"
        row "… server RSS per connection, KiB (all nodes)" kib idle "" "RSS/conn KiB"
        row "… connect + authenticate + join per s" int idle "" "conn/s"
        results idle
    fi
    echo
    echo "Per-process open-file limit: $FILES. Pinning: $PIN. Full tables: $OUT/summary-{cluster,single}.md."
} | tee "$OUT/comparison.md"
exit "$FAILED"
