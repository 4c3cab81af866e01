/* "stack": scikit-learn's StackingClassifier (`--model stack:gbdt,svm,mlp`).
 * The parts' out-of-fold class probabilities on the training rows become the
 * inputs of a final logistic regression: with `cv` stratified folds of the
 * training rows (only the rows this fit was given, so inside `vigil cv` the
 * held-out fold never reaches a part or the final model), each part is
 * fitted on the other folds and predicts the held-out one; then each part
 * is refitted on all the rows for prediction. As in scikit-learn, a binary
 * task keeps one column per part (the probability of class 1) and a
 * multiclass task all of them. The final logistic regression reads them
 * standardised (the part encoder), which leaves its ranking unchanged and
 * makes its C mean the same whatever the parts' scales.
 *
 * Explanations (every part able to explain): the final model is linear in
 * its meta columns, logit_k = b_k + sum_j a_kj (m_j - mean_j) with a_kj =
 * w_kj / scale_j (the part encoder), and each meta column m_j is a part's
 * probability of a class, which vg_part_explain splits into per-feature
 * contributions plus a bias in probability units. Substituting gives each
 * feature sum_j a_kj * (its contribution to m_j) and the bias b_k +
 * sum_j a_kj (bias_j - mean_j), in the final model's log-odds (one output
 * for two classes, one per class otherwise), which sum to the row's
 * log-odds exactly: the score the final logistic regression turns into
 * the probability.
 *
 * Seeds: part i in fold f draws from seed + 1000003 i + 7919 (f + 1), the
 * refit from seed + 1000003 i, so a stack is the same for a seed whatever
 * the thread count. */
#include "models/parts.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "vigil/folds.h"

#define STACK_FORMAT_VERSION 1u

typedef struct stack_params {
    vg_parts_spec parts;
    uint32_t cv;
    double C;
} stack_params;

typedef struct stack_state {
    uint32_t n, n_features, n_classes;
    vg_part parts[VG_PARTS_MAX];
    vg_part final;  /* reads the meta columns */
} stack_state;

static void stack_params_default(void *params)
{
    stack_params *p = params;
    memset(p, 0, sizeof *p);
    p->cv = 5;
    p->C = 1.0;
}

static vg_status stack_params_set(void *params, const char *key, const char *value)
{
    stack_params *p = params;
    int known;
    long v;
    vg_status st;
    if (strcmp(key, "estimators") == 0) return vg_parts_set_list(&p->parts, "stack", value);
    if (strcmp(key, "cv") == 0) {
        if ((st = vg_param_int(key, value, 2, 20, &v))) return st;
        p->cv = (uint32_t)v;
        return VG_OK;
    }
    if (strcmp(key, "C") == 0 || strcmp(key, "final.C") == 0)
        return vg_param_double(key, value, 1e-6, 1e6, &p->C);
    if ((st = vg_parts_set_param(&p->parts, "stack", key, value, &known)) || known) return st;
    return vg_param_unknown("stack", key);
}

static const char *stack_params_check(const void *params)
{
    const stack_params *p = params;
    if (p->parts.n == 0) return "name its parts: --model stack:A,B,... (e.g. stack:gbdt,svm,mlp)";
    if (vg_parts_n_anomaly(&p->parts)) return "an anomaly part can join a vote with voting=rank, not a stack";
    if (p->cv < 2 || p->cv > 20) return "cv must be in [2, 20]";
    if (!(p->C > 0)) return "C must be > 0";
    return NULL;
}

static void stack_params_describe(const void *params, vg_wbuf *out)
{
    const stack_params *p = params;
    vg_wbuf_printf(out, "estimators=");
    vg_parts_describe(&p->parts, out);
    vg_wbuf_printf(out, ", cv=%u, C=%g", p->cv, p->C);
}

static void stack_free(void *state)
{
    stack_state *s = state;
    if (!s) return;
    for (uint32_t i = 0; i < s->n; i++) vg_part_free(&s->parts[i]);
    vg_part_free(&s->final);
    vg_free(s);
}

/* Meta columns per part: binary keeps P(class 1), multiclass all classes. */
static uint32_t meta_width(uint32_t C)
{
    return C == 2 ? 1 : C;
}

/* Write a part's probabilities of `rows` rows into meta columns
 * [i * w, (i + 1) * w) of the meta rows listed in at (NULL: 0..rows-1). */
