/* The format registry (vigil/format.h): the list of rows. It lives in
 * features because the log formats' rows (login.c, weblog.c here) point at
 * their online features; the table formats' rows come from io, below. */
#include "vigil/format.h"

#include <stdio.h>
#include <string.h>

/* Registry order is the order formats are listed in messages. */
static const vg_format *const formats[] = {
    &vg_format_csv,
    &vg_format_kdd,
    &vg_format_login,
    &vg_format_weblog,
    NULL,
};

const vg_format *vg_format_find(const char *name)
{
    for (size_t i = 0; name && formats[i]; i++)
        if (strcmp(formats[i]->name, name) == 0) return formats[i];
    return NULL;
}

const vg_format *vg_format_at(size_t i)
{
    return i < sizeof formats / sizeof *formats ? formats[i] : NULL;
}

const vg_format *vg_format_default(void) { return &vg_format_csv; }

void vg_format_names(char *buf, size_t cap, const char *sep, int (*keep)(const vg_format *f))
{
    size_t w = 0;
    if (!cap) return;
    buf[0] = '\0';
    for (size_t i = 0; formats[i]; i++) {
        if (keep && !keep(formats[i])) continue;
        int n = snprintf(buf + w, cap - w, "%s%s", w ? sep : "", formats[i]->name);
        if (n < 0 || (size_t)n >= cap - w) return;
        w += (size_t)n;
    }
}

const vg_logfmt *vg_logfmt_find(const char *name)
{
    const vg_format *f = vg_format_find(name);
    return f ? f->log : NULL;
}
