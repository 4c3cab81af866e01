/* Coordinate descent for linear models over CSR rows (see linear_cd.h).
 *
 * Dual CD for the L2-regularised SVM (Hsieh, Chang, Lin, Keerthi, Sundararajan,
 * ICML 2008, "A dual coordinate descent method for large-scale linear SVM"):
 *     min_a  1/2 a'Qa - e'a + sum_i D_ii a_i^2 / 2,   0 <= a_i <= U_i,
 *     Q_ij = y_i y_j x_i.x_j,  w = sum_i y_i a_i x_i
 * with U_i = C_i, D_ii = 0 for the hinge loss and U_i = inf, D_ii = 1/(2 C_i)
 * for the squared hinge. One coordinate at a time, in a fresh random order each
 * pass, a_i moves to the clipped minimiser a_i - G/Q_ii (G = y_i w.x_i - 1 +
 * D_ii a_i), and w follows with one sparse axpy; coordinates stuck at a bound
 * whose gradient points outside are shrunk away until the spread of projected
 * gradients falls below eps, then all are checked once more.
 *
 * Dual CD for L2-regularised logistic regression (Yu, Huang, Lin, Machine
 * Learning 2011, "Dual coordinate descent methods for logistic regression and
 * maximum entropy models"): each a_i in (0, C_i) with its complement C_i - a_i,
 * minimising z log z + (C-z) log(C-z) + a/2 (z - a_old)^2 + s b (z - a_old)
 * by a few safeguarded Newton steps whose tolerance tightens as passes need
 * fewer of them.
 *
 * Primal CD Newton for L1-regularised logistic regression (CDN: Yuan, Chang,
 * Hsieh, Lin, JMLR 2010, "A comparison of optimization methods and software for
 * large-scale L1-regularized linear classification", section 4.1.2): per
 * column j, the one-variable Newton direction of the loss plus |w_j|, then an
 * Armijo backtracking line search on the exact objective change computed over
 * the column's rows. Simpler than the newGLMNET LIBLINEAR now ships and it
 * reaches the same minimiser; without shrinking it is slower on very wide data.
 *
 * The bias is LIBLINEAR's: a constant column of value `bias` appended to every
 * row, regularised like any other weight, so these solvers and LIBLINEAR's
 * `train -B 1` minimise the same function (the golden tests rely on it). */
#include "models/linear_cd.h"
#include "vigil/parallel.h"
#include "vigil/rng.h"

#include <math.h>
#include <string.h>

static inline double row_dot(const vg_csr *X, size_t i, const double *w, double bias)
{
    double s = 0;
    for (uint64_t k = X->indptr[i]; k < X->indptr[i + 1]; k++) s += (double)X->values[k] * w[X->indices[k]];
    if (bias > 0) s += bias * w[X->cols];
    return s;
}

static inline void row_axpy(const vg_csr *X, size_t i, double a, double *w, double bias)
{
    for (uint64_t k = X->indptr[i]; k < X->indptr[i + 1]; k++) w[X->indices[k]] += a * (double)X->values[k];
    if (bias > 0) w[X->cols] += a * bias;
}

static inline double row_sq(const vg_csr *X, size_t i, double bias)
{
    double s = bias > 0 ? bias * bias : 0;
    for (uint64_t k = X->indptr[i]; k < X->indptr[i + 1]; k++) s += (double)X->values[k] * X->values[k];
    return s;
}

/* Fisher-Yates over idx[0..n). */
static void shuffle(vg_rng *rng, uint32_t *idx, size_t n)
{
    for (size_t i = 0; i + 1 < n; i++) {
        size_t j = i + vg_rng_below(rng, (uint32_t)(n - i));
        uint32_t t = idx[i];
        idx[i] = idx[j], idx[j] = t;
    }
}

