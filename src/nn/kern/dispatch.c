// SPDX-License-Identifier: MIT
// Kernel dispatch: the reference table, or the AVX2+FMA table when the CPU has it.
// FH_FORCE_REF=1 in the environment keeps the reference (first thing to try when
// results look wrong); the engine's nn_options.force_ref does the same per net.
#include <stdlib.h>

#include "base/base.h"
#include "nn/kern/kern.h"

const struct nn_kern *nn_kern_avx2_table(void); // kern/x86/kern_avx2.c

const struct nn_kern *nn_kern_avx2(void) {
#if defined(__x86_64__) && !defined(FH_REF_ONLY)
    if (fh_cpu_has(FH_CPU_AVX2 | FH_CPU_FMA)) return nn_kern_avx2_table();
#endif
    return NULL;
}

const struct nn_kern *nn_kern_best(int force_ref) {
    const char *e = getenv("FH_FORCE_REF");
    if (force_ref || (e && *e && *e != '0')) return nn_kern_ref();
    const struct nn_kern *k = nn_kern_avx2();
    return k ? k : nn_kern_ref();
}
