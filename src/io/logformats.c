/* The registry of log formats (--format NAME). */
#include "vigil/logformat.h"

#include <string.h>

static const vg_logfmt *const formats[] = {
    &vg_login_format,
    &vg_weblog_format,
    NULL,  /* formats add themselves above this line: &vg_login_format, &vg_weblog_format */
};

const vg_logfmt *vg_logfmt_find(const char *name)
{
    for (size_t i = 0; name && formats[i]; i++)
        if (strcmp(formats[i]->name, name) == 0) return formats[i];
    return NULL;
}

vg_logfmt_options vg_logfmt_options_default(void)
{
    return (vg_logfmt_options){ .max_line_bytes = 65536, .max_entities = 1000000, .entity_ttl = 7 * 86400.0 };
}