static vg_status solve_svm(const vg_lincd_problem *P, int l1loss, double eps, long max_iter, vg_rng *rng, double *w,
                           vg_lincd_result *res)
{
    const vg_csr *X = P->X;
    size_t l = X->rows;
    double *alpha = vg_calloc(l ? l : 1, sizeof *alpha), *QD = vg_malloc((l ? l : 1) * sizeof *QD);
    uint32_t *index = vg_malloc((l ? l : 1) * sizeof *index);
    if (!alpha || !QD || !index) {
        vg_free(alpha), vg_free(QD), vg_free(index);
        return vg_fail(VG_ERR_NOMEM, "out of memory for the linear SVM solver");
    }
    for (size_t i = 0; i < l; i++) {
        double diag = l1loss ? 0 : 0.5 / P->C[i];
        QD[i] = diag + row_sq(X, i, P->bias);
        index[i] = (uint32_t)i;
    }
    double PGmax_old = HUGE_VAL, PGmin_old = -HUGE_VAL;
    size_t active = l;
    long iter = 0;
    int converged = 0;
    while (iter < max_iter) {
        double PGmax_new = -HUGE_VAL, PGmin_new = HUGE_VAL;
        shuffle(rng, index, active);
        for (size_t s = 0; s < active; s++) {
            uint32_t i = index[s];
            double yi = P->y[i], U = l1loss ? P->C[i] : HUGE_VAL, diag = l1loss ? 0 : 0.5 / P->C[i];
            double G = yi * row_dot(X, i, w, P->bias) - 1 + alpha[i] * diag, PG = 0;
            if (alpha[i] == 0) {
                if (G > PGmax_old) {  /* at the lower bound and staying: shrink */
                    index[s--] = index[--active], index[active] = i;
                    continue;
                }
                if (G < 0) PG = G;
            } else if (alpha[i] == U) {
                if (G < PGmin_old) {
                    index[s--] = index[--active], index[active] = i;
                    continue;
                }
                if (G > 0) PG = G;
            } else {
                PG = G;
            }
            PGmax_new = fmax(PGmax_new, PG);
            PGmin_new = fmin(PGmin_new, PG);
            if (fabs(PG) > 1e-12) {
                double old = alpha[i];
                alpha[i] = fmin(fmax(old - G / QD[i], 0.0), U);
                row_axpy(X, i, (alpha[i] - old) * yi, w, P->bias);
            }
        }
        iter++;
        if (PGmax_new - PGmin_new <= eps) {
            if (active == l) {
                converged = 1;
                break;
            }
            active = l;  /* check every coordinate once more before stopping */
            PGmax_old = HUGE_VAL, PGmin_old = -HUGE_VAL;
            continue;
        }
        PGmax_old = PGmax_new <= 0 ? HUGE_VAL : PGmax_new;
        PGmin_old = PGmin_new >= 0 ? -HUGE_VAL : PGmin_new;
    }
    res->iterations = iter, res->converged = converged;
    vg_free(alpha), vg_free(QD), vg_free(index);
    return VG_OK;
}

static vg_status solve_lr_dual(const vg_lincd_problem *P, double eps, long max_iter, vg_rng *rng, double *w,
                               vg_lincd_result *res)
{
    const vg_csr *X = P->X;
    size_t l = X->rows;
    double *alpha = vg_malloc(2 * (l ? l : 1) * sizeof *alpha), *xTx = vg_malloc((l ? l : 1) * sizeof *xTx);
    uint32_t *index = vg_malloc((l ? l : 1) * sizeof *index);
    if (!alpha || !xTx || !index) {
        vg_free(alpha), vg_free(xTx), vg_free(index);
        return vg_fail(VG_ERR_NOMEM, "out of memory for the logistic regression solver");
    }
    const int max_inner = 100;
    double innereps = 1e-2, innereps_min = fmin(1e-8, eps);
    /* Start strictly inside (0, C): the entropy terms are not defined on the bounds. */
    for (size_t i = 0; i < l; i++) {
        double C = P->C[i];
        alpha[2 * i] = fmin(0.001 * C, 1e-8);
        alpha[2 * i + 1] = C - alpha[2 * i];
        xTx[i] = row_sq(X, i, P->bias);
        row_axpy(X, i, P->y[i] * alpha[2 * i], w, P->bias);
        index[i] = (uint32_t)i;
    }
    long iter = 0;
    int converged = 0;
    while (iter < max_iter) {
        shuffle(rng, index, l);
        size_t newton_iter = 0;
        double Gmax = 0;
        for (size_t s = 0; s < l; s++) {
            uint32_t i = index[s];
            double yi = P->y[i], C = P->C[i], a = xTx[i], b = yi * row_dot(X, i, w, P->bias);
            /* Minimise over whichever of a_i, C - a_i the step would move away from 0. */
            size_t ind1 = 2 * (size_t)i, ind2 = ind1 + 1;
            double sign = 1;
            if (0.5 * a * (alpha[ind2] - alpha[ind1]) + b < 0) ind1 = ind2, ind2 = 2 * (size_t)i, sign = -1;
            double old = alpha[ind1], z = old;
            if (C - z < 0.5 * C) z *= 0.1;
            double gp = a * (z - old) + sign * b + log(z / (C - z));
            Gmax = fmax(Gmax, fabs(gp));
            int inner = 0;
            while (inner <= max_inner && fabs(gp) >= innereps) {
                double gpp = a + C / (C - z) / z, tz = z - gp / gpp;
                z = tz <= 0 ? z * 0.1 : tz;  /* a step past 0 is cut back, staying inside */
                gp = a * (z - old) + sign * b + log(z / (C - z));
                newton_iter++, inner++;
            }
            if (inner > 0) {
                alpha[ind1] = z, alpha[ind2] = C - z;
                row_axpy(X, i, sign * (z - old) * yi, w, P->bias);
            }
        }
        iter++;
        if (Gmax < eps) {
            converged = 1;
            break;
        }
        if (newton_iter <= l / 10) innereps = fmax(innereps_min, 0.1 * innereps);
    }
    res->iterations = iter, res->converged = converged;
    vg_free(alpha), vg_free(xTx), vg_free(index);
    return VG_OK;
}

