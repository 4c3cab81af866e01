/* IP address features (see vigil/ipfeat.h). The address ranges are the
 * IANA IPv4 and IPv6 special-purpose registries (RFC 6890 and its
 * updates); "private" follows what a defender treats as inside addresses. */
#include "vigil/ipfeat.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

/* Columns, in the order they are added. */
enum { C_NET24, C_NET16, C_CLASS, C_PRIVATE, C_RESERVED, C_LOOPBACK, C_COUNTRY, C_COUNT };
static const char *const col_suffix[C_COUNT] = { "ip_net24", "ip_net16", "ip_class", "ip_private",
                                                 "ip_reserved", "ip_loopback", "ip_country" };
_Static_assert(C_COUNT == VG_IPFEAT_COLUMNS, "the header's column count");

const char *vg_ipfeat_suffix(int i) { return i >= 0 && i < C_COUNT ? col_suffix[i] : NULL; }

int vg_ipfeat_value(const vg_ipfeat *x, int i, const char **text, double *number)
{
    if (!x || !x->family || i < 0 || i >= C_COUNTRY) return -1;
    switch (i) {
    case C_NET24: *text = x->net24; return VG_COLUMN_CATEGORICAL;
    case C_NET16: *text = x->net16; return VG_COLUMN_CATEGORICAL;
    case C_CLASS: *text = x->cls; return VG_COLUMN_CATEGORICAL;
    case C_PRIVATE: *number = x->is_private; return VG_COLUMN_NUMERIC;
    case C_RESERVED: *number = x->is_reserved; return VG_COLUMN_NUMERIC;
    default: *number = x->is_loopback; return VG_COLUMN_NUMERIC;
    }
}

/* a (IPv4 as a 32-bit number) within net/len. */
static int in4(uint32_t a, uint32_t net, int len)
{
    uint32_t mask = len == 0 ? 0 : 0xffffffffu << (32 - len);
    return (a & mask) == (net & mask);
}

/* The first `bits` bits of a equal those of p. */
static int in6(const uint8_t a[16], const uint8_t p[16], int bits)
{
    int full = bits / 8, rest = bits % 8;
    if (memcmp(a, p, (size_t)full) != 0) return 0;
    if (!rest) return 1;
    uint8_t mask = (uint8_t)(0xff << (8 - rest));
    return (a[full] & mask) == (p[full] & mask);
}

#define IP4(a, b, c, d) (((uint32_t)(a) << 24) | ((uint32_t)(b) << 16) | ((uint32_t)(c) << 8) | (uint32_t)(d))

static void describe4(uint32_t a, vg_ipfeat *out)
{
    unsigned o1 = a >> 24, o2 = (a >> 16) & 0xff, o3 = (a >> 8) & 0xff;
    snprintf(out->net24, sizeof out->net24, "%u.%u.%u.0/24", o1, o2, o3);
    snprintf(out->net16, sizeof out->net16, "%u.%u.0.0/16", o1, o2);
    out->cls = o1 < 128 ? "A" : o1 < 192 ? "B" : o1 < 224 ? "C" : o1 < 240 ? "D" : "E";
    out->is_loopback = in4(a, IP4(127, 0, 0, 0), 8);
    out->is_private = in4(a, IP4(10, 0, 0, 0), 8) || in4(a, IP4(172, 16, 0, 0), 12) ||
                      in4(a, IP4(192, 168, 0, 0), 16) || in4(a, IP4(100, 64, 0, 0), 10);
    out->is_reserved = in4(a, 0, 8) || in4(a, IP4(169, 254, 0, 0), 16) || in4(a, IP4(192, 0, 0, 0), 24) ||
                       in4(a, IP4(192, 0, 2, 0), 24) || in4(a, IP4(198, 18, 0, 0), 15) ||
                       in4(a, IP4(198, 51, 100, 0), 24) || in4(a, IP4(203, 0, 113, 0), 24) ||
                       in4(a, IP4(224, 0, 0, 0), 4) || in4(a, IP4(240, 0, 0, 0), 4);
}

static void describe6(const uint8_t a[16], vg_ipfeat *out)
{
    unsigned g[3];
    for (int i = 0; i < 3; i++) g[i] = (unsigned)a[2 * i] << 8 | a[2 * i + 1];
    snprintf(out->net24, sizeof out->net24, "%x:%x:%x::/48", g[0], g[1], g[2]);
    snprintf(out->net16, sizeof out->net16, "%x:%x::/32", g[0], g[1]);
    out->cls = "v6";
    static const uint8_t loop[16] = { [15] = 1 }, zero[16] = { 0 };
    static const uint8_t ula[16] = { 0xfc }, link[16] = { 0xfe, 0x80 }, mcast[16] = { 0xff },
                         doc[16] = { 0x20, 0x01, 0x0d, 0xb8 }, discard[16] = { 0x01, 0x00 };
    out->is_loopback = memcmp(a, loop, 16) == 0;
    out->is_private = in6(a, ula, 7);
    out->is_reserved = memcmp(a, zero, 16) == 0 || in6(a, link, 10) || in6(a, mcast, 8) || in6(a, doc, 32) ||
                       in6(a, discard, 64);
}

