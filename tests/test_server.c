/* Unit tests for the pure parts of the detection server: the request arena,
 * constant-time key checks and the key file, Prometheus formatting, JSON
 * records -> fields (types, the field limit just under and over, warnings),
 * scoring results, the recent-detections ring, the statistics window, the
 * route table (every row reachable, labels unique) and the model catalog's
 * reference counting and hot reload under concurrent readers. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <cjson/cJSON.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "serve/arena.h"
#include "serve/auth.h"
#include "serve/catalog.h"
#include "serve/detect.h"
#include "serve/json_tape.h"
#include "serve/prom.h"
#include "serve/recent.h"
#include "serve/record.h"
#include "serve/routes.h"
#include "serve/stats.h"
#include "serve/text.h"
#include "test_server_fixture.h"
#include "vigil/parallel.h"
#include "vigil/server.h"
#include "testutil.h"

static const char *binary_model, *multi_model;

static int group_setup(void **state)
{
    (void)state;
    binary_model = fixture_model("bin", 0, NULL);
    multi_model = fixture_model("multi", 1, NULL);
    return binary_model && multi_model ? 0 : -1;
}

static int group_teardown(void **state)
{
    (void)state;
    unlink(binary_model);
    unlink(multi_model);
    return 0;
}

/* ---- arena and text ---------------------------------------------------- */

static void test_arena(void **state)
{
    (void)state;
    _Alignas(16) char first[256];
    vg_arena a;
    vg_arena_init(&a, first, sizeof first, 64 * 1024);
    size_t before = vg_mem_in_use();
    char *p = vg_arena_alloc(&a, 100);
    assert_true(p >= first && p < first + sizeof first);  /* from the inline block */
    assert_int_equal(vg_mem_in_use(), before);
    char *q = vg_arena_alloc(&a, 1000);                  /* needs a chunk */
    assert_non_null(q);
    assert_true(vg_mem_in_use() > before);
    memset(q, 7, 1000);
    /* Growing the last allocation stays in place when it fits. */
    char *r = vg_arena_grow(&a, q, 1000, 2000);
    assert_ptr_equal(r, q);
    assert_int_equal(r[999], 7);
    /* The limit caps what the arena may take from the allocator. */
    assert_null(vg_arena_alloc(&a, 128 * 1024));
    assert_true(a.allocated <= 64 * 1024);
    char *s = vg_arena_strndup(&a, "hello world", 5);
    assert_string_equal(s, "hello");
    vg_arena_free(&a);
    assert_int_equal(vg_mem_in_use(), before);
}

static void test_text_json(void **state)
{
    (void)state;
    vg_arena a;
    vg_arena_init(&a, NULL, 0, 0);
    vg_text t;
    vg_text_init(&t, &a, 4);  /* tiny: forces growth */
    vg_text_json_str(&t, "a\"b\\c\n\x01\xc3\xa9", 9);
    vg_text_putc(&t, ' ');
    vg_text_json_num(&t, 0.25, 7);
    vg_text_putc(&t, ' ');
    vg_text_json_num(&t, NAN, 7);
    vg_text_putc(&t, ' ');
    vg_text_json_num(&t, -3, 7);
    vg_text_putc(&t, ' ');
    vg_text_u64(&t, 18446744073709551615ull);
    assert_false(t.failed);
    assert_string_equal(t.data, "\"a\\\"b\\\\c\\n\\u0001\xc3\xa9\" 0.25 null -3 18446744073709551615");

    /* The printf-free number formatting agrees with %.*g: the same text, or
     * in rare rounding ties a last digit one off. */
    uint64_t x = 0x9e3779b97f4a7c15ull;
    int differ = 0, n = 0;
    static const int digit_choices[] = { 7, 9, 12 };
    for (int i = 0; i < 30000; i++, n++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        double v = (double)(x >> 11) / 9007199254740992.0;      /* [0, 1) */
        if (i % 3 == 1) v = v * 1e6 - 5e5;                       /* signed, larger */
        if (i % 3 == 2) v = ldexp(v, (int)(x % 80) - 60);        /* tiny to huge */
        if (i % 5 == 0) v = (float)v;                            /* probabilities are floats */
        int digits = digit_choices[i % 3];
        t.len = 0;
        vg_text_json_num(&t, v, digits);
        char want[64];
        snprintf(want, sizeof want, "%.*g", digits, v);
        if (v == floor(v) && fabs(v) < 1e15) continue;           /* printed as integers */
        if (strcmp(t.data, want) != 0) {
            if (differ++ < 5) printf("# %.17g (%d digits): %s, printf %s\n", v, digits, t.data, want);
            double got = strtod(t.data, NULL), exp = strtod(want, NULL);
            if (fabs(got - exp) > 1.01 * pow(10, floor(log10(fabs(exp))) - digits + 1))
                fail_msg("%.17g with %d digits: %s, printf %s", v, digits, t.data, want);
        }
    }
    assert_true(differ * 1000 < n);
    vg_arena_free(&a);
}

