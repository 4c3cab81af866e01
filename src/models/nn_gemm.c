/* The dense layer's products (see nn_gemm.h). The loops are ordered so the
 * innermost one runs along a contiguous row of `out` values (an axpy the
 * compiler vectorises), except dX, whose inner loop is a dot product of two
 * contiguous rows. With OpenBLAS the same products go to cblas_sgemm, which
 * is faster once the layers are wide; the loops stay as the reference. */
#include "models/nn_gemm.h"

#include <string.h>

#ifdef VG_HAVE_OPENBLAS
#include <cblas.h>
#include <pthread.h>
#endif

int vg_nn_gemm_have_blas(void)
{
#ifdef VG_HAVE_OPENBLAS
    return 1;
#else
    return 0;
#endif
}

#ifdef VG_HAVE_OPENBLAS
/* OpenBLAS's own threads spin on products this small and compete with
 * vigil's (prediction splits rows across threads itself): one thread each. */
static void blas_single_thread(void)
{
    openblas_set_num_threads(1);
}
#endif

vg_nn_gemm_backend vg_nn_gemm_default(void)
{
#ifdef VG_HAVE_OPENBLAS
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, blas_single_thread);
    return VG_NN_GEMM_BLAS;
#else
    return VG_NN_GEMM_LOOPS;
#endif
}

/* A product this thin (the output layer of a binary classifier: one unit)
 * costs more in sgemm's packing than in the loops. */
static inline int use_blas(vg_nn_gemm_backend be, size_t in, size_t out)
{
    return be == VG_NN_GEMM_BLAS && in >= 8 && out >= 8;
}

/* y (out) += a * w (out) */
static inline void axpy(size_t n, float a, const float *restrict w, float *restrict y)
{
    for (size_t k = 0; k < n; k++) y[k] += a * w[k];
}

/* a . b (n), in sixteen partial sums added pairwise: one chain of adds
 * would leave the vector units idle, and sixteen fill one AVX-512 register
 * (the output unit of a binary classifier is this product, every row). */
static inline float dot(size_t n, const float *restrict a, const float *restrict b)
{
    float s[16] = { 0 };
    size_t k = 0;
    for (; k + 16 <= n; k += 16)
        for (size_t u = 0; u < 16; u++) s[u] += a[k + u] * b[k + u];
    for (; k < n; k++) s[0] += a[k] * b[k];
    for (size_t w = 8; w > 0; w /= 2)
        for (size_t u = 0; u < w; u++) s[u] += s[u + w];
    return s[0];
}

VG_NN_CLONES static void gemm_forward_kernel(vg_nn_gemm_backend be, size_t B, size_t in, size_t out, const float *X,
                        const float *W, const float *b, float *Y)
{
    for (size_t i = 0; i < B; i++) {
        float *y = Y + i * out;
        if (b) memcpy(y, b, out * sizeof(float));
        else memset(y, 0, out * sizeof(float));
    }
#ifdef VG_HAVE_OPENBLAS
    if (use_blas(be, in, out)) {
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)B, (int)out, (int)in, 1.0f, X, (int)in, W,
                    (int)out, 1.0f, Y, (int)out);
        return;
    }
#endif
    if (out == 1) {
        for (size_t i = 0; i < B; i++) Y[i] += dot(in, X + i * in, W);
        return;
    }
    for (size_t i = 0; i < B; i++) {
        const float *x = X + i * in;
        float *y = Y + i * out;
        for (size_t j = 0; j < in; j++)
            if (x[j] != 0.0f) axpy(out, x[j], W + j * out, y);  /* ReLU zeros and one-hot columns cost nothing */
    }
}

void vg_nn_gemm_forward(vg_nn_gemm_backend be, size_t B, size_t in, size_t out, const float *X, const float *W,
                        const float *b, float *Y)
{
    gemm_forward_kernel(be, B, in, out, X, W, b, Y);
}

VG_NN_CLONES static void gemm_weight_grad_kernel(vg_nn_gemm_backend be, size_t B, size_t in, size_t out, const float *X,
                            const float *dY, float *dW)
{
#ifdef VG_HAVE_OPENBLAS
    if (use_blas(be, in, out)) {
        cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int)in, (int)out, (int)B, 1.0f, X, (int)in, dY,
                    (int)out, 0.0f, dW, (int)out);
        return;
    }
#endif
    memset(dW, 0, in * out * sizeof(float));
    if (out == 1) {  /* a binary output unit: dW (in) += dy_i x_i, one long axpy per row */
        for (size_t i = 0; i < B; i++)
            if (dY[i] != 0.0f) axpy(in, dY[i], X + i * in, dW);
        return;
    }
    for (size_t i = 0; i < B; i++) {
        const float *x = X + i * in, *dy = dY + i * out;
        for (size_t j = 0; j < in; j++)
            if (x[j] != 0.0f) axpy(out, x[j], dy, dW + j * out);
    }
}

void vg_nn_gemm_weight_grad(vg_nn_gemm_backend be, size_t B, size_t in, size_t out, const float *X,
                            const float *dY, float *dW)
{
    gemm_weight_grad_kernel(be, B, in, out, X, dY, dW);
}

VG_NN_CLONES static void gemm_input_grad_kernel(vg_nn_gemm_backend be, size_t B, size_t in, size_t out, const float *dY,
                           const float *W, float *dX)
{
#ifdef VG_HAVE_OPENBLAS
    if (use_blas(be, in, out)) {
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)B, (int)in, (int)out, 1.0f, dY, (int)out, W,
                    (int)out, 0.0f, dX, (int)in);
        return;
    }
#endif
    if (out == 1) {  /* dx_i = dy_i W: a scaled copy */
        for (size_t i = 0; i < B; i++)
            for (size_t j = 0; j < in; j++) dX[i * in + j] = dY[i] * W[j];
        return;
    }
    for (size_t i = 0; i < B; i++) {
        const float *dy = dY + i * out;
        float *dx = dX + i * in;
        for (size_t j = 0; j < in; j++) dx[j] = dot(out, dy, W + j * out);
    }
}

void vg_nn_gemm_input_grad(vg_nn_gemm_backend be, size_t B, size_t in, size_t out, const float *dY,
                           const float *W, float *dX)
{
    gemm_input_grad_kernel(be, B, in, out, dY, W, dX);
}
