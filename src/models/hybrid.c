/* The hybrid ("hybrid"; `vigil train --model F --param stack_anomaly=A`):
 * an anomaly family A fitted on the training rows without their labels,
 * whose score becomes one more column for the supervised family F. One
 * wrapper for every pair, so no family knows about stacking.
 *
 * Why: a supervised model learns the attacks it was shown; an anomaly score
 * says how unlike the bulk of the traffic a row is, which carries over to
 * attacks of a kind the labels lack. Giving F that score as a feature lets
 * it learn how far to trust it next to the raw fields.
 *
 * The rows reach both families in F's encoding (the pipeline is fitted once,
 * for F). When A wants scaled rows (ONEHOT_SCALED: kmeans, lof, autoencoder)
 * and F gives native ones (category codes, raw numbers), every column is
 * standardised for A with the training rows' mean and deviation, codes
 * included; A's distances then weigh every column alike.
 *
 * The anomaly scores F learns from are A's scores of the same rows A was
 * fitted on (as scikit-learn's StackingClassifier would with cv="prefit").
 * For isolation forests on more rows than a tree samples this is close to
 * the score of a new row; for lof and kmeans a training row is its own
 * neighbour, so its score is a little lower than a new row's.
 *
 * Explanations: F's explanation of the widened row gives the anomaly column
 * its credit; that credit is shared over the fields by A's own explanation
 * of the row (by the magnitude of each field's part), so the result keeps
 * the contract (one value per field plus the bias, summing to F's raw
 * score). `describe` reports the anomaly column's share of F's importance.
 *
 * The score column itself is standardised with the training rows' scores:
 * F's other columns are scaled when F wants that (logreg, svm, mlp), and a
 * score in [0.3, 0.8] would otherwise need a weight its L2 penalty forbids.
 *
 * State section: u32 version (1), str F, str A, u32 n_features, u8 scaled,
 * [f32 mean[n], f32 inv_std[n]], f32 score_mean, f32 score_inv_std, u64 bytes
 * + A's state, u64 bytes + F's state (F reads n_features + 1 columns). */
#include "vigil/estimator.h"

#include <math.h>
#include <stdalign.h>
#include <stddef.h>
#include <string.h>

#define HYBRID_FORMAT_VERSION 1u
/* Room for any family's parameters, the ensembles' and --select's (about 6.5 KB) too. */
#define HYBRID_PARAMS_MAX 8192u
#define PREFIX "stack_anomaly."

typedef struct hybrid_params {
    const vg_estimator_kind *base, *anomaly;
    int anomaly_set;  /* a stack_anomaly.KEY was applied: the family may no longer change */
    alignas(max_align_t) unsigned char base_p[HYBRID_PARAMS_MAX];
    alignas(max_align_t) unsigned char anomaly_p[HYBRID_PARAMS_MAX];
} hybrid_params;

typedef struct hybrid {
    const vg_estimator_kind *base, *anomaly;
    uint32_t n_features;
    float *mean, *inv_std;  /* n_features each, or NULL: A reads the rows as they are */
    float score_mean, score_inv_std;  /* the column F reads is (score - mean) x inv_std */
    void *base_state, *anomaly_state;
} hybrid;

static int is_anomaly(const vg_estimator_kind *k)
{
    return k && !k->needs_labels && (k->outputs & VG_ESTIMATOR_OUT_SCORE);
}

/* Families that can take part: dense single rows. */
static int plain_rows(const vg_estimator_kind *k)
{
    return (k->inputs & VG_ESTIMATOR_IN_DENSE) && !(k->inputs & VG_ESTIMATOR_IN_WINDOW) && k->predict &&
           k->params_size <= HYBRID_PARAMS_MAX;
}

static void hybrid_params_default(void *params)
{
    hybrid_params *p = params;
    memset(p, 0, sizeof *p);
    p->anomaly = &vg_iforest_kind;
    p->anomaly->params_default(p->anomaly_p);
}