/* ---- authentication ----------------------------------------------------- */

static void test_ct_equal(void **state)
{
    (void)state;
    assert_true(vg_ct_equal("secret", 6, "secret", 6));
    assert_false(vg_ct_equal("secret", 6, "secreT", 6));
    assert_false(vg_ct_equal("secret", 6, "Secret", 6));
    assert_false(vg_ct_equal("secret", 6, "secret1", 7));
    assert_false(vg_ct_equal("secret", 6, "secre", 5));
    assert_false(vg_ct_equal("secret", 6, "", 0));
    assert_false(vg_ct_equal("", 0, "x", 1));
    assert_true(vg_ct_equal("", 0, "", 0));
    /* A repeated key must not match its own repetition. */
    assert_false(vg_ct_equal("ab", 2, "abab", 4));
}

static void test_keyring(void **state)
{
    (void)state;
    const char file[] = "# keys for vigil\n\n  key-one  \r\nkey-two\n   # indented comment\n";
    const char *path = vg_test_tmpfile(file, sizeof file - 1, ".keys");
    vg_keyring k;
    assert_int_equal(vg_keyring_load(path, &k), VG_OK);
    assert_int_equal(k.n, 2);
    assert_true(vg_keyring_check(&k, "key-one", 7));
    assert_true(vg_keyring_check(&k, "key-two", 7));
    assert_false(vg_keyring_check(&k, "key-on", 6));
    assert_false(vg_keyring_check(&k, "# keys for vigil", 16));
    vg_keyring_free(&k);
    unlink(path);

    const char none[] = "# nothing\n\n";
    path = vg_test_tmpfile(none, sizeof none - 1, ".keys");
    assert_int_equal(vg_keyring_load(path, &k), VG_ERR_INVALID);
    assert_non_null(strstr(vg_last_error(), "no API key"));
    unlink(path);
    assert_int_equal(vg_keyring_load("/nonexistent/keys", &k), VG_ERR_IO);

    /* The key length limit, just at and just over. */
    static char longkey[VG_AUTH_MAX_KEY + 2];
    memset(longkey, 'k', VG_AUTH_MAX_KEY);
    longkey[VG_AUTH_MAX_KEY] = '\n';
    path = vg_test_tmpfile(longkey, VG_AUTH_MAX_KEY + 1, ".keys");
    assert_int_equal(vg_keyring_load(path, &k), VG_OK);
    vg_keyring_free(&k);
    unlink(path);
    memset(longkey, 'k', VG_AUTH_MAX_KEY + 1);
    longkey[VG_AUTH_MAX_KEY + 1] = '\n';
    path = vg_test_tmpfile(longkey, VG_AUTH_MAX_KEY + 2, ".keys");
    assert_int_equal(vg_keyring_load(path, &k), VG_ERR_LIMIT);
    assert_non_null(strstr(vg_last_error(), ":1: key longer than"));
    unlink(path);

    const char *key;
    size_t len;
    assert_true(vg_auth_bearer("Bearer abc123", &key, &len));
    assert_int_equal(len, 6);
    assert_memory_equal(key, "abc123", 6);
    assert_true(vg_auth_bearer("  bearer   xyz  ", &key, &len));
    assert_int_equal(len, 3);
    assert_false(vg_auth_bearer("Basic dXNlcjpwdw==", &key, &len));
    assert_false(vg_auth_bearer("Bearer", &key, &len));
    assert_false(vg_auth_bearer("Bearerabc", &key, &len));
}

/* ---- Prometheus --------------------------------------------------------- */

