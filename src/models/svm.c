/* Support vector classification ("svm"): C-SVC with rbf, linear, poly or
 * sigmoid kernels, one-vs-one for more than two classes, and optional Platt
 * probabilities, with scikit-learn's parameter names (SVC).
 *
 * Each pair of classes (a, b), a < b, is one dual problem solved by SMO
 * (svm_smo.c) over the rows of the two classes, with y = +1 for class b, so
 * its decision value f_ab(x) = sum_s coef_s K(sv_s, x) - rho is positive
 * towards b; for two classes that is the positive class, and f is the
 * decision value LIBSVM reports when b is its first label. A row's weight
 * (class_weight folded in) multiplies C for that row. gamma='scale' is
 * 1 / (n_features * Var(X)) over every entry of the encoded training matrix
 * (one-hot and standardised), 'auto' is 1 / n_features.
 *
 * Probabilities. predict must give class probabilities, and the decision
 * module labels a row with them, so they must order rows and pick classes the
 * way the SVM's own decision does:
 *   - probability=false, two classes: P(b) = 1 / (1 + exp(-f)), a logistic of
 *     the decision value with unit slope. It is not calibrated (its scale is
 *     the margin's), but it is monotone in f and crosses 1/2 at f = 0, so the
 *     0.5 threshold is the SVM's sign rule and ROC curves are those of f.
 *   - probability=false, more classes: softmax_k(votes_k + q_k), where
 *     votes_k counts the pairs won (the one-vs-one rule) and q is the pairwise
 *     coupling of the logistic of each f_ab (sums to 1). It sums to 1, the
 *     class with most votes has the largest value, and q breaks ties between
 *     classes with equal votes by margin instead of by index. The softmax
 *     (not votes / pairs) because the decision rule calls a row normal when
 *     P(normal) >= 1/2: a class that wins all its pairs over a consistent
 *     ranking gets at least 1 - 1/e = 0.63 this way, whereas votes over
 *     n_pairs + 1 never reach 1/2 for 4 or more classes (every row was an
 *     alert on NSL-KDD's five; found by bench/zoo.py).
 *   - probability=true: Platt scaling as LIBSVM's -b 1. For each pair,
 *     decision values from an internal 5-fold cross-validation (seeded folds)
 *     are fitted by P(b | f) = 1 / (1 + exp(A f + B)) with the Newton method of
 *     Lin, Lin and Weng (2007); classes are combined by the pairwise coupling
 *     of Wu, Lin and Weng (2004, their second method). The probabilities
 *     are then calibrated but, as in LIBSVM and scikit-learn, their argmax
 *     may differ from the vote in rare rows.
 *
 * Explanations: with the linear kernel, f_ab(x) = w_ab . x - rho exactly, and
 * each feature's term w_j x_j is given (two classes: f itself; more: per class
 * k, the sum of +-f over its pairs, positive when the pairs lean to k). A
 * non-linear kernel has no such additive form, so its state declares no
 * explanation outputs and `predict --explain` says so. */
#include "vigil/estimator.h"
#include "vigil/parallel.h"
#include "vigil/rng.h"
#include "models/svm.h"
#include "models/svm_kernel.h"
#include "models/svm_smo.h"

#include <float.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#define SVM_SAVE_VERSION 1u
#define SVM_MAX_CLASSES 4096u      /* one-vs-one keeps k(k-1)/2 problems */
#define SVM_MAX_VALUE 1e250        /* bound on a loaded coefficient, rho or Platt parameter */
#define SVM_PROB_FOLDS 5
#define SVM_PREDICT_ROWS 256
#define SVM_MIN_PROB 1e-7

enum { GAMMA_SCALE = 0, GAMMA_AUTO = 1, GAMMA_VALUE = 2 };

static const char *const kernel_names[] = { "rbf", "linear", "poly", "sigmoid" };

typedef struct svm_params {
    int kernel;          /* vg_svm_kernel_type (rbf) */
    double C;            /* > 0 (1.0) */
    int gamma_mode;      /* scale (default), auto, or a value */
    double gamma;        /* the value with GAMMA_VALUE, > 0 */
    long degree;         /* poly (3) */
    double coef0;        /* poly, sigmoid (0) */
    double tol;          /* stopping tolerance of SMO (1e-3) */
    double cache_size;   /* MB of kernel rows (200, scikit-learn's default) */
    int shrinking;       /* (true) */
    int probability;     /* Platt scaling by internal cross-validation (false) */
    long max_iter;       /* SMO iterations per problem, -1 = no limit but LIBSVM's max(10^7, 100 l) */
} svm_params;

/* ---- parameters --------------------------------------------------------- */

static void svm_params_default(void *params)
{
    svm_params *p = params;
    p->kernel = VG_SVM_RBF;
    p->C = 1.0;
    p->gamma_mode = GAMMA_SCALE;
    p->gamma = 0;
    p->degree = 3;
    p->coef0 = 0;
    p->tol = 1e-3;
    p->cache_size = 200;
    p->shrinking = 1;
    p->probability = 0;
    p->max_iter = -1;
}

static vg_status positive(const char *key, const char *value, double *out)
{
    vg_status st = vg_param_double(key, value, -HUGE_VAL, HUGE_VAL, out);
    if (st) return st;
    if (!(*out > 0.0)) return vg_fail(VG_ERR_INVALID, "parameter %s: %s is out of range: must be > 0", key, value);
    return VG_OK;
}

