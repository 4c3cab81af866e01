/* Linear support vector machine ("linear-svm") over sparse rows: the
 * L2-regularised primal
 *     min_w  ||w||^2 / 2 + sum_i C_i loss(y_i w.x_i)
 * with loss = squared hinge max(0, 1 - m)^2 (loss=squared_hinge, LIBLINEAR
 * -s 1, scikit-learn's LinearSVC default) or hinge max(0, 1 - m)
 * (loss=hinge, LIBLINEAR -s 3), solved by dual coordinate descent
 * (linear_cd.c); multiclass one-vs-rest. The intercept is LIBLINEAR's -B:
 * a constant column of value intercept_scaling, regularised with the rest,
 * as LinearSVC does too, so the weights can be checked against both.
 *
 * Probabilities, honestly: an SVM fits a margin, not a probability. predict
 * writes sigmoid(f) for the decision value f (binary: P(class 1); one-vs-rest:
 * the classes' sigmoids divided by their sum). That is monotone in f, so
 * rankings, ROC-AUC and the default decision (f >= 0 <=> 0.5) are the SVM's
 * own, but the numbers are not calibrated: 0.73 means f = 1 (the margin), not
 * a 73% chance. explain gives the exact terms w_j x_j of f and the intercept.
 *
 * Reads CSR rows (hashed text n-grams joined to the dense features); a dense
 * matrix (the record path of a model without text) is scored by the same
 * coefficients. */
#include "models/linear_cd.h"
#include "vigil/estimator.h"
#include "vigil/parallel.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#define SVM_SAVE_VERSION 1u
#define SVM_MAX_CLASSES 4096u
#define SVM_MAX_COEF 1e250
#define SVM_PREDICT_BLOCK 1024

typedef struct svm_params {
    double C;
    int hinge;                 /* 0 squared_hinge, 1 hinge */
    double tol;
    long max_iter;
    int fit_intercept;
    double intercept_scaling;  /* the constant column's value */
} svm_params;

static void svm_params_default(void *params)
{
    svm_params *p = params;
    /* tol is LIBLINEAR's default eps for these solvers (scikit-learn's 1e-4
     * asks for far more passes than a detector's ranking needs). */
    *p = (svm_params){ .C = 1.0, .hinge = 0, .tol = 0.1, .max_iter = 1000, .fit_intercept = 1,
                       .intercept_scaling = 1.0 };
}

static vg_status svm_params_set(void *params, const char *key, const char *value)
{
    svm_params *p = params;
    vg_status st;
    double d;
    long l;
    if (strcmp(key, "C") == 0 || strcmp(key, "tol") == 0 || strcmp(key, "intercept_scaling") == 0) {
        if ((st = vg_param_double(key, value, 0.0, HUGE_VAL, &d))) return st;
        if (!(d > 0.0)) return vg_fail(VG_ERR_INVALID, "parameter %s: %s is out of range: must be > 0", key, value);
        *(key[0] == 'C' ? &p->C : key[0] == 't' ? &p->tol : &p->intercept_scaling) = d;
    } else if (strcmp(key, "max_iter") == 0) {
        if ((st = vg_param_int(key, value, 1, 1000000000L, &l))) return st;
        p->max_iter = l;
    } else if (strcmp(key, "loss") == 0) {
        if (strcmp(value, "squared_hinge") == 0) p->hinge = 0;
        else if (strcmp(value, "hinge") == 0) p->hinge = 1;
        else return vg_fail(VG_ERR_INVALID, "parameter loss: '%s' is not one of squared_hinge, hinge", value);
    } else if (strcmp(key, "fit_intercept") == 0) {
        return vg_param_bool(key, value, &p->fit_intercept);
    } else {
        return vg_param_unknown("linear-svm", key);
    }
    return VG_OK;
}

static const char *svm_params_check(const void *params)
{
    const svm_params *p = params;
    if (!(p->C > 0) || !isfinite(p->C)) return "C must be a finite number > 0";
    if (!(p->tol > 0) || !isfinite(p->tol)) return "tol must be a finite number > 0";
    if (!(p->intercept_scaling > 0) || !isfinite(p->intercept_scaling)) return "intercept_scaling must be > 0";
    if (p->max_iter < 1) return "max_iter must be >= 1";
    return NULL;
}

static void svm_params_describe(const void *params, vg_wbuf *out)
{
    const svm_params *p = params;
    vg_wbuf_printf(out, "C=%.15g, loss=%s, tol=%.15g, max_iter=%ld, fit_intercept=%s, intercept_scaling=%.15g",
                   p->C, p->hinge ? "hinge" : "squared_hinge", p->tol, p->max_iter,
                   p->fit_intercept ? "true" : "false", p->intercept_scaling);
}

