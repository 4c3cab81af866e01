/* Line adapters (vigil/line_adapter.h): a line of any registered format
 * turned into a feature record (vg_logfmt_event) through the line reader of
 * its row in the format registry, so `vigil watch` serves tabular models as
 * well as log models. The adapter holds what every format shares: the name,
 * the line-length bound and the reader's state. */
#include "vigil/line_adapter.h"
#include "vigil/format.h"

#include <stdio.h>
#include <string.h>

struct vg_line_adapter {
    const vg_format *fmt;
    vg_logfmt_options opt;
    void *state;
};

vg_status vg_line_adapter_new(const char *format, const char *label_column, const vg_logfmt_options *opt,
                              vg_line_adapter **out)
{
    *out = NULL;
    if (!format) return vg_fail(VG_ERR_INVALID, "no format given");
    const vg_format *f = vg_format_find(format);
    if (!f) {
        char names[256];
        vg_format_names(names, sizeof names, ", ", NULL);
        return vg_fail(VG_ERR_INVALID, "format '%s' is not one of %s", format, names);
    }
    vg_line_adapter *a = vg_calloc(1, sizeof *a);
    if (!a) return vg_fail(VG_ERR_NOMEM, "out of memory");
    a->fmt = f;
    a->opt = opt ? *opt : vg_logfmt_options_default();
    if (!a->opt.max_line_bytes) a->opt.max_line_bytes = 65536;
    vg_status st = f->lines_new(f, &a->opt, label_column, &a->state);
    if (st) {
        vg_free(a);
        return st;
    }
    *out = a;
    return VG_OK;
}

void vg_line_adapter_free(vg_line_adapter *a)
{
    if (!a) return;
    if (a->state) a->fmt->lines_free(a->state);
    vg_free(a);
}

const char *vg_line_adapter_format(const vg_line_adapter *a) { return a->fmt->name; }
int vg_line_adapter_needs_header(const vg_line_adapter *a) { return a->fmt->needs_header; }

vg_logfmt_state_stats vg_line_adapter_state_stats(const vg_line_adapter *a)
{
    vg_logfmt_state_stats st = { 0 };
    if (a->fmt->lines_stats) a->fmt->lines_stats(a->state, &st);
    return st;
}

vg_status vg_line_adapter_process(vg_line_adapter *a, uint32_t source, uint64_t line_no, const char *line, size_t len,
                                  vg_logfmt_event *out)
{
    memset(out, 0, sizeof *out);
    if (len > a->opt.max_line_bytes)
        return vg_fail(VG_ERR_LIMIT, "line of %zu bytes is longer than the limit of %zu", len, a->opt.max_line_bytes);
    return a->fmt->lines_process(a->state, source, line_no, line, len, out);
}
