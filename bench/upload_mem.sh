#!/usr/bin/env bash
# Memory benchmark of streamed uploads (not a test; nothing is asserted): starts
# `facehatch serve` on a fresh library, sends N concurrent uploads of SIZE_MB each (a JPEG
# magic number followed by random bytes, so each is stored and queued, then fails to
# decode in the indexer), and prints the server's peak resident memory (VmHWM from
# /proc/PID/status) before the uploads, after them, and after the indexer went through them.
# Goal (issue 7): five concurrent 45 MB uploads keep the peak under 250 MB.
#   bench/upload_mem.sh [N=5] [SIZE_MB=45]
set -u
cd "$(dirname "$0")/.."
N=${1:-5}; MB=${2:-45}
BIN=${FACEHATCH:-${BUILD:-build}/facehatch}
[ -x "$BIN" ] || { echo "build $BIN first (make)"; exit 1; }
TMP=$(mktemp -d)
PID=
cleanup() { [ -n "$PID" ] && kill "$PID" 2>/dev/null && wait "$PID" 2>/dev/null; rm -rf "$TMP"; }
trap cleanup EXIT
hwm() { awk '/^VmHWM/ {print int($2 / 1024)}' "/proc/$PID/status"; }
rss() { awk '/^VmRSS/ {print int($2 / 1024)}' "/proc/$PID/status"; }

for i in $(seq 1 "$N"); do { printf '\xff\xd8\xff\xe0'; head -c $((MB << 20)) /dev/urandom; } >"$TMP/up$i.jpg"; done
"$BIN" serve --db "$TMP/lib.db" --port 0 --max-upload-mb $((MB + 5)) --threads 2 --quiet >"$TMP/log" 2>&1 &
PID=$!
URL=
for _ in $(seq 1 600); do
    URL=$(grep -o 'http://127\.0\.0\.1:[0-9]*' "$TMP/log" | head -1)
    [ -n "$URL" ] && break
    kill -0 "$PID" 2>/dev/null || { cat "$TMP/log"; exit 1; }
    sleep 0.1
done
[ -n "$URL" ] || { echo "server did not start"; exit 1; }
curl -s -o /dev/null "$URL/api/status"
before=$(hwm)
t0=$(date +%s.%N)
for i in $(seq 1 "$N"); do
    curl -s -o "$TMP/r$i" -w '%{http_code}\n' -H "Origin: $URL" -F "files=@$TMP/up$i.jpg" "$URL/api/upload" >"$TMP/c$i" &
done
wait $(jobs -p | grep -v "^$PID$") 2>/dev/null
t1=$(date +%s.%N)
after_up=$(hwm)
codes=$(cat "$TMP"/c* | sort | uniq -c | tr -s ' ' | tr '\n' ' ')
for _ in $(seq 1 600); do
    curl -s "$URL/api/status" | grep -q '"busy":false' && break
    sleep 0.5
done
after_ix=$(hwm)
echo "uploads: $N x $MB MB concurrently in $(echo "$t1 - $t0" | bc) s; HTTP codes: $codes"
echo "server peak RSS (VmHWM): before $before MB, after the uploads $after_up MB, after indexing them $after_ix MB (RSS now $(rss) MB)"
echo "temporary files left: $(ls -A "$TMP/lib.db.uploads" | grep -c '^\.part-')"
