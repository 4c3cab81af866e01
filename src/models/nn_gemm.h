/* Internal: the three matrix products of a dense layer over a minibatch,
 * as plain loops (the reference every test checks against) and, when the
 * build found OpenBLAS (VG_HAVE_OPENBLAS), through cblas_sgemm.
 *
 * Shapes (row-major, float):  X: (B, in)   W: (in, out)   b: (out)
 *                             Y, dY: (B, out)   dX: (B, in)   dW: (in, out)
 * The two paths sum in different orders, so they agree to rounding only:
 * tests/test_nn.c holds them to a relative 1e-5 of the magnitudes summed. */
#ifndef VG_MODELS_NN_GEMM_H
#define VG_MODELS_NN_GEMM_H

#include <stddef.h>

/* The layers' loops (here, in nn.c and nn_optim.c) are plain C that the
 * compiler vectorises; a function marked VG_NN_CLONES is compiled three
 * times, for AVX-512 (x86-64-v4), AVX2 with FMA (x86-64-v3) and baseline
 * x86-64, and the CPU picks its copy when the program loads: a baseline
 * build leaves them four floats wide (SSE2), where this machine's vectors
 * hold sixteen. The copies can differ in the last bits (fused multiply-add,
 * vector width) between CPUs, never between runs or thread counts on one
 * machine. Only static functions are marked, public ones call them: a
 * cloned function's symbol leaves the library whatever its visibility
 * (GCC ignores "hidden" on it; clang refuses the pair). */
#if defined(__x86_64__) && defined(__GNUC__) && defined(__ELF__) && !defined(VG_NN_NO_CLONES)
#define VG_NN_CLONES __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#else
#define VG_NN_CLONES
#endif

typedef enum vg_nn_gemm_backend {
    VG_NN_GEMM_LOOPS = 0,  /* plain loops, always there */
    VG_NN_GEMM_BLAS = 1    /* cblas_sgemm; the loops when the build has no OpenBLAS */
} vg_nn_gemm_backend;

/* 1 if this build has the OpenBLAS path. */
int vg_nn_gemm_have_blas(void);
/* The backend a new network uses: BLAS when built with it, else the loops. */
vg_nn_gemm_backend vg_nn_gemm_default(void);

/* Y = X W + b (b may be NULL for no bias). */
void vg_nn_gemm_forward(vg_nn_gemm_backend be, size_t B, size_t in, size_t out, const float *X,
                        const float *W, const float *b, float *Y);
/* dW = X^T dY (overwritten). */
void vg_nn_gemm_weight_grad(vg_nn_gemm_backend be, size_t B, size_t in, size_t out, const float *X,
                            const float *dY, float *dW);
/* dX = dY W^T (overwritten). */
void vg_nn_gemm_input_grad(vg_nn_gemm_backend be, size_t B, size_t in, size_t out, const float *dY,
                           const float *W, float *dX);

#endif
