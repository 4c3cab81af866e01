/* Unit tests for the weblog format: combined, common and JSON lines, IPv6
 * clients, escaped quotes, the per-client window features, the online
 * property (a prefix's features equal the same lines' features in the full
 * run), bad lines leaving the state untouched, bounded state, the line
 * limits, vg_logfmt_read counting bad lines, and the synthetic generator. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vigil/format.h"
#include "vigil/logformat.h"
#include "vigil/synth.h"
#include "vigil/table.h"
#include "testutil.h"

static vg_logfmt_state_stats state_stats(const void *s)
{
    vg_logfmt_state_stats out;
    vg_weblog_format.state_stats(s, &out);
    return out;
}

static void *new_state(size_t max_entities, double ttl)
{
    vg_logfmt_options o = vg_logfmt_options_default();
    if (max_entities) o.max_entities = max_entities;
    o.entity_ttl = ttl;
    void *s = NULL;
    vg_status st = vg_weblog_format.state_new(&o, &s);
    if (st) fail_msg("state_new: %s", vg_last_error());
    return s;
}

static const vg_field *field(const vg_logfmt_event *ev, const char *name)
{
    for (size_t i = 0; i < ev->n_fields; i++)
        if (ev->fields[i].name_len == strlen(name) && memcmp(ev->fields[i].name, name, ev->fields[i].name_len) == 0)
            return &ev->fields[i];
    fail_msg("no field %s", name);
    return NULL;
}

static double num(const vg_logfmt_event *ev, const char *name)
{
    const vg_field *f = field(ev, name);
    assert_int_equal(f->kind, VG_FIELD_NUMBER);
    return f->number;
}

static void text_is(const vg_logfmt_event *ev, const char *name, const char *want)
{
    const vg_field *f = field(ev, name);
    assert_int_equal(f->kind, VG_FIELD_TEXT);
    if (f->text_len != strlen(want) || memcmp(f->text, want, f->text_len) != 0)
        fail_msg("%s = '%.*s', want '%s'", name, (int)f->text_len, f->text, want);
}

static vg_status run(void *s, const char *line, vg_logfmt_event *ev)
{
    return vg_weblog_format.process(s, line, strlen(line), ev);
}

static void ok(void *s, const char *line, vg_logfmt_event *ev)
{
    if (run(s, line, ev)) fail_msg("rejected: %s\n  %s", vg_last_error(), line);
}

static void test_combined_common_json(void **state)
{
    (void)state;
    void *s = new_state(0, 0);
    vg_logfmt_event ev;
    ok(s, "81.2.69.160 - frank [10/Oct/2000:13:55:36 -0700] \"GET /apache_pb.gif?a=1 HTTP/1.0\" 200 2326 "
          "\"http://www.example.com/start.html\" \"Mozilla/4.08 [en] (Win98; I ;Nav)\"", &ev);
    assert_true(ev.time == 971211336.0);
    assert_int_equal(ev.entity_len, 11);
    assert_memory_equal(ev.entity, "81.2.69.160", 11);
    text_is(&ev, "method", "GET");
    text_is(&ev, "status_class", "2xx");
    text_is(&ev, "ext_class", "static");
    text_is(&ev, "country", "GB");
    text_is(&ev, "ua_class", "browser");
    assert_true(num(&ev, "status") == 200 && num(&ev, "bytes") == 2326 && num(&ev, "has_referer") == 1);
    assert_true(num(&ev, "url_params") == 1 && num(&ev, "since_prev") == -1);
    assert_null(ev.event_id);

    /* Common format, IPv6 client, "-" bytes, no referer or agent. */
    ok(s, "2001:4860:4860::8888 - - [01/Jan/2026:00:00:00 +0000] \"POST /login HTTP/1.1\" 401 -", &ev);
    assert_true(ev.time == 1767225600.0);
    text_is(&ev, "country", "US");
    text_is(&ev, "ua_class", "none");
    assert_true(num(&ev, "bytes") == 0 && num(&ev, "has_referer") == 0 && num(&ev, "ratio_4xx_60s") == 1);

    /* Escaped quotes inside the request and the agent; extra Nginx fields after the agent. */
    ok(s, "10.0.0.1 - - [01/Jan/2026:00:00:01 +0000] \"GET /s?q=\\\"x\\\" HTTP/1.1\" 200 5 \"-\" "
          "\"sqlmap/1.7 \\\"quoted\\\"\" \"1.2.3.4\" 0.003", &ev);
    text_is(&ev, "country", "private");
    text_is(&ev, "ua_class", "scanner");
    text_is(&ev, "ua_name", "sqlmap");
    assert_true(num(&ev, "scanner_ua") == 1 && num(&ev, "url_length") == 10);  /* escapes kept as logged */

    /* A garbage request is kept, with method "invalid". */
    ok(s, "10.0.0.2 - - [01/Jan/2026:00:00:02 +0000] \"\\x16\\x03\\x01\" 400 0 \"-\" \"-\"", &ev);
    text_is(&ev, "method", "invalid");
    ok(s, "10.0.0.2 - - [01/Jan/2026:00:00:02 +0000] \"-\" 408 0 \"-\" \"-\"", &ev);
    text_is(&ev, "method", "-");

    /* JSON lines: key variants, ISO and epoch times, the request id. */
    ok(s, "{\"remote_addr\":\"8.8.8.8\",\"time\":\"2026-01-01T01:00:00+01:00\",\"method\":\"GET\",\"uri\":"
          "\"/x.php?id=1%27%20or%201=1--\",\"status\":500,\"body_bytes_sent\":\"12\",\"http_user_agent\":"
          "\"curl/8.1\",\"request_id\":\"req-42\"}", &ev);
    assert_true(ev.time == 1767225600.0);
    assert_int_equal(ev.event_id_len, 6);
    assert_memory_equal(ev.event_id, "req-42", 6);
    text_is(&ev, "ua_class", "tool");
    text_is(&ev, "ext_class", "script");
    assert_true(num(&ev, "url_sqli") >= 2 && num(&ev, "bytes") == 12 && num(&ev, "status") == 500);
    ok(s, "{\"client\":\"2001:db8::1\",\"timestamp\":1767225600500,\"request\":\"DELETE /a HTTP/2.0\",\"status\":\"204\","
          "\"label\":\"attack\"}", &ev);
    assert_true(fabs(ev.time - 1767225600.5) < 1e-6);
    text_is(&ev, "method", "DELETE");
    assert_int_equal(ev.label_len, 6);
    assert_memory_equal(ev.label, "attack", 6);
    vg_weblog_format.state_free(s);
}

