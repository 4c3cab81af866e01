/* Grid and random parameter search over cross-validation (see vigil/tune.h).
 * Each trial is a train request with more "key=value" strings, so the search
 * knows nothing of the family: the registry checks the names and ranges. */
#include "vigil/tune.h"
#include "vigil/rng.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define GRID_POINTS 5

static char *vg_strndup(const char *s, size_t n)
{
    char *d = vg_malloc(n + 1);
    if (d) memcpy(d, s, n), d[n] = '\0';
    return d;
}

/* The metrics a search can rank by (vg_cv_result's names). */
static int known_metric(const char *m, int regression)
{
    static const char *const cls[] = { "accuracy", "precision", "recall", "f1", "macro_f1", "weighted_f1",
                                       "roc_auc", "pr_auc", "log_loss" };
    static const char *const reg[] = { "rmse", "mae", "r2" };
    if (!regression && strncmp(m, "recall_at_fpr:", 14) == 0) {
        char goal[64];
        vg_operating_point op;
        snprintf(goal, sizeof goal, "fpr:%s", m + 14);
        return vg_operating_point_parse(goal, &op) == VG_OK;
    }
    const char *const *list = regression ? reg : cls;
    size_t n = regression ? sizeof reg / sizeof *reg : sizeof cls / sizeof *cls;
    for (size_t i = 0; i < n; i++)
        if (strcmp(m, list[i]) == 0) return 1;
    return 0;
}

void vg_tune_axis_free(vg_tune_axis *a)
{
    if (!a) return;
    vg_free(a->key);
    for (size_t i = 0; i < a->n_values; i++) vg_free(a->values[i]);
    vg_free(a->values);
    memset(a, 0, sizeof *a);
}

static int whole(const char *s, const char *end)
{
    for (const char *p = s; p < end; p++)
        if (*p == '.' || *p == 'e' || *p == 'E') return 0;
    return 1;
}

vg_status vg_tune_axis_parse(const char *spec, vg_tune_axis *out)
{
    memset(out, 0, sizeof *out);
    const char *eq = strchr(spec, '=');
    if (!eq || eq == spec || !eq[1]) return vg_fail(VG_ERR_INVALID, "--grid '%s': expected KEY=V1,V2,... or KEY=LO:HI[:log]", spec);
    out->key = vg_strndup(spec, (size_t)(eq - spec));
    if (!out->key) return vg_fail(VG_ERR_NOMEM, "out of memory");
    const char *v = eq + 1;
    if (strchr(v, ':')) {
        char *end;
        out->lo = strtod(v, &end);
        int ilo = whole(v, end);
        if (end == v || *end != ':') goto bad;
        const char *h = end + 1;
        out->hi = strtod(h, &end);
        int ihi = whole(h, end);
        if (end == h || (*end && strcmp(end, ":log") != 0)) goto bad;
        out->log = *end != '\0';
        out->integer = ilo && ihi;
        if (!isfinite(out->lo) || !isfinite(out->hi) || !(out->lo < out->hi) || (out->log && !(out->lo > 0))) goto bad;
        return VG_OK;
    }
    for (const char *p = v;;) {
        const char *comma = strchr(p, ',');
        size_t len = comma ? (size_t)(comma - p) : strlen(p);
        if (len == 0) goto bad;
        char **nv = vg_realloc(out->values, (out->n_values + 1) * sizeof *nv);
        if (!nv) {
            vg_tune_axis_free(out);
            return vg_fail(VG_ERR_NOMEM, "out of memory");
        }
        out->values = nv;
        if (!(out->values[out->n_values] = vg_strndup(p, len))) {
            vg_tune_axis_free(out);
            return vg_fail(VG_ERR_NOMEM, "out of memory");
        }
        out->n_values++;
        if (!comma) break;
        p = comma + 1;
    }
    return VG_OK;
bad:
    vg_tune_axis_free(out);
    return vg_fail(VG_ERR_INVALID, "--grid '%s': expected KEY=V1,V2,... or KEY=LO:HI[:log] with LO < HI (and LO > 0 "
                                   "for log)", spec);
}

