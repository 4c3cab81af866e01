/* libFuzzer target for the canonical-form decoder and the payload scan:
 * any bytes, in form mode or not, into any output size, must decode within
 * the buffer and the round bound, never crash, and the scan must accept
 * whatever the decoder writes. Both fast paths are checked against their
 * references: the decoder's against VG_CANON_FULL (same bytes, same
 * counts), the scan's against vg_payload_scan_full (same counts). */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "vigil/canon.h"
#include "vigil/payload.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1) return 0;
    int form = data[0] & 1;
    size_t cap = (size_t)(data[0] >> 1) * 97 % 20000;  /* 0 .. about 20 KB, exact fits included */
    static char out[20000];
    vg_canon_info ci;
    size_t n = vg_canon_decode((const char *)data + 1, size - 1, form, out, cap, &ci);
    if (n > cap || ci.rounds > VG_CANON_MAX_ROUNDS) __builtin_trap();
    static char ref[20000];
    vg_canon_info ri;
    size_t rn = vg_canon_decode((const char *)data + 1, size - 1, form | VG_CANON_FULL, ref, cap, &ri);
    if (rn != n || memcmp(ref, out, n) != 0 || memcmp(&ri, &ci, sizeof ci) != 0) __builtin_trap();
    uint16_t counts[VG_PAYLOAD_COUNT], full[VG_PAYLOAD_COUNT];
    memset(counts, 0, sizeof counts);
    memset(full, 0, sizeof full);
    vg_payload_scan(out, n, counts);
    vg_payload_scan_full(out, n, full);
    /* The scan reads raw text too (any bytes, no canonical form). */
    vg_payload_scan((const char *)data, size, counts);
    vg_payload_scan_full((const char *)data, size, full);
    if (memcmp(counts, full, sizeof full) != 0) __builtin_trap();
    return 0;
}
