/* "iforest": an isolation forest for detection without labels (Liu, Ting
 * and Zhou, "Isolation Forest", ICDM 2008; scikit-learn's IsolationForest),
 * with categorical columns cut natively and, as a parameter, the oblique
 * cuts of the extended isolation forest (Hariri, Kind and Brunner, 2018).
 * An anomaly-score family: fit reads the rows only (labels, if any, are for
 * evaluation), predict writes one score per row, higher = more unusual;
 * the alert threshold is the train path's (contamination / alert rate), not
 * a parameter here.
 *
 * This file: the parameters (scikit-learn's names), the fitted forest's
 * allocation and checks, its file section (layout in iforest.h), describe,
 * and the vtable. Growing is iforest_grow.c; scoring and explanations are
 * iforest_score.c. */
#include "models/iforest.h"

#include <math.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

double vg_iforest_c(double n)
{
    /* scikit-learn's approximation of the harmonic number, kept so that its
     * scores are ours: the golden test compares them. */
    static const double euler_gamma = 0.57721566490153286061;
    if (n <= 1.0) return 0.0;
    if (n <= 2.0) return 1.0;
    return 2.0 * (log(n - 1.0) + euler_gamma) - 2.0 * (n - 1.0) / n;
}

/* ---- parameters ---- */

static void iforest_params_default(void *params)
{
    vg_iforest_params *p = params;
    memset(p, 0, sizeof *p);
    p->n_estimators = 100;
    p->max_samples_mode = VG_IFOREST_SAMPLES_AUTO;
    p->max_features_count = 0;
    p->max_features = 1.0;
    p->bootstrap = 0;
    p->extension_level = 0;
}

/* A count (no '.', 'e') or a fraction in (0, 1], as scikit-learn tells an
 * int from a float. */
static vg_status count_or_fraction(const char *key, const char *value, long min_count, int *is_count, double *out)
{
    long v;
    double d;
    if (strpbrk(value, ".eE")) {
        if (vg_param_double(key, value, 0.0, 1.0, &d) != VG_OK || d <= 0.0) goto bad;
        *is_count = 0;
        *out = d;
        return VG_OK;
    }
    if (vg_param_int(key, value, min_count, 1L << 31, &v) != VG_OK) goto bad;
    *is_count = 1;
    *out = (double)v;
    return VG_OK;
bad:
    return vg_fail(VG_ERR_INVALID, "parameter %s: '%s' is not %sa count >= %ld or a fraction in (0, 1]", key, value,
                   strcmp(key, "max_samples") == 0 ? "auto, " : "", min_count);
}

static vg_status iforest_params_set(void *params, const char *key, const char *value)
{
    vg_iforest_params *p = params;
    vg_status st;
    long v;
    int is_count;
    if (strcmp(key, "n_estimators") == 0) {
        if ((st = vg_param_int(key, value, 1, 10000, &v)) != VG_OK) return st;
        p->n_estimators = (uint32_t)v;
    } else if (strcmp(key, "max_samples") == 0) {
        if (strcasecmp(value, "auto") == 0) {
            p->max_samples_mode = VG_IFOREST_SAMPLES_AUTO;
            return VG_OK;
        }
        if ((st = count_or_fraction(key, value, 2, &is_count, &p->max_samples)) != VG_OK) return st;
        p->max_samples_mode = is_count ? VG_IFOREST_SAMPLES_COUNT : VG_IFOREST_SAMPLES_FRACTION;
    } else if (strcmp(key, "max_features") == 0) {
        if ((st = count_or_fraction(key, value, 1, &is_count, &p->max_features)) != VG_OK) return st;
        p->max_features_count = is_count;
    } else if (strcmp(key, "bootstrap") == 0) {
        return vg_param_bool(key, value, &p->bootstrap);
    } else if (strcmp(key, "extended") == 0) {
        int on;
        if ((st = vg_param_bool(key, value, &on)) != VG_OK) return st;
        p->extension_level = on ? -1 : 0;
    } else if (strcmp(key, "extension_level") == 0) {
        if (strcasecmp(value, "full") == 0) {
            p->extension_level = -1;
            return VG_OK;
        }
        if (vg_param_int(key, value, 0, 100000, &v) != VG_OK)
            return vg_fail(VG_ERR_INVALID, "parameter extension_level: '%s' is not full or a whole number in "
                           "[0, 100000] (0 = axis-parallel cuts)", value);
        p->extension_level = (int32_t)v;
    } else {
        return vg_param_unknown("iforest", key);
    }
    return VG_OK;
}

