/* libFuzzer target for the Tor-format IP-range reader behind the built-in
 * GeoIP (geoip / geoip6 files): any bytes must load (and answer look-ups
 * with a short country name) or fail with a one-line message, never crash. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "io/geo_backend.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    vg_geo_ranges *r = vg_geo_ranges_new();
    if (!r) return 0;
    vg_status st = vg_geo_ranges_add(r, (const char *)data, size, "fuzz");
    if (!st) st = vg_geo_ranges_finish(r, "fuzz");
    if (st == VG_OK) {
        static const uint8_t probes[3][16] = { { 0 }, { [10] = 0xff, [11] = 0xff, [12] = 10, [15] = 1 },
                                               { 0x20, 0x01, 0x0d, 0xb8, [15] = 1 } };
        for (int k = 0; k < 3; k++) {
            char cc[VG_GEO_NAME_BYTES];
            vg_geo_ranges_lookup(r, probes[k], k == 2 ? 6 : 4, cc);
            if (memchr(cc, '\0', sizeof cc) == NULL) __builtin_trap();
        }
    } else if (vg_last_error()[0] == '\0' || strchr(vg_last_error(), '\n') != NULL) {
        __builtin_trap();
    }
    vg_geo_ranges_free(r);
    return 0;
}
