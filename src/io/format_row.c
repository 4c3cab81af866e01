/* What the rows of the format registry share (vigil/format_row.h): the
 * truth-column test, and what every log format's row uses (its line reader
 * over the vg_logfmt state, its table reader that warns about bad lines). */
#include "io/format_impl.h"

#include <stdio.h>
#include <string.h>

int vg_format_is_truth(const vg_format *f, const char *name, size_t len)
{
    for (size_t i = 0; f->truth_columns && f->truth_columns[i]; i++)
        if (strlen(f->truth_columns[i]) == len && memcmp(f->truth_columns[i], name, len) == 0) return 1;
    return 0;
}

/* ---- what log formats share ------------------------------------------------ */

typedef struct log_lines {
    const vg_logfmt *log;
    void *state;
} log_lines;

vg_status vg_logfmt_lines_new(const vg_format *f, const vg_logfmt_options *opt, const char *label_column, void **state)
{
    (void)label_column;  /* a log format knows its truth */
    *state = NULL;
    log_lines *l = vg_calloc(1, sizeof *l);
    if (!l) return vg_fail(VG_ERR_NOMEM, "out of memory");
    l->log = f->log;
    vg_status st = l->log->state_new(opt, &l->state);
    if (st) {
        vg_free(l);
        return st;
    }
    *state = l;
    return VG_OK;
}

void vg_logfmt_lines_free(void *state)
{
    log_lines *l = state;
    if (!l) return;
    if (l->state) l->log->state_free(l->state);
    vg_free(l);
}

vg_status vg_logfmt_lines_process(void *state, uint32_t source, uint64_t line_no, const char *line, size_t len,
                                  vg_logfmt_event *out)
{
    (void)source, (void)line_no;  /* one state for all inputs: entities span files */
    log_lines *l = state;
    return l->log->process(l->state, line, len, out);
}

void vg_logfmt_lines_stats(const void *state, vg_logfmt_state_stats *out)
{
    const log_lines *l = state;
    l->log->state_stats(l->state, out);
}

vg_status vg_logfmt_read_table(const vg_format *f, const char *path, const vg_format_read_params *p, vg_table **out)
{
    const vg_logfmt *fmt = f->log;
    const vg_logfmt_options *opt = &p->log;
    vg_logfmt_report rep;
    vg_status st = vg_logfmt_read(path, fmt, opt, out, &rep);
    if (!st && rep.bad) {
        char lines[256];
        vg_logfmt_report_lines(&rep, lines, sizeof lines);
        vg_log(VG_LOG_WARN, "%s: %llu of %llu lines are not valid %s events and were skipped: line%s %s (line %llu: %s)",
               path, (unsigned long long)rep.bad, (unsigned long long)rep.lines, fmt->name, rep.bad == 1 ? "" : "s",
               lines, (unsigned long long)rep.first_bad_line, rep.first_bad_message);
    }
    if (!st && rep.labels_past_end)
        vg_log(VG_LOG_WARN, "%s: %llu line numbers of labels file %s are past its last line (%llu): another file's?",
               path, (unsigned long long)rep.labels_past_end, opt->labels_path, (unsigned long long)rep.lines);
    return st;
}
