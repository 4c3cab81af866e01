/* Curves and score histograms of an evaluation, thinned for drawing and for
 * the model file (see report_data.h). A full ROC curve has one point per
 * distinct score - tens of thousands on NSL-KDD - while a plot a few hundred
 * pixels wide shows no more than a few hundred, so the stored metrics stay a
 * few kilobytes. */
#include "eval/report_data.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <string.h>
#include "vigil/curves.h"
#include "vigil/decision.h"

/* Distance from p to the segment a-b (not the infinite line: a PR curve
 * can fold back, and a point past the segment's end must count as far). */
static double seg_dist(const double *p, const double *a, const double *b)
{
    double dx = b[0] - a[0], dy = b[1] - a[1];
    double len2 = dx * dx + dy * dy;
    double t = len2 > 0 ? ((p[0] - a[0]) * dx + (p[1] - a[1]) * dy) / len2 : 0;
    t = t < 0 ? 0 : t > 1 ? 1 : t;
    double ex = a[0] + t * dx - p[0], ey = a[1] + t * dy - p[1];
    return sqrt(ex * ex + ey * ey);
}

/* Ramer-Douglas-Peucker over xy[0..n): marks the points to keep and returns
 * their number. Iterative, with an explicit stack of segments, because a
 * curve of many thousand points would recurse too deep. */
static size_t rdp_mark(const double *xy, size_t n, double eps, uint8_t *keep, size_t *stack)
{
    memset(keep, 0, n);
    keep[0] = keep[n - 1] = 1;
    size_t kept = n > 1 ? 2 : 1, top = 0;
    if (n < 3) return kept;
    stack[top++] = 0, stack[top++] = n - 1;
    while (top) {
        size_t b = stack[--top], a = stack[--top];
        double worst = -1;
        size_t at = a;
        for (size_t i = a + 1; i < b; i++) {
            double d = seg_dist(xy + 2 * i, xy + 2 * a, xy + 2 * b);
            if (d > worst) worst = d, at = i;
        }
        if (at == a || worst <= eps) continue;
        keep[at] = 1, kept++;
        stack[top++] = a, stack[top++] = at;
        stack[top++] = at, stack[top++] = b;
    }
    return kept;
}

vg_status vg_plot_thin(const double *xy, size_t n, size_t max_points, double eps, double *out_xy, size_t *n_out)
{
    *n_out = 0;
    if (max_points < 2) return vg_fail(VG_ERR_INVALID, "curve thinning: max_points must be at least 2");
    if (n == 0) return VG_OK;
    /* First drop points closer than eps/2 to the previous kept one. That
     * bounds a monotone curve to about 4/eps points whatever its length, so
     * the quadratic worst case of Ramer-Douglas-Peucker cannot bite. */
    if (out_xy != xy) memcpy(out_xy, xy, 2 * sizeof *xy);
    size_t m = 1;
    for (size_t i = 1; i < n; i++) {
        const double *p = xy + 2 * i, *last = out_xy + 2 * (m - 1);
        int far = fabs(p[0] - last[0]) >= eps / 2 || fabs(p[1] - last[1]) >= eps / 2;
        if (far || i == n - 1) {
            /* The end point replaces a near neighbour rather than crowd it. */
            size_t at = !far && m > 1 ? m - 1 : m;
            out_xy[2 * at] = p[0], out_xy[2 * at + 1] = p[1];
            m = at + 1;
        }
    }
    if (m <= 2 || (m <= max_points && eps <= 0)) {
        *n_out = m;
        return VG_OK;
    }
    uint8_t *keep = vg_malloc(m);
    size_t *stack = vg_malloc(2 * m * sizeof *stack);
    if (!keep || !stack) {
        vg_free(keep), vg_free(stack);
        return vg_fail(VG_ERR_NOMEM, "curve thinning: out of memory for %zu points", m);
    }
    /* Coarsen until the point budget holds; a few rounds at most. */
    double e = eps > 0 ? eps : 1e-6;
    while (rdp_mark(out_xy, m, e, keep, stack) > max_points) e *= 1.5;
    size_t k = 0;
    for (size_t i = 0; i < m; i++)
        if (keep[i]) out_xy[2 * k] = out_xy[2 * i], out_xy[2 * k + 1] = out_xy[2 * i + 1], k++;
    vg_free(keep), vg_free(stack);
    *n_out = k;
    return VG_OK;
}