static const char *iforest_params_check(const void *params)
{
    const vg_iforest_params *p = params;
    if (p->n_estimators < 1 || p->n_estimators > 10000) return "n_estimators must be in [1, 10000]";
    if (p->max_samples_mode == VG_IFOREST_SAMPLES_COUNT && !(p->max_samples >= 2))
        return "max_samples must be at least 2 rows";
    if (p->max_samples_mode == VG_IFOREST_SAMPLES_FRACTION && !(p->max_samples > 0 && p->max_samples <= 1))
        return "max_samples as a fraction must be in (0, 1]";
    if (p->max_features_count ? !(p->max_features >= 1) : !(p->max_features > 0 && p->max_features <= 1))
        return "max_features must be a count >= 1 or a fraction in (0, 1]";
    if (p->extension_level < -1) return "extension_level must be full or >= 0";
    return NULL;
}

/* A fraction printed so that params_set reads it back as a fraction. */
static void put_fraction(vg_wbuf *out, double v)
{
    char text[40];
    snprintf(text, sizeof text, "%.15g", v);
    vg_wbuf_printf(out, "%s%s", text, strpbrk(text, ".eE") ? "" : ".0");
}

static void iforest_params_describe(const void *params, vg_wbuf *out)
{
    const vg_iforest_params *p = params;
    vg_wbuf_printf(out, "n_estimators=%u, max_samples=", p->n_estimators);
    if (p->max_samples_mode == VG_IFOREST_SAMPLES_AUTO) vg_wbuf_printf(out, "auto");
    else if (p->max_samples_mode == VG_IFOREST_SAMPLES_COUNT) vg_wbuf_printf(out, "%.0f", p->max_samples);
    else put_fraction(out, p->max_samples);
    vg_wbuf_printf(out, ", max_features=");
    if (p->max_features_count) vg_wbuf_printf(out, "%.0f", p->max_features);
    else put_fraction(out, p->max_features);
    vg_wbuf_printf(out, ", bootstrap=%s, extension_level=", p->bootstrap ? "true" : "false");
    if (p->extension_level < 0) vg_wbuf_printf(out, "full");
    else vg_wbuf_printf(out, "%d", p->extension_level);
}

/* ---- the fitted forest: one allocation, checks ---- */

vg_iforest *vg_iforest_alloc(uint32_t n_features, uint32_t n_trees, uint32_t n_nodes, uint32_t n_words,
                             uint32_t n_terms)
{
    /* Largest alignment first: nodes (16 bytes, 4-aligned), then the u32
     * and f32 arrays; everything is 4-byte data. */
    size_t bytes = sizeof(vg_iforest) + (size_t)n_nodes * sizeof(vg_iforest_node) +
                   4 * ((size_t)n_features + (size_t)n_trees + 1 + (size_t)n_nodes + (size_t)n_words +
                        3 * (size_t)n_terms);
    uint8_t *block = vg_calloc(1, bytes);
    if (!block) return NULL;
    vg_iforest *f = (vg_iforest *)block;
    uint8_t *at = block + sizeof *f;
    f->n_features = n_features;
    f->n_trees = n_trees;
    f->n_nodes = n_nodes;
    f->n_words = n_words;
    f->n_terms = n_terms;
    f->nodes = (vg_iforest_node *)at, at += (size_t)n_nodes * sizeof *f->nodes;
    f->n_categories = (uint32_t *)at, at += 4 * (size_t)n_features;
    f->tree_start = (uint32_t *)at, at += 4 * ((size_t)n_trees + 1);
    f->n_samples = (uint32_t *)at, at += 4 * (size_t)n_nodes;
    f->words = (uint32_t *)at, at += 4 * (size_t)n_words;
    f->term_feature = (uint32_t *)at, at += 4 * (size_t)n_terms;
    f->term_weight = (float *)at, at += 4 * (size_t)n_terms;
    f->term_share = (float *)at;
    f->tree_start[n_trees] = n_nodes;
    return f;
}

void vg_iforest_free(vg_iforest *f)
{
    if (f) vg_free(f->flat);
    vg_free(f);
}

#define BAD(...) (vg_fail(VG_ERR_FORMAT, "iforest model: " __VA_ARGS__))

