/* GeoIP from IP-range files in Tor's format (geoip: "LOWINT,HIGHINT,CC";
 * geoip6: "LOWADDR,HIGHADDR,CC"), kept as sorted flat arrays and searched by
 * bisection: about 4.6 MB and 9.4 MB for Debian's full IPv4 and IPv6 files,
 * and ~20 probes per look-up. Start-up reads the whole files (553,252
 * IPv6 bounds), so lines are cut with memchr and plain IPv6 text is parsed
 * here rather than copied for inet_pton. */
#define _GNU_SOURCE  /* qsort_r */
#include "geo_backend.h"

#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

/* Longest line accepted in a range file: far above any real line, it bounds
 * the copy made for inet_pton. */
#define MAX_FIELD 64

typedef struct u128 {
    uint64_t hi, lo;
} u128;

struct vg_geo_ranges {
    /* IPv4: n4 ranges [lo4[i], hi4[i]] -> cc4[i] (two letters packed). */
    uint32_t *lo4, *hi4;
    uint16_t *cc4;
    size_t n4, cap4;
    /* IPv6 likewise with 128-bit bounds. */
    u128 *lo6, *hi6;
    uint16_t *cc6;
    size_t n6, cap6;
};

vg_geo_ranges *vg_geo_ranges_new(void)
{
    return vg_calloc(1, sizeof(vg_geo_ranges));
}

void vg_geo_ranges_free(vg_geo_ranges *r)
{
    if (!r) return;
    vg_free(r->lo4), vg_free(r->hi4), vg_free(r->cc4);
    vg_free(r->lo6), vg_free(r->hi6), vg_free(r->cc6);
    vg_free(r);
}

size_t vg_geo_ranges_bytes(const vg_geo_ranges *r)
{
    return r->cap4 * (2 * sizeof(uint32_t) + sizeof(uint16_t)) + r->cap6 * (2 * sizeof(u128) + sizeof(uint16_t));
}

static int grow_all(void **a, void **b, void **c, size_t *cap, size_t need, size_t ea, size_t ec)
{
    if (need <= *cap) return 1;
    size_t n = VG_MAX(*cap ? *cap * 2 : 4096, need);
    void *x = vg_realloc(*a, n * ea);
    if (x) *a = x;
    void *y = x ? vg_realloc(*b, n * ea) : NULL;
    if (y) *b = y;
    void *z = y ? vg_realloc(*c, n * ec) : NULL;
    if (!z) return 0;
    *c = z;
    *cap = n;
    return 1;
}

static u128 to_u128(const uint8_t a[16])
{
    u128 v = { 0, 0 };
    for (int i = 0; i < 8; i++) v.hi = v.hi << 8 | a[i];
    for (int i = 8; i < 16; i++) v.lo = v.lo << 8 | a[i];
    return v;
}

static int u128_cmp(u128 a, u128 b)
{
    if (a.hi != b.hi) return a.hi < b.hi ? -1 : 1;
    return (a.lo > b.lo) - (a.lo < b.lo);
}

static int parse_u32(const char *s, size_t n, uint32_t *out)
{
    if (n == 0 || n > 10) return 0;
    uint64_t v = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9') return 0;
        v = v * 10 + (uint64_t)(s[i] - '0');
    }
    if (v > UINT32_MAX) return 0;
    *out = (uint32_t)v;
    return 1;
}

/* Hex digit values, -1 for other bytes: one load per character. */
static const int8_t hex_value[256] = {
    ['0'] = 1, ['1'] = 2, ['2'] = 3, ['3'] = 4, ['4'] = 5, ['5'] = 6, ['6'] = 7, ['7'] = 8, ['8'] = 9, ['9'] = 10,
    ['a'] = 11, ['b'] = 12, ['c'] = 13, ['d'] = 14, ['e'] = 15, ['f'] = 16,
    ['A'] = 11, ['B'] = 12, ['C'] = 13, ['D'] = 14, ['E'] = 15, ['F'] = 16,
};   /* value + 1, so the zero default means "not a digit" */

