/* Unit tests for --format login: the 19-row RBA sample, every feature on a
 * hand-made sequence, the online property (a prefix of the log gives the
 * same features as the same events in the whole log), the labels and the
 * rule score (and that rule_score is withheld when it is the label), bad
 * lines (counted, named, state untouched), the 9-column and headerless
 * layouts, bounded state, and whole-file limits (CRLF, byte order mark,
 * truncated, binary, empty and header-only files). */
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

#define HEADER                                                                                                   \
    "index,Login Timestamp,User ID,Round-Trip Time [ms],IP Address,Country,Region,City,ASN,User Agent String,"  \
    "Browser Name and Version,OS Name and Version,Device Type,Login Successful,Is Attack IP,Is Account Takeover"

static const vg_field *field(const vg_logfmt_event *ev, const char *name)
{
    for (size_t i = 0; i < ev->n_fields; i++)
        if (strlen(name) == ev->fields[i].name_len && memcmp(ev->fields[i].name, name, ev->fields[i].name_len) == 0)
            return &ev->fields[i];
    return NULL;
}

static double num(const vg_logfmt_event *ev, const char *name)
{
    const vg_field *f = field(ev, name);
    if (!f) fail_msg("no field %s", name);
    if (f->kind == VG_FIELD_NULL) return NAN;
    assert_int_equal(f->kind, VG_FIELD_NUMBER);
    return f->number;
}

static void assert_text(const vg_logfmt_event *ev, const char *name, const char *want)
{
    const vg_field *f = field(ev, name);
    assert_non_null(f);
    if (!want) {
        assert_int_equal(f->kind, VG_FIELD_NULL);
        return;
    }
    assert_int_equal(f->kind, VG_FIELD_TEXT);
    if (f->text_len != strlen(want) || memcmp(f->text, want, f->text_len) != 0)
        fail_msg("%s: '%.*s', wanted '%s'", name, (int)f->text_len, f->text, want);
}

static vg_logfmt_state_stats state_stats(const void *st)
{
    vg_logfmt_state_stats out;
    vg_login_format.state_stats(st, &out);
    return out;
}

static void *state_with(const char *label, size_t max_entities)
{
    vg_logfmt_options o = vg_logfmt_options_default();
    o.label = label;
    if (max_entities) o.max_entities = max_entities;
    void *st = NULL;
    assert_int_equal(vg_login_format.state_new(&o, &st), VG_OK);
    return st;
}

static vg_status feed(void *st, const char *line, vg_logfmt_event *ev)
{
    return vg_login_format.process(st, line, strlen(line), ev);
}

static void feed_ok(void *st, const char *line, vg_logfmt_event *ev)
{
    vg_status s = feed(st, line, ev);
    if (s) fail_msg("'%s': %s", line, vg_last_error());
}

/* One event line of user U at time T (seconds after 2020-02-03 12:00:00). */
static const char *ev_line(char *buf, size_t n, int sec, const char *user, const char *ip, const char *cc,
                           const char *asn, const char *ua, const char *browser, const char *dev, const char *ok,
                           const char *attack)
{
    snprintf(buf, n, "%d,2020-02-03 12:%02d:%02d.250,%s,,%s,%s,-,-,%s,\"%s\",%s,Windows 10,%s,%s,%s,False", sec,
             sec / 60, sec % 60, user, ip, cc, asn, ua, browser, dev, ok, attack);
    return buf;
}

