#!/usr/bin/env bash
# The library's clustering at 10^4 and 10^5 faces on SQLite and on PostgreSQL 15 (a private
# server, tools/pg_test_server.sh): bench/bench_recluster.c for each, one table.
# Run alone (make bench-scale runs it):  bench/bench_recluster.sh [SIZES="10000 100000"]
set -euo pipefail
cd "$(dirname "$0")/.."
B=${BUILD:-build}/bench/bench_recluster
SIZES=${SIZES:-10000 100000}
TMP=$(mktemp -d)
PG=$(tools/pg_test_server.sh start)
trap 'tools/pg_test_server.sh stop "$PG"; rm -rf "$TMP"' EXIT
echo "# the library's recluster and incremental path, generated faces (bench/bench_recluster.c), 2 threads, $(date -u +%F), $(nproc) cores"
echo "| store | faces | identities | fill s | full recluster s | persons | RSS before MB | peak RSS MB | new faces | incremental s | new persons | similar: index build s | similar: query ms (median of 50) |"
echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
for n in $SIZES; do
    rm -f "$TMP/lib.db"*
    "$B" "$TMP/lib.db" "$n" 1000 2
    "$B" "$(tools/pg_test_server.sh url "$PG" "fh_bench_rc_$n")" "$n" 1000 2
done