static void test_prom_format(void **state)
{
    (void)state;
    vg_arena a;
    vg_arena_init(&a, NULL, 0, 0);
    vg_text t;
    vg_text_init(&t, &a, 64);
    vg_prom_header(&t, "x_total", "counter", "Things.\nMore.");
    vg_prom_sample(&t, "x_total", "route=\"detect\",status=\"200\"", 42);
    vg_prom_sample(&t, "y", NULL, 0.5);
    vg_text l;
    vg_text_init(&l, &a, 16);
    vg_text_puts(&l, "model=\"");
    vg_prom_escape(&l, "a\"b\\c\nd");
    vg_text_putc(&l, '"');
    static const double bounds[] = { 0.1, 1 };
    static const uint64_t counts[] = { 2, 3, 1 };
    vg_prom_histogram(&t, "h", l.data, bounds, counts, 2, 4.5);
    vg_prom_sample(&t, "z", NULL, INFINITY);
    assert_false(t.failed);
    assert_string_equal(t.data, "# HELP x_total Things.\\nMore.\n"
                                "# TYPE x_total counter\n"
                                "x_total{route=\"detect\",status=\"200\"} 42\n"
                                "y 0.5\n"
                                "h_bucket{model=\"a\\\"b\\\\c\\nd\",le=\"0.1\"} 2\n"
                                "h_bucket{model=\"a\\\"b\\\\c\\nd\",le=\"1\"} 5\n"
                                "h_bucket{model=\"a\\\"b\\\\c\\nd\",le=\"+Inf\"} 6\n"
                                "h_sum{model=\"a\\\"b\\\\c\\nd\"} 4.5\n"
                                "h_count{model=\"a\\\"b\\\\c\\nd\"} 6\n"
                                "z +Inf\n");
    vg_arena_free(&a);
}

/* ---- records and detection ---------------------------------------------- */

static vg_arena ra;

static vg_jtape tape(const char *json)
{
    vg_jtape t;
    assert_int_equal(vg_jtape_parse(json, strlen(json), 16, &ra, &t), VG_OK);
    return t;
}

static void test_record_fields(void **state)
{
    (void)state;
    vg_model *m;
    assert_int_equal(vg_model_load(binary_model, &m), VG_OK);
    const vg_pipeline *p = vg_model_pipeline(m);
    vg_arena_init(&ra, NULL, 0, 0);
    vg_field *f;
    size_t n;
    vg_jtape t = tape("{\"bytes\": 700, \"proto\": \"tcp\", \"rate\": \"0.5\", \"flag\": true, \"x\": null, "
                      "\"extra\": {\"deep\": [1]}}");
    assert_int_equal(vg_record_fields(&t, 0, p, 1024, &ra, &f, &n), VG_OK);
    assert_int_equal(n, 6);
    assert_int_equal(f[0].kind, VG_FIELD_NUMBER);
    assert_true(f[0].number == 700);
    assert_int_equal(f[0].name_len, 5);
    assert_memory_equal(f[0].name, "bytes", 5);
    assert_int_equal(f[1].kind, VG_FIELD_TEXT);
    assert_int_equal(f[1].text_len, 3);
    assert_int_equal(f[2].kind, VG_FIELD_TEXT);   /* parsed by the pipeline */
    assert_int_equal(f[3].kind, VG_FIELD_NUMBER);
    assert_true(f[3].number == 1);
    assert_int_equal(f[4].kind, VG_FIELD_NULL);
    assert_int_equal(f[5].kind, VG_FIELD_NULL);   /* unknown nested value: kept as unknown */

    /* An object or array for an input is a type error naming the field. */
    t = tape("{\"bytes\": [1, 2]}");
    assert_int_equal(vg_record_fields(&t, 0, p, 1024, &ra, &f, &n), VG_ERR_INVALID);
    assert_non_null(strstr(vg_last_error(), "field 'bytes'"));
    assert_non_null(strstr(vg_last_error(), "an array"));
    t = tape("[1]");
    assert_int_equal(vg_record_fields(&t, 0, p, 1024, &ra, &f, &n), VG_ERR_INVALID);
    assert_non_null(strstr(vg_last_error(), "must be a JSON object"));

    /* The field limit, just at and just over. */
    t = tape("{\"a\":1,\"b\":2,\"c\":3}");
    assert_int_equal(vg_record_fields(&t, 0, p, 3, &ra, &f, &n), VG_OK);
    assert_int_equal(vg_record_fields(&t, 0, p, 2, &ra, &f, &n), VG_ERR_LIMIT);
    assert_non_null(strstr(vg_last_error(), "3 fields, more than the limit of 2"));
    vg_arena_free(&ra);
    vg_model_free(m);
}