/* nginx's log_format with "$request_body" (weblog_parse.c): the body is the
 * last quoted field after the agent, its \xHH escapes undone, and read like
 * every attacker-controlled field; a forwarded-for or host field there is
 * not a body, nor is "-". */
static void test_nginx_request_body(void **state)
{
    (void)state;
    void *s = new_state(0, 0);
    vg_logfmt_event ev;
    const char *head = "10.0.0.9 - - [01/Jan/2026:00:00:01 +0000] \"POST /login.php HTTP/1.1\" 200 431 \"-\" "
                       "\"Mozilla/5.0 (X11; Linux x86_64)\"";
    char line[1024];
    /* combined + "$request_body": a form body with SQL in a parameter. */
    snprintf(line, sizeof line, "%s \"user=admin&pass=x%%27+UNION+SELECT+1,2--\"", head);
    ok(s, line, &ev);
    assert_true(num(&ev, "has_body") == 1);
    assert_true(num(&ev, "pay_body") >= 1 && num(&ev, "pay_sql_union") >= 1);
    assert_true(num(&ev, "pay_query") == 0 && num(&ev, "pay_path") == 0);
    /* A plain body: present, no payload sign. */
    snprintf(line, sizeof line, "%s \"user=ana&pass=secret123\"", head);
    ok(s, line, &ev);
    assert_true(num(&ev, "has_body") == 1 && num(&ev, "pay_body") == 0 && num(&ev, "pay_strong") == 0);
    /* nginx's main format + "$request_body", request time between: a JSON
     * body whose quotes nginx wrote as \x22 (undone: the tag is seen). */
    snprintf(line, sizeof line, "%s \"203.0.113.7, 10.0.0.1\" 0.004 "
             "\"{\\x22q\\x22:\\x22<script>alert(1)</script>\\x22}\"", head);
    ok(s, line, &ev);
    assert_true(num(&ev, "has_body") == 1 && num(&ev, "pay_xss_tag") >= 1 && num(&ev, "pay_body") >= 1);
    /* Without the escapes undone the quote test would see "\x22": a quote-
     * breaking SQL body is only found once \x27 is read as '. */
    snprintf(line, sizeof line, "%s \"id=1\\x27 OR \\x271\\x27=\\x271\"", head);
    ok(s, line, &ev);
    assert_true(num(&ev, "pay_sql_tautology") >= 1);
    /* Not bodies: "-", a forwarded-for list, a host name; a truncated quote is junk tolerated. */
    const char *none[] = { " \"-\"", " \"203.0.113.7, 10.0.0.1\"", " \"shop.example.com\" 0.001", " \"-\" \"-\"",
                           " \"user=a", "" };
    for (size_t k = 0; k < sizeof none / sizeof *none; k++) {
        snprintf(line, sizeof line, "%s%s", head, none[k]);
        ok(s, line, &ev);
        if (num(&ev, "has_body") != 0) fail_msg("a body found in: %s", none[k]);
    }
    /* The JSON variant: "request_body". */
    ok(s, "{\"remote_addr\":\"10.0.0.9\",\"time\":1767225600,\"request\":\"POST /api/items HTTP/1.1\",\"status\":200,"
          "\"request_body\":\"{\\\"id\\\":\\\"../../../../etc/passwd\\\"}\"}", &ev);
    assert_true(num(&ev, "has_body") == 1 && num(&ev, "pay_traversal") >= 1 && num(&ev, "pay_body") >= 1);
    vg_weblog_format.state_free(s);
}