static void test_sample(void **unused)
{
    (void)unused;
    const char *path = vg_test_shared("rba-login/rba-dataset-head19.csv.gz");
    assert_true(vg_test_exists(path));
    vg_table *t = NULL;
    vg_logfmt_report rep;
    assert_int_equal(vg_logfmt_read(path, &vg_login_format, NULL, &t, &rep), VG_OK);
    assert_int_equal(rep.lines, 20);
    assert_int_equal(rep.events, 19);
    assert_int_equal(rep.bad, 0);
    assert_int_equal(vg_table_rows(t), 19);
    long lab = vg_table_find(t, "label");
    assert_true(lab >= 0);
    const uint32_t *codes = vg_table_codes(t, (size_t)lab);
    int attacks = 0;
    for (size_t r = 0; r < 19; r++) attacks += strcmp(vg_table_category(t, (size_t)lab, codes[r]), "attack") == 0;
    assert_int_equal(attacks, 2);  /* rows 4 and 5 */
    const double *since = vg_table_numbers(t, (size_t)vg_table_find(t, "seconds_since_prev"));
    const double *fails = vg_table_numbers(t, (size_t)vg_table_find(t, "failure_count"));
    const double *countries = vg_table_numbers(t, (size_t)vg_table_find(t, "distinct_countries"));
    const double *rtt = vg_table_numbers(t, (size_t)vg_table_find(t, "rtt_ms"));
    const double *hour = vg_table_numbers(t, (size_t)vg_table_find(t, "hour"));
    /* User -4324475583306591935: rows 0, 1, 3, 5, 13, 14, 17, 18. */
    assert_true(isnan(since[0]));
    assert_float_equal(since[1], 12.777, 1e-6);
    assert_float_equal(since[3], 12.631, 1e-6);
    assert_float_equal(fails[3], 3, 0);
    assert_float_equal(countries[1], 2, 0);   /* NO, AU */
    assert_float_equal(countries[3], 3, 0);   /* + US */
    assert_float_equal(countries[17], 4, 0);  /* + ID */
    assert_true(isnan(rtt[0]));
    assert_float_equal(rtt[15], 1123.0, 0);
    assert_float_equal(hour[0], 12, 0);
    long fam = vg_table_find(t, "browser_family");
    const uint32_t *fc = vg_table_codes(t, (size_t)fam);
    assert_string_equal(vg_table_category(t, (size_t)fam, fc[3]), "Chrome Mobile WebView");
    assert_string_equal(vg_table_category(t, (size_t)fam, fc[8]), "MiuiBrowser");
    assert_true(vg_table_find(t, "rule_score") >= 0);
    vg_table_free(t);
}

/* Every feature on a hand-made sequence of one user. */
static void test_features(void **unused)
{
    (void)unused;
    void *st = state_with(NULL, 0);
    vg_logfmt_event ev;
    char b[1024];
    const char *chrome = "Mozilla/5.0 (Windows NT 10.0) Chrome/86.0 Safari/537.36";
    feed_ok(st, HEADER, &ev);
    assert_int_equal(ev.n_fields, 0);
    feed_ok(st, ev_line(b, sizeof b, 0, "u1", "1.1.1.1", "NO", "29695", chrome, "Chrome 86.0", "desktop", "True", "False"), &ev);
    assert_int_equal(ev.entity_len, 2);
    assert_memory_equal(ev.entity, "u1", 2);
    assert_string_equal(ev.label, "normal");
    assert_float_equal(num(&ev, "login_success"), 1, 0);
    assert_float_equal(num(&ev, "success_count"), 1, 0);
    assert_float_equal(num(&ev, "failure_count"), 0, 0);
    assert_float_equal(num(&ev, "distinct_devices"), 1, 0);
    assert_true(isnan(num(&ev, "seconds_since_prev")));
    assert_true(isnan(num(&ev, "new_country")) && isnan(num(&ev, "new_device")));
    assert_true(isnan(num(&ev, "new_asn")) && isnan(num(&ev, "new_ip")));
    assert_float_equal(num(&ev, "bot_browser"), 0, 0);
    assert_float_equal(num(&ev, "rule_score"), 0, 0);
    assert_text(&ev, "country", "NO");
    assert_text(&ev, "browser_family", "Chrome");
    assert_text(&ev, "device_type", "desktop");
    assert_text(&ev, "asn", "29695");
    assert_float_equal(ev.time, 1580731200.25, 1e-6);

    /* 3 s later, a failure from another country, ASN, IP and device. */
    feed_ok(st, ev_line(b, sizeof b, 3, "u1", "2.2.2.2", "US", "7922", "Mozilla/5.0 (iPhone) Safari", "Mobile Safari 13.0",
                        "mobile", "False", "True"), &ev);
    assert_string_equal(ev.label, "attack");
    assert_float_equal(num(&ev, "seconds_since_prev"), 3, 1e-9);
    assert_float_equal(num(&ev, "failure_count"), 1, 0);
    assert_float_equal(num(&ev, "fail_success_ratio"), 1, 0);
    assert_float_equal(num(&ev, "new_country"), 1, 0);
    assert_float_equal(num(&ev, "new_device"), 1, 0);
    assert_float_equal(num(&ev, "new_asn"), 1, 0);
    assert_float_equal(num(&ev, "new_ip"), 1, 0);
    assert_float_equal(num(&ev, "distinct_countries"), 2, 0);
    assert_float_equal(num(&ev, "distinct_browsers"), 2, 0);
    assert_float_equal(num(&ev, "rule_score"), 1, 0);  /* under 5 s */
    assert_float_equal(num(&ev, "recent_attempts"), 1 + exp(-3.0 / 3600), 1e-9);
    assert_float_equal(num(&ev, "recent_failures"), 1, 1e-12);

    /* Back home on the first device: nothing new. */
    feed_ok(st, ev_line(b, sizeof b, 60, "u1", "1.1.1.1", "NO", "29695", chrome, "Chrome 86.0", "desktop", "True", "False"), &ev);
    assert_float_equal(num(&ev, "new_country"), 0, 0);
    assert_float_equal(num(&ev, "new_device"), 0, 0);
    assert_float_equal(num(&ev, "new_ip"), 0, 0);
    assert_float_equal(num(&ev, "seconds_since_prev"), 57, 1e-9);
    assert_float_equal(num(&ev, "distinct_devices"), 2, 0);
    assert_float_equal(num(&ev, "rule_score"), 0, 0);

    /* A bot: python-requests in the user agent (+2), Device Type bot (+2). */
    feed_ok(st, ev_line(b, sizeof b, 120, "u1", "3.3.3.3", "NO", "29695", "python-requests/2.25.1", "Python Requests 2.25",
                        "bot", "False", "True"), &ev);
    assert_float_equal(num(&ev, "bot_browser"), 1, 0);
    assert_float_equal(num(&ev, "bot_device"), 1, 0);
    assert_float_equal(num(&ev, "rule_score"), 4, 0);
    /* Googlebot is a bot; a Cubot phone is not. */
    feed_ok(st, ev_line(b, sizeof b, 180, "u2", "4.4.4.4", "NO", "29695", "Mozilla/5.0 (compatible; Googlebot/2.1)",
                        "Chrome 86.0", "desktop", "True", "False"), &ev);
    assert_float_equal(num(&ev, "bot_browser"), 1, 0);
    feed_ok(st, ev_line(b, sizeof b, 181, "u3", "4.4.4.5", "NO", "29695", "Mozilla/5.0 (Linux; Android 9; CUBOT_X19) Chrome/86.0",
                        "Chrome Mobile 86.0", "mobile", "True", "False"), &ev);
    assert_float_equal(num(&ev, "bot_browser"), 0, 0);
    assert_int_equal(state_stats(st).entities, 3);
    vg_login_format.state_free(st);
}