static vg_status hybrid_params_set(void *params, const char *key, const char *value)
{
    hybrid_params *p = params;
    if (strcmp(key, "model") == 0) {
        const vg_estimator_kind *k = vg_estimator_find(value);
        if (!k || !k->needs_labels || !plain_rows(k) || k == &vg_hybrid_kind)
            return vg_fail(VG_ERR_INVALID, "parameter stack_anomaly: model '%s' is not a supervised family over "
                           "single dense rows (logreg, tree, forest, gbdt, mlp, knn, svm, ...)", value);
        p->base = k;
        k->params_default(p->base_p);
        return VG_OK;
    }
    if (strcmp(key, "stack_anomaly") == 0) {
        const vg_estimator_kind *k = vg_estimator_find(value);
        if (!is_anomaly(k) || !plain_rows(k))
            return vg_fail(VG_ERR_INVALID, "parameter stack_anomaly: '%s' is not an anomaly family (iforest, "
                           "kmeans, lof, autoencoder)", value);
        if (k == p->anomaly) return VG_OK;
        if (p->anomaly_set)
            return vg_fail(VG_ERR_INVALID, "parameter stack_anomaly: give stack_anomaly=%s before its "
                           PREFIX "KEY parameters", value);
        p->anomaly = k;
        k->params_default(p->anomaly_p);
        return VG_OK;
    }
    if (strncmp(key, PREFIX, strlen(PREFIX)) == 0) {
        const char *sub = key + strlen(PREFIX);
        if (strcmp(sub, "contamination") == 0)
            return vg_fail(VG_ERR_INVALID, "parameter %s: the anomaly score is a feature here, it has no threshold",
                           key);
        vg_status st = p->anomaly->params_set(p->anomaly_p, sub, value);
        if (st) vg_error_prefix("stack_anomaly=%s: ", p->anomaly->name);
        p->anomaly_set = 1;
        return st;
    }
    if (!p->base)
        return vg_fail(VG_ERR_INVALID, "parameter %s: the hybrid needs its supervised family first (model=NAME)", key);
    return p->base->params_set(p->base_p, key, value);
}

static const char *hybrid_params_check(const void *params)
{
    const hybrid_params *p = params;
    if (!p->base) return "the hybrid needs a supervised family: --model NAME --param stack_anomaly=FAMILY";
    const char *msg = p->base->params_check(p->base_p);
    return msg ? msg : p->anomaly->params_check(p->anomaly_p);
}

static void hybrid_params_describe(const void *params, vg_wbuf *out)
{
    const hybrid_params *p = params;
    vg_wbuf_printf(out, "model=%s, stack_anomaly=%s", p->base ? p->base->name : "?", p->anomaly->name);
    if (p->base && p->base->params_describe) {
        vg_wbuf_printf(out, ", ");
        p->base->params_describe(p->base_p, out);
    }
    if (!p->anomaly->params_describe) return;
    /* The anomaly family's own "k=v, k=v" with each key prefixed. */
    vg_wbuf a;
    vg_wbuf_init(&a);
    p->anomaly->params_describe(p->anomaly_p, &a);
    vg_wbuf_u8(&a, 0);
    if (!a.failed) {
        const char *s = (const char *)a.data;
        while (*s) {
            const char *end = strstr(s, ", ");
            size_t len = end ? (size_t)(end - s) : strlen(s);
            vg_wbuf_printf(out, ", " PREFIX "%.*s", (int)len, s);
            s += len + (end ? 2 : 0);
        }
    }
    vg_wbuf_free(&a);
}

static vg_encoding hybrid_params_encoding(const void *params)
{
    const hybrid_params *p = params;
    return p->base ? p->base->encoding : VG_ENCODING_NATIVE;
}

static void hybrid_free(void *state)
{
    hybrid *h = state;
    if (!h) return;
    if (h->base_state) h->base->free(h->base_state);
    if (h->anomaly_state) h->anomaly->free(h->anomaly_state);
    vg_free(h->mean);
    vg_free(h->inv_std);
    vg_free(h);
}

/* A's scores of X's rows (standardised first when A wants that) into score. */
static vg_status anomaly_scores(const hybrid *h, const vg_matrix *X, int threads, float *score)
{
    if (!h->mean) {
        h->anomaly->predict(h->anomaly_state, X, threads, score);
        return VG_OK;
    }
    vg_matrix Z;
    if (vg_matrix_alloc(&Z, X->rows, X->cols)) return vg_fail(VG_ERR_NOMEM, "stack_anomaly: out of memory");
    for (size_t r = 0; r < X->rows; r++)
        for (size_t c = 0; c < X->cols; c++)
            Z.data[r * X->cols + c] = (X->data[r * X->cols + c] - h->mean[c]) * h->inv_std[c];
    h->anomaly->predict(h->anomaly_state, &Z, threads, score);
    vg_matrix_free(&Z);
    return VG_OK;
}

