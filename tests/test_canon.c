/* Tests of the canonical-form decoder (src/features/canon.c): double
 * encoding, %uXXXX, '+', HTML entities, overlong and invalid UTF-8, Latin-1
 * bytes, mixed case, truncated '%', SQL comments and whitespace runs, the
 * bounds of the output buffer. */
#include <stdarg.h>
#include <setjmp.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "vigil/canon.h"

static vg_canon_info info;

/* The canonical form of s (form mode as given) as a C string. */
static const char *canon(const char *s, int form)
{
    static char out[256];
    size_t n = vg_canon_decode(s, strlen(s), form, out, sizeof out - 1, &info);
    out[n] = '\0';
    return out;
}

static void test_percent_until_stable(void **st)
{
    (void)st;
    assert_string_equal(canon("%3Cscript%3E", 0), "<script>");
    assert_int_equal(info.rounds, 1);
    assert_int_equal(info.pct, 2);
    /* %253C: '%25' is '%', so two rounds give '<'; three for %25253C. */
    assert_string_equal(canon("%253Cscript%253E", 0), "<script>");
    assert_int_equal(info.rounds, 2);
    assert_string_equal(canon("%25253Cb", 0), "<b");
    assert_int_equal(info.rounds, 3);
    assert_string_equal(canon("plain/path.html", 0), "plain/path.html");
    assert_int_equal(info.rounds, 0);
    assert_int_equal(info.pct, 0);
}

static void test_plus_and_u(void **st)
{
    (void)st;
    assert_string_equal(canon("union+select", 1), "union select");
    assert_string_equal(canon("union+select", 0), "union+select");  /* a path's '+' is a plus */
    assert_string_equal(canon("1%2B1", 1), "1+1");                 /* an encoded plus stays a plus */
    assert_string_equal(canon("%u003Cimg%u003e", 0), "<img>");
    assert_int_equal(info.pct_u, 2);
    assert_string_equal(canon("%u00F1", 0), "\xc3\xb1");            /* U+00F1 as UTF-8 */
    assert_string_equal(canon("%uD800", 0), "\xef\xbf\xbd");        /* a lone surrogate: U+FFFD */
}

static void test_entities(void **st)
{
    (void)st;
    assert_string_equal(canon("&lt;svg onload=alert(1)&gt;", 0), "<svg onload=alert(1)>");
    assert_int_equal(info.entities, 2);
    assert_string_equal(canon("&#60;&#x3C;&#X3c&LT;", 0), "<<<<");
    assert_string_equal(canon("javascript&colon;alert&lpar;1&rpar;", 0), "javascript:alert(1)");
    assert_string_equal(canon("%26lt%3Bb%26gt%3B", 1), "<b>");    /* entity inside percent-encoding */
    assert_string_equal(canon("a&b=c&#;&#x;", 1), "a&b=c&#;&#x;");  /* not references */
    assert_int_equal(info.entities, 0);
}

static void test_utf8_latin1_overlong(void **st)
{
    (void)st;
    /* Valid UTF-8 ñ stays; a lone Latin-1 F1 (ñ) becomes its UTF-8. */
    assert_string_equal(canon("espa%C3%B1a", 0), "espa\xc3\xb1" "a");
    assert_int_equal(info.latin1, 0);
    assert_int_equal(info.non_ascii, 1);
    assert_string_equal(canon("espa%F1a", 0), "espa\xc3\xb1" "a");
    assert_int_equal(info.latin1, 1);
    assert_int_equal(info.non_ascii, 1);
    /* Overlong forms of '.' and '/' (%C0%AE, %C0%AF, %E0%80%AF) are decoded and counted. */
    assert_string_equal(canon("%C0%AE%C0%AE%C0%AFetc%E0%80%AFpasswd", 0), "../etc/passwd");
    assert_int_equal(info.overlong, 4);
    /* Broken sequences: a lead byte without continuation, a lone
     * continuation byte, a surrogate, beyond U+10FFFF: read as Latin-1. */
    assert_string_equal(canon("%C3x", 0), "\xc3\x83x");
    assert_int_equal(info.latin1, 1);
    assert_string_equal(canon("%80", 0), "\xc2\x80");
    assert_string_equal(canon("%ED%A0%80", 0), "\xc3\xad\xc2\xa0\xc2\x80");
    assert_int_equal(info.latin1, 3);
    assert_string_equal(canon("%F4%90%80%80", 0), "\xc3\xb4\xc2\x90\xc2\x80\xc2\x80");
    assert_int_equal(info.overlong, 0);
}

