/* Unit tests for vg_logfmt_read's table building, through a toy format whose
 * events choose their own fields, so the cases the real formats rarely hit
 * are pinned down: a column first seen late, a field missing from some
 * events, a column that turns categorical after numbers (numbers become
 * their "%.17g" text, as the pipeline matches them at prediction), a field
 * repeated in one event (the last value wins), header lines, bad lines,
 * labels, the row -> source line map, and the limits on feature fields. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vigil/csv.h"
#include "vigil/logformat.h"
#include "vigil/table.h"
#include "testutil.h"

/* Toy format: a line is fields "name=value" separated by ';'. A value that
 * parses as a number is a number, "~" is null, anything else text; the field
 * "label" sets the event's label; a line "#" is a header (no fields); a line
 * starting with "!" is malformed. */
typedef struct toy {
    vg_field f[16];
    size_t n;
} toy;

static vg_status toy_new(const vg_logfmt_options *o, void **s)
{
    (void)o;
    *s = calloc(1, sizeof(toy));
    return *s ? VG_OK : VG_ERR_NOMEM;
}

static void toy_free(void *s)
{
    free(s);
}

static vg_status toy_process(void *state, const char *line, size_t len, vg_logfmt_event *ev)
{
    toy *s = state;
    memset(ev, 0, sizeof *ev);
    s->n = 0;
    if (len && line[0] == '!') return vg_fail(VG_ERR_PARSE, "field 1: malformed");
    if (len == 1 && line[0] == '#') return VG_OK;
    for (size_t i = 0; i < len && s->n < 16;) {
        size_t j = i;
        while (j < len && line[j] != ';') j++;
        const char *eq = memchr(line + i, '=', j - i);
        if (!eq) return vg_fail(VG_ERR_PARSE, "no '=' in field %zu", s->n + 1);
        vg_field *f = &s->f[s->n];
        f->name = line + i;
        f->name_len = (size_t)(eq - (line + i));
        const char *v = eq + 1;
        size_t vl = (size_t)(line + j - v);
        if (f->name_len == 5 && memcmp(f->name, "label", 5) == 0) {
            ev->label = v;
            ev->label_len = vl;
        } else {
            if (vl == 1 && v[0] == '~') f->kind = VG_FIELD_NULL;
            else if (vg_parse_number(v, vl, &f->number)) f->kind = VG_FIELD_NUMBER;
            else {
                f->kind = VG_FIELD_TEXT;
                f->text = v;
                f->text_len = vl;
            }
            s->n++;
        }
        i = j + 1;
    }
    ev->fields = s->f;
    ev->n_fields = s->n;
    return VG_OK;
}

static void toy_stats(const void *s, vg_logfmt_state_stats *out)
{
    (void)s;
    *out = (vg_logfmt_state_stats){ 0 };
}

static const vg_logfmt toy_format = { "toy", "test format", toy_new, toy_free, toy_process, toy_stats };

static vg_table *read_toy(const char *text, vg_logfmt_report *rep)
{
    const char *path = vg_test_tmpfile(text, strlen(text), ".log");
    vg_table *t = NULL;
    vg_status st = vg_logfmt_read(path, &toy_format, NULL, &t, rep);
    if (st) fail_msg("vg_logfmt_read: %s", vg_last_error());
    return t;
}

static size_t col(const vg_table *t, const char *name)
{
    long c = vg_table_find(t, name);
    if (c < 0) fail_msg("no column %s", name);
    return (size_t)c;
}

static const char *cat(const vg_table *t, const char *name, size_t row)
{
    size_t c = col(t, name);
    assert_int_equal(vg_table_type(t, c), VG_COLUMN_CATEGORICAL);
    uint32_t code = vg_table_codes(t, c)[row];
    return code == VG_CODE_MISSING ? NULL : vg_table_category(t, c, code);
}

static void test_columns_in_first_seen_order_with_missing_cells(void **unused)
{
    (void)unused;
    vg_logfmt_report rep;
    vg_table *t = read_toy("#\na=1;b=x\n\na=2\n!oops\nc=3;a=4;b=y\nb=x;a=~\n", &rep);
    assert_int_equal(rep.lines, 7);
    assert_int_equal(rep.events, 4);
    assert_int_equal(rep.bad, 1);
    assert_int_equal(rep.first_bad_line, 5);
    assert_int_equal(vg_table_rows(t), 4);
    assert_int_equal(vg_table_cols(t), 3);
    assert_string_equal(vg_table_name(t, 0), "a");
    assert_string_equal(vg_table_name(t, 1), "b");
    assert_string_equal(vg_table_name(t, 2), "c");
    const double *a = vg_table_numbers(t, 0);
    assert_non_null(a);
    assert_true(a[0] == 1 && a[1] == 2 && a[2] == 4 && isnan(a[3]));
    assert_string_equal(cat(t, "b", 0), "x");
    assert_null(cat(t, "b", 1));
    assert_string_equal(cat(t, "b", 2), "y");
    assert_string_equal(cat(t, "b", 3), "x");
    assert_int_equal(vg_table_n_categories(t, 1), 2);
    const double *c = vg_table_numbers(t, 2);
    assert_true(isnan(c[0]) && isnan(c[1]) && c[2] == 3 && isnan(c[3]));
    uint64_t lines[] = { 2, 4, 6, 7 };
    for (size_t r = 0; r < 4; r++) assert_int_equal(vg_table_line(t, r), lines[r]);
    vg_table_free(t);
}