static vg_status svm_params_set(void *params, const char *key, const char *value)
{
    svm_params *p = params;
    vg_status st = VG_OK;
    double d;
    long l;
    if (!key || !value) return vg_fail(VG_ERR_INVALID, "svm: parameter key and value required");
    if (strcmp(key, "kernel") == 0) {
        int k = -1;
        for (int i = 0; i < 4; i++)
            if (strcmp(value, kernel_names[i]) == 0) k = i;
        if (k < 0)
            return vg_fail(VG_ERR_INVALID, "parameter kernel: '%s' is not one of rbf, linear, poly, sigmoid", value);
        p->kernel = k;
    } else if (strcmp(key, "C") == 0) {
        if ((st = positive(key, value, &d))) return st;
        p->C = d;
    } else if (strcmp(key, "gamma") == 0) {
        if (strcmp(value, "scale") == 0) {
            p->gamma_mode = GAMMA_SCALE;
        } else if (strcmp(value, "auto") == 0) {
            p->gamma_mode = GAMMA_AUTO;
        } else {
            if (vg_param_double(key, value, 0.0, HUGE_VAL, &d) || !(d > 0.0))
                return vg_fail(VG_ERR_INVALID, "parameter gamma: '%s' is not scale, auto or a number > 0", value);
            p->gamma_mode = GAMMA_VALUE;
            p->gamma = d;
        }
    } else if (strcmp(key, "degree") == 0) {
        if ((st = vg_param_int(key, value, 0, 100, &l))) return st;
        p->degree = l;
    } else if (strcmp(key, "coef0") == 0) {
        if ((st = vg_param_double(key, value, -HUGE_VAL, HUGE_VAL, &d))) return st;
        p->coef0 = d;
    } else if (strcmp(key, "tol") == 0) {
        if ((st = positive(key, value, &d))) return st;
        p->tol = d;
    } else if (strcmp(key, "cache_size") == 0) {
        if ((st = positive(key, value, &d))) return st;
        if (d > 1048576.0) return vg_fail(VG_ERR_INVALID, "parameter cache_size: %s is out of range (0, 1048576] MB", value);
        p->cache_size = d;
    } else if (strcmp(key, "shrinking") == 0) {
        return vg_param_bool(key, value, &p->shrinking);
    } else if (strcmp(key, "probability") == 0) {
        return vg_param_bool(key, value, &p->probability);
    } else if (strcmp(key, "max_iter") == 0) {
        if ((st = vg_param_int(key, value, -1, 1000000000000L, &l))) return st;
        if (l == 0) return vg_fail(VG_ERR_INVALID, "parameter max_iter: 0 is out of range: -1 (no limit) or >= 1");
        p->max_iter = l;
    } else {
        return vg_param_unknown("svm", key);
    }
    return st;
}

static const char *svm_params_check(const void *params)
{
    const svm_params *p = params;
    if (p->kernel < VG_SVM_RBF || p->kernel > VG_SVM_SIGMOID) return "svm: kernel must be rbf, linear, poly or sigmoid";
    if (!(p->C > 0.0) || !isfinite(p->C)) return "svm: C must be a finite number > 0";
    if (p->gamma_mode < GAMMA_SCALE || p->gamma_mode > GAMMA_VALUE) return "svm: gamma must be scale, auto or a number";
    if (p->gamma_mode == GAMMA_VALUE && (!(p->gamma > 0.0) || !isfinite(p->gamma)))
        return "svm: gamma must be a finite number > 0";
    if (p->degree < 0 || p->degree > 100) return "svm: degree must be in [0, 100]";
    if (!isfinite(p->coef0)) return "svm: coef0 must be finite";
    if (!(p->tol > 0.0) || !isfinite(p->tol)) return "svm: tol must be a finite number > 0";
    if (!(p->cache_size > 0.0) || p->cache_size > 1048576.0) return "svm: cache_size must be in (0, 1048576] MB";
    if (p->max_iter == 0 || p->max_iter < -1) return "svm: max_iter must be -1 or >= 1";
    return NULL;
}

static void svm_params_describe(const void *params, vg_wbuf *out)
{
    const svm_params *p = params;
    char gamma[64];
    if (p->gamma_mode == GAMMA_SCALE) snprintf(gamma, sizeof gamma, "scale");
    else if (p->gamma_mode == GAMMA_AUTO) snprintf(gamma, sizeof gamma, "auto");
    else snprintf(gamma, sizeof gamma, "%.17g", p->gamma);
    vg_wbuf_printf(out,
                   "kernel=%s, C=%.17g, gamma=%s, degree=%ld, coef0=%.17g, tol=%.17g, cache_size=%.17g, "
                   "shrinking=%s, probability=%s, max_iter=%ld",
                   kernel_names[p->kernel], p->C, gamma, p->degree, p->coef0, p->tol, p->cache_size,
                   p->shrinking ? "true" : "false", p->probability ? "true" : "false", p->max_iter);
}

/* ---- fitted state ------------------------------------------------------- */

typedef struct svm_state {
    uint32_t n_features, n_classes, n_pairs, n_sv;
    vg_svm_kernel kernel;
    uint32_t *sv_start;   /* n_classes + 1: class k's support vectors are [sv_start[k], sv_start[k+1]) */
    float *sv;            /* n_sv x n_features */
    double *coef;         /* n_pairs x n_sv: a_s y_s in pair p (0 outside the pair's two classes) */
    double *rho;          /* n_pairs */
    uint32_t has_prob;
    double *prob_a, *prob_b;  /* n_pairs: Platt's A, B */
    uint64_t iterations;  /* SMO iterations over every pair */
    uint32_t converged;
    /* Derived on fit and load, never saved. */
    vg_svm_rows rows;     /* the support vectors, compact */
    double *w;            /* linear kernel: n_pairs x n_features primal weights */
} svm_state;

static void svm_free(void *state)
{
    svm_state *s = state;
    if (!s) return;
    vg_free(s->sv_start), vg_free(s->sv), vg_free(s->coef), vg_free(s->rho);
    vg_free(s->prob_a), vg_free(s->prob_b), vg_free(s->w);
    vg_svm_rows_free(&s->rows);
    vg_free(s);
}

static uint32_t svm_n_classes(const void *state) { return ((const svm_state *)state)->n_classes; }
static uint32_t svm_n_features(const void *state) { return ((const svm_state *)state)->n_features; }

/* The pair index of (a, b), a < b, in the order (0,1), (0,2), ..., (1,2), ... */
static size_t pair_index(uint32_t k, uint32_t a, uint32_t b)
{
    return (size_t)a * (2 * (size_t)k - a - 1) / 2 + (b - a - 1);
}

