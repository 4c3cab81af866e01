/* Arena-backed text building (see text.h). */
#include "serve/text.h"

#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

void vg_text_init(vg_text *t, vg_arena *a, size_t cap)
{
    t->a = a;
    t->len = 0;
    t->failed = 0;
    t->cap = cap ? cap : 256;
    t->data = vg_arena_alloc(a, t->cap);
    if (!t->data) t->failed = 1, t->cap = 0;
}

/* Make room for n more bytes plus a NUL. */
static int reserve(vg_text *t, size_t n)
{
    if (t->failed) return 0;
    if (t->len + n + 1 <= t->cap) return 1;
    size_t cap = t->cap * 2;
    while (cap < t->len + n + 1) cap *= 2;
    char *d = vg_arena_grow(t->a, t->data, t->cap, cap);
    if (!d) {
        t->failed = 1;
        return 0;
    }
    t->data = d;
    t->cap = cap;
    return 1;
}

void vg_text_put(vg_text *t, const char *s, size_t n)
{
    if (!reserve(t, n)) return;
    memcpy(t->data + t->len, s, n);
    t->len += n;
    t->data[t->len] = '\0';
}

void vg_text_puts(vg_text *t, const char *s)
{
    vg_text_put(t, s, strlen(s));
}

void vg_text_putc(vg_text *t, char c)
{
    if (!reserve(t, 1)) return;
    t->data[t->len++] = c;
    t->data[t->len] = '\0';
}

void vg_text_printf(vg_text *t, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char small[256];
    int n = vsnprintf(small, sizeof small, fmt, ap);
    va_end(ap);
    if (n < 0) return;
    if ((size_t)n < sizeof small) {
        vg_text_put(t, small, (size_t)n);
        return;
    }
    if (!reserve(t, (size_t)n)) return;
    va_start(ap, fmt);
    vsnprintf(t->data + t->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    t->len += (size_t)n;
}

void vg_text_json_str(vg_text *t, const char *s, size_t n)
{
    /* Worst case every byte becomes \u00XX. */
    if (!reserve(t, n * 6 + 2)) return;
    char *d = t->data + t->len;
    *d++ = '"';
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '"' || c == '\\') {
            *d++ = '\\';
            *d++ = (char)c;
        } else if (c < 0x20) {
            static const char hex[] = "0123456789abcdef";
            *d++ = '\\';
            switch (c) {
            case '\n': *d++ = 'n'; break;
            case '\r': *d++ = 'r'; break;
            case '\t': *d++ = 't'; break;
            default:
                memcpy(d, "u00", 3);
                d += 3;
                *d++ = hex[c >> 4];
                *d++ = hex[c & 15];
            }
        } else {
            *d++ = (char)c;
        }
    }
    *d++ = '"';
    t->len = (size_t)(d - t->data);
    t->data[t->len] = '\0';
}

void vg_text_json_cstr(vg_text *t, const char *s)
{
    if (!s) vg_text_put(t, "null", 4);
    else vg_text_json_str(t, s, strlen(s));
}

void vg_text_u64(vg_text *t, unsigned long long v)
{
    char buf[24];
    size_t i = sizeof buf;
    do {
        buf[--i] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    vg_text_put(t, buf + i, sizeof buf - i);
}

static const double pow10_exact[23] = {
    1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,  1e8,  1e9,  1e10, 1e11,
    1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
};

/* %.{digits}g without printf, which costs about half a microsecond per call
 * and would be a visible share of a detection (three or four numbers per
 * reply). The digits come from one scaling by an exact power of ten and one
 * rounding, so the last digit may differ from printf's exact decimal
 * expansion in rare ties; the value read back is within half a unit of the
 * last digit printed. Returns the length, or 0 when out of the fast range. */
static int format_g(char *buf, double v, int digits)
{
    if (digits < 1 || digits > 15) return 0;
    int neg = v < 0;
    double a = fabs(v);
    int e = (int)floor(log10(a));
    int k = digits - 1 - e;  /* scale so the integer part has `digits` digits */
    if (k < -22 || k > 22) return 0;
    double scaled = k >= 0 ? a * pow10_exact[k] : a / pow10_exact[-k];
    uint64_t d = (uint64_t)rint(scaled);  /* ties to even, as printf */
    uint64_t top = (uint64_t)pow10_exact[digits];
    if (d >= top) {  /* rounding carried into a new digit (9.9999995 -> 10.00000) */
        d /= 10;
        e++;
    } else if (d < top / 10) {  /* log10 rounded up at an exact power of ten */
        d *= 10;
        e--;
    }
    char dig[16];
    for (int i = digits - 1; i >= 0; i--) {
        dig[i] = (char)('0' + d % 10);
        d /= 10;
    }
    int nd = digits;
    while (nd > 1 && dig[nd - 1] == '0') nd--;  /* %g drops trailing zeros */
    char *o = buf;
    if (neg) *o++ = '-';
    if (e < -4 || e >= digits) {
        *o++ = dig[0];
        if (nd > 1) {
            *o++ = '.';
            memcpy(o, dig + 1, (size_t)nd - 1);
            o += nd - 1;
        }
        *o++ = 'e';
        *o++ = e < 0 ? '-' : '+';
        int ae = e < 0 ? -e : e;
        if (ae >= 100) *o++ = (char)('0' + ae / 100);
        *o++ = (char)('0' + ae / 10 % 10);
        *o++ = (char)('0' + ae % 10);
    } else if (e < 0) {
        *o++ = '0';
        *o++ = '.';
        for (int z = -1; z > e; z--) *o++ = '0';
        memcpy(o, dig, (size_t)nd);
        o += nd;
    } else {
        for (int i = 0; i <= e; i++) *o++ = i < nd ? dig[i] : '0';
        if (nd > e + 1) {
            *o++ = '.';
            memcpy(o, dig + e + 1, (size_t)(nd - e - 1));
            o += nd - e - 1;
        }
    }
    return (int)(o - buf);
}

void vg_text_json_num(vg_text *t, double v, int digits)
{
    if (!isfinite(v)) {
        vg_text_put(t, "null", 4);
        return;
    }
    /* Whole numbers (counts, 0 and 1 probabilities) are plain integers. */
    if (v == floor(v) && fabs(v) < 1e15) {
        if (v < 0) vg_text_putc(t, '-');
        vg_text_u64(t, (unsigned long long)fabs(v));
        return;
    }
    char buf[48];
    int n = format_g(buf, v, digits);
    if (n <= 0) n = snprintf(buf, sizeof buf, "%.*g", digits, v);
    if (n > 0) vg_text_put(t, buf, (size_t)n);
}
