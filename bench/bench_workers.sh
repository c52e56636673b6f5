#!/usr/bin/env bash
# Indexing throughput of `facehatch worker` processes on PostgreSQL 15 (issue 10): the same
# photo set queued (index --enqueue-only) and drained by 1 worker and by 2 worker processes
# (1 engine thread each), RUNS times each on a fresh database, medians printed as a table
# with the speed-up; beside them `index` into SQLite with 1 and 2 threads (one process).
# Where the time goes: the workers' start (models, engine) and their CPU time, the
# PostgreSQL server's CPU time, and the tail (the last job, the cluster job).
# Run it alone (2 cores are easily shared away):  make bench-scale  (or bench/bench_workers.sh)
#   env: RUNS (3), COPIES (20: copies of the 6 demo photos), LFW_N (150 LFW photos), FACEHATCH
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${FACEHATCH:-build/facehatch}
RUNS=${RUNS:-3} COPIES=${COPIES:-20} LFW_N=${LFW_N:-150}
LFW=../shared/data/lfw/lfw-deepfunneled
TMP=$(mktemp -d)
PG=$(tools/pg_test_server.sh start)
trap 'tools/pg_test_server.sh stop "$PG"; rm -rf "$TMP"' EXIT
mkdir -p "$TMP/photos"
for c in $(seq 1 "$COPIES"); do for f in models/samples/*.jpg; do cp "$f" "$TMP/photos/c${c}_$(basename "$f")"; done; done
# the first image of each of the first LFW_N people (python: no SIGPIPE under pipefail)
python3 - "$LFW" "$LFW_N" "$TMP/photos" <<'EOF'
import os, shutil, sys
root, n, out = sys.argv[1], int(sys.argv[2]), sys.argv[3]
for p in sorted(os.listdir(root))[:n]:
    shutil.copy(os.path.join(root, p, sorted(os.listdir(os.path.join(root, p)))[0]), out)
EOF
N=$(ls "$TMP/photos" | wc -l)
# CPU seconds (user + system) of the PostgreSQL server so far: the postmaster's own and its
# finished backends' (cutime/cstime: it waits for them), plus the live backends'
pg_cpu() {
    python3 - "$(head -1 "$PG/data/postmaster.pid")" <<'EOF'
import os, sys
pm = sys.argv[1]
def f(pid):
    try: return open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    except OSError: return None
x = f(pm)
t = sum(int(v) for v in x[11:15])            # utime stime cutime cstime
for pid in os.listdir("/proc"):
    if pid.isdigit() and (y := f(pid)) and y[1] == pm:
        t += int(y[11]) + int(y[12])
print(t / os.sysconf("SC_CLK_TCK"))
EOF
}
# run_workers K: fresh database, queue N photos, K workers; prints wall, start, worker cpu, pg cpu, tail
run_workers() {
    local k=$1 url i
    url=$(tools/pg_test_server.sh url "$PG" "fh_bench_w")
    "$BIN" index "$TMP/photos" --db "$url" --enqueue-only >/dev/null
    local pg0; pg0=$(pg_cpu)
    local t0; t0=$(date +%s.%N)
    for i in $(seq 1 "$k"); do
        /usr/bin/time -f '%e %U %S' -o "$TMP/time$i" "$BIN" worker --db "$url" --threads 1 --exit-when-idle >"$TMP/w$i" 2>&1 &
    done
    wait
    local t1; t1=$(date +%s.%N)
    local pg1; pg1=$(pg_cpu)
    python3 - "$TMP" "$k" "$t0" "$t1" "$pg0" "$pg1" "$N" <<'EOF'
import json, sys, os
tmp, k, t0, t1, pg0, pg1, n = sys.argv[1], int(sys.argv[2]), *map(float, sys.argv[3:7]), int(sys.argv[7])
cpu = 0.0; indexed = 0
parts = {"start": 0.0, "analyse": 0.0, "commit": 0.0, "cluster": 0.0, "idle": 0.0}
for i in range(1, k + 1):
    e, u, s = map(float, open(f"{tmp}/time{i}").read().split()[-3:])
    cpu += u + s
    summary = json.loads(open(f"{tmp}/w{i}").read().strip().splitlines()[-1])
    indexed += summary["indexed"]
    for key in parts: parts[key] += summary["time"][key]
wall = t1 - t0
print(json.dumps({"workers": k, "wall": wall, "photos": indexed, "photos_per_s": indexed / wall,
                  "worker_cpu": cpu, "pg_cpu": pg1 - pg0, **parts}))
EOF
}
run_index() {
    local th=$1
    rm -f "$TMP/ref.db"*
    "$BIN" index "$TMP/photos" --db "$TMP/ref.db" --threads "$th" 2>/dev/null | tail -1
}
echo "# $N photos ($COPIES x the 6 demo photos, 1.2-3 MP with 1-5 faces; $LFW_N LFW 250x250), $(nproc) cores, $(date -u +%F), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
# a worker's start alone (models + engine, an empty queue)
url=$(tools/pg_test_server.sh url "$PG" "fh_bench_start")
"$BIN" index "$TMP/photos/c1_sample1.jpg" --db "$url" --enqueue-only >/dev/null
"$BIN" worker --db "$url" --exit-when-idle >/dev/null 2>&1
s0=$(date +%s.%N); "$BIN" worker --db "$url" --exit-when-idle >/dev/null 2>&1; s1=$(date +%s.%N)
START=$(python3 -c "print(round($s1 - $s0, 3))")
: >"$TMP/rows"
for r in $(seq 1 "$RUNS"); do
    for k in 1 2; do run_workers "$k" | sed "s/^/w$k /" >>"$TMP/rows"; done
    for th in 1 2; do run_index "$th" | sed "s/^/i$th /" >>"$TMP/rows"; done
done
python3 - "$TMP/rows" "$N" "$START" <<'EOF'
import json, statistics as st, sys
rows = {}
for line in open(sys.argv[1]):
    tag, js = line.split(" ", 1)
    rows.setdefault(tag, []).append(json.loads(js))
n, start = int(sys.argv[2]), float(sys.argv[3])
med = lambda tag, key: st.median(r[key] for r in rows[tag])
print(f"| how | wall s (median of {len(rows['w1'])}) | photos/s | speed-up vs 1 worker | worker CPU s | PostgreSQL CPU s |")
print("|---|---:|---:|---:|---:|---:|")
w1 = med("w1", "wall")
for k in (1, 2):
    t = med(f"w{k}", "wall")
    print(f"| {k} worker{'s' if k > 1 else ''} (1 thread each), PostgreSQL | {t:.2f} | {n / t:.2f} | {w1 / t:.2f}x | "
          f"{med(f'w{k}', 'worker_cpu'):.2f} | {med(f'w{k}', 'pg_cpu'):.2f} |")
for th in (1, 2):
    t = med(f"i{th}", "seconds")
    print(f"| index, {th} thread{'s' if th > 1 else ''}, SQLite, one process | {t:.2f} | {n / t:.2f} | {w1 / t:.2f}x | | |")
print(f"\nworker start (models, engine, connections; an empty queue): {start:.2f} s each")
print("\nwhere the workers' time goes (seconds summed over the workers, medians; wall x workers = all of it):\n")
print("| workers | wall x workers | start | read + analyse | claim + commit | cluster job | idle (waiting) | rest (process start, exit) |")
print("|---|---:|---:|---:|---:|---:|---:|---:|")
for k in (1, 2):
    t = f"w{k}"
    total = med(t, "wall") * k
    ps = {key: med(t, key) for key in ("start", "analyse", "commit", "cluster", "idle")}
    print(f"| {k} | {total:.2f} | " + " | ".join(f"{ps[key]:.2f}" for key in ps) + f" | {total - sum(ps.values()):.2f} |")
EOF