/* The compact support vectors and the linear kernel's weights. */
static vg_status state_derive(svm_state *s)
{
    vg_matrix M = { .rows = s->n_sv, .cols = s->n_features, .data = s->sv };
    vg_status st = vg_svm_rows_build(&M, NULL, s->n_sv, &s->rows);
    if (st) return st;
    if (s->kernel.type == VG_SVM_LINEAR) {
        size_t nf = s->n_features;
        s->w = vg_calloc((size_t)s->n_pairs * (nf ? nf : 1), sizeof(double));
        if (!s->w) return vg_fail(VG_ERR_NOMEM, "svm: out of memory");
        for (size_t p = 0; p < s->n_pairs; p++)
            for (size_t v = 0; v < s->n_sv; v++) {
                double c = s->coef[p * s->n_sv + v];
                if (c == 0) continue;
                for (size_t f = 0; f < nf; f++) s->w[p * nf + f] += c * s->sv[v * nf + f];
            }
    }
    return VG_OK;
}

/* ---- Platt scaling and pairwise coupling -------------------------------- */

/* Fit P(y=+1 | f) = 1 / (1 + exp(A f + B)) to decision values dec[] with
 * labels y[] (+1/-1), by Newton's method with backtracking on the
 * regularised targets of Platt (1999), as Lin, Lin and Weng (2007) give it. */
static void platt_fit(const double *dec, const int8_t *y, size_t n, double *A_out, double *B_out)
{
    double prior1 = 0, prior0 = 0;
    for (size_t i = 0; i < n; i++) {
        if (y[i] > 0) prior1 += 1;
        else prior0 += 1;
    }
    double hi = (prior1 + 1) / (prior1 + 2), lo = 1 / (prior0 + 2);
    double A = 0, B = log((prior0 + 1) / (prior1 + 1)), fval = 0;
    for (size_t i = 0; i < n; i++) {
        double t = y[i] > 0 ? hi : lo, z = dec[i] * A + B;
        fval += z >= 0 ? t * z + log1p(exp(-z)) : (t - 1) * z + log1p(exp(z));
    }
    for (int it = 0; it < 100; it++) {
        double h11 = 1e-12, h22 = 1e-12, h21 = 0, g1 = 0, g2 = 0;
        for (size_t i = 0; i < n; i++) {
            double t = y[i] > 0 ? hi : lo, z = dec[i] * A + B, p, q;
            if (z >= 0) p = exp(-z) / (1 + exp(-z)), q = 1 / (1 + exp(-z));
            else p = 1 / (1 + exp(z)), q = exp(z) / (1 + exp(z));
            double d2 = p * q, d1 = t - p;
            h11 += dec[i] * dec[i] * d2;
            h22 += d2;
            h21 += dec[i] * d2;
            g1 += dec[i] * d1;
            g2 += d1;
        }
        if (fabs(g1) < 1e-5 && fabs(g2) < 1e-5) break;
        double det = h11 * h22 - h21 * h21;
        double dA = -(h22 * g1 - h21 * g2) / det, dB = -(-h21 * g1 + h11 * g2) / det, gd = g1 * dA + g2 * dB;
        double step = 1;
        while (step >= 1e-10) {
            double nA = A + step * dA, nB = B + step * dB, nf = 0;
            for (size_t i = 0; i < n; i++) {
                double t = y[i] > 0 ? hi : lo, z = dec[i] * nA + nB;
                nf += z >= 0 ? t * z + log1p(exp(-z)) : (t - 1) * z + log1p(exp(z));
            }
            if (nf < fval + 1e-4 * step * gd) {
                A = nA, B = nB, fval = nf;
                break;
            }
            step /= 2;
        }
        if (step < 1e-10) break;  /* the line search failed: keep the last point */
    }
    *A_out = A;
    *B_out = B;
}

static double platt_prob(double f, double A, double B)
{
    double z = f * A + B;
    return z >= 0 ? exp(-z) / (1 + exp(-z)) : 1 / (1 + exp(z));
}

/* Class probabilities p (k) from pairwise r[a*k+b] = P(a | a or b), by the
 * second method of Wu, Lin and Weng (2004): min p'Qp with sum p = 1, where
 * Q_tt = sum_{j!=t} r_jt^2 and Q_tj = -r_jt r_tj, by their fixed-point
 * iteration. Q holds k*k doubles, Qp k. */
static void couple(uint32_t k, const double *r, double *p, double *Q, double *Qp)
{
    for (uint32_t t = 0; t < k; t++) {
        p[t] = 1.0 / k;
        Q[t * k + t] = 0;
        for (uint32_t j = 0; j < k; j++) {
            if (j == t) continue;
            Q[t * k + t] += r[j * k + t] * r[j * k + t];
            Q[t * k + j] = -r[j * k + t] * r[t * k + j];
        }
    }
    int max_iter = k > 100 ? (int)k : 100;
    for (int it = 0; it < max_iter; it++) {
        double pQp = 0;
        for (uint32_t t = 0; t < k; t++) {
            Qp[t] = 0;
            for (uint32_t j = 0; j < k; j++) Qp[t] += Q[t * k + j] * p[j];
            pQp += p[t] * Qp[t];
        }
        double err = 0;
        for (uint32_t t = 0; t < k; t++) err = VG_MAX(err, fabs(Qp[t] - pQp));
        if (err < 0.005 / k) break;
        for (uint32_t t = 0; t < k; t++) {
            double diff = (-Qp[t] + pQp) / Q[t * k + t];
            p[t] += diff;
            pQp = (pQp + diff * (diff * Q[t * k + t] + 2 * Qp[t])) / ((1 + diff) * (1 + diff));
            for (uint32_t j = 0; j < k; j++) {
                Qp[j] = (Qp[j] + diff * Q[t * k + j]) / (1 + diff);
                p[j] /= 1 + diff;
            }
        }
    }
}

/* ---- training ----------------------------------------------------------- */

typedef struct fit_ctx {
    const svm_params *p;
    const vg_train_set *ts;
    const vg_fit_options *opt;
    vg_svm_kernel kernel;
    vg_svm_rows rows;   /* every training row, compact */
} fit_ctx;

