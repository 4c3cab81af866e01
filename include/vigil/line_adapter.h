/* Line adapters: one line in, one feature record (a vg_logfmt_event) out, for
 * every format a model can have: the log formats of logformat.h (stateful,
 * one state per watch process), and two tabular ones that vg_data_read reads
 * as whole tables but that a stream meets line by line:
 *   kdd - a KDD record (41 features, then an optional label and NSL-KDD's
 *         difficulty); stateless; the entity is the `service` field, so
 *         `vigil ship` has something to spread lines over shards with;
 *   csv - a CSV line; the first line of every source (line_no 1) is its
 *         header of column names. No entity. */
#ifndef VIGIL_LINE_ADAPTER_H
#define VIGIL_LINE_ADAPTER_H

#include <stddef.h>
#include <stdint.h>
#include "vigil/core.h"
#include "vigil/logformat.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct vg_line_adapter vg_line_adapter;

/* format: "kdd", "csv" or a log format name. label_column: the csv column
 * that holds the ground truth (kept out of the features), or NULL. opt bounds
 * line length (and for log formats the entity state). *out is new. Fails with
 * VG_ERR_INVALID for an unknown format. */
VG_API vg_status vg_line_adapter_new(const char *format, const char *label_column, const vg_logfmt_options *opt,
                              vg_line_adapter **out);
VG_API void vg_line_adapter_free(vg_line_adapter *a);
VG_API const char *vg_line_adapter_format(const vg_line_adapter *a);
/* 1 if line 1 of every source must reach process() even when a follower
 * skips the existing content of a file (csv: the header). */
VG_API int vg_line_adapter_needs_header(const vg_line_adapter *a);
/* Process one line (no newline) of source `source` (a small index the caller
 * gives each input; csv keeps one header per source, at most 4096 sources).
 * out->n_fields == 0 for a line to skip (a header). Malformed -> VG_ERR_PARSE
 * (or VG_ERR_LIMIT) with a message; the state is unchanged. Everything in
 * *out is valid until the next call and may point into `line`. */
VG_API vg_status vg_line_adapter_process(vg_line_adapter *a, uint32_t source, uint64_t line_no, const char *line, size_t len,
                                  vg_logfmt_event *out);
/* Per-entity state held and dropped (log formats; all 0 for kdd and csv). */
VG_API vg_logfmt_state_stats vg_line_adapter_state_stats(const vg_line_adapter *a);

#ifdef __cplusplus
}
#endif

#endif
