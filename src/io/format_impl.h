/* Shared pieces of the format rows (io only): the line reader and the table
 * reader every log format uses, over its vg_logfmt (row->log). */
#ifndef VIGIL_IO_FORMAT_IMPL_H
#define VIGIL_IO_FORMAT_IMPL_H

#include "vigil/format_row.h"

vg_status vg_logfmt_lines_new(const vg_format *f, const vg_logfmt_options *opt, const char *label_column, void **state);
void vg_logfmt_lines_free(void *state);
vg_status vg_logfmt_lines_process(void *state, uint32_t source, uint64_t line_no, const char *line, size_t len,
                                  vg_logfmt_event *out);
void vg_logfmt_lines_stats(const void *state, vg_logfmt_state_stats *out);

/* vg_logfmt_read of f->log with p->log, its bad lines and stray labels
 * reported as warnings. */
vg_status vg_logfmt_read_table(const vg_format *f, const char *path, const vg_format_read_params *p, vg_table **out);

/* The row fields every log format shares. */
#define VG_LOGFMT_ROW(logfmt)                                                                      \
    .read = vg_logfmt_read_table, .lines_new = vg_logfmt_lines_new, .lines_free = vg_logfmt_lines_free, \
    .lines_process = vg_logfmt_lines_process, .lines_stats = vg_logfmt_lines_stats, .log = &(logfmt),   \
    .default_label = "label"

#endif