vg_tune_params vg_tune_params_default(void)
{
    return (vg_tune_params){ .search = VG_TUNE_GRID, .trials = 20, .cv = vg_cv_params_default(), .metric = "roc_auc" };
}

int vg_tune_metric_higher_better(const char *metric)
{
    return !(strcmp(metric, "log_loss") == 0 || strcmp(metric, "rmse") == 0 || strcmp(metric, "mae") == 0 ||
             strcmp(metric, "fpr") == 0 || strstr(metric, "seconds"));
}

void vg_tune_result_free(vg_tune_result *r)
{
    if (!r) return;
    for (size_t t = 0; t < r->n_trials; t++) {
        for (size_t i = 0; i < r->trials[t].n_params; i++) vg_free(r->trials[t].params[i]);
        vg_free(r->trials[t].params);
    }
    vg_free(r->trials);
    memset(r, 0, sizeof *r);
}

/* Value text of axis a at a point u in [0, 1] of its range. */
static void range_value(const vg_tune_axis *a, double u, char *buf, size_t cap)
{
    double x = a->log ? exp(log(a->lo) + u * (log(a->hi) - log(a->lo))) : a->lo + u * (a->hi - a->lo);
    if (a->integer) snprintf(buf, cap, "%.0f", round(x));
    else snprintf(buf, cap, "%.6g", x);
}

static size_t axis_points(const vg_tune_axis *a) { return a->values ? a->n_values : GRID_POINTS; }

/* The "key=value" of axis a for trial t: grid - the t-th point of the
 * product (digit `stride`); random - a draw. */
static char *axis_param(const vg_tune_axis *a, size_t index, vg_rng *rng, int random)
{
    char val[64];
    const char *v = val;
    if (a->values) {
        size_t i = random ? vg_rng_below(rng, (uint32_t)a->n_values) : index;
        v = a->values[i];
    } else if (random) {
        range_value(a, vg_rng_uniform(rng), val, sizeof val);
    } else {
        range_value(a, (double)index / (GRID_POINTS - 1), val, sizeof val);
    }
    size_t n = strlen(a->key) + strlen(v) + 2;
    char *kv = vg_malloc(n);
    if (kv) snprintf(kv, n, "%s=%s", a->key, v);
    return kv;
}

static vg_status score(const vg_cv_result *cv, const char *metric, double *mean, double *std)
{
    if (strncmp(metric, "recall_at_fpr:", 14) == 0) {
        char goal[64];
        snprintf(goal, sizeof goal, "fpr:%s", metric + 14);
        vg_operating_point op;
        vg_status st = vg_operating_point_parse(goal, &op);
        if (st) return st;
        size_t n = 0;
        float *s = vg_malloc((cv->rows ? cv->rows : 1) * sizeof *s);
        uint8_t *pos = vg_malloc(cv->rows ? cv->rows : 1);
        if (!s || !pos) {
            vg_free(s), vg_free(pos);
            return vg_fail(VG_ERR_NOMEM, "out of memory");
        }
        for (size_t r = 0; r < cv->rows; r++)
            if (cv->oof_positive[r] < 2) s[n] = cv->oof_score[r], pos[n++] = cv->oof_positive[r];
        vg_op_result res;
        st = vg_operating_point_choose(&op, pos, s, n, &res);
        vg_free(s), vg_free(pos);
        if (st) return st;
        *mean = res.tpr, *std = NAN;
        return VG_OK;
    }
    for (size_t j = 0; j < cv->n_metrics; j++)
        if (strcmp(cv->names[j], metric) == 0) {
            *mean = cv->mean[j], *std = cv->std[j];
            return VG_OK;
        }
    return vg_fail(VG_ERR_INVALID, "--metric: '%s' is not a metric of this task (roc_auc, pr_auc, f1, accuracy, "
                                   "macro_f1, log_loss, recall_at_fpr:F; regression: rmse, mae, r2)", metric);
}

