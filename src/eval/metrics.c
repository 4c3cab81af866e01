/* Classification metrics from true classes and predicted probabilities (see
 * vigil/metrics.h). Every figure follows scikit-learn 1.2's definition so a
 * user can check ours against theirs; tests/test_metrics.c does exactly that
 * with the values tools/golden_metrics.py writes. */
#include "vigil/metrics.h"
#include "eval/sweep.h"

#include <math.h>
#include <string.h>

/* scikit-learn's log_loss clips probabilities to [eps, 1 - eps]. Since 1.2
 * its default is the dtype's epsilon; 1e-15 is the long-standing value and
 * what the golden tests pass explicitly. */
#define METRICS_LOG_LOSS_EPS 1e-15

/* ROC-AUC (*roc) and average precision (*ap) of score[i * stride] against
 * is_pos[i], from one sorted sweep. Both are NaN when only one class is
 * present. Fails only on allocation or a NaN score. */
static vg_status sweep_areas(const uint8_t *is_pos, const float *score, size_t stride, size_t n,
                             double *roc, double *ap)
{
    *roc = NAN;
    *ap = NAN;
    vg_sweep s;
    vg_status st = vg_sweep_init(is_pos, score, stride, n, &s);
    if (st != VG_OK) return st;
    if (s.positives == 0 || s.negatives == 0) {
        vg_sweep_free(&s);
        return VG_OK;
    }
    float thr;
    size_t tp, fp, prev_tp = 0, prev_fp = 0;
    double trapezoids = 0.0, steps = 0.0;
    while (vg_sweep_next(&s, &thr, &tp, &fp)) {
        /* ROC: trapezoid between consecutive thresholds, in counts (exact
         * in a double up to 2^53), divided once at the end. */
        trapezoids += (double)(fp - prev_fp) * (double)(tp + prev_tp);
        /* AP: step integral, the recall gained at this threshold times the
         * precision there, without interpolation, as scikit-learn. */
        steps += (double)(tp - prev_tp) * ((double)tp / (double)(tp + fp));
        prev_tp = tp;
        prev_fp = fp;
    }
    *roc = trapezoids / (2.0 * (double)s.positives * (double)s.negatives);
    *ap = steps / (double)s.positives;
    vg_sweep_free(&s);
    return VG_OK;
}

double vg_roc_auc(const uint8_t *is_pos, const float *score, size_t n)
{
    double roc, ap;
    return sweep_areas(is_pos, score, 1, n, &roc, &ap) == VG_OK ? roc : NAN;
}

double vg_average_precision(const uint8_t *is_pos, const float *score, size_t n)
{
    double roc, ap;
    return sweep_areas(is_pos, score, 1, n, &roc, &ap) == VG_OK ? ap : NAN;
}

/* scikit-learn's zero_division=0: an undefined ratio reports 0. */
static double ratio(size_t num, size_t den)
{
    return den ? (double)num / (double)den : 0.0;
}

/* Everything the caller handed in is checked before any work, so a bad row
 * is reported by number rather than found half-way through. */
static vg_status check_input(const int32_t *y, const float *proba, size_t rows, uint32_t n_classes)
{
    if (!y || !proba) return vg_fail(VG_ERR_INVALID, "metrics: no labels or probabilities given");
    if (rows == 0) return vg_fail(VG_ERR_INVALID, "metrics: no rows");
    if (n_classes < 2) return vg_fail(VG_ERR_INVALID, "metrics: need at least 2 classes, got %u", n_classes);
    if ((size_t)n_classes > SIZE_MAX / sizeof(size_t) / n_classes || rows > SIZE_MAX / n_classes)
        return vg_fail(VG_ERR_INVALID, "metrics: %zu rows x %u classes is too large", rows, n_classes);
    for (size_t i = 0; i < rows; i++) {
        if (y[i] < 0 || (uint32_t)y[i] >= n_classes)
            return vg_fail(VG_ERR_INVALID, "metrics: row %zu has class %d, expected 0..%u",
                           i, (int)y[i], n_classes - 1);
    }
    for (size_t i = 0; i < rows * n_classes; i++) {
        if (!isfinite(proba[i]))
            return vg_fail(VG_ERR_INVALID, "metrics: probability of class %zu in row %zu is not finite",
                           i % n_classes, i / n_classes);
    }
    return VG_OK;
}

/* proba: (rows, k). Fills the confusion matrix (k, k), rows = truth, and
 * returns the mean log loss. */
