/* Unit tests for the per-source log summary: exact counts on a tiny
 * hand-written login log (events, bad lines, header, entities, countries,
 * outcomes, time span, hours, ranking ties), alerts at thresholds that make
 * every or no event an alert, the bound on distinct values, alerts equal to
 * what the batch predictor flags on a synthetic weblog, the Sources section
 * in the HTML report of unlabelled data, and the alert store's summary. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include "testutil.h"
#include "vigil/alerts.h"
#include "vigil/report.h"
#include "vigil/source_summary.h"
#include "vigil/synth.h"

/* A synthetic log of `events` lines from the generator for `format`. */
static const char *synth(const char *format, size_t events, uint64_t seed, const char *truth_path)
{
    static char path[8][64];
    static int slot;
    char *p = path[slot++ % 8];
    snprintf(p, 64, "/tmp/vg_test_summary_%d_%s_%llu.log", (int)getpid(), format, (unsigned long long)seed);
    FILE *f = fopen(p, "w"), *t = truth_path ? fopen(truth_path, "w") : NULL;
    assert_non_null(f);
    vg_synth_params sp = vg_synth_params_default();
    sp.seed = seed;
    sp.events = events;
    sp.truth = t;
    assert_int_equal(vg_synth_find(format)->write(f, &sp), VG_OK);
    fclose(f);
    if (t) fclose(t);
    return p;
}

static vg_model *train_log(const char *format, const char *path, const char *labels)
{
    vg_logfmt_options lo = vg_logfmt_options_default();
    lo.labels_path = labels;
    vg_data_spec spec = { .format = format, .log = &lo, .task = VG_TASK_BINARY };
    vg_table *t = NULL;
    assert_int_equal(vg_data_read(path, &spec, &t), VG_OK);
    const char *params[] = { "n_estimators=10" };
    vg_train_request rq = { .table = t, .data = spec, .model = "forest", .params = params, .n_params = 1,
                            .seed = 3, .threads = 2 };
    vg_model *m = NULL;
    vg_status st = vg_model_train(&rq, &m);
    if (st) print_error("train: %s\n", vg_last_error());
    assert_int_equal(st, VG_OK);
    vg_table_free(t);
    return m;
}

static vg_model *login_model(void)
{
    static vg_model *m;
    if (!m) m = train_log("login", synth("login", 3000, 7, NULL), NULL);
    return m;
}

#define HEAD "index,Login Timestamp,User ID,Round-Trip Time [ms],IP Address,Country,Region,City,ASN," \
             "User Agent String,Browser Name and Version,OS Name and Version,Device Type,Login Successful," \
             "Is Attack IP,Is Account Takeover\n"
#define EV(i, t, u, c, ok) #i "," t "," u ",,10.0.0." #i "," c ",-,-,2119,Mozilla/5.0,Chrome 99,Linux,desktop," ok \
                           ",False,False\n"

/* 7 events of 3 users in 2 hours (one out of order), a header, 2 bad lines. */
static const char tiny[] =
    HEAD
    EV(1, "2026-01-01 10:00:00", "alice", "NO", "True")
    EV(2, "2026-01-01 10:05:00", "bob", "NO", "False")
    EV(3, "2026-01-01 10:10:00", "alice", "SE", "True")
    "garbage line\n"
    EV(4, "2026-01-01 11:30:00", "carol", "NO", "False")
    EV(5, "2026-01-01 09:59:00", "alice", "NO", "True")
    "6,not a time,bob,,10.0.0.6,NO,-,-,2119,Mozilla/5.0,Chrome 99,Linux,desktop,True,False,False\n"
    EV(7, "2026-01-01 11:45:00", "bob", "SE", "False")
    EV(8, "2026-01-01 11:50:00", "alice", "NO", "True");

static const vg_summary_count *find(const vg_summary_table *t, const char *key)
{
    for (size_t i = 0; i < t->n_by_events; i++)
        if (strcmp(t->by_events[i].key, key) == 0) return &t->by_events[i];
    return NULL;
}

static vg_source_summary *summarize(const char *path, double threshold, size_t max_keys)
{
    vg_summary_params p = vg_summary_params_default();
    p.threshold = threshold;
    if (max_keys) p.max_keys = max_keys;
    vg_source_summary *s = NULL;
    vg_status st = vg_source_summarize(login_model(), path, &p, &s);
    if (st) print_error("summarize: %s\n", vg_last_error());
    assert_int_equal(st, VG_OK);
    return s;
}

