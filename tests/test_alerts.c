/* Unit tests for the alert store: the schema and WAL mode, batched commits
 * (visible to another connection only after a commit), dedup by (source,
 * line_no), a reopen after a crash with an uncommitted batch (child killed
 * with SIGKILL), refusing foreign files, the filters, time parsing and the
 * JSON form of an alert. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "vigil/alerts.h"
#include "vigil/core.h"
#include "testutil.h"

static char db_path[256];

static int fresh(void **state)
{
    (void)state;
    snprintf(db_path, sizeof db_path, "/tmp/vg_test_alerts_%d.db", (int)getpid());
    char p[300];
    unlink(db_path);
    snprintf(p, sizeof p, "%s-wal", db_path);
    unlink(p);
    snprintf(p, sizeof p, "%s-shm", db_path);
    unlink(p);
    return 0;
}

static vg_alert make(uint64_t line, double score, const char *entity)
{
    static const char raw[] = "raw line";
    return (vg_alert){ .time = 1700000000.0 + (double)line, .source = "f.log", .line_no = line, .entity = entity,
                       .entity_len = entity ? strlen(entity) : 0, .model = "m.vgm", .label = "attack",
                       .score = score, .raw = raw, .raw_len = sizeof raw - 1 };
}

/* Count rows through a separate plain SQLite connection (what another
 * process would see). */