/* [X | standardised score]: rows x (cols + 1). */
static vg_status widen(const hybrid *h, const vg_matrix *X, const float *score, vg_matrix *W)
{
    if (vg_matrix_alloc(W, X->rows, X->cols + 1)) return vg_fail(VG_ERR_NOMEM, "stack_anomaly: out of memory");
    for (size_t r = 0; r < X->rows; r++) {
        memcpy(W->data + r * W->cols, X->data + r * X->cols, X->cols * sizeof *W->data);
        W->data[r * W->cols + X->cols] = (score[r] - h->score_mean) * h->score_inv_std;
    }
    return VG_OK;
}

static vg_status hybrid_fit(const void *params, const vg_train_set *ts, const vg_fit_options *opt, void **out_state)
{
    const hybrid_params *p = params;
    *out_state = NULL;
    const vg_matrix *X = ts->X;
    if (!X) return vg_fail(VG_ERR_INVALID, "stack_anomaly: the hybrid reads dense rows (no --text columns)");
    if (ts->window) return vg_fail(VG_ERR_INVALID, "stack_anomaly: the hybrid reads single rows, not windows");
    if (ts->n_classes == 1 && !(p->base->outputs & VG_ESTIMATOR_OUT_VALUE))
        return vg_fail(VG_ERR_INVALID, "--task regression: model '%s' does not do regression", p->base->name);
    size_t n = X->rows, F = X->cols;
    hybrid *h = vg_calloc(1, sizeof *h);
    float *score = vg_malloc((n ? n : 1) * sizeof *score);
    vg_feature *feat = vg_malloc((F + 1) * sizeof *feat);
    vg_matrix Z = { 0 }, W = { 0 };
    vg_status st = h && score && feat ? VG_OK : vg_fail(VG_ERR_NOMEM, "stack_anomaly: out of memory");
    if (st) goto done;
    h->base = p->base, h->anomaly = p->anomaly, h->n_features = (uint32_t)F;
    memcpy(feat, ts->features, F * sizeof *feat);
    const vg_matrix *A = X;
    if (p->anomaly->encoding == VG_ENCODING_ONEHOT_SCALED && p->base->encoding == VG_ENCODING_NATIVE) {
        h->mean = vg_malloc((F ? F : 1) * sizeof *h->mean);
        h->inv_std = vg_malloc((F ? F : 1) * sizeof *h->inv_std);
        if (!h->mean || !h->inv_std || vg_matrix_alloc(&Z, n, F)) {
            st = vg_fail(VG_ERR_NOMEM, "stack_anomaly: out of memory");
            goto done;
        }
        for (size_t c = 0; c < F; c++) {
            double s = 0, s2 = 0;
            size_t k = 0;
            for (size_t r = 0; r < n; r++) {
                double v = X->data[r * F + c];
                if (isnan(v)) continue;
                s += v, s2 += v * v, k++;
            }
            double mu = k ? s / (double)k : 0, var = k ? s2 / (double)k - mu * mu : 0;
            h->mean[c] = (float)mu;
            h->inv_std[c] = var > 1e-12 ? (float)(1.0 / sqrt(var)) : 1.0f;
            feat[c] = (vg_feature){ ts->features[c].name, VG_FEATURE_NUMERIC, 0 };
        }
        for (size_t r = 0; r < n; r++)
            for (size_t c = 0; c < F; c++) {
                float v = (X->data[r * F + c] - h->mean[c]) * h->inv_std[c];
                Z.data[r * F + c] = v == v ? v : 0.0f;   /* a missing value sits at the mean */
            }
        A = &Z;
    }
    vg_train_set ta = { .X = A, .features = feat, .n_classes = 1 };
    vg_fit_options oa = *opt;
    oa.seed = vg_hash(&opt->seed, sizeof opt->seed, 0x6879627269640001ull);
    if ((st = p->anomaly->fit(p->anomaly_p, &ta, &oa, &h->anomaly_state))) {
        vg_error_prefix("stack_anomaly=%s: ", p->anomaly->name);
        goto done;
    }
    p->anomaly->predict(h->anomaly_state, A, opt->threads, score);
    double s = 0, s2 = 0;
    for (size_t r = 0; r < n; r++) s += score[r], s2 += (double)score[r] * score[r];
    double mu = n ? s / (double)n : 0, var = n ? s2 / (double)n - mu * mu : 0;
    h->score_mean = (float)mu;
    h->score_inv_std = var > 1e-12 ? (float)(1.0 / sqrt(var)) : 1.0f;
    memcpy(feat, ts->features, F * sizeof *feat);
    feat[F] = (vg_feature){ "anomaly_score", VG_FEATURE_NUMERIC, 0 };
    if ((st = widen(h, X, score, &W))) goto done;
    vg_train_set tb = *ts;
    tb.X = &W;
    tb.features = feat;
    st = p->base->fit(p->base_p, &tb, opt, &h->base_state);
done:
    vg_matrix_free(&Z), vg_matrix_free(&W);
    vg_free(score), vg_free(feat);
    if (st) hybrid_free(h);
    else *out_state = h;
    return st;
}