/* One curve of `kind` (0 ROC, 1 PR) thinned to tolerance eps, into line. */
static vg_status thin_curve(const uint8_t *is_pos, const float *score, size_t n, int kind, double eps,
                            vg_plot_line *line)
{
    vg_curve c;
    vg_status st = kind == 0 ? vg_roc_curve(is_pos, score, n, &c) : vg_pr_curve(is_pos, score, n, &c);
    if (st) return st;
    line->xy = vg_malloc(2 * c.n_points * sizeof *line->xy);
    if (!line->xy) {
        vg_curve_free(&c);
        return vg_fail(VG_ERR_NOMEM, "curves: out of memory");
    }
    size_t full = c.n_points;
    for (size_t i = 0; i < full; i++) line->xy[2 * i] = c.points[i].x, line->xy[2 * i + 1] = c.points[i].y;
    vg_curve_free(&c);
    st = vg_plot_thin(line->xy, full, VG_PLOT_MAX_POINTS, eps, line->xy, &line->n);
    if (st) return st;
    /* Give back the slack; the thinned curve is a small fraction. */
    double *shrunk = vg_realloc(line->xy, (line->n ? line->n : 1) * 2 * sizeof *shrunk);
    if (shrunk) line->xy = shrunk;
    return VG_OK;
}

vg_status vg_eval_plots_compute(const vg_model *m, const vg_evaluation *e, vg_eval_plots *out)
{
    memset(out, 0, sizeof *out);
    if (e->regression || !e->proba || !e->y)
        return vg_fail(VG_ERR_INVALID, "curves: a classification evaluation is needed");
    uint32_t k = vg_model_classes(m)->n;
    out->n_classes = k;
    out->binary = k == 2;
    vg_decision_rule rule;
    vg_status rs = vg_decision_rule_for_model(m, e->threshold, &rule);
    if (rs) return rs;
    out->threshold = rule.threshold;
    uint32_t stride = rule.n_outputs;
    int anomaly = rule.kind == VG_OUTPUT_SCORE;
    size_t rows = e->rows, n = 0;
    float *score = vg_malloc((rows ? rows : 1) * sizeof *score);
    uint8_t *is_pos = vg_malloc(rows ? rows : 1);
    size_t *support = vg_calloc(k, sizeof *support);
    out->hist = vg_calloc((size_t)k * VG_PLOT_BINS, sizeof *out->hist);
    out->roc = vg_calloc(k, sizeof *out->roc);
    out->pr = vg_calloc(k, sizeof *out->pr);
    vg_status st = VG_OK;
    if (!score || !is_pos || !support || !out->hist || !out->roc || !out->pr) {
        st = vg_fail(VG_ERR_NOMEM, "curves: out of memory");
        goto done;
    }
    /* Probabilities fill [0, 1]; an anomaly score has the scale of its
     * family, so its histogram spans what was seen and the threshold. */
    out->lo = 0, out->hi = 1;
    if (anomaly) {
        out->lo = out->hi = rule.threshold;
        for (size_t r = 0; r < rows; r++)
            if (e->y[r] >= 0) out->lo = fmin(out->lo, e->proba[r]), out->hi = fmax(out->hi, e->proba[r]);
        if (!(out->hi > out->lo)) out->hi = out->lo + 1;
    }
    for (size_t r = 0; r < rows; r++) {
        int32_t y = e->y[r];
        if (y < 0 || (uint32_t)y >= k) continue;
        double s = vg_decision_make(&rule, e->proba + r * stride).score;
        if (s == s) {
            int bin = (int)((s - out->lo) / (out->hi - out->lo) * VG_PLOT_BINS);
            bin = bin < 0 ? 0 : bin >= VG_PLOT_BINS ? VG_PLOT_BINS - 1 : bin;
            out->hist[(size_t)y * VG_PLOT_BINS + (size_t)bin]++;
        }
        n++;
        support[y]++;
    }
    /* Many overlaid curves are read less finely than one, so their
     * tolerance grows with their number and the JSON stays a few KB. */
    size_t eligible = 0;
    for (uint32_t c = out->binary ? 1 : 0; c < k; c++) eligible += support[c] > 0 && support[c] < n;
    double eps = VG_PLOT_EPS * sqrt((double)(eligible ? eligible : 1));
    for (uint32_t c = out->binary ? 1 : 0; c < k; c++) {
        /* The curve functions fail on a class with no positive or no
         * negative row; skip those here so no stale error is left. */
        if (support[c] == 0 || support[c] == n) continue;
        for (size_t i = 0, r = 0; r < rows; r++) {
            int32_t y = e->y[r];
            if (y < 0 || (uint32_t)y >= k) continue;
            is_pos[i] = y == (int32_t)c;
            score[i++] = anomaly ? e->proba[r] : e->proba[r * stride + c];
        }
        vg_plot_line *roc = &out->roc[out->n_curves], *pr = &out->pr[out->n_curves];
        roc->cls = pr->cls = c;
        out->n_curves++;
        if ((st = thin_curve(is_pos, score, n, 0, eps, roc)) || (st = thin_curve(is_pos, score, n, 1, eps, pr)))
            goto done;
    }
done:
    vg_free(score), vg_free(is_pos), vg_free(support);
    if (st) vg_eval_plots_free(out);
    return st;
}