static void test_record_warnings(void **state)
{
    (void)state;
    vg_model *m;
    assert_int_equal(vg_model_load(binary_model, &m), VG_OK);
    const vg_pipeline *p = vg_model_pipeline(m);
    vg_arena_init(&ra, NULL, 0, 0);
    vg_field *f;
    size_t n;
    vg_jtape t = tape("{\"bytes\": null, \"proto\": \"quic\", \"colour\": \"red\"}");
    assert_int_equal(vg_record_fields(&t, 0, p, 1024, &ra, &f, &n), VG_OK);
    float row[64];
    vg_record_report rep;
    assert_int_equal(vg_pipeline_transform_record(p, f, n, row, &rep), VG_OK);
    vg_text out;
    vg_text_init(&out, &ra, 64);
    vg_text_putc(&out, '[');
    size_t w = vg_record_warnings(p, f, n, &rep, 20, &ra, &out);
    vg_text_putc(&out, ']');
    assert_int_equal(w, 4);
    assert_non_null(strstr(out.data, "field 'bytes' is null: imputed"));
    assert_non_null(strstr(out.data, "field 'proto': category 'quic' was never seen"));
    assert_non_null(strstr(out.data, "unknown field 'colour' ignored"));
    assert_non_null(strstr(out.data, "missing field 'rate': imputed"));
    cJSON *j = cJSON_Parse(out.data);
    assert_non_null(j);
    assert_int_equal(cJSON_GetArraySize(j), 4);
    cJSON_Delete(j);
    /* At most `max` warnings, then a count of the rest. */
    out.len = 0;
    w = vg_record_warnings(p, f, n, &rep, 2, &ra, &out);
    assert_int_equal(w, 3);
    assert_non_null(strstr(out.data, "... and 2 more warnings"));
    vg_arena_free(&ra);
    vg_model_free(m);
}

/* Score `json` with the model at path through vg_detect_record; returns the
 * parsed result (caller deletes) or NULL with the status in *st. */
static cJSON *detect(const char *path, const char *json, const vg_detect_params *dp, vg_status *st,
                     vg_detect_outcome *res)
{
    vg_catalog *c;
    assert_int_equal(vg_catalog_new(&c), VG_OK);
    assert_int_equal(vg_catalog_add(c, "m", path), VG_OK);
    vg_served *s = vg_catalog_acquire(c, 0);
    vg_arena_init(&ra, NULL, 0, 0);
    vg_jtape t = tape(json);
    vg_text out;
    vg_text_init(&out, &ra, 16);
    *st = vg_detect_record(s, &t, 0, dp, &ra, &out, res);
    cJSON *j = *st ? NULL : cJSON_Parse(out.data);
    if (*st) assert_int_equal(out.len, 0);  /* nothing half-written */
    vg_arena_free(&ra);
    vg_served_release(s);
    vg_catalog_free(c);
    return j;
}

static void test_detect_binary(void **state)
{
    (void)state;
    vg_detect_params dp = { .threshold = 0.5, .max_fields = 1024, .max_warnings = 20, .top = 2 };
    vg_status st;
    vg_detect_outcome res;
    cJSON *j = detect(binary_model, "{\"bytes\": 900, \"proto\": \"tcp\", \"rate\": 0.1}", &dp, &st, &res);
    assert_non_null(j);
    assert_string_equal(cJSON_GetObjectItem(j, "model")->valuestring, "m");
    assert_string_equal(cJSON_GetObjectItem(j, "label")->valuestring, "attack");
    double score = cJSON_GetObjectItem(j, "score")->valuedouble;
    assert_true(score > 0.9);
    assert_true(cJSON_IsTrue(cJSON_GetObjectItem(j, "anomaly")));
    cJSON *pr = cJSON_GetObjectItem(j, "probabilities");
    assert_true(fabs(cJSON_GetObjectItem(pr, "attack")->valuedouble - score) < 1e-6);
    assert_null(cJSON_GetObjectItem(j, "warnings"));
    cJSON_Delete(j);

    /* A threshold above the score: not an anomaly, whatever the label. */
    dp.threshold = 1.01;
    j = detect(binary_model, "{\"bytes\": 900, \"proto\": \"tcp\", \"rate\": 0.1}", &dp, &st, &res);
    assert_true(cJSON_IsFalse(cJSON_GetObjectItem(j, "anomaly")));
    cJSON_Delete(j);

    /* Explanation: bias + listed + others == raw_score. */
    dp.threshold = 0.5;
    dp.explain = 1;
    j = detect(binary_model, "{\"bytes\": 900, \"proto\": \"tcp\"}", &dp, &st, &res);
    assert_non_null(j);
    cJSON *ex = cJSON_GetObjectItem(j, "explanation");
    assert_non_null(ex);
    double sum = cJSON_GetObjectItem(ex, "bias")->valuedouble + cJSON_GetObjectItem(ex, "others")->valuedouble;
    cJSON *top = cJSON_GetObjectItem(ex, "top");
    assert_int_equal(cJSON_GetArraySize(top), 2);
    for (cJSON *e = top->child; e; e = e->next) sum += cJSON_GetObjectItem(e, "contribution")->valuedouble;
    assert_true(fabs(sum - cJSON_GetObjectItem(ex, "raw_score")->valuedouble) < 1e-6);
    assert_string_equal(cJSON_GetObjectItem(top->child, "field")->valuestring, "bytes");
    assert_true(cJSON_GetObjectItem(top->child, "value")->valuedouble == 900);
    assert_non_null(cJSON_GetObjectItem(j, "warnings"));  /* rate is missing */
    cJSON_Delete(j);

    /* Wrong types are errors naming the field. */
    dp.explain = 0;
    j = detect(binary_model, "{\"bytes\": \"lots\"}", &dp, &st, &res);
    assert_null(j);
    assert_int_equal(st, VG_ERR_PARSE);
    assert_non_null(strstr(vg_last_error(), "field 'bytes'"));
}

