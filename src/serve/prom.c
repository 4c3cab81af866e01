/* Prometheus text format writer (see prom.h). */
#include "serve/prom.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

void vg_prom_header(vg_text *t, const char *name, const char *type, const char *help)
{
    vg_text_puts(t, "# HELP ");
    vg_text_puts(t, name);
    vg_text_putc(t, ' ');
    /* HELP text escapes only backslash and newline. */
    for (const char *p = help; *p; p++) {
        if (*p == '\\') vg_text_puts(t, "\\\\");
        else if (*p == '\n') vg_text_puts(t, "\\n");
        else vg_text_putc(t, *p);
    }
    vg_text_puts(t, "\n# TYPE ");
    vg_text_puts(t, name);
    vg_text_putc(t, ' ');
    vg_text_puts(t, type);
    vg_text_putc(t, '\n');
}

void vg_prom_escape(vg_text *t, const char *value)
{
    for (const char *p = value; *p; p++) {
        if (*p == '\\') vg_text_puts(t, "\\\\");
        else if (*p == '"') vg_text_puts(t, "\\\"");
        else if (*p == '\n') vg_text_puts(t, "\\n");
        else vg_text_putc(t, *p);
    }
}

void vg_prom_value(vg_text *t, double v)
{
    if (isnan(v)) vg_text_puts(t, "NaN");
    else if (isinf(v)) vg_text_puts(t, v > 0 ? "+Inf" : "-Inf");
    else if (v == floor(v) && fabs(v) < 1e15) vg_text_printf(t, "%.0f", v);
    else vg_text_printf(t, "%.17g", v);
}

void vg_prom_sample(vg_text *t, const char *name, const char *labels, double value)
{
    vg_text_puts(t, name);
    if (labels && *labels) {
        vg_text_putc(t, '{');
        vg_text_puts(t, labels);
        vg_text_putc(t, '}');
    }
    vg_text_putc(t, ' ');
    vg_prom_value(t, value);
    vg_text_putc(t, '\n');
}

static void bucket(vg_text *t, const char *name, const char *labels, const char *le, uint64_t count)
{
    vg_text_puts(t, name);
    vg_text_puts(t, "_bucket{");
    if (labels && *labels) {
        vg_text_puts(t, labels);
        vg_text_putc(t, ',');
    }
    vg_text_puts(t, "le=\"");
    vg_text_puts(t, le);
    vg_text_puts(t, "\"} ");
    vg_text_u64(t, count);
    vg_text_putc(t, '\n');
}

void vg_prom_histogram(vg_text *t, const char *name, const char *labels, const double *bounds,
                       const uint64_t *counts, size_t n_bounds, double sum)
{
    uint64_t cum = 0;
    char le[40];
    for (size_t b = 0; b < n_bounds; b++) {
        cum += counts[b];
        snprintf(le, sizeof le, "%g", bounds[b]);
        bucket(t, name, labels, le, cum);
    }
    cum += counts[n_bounds];
    bucket(t, name, labels, "+Inf", cum);
    size_t n = strlen(name);
    char key[128];
    if (n + 7 > sizeof key) return;
    memcpy(key, name, n);
    memcpy(key + n, "_sum", 5);
    vg_prom_sample(t, key, labels, sum);
    memcpy(key + n, "_count", 7);
    vg_prom_sample(t, key, labels, (double)cum);
}