static uint32_t hybrid_n_classes(const void *state)
{
    const hybrid *h = state;
    return h->base->n_classes(h->base_state);
}

static uint32_t hybrid_n_features(const void *state)
{
    return ((const hybrid *)state)->n_features;
}

static void hybrid_predict(const void *state, const vg_matrix *X, int threads, float *out)
{
    const hybrid *h = state;
    float *score = vg_malloc((X->rows ? X->rows : 1) * sizeof *score);
    vg_matrix W = { 0 };
    /* predict cannot fail in the contract: without memory the rows get NaN. */
    if (!score || anomaly_scores(h, X, threads, score) || widen(h, X, score, &W)) {
        size_t k = h->base->n_classes(h->base_state);
        for (size_t i = 0; i < X->rows * k; i++) out[i] = NAN;
    } else {
        h->base->predict(h->base_state, &W, threads, out);
    }
    vg_free(score);
    vg_matrix_free(&W);
}

static uint32_t hybrid_n_outputs(const void *state)
{
    const hybrid *h = state;
    return h->base->explain && h->base->n_outputs ? h->base->n_outputs(h->base_state) : 0;
}

static vg_status hybrid_explain(const void *state, const float *row, double *contrib)
{
    const hybrid *h = state;
    if (!h->base->explain) return vg_fail(VG_ERR_UNSUPPORTED, "model '%s' cannot explain", h->base->name);
    uint32_t F = h->n_features, K = h->base->n_outputs(h->base_state);
    float *wide = vg_malloc((F + 1) * sizeof *wide);
    double *bc = vg_malloc(((size_t)F + 2) * K * sizeof *bc), *ac = vg_calloc((size_t)F + 1, sizeof *ac);
    vg_status st = wide && bc && ac ? VG_OK : vg_fail(VG_ERR_NOMEM, "out of memory");
    vg_matrix one = { 1, F, (float *)row };
    if (!st) st = anomaly_scores(h, &one, 1, &wide[F]);
    if (!st) {
        wide[F] = (wide[F] - h->score_mean) * h->score_inv_std;
        memcpy(wide, row, F * sizeof *wide);
        st = h->base->explain(h->base_state, wide, bc);
    }
    /* A's per-field parts, on the row as A read it. */
    int shared = 0;
    double total = 0;
    if (!st && h->anomaly->explain) {
        const float *arow = row;
        float *z = NULL;
        if (h->mean && (z = vg_malloc((F ? F : 1) * sizeof *z))) {
            for (uint32_t c = 0; c < F; c++) {
                float v = (row[c] - h->mean[c]) * h->inv_std[c];
                z[c] = v == v ? v : 0.0f;
            }
            arow = z;
        }
        if ((!h->mean || z) && h->anomaly->explain(h->anomaly_state, arow, ac) == VG_OK) {
            for (uint32_t c = 0; c < F; c++) total += fabs(ac[c]);
            shared = total > 0 && isfinite(total);
        }
        vg_free(z);
    }
    for (uint32_t o = 0; !st && o < K; o++) {
        double a = bc[(size_t)F * K + o];
        for (uint32_t c = 0; c < F; c++)
            contrib[(size_t)c * K + o] = bc[(size_t)c * K + o] + (shared ? a * fabs(ac[c]) / total : 0.0);
        contrib[(size_t)F * K + o] = bc[((size_t)F + 1) * K + o] + (shared ? 0.0 : a);
    }
    vg_free(wide), vg_free(bc), vg_free(ac);
    return st;
}