static void put_meta(const float *pr, size_t rows, uint32_t C, uint32_t i, uint32_t width, const size_t *at,
                     vg_matrix *meta)
{
    for (size_t r = 0; r < rows; r++) {
        float *dst = meta->data + (at ? at[r] : r) * meta->cols + (size_t)i * meta_width(C);
        if (C == 2) dst[0] = pr[r * C + 1];
        else memcpy(dst, pr + r * C, C * sizeof *dst);
    }
    (void)width;
}

/* Predict the chosen rows of X with a part (rows copied into a small matrix). */
static vg_status predict_rows(const vg_part *p, const vg_matrix *X, const size_t *rows, size_t n, int threads,
                              float *pr)
{
    vg_matrix sub = { 0 };
    vg_status st = vg_matrix_alloc(&sub, n ? n : 1, X->cols);
    if (st) return st;
    sub.rows = n;
    for (size_t r = 0; r < n; r++) memcpy(sub.data + r * X->cols, X->data + rows[r] * X->cols, X->cols * sizeof(float));
    st = vg_part_predict(p, &sub, threads, pr);
    vg_matrix_free(&sub);
    return st;
}

static vg_status final_params(double C, void **out)
{
    void *lp = vg_calloc(1, vg_logreg_kind.params_size);
    if (!lp) return vg_fail(VG_ERR_NOMEM, "out of memory");
    vg_logreg_kind.params_default(lp);
    char cbuf[64];
    snprintf(cbuf, sizeof cbuf, "%.17g", C);
    vg_status st = vg_logreg_kind.params_set(lp, "C", cbuf);
    if (st) {
        vg_free(lp);
        return st;
    }
    *out = lp;
    return VG_OK;
}

static vg_status stack_fit(const void *params, const vg_train_set *ts, const vg_fit_options *opt, void **out_state)
{
    *out_state = NULL;
    const stack_params *p = params;
    const char *msg = stack_params_check(p);
    if (msg) return vg_fail(VG_ERR_INVALID, "stack: %s", msg);
    if (!ts->X || !ts->y || ts->n_classes < 2) return vg_fail(VG_ERR_INVALID, "stack: needs dense rows and class labels");
    const uint32_t C = ts->n_classes, N = p->parts.n, W = meta_width(C);
    const size_t rows = ts->X->rows;
    const uint64_t seed = opt ? opt->seed : 0;
    stack_state *s = vg_calloc(1, sizeof *s);
    vg_folds folds = { 0 };
    vg_matrix meta = { 0 };
    vg_feature *mf = vg_calloc((size_t)N * W, sizeof *mf);
    float *pr = vg_malloc((rows ? rows : 1) * C * sizeof *pr);
    void *cp = NULL, *lp = NULL;
    size_t *tr = NULL, *te = NULL;
    vg_status st = VG_OK;
    if (!s || !mf || !pr) {
        st = vg_fail(VG_ERR_NOMEM, "out of memory");
        goto done;
    }
    s->n_features = (uint32_t)ts->X->cols;
    s->n_classes = C;
    if ((st = vg_folds_stratified(ts->y, rows, C, p->cv, seed, &folds))) goto done;
    if ((st = vg_matrix_alloc(&meta, rows, (size_t)N * W))) goto done;
    for (uint32_t i = 0; i < N && !st; i++) {
        const vg_estimator_kind *k = vg_estimator_find(p->parts.names[i]);
        if ((st = vg_parts_params(&p->parts, i, &cp))) break;
        vg_fit_options o = opt ? *opt : (vg_fit_options){ 0 };
        for (uint32_t f = 0; f < p->cv && !st; f++) {
            size_t ntr, nte;
            vg_part fold_part;
            if ((st = vg_folds_rows(&folds, f, &tr, &ntr, &te, &nte))) break;
            o.seed = seed + 1000003ull * i + 7919ull * (f + 1);
            if (!(st = vg_part_fit(k, cp, p->parts.transform, ts, tr, ntr, NULL, 0, &o, &fold_part))) {
                st = predict_rows(&fold_part, ts->X, te, nte, o.threads, pr);
                if (!st) put_meta(pr, nte, C, i, W, te, &meta);
                vg_part_free(&fold_part);
            }
            if (st) vg_error_prefix("stack: part %u (%s), fold %u: ", i + 1, p->parts.names[i], f + 1);
            vg_free(tr), vg_free(te);
            tr = te = NULL;
        }
        if (st) break;
        o.seed = seed + 1000003ull * i;
        if ((st = vg_part_fit(k, cp, p->parts.transform, ts, NULL, 0, NULL, 0, &o, &s->parts[i]))) {
            vg_error_prefix("stack: part %u (%s): ", i + 1, p->parts.names[i]);
            break;
        }
        s->n = i + 1;
        vg_free(cp);
        cp = NULL;
    }
    if (st) goto done;
    for (size_t j = 0; j < (size_t)N * W; j++) mf[j] = (vg_feature){ .name = "part", .kind = VG_FEATURE_NUMERIC };
    if ((st = final_params(p->C, &lp))) goto done;
    vg_train_set mts = { .X = &meta, .features = mf, .y = ts->y, .weight = ts->weight, .n_classes = C };
    vg_fit_options o = opt ? *opt : (vg_fit_options){ 0 };
    if ((st = vg_part_fit(&vg_logreg_kind, lp, VG_PART_TRANSFORM_NONE, &mts, NULL, 0, NULL, 0, &o, &s->final)))
        vg_error_prefix("stack: final logistic regression: ");
done:
    vg_free(cp), vg_free(lp), vg_free(mf), vg_free(pr), vg_free(tr), vg_free(te);
    vg_matrix_free(&meta);
    vg_folds_free(&folds);
    if (st) {
        stack_free(s);
        return st;
    }
    *out_state = s;
    return VG_OK;
}