/* log(1 + exp(-m)), stable for any margin m. */
static inline double logistic_loss(double m)
{
    return m > 0 ? log1p(exp(-m)) : -m + log1p(exp(m));
}

static vg_status solve_lr_l1(const vg_lincd_problem *P, double eps, long max_iter, vg_rng *rng, double *w,
                             vg_lincd_result *res)
{
    const vg_csr *X = P->X;
    size_t l = X->rows, n = X->cols + (P->bias > 0);
    /* Columns: CSC copy of X (row index, value), with the bias column last. */
    uint64_t *cp = vg_calloc(n + 1, sizeof *cp);
    uint32_t *ri = vg_malloc((X->nnz + l + 1) * sizeof *ri), *index = vg_malloc(n * sizeof *index);
    float *cv = vg_malloc((X->nnz + l + 1) * sizeof *cv);
    double *z = vg_calloc(l ? l : 1, sizeof *z);  /* w.x_i */
    if (!cp || !ri || !index || !cv || !z) {
        vg_free(cp), vg_free(ri), vg_free(index), vg_free(cv), vg_free(z);
        return vg_fail(VG_ERR_NOMEM, "out of memory for the L1 logistic regression solver");
    }
    for (uint64_t k = 0; k < X->nnz; k++) cp[X->indices[k] + 1]++;
    if (P->bias > 0) cp[n] = l;
    for (size_t j = 0; j < n; j++) cp[j + 1] += cp[j];
    {
        uint64_t *fill = vg_malloc((n ? n : 1) * sizeof *fill);
        if (!fill) {
            vg_free(cp), vg_free(ri), vg_free(index), vg_free(cv), vg_free(z);
            return vg_fail(VG_ERR_NOMEM, "out of memory for the L1 logistic regression solver");
        }
        memcpy(fill, cp, n * sizeof *fill);
        for (size_t i = 0; i < l; i++) {
            for (uint64_t k = X->indptr[i]; k < X->indptr[i + 1]; k++) {
                uint64_t at = fill[X->indices[k]]++;
                ri[at] = (uint32_t)i, cv[at] = X->values[k];
            }
            if (P->bias > 0) {
                uint64_t at = fill[n - 1]++;
                ri[at] = (uint32_t)i, cv[at] = (float)P->bias;
            }
        }
        vg_free(fill);
    }
    size_t active = 0;
    for (size_t j = 0; j < n; j++)
        if (cp[j + 1] > cp[j]) index[active++] = (uint32_t)j;  /* empty columns keep w_j = 0 */
    const double sigma = 0.01, beta = 0.5;
    double Gnorm1_init = -1;
    long iter = 0;
    int converged = 0;
    while (iter < max_iter) {
        shuffle(rng, index, active);
        double Gnorm1 = 0;
        for (size_t s = 0; s < active; s++) {
            uint32_t j = index[s];
            double G = 0, H = 0;
            for (uint64_t k = cp[j]; k < cp[j + 1]; k++) {
                uint32_t i = ri[k];
                double p = 1.0 / (1.0 + exp(-z[i])), x = cv[k], t = P->y[i] > 0;
                G += P->C[i] * x * (p - t);
                H += P->C[i] * x * x * p * (1 - p);
            }
            H += 1e-12;
            double wj = w[j], viol;
            if (wj > 0) viol = fabs(G + 1);
            else if (wj < 0) viol = fabs(G - 1);
            else viol = fmax(0.0, fabs(G) - 1);
            Gnorm1 += viol;
            double d;
            if (G + 1 <= H * wj) d = -(G + 1) / H;
            else if (G - 1 >= H * wj) d = -(G - 1) / H;
            else d = -wj;
            if (fabs(d) < 1e-12) continue;
            double delta = G * d + fabs(wj + d) - fabs(wj), lambda = 1;
            int step;
            for (step = 0; step < 30; step++, lambda *= beta) {
                double change = fabs(wj + lambda * d) - fabs(wj);
                for (uint64_t k = cp[j]; k < cp[j + 1]; k++) {
                    uint32_t i = ri[k];
                    double yi = P->y[i];
                    change += P->C[i] * (logistic_loss(yi * (z[i] + lambda * d * cv[k])) - logistic_loss(yi * z[i]));
                }
                if (change <= sigma * lambda * delta) break;
            }
            if (step == 30) continue;  /* no decrease found: leave w_j */
            w[j] = wj + lambda * d;
            for (uint64_t k = cp[j]; k < cp[j + 1]; k++) z[ri[k]] += lambda * d * cv[k];
        }
        iter++;
        if (Gnorm1_init < 0) Gnorm1_init = Gnorm1;
        if (Gnorm1 <= eps * Gnorm1_init) {
            converged = 1;
            break;
        }
    }
    res->iterations = iter, res->converged = converged;
    vg_free(cp), vg_free(ri), vg_free(index), vg_free(cv), vg_free(z);
    return VG_OK;
}

