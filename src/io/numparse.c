/* The number parser used by the CSV reader. Most fields in security data are
 * short integers or decimals ("0", "0.05", "12983"); those are converted here
 * exactly, and anything harder goes to strtod, so every result equals the
 * correctly rounded value strtod gives. The grammar is deliberately narrower
 * than strtod's: no hex, no "inf"/"nan" words, so such text stays categorical.
 *
 * Why the fast path is exact: a decimal with at most 19 significant digits
 * whose integer mantissa m fits in 53 bits is exactly representable, and so
 * is 10^k for k <= 22; one IEEE multiplication or division of two exact
 * values is correctly rounded (Clinger's fast path). */
#define _GNU_SOURCE
#include "vigil/csv.h"

#include <locale.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static const double pow10_exact[23] = {
    1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11,
    1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
};

/* strtod follows LC_NUMERIC; the file format does not, so the slow path uses
 * a private "C" locale created once. */
static pthread_once_t c_locale_once = PTHREAD_ONCE_INIT;
static locale_t c_locale;

static void make_c_locale(void)
{
    c_locale = newlocale(LC_NUMERIC_MASK, "C", (locale_t)0);
}

static int slow_parse(const char *s, size_t len, double *out)
{
    char stack[128];
    char *buf = stack;
    if (len >= sizeof stack) {
        buf = vg_malloc(len + 1);
        if (!buf) return 0;
    }
    memcpy(buf, s, len);
    buf[len] = '\0';
    pthread_once(&c_locale_once, make_c_locale);
    char *endp;
    double v = c_locale ? strtod_l(buf, &endp, c_locale) : strtod(buf, &endp);
    int ok = endp == buf + len;
    if (buf != stack) vg_free(buf);
    if (ok) *out = v;
    return ok;
}

static int is_space(char c)
{
    return c == ' ' || c == '\t';
}

static int is_digit(char c)
{
    return (unsigned char)(c - '0') < 10;
}

int vg_parse_number(const char *s, size_t len, double *out)
{
    const char *p = s, *end = s + len;
    while (p < end && is_space(*p)) p++;
    while (end > p && is_space(end[-1])) end--;
    if (p == end) return 0;
    const char *start = p;

    int neg = 0;
    if (*p == '+' || *p == '-') {
        neg = *p == '-';
        p++;
    }
    uint64_t m = 0;     /* significant digits, leading zeros skipped */
    int nd = 0;         /* how many digits m holds */
    int inexact = 0;    /* more than 19 significant digits: leave it to strtod */
    long exp10 = 0;     /* value = m * 10^exp10 */
    size_t ndigits = 0; /* digits seen at all, to reject "", "-", "." */

    while (p < end && is_digit(*p)) {
        int d = *p++ - '0';
        ndigits++;
        if (nd < 19) {
            if (m || d) {
                m = m * 10 + (uint64_t)d;
                nd++;
            }
        } else {
            inexact = 1;
            exp10++;
        }
    }
    if (p < end && *p == '.') {
        p++;
        while (p < end && is_digit(*p)) {
            int d = *p++ - '0';
            ndigits++;
            if (nd < 19) {
                if (m || d) {
                    m = m * 10 + (uint64_t)d;
                    nd++;
                }
                exp10--;
            } else {
                inexact = 1;
            }
        }
    }
    if (ndigits == 0) return 0;
    if (p < end && (*p == 'e' || *p == 'E')) {
        p++;
        int eneg = 0;
        if (p < end && (*p == '+' || *p == '-')) {
            eneg = *p == '-';
            p++;
        }
        if (p == end || !is_digit(*p)) return 0;
        long e = 0;
        while (p < end && is_digit(*p)) {
            if (e < 100000) e = e * 10 + (*p - '0');
            p++;
        }
        exp10 += eneg ? -e : e;
    }
    if (p != end) return 0;

    if (!inexact) {
        if (m == 0) {
            *out = neg ? -0.0 : 0.0;
            return 1;
        }
        if (m <= (1ull << 53) && exp10 >= -22 && exp10 <= 22) {
            double v = (double)m;
            v = exp10 < 0 ? v / pow10_exact[-exp10] : v * pow10_exact[exp10];
            *out = neg ? -v : v;
            return 1;
        }
    }
    return slow_parse(start, (size_t)(end - start), out);
}
