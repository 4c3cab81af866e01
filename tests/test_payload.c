/* Golden cases of the payload families (src/features/payload.c) over the
 * canonical text (canon.c), as payloads arrive from real tools: each case
 * names the family it must count, encoded the way tools send it; benign
 * text (search words, names with accents, dates, JSON, prose) must count
 * none of the families that the rule score treats as strong. */
#include <stdarg.h>
#include <setjmp.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "vigil/canon.h"
#include "vigil/payload.h"

static void scan(const char *raw, uint16_t *counts)
{
    char c[1024];
    size_t n = vg_canon_decode(raw, strlen(raw), 1, c, sizeof c, NULL);
    memset(counts, 0, VG_PAYLOAD_COUNT * sizeof *counts);
    vg_payload_scan(c, n, counts);
}

static const struct {
    int family;
    const char *raw;
} cases[] = {
    { VG_PAYLOAD_SQL_UNION, "1%20UNION%20ALL%20SELECT%20NULL,NULL,CONCAT(0x71,0x7a)--%20-" },
    { VG_PAYLOAD_SQL_UNION, "-1'/**/UnIoN/**/SeLeCt/**/1,2,3--" },
    { VG_PAYLOAD_SQL_UNION, "1 /*!50000union*/ /*!50000select*/ user()" },
    { VG_PAYLOAD_SQL_UNION, "1%2520union%2520select%25201" },
    { VG_PAYLOAD_SQL_TAUTOLOGY, "admin' OR '1'='1" },
    { VG_PAYLOAD_SQL_TAUTOLOGY, "1 AND 5678=5678" },
    { VG_PAYLOAD_SQL_TAUTOLOGY, "x\" or \"a\"=\"a" },
    { VG_PAYLOAD_SQL_TAUTOLOGY, "1'||'x'like'x" },
    { VG_PAYLOAD_SQL_TAUTOLOGY, "' or ''='" },
    { VG_PAYLOAD_SQL_TIME, "1 AND SLEEP(5)" },
    { VG_PAYLOAD_SQL_TIME, "1);WAITFOR DELAY '0:0:5'--" },
    { VG_PAYLOAD_SQL_TIME, "1 AND 1=BENCHMARK(5000000,MD5(0x41))" },
    { VG_PAYLOAD_SQL_TIME, "1;SELECT PG_SLEEP(5)--" },
    { VG_PAYLOAD_SQL_STACKED, "1;DROP TABLE users" },
    { VG_PAYLOAD_SQL_STACKED, "1%3B%20select%20*%20from%20x" },
    { VG_PAYLOAD_SQL_QUOTE, "1' AND 1=1-- -" },
    { VG_PAYLOAD_SQL_QUOTE, "foo')" },
    { VG_PAYLOAD_SQL, "(SELECT table_name FROM information_schema.tables)" },
    { VG_PAYLOAD_XSS_TAG, "%3CScRiPt%3Ealert(1)%3C/script%3E" },
    { VG_PAYLOAD_XSS_TAG, "%253Csvg%2Fonload%3Dalert%281%29%253E" },
    { VG_PAYLOAD_XSS_TAG, "&lt;img src=x&gt;" },
    { VG_PAYLOAD_XSS_HANDLER, "\"><img src=x onerror=prompt(1)>" },
    { VG_PAYLOAD_XSS_HANDLER, "<body OnLoad = alert(1)>" },
    { VG_PAYLOAD_XSS_PROTO, "JaVaScRiPt:alert(document.cookie)" },
    { VG_PAYLOAD_XSS_PROTO, "javascript&colon;confirm`1`" },
    { VG_PAYLOAD_XSS_PROTO, "%u0061lert(1)" },
    { VG_PAYLOAD_TRAVERSAL, "..%2F..%2F..%2Fetc%2Fpasswd" },
    { VG_PAYLOAD_TRAVERSAL, "%2e%2e%5c%2e%2e%5cwindows%5cwin.ini" },
    { VG_PAYLOAD_TRAVERSAL, "%c0%ae%c0%ae%c0%af%c0%ae%c0%ae%c0%afetc" },
    { VG_PAYLOAD_TRAVERSAL, "..%252f..%252fetc" },
    { VG_PAYLOAD_LFI, "/etc/passwd%00.jpg" },
    { VG_PAYLOAD_LFI, "php://filter/convert.base64-encode/resource=index.php" },
    { VG_PAYLOAD_LFI, "C:\\Windows\\system.ini" },
    { VG_PAYLOAD_LFI, "file:///etc/hosts" },
    { VG_PAYLOAD_CMDI, ";id" },
    { VG_PAYLOAD_CMDI, "a|cat /etc/passwd" },
    { VG_PAYLOAD_CMDI, "`whoami`" },
    { VG_PAYLOAD_CMDI, "$(sleep 5)" },
    { VG_PAYLOAD_CMDI, "x%26%26ping -c 3 127.0.0.1" },
    { VG_PAYLOAD_CMDI, "a%0Auname -a" },
    { VG_PAYLOAD_CMDI, "%3Benv%3B" },
    { VG_PAYLOAD_CMDI, "a%7Cenv" },
    { VG_PAYLOAD_CMDI, "a%3Bexit%28md5%28%27x%27%29%29%3B%2F%2F" },
    { VG_PAYLOAD_CMDI, "%27.system(%27id%27).%27" },
    { VG_PAYLOAD_LFI, "data%3A%3Bbase64%2CPD9waHAgZWNobyAxOyA%2FPg%3D%3D" },
    { VG_PAYLOAD_SSTI, "{{7*7}}" },
    { VG_PAYLOAD_SSTI, "%7B%7Bconfig.__class__%7D%7D" },
    { VG_PAYLOAD_SSTI, "<%= 7*7 %>" },
    { VG_PAYLOAD_SSTI, "#{7*7}" },
    { VG_PAYLOAD_CRLF, "%0d%0aSet-Cookie:%20a=b" },
    { VG_PAYLOAD_CRLF, "%250d%250aLocation:x" },
    { VG_PAYLOAD_JNDI, "${jndi:ldap://127.0.0.1/a}" },
    { VG_PAYLOAD_JNDI, "${${lower:j}${lower:n}di:rmi://x/y}" },
    { VG_PAYLOAD_JNDI, "${${::-j}${::-n}${::-d}${::-i}:dns://x}" },
    { VG_PAYLOAD_JNDI, "%24%7Bjndi%3Aldap%3A%2F%2Fx%7D" },
};