static void test_counts(void **state)
{
    (void)state;
    const char *path = vg_test_tmpfile(tiny, sizeof tiny - 1, ".csv");
    vg_source_summary *s = summarize(path, 0.0, 0);  /* every event is an alert */
    assert_string_equal(s->format, "login");
    assert_string_equal(s->entity_name, "user");
    assert_int_equal(s->lines, 10);
    assert_int_equal(s->events, 7);
    assert_int_equal(s->skipped, 1);
    assert_int_equal(s->bad, 2);
    assert_int_equal(s->first_bad_line, 5);
    assert_int_equal(s->alerts, 7);
    assert_int_equal(s->labelled, 7);  /* the RBA columns carry the truth */
    assert_true(s->first_time == 1767261540.0);  /* 09:59, the out-of-order line */
    assert_true(s->last_time == 1767268200.0);   /* 11:50 */

    /* Entities: alice 4, bob 2, carol 1, ranked by events. */
    assert_int_equal(s->entities.distinct, 3);
    assert_int_equal(s->entities.n_by_events, 3);
    assert_string_equal(s->entities.by_events[0].key, "alice");
    assert_int_equal(s->entities.by_events[0].events, 4);
    assert_string_equal(s->entities.by_events[1].key, "bob");
    assert_int_equal(s->entities.by_events[1].events, 2);
    assert_string_equal(s->entities.by_events[2].key, "carol");
    assert_int_equal(s->entities.alerted, 3);
    assert_int_equal(s->entities.by_alerts[0].alerts, 4);

    /* Countries and outcomes. */
    assert_int_equal(s->n_dims, 4);
    assert_string_equal(s->dims[0].field, "country");
    assert_int_equal(find(&s->dims[0], "NO")->events, 5);
    assert_int_equal(find(&s->dims[0], "SE")->events, 2);
    assert_string_equal(s->dims[1].field, "login_success");
    assert_int_equal(find(&s->dims[1], "success")->events, 4);
    assert_int_equal(find(&s->dims[1], "failure")->events, 3);
    assert_int_equal(find(&s->dims[2], "2119")->events, 7);

    /* Hours 09, 10 and 11: 1, 3 and 3 events. */
    assert_int_equal(s->n_hours, 3);
    assert_true(s->hour0 == 1767258000.0);
    assert_int_equal(s->hour_events[0], 1);
    assert_int_equal(s->hour_events[1], 3);
    assert_int_equal(s->hour_events[2], 3);
    assert_int_equal(s->hour_alerts[0] + s->hour_alerts[1] + s->hour_alerts[2], 7);
    vg_source_summary_free(s);

    /* No event reaches a threshold above 1. */
    s = summarize(path, 1.5, 0);
    assert_int_equal(s->alerts, 0);
    assert_int_equal(s->entities.n_by_alerts, 0);
    assert_int_equal(s->entities.alerted, 0);
    assert_int_equal(s->entities.by_events[0].alerts, 0);
    vg_source_summary_free(s);

    /* The same log gzipped, with an over-long line (bad, and the line after
     * it still read) and no newline at the end. */
    char gz_path[64];
    snprintf(gz_path, sizeof gz_path, "/tmp/vg_test_summary_%d.csv.gz", (int)getpid());
    gzFile gz = gzopen(gz_path, "wb");
    assert_non_null(gz);
    assert_int_equal(gzwrite(gz, tiny, sizeof tiny - 2), (int)(sizeof tiny - 2));  /* no final newline */
    gzclose(gz);
    gz = gzopen(gz_path, "ab");  /* a second gzip member, as `cat a.gz b.gz` makes */
    char longline[400];
    memset(longline, 'x', sizeof longline);
    gzwrite(gz, "\n", 1);
    gzwrite(gz, longline, sizeof longline);
    gzwrite(gz, "\n" EV(9, "2026-01-01 11:55:00", "dave", "NO", "True"), (unsigned)strlen("\n" EV(9, "2026-01-01 11:55:00", "dave", "NO", "True")));
    gzclose(gz);
    vg_logfmt_options lo = vg_model_log_options(login_model());
    lo.max_line_bytes = 300;
    vg_summary_params p = vg_summary_params_default();
    p.threshold = 0.0;
    p.log = &lo;
    assert_int_equal(vg_source_summarize(login_model(), gz_path, &p, &s), VG_OK);
    assert_int_equal(s->lines, 12);
    assert_int_equal(s->events, 8);
    assert_int_equal(s->bad, 3);
    assert_int_equal(s->entities.distinct, 4);
    assert_non_null(find(&s->entities, "dave"));
    vg_source_summary_free(s);
    unlink(gz_path);

    /* Two distinct users kept, the third pooled. */
    s = summarize(path, 0.0, 2);
    assert_int_equal(s->entities.distinct, 3);
    assert_non_null(find(&s->entities, VG_SUMMARY_OTHER));
    assert_int_equal(find(&s->entities, VG_SUMMARY_OTHER)->events, 1);
    vg_source_summary_free(s);
}

