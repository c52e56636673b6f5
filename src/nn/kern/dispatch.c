// SPDX-License-Identifier: MIT
// Kernel dispatch: the reference table, or the fastest x86 table the CPU has (AVX-512 with
// VNNI, AVX-512, AVX2+FMA). FH_FORCE_REF=1 in the environment keeps the reference (first
// thing to try when results look wrong); the engine's nn_options.force_ref does the same per
// net. FH_KERN=ref|avx2|avx512|avx512vnni picks a table (benchmarks, and running the
// AVX2 path on an AVX-512 machine); one the CPU lacks falls back to the best it has.
#include <stdlib.h>
#include <string.h>

#include "base/base.h"
#include "nn/kern/kern.h"
#include "nn/kern/x86/kern_x86.h"

const struct nn_kern *nn_kern_avx2(void) {
#if defined(__x86_64__) && !defined(FH_REF_ONLY)
    if (fh_cpu_has(FH_CPU_AVX2 | FH_CPU_FMA)) return nn_kern_avx2_table();
#endif
    return NULL;
}

const struct nn_kern *nn_kern_avx512(void) {
#if defined(__x86_64__) && !defined(FH_REF_ONLY)
    if (fh_cpu_has(FH_CPU_AVX2 | FH_CPU_FMA | FH_CPU_AVX512)) return nn_kern_avx512_table(0);
#endif
    return NULL;
}

const struct nn_kern *nn_kern_avx512vnni(void) {
#if defined(__x86_64__) && !defined(FH_REF_ONLY)
    if (fh_cpu_has(FH_CPU_AVX2 | FH_CPU_FMA | FH_CPU_AVX512 | FH_CPU_AVX512VNNI)) return nn_kern_avx512_table(1);
#endif
    return NULL;
}

const struct nn_kern *nn_kern_best(int force_ref) {
    const char *e = getenv("FH_FORCE_REF");
    if (force_ref || (e && *e && *e != '0')) return nn_kern_ref();
    const char *want = getenv("FH_KERN");
    const struct nn_kern *k = NULL;
    if (want && !strcmp(want, "ref")) return nn_kern_ref();
    if (want && !strcmp(want, "avx2")) k = nn_kern_avx2();
    else if (want && !strcmp(want, "avx512")) k = nn_kern_avx512();
    if (!k) k = nn_kern_avx512vnni();
    if (!k) k = nn_kern_avx512();
    if (!k) k = nn_kern_avx2();
    return k ? k : nn_kern_ref();
}
