/* Tree-structured Parzen estimator (Bergstra, Bardenet, Bengio and Kégl,
 * "Algorithms for Hyper-Parameter Optimization", NIPS 2011), written from
 * the paper's description.
 *
 * Instead of modelling p(loss | x), TPE models p(x | loss) with two
 * densities: l(x) over the trials whose loss is among the best (the "good"
 * fraction gamma) and g(x) over the rest. The expected improvement below the
 * gamma-quantile is proportional to (gamma + (1 - gamma) g(x)/l(x))^-1, so
 * the next point is the candidate that maximises l(x)/g(x); candidates are
 * drawn from l itself. Each axis has its own density and the densities
 * multiply (the univariate TPE that Optuna runs by default), so the ratio is
 * a sum of per-axis log ratios.
 *
 * A range axis lives in u in [0, 1] along its scale (log ranges are already
 * log-spaced there). Its density is a Parzen mixture of normals truncated
 * to [0, 1]: one at each observation plus a prior one at 0.5 with width 1,
 * equal weights, each width the larger gap to its neighbours (the ends 0 and
 * 1 count as neighbours), clipped to [1 / min(100, m + 1), 1] — the
 * paper's adaptive bandwidth, wide where observations are sparse. A list
 * axis has category weights count + 1 (the +1 is the uniform prior).
 *
 * Every draw comes from one generator seeded by (seed, stream), so a
 * proposal depends only on the history and the trial number. */
#include "tpe.h"
#include "vigil/rng.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

size_t vg_tpe_n_good(size_t n)
{
    size_t g = (n + 9) / 10;
    if (g > 25) g = 25;
    return g ? g : 1;
}

/* One axis's Parzen mixture over [0, 1]: mu[k], sigma[k], k < m + 1 (the
 * observations and the prior); equal weights. */
typedef struct parzen {
    double *mu, *sigma;
    size_t k;
} parzen;

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* pts[0..m) -> mixture in p (mu and sigma have room for m + 1). */
static void parzen_fit(const double *pts, size_t m, parzen *p)
{
    size_t k = 0;
    for (size_t i = 0; i < m; i++) p->mu[k++] = pts[i];
    p->mu[k++] = 0.5;  /* the prior */
    qsort(p->mu, k, sizeof *p->mu, cmp_double);
    double lo_clip = 1.0 / (double)(m + 1 < 100 ? m + 1 : 100);
    int prior_done = 0;
    for (size_t i = 0; i < k; i++) {
        double left = p->mu[i] - (i ? p->mu[i - 1] : 0.0);
        double right = (i + 1 < k ? p->mu[i + 1] : 1.0) - p->mu[i];
        double s = left > right ? left : right;
        if (s < lo_clip) s = lo_clip;
        if (s > 1.0) s = 1.0;
        /* The prior keeps width 1 (the first 0.5 in sorted order is it). */
        if (!prior_done && p->mu[i] == 0.5) s = 1.0, prior_done = 1;
        p->sigma[i] = s;
    }
    p->k = k;
}

static double norm_cdf(double z) { return 0.5 * erfc(-z / sqrt(2.0)); }

/* log of truncated normal component i's pdf at x. */
static double component_log_pdf(const parzen *p, size_t i, double x)
{
    double s = p->sigma[i], z = (x - p->mu[i]) / s;
    double mass = norm_cdf((1.0 - p->mu[i]) / s) - norm_cdf((0.0 - p->mu[i]) / s);
    if (mass < 1e-12) mass = 1e-12;
    return -0.5 * z * z - log(s * sqrt(2.0 * M_PI)) - log(mass);
}

/* log of the mean of the components' pdfs, by log-sum-exp. */
static double parzen_log_pdf(const parzen *p, double x)
{
    double best = -INFINITY, sum = 0;
    for (size_t i = 0; i < p->k; i++) {
        double lp = component_log_pdf(p, i, x);
        if (lp > best) best = lp;
    }
    for (size_t i = 0; i < p->k; i++) sum += exp(component_log_pdf(p, i, x) - best);
    return best + log(sum) - log((double)p->k);
}

static double parzen_draw(const parzen *p, vg_rng *rng)
{
    size_t i = vg_rng_below(rng, (uint32_t)p->k);
    for (int tries = 0; tries < 64; tries++) {
        double x = p->mu[i] + p->sigma[i] * vg_rng_normal(rng);
        if (x >= 0.0 && x <= 1.0) return x;
    }
    return p->mu[i];  /* practically never: each component has mass >= 0.34 in [0, 1] */
}

