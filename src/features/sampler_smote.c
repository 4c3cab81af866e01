/* SMOTE, borderline-SMOTE (borderline-1) and ADASYN (see vigil/sampler.h).
 *
 * All three make a new row on the segment from a seed row of the class to
 * one of its k nearest rows of the same class; they differ in which seeds
 * and how many rows each. The neighbour search (vg_knn, knn.c) is the cost;
 * the rest is a pass over the draws. Draws come from one generator per
 * class seeded from (seed, class), and the searches are exact and
 * thread-independent, so a seed gives the same rows on any thread count.
 * The draws come before the search, which is then run only for the seeds
 * drawn; the rows are made after every class is planned, on all threads,
 * into the matrix grown in place. The order of things follows imbalanced-learn 0.10
 * (the neighbours of a row exclude itself; borderline's danger test uses
 * m_neighbors over all classes; ADASYN rounds each seed's share half to
 * even), so its counts and neighbour tables are reproduced exactly
 * (tests/test_sampler.c). */
#include "vigil/core.h"
#include "vigil/parallel.h"
#include "vigil/rng.h"
#include "vigil/sampler.h"
#include "features/sampler_internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

void vg_smote_make(const vg_matrix *X, const uint8_t *is_categorical, const size_t *seed_rows, const size_t *pool,
                   const uint32_t *nn, uint32_t k, const uint32_t *pick, const double *gap, size_t n_new, float *out)
{
    const size_t cols = X->cols;
    for (size_t i = 0; i < n_new; i++) {
        size_t s = pick[i] / k;
        const float *a = X->data + seed_rows[s] * cols, *b = X->data + pool[nn[pick[i]]] * cols;
        float *o = out + i * cols;
        for (size_t j = 0; j < cols; j++) {
            if (is_categorical && is_categorical[j]) {
                /* the most frequent value among the seed's k neighbours;
                 * lowest on ties, NaN (missing) counting as a value below all */
                float best = NAN;
                uint32_t best_n = 0;
                for (uint32_t t = 0; t < k; t++) {
                    float v = X->data[pool[nn[s * k + t]] * cols + j];
                    uint32_t n = 0;
                    for (uint32_t u = 0; u < k; u++) {
                        float x = X->data[pool[nn[s * k + u]] * cols + j];
                        n += x == v || (isnan(x) && isnan(v));
                    }
                    int lower = isnan(v) ? !isnan(best) : (!isnan(best) && v < best);
                    if (n > best_n || (n == best_n && lower)) best = v, best_n = n;
                }
                o[j] = best;
            } else {
                o[j] = (float)((double)a[j] + gap[i] * ((double)b[j] - (double)a[j]));
            }
        }
    }
}

/* SMOTE-NC's price of a category mismatch: med^2 / 2, med the median
 * standard deviation (population) of the numeric columns over the rows of
 * the smallest class, as imbalanced-learn computes it. */
static double mismatch_cost(const vg_matrix *X, const uint8_t *is_cat, const int32_t *y, uint32_t smallest)
{
    size_t cols = X->cols, n_num = 0;
    double *sd = vg_malloc((cols ? cols : 1) * sizeof *sd);
    if (!sd) return 1.0;
    for (size_t j = 0; j < cols; j++) {
        if (is_cat[j]) continue;
        double s = 0, ss = 0;
        size_t n = 0;
        for (size_t r = 0; r < X->rows; r++)
            if ((uint32_t)y[r] == smallest) s += X->data[r * cols + j], n++;
        double mean = n ? s / (double)n : 0;
        for (size_t r = 0; r < X->rows; r++)
            if ((uint32_t)y[r] == smallest) ss += (X->data[r * cols + j] - mean) * (X->data[r * cols + j] - mean);
        sd[n_num++] = n ? sqrt(ss / (double)n) : 0;
    }
    double med = 1.0;
    if (n_num) {
        for (size_t i = 1; i < n_num; i++)  /* insertion sort: a few dozen columns */
            for (size_t j = i; j > 0 && sd[j - 1] > sd[j]; j--) {
                double t = sd[j];
                sd[j] = sd[j - 1], sd[j - 1] = t;
            }
        med = n_num % 2 ? sd[n_num / 2] : (sd[n_num / 2 - 1] + sd[n_num / 2]) / 2;
    }
    vg_free(sd);
    return med * med / 2;
}