static void stack_predict(const void *state, const vg_matrix *X, int threads, float *proba)
{
    const stack_state *s = state;
    const uint32_t C = s->n_classes, W = meta_width(C);
    vg_matrix meta = { 0 };
    float *pr = vg_malloc((X->rows ? X->rows : 1) * C * sizeof *pr);
    int ok = pr && !vg_matrix_alloc(&meta, X->rows ? X->rows : 1, (size_t)s->n * W);
    meta.rows = X->rows;
    for (uint32_t i = 0; ok && i < s->n; i++) {
        if (vg_part_predict(&s->parts[i], X, threads, pr)) ok = 0;
        else put_meta(pr, X->rows, C, i, W, NULL, &meta);
    }
    if (!ok || vg_part_predict(&s->final, &meta, threads, proba))
        for (size_t k = 0; k < X->rows * C; k++) proba[k] = 1.0f / (float)C;  /* no status here; see vote.c */
    vg_free(pr);
    vg_matrix_free(&meta);
}

static void stack_predict_row(const void *state, const float *row, float *proba)
{
    const stack_state *s = state;
    const uint32_t C = s->n_classes, W = meta_width(C);
    float pr[256], meta[VG_PARTS_MAX * 256];
    vg_matrix one = { .rows = 1, .cols = (size_t)s->n * W, .data = meta };
    int ok = C <= 256;
    for (uint32_t i = 0; ok && i < s->n; i++) {
        if (vg_part_predict_row(&s->parts[i], row, pr)) ok = 0;
        else put_meta(pr, 1, C, i, W, NULL, &one);
    }
    if (!ok || vg_part_predict_row(&s->final, meta, proba))
        for (uint32_t c = 0; c < C; c++) proba[c] = 1.0f / (float)C;
}

static uint32_t stack_n_classes(const void *state)
{
    return ((const stack_state *)state)->n_classes;
}

static uint32_t stack_n_features(const void *state)
{
    return ((const stack_state *)state)->n_features;
}

static uint32_t stack_n_outputs(const void *state)
{
    const stack_state *s = state;
    if (s->n_classes > 256 || !vg_part_can_explain(&s->final)) return 0;
    for (uint32_t i = 0; i < s->n; i++)
        if (!vg_part_can_explain(&s->parts[i])) return 0;
    return s->final.kind->n_outputs(s->final.state);
}

static vg_status stack_explain(const void *state, const float *row, double *contrib)
{
    const stack_state *s = state;
    const uint32_t C = s->n_classes, W = meta_width(C), M = s->n * W, F = s->n_features, V = stack_n_outputs(s);
    if (!V) return vg_fail(VG_ERR_UNSUPPORTED, "stack: a part cannot explain");
    double *pc = vg_malloc((size_t)s->n * (F + 1) * C * sizeof *pc);  /* part i: (F + 1) x C */
    double *w = vg_malloc(((size_t)M + 1) * V * sizeof *w);
    float *ones = vg_malloc(M * sizeof *ones);
    vg_status st = VG_OK;
    if (!pc || !w || !ones) {
        st = vg_fail(VG_ERR_NOMEM, "out of memory");
        goto done;
    }
    for (uint32_t i = 0; i < s->n && !st; i++) st = vg_part_explain(&s->parts[i], row, F, C, pc + (size_t)i * (F + 1) * C);
    if (st) goto done;
    /* The final weights: a logistic regression explains x_j as w_j * x_j,
     * so a row of ones gives w (and the intercept as the bias). */
    for (uint32_t j = 0; j < M; j++) ones[j] = 1.0f;
    if ((st = s->final.kind->explain(s->final.state, ones, w))) goto done;
    memset(contrib, 0, ((size_t)F + 1) * V * sizeof *contrib);
    for (uint32_t k = 0; k < V; k++) {
        contrib[(size_t)F * V + k] = w[(size_t)M * V + k];
        for (uint32_t j = 0; j < M; j++) {
            uint32_t c = C == 2 ? 1 : j % W;  /* the class meta column j holds */
            double scale = s->final.encode ? s->final.scale[j] : 1.0, mean = s->final.encode ? s->final.mean[j] : 0.0;
            double a = w[(size_t)j * V + k] / scale;
            const double *p = pc + (size_t)(j / W) * (F + 1) * C;
            for (uint32_t f = 0; f < F; f++) contrib[(size_t)f * V + k] += a * p[(size_t)f * C + c];
            contrib[(size_t)F * V + k] += a * (p[(size_t)F * C + c] - mean);
        }
    }
done:
    vg_free(pc), vg_free(w), vg_free(ones);
    return st;
}

