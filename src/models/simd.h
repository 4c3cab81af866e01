/* Internal: the run-time choice of the vector kernels (the AVX-512 ones of
 * the tree ensembles, the isolation forest and the distance scan). Setting
 * VG_NO_SIMD (non-empty, not "0") in the environment keeps the plain
 * reference kernels, for tests and for comparing. */
#ifndef VG_MODELS_SIMD_H
#define VG_MODELS_SIMD_H

#include <stdlib.h>
#include <string.h>

/* The compiler can build the AVX-512 kernels (target attributes): whether
 * the CPU runs them is vg_simd_avx512's question. */
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>
#define HAVE_AVX512 1
#else
#define HAVE_AVX512 0
#endif

static inline int vg_simd_disabled(void)
{
    const char *off = getenv("VG_NO_SIMD");
    return off && *off && strcmp(off, "0") != 0;
}

/* The CPU has AVX-512F and VG_NO_SIMD is not set. */
static inline int vg_simd_avx512(void)
{
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
    static int cpu = -1;  /* a race stores the same value twice */
    if (cpu < 0) cpu = __builtin_cpu_supports("avx512f") ? 1 : 0;
    return cpu && !vg_simd_disabled();
#else
    return 0;
#endif
}

#endif