static void hybrid_importance(const void *state, int kind, double *out)
{
    const hybrid *h = state;
    double *all = vg_calloc((size_t)h->n_features + 1, sizeof *all);
    if (all && h->base->importance) h->base->importance(h->base_state, kind, all);
    for (uint32_t c = 0; c < h->n_features; c++) out[c] = all ? all[c] : 0;
    vg_free(all);
}

static void sub_state(vg_wbuf *w, const vg_estimator_kind *k, const void *state, vg_status *st)
{
    vg_wbuf s;
    vg_wbuf_init(&s);
    if (!*st) *st = k->save(state, &s);
    vg_wbuf_u64(w, s.len);
    vg_wbuf_bytes(w, s.data, s.len);
    if (s.failed) w->failed = 1;
    vg_wbuf_free(&s);
}

static vg_status hybrid_save(const void *state, vg_wbuf *w)
{
    const hybrid *h = state;
    vg_wbuf_u32(w, HYBRID_FORMAT_VERSION);
    vg_wbuf_str(w, h->base->name);
    vg_wbuf_str(w, h->anomaly->name);
    vg_wbuf_u32(w, h->n_features);
    vg_wbuf_u8(w, h->mean != NULL);
    if (h->mean) {
        vg_wbuf_f32s(w, h->mean, h->n_features);
        vg_wbuf_f32s(w, h->inv_std, h->n_features);
    }
    vg_wbuf_f32(w, h->score_mean);
    vg_wbuf_f32(w, h->score_inv_std);
    vg_status st = VG_OK;
    sub_state(w, h->anomaly, h->anomaly_state, &st);
    sub_state(w, h->base, h->base_state, &st);
    if (!st && w->failed) st = vg_fail(VG_ERR_NOMEM, "out of memory");
    return st;
}

#define BAD(...) vg_fail(VG_ERR_FORMAT, "hybrid: " __VA_ARGS__)

/* One family's state from the next u64-prefixed slice of r, read whole. */
static vg_status load_sub(vg_rbuf *r, const vg_estimator_kind *k, void **out)
{
    uint64_t len = vg_rbuf_u64(r);
    vg_status st = vg_rbuf_check(r);
    if (st) return st;
    if (len > r->len - r->pos) return BAD("the %s state claims %llu bytes, %zu remain", k->name,
                                          (unsigned long long)len, r->len - r->pos);
    vg_rbuf s;
    vg_rbuf_init(&s, r->data + r->pos, (size_t)len, r->what);
    r->pos += (size_t)len;
    if ((st = k->load(&s, out))) return st;
    if (s.pos != s.len) return BAD("%zu bytes after the %s state", s.len - s.pos, k->name);
    return VG_OK;
}

