/* Cross-validation and training at an operating point (see vigil/cv.h).
 *
 * Why each fold goes through vg_model_train on a table of its own rows
 * (vg_table_take) rather than through a fold-aware fit: training is the one
 * place that fits things (the pipeline, class weights, a sampler, the
 * estimator), so handing it only the fold's rows makes leaking the held-out
 * rows impossible instead of something each step must remember, and a new
 * family or step is cross-validated without a line here. The cost is a copy
 * of the training rows per fold, small next to a fit. */
#include "vigil/cv.h"
#include "vigil/decision.h"
#include "vigil/evaluate.h"
#include "vigil/format.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

static const char *const class_metrics[] = { "accuracy", "precision", "recall", "f1", "fpr", "macro_f1",
                                             "weighted_f1", "roc_auc", "pr_auc", "log_loss", "threshold",
                                             "train_seconds", "predict_seconds" };
static const char *const reg_metrics[] = { "rmse", "mae", "r2", "train_seconds", "predict_seconds" };

vg_cv_params vg_cv_params_default(void)
{
    return (vg_cv_params){ .folds = 5, .kind = VG_FOLDS_STRATIFIED, .op_folds = 5 };
}

void vg_cv_result_free(vg_cv_result *r)
{
    if (!r) return;
    vg_free(r->value), vg_free(r->mean), vg_free(r->std), vg_free(r->train_rows), vg_free(r->test_rows);
    vg_free(r->oof_score), vg_free(r->oof_positive);
    memset(r, 0, sizeof *r);
}

static vg_status find_column(const vg_table *t, const char *opt, const char *name, size_t *col)
{
    long c = name ? vg_table_find(t, name) : -1;
    if (c < 0) return vg_fail(VG_ERR_INVALID, "%s: %s has no column '%s'", opt, vg_table_source(t), name ? name : "");
    *col = (size_t)c;
    return VG_OK;
}

vg_status vg_cv_folds(const vg_train_request *rq, const vg_cv_params *p, vg_folds *out)
{
    const vg_table *t = rq->table;
    size_t col;
    vg_status st;
    if (p->kind == VG_FOLDS_GROUPED) {
        if ((st = find_column(t, "--group", p->column, &col))) return st;
        return vg_folds_grouped(t, col, p->folds, rq->seed, out);
    }
    if (p->kind == VG_FOLDS_TIME) {
        if ((st = find_column(t, "--time", p->column, &col))) return st;
        return vg_folds_time(t, col, p->folds, out);
    }
    if (rq->data.task == VG_TASK_REGRESSION) return vg_folds_stratified(NULL, vg_table_rows(t), 1, p->folds, rq->seed, out);
    /* The classes of the whole table only deal the folds; every fold's
     * model decides its own from its training rows. */
    const char *label = vg_data_label(t, &rq->data);
    if ((st = find_column(t, "--label", label, &col))) return st;
    const vg_format *f = vg_data_format(&rq->data);
    vg_label_spec ls = { .task = rq->data.task, .kdd = f && f->kdd_labels, .positive = rq->data.positive,
                         .normal = rq->data.normal };
    size_t rows = vg_table_rows(t);
    int32_t *y = vg_malloc((rows ? rows : 1) * sizeof *y);
    vg_classes c = { 0 };
    if (!y) return vg_fail(VG_ERR_NOMEM, "out of memory");
    st = vg_classes_fit(t, col, &ls, &c, y);
    if (!st) st = vg_folds_stratified(y, rows, c.n, p->folds, rq->seed, out);
    vg_classes_free(&c);
    vg_free(y);
    return st;
}

/* One fold's figures into row v, and its out-of-fold scores. */
static vg_status score_fold(const vg_model *m, const vg_evaluation *e, const size_t *test, size_t n_test, double *v,
                            vg_cv_result *out)
{
    if (e->regression) {
        v[0] = e->reg.rmse, v[1] = e->reg.mae, v[2] = e->reg.r2;
        v[3] = vg_model_train_seconds(m), v[4] = e->predict_seconds;
        for (size_t i = 0; i < n_test; i++) out->oof_score[test[i]] = e->proba[i];
        return VG_OK;
    }
    const vg_metrics *mt = &e->metrics;
    double row[] = { mt->accuracy, mt->precision, mt->recall, mt->f1, mt->fpr, mt->macro_f1, mt->weighted_f1,
                     mt->roc_auc, mt->pr_auc, mt->log_loss, e->threshold, vg_model_train_seconds(m),
                     e->predict_seconds };
    memcpy(v, row, sizeof row);
    vg_decision_rule rule;
    vg_status st = vg_decision_rule_for_model(m, NAN, &rule);
    if (st) return st;
    for (size_t i = 0; i < n_test; i++) {
        size_t r = test[i];
        if (e->y[i] < 0) continue;  /* a label this fold's model never saw */
        out->oof_score[r] = (float)vg_decision_make(&rule, e->proba + i * rule.n_outputs).score;
        out->oof_positive[r] = e->y[i] != rule.normal;
    }
    return VG_OK;
}

