/* Limited-memory BFGS with a strong-Wolfe line search.
 *
 * The direction comes from the two-loop recursion over the last m pairs
 * (s = x_new - x, y = g_new - g) with the initial inverse Hessian scaled by
 * s'y / y'y. The line search brackets a step satisfying the strong Wolfe
 * conditions and then narrows the bracket with safeguarded cubic
 * interpolation (Nocedal & Wright, "Numerical Optimization", algorithms 3.5
 * and 3.6). Step length 1 is tried first, so a well-scaled quasi-Newton
 * direction costs one evaluation per iteration; only the very first step is
 * 1/||g|| because there is no curvature information yet (as in L-BFGS-B).
 *
 * The constants and stopping rules mirror scipy's L-BFGS-B without bounds,
 * which is what scikit-learn calls: c1 = 1e-3, c2 = 0.9, 20 evaluations per
 * search, pairs with s'y <= eps * (-s'g) skipped, and on a failed search the
 * memory is dropped and the search retried along -g before giving up. */
#include "models/lbfgs.h"

#include <float.h>
#include <math.h>
#include <string.h>

vg_lbfgs_params vg_lbfgs_params_default(void)
{
    vg_lbfgs_params p;
    memset(&p, 0, sizeof p);
    p.m = 10;
    p.max_iter = 100;
    p.max_linesearch = 20;
    p.gtol = 1e-5;
    p.ftol = 1e7 * DBL_EPSILON;  /* scipy's default factr times machine epsilon */
    p.c1 = 1e-3;
    p.c2 = 0.9;
    return p;
}

const char *vg_lbfgs_stop_str(vg_lbfgs_stop s)
{
    switch (s) {
    case VG_LBFGS_STOP_GTOL: return "gradient below gtol";
    case VG_LBFGS_STOP_FTOL: return "relative decrease below ftol";
    case VG_LBFGS_STOP_MAX_ITER: return "iteration limit reached";
    case VG_LBFGS_STOP_LINESEARCH: return "line search found no decrease";
    }
    return "unknown";
}

/* Everything one minimisation needs besides the caller's x. The point
 * buffers are swapped, never copied, as trial points become current. */
typedef struct lbfgs_work {
    size_t n;
    vg_lbfgs_fn fn;
    void *ctx;
    const vg_lbfgs_params *p;
    int evaluations;
    double *s, *y;      /* m x n ring of correction pairs */
    double *rho;        /* m: 1 / s'y */
    double *alpha;      /* m: two-loop scratch */
    double *d;          /* n: search direction */
    double *x, *g;      /* n: current point and gradient */
    double *xt, *gt;    /* n: line-search trial point */
    double *xb, *gb;    /* n: best point of the current line search */
} lbfgs_work;

typedef struct ls_point {
    double a;   /* step length */
    double f;   /* objective there */
    double dg;  /* directional derivative g'd there */
} ls_point;

static double dot(const double *a, const double *b, size_t n)
{
    double s = 0.0;
    for (size_t i = 0; i < n; i++) s += a[i] * b[i];
    return s;
}

static double max_abs(const double *a, size_t n)
{
    double m = 0.0;
    for (size_t i = 0; i < n; i++) {
        double v = fabs(a[i]);
        if (v > m || v != v) m = v;  /* NaN wins, so it can never pass a tolerance */
    }
    return m;
}

static void swap_ptr(double **a, double **b)
{
    double *t = *a;
    *a = *b;
    *b = t;
}

/* d = -H g by the two-loop recursion over `count` pairs ending at slot
 * `newest` of the ring. */
static void two_loop(lbfgs_work *w, int count, int newest, double gamma)
{
    size_t n = w->n;
    int m = w->p->m;
    double *q = w->d;
    for (size_t i = 0; i < n; i++) q[i] = w->g[i];
    for (int k = 0; k < count; k++) {
        int slot = (newest - k + m) % m;
        const double *s = w->s + (size_t)slot * n, *y = w->y + (size_t)slot * n;
        double a = w->rho[slot] * dot(s, q, n);
        w->alpha[slot] = a;
        for (size_t i = 0; i < n; i++) q[i] -= a * y[i];
    }
    for (size_t i = 0; i < n; i++) q[i] *= gamma;
    for (int k = count - 1; k >= 0; k--) {
        int slot = (newest - k + m) % m;
        const double *s = w->s + (size_t)slot * n, *y = w->y + (size_t)slot * n;
        double b = w->rho[slot] * dot(y, q, n);
        double c = w->alpha[slot] - b;
        for (size_t i = 0; i < n; i++) q[i] += c * s[i];
    }
    for (size_t i = 0; i < n; i++) q[i] = -q[i];
}