/* The rule score as label: counts and ratio thresholds; no rule_score field. */
static void test_rule_score(void **unused)
{
    (void)unused;
    void *st = state_with("rule-score", 0);
    vg_logfmt_event ev;
    char b[1024], ip[32], ua[64];
    feed_ok(st, HEADER, &ev);
    /* 11 failures a minute apart, each from a new IP and device: ratio 11 > 10,
     * IPs > 4, devices > 3 -> score 3 -> anomalous. */
    for (int i = 0; i < 11; i++) {
        snprintf(ip, sizeof ip, "10.0.0.%d", i + 1);
        snprintf(ua, sizeof ua, "Mozilla/5.0 Firefox/%d.0", 60 + i);
        feed_ok(st, ev_line(b, sizeof b, 60 * i, "u", ip, "NO", "29695", ua, "Firefox 70.0", "desktop", "False", "False"), &ev);
        assert_null(field(&ev, "rule_score"));
        assert_string_equal(ev.label, i >= 10 ? "anomalous" : "normal");
    }
    vg_login_format.state_free(st);
    /* Labels by name; an unknown one is refused. */
    st = state_with("Is Account Takeover", 0);
    feed_ok(st, HEADER, &ev);
    feed_ok(st, "0,2020-02-03 12:00:00.000,u,,1.1.1.1,NO,-,-,1,ua,Chrome 1,Win,desktop,True,True,True", &ev);
    assert_string_equal(ev.label, "attack");
    feed_ok(st, "1,2020-02-03 12:00:01.000,u,,1.1.1.1,NO,-,-,1,ua,Chrome 1,Win,desktop,True,True,False", &ev);
    assert_string_equal(ev.label, "normal");
    vg_login_format.state_free(st);
    vg_logfmt_options o = vg_logfmt_options_default();
    o.label = "Is Attack";
    void *bad = NULL;
    assert_int_equal(vg_login_format.state_new(&o, &bad), VG_ERR_INVALID);
    assert_non_null(strstr(vg_last_error(), "Is Attack"));
}