static void test_detect_multiclass(void **state)
{
    (void)state;
    vg_detect_params dp = { .threshold = 0.5, .max_fields = 1024, .max_warnings = 20, .top = 5 };
    vg_status st;
    vg_detect_outcome res;
    cJSON *j = detect(multi_model, "{\"bytes\": 100, \"proto\": \"icmp\", \"rate\": 0.9}", &dp, &st, &res);
    assert_non_null(j);
    cJSON *pr = cJSON_GetObjectItem(j, "probabilities");
    double p_normal = cJSON_GetObjectItem(pr, "normal")->valuedouble;
    assert_true(fabs(cJSON_GetObjectItem(j, "score")->valuedouble - (1 - p_normal)) < 1e-6);
    assert_string_equal(cJSON_GetObjectItem(j, "label")->valuestring, "probe");
    cJSON_Delete(j);

    /* The server names the normal class as every command does
     * (vigil/decision.h; tested in test_decision.c). It no longer takes a
     * class named "0" for normal on its own: label classes are sorted, so a
     * "0" is class 0 anyway, the default. */
    vg_classes c = { .n = 3, .names = (char *[]){ "dos", "Benign", "probe" } };
    assert_int_equal(vg_decision_normal_class(&c), 1);
    c.names = (char *[]){ "a", "b", "c" };
    assert_int_equal(vg_decision_normal_class(&c), 0);
}

/* ---- recent detections --------------------------------------------------- */

static void test_recent(void **state)
{
    (void)state;
    vg_arena_init(&ra, NULL, 0, 0);
    vg_jtape t = tape("{\"a\": 1, \"bb\": \"xyz\", \"c\": [1,2]}");
    int trunc;
    assert_int_equal(vg_recent_cut(&t, 0, 1000, &trunc), t.nodes[0].end - t.nodes[0].pos);
    assert_false(trunc);
    /* 20 bytes: "{"a": 1, "bb": "xyz"" is 20 bytes, plus '}' would be 21. */
    size_t cut = vg_recent_cut(&t, 0, 20, &trunc);
    assert_true(trunc);
    assert_int_equal(cut, 7);  /* {"a": 1 */
    cut = vg_recent_cut(&t, 0, 21, &trunc);
    assert_int_equal(cut, 20);

    vg_recent *r;
    vg_recent_params rp = { .capacity = 3, .record_bytes = 64 };
    assert_int_equal(vg_recent_new(2, &rp, &r), VG_OK);
    const char *names[] = { "m0", "m1" };
    vg_jtape big = tape("{\"k1\": \"0123456789012345678901234567890\", \"k2\": \"0123456789012345678901234567890\"}");
    for (int i = 0; i < 5; i++) vg_recent_push(r, 1000 + i, (size_t)(i % 2), i % 2 ? "attack" : "normal", i / 10.0, i % 2, i == 4 ? &big : &t, 0);
    vg_text out;
    vg_text_init(&out, &ra, 64);
    vg_recent_json(r, 10, names, &out);
    cJSON *j = cJSON_Parse(out.data);
    assert_non_null(j);
    assert_int_equal(cJSON_GetArraySize(j), 3);  /* capacity */
    cJSON *first = j->child;
    assert_true(cJSON_GetObjectItem(first, "time")->valuedouble == 1004);  /* newest first */
    assert_string_equal(cJSON_GetObjectItem(first, "model")->valuestring, "m0");
    assert_true(cJSON_IsTrue(cJSON_GetObjectItem(first, "truncated")));
    assert_non_null(cJSON_GetObjectItem(cJSON_GetObjectItem(first, "record"), "k1"));
    assert_null(cJSON_GetObjectItem(cJSON_GetObjectItem(first, "record"), "k2"));
    assert_true(cJSON_GetObjectItem(first->next, "time")->valuedouble == 1003);
    assert_true(cJSON_IsArray(cJSON_GetObjectItem(cJSON_GetObjectItem(first->next, "record"), "c")));
    cJSON_Delete(j);
    out.len = 0;
    vg_recent_json(r, 1, names, &out);
    j = cJSON_Parse(out.data);
    assert_int_equal(cJSON_GetArraySize(j), 1);
    cJSON_Delete(j);
    vg_recent_free(r);
    vg_arena_free(&ra);
}

/* ---- statistics ------------------------------------------------------------ */