/* ---- state ------------------------------------------------------------ */

typedef struct svm_state {
    uint32_t n_features, n_classes, n_vectors;
    uint32_t hinge;
    double bias;          /* value of the constant column; 0 = no intercept */
    uint32_t iterations, converged;
    double *coef;         /* n_vectors x (n_features + 1) */
} svm_state;

static void svm_free(void *state)
{
    svm_state *s = state;
    if (!s) return;
    vg_free(s->coef);
    vg_free(s);
}

static svm_state *state_new(uint32_t nf, uint32_t nc)
{
    svm_state *s = vg_calloc(1, sizeof *s);
    if (!s) return NULL;
    s->n_features = nf, s->n_classes = nc, s->n_vectors = nc == 2 ? 1 : nc;
    s->coef = vg_calloc((size_t)s->n_vectors * ((size_t)nf + 1), sizeof *s->coef);
    if (!s->coef) {
        vg_free(s);
        return NULL;
    }
    return s;
}

static uint32_t svm_n_classes(const void *state) { return ((const svm_state *)state)->n_classes; }
static uint32_t svm_n_features(const void *state) { return ((const svm_state *)state)->n_features; }
static uint32_t svm_n_outputs(const void *state) { return ((const svm_state *)state)->n_vectors; }

static vg_status svm_fit(const void *params, const vg_train_set *ts, const vg_fit_options *opt, void **out)
{
    const svm_params *p = params;
    *out = NULL;
    const char *why = svm_params_check(p);
    if (why) return vg_fail(VG_ERR_INVALID, "linear-svm: %s", why);
    vg_csr dense_rows = { 0 };
    const vg_csr *X = ts->Xs;
    if (!X) {  /* dense rows given: the same solver over their non-zeros */
        if (!ts->X) return vg_fail(VG_ERR_DATA, "linear-svm: no training rows");
        vg_status st = vg_csr_from_dense(ts->X, &dense_rows);
        if (st) return st;
        X = &dense_rows;
    }
    vg_status st = VG_OK;
    if (!ts->y || X->rows == 0) st = vg_fail(VG_ERR_DATA, "linear-svm: no labelled training rows");
    else if (ts->n_classes < 2 || ts->n_classes > SVM_MAX_CLASSES)
        st = vg_fail(VG_ERR_DATA, "linear-svm: need between 2 and %u classes, got %u", SVM_MAX_CLASSES, ts->n_classes);
    else if (X->cols >= UINT32_MAX) st = vg_fail(VG_ERR_DATA, "linear-svm: too many features (%zu)", X->cols);
    for (size_t i = 0; !st && i < X->rows; i++)
        if (ts->y[i] < 0 || (uint32_t)ts->y[i] >= ts->n_classes ||
            (ts->weight && !(ts->weight[i] >= 0 && isfinite(ts->weight[i]))))
            st = vg_fail(VG_ERR_DATA, "linear-svm: row %zu has a label outside [0, %u) or a bad weight", i,
                         ts->n_classes);
    for (uint64_t k = 0; !st && k < X->nnz; k++)
        if (!isfinite(X->values[k])) st = vg_fail(VG_ERR_DATA, "linear-svm: a feature value is not finite");
    svm_state *s = st ? NULL : state_new((uint32_t)X->cols, ts->n_classes);
    if (!st && !s) st = vg_fail(VG_ERR_NOMEM, "linear-svm: out of memory");
    if (!st) {
        s->hinge = (uint32_t)p->hinge;
        s->bias = p->fit_intercept ? p->intercept_scaling : 0;
        vg_lincd_result res;
        st = vg_lincd_fit_ovr(p->hinge ? VG_LINCD_SVM_L1LOSS : VG_LINCD_SVM_L2LOSS, X, ts->y, ts->n_classes,
                              ts->weight, p->C, s->bias, p->tol, p->max_iter, opt ? opt->seed : 0,
                              opt ? opt->threads : 0, s->coef, &res);
        s->iterations = (uint32_t)VG_MIN(res.iterations, (long)UINT32_MAX);
        s->converged = (uint32_t)res.converged;
        if (!st && !res.converged)
            vg_log(VG_LOG_WARN, "linear-svm: stopped at max_iter=%ld before tol=%g was met", p->max_iter, p->tol);
    }
    vg_csr_free(&dense_rows);
    if (st) {
        svm_free(s);
        return st;
    }
    *out = s;
    return VG_OK;
}