/* Solve one binary problem over rows idx[0..n) with labels y into alpha. */
static vg_status solve(fit_ctx *F, const uint32_t *idx, const int8_t *y, size_t n, double *alpha, double *rho,
                       uint64_t *iterations, uint32_t *converged)
{
    double *C = vg_malloc((n ? n : 1) * sizeof *C);
    if (!C) return vg_fail(VG_ERR_NOMEM, "svm: out of memory");
    for (size_t i = 0; i < n; i++) C[i] = F->p->C * (F->ts->weight ? (double)F->ts->weight[idx[i]] : 1.0);
    vg_svm_problem P = { .rows = &F->rows, .kernel = &F->kernel, .l = n, .index = idx, .y = y, .C = C,
                         .eps = F->p->tol, .shrinking = F->p->shrinking, .cache_mb = F->p->cache_size,
                         .max_iter = F->p->max_iter, .threads = F->opt ? F->opt->threads : 0 };
    vg_svm_solution sol;
    vg_status st = vg_svm_solve(&P, alpha, &sol);
    vg_free(C);
    if (st) return st;
    *rho = sol.rho;
    if (iterations) *iterations += (uint64_t)sol.iterations;
    if (converged && !sol.converged) *converged = 0;
    return VG_OK;
}

/* Decision value of training row r from a solution over rows idx. */
static double decision_train(fit_ctx *F, const uint32_t *idx, const int8_t *y, const double *alpha, size_t n,
                             double rho, size_t r, vg_svm_query *q)
{
    vg_svm_query_from_row(&F->rows, r, q);
    double f = -rho;
    for (size_t i = 0; i < n; i++)
        if (alpha[i] != 0) f += alpha[i] * y[i] * vg_svm_kernel_eval(&F->kernel, &F->rows, q, idx[i]);
    vg_svm_query_clear(&F->rows, r, q);
    return f;
}

/* Platt's A and B for one pair from SVM_PROB_FOLDS-fold decision values. */
static vg_status pair_probability(fit_ctx *F, const uint32_t *idx, const int8_t *y, size_t n, uint64_t stream,
                                  double *A, double *B)
{
    vg_status st = VG_OK;
    uint32_t *order = vg_malloc((n ? n : 1) * sizeof *order);
    uint32_t *sub = vg_malloc((n ? n : 1) * sizeof *sub);
    int8_t *suby = vg_malloc((n ? n : 1) * sizeof *suby);
    double *alpha = vg_malloc((n ? n : 1) * sizeof *alpha);
    double *dec = vg_malloc((n ? n : 1) * sizeof *dec);
    int8_t *ydec = vg_malloc((n ? n : 1) * sizeof *ydec);
    vg_svm_query q = { 0 };
    if (!order || !sub || !suby || !alpha || !dec || !ydec || (st = vg_svm_query_alloc(&F->rows, &q))) {
        if (!st) st = vg_fail(VG_ERR_NOMEM, "svm: out of memory");
        goto done;
    }
    for (size_t i = 0; i < n; i++) order[i] = (uint32_t)i;
    vg_rng rng;
    vg_rng_seed(&rng, F->opt ? F->opt->seed : 0, 0x5e7a11ULL + stream);
    vg_rng_shuffle_u32(&rng, order, n);
    for (size_t fold = 0; fold < SVM_PROB_FOLDS && !st; fold++) {
        size_t b0 = fold * n / SVM_PROB_FOLDS, b1 = (fold + 1) * n / SVM_PROB_FOLDS, m = 0, pos = 0, neg = 0;
        for (size_t i = 0; i < n; i++) {
            if (i >= b0 && i < b1) continue;
            sub[m] = idx[order[i]];
            suby[m] = y[order[i]];
            if (suby[m] > 0) pos++;
            else neg++;
            m++;
        }
        double rho = 0;
        if (pos && neg) {
            if ((st = solve(F, sub, suby, m, alpha, &rho, NULL, NULL))) break;
        }
        for (size_t i = b0; i < b1; i++) {
            size_t o = order[i];
            ydec[i] = y[o];
            if (pos && neg) dec[i] = decision_train(F, sub, suby, alpha, m, rho, idx[o], &q);
            else dec[i] = pos ? 1 : neg ? -1 : 0;  /* one class to learn from: lean to it */
        }
    }
    if (!st) platt_fit(dec, ydec, n, A, B);
done:
    vg_svm_query_free(&q);
    vg_free(order), vg_free(sub), vg_free(suby), vg_free(alpha), vg_free(dec), vg_free(ydec);
    return st;
}

static vg_status check_fit_input(const svm_params *p, const vg_train_set *ts)
{
    const char *msg = svm_params_check(p);
    if (msg) return vg_fail(VG_ERR_INVALID, "%s", msg);
    if (!ts || !ts->X || !ts->y) return vg_fail(VG_ERR_INVALID, "svm: needs dense rows and class labels");
    if (ts->n_classes < 2) return vg_fail(VG_ERR_DATA, "svm: needs at least two classes");
    if (ts->n_classes > SVM_MAX_CLASSES)
        return vg_fail(VG_ERR_DATA, "svm: %u classes is more than the %u one-vs-one supports", ts->n_classes,
                       SVM_MAX_CLASSES);
    if (ts->X->rows == 0) return vg_fail(VG_ERR_DATA, "svm: no training rows");
    if (ts->X->rows > UINT32_MAX) return vg_fail(VG_ERR_DATA, "svm: more than 2^32 rows");
    for (size_t i = 0; i < ts->X->rows; i++) {
        if (ts->y[i] < 0 || (uint32_t)ts->y[i] >= ts->n_classes)
            return vg_fail(VG_ERR_INVALID, "svm: row %zu has class %d outside [0, %u)", i, ts->y[i], ts->n_classes);
        if (ts->weight && !(ts->weight[i] >= 0 && isfinite(ts->weight[i])))
            return vg_fail(VG_ERR_INVALID, "svm: row %zu has weight %g (must be finite and >= 0)", i, ts->weight[i]);
    }
    size_t cells = ts->X->rows * ts->X->cols;
    for (size_t i = 0; i < cells; i++)
        if (!isfinite(ts->X->data[i]))
            return vg_fail(VG_ERR_DATA, "svm: row %zu has a missing or infinite value (the pipeline should impute)",
                           i / ts->X->cols);
    return VG_OK;
}