/* Compare two tables cell by cell over their first n rows. */
static void assert_same_rows(const vg_table *a, const vg_table *b, size_t n)
{
    assert_int_equal(vg_table_cols(a), vg_table_cols(b));
    for (size_t j = 0; j < vg_table_cols(a); j++) {
        long k = vg_table_find(b, vg_table_name(a, j));
        assert_true(k >= 0);
        if (vg_table_type(a, j) == VG_COLUMN_NUMERIC && vg_table_type(b, (size_t)k) == VG_COLUMN_NUMERIC) {
            const double *x = vg_table_numbers(a, j), *y = vg_table_numbers(b, (size_t)k);
            for (size_t r = 0; r < n; r++)
                if (!(x[r] == y[r] || (isnan(x[r]) && isnan(y[r]))))
                    fail_msg("%s row %zu: %g in the prefix, %g in the whole log", vg_table_name(a, j), r, x[r], y[r]);
        } else {
            const uint32_t *x = vg_table_codes(a, j), *y = vg_table_codes(b, (size_t)k);
            for (size_t r = 0; r < n; r++) {
                const char *p = x[r] == VG_CODE_MISSING ? "" : vg_table_category(a, j, x[r]);
                const char *q = y[r] == VG_CODE_MISSING ? "" : vg_table_category(b, (size_t)k, y[r]);
                if (strcmp(p, q) != 0) fail_msg("%s row %zu: '%s' vs '%s'", vg_table_name(a, j), r, p, q);
            }
        }
    }
}

static char *synth_text(size_t events, uint64_t seed, size_t *len)
{
    char *buf = NULL;
    FILE *f = open_memstream(&buf, len);
    assert_non_null(f);
    vg_synth_params p = vg_synth_params_default();
    p.events = events;
    p.seed = seed;
    p.attack_fraction = 0.1;
    assert_int_equal(vg_synth_login.write(f, &p), VG_OK);
    fclose(f);
    return buf;
}

/* A feature never uses a later event: the first half of a log alone gives
 * exactly the features the same events get inside the whole log. */
static void test_online(void **unused)
{
    (void)unused;
    size_t len;
    char *text = synth_text(4000, 7, &len);
    size_t cut = 0, lines = 0;
    while (lines < 2001) cut += (text[cut] == '\n') ? (lines++, 1) : 1;  /* header + 2000 events */
    const char *whole = vg_test_tmpfile(text, len, ".csv");
    char whole_path[512];
    snprintf(whole_path, sizeof whole_path, "%s", whole);
    const char *prefix = vg_test_tmpfile(text, cut, ".csv");
    vg_table *a = NULL, *b = NULL;
    assert_int_equal(vg_logfmt_read(prefix, &vg_login_format, NULL, &a, NULL), VG_OK);
    assert_int_equal(vg_logfmt_read(whole_path, &vg_login_format, NULL, &b, NULL), VG_OK);
    assert_int_equal(vg_table_rows(a), 2000);
    assert_int_equal(vg_table_rows(b), 4000);
    assert_same_rows(a, b, 2000);
    vg_table_free(a);
    vg_table_free(b);
    free(text);
}

/* Bad lines are counted with the first one named, never fatal; each leaves
 * the state as if it never came. */
