/* Unit tests for the stream layer's line side: the kdd and csv line
 * adapters, the file follower (append, rotation by rename, truncation, a
 * partial last line held until complete, over-long lines, several files) and
 * the detector's alerts and bad-line counting with a real model. */
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

#include "vigil/core.h"
#include "vigil/kdd.h"
#include "vigil/model.h"
#include "vigil/tail.h"
#include "vigil/detector.h"
#include "vigil/line_adapter.h"
#include "testutil.h"

static const char kdd_line[] =
    "0,tcp,private,REJ,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,229,10,0.00,0.00,1.00,1.00,0.04,0.06,0.00,255,10,0.04,"
    "0.06,0.00,0.00,0.00,0.00,1.00,1.00,neptune.,21";

static const vg_field *field(const vg_logfmt_event *ev, const char *name)
{
    for (size_t i = 0; i < ev->n_fields; i++)
        if (ev->fields[i].name_len == strlen(name) && memcmp(ev->fields[i].name, name, ev->fields[i].name_len) == 0)
            return &ev->fields[i];
    return NULL;
}

/* Position of the last comma before s[n]. */
static size_t last_comma(const char *s, size_t n)
{
    while (n > 0 && s[n - 1] != ',') n--;
    return n - 1;
}

static void test_kdd_adapter(void **state)
{
    (void)state;
    vg_line_adapter *a;
    assert_int_equal(vg_line_adapter_new("kdd", NULL, NULL, &a), VG_OK);
    vg_logfmt_event ev;
    assert_int_equal(vg_line_adapter_process(a, 0, 1, kdd_line, strlen(kdd_line), &ev), VG_OK);
    assert_int_equal(ev.n_fields, VG_KDD_N_FEATURES);
    assert_int_equal(field(&ev, "protocol_type")->kind, VG_FIELD_TEXT);
    assert_int_equal(field(&ev, "count")->kind, VG_FIELD_NUMBER);
    assert_true(field(&ev, "count")->number == 229);
    assert_true(field(&ev, "rerror_rate")->number == 1.0);
    assert_int_equal(ev.label_len, 7);   /* "neptune", KDD'99 dot stripped */
    assert_memory_equal(ev.label, "neptune", 7);
    assert_int_equal(ev.entity_len, 7);  /* service */
    assert_memory_equal(ev.entity, "private", 7);
    /* 41 features without label: fine; 40 or 44 fields, text in a number, binary: errors */
    char buf[512];
    size_t n41 = last_comma(kdd_line, last_comma(kdd_line, strlen(kdd_line)));
    assert_int_equal(vg_line_adapter_process(a, 0, 2, kdd_line, n41, &ev), VG_OK);
    assert_null(ev.label);
    size_t n40 = last_comma(kdd_line, n41);
    assert_int_equal(vg_line_adapter_process(a, 0, 3, kdd_line, n40, &ev), VG_ERR_PARSE);
    assert_non_null(strstr(vg_last_error(), "40 fields"));
    snprintf(buf, sizeof buf, "%s,1", kdd_line);
    assert_int_equal(vg_line_adapter_process(a, 0, 4, buf, strlen(buf), &ev), VG_ERR_PARSE);
    snprintf(buf, sizeof buf, "x%s", kdd_line);
    assert_int_equal(vg_line_adapter_process(a, 0, 5, buf, strlen(buf), &ev), VG_ERR_PARSE);
    assert_non_null(strstr(vg_last_error(), "duration"));
    memcpy(buf, kdd_line, sizeof kdd_line);
    buf[10] = '\0';
    assert_int_equal(vg_line_adapter_process(a, 0, 6, buf, strlen(kdd_line), &ev), VG_ERR_PARSE);
    assert_non_null(strstr(vg_last_error(), "binary"));
    vg_line_adapter_free(a);

    /* The line limit. */
    vg_logfmt_options lo = vg_logfmt_options_default();
    lo.max_line_bytes = 64;
    assert_int_equal(vg_line_adapter_new("kdd", NULL, &lo, &a), VG_OK);
    assert_int_equal(vg_line_adapter_process(a, 0, 1, kdd_line, strlen(kdd_line), &ev), VG_ERR_LIMIT);
    vg_line_adapter_free(a);
    assert_int_equal(vg_line_adapter_new("nope", NULL, NULL, &a), VG_ERR_INVALID);
}

