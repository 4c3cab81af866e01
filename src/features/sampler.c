/* Samplers: names, parameters, class targets and the random ones (see
 * vigil/sampler.h); SMOTE and its variants are in sampler_smote.c. */
#include "vigil/sampler.h"
#include "vigil/rng.h"
#include "features/sampler_internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static const char *const names[] = { "random-over", "random-under", "smote", "borderline-smote", "adasyn" };

const char *vg_sampler_kind_str(vg_sampler_kind k)
{
    return (unsigned)k < sizeof names / sizeof *names ? names[k] : "unknown";
}

vg_status vg_sampler_params_default(const char *name, vg_sampler_params *out)
{
    memset(out, 0, sizeof *out);
    out->k_neighbors = 5;
    out->m_neighbors = 10;
    for (size_t i = 0; name && i < sizeof names / sizeof *names; i++)
        if (strcmp(name, names[i]) == 0) {
            out->kind = (vg_sampler_kind)i;
            return VG_OK;
        }
    return vg_fail(VG_ERR_INVALID, "--sampler: unknown sampler '%s' (available: smote, borderline-smote, adasyn, "
                                   "random-over, random-under)", name ? name : "");
}

vg_status vg_sampler_params_set(vg_sampler_params *p, const char *kv)
{
    const char *eq = strchr(kv, '=');
    if (!eq || eq == kv) return vg_fail(VG_ERR_INVALID, "--sampler-param '%s': expected KEY=VALUE", kv);
    size_t klen = (size_t)(eq - kv);
    const char *v = eq + 1;
    char *end;
#define KEY(s) (klen == strlen(s) && strncmp(kv, s, klen) == 0)
    if (KEY("k_neighbors") || KEY("n_neighbors") || KEY("m_neighbors")) {
        long n = strtol(v, &end, 10);
        if (end == v || *end || n < 1 || n > 100)
            return vg_fail(VG_ERR_INVALID, "sampler parameter %.*s: '%s' is not a whole number in [1, 100]", (int)klen,
                           kv, v);
        if (KEY("m_neighbors")) p->m_neighbors = (uint32_t)n;
        else p->k_neighbors = (uint32_t)n;
        return VG_OK;
    }
    if (KEY("sampling_strategy")) {
        if (strcmp(v, "auto") == 0 || strcmp(v, "not majority") == 0 || strcmp(v, "not minority") == 0) {
            p->strategy = 0;
            return VG_OK;
        }
        int under = p->kind == VG_SAMPLER_RANDOM_UNDER;
        if (strcmp(v, under ? "majority" : "minority") == 0) {
            p->strategy = 1;
            return VG_OK;
        }
        double f = strtod(v, &end);
        if (end == v || *end || !(f > 0 && f <= 1))
            return vg_fail(VG_ERR_INVALID, "sampler parameter sampling_strategy: '%s' is not auto, %s or a "
                                           "fraction in (0, 1]", v, under ? "majority" : "minority");
        p->strategy = 2, p->fraction = f;
        return VG_OK;
    }
#undef KEY
    return vg_fail(VG_ERR_INVALID, "sampler parameter %.*s: not a parameter of sampler '%s' (k_neighbors, "
                                   "m_neighbors, n_neighbors, sampling_strategy)", (int)klen, kv,
                   vg_sampler_kind_str(p->kind));
}

vg_status vg_sampler_params_parse(const char *name, const char *const *params, size_t n, vg_sampler_params *out)
{
    vg_status st = vg_sampler_params_default(name, out);
    for (size_t i = 0; !st && i < n; i++) st = vg_sampler_params_set(out, params[i]);
    return st;
}

vg_status vg_sampler_targets(const vg_sampler_params *p, const size_t *count, uint32_t n_classes, size_t *target)
{
    uint32_t big = 0, small = 0;
    for (uint32_t c = 0; c < n_classes; c++) {
        if (count[c] > count[big]) big = c;
        if (count[c] && (!count[small] || count[c] < count[small])) small = c;
    }
    int under = p->kind == VG_SAMPLER_RANDOM_UNDER;
    for (uint32_t c = 0; c < n_classes; c++) {
        size_t want;
        if (p->strategy == 0) want = under ? count[small] : count[big];              /* auto */
        else if (p->strategy == 1) want = under ? (c == big ? count[small] : count[c])  /* majority */
                                                : (c == small ? count[big] : count[c]); /* minority */
        else if (under) want = (size_t)((double)count[small] / p->fraction);  /* imbalanced-learn truncates */
        else want = (size_t)(p->fraction * (double)count[big]);
        /* A class never grows under an under-sampler nor shrinks under an
         * over-sampler; an absent class has no rows to make new ones from. */
        target[c] = !count[c] ? 0 : under ? (want < count[c] ? want : count[c]) : (want > count[c] ? want : count[c]);
    }
    return VG_OK;
}

vg_status vg_sampler_replace(vg_matrix *X, int32_t **y, float **w, vg_matrix *nX, int32_t *ny, float *nw)
{
    vg_matrix_free(X);
    *X = *nX;
    vg_free(*y);
    *y = ny;
    if (w) {
        vg_free(*w);
        *w = nw;
    } else {
        vg_free(nw);
    }
    return VG_OK;
}