/* Check one tree's nodes [0, size) (local links) and set its leaves' path
 * lengths. Children always come after their parent, so one pass in index
 * order sees every parent before its children and can refuse a node that
 * nothing reaches or that two parents claim. */
static vg_status check_tree(vg_iforest *f, uint32_t t, uint8_t *depth_of)
{
    uint32_t start = f->tree_start[t], size = f->tree_start[t + 1] - start;
    vg_iforest_node *nodes = f->nodes + start;
    const uint32_t *n = f->n_samples + start;
    memset(depth_of, 0xFF, size);
    depth_of[0] = 0;
    if (n[0] < 1 || n[0] > f->psi) return BAD("tree %u: root holds %u rows of %u", t, n[0], f->psi);
    for (uint32_t i = 0; i < size; i++) {
        vg_iforest_node *nd = &nodes[i];
        uint32_t d = depth_of[i], kind = nd->info >> VG_IFOREST_KIND_SHIFT, idx = nd->info & VG_IFOREST_INDEX_MASK;
        if (d == 0xFF) return BAD("tree %u: node %u is not reached from the root", t, i);
        if (nd->left == 0) {
            if (kind != VG_IFOREST_LEAF || nd->info != (uint32_t)VG_IFOREST_LEAF << VG_IFOREST_KIND_SHIFT)
                return BAD("tree %u: node %u has no children but is not a leaf", t, i);
            if (n[i] < 1) return BAD("tree %u: leaf %u holds no row", t, i);
            nd->value = (float)((double)d + vg_iforest_c(n[i]));
            continue;
        }
        if (nd->left <= i || nd->left >= size - 1)
            return BAD("tree %u: node %u points to children %u and %u outside the tree after it", t, i, nd->left,
                       nd->left + 1);
        if (depth_of[nd->left] != 0xFF || depth_of[nd->left + 1] != 0xFF)
            return BAD("tree %u: node %u's children have another parent", t, i);
        if (d + 1 > VG_IFOREST_MAX_DEPTH) return BAD("tree %u is deeper than %u", t, VG_IFOREST_MAX_DEPTH);
        depth_of[nd->left] = depth_of[nd->left + 1] = (uint8_t)(d + 1);
        if (n[nd->left] < 1 || n[nd->left + 1] < 1 || (uint64_t)n[nd->left] + n[nd->left + 1] != n[i])
            return BAD("tree %u: node %u's %u rows are not its children's %u + %u", t, i, n[i], n[nd->left],
                       n[nd->left + 1]);
        if (kind == VG_IFOREST_AXIS || kind == VG_IFOREST_CATEGORY) {
            if (idx >= f->n_features) return BAD("tree %u: node %u cuts column %u of %u", t, i, idx, f->n_features);
            if ((kind == VG_IFOREST_CATEGORY) != (f->n_categories[idx] > 0))
                return BAD("tree %u: node %u cuts column %u as the wrong type", t, i, idx);
            if (kind == VG_IFOREST_AXIS && isnan(nd->value)) return BAD("tree %u: node %u has a NaN threshold", t, i);
            if (kind == VG_IFOREST_CATEGORY) {
                uint64_t words = ((uint64_t)f->n_categories[idx] + 1 + 31) / 32;
                if ((uint64_t)nd->aux + words > f->n_words)
                    return BAD("tree %u: node %u's categories lie outside the %u words", t, i, f->n_words);
            }
        } else if (kind == VG_IFOREST_OBLIQUE) {
            if (idx < 1 || idx > f->n_features || (uint64_t)nd->aux + idx > f->n_terms)
                return BAD("tree %u: node %u's %u terms at %u lie outside the %u", t, i, idx, nd->aux, f->n_terms);
            if (!isfinite(nd->value)) return BAD("tree %u: node %u has a non-finite offset", t, i);
            for (uint32_t q = 0; q < idx; q++) {
                uint32_t tf = f->term_feature[nd->aux + q];
                if (tf >= f->n_features || f->n_categories[tf])
                    return BAD("tree %u: node %u's term %u is not a numeric column", t, i, q);
                if (!isfinite(f->term_weight[nd->aux + q]) || !(f->term_share[nd->aux + q] >= 0) ||
                    !isfinite(f->term_share[nd->aux + q]))
                    return BAD("tree %u: node %u's term %u has a non-finite weight or share", t, i, q);
            }
        } else {
            return BAD("tree %u: leaf %u has children", t, i);
        }
    }
    return VG_OK;
}