int vg_ipfeat_compute(const char *s, size_t len, vg_ipfeat *out)
{
    memset(out, 0, sizeof *out);
    uint8_t a[16];
    int fam = vg_geo_parse_ip(s, len, a);
    if (fam == 4) describe4(IP4(a[12], a[13], a[14], a[15]), out);
    else if (fam == 6) describe6(a, out);
    else return 0;
    out->family = fam;
    return fam;
}

int vg_ipfeat_column_is_ip(const vg_table *t, size_t col)
{
    if (col >= vg_table_cols(t) || vg_table_type(t, col) != VG_COLUMN_CATEGORICAL) return 0;
    uint32_t n = vg_table_n_categories(t, col);
    if (n == 0) return 0;
    uint8_t a[16];
    for (uint32_t k = 0; k < n; k++) {
        const char *v = vg_table_category(t, col, k);
        if (!vg_geo_parse_ip(v, strlen(v), a)) return 0;
    }
    return 1;
}

int vg_ipfeat_is_derived(const vg_table *t, const char *name)
{
    const char *dot = strstr(name, ".ip_");
    for (; dot; dot = strstr(dot + 1, ".ip_")) {
        int known = 0;
        for (int c = 0; c < C_COUNT && !known; c++) known = strcmp(dot + 1, col_suffix[c]) == 0;
        if (!known) continue;
        char base[512];
        size_t n = (size_t)(dot - name);
        if (n >= sizeof base) return 0;
        memcpy(base, name, n), base[n] = '\0';
        long c = vg_table_find(t, base);
        if (c >= 0 && vg_table_type(t, (size_t)c) == VG_COLUMN_CATEGORICAL) return 1;
    }
    return 0;
}

vg_status vg_ipfeat_add_columns(vg_table *t, size_t col, const vg_geo *geo)
{
    if (col >= vg_table_cols(t) || vg_table_type(t, col) != VG_COLUMN_CATEGORICAL)
        return vg_fail(VG_ERR_INVALID, "--ip: column '%s' holds numbers, not addresses",
                       col < vg_table_cols(t) ? vg_table_name(t, col) : "?");
    const char *base = vg_table_name(t, col);
    int n_cols = geo ? C_COUNT : C_COUNTRY;
    char name[512];
    for (int i = 0; i < n_cols; i++) {
        snprintf(name, sizeof name, "%s.%s", base, col_suffix[i]);
        if (vg_table_find(t, name) >= 0) return vg_fail(VG_ERR_INVALID, "--ip: column '%s' already exists", name);
    }
    /* Per distinct address, then per row by its code. */
    uint32_t n_cat = vg_table_n_categories(t, col);
    size_t rows = vg_table_rows(t);
    vg_ipfeat *f = vg_malloc(((size_t)n_cat + 1) * sizeof *f);
    char (*cc)[VG_GEO_NAME_BYTES] = geo ? vg_malloc(((size_t)n_cat + 1) * sizeof *cc) : NULL;
    vg_status st = f && (cc || !geo) ? VG_OK : vg_fail(VG_ERR_NOMEM, "out of memory");
    for (uint32_t k = 0; k < n_cat && !st; k++) {
        const char *v = vg_table_category(t, col, k);
        vg_ipfeat_compute(v, strlen(v), &f[k]);
        if (geo) vg_geo_country(geo, v, strlen(v), cc[k]);
    }
    for (int i = 0; i < n_cols && !st; i++) {
        snprintf(name, sizeof name, "%s.%s", base, col_suffix[i]);
        int numeric = i == C_PRIVATE || i == C_RESERVED || i == C_LOOPBACK;
        size_t c;
        st = vg_table_add_column(t, name, numeric ? VG_COLUMN_NUMERIC : VG_COLUMN_CATEGORICAL, &c);
        /* Re-read the codes each column: adding columns may move storage. */
        for (size_t r = 0; r < rows && !st; r++) {
            uint32_t code = vg_table_codes(t, col)[r];
            const vg_ipfeat *x = code == VG_CODE_MISSING || code >= n_cat ? NULL : &f[code];
            const char *s = NULL;
            double v = NAN;
            if (i == C_COUNTRY) s = x && x->family ? cc[code] : NULL;
            else vg_ipfeat_value(x, i, &s, &v);
            st = numeric ? vg_table_push_number(t, c, v) : vg_table_push_category(t, c, s, s ? strlen(s) : 0);
        }
    }
    vg_free(f);
    vg_free(cc);
    return st;
}