vg_status vg_tune_run(const vg_train_request *rq, const vg_tune_axis *axes, size_t n_axes, const vg_tune_params *p,
                      vg_tune_result *out)
{
    memset(out, 0, sizeof *out);
    if (n_axes == 0) return vg_fail(VG_ERR_INVALID, "--grid: give at least one parameter to search");
    int regression = rq->data.task == VG_TASK_REGRESSION;
    if (!p->metric || !known_metric(p->metric, regression))
        return vg_fail(VG_ERR_INVALID, "--metric: '%s' is not one of %s", p->metric ? p->metric : "",
                       regression ? "rmse, mae, r2"
                                  : "roc_auc, pr_auc, f1, accuracy, precision, recall, macro_f1, weighted_f1, "
                                    "log_loss, recall_at_fpr:F");
    int random = p->search == VG_TUNE_RANDOM;
    size_t n = 1;
    for (size_t a = 0; a < n_axes; a++) {
        size_t k = axis_points(&axes[a]);
        n = n > SIZE_MAX / k ? SIZE_MAX : n * k;
    }
    if (random) n = p->trials ? p->trials : 20;
    else if (p->trials && p->trials < n) n = p->trials;
    if (n > 100000) return vg_fail(VG_ERR_LIMIT, "--grid: %zu trials are too many (at most 100000)", n);
    out->trials = vg_calloc(n, sizeof *out->trials);
    out->higher_better = vg_tune_metric_higher_better(p->metric);
    size_t total = rq->n_params + n_axes;
    const char **all = vg_malloc(total * sizeof *all);
    if (!out->trials || !all) {
        vg_free(all);
        vg_tune_result_free(out);
        return vg_fail(VG_ERR_NOMEM, "out of memory");
    }
    /* Every trial's parameters first, so a bad one fails before any fit. */
    vg_status st = VG_OK;
    for (size_t t = 0; t < n && !st; t++) {
        vg_tune_trial *tr = &out->trials[t];
        vg_rng rng;
        vg_rng_seed(&rng, rq->seed, 0x7e00 + t);
        tr->params = vg_calloc(n_axes, sizeof *tr->params);
        if (!tr->params) {
            st = vg_fail(VG_ERR_NOMEM, "out of memory");
            break;
        }
        size_t rest = t;
        for (size_t a = 0; a < n_axes && !st; a++) {
            size_t k = axis_points(&axes[a]);
            if (!(tr->params[a] = axis_param(&axes[a], rest % k, &rng, random))) st = vg_fail(VG_ERR_NOMEM, "out of memory");
            rest /= k;
            tr->n_params = a + 1;
        }
        if (st) break;
        if (rq->n_params) memcpy(all, rq->params, rq->n_params * sizeof *all);
        memcpy(all + rq->n_params, tr->params, n_axes * sizeof *all);
        vg_train_request trq = *rq;
        trq.params = all, trq.n_params = total;
        st = vg_train_request_check(&trq);
    }
    out->n_trials = n;
    for (size_t t = 0; t < n && !st; t++) {
        vg_tune_trial *tr = &out->trials[t];
        if (rq->n_params) memcpy(all, rq->params, rq->n_params * sizeof *all);
        memcpy(all + rq->n_params, tr->params, n_axes * sizeof *all);
        vg_train_request trq = *rq;
        trq.params = all, trq.n_params = total;
        vg_cv_result cv;
        double t0 = vg_now();
        if ((st = vg_cv_run(&trq, &p->cv, &cv))) break;
        st = score(&cv, p->metric, &tr->mean, &tr->std);
        tr->seconds = vg_now() - t0;
        vg_cv_result_free(&cv);
        if (st) break;
        const vg_tune_trial *b = &out->trials[out->best];
        int better = out->higher_better ? tr->mean > b->mean : tr->mean < b->mean;
        if (t == 0 || better || (isnan(b->mean) && !isnan(tr->mean))) out->best = t;
    }
    vg_free(all);
    if (st) vg_tune_result_free(out);
    return st;
}