/* Evaluate the objective at x + a d into the trial buffers. */
static ls_point evaluate(lbfgs_work *w, double a)
{
    ls_point t;
    for (size_t i = 0; i < w->n; i++) w->xt[i] = w->x[i] + a * w->d[i];
    t.a = a;
    t.f = w->fn(w->ctx, w->xt, w->gt);
    t.dg = dot(w->gt, w->d, w->n);
    w->evaluations++;
    if (!isfinite(t.dg)) t.f = INFINITY;  /* treat a broken gradient like a step too far */
    return t;
}

/* The trial point becomes the best point so far. */
static void keep_trial(lbfgs_work *w)
{
    swap_ptr(&w->xt, &w->xb);
    swap_ptr(&w->gt, &w->gb);
}

/* Minimiser of the cubic through (a, fa, fa') and (b, fb, fb'); NaN if the
 * cubic has none (N&W eq. 3.59). */
static double cubic_min(ls_point a, ls_point b)
{
    double d1 = a.dg + b.dg - 3.0 * (a.f - b.f) / (a.a - b.a);
    double disc = d1 * d1 - a.dg * b.dg;
    if (!(disc >= 0.0)) return NAN;
    double d2 = copysign(sqrt(disc), b.a - a.a);
    return b.a - (b.a - a.a) * (b.dg + d2 - d1) / (b.dg - a.dg + 2.0 * d2);
}

/* Search along w->d from w->x (value f0, slope dg0 < 0) starting at step a1.
 * On success the accepted point is in w->xb / w->gb and *out its step,
 * value and slope. A search that runs out of evaluations still succeeds with
 * the lowest point that met the sufficient-decrease condition, if any: it is
 * a genuine decrease, and the curvature check on the pair guards the update. */
static int line_search(lbfgs_work *w, double f0, double dg0, double a1, ls_point *out)
{
    const vg_lbfgs_params *p = w->p;
    ls_point prev = { 0.0, f0, dg0 };
    ls_point lo, hi, t;
    int left = p->max_linesearch;
    double a = a1;

    /* Bracketing: grow the step until the bracket [lo, hi] holds an
     * acceptable point. */
    for (int i = 0;; i++) {
        if (left-- <= 0) { lo = prev; goto give_up; }
        t = evaluate(w, a);
        if (!isfinite(t.f) || t.f > f0 + p->c1 * t.a * dg0 || (i > 0 && t.f >= prev.f)) {
            lo = prev;
            hi = t;
            break;
        }
        keep_trial(w);
        if (fabs(t.dg) <= -p->c2 * dg0) { *out = t; return 1; }
        if (t.dg >= 0.0) {
            lo = t;
            hi = prev;
            break;
        }
        /* Still descending: extrapolate by up to 4 times the last move. */
        double lo_e = t.a + 1.1 * (t.a - prev.a), hi_e = t.a + 4.0 * (t.a - prev.a);
        double c = cubic_min(prev, t);
        a = (isfinite(c) && c >= lo_e && c <= hi_e) ? c : hi_e;
        prev = t;
        if (!isfinite(a) || a > 1e20) goto give_up_prev;
    }

    /* Zoom: lo always meets sufficient decrease and has the lowest value;
     * the slope at lo points towards hi. */
    while (left-- > 0) {
        double width = hi.a - lo.a;
        if (fabs(width) <= DBL_EPSILON * fabs(lo.a > hi.a ? lo.a : hi.a)) break;
        double lo_b = lo.a < hi.a ? lo.a : hi.a, hi_b = lo.a < hi.a ? hi.a : lo.a;
        double margin = 0.1 * fabs(width);
        double c = isfinite(hi.f) ? cubic_min(lo, hi) : NAN;
        if (!isfinite(c) || c < lo_b + margin || c > hi_b - margin) c = lo.a + 0.5 * width;
        t = evaluate(w, c);
        if (!isfinite(t.f) || t.f > f0 + p->c1 * t.a * dg0 || t.f >= lo.f) {
            hi = t;
            continue;
        }
        keep_trial(w);
        if (fabs(t.dg) <= -p->c2 * dg0) { *out = t; return 1; }
        if (t.dg * (hi.a - lo.a) >= 0.0) hi = lo;
        lo = t;
    }

give_up:
    if (lo.a > 0.0) { *out = lo; return 1; }
    return 0;
give_up_prev:
    *out = prev;
    return 1;
}