vg_status vg_iforest_finish(vg_iforest *f)
{
    if (f->n_features < 1 || f->n_features > VG_IFOREST_INDEX_MASK) return BAD("%u columns", f->n_features);
    if (f->n_trees < 1 || f->n_nodes < f->n_trees) return BAD("%u trees of %u nodes", f->n_trees, f->n_nodes);
    if (f->psi < 2) return BAD("max_samples %u is below 2", f->psi);
    if (f->extension_level < -1) return BAD("extension level %d", f->extension_level);
    for (uint32_t c = 0; c < f->n_features; c++)
        if (f->n_categories[c] > VG_IFOREST_MAX_CATEGORIES)
            return BAD("column %u has %u categories (at most %u)", c, f->n_categories[c], VG_IFOREST_MAX_CATEGORIES);
    if (f->tree_start[0] != 0) return BAD("the first tree does not start at node 0");
    uint32_t biggest = 0;
    for (uint32_t t = 0; t < f->n_trees; t++) {
        if (f->tree_start[t + 1] <= f->tree_start[t] || f->tree_start[t + 1] > f->n_nodes)
            return BAD("tree %u's nodes [%u, %u) are out of order", t, f->tree_start[t], f->tree_start[t + 1]);
        biggest = VG_MAX(biggest, f->tree_start[t + 1] - f->tree_start[t]);
    }
    uint8_t *depth_of = vg_malloc(biggest);
    if (!depth_of) return vg_fail(VG_ERR_NOMEM, "iforest model: out of memory");
    vg_status st = VG_OK;
    double h0 = 0;
    for (uint32_t t = 0; t < f->n_trees && st == VG_OK; t++) {
        st = check_tree(f, t, depth_of);
        h0 += vg_iforest_c(f->n_samples[f->tree_start[t]]);
    }
    vg_free(depth_of);
    f->c_psi = vg_iforest_c(f->psi);
    f->h0 = h0 / f->n_trees;
    if (st == VG_OK) vg_iforest_flatten(f);
    return st;
}

/* ---- the file section ---- */

static vg_status iforest_save(const void *state, vg_wbuf *w)
{
    const vg_iforest *f = state;
    vg_wbuf_u32(w, VG_IFOREST_FORMAT_VERSION);
    vg_wbuf_u32(w, f->n_features);
    vg_wbuf_u32(w, f->n_trees);
    vg_wbuf_u32(w, f->psi);
    vg_wbuf_u32(w, f->n_nodes);
    vg_wbuf_u32(w, f->n_words);
    vg_wbuf_u32(w, f->n_terms);
    vg_wbuf_i32(w, f->extension_level);
    vg_wbuf_u32s(w, f->n_categories, f->n_features);
    vg_wbuf_u32s(w, f->tree_start, f->n_trees);
    for (uint32_t i = 0; i < f->n_nodes; i++) vg_wbuf_u32(w, f->nodes[i].left);
    for (uint32_t i = 0; i < f->n_nodes; i++) vg_wbuf_u32(w, f->nodes[i].info);
    for (uint32_t i = 0; i < f->n_nodes; i++) vg_wbuf_u32(w, f->nodes[i].aux);
    for (uint32_t i = 0; i < f->n_nodes; i++) vg_wbuf_f32(w, f->nodes[i].value);
    vg_wbuf_u32s(w, f->n_samples, f->n_nodes);
    vg_wbuf_u32s(w, f->words, f->n_words);
    vg_wbuf_u32s(w, f->term_feature, f->n_terms);
    vg_wbuf_f32s(w, f->term_weight, f->n_terms);
    vg_wbuf_f32s(w, f->term_share, f->n_terms);
    return w->failed ? vg_fail(VG_ERR_NOMEM, "iforest: out of memory saving the model") : VG_OK;
}

