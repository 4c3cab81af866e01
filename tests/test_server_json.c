/* Unit tests for the server's JSON tape parser: the tape layout, strings
 * (escapes, surrogates, UTF-8 checks), numbers, the depth limit proven just
 * under and just over, error offsets for malformed text, and a timing
 * comparison with cJSON on a KDD record (printed, not asserted: the machine
 * is shared). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "serve/json_tape.h"

static vg_arena arena;

static int setup(void **state)
{
    (void)state;
    vg_arena_init(&arena, NULL, 0, 0);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    vg_arena_free(&arena);
    return 0;
}

static vg_status parse(const char *s, size_t depth, vg_jtape *t)
{
    return vg_jtape_parse(s, strlen(s), depth, &arena, t);
}

static void test_tape_layout(void **state)
{
    (void)state;
    vg_jtape t;
    const char *doc = " {\"a\": 1, \"b\": [true, null, \"x\"], \"c\": {\"d\": -2.5e1}} ";
    assert_int_equal(parse(doc, 16, &t), VG_OK);
    /* object, a, 1, b, [, true, null, "x", c, {, d, -25 */
    assert_int_equal(t.n, 12);
    assert_int_equal(t.nodes[0].type, VG_JOBJECT);
    assert_int_equal(t.nodes[0].len, 3);
    assert_int_equal(t.nodes[0].next, 12);
    assert_int_equal(t.nodes[0].pos, 1);
    assert_int_equal(t.nodes[0].end, strlen(doc) - 1);
    assert_int_equal(t.nodes[1].type, VG_JSTRING);
    assert_memory_equal(t.nodes[1].v.str, "a", 1);
    assert_int_equal(t.nodes[2].type, VG_JNUMBER);
    assert_true(t.nodes[2].v.num == 1.0);
    assert_int_equal(t.nodes[4].type, VG_JARRAY);
    assert_int_equal(t.nodes[4].len, 3);
    assert_int_equal(t.nodes[4].next, 8);
    assert_int_equal(t.nodes[5].type, VG_JTRUE);
    assert_int_equal(t.nodes[6].type, VG_JNULL);
    assert_int_equal(t.nodes[7].len, 1);
    assert_true(t.nodes[11].v.num == -25.0);
    /* Member lookup by name. */
    assert_int_equal(vg_jtape_member(&t, 0, "b"), 4);
    assert_int_equal(vg_jtape_member(&t, 0, "c"), 9);
    assert_int_equal(vg_jtape_member(&t, 0, "zz"), 0);
    /* Strings without escapes point into the text: no copy. */
    assert_ptr_equal(t.nodes[1].v.str, doc + 3);
}

static void test_strings(void **state)
{
    (void)state;
    vg_jtape t;
    assert_int_equal(parse("\"a\\\"b\\\\c\\/d\\n\\t\\u00e9\\u20ac\\ud83d\\ude00\"", 4, &t), VG_OK);
    const char *want = "a\"b\\c/d\n\t\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80";
    assert_int_equal(t.nodes[0].len, strlen(want));
    assert_memory_equal(t.nodes[0].v.str, want, strlen(want));
    /* Raw UTF-8 passes; broken UTF-8, lone surrogates and control bytes do not. */
    assert_int_equal(parse("\"caf\xc3\xa9\"", 4, &t), VG_OK);
    assert_int_equal(parse("\"caf\xc3\"", 4, &t), VG_ERR_PARSE);
    assert_non_null(strstr(vg_last_error(), "UTF-8"));
    assert_int_equal(parse("\"\xed\xa0\x80\"", 4, &t), VG_ERR_PARSE);  /* encoded surrogate */
    assert_int_equal(parse("\"\\ud800\"", 4, &t), VG_ERR_PARSE);
    assert_int_equal(parse("\"\\udc00\"", 4, &t), VG_ERR_PARSE);
    assert_int_equal(parse("\"a\tb\"", 4, &t), VG_ERR_PARSE);
    assert_non_null(strstr(vg_last_error(), "control character"));
    /* Every position of a long string, so the 8-byte scan is covered too. */
    for (int at = 0; at < 24; at++) {
        char doc[40];
        memset(doc, 'a', sizeof doc);
        doc[0] = '"';
        doc[30] = '"';
        doc[31] = '\0';
        doc[1 + at] = '\x01';
        assert_int_equal(parse(doc, 4, &t), VG_ERR_PARSE);
        doc[1 + at] = '\x80';
        assert_int_equal(parse(doc, 4, &t), VG_ERR_PARSE);
        doc[1 + at] = '"';
        assert_int_equal(parse(doc, 4, &t), VG_ERR_PARSE);  /* trailing data */
        doc[1 + at] = 'b';
        assert_int_equal(parse(doc, 4, &t), VG_OK);
        assert_int_equal(t.nodes[0].len, 29);
    }
    assert_int_equal(parse("\"\\x\"", 4, &t), VG_ERR_PARSE);
    assert_int_equal(parse("\"\\u12g4\"", 4, &t), VG_ERR_PARSE);
    assert_int_equal(parse("\"abc", 4, &t), VG_ERR_PARSE);
    assert_non_null(strstr(vg_last_error(), "ends before"));
}