static int hex_digit(char c)
{
    return hex_value[(unsigned char)c] - 1;
}

/* The form range files use (hex groups, at most one "::") into a[16]: 1, or
 * 0 for anything else, which inet_pton then decides (embedded IPv4 and the
 * like are rare, and the slow path is the reference). A full range file
 * has ~60,000 IPv6 lines: inet_pton and its copy were a fifth of start-up. */
static int parse_v6_plain(const char *s, size_t n, uint8_t a[16])
{
    uint16_t g[8];
    size_t i = 0;
    int ng = 0, gap = -1;   /* gap: groups before the "::", or -1 */
    if (n >= 2 && s[0] == ':' && s[1] == ':') {
        gap = 0;
        i = 2;
    }
    while (i < n) {
        uint32_t v = 0;
        int digits = 0, h;
        while (i < n && (h = hex_digit(s[i])) >= 0) {
            if (++digits > 4) return 0;
            v = v << 4 | (uint32_t)h;
            i++;
        }
        if (digits == 0 || ng == 8) return 0;
        g[ng++] = (uint16_t)v;
        if (i == n) break;
        if (s[i] != ':' || ++i == n) return 0;   /* '.', '%' or a last lone ':' */
        if (s[i] == ':') {
            if (gap >= 0) return 0;
            gap = ng;
            i++;
        }
    }
    if (gap < 0 ? ng != 8 : ng > 7) return 0;
    memset(a, 0, 16);
    int tail = gap < 0 ? 0 : ng - gap;
    for (int k = 0; k < ng - tail; k++) a[2 * k] = (uint8_t)(g[k] >> 8), a[2 * k + 1] = (uint8_t)g[k];
    for (int k = 0; k < tail; k++) {
        int at = 8 - tail + k;
        a[2 * at] = (uint8_t)(g[gap + k] >> 8), a[2 * at + 1] = (uint8_t)g[gap + k];
    }
    return 1;
}

static int parse_v6(const char *s, size_t n, u128 *out)
{
    char buf[MAX_FIELD];
    uint8_t a[16];
    if (parse_v6_plain(s, n, a)) {
        *out = to_u128(a);
        return 1;
    }
    if (n == 0 || n >= sizeof buf) return 0;
    memcpy(buf, s, n);
    buf[n] = '\0';
    if (inet_pton(AF_INET6, buf, a) != 1) return 0;
    *out = to_u128(a);
    return 1;
}

static int parse_cc(const char *s, size_t n, uint16_t *out)
{
    if (n != 2) return 0;
    unsigned char a = (unsigned char)s[0], b = (unsigned char)s[1];
    int ok = (a == '?' && b == '?') || (a >= 'A' && a <= 'Z' && b >= 'A' && b <= 'Z');
    if (!ok) return 0;
    *out = (uint16_t)(a << 8 | b);
    return 1;
}

/* Room for a file's lines in the family of its first range, made once:
 * growing by doubling copied the 9 MB of IPv6 bounds eight times and
 * faulted their pages in twice (start-up: about 0.05 of 0.3 CPU s). */
static int reserve(vg_geo_ranges *r, const char *data, size_t len)
{
    size_t lines = 1, i = 0;
    for (const char *nl; (nl = memchr(data + i, '\n', len - i)); i = (size_t)(nl - data) + 1) lines++;
    for (i = 0; i < len && data[i] == '#';) {   /* the first line that is not a comment */
        const char *nl = memchr(data + i, '\n', len - i);
        i = nl ? (size_t)(nl - data) + 1 : len;
    }
    const char *nl = memchr(data + i, '\n', len - i), *comma = memchr(data + i, ',', len - i);
    size_t end = comma ? (size_t)(comma - data) : nl ? (size_t)(nl - data) : len;
    if (memchr(data + i, ':', end - i))
        return grow_all((void **)&r->lo6, (void **)&r->hi6, (void **)&r->cc6, &r->cap6, r->n6 + lines,
                        sizeof(u128), sizeof(uint16_t));
    return grow_all((void **)&r->lo4, (void **)&r->hi4, (void **)&r->cc4, &r->cap4, r->n4 + lines, sizeof(uint32_t),
                    sizeof(uint16_t));
}

