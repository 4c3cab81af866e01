/* libFuzzer target for the time parser behind `vigil alerts --since/--until`
 * and the since/until query parameters of /v1/alerts: any text must give a
 * finite time or VG_ERR_PARSE with a one-line message, never a crash. */
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "vigil/alerts.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char s[256];
    size_t n = size < sizeof s - 1 ? size : sizeof s - 1;   /* the callers' strings are NUL-terminated */
    memcpy(s, data, n);
    s[n] = '\0';
    double t = NAN;
    vg_status st = vg_alert_parse_time(s, 1.7e9, &t);
    if (st == VG_OK) {
        if (!isfinite(t)) __builtin_trap();
    } else if (st != VG_ERR_PARSE || vg_last_error()[0] == '\0' || strchr(vg_last_error(), '\n') != NULL) {
        __builtin_trap();
    }
    return 0;
}