static double count_rows(const int32_t *y, const float *proba, const int32_t *decided, size_t rows, uint32_t k,
                         size_t *confusion)
{
    double loss = 0.0;
    for (size_t i = 0; i < rows; i++) {
        const float *p = proba + i * k;
        uint32_t pred = 0;
        if (decided) {
            pred = (uint32_t)decided[i];
        } else {
            for (uint32_t j = 1; j < k; j++)
                if (p[j] > p[pred]) pred = j;  /* strict: the lowest index wins ties */
        }
        confusion[(size_t)y[i] * k + pred]++;

        /* Clip every probability, then renormalise the row, in that order,
         * as scikit-learn's log_loss does; -log of the true class's share. */
        double sum = 0.0, truth = 0.0;
        for (uint32_t j = 0; j < k; j++) {
            double c = fmin(fmax((double)p[j], METRICS_LOG_LOSS_EPS), 1.0 - METRICS_LOG_LOSS_EPS);
            sum += c;
            if (j == (uint32_t)y[i]) truth = c;
        }
        loss -= log(truth / sum);
    }
    return loss / (double)rows;
}

static void fill_class_reports(const size_t *confusion, size_t rows, uint32_t k, vg_class_report *pc)
{
    for (uint32_t c = 0; c < k; c++) {
        size_t tp = confusion[(size_t)c * k + c], support = 0, predicted = 0;
        for (uint32_t j = 0; j < k; j++) {
            support += confusion[(size_t)c * k + j];
            predicted += confusion[(size_t)j * k + c];
        }
        size_t fp = predicted - tp;
        size_t negatives = rows - support;
        vg_class_report *r = &pc[c];
        r->support = support;
        r->predicted = predicted;
        r->precision = ratio(tp, predicted);
        r->recall = ratio(tp, support);
        /* scikit-learn 1.2 derives F1 from the rounded precision and recall,
         * not from the counts; same formula so the last bits agree too. */
        r->f1 = r->precision + r->recall > 0.0
                    ? 2.0 * r->precision * r->recall / (r->precision + r->recall) : 0.0;
        r->fpr = ratio(fp, negatives);
        r->roc_auc = NAN;
        r->pr_auc = NAN;
    }
}

/* Headline figures. Macro averages run over the classes that occur in the
 * truth or in the predictions, which is scikit-learn's default label set: a
 * class nobody has and nobody predicts would only drag the mean to 0. */
static void summarise(vg_metrics *m)
{
    uint32_t k = m->n_classes;
    size_t correct = 0;
    for (uint32_t c = 0; c < k; c++) correct += m->confusion[(size_t)c * k + c];
    m->accuracy = (double)correct / (double)m->rows;

    double p = 0, r = 0, f = 0, fpr = 0, wf = 0;
    uint32_t used = 0;
    for (uint32_t c = 0; c < k; c++) {
        const vg_class_report *cr = &m->per_class[c];
        wf += cr->f1 * (double)cr->support;
        if (cr->support == 0 && cr->predicted == 0) continue;
        p += cr->precision;
        r += cr->recall;
        f += cr->f1;
        fpr += cr->fpr;
        used++;
    }
    m->macro_f1 = f / used;  /* used >= 1: rows > 0, so some class has support */
    m->weighted_f1 = wf / (double)m->rows;
    if (k == 2) {
        const vg_class_report *pos = &m->per_class[1];
        m->precision = pos->precision;
        m->recall = pos->recall;
        m->f1 = pos->f1;
        m->fpr = pos->fpr;
    } else {
        m->precision = p / used;
        m->recall = r / used;
        m->f1 = m->macro_f1;
        m->fpr = fpr / used;
    }
}

/* One-vs-rest ROC-AUC and average precision of every class; classes with no
 * positives or no negatives stay NaN and are left out of the macro means. */
static vg_status fill_areas(const int32_t *y, const float *proba, vg_metrics *m, uint8_t *is_pos)
{
    uint32_t k = m->n_classes;
    double roc = 0.0, ap = 0.0;
    uint32_t used = 0;
    for (uint32_t c = 0; c < k; c++) {
        vg_class_report *cr = &m->per_class[c];
        if (cr->support == 0 || cr->support == m->rows) continue;
        for (size_t i = 0; i < m->rows; i++) is_pos[i] = (uint32_t)y[i] == c;
        vg_status st = sweep_areas(is_pos, proba + c, k, m->rows, &cr->roc_auc, &cr->pr_auc);
        if (st != VG_OK) return st;
        roc += cr->roc_auc;
        ap += cr->pr_auc;
        used++;
    }
    if (k == 2) {
        /* Binary figures are about the positive class's score, proba[:, 1]. */
        m->roc_auc = m->per_class[1].roc_auc;
        m->pr_auc = m->per_class[1].pr_auc;
    } else {
        m->roc_auc = used ? roc / used : NAN;
        m->pr_auc = used ? ap / used : NAN;
    }
    return VG_OK;
}