static double resolve_gamma(const svm_params *p, const vg_matrix *X)
{
    if (p->gamma_mode == GAMMA_VALUE) return p->gamma;
    if (p->gamma_mode == GAMMA_AUTO || X->cols == 0) return 1.0 / (double)(X->cols ? X->cols : 1);
    size_t n = X->rows * X->cols;
    double mean = 0, ss = 0;
    for (size_t i = 0; i < n; i++) mean += X->data[i];
    mean /= (double)n;
    for (size_t i = 0; i < n; i++) ss += ((double)X->data[i] - mean) * ((double)X->data[i] - mean);
    double var = ss / (double)n;
    return var > 0 ? 1.0 / ((double)X->cols * var) : 1.0;
}

static vg_status svm_fit(const void *params, const vg_train_set *ts, const vg_fit_options *opt, void **out_state)
{
    const svm_params *p = params;
    *out_state = NULL;
    vg_status st = check_fit_input(p, ts);
    if (st) return st;
    const vg_matrix *X = ts->X;
    size_t rows = X->rows, nf = X->cols;
    uint32_t k = ts->n_classes;
    fit_ctx F = { .p = p, .ts = ts, .opt = opt };
    F.kernel = (vg_svm_kernel){ .type = (vg_svm_kernel_type)p->kernel, .gamma = resolve_gamma(p, X),
                                .coef0 = p->coef0, .degree = (int)p->degree };
    svm_state *s = vg_calloc(1, sizeof *s);
    uint32_t *idx = vg_malloc(rows * sizeof *idx);
    int8_t *y = vg_malloc(rows * sizeof *y);
    double *alpha = vg_malloc(rows * sizeof *alpha);
    double *coef_row = NULL;         /* n_pairs x rows: a_i y_i per pair, by training row */
    uint8_t *is_sv = vg_calloc(rows, 1);
    uint32_t *sv_of_row = NULL;
    if (!s || !idx || !y || !alpha || !is_sv) {
        st = vg_fail(VG_ERR_NOMEM, "svm: out of memory");
        goto err;
    }
    s->n_features = (uint32_t)nf;
    s->n_classes = k;
    s->n_pairs = k * (k - 1) / 2;
    s->kernel = F.kernel;
    s->converged = 1;
    s->rho = vg_calloc(s->n_pairs, sizeof *s->rho);
    s->prob_a = vg_calloc(s->n_pairs, sizeof *s->prob_a);
    s->prob_b = vg_calloc(s->n_pairs, sizeof *s->prob_b);
    coef_row = vg_calloc((size_t)s->n_pairs * rows, sizeof *coef_row);
    if (!s->rho || !s->prob_a || !s->prob_b || !coef_row) {
        st = vg_fail(VG_ERR_NOMEM, "svm: out of memory for %u class pairs", s->n_pairs);
        goto err;
    }
    if ((st = vg_svm_rows_build(X, NULL, rows, &F.rows))) goto err;
    s->has_prob = p->probability ? 1 : 0;

    size_t done = 0;
    for (uint32_t a = 0; a < k; a++)
        for (uint32_t b = a + 1; b < k; b++) {
            size_t pi = pair_index(k, a, b), n = 0, na = 0, nb = 0;
            for (size_t i = 0; i < rows; i++) {
                int32_t c = ts->y[i];
                if ((c != (int32_t)a && c != (int32_t)b) || (ts->weight && !(ts->weight[i] > 0))) continue;
                idx[n] = (uint32_t)i;
                y[n] = c == (int32_t)b ? 1 : -1;
                if (c == (int32_t)b) nb++;
                else na++;
                n++;
            }
            if (na == 0 || nb == 0) {
                /* A class without (weighted) rows: the pair always picks the other. */
                s->rho[pi] = na ? 1 : nb ? -1 : 0;
                s->prob_a[pi] = 0;
                s->prob_b[pi] = na ? 30 : nb ? -30 : 0;
            } else {
                if ((st = solve(&F, idx, y, n, alpha, &s->rho[pi], &s->iterations, &s->converged))) goto err;
                for (size_t i = 0; i < n; i++)
                    if (alpha[i] != 0) {
                        coef_row[pi * rows + idx[i]] = alpha[i] * y[i];
                        is_sv[idx[i]] = 1;
                    }
                if (p->probability &&
                    (st = pair_probability(&F, idx, y, n, pi, &s->prob_a[pi], &s->prob_b[pi])))
                    goto err;
            }
            done++;
            if (opt && opt->progress) opt->progress(opt->progress_user, "class pairs", done, s->n_pairs);
        }

    /* The support vectors of every pair, grouped by class. */
    s->sv_start = vg_calloc((size_t)k + 1, sizeof *s->sv_start);
    sv_of_row = vg_malloc(rows * sizeof *sv_of_row);
    if (!s->sv_start || !sv_of_row) {
        st = vg_fail(VG_ERR_NOMEM, "svm: out of memory");
        goto err;
    }
    for (size_t i = 0; i < rows; i++) s->sv_start[ts->y[i] + 1] += is_sv[i];
    for (uint32_t c = 0; c < k; c++) s->sv_start[c + 1] += s->sv_start[c];
    s->n_sv = s->sv_start[k];
    s->sv = vg_malloc(((size_t)s->n_sv * nf + 1) * sizeof *s->sv);
    s->coef = vg_calloc((size_t)s->n_pairs * s->n_sv + 1, sizeof *s->coef);
    if (!s->sv || !s->coef) {
        st = vg_fail(VG_ERR_NOMEM, "svm: out of memory for %u support vectors", s->n_sv);
        goto err;
    }
    {
        uint32_t *fill = vg_malloc((size_t)k * sizeof *fill);  /* next free slot per class */
        if (!fill) {
            st = vg_fail(VG_ERR_NOMEM, "svm: out of memory");
            goto err;
        }
        for (uint32_t c = 0; c < k; c++) fill[c] = s->sv_start[c];
        for (size_t i = 0; i < rows; i++) {
            if (!is_sv[i]) continue;
            uint32_t v = fill[ts->y[i]]++;
            sv_of_row[i] = v;
            memcpy(s->sv + (size_t)v * nf, X->data + i * nf, nf * sizeof(float));
        }
        for (size_t pi = 0; pi < s->n_pairs; pi++)
            for (size_t i = 0; i < rows; i++)
                if (is_sv[i]) s->coef[pi * s->n_sv + sv_of_row[i]] = coef_row[pi * rows + i];
        vg_free(fill);
    }
    if ((st = state_derive(s))) goto err;
    if (!s->converged)
        vg_log(VG_LOG_INFO, "svm: SMO stopped at max_iter before reaching tol (raise max_iter or tol)");
    vg_svm_rows_free(&F.rows);
    vg_free(idx), vg_free(y), vg_free(alpha), vg_free(coef_row), vg_free(is_sv), vg_free(sv_of_row);
    *out_state = s;
    return VG_OK;

err:
    vg_svm_rows_free(&F.rows);
    vg_free(idx), vg_free(y), vg_free(alpha), vg_free(coef_row), vg_free(is_sv), vg_free(sv_of_row);
    svm_free(s);
    return st;
}

