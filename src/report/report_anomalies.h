/* The "Top anomalies" section of a report on an anomaly model (internal). */
#ifndef VG_REPORT_ANOMALIES_H
#define VG_REPORT_ANOMALIES_H

#include "vigil/buf.h"
#include "vigil/model.h"
#include "vigil/table.h"

/* Append the `top` highest-scoring rows of t with their explanations and raw
 * values. Nothing for a model that is not an anomaly model. */
vg_status vg_report_put_top_anomalies(vg_wbuf *w, const vg_model *m, const vg_table *t, size_t top, int threads);

#endif