void vg_eval_plots_free(vg_eval_plots *p)
{
    if (!p) return;
    for (size_t i = 0; p->roc && i < p->n_curves; i++) vg_free(p->roc[i].xy);
    for (size_t i = 0; p->pr && i < p->n_curves; i++) vg_free(p->pr[i].xy);
    vg_free(p->roc), vg_free(p->pr), vg_free(p->hist);
    memset(p, 0, sizeof *p);
}

/* Four decimals: far below a pixel, and it keeps the JSON compact. */
static cJSON *points_json(const vg_plot_line *l)
{
    cJSON *arr = cJSON_CreateArray();
    for (size_t i = 0; arr && i < l->n; i++) {
        double pt[2] = { round(l->xy[2 * i] * 1e4) / 1e4, round(l->xy[2 * i + 1] * 1e4) / 1e4 };
        cJSON_AddItemToArray(arr, cJSON_CreateDoubleArray(pt, 2));
    }
    return arr;
}

vg_status vg_eval_plots_to_json(const vg_eval_plots *p, const char *const *class_names, struct cJSON *obj)
{
    cJSON *curves = cJSON_AddObjectToObject(obj, "curves");
    if (!curves) return vg_fail(VG_ERR_NOMEM, "out of memory");
    if (p->binary) {
        if (p->n_curves) {
            cJSON_AddStringToObject(curves, "class", class_names[p->roc[0].cls]);
            cJSON_AddItemToObject(curves, "roc", points_json(&p->roc[0]));
            cJSON_AddItemToObject(curves, "pr", points_json(&p->pr[0]));
        }
    } else {
        cJSON *roc = cJSON_AddObjectToObject(curves, "roc"), *pr = cJSON_AddObjectToObject(curves, "pr");
        for (size_t i = 0; roc && pr && i < p->n_curves; i++) {
            cJSON_AddItemToObject(roc, class_names[p->roc[i].cls], points_json(&p->roc[i]));
            cJSON_AddItemToObject(pr, class_names[p->pr[i].cls], points_json(&p->pr[i]));
        }
    }
    cJSON *h = cJSON_AddObjectToObject(obj, "score_histogram");
    if (!h) return vg_fail(VG_ERR_NOMEM, "out of memory");
    cJSON_AddStringToObject(h, "score", p->lo != 0 || p->hi != 1 ? "anomaly score"
                                        : p->binary           ? "probability of the positive class"
                                                              : "1 - probability of the normal class");
    double range[2] = { p->lo, p->hi };
    cJSON_AddItemToObject(h, "range", cJSON_CreateDoubleArray(range, 2));
    cJSON_AddNumberToObject(h, "threshold", p->threshold);
    cJSON_AddNumberToObject(h, "bins", VG_PLOT_BINS);
    cJSON *counts = cJSON_AddObjectToObject(h, "counts");
    for (uint32_t c = 0; counts && c < p->n_classes; c++) {
        cJSON *arr = cJSON_AddArrayToObject(counts, class_names[c]);
        for (int b = 0; arr && b < VG_PLOT_BINS; b++)
            cJSON_AddItemToArray(arr, cJSON_CreateNumber((double)p->hist[(size_t)c * VG_PLOT_BINS + (size_t)b]));
    }
    return VG_OK;
}