static void test_control_bytes_anywhere(void **state)
{
    (void)state;
    /* The control-byte check reads eight bytes at a time: a control byte or
     * DEL at every position (word starts, middles and the tail) is found and
     * located; TAB and bytes above 0x7f are not control bytes. */
    void *s = new_state(0, 0);
    vg_logfmt_event ev;
    const char *good = "1.2.3.4 - - [10/Oct/2000:13:55:36 -0700] \"GET /a HTTP/1.0\" 200 1 \"-\" \"Mozilla/5.0 \xc3\xa9t\xc3\xa9\"";
    size_t len = strlen(good);
    assert_int_equal(run(s, good, &ev), VG_OK);
    char line[256];
    static const unsigned char bytes[] = { 0x00, 0x01, 0x1f, 0x7f };
    for (size_t b = 0; b < sizeof bytes; b++)
        for (size_t k = 0; k < len; k++) {
            memcpy(line, good, len);
            line[k] = (char)bytes[b];
            assert_int_equal(vg_weblog_format.process(s, line, len, &ev), VG_ERR_PARSE);
            char want[64];
            snprintf(want, sizeof want, "control byte 0x%02x at column %zu", bytes[b], k + 1);
            if (!strstr(vg_last_error(), want)) fail_msg("byte %zu: %s (want %s)", k, vg_last_error(), want);
        }
    memcpy(line, good, len);
    line[len - 3] = '\t';   /* inside the user agent: allowed */
    assert_int_equal(vg_weblog_format.process(s, line, len, &ev), VG_OK);
    vg_weblog_format.state_free(s);
}

static void test_bad_lines(void **state)
{
    (void)state;
    void *s = new_state(0, 0);
    vg_logfmt_event ev;
    static const char *const bad[] = {
        "",
        "1.2.3.4",
        "1.2.3.4 - - ",  /* ends where [time] should start (found by fuzz_weblog) */
        "1.2.3.4 - - 10/Oct/2000:13:55:36 -0700 \"GET / HTTP/1.0\" 200 1",
        "1.2.3.4 - - [10/Oct/2000:13:55:36] \"GET / HTTP/1.0\" 200 1",
        "1.2.3.4 - - [32/Oct/2000:13:55:36 -0700] \"GET / HTTP/1.0\" 200 1",
        "1.2.3.4 - - [10/Foo/2000:13:55:36 -0700] \"GET / HTTP/1.0\" 200 1",
        "1.2.3.4 - - [10/Oct/2000:13:55:36 -0700] \"GET / HTTP/1.0 200 1",
        "1.2.3.4 - - [10/Oct/2000:13:55:36 -0700] \"GET / HTTP/1.0\" 2000 1",
        "1.2.3.4 - - [10/Oct/2000:13:55:36 -0700] \"GET / HTTP/1.0\" 200",
        "1.2.3.4 - - [10/Oct/2000:13:55:36 -0700] \"GET / HTTP/1.0\" 200 x1",
        "1.2.3.4 - - [10/Oct/2000:13:55:36 -0700] \"GET / HTTP/1.0\" 200 1 \"-\"",
        "1.2.3.4 - - [10/Oct/2000:13:55:36 -0700] \"GET / HTTP/1.0\" 200 1 \"-\" \"ua",
        "1.2.3.4 - - [10/Oct/2000:13:55:36 -0700] \"GET / HTTP/1.0\" 200 1 \"-\" \"ua\"x",
        "1.2.3.4 - - [10/Oct/2000:13:55:36 -0700] \"GET /\x01 HTTP/1.0\" 200 1",
        "{\"remote_addr\":\"1.2.3.4\"}",
        "{\"remote_addr\":\"1.2.3.4\",\"time\":\"yesterday\",\"uri\":\"/\",\"status\":200}",
        "{\"remote_addr\":\"1.2.3.4\",\"time\":1,\"uri\":\"/\",\"status\":2000}",
        "{\"remote_addr\":\"1.2.3.4\",\"time\":1,\"uri\":\"/\"",
        "[1,2,3]",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        vg_status st = run(s, bad[i], &ev);
        if (st != VG_ERR_PARSE) fail_msg("accepted or wrong status %d: %s", st, bad[i]);
        assert_true(strlen(vg_last_error()) > 0 && strchr(vg_last_error(), '\n') == NULL);
    }
    assert_int_equal(state_stats(s).entities, 0);  /* no bad line created state */
    /* Limits: a host past 255 bytes, a line past max_line_bytes. */
    char line[600];
    memset(line, 'h', 300);
    snprintf(line + 300, sizeof line - 300, " - - [01/Jan/2026:00:00:00 +0000] \"GET / HTTP/1.1\" 200 1");
    assert_int_equal(run(s, line, &ev), VG_ERR_PARSE);
    assert_non_null(strstr(vg_last_error(), "255"));
    vg_weblog_format.state_free(s);
    vg_logfmt_options o = vg_logfmt_options_default();
    o.max_line_bytes = 40;
    assert_int_equal(vg_weblog_format.state_new(&o, &s), VG_OK);
    assert_int_equal(run(s, "1.2.3.4 - - [01/Jan/2026:00:00:00 +0000] \"GET / HTTP/1.1\" 200 1", &ev), VG_ERR_LIMIT);
    vg_weblog_format.state_free(s);
}