/* ---- prediction --------------------------------------------------------- */

/* Scratch for one row: the query, kernel values, decision values, coupling. */
typedef struct svm_scratch {
    vg_svm_query q;
    double *kv;     /* n_sv */
    double *dec;    /* n_pairs */
    double *r, *Q;  /* k x k */
    double *pk, *Qp; /* k */
} svm_scratch;

static void scratch_free(svm_scratch *w)
{
    vg_svm_query_free(&w->q);
    vg_free(w->kv), vg_free(w->dec), vg_free(w->r), vg_free(w->Q), vg_free(w->pk), vg_free(w->Qp);
    memset(w, 0, sizeof *w);
}

static vg_status scratch_alloc(const svm_state *s, svm_scratch *w)
{
    memset(w, 0, sizeof *w);
    size_t k = s->n_classes;
    if (vg_svm_query_alloc(&s->rows, &w->q)) return VG_ERR_NOMEM;
    w->kv = vg_malloc(((size_t)s->n_sv + 1) * sizeof(double));
    w->dec = vg_malloc(((size_t)s->n_pairs + 1) * sizeof(double));
    w->r = vg_malloc(k * k * sizeof(double));
    w->Q = vg_malloc(k * k * sizeof(double));
    w->pk = vg_malloc(k * sizeof(double));
    w->Qp = vg_malloc(k * sizeof(double));
    if (!w->kv || !w->dec || !w->r || !w->Q || !w->pk || !w->Qp) {
        scratch_free(w);
        return vg_fail(VG_ERR_NOMEM, "svm: out of memory");
    }
    return VG_OK;
}

/* The decision values of row x into w->dec (n_pairs). */
static void decision_values(const svm_state *s, const float *x, svm_scratch *w)
{
    vg_svm_query_from_dense(&s->rows, x, &w->q);
    vg_svm_kernel_block(&s->kernel, &s->rows, &w->q, NULL, 0, s->n_sv, w->kv);
    uint32_t k = s->n_classes;
    for (uint32_t a = 0; a < k; a++)
        for (uint32_t b = a + 1; b < k; b++) {
            size_t pi = pair_index(k, a, b);
            const double *c = s->coef + pi * s->n_sv;
            double f = -s->rho[pi];
            for (size_t v = s->sv_start[a]; v < s->sv_start[a + 1]; v++) f += c[v] * w->kv[v];
            for (size_t v = s->sv_start[b]; v < s->sv_start[b + 1]; v++) f += c[v] * w->kv[v];
            w->dec[pi] = isnan(f) ? 0 : f;  /* only a corrupt model's overflow (inf - inf) gets here */
        }
}

static double logistic(double f)
{
    return f >= 0 ? 1 / (1 + exp(-f)) : exp(f) / (1 + exp(f));
}

/* Probabilities of one row (see the opening comment for what they are). */
static void predict_one(const svm_state *s, const float *x, svm_scratch *w, float *out)
{
    decision_values(s, x, w);
    uint32_t k = s->n_classes;
    if (k == 2) {
        double p1 = s->has_prob ? platt_prob(w->dec[0], s->prob_a[0], s->prob_b[0]) : logistic(w->dec[0]);
        if (s->has_prob) p1 = VG_MIN(VG_MAX(p1, SVM_MIN_PROB), 1 - SVM_MIN_PROB);
        out[0] = (float)(1 - p1);
        out[1] = (float)p1;
        return;
    }
    for (uint32_t a = 0; a < k; a++)
        for (uint32_t b = a + 1; b < k; b++) {
            size_t pi = pair_index(k, a, b);
            double pb = s->has_prob ? platt_prob(w->dec[pi], s->prob_a[pi], s->prob_b[pi]) : logistic(w->dec[pi]);
            pb = VG_MIN(VG_MAX(pb, SVM_MIN_PROB), 1 - SVM_MIN_PROB);
            w->r[a * k + b] = 1 - pb;  /* P(a | a or b) */
            w->r[b * k + a] = pb;
        }
    couple(k, w->r, w->pk, w->Q, w->Qp);
    if (s->has_prob) {
        for (uint32_t c = 0; c < k; c++) out[c] = (float)w->pk[c];
        return;
    }
    /* softmax of votes + coupled margin */
    for (uint32_t c = 0; c < k; c++) w->Qp[c] = w->pk[c];
    for (uint32_t a = 0; a < k; a++)
        for (uint32_t b = a + 1; b < k; b++) w->Qp[w->dec[pair_index(k, a, b)] > 0 ? b : a] += 1;
    double top = w->Qp[0], sum = 0.0;
    for (uint32_t c = 1; c < k; c++) top = VG_MAX(top, w->Qp[c]);
    for (uint32_t c = 0; c < k; c++) sum += (w->Qp[c] = exp(w->Qp[c] - top));
    for (uint32_t c = 0; c < k; c++) out[c] = (float)(w->Qp[c] / sum);
}

