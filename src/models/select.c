/* "select": the K best columns of the training rows, then any classifier on
 * them (see select.h for why it is a family). Scores:
 *   importance   a random forest of 100 trees (scikit-learn's defaults, the
 *                fit's seed) fitted on these rows; its gain importance, as
 *                the sessions project ranked its columns (it ranked them on
 *                all rows, test rows included; here only the fit's rows).
 *   mutual_info  I(column; class) in nats, the column discretised: a
 *                categorical column by its categories (missing a value of
 *                its own), a numeric one into 16 equal-frequency bins of the
 *                fit's rows (ties kept in one bin), missing in a bin of its
 *                own. scikit-learn's mutual_info_classif uses a k-nearest-
 *                neighbour estimate instead; both rank a column by how much
 *                it tells about the class.
 * The columns are kept in the model's order and the family is fitted on
 * them through parts.c, which also maps its explanations back. */
#include "models/select.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "models/parts.h"

#define SELECT_FORMAT_VERSION 1u
#define SELECT_MAX_K 100000u
#define MI_BINS 16u

const char *vg_select_by_str(vg_select_by by)
{
    return by == VG_SELECT_MUTUAL_INFO ? "mutual_info" : "importance";
}

vg_status vg_select_by_parse(const char *s, vg_select_by *by)
{
    if (strcmp(s, "importance") == 0) *by = VG_SELECT_IMPORTANCE;
    else if (strcmp(s, "mutual_info") == 0) *by = VG_SELECT_MUTUAL_INFO;
    else return vg_fail(VG_ERR_INVALID, "--select-by: '%s' is not importance or mutual_info", s);
    return VG_OK;
}

/* ---- scoring ---- */

static vg_status importance_scores(const vg_train_set *ts, uint64_t seed, int threads, double *score)
{
    void *fp = vg_calloc(1, vg_forest_kind.params_size);
    if (!fp) return vg_fail(VG_ERR_NOMEM, "out of memory");
    vg_forest_kind.params_default(fp);
    vg_status st = vg_forest_kind.params_set(fp, "oob_score", "false");
    void *state = NULL;
    vg_fit_options o = { .seed = seed, .threads = threads };
    vg_train_set t = *ts;
    if (!st) st = vg_forest_kind.fit(fp, &t, &o, &state);
    if (!st) vg_forest_kind.importance(state, 0, score);
    if (state) vg_forest_kind.free(state);
    vg_free(fp);
    if (st) vg_error_prefix("--select-by importance: ");
    return st;
}

static int cmp_float(const void *a, const void *b)
{
    float x = *(const float *)a, y = *(const float *)b;
    return (x > y) - (x < y);
}

/* I(X; Y) from a joint count table (bins x C). */
static double mi_from_counts(const double *joint, uint32_t bins, uint32_t C, double total)
{
    double mi = 0;
    double *py = vg_calloc(C, sizeof *py);
    if (!py) return 0;
    for (uint32_t b = 0; b < bins; b++)
        for (uint32_t c = 0; c < C; c++) py[c] += joint[(size_t)b * C + c];
    for (uint32_t b = 0; b < bins; b++) {
        double px = 0;
        for (uint32_t c = 0; c < C; c++) px += joint[(size_t)b * C + c];
        for (uint32_t c = 0; c < C && px > 0; c++) {
            double j = joint[(size_t)b * C + c];
            if (j > 0) mi += j / total * log(j * total / (px * py[c]));
        }
    }
    vg_free(py);
    return mi;
}