static void test_window(void **state)
{
    (void)state;
    void *s = new_state(0, 0);
    vg_logfmt_event ev;
    char line[256];
    /* Five requests in five seconds, two of them 404s, two distinct paths. */
    for (int i = 0; i < 5; i++) {
        snprintf(line, sizeof line, "9.9.9.9 - - [01/Jan/2026:00:00:0%d +0000] \"GET /p%d HTTP/1.1\" %d 100 \"-\" \"A\"",
                 i, i % 2, i < 2 ? 404 : 200);
        ok(s, line, &ev);
    }
    assert_true(num(&ev, "req_10s") == 5 && num(&ev, "req_60s") == 5 && num(&ev, "requests") == 5);
    assert_true(fabs(num(&ev, "ratio_4xx_60s") - 0.4) < 1e-12);
    assert_true(num(&ev, "distinct_paths_60s") == 2 && num(&ev, "bytes_60s") == 500 && num(&ev, "since_prev") == 1);
    assert_true(num(&ev, "ua_changed") == 0 && num(&ev, "distinct_uas") == 1);
    /* 30 s later: out of the 10 s window, still in the 60 s one; a new agent. */
    ok(s, "9.9.9.9 - - [01/Jan/2026:00:00:34 +0000] \"GET /p2 HTTP/1.1\" 500 1 \"-\" \"B\"", &ev);
    assert_true(num(&ev, "req_10s") == 1 && num(&ev, "req_60s") == 6 && num(&ev, "since_prev") == 30);
    assert_true(num(&ev, "ua_changed") == 1 && num(&ev, "ua_changes") == 1 && num(&ev, "distinct_uas") == 2);
    assert_true(num(&ev, "distinct_paths_60s") == 3 && fabs(num(&ev, "ratio_5xx_60s") - 1.0 / 6) < 1e-12);
    /* Two minutes later everything has left the windows. */
    ok(s, "9.9.9.9 - - [01/Jan/2026:00:02:34 +0000] \"GET /p2 HTTP/1.1\" 200 1 \"-\" \"B\"", &ev);
    assert_true(num(&ev, "req_10s") == 1 && num(&ev, "req_60s") == 1 && num(&ev, "distinct_paths_60s") == 1);
    assert_true(num(&ev, "requests") == 7 && num(&ev, "distinct_paths") == 3);
    /* Another client is independent. */
    ok(s, "9.9.9.8 - - [01/Jan/2026:00:02:34 +0000] \"GET /p2 HTTP/1.1\" 200 1 \"-\" \"B\"", &ev);
    assert_true(num(&ev, "requests") == 1 && num(&ev, "since_prev") == -1);
    /* The 10 s count saturates at the ring size (32), the 60 s one does not. */
    for (int i = 0; i < 100; i++) {
        snprintf(line, sizeof line, "7.7.7.7 - - [01/Jan/2026:00:00:%02d +0000] \"GET / HTTP/1.1\" 200 1 \"-\" \"A\"", i / 10);
        ok(s, line, &ev);
    }
    assert_true(num(&ev, "req_10s") == 32 && num(&ev, "req_60s") == 100);
    vg_weblog_format.state_free(s);
}