static vg_status iforest_load(vg_rbuf *r, void **out_state)
{
    *out_state = NULL;
    uint32_t version = vg_rbuf_u32(r), F = vg_rbuf_u32(r), T = vg_rbuf_u32(r), psi = vg_rbuf_u32(r);
    uint32_t N = vg_rbuf_u32(r), W = vg_rbuf_u32(r), M = vg_rbuf_u32(r);
    int32_t ext = vg_rbuf_i32(r);
    vg_status st = vg_rbuf_check(r);
    if (st != VG_OK) return st;
    if (version != VG_IFOREST_FORMAT_VERSION)
        return BAD("version %u is not supported (this build reads %u)", version, VG_IFOREST_FORMAT_VERSION);
    /* The counts must fit in what is left before anything is allocated. */
    uint64_t need = 4 * ((uint64_t)F + T + 5 * (uint64_t)N + W + 3 * (uint64_t)M);
    if (F < 1 || T < 1 || N < T || need > r->len - r->pos)
        return BAD("%u columns, %u trees, %u nodes, %u words, %u terms do not fit the %zu bytes left", F, T, N, W,
                   M, r->len - r->pos);
    vg_iforest *f = vg_iforest_alloc(F, T, N, W, M);
    if (!f) return vg_fail(VG_ERR_NOMEM, "iforest model: out of memory");
    f->psi = psi;
    f->extension_level = ext;
    for (uint32_t i = 0; i < F; i++) f->n_categories[i] = vg_rbuf_u32(r);
    for (uint32_t i = 0; i < T; i++) f->tree_start[i] = vg_rbuf_u32(r);
    for (uint32_t i = 0; i < N; i++) f->nodes[i].left = vg_rbuf_u32(r);
    for (uint32_t i = 0; i < N; i++) f->nodes[i].info = vg_rbuf_u32(r);
    for (uint32_t i = 0; i < N; i++) f->nodes[i].aux = vg_rbuf_u32(r);
    for (uint32_t i = 0; i < N; i++) f->nodes[i].value = vg_rbuf_f32(r);
    for (uint32_t i = 0; i < N; i++) f->n_samples[i] = vg_rbuf_u32(r);
    for (uint32_t i = 0; i < W; i++) f->words[i] = vg_rbuf_u32(r);
    for (uint32_t i = 0; i < M; i++) f->term_feature[i] = vg_rbuf_u32(r);
    for (uint32_t i = 0; i < M; i++) f->term_weight[i] = vg_rbuf_f32(r);
    for (uint32_t i = 0; i < M; i++) f->term_share[i] = vg_rbuf_f32(r);
    if ((st = vg_rbuf_check(r)) == VG_OK) st = vg_iforest_finish(f);
    if (st != VG_OK) {
        vg_iforest_free(f);
        return st;
    }
    *out_state = f;
    return VG_OK;
}

/* ---- the rest of the vtable ---- */

static vg_status iforest_fit(const void *params, const vg_train_set *ts, const vg_fit_options *opt,
                             void **out_state)
{
    *out_state = NULL;
    const char *msg = iforest_params_check(params);
    if (msg) return vg_fail(VG_ERR_INVALID, "iforest: %s", msg);
    vg_iforest *f = NULL;
    vg_status st = vg_iforest_grow(params, ts, opt, &f);
    if (st == VG_OK) *out_state = f;
    return st;
}

static void iforest_predict(const void *state, const vg_matrix *X, int threads, float *out)
{
    vg_iforest_score(state, X, threads, out);
}

static void iforest_predict_row(const void *state, const float *row, float *out)
{
    out[0] = vg_iforest_score_row(state, row);
}

static uint32_t iforest_one(const void *state)
{
    (void)state;
    return 1;
}

static uint32_t iforest_n_features(const void *state)
{
    return ((const vg_iforest *)state)->n_features;
}

static vg_status iforest_explain(const void *state, const float *row, double *contrib)
{
    return vg_iforest_explain(state, row, contrib);
}

static void iforest_free(void *state)
{
    vg_iforest_free(state);
}

/* Importance as the trees see it: cuts per column (kind 2), and for the
 * other kinds the training rows those cuts separated (an oblique cut's
 * share split among its columns). */
static void iforest_importance(const void *state, int kind, double *out)
{
    const vg_iforest *f = state;
    memset(out, 0, (size_t)f->n_features * sizeof *out);
    for (uint32_t i = 0; i < f->n_nodes; i++) {
        const vg_iforest_node *nd = &f->nodes[i];
        if (!nd->left) continue;
        double w = kind == 2 ? 1.0 : (double)f->n_samples[i];
        uint32_t idx = nd->info & VG_IFOREST_INDEX_MASK;
        if ((nd->info >> VG_IFOREST_KIND_SHIFT) == VG_IFOREST_OBLIQUE) {
            for (uint32_t q = 0; q < idx; q++) out[f->term_feature[nd->aux + q]] += w * f->term_share[nd->aux + q];
        } else {
            out[idx] += w;
        }
    }
}