/* ---- prediction ------------------------------------------------------- */

/* Decision values z (n_vectors) into probabilities (n_classes); see the
 * opening comment for what they are. */
static void to_proba(const svm_state *s, const double *z, float *out)
{
    if (s->n_vectors == 1) {
        double p = 1.0 / (1.0 + exp(-z[0]));
        out[0] = (float)(1.0 - p), out[1] = (float)p;
        return;
    }
    double sum = 0;
    for (uint32_t v = 0; v < s->n_vectors; v++) sum += 1.0 / (1.0 + exp(-z[v]));
    for (uint32_t v = 0; v < s->n_vectors; v++) out[v] = (float)(1.0 / (1.0 + exp(-z[v])) / sum);
}

static void svm_predict_row(const void *state, const float *row, float *proba)
{
    const svm_state *s = state;
    double z[SVM_MAX_CLASSES];
    size_t stride = (size_t)s->n_features + 1;
    for (uint32_t v = 0; v < s->n_vectors; v++) {
        const double *w = s->coef + v * stride;
        double acc = w[s->n_features] * s->bias;
        for (uint32_t j = 0; j < s->n_features; j++) acc += (double)row[j] * w[j];
        z[v] = acc;
    }
    to_proba(s, z, proba);
}

typedef struct predict_job {
    const svm_state *s;
    const vg_matrix *X;
    const vg_csr *Xs;
    float *out;
} predict_job;

static void predict_task(void *ctx, size_t task, int worker)
{
    (void)worker;
    predict_job *j = ctx;
    size_t rows = j->X ? j->X->rows : j->Xs->rows, r0 = task * SVM_PREDICT_BLOCK;
    size_t r1 = VG_MIN(rows, r0 + SVM_PREDICT_BLOCK);
    double z[SVM_MAX_CLASSES];
    for (size_t r = r0; r < r1; r++) {
        float *o = j->out + r * j->s->n_classes;
        if (j->X) {
            svm_predict_row(j->s, j->X->data + r * j->X->cols, o);
        } else {
            vg_lincd_row_scores(j->s->coef, j->s->n_vectors, j->s->n_features, j->s->bias, j->Xs, r, z);
            to_proba(j->s, z, o);
        }
    }
}

static void run_predict(predict_job *j, size_t rows, int threads)
{
    size_t tasks = (rows + SVM_PREDICT_BLOCK - 1) / SVM_PREDICT_BLOCK;
    vg_parallel_for(tasks > 1 ? threads : 1, tasks, predict_task, j);
}

static void svm_predict(const void *state, const vg_matrix *X, int threads, float *proba)
{
    predict_job j = { .s = state, .X = X, .out = proba };
    run_predict(&j, X->rows, threads);
}

static void svm_predict_sparse(const void *state, const vg_csr *X, int threads, float *proba)
{
    predict_job j = { .s = state, .Xs = X, .out = proba };
    run_predict(&j, X->rows, threads);
}

/* ---- explanations ----------------------------------------------------- */

static vg_status svm_explain(const void *state, const float *row, double *contrib)
{
    const svm_state *s = state;
    size_t stride = (size_t)s->n_features + 1;
    for (uint32_t v = 0; v < s->n_vectors; v++) {
        const double *w = s->coef + v * stride;
        for (uint32_t j = 0; j < s->n_features; j++) contrib[(size_t)j * s->n_vectors + v] = (double)row[j] * w[j];
        contrib[(size_t)s->n_features * s->n_vectors + v] = w[s->n_features] * s->bias;
    }
    return VG_OK;
}

static vg_status svm_explain_sparse(const void *state, const vg_csr *X, size_t r, double *contrib)
{
    const svm_state *s = state;
    size_t stride = (size_t)s->n_features + 1, n = (size_t)(X->indptr[r + 1] - X->indptr[r]);
    for (uint32_t v = 0; v < s->n_vectors; v++) {
        const double *w = s->coef + v * stride;
        for (size_t e = 0; e < n; e++) {
            uint64_t k = X->indptr[r] + e;
            contrib[e * s->n_vectors + v] = (double)X->values[k] * w[X->indices[k]];
        }
        contrib[n * s->n_vectors + v] = w[s->n_features] * s->bias;
    }
    return VG_OK;
}

/* ---- persistence ------------------------------------------------------ */