/* Collect all numeric and text values of an event into a flat string. */
static void fingerprint(const vg_logfmt_event *ev, char *buf, size_t cap)
{
    size_t w = 0;
    for (size_t i = 0; i < ev->n_fields && w + 64 < cap; i++) {
        const vg_field *f = &ev->fields[i];
        if (f->kind == VG_FIELD_TEXT) w += (size_t)snprintf(buf + w, cap - w, "%.*s|", (int)f->text_len, f->text);
        else w += (size_t)snprintf(buf + w, cap - w, "%.17g|", f->number);
    }
}

static void test_online_and_bad_lines_untouched(void **state)
{
    (void)state;
    /* A synthetic log: features of every line in the full run equal those
     * of the same line when the run stops there (nothing looks ahead), and
     * a bad line inserted anywhere changes nothing after it. */
    char *data = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&data, &len);
    vg_synth_params p = vg_synth_params_default();
    p.events = 3000;
    p.seed = 7;
    assert_int_equal(vg_synth_weblog.write(f, &p), VG_OK);
    fclose(f);
    enum { N = 3000, CAP = 4096 };
    char **full = calloc(N, sizeof *full);
    void *a = new_state(0, 0), *b = new_state(0, 0);
    size_t i = 0, line = 0;
    vg_logfmt_event ev;
    for (size_t j = 0; i < len; i = j + 1, line++) {
        j = i;
        while (j < len && data[j] != '\n') j++;
        assert_int_equal(vg_weblog_format.process(a, data + i, j - i, &ev), VG_OK);
        full[line] = malloc(CAP);
        fingerprint(&ev, full[line], CAP);
    }
    assert_int_equal(line, N);
    char fp[CAP];
    i = 0, line = 0;
    for (size_t j = 0; line < N / 2; i = j + 1, line++) {
        j = i;
        while (j < len && data[j] != '\n') j++;
        if (line % 97 == 0) {
            /* Bad lines: this line without its closing quote, and binary junk. */
            assert_int_equal(vg_weblog_format.process(b, data + i, j - i - 1, &ev), VG_ERR_PARSE);
            assert_int_equal(vg_weblog_format.process(b, "\x7f\x45LF\x02\x01", 6, &ev), VG_ERR_PARSE);
        }
        assert_int_equal(vg_weblog_format.process(b, data + i, j - i, &ev), VG_OK);
        fingerprint(&ev, fp, sizeof fp);
        if (strcmp(fp, full[line]) != 0) fail_msg("line %zu differs:\n%s\n%s", line + 1, fp, full[line]);
    }
    vg_weblog_format.state_free(a);
    vg_weblog_format.state_free(b);
    for (size_t k = 0; k < N; k++) free(full[k]);
    free(full);
    free(data);
}

static void test_bounded_state(void **state)
{
    (void)state;
    void *s = new_state(100, 0);
    vg_logfmt_event ev;
    char line[256];
    size_t bytes_at_1000 = 0;
    for (unsigned i = 0; i < 20000; i++) {
        snprintf(line, sizeof line, "11.%u.%u.%u - - [01/Jan/2026:00:%02u:%02u +0000] \"GET /x HTTP/1.1\" 200 1",
                 i >> 16, (i >> 8) & 255, i & 255, (i / 60) % 60, i % 60);
        ok(s, line, &ev);
        assert_true(state_stats(s).entities <= 100);
        if (i == 999) bytes_at_1000 = state_stats(s).bytes;
    }
    assert_int_equal(state_stats(s).entities, 100);
    assert_int_equal(state_stats(s).bytes, bytes_at_1000);
    assert_int_equal(state_stats(s).evicted, 20000 - 100);  /* every client is new: all but the last 100 dropped */
    assert_int_equal(state_stats(s).expired, 0);
    vg_weblog_format.state_free(s);

    /* TTL: a client idle longer than the TTL starts afresh. */
    s = new_state(0, 60);
    ok(s, "5.5.5.5 - - [01/Jan/2026:00:00:00 +0000] \"GET / HTTP/1.1\" 200 1", &ev);
    ok(s, "5.5.5.5 - - [01/Jan/2026:00:00:30 +0000] \"GET / HTTP/1.1\" 200 1", &ev);
    assert_true(num(&ev, "requests") == 2);
    ok(s, "5.5.5.5 - - [01/Jan/2026:00:05:00 +0000] \"GET / HTTP/1.1\" 200 1", &ev);
    assert_true(num(&ev, "requests") == 1 && num(&ev, "since_prev") == -1);
    vg_weblog_format.state_free(s);
}