static void predict_uniform(const svm_state *s, size_t rows, float *proba)
{
    vg_log(VG_LOG_ERROR, "svm: out of memory for prediction scratch; predicting uniform");
    for (size_t i = 0; i < rows * s->n_classes; i++) proba[i] = 1.0f / (float)s->n_classes;
}

typedef struct predict_job {
    const svm_state *s;
    const vg_matrix *X;
    float *proba;
    svm_scratch *w;  /* per worker */
} predict_job;

static void predict_task(void *ctx, size_t task, int worker)
{
    predict_job *J = ctx;
    size_t r0 = task * SVM_PREDICT_ROWS, r1 = VG_MIN(J->X->rows, r0 + SVM_PREDICT_ROWS);
    for (size_t i = r0; i < r1; i++)
        predict_one(J->s, J->X->data + i * J->X->cols, &J->w[worker], J->proba + i * J->s->n_classes);
}

static void svm_predict(const void *state, const vg_matrix *X, int threads, float *proba)
{
    const svm_state *s = state;
    VG_ASSERT(s && X && proba && X->cols == s->n_features);
    if (X->rows == 0) return;
    threads = vg_threads_resolve(threads);
    size_t tasks = (X->rows + SVM_PREDICT_ROWS - 1) / SVM_PREDICT_ROWS;
    if ((size_t)threads > tasks) threads = (int)tasks;
    predict_job J = { s, X, proba, vg_calloc((size_t)threads, sizeof(svm_scratch)) };
    int ok = J.w != NULL;
    for (int t = 0; ok && t < threads; t++) ok = scratch_alloc(s, &J.w[t]) == VG_OK;
    if (ok) vg_parallel_for(threads, tasks, predict_task, &J);
    else predict_uniform(s, X->rows, proba);
    for (int t = 0; J.w && t < threads; t++) scratch_free(&J.w[t]);
    vg_free(J.w);
}

static void svm_predict_row(const void *state, const float *row, float *proba)
{
    const svm_state *s = state;
    svm_scratch w;
    if (scratch_alloc(s, &w)) {
        predict_uniform(s, 1, proba);
        return;
    }
    predict_one(s, row, &w, proba);
    scratch_free(&w);
}

uint32_t vg_svm_n_pairs(const void *state) { return ((const svm_state *)state)->n_pairs; }
uint32_t vg_svm_n_support(const void *state) { return ((const svm_state *)state)->n_sv; }
const double *vg_svm_rho(const void *state) { return ((const svm_state *)state)->rho; }

vg_status vg_svm_decision(const void *state, const float *row, double *dec)
{
    const svm_state *s = state;
    svm_scratch w;
    vg_status st = scratch_alloc(s, &w);
    if (st) return st;
    decision_values(s, row, &w);
    memcpy(dec, w.dec, s->n_pairs * sizeof *dec);
    scratch_free(&w);
    return VG_OK;
}

/* ---- explanations ------------------------------------------------------ */

static uint32_t svm_n_outputs(const void *state)
{
    const svm_state *s = state;
    if (s->kernel.type != VG_SVM_LINEAR) return 0;  /* no exact additive form */
    return s->n_classes == 2 ? 1 : s->n_classes;
}

static vg_status svm_explain(const void *state, const float *row, double *contrib)
{
    const svm_state *s = state;
    if (s->kernel.type != VG_SVM_LINEAR || !s->w)
        return vg_fail(VG_ERR_UNSUPPORTED,
                       "svm: a %s kernel has no exact per-feature terms; only kernel=linear can be explained",
                       kernel_names[s->kernel.type]);
    size_t nf = s->n_features, k = s->n_classes;
    if (k == 2) {
        for (size_t f = 0; f < nf; f++) contrib[f] = s->w[f] * row[f];
        contrib[nf] = -s->rho[0];
        return VG_OK;
    }
    memset(contrib, 0, (nf + 1) * k * sizeof *contrib);
    for (uint32_t a = 0; a < k; a++)
        for (uint32_t b = a + 1; b < k; b++) {
            size_t pi = pair_index((uint32_t)k, a, b);
            const double *w = s->w + pi * nf;
            for (size_t f = 0; f < nf; f++) {
                double t = w[f] * row[f];
                contrib[f * k + b] += t;
                contrib[f * k + a] -= t;
            }
            contrib[nf * k + b] -= s->rho[pi];
            contrib[nf * k + a] += s->rho[pi];
        }
    return VG_OK;
}

/* ---- save / load / describe --------------------------------------------- */

/* Layout (little-endian): u32 version, u32 kernel, f64 gamma, f64 coef0,
 * i32 degree, u32 n_features, u32 n_classes, u32 n_sv, u32 has_prob,
 * u32 converged, u64 iterations, u32 sv_start[n_classes + 1],
 * f32 sv[n_sv * n_features], f64 coef[n_pairs * n_sv], f64 rho[n_pairs],
 * and with has_prob f64 prob_a[n_pairs], f64 prob_b[n_pairs]; n_pairs =
 * n_classes (n_classes - 1) / 2. */
static vg_status svm_save(const void *state, vg_wbuf *w)
{
    const svm_state *s = state;
    vg_wbuf_u32(w, SVM_SAVE_VERSION);
    vg_wbuf_u32(w, (uint32_t)s->kernel.type);
    vg_wbuf_f64(w, s->kernel.gamma);
    vg_wbuf_f64(w, s->kernel.coef0);
    vg_wbuf_i32(w, s->kernel.degree);
    vg_wbuf_u32(w, s->n_features);
    vg_wbuf_u32(w, s->n_classes);
    vg_wbuf_u32(w, s->n_sv);
    vg_wbuf_u32(w, s->has_prob);
    vg_wbuf_u32(w, s->converged);
    vg_wbuf_u64(w, s->iterations);
    vg_wbuf_u32s(w, s->sv_start, (size_t)s->n_classes + 1);
    vg_wbuf_f32s(w, s->sv, (size_t)s->n_sv * s->n_features);
    vg_wbuf_f64s(w, s->coef, (size_t)s->n_pairs * s->n_sv);
    vg_wbuf_f64s(w, s->rho, s->n_pairs);
    if (s->has_prob) {
        vg_wbuf_f64s(w, s->prob_a, s->n_pairs);
        vg_wbuf_f64s(w, s->prob_b, s->n_pairs);
    }
    if (w->failed) return vg_fail(VG_ERR_NOMEM, "svm: out of memory saving the model");
    return VG_OK;
}

