/* The dense float feature matrix. */
#include "vigil/matrix.h"

#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

/* A large matrix is written once from end to end right after it is made
 * (a transform, scores): with 4 KiB pages that first write is one page
 * fault per 4 KiB, which cost as much as the encoding itself (KDDTest+ x20:
 * 18,000 faults for 74 MB). Asking for huge pages where the kernel gives them
 * on request (transparent_hugepage=madvise, Debian's default) makes them
 * 2 MiB. Advice only: any failure leaves ordinary pages. */
#define HUGE_MIN_BYTES ((size_t)8 << 20)
static void advise_huge(void *data, size_t bytes)
{
#ifdef MADV_HUGEPAGE
    if (bytes < HUGE_MIN_BYTES) return;
    uintptr_t page = (uintptr_t)sysconf(_SC_PAGESIZE);
    if (page == 0 || page == (uintptr_t)-1) return;
    uintptr_t a = ((uintptr_t)data + page - 1) & ~(page - 1), b = ((uintptr_t)data + bytes) & ~(page - 1);
    if (b > a) (void)madvise((void *)a, b - a, MADV_HUGEPAGE);
#else
    (void)data, (void)bytes;
#endif
}

vg_status vg_matrix_alloc(vg_matrix *m, size_t rows, size_t cols)
{
    memset(m, 0, sizeof *m);
    if (cols && rows > SIZE_MAX / sizeof(float) / cols)
        return vg_fail(VG_ERR_NOMEM, "matrix of %zu x %zu is too large", rows, cols);
    size_t n = rows * cols;
    m->data = vg_calloc(n > 0 ? n : 1, sizeof(float));
    if (!m->data) return vg_fail(VG_ERR_NOMEM, "out of memory for a %zu x %zu matrix", rows, cols);
    advise_huge(m->data, n * sizeof(float));
    m->rows = rows;
    m->cols = cols;
    return VG_OK;
}

/* realloc, not alloc and copy: a large block is remapped, so the existing
 * rows are neither copied nor faulted in again (samplers append rows). */
vg_status vg_matrix_grow(vg_matrix *m, size_t rows)
{
    if (rows < m->rows) return vg_fail(VG_ERR_INVALID, "matrix: cannot grow %zu rows to %zu", m->rows, rows);
    if (m->cols && rows > SIZE_MAX / sizeof(float) / m->cols)
        return vg_fail(VG_ERR_NOMEM, "matrix of %zu x %zu is too large", rows, m->cols);
    size_t n = rows * m->cols;
    float *d = vg_realloc(m->data, (n > 0 ? n : 1) * sizeof *d);
    if (!d) return vg_fail(VG_ERR_NOMEM, "out of memory for a %zu x %zu matrix", rows, m->cols);
    advise_huge(d, n * sizeof(float));
    m->data = d, m->rows = rows;
    return VG_OK;
}

void vg_matrix_free(vg_matrix *m)
{
    if (!m) return;
    vg_free(m->data);
    memset(m, 0, sizeof *m);
}