static void test_log_read(void **state)
{
    (void)state;
    const char text[] =
        "1.1.1.1 - - [01/Jan/2026:00:00:00 +0000] \"GET / HTTP/1.1\" 200 10 \"-\" \"Mozilla/5.0\"\n"
        "this is not a log line\n"
        "1.1.1.1 - - [01/Jan/2026:00:00:01 +0000] \"GET /admin HTTP/1.1\" 404 10 \"-\" \"Mozilla/5.0\"\n"
        "\x01\x02\x03\x04 binary\n"
        "{\"ip\":\"2.2.2.2\",\"time\":1767225602,\"uri\":\"/x\",\"status\":200,\"id\":\"r9\"}\n";
    const char labels[] = "3\nr9\n";
    vg_logfmt_options o = vg_logfmt_options_default();
    o.labels_path = vg_test_tmpfile(labels, sizeof labels - 1, ".txt");
    vg_table *t = NULL;
    vg_logfmt_report rep;
    assert_int_equal(vg_logfmt_read(vg_test_tmpfile(text, sizeof text - 1, ".log"), &vg_weblog_format, &o, &t, &rep), VG_OK);
    assert_int_equal(rep.lines, 5);
    assert_int_equal(rep.events, 3);
    assert_int_equal(rep.bad, 2);
    assert_int_equal(rep.first_bad_line, 2);
    assert_true(strlen(rep.first_bad_message) > 0);
    assert_int_equal(vg_table_rows(t), 3);
    long lab = vg_table_find(t, "label");
    assert_true(lab >= 0);
    const uint32_t *codes = vg_table_codes(t, (size_t)lab);
    assert_string_equal(vg_table_category(t, (size_t)lab, codes[0]), "normal");
    assert_string_equal(vg_table_category(t, (size_t)lab, codes[1]), "attack");  /* line 3 */
    assert_string_equal(vg_table_category(t, (size_t)lab, codes[2]), "attack");  /* id r9 */
    assert_true(vg_table_find(t, "url_sqli") >= 0 && vg_table_find(t, "country") >= 0);
    vg_table_free(t);
}

/* Two tables hold the same columns, values and categories (and, if asked,
 * source lines). */
static void assert_same_table(const vg_table *a, const vg_table *b, int same_lines)
{
    size_t rows = vg_table_rows(a);
    assert_int_equal(vg_table_rows(b), rows);
    assert_int_equal(vg_table_cols(b), vg_table_cols(a));
    for (size_t j = 0; j < vg_table_cols(a); j++) {
        assert_string_equal(vg_table_name(a, j), vg_table_name(b, j));
        assert_int_equal(vg_table_type(a, j), vg_table_type(b, j));
        if (vg_table_type(a, j) == VG_COLUMN_NUMERIC) {
            assert_memory_equal(vg_table_numbers(a, j), vg_table_numbers(b, j), rows * sizeof(double));
            continue;
        }
        const uint32_t *ca = vg_table_codes(a, j), *cb = vg_table_codes(b, j);
        for (size_t r = 0; r < rows; r++) {
            const char *x = ca[r] == VG_CODE_MISSING ? "(missing)" : vg_table_category(a, j, ca[r]);
            const char *y = cb[r] == VG_CODE_MISSING ? "(missing)" : vg_table_category(b, j, cb[r]);
            assert_string_equal(x, y);
        }
    }
    for (size_t r = 0; r < rows && same_lines; r++) assert_int_equal(vg_table_line(a, r), vg_table_line(b, r));
}

static vg_status read_text(const void *text, size_t len, vg_table **t, vg_logfmt_report *rep, const char **path)
{
    *path = vg_test_tmpfile(text, len, ".log");
    *t = NULL;
    return vg_logfmt_read(*path, &vg_weblog_format, NULL, t, rep);
}

#define GOOD1 "1.1.1.1 - - [01/Jan/2026:00:00:00 +0000] \"GET /a?q=1 HTTP/1.1\" 200 10 \"-\" \"Mozilla/5.0\""
#define GOOD2 "2.2.2.2 - - [01/Jan/2026:00:00:01 +0000] \"POST /login HTTP/1.1\" 401 5 \"-\" \"curl/8\""

/* Whole-file limits through vg_logfmt_read: each bad line is counted and named
 * (line and problem), a file with no event is an error naming the file, and
 * CRLF line ends or a UTF-8 byte order mark change nothing. */
