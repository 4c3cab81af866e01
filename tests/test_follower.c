/* Unit tests for the follower: a file followed to its end gives the alerts a
 * detector gives line by line; with resume, a follower stopped after a
 * checkpoint and a new one started on the same store give every line's
 * alert exactly once, replaying the earlier lines for the state only; the
 * position is committed with the alerts; parameters are checked first. */
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

#include "vigil/follower.h"
#include "vigil/model.h"
#include "testutil.h"

static vg_model *model;
static char log_path[256], db_path[256];
static const size_t n_lines = 3000;

/* The alerts a detector raises on the file, line by line: the reference. */
static uint64_t reference_alerts(void)
{
    vg_watch_params p = vg_watch_params_default(model);
    vg_detector *d;
    assert_int_equal(vg_detector_new(model, "m.vgm", &p, &d), VG_OK);
    FILE *f = fopen(log_path, "r");
    assert_non_null(f);
    char line[4096];
    uint64_t fired_n = 0, no = 0;
    while (fgets(line, sizeof line, f)) {
        size_t len = strcspn(line, "\r\n");
        vg_alert a;
        int fired;
        assert_int_equal(vg_detector_line(d, log_path, 0, ++no, line, len, 0, NULL, &a, &fired), VG_OK);
        fired_n += (uint64_t)fired;
    }
    fclose(f);
    vg_detector_free(d);
    return fired_n;
}

static vg_alert_store *open_store(void)
{
    vg_alert_store_params sp = vg_alert_store_params_default();
    sp.batch_rows = SIZE_MAX;    /* commits at checkpoints only, with the positions */
    sp.batch_seconds = INFINITY;
    vg_alert_store *s;
    assert_int_equal(vg_alert_store_open(db_path, &sp, &s), VG_OK);
    return s;
}

typedef struct seen {
    uint64_t n, last_line;
    int in_order;
} seen;

static void on_alert(const vg_alert *a, void *user)
{
    seen *s = user;
    if (a->line_no <= s->last_line) s->in_order = 0;
    s->last_line = a->line_no;
    s->n++;
}

/* Step until state is reached or `steps` steps have run. */
static vg_follow_state run(vg_follower *f, seen *s, int steps)
{
    vg_follow_state state = VG_FOLLOW_LINES;
    for (int i = 0; i < steps && state == VG_FOLLOW_LINES; i++)
        assert_int_equal(vg_follower_step(f, on_alert, s, &state), VG_OK);
    return state;
}

static void test_whole_file(void **state)
{
    (void)state;
    unlink(db_path);
    uint64_t want = reference_alerts();
    assert_true(want > 100);
    vg_alert_store *store = open_store();
    vg_follower_params p = vg_follower_params_default();
    p.tail.from_start = 1;
    p.tail.no_follow = 1;
    vg_watch_params wp = vg_watch_params_default(model);
    vg_detector *d;
    assert_int_equal(vg_detector_new(model, "m.vgm", &wp, &d), VG_OK);
    vg_follower *f;
    const char *paths[] = { log_path };
    assert_int_equal(vg_follower_new(paths, 1, &p, d, store, &f), VG_OK);
    seen s = { .in_order = 1 };
    assert_int_equal(run(f, &s, 100), VG_FOLLOW_DONE);
    assert_int_equal(s.n, want);
    assert_true(s.in_order);
    uint64_t stored;
    assert_int_equal(vg_alert_store_count(store, &stored), VG_OK);
    assert_int_equal(stored, want);   /* committed when the file ended */
    vg_follower_free(f);
    vg_detector_free(d);
    assert_int_equal(vg_alert_store_close(store), VG_OK);
}