vg_status vg_cv_run(const vg_train_request *rq, const vg_cv_params *p, vg_cv_result *out)
{
    memset(out, 0, sizeof *out);
    vg_status st = vg_train_request_check(rq);
    if (st) return st;
    vg_folds folds = { 0 };
    if ((st = vg_cv_folds(rq, p, &folds))) return st;
    size_t rows = vg_table_rows(rq->table);
    int regression = rq->data.task == VG_TASK_REGRESSION;
    if (regression && p->op) {
        vg_folds_free(&folds);
        return vg_fail(VG_ERR_INVALID, "--threshold-by: a regression model has no classes to set a threshold for");
    }
    out->regression = regression;
    out->folds = folds.k;
    out->rows = rows;
    out->names = regression ? reg_metrics : class_metrics;
    out->n_metrics = regression ? sizeof reg_metrics / sizeof *reg_metrics : sizeof class_metrics / sizeof *class_metrics;
    out->value = vg_malloc(folds.k * out->n_metrics * sizeof *out->value);
    out->mean = vg_malloc(out->n_metrics * sizeof *out->mean);
    out->std = vg_malloc(out->n_metrics * sizeof *out->std);
    out->train_rows = vg_calloc(folds.k, sizeof *out->train_rows);
    out->test_rows = vg_calloc(folds.k, sizeof *out->test_rows);
    out->oof_score = vg_malloc((rows ? rows : 1) * sizeof *out->oof_score);
    out->oof_positive = vg_malloc(rows ? rows : 1);
    if (!out->value || !out->mean || !out->std || !out->train_rows || !out->test_rows || !out->oof_score ||
        !out->oof_positive) {
        st = vg_fail(VG_ERR_NOMEM, "out of memory");
        goto done;
    }
    for (size_t r = 0; r < rows; r++) out->oof_score[r] = NAN, out->oof_positive[r] = 2;
    for (uint32_t f = 0; f < folds.k && !st; f++) {
        size_t *tr = NULL, *te = NULL, ntr, nte;
        vg_table *ttr = NULL, *tte = NULL;
        vg_model *m = NULL;
        vg_evaluation e = { 0 };
        if (!(st = vg_folds_rows(&folds, f, &tr, &ntr, &te, &nte)) && !(st = vg_table_take(rq->table, tr, ntr, &ttr)) &&
            !(st = vg_table_take(rq->table, te, nte, &tte))) {
            vg_train_request frq = *rq;
            frq.table = ttr;
            st = p->op ? vg_cv_train(&frq, p->op, p->op_folds ? p->op_folds : 5, NULL, &m) : vg_model_train(&frq, &m);
            if (!st) st = vg_evaluate(m, tte, rq->threads, &e);
            if (!st) st = score_fold(m, &e, te, nte, out->value + (size_t)f * out->n_metrics, out);
            if (!st && p->on_fold) p->on_fold(p->user, f, m, tr, ntr, te, nte);
            if (st) {
                char msg[512];
                snprintf(msg, sizeof msg, "%s", vg_last_error());
                st = vg_fail(st, "fold %u of %u: %s", f + 1, folds.k, msg);
            }
            out->train_rows[f] = ntr, out->test_rows[f] = nte;
        }
        vg_evaluation_free(&e);
        vg_model_free(m);
        vg_table_free(ttr), vg_table_free(tte);
        vg_free(tr), vg_free(te);
    }
    for (size_t j = 0; !st && j < out->n_metrics; j++) {
        double s = 0, ss = 0;
        size_t n = 0;
        for (uint32_t f = 0; f < folds.k; f++) {
            double x = out->value[(size_t)f * out->n_metrics + j];
            if (!isnan(x)) s += x, n++;
        }
        double mean = n ? s / (double)n : NAN;
        for (uint32_t f = 0; f < folds.k; f++) {
            double x = out->value[(size_t)f * out->n_metrics + j];
            if (!isnan(x)) ss += (x - mean) * (x - mean);
        }
        out->mean[j] = mean;
        out->std[j] = n ? sqrt(ss / (double)n) : NAN;
    }
done:
    vg_folds_free(&folds);
    if (st) vg_cv_result_free(out);
    return st;
}

vg_status vg_cv_train(const vg_train_request *rq, const vg_operating_point *op, uint32_t folds, vg_op_result *chosen,
                      vg_model **out)
{
    *out = NULL;
    if (rq->data.task == VG_TASK_REGRESSION)
        return vg_fail(VG_ERR_INVALID, "--threshold-by: a regression model has no classes to set a threshold for");
    const vg_estimator_kind *kind = vg_estimator_find(rq->model ? rq->model : "forest");
    if (kind && !kind->needs_labels)
        return vg_fail(VG_ERR_INVALID, "--threshold-by: model '%s' learns without labels; its threshold comes from "
                                       "--contamination or --alert-rate", kind->name);
    vg_cv_params p = vg_cv_params_default();
    p.folds = folds;
    vg_cv_result cv;
    vg_status st = vg_cv_run(rq, &p, &cv);
    if (st) return st;
    /* Rows no fold could score (a label a fold's model never saw) sit out. */
    size_t n = 0;
    for (size_t r = 0; r < cv.rows; r++)
        if (cv.oof_positive[r] < 2) {
            cv.oof_score[n] = cv.oof_score[r];
            cv.oof_positive[n] = cv.oof_positive[r];
            n++;
        }
    vg_op_result res;
    st = vg_operating_point_choose(op, cv.oof_positive, cv.oof_score, n, &res);
    vg_cv_result_free(&cv);
    if (st) return st;
    char goal[96], by[320];
    vg_operating_point_str(op, goal, sizeof goal);
    snprintf(by, sizeof by,
             "%s on %u-fold out-of-fold scores of the %zu training rows (there: fpr %.4g, recall %.4g, "
             "precision %.4g, alerts %.4g)",
             goal, folds, n, res.fpr, res.tpr, res.precision, res.alert_rate);
    vg_train_request frq = *rq;
    frq.threshold_set = 1;
    frq.threshold = res.threshold;
    frq.threshold_by = by;
    if ((st = vg_model_train(&frq, out))) return st;
    if (chosen) *chosen = res;
    return VG_OK;
}