vg_status vg_metrics_compute(const int32_t *y, const float *proba, size_t rows,
                             uint32_t n_classes, vg_metrics *out)
{
    return vg_metrics_compute_decided(y, proba, NULL, rows, n_classes, out);
}

vg_status vg_metrics_compute_decided(const int32_t *y, const float *proba, const int32_t *decided, size_t rows,
                                     uint32_t n_classes, vg_metrics *out)
{
    VG_ASSERT(out);
    memset(out, 0, sizeof *out);
    vg_status st = check_input(y, proba, rows, n_classes);
    if (st != VG_OK) return st;
    for (size_t i = 0; decided && i < rows; i++)
        if (decided[i] < 0 || (uint32_t)decided[i] >= n_classes)
            return vg_fail(VG_ERR_INVALID, "metrics: row %zu is decided as class %d, expected 0..%u", i,
                           (int)decided[i], n_classes - 1);

    size_t k = n_classes;
    out->n_classes = n_classes;
    out->rows = rows;
    out->confusion = vg_calloc(k * k, sizeof *out->confusion);
    out->per_class = vg_calloc(k, sizeof *out->per_class);
    uint8_t *is_pos = vg_malloc(rows);
    if (!out->confusion || !out->per_class || !is_pos) {
        st = vg_fail(VG_ERR_NOMEM, "metrics: out of memory for %zu rows x %zu classes", rows, k);
        goto err;
    }
    out->log_loss = count_rows(y, proba, decided, rows, n_classes, out->confusion);
    fill_class_reports(out->confusion, rows, n_classes, out->per_class);
    summarise(out);
    st = fill_areas(y, proba, out, is_pos);
    if (st != VG_OK) goto err;
    vg_free(is_pos);
    return VG_OK;

err:
    vg_free(is_pos);
    vg_metrics_free(out);
    return st;
}

vg_status vg_metrics_compute_scores(const int32_t *y, const float *score, const int32_t *decided, size_t rows,
                                    vg_metrics *out)
{
    VG_ASSERT(out);
    memset(out, 0, sizeof *out);
    if (!y || !score || !decided) return vg_fail(VG_ERR_INVALID, "metrics: no labels, scores or decisions given");
    if (rows == 0) return vg_fail(VG_ERR_INVALID, "metrics: no rows");
    for (size_t i = 0; i < rows; i++) {
        if (y[i] < 0 || y[i] > 1 || decided[i] < 0 || decided[i] > 1)
            return vg_fail(VG_ERR_INVALID, "metrics: row %zu has class %d decided as %d, expected 0 or 1", i,
                           (int)y[i], (int)decided[i]);
        if (!isfinite(score[i])) return vg_fail(VG_ERR_INVALID, "metrics: the score of row %zu is not finite", i);
    }
    out->n_classes = 2;
    out->rows = rows;
    out->log_loss = NAN;  /* a score is no probability */
    out->confusion = vg_calloc(4, sizeof *out->confusion);
    out->per_class = vg_calloc(2, sizeof *out->per_class);
    uint8_t *is_pos = vg_malloc(rows);
    float *negated = vg_malloc(rows * sizeof *negated);
    vg_status st = VG_OK;
    if (!out->confusion || !out->per_class || !is_pos || !negated) {
        st = vg_fail(VG_ERR_NOMEM, "metrics: out of memory for %zu rows", rows);
        goto done;
    }
    for (size_t i = 0; i < rows; i++) out->confusion[(size_t)y[i] * 2 + (size_t)decided[i]]++;
    fill_class_reports(out->confusion, rows, 2, out->per_class);
    summarise(out);
    /* Class 1 ranks by the score, class 0 by its negation, as a probability
     * pair (1 - p, p) would. */
    for (size_t i = 0; i < rows; i++) negated[i] = -score[i];
    for (int c = 0; c < 2 && !st; c++) {
        vg_class_report *cr = &out->per_class[c];
        if (cr->support == 0 || cr->support == rows) continue;
        for (size_t i = 0; i < rows; i++) is_pos[i] = y[i] == c;
        st = sweep_areas(is_pos, c ? score : negated, 1, rows, &cr->roc_auc, &cr->pr_auc);
    }
    out->roc_auc = out->per_class[1].roc_auc;
    out->pr_auc = out->per_class[1].pr_auc;
done:
    vg_free(is_pos), vg_free(negated);
    if (st) vg_metrics_free(out);
    return st;
}

void vg_metrics_free(vg_metrics *m)
{
    if (!m) return;
    vg_free(m->confusion);
    vg_free(m->per_class);
    memset(m, 0, sizeof *m);
}