static void test_stats(void **state)
{
    (void)state;
    vg_stats *s;
    enum { DETECT, BATCH };
    static const char *const routes[] = { "detect", "detect_batch" };
    assert_int_equal(vg_stats_new(2, 2, routes, 2, &s), VG_OK);
    vg_stats_shard *sh = vg_stats_shard_get(s);
    assert_ptr_equal(vg_stats_shard_get(s), sh);  /* same thread, same shard */
    double now = 5000.2;
    /* Oldest first, as time goes: a bucket is reused 60 s later. */
    vg_stats_request(sh, DETECT, 200, 1.0, now - 61);  /* outside the window */
    /* 98 fast requests (100 us), 2 slow (50 ms): p50 near 100 us, p99 near 50 ms. */
    vg_stats_request(sh, BATCH, 413, 50e-3, now - 1);
    for (int i = 0; i < 98; i++) vg_stats_request(sh, DETECT, 200, 100e-6, now);
    vg_stats_request(sh, DETECT, 400, 50e-3, now);
    for (int i = 0; i < 10; i++) vg_stats_detection(sh, 1, 0.95, 1, now);
    vg_stats_detection(sh, 0, 0.05, 0, now);
    vg_stats_window w;
    vg_stats_window_get(s, now, 1000, &w);
    assert_int_equal(w.requests, 100);
    assert_int_equal(w.errors, 2);
    assert_int_equal(w.detections, 11);
    assert_int_equal(w.anomalies, 10);
    assert_true(w.p50 >= 100e-6 && w.p50 < 110e-6);
    assert_true(w.p99 >= 50e-3 && w.p99 < 55e-3);
    assert_int_equal(w.per_second_requests[VG_STATS_WINDOW - 1], 99);
    assert_int_equal(w.per_second_requests[VG_STATS_WINDOW - 2], 1);
    assert_true(w.seconds == 60);
    vg_stats_totals tot;
    vg_stats_totals_get(s, &tot);
    assert_int_equal(tot.requests, 101);
    assert_int_equal(tot.errors, 2);
    assert_int_equal(tot.anomalies, 10);

    vg_arena_init(&ra, NULL, 0, 0);
    vg_text out;
    vg_text_init(&out, &ra, 256);
    const char *names[] = { "m0", "m1" };
    vg_stats_prometheus(s, names, &out);
    assert_false(out.failed);
    assert_non_null(strstr(out.data, "vigil_requests_total{route=\"detect\",status=\"200\"} 99\n"));
    assert_non_null(strstr(out.data, "vigil_requests_total{route=\"detect_batch\",status=\"413\"} 1\n"));
    assert_non_null(strstr(out.data, "vigil_request_duration_seconds_bucket{route=\"detect\",le=\"0.0001\"} 98\n"));
    assert_non_null(strstr(out.data, "vigil_request_duration_seconds_count{route=\"detect\"} 100\n"));
    assert_non_null(strstr(out.data, "vigil_anomalies_total{model=\"m1\"} 10\n"));
    assert_non_null(strstr(out.data, "vigil_anomalies_total{model=\"m0\"} 0\n"));
    assert_non_null(strstr(out.data, "vigil_score_bucket{model=\"m1\",le=\"0.9\"} 0\n"));
    assert_non_null(strstr(out.data, "vigil_score_bucket{model=\"m1\",le=\"0.95\"} 10\n"));
    vg_arena_free(&ra);
    vg_stats_free(s);
}

/* ---- route table ----------------------------------------------------------- */

/* A concrete URL for a row's path: "{name}" becomes "m1". */
static const char *route_url(const vg_route *r, char *buf, size_t cap)
{
    if (!r->path) return "/index.html";
    const char *p = r->path, *param = strstr(p, "{name}");
    if (!param) return p;
    snprintf(buf, cap, "%.*sm1%s", (int)(param - p), p, param + 6);
    return buf;
}