vg_status vg_geo_ranges_add(vg_geo_ranges *r, const char *data, size_t len, const char *name)
{
    if (!reserve(r, data, len)) return vg_fail(VG_ERR_NOMEM, "%s: out of memory", name);
    size_t line = 0;
    for (size_t i = 0; i < len;) {
        const char *nl = memchr(data + i, '\n', len - i);
        size_t j = nl ? (size_t)(nl - data) : len;
        size_t e = j;
        if (e > i && data[e - 1] == '\r') e--;
        line++;
        if (e > i && data[i] != '#') {
            const char *c1 = memchr(data + i, ',', e - i);
            const char *c2 = c1 ? memchr(c1 + 1, ',', (size_t)(data + e - c1 - 1)) : NULL;
            if (!c2) return vg_fail(VG_ERR_PARSE, "%s:%zu: expected LOW,HIGH,COUNTRY", name, line);
            const char *a = data + i, *b = c1 + 1, *c = c2 + 1;
            size_t na = (size_t)(c1 - a), nb = (size_t)(c2 - b), nc = (size_t)(data + e - c);
            uint16_t cc;
            if (!parse_cc(c, nc, &cc)) return vg_fail(VG_ERR_PARSE, "%s:%zu: bad country code", name, line);
            if (memchr(a, ':', na)) {
                u128 lo, hi;
                if (!parse_v6(a, na, &lo) || !parse_v6(b, nb, &hi) || u128_cmp(lo, hi) > 0)
                    return vg_fail(VG_ERR_PARSE, "%s:%zu: bad IPv6 range", name, line);
                if (!grow_all((void **)&r->lo6, (void **)&r->hi6, (void **)&r->cc6, &r->cap6, r->n6 + 1, sizeof(u128),
                              sizeof(uint16_t)))
                    return vg_fail(VG_ERR_NOMEM, "%s: out of memory", name);
                r->lo6[r->n6] = lo, r->hi6[r->n6] = hi, r->cc6[r->n6] = cc, r->n6++;
            } else {
                uint32_t lo, hi;
                if (!parse_u32(a, na, &lo) || !parse_u32(b, nb, &hi) || lo > hi)
                    return vg_fail(VG_ERR_PARSE, "%s:%zu: bad IPv4 range", name, line);
                if (!grow_all((void **)&r->lo4, (void **)&r->hi4, (void **)&r->cc4, &r->cap4, r->n4 + 1,
                              sizeof(uint32_t), sizeof(uint16_t)))
                    return vg_fail(VG_ERR_NOMEM, "%s: out of memory", name);
                r->lo4[r->n4] = lo, r->hi4[r->n4] = hi, r->cc4[r->n4] = cc, r->n4++;
            }
        }
        i = j + 1;
    }
    return VG_OK;
}

/* Sorting by index keeps the arrays flat (struct-of-arrays); Tor's files are
 * already sorted, so this runs only for hand-made files. */
static int cmp4(const void *x, const void *y, void *ctx)
{
    const uint32_t *lo = ctx;
    uint32_t a = lo[*(const size_t *)x], b = lo[*(const size_t *)y];
    return (a > b) - (a < b);
}

static int cmp6(const void *x, const void *y, void *ctx)
{
    const u128 *lo = ctx;
    return u128_cmp(lo[*(const size_t *)x], lo[*(const size_t *)y]);
}

static vg_status permute(void *arr, size_t n, size_t elem, const size_t *idx)
{
    char *tmp = vg_malloc(n * elem + 1);
    if (!tmp) return VG_ERR_NOMEM;
    for (size_t i = 0; i < n; i++) memcpy(tmp + i * elem, (char *)arr + idx[i] * elem, elem);
    memcpy(arr, tmp, n * elem);
    vg_free(tmp);
    return VG_OK;
}

