/* What the charts of an evaluation are drawn from: ROC and precision-recall
 * curves thinned to a few hundred points, and per-class histograms of the
 * score. One computation feeds both the evaluation JSON (stored in the model
 * file for the dashboard's model card) and the HTML report, so the two always
 * show the same picture. Internal to the library. */
#ifndef VG_EVAL_REPORT_DATA_H
#define VG_EVAL_REPORT_DATA_H

#include <stddef.h>
#include <stdint.h>
#include "vigil/evaluate.h"

#define VG_PLOT_MAX_POINTS 200  /* per curve, after thinning */
#define VG_PLOT_EPS 0.002       /* thinning tolerance of one curve, in units of the axes */
#define VG_PLOT_BINS 20         /* score histogram over [lo, hi] */

/* A polyline in the unit square: n points as x, y pairs (owned). */
typedef struct vg_plot_line {
    uint32_t cls;       /* the class whose one-vs-rest curve this is */
    size_t n;
    double *xy;         /* n x 2 */
} vg_plot_line;

typedef struct vg_eval_plots {
    uint32_t n_classes;
    int binary;         /* 1: a single curve, of the positive class */
    size_t n_curves;    /* classes that have both positive and negative rows */
    vg_plot_line *roc;  /* n_curves entries: x = FPR, y = TPR (owned) */
    vg_plot_line *pr;   /* n_curves entries: x = recall, y = precision (owned) */
    /* Rows of each true class by score bin, n_classes x VG_PLOT_BINS. The
     * score is the decision rule's, the one `vigil predict` prints: binary -
     * the probability of the positive class; multiclass - 1 - P(normal). */
    size_t *hist;
    double lo, hi;      /* the histogram's score range: [0, 1] for probabilities; an anomaly
                           score's own range, the threshold included */
    double threshold;   /* the evaluation's decision threshold (drawn as a line) */
} vg_eval_plots;

/* Curves and histograms of a classification evaluation (rows with an
 * excluded label are skipped). A class present in every row or in none has
 * no curve. Fails with VG_ERR_INVALID for a regression evaluation, and
 * VG_ERR_NOMEM. *out is always safe to free. */
vg_status vg_eval_plots_compute(const vg_model *m, const vg_evaluation *e, vg_eval_plots *out);
void vg_eval_plots_free(vg_eval_plots *p);

/* Adds "curves": {"roc": [[x, y], ...], "pr": [...]} (binary) or keyed by
 * class name (multiclass), and "score_histogram": {"score", "bins", "counts":
 * {class: [...]}, "range": [lo, hi]} to obj. Coordinates are rounded to 4 decimals. */
struct cJSON;
vg_status vg_eval_plots_to_json(const vg_eval_plots *p, const char *const *class_names, struct cJSON *obj);

/* Thin a polyline (n points, x y pairs) to at most max_points (>= 2) that
 * stay within about `eps` of it, keeping the first and last point and the
 * order, so a monotone curve stays monotone. Writes the kept points to
 * out_xy (room for n points; may equal xy) and their number to *n_out.
 * Errors: VG_ERR_INVALID for max_points < 2, VG_ERR_NOMEM. */
vg_status vg_plot_thin(const double *xy, size_t n, size_t max_points, double eps, double *out_xy,
                       size_t *n_out);

#endif
