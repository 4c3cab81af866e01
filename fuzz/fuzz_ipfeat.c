/* libFuzzer target for the IP address features: any bytes as an address
 * must give family 0 (and nothing set) or 4/6 with networks that end in
 * their prefix length and fit their buffers, the class one of A-E or v6,
 * and flags 0 or 1 of which at most one of private/loopback is set; a
 * column of such cells expands without a crash. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "vigil/ipfeat.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int ends_with(const char *s, const char *tail)
{
    size_t n = strlen(s), m = strlen(tail);
    return n >= m && strcmp(s + n - m, tail) == 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    vg_ipfeat f;
    int fam = vg_ipfeat_compute((const char *)data, size, &f);
    if (fam != f.family || (fam != 0 && fam != 4 && fam != 6)) __builtin_trap();
    if (fam == 0) {
        if (f.cls || f.net24[0] || f.net16[0] || f.is_private || f.is_reserved || f.is_loopback) __builtin_trap();
    } else {
        if (!ends_with(f.net24, fam == 4 ? "/24" : "/48") || !ends_with(f.net16, fam == 4 ? "/16" : "/32"))
            __builtin_trap();
        if (strlen(f.cls) > 2 || (f.is_private | f.is_reserved | f.is_loopback) > 1 || (f.is_private && f.is_loopback))
            __builtin_trap();
    }
    /* The same bytes as a one-row column (cut at a NUL, as a cell would be). */
    vg_table *t = vg_table_new("fuzz");
    size_t c;
    if (t && vg_table_add_column(t, "a", VG_COLUMN_CATEGORICAL, &c) == VG_OK &&
        vg_table_push_category(t, c, (const char *)data, strnlen((const char *)data, size)) == VG_OK) {
        (void)vg_ipfeat_column_is_ip(t, c);
        if (vg_ipfeat_add_columns(t, c, NULL) != VG_OK) __builtin_trap();
    }
    vg_table_free(t);
    return 0;
}