static void test_adapter_binary_anywhere(void **state)
{
    (void)state;
    /* The binary check reads eight bytes at a time: a control byte or DEL at
     * every position of a KDD line is refused as binary; TAB is not. */
    vg_logfmt_options o = vg_logfmt_options_default();
    vg_line_adapter *a;
    assert_int_equal(vg_line_adapter_new("kdd", NULL, &o, &a), VG_OK);
    vg_logfmt_event ev;
    size_t len = strlen(kdd_line);
    char line[sizeof kdd_line];
    assert_int_equal(vg_line_adapter_process(a, 0, 1, kdd_line, len, &ev), VG_OK);
    static const unsigned char bytes[] = { 0x00, 0x01, 0x1f, 0x7f };
    for (size_t b = 0; b < sizeof bytes; b++)
        for (size_t k = 0; k < len; k++) {
            memcpy(line, kdd_line, len);
            line[k] = (char)bytes[b];
            assert_int_equal(vg_line_adapter_process(a, 0, 1, line, len, &ev), VG_ERR_PARSE);
            assert_non_null(strstr(vg_last_error(), "binary"));
        }
    memcpy(line, kdd_line, len);
    line[len - 1] = '\t';   /* not binary (the record may still be refused, for another reason) */
    if (vg_line_adapter_process(a, 0, 1, line, len, &ev)) assert_null(strstr(vg_last_error(), "binary"));
    vg_line_adapter_free(a);
}

static void test_csv_adapter(void **state)
{
    (void)state;
    vg_line_adapter *a;
    assert_int_equal(vg_line_adapter_new("csv", "label", NULL, &a), VG_OK);
    assert_true(vg_line_adapter_needs_header(a));
    vg_logfmt_event ev;
    const char *h = "user,bytes,\"the \"\"city\"\"\",label";
    assert_int_equal(vg_line_adapter_process(a, 0, 1, h, strlen(h), &ev), VG_OK);
    assert_int_equal(ev.n_fields, 0);   /* the header is skipped */
    const char *l = "alice,12.5,\"Paris, FR\",bad";
    assert_int_equal(vg_line_adapter_process(a, 0, 2, l, strlen(l), &ev), VG_OK);
    assert_int_equal(ev.n_fields, 3);   /* the label is not a feature */
    assert_int_equal(field(&ev, "user")->kind, VG_FIELD_TEXT);
    assert_true(field(&ev, "bytes")->number == 12.5);
    const vg_field *c = field(&ev, "the \"city\"");
    assert_non_null(c);
    assert_int_equal(c->text_len, 9);
    assert_memory_equal(c->text, "Paris, FR", 9);
    assert_memory_equal(ev.label, "bad", 3);
    l = "bob,NA,,good";
    assert_int_equal(vg_line_adapter_process(a, 0, 3, l, strlen(l), &ev), VG_OK);
    assert_int_equal(field(&ev, "bytes")->kind, VG_FIELD_NULL);
    assert_int_equal(field(&ev, "the \"city\"")->kind, VG_FIELD_NULL);
    l = "bob,1,x";
    assert_int_equal(vg_line_adapter_process(a, 0, 4, l, strlen(l), &ev), VG_ERR_PARSE);
    assert_non_null(strstr(vg_last_error(), "3 fields, the header has 4"));
    l = "bob,1,\"open,x";
    assert_int_equal(vg_line_adapter_process(a, 0, 5, l, strlen(l), &ev), VG_ERR_PARSE);
    /* A second source has its own header; without one its lines are bad. */
    l = "1,2";
    assert_int_equal(vg_line_adapter_process(a, 1, 7, l, strlen(l), &ev), VG_ERR_PARSE);
    assert_int_equal(vg_line_adapter_process(a, 1, 1, "x,y", 3, &ev), VG_OK);
    assert_int_equal(vg_line_adapter_process(a, 1, 2, l, strlen(l), &ev), VG_OK);
    assert_true(field(&ev, "y")->number == 2);
    vg_line_adapter_free(a);
}