/* Sort key: the trial's loss, ties by trial number, so the split never
 * depends on the order qsort visits equal losses. */
typedef struct ranked {
    double loss;
    size_t index;
} ranked;

static int cmp_ranked(const void *a, const void *b)
{
    const ranked *x = a, *y = b;
    if (x->loss < y->loss) return -1;
    if (x->loss > y->loss) return 1;
    return (x->index > y->index) - (x->index < y->index);
}

void vg_tpe_suggest(const vg_tune_axis *axes, size_t n_axes, const double *X, const double *loss, size_t n,
                    uint64_t seed, uint64_t stream, double *x)
{
    vg_rng rng;
    vg_rng_seed(&rng, seed, stream);
    ranked *order = vg_malloc(n * sizeof *order);
    double *buf = vg_malloc((4 * (n + 1) + n) * sizeof *buf);
    double *cand = vg_malloc(VG_TPE_CANDIDATES * n_axes * sizeof *cand);
    double *score = vg_calloc(VG_TPE_CANDIDATES, sizeof *score);
    if (!order || !buf || !cand || !score) {
        /* No memory for the model: fall back to a random point. */
        for (size_t a = 0; a < n_axes; a++)
            x[a] = axes[a].values ? (double)vg_rng_below(&rng, (uint32_t)axes[a].n_values) : vg_rng_uniform(&rng);
        vg_free(order), vg_free(buf), vg_free(cand), vg_free(score);
        return;
    }
    for (size_t i = 0; i < n; i++) order[i] = (ranked){ isnan(loss[i]) ? INFINITY : loss[i], i };
    qsort(order, n, sizeof *order, cmp_ranked);
    size_t n_good = vg_tpe_n_good(n);
    parzen good = { buf, buf + (n + 1), 0 }, bad = { buf + 2 * (n + 1), buf + 3 * (n + 1), 0 };
    double *pts = buf + 4 * (n + 1);
    for (size_t a = 0; a < n_axes; a++) {
        const vg_tune_axis *ax = &axes[a];
        if (ax->values) {
            size_t K = ax->n_values;
            double *wg = vg_calloc(2 * K, sizeof *wg), *wb = wg ? wg + K : NULL;
            if (!wg) {
                for (size_t c = 0; c < VG_TPE_CANDIDATES; c++) cand[c * n_axes + a] = 0;
                continue;
            }
            for (size_t k = 0; k < K; k++) wg[k] = wb[k] = 1.0;
            for (size_t i = 0; i < n; i++) {
                size_t v = (size_t)X[order[i].index * n_axes + a];
                if (v >= K) continue;
                if (i < n_good) wg[v] += 1.0;
                else wb[v] += 1.0;
            }
            double sg = 0, sb = 0;
            for (size_t k = 0; k < K; k++) sg += wg[k], sb += wb[k];
            for (size_t c = 0; c < VG_TPE_CANDIDATES; c++) {
                double u = vg_rng_uniform(&rng) * sg, acc = 0;
                size_t k = 0;
                for (; k + 1 < K; k++)
                    if ((acc += wg[k]) > u) break;
                cand[c * n_axes + a] = (double)k;
                score[c] += log(wg[k] / sg) - log(wb[k] / sb);
            }
            vg_free(wg);
            continue;
        }
        for (size_t i = 0; i < n_good; i++) pts[i] = X[order[i].index * n_axes + a];
        parzen_fit(pts, n_good, &good);
        for (size_t i = n_good; i < n; i++) pts[i - n_good] = X[order[i].index * n_axes + a];
        parzen_fit(pts, n - n_good, &bad);
        for (size_t c = 0; c < VG_TPE_CANDIDATES; c++) {
            double u = parzen_draw(&good, &rng);
            cand[c * n_axes + a] = u;
            score[c] += parzen_log_pdf(&good, u) - parzen_log_pdf(&bad, u);
        }
    }
    size_t best = 0;
    for (size_t c = 1; c < VG_TPE_CANDIDATES; c++)
        if (score[c] > score[best]) best = c;
    memcpy(x, cand + best * n_axes, n_axes * sizeof *x);
    vg_free(order), vg_free(buf), vg_free(cand), vg_free(score);
}
