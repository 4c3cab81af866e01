/* Training rows as base + deviations (see nn_input.h). A column's base is
 * the Boyer-Moore majority vote over at most NN_VOTE_ROWS evenly spaced
 * rows, kept if it holds half of them, else 0 (plain sparsity). Any base
 * gives the same network up to rounding; a good one only makes it faster. */
#include "models/nn_input.h"

#include <float.h>
#include <math.h>
#include <string.h>

#define NN_VOTE_ROWS 4096

void vg_nn_input_free(vg_nn_input *in)
{
    if (!in) return;
    vg_free(in->base);
    vg_free(in->start);
    vg_free(in->dev);
    memset(in, 0, sizeof *in);
}

vg_status vg_nn_input_build(vg_nn_input *in, const vg_matrix *X, int mode)
{
    memset(in, 0, sizeof *in);
    const size_t rows = X->rows, cols = X->cols;
    in->rows = rows;
    in->cols = (uint32_t)cols;
    in->X = X->data;
    for (size_t i = 0; i < rows; i++)
        for (size_t j = 0; j < cols; j++)
            if (!(fabsf(X->data[i * cols + j]) <= FLT_MAX))
                return vg_fail(VG_ERR_DATA, "neural network: the value of row %zu, column %zu is not a finite number",
                               i, j);
    if (mode == 0 || rows == 0) return VG_OK;

    in->base = vg_calloc(cols + 1, sizeof(float));
    size_t *tally = vg_calloc(cols + 1, sizeof(size_t));
    float *cand = vg_calloc(cols + 1, sizeof(float));
    vg_status st = VG_OK;
    if (!in->base || !tally || !cand) {
        st = vg_fail(VG_ERR_NOMEM, "neural network: out of memory");
        goto out;
    }
    const size_t step = rows > NN_VOTE_ROWS ? rows / NN_VOTE_ROWS : 1;
    size_t sampled = 0;
    for (size_t i = 0; i < rows; i += step, sampled++) {
        const float *x = X->data + i * cols;
        for (size_t j = 0; j < cols; j++) {
            if (tally[j] == 0) cand[j] = x[j], tally[j] = 1;
            else if (x[j] == cand[j]) tally[j]++;
            else tally[j]--;
        }
    }
    memset(tally, 0, cols * sizeof(size_t));
    for (size_t i = 0; i < rows; i += step)
        for (size_t j = 0; j < cols; j++) tally[j] += X->data[i * cols + j] == cand[j];
    for (size_t j = 0; j < cols; j++) in->base[j] = 2 * tally[j] >= sampled ? cand[j] : 0.0f;

    size_t nnz = 0;
    for (size_t i = 0; i < rows; i++)
        for (size_t j = 0; j < cols; j++) nnz += X->data[i * cols + j] != in->base[j];
    if (mode < 0 && (double)nnz * 3.0 > (double)rows * (double)cols) {
        vg_free(in->base);
        in->base = NULL;
        goto out;  /* dense is as cheap: leave the product to the matrix kernels */
    }
    in->start = vg_malloc((rows + 1) * sizeof(uint64_t));
    in->dev = vg_malloc((nnz + 1) * sizeof *in->dev);
    if (!in->start || !in->dev) {
        st = vg_fail(VG_ERR_NOMEM, "neural network: out of memory for %zu deviations", nnz);
        goto out;
    }
    size_t q = 0;
    for (size_t i = 0; i < rows; i++) {
        in->start[i] = q;
        const float *x = X->data + i * cols;
        for (size_t j = 0; j < cols; j++)
            if (x[j] != in->base[j]) {
                in->dev[q].col = (uint32_t)j;
                in->dev[q++].v = x[j] - in->base[j];
            }
    }
    in->start[rows] = q;
    in->deviations = 1;
out:
    vg_free(tally);
    vg_free(cand);
    if (st) vg_nn_input_free(in);
    return st;
}