static void test_log_read_limits(void **state)
{
    (void)state;
    vg_table *ref, *t;
    vg_logfmt_report rep;
    const char *path;
    const char lf[] = GOOD1 "\n" GOOD2 "\n";
    assert_int_equal(read_text(lf, sizeof lf - 1, &ref, &rep, &path), VG_OK);
    assert_int_equal(rep.bad, 0);
    assert_int_equal(vg_table_rows(ref), 2);

    const char crlf[] = GOOD1 "\r\n" GOOD2 "\r\n";
    assert_int_equal(read_text(crlf, sizeof crlf - 1, &t, &rep, &path), VG_OK);
    assert_int_equal(rep.bad, 0);
    assert_same_table(ref, t, 1);
    vg_table_free(t);
    const char bom[] = "\xEF\xBB\xBF" GOOD1 "\n" GOOD2;  /* and no newline at the end */
    assert_int_equal(read_text(bom, sizeof bom - 1, &t, &rep, &path), VG_OK);
    assert_int_equal(rep.bad, 0);
    assert_same_table(ref, t, 1);
    vg_table_free(t);

    /* Over-long, truncated (the file ends mid-line), NUL bytes, binary. */
    size_t big = 70000, n = 0;
    char *text = malloc(big + 1024);
    assert_non_null(text);
    n += (size_t)sprintf(text + n, "%s\n1.1.1.1 - - [01/Jan/2026:00:00:00 +0000] \"GET /", GOOD1);
    memset(text + n, 'a', big);
    n += big;
    n += (size_t)sprintf(text + n, " HTTP/1.1\" 200 1\n");
    static const char nul_line[] = "3.3.3.3 - - [01/Jan/2026:00:00:02 +0000] \"GET /\0x HTTP/1.1\" 200 1\n";
    memcpy(text + n, nul_line, sizeof nul_line - 1);
    n += sizeof nul_line - 1;
    n += (size_t)sprintf(text + n, "\x8f\xff\x01\x02garbage\x7f\n%s\n2.2.2.2 - - [01/Jan/2026:00:0", GOOD2);
    assert_int_equal(read_text(text, n, &t, &rep, &path), VG_OK);
    free(text);
    assert_int_equal(rep.lines, 6);
    assert_int_equal(rep.events, 2);
    assert_int_equal(rep.bad, 4);
    assert_int_equal(rep.first_bad_line, 2);
    assert_non_null(strstr(rep.first_bad_message, "line longer than 65536 bytes"));
    assert_same_table(ref, t, 0);
    assert_int_equal(vg_table_line(t, 0), 1);
    assert_int_equal(vg_table_line(t, 1), 5);
    vg_table_free(t);
    vg_table_free(ref);

    /* Nothing usable: an error that names the file (and the first bad line). */
    assert_int_equal(read_text("", 0, &t, &rep, &path), VG_ERR_PARSE);
    assert_null(t);
    assert_non_null(strstr(vg_last_error(), path));
    assert_non_null(strstr(vg_last_error(), "no weblog events (empty file)"));
    const char garbage[] = "\x00\x01\x02\xfe\xff\n\x1f\x8c\x00zz\n";
    assert_int_equal(read_text(garbage, sizeof garbage - 1, &t, &rep, &path), VG_ERR_PARSE);
    assert_null(t);
    assert_non_null(strstr(vg_last_error(), path));
    assert_non_null(strstr(vg_last_error(), ":1: no valid weblog events (2 bad lines"));
    assert_null(strchr(vg_last_error(), '\n'));
}