vg_status vg_lincd_solve(vg_lincd_solver solver, const vg_lincd_problem *P, double eps, long max_iter,
                         uint64_t seed, double *w, vg_lincd_result *res)
{
    memset(w, 0, (P->X->cols + (P->bias > 0)) * sizeof *w);
    memset(res, 0, sizeof *res);
    vg_rng rng;
    vg_rng_seed(&rng, seed, 0x6c696e6364ull);
    switch (solver) {
    case VG_LINCD_SVM_L2LOSS: return solve_svm(P, 0, eps, max_iter, &rng, w, res);
    case VG_LINCD_SVM_L1LOSS: return solve_svm(P, 1, eps, max_iter, &rng, w, res);
    case VG_LINCD_LR_DUAL: return solve_lr_dual(P, eps, max_iter, &rng, w, res);
    case VG_LINCD_LR_L1: return solve_lr_l1(P, eps, max_iter, &rng, w, res);
    }
    return vg_fail(VG_ERR_INVALID, "linear solver %d", (int)solver);
}

/* ---- coefficients ----------------------------------------------------- */

void vg_lincd_row_scores(const double *coef, uint32_t n_vectors, uint32_t n_features, double bias,
                         const vg_csr *X, size_t r, double *z)
{
    size_t stride = (size_t)n_features + 1;
    for (uint32_t v = 0; v < n_vectors; v++) {
        const double *w = coef + v * stride;
        double s = w[n_features] * bias;
        for (uint64_t k = X->indptr[r]; k < X->indptr[r + 1]; k++) s += (double)X->values[k] * w[X->indices[k]];
        z[v] = s;
    }
}

void vg_lincd_save_coef(const double *coef, uint32_t n_vectors, uint32_t n_features, vg_wbuf *w)
{
    size_t stride = (size_t)n_features + 1;
    for (uint32_t v = 0; v < n_vectors; v++) {
        const double *c = coef + v * stride;
        uint32_t nz = 0;
        for (uint32_t j = 0; j < n_features; j++) nz += c[j] != 0;
        vg_wbuf_u32(w, nz);
        for (uint32_t j = 0; j < n_features; j++)
            if (c[j] != 0) vg_wbuf_u32(w, j), vg_wbuf_f64(w, c[j]);
        vg_wbuf_f64(w, c[n_features]);
    }
}