static void test_resume_exactly_once(void **state)
{
    (void)state;
    unlink(db_path);
    uint64_t want = reference_alerts();
    vg_follower_params p = vg_follower_params_default();
    p.tail.from_start = 1;
    p.tail.no_follow = 1;
    p.resume = 1;
    p.lines_per_step = 1000;
    p.checkpoint_every = 0;   /* commit after every step */
    const char *paths[] = { log_path };
    vg_watch_params wp = vg_watch_params_default(model);

    /* First run: one step of 1000 lines, committed, then "killed" (freed
     * without a final checkpoint). */
    vg_alert_store *store = open_store();
    vg_detector *d;
    assert_int_equal(vg_detector_new(model, "m.vgm", &wp, &d), VG_OK);
    vg_follower *f;
    assert_int_equal(vg_follower_new(paths, 1, &p, d, store, &f), VG_OK);
    uint64_t line_no;
    assert_int_equal(vg_follower_resume_outcome(f, 0, &line_no), VG_TAIL_NEW);
    seen first = { .in_order = 1 };
    assert_int_equal(run(f, &first, 1), VG_FOLLOW_LINES);
    vg_tail_position pos;
    assert_int_equal(vg_alert_store_get_position(store, log_path, &pos), VG_OK);
    assert_true(pos.known);
    assert_int_equal(pos.line_no, 1000);
    uint64_t stored;
    assert_int_equal(vg_alert_store_count(store, &stored), VG_OK);
    assert_int_equal(stored, first.n);   /* the alerts of lines 1..1000, with their position */
    vg_follower_free(f);
    vg_detector_free(d);
    assert_int_equal(vg_alert_store_close(store), VG_OK);

    /* Second run: picks up after line 1000, scores the rest once. */
    store = open_store();
    assert_int_equal(vg_detector_new(model, "m.vgm", &wp, &d), VG_OK);
    assert_int_equal(vg_follower_new(paths, 1, &p, d, store, &f), VG_OK);
    assert_int_equal(vg_follower_resume_outcome(f, 0, &line_no), VG_TAIL_RESUMED);
    assert_int_equal(line_no, 1000);
    seen second = { .in_order = 1 };
    assert_int_equal(run(f, &second, 100), VG_FOLLOW_DONE);
    assert_true(second.last_line > 1000);
    assert_int_equal(first.n + second.n, want);
    assert_int_equal(vg_alert_store_count(store, &stored), VG_OK);
    assert_int_equal(stored, want);
    assert_int_equal(vg_alert_store_get_position(store, log_path, &pos), VG_OK);
    assert_int_equal(pos.line_no, n_lines);
    vg_follower_free(f);
    vg_detector_free(d);
    assert_int_equal(vg_alert_store_close(store), VG_OK);
}

static void test_params(void **state)
{
    (void)state;
    vg_watch_params wp = vg_watch_params_default(model);
    vg_detector *d;
    assert_int_equal(vg_detector_new(model, "m.vgm", &wp, &d), VG_OK);
    const char *paths[] = { log_path };
    vg_follower_params p = vg_follower_params_default();
    vg_follower *f = (vg_follower *)&p;
    p.resume = 1;
    assert_int_equal(vg_follower_new(paths, 1, &p, d, NULL, &f), VG_ERR_INVALID);   /* resume without a store */
    assert_null(f);
    p = vg_follower_params_default();
    p.lines_per_step = 0;
    assert_int_equal(vg_follower_new(paths, 1, &p, d, NULL, &f), VG_ERR_INVALID);
    vg_follower_free(NULL);
    vg_detector_free(d);
}

static int setup(void **state)
{
    (void)state;
    const char *train = vg_test_shared("nsl-kdd/KDDTrain+_20Percent.txt.gz");
    const char *test = vg_test_shared("nsl-kdd/KDDTest+.txt.gz");
    vg_table *t;
    vg_data_spec spec = { .format = "kdd", .task = VG_TASK_BINARY };
    if (vg_data_read(train, &spec, &t)) return -1;
    vg_train_request rq = { .table = t, .data = spec, .model = "tree", .seed = 1, .threads = 1 };
    vg_status st = vg_model_train(&rq, &model);
    vg_table_free(t);
    if (st) return -1;
    /* The first n_lines records of KDDTest+, as a plain log. */
    snprintf(log_path, sizeof log_path, "/tmp/vg_test_follower_%d.log", (int)getpid());
    snprintf(db_path, sizeof db_path, "/tmp/vg_test_follower_%d.db", (int)getpid());
    gzFile in = gzopen(test, "rb");
    FILE *out = fopen(log_path, "w");
    if (!in || !out) return -1;
    char line[4096];
    for (size_t i = 0; i < n_lines && gzgets(in, line, sizeof line); i++) fputs(line, out);
    gzclose(in);
    return fclose(out) == 0 ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    vg_model_free(model);
    unlink(log_path);
    unlink(db_path);
    char extra[300];
    snprintf(extra, sizeof extra, "%s-wal", db_path);
    unlink(extra);
    snprintf(extra, sizeof extra, "%s-shm", db_path);
    unlink(extra);
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_params),
        cmocka_unit_test(test_whole_file),
        cmocka_unit_test(test_resume_exactly_once),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