static void test_numbers(void **state)
{
    (void)state;
    vg_jtape t;
    static const struct {
        const char *text;
        double value;
    } ok[] = { { "0", 0 }, { "-0", -0.0 }, { "12983", 12983 }, { "0.05", 0.05 }, { "1e3", 1000 },
               { "-2.5E-2", -0.025 }, { "1.7976931348623157e308", 1.7976931348623157e308 } };
    for (size_t i = 0; i < sizeof ok / sizeof *ok; i++) {
        assert_int_equal(parse(ok[i].text, 4, &t), VG_OK);
        assert_true(t.nodes[0].v.num == ok[i].value);
    }
    /* The one-pass fast path and the slow path agree with strtod to the bit. */
    uint64_t x = 88172645463325252ull;
    for (int i = 0; i < 20000; i++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        char text[64];
        switch (i % 4) {
        case 0: snprintf(text, sizeof text, "%llu", (unsigned long long)(x % 100000000000ull)); break;
        case 1: snprintf(text, sizeof text, "-%llu.%0*llu", (unsigned long long)(x % 100000), (int)(x % 9) + 1,
                         (unsigned long long)((x >> 20) % 1000000000ull)); break;
        case 2: snprintf(text, sizeof text, "0.%0*llu", (int)(x % 17) + 1, (unsigned long long)((x >> 8) % 100000000000000000ull)); break;
        default: snprintf(text, sizeof text, "%llue%d", (unsigned long long)(x % 1000000), (int)(x % 40) - 20); break;
        }
        assert_int_equal(parse(text, 4, &t), VG_OK);
        double want = strtod(text, NULL);
        if (memcmp(&t.nodes[0].v.num, &want, sizeof want) != 0) fail_msg("%s: got %.17g want %.17g", text, t.nodes[0].v.num, want);
    }
    static const char *const bad[] = { "01", "+1", ".5", "1.", "1e", "-", "1e400", "NaN", "Infinity", "0x10" };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        assert_int_equal(parse(bad[i], 4, &t), VG_ERR_PARSE);
        assert_non_null(strstr(vg_last_error(), "offset"));
    }
}

static void test_errors_name_offset(void **state)
{
    (void)state;
    vg_jtape t;
    assert_int_equal(parse("{\"a\": 1,", 4, &t), VG_ERR_PARSE);
    assert_non_null(strstr(vg_last_error(), "offset 8"));
    assert_non_null(strstr(vg_last_error(), "ends before"));
    assert_int_equal(parse("{\"a\": 1} x", 4, &t), VG_ERR_PARSE);
    assert_non_null(strstr(vg_last_error(), "offset 9: unexpected data after"));
    assert_int_equal(parse("{\"a\" 1}", 4, &t), VG_ERR_PARSE);
    assert_non_null(strstr(vg_last_error(), "offset 5: expected ':'"));
    assert_int_equal(parse("{a: 1}", 4, &t), VG_ERR_PARSE);
    assert_non_null(strstr(vg_last_error(), "offset 1: expected a string key"));
    assert_int_equal(parse("[1 2]", 4, &t), VG_ERR_PARSE);
    assert_non_null(strstr(vg_last_error(), "offset 3"));
    assert_int_equal(parse("{\"a\": tru}", 4, &t), VG_ERR_PARSE);
    assert_int_equal(parse("", 4, &t), VG_ERR_PARSE);
    assert_non_null(strstr(vg_last_error(), "empty"));
    assert_int_equal(parse("   ", 4, &t), VG_ERR_PARSE);
    assert_int_equal(parse("{\"a\":1,}", 4, &t), VG_ERR_PARSE);
    assert_int_equal(vg_jtape_parse("{\"a\":1}\0", 8, 4, &arena, &t), VG_ERR_PARSE);
}

/* "[[[...1...]]]" nested n deep. */
static const char *nested(size_t n)
{
    static char buf[4096];
    size_t k = 0;
    for (size_t i = 0; i < n; i++) buf[k++] = '[';
    buf[k++] = '1';
    for (size_t i = 0; i < n; i++) buf[k++] = ']';
    buf[k] = '\0';
    return buf;
}