/* ---- the follower ------------------------------------------------------------ */

static char dir[128];

static const char *path_in(const char *name)
{
    static char p[4][256];
    static int slot;
    slot = (slot + 1) % 4;
    snprintf(p[slot], sizeof p[slot], "%s/%s", dir, name);
    return p[slot];
}

static void append(const char *path, const char *text)
{
    FILE *f = fopen(path, "a");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static void write_new(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

/* Collect what is available now as "src:line:text|" into out ("~" after a
 * cut line's text, "^" after a replayed one's). */
static void drain(vg_tail *t, char *out, size_t cap)
{
    out[0] = '\0';
    for (;;) {
        vg_tail_line ln;
        int got;
        assert_int_equal(vg_tail_next(t, &ln, &got), VG_OK);
        if (!got) return;
        size_t n = strlen(out);
        snprintf(out + n, cap - n, "%u:%llu:%.*s%s%s|", ln.source, (unsigned long long)ln.line_no, (int)ln.len,
                 ln.data, ln.truncated ? "~" : "", ln.replay ? "^" : "");
    }
}

static int setup_dir(void **state)
{
    (void)state;
    snprintf(dir, sizeof dir, "/tmp/vg_test_watch_%d", (int)getpid());
    char cmd[512];
    snprintf(cmd, sizeof cmd, "rm -rf %s && mkdir -p %s", dir, dir);
    return system(cmd);
}

static int teardown_dir(void **state)
{
    (void)state;
    char cmd[512];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    return system(cmd);
}

static void test_tail_append_partial(void **state)
{
    (void)state;
    const char *p = path_in("a.log");
    write_new(p, "old1\nold2\npart");
    vg_tail_params tp = vg_tail_params_default();
    vg_tail *t;
    const char *paths[] = { p };
    assert_int_equal(vg_tail_open(paths, 1, &tp, &t), VG_OK);
    char got[1024];
    drain(t, got, sizeof got);
    assert_string_equal(got, "");             /* existing lines are skipped; the partial one held */
    append(p, "ial\nnew2\nhalf");
    drain(t, got, sizeof got);
    assert_string_equal(got, "0:3:partial|0:4:new2|");   /* line numbers count the skipped lines */
    append(p, "-done\r\n");
    drain(t, got, sizeof got);
    assert_string_equal(got, "0:5:half-done|");          /* CR removed */
    vg_tail_close(t);

    tp.from_start = 1;
    assert_int_equal(vg_tail_open(paths, 1, &tp, &t), VG_OK);
    drain(t, got, sizeof got);
    assert_string_equal(got, "0:1:old1|0:2:old2|0:3:partial|0:4:new2|0:5:half-done|");
    vg_tail_close(t);
}

static void test_tail_rotation_truncation(void **state)
{
    (void)state;
    const char *p = path_in("r.log"), *old = path_in("r.log.1"), *late = path_in("late.log");
    write_new(p, "a1\n");
    vg_tail_params tp = vg_tail_params_default();
    tp.from_start = 1;
    vg_tail *t;
    const char *paths[] = { p, late };
    assert_int_equal(vg_tail_open(paths, 2, &tp, &t), VG_OK);
    char got[1024];
    drain(t, got, sizeof got);
    assert_string_equal(got, "0:1:a1|");
    /* Rotation: the writer's last lines land in the old file, then a new file. */
    append(p, "a2\na3-no-newline");
    assert_int_equal(rename(p, old), 0);
    write_new(p, "b1\nb2\n");
    drain(t, got, sizeof got);
    assert_string_equal(got, "0:2:a2|0:3:a3-no-newline|0:1:b1|0:2:b2|");
    assert_int_equal(vg_tail_rotations(t), 1);
    /* Truncation: size falls below what was read; read again from 0. */
    write_new(p, "c1\n");
    drain(t, got, sizeof got);
    assert_string_equal(got, "0:1:c1|");
    assert_int_equal(vg_tail_truncations(t), 1);
    /* A file that did not exist at start is picked up when it appears. */
    write_new(late, "l1\nl2\n");
    drain(t, got, sizeof got);
    assert_string_equal(got, "1:1:l1|1:2:l2|");
    assert_false(vg_tail_finished(t));
    vg_tail_close(t);
}

/* Resuming from saved positions: the same file is replayed up to the saved
 * line (and read on after it), a replaced or shorter file is read whole, an
 * input without a position behaves as without resume; the position follows
 * what was delivered. */
static void test_tail_resume(void **state)
{
    (void)state;
    const char *same = path_in("same.log"), *swapped = path_in("swapped.log"), *cut = path_in("cut.log"),
               *fresh = path_in("fresh.log");
    write_new(same, "s1\ns2\ns3\ns4\n");
    write_new(swapped, "w1\nw2\n");
    write_new(cut, "c1\nc2\nc3\n");
    write_new(fresh, "f1\n");
    const char *paths[] = { same, swapped, cut, fresh };
    vg_tail_params tp = vg_tail_params_default();
    tp.from_start = 1;
    vg_tail *t;
    assert_int_equal(vg_tail_open(paths, 4, &tp, &t), VG_OK);
    char got[1024];
    drain(t, got, sizeof got);
    vg_tail_position saved[4];
    for (uint32_t i = 0; i < 4; i++) saved[i] = vg_tail_get_position(t, i);
    assert_true(saved[0].known && saved[0].line_no == 4 && saved[0].offset == 12);
    vg_tail_close(t);
    /* What a watcher saved after two lines of same.log; then, while it is
     * stopped, same.log grows, swapped.log is replaced, cut.log shrinks. */
    saved[0].line_no = 2;
    saved[0].offset = 6;
    saved[3].known = 0;
    append(same, "s5\n");
    char old_name[300];
    snprintf(old_name, sizeof old_name, "%s.old", swapped);   /* not path_in: its four slots are in use */
    assert_int_equal(rename(swapped, old_name), 0);
    write_new(swapped, "x1\n");
    write_new(cut, "d1\n");
    tp.from_start = 0;
    tp.resume = saved;
    assert_int_equal(vg_tail_open(paths, 4, &tp, &t), VG_OK);
    drain(t, got, sizeof got);
    assert_string_equal(got, "0:1:s1^|0:2:s2^|0:3:s3|0:4:s4|0:5:s5|1:1:x1|2:1:d1|");  /* fresh.log: f1 was there */
    assert_int_equal(vg_tail_resume_outcome(t, 0), VG_TAIL_RESUMED);
    assert_int_equal(vg_tail_resume_outcome(t, 1), VG_TAIL_REPLACED);
    assert_int_equal(vg_tail_resume_outcome(t, 2), VG_TAIL_REPLACED);
    assert_int_equal(vg_tail_resume_outcome(t, 3), VG_TAIL_NEW);
    vg_tail_position now = vg_tail_get_position(t, 0);
    assert_true(now.known && now.line_no == 5 && now.offset == 15);
    append(same, "s6\npart");   /* a partial line is not delivered, so not in the position */
    drain(t, got, sizeof got);
    assert_string_equal(got, "0:6:s6|");
    now = vg_tail_get_position(t, 0);
    assert_true(now.line_no == 6 && now.offset == 18);
    vg_tail_close(t);
}

static void test_tail_long_lines_and_header(void **state)
{
    (void)state;
    const char *p = path_in("long.log");
    char big[300];
    memset(big, 'x', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    write_new(p, "head\nskip\n");
    vg_tail_params tp = vg_tail_params_default();
    tp.max_line_bytes = 100;
    tp.deliver_header = 1;
    vg_tail *t;
    const char *paths[] = { p };
    assert_int_equal(vg_tail_open(paths, 1, &tp, &t), VG_OK);
    char got[4096];
    drain(t, got, sizeof got);
    assert_string_equal(got, "0:1:head|");    /* line 1 delivered even when skipping */
    append(p, big);
    append(p, "\nok\n");
    drain(t, got, sizeof got);
    char want[512];
    snprintf(want, sizeof want, "0:3:%.100s~|0:4:ok|", big);
    assert_string_equal(got, want);
    /* A line far over the limit arriving in pieces: cut once, rest dropped. */
    for (int i = 0; i < 50; i++) append(p, big);
    append(p, "\nafter\n");
    drain(t, got, sizeof got);
    snprintf(want, sizeof want, "0:5:%.100s~|0:6:after|", big);
    assert_string_equal(got, want);
    vg_tail_close(t);
    /* no_follow: the file ends at its end, last line without newline included */
    const char *q = path_in("once.log");
    write_new(q, "x1\nx2-no-newline");
    vg_tail_params once = vg_tail_params_default();
    once.from_start = 1;
    once.no_follow = 1;
    const char *qp[] = { q };
    assert_int_equal(vg_tail_open(qp, 1, &once, &t), VG_OK);
    assert_false(vg_tail_finished(t));
    drain(t, got, sizeof got);
    assert_string_equal(got, "0:1:x1|0:2:x2-no-newline|");
    assert_true(vg_tail_finished(t));
    vg_tail_close(t);
    const char *twice[] = { "-", "-" };
    assert_int_equal(vg_tail_open(twice, 2, &tp, &t), VG_ERR_INVALID);
}

/* ---- the detector ------------------------------------------------------------ */

static vg_model *kdd_model(void)
{
    const char *train = vg_test_shared("nsl-kdd/KDDTrain+_20Percent.txt.gz");
    assert_true(vg_test_exists(train));
    vg_table *t;
    vg_data_spec spec = { .format = "kdd", .task = VG_TASK_BINARY };
    assert_int_equal(vg_data_read(train, &spec, &t), VG_OK);
    vg_train_request rq = { .table = t, .data = spec, .model = "tree", .seed = 1, .threads = 1 };
    vg_model *m;
    assert_int_equal(vg_model_train(&rq, &m), VG_OK);
    vg_table_free(t);
    return m;
}

static void test_detector(void **state)
{
    (void)state;
    vg_model *m = kdd_model();
    vg_watch_params p = vg_watch_params_default(m);
    p.explain = 1;
    p.max_raw_bytes = 20;
    vg_detector *d;
    assert_int_equal(vg_detector_new(m, "tree.vgm", &p, &d), VG_OK);
    assert_true(vg_detector_threshold(d) == 0.5);
    vg_alert a;
    int fired;
    assert_int_equal(vg_detector_line(d, "f.log", 0, 1, kdd_line, strlen(kdd_line), 0, NULL, &a, &fired), VG_OK);
    assert_true(fired);   /* a neptune SYN flood record */
    assert_string_equal(a.label, "attack");
    assert_true(a.score >= 0.5);
    assert_int_equal(a.raw_len, 20);
    assert_non_null(a.explanation_json);
    assert_non_null(strstr(a.explanation_json, "\"field\":"));
    assert_memory_equal(a.truth, "neptune", 7);
    /* Bad lines: counted, the first remembered, never an error. */
    assert_int_equal(vg_detector_line(d, "f.log", 0, 2, "garbage", 7, 0, NULL, &a, &fired), VG_OK);
    assert_false(fired);
    assert_int_equal(vg_detector_line(d, "g.log", 0, 3, kdd_line, 10, 1, NULL, &a, &fired), VG_OK);
    assert_int_equal(vg_detector_line(d, "f.log", 0, 4, "\x01\x02\xff", 3, 0, NULL, &a, &fired), VG_OK);
    const vg_watch_stats *s = vg_detector_stats(d);
    assert_int_equal(s->lines, 4);
    assert_int_equal(s->events, 1);
    assert_int_equal(s->bad, 3);
    assert_int_equal(s->alerts, 1);
    assert_int_equal(s->first_bad_line, 2);
    assert_string_equal(s->first_bad_source, "f.log");
    assert_non_null(strstr(s->first_bad_message, "fields"));
    vg_detector_free(d);
    /* Threshold above every score: nothing fires. */
    p.threshold = 1.5;
    assert_int_equal(vg_detector_new(m, "tree.vgm", &p, &d), VG_OK);
    assert_int_equal(vg_detector_line(d, "f.log", 0, 1, kdd_line, strlen(kdd_line), 0, NULL, &a, &fired), VG_OK);
    assert_false(fired);
    vg_detector_free(d);
    vg_model_free(m);
}

static void test_tail_wait_stdin(void **state)
{
    (void)state;
    /* Standard input is waited on, not slept on: the wait reports it
     * readable as soon as a line (or the end) is there. */
    int fds[2];
    assert_int_equal(pipe(fds), 0);
    int saved = dup(STDIN_FILENO);
    assert_true(saved >= 0);
    assert_int_equal(dup2(fds[0], STDIN_FILENO), STDIN_FILENO);
    close(fds[0]);
    const char *paths[] = { "-" };
    vg_tail *t;
    assert_int_equal(vg_tail_open(paths, 1, NULL, &t), VG_OK);
    vg_tail_line ln;
    int got, ready;
    assert_int_equal(vg_tail_next(t, &ln, &got), VG_OK);
    assert_false(got);
    assert_int_equal(vg_tail_wait(t, 1, &ready), VG_OK);   /* nothing written: the timeout */
    assert_false(ready);
    assert_int_equal(write(fds[1], "hello\n", 6), 6);
    assert_int_equal(vg_tail_wait(t, 60000, &ready), VG_OK);
    assert_true(ready);
    assert_int_equal(vg_tail_next(t, &ln, &got), VG_OK);
    assert_true(got);
    assert_int_equal(ln.len, 5);
    close(fds[1]);   /* the end is a reason to wake up too */
    assert_int_equal(vg_tail_wait(t, 60000, &ready), VG_OK);
    assert_true(ready);
    assert_int_equal(vg_tail_next(t, &ln, &got), VG_OK);
    assert_false(got);
    assert_true(vg_tail_finished(t));
    vg_tail_close(t);
    assert_int_equal(dup2(saved, STDIN_FILENO), STDIN_FILENO);
    close(saved);
}

/* ---- the batched detector ------------------------------------------------- */

typedef struct collected {
    vg_wbuf json;       /* every alert as a JSON line */
    double score[4096]; /* exact scores, in order */
    size_t n;
    vg_status fail_with;
} collected;

static vg_status collect(const vg_alert *a, void *user)
{
    collected *c = user;
    /* KDD lines carry no time: an alert has its arrival time, which differs
     * between two runs, so it is checked and left out of the comparison. */
    assert_true(a->time > 0);
    vg_alert same = *a;
    same.time = 0;
    vg_alert_json(&same, &c->json);
    vg_wbuf_u8(&c->json, '\n');
    if (c->n < 4096) c->score[c->n] = a->score;
    c->n++;
    return c->fail_with;
}

/* Lines of the NSL-KDD test set, with bad ones mixed in; NUL-separated. */
static char *kdd_test_lines(size_t n, size_t *count)
{
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "gzip -dc '%s' | head -n %zu", vg_test_shared("nsl-kdd/KDDTest+.txt.gz"), n);
    FILE *f = popen(cmd, "r");
    assert_non_null(f);
    char *text = NULL;
    size_t len = 0, cap = 0, k = 0;
    char line[4096];
    while (fgets(line, sizeof line, f)) {
        size_t l = strcspn(line, "\n");
        const char *add = k % 97 == 50 ? "not,a,kdd,line" : line;   /* bad lines here and there */
        size_t al = add == line ? l : strlen(add);
        if (len + al + 1 > cap) {
            cap = (len + al + 1) * 2;
            text = realloc(text, cap);
        }
        memcpy(text + len, add, al);
        text[len + al] = '\0';
        len += al + 1;
        k++;
    }
    pclose(f);
    *count = k;
    return text;
}

static void test_detector_batched(void **state)
{
    (void)state;
    /* gbdt (the batch kernels, native categories) and the KDD test set:
     * scoring in blocks gives exactly the alerts of line-at-a-time scoring,
     * with explanations, for block sizes that do and do not divide the input,
     * on the caller's thread or on a scoring thread. */
    const char *train = vg_test_shared("nsl-kdd/KDDTrain+_20Percent.txt.gz");
    vg_table *t;
    vg_data_spec spec = { .format = "kdd", .task = VG_TASK_BINARY };
    assert_int_equal(vg_data_read(train, &spec, &t), VG_OK);
    const char *params[] = { "n_estimators=40" };
    vg_train_request rq = { .table = t, .data = spec, .model = "gbdt", .params = params, .n_params = 1, .seed = 1,
                            .threads = 1 };
    vg_model *m;
    assert_int_equal(vg_model_train(&rq, &m), VG_OK);
    vg_table_free(t);
    size_t n_lines;
    char *lines = kdd_test_lines(3000, &n_lines);
    assert_int_equal(n_lines, 3000);
    static const size_t batches[] = { 1, 7, 256, 5000 };
    for (int run = 0; run < 4; run++) {
        int explain = run & 1, threads = 1 + (run >> 1);
        vg_watch_params p = vg_watch_params_default(m);
        p.explain = explain;
        p.threads = 1;
        vg_detector *ref;
        assert_int_equal(vg_detector_new(m, "g.vgm", &p, &ref), VG_OK);
        collected *want = calloc(1, sizeof *want);
        vg_wbuf_init(&want->json);
        const char *s = lines;
        for (size_t i = 0; i < n_lines; s += strlen(s) + 1, i++) {
            vg_alert a;
            int fired;
            assert_int_equal(vg_detector_line(ref, "t.log", 0, i + 1, s, strlen(s), i == 10, NULL, &a, &fired), VG_OK);
            if (fired) assert_int_equal(collect(&a, want), VG_OK);
        }
        const vg_watch_stats *ws = vg_detector_stats(ref);
        assert_true(want->n > 100 && ws->bad > 20);
        for (size_t b = 0; b < sizeof batches / sizeof *batches; b++) {
            p.batch_rows = batches[b];
            p.threads = threads;
            vg_detector *d;
            assert_int_equal(vg_detector_new(m, "g.vgm", &p, &d), VG_OK);
            collected *got = calloc(1, sizeof *got);
            vg_wbuf_init(&got->json);
            s = lines;
            for (size_t i = 0; i < n_lines; s += strlen(s) + 1, i++)
                assert_int_equal(vg_detector_push(d, "t.log", 0, i + 1, s, strlen(s), i == 10, collect, got), VG_OK);
            assert_int_equal(vg_detector_flush(d, collect, got), VG_OK);
            assert_int_equal(vg_detector_held(d), 0);
            assert_int_equal(got->n, want->n);
            assert_int_equal(got->json.len, want->json.len);
            assert_memory_equal(got->json.data, want->json.data, want->json.len);
            for (size_t k = 0; k < want->n && k < 4096; k++) assert_true(got->score[k] == want->score[k]);
            const vg_watch_stats *gs = vg_detector_stats(d);
            assert_int_equal(gs->lines, ws->lines);
            assert_int_equal(gs->events, ws->events);
            assert_int_equal(gs->alerts, ws->alerts);
            assert_int_equal(gs->bad, ws->bad);
            assert_int_equal(gs->first_bad_line, ws->first_bad_line);
            vg_wbuf_free(&got->json);
            free(got);
            vg_detector_free(d);
        }
        vg_wbuf_free(&want->json);
        free(want);
        vg_detector_free(ref);
    }
    free(lines);
    vg_model_free(m);
}

static void test_detector_held_until_flush(void **state)
{
    (void)state;
    /* Rows wait in the block until it is full or the caller flushes (the
     * follower flushes when input goes idle); an alert callback's failure
     * comes back from the flush. */
    vg_model *m = kdd_model();
    for (int threads = 1; threads <= 2; threads++) {
        vg_watch_params p = vg_watch_params_default(m);
        p.batch_rows = 3;
        p.threads = threads;
        vg_detector *d;
        assert_int_equal(vg_detector_new(m, "tree.vgm", &p, &d), VG_OK);
        collected *c = calloc(1, sizeof *c);
        vg_wbuf_init(&c->json);
        for (uint64_t i = 1; i <= 2; i++)
            assert_int_equal(vg_detector_push(d, "f.log", 0, i, kdd_line, strlen(kdd_line), 0, collect, c), VG_OK);
        assert_int_equal(vg_detector_held(d), 2);
        assert_int_equal(c->n, 0);
        assert_int_equal(vg_detector_stats(d)->events, 0);
        assert_int_equal(vg_detector_flush(d, collect, c), VG_OK);   /* idle: out now */
        assert_int_equal(vg_detector_held(d), 0);
        assert_int_equal(c->n, 2);
        assert_non_null(strstr((const char *)c->json.data, "\"line\":2,"));
        assert_int_equal(vg_detector_flush(d, collect, c), VG_OK);   /* nothing held: nothing again */
        assert_int_equal(c->n, 2);
        /* A full block is scored by the push that fills it (by the scoring
         * thread: the flush after it waits for that). */
        for (uint64_t i = 3; i <= 5; i++)
            assert_int_equal(vg_detector_push(d, "f.log", 0, i, kdd_line, strlen(kdd_line), 0, collect, c), VG_OK);
        if (threads == 1) {
            assert_int_equal(vg_detector_held(d), 0);
            assert_int_equal(c->n, 5);
        }
        assert_int_equal(vg_detector_flush(d, collect, c), VG_OK);
        assert_int_equal(c->n, 5);
        assert_int_equal(vg_detector_stats(d)->events, 5);
        c->fail_with = VG_ERR_IO;
        assert_int_equal(vg_detector_push(d, "f.log", 0, 6, kdd_line, strlen(kdd_line), 0, collect, c), VG_OK);
        assert_int_equal(vg_detector_flush(d, collect, c), VG_ERR_IO);
        assert_int_equal(vg_detector_held(d), 0);
        /* Freed with rows held: they are dropped, never delivered later. */
        c->fail_with = VG_OK;
        for (uint64_t i = 7; i <= 8; i++)
            assert_int_equal(vg_detector_push(d, "f.log", 0, i, kdd_line, strlen(kdd_line), 0, collect, c), VG_OK);
        vg_detector_free(d);
        vg_wbuf_free(&c->json);
        free(c);
    }
    vg_model_free(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_kdd_adapter),
        cmocka_unit_test(test_csv_adapter),
        cmocka_unit_test(test_adapter_binary_anywhere),
        cmocka_unit_test(test_tail_append_partial),
        cmocka_unit_test(test_tail_rotation_truncation),
        cmocka_unit_test(test_tail_resume),
        cmocka_unit_test(test_tail_long_lines_and_header),
        cmocka_unit_test(test_tail_wait_stdin),
        cmocka_unit_test(test_detector),
        cmocka_unit_test(test_detector_batched),
        cmocka_unit_test(test_detector_held_until_flush),
    };
    return cmocka_run_group_tests(tests, setup_dir, teardown_dir);
}