static void test_route_table(void **state)
{
    (void)state;
    assert_true(vg_route_count >= 2);
    size_t catch_all = 0;
    for (size_t i = 0; i < vg_route_count; i++) {
        const vg_route *r = &vg_route_table[i];
        assert_non_null(r->handler);
        assert_non_null(r->stat);
        assert_true(*r->stat);
        assert_int_equal(strspn(r->stat, "abcdefghijklmnopqrstuvwxyz_"), strlen(r->stat));  /* a Prometheus label value as is */
        assert_true(r->method == VG_ROUTE_GET || r->method == VG_ROUTE_POST || r->method == VG_ROUTE_ANY);
        if (!r->path) catch_all++;
        else assert_true(r->path[0] == '/');
        for (size_t j = 0; j < i; j++) {
            const vg_route *o = &vg_route_table[j];
            if (strcmp(o->stat, r->stat) == 0) fail_msg("route label '%s' is used twice", r->stat);
            if (o->path && r->path && strcmp(o->path, r->path) == 0) fail_msg("path %s has two rows", r->path);
        }
        /* Every path reaches its own row, with the model name when it has one. */
        char buf[256];
        const char *name = NULL;
        size_t name_len = 0;
        const vg_route *m = vg_route_match(route_url(r, buf, sizeof buf), &name, &name_len);
        if (m != r) fail_msg("%s reaches the row '%s', not '%s'", route_url(r, buf, sizeof buf), m->stat, r->stat);
        if (r->path && strstr(r->path, "{name}")) {
            assert_non_null(name);
            assert_int_equal(name_len, 2);
            assert_memory_equal(name, "m1", 2);
        } else {
            assert_null(name);
        }
    }
    assert_int_equal(catch_all, 1);  /* one row takes what nothing else does */

    /* Unknown paths under /v1: the unknown row, any method, no key needed. */
    const vg_route *unknown = vg_route_unknown();
    assert_string_equal(unknown->stat, "other");
    assert_int_equal(unknown->method, VG_ROUTE_ANY);
    assert_true(unknown->flags & VG_ROUTE_PUBLIC);
    const char *name;
    size_t name_len;
    static const char *const unknown_urls[] = { "/v1", "/v1/", "/v1/nothing", "/v1/models/", "/v1/models/a/b",
                                                "/v1/models/a/reload/x", "/v1/detect/", "/v1/stats/x" };
    for (size_t i = 0; i < sizeof unknown_urls / sizeof *unknown_urls; i++)
        if (vg_route_match(unknown_urls[i], &name, &name_len) != unknown) fail_msg("%s is not unknown", unknown_urls[i]);
    /* Outside /v1 the dashboard's files take it (a 404 page if none). */
    const vg_route *asset = vg_route_match("/v1x", &name, &name_len);
    assert_null(asset->path);
    assert_ptr_equal(vg_route_match("/", &name, &name_len), asset);
    assert_ptr_equal(vg_route_match("*", &name, &name_len), asset);
    assert_ptr_equal(vg_route_match("/metricsx", &name, &name_len), asset);
    /* An empty name inside a path is a name (an unknown model), as before. */
    const vg_route *reload = vg_route_match("/v1/models//reload", &name, &name_len);
    assert_string_equal(reload->stat, "reload");
    assert_int_equal(name_len, 0);
    /* Only the health checks, the dashboard and the 404 answer without a key. */
    for (size_t i = 0; i < vg_route_count; i++) {
        const vg_route *r = &vg_route_table[i];
        int public = !!(r->flags & VG_ROUTE_PUBLIC);
        int expect = !r->path || r == unknown || strcmp(r->path, "/healthz") == 0 || strcmp(r->path, "/readyz") == 0;
        if (public != expect) fail_msg("route '%s' public=%d", r->stat, public);
    }
}

/* ---- catalog and hot reload --------------------------------------------- */

static void test_catalog_names(void **state)
{
    (void)state;
    vg_catalog *c;
    assert_int_equal(vg_catalog_new(&c), VG_OK);
    assert_int_equal(vg_catalog_add(c, NULL, binary_model), VG_OK);
    char base[64];
    const char *b = strrchr(binary_model, '/') + 1;
    snprintf(base, sizeof base, "%.*s", (int)(strlen(b) - 4), b);
    assert_string_equal(vg_catalog_name(c, 0), base);
    assert_int_equal(vg_catalog_add(c, base, multi_model), VG_ERR_INVALID);
    assert_non_null(strstr(vg_last_error(), "used twice"));
    assert_int_equal(vg_catalog_add(c, "bad name", multi_model), VG_ERR_INVALID);
    assert_int_equal(vg_catalog_add(c, "multi", "/nonexistent.vgm"), VG_ERR_IO);
    assert_int_equal(vg_catalog_add(c, "multi", multi_model), VG_OK);
    assert_int_equal(vg_catalog_count(c), 2);
    assert_int_equal(vg_catalog_find(c, "multi", 5), 1);
    assert_int_equal(vg_catalog_find(c, "mult", 4), -1);
    vg_served *s = vg_catalog_acquire(c, 1);
    assert_true(s->multiclass);
    cJSON *d = cJSON_Parse(s->detail_json);
    assert_non_null(d);
    cJSON *schema = cJSON_GetObjectItem(d, "schema");
    assert_int_equal(cJSON_GetArraySize(schema), 3);
    cJSON *ex = cJSON_GetObjectItem(d, "example");
    assert_true(cJSON_IsNumber(cJSON_GetObjectItem(ex, "bytes")));
    assert_string_equal(cJSON_GetObjectItem(ex, "proto")->valuestring, "tcp");
    assert_string_equal(cJSON_GetObjectItem(d, "normal_class")->valuestring, "normal");
    cJSON_Delete(d);
    vg_served_release(s);
    vg_catalog_free(c);
}

