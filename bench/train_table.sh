#!/usr/bin/env bash
# bench/train_table.sh BUILD [runs] [threads]: `make bench-train`. Runs bench_train (ours)
# and bench/torch_train.py (PyTorch 1.13 CPU, /usr/bin/python3) one after the other on the
# same nets, batch and threads, and prints their outputs, then one table: median step
# time, images/s, and the speed ratio ours/torch (> 1: ours is faster). Torch's number is
# the faster of its two memory formats (named). Without torch the torch cells read
# "not installed". Prints the machine, the date and the load average before and after.
set -u
BUILD=${1:-build}
RUNS=${2:-7}
THREADS=${3:-2}
OUT=$BUILD/bench/train
mkdir -p "$OUT"
cpu=$(grep -m1 'model name' /proc/cpuinfo 2>/dev/null | sed 's/.*: //')
load0=$(cut -d' ' -f1-3 /proc/loadavg)
echo "bench-train: $(date -u '+%Y-%m-%d %H:%M UTC'), CPU: ${cpu:-unknown}, $(nproc) cores," \
     "$THREADS threads, load average at start: $load0"
if awk -v l="${load0%% *}" 'BEGIN { exit !(l > 0.5) }'; then
  echo "WARNING: load average ${load0%% *} > 0.5: the machine is busy, these numbers are unreliable"
fi
"$BUILD/bench/bench_train" "$RUNS" "$THREADS" "$OUT" | tee "$OUT/ours.txt" || exit 1
echo
if /usr/bin/python3 -c 'import torch' 2>/dev/null; then
  /usr/bin/python3 bench/torch_train.py "$RUNS" "$THREADS" "$OUT" | tee "$OUT/torch.txt"
else
  echo "torch: python3-torch is not installed for /usr/bin/python3" | tee "$OUT/torch.txt"
fi
echo
echo "load average at end: $(cut -d' ' -f1-3 /proc/loadavg)"
echo
cat "$OUT/ours.txt" "$OUT/torch.txt" | awk '
  $1 == "RESULT" && $2 == "ours" { arch[++n] = $3; om[$3] = $4; oi[$3] = $7; op[$3] = $8 }
  $1 == "RESULT" && $2 == "torch" { if (!($3 in ti) || $8 > ti[$3]) { tm[$3] = $5; ti[$3] = $8; tf[$3] = $4 }; tp[$3] = $9 }
  END {
    printf "| net (BN, batch 64) | params | ours ms/step | ours img/s | torch ms/step | torch img/s | torch format | speed ours/torch |\n"
    printf "|---|---|---|---|---|---|---|---|\n"
    for (i = 1; i <= n; i++) {
      a = arch[i]
      if (a in ti)
        printf "| %s | %d | %.0f | %.1f | %.0f | %.1f | %s | %.2f |\n", a, op[a], 1000 * om[a], oi[a], 1000 * tm[a], ti[a], tf[a], oi[a] / ti[a]
      else
        printf "| %s | %d | %.0f | %.1f | not installed | not installed | - | - |\n", a, op[a], 1000 * om[a], oi[a]
    }
  }'