static void iforest_describe(const void *state, vg_wbuf *out)
{
    const vg_iforest *f = state;
    size_t leaves = 0, cuts[3] = { 0, 0, 0 };
    double depth_sum = 0;
    for (uint32_t t = 0; t < f->n_trees; t++) {
        for (uint32_t i = f->tree_start[t]; i < f->tree_start[t + 1]; i++) {
            const vg_iforest_node *nd = &f->nodes[i];
            if (nd->left) {
                cuts[nd->info >> VG_IFOREST_KIND_SHIFT]++;
            } else {
                leaves++;
                depth_sum += nd->value - vg_iforest_c(f->n_samples[i]);
            }
        }
    }
    vg_wbuf_printf(out, "trees: %u\nrows_per_tree: %u (c = %.6f)\nnodes: %u (leaves %zu, mean leaf depth %.3f)\n",
                   f->n_trees, f->psi, f->c_psi, f->n_nodes, leaves, leaves ? depth_sum / (double)leaves : 0.0);
    vg_wbuf_printf(out, "cuts: axis %zu, categorical %zu, oblique %zu\n", cuts[0], cuts[1], cuts[2]);
    if (f->extension_level < 0) vg_wbuf_printf(out, "extension_level: full\n");
    else vg_wbuf_printf(out, "extension_level: %d\n", f->extension_level);
}

/* ---- learning while watching (iforest_window.c) ---- */

static vg_status iforest_adapt_new(const void *state, uint32_t window, uint32_t refresh, uint64_t seed,
                                   void **learner)
{
    vg_iforest_window_params p = { .window = window, .refresh = refresh };
    return vg_iforest_window_new(state, p, seed, (vg_iforest_window **)learner);
}

static vg_status iforest_adapt_rows(void *learner, const vg_matrix *X, float *out)
{
    vg_status first = VG_OK;
    for (size_t r = 0; r < X->rows; r++) {
        vg_status st = vg_iforest_window_observe(learner, X->data + r * X->cols, &out[r]);
        if (st != VG_OK && first == VG_OK) first = st;
    }
    return first;
}

static const void *iforest_adapt_state(const void *learner)
{
    return vg_iforest_window_forest(learner);
}

static void iforest_adapt_free(void *learner)
{
    vg_iforest_window_free(learner);
}

static vg_status iforest_adapt_save(const void *learner, vg_wbuf *w)
{
    return vg_iforest_window_save(learner, w);
}

static vg_status iforest_adapt_load(const void *state, vg_rbuf *r, uint32_t window, uint32_t refresh, uint64_t seed,
                                    void **learner)
{
    vg_iforest_window_params p = { .window = window, .refresh = refresh };
    return vg_iforest_window_load(state, r, p, seed, (vg_iforest_window **)learner);
}

const vg_estimator_kind vg_iforest_kind = {
    .name = "iforest",
    .summary = "isolation forest without labels (anomaly score 2^(-E[h]/c)); native categories, extended variant",
    .encoding = VG_ENCODING_NATIVE,
    .params_size = sizeof(vg_iforest_params),
    .params_default = iforest_params_default,
    .params_set = iforest_params_set,
    .params_check = iforest_params_check,
    .params_describe = iforest_params_describe,
    .fit = iforest_fit,
    .predict = iforest_predict,
    .n_classes = iforest_one,
    .save = iforest_save,
    .load = iforest_load,
    .free = iforest_free,
    .describe = iforest_describe,
    .n_features = iforest_n_features,
    .outputs = VG_ESTIMATOR_OUT_SCORE,
    .needs_labels = 0,
    .inputs = VG_ESTIMATOR_IN_DENSE,
    .predict_row = iforest_predict_row,
    .predict_in_blocks = 1,
    .n_outputs = iforest_one,
    .explain = iforest_explain,
    .importance = iforest_importance,
    .adapt_new = iforest_adapt_new,
    .adapt_rows = iforest_adapt_rows,
    .adapt_state = iforest_adapt_state,
    .adapt_free = iforest_adapt_free,
    .adapt_save = iforest_adapt_save,
    .adapt_load = iforest_adapt_load,
};