/* One class's plan: its seeds, their neighbour table and the draws. The
 * rows are made later, straight into the grown matrix and on every thread,
 * once all classes are planned: making them per class into a buffer and
 * copying that into a fresh matrix cost more than the searches on NSL-KDD's
 * five classes (336,715 rows out; page faults and copies of 370 MB). */
typedef struct plan {
    size_t n;            /* new rows */
    uint32_t k;
    size_t *pool;        /* the class's rows */
    size_t *seeds;       /* the seed rows (NULL: every row of pool) */
    uint32_t *nn;        /* k positions in pool per seed */
    uint32_t *pick;      /* per new row: seed * k + neighbour */
    double *gap;         /* per new row: where on the segment */
} plan;

static void plan_free(plan *pl)
{
    vg_free(pl->pool), vg_free(pl->seeds), vg_free(pl->nn), vg_free(pl->pick), vg_free(pl->gap);
    memset(pl, 0, sizeof *pl);
}

static vg_status one_class(const vg_sampler_params *p, const uint8_t *is_cat, double cost, uint32_t c, size_t n_new,
                           size_t n_c, uint64_t seed, int threads, const vg_matrix *X, const int32_t *y, plan *out)
{
    uint32_t k = p->k_neighbors;
    if (n_c < 2) return VG_OK;  /* nothing to interpolate with */
    if (k > n_c - 1) {
        vg_log(VG_LOG_WARN, "sampler %s: class %u has %zu rows; k_neighbors %u lowered to %zu", vg_sampler_kind_str(p->kind),
               c, n_c, k, n_c - 1);
        k = (uint32_t)(n_c - 1);
    }
    size_t rows = X->rows;
    const size_t *cls = out->pool;
    vg_status st = VG_OK;
    size_t *all = NULL, n_seeds = n_c, total = n_new;
    uint32_t *nnm = NULL;
    size_t *share = NULL, *query = NULL;
    uint8_t *used = NULL;
    vg_rng rng;
    vg_rng_seed(&rng, seed, 0x5e00 + c);
    if (p->kind != VG_SAMPLER_SMOTE) {
        /* Both variants look at each row's neighbours among all classes. */
        uint32_t m = p->kind == VG_SAMPLER_BORDERLINE_SMOTE ? p->m_neighbors : k;
        if (m > rows - 1) m = (uint32_t)(rows - 1);
        all = vg_malloc(rows * sizeof *all);
        nnm = vg_malloc(n_c * m * sizeof *nnm);
        share = vg_calloc(n_c, sizeof *share);
        out->seeds = vg_malloc(n_c * sizeof *out->seeds);
        if (!all || !nnm || !share || !out->seeds) {
            st = vg_fail(VG_ERR_NOMEM, "out of memory");
            goto done;
        }
        for (size_t r = 0; r < rows; r++) all[r] = r;
        if ((st = vg_knn(X, is_cat, cost, all, rows, cls, n_c, m, threads, nnm, NULL))) goto done;
        double sum = 0;
        n_seeds = 0;
        for (size_t i = 0; i < n_c; i++) {
            uint32_t other = 0;
            for (uint32_t j = 0; j < m; j++) other += (uint32_t)y[nnm[i * m + j]] != c;
            if (p->kind == VG_SAMPLER_BORDERLINE_SMOTE) {
                if (2 * other >= m && other < m) out->seeds[n_seeds++] = cls[i];  /* in danger, not noise */
            } else {
                sum += (double)other / m;
            }
        }
        if (p->kind == VG_SAMPLER_ADASYN) {
            if (!(sum > 0)) {
                st = vg_fail(VG_ERR_DATA, "sampler adasyn: no row of class %u has a neighbour of another class; "
                                          "nothing to adapt to (try smote)", c);
                goto done;
            }
            total = 0;
            for (size_t i = 0; i < n_c; i++) {
                uint32_t other = 0;
                for (uint32_t j = 0; j < m; j++) other += (uint32_t)y[nnm[i * m + j]] != c;
                share[i] = (size_t)nearbyint((double)other / m / sum * (double)n_new);  /* half to even, as numpy */
                total += share[i];
            }
            n_seeds = n_c;
            memcpy(out->seeds, cls, n_c * sizeof *out->seeds);
        }
        if (n_seeds == 0 || total == 0) goto done;  /* no row in danger: the class is left as it is */
    }
    /* The draws first: they do not depend on the neighbours, and only the
     * seeds they pick need a search. NSL-KDD's DoS class makes 21,416 rows
     * from 45,927 seeds, binary's attack class 8,713 from 58,630, so most
     * seeds are never picked and searching for them was most of the cost. */
    const size_t *seed_rows = out->seeds ? out->seeds : cls;
    out->nn = vg_calloc(n_seeds * k, sizeof *out->nn);
    out->pick = vg_malloc((total ? total : 1) * sizeof *out->pick);
    out->gap = vg_malloc((total ? total : 1) * sizeof *out->gap);
    used = vg_calloc(n_seeds, sizeof *used);
    query = vg_malloc(n_seeds * sizeof *query);
    if (!out->nn || !out->pick || !out->gap || !used || !query) {
        st = vg_fail(VG_ERR_NOMEM, "out of memory");
        goto done;
    }
    if (p->kind == VG_SAMPLER_ADASYN) {
        size_t n = 0;
        for (size_t i = 0; i < n_c; i++)
            for (size_t g = 0; g < share[i]; g++) out->pick[n++] = (uint32_t)(i * k + vg_rng_below(&rng, k));
    } else {
        for (size_t i = 0; i < total; i++) out->pick[i] = vg_rng_below(&rng, (uint32_t)(n_seeds * k));
    }
    for (size_t i = 0; i < total; i++) out->gap[i] = vg_rng_uniform(&rng);
    out->n = total, out->k = k;
    /* The picked seeds' k nearest rows of their own class (positions in
     * pool), searched together and put in their seeds' slots. */
    size_t n_query = 0;
    for (size_t i = 0; i < total; i++) used[out->pick[i] / k] = 1;
    for (size_t i = 0; i < n_seeds; i++)
        if (used[i]) query[n_query++] = seed_rows[i];
    if ((st = vg_knn(X, is_cat, cost, cls, n_c, query, n_query, k, threads, out->nn, NULL))) goto done;
    for (size_t i = n_seeds, q = n_query; i-- > 0;)  /* back to front: slot i >= its compact position q */
        if (used[i] && --q != i) memcpy(out->nn + i * k, out->nn + q * k, k * sizeof *out->nn);
done:
    vg_free(all), vg_free(nnm), vg_free(share), vg_free(used), vg_free(query);
    return st;
}