static vg_status svm_save(const void *state, vg_wbuf *w)
{
    const svm_state *s = state;
    vg_wbuf_u32(w, SVM_SAVE_VERSION);
    vg_wbuf_u32(w, s->n_features);
    vg_wbuf_u32(w, s->n_classes);
    vg_wbuf_u32(w, s->hinge);
    vg_wbuf_f64(w, s->bias);
    vg_wbuf_u32(w, s->iterations);
    vg_wbuf_u32(w, s->converged);
    vg_lincd_save_coef(s->coef, s->n_vectors, s->n_features, w);
    return w->failed ? vg_fail(VG_ERR_NOMEM, "out of memory saving linear-svm") : VG_OK;
}

static vg_status svm_load(vg_rbuf *r, void **out)
{
    *out = NULL;
    uint32_t version = vg_rbuf_u32(r), nf = vg_rbuf_u32(r), nc = vg_rbuf_u32(r), hinge = vg_rbuf_u32(r);
    double bias = vg_rbuf_f64(r);
    uint32_t iterations = vg_rbuf_u32(r), converged = vg_rbuf_u32(r);
    vg_rbuf_require(r, version == SVM_SAVE_VERSION, "linear-svm state version");
    vg_rbuf_require(r, nc >= 2 && nc <= SVM_MAX_CLASSES, "linear-svm class count");
    vg_rbuf_require(r, nf < UINT32_MAX && nf <= (1u << 30), "linear-svm feature count");
    vg_rbuf_require(r, hinge <= 1 && converged <= 1, "linear-svm flags");
    vg_rbuf_require(r, bias >= 0 && bias <= 1e100, "linear-svm intercept scaling");
    /* Each vector takes at least 12 bytes: bounds the allocation by the data. */
    vg_rbuf_require(r, (uint64_t)(nc == 2 ? 1 : nc) * 12 <= r->len - r->pos, "linear-svm vectors exceed the data");
    vg_rbuf_require_alloc(r, (uint64_t)(nc == 2 ? 1 : nc) * ((uint64_t)nf + 1) * sizeof(double), "linear-svm weights");
    vg_status st = vg_rbuf_check(r);
    if (st) return st;
    svm_state *s = state_new(nf, nc);
    if (!s) return vg_fail(VG_ERR_NOMEM, "linear-svm: out of memory loading %u features", nf);
    s->hinge = hinge, s->bias = bias, s->iterations = iterations, s->converged = converged;
    if ((st = vg_lincd_load_coef(r, s->coef, s->n_vectors, nf, SVM_MAX_COEF))) {
        svm_free(s);
        return st;
    }
    *out = s;
    return VG_OK;
}

static void svm_describe(const void *state, vg_wbuf *out)
{
    const svm_state *s = state;
    size_t nz = 0, stride = (size_t)s->n_features + 1;
    for (uint32_t v = 0; v < s->n_vectors; v++)
        for (uint32_t j = 0; j < s->n_features; j++) nz += s->coef[v * stride + j] != 0;
    vg_wbuf_printf(out, "loss: %s\nvectors: %u (%s)\nnon-zero weights: %zu\npasses: %u\nconverged: %s\n"
                        "probabilities: sigmoid of the decision value (monotone, not calibrated)\n",
                   s->hinge ? "hinge" : "squared hinge", s->n_vectors, s->n_vectors == 1 ? "binary" : "one-vs-rest",
                   nz, s->iterations, s->converged ? "yes" : "no");
}

const vg_estimator_kind vg_linear_svm_kind = {
    .name = "linear-svm",
    .summary = "linear SVM (squared hinge or hinge, L2), dual coordinate descent over sparse rows (LIBLINEAR -s 1/-s 3)",
    .encoding = VG_ENCODING_ONEHOT_SCALED,
    .params_size = sizeof(svm_params),
    .params_default = svm_params_default,
    .params_set = svm_params_set,
    .params_check = svm_params_check,
    .params_describe = svm_params_describe,
    .fit = svm_fit,
    .predict = svm_predict,
    .n_classes = svm_n_classes,
    .save = svm_save,
    .load = svm_load,
    .free = svm_free,
    .describe = svm_describe,
    .n_features = svm_n_features,
    .outputs = VG_ESTIMATOR_OUT_PROBA,
    .needs_labels = 1,
    .inputs = VG_ESTIMATOR_IN_SPARSE,
    .predict_sparse = svm_predict_sparse,
    .predict_row = svm_predict_row,
    .n_outputs = svm_n_outputs,
    .explain = svm_explain,
    .explain_sparse = svm_explain_sparse,
};