static void test_synth(void **state)
{
    (void)state;
    char *log = NULL, *truth = NULL;
    size_t log_len = 0, truth_len = 0;
    FILE *f = open_memstream(&log, &log_len), *tf = open_memstream(&truth, &truth_len);
    vg_synth_params p = vg_synth_params_default();
    p.events = 20000;
    p.truth = tf;
    assert_ptr_equal(vg_synth_find("weblog"), &vg_synth_weblog);
    assert_int_equal(vg_synth_weblog.write(f, &p), VG_OK);
    fclose(f);
    fclose(tf);
    size_t lines = 0, attacks = 0;
    for (size_t i = 0; i < log_len; i++) lines += log[i] == '\n';
    for (size_t i = 0; i < truth_len; i++) attacks += truth[i] == '\n';
    assert_int_equal(lines, 20000);
    assert_true(attacks > 20000 * 0.02 && attacks < 20000 * 0.10);
    static const char *const kinds[] = { ",scanner", ",sqli\n", ",xss\n", ",traversal\n", ",bruteforce\n" };
    for (size_t k = 0; k < 5; k++)
        if (!strstr(truth, kinds[k])) fail_msg("no %s attack in 20000 lines", kinds[k] + 1);  /* scanner: either kind */
    /* Every line parses, times never go backwards, and the same seed gives the same bytes. */
    void *s = new_state(0, 0);
    vg_logfmt_event ev;
    double last = 0, *when = calloc(lines, sizeof *when);
    const char **at = calloc(lines, sizeof *at);
    size_t n = 0;
    for (size_t i = 0, j; i < log_len; i = j + 1) {
        for (j = i; log[j] != '\n'; j++) {}
        if (vg_weblog_format.process(s, log + i, j - i, &ev)) fail_msg("%s: %.*s", vg_last_error(), (int)(j - i), log + i);
        assert_true(ev.time >= last);
        last = when[n] = ev.time;
        at[n++] = log + i;
    }
    vg_weblog_format.state_free(s);
    /* Benign clients as fast as tools exist (more than 30 requests in 10 s
     * from one address on no attack line; 24 at most before): without them
     * the rate alone told an attack, and a real log's people loading pages
     * fast were 9% false alarms. */
    char *attack = calloc(lines + 1, 1);
    for (char *t = truth; *t; t = strchr(t, '\n') + 1) attack[strtoul(t, NULL, 10)] = 1;
    size_t fastest = 0;
    for (size_t i = 0; i < n; i++) {
        if (attack[i + 1]) continue;
        size_t ip = strcspn(at[i], " "), k = 0;
        for (size_t j = i; j < n && when[j] < when[i] + 10; j++)
            k += !attack[j + 1] && strncmp(at[j], at[i], ip + 1) == 0;
        fastest = k > fastest ? k : fastest;
    }
    if (fastest <= 30) fail_msg("the fastest benign client sent %zu requests in 10 s", fastest);
    free(attack), free(when), free(at);
    char *again = NULL;
    size_t again_len = 0;
    f = open_memstream(&again, &again_len);
    p.truth = NULL;
    assert_int_equal(vg_synth_weblog.write(f, &p), VG_OK);
    fclose(f);
    assert_true(again_len == log_len && memcmp(again, log, log_len) == 0);
    free(again);
    free(log);
    free(truth);
}

/* The reader's memos (a field's canonical form and payload signs, a
 * target's URL features) give what computing afresh gives: every text
 * feature of each line of a stream that repeats, evicts and overwrites
 * memo entries (300 targets and referers, with payloads, encodings, Latin-1
 * and texts too long to keep) equals that line's in a new state. */
static void test_memos_match_fresh(void **state)
{
    (void)state;
    static const char *const shapes[] = {
        "/static/app.%d.js", "/item.php?id=%d&q=%%27%%20OR%%201%%3D1--", "/search?q=caf%%E9+%d",
        "/a/%d/../../etc/passwd", "/p?x=%%253Cscript%%253Ealert(%d)%%253C/script%%253E",
        "/very/long/path/that/goes/on/and/on/and/on/past/the/memo/bound/of/ninety/six/bytes/%d/index.html",
    };
    void *a = new_state(0, 0);
    char line[512], uri[160];
    for (int i = 0; i < 900; i++) {
        int k = (i * 7) % 300;   /* each text comes back, other texts between */
        snprintf(uri, sizeof uri, shapes[k % 6], k);
        snprintf(line, sizeof line,
                 "10.0.0.1 - - [01/Jan/2026:00:%02d:%02d +0000] \"GET %s HTTP/1.1\" 200 10 \"https://x.example%s\" "
                 "\"Mozilla/5.0\"", (i / 60) % 60, i % 60, uri, k % 3 ? "/" : uri);
        vg_logfmt_event ev, fresh;
        ok(a, line, &ev);
        void *b = new_state(0, 0);
        ok(b, line, &fresh);
        assert_int_equal(ev.n_fields, fresh.n_fields);
        for (size_t f = 0; f < ev.n_fields; f++) {
            const vg_field *x = &ev.fields[f], *y = &fresh.fields[f];
            int stateless = strncmp(x->name, "url_", 4) == 0 || strncmp(x->name, "pay_", 4) == 0 ||
                            strncmp(x->name, "enc_", 4) == 0 || strcmp(x->name, "query_value_max") == 0;
            if (stateless && memcmp(&x->number, &y->number, sizeof x->number) != 0)
                fail_msg("line %d, %s: %g with the memos, %g afresh\n  %s", i, x->name, x->number, y->number, line);
        }
        text_is(&ev, "ext_class", field(&fresh, "ext_class")->text);
        vg_weblog_format.state_free(b);
    }
    vg_weblog_format.state_free(a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_combined_common_json),
        cmocka_unit_test(test_bad_lines),
        cmocka_unit_test(test_nginx_request_body),
        cmocka_unit_test(test_control_bytes_anywhere),
        cmocka_unit_test(test_window),
        cmocka_unit_test(test_online_and_bad_lines_untouched),
        cmocka_unit_test(test_bounded_state),
        cmocka_unit_test(test_log_read),
        cmocka_unit_test(test_log_read_limits),
        cmocka_unit_test(test_synth),
        cmocka_unit_test(test_memos_match_fresh),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
