/* Internal: the training rows as the first layer of a network reads them.
 *
 * The one-hot pipeline's rows are mostly made of values that repeat: 0 in
 * an indicator column, the standardised image of 0 in a count. Writing each
 * column as a base value plus the rows that deviate from it,
 *     x_ij = base_j + dev_ij      (dev_ij = 0 for most rows),
 * the first layer becomes
 *     Z_i = (b + base W) + sum_{j: dev_ij != 0} dev_ij W_j
 *     dW_j = base_j sum_i dZ_i + sum_{i: dev_ij != 0} dev_ij dZ_i
 * which on NSL-KDD touches about 13 of 122 rows of W per example instead of
 * all of them. Rows denser than that are kept dense for the matrix product. */
#ifndef VG_MODELS_NN_INPUT_H
#define VG_MODELS_NN_INPUT_H

#include <stddef.h>
#include <stdint.h>
#include "vigil/core.h"
#include "vigil/matrix.h"

/* One deviation: its column and x - base. Column and value side by side, so
 * a row's deviations are one run of memory (two cache lines on NSL-KDD). */
typedef struct vg_nn_dev {
    uint32_t col;
    float v;
} vg_nn_dev;

typedef struct vg_nn_input {
    size_t rows;
    uint32_t cols;
    const float *X;     /* rows x cols, borrowed: the rows themselves */
    int deviations;     /* 1: the first layer reads base + deviations below */
    float *base;        /* cols */
    uint64_t *start;    /* rows + 1: row i's deviations are dev[start[i] .. start[i + 1]) */
    vg_nn_dev *dev;
} vg_nn_input;

/* Describe X's rows (borrowed; must outlive *in). mode: 0 dense, 1
 * deviations, -1 choose (deviations when they are fewer than a third of
 * the values). VG_ERR_DATA naming the row and column of a value that is
 * not finite; VG_ERR_NOMEM. */
vg_status vg_nn_input_build(vg_nn_input *in, const vg_matrix *X, int mode);
void vg_nn_input_free(vg_nn_input *in);  /* zeroes the struct */

#endif
