/* Grid and random parameter search over cross-validation (see vigil/tune.h).
 * Each trial is a train request with more "key=value" strings, so the search
 * knows nothing of the family: the registry checks the names and ranges. */
#include "vigil/tune.h"
#include "vigil/rng.h"
#include "vigil/parallel.h"
#include "tpe.h"

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

/* "KEY=VALUE" of axis a at coordinate c (a list: the value's index; a
 * range: u in [0, 1]). */
static char *axis_param(const vg_tune_axis *a, double c)
{
    char val[64];
    const char *v = val;
    if (a->values) v = a->values[(size_t)c < a->n_values ? (size_t)c : a->n_values - 1];
    else range_value(a, c, val, sizeof val);
    size_t n = strlen(a->key) + strlen(v) + 2;
    char *kv = vg_malloc(n);
    if (kv) snprintf(kv, n, "%s=%s", a->key, v);
    return kv;
}

/* The coordinate that the value text of c lands on: an integer range
 * rounds, so TPE learns from the setting that really ran. */
static double coord_canonical(const vg_tune_axis *a, double c)
{
    if (a->values || !a->integer) return c;
    double x = round(a->log ? exp(log(a->lo) + c * (log(a->hi) - log(a->lo))) : a->lo + c * (a->hi - a->lo));
    double u = a->log ? (log(x) - log(a->lo)) / (log(a->hi) - log(a->lo)) : (x - a->lo) / (a->hi - a->lo);
    return u < 0 ? 0 : u > 1 ? 1 : u;
}

/* Coordinates of trial t without a model of the results: grid - digit t of
 * the product; random (and TPE's first trials) - draws from (seed, t). */