static int all_bounded(const double *v, size_t n)
{
    int ok = 1;
    for (size_t i = 0; i < n; i++) ok &= fabs(v[i]) <= SVM_MAX_VALUE;
    return ok;
}

static vg_status svm_load(vg_rbuf *r, void **out_state)
{
    *out_state = NULL;
    uint32_t version = vg_rbuf_u32(r);
    if (!r->failed && version != SVM_SAVE_VERSION)
        return vg_fail(VG_ERR_FORMAT, "%s: svm state version %u is not supported (this build reads %u)", r->what,
                       version, SVM_SAVE_VERSION);
    svm_state *s = vg_calloc(1, sizeof *s);
    if (!s) return vg_fail(VG_ERR_NOMEM, "svm: out of memory");
    uint32_t type = vg_rbuf_u32(r);
    s->kernel.gamma = vg_rbuf_f64(r);
    s->kernel.coef0 = vg_rbuf_f64(r);
    s->kernel.degree = vg_rbuf_i32(r);
    s->n_features = vg_rbuf_u32(r);
    s->n_classes = vg_rbuf_u32(r);
    s->n_sv = vg_rbuf_u32(r);
    s->has_prob = vg_rbuf_u32(r);
    s->converged = vg_rbuf_u32(r);
    s->iterations = vg_rbuf_u64(r);
    vg_rbuf_require(r, type <= VG_SVM_SIGMOID, "svm kernel");
    s->kernel.type = (vg_svm_kernel_type)(type <= VG_SVM_SIGMOID ? type : 0);
    vg_rbuf_require(r, isfinite(s->kernel.gamma) && s->kernel.gamma > 0 && s->kernel.gamma <= SVM_MAX_VALUE,
                    "svm gamma");
    vg_rbuf_require(r, fabs(s->kernel.coef0) <= SVM_MAX_VALUE, "svm coef0");
    vg_rbuf_require(r, s->kernel.degree >= 0 && s->kernel.degree <= 100, "svm degree");
    vg_rbuf_require(r, s->n_classes >= 2 && s->n_classes <= SVM_MAX_CLASSES, "svm class count");
    vg_rbuf_require(r, s->n_features < UINT32_MAX, "svm feature count");
    vg_rbuf_require(r, s->has_prob <= 1 && s->converged <= 1, "svm flags");
    if (r->failed) goto fail;
    s->n_pairs = s->n_classes * (s->n_classes - 1) / 2;
    /* Every count against the bytes left, before any allocation it sizes. */
    uint64_t left = r->len - r->pos;
    uint64_t sv_cells = (uint64_t)s->n_sv * s->n_features, coef_cells = (uint64_t)s->n_pairs * s->n_sv;
    vg_rbuf_require(r, sv_cells <= left / 4 && coef_cells <= left / 8, "svm support vector count exceeds the data");
    if (r->failed) goto fail;
    s->sv_start = vg_rbuf_u32s(r, (size_t)s->n_classes + 1);
    s->sv = vg_rbuf_f32s(r, (size_t)sv_cells);
    s->coef = vg_rbuf_f64s(r, (size_t)coef_cells);
    s->rho = vg_rbuf_f64s(r, s->n_pairs);
    if (s->has_prob) {
        s->prob_a = vg_rbuf_f64s(r, s->n_pairs);
        s->prob_b = vg_rbuf_f64s(r, s->n_pairs);
    }
    if (r->failed) goto fail;
    int ok = s->sv_start[0] == 0 && s->sv_start[s->n_classes] == s->n_sv;
    for (uint32_t c = 0; c < s->n_classes; c++) ok &= s->sv_start[c] <= s->sv_start[c + 1];
    vg_rbuf_require(r, ok, "svm support vectors per class");
    int finite = 1;
    for (uint64_t i = 0; i < sv_cells; i++) finite &= isfinite(s->sv[i]);
    vg_rbuf_require(r, finite, "svm support vector not finite");
    vg_rbuf_require(r, all_bounded(s->coef, (size_t)coef_cells) && all_bounded(s->rho, s->n_pairs),
                    "svm coefficient or rho not finite or beyond 1e250");
    if (s->has_prob)
        vg_rbuf_require(r, all_bounded(s->prob_a, s->n_pairs) && all_bounded(s->prob_b, s->n_pairs),
                        "svm Platt parameter not finite or beyond 1e250");
    if (r->failed) goto fail;
    vg_status st = state_derive(s);
    if (st) {
        svm_free(s);
        return st;
    }
    *out_state = s;
    return VG_OK;
fail:
    svm_free(s);
    return vg_rbuf_check(r);
}

static void svm_describe(const void *state, vg_wbuf *out)
{
    const svm_state *s = state;
    vg_wbuf_printf(out, "kernel: %s\ngamma: %.6g\nsupport vectors: %u (", kernel_names[s->kernel.type],
                   s->kernel.gamma, s->n_sv);
    for (uint32_t c = 0; c < s->n_classes; c++)
        vg_wbuf_printf(out, "%s%u", c ? ", " : "", s->sv_start[c + 1] - s->sv_start[c]);
    vg_wbuf_printf(out, " per class)\nclass pairs: %u\nSMO iterations: %llu\nconverged: %s\nprobabilities: %s\n",
                   s->n_pairs, (unsigned long long)s->iterations, s->converged ? "yes" : "no",
                   s->has_prob ? "Platt (5-fold)" : "logistic of the decision value (uncalibrated)");
}

const vg_estimator_kind vg_svm_kind = {
    .name = "svm",
    .summary = "support vector classifier (C-SVC; rbf, linear, poly or sigmoid kernel; one-vs-one), SMO",
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
    .predict_row = svm_predict_row,
    .n_outputs = svm_n_outputs,
    .explain = svm_explain,
    .outputs = VG_ESTIMATOR_OUT_PROBA,
    .needs_labels = 1,
    .inputs = VG_ESTIMATOR_IN_DENSE,
};