static vg_status mutual_info_scores(const vg_train_set *ts, double *score)
{
    const vg_matrix *X = ts->X;
    const size_t N = X->rows;
    const uint32_t C = ts->n_classes;
    float *col = vg_malloc((N ? N : 1) * sizeof *col), edges[MI_BINS];
    size_t max_bins = MI_BINS + 1;
    for (size_t f = 0; f < X->cols; f++)
        if (ts->features[f].kind == VG_FEATURE_CATEGORICAL && ts->features[f].n_categories + 1 > max_bins)
            max_bins = ts->features[f].n_categories + 1;
    double *joint = vg_malloc(max_bins * C * sizeof *joint);
    if (!col || !joint) {
        vg_free(col), vg_free(joint);
        return vg_fail(VG_ERR_NOMEM, "out of memory");
    }
    double total = 0;
    for (size_t r = 0; r < N; r++) total += ts->weight ? ts->weight[r] : 1.0;
    for (size_t f = 0; f < X->cols; f++) {
        const vg_feature *ft = &ts->features[f];
        uint32_t bins, n_edges = 0;
        if (ft->kind == VG_FEATURE_CATEGORICAL) {
            bins = ft->n_categories + 1;  /* the last: missing or unseen */
        } else {
            size_t n = 0;
            for (size_t r = 0; r < N; r++) {
                float x = X->data[r * X->cols + f];
                if (!isnan(x)) col[n++] = x;
            }
            qsort(col, n, sizeof *col, cmp_float);
            for (uint32_t b = 1; b < MI_BINS && n; b++) {
                float e = col[(size_t)((double)b * (double)n / MI_BINS)];
                if (n_edges == 0 || e > edges[n_edges - 1]) edges[n_edges++] = e;
            }
            bins = n_edges + 2;  /* n_edges + 1 ranges, then missing */
        }
        memset(joint, 0, (size_t)bins * C * sizeof *joint);
        for (size_t r = 0; r < N; r++) {
            float x = X->data[r * X->cols + f];
            uint32_t b;
            if (isnan(x)) {
                b = bins - 1;
            } else if (ft->kind == VG_FEATURE_CATEGORICAL) {
                b = x >= 0 && x < (float)ft->n_categories ? (uint32_t)x : bins - 1;
            } else {
                b = 0;  /* first edge above x: values equal to an edge go with the range below it */
                while (b < n_edges && x >= edges[b]) b++;
            }
            joint[(size_t)b * C + (uint32_t)ts->y[r]] += ts->weight ? ts->weight[r] : 1.0;
        }
        score[f] = total > 0 ? mi_from_counts(joint, bins, C, total) : 0.0;
    }
    vg_free(col), vg_free(joint);
    return VG_OK;
}

vg_status vg_select_columns(const vg_train_set *ts, uint32_t k, vg_select_by by, uint64_t seed, int threads,
                            uint32_t *cols, double *scores)
{
    if (!ts->X || !ts->y || ts->n_classes < 2)
        return vg_fail(VG_ERR_INVALID, "--select: needs dense rows and class labels");
    const uint32_t F = (uint32_t)ts->X->cols;
    if (k < 1 || k > F) return vg_fail(VG_ERR_INVALID, "--select: %u is not in [1, %u] (the model's columns)", k, F);
    double *s = vg_calloc(F, sizeof *s);
    unsigned char *taken = vg_calloc(F, 1);
    if (!s || !taken) {
        vg_free(s), vg_free(taken);
        return vg_fail(VG_ERR_NOMEM, "out of memory");
    }
    vg_status st = by == VG_SELECT_MUTUAL_INFO ? mutual_info_scores(ts, s) : importance_scores(ts, seed, threads, s);
    for (uint32_t i = 0; !st && i < k; i++) {
        uint32_t best = UINT32_MAX;
        for (uint32_t f = 0; f < F; f++)
            if (!taken[f] && (best == UINT32_MAX || s[f] > s[best])) best = f;
        taken[best] = 1;
    }
    for (uint32_t f = 0, n = 0; !st && f < F; f++)
        if (taken[f]) cols[n++] = f;
    if (!st && scores) memcpy(scores, s, F * sizeof *s);
    vg_free(s), vg_free(taken);
    return st;
}

/* ---- the family ---- */

#define SELECT_NAME_LEN 256
#define SELECT_MAX_KV 48

typedef struct select_params {
    char estimator[SELECT_NAME_LEN];  /* the family, possibly "vote:a,b" */
    uint32_t k;
    vg_select_by by;
    uint32_t n_kv;
    char kv[SELECT_MAX_KV][VG_PARTS_KV_LEN];  /* the family's own "key=value"s */
} select_params;

typedef struct select_state {
    uint32_t n_features, n_classes;
    vg_select_by by;
    vg_part part;  /* reads the kept columns (part.sel) */
} select_state;

static void select_params_default(void *params)
{
    select_params *p = params;
    memset(p, 0, sizeof *p);
    strcpy(p->estimator, "forest");
    p->k = 5;
}

/* The family's parameter block: defaults, its parts (after a colon), the
 * stored "key=value"s and, when key is set, one more. */
static vg_status inner_params(const select_params *p, const char *key, const char *value, void **out)
{
    *out = NULL;
    const vg_estimator_kind *k = vg_estimator_find(p->estimator);
    if (!k) return vg_fail(VG_ERR_INVALID, "select: unknown model '%s'", p->estimator);
    void *ip = vg_calloc(1, k->params_size);
    if (!ip) return vg_fail(VG_ERR_NOMEM, "out of memory");
    k->params_default(ip);
    const char *colon = strchr(p->estimator, ':');
    vg_status st = colon ? k->params_set(ip, "estimators", colon + 1) : VG_OK;
    for (uint32_t i = 0; !st && i < p->n_kv; i++) {
        char kk[VG_PARTS_KV_LEN];
        const char *eq = strchr(p->kv[i], '=');
        memcpy(kk, p->kv[i], (size_t)(eq - p->kv[i]));
        kk[eq - p->kv[i]] = '\0';
        st = k->params_set(ip, kk, eq + 1);
    }
    if (!st && key) st = k->params_set(ip, key, value);
    if (st) {
        vg_free(ip);
        return st;
    }
    *out = ip;
    return VG_OK;
}