/* Every refused line is counted and the first VG_LOGFMT_REPORT_LINES are named,
 * so a user can find them all, not only the first; rows keep their lines. */
static void test_bad_lines_named(void **unused)
{
    (void)unused;
    vg_logfmt_report rep;
    char buf[128];
    vg_table *t = read_toy("a=1\na=2\n!x\na=3\n!y\n!z\na=4\n", &rep);
    assert_int_equal(rep.bad, 3);
    assert_int_equal(rep.first_bad_line, 3);
    assert_int_equal(rep.bad_lines[0], 3);
    assert_int_equal(rep.bad_lines[1], 5);
    assert_int_equal(rep.bad_lines[2], 6);
    vg_logfmt_report_lines(&rep, buf, sizeof buf);
    assert_string_equal(buf, "3, 5, 6");
    assert_int_equal(vg_table_line(t, 2), 4);
    assert_int_equal(vg_table_line(t, 3), 7);
    vg_table_free(t);

    /* Past the named ones: how many more. */
    char text[256] = "a=1\n";
    for (int i = 0; i < VG_LOGFMT_REPORT_LINES + 3; i++) strcat(text, "!bad\n");
    t = read_toy(text, &rep);
    assert_int_equal(rep.bad, VG_LOGFMT_REPORT_LINES + 3);
    assert_int_equal(rep.bad_lines[VG_LOGFMT_REPORT_LINES - 1], VG_LOGFMT_REPORT_LINES + 1);
    vg_logfmt_report_lines(&rep, buf, sizeof buf);
    assert_string_equal(buf, "2, 3, 4, 5, 6, 7, 8, 9, 10, 11, ... and 3 more");
    vg_table_free(t);

    /* A short buffer is cut, never overrun; no bad line gives "". */
    vg_logfmt_report_lines(&rep, buf, 8);
    assert_string_equal(buf, "2, 3, 4");
    vg_logfmt_report_lines(&rep, buf, 22);
    assert_string_equal(buf, "2, 3, 4, 5, 6, 7, 8");
    rep.bad = 0;
    vg_logfmt_report_lines(&rep, buf, sizeof buf);
    assert_string_equal(buf, "");
}

/* A labels file marks the lines it lists; one that matches no event (another
 * file's, or a truth file's "LINE,KIND" lines read as ids) is refused, and
 * line numbers past the log's end are counted. */
static void test_labels_file_must_match(void **unused)
{
    (void)unused;
    const char *log = vg_test_tmpfile("a=1\na=2\n!x\na=3\n", strlen("a=1\na=2\n!x\na=3\n"), ".log");
    vg_logfmt_options o = vg_logfmt_options_default();
    vg_logfmt_report rep;
    vg_table *t = NULL;
    o.labels_path = vg_test_tmpfile("2\n4\n9\n", strlen("2\n4\n9\n"), ".txt");
    assert_int_equal(vg_logfmt_read(log, &toy_format, &o, &t, &rep), VG_OK);
    assert_int_equal(rep.labels_past_end, 1);
    assert_string_equal(cat(t, "label", 0), "normal");
    assert_string_equal(cat(t, "label", 1), "attack");
    assert_string_equal(cat(t, "label", 2), "attack");
    vg_table_free(t);

    o.labels_path = vg_test_tmpfile("2,sqli\n4,xss\n", strlen("2,sqli\n4,xss\n"), ".csv");
    assert_int_equal(vg_logfmt_read(log, &toy_format, &o, &t, &rep), VG_ERR_INVALID);
    assert_null(t);
    assert_non_null(strstr(vg_last_error(), "matches no event (0 line numbers, 2 ids such as '2,sqli')"));
    o.labels_path = vg_test_tmpfile("3\n7\n", strlen("3\n7\n"), ".txt");  /* a bad line and one past the end */
    assert_int_equal(vg_logfmt_read(log, &toy_format, &o, &t, &rep), VG_ERR_INVALID);
    assert_non_null(strstr(vg_last_error(), "(2 line numbers, 0 ids)"));

    /* An empty labels file: a log with no attack, every event normal. */
    o.labels_path = vg_test_tmpfile("# none\n", strlen("# none\n"), ".txt");
    assert_int_equal(vg_logfmt_read(log, &toy_format, &o, &t, &rep), VG_OK);
    assert_string_equal(cat(t, "label", 0), "normal");
    assert_string_equal(cat(t, "label", 2), "normal");
    vg_table_free(t);
}

