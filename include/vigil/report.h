/* Shareable HTML reports of evaluations: one self-contained file (inline CSS
 * and SVG, no script, no network) that opens in any browser and prints well.
 * One model gives its headline metrics, ROC and precision-recall curves, the
 * confusion matrix as a heat map, the score distribution per class, feature
 * importance and the per-class table; several models (vigil compare) give
 * one table side by side, overlaid curves and each model's confusion matrix.
 * All text taken from data (class, field and file names) is escaped. */
#ifndef VIGIL_REPORT_H
#define VIGIL_REPORT_H

#include <stddef.h>
#include <time.h>
#include "vigil/buf.h"
#include "vigil/core.h"
#include "vigil/evaluate.h"
#include "vigil/source_summary.h"

#ifdef __cplusplus
extern "C" {
#endif

struct vg_alert_summary;

/* One model and its evaluation on the report's data (both borrowed). */
typedef struct vg_report_input {
    const char *name;            /* heading; NULL = the model's family */
    const char *source;          /* where the model came from (its file), shown; may be NULL */
    const vg_model *model;
    const vg_evaluation *eval;   /* vg_evaluate of `model`, proba and y still held; NULL for
                                    unlabelled data (one model only: no metrics, the page says so) */
    const vg_table *data;        /* the rows reported on, or NULL: an anomaly model's report lists
                                    its top-scoring rows with their raw values (one model only) */
} vg_report_input;

typedef struct vg_report_params {
    const char *title;           /* NULL: "Evaluation report" / "Model comparison" */
    const char *data;            /* what the models were evaluated on (a path); may be NULL */
    const char *train;           /* what they were trained on, when known; may be NULL */
    time_t created;              /* date shown; 0 = now */
    size_t top_features;         /* importance bars shown; default 15 */
    int threads;                 /* for scoring and explaining the top anomalies; 0 = all CPUs */
    /* Log sources: a "Sources" section with one block per summary (borrowed). */
    const vg_source_summary *const *sources;
    size_t n_sources;
    /* An alert store's summary (borrowed) and its path: an "Alert store"
     * section. With it, n may be 0: a report of the store alone. */
    const struct vg_alert_summary *alerts;
    const char *alerts_path;
} vg_report_params;

VG_API vg_report_params vg_report_params_default(void);

/* The report as HTML appended to out. n >= 1 (or 0 with p->alerts); n > 1
 * makes a comparison. Errors: VG_ERR_INVALID for n == 0 without an alert
 * store, a missing model, or a missing evaluation in a comparison;
 * VG_ERR_NOMEM. */
VG_API vg_status vg_report_html(const vg_report_input *in, size_t n, const vg_report_params *p, vg_wbuf *out);

/* The same written to `path` (replaced whole: written to a temporary file
 * beside it, then renamed). Errors as vg_report_html, and VG_ERR_IO naming
 * the path. */
VG_API vg_status vg_report_write(const char *path, const vg_report_input *in, size_t n, const vg_report_params *p);

#ifdef __cplusplus
}
#endif

#endif