/* Making the planned rows: blocks of new rows over the worker pool, each
 * written to its own place, so the result is the same on any thread count. */
enum { MAKE_BLOCK = 2048 };

typedef struct make_ctx {
    const vg_matrix *X;      /* grown: the original rows, then room for the new */
    const uint8_t *is_cat;
    const plan *plans;
    const size_t *first;     /* per class: its first new row in the grown matrix */
    const size_t *block0;    /* per class: its first task; [n_classes] = the task count */
    uint32_t n_classes;
} make_ctx;

static void make_block(void *vctx, size_t task, int worker)
{
    (void)worker;
    const make_ctx *m = vctx;
    uint32_t c = 0;
    while (task >= m->block0[c + 1]) c++;
    const plan *pl = &m->plans[c];
    size_t i = (task - m->block0[c]) * MAKE_BLOCK, n = pl->n - i < MAKE_BLOCK ? pl->n - i : MAKE_BLOCK;
    vg_smote_make(m->X, m->is_cat, pl->seeds ? pl->seeds : pl->pool, pl->pool, pl->nn, pl->k, pl->pick + i,
                  pl->gap + i, n, m->X->data + (m->first[c] + i) * m->X->cols);
}

vg_status vg_smote_resample(const vg_sampler_params *p, const uint8_t *is_categorical, uint32_t n_classes,
                            uint64_t seed, int threads, vg_matrix *X, int32_t **y, float **w)
{
    size_t rows = X->rows, cols = X->cols;
    size_t *count = vg_calloc(n_classes, sizeof *count), *target = vg_calloc(n_classes, sizeof *target);
    size_t *first = vg_calloc(n_classes, sizeof *first), *block0 = vg_calloc((size_t)n_classes + 1, sizeof *block0);
    plan *pl = vg_calloc(n_classes, sizeof *pl);
    vg_status st = VG_OK;
    if (!count || !target || !first || !block0 || !pl) {
        st = vg_fail(VG_ERR_NOMEM, "out of memory");
        goto done;
    }
    for (size_t r = 0; r < rows; r++) count[(*y)[r]]++;
    vg_sampler_targets(p, count, n_classes, target);
    int any_cat = 0;
    for (size_t j = 0; is_categorical && j < cols; j++) any_cat |= is_categorical[j];
    uint32_t smallest = 0;
    for (uint32_t c = 0; c < n_classes; c++)
        if (count[c] && (!count[smallest] || count[c] < count[smallest])) smallest = c;
    double cost = any_cat ? mismatch_cost(X, is_categorical, *y, smallest) : 0;
    size_t total = rows;
    for (uint32_t c = 0; c < n_classes && !st; c++) {
        if (target[c] <= count[c]) continue;
        if (!(pl[c].pool = vg_malloc(count[c] * sizeof *pl[c].pool))) {
            st = vg_fail(VG_ERR_NOMEM, "out of memory");
            break;
        }
        size_t n_c = 0;
        for (size_t r = 0; r < rows; r++)
            if ((uint32_t)(*y)[r] == c) pl[c].pool[n_c++] = r;
        st = one_class(p, any_cat ? is_categorical : NULL, cost, c, target[c] - count[c], n_c, seed, threads, X, *y,
                       &pl[c]);
        first[c] = total;
        total += pl[c].n;
    }
    if (st || total == rows) goto done;
    for (uint32_t c = 0; c < n_classes; c++) block0[c + 1] = block0[c] + (pl[c].n + MAKE_BLOCK - 1) / MAKE_BLOCK;
    /* Grown in place (vg_matrix_grow): the original rows are not copied.
     * X stays valid if a step fails. */
    int32_t *ny = vg_realloc(*y, total * sizeof *ny);
    if (ny) *y = ny;
    float *nw = ny && *w ? vg_realloc(*w, total * sizeof *nw) : NULL;
    if (nw) *w = nw;
    if (!ny || (*w && !nw)) {
        st = vg_fail(VG_ERR_NOMEM, "out of memory for %zu resampled rows", total);
        goto done;
    }
    if ((st = vg_matrix_grow(X, total))) goto done;
    make_ctx m = { X, any_cat ? is_categorical : NULL, pl, first, block0, n_classes };
    vg_parallel_for(threads, block0[n_classes], make_block, &m);
    for (uint32_t c = 0; c < n_classes; c++)
        for (size_t i = 0; i < pl[c].n; i++) {
            (*y)[first[c] + i] = (int32_t)c;
            if (*w) (*w)[first[c] + i] = (*w)[(pl[c].seeds ? pl[c].seeds : pl[c].pool)[pl[c].pick[i] / pl[c].k]];
        }
done:
    for (uint32_t c = 0; pl && c < n_classes; c++) plan_free(&pl[c]);
    vg_free(count), vg_free(target), vg_free(first), vg_free(block0), vg_free(pl);
    return st;
}