static vg_status hybrid_load(vg_rbuf *r, void **out_state)
{
    *out_state = NULL;
    uint32_t version = vg_rbuf_u32(r);
    char *bname = vg_rbuf_str(r), *aname = vg_rbuf_str(r);
    uint32_t F = vg_rbuf_u32(r);
    uint8_t scaled = vg_rbuf_u8(r);
    vg_status st = vg_rbuf_check(r);
    hybrid *h = st ? NULL : vg_calloc(1, sizeof *h);
    if (!st && !h) st = vg_fail(VG_ERR_NOMEM, "out of memory");
    if (!st && version != HYBRID_FORMAT_VERSION)
        st = BAD("version %u is not supported (this build reads %u)", version, HYBRID_FORMAT_VERSION);
    if (!st) {
        h->base = vg_estimator_find(bname);
        h->anomaly = vg_estimator_find(aname);
        if (!h->base || !h->base->needs_labels || !plain_rows(h->base) || h->base == &vg_hybrid_kind ||
            !is_anomaly(h->anomaly) || !plain_rows(h->anomaly))
            st = BAD("'%s' over '%s' is not a supervised family over an anomaly family", bname ? bname : "?",
                     aname ? aname : "?");
    }
    if (!st && (F < 1 || F > (1u << 24) || scaled > 1 || (scaled && (uint64_t)F * 8 > r->len - r->pos)))
        st = BAD("%u features (scaled %u) do not fit the section", F, scaled);
    if (!st) {
        h->n_features = F;
        if (scaled) {
            h->mean = vg_rbuf_f32s(r, F);
            h->inv_std = vg_rbuf_f32s(r, F);
            st = vg_rbuf_check(r);
            for (uint32_t c = 0; !st && c < F; c++)
                if (!isfinite(h->mean[c]) || !isfinite(h->inv_std[c]) || !(h->inv_std[c] > 0))
                    st = BAD("column %u's scale is not a positive finite number", c);
        }
    }
    if (!st) {
        h->score_mean = vg_rbuf_f32(r);
        h->score_inv_std = vg_rbuf_f32(r);
        st = vg_rbuf_check(r);
        if (!st && (!isfinite(h->score_mean) || !isfinite(h->score_inv_std) || !(h->score_inv_std > 0)))
            st = BAD("the score's scale is not a positive finite number");
    }
    if (!st) st = load_sub(r, h->anomaly, &h->anomaly_state);
    if (!st) st = load_sub(r, h->base, &h->base_state);
    if (!st && h->anomaly->n_classes(h->anomaly_state) != 1) st = BAD("the anomaly state gives more than one score");
    if (!st && h->anomaly->n_features && h->anomaly->n_features(h->anomaly_state) != F)
        st = BAD("the anomaly state reads %u columns, not %u", h->anomaly->n_features(h->anomaly_state), F);
    if (!st && h->base->n_features && h->base->n_features(h->base_state) != F + 1)
        st = BAD("the %s state reads %u columns, not %u + the anomaly score", h->base->name,
                 h->base->n_features(h->base_state), F);
    if (!st && r->pos != r->len) st = BAD("%zu bytes after the states", r->len - r->pos);
    vg_free(bname), vg_free(aname);
    if (st) hybrid_free(h);
    else *out_state = h;
    return st;
}

static void sub_describe(vg_wbuf *out, const char *title, const vg_estimator_kind *k, const void *state)
{
    vg_wbuf_printf(out, "%s: %s\n", title, k->name);
    if (!k->describe) return;
    vg_wbuf d;
    vg_wbuf_init(&d);
    k->describe(state, &d);
    size_t start = 0;
    for (size_t i = 0; i < d.len; i++)
        if (d.data[i] == '\n') {
            vg_wbuf_printf(out, "  %.*s\n", (int)(i - start), (const char *)d.data + start);
            start = i + 1;
        }
    vg_wbuf_free(&d);
}

static void hybrid_describe(const void *state, vg_wbuf *out)
{
    const hybrid *h = state;
    sub_describe(out, "supervised", h->base, h->base_state);
    sub_describe(out, "anomaly score from", h->anomaly, h->anomaly_state);
    if (h->mean) vg_wbuf_printf(out, "anomaly rows: standardised per column for %s\n", h->anomaly->name);
    if (h->base->importance) {
        double *imp = vg_calloc((size_t)h->n_features + 1, sizeof *imp), sum = 0;
        if (!imp) return;
        h->base->importance(h->base_state, 0, imp);
        for (uint32_t c = 0; c <= h->n_features; c++) sum += imp[c];
        if (sum > 0)
            vg_wbuf_printf(out, "anomaly_score feature: %.1f%% of %s's gain\n", 100.0 * imp[h->n_features] / sum,
                           h->base->name);
        vg_free(imp);
    }
}

const vg_estimator_kind vg_hybrid_kind = {
    .name = "hybrid",
    .summary = "a supervised family over its fields plus an anomaly family's score (--param stack_anomaly=A)",
    .encoding = VG_ENCODING_NATIVE,
    .params_size = sizeof(hybrid_params),
    .params_default = hybrid_params_default,
    .params_set = hybrid_params_set,
    .params_check = hybrid_params_check,
    .params_describe = hybrid_params_describe,
    .fit = hybrid_fit,
    .predict = hybrid_predict,
    .n_classes = hybrid_n_classes,
    .save = hybrid_save,
    .load = hybrid_load,
    .free = hybrid_free,
    .describe = hybrid_describe,
    .n_features = hybrid_n_features,
    .outputs = VG_ESTIMATOR_OUT_PROBA | VG_ESTIMATOR_OUT_VALUE,
    .needs_labels = 1,
    .inputs = VG_ESTIMATOR_IN_DENSE,
    .n_outputs = hybrid_n_outputs,
    .explain = hybrid_explain,
    .importance = hybrid_importance,
    .params_encoding = hybrid_params_encoding,
};
