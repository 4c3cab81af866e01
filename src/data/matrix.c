/* The dense float feature matrix. */
#include "vigil/matrix.h"

#include <string.h>

vg_status vg_matrix_alloc(vg_matrix *m, size_t rows, size_t cols)
{
    memset(m, 0, sizeof *m);
    if (cols && rows > SIZE_MAX / sizeof(float) / cols)
        return vg_fail(VG_ERR_NOMEM, "matrix of %zu x %zu is too large", rows, cols);
    size_t n = rows * cols;
    m->data = vg_calloc(n > 0 ? n : 1, sizeof(float));
    if (!m->data) return vg_fail(VG_ERR_NOMEM, "out of memory for a %zu x %zu matrix", rows, cols);
    m->rows = rows;
    m->cols = cols;
    return VG_OK;
}

void vg_matrix_free(vg_matrix *m)
{
    if (!m) return;
    vg_free(m->data);
    memset(m, 0, sizeof *m);
}