typedef struct reader_arg {
    vg_catalog *c;
    atomic_int *stop;
    atomic_long acquired;
} reader_arg;

static void *reader(void *p)
{
    reader_arg *a = p;
    while (!atomic_load(a->stop)) {
        vg_served *s = vg_catalog_acquire(a->c, 0);
        /* Use the model while holding it: a freed one would crash here
         * (or be caught by the address sanitizer). */
        vg_field f = { .name = "bytes", .name_len = 5, .kind = VG_FIELD_NUMBER, .number = 900 };
        float proba[8];
        assert_int_equal(vg_model_predict_record(s->model, &f, 1, proba, NULL), VG_OK);
        vg_served_release(s);
        atomic_fetch_add(&a->acquired, 1);
    }
    return NULL;
}

static void test_catalog_reload_under_readers(void **state)
{
    (void)state;
    /* A copy of the binary model that the test replaces and corrupts. */
    char path[256];
    snprintf(path, sizeof path, "/tmp/vg_test_reload_%d.vgm", (int)getpid());
    FILE *in = fopen(binary_model, "rb"), *out = fopen(path, "wb");
    char buf[65536];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, in)) > 0) fwrite(buf, 1, n, out);
    fclose(in);
    fclose(out);

    vg_catalog *c;
    assert_int_equal(vg_catalog_new(&c), VG_OK);
    assert_int_equal(vg_catalog_add(c, "m", path), VG_OK);
    atomic_int stop = 0;
    pthread_t th[3];
    reader_arg args[3];
    for (int i = 0; i < 3; i++) {
        args[i].c = c;
        args[i].stop = &stop;
        atomic_init(&args[i].acquired, 0);
        pthread_create(&th[i], NULL, reader, &args[i]);
    }
    /* Reload only once every reader is in its loop (the machine may be busy). */
    double t0 = vg_now();
    for (int i = 0; i < 3; i++)
        while (atomic_load(&args[i].acquired) == 0 && vg_now() - t0 < 10) usleep(1000);
    for (int k = 0; k < 30; k++) assert_int_equal(vg_catalog_reload(c, 0), VG_OK);
    vg_served *s = vg_catalog_acquire(c, 0);
    assert_int_equal(s->generation, 31);
    vg_served_release(s);

    /* A corrupt replacement fails and the old model keeps serving. */
    FILE *f = fopen(path, "r+b");
    fseek(f, 200, SEEK_SET);
    fputs("garbage garbage garbage", f);
    fclose(f);
    assert_int_not_equal(vg_catalog_reload(c, 0), VG_OK);
    assert_non_null(strstr(vg_last_error(), "previous model keeps serving"));
    s = vg_catalog_acquire(c, 0);
    assert_int_equal(s->generation, 31);
    vg_served_release(s);

    atomic_store(&stop, 1);
    long total = 0;
    for (int i = 0; i < 3; i++) {
        pthread_join(th[i], NULL);
        total += atomic_load(&args[i].acquired);
    }
    assert_true(total >= 3);
    s = vg_catalog_acquire(c, 0);
    assert_int_equal(atomic_load(&s->refs), 2);  /* the slot's and ours: nothing leaked */
    vg_served_release(s);
    vg_catalog_free(c);
    unlink(path);
}

/* The default pool: two threads per CPU the process may use (server.c says
 * why), and the per-thread setup is idempotent and harmless to call on any
 * thread (here the test's own, with and without the slice). */
static void test_threads_default(void **state)
{
    (void)state;
    assert_int_equal(vg_server_threads_default(), VG_MIN(vg_cpus_available(), 1024));
    vg_server_params p = vg_server_params_default();
    assert_int_equal(p.threads, 0);
    vg_server_thread_init();
    vg_server_thread_init();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_threads_default),
        cmocka_unit_test(test_arena),
        cmocka_unit_test(test_text_json),
        cmocka_unit_test(test_ct_equal),
        cmocka_unit_test(test_keyring),
        cmocka_unit_test(test_prom_format),
        cmocka_unit_test(test_record_fields),
        cmocka_unit_test(test_record_warnings),
        cmocka_unit_test(test_detect_binary),
        cmocka_unit_test(test_detect_multiclass),
        cmocka_unit_test(test_recent),
        cmocka_unit_test(test_stats),
        cmocka_unit_test(test_route_table),
        cmocka_unit_test(test_catalog_names),
        cmocka_unit_test(test_catalog_reload_under_readers),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