static void test_depth_limit(void **state)
{
    (void)state;
    vg_jtape t;
    assert_int_equal(parse(nested(16), 16, &t), VG_OK);
    assert_int_equal(parse(nested(17), 16, &t), VG_ERR_LIMIT);
    assert_non_null(strstr(vg_last_error(), "deeper than 16"));
    assert_non_null(strstr(vg_last_error(), "offset 16"));
    /* Scalars and flat objects are depth 0 and 1. */
    assert_int_equal(parse("{\"a\":1}", 1, &t), VG_OK);
    assert_int_equal(parse("{\"a\":{}}", 1, &t), VG_ERR_LIMIT);
    /* Very deep input fails fast without exhausting the stack. */
    assert_int_equal(parse(nested(2000), 1000, &t), VG_ERR_LIMIT);
}

static void test_arena_limit(void **state)
{
    (void)state;
    vg_arena small;
    vg_arena_init(&small, NULL, 0, 4096);
    char doc[20001];
    doc[0] = '[';
    size_t k = 1;
    for (int i = 0; i < 5000; i++) {
        doc[k++] = '1';
        doc[k++] = ',';
    }
    doc[k - 1] = ']';
    doc[k] = '\0';
    vg_jtape t;
    assert_int_equal(vg_jtape_parse(doc, k, 4, &small, &t), VG_ERR_NOMEM);
    assert_true(small.allocated <= 4096);
    vg_arena_free(&small);
}

static const char kdd_record[] =
    "{\"duration\":0,\"protocol_type\":\"tcp\",\"service\":\"ftp_data\",\"flag\":\"SF\",\"src_bytes\":491,"
    "\"dst_bytes\":0,\"land\":0,\"wrong_fragment\":0,\"urgent\":0,\"hot\":0,\"num_failed_logins\":0,\"logged_in\":0,"
    "\"num_compromised\":0,\"root_shell\":0,\"su_attempted\":0,\"num_root\":0,\"num_file_creations\":0,"
    "\"num_shells\":0,\"num_access_files\":0,\"num_outbound_cmds\":0,\"is_host_login\":0,\"is_guest_login\":0,"
    "\"count\":2,\"srv_count\":2,\"serror_rate\":0,\"srv_serror_rate\":0,\"rerror_rate\":0,\"srv_rerror_rate\":0,"
    "\"same_srv_rate\":1,\"diff_srv_rate\":0,\"srv_diff_host_rate\":0,\"dst_host_count\":150,"
    "\"dst_host_srv_count\":25,\"dst_host_same_srv_rate\":0.17,\"dst_host_diff_srv_rate\":0.03,"
    "\"dst_host_same_src_port_rate\":0.17,\"dst_host_srv_diff_host_rate\":0,\"dst_host_serror_rate\":0,"
    "\"dst_host_srv_serror_rate\":0,\"dst_host_rerror_rate\":0.05,\"dst_host_srv_rerror_rate\":0}";

/* Why the server has its own parser: the same record through both, every
 * field read. Printed for the record; the assertion only checks that both
 * read the same values. */
static void test_timing_vs_cjson(void **state)
{
    (void)state;
    size_t len = strlen(kdd_record);
    const int n = 20000;
    double sum_tape = 0, sum_cjson = 0;
    double t0 = vg_now();
    for (int i = 0; i < n; i++) {
        char first[16384] __attribute__((aligned(16)));
        vg_arena a;
        vg_arena_init(&a, first, sizeof first, 0);
        vg_jtape t;
        assert_int_equal(vg_jtape_parse(kdd_record, len, 16, &a, &t), VG_OK);
        size_t k = 1;
        for (uint32_t m = 0; m < t.nodes[0].len; m++) {
            const vg_jnode *v = &t.nodes[k + 1];
            sum_tape += v->type == VG_JNUMBER ? v->v.num : v->len;
            k = v->next;
        }
        vg_arena_free(&a);
    }
    double t1 = vg_now();
    for (int i = 0; i < n; i++) {
        cJSON *j = cJSON_ParseWithLength(kdd_record, len);
        assert_non_null(j);
        for (cJSON *c = j->child; c; c = c->next) sum_cjson += cJSON_IsNumber(c) ? c->valuedouble : strlen(c->valuestring);
        cJSON_Delete(j);
    }
    double t2 = vg_now();
    printf("# %zu-byte KDD record, every field read: tape %.2f us, cJSON %.2f us per document\n", len,
           (t1 - t0) / n * 1e6, (t2 - t1) / n * 1e6);
    assert_true(fabs(sum_tape - sum_cjson) < 1e-6 * fabs(sum_cjson));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_tape_layout, setup, teardown),
        cmocka_unit_test_setup_teardown(test_strings, setup, teardown),
        cmocka_unit_test_setup_teardown(test_numbers, setup, teardown),
        cmocka_unit_test_setup_teardown(test_errors_name_offset, setup, teardown),
        cmocka_unit_test_setup_teardown(test_depth_limit, setup, teardown),
        cmocka_unit_test(test_arena_limit),
        cmocka_unit_test(test_timing_vs_cjson),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
