/* Fold assignment for cross-validation (see vigil/folds.h). */
#include "vigil/folds.h"
#include "vigil/rng.h"
#include "vigil/split.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

const char *vg_folds_kind_str(vg_folds_kind k)
{
    switch (k) {
    case VG_FOLDS_STRATIFIED: return "stratified";
    case VG_FOLDS_GROUPED: return "grouped";
    case VG_FOLDS_TIME: return "time";
    }
    return "unknown";
}

void vg_folds_free(vg_folds *f)
{
    if (!f) return;
    vg_free(f->block);
    memset(f, 0, sizeof *f);
}

static vg_status folds_alloc(size_t rows, uint32_t k, vg_folds_kind kind, vg_folds *out)
{
    memset(out, 0, sizeof *out);
    if (k < 2) return vg_fail(VG_ERR_INVALID, "--folds: cross-validation needs at least 2 folds, got %u", k);
    if (rows < (size_t)k + (kind == VG_FOLDS_TIME))
        return vg_fail(VG_ERR_DATA, "%zu rows are too few for %u folds", rows, k);
    out->block = vg_malloc(rows * sizeof *out->block);
    if (!out->block) return vg_fail(VG_ERR_NOMEM, "out of memory");
    out->kind = kind, out->k = k, out->rows = rows;
    return VG_OK;
}

vg_status vg_folds_stratified(const int32_t *y, size_t rows, uint32_t n_classes, uint32_t k, uint64_t seed,
                              vg_folds *out)
{
    vg_status st = folds_alloc(rows, k, VG_FOLDS_STRATIFIED, out);
    if (st) return st;
    int32_t *one = NULL;
    if (!y || n_classes < 2) {  /* no classes: one group, a shuffled k-fold */
        if (!(one = vg_calloc(rows, sizeof *one))) {
            vg_folds_free(out);
            return vg_fail(VG_ERR_NOMEM, "out of memory");
        }
        y = one, n_classes = 1;
    }
    st = vg_split_kfold(y, rows, n_classes, k, seed, out->block);
    vg_free(one);
    if (st) vg_folds_free(out);
    return st;
}

/* Sorting row indices by a column's value (numbers, or category text). */
typedef struct sort_key {
    const double *num;
    const uint32_t *codes;
    const vg_table *t;
    size_t col;
} sort_key;

static _Thread_local const sort_key *g_key;

static int cmp_rows(const void *a, const void *b)
{
    size_t ra = *(const size_t *)a, rb = *(const size_t *)b;
    const sort_key *k = g_key;
    int c = 0;
    if (k->num) {
        double x = k->num[ra], y = k->num[rb];
        int nx = isnan(x), ny = isnan(y);
        c = nx != ny ? nx - ny : (nx ? 0 : (x < y ? -1 : x > y));
    } else {
        uint32_t x = k->codes[ra], y = k->codes[rb];
        if (x != y) {
            if (x == VG_CODE_MISSING || y == VG_CODE_MISSING) c = x == VG_CODE_MISSING ? 1 : -1;
            else c = strcmp(vg_table_category(k->t, k->col, x), vg_table_category(k->t, k->col, y));
        }
    }
    return c ? c : (ra > rb) - (ra < rb);  /* ties keep the file's order */
}

static vg_status rows_sorted(const vg_table *t, size_t col, size_t **out)
{
    size_t rows = vg_table_rows(t);
    size_t *idx = vg_malloc((rows ? rows : 1) * sizeof *idx);
    if (!idx) return vg_fail(VG_ERR_NOMEM, "out of memory");
    for (size_t r = 0; r < rows; r++) idx[r] = r;
    sort_key key = { .t = t, .col = col };
    if (vg_table_type(t, col) == VG_COLUMN_NUMERIC) key.num = vg_table_numbers(t, col);
    else key.codes = vg_table_codes(t, col);
    g_key = &key;
    qsort(idx, rows, sizeof *idx, cmp_rows);
    g_key = NULL;
    *out = idx;
    return VG_OK;
}

static int same_value(const vg_table *t, size_t col, size_t a, size_t b)
{
    if (vg_table_type(t, col) == VG_COLUMN_NUMERIC) {
        double x = vg_table_numbers(t, col)[a], y = vg_table_numbers(t, col)[b];
        return x == y || (isnan(x) && isnan(y));
    }
    return vg_table_codes(t, col)[a] == vg_table_codes(t, col)[b];
}

typedef struct group { size_t size; uint32_t id; } group;

static int cmp_groups(const void *a, const void *b)
{
    const group *x = a, *y = b;
    if (x->size != y->size) return x->size < y->size ? 1 : -1;  /* largest first */
    return (x->id > y->id) - (x->id < y->id);
}

