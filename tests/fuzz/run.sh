#!/usr/bin/env bash
# Runs each libFuzzer harness for SECONDS on a copy of its seed corpus (tests/fuzz/corpus/
# <entry>, copied into build-fuzz/corpus/<entry>, which keeps what the fuzzer adds). A
# harness's source names its options on comment lines: "// fuzz:" libFuzzer flags (the
# -max_len), "// seeds:" extra seed files kept elsewhere (the fetched models), "// asan:"
# ASAN_OPTIONS additions. Fails on the first crash, leak, sanitizer report or timeout; the
# input is left as build-fuzz/crash-<entry>-*.
# Usage: tests/fuzz/run.sh SECONDS build-fuzz/fuzz/fuzz_<entry>...   (make fuzz does this)
set -euo pipefail
cd "$(dirname "$0")/../.."
secs=$1; shift
# libheif's codecs (x265, libde265, dav1d) keep allocations we cannot free (see lsan.supp)
export LSAN_OPTIONS=suppressions=$PWD/tests/fuzz/lsan.supp:print_suppressions=0
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:allocator_may_return_null=1
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
fail=0
for bin in "$@"; do
    entry=${bin##*/fuzz_}
    src=tests/fuzz/fuzz_$entry.c
    opts=$(sed -n 's|^// fuzz: ||p' "$src")
    work=build-fuzz/corpus/$entry
    mkdir -p "$work"
    if [ -d "tests/fuzz/corpus/$entry" ]; then cp -r "tests/fuzz/corpus/$entry/." "$work"/; fi
    for f in $(sed -n 's|^// seeds: ||p' "$src"); do   # seeds kept outside the corpus dir
        if [ -f "$f" ]; then cp "$f" "$work"/; else echo "fuzz_$entry: seed $f missing (make models)"; fi
    done
    echo "== fuzz_$entry: $secs s, $opts, corpus $(ls "$work" | wc -l) files"
    asan=$(sed -n 's|^// asan: ||p' "$src")   # per-harness ASAN_OPTIONS additions
    if ! ASAN_OPTIONS=$ASAN_OPTIONS${asan:+:$asan} "$bin" -max_total_time="$secs" -timeout=10 \
            -rss_limit_mb=2560 -print_final_stats=1 -artifact_prefix="build-fuzz/crash-$entry-" $opts "$work" \
            > "build-fuzz/fuzz_$entry.log" 2>&1; then
        echo "fuzz_$entry FAILED (build-fuzz/fuzz_$entry.log):"
        tail -n 60 "build-fuzz/fuzz_$entry.log"
        fail=1
    else
        grep -E '^(stat::number_of_executed_units|stat::average_exec_per_sec|stat::slowest_unit_time_sec|#[0-9]+[[:space:]]+DONE)' \
            "build-fuzz/fuzz_$entry.log" || true
    fi
done
exit $fail