/* Random over- and under-sampling: rows are copied, never made up. */
static vg_status random_resample(const vg_sampler_params *p, uint32_t n_classes, uint64_t seed, vg_matrix *X,
                                 int32_t **y, float **w)
{
    size_t rows = X->rows, cols = X->cols;
    size_t *count = vg_calloc(n_classes, sizeof *count), *target = vg_calloc(n_classes, sizeof *target);
    uint32_t *order = vg_malloc((rows ? rows : 1) * sizeof *order);
    size_t *start = vg_calloc((size_t)n_classes + 1, sizeof *start);
    vg_status st = VG_OK;
    if (!count || !target || !order || !start) {
        st = vg_fail(VG_ERR_NOMEM, "out of memory");
        goto done;
    }
    for (size_t r = 0; r < rows; r++) count[(*y)[r]]++;
    vg_sampler_targets(p, count, n_classes, target);
    size_t total = 0;
    for (uint32_t c = 0; c < n_classes; c++) total += target[c], start[c + 1] = start[c] + count[c];
    {
        size_t *fill = vg_malloc(((size_t)n_classes + 1) * sizeof *fill);
        if (!fill) {
            st = vg_fail(VG_ERR_NOMEM, "out of memory");
            goto done;
        }
        memcpy(fill, start, ((size_t)n_classes + 1) * sizeof *fill);
        for (size_t r = 0; r < rows; r++) order[fill[(*y)[r]]++] = (uint32_t)r;
        vg_free(fill);
    }
    vg_matrix nX = { 0 };
    int32_t *ny = vg_malloc((total ? total : 1) * sizeof *ny);
    float *nw = *w ? vg_malloc((total ? total : 1) * sizeof *nw) : NULL;
    uint8_t *keep = vg_calloc(rows ? rows : 1, 1);
    if (!ny || (*w && !nw) || !keep || vg_matrix_alloc(&nX, total, cols)) {
        vg_free(ny), vg_free(nw), vg_free(keep), vg_matrix_free(&nX);
        st = vg_fail(VG_ERR_NOMEM, "out of memory");
        goto done;
    }
    vg_rng rng;
    vg_rng_seed(&rng, seed, 0x5a3b);
    size_t n = 0;
    if (p->kind == VG_SAMPLER_RANDOM_UNDER) {
        /* A seeded shuffle of each class; its first target rows stay, in file order. */
        for (uint32_t c = 0; c < n_classes; c++) {
            vg_rng_shuffle_u32(&rng, order + start[c], count[c]);
            for (size_t i = 0; i < target[c]; i++) keep[order[start[c] + i]] = 1;
        }
        for (size_t r = 0; r < rows; r++)
            if (keep[r]) {
                memcpy(nX.data + n * cols, X->data + r * cols, cols * sizeof *nX.data);
                ny[n] = (*y)[r];
                if (nw) nw[n] = (*w)[r];
                n++;
            }
    } else {
        memcpy(nX.data, X->data, rows * cols * sizeof *nX.data);
        memcpy(ny, *y, rows * sizeof *ny);
        if (nw) memcpy(nw, *w, rows * sizeof *nw);
        n = rows;
        for (uint32_t c = 0; c < n_classes; c++)
            for (size_t i = count[c]; i < target[c]; i++) {
                uint32_t r = order[start[c] + vg_rng_below(&rng, (uint32_t)count[c])];
                memcpy(nX.data + n * cols, X->data + (size_t)r * cols, cols * sizeof *nX.data);
                ny[n] = (int32_t)c;
                if (nw) nw[n] = (*w)[r];
                n++;
            }
    }
    vg_free(keep);
    vg_sampler_replace(X, y, *w ? w : NULL, &nX, ny, nw);
done:
    vg_free(count), vg_free(target), vg_free(order), vg_free(start);
    return st;
}

vg_status vg_sampler_apply(const vg_sampler_params *p, const uint8_t *is_categorical, uint32_t n_classes,
                           uint64_t seed, int threads, vg_matrix *X, int32_t **y, float **w)
{
    for (size_t r = 0; r < X->rows; r++)
        if ((*y)[r] < 0 || (uint32_t)(*y)[r] >= n_classes)
            return vg_fail(VG_ERR_INVALID, "sampler: class %d of row %zu out of range", (*y)[r], r);
    if (p->kind == VG_SAMPLER_RANDOM_OVER || p->kind == VG_SAMPLER_RANDOM_UNDER)
        return random_resample(p, n_classes, seed, X, y, w);
    return vg_smote_resample(p, is_categorical, n_classes, seed, threads, X, y, w);
}

vg_status vg_sampler_run(const char *name, const char *const *params, size_t n_params, const vg_feature *features,
                         uint32_t n_classes, uint64_t seed, int threads, vg_matrix *X, int32_t **y, float **w)
{
    vg_sampler_params p;
    vg_status st = vg_sampler_params_parse(name, params, n_params, &p);
    if (st) return st;
    uint8_t *is_cat = vg_calloc(X->cols ? X->cols : 1, 1);
    if (!is_cat) return vg_fail(VG_ERR_NOMEM, "out of memory");
    for (size_t j = 0; features && j < X->cols; j++) is_cat[j] = features[j].kind == VG_FEATURE_CATEGORICAL;
    st = vg_sampler_apply(&p, is_cat, n_classes, seed, threads, X, y, w);
    vg_free(is_cat);
    return st;
}