static vg_status select_params_set(void *params, const char *key, const char *value)
{
    select_params *p = params;
    long v;
    vg_status st;
    if (strcmp(key, "estimator") == 0) {
        const vg_estimator_kind *k = vg_estimator_find(value);
        if (!k || strlen(value) >= SELECT_NAME_LEN || k == &vg_select_kind)
            return vg_fail(VG_ERR_INVALID, "--select: '%s' is not a model to select columns for", value);
        if (!k->needs_labels || !(k->outputs & VG_ESTIMATOR_OUT_PROBA) || !(k->inputs & VG_ESTIMATOR_IN_DENSE) ||
            (k->inputs & VG_ESTIMATOR_IN_WINDOW))
            return vg_fail(VG_ERR_INVALID, "--select: model '%s' is not a classifier of single dense rows "
                           "(columns are chosen by how they tell the classes apart)", value);
        strcpy(p->estimator, value);
        p->n_kv = 0;
        void *ip = NULL;
        if ((st = inner_params(p, NULL, NULL, &ip))) return st;
        vg_free(ip);
        return VG_OK;
    }
    if (strcmp(key, "k") == 0) {
        if ((st = vg_param_int("--select", value, 1, SELECT_MAX_K, &v))) return st;
        p->k = (uint32_t)v;
        return VG_OK;
    }
    if (strcmp(key, "by") == 0) return vg_select_by_parse(value, &p->by);
    void *ip = NULL;
    if ((st = inner_params(p, key, value, &ip))) return st;
    vg_free(ip);
    if (p->n_kv == SELECT_MAX_KV) return vg_fail(VG_ERR_INVALID, "parameter %s: too many parameters", key);
    int n = snprintf(p->kv[p->n_kv], VG_PARTS_KV_LEN, "%s=%s", key, value);
    if (n < 0 || n >= VG_PARTS_KV_LEN)
        return vg_fail(VG_ERR_INVALID, "parameter %s: longer than %d bytes", key, VG_PARTS_KV_LEN - 1);
    p->n_kv++;
    return VG_OK;
}

static const char *select_params_check(const void *params)
{
    const select_params *p = params;
    if (p->k < 1) return "k must be >= 1";
    const vg_estimator_kind *k = vg_estimator_find(p->estimator);
    if (!k) return "estimator names no model";
    void *ip = NULL;
    if (inner_params(p, NULL, NULL, &ip)) return "the model's parameters are not valid";
    const char *msg = k->params_check(ip);
    vg_free(ip);
    return msg;
}

static void select_params_describe(const void *params, vg_wbuf *out)
{
    const select_params *p = params;
    vg_wbuf_printf(out, "select=%u, select_by=%s, model=%s", p->k, vg_select_by_str(p->by), p->estimator);
    const vg_estimator_kind *k = vg_estimator_find(p->estimator);
    void *ip = NULL;
    if (k && k->params_describe && !inner_params(p, NULL, NULL, &ip)) {
        vg_wbuf_printf(out, ", ");
        k->params_describe(ip, out);
    }
    vg_free(ip);
}

static void select_free(void *state)
{
    select_state *s = state;
    if (!s) return;
    vg_part_free(&s->part);
    vg_free(s);
}

static vg_status select_fit(const void *params, const vg_train_set *ts, const vg_fit_options *opt, void **out_state)
{
    *out_state = NULL;
    const select_params *p = params;
    const char *msg = select_params_check(p);
    if (msg) return vg_fail(VG_ERR_INVALID, "select: %s", msg);
    if (!ts->X) return vg_fail(VG_ERR_INVALID, "--select: needs dense rows");
    uint32_t F = (uint32_t)ts->X->cols, k = p->k;
    if (k > F) return vg_fail(VG_ERR_INVALID, "--select: %u is more than the model's %u columns", k, F);
    uint32_t *cols = vg_malloc((F ? F : 1) * sizeof *cols);
    select_state *s = vg_calloc(1, sizeof *s);
    void *ip = NULL;
    vg_status st = cols && s ? VG_OK : vg_fail(VG_ERR_NOMEM, "out of memory");
    if (!st) st = vg_select_columns(ts, k, p->by, opt ? opt->seed : 0, opt ? opt->threads : 0, cols, NULL);
    if (!st) st = inner_params(p, NULL, NULL, &ip);
    if (!st) {
        s->n_features = F;
        s->n_classes = ts->n_classes;
        s->by = p->by;
        st = vg_part_fit(vg_estimator_find(p->estimator), ip, VG_PART_TRANSFORM_NONE, ts, NULL, 0, cols, k, opt,
                         &s->part);
    }
    vg_free(cols), vg_free(ip);
    if (st) {
        select_free(s);
        return st;
    }
    *out_state = s;
    return VG_OK;
}

