#!/usr/bin/env bash
# The PostgreSQL server the integration suites' second pass runs on.
#
#   scripts/pg-test-db.sh ready        fails with a clear message unless it answers
#   scripts/pg-test-db.sh drop RUN     drops the databases a test run left
#                                      (named chat_test_RUN_...)
#   scripts/pg-test-db.sh list         lists every test database there is
#
# The server is CHAT_TEST_POSTGRES (default postgres://postgres@127.0.0.1:5432),
# a URL without a database, as the tests take it.
set -euo pipefail

server=${CHAT_TEST_POSTGRES:-postgres://postgres@127.0.0.1:5432}
server=${server%/}
admin="$server/postgres"

sql() {
    psql "$admin" -X -q -At -v ON_ERROR_STOP=1 "$@"
}

case "${1:-}" in
ready)
    for tool in pg_isready psql; do
        if ! command -v "$tool" >/dev/null; then
            echo "error: $tool is missing (Debian: apt-get install postgresql-client)" >&2
            exit 1
        fi
    done
    if ! pg_isready -q -d "$admin"; then
        echo "error: PostgreSQL does not answer at $server; the second test pass needs it." >&2
        echo "  Start it (e.g. pg_ctlcluster --skip-systemctl-redirect \$(ls /etc/postgresql) main start)," >&2
        echo "  or point CHAT_TEST_POSTGRES at one (a URL without a database)." >&2
        exit 1
    fi
    if ! sql -c 'SELECT 1' >/dev/null; then
        echo "error: PostgreSQL at $server answers but refuses this connection (see above);" >&2
        echo "  the tests need a user that may create databases." >&2
        exit 1
    fi
    ;;
drop)
    run=${2:?usage: pg-test-db.sh drop RUN}
    if [[ ! $run =~ ^[a-z0-9_]+$ ]]; then
        echo "error: a run id is lowercase letters, digits and _: $run" >&2
        exit 2
    fi
    prefix="chat_test_${run}_"
    names=$(sql -c "SELECT datname FROM pg_database WHERE left(datname, length('$prefix')) = '$prefix'")
    for name in $names; do
        sql -c "DROP DATABASE IF EXISTS \"$name\" WITH (FORCE)"
    done
    if [ -n "$names" ]; then
        echo "dropped $(echo "$names" | wc -l) test database(s) left by run $run"
    fi
    ;;
list)
    sql -c "SELECT datname FROM pg_database WHERE datname LIKE 'chat\_test\_%' ORDER BY datname"
    ;;
*)
    echo "usage: scripts/pg-test-db.sh ready | drop RUN | list" >&2
    exit 2
    ;;
esac