static void test_case_comments_spaces(void **st)
{
    (void)st;
    assert_string_equal(canon("UnIoN/**/SeLeCt", 0), "union select");
    assert_int_equal(info.comments, 1);
    assert_string_equal(canon("UNION%09%0B%20%20ALL/*x*/SELECT", 0), "union all select");
    assert_string_equal(canon("/*!50000UNION*/ /*!SELECT*/", 0), "union select");
    assert_string_equal(canon("a/*unterminated", 0), "a/*unterminated");  /* kept as written */
    assert_string_equal(canon("%0d%0aSet-Cookie:x", 0), "\r\nset-cookie:x");
    assert_int_equal(info.controls, 2);
    assert_string_equal(canon("a%00b", 0), "a\0b" + 0);  /* the NUL is kept: compared up to it */
    assert_int_equal(info.controls, 1);
}

static void test_truncated(void **st)
{
    (void)st;
    assert_string_equal(canon("100%", 0), "100%");
    assert_int_equal(info.truncated, 1);
    assert_string_equal(canon("%4", 0), "%4");
    assert_int_equal(info.truncated, 1);
    assert_string_equal(canon("%zz%u12", 0), "%zz%u12");
    assert_int_equal(info.truncated, 2);
    assert_int_equal(info.rounds, 0);
}

static void test_bounds(void **st)
{
    (void)st;
    char out[4];
    /* Output cut at cap, never past it; Latin-1 that would not fit is left out. */
    assert_int_equal(vg_canon_decode("ABCDEFG", 7, 0, out, sizeof out, NULL), 4);
    assert_memory_equal(out, "abcd", 4);
    assert_int_equal(vg_canon_decode("abc\xf1", 4, 0, out, sizeof out, NULL), 3);
    assert_int_equal(vg_canon_decode("", 0, 0, out, sizeof out, NULL), 0);
    /* Input past the decoder's 8 KiB: only the first 8 KiB are read. */
    static char big[20000], res[20000];
    memset(big, 'a', sizeof big);
    assert_int_equal(vg_canon_decode(big, sizeof big, 0, res, sizeof res, NULL), 8192);
    /* Rounds stop at VG_CANON_MAX_ROUNDS even when more would decode. */
    assert_string_equal(canon("%252525253C", 0), "%3c");
    assert_int_equal(info.rounds, VG_CANON_MAX_ROUNDS);
}

/* The fast path for text with nothing to decode must give what the full
 * decoder gives, output and counts, whatever the text, form mode and
 * output size: random texts over bytes that sit on both sides of its
 * table (letters of both cases, spaces, '/', '*', '+', '%', '&', hex
 * digits, a tab, a Latin-1 byte, a UTF-8 pair). */
static void test_fast_path_same(void **st)
{
    (void)st;
    static const char alphabet[] = "aZ /*+%&3Fb;'<>\t\xf1\xc3\xb1.=Cu!";
    uint32_t r = 12345;
    char in[64], fast[96], full[96];
    size_t plain = 0;
    for (int it = 0; it < 200000; it++) {
        r = r * 1103515245u + 12345u;
        size_t len = (r >> 16) % 40;
        for (size_t i = 0; i < len; i++) {
            r = r * 1103515245u + 12345u;
            /* Half the texts from the plain part of the alphabet only. */
            size_t span = it & 1 ? sizeof alphabet - 1 : 6;
            in[i] = alphabet[(r >> 16) % span];
        }
        r = r * 1103515245u + 12345u;
        int form = (r >> 16) & 1;
        size_t cap = (r >> 17) % 70;
        vg_canon_info a, b;
        size_t na = vg_canon_decode(in, len, form, fast, cap, &a);
        size_t nb = vg_canon_decode(in, len, form | VG_CANON_FULL, full, cap, &b);
        assert_int_equal(na, nb);
        assert_memory_equal(fast, full, na);
        assert_memory_equal(&a, &b, sizeof a);
        plain += a.rounds == 0;
    }
    assert_true(plain > 50000);
    /* Past the work bound: both read the first 8 KiB only. */
    static char big[10000], o1[10000], o2[10000];
    memset(big, 'A', sizeof big);
    big[5000] = big[5001] = ' ';
    size_t n1 = vg_canon_decode(big, sizeof big, 0, o1, sizeof o1, NULL);
    size_t n2 = vg_canon_decode(big, sizeof big, VG_CANON_FULL, o2, sizeof o2, NULL);
    assert_int_equal(n1, 8191);
    assert_int_equal(n1, n2);
    assert_memory_equal(o1, o2, n1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_percent_until_stable), cmocka_unit_test(test_plus_and_u),
        cmocka_unit_test(test_entities),             cmocka_unit_test(test_utf8_latin1_overlong),
        cmocka_unit_test(test_case_comments_spaces), cmocka_unit_test(test_truncated),
        cmocka_unit_test(test_bounds),               cmocka_unit_test(test_fast_path_same),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