static void select_predict(const void *state, const vg_matrix *X, int threads, float *proba)
{
    const select_state *s = state;
    if (vg_part_predict(&s->part, X, threads, proba))
        for (size_t i = 0; i < X->rows * s->n_classes; i++) proba[i] = 1.0f / (float)s->n_classes;  /* see vote.c */
}

static void select_predict_row(const void *state, const float *row, float *proba)
{
    const select_state *s = state;
    if (vg_part_predict_row(&s->part, row, proba))
        for (uint32_t c = 0; c < s->n_classes; c++) proba[c] = 1.0f / (float)s->n_classes;
}

static uint32_t select_n_classes(const void *state) { return ((const select_state *)state)->n_classes; }
static uint32_t select_n_features(const void *state) { return ((const select_state *)state)->n_features; }

static uint32_t select_n_outputs(const void *state)
{
    const select_state *s = state;
    return vg_part_can_explain(&s->part) && s->n_classes <= 256 ? s->n_classes : 0;
}

static vg_status select_explain(const void *state, const float *row, double *contrib)
{
    const select_state *s = state;
    return vg_part_explain(&s->part, row, s->n_features, s->n_classes, contrib);
}

const uint32_t *vg_select_state_columns(const void *state, uint32_t *n)
{
    const select_state *s = state;
    *n = s->part.n_sel;
    return s->part.sel;
}

static vg_status select_save(const void *state, vg_wbuf *w)
{
    const select_state *s = state;
    vg_wbuf_u32(w, SELECT_FORMAT_VERSION);
    vg_wbuf_u32(w, s->n_features);
    vg_wbuf_u32(w, s->n_classes);
    vg_wbuf_u32(w, (uint32_t)s->by);
    return vg_part_save(&s->part, w);
}

static vg_status select_load(vg_rbuf *r, void **out_state)
{
    *out_state = NULL;
    uint32_t version = vg_rbuf_u32(r);
    vg_rbuf_require(r, version == SELECT_FORMAT_VERSION, "select model version");
    uint32_t F = vg_rbuf_u32(r), C = vg_rbuf_u32(r), by = vg_rbuf_u32(r);
    vg_rbuf_require(r, F >= 1 && C >= 2 && C <= 65536 && by <= 1, "select model header");
    vg_status st = vg_rbuf_check(r);
    if (st) return st;
    select_state *s = vg_calloc(1, sizeof *s);
    if (!s) return vg_fail(VG_ERR_NOMEM, "out of memory");
    s->n_features = F;
    s->n_classes = C;
    s->by = (vg_select_by)by;
    if ((st = vg_part_load(r, F, C, 0, &s->part))) {
        select_free(s);
        return st;
    }
    if (!s->part.sel) {
        select_free(s);
        return vg_fail(VG_ERR_FORMAT, "select model: no column list");
    }
    *out_state = s;
    return VG_OK;
}

static void select_describe(const void *state, vg_wbuf *out)
{
    const select_state *s = state;
    vg_wbuf_printf(out, "selected: %u of %u columns by %s:", s->part.n_sel, s->n_features, vg_select_by_str(s->by));
    for (uint32_t j = 0; j < s->part.n_sel; j++) vg_wbuf_printf(out, " %u", s->part.sel[j]);
    vg_wbuf_printf(out, "\nmodel: %s\n", s->part.kind->name);
    vg_part_describe(&s->part, "model ", out);
}

const vg_estimator_kind vg_select_kind = {
    .name = "select",
    .summary = "the K best columns (--select K --select-by importance|mutual_info) then any classifier",
    .encoding = VG_ENCODING_NATIVE,
    .params_size = sizeof(select_params),
    .params_default = select_params_default,
    .params_set = select_params_set,
    .params_check = select_params_check,
    .params_describe = select_params_describe,
    .fit = select_fit,
    .predict = select_predict,
    .predict_row = select_predict_row,
    .n_classes = select_n_classes,
    .n_features = select_n_features,
    .save = select_save,
    .load = select_load,
    .free = select_free,
    .describe = select_describe,
    .n_outputs = select_n_outputs,
    .explain = select_explain,
    .outputs = VG_ESTIMATOR_OUT_PROBA,
    .needs_labels = 1,
    .inputs = VG_ESTIMATOR_IN_DENSE,
};