static const char *const benign[] = {
    "q=caf%C3%A9+cr%C3%A8me", "q=espa%F1a", "name=O%27Brien", "q=rock+%26+roll", "page=2&sort=price_asc",
    "date=2024-05-01T10:00:00Z", "q=select+a+sofa", "q=how+to+order+by+phone", "redirect=%2Faccount%2Forders",
    "q=1%2B1%3D2", "callback=jQuery123_456", "utm_source=news&utm_medium=email", "q=%E4%B8%AD%E6%96%87",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36",
    "https://www.example.com/search?q=shoes&page=2", "{\"items\":[1,2,3],\"note\":\"ok\"}", "q=50%25+off",
    "q=a+or+b", "q=t-shirt", "email=ana.lopez%40example.com", "q=%C3%B1and%C3%BA", "id=..", "q=on+sale",
    "q=rock+%26+roll%3B+live", "q=salt+%26+pepper", "q=environment+friendly", "q=exit+sign", "q=the+system+of+a+down",
};

static void test_families(void **st)
{
    (void)st;
    uint16_t c[VG_PAYLOAD_COUNT];
    int failed = 0;
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        scan(cases[i].raw, c);
        if (c[cases[i].family] == 0) {
            printf("missed %s: %s\n", vg_payload_name((size_t)cases[i].family), cases[i].raw);
            failed++;
        }
    }
    assert_int_equal(failed, 0);
}

static void test_benign(void **st)
{
    (void)st;
    uint16_t c[VG_PAYLOAD_COUNT];
    int failed = 0;
    for (size_t i = 0; i < sizeof benign / sizeof *benign; i++) {
        scan(benign[i], c);
        for (size_t k = VG_PAYLOAD_SQL_UNION; k < VG_PAYLOAD_META; k++)
            if (c[k] && k != VG_PAYLOAD_SQL_QUOTE) {
                printf("benign counted as %s: %s\n", vg_payload_name(k), benign[i]);
                failed++;
            }
    }
    assert_int_equal(failed, 0);
}

static void test_names(void **st)
{
    (void)st;
    for (size_t i = 0; i < VG_PAYLOAD_COUNT; i++) assert_non_null(vg_payload_name(i));
    assert_null(vg_payload_name(VG_PAYLOAD_COUNT));
    uint16_t c[VG_PAYLOAD_COUNT] = { 0 };
    c[VG_PAYLOAD_META] = UINT16_MAX;  /* saturates, never wraps */
    vg_payload_scan("'", 1, c);
    assert_int_equal(c[VG_PAYLOAD_META], UINT16_MAX);
}

/* The scan skips positions where no sign can start; it must count what the
 * scan that tries every position counts. Texts built from random pieces of
 * the signs themselves (so signs do occur, split and joined), raw bytes
 * too. */
static void test_fast_scan_same(void **st)
{
    (void)st;
    static const char *const pieces[] = {
        "select", " ", "union", "or", "and", "xor", "1", "=", "'", "\"", "on", "load", "error", "<", "script", ">",
        "../", "etc/passwd", ";", "|", "&", "`", "\n", "\r", "${", "jndi:", "{{", "}}", "ls", "id", "cat", "sleep(",
        "a", "x", "o", "n", "r", "/", "*", "(", ")", "--", "#", "like", "true", "alert(", "$(", "\\", "null,",
        "Or", "\xc3\xb1", "__class__", "{%", "ldap://", "drop", "exec",
    };
    const size_t n_pieces = sizeof pieces / sizeof *pieces;
    uint32_t r = 777;
    char text[256];
    size_t total = 0;
    for (int it = 0; it < 100000; it++) {
        size_t len = 0;
        r = r * 1103515245u + 12345u;
        size_t k = (r >> 16) % 12;
        for (size_t p = 0; p < k; p++) {
            r = r * 1103515245u + 12345u;
            const char *piece = pieces[(r >> 16) % n_pieces];
            size_t pl = strlen(piece);
            memcpy(text + len, piece, pl), len += pl;
        }
        if (it % 7 == 0 && len) text[(r >> 8) % len] = '\0';
        uint16_t a[VG_PAYLOAD_COUNT] = { 0 }, b[VG_PAYLOAD_COUNT] = { 0 };
        vg_payload_scan(text, len, a);
        vg_payload_scan_full(text, len, b);
        assert_memory_equal(a, b, sizeof a);
        for (size_t f = 0; f < VG_PAYLOAD_COUNT; f++) total += a[f];
    }
    assert_true(total > 100000);  /* the texts did carry signs */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_families),
        cmocka_unit_test(test_benign),
        cmocka_unit_test(test_names),
        cmocka_unit_test(test_fast_scan_same),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