static void test_errors(void **state)
{
    (void)state;
    vg_source_summary *s = (vg_source_summary *)1;
    vg_summary_params p = vg_summary_params_default();
    assert_int_equal(vg_source_summarize(login_model(), "/nonexistent/x.log", &p, &s), VG_ERR_IO);
    assert_null(s);
    p.format = "kdd";
    assert_int_equal(vg_source_summarize(login_model(), "/dev/null", &p, &s), VG_ERR_INVALID);
    vg_source_summary_free(NULL);
}

/* On a weblog, the alerts are the events the batch predictor scores >= 0.5,
 * and the status codes add up to the events. */
static void test_weblog_matches_predict(void **state)
{
    (void)state;
    char truth[64], labels[64];
    snprintf(truth, sizeof truth, "/tmp/vg_test_summary_%d_truth.csv", (int)getpid());
    snprintf(labels, sizeof labels, "/tmp/vg_test_summary_%d_labels.txt", (int)getpid());
    const char *train = synth("weblog", 6000, 1, truth);
    /* The labels file holds the truth's line numbers. */
    FILE *in = fopen(truth, "r"), *out = fopen(labels, "w");
    assert_non_null(in);
    assert_non_null(out);
    char line[128];
    while (fgets(line, sizeof line, in)) fprintf(out, "%ld\n", strtol(line, NULL, 10));
    fclose(in);
    fclose(out);
    vg_model *m = train_log("weblog", train, labels);
    const char *test = synth("weblog", 3000, 2, NULL);

    vg_source_summary *s = NULL;
    assert_int_equal(vg_source_summarize(m, test, NULL, &s), VG_OK);
    assert_int_equal(s->events, 3000);
    assert_int_equal(s->bad, 0);
    assert_string_equal(s->entity_name, "client IP");
    assert_int_equal(s->labelled, 0);  /* an access log carries no truth */

    vg_table *t = NULL;
    float *proba = NULL;
    assert_int_equal(vg_model_read_data(m, test, &t), VG_OK);
    assert_int_equal(vg_model_predict(m, t, 1, &proba), VG_OK);
    uint64_t flagged = 0;
    for (size_t r = 0; r < vg_table_rows(t); r++) flagged += proba[2 * r + 1] >= 0.5f;
    vg_free(proba);
    vg_table_free(t);
    assert_true(flagged > 0);
    assert_int_equal(s->alerts, flagged);

    uint64_t sum = 0, alerts = 0;
    const vg_summary_table *status = &s->dims[1];
    assert_string_equal(status->field, "status");
    assert_true(status->distinct <= 10);  /* so the top 10 hold every code */
    for (size_t i = 0; i < status->n_by_events; i++) sum += status->by_events[i].events,
                                                    alerts += status->by_events[i].alerts;
    assert_int_equal(sum + status->missing, 3000);
    assert_int_equal(alerts, s->alerts);
    assert_non_null(find(status, "200"));

    /* An unlabelled log still makes a report: no metrics, the summary. */
    vg_report_input rin = { .model = m, .eval = NULL, .source = "weblog.vgm" };
    vg_report_params rp = vg_report_params_default();
    const vg_source_summary *list[] = { s };
    rp.sources = list;
    rp.n_sources = 1;
    vg_wbuf w;
    vg_wbuf_init(&w);
    assert_int_equal(vg_report_html(&rin, 1, &rp, &w), VG_OK);
    vg_wbuf_u8(&w, 0);
    const char *html = (const char *)w.data;
    assert_non_null(strstr(html, "id=\"no-labels\""));
    assert_non_null(strstr(html, "id=\"sources\""));
    assert_non_null(strstr(html, "id=\"source-1-status\""));
    assert_null(strstr(html, "id=\"roc\""));
    assert_null(strstr(html, "<script"));
    char want[64];
    snprintf(want, sizeof want, "data-metric=\"alerts\" data-value=\"%llu\"", (unsigned long long)flagged);
    assert_non_null(strstr(html, want));
    vg_wbuf_free(&w);
    vg_source_summary_free(s);
    vg_model_free(m);
    unlink(truth);
    unlink(labels);
    unlink(train);
    unlink(test);
}