static void test_bad_lines(void **unused)
{
    (void)unused;
    char big[70000];
    memset(big, 'x', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    char text[80000];
    snprintf(text, sizeof text,
             HEADER "\n"
             "0,2020-02-03 12:00:00.000,u,,1.1.1.1,NO,-,-,1,ua,Chrome 1,Win,desktop,True,False,False\n"
             "1,2020-02-03 12:00:01.000,u,,1.1.1.1,NO,-,-,1,ua,Chrome 1,Win,desktop,True,False\n"
             "2,2020-02-31 12:00:01.000,u,,1.1.1.1,NO,-,-,1,ua,Chrome 1,Win,desktop,True,False,False\n"
             "3,2020-02-03 12:00:02.000,u,,1.1.1.1,NO,-,-,1,u\001a,Chrome 1,Win,desktop,True,False,False\n"
             "%s\n"
             "4,2020-02-03 12:00:03.000,u,,1.1.1.1,NO,-,-,1,ua,Chrome 1,Win,desktop,Maybe,False,False\n"
             "5,2020-02-03 12:00:04.000,u,,1.1.1.1,NO,-,-,1,ua,Chrome 1,Win,desktop,False,False,False\n",
             big);
    const char *path = vg_test_tmpfile(text, strlen(text), ".csv");
    vg_table *t = NULL;
    vg_logfmt_report rep;
    assert_int_equal(vg_logfmt_read(path, &vg_login_format, NULL, &t, &rep), VG_OK);
    assert_int_equal(rep.events, 2);
    assert_int_equal(rep.bad, 5);
    assert_int_equal(rep.first_bad_line, 3);
    assert_non_null(strstr(rep.first_bad_message, "expected 16 fields"));
    /* The last event saw only the first: the bad lines left no trace. */
    const double *n_ok = vg_table_numbers(t, (size_t)vg_table_find(t, "success_count"));
    const double *since = vg_table_numbers(t, (size_t)vg_table_find(t, "seconds_since_prev"));
    assert_float_equal(n_ok[1], 1, 0);
    assert_float_equal(since[1], 4, 1e-9);
    vg_table_free(t);

    /* Each problem is named. */
    void *st = state_with(NULL, 0);
    vg_logfmt_event ev;
    feed_ok(st, HEADER, &ev);
    static const struct { const char *line, *msg; } cases[] = {
        { "1,2020-02-31 12:00:01.000,u,,1.1.1.1,NO,-,-,1,ua,Chrome 1,Win,desktop,True,False,False", "Login Timestamp" },
        { "1,2020-02-03 12:00:01,u,,1.1.1.1,NO,-,-,1,u\001a,Chrome 1,Win,desktop,True,False,False", "User Agent String" },
        { "1,2020-02-03 12:00:01,u,,1.1.1.1,NO,-,-,1,ua,Chrome 1,Win,desktop,Maybe,False,False", "Login Successful" },
        { "1,2020-02-03 12:00:01,u,abc,1.1.1.1,NO,-,-,1,ua,Chrome 1,Win,desktop,True,False,False", "Round-Trip Time" },
        /* An overflowing literal parses as inf (found by fuzz_login). */
        { "1,2020-02-03 12:00:01,u,1e999,1.1.1.1,NO,-,-,1,ua,Chrome 1,Win,desktop,True,False,False", "Round-Trip Time" },
        { "1,2020-02-03 12:00:01,u,,1.1.1.1,NO,-,-,AS1,ua,Chrome 1,Win,desktop,True,False,False", "ASN" },
        { "1,2020-02-03 12:00:01,,,1.1.1.1,NO,-,-,1,ua,Chrome 1,Win,desktop,True,False,False", "User ID" },
        { "1,2020-02-03 12:00:01,u,,1.1.1.1,NO,-,-,1,\"ua,Chrome 1,Win,desktop,True,False,False", "unterminated quote" },
        { "1,2020-02-03 12:00:01,u,,1.1.1.1,NO,-,-,1,ua,Chrome 1,Win,desktop,True,False", "expected 16 fields" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        assert_int_equal(feed(st, cases[i].line, &ev), VG_ERR_PARSE);
        if (!strstr(vg_last_error(), cases[i].msg)) fail_msg("'%s' lacks '%s'", vg_last_error(), cases[i].msg);
        assert_int_equal(ev.n_fields, 0);
    }
    assert_int_equal(state_stats(st).entities, 0);
    assert_int_equal(feed(st, big, &ev), VG_ERR_LIMIT);
    vg_login_format.state_free(st);
}

static vg_status read_text(const void *text, size_t len, vg_table **t, vg_logfmt_report *rep, const char **path)
{
    *path = vg_test_tmpfile(text, len, ".csv");
    *t = NULL;
    return vg_logfmt_read(*path, &vg_login_format, NULL, t, rep);
}

#define ROW1 "0,2020-02-03 12:00:00.000,u,12.5,1.1.1.1,NO,-,-,1,\"Mozilla/5.0 (X11, Linux)\",Chrome 1,Win,desktop,True,False,False"
#define ROW2 "1,2020-02-03 12:00:09.000,u,,2.2.2.2,DE,-,-,2,curl/8,Chrome 1,Win,desktop,False,True,False"
#define RED_HEADER "Login Timestamp,User ID,IP Address,Country,Region,City,Browser Name and Version,Device Type,Login Successful"
#define RED_ROW "2020-02-03 12:43:30.772,-43,10.0.65.171,NO,-,-,Firefox 20.0.0.1618,mobile,False"
#define NOUSER_HEADER "Login Timestamp,IP Address,Country,Region,City,Browser Name and Version,Device Type,Login Successful"
#define NOUSER_ROW "2020-02-03 12:43:30.772,10.0.65.171,NO,-,-,Firefox 20.0.0.1618,mobile,False"

/* Whole-file limits through vg_logfmt_read: CRLF line ends and a UTF-8 byte
 * order mark (in either layout) change nothing; truncated lines, NUL bytes
 * and binary garbage are bad lines counted with the first one named; an
 * empty or header-only file is an error naming the file. */
static void test_read_limits(void **unused)
{
    (void)unused;
    vg_table *ref, *t;
    vg_logfmt_report rep;
    const char *path;
    const char lf[] = HEADER "\n" ROW1 "\n" ROW2 "\n";
    assert_int_equal(read_text(lf, sizeof lf - 1, &ref, &rep, &path), VG_OK);
    assert_int_equal(rep.bad, 0);
    assert_int_equal(vg_table_rows(ref), 2);
    const char crlf[] = HEADER "\r\n" ROW1 "\r\n" ROW2 "\r\n";
    assert_int_equal(read_text(crlf, sizeof crlf - 1, &t, &rep, &path), VG_OK);
    assert_int_equal(rep.bad, 0);
    assert_same_rows(ref, t, 2);
    vg_table_free(t);
    const char bom[] = "\xEF\xBB\xBF" HEADER "\n" ROW1 "\n" ROW2;  /* no newline at the end either */
    assert_int_equal(read_text(bom, sizeof bom - 1, &t, &rep, &path), VG_OK);
    assert_int_equal(rep.bad, 0);
    assert_same_rows(ref, t, 2);
    vg_table_free(t);

    /* Truncated mid-field and at the end of the file, NUL bytes, binary. */
    static const char mixed[] = HEADER "\n" ROW1 "\n"
                                "1,2020-02-03 12:00:05.000,u,,2.2.2.2,DE,-,-,2,curl/8,Chr\n"
                                "1,2020-02-03 12:00:06.000,u,,2.2.2.2,DE,-,-,2,curl\0/8,Chrome 1,Win,desktop,True,False,False\n"
                                "\x8f\xff\x01,\x02,garbage\x7f\n" ROW2 "\n"
                                "1,2020-02-03 12:00:1";
    assert_int_equal(read_text(mixed, sizeof mixed - 1, &t, &rep, &path), VG_OK);
    assert_int_equal(rep.lines, 7);
    assert_int_equal(rep.events, 2);
    assert_int_equal(rep.bad, 4);
    assert_int_equal(rep.first_bad_line, 3);
    assert_non_null(strstr(rep.first_bad_message, "expected 16 fields, found 11"));
    assert_same_rows(ref, t, 2);
    vg_table_free(t);
    vg_table_free(ref);

    /* The 9-column layout behind a byte order mark still finds its columns
     * by name (the BOM would otherwise hide "Login Timestamp"). */
    const char red[] = RED_HEADER "\n" RED_ROW "\n";
    const char red_bom[] = "\xEF\xBB\xBF" RED_HEADER "\r\n" RED_ROW "\r\n";
    assert_int_equal(read_text(red, sizeof red - 1, &ref, &rep, &path), VG_OK);
    assert_int_equal(read_text(red_bom, sizeof red_bom - 1, &t, &rep, &path), VG_OK);
    assert_int_equal(rep.bad, 0);
    assert_same_rows(ref, t, 1);
    vg_table_free(t);
    vg_table_free(ref);

    /* Nothing usable: an error naming the file (and the first bad line). */
    static const struct { const char *text; size_t len; const char *msg; } none[] = {
        { "", 0, ": no login events (empty file)" },
        { HEADER "\n", sizeof HEADER, ": no login events (1 line: 1 header, 0 blank)" },
        { "\xEF\xBB\xBF", 3, ": no login events (empty file)" },
        { "\r\n\n", 3, ": no login events (2 lines: 0 header, 2 blank)" },
        { "\x00\x01\x02\xfe\xff\n\x1f\x8c\x00zz\n", 11, ":1: no valid login events (2 bad lines; first: no header line" },
        /* A header without a required column says which, rather than
         * passing for a data line of 8 fields. */
        { NOUSER_HEADER "\n" NOUSER_ROW "\n", sizeof NOUSER_HEADER + sizeof NOUSER_ROW - 1,
          ":1: no valid login events (2 bad lines; first: header lacks the required column 'User ID'" },
        { "IP Address,Country,Login Successful\n1.1.1.1,NO,True\n", 52,
          "first: header lacks the required columns 'Login Timestamp' and 'User ID'" },
    };
    for (size_t i = 0; i < sizeof none / sizeof *none; i++) {
        assert_int_equal(read_text(none[i].text, none[i].len, &t, &rep, &path), VG_ERR_PARSE);
        assert_null(t);
        if (strncmp(vg_last_error(), path, strlen(path)) != 0 || !strstr(vg_last_error(), none[i].msg))
            fail_msg("case %zu: '%s' lacks '%s%s'", i, vg_last_error(), path, none[i].msg);
        assert_null(strchr(vg_last_error(), '\n'));
    }
}

/* The 9-column reduction with its header, and headerless full lines. */
static void test_layouts(void **unused)
{
    (void)unused;
    void *st = state_with(NULL, 0);
    vg_logfmt_event ev;
    feed_ok(st, "Login Timestamp,User ID,IP Address,Country,Region,City,Browser Name and Version,Device Type,"
                "Login Successful", &ev);
    assert_int_equal(ev.n_fields, 0);
    feed_ok(st, "2020-02-03 12:43:30.772,-4324475583306591935,10.0.65.171,NO,-,-,Firefox 20.0.0.1618,mobile,False", &ev);
    assert_null(ev.label);  /* no ground truth in this layout */
    assert_text(&ev, "browser_family", "Firefox");
    assert_text(&ev, "country", "NO");
    assert_true(isnan(num(&ev, "distinct_asns")));
    assert_float_equal(num(&ev, "failure_count"), 1, 0);
    vg_login_format.state_free(st);

    st = state_with(NULL, 0);
    feed_ok(st, "0,2020-02-03 12:43:30.772,-4324475583306591935,,10.0.65.171,NO,-,-,29695,\"Mozilla/5.0 (iPhone; "
                "CPU iPhone OS 13_4 like Mac OS X)\",Firefox 20.0.0.1618,iOS 13.4,mobile,False,True,False", &ev);
    assert_string_equal(ev.label, "attack");
    assert_memory_equal(ev.event_id, "0", 1);
    assert_int_equal(feed(st, "a,b,c", &ev), VG_ERR_PARSE);
    vg_login_format.state_free(st);
    st = state_with(NULL, 0);
    assert_int_equal(feed(st, "a,b,c", &ev), VG_ERR_PARSE);
    assert_non_null(strstr(vg_last_error(), "no header"));
    vg_login_format.state_free(st);
}

/* max_entities holds with many users, and the bytes stop growing. */
static void test_bounded(void **unused)
{
    (void)unused;
    void *st = state_with(NULL, 500);
    vg_logfmt_event ev;
    char line[256];
    feed_ok(st, HEADER, &ev);
    size_t bytes_early = 0;
    for (int i = 0; i < 200000; i++) {
        snprintf(line, sizeof line, "%d,2020-02-03 %02d:%02d:%02d.000,user%d,,10.%d.%d.1,NO,-,-,29695,ua%d,Chrome 1,"
                 "Win,desktop,True,False,False", i, (i / 3600) % 24, (i / 60) % 60, i % 60, i, i % 200, i % 100, i % 7);
        feed_ok(st, line, &ev);
        if (i == 999) bytes_early = state_stats(st).bytes;
    }
    print_message("login state: %zu bytes after 1k users, %zu after 200k (500 kept)\n", bytes_early,
                  state_stats(st).bytes);
    assert_int_equal(state_stats(st).entities, 500);
    assert_int_equal(state_stats(st).bytes, bytes_early);
    assert_int_equal(state_stats(st).evicted, 200000 - 500);  /* one day of logins: the week's TTL never fires */
    assert_int_equal(state_stats(st).expired, 0);
    vg_login_format.state_free(st);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sample),   cmocka_unit_test(test_features), cmocka_unit_test(test_rule_score),
        cmocka_unit_test(test_online),   cmocka_unit_test(test_bad_lines), cmocka_unit_test(test_layouts),
        cmocka_unit_test(test_bounded),   cmocka_unit_test(test_read_limits),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