static long long outside_count(void)
{
    sqlite3 *db;
    assert_int_equal(sqlite3_open_v2(db_path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    sqlite3_stmt *q;
    assert_int_equal(sqlite3_prepare_v2(db, "SELECT count(*) FROM alerts", -1, &q, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(q), SQLITE_ROW);
    long long n = sqlite3_column_int64(q, 0);
    sqlite3_finalize(q);
    sqlite3_close(db);
    return n;
}

static void test_schema_wal_batching(void **state)
{
    (void)state;
    vg_alert_store_params p = vg_alert_store_params_default();
    p.batch_rows = 10;
    p.batch_seconds = 1e9;
    vg_alert_store *s;
    assert_int_equal(vg_alert_store_open(db_path, &p, &s), VG_OK);
    for (int i = 1; i <= 9; i++) {
        vg_alert a = make((uint64_t)i, 0.9, "alice");
        assert_int_equal(vg_alert_store_add(s, &a), VG_OK);
    }
    assert_int_equal(vg_alert_store_pending(s), 9);
    assert_int_equal(outside_count(), 0);      /* not committed yet */
    vg_alert a = make(10, 0.9, "alice");
    assert_int_equal(vg_alert_store_add(s, &a), VG_OK);   /* the 10th commits the batch */
    assert_int_equal(vg_alert_store_pending(s), 0);
    assert_int_equal(outside_count(), 10);
    a = make(11, 0.2, NULL);
    assert_int_equal(vg_alert_store_add(s, &a), VG_OK);
    assert_int_equal(vg_alert_store_commit(s), VG_OK);
    assert_int_equal(outside_count(), 11);
    assert_int_equal(vg_alert_store_close(s), VG_OK);

    sqlite3 *db;
    assert_int_equal(sqlite3_open(db_path, &db), SQLITE_OK);
    sqlite3_stmt *q;
    assert_int_equal(sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &q, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(q), SQLITE_ROW);
    assert_string_equal((const char *)sqlite3_column_text(q, 0), "wal");
    sqlite3_finalize(q);
    /* the documented columns, in order */
    assert_int_equal(sqlite3_prepare_v2(db,
                                        "SELECT id,time,source,line_no,entity,model,label,score,explanation_json,raw,"
                                        "created FROM alerts WHERE line_no = 11",
                                        -1, &q, NULL),
                     SQLITE_OK);
    assert_int_equal(sqlite3_step(q), SQLITE_ROW);
    assert_int_equal(sqlite3_column_type(q, 4), SQLITE_NULL);   /* no entity */
    assert_string_equal((const char *)sqlite3_column_text(q, 9), "raw line");
    assert_true(sqlite3_column_double(q, 10) > 1.6e9);
    sqlite3_finalize(q);
    sqlite3_close(db);
}

static int print_row(const vg_alert_row *r, void *user)
{
    long long *ids = user;
    ids[++ids[0]] = r->id;
    return 0;
}

static void test_query_and_dedup(void **state)
{
    (void)state;
    vg_alert_store_params p = vg_alert_store_params_default();
    p.dedup = 1;
    vg_alert_store *s;
    assert_int_equal(vg_alert_store_open(db_path, &p, &s), VG_OK);
    for (int i = 1; i <= 20; i++) {
        vg_alert a = make((uint64_t)i, i / 20.0, i % 2 ? "alice" : "bob");
        assert_int_equal(vg_alert_store_add(s, &a), VG_OK);
        assert_int_equal(vg_alert_store_add(s, &a), VG_OK);   /* a redelivered event: dropped */
    }
    assert_int_equal(vg_alert_store_commit(s), VG_OK);
    assert_int_equal(vg_alert_store_added(s), 20);
    uint64_t n;
    assert_int_equal(vg_alert_store_count(s, &n), VG_OK);
    assert_int_equal(n, 20);
    long long ids[64] = { 0 };
    vg_alert_filter q = vg_alert_filter_default();
    q.entity = "bob";
    q.min_score = 0.5;
    assert_int_equal(vg_alert_store_list(s, &q, print_row, ids), VG_OK);
    assert_int_equal(ids[0], 6);   /* bob = even lines; score >= 0.5 -> lines 10..20 */
    assert_true(ids[1] > ids[2]);  /* newest first */
    memset(ids, 0, sizeof ids);
    q = vg_alert_filter_default();
    q.since = 1700000000.0 + 15;
    q.limit = 3;
    assert_int_equal(vg_alert_store_list(s, &q, print_row, ids), VG_OK);
    assert_int_equal(ids[0], 3);
    memset(ids, 0, sizeof ids);
    q = vg_alert_filter_default();
    q.label = "normal";
    assert_int_equal(vg_alert_store_list(s, &q, print_row, ids), VG_OK);
    assert_int_equal(ids[0], 0);
    assert_int_equal(vg_alert_store_close(s), VG_OK);
}

/* A writer killed in the middle of a batch: the committed batches survive,
 * the open one is gone, the file opens and takes more alerts. A position
 * written with each alert (as `watch --resume` does) is the one committed
 * with the last surviving alert. */
static void test_crash_safe_reopen(void **state)
{
    (void)state;
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        vg_alert_store_params p = vg_alert_store_params_default();
        p.batch_rows = 100;
        p.batch_seconds = 1e9;
        vg_alert_store *s;
        if (vg_alert_store_open(db_path, &p, &s)) _exit(3);
        for (int i = 1; i <= 250; i++) {
            vg_alert a = make((uint64_t)i, 0.9, "x");
            vg_tail_position pos = { .known = 1, .dev = 7, .ino = 42, .offset = (uint64_t)i * 100, .line_no = (uint64_t)i };
            if (vg_alert_store_put_position(s, "app.log", &pos)) _exit(4);
            if (vg_alert_store_add(s, &a)) _exit(4);
        }
        kill(getpid(), SIGKILL);   /* 50 alerts uncommitted */
        _exit(5);
    }
    int status;
    waitpid(pid, &status, 0);
    assert_true(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
    vg_alert_store *s;
    assert_int_equal(vg_alert_store_open(db_path, NULL, &s), VG_OK);
    uint64_t n;
    assert_int_equal(vg_alert_store_count(s, &n), VG_OK);
    assert_int_equal(n, 200);
    vg_tail_position pos;
    assert_int_equal(vg_alert_store_get_position(s, "app.log", &pos), VG_OK);
    assert_true(pos.known && pos.line_no == 200 && pos.offset == 20000 && pos.dev == 7 && pos.ino == 42);
    assert_int_equal(vg_alert_store_get_position(s, "other.log", &pos), VG_OK);
    assert_false(pos.known);
    vg_alert a = make(999, 0.9, "x");
    assert_int_equal(vg_alert_store_add(s, &a), VG_OK);
    assert_int_equal(vg_alert_store_close(s), VG_OK);
    assert_int_equal(outside_count(), 201);
}

static void test_foreign_files(void **state)
{
    (void)state;
    static const char text[] = "this is not a database, just text...........................................";
    const char *junk = vg_test_tmpfile(text, sizeof text - 1, ".db");
    vg_alert_store *s;
    assert_int_equal(vg_alert_store_open(junk, NULL, &s), VG_ERR_FORMAT);
    /* an SQLite file with someone else's alerts table */
    sqlite3 *db;
    assert_int_equal(sqlite3_open(db_path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db, "CREATE TABLE alerts(x)", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
    assert_int_equal(vg_alert_store_open(db_path, NULL, &s), VG_ERR_FORMAT);
    assert_non_null(strstr(vg_last_error(), "not a vigil alert store"));
    vg_alert_store_params p = vg_alert_store_params_default();
    p.read_only = 1;
    assert_int_equal(vg_alert_store_open("/nonexistent/dir/a.db", &p, &s), VG_ERR_IO);
}

static void test_times_and_json(void **state)
{
    (void)state;
    double t;
    assert_int_equal(vg_alert_parse_time("2004-26-\n1", 0, &t), VG_ERR_PARSE);   /* found by fuzz_alert_time */
    assert_null(strchr(vg_last_error(), '\n'));
    assert_int_equal(vg_alert_parse_time("1700000000", 0, &t), VG_OK);
    assert_true(t == 1700000000.0);
    assert_int_equal(vg_alert_parse_time("2024-05-01", 0, &t), VG_OK);
    assert_true(t == 1714521600.0);
    assert_int_equal(vg_alert_parse_time("2024-05-01T12:00:30Z", 0, &t), VG_OK);
    assert_true(t == 1714521600.0 + 12 * 3600 + 30);
    assert_int_equal(vg_alert_parse_time("15m", 10000, &t), VG_OK);
    assert_true(t == 10000 - 900);
    assert_int_equal(vg_alert_parse_time("2h", 10000, &t), VG_OK);
    assert_true(t == 10000 - 7200);
    assert_int_equal(vg_alert_parse_time("yesterday", 0, &t), VG_ERR_PARSE);
    assert_int_equal(vg_alert_parse_time("2024-13-01", 0, &t), VG_ERR_PARSE);
    /* Limits: 64 characters at most, none empty. */
    char longest[66];
    memset(longest, '0', 64), longest[64] = '\0';
    assert_int_equal(vg_alert_parse_time(longest, 0, &t), VG_OK);
    longest[64] = '0', longest[65] = '\0';
    assert_int_equal(vg_alert_parse_time(longest, 0, &t), VG_ERR_PARSE);
    assert_non_null(strstr(vg_last_error(), "too long"));
    assert_int_equal(vg_alert_parse_time("", 0, &t), VG_ERR_PARSE);

    vg_alert a = make(7, 0.75, "al\"ice");
    a.raw = "x\ty\x01\xff";
    a.raw_len = 5;
    a.explanation_json = "[{\"field\":\"f\",\"contribution\":0.5}]";
    vg_wbuf w;
    vg_wbuf_init(&w);
    vg_alert_json(&a, &w);
    vg_wbuf_u8(&w, 0);
    assert_string_equal((const char *)w.data,
                        "{\"time\":1700000007.000,\"source\":\"f.log\",\"line\":7,\"entity\":\"al\\\"ice\",\"model\":"
                        "\"m.vgm\",\"label\":\"attack\",\"score\":0.75,\"top\":[{\"field\":\"f\",\"contribution\":0.5}],"
                        "\"raw\":\"x\\ty\\u0001\xEF\xBF\xBD\"}");
    vg_wbuf_free(&w);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_schema_wal_batching, fresh),
        cmocka_unit_test_setup(test_query_and_dedup, fresh),
        cmocka_unit_test_setup(test_crash_safe_reopen, fresh),
        cmocka_unit_test_setup(test_foreign_files, fresh),
        cmocka_unit_test_setup_teardown(test_times_and_json, fresh, fresh),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
