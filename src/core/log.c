/* The logging sink. Library code reports through vg_log(); the default sink
 * writes to stderr, and applications (the CLI, the server) may replace it. */
#include "vigil/core.h"

#include <stdarg.h>
#include <stdio.h>

static vg_log_fn sink_fn;
static void *sink_user;
static vg_log_level max_level = VG_LOG_WARN;

const char *vg_log_level_str(vg_log_level level)
{
    switch (level) {
    case VG_LOG_ERROR: return "error";
    case VG_LOG_WARN: return "warning";
    case VG_LOG_INFO: return "info";
    case VG_LOG_DEBUG: return "debug";
    }
    return "log";
}

void vg_log_set_sink(vg_log_fn fn, void *user)
{
    sink_fn = fn;
    sink_user = user;
}

void vg_log_set_level(vg_log_level level)
{
    max_level = level;
}

void vg_log(vg_log_level level, const char *fmt, ...)
{
    if (level > max_level) return;
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (sink_fn)
        sink_fn(level, msg, sink_user);
    else
        fprintf(stderr, "vigil: %s: %s\n", vg_log_level_str(level), msg);
}