vg_status vg_lincd_load_coef(vg_rbuf *r, double *coef, uint32_t n_vectors, uint32_t n_features, double max_abs)
{
    size_t stride = (size_t)n_features + 1;
    for (uint32_t v = 0; v < n_vectors && !r->failed; v++) {
        double *c = coef + v * stride;
        uint32_t nz = vg_rbuf_u32(r);
        vg_rbuf_require(r, nz <= n_features && nz <= (r->len - r->pos) / 12, "coefficient count");
        long prev = -1;
        for (uint32_t k = 0; k < nz && !r->failed; k++) {
            uint32_t j = vg_rbuf_u32(r);
            double x = vg_rbuf_f64(r);
            if (!vg_rbuf_require(r, j < n_features && (long)j > prev, "coefficient columns (ascending, in range)") ||
                !vg_rbuf_require(r, fabs(x) <= max_abs, "coefficient not finite or too large"))
                break;
            c[j] = x;
            prev = (long)j;
        }
        c[n_features] = vg_rbuf_f64(r);
        vg_rbuf_require(r, fabs(c[n_features]) <= max_abs, "intercept not finite or too large");
    }
    return vg_rbuf_check(r);
}

/* ---- one-vs-rest ------------------------------------------------------ */

typedef struct ovr_job {
    vg_lincd_solver solver;
    const vg_csr *X;
    const int32_t *y;
    const double *cost;
    double bias, eps;
    long max_iter;
    uint64_t seed;
    uint32_t n_vectors;
    double *coef;
    vg_lincd_result *res;
    vg_status *status;
} ovr_job;

static void ovr_task(void *ctx, size_t v, int worker)
{
    (void)worker;
    ovr_job *j = ctx;
    size_t l = j->X->rows, stride = j->X->cols + 1;
    int32_t positive = j->n_vectors == 1 ? 1 : (int32_t)v;
    int8_t *yy = vg_malloc(l ? l : 1);
    double *w = vg_malloc((stride + 1) * sizeof *w);
    if (!yy || !w) {
        vg_free(yy), vg_free(w);
        j->status[v] = vg_fail(VG_ERR_NOMEM, "out of memory for a linear model");
        return;
    }
    for (size_t i = 0; i < l; i++) yy[i] = j->y[i] == positive ? 1 : -1;
    vg_lincd_problem P = { .X = j->X, .y = yy, .C = j->cost, .bias = j->bias };
    j->status[v] = vg_lincd_solve(j->solver, &P, j->eps, j->max_iter, j->seed + 0x9e3779b97f4a7c15ull * v, w,
                                  &j->res[v]);
    double *c = j->coef + v * stride;
    memcpy(c, w, j->X->cols * sizeof *c);
    c[j->X->cols] = j->bias > 0 ? w[j->X->cols] : 0;
    vg_free(yy), vg_free(w);
}

vg_status vg_lincd_fit_ovr(vg_lincd_solver solver, const vg_csr *X, const int32_t *y, uint32_t n_classes,
                           const float *weight, double C, double bias, double eps, long max_iter, uint64_t seed,
                           int threads, double *coef, vg_lincd_result *res)
{
    uint32_t nv = n_classes == 2 ? 1 : n_classes;
    size_t l = X->rows;
    double *cost = vg_malloc((l ? l : 1) * sizeof *cost);
    vg_lincd_result *r = vg_calloc(nv, sizeof *r);
    vg_status *status = vg_calloc(nv, sizeof *status);
    if (!cost || !r || !status) {
        vg_free(cost), vg_free(r), vg_free(status);
        return vg_fail(VG_ERR_NOMEM, "out of memory for a linear model");
    }
    /* A row of weight 0 is left out in effect; the solvers need C_i > 0. */
    for (size_t i = 0; i < l; i++) cost[i] = fmax(C * (weight ? weight[i] : 1.0), 1e-12 * C);
    ovr_job j = { .solver = solver, .X = X, .y = y, .cost = cost, .bias = bias, .eps = eps, .max_iter = max_iter,
                  .seed = seed, .n_vectors = nv, .coef = coef, .res = r, .status = status };
    vg_parallel_for(VG_MIN(vg_threads_resolve(threads), (int)nv), nv, ovr_task, &j);
    vg_status st = VG_OK;
    memset(res, 0, sizeof *res);
    res->converged = 1;
    for (uint32_t v = 0; v < nv; v++) {
        if (!st) st = status[v];
        res->iterations = VG_MAX(res->iterations, r[v].iterations);
        res->converged &= r[v].converged;
    }
    vg_free(cost), vg_free(r), vg_free(status);
    return st;
}
