#!/usr/bin/env bash
# A private PostgreSQL 15 server for the tests (issue 10): initdb in a fresh folder, a
# Unix socket in that folder only (no TCP port: nothing else can reach it and two runs
# never collide), trust authentication for the socket, stopped and deleted by `stop`.
# Runs as the unprivileged "postgres" user when started by root (the server refuses root),
# else as the calling user.
#
#   DIR=$(tools/pg_test_server.sh start)    # prints the folder; the server is up
#   tools/pg_test_server.sh url DIR NAME     # creates (or empties) database NAME, prints its URL
#   tools/pg_test_server.sh stop DIR
#
# Tests get the folder in FH_TEST_PG (tests/run.sh sets it) and make their databases
# with the `url` command (tests/harness.h: test_pg_url).
set -euo pipefail
BIN=${PG_BIN:-/usr/lib/postgresql/15/bin}
as_user() {
    if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}
case "${1:-}" in
start)
    [ -x "$BIN/initdb" ] || { echo "pg_test_server: no $BIN/initdb (apt-get install postgresql-15)" >&2; exit 1; }
    d=$(mktemp -d /tmp/fh_pg.XXXXXX)
    chmod 755 "$d"
    [ "$(id -u)" = 0 ] && chown postgres: "$d"
    as_user "$BIN/initdb" -D "$d/data" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 >"$d/initdb.log" 2>&1 ||
        { cat "$d/initdb.log" >&2; exit 1; }
    # small and quick: a test server, not a tuned one; fsync off (a crash loses nothing we keep)
    as_user "$BIN/pg_ctl" -D "$d/data" -l "$d/server.log" -w -t 60 \
        -o "-c listen_addresses='' -c unix_socket_directories='$d' -c fsync=off \
            -c synchronous_commit=off -c full_page_writes=off -c max_connections=60 \
            -c shared_buffers=64MB" start >/dev/null ||
        { cat "$d/server.log" >&2; exit 1; }
    echo "$d"
    ;;
url)
    d=$2 name=$3
    [[ $name =~ ^[a-z_][a-z0-9_]*$ ]] || { echo "pg_test_server: bad database name '$name'" >&2; exit 2; }
    PGOPTIONS="-c client_min_messages=warning" "$BIN/psql" -h "$d" -U postgres -d postgres -qAt -v ON_ERROR_STOP=1 \
        -c "DROP DATABASE IF EXISTS $name WITH (FORCE)" -c "CREATE DATABASE $name" >/dev/null
    echo "postgresql:///$name?host=$d&user=postgres"
    ;;
stop)
    d=$2
    [ -d "$d/data" ] && as_user "$BIN/pg_ctl" -D "$d/data" -m immediate -w stop >/dev/null 2>&1 || true
    rm -rf "$d"
    ;;
*)
    sed -n '2,13p' "$0"; exit 2 ;;
esac