vg_status vg_folds_grouped(const vg_table *t, size_t col, uint32_t k, uint64_t seed, vg_folds *out)
{
    size_t rows = vg_table_rows(t);
    vg_status st = folds_alloc(rows, k, VG_FOLDS_GROUPED, out);
    if (st) return st;
    size_t *idx = NULL;
    uint32_t *gid = vg_malloc(rows * sizeof *gid);
    group *g = vg_malloc(rows * sizeof *g);
    uint32_t *perm = vg_malloc(rows * sizeof *perm);
    size_t *load = vg_calloc(k, sizeof *load);
    uint32_t *gfold = vg_malloc(rows * sizeof *gfold);
    if (!gid || !g || !perm || !load || !gfold || (st = rows_sorted(t, col, &idx))) {
        if (!st) st = vg_fail(VG_ERR_NOMEM, "out of memory");
        goto done;
    }
    /* Group ids in sorted value order, so they do not depend on the file's
     * order of first appearance beyond what the seed's shuffle decides. */
    uint32_t n = 0;
    for (size_t i = 0; i < rows; i++) {
        if (i && !same_value(t, col, idx[i - 1], idx[i])) n++;
        gid[idx[i]] = n;
    }
    n++;
    if (n < k) {
        st = vg_fail(VG_ERR_DATA, "--group %s: %u distinct values are too few for %u folds", vg_table_name(t, col), n, k);
        goto done;
    }
    for (uint32_t i = 0; i < n; i++) g[i] = (group){ 0, i };
    for (size_t r = 0; r < rows; r++) g[gid[r]].size++;
    /* Shuffle, then a stable order by size: equal-sized groups land in a
     * seeded order rather than by value. */
    for (uint32_t i = 0; i < n; i++) perm[i] = i;
    vg_rng rng;
    vg_rng_seed(&rng, seed, 0x6f1d);
    vg_rng_shuffle_u32(&rng, perm, n);
    group *sh = vg_malloc(n * sizeof *sh);
    if (!sh) {
        st = vg_fail(VG_ERR_NOMEM, "out of memory");
        goto done;
    }
    for (uint32_t i = 0; i < n; i++) sh[i] = (group){ g[perm[i]].size, i };
    qsort(sh, n, sizeof *sh, cmp_groups);  /* ties by shuffled position */
    for (uint32_t i = 0; i < n; i++) {
        uint32_t best = 0;
        for (uint32_t f = 1; f < k; f++)
            if (load[f] < load[best]) best = f;
        gfold[perm[sh[i].id]] = best;
        load[best] += sh[i].size;
    }
    vg_free(sh);
    for (size_t r = 0; r < rows; r++) out->block[r] = gfold[gid[r]];
done:
    vg_free(idx), vg_free(gid), vg_free(g), vg_free(perm), vg_free(load), vg_free(gfold);
    if (st) vg_folds_free(out);
    return st;
}

vg_status vg_folds_time(const vg_table *t, size_t col, uint32_t k, vg_folds *out)
{
    size_t rows = vg_table_rows(t);
    vg_status st = folds_alloc(rows, k, VG_FOLDS_TIME, out);
    if (st) return st;
    for (size_t r = 0; r < rows; r++) {
        int missing = vg_table_type(t, col) == VG_COLUMN_NUMERIC ? isnan(vg_table_numbers(t, col)[r])
                                                                  : vg_table_codes(t, col)[r] == VG_CODE_MISSING;
        if (missing) {
            vg_folds_free(out);
            return vg_fail(VG_ERR_DATA, "--time %s: %s line %llu has no time", vg_table_name(t, col),
                           vg_table_source(t), (unsigned long long)vg_table_line(t, r));
        }
    }
    size_t *idx;
    if ((st = rows_sorted(t, col, &idx))) {
        vg_folds_free(out);
        return st;
    }
    /* k + 1 blocks of sizes differing by at most one, the earliest first. */
    for (size_t i = 0; i < rows; i++) out->block[idx[i]] = (uint32_t)((i * (k + 1)) / rows);
    vg_free(idx);
    return VG_OK;
}

vg_status vg_folds_rows(const vg_folds *folds, uint32_t f, size_t **train, size_t *n_train, size_t **test,
                        size_t *n_test)
{
    *train = *test = NULL;
    *n_train = *n_test = 0;
    if (f >= folds->k) return vg_fail(VG_ERR_INVALID, "fold %u of %u", f, folds->k);
    size_t rows = folds->rows;
    size_t *tr = vg_malloc((rows ? rows : 1) * sizeof *tr), *te = vg_malloc((rows ? rows : 1) * sizeof *te);
    if (!tr || !te) {
        vg_free(tr), vg_free(te);
        return vg_fail(VG_ERR_NOMEM, "out of memory");
    }
    size_t a = 0, b = 0;
    for (size_t r = 0; r < rows; r++) {
        uint32_t blk = folds->block[r];
        if (folds->kind == VG_FOLDS_TIME) {
            if (blk <= f) tr[a++] = r;
            else if (blk == f + 1) te[b++] = r;
        } else if (blk == f) te[b++] = r;
        else tr[a++] = r;
    }
    *train = tr, *n_train = a, *test = te, *n_test = b;
    return VG_OK;
}
