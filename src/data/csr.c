/* Compressed sparse rows (vigil/matrix.h). Built one row at a time, the way
 * the pipeline produces rows, with amortised doubling of both arrays. */
#include "vigil/matrix.h"

#include <string.h>

static vg_status grow(void **p, size_t *cap, size_t need, size_t size)
{
    if (need <= *cap) return VG_OK;
    size_t n = *cap ? *cap : 16;
    while (n < need) n *= 2;
    if (n > SIZE_MAX / size) return vg_fail(VG_ERR_NOMEM, "sparse matrix too large");
    void *q = vg_realloc(*p, n * size);
    if (!q) return vg_fail(VG_ERR_NOMEM, "out of memory for a sparse matrix");
    *p = q;
    *cap = n;
    return VG_OK;
}

/* Room for `need` entries in both entry arrays, which always have the same capacity. */
static vg_status grow_entries(vg_csr *m, size_t need)
{
    if (need <= m->cap_nnz) return VG_OK;
    size_t cap = m->cap_nnz, cap_values = m->cap_nnz;
    vg_status st = grow((void **)&m->indices, &cap, need, sizeof *m->indices);
    if (!st) st = grow((void **)&m->values, &cap_values, need, sizeof *m->values);
    if (!st) m->cap_nnz = cap;   /* the same doubling from the same start: cap == cap_values */
    return st;
}

vg_status vg_csr_begin(vg_csr *m, size_t cols, size_t nnz_hint)
{
    memset(m, 0, sizeof *m);
    m->cols = cols;
    vg_status st = grow((void **)&m->indptr, &m->cap_rows, 1, sizeof *m->indptr);
    if (!st) st = grow_entries(m, nnz_hint);
    if (st) {
        vg_csr_free(m);
        return st;
    }
    m->indptr[0] = 0;
    return VG_OK;
}

vg_status vg_csr_push(vg_csr *m, uint32_t col, float value)
{
    if (col >= m->cols) return vg_fail(VG_ERR_INVALID, "sparse row: column %u of %zu", col, m->cols);
    if (m->nnz > m->indptr[m->rows] && m->indices[m->nnz - 1] >= col)
        return vg_fail(VG_ERR_INVALID, "sparse row: column %u after %u (columns must ascend)", col,
                       m->indices[m->nnz - 1]);
    if (value == 0.0f) return VG_OK;
    vg_status st = grow_entries(m, m->nnz + 1);
    if (st) return st;
    m->indices[m->nnz] = col;
    m->values[m->nnz++] = value;
    return VG_OK;
}

vg_status vg_csr_end_row(vg_csr *m)
{
    vg_status st = grow((void **)&m->indptr, &m->cap_rows, m->rows + 2, sizeof *m->indptr);
    if (st) return st;
    m->indptr[++m->rows] = m->nnz;
    return VG_OK;
}

vg_status vg_csr_from_dense(const vg_matrix *d, vg_csr *out)
{
    vg_status st = vg_csr_begin(out, d->cols, 0);
    for (size_t r = 0; r < d->rows && !st; r++) {
        const float *row = d->data + r * d->cols;
        for (size_t c = 0; c < d->cols && !st; c++)
            if (row[c] != 0.0f) st = vg_csr_push(out, (uint32_t)c, row[c]);   /* NaN != 0: kept */
        if (!st) st = vg_csr_end_row(out);
    }
    if (st) vg_csr_free(out);
    return st;
}

double vg_csr_row_dot(const vg_csr *m, size_t r, const double *w)
{
    double s = 0;
    for (uint64_t k = m->indptr[r]; k < m->indptr[r + 1]; k++) s += (double)m->values[k] * w[m->indices[k]];
    return s;
}

void vg_csr_free(vg_csr *m)
{
    if (!m) return;
    vg_free(m->indptr);
    vg_free(m->indices);
    vg_free(m->values);
    memset(m, 0, sizeof *m);
}
