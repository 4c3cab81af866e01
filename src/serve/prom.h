/* Prometheus text exposition format (version 0.0.4): HELP/TYPE lines,
 * samples with escaped label values, and histograms with cumulative
 * buckets. Pure formatting, so it is tested on its own. */
#ifndef VG_SERVE_PROM_H
#define VG_SERVE_PROM_H

#include <stddef.h>
#include <stdint.h>

#include "serve/text.h"

/* "# HELP name help\n# TYPE name type\n". */
void vg_prom_header(vg_text *t, const char *name, const char *type, const char *help);
/* A label value with '\\', '"' and newlines escaped (no quotes added). */
void vg_prom_escape(vg_text *t, const char *value);
/* name{labels} value\n; labels is preformatted `k="v",...` text or NULL. */
void vg_prom_sample(vg_text *t, const char *name, const char *labels, double value);
/* name_bucket{labels,le="b"} for each bound (cumulative), le="+Inf",
 * name_sum and name_count. counts holds n_bounds + 1 per-bucket (not
 * cumulative) counts, the last being the overflow past the last bound. */
void vg_prom_histogram(vg_text *t, const char *name, const char *labels, const double *bounds,
                       const uint64_t *counts, size_t n_bounds, double sum);
/* A value as Prometheus writes it: integers plainly, +Inf/-Inf/NaN by name. */
void vg_prom_value(vg_text *t, double v);

#endif
