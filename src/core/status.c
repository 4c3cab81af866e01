/* Status names and the per-thread last-error message. */
#include "vigil/core.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define VG_ERROR_CAP 1024

static _Thread_local char last_error[VG_ERROR_CAP];

const char *vg_status_str(vg_status s)
{
    switch (s) {
    case VG_OK: return "ok";
    case VG_ERR_NOMEM: return "out of memory";
    case VG_ERR_IO: return "i/o error";
    case VG_ERR_PARSE: return "malformed input";
    case VG_ERR_INVALID: return "invalid argument";
    case VG_ERR_LIMIT: return "limit exceeded";
    case VG_ERR_FORMAT: return "bad model file";
    case VG_ERR_DATA: return "unusable data";
    case VG_ERR_UNSUPPORTED: return "unsupported";
    }
    return "unknown status";
}

const char *vg_last_error(void)
{
    return last_error;
}

vg_status vg_fail(vg_status s, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(last_error, sizeof last_error, fmt, ap);
    va_end(ap);
    return s;
}

void vg_error_prefix(const char *fmt, ...)
{
    char prefix[VG_ERROR_CAP], old[VG_ERROR_CAP];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(prefix, sizeof prefix, fmt, ap);
    va_end(ap);
    memcpy(old, last_error, sizeof old);
    size_t n = strlen(prefix);
    if (n >= sizeof last_error) n = sizeof last_error - 1;
    memcpy(last_error, prefix, n);
    size_t room = sizeof last_error - 1 - n, m = strlen(old);
    if (m > room) m = room;
    memcpy(last_error + n, old, m);
    last_error[n + m] = '\0';
}

void vg_clear_error(void)
{
    last_error[0] = '\0';
}

void vg_assert_fail(const char *cond, const char *file, int line)
{
    fprintf(stderr, "vigil: internal error: assertion '%s' failed at %s:%d\n", cond, file, line);
    abort();
}