vg_status vg_lbfgs_minimize(size_t n, vg_lbfgs_fn fn, void *ctx, const vg_lbfgs_params *p,
                            double *x, vg_lbfgs_result *result)
{
    if (!fn || !p || !x || !result || n == 0)
        return vg_fail(VG_ERR_INVALID, "lbfgs: missing objective, parameters or start point");
    if (p->m < 1 || p->max_iter < 0 || p->max_linesearch < 1 || !(p->gtol >= 0.0) ||
        !(p->ftol >= 0.0) || !(p->c1 > 0.0) || !(p->c1 < p->c2) || !(p->c2 < 1.0))
        return vg_fail(VG_ERR_INVALID,
                       "lbfgs: need m >= 1, max_iter >= 0, max_linesearch >= 1, gtol >= 0, "
                       "ftol >= 0 and 0 < c1 < c2 < 1");

    size_t m = (size_t)p->m;
    double *block = vg_malloc((2 * m * n + 2 * m + 6 * n) * sizeof(double));
    if (!block) return vg_fail(VG_ERR_NOMEM, "lbfgs: out of memory for %zu variables", n);
    lbfgs_work w;
    memset(&w, 0, sizeof w);
    w.n = n;
    w.fn = fn;
    w.ctx = ctx;
    w.p = p;
    w.s = block;
    w.y = w.s + m * n;
    w.rho = w.y + m * n;
    w.alpha = w.rho + m;
    w.d = w.alpha + m;
    w.g = w.d + n;
    w.xt = w.g + n;
    w.gt = w.xt + n;
    w.xb = w.gt + n;
    w.gb = w.xb + n;
    w.x = x;  /* the caller's array rotates with xt and xb; copied back at the end */

    memset(result, 0, sizeof *result);
    double f = fn(ctx, w.x, w.g);
    w.evaluations = 1;
    double gmax = max_abs(w.g, n);
    if (!isfinite(f) || !isfinite(gmax)) {
        vg_free(block);
        return vg_fail(VG_ERR_DATA, "lbfgs: objective or gradient not finite at the start");
    }

    int iter = 0, count = 0, newest = -1;
    double gamma = 1.0;
    vg_lbfgs_stop stop = VG_LBFGS_STOP_GTOL;
    if (gmax <= p->gtol) goto done;

    for (;;) {
        if (iter >= p->max_iter) { stop = VG_LBFGS_STOP_MAX_ITER; break; }
        double a1 = 1.0;
        if (count > 0) {
            two_loop(&w, count, newest, gamma);
        } else {
            for (size_t i = 0; i < n; i++) w.d[i] = -w.g[i];
            if (iter == 0) a1 = 1.0 / sqrt(dot(w.d, w.d, n));
        }
        double dg = dot(w.g, w.d, n);
        if (!(dg < 0.0)) {
            /* Rounding made the quasi-Newton direction uphill: start over from -g. */
            for (size_t i = 0; i < n; i++) w.d[i] = -w.g[i];
            dg = -dot(w.g, w.g, n);
            count = 0;
        }
        ls_point t;
        if (!line_search(&w, f, dg, a1, &t)) {
            if (count > 0) { count = 0; continue; }
            stop = VG_LBFGS_STOP_LINESEARCH;
            break;
        }

        /* New pair from the accepted point (in xb/gb) and the current one. */
        int slot = (newest + 1) % p->m;
        double *s = w.s + (size_t)slot * n, *y = w.y + (size_t)slot * n;
        for (size_t i = 0; i < n; i++) {
            s[i] = w.xb[i] - w.x[i];
            y[i] = w.gb[i] - w.g[i];
        }
        double sy = dot(s, y, n), yy = dot(y, y, n);
        if (sy > DBL_EPSILON * (-dg * t.a) && yy > 0.0) {
            w.rho[slot] = 1.0 / sy;
            gamma = sy / yy;
            newest = slot;
            if (count < p->m) count++;
        }

        double f_prev = f;
        f = t.f;
        swap_ptr(&w.x, &w.xb);
        swap_ptr(&w.g, &w.gb);
        iter++;
        gmax = max_abs(w.g, n);
        if (p->on_iter) p->on_iter(p->user, iter, f, gmax);
        if (gmax <= p->gtol) { stop = VG_LBFGS_STOP_GTOL; break; }
        double scale = fabs(f_prev) > fabs(f) ? fabs(f_prev) : fabs(f);
        if (scale < 1.0) scale = 1.0;
        if (p->ftol > 0.0 && f_prev - f <= p->ftol * scale) { stop = VG_LBFGS_STOP_FTOL; break; }
    }

done:
    if (w.x != x) memcpy(x, w.x, n * sizeof(double));
    result->iterations = iter;
    result->evaluations = w.evaluations;
    result->stop = stop;
    result->converged = stop == VG_LBFGS_STOP_GTOL || stop == VG_LBFGS_STOP_FTOL;
    result->f = f;
    result->gmax = gmax;
    vg_free(block);
    return VG_OK;
}