static void test_numbers_then_text_make_a_categorical_column(void **unused)
{
    (void)unused;
    vg_logfmt_report rep;
    /* Codes follow first appearance over the rows, numbers included. */
    vg_table *t = read_toy("v=0.1\nv=~\nv=7\nv=abc\nv=0.1\nw=1\n", &rep);
    assert_int_equal(vg_table_rows(t), 6);
    assert_string_equal(cat(t, "v", 0), "0.10000000000000001");
    assert_null(cat(t, "v", 1));
    assert_string_equal(cat(t, "v", 2), "7");
    assert_string_equal(cat(t, "v", 3), "abc");
    assert_string_equal(cat(t, "v", 4), "0.10000000000000001");
    assert_null(cat(t, "v", 5));
    assert_int_equal(vg_table_n_categories(t, col(t, "v")), 3);
    assert_int_equal(vg_table_codes(t, col(t, "v"))[3], 2);
    vg_table_free(t);
}

static void test_repeated_field_last_value_wins(void **unused)
{
    (void)unused;
    vg_logfmt_report rep;
    vg_table *t = read_toy("a=1;a=2\na=3\n", &rep);
    assert_int_equal(vg_table_rows(t), 2);
    assert_int_equal(vg_table_cols(t), 1);
    assert_true(vg_table_numbers(t, 0)[0] == 2 && vg_table_numbers(t, 0)[1] == 3);
    vg_table_free(t);
    /* A text value the event then overrode still made the column categorical. */
    t = read_toy("a=x;a=2\na=3\n", &rep);
    assert_string_equal(cat(t, "a", 0), "2");
    assert_string_equal(cat(t, "a", 1), "3");
    vg_table_free(t);
}

static void test_label_column_added_when_first_seen(void **unused)
{
    (void)unused;
    vg_logfmt_report rep;
    vg_table *t = read_toy("a=1\na=2;label=bad\nb=5;a=3;label=ok\n", &rep);
    assert_int_equal(vg_table_cols(t), 3);
    assert_string_equal(vg_table_name(t, 1), "label");
    assert_string_equal(vg_table_name(t, 2), "b");
    assert_null(cat(t, "label", 0));
    assert_string_equal(cat(t, "label", 1), "bad");
    assert_string_equal(cat(t, "label", 2), "ok");
    vg_table_free(t);
}

static void test_no_events_is_an_error_naming_the_file(void **unused)
{
    (void)unused;
    const char *path = vg_test_tmpfile("!x\n!y\n", 6, ".log");
    vg_table *t = NULL;
    vg_logfmt_report rep;
    assert_int_equal(vg_logfmt_read(path, &toy_format, NULL, &t, &rep), VG_ERR_PARSE);
    assert_null(t);
    assert_non_null(strstr(vg_last_error(), path));
    assert_non_null(strstr(vg_last_error(), ":1:"));
    assert_int_equal(rep.bad, 2);
    path = vg_test_tmpfile("#\n", 2, ".log");
    assert_int_equal(vg_logfmt_read(path, &toy_format, NULL, &t, &rep), VG_ERR_PARSE);
    assert_non_null(strstr(vg_last_error(), "no toy events"));
}

static void test_field_limits_are_errors_naming_file_and_line(void **unused)
{
    (void)unused;
    /* One new field name per line: line 4097 brings column 4097. */
    size_t cap = 4200 * 16, n = 0;
    char *text = malloc(cap);
    assert_non_null(text);
    for (int i = 0; i < 4200; i++) n += (size_t)snprintf(text + n, cap - n, "f%d=1\n", i);
    const char *path = vg_test_tmpfile(text, n, ".log");
    free(text);
    vg_table *t = NULL;
    vg_logfmt_report rep;
    assert_int_equal(vg_logfmt_read(path, &toy_format, NULL, &t, &rep), VG_ERR_LIMIT);
    assert_null(t);
    assert_non_null(strstr(vg_last_error(), ":4097: field 'f4096': more than 4096 feature fields"));
    static const char nul_name[] = "a=1\na\0c=2\n";  /* "a" then a NUL: not column a, and no overread */
    path = vg_test_tmpfile(nul_name, sizeof nul_name - 1, ".log");
    assert_int_equal(vg_logfmt_read(path, &toy_format, NULL, &t, &rep), VG_ERR_PARSE);
    assert_non_null(strstr(vg_last_error(), ":2: feature field name contains a NUL byte"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_columns_in_first_seen_order_with_missing_cells),
        cmocka_unit_test(test_bad_lines_named),
        cmocka_unit_test(test_labels_file_must_match),
        cmocka_unit_test(test_numbers_then_text_make_a_categorical_column),
        cmocka_unit_test(test_repeated_field_last_value_wins),
        cmocka_unit_test(test_label_column_added_when_first_seen),
        cmocka_unit_test(test_no_events_is_an_error_naming_the_file),
        cmocka_unit_test(test_field_limits_are_errors_naming_file_and_line),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