static void plain_coords(const vg_tune_axis *axes, size_t n_axes, size_t t, uint64_t seed, int random, double *x)
{
    vg_rng rng;
    vg_rng_seed(&rng, seed, 0x7e00 + t);
    size_t rest = t;
    for (size_t a = 0; a < n_axes; a++) {
        const vg_tune_axis *ax = &axes[a];
        size_t k = axis_points(ax);
        if (random) x[a] = ax->values ? (double)vg_rng_below(&rng, (uint32_t)ax->n_values) : vg_rng_uniform(&rng);
        else x[a] = ax->values ? (double)(rest % k) : (double)(rest % k) / (GRID_POINTS - 1);
        rest /= k;
    }
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

const char *vg_tune_search_str(vg_tune_search s)
{
    return s == VG_TUNE_RANDOM ? "random" : s == VG_TUNE_TPE ? "tpe" : "grid";
}

/* Successive halving stops dividing before a rung would cross-validate
 * fewer rows than this (per fold pair of classes it leaves too few rows to
 * rank settings by). */
#define HALVING_MIN_ROWS 300

/* One search in progress: the current batch of trials (which need not wait
 * for each other) and where each lands. */
typedef struct search {
    const vg_train_request *rq;
    const vg_tune_axis *axes;
    size_t n_axes;
    const vg_tune_params *p;
    vg_tune_result *out;
    double t0;
    const vg_table *table;     /* the rung's rows */
    uint32_t rung;
    const size_t *batch;
    vg_status *task_st;        /* per batch task */
    char (*task_err)[256];
    uint8_t *ran;              /* per batch task: 1 ran, 0 skipped by the time budget */
    int inner_threads;
} search;

static int out_of_time(const search *s)
{
    return s->p->time_budget > 0 && vg_now() - s->t0 >= s->p->time_budget;
}

/* Cross-validate trial t on the rung's rows. The message of a failure is
 * copied out: the last error is per thread. */
static vg_status run_trial(search *s, size_t t, int threads, char *err, size_t cap)
{
    const vg_train_request *rq = s->rq;
    vg_tune_trial *tr = &s->out->trials[t];
    size_t total = rq->n_params + tr->n_params;
    const char **all = vg_malloc((total ? total : 1) * sizeof *all);
    if (!all) {
        snprintf(err, cap, "out of memory");
        return VG_ERR_NOMEM;
    }
    if (rq->n_params) memcpy(all, rq->params, rq->n_params * sizeof *all);
    memcpy(all + rq->n_params, tr->params, tr->n_params * sizeof *all);
    vg_train_request trq = *rq;
    trq.params = all, trq.n_params = total;
    trq.table = s->table;
    trq.threads = threads;
    if (threads != rq->threads) trq.progress = NULL;  /* side by side: no one progress line */
    vg_cv_result cv;
    double t0 = vg_now(), mean = NAN, sd = NAN;
    vg_status st = vg_cv_run(&trq, &s->p->cv, &cv);
    if (!st) {
        st = score(&cv, s->p->metric, &mean, &sd);
        vg_cv_result_free(&cv);
    }
    vg_free(all);
    if (st) {
        snprintf(err, cap, "%s", vg_last_error());
        return st;
    }
    tr->mean = mean, tr->std = sd;
    tr->seconds += vg_now() - t0;
    tr->rung = s->rung;
    tr->rows = vg_table_rows(s->table);
    return VG_OK;
}

static void batch_task(void *ctx, size_t i, int worker)
{
    (void)worker;
    search *s = ctx;
    s->ran[i] = 0;
    if (out_of_time(s)) return;
    s->task_st[i] = run_trial(s, s->batch[i], s->inner_threads, s->task_err[i], sizeof s->task_err[i]);
    s->ran[i] = 1;
}

/* Run trials batch[0..n) side by side; ran[i] says which did. A failure
 * is reported for the first failed trial in batch order, whichever thread
 * failed first. */
static vg_status run_batch(search *s, const size_t *batch, size_t n, uint8_t *ran)
{
    if (n == 0) return VG_OK;
    int threads = vg_threads_resolve(s->rq->threads);
    s->batch = batch;
    s->ran = ran;
    s->task_st = vg_calloc(n, sizeof *s->task_st);
    s->task_err = vg_calloc(n, sizeof *s->task_err);
    if (!s->task_st || !s->task_err) {
        vg_free(s->task_st), vg_free(s->task_err);
        return vg_fail(VG_ERR_NOMEM, "out of memory");
    }
    /* Several trials: one thread each, so they never wait on each other's
     * parallel steps; one trial: all the threads inside it. */
    s->inner_threads = n > 1 && threads > 1 ? 1 : s->rq->threads;
    vg_parallel_for(n > 1 ? threads : 1, n, batch_task, s);
    vg_status st = VG_OK;
    for (size_t i = 0; i < n && !st; i++)
        if (ran[i] && s->task_st[i])
            st = vg_fail(s->task_st[i], "trial %zu: %s", batch[i] + 1, s->task_err[i]);
    vg_free(s->task_st), vg_free(s->task_err);
    s->task_st = NULL, s->task_err = NULL;
    return st;
}

/* Loss for ranking: lower is better; a trial without a score is worst. */
static double trial_loss(const vg_tune_result *r, size_t t)
{
    double m = r->trials[t].mean;
    if (isnan(m)) return INFINITY;
    return r->higher_better ? -m : m;
}

/* Set trial t's parameter strings from coordinates x and check them. */
static vg_status set_params(const vg_train_request *rq, const vg_tune_axis *axes, size_t n_axes, const double *x,
                            vg_tune_trial *tr, const char **all)
{
    tr->params = vg_calloc(n_axes, sizeof *tr->params);
    if (!tr->params) return vg_fail(VG_ERR_NOMEM, "out of memory");
    for (size_t a = 0; a < n_axes; a++) {
        if (!(tr->params[a] = axis_param(&axes[a], x[a]))) return vg_fail(VG_ERR_NOMEM, "out of memory");
        tr->n_params = a + 1;
    }
    if (rq->n_params) memcpy(all, rq->params, rq->n_params * sizeof *all);
    memcpy(all + rq->n_params, tr->params, n_axes * sizeof *all);
    vg_train_request trq = *rq;
    trq.params = all, trq.n_params = rq->n_params + n_axes;
    return vg_train_request_check(&trq);
}

/* A stratified 1/k of rq's rows (fold 0 of k stratified folds, so the
 * classes keep their shares), for a halving rung below the top. */
static vg_status subsample(const vg_train_request *rq, uint32_t k, vg_table **out)
{
    vg_cv_params cp = vg_cv_params_default();
    cp.folds = k;
    vg_folds f = { 0 };
    size_t *tr = NULL, *te = NULL, ntr, nte;
    vg_status st = vg_cv_folds(rq, &cp, &f);
    if (!st) st = vg_folds_rows(&f, 0, &tr, &ntr, &te, &nte);
    if (!st) st = vg_table_take(rq->table, te, nte, out);
    vg_free(tr), vg_free(te);
    vg_folds_free(&f);
    return st;
}

static int cmp_loss_index(const void *a, const void *b)
{
    const double *x = a, *y = b;  /* pairs (loss, index) */
    if (x[0] != y[0]) return x[0] < y[0] ? -1 : 1;
    return (x[1] > y[1]) - (x[1] < y[1]);
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
    if (!(p->time_budget >= 0)) return vg_fail(VG_ERR_INVALID, "--time-budget: %g is not a number of seconds", p->time_budget);
    int random = p->search != VG_TUNE_GRID, tpe = p->search == VG_TUNE_TPE;
    size_t n = 1;
    for (size_t a = 0; a < n_axes; a++) {
        size_t k = axis_points(&axes[a]);
        n = n > SIZE_MAX / k ? SIZE_MAX : n * k;
    }
    if (random) n = p->trials ? p->trials : 20;
    else if (p->trials && p->trials < n) n = p->trials;
    if (n > 100000) return vg_fail(VG_ERR_LIMIT, "--grid: %zu trials are too many (at most 100000)", n);
    double t_start = vg_now();
    out->trials = vg_calloc(n, sizeof *out->trials);
    out->higher_better = vg_tune_metric_higher_better(p->metric);
    out->n_rungs = 1;
    size_t total = rq->n_params + n_axes;
    const char **all = vg_malloc(total * sizeof *all);
    double *X = vg_calloc(n * n_axes, sizeof *X), *loss = vg_malloc(n * sizeof *loss), *pairs = vg_malloc(2 * n * sizeof *pairs);
    size_t *batch = vg_malloc(n * sizeof *batch);
    uint8_t *ran = vg_calloc(n, 1), *alive = vg_calloc(n, 1);
    vg_table *sub = NULL;
    search s = { .rq = rq, .axes = axes, .n_axes = n_axes, .p = p, .out = out, .t0 = t_start, .table = rq->table };
    vg_status st = VG_OK;
    if (!out->trials || !all || !X || !loss || !pairs || !batch || !ran || !alive) {
        st = vg_fail(VG_ERR_NOMEM, "out of memory");
        goto done;
    }
    /* The rungs: R divisions by three while the settings and rows allow. */
    uint32_t R = 0;
    if (p->halving) {
        size_t rows = vg_table_rows(rq->table), scale = 3;
        while (scale <= n && rows / scale >= HALVING_MIN_ROWS) R++, scale *= 3;
    }
    out->n_rungs = R + 1;
    /* Every setting known in advance is checked before any fit. */
    size_t n_plain = tpe ? (n < VG_TPE_STARTUP ? n : VG_TPE_STARTUP) : n;
    for (size_t t = 0; t < n_plain && !st; t++) {
        plain_coords(axes, n_axes, t, rq->seed, random, X + t * n_axes);
        for (size_t a = 0; a < n_axes; a++) X[t * n_axes + a] = coord_canonical(&axes[a], X[t * n_axes + a]);
        st = set_params(rq, axes, n_axes, X + t * n_axes, &out->trials[t], all);
    }
    out->n_trials = n;
    if (st) goto done;
    uint32_t top = 1;
    for (uint32_t r = 0; r < R; r++) top *= 3;
    if (R > 0 && (st = subsample(rq, top, &sub))) goto done;
    s.table = R > 0 ? sub : rq->table;
    s.rung = 0;
    /* Rung 0: the plain trials side by side, then TPE's one at a time. */
    for (size_t t = 0; t < n_plain; t++) batch[t] = t;
    if ((st = run_batch(&s, batch, n_plain, ran))) goto done;
    for (size_t t = 0; t < n_plain; t++) alive[t] = ran[t];
    for (size_t t = n_plain; t < n && !st; t++) {
        if (out_of_time(&s)) break;
        size_t m = 0;  /* the history: trials that ran */
        for (size_t i = 0; i < t; i++)
            if (alive[i]) loss[m++] = trial_loss(out, i);
        /* X rows of the trials that ran, packed (all of them ran unless
         * the budget cut in, and then the loop has stopped). */
        vg_tpe_suggest(axes, n_axes, X, loss, m, rq->seed, 0x7e00 + t, X + t * n_axes);
        for (size_t a = 0; a < n_axes; a++) X[t * n_axes + a] = coord_canonical(&axes[a], X[t * n_axes + a]);
        if ((st = set_params(rq, axes, n_axes, X + t * n_axes, &out->trials[t], all))) break;
        batch[0] = t;
        if ((st = run_batch(&s, batch, 1, ran))) break;
        alive[t] = ran[0];
    }
    if (st) goto done;
    /* Promote the best third (rounded up) of each rung to three times the rows. */
    for (uint32_t r = 1; r <= R && !out_of_time(&s); r++) {
        size_t m = 0;
        for (size_t t = 0; t < n; t++)
            if (alive[t] && out->trials[t].rung == r - 1) pairs[2 * m] = trial_loss(out, t), pairs[2 * m + 1] = (double)t, m++;
        qsort(pairs, m, 2 * sizeof *pairs, cmp_loss_index);
        size_t keep = (m + 2) / 3;
        for (size_t i = 0; i < keep; i++) batch[i] = (size_t)pairs[2 * i + 1];
        top /= 3;
        vg_table_free(sub);
        sub = NULL;
        if (r < R && (st = subsample(rq, top, &sub))) goto done;
        s.table = r < R ? sub : rq->table;
        s.rung = r;
        if ((st = run_batch(&s, batch, keep, ran))) goto done;
    }
    /* Trials the budget stopped before they ran are dropped. */
    size_t kept = 0;
    for (size_t t = 0; t < n; t++) {
        if (alive[t]) {
            if (kept != t) out->trials[kept] = out->trials[t], memset(&out->trials[t], 0, sizeof out->trials[t]);
            kept++;
        } else {
            for (size_t i = 0; i < out->trials[t].n_params; i++) vg_free(out->trials[t].params[i]);
            vg_free(out->trials[t].params);
            memset(&out->trials[t], 0, sizeof out->trials[t]);
        }
    }
    out->budget_hit = kept < n || out_of_time(&s);
    out->n_trials = kept;
    if (kept == 0) {
        st = vg_fail(VG_ERR_INVALID, "--time-budget: %g s ran out before the first trial finished", p->time_budget);
        goto done;
    }
    uint32_t reached = 0;
    for (size_t t = 0; t < kept; t++)
        if (out->trials[t].rung > reached) reached = out->trials[t].rung;
    int have = 0;
    for (size_t t = 0; t < kept; t++) {
        if (out->trials[t].rung != reached) continue;
        if (!have || trial_loss(out, t) < trial_loss(out, out->best)) out->best = t;
        have = 1;
    }
done:
    out->seconds = vg_now() - t_start;
    vg_table_free(sub);
    vg_free(all), vg_free(X), vg_free(loss), vg_free(pairs), vg_free(batch), vg_free(ran), vg_free(alive);
    if (st) vg_tune_result_free(out);
    return st;
}