static vg_status stack_save(const void *state, vg_wbuf *w)
{
    const stack_state *s = state;
    vg_wbuf_u32(w, STACK_FORMAT_VERSION);
    vg_wbuf_u32(w, s->n_features);
    vg_wbuf_u32(w, s->n_classes);
    vg_wbuf_u32(w, s->n);
    vg_status st = VG_OK;
    for (uint32_t i = 0; i < s->n && !st; i++) st = vg_part_save(&s->parts[i], w);
    if (!st) st = vg_part_save(&s->final, w);
    return st;
}

static vg_status stack_load(vg_rbuf *r, void **out_state)
{
    *out_state = NULL;
    stack_state *s = vg_calloc(1, sizeof *s);
    if (!s) return vg_fail(VG_ERR_NOMEM, "out of memory");
    uint32_t version = vg_rbuf_u32(r);
    vg_rbuf_require(r, version == STACK_FORMAT_VERSION, "stack model version");
    s->n_features = vg_rbuf_u32(r);
    s->n_classes = vg_rbuf_u32(r);
    uint32_t n = vg_rbuf_u32(r);
    vg_rbuf_require(r, s->n_features >= 1 && s->n_classes >= 2 && s->n_classes <= 256 && n >= 1 && n <= VG_PARTS_MAX,
                    "stack model header");
    vg_status st = vg_rbuf_check(r);
    for (uint32_t i = 0; !st && i < n; i++) {
        if ((st = vg_part_load(r, s->n_features, s->n_classes, 0, &s->parts[i]))) break;
        s->n = i + 1;
    }
    if (!st) st = vg_part_load(r, n * meta_width(s->n_classes), s->n_classes, 0, &s->final);
    if (!st && s->final.kind != &vg_logreg_kind)
        st = vg_fail(VG_ERR_FORMAT, "stack model: the final model is not a logistic regression");
    if (st) {
        stack_free(s);
        return st;
    }
    *out_state = s;
    return VG_OK;
}

static void stack_describe(const void *state, vg_wbuf *out)
{
    const stack_state *s = state;
    for (uint32_t i = 0; i < s->n; i++) {
        char prefix[32];
        snprintf(prefix, sizeof prefix, "part %u ", i + 1);
        vg_wbuf_printf(out, "part %u: %s\n", i + 1, s->parts[i].kind->name);
        vg_part_describe(&s->parts[i], prefix, out);
    }
    vg_wbuf_printf(out, "final: logreg over %u out-of-fold columns\n", s->n * meta_width(s->n_classes));
}

const vg_estimator_kind vg_stack_kind = {
    .name = "stack",
    .summary = "stack:A,B,... out-of-fold probabilities of the parts into a final logistic regression",
    .encoding = VG_ENCODING_NATIVE,
    .params_size = sizeof(stack_params),
    .params_default = stack_params_default,
    .params_set = stack_params_set,
    .params_check = stack_params_check,
    .params_describe = stack_params_describe,
    .fit = stack_fit,
    .predict = stack_predict,
    .predict_row = stack_predict_row,
    .n_classes = stack_n_classes,
    .n_features = stack_n_features,
    .save = stack_save,
    .load = stack_load,
    .free = stack_free,
    .describe = stack_describe,
    .n_outputs = stack_n_outputs,
    .explain = stack_explain,
    .outputs = VG_ESTIMATOR_OUT_PROBA,
    .needs_labels = 1,
    .inputs = VG_ESTIMATOR_IN_DENSE,
};