/* The alert store's summary and filtered listing on a store written here. */
static int count_row(const vg_alert_row *r, void *user)
{
    (void)r;
    ++*(int *)user;
    return 0;
}

static void test_alert_store_summary(void **state)
{
    (void)state;
    char path[64];
    snprintf(path, sizeof path, "/tmp/vg_test_summary_%d.db", (int)getpid());
    unlink(path);
    vg_alert_store *db = NULL;
    assert_int_equal(vg_alert_store_open(path, NULL, &db), VG_OK);
    /* 10 alerts, 20 minutes apart from 10:00: sources a (6) and b (4), labels attack (7) / dos (3). */
    for (int i = 0; i < 10; i++) {
        char ent[16];
        snprintf(ent, sizeof ent, "e%d", i % 3);
        vg_alert a = { .time = 1767261600.0 + i * 1200.0, .source = i < 6 ? "a.log" : "b.log", .line_no = (uint64_t)i,
                       .entity = ent, .entity_len = strlen(ent), .model = "m", .label = i < 7 ? "attack" : "dos",
                       .score = 0.5 + i * 0.05, .raw = "x", .raw_len = 1 };
        assert_int_equal(vg_alert_store_add(db, &a), VG_OK);
    }
    assert_int_equal(vg_alert_store_close(db), VG_OK);
    vg_alert_store_params sp = vg_alert_store_params_default();
    sp.read_only = 1;
    assert_int_equal(vg_alert_store_open(path, &sp, &db), VG_OK);

    vg_alert_summary sum;
    vg_alert_filter f = vg_alert_filter_default();
    assert_int_equal(vg_alert_store_summarize(db, &f, 10, 0, &sum), VG_OK);
    assert_int_equal(sum.total, 10);
    assert_true(sum.first == 1767261600.0 && sum.last == 1767261600.0 + 9 * 1200.0);
    assert_int_equal(sum.n_sources, 2);
    assert_string_equal(sum.sources[0].key, "a.log");
    assert_int_equal(sum.sources[0].n, 6);
    assert_string_equal(sum.labels[0].key, "attack");
    assert_int_equal(sum.labels[0].n, 7);
    assert_int_equal(sum.labels[1].n, 3);
    assert_int_equal(sum.n_entities, 3);
    assert_string_equal(sum.entities[0].key, "e0");
    assert_int_equal(sum.entities[0].n, 4);
    assert_true(sum.bucket_seconds == 3600.0);
    assert_int_equal(sum.n_buckets, 4);  /* 10:00 to 13:00, the last alert's hour included */
    assert_int_equal(sum.buckets[0], 3);
    assert_int_equal(sum.buckets[1], 3);
    assert_int_equal(sum.buckets[2], 3);
    assert_int_equal(sum.buckets[3], 1);
    vg_alert_summary_free(&sum);

    /* Filters: a window [since, until), a source, a label, a score. */
    f.since = 1767261600.0 + 1200.0;
    f.until = 1767261600.0 + 4 * 1200.0;
    assert_int_equal(vg_alert_store_summarize(db, &f, 10, 3600, &sum), VG_OK);
    assert_int_equal(sum.total, 3);
    vg_alert_summary_free(&sum);
    int n = 0;
    assert_int_equal(vg_alert_store_list(db, &f, count_row, &n), VG_OK);
    assert_int_equal(n, 3);
    f = vg_alert_filter_default();
    f.source = "b.log";
    f.label = "dos";
    f.min_score = 0.9;
    n = 0;
    assert_int_equal(vg_alert_store_list(db, &f, count_row, &n), VG_OK);
    assert_int_equal(n, 2);  /* i = 8, 9 */
    f = vg_alert_filter_default();
    f.limit = 4;
    n = 0;
    assert_int_equal(vg_alert_store_list(db, &f, count_row, &n), VG_OK);
    assert_int_equal(n, 4);
    assert_int_equal(vg_alert_store_close(db), VG_OK);
    unlink(path);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_counts),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_weblog_matches_predict),
        cmocka_unit_test(test_alert_store_summary),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    vg_model_free(login_model());
    return rc;
}