vg_status vg_geo_ranges_finish(vg_geo_ranges *r, const char *name)
{
    int sorted4 = 1, sorted6 = 1;
    for (size_t i = 1; i < r->n4; i++) sorted4 &= r->lo4[i - 1] <= r->lo4[i];
    for (size_t i = 1; i < r->n6; i++) sorted6 &= u128_cmp(r->lo6[i - 1], r->lo6[i]) <= 0;
    if (!sorted4 || !sorted6) {
        size_t n = VG_MAX(r->n4, r->n6);
        size_t *idx = vg_malloc((n + 1) * sizeof *idx);
        if (!idx) return vg_fail(VG_ERR_NOMEM, "%s: out of memory", name);
        vg_status st = VG_OK;
        if (!sorted4) {
            for (size_t i = 0; i < r->n4; i++) idx[i] = i;
            qsort_r(idx, r->n4, sizeof *idx, cmp4, r->lo4);
            if (!st) st = permute(r->lo4, r->n4, sizeof *r->lo4, idx);
            if (!st) st = permute(r->hi4, r->n4, sizeof *r->hi4, idx);
            if (!st) st = permute(r->cc4, r->n4, sizeof *r->cc4, idx);
        }
        if (!sorted6 && !st) {
            for (size_t i = 0; i < r->n6; i++) idx[i] = i;
            qsort_r(idx, r->n6, sizeof *idx, cmp6, r->lo6);
            if (!st) st = permute(r->lo6, r->n6, sizeof *r->lo6, idx);
            if (!st) st = permute(r->hi6, r->n6, sizeof *r->hi6, idx);
            if (!st) st = permute(r->cc6, r->n6, sizeof *r->cc6, idx);
        }
        vg_free(idx);
        if (st) return vg_fail(VG_ERR_NOMEM, "%s: out of memory", name);
    }
    /* Overlaps would make bisection answer arbitrarily: refuse them. */
    for (size_t i = 1; i < r->n4; i++)
        if (r->lo4[i] <= r->hi4[i - 1]) return vg_fail(VG_ERR_PARSE, "%s: IPv4 ranges overlap", name);
    for (size_t i = 1; i < r->n6; i++)
        if (u128_cmp(r->lo6[i], r->hi6[i - 1]) <= 0) return vg_fail(VG_ERR_PARSE, "%s: IPv6 ranges overlap", name);
    return VG_OK;
}

static void put_cc(uint16_t cc, char out[VG_GEO_NAME_BYTES])
{
    if (cc == ('?' << 8 | '?')) {
        memcpy(out, "unknown", 8);
        return;
    }
    out[0] = (char)(cc >> 8), out[1] = (char)(cc & 0xff), out[2] = '\0';
}

void vg_geo_ranges_lookup(const vg_geo_ranges *r, const uint8_t addr[16], int family, char out[VG_GEO_NAME_BYTES])
{
    if (family == 4) {
        uint32_t ip = (uint32_t)addr[12] << 24 | (uint32_t)addr[13] << 16 | (uint32_t)addr[14] << 8 | addr[15];
        /* Last range whose low bound is <= ip. */
        size_t lo = 0, hi = r->n4;
        while (lo < hi) {
            size_t mid = lo + (hi - lo) / 2;
            if (r->lo4[mid] <= ip) lo = mid + 1;
            else hi = mid;
        }
        if (lo > 0 && ip <= r->hi4[lo - 1]) {
            put_cc(r->cc4[lo - 1], out);
            return;
        }
    } else {
        u128 ip = to_u128(addr);
        size_t lo = 0, hi = r->n6;
        while (lo < hi) {
            size_t mid = lo + (hi - lo) / 2;
            if (u128_cmp(r->lo6[mid], ip) <= 0) lo = mid + 1;
            else hi = mid;
        }
        if (lo > 0 && u128_cmp(ip, r->hi6[lo - 1]) <= 0) {
            put_cc(r->cc6[lo - 1], out);
            return;
        }
    }
    memcpy(out, "unknown", 8);
}
