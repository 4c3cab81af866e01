/* Unit tests for the KDD format: the real NSL-KDD and KDD'99 files (row
 * counts and label counts from their READMEs), the trailing dot, the attack
 * taxonomy against attack_categories.csv, errors with line numbers, and the
 * load time of KDDTrain+ (printed, not asserted). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "vigil/core.h"
#include "vigil/csv.h"
#include "vigil/kdd.h"
#include "vigil/table.h"
#include "testutil.h"

static size_t count_label(const vg_table *t, const char *label)
{
    long j = vg_table_find(t, VG_KDD_LABEL);
    assert_true(j >= 0);
    uint32_t code = vg_table_category_code(t, (size_t)j, label);
    if (code == VG_CODE_MISSING) return 0;
    const uint32_t *c = vg_table_codes(t, (size_t)j);
    size_t n = 0;
    for (size_t i = 0; i < vg_table_rows(t); i++) n += c[i] == code;
    return n;
}

static void test_feature_names(void **state)
{
    (void)state;
    const char *const *names = vg_kdd_feature_names();
    assert_string_equal(names[0], "duration");
    assert_string_equal(names[1], "protocol_type");
    assert_string_equal(names[19], "num_outbound_cmds");
    assert_string_equal(names[40], "dst_host_srv_rerror_rate");
    int n_cat = 0;
    for (size_t i = 0; i < VG_KDD_N_FEATURES; i++) n_cat += vg_kdd_feature_is_categorical(i);
    assert_int_equal(n_cat, 3);
    assert_true(vg_kdd_feature_is_categorical(1) && vg_kdd_feature_is_categorical(2) && vg_kdd_feature_is_categorical(3));

    /* The names agree with field_names.csv shipped with the data. */
    vg_table *t;
    vg_csv_options o = vg_csv_options_default();
    o.header = 0;
    assert_int_equal(vg_csv_read(vg_test_shared("nsl-kdd/field_names.csv"), &o, &t), VG_OK);
    assert_int_equal(vg_table_rows(t), VG_KDD_N_FEATURES);
    const uint32_t *c1 = vg_table_codes(t, 0), *c2 = vg_table_codes(t, 1);
    for (size_t i = 0; i < VG_KDD_N_FEATURES; i++) {
        assert_string_equal(vg_table_category(t, 0, c1[i]), names[i]);
        int symbolic = strcmp(vg_table_category(t, 1, c2[i]), "symbolic") == 0;
        /* land, logged_in, is_host_login and is_guest_login are 0/1 flags
         * the file calls symbolic; they stay numeric. */
        if (vg_kdd_feature_is_categorical(i)) assert_true(symbolic);
    }
    vg_table_free(t);
}

static void test_nsl_kdd_train(void **state)
{
    (void)state;
    const char *path = vg_test_shared("nsl-kdd/KDDTrain+.txt.gz");
    assert_true(vg_test_exists(path));
    vg_table *t;
    assert_int_equal(vg_kdd_read(path, &t), VG_OK);
    assert_int_equal(vg_table_rows(t), 125973);
    assert_int_equal(vg_table_cols(t), 43);
    assert_string_equal(vg_table_name(t, 41), "label");
    assert_string_equal(vg_table_name(t, 42), "difficulty");
    for (size_t j = 0; j < 43; j++) {
        int cat = j < VG_KDD_N_FEATURES ? vg_kdd_feature_is_categorical(j) : j == 41;
        assert_int_equal(vg_table_type(t, j), cat ? VG_COLUMN_CATEGORICAL : VG_COLUMN_NUMERIC);
    }
    assert_int_equal(count_label(t, "normal"), 67343);
    assert_int_equal(count_label(t, "neptune"), 41214);
    assert_int_equal(count_label(t, "spy"), 2);
    assert_int_equal(vg_table_n_categories(t, 41), 23);
    assert_int_equal(vg_table_n_categories(t, 1), 3);  /* tcp, udp, icmp */
    /* First row: 0,tcp,ftp_data,SF,491,0,...,0.17,0.03,0.17,0.00,0.00,0.00,0.05,0.00,normal,20 */
    assert_string_equal(vg_table_category(t, 2, vg_table_codes(t, 2)[0]), "ftp_data");
    assert_true(vg_table_numbers(t, 4)[0] == 491);
    assert_true(vg_table_numbers(t, 39)[0] == 0.05);
    assert_true(vg_table_numbers(t, 42)[0] == 20);
    assert_int_equal(vg_table_line(t, 125972), 125973);
    /* num_outbound_cmds is always 0 in KDDTrain+. */
    const double *out = vg_table_numbers(t, 19);
    for (size_t i = 0; i < vg_table_rows(t); i++) assert_true(out[i] == 0);

    /* Every label is in the taxonomy; the category counts match the README. */
    const char *cats[5] = {"normal", "DoS", "Probe", "R2L", "U2R"};
    const size_t want[5] = {67343, 45927, 11656, 995, 52};
    size_t got[5] = {0};
    const uint32_t *codes = vg_table_codes(t, 41);
    for (size_t i = 0; i < vg_table_rows(t); i++) {
        const char *c = vg_kdd_category(vg_table_category(t, 41, codes[i]));
        assert_non_null(c);
        for (int k = 0; k < 5; k++) got[k] += strcmp(c, cats[k]) == 0;
    }
    for (int k = 0; k < 5; k++) assert_int_equal(got[k], want[k]);
    vg_table_free(t);
}

static void test_kdd99_dots_stripped(void **state)
{
    (void)state;
    const char *path = vg_test_shared("kdd-cup-1999/kddcup.data_10_percent.gz");
    assert_true(vg_test_exists(path));
    vg_table *t;
    assert_int_equal(vg_kdd_read(path, &t), VG_OK);
    assert_int_equal(vg_table_rows(t), 494021);
    assert_int_equal(vg_table_cols(t), 42);
    assert_int_equal(vg_table_find(t, VG_KDD_DIFFICULTY), -1);
    assert_int_equal(count_label(t, "smurf"), 280790);
    assert_int_equal(count_label(t, "normal"), 97278);
    assert_int_equal(count_label(t, "smurf."), 0);
    for (uint32_t k = 0; k < vg_table_n_categories(t, 41); k++) {
        const char *s = vg_table_category(t, 41, k);
        assert_true(s[strlen(s) - 1] != '.');
        assert_non_null(vg_kdd_category(s));
    }
    assert_int_equal(vg_table_n_categories(t, 41), 23);
    vg_table_free(t);
}

static void test_taxonomy(void **state)
{
    (void)state;
    vg_table *t;
    vg_csv_options o = vg_csv_options_default();
    assert_int_equal(vg_csv_read(vg_test_shared("nsl-kdd/attack_categories.csv"), &o, &t), VG_OK);
    assert_int_equal(vg_table_rows(t), 40);
    assert_string_equal(vg_table_name(t, 0), "attack");
    const uint32_t *a = vg_table_codes(t, 0), *c = vg_table_codes(t, 1);
    for (size_t i = 0; i < 40; i++) {
        const char *attack = vg_table_category(t, 0, a[i]);
        const char *want = vg_table_category(t, 1, c[i]);
        const char *got = vg_kdd_category(attack);
        if (!got || strcmp(got, want) != 0) print_error("%s: %s != %s\n", attack, got ? got : "NULL", want);
        assert_non_null(got);
        assert_string_equal(got, want);
    }
    vg_table_free(t);
    assert_string_equal(vg_kdd_category("smurf."), "DoS");
    assert_null(vg_kdd_category("unknown_attack"));
    assert_null(vg_kdd_category("nor"));
    assert_null(vg_kdd_category(""));
    assert_null(vg_kdd_category(NULL));
}

static const char row41[] =
    "0,tcp,http,SF,181,5450,0,0,0,0,0,1,0,0,0,0,0,0,0,0,0,0,8,8,0.00,0.00,0.00,0.00,1.00,0.00,0.00,9,9,1.00,0.00,0.11,0.00,0.00,0.00,0.00,0.00";

static void test_errors(void **state)
{
    (void)state;
    char text[1024];
    vg_table *t = (vg_table *)&t;

    /* 40 or 44 fields on the first row: not a KDD file. */
    snprintf(text, sizeof text, "%s\n", strchr(row41, ',') + 1);
    assert_int_equal(vg_kdd_read_memory(text, strlen(text), "t.kdd", &t), VG_ERR_PARSE);
    assert_null(t);
    assert_non_null(strstr(vg_last_error(), "t.kdd:1: expected 41 fields"));
    assert_non_null(strstr(vg_last_error(), "found 40"));
    snprintf(text, sizeof text, "%s,normal,20,x\n", row41);
    assert_int_equal(vg_kdd_read_memory(text, strlen(text), "t.kdd", &t), VG_ERR_PARSE);
    assert_non_null(strstr(vg_last_error(), "found 44"));

    /* A short row later on. */
    snprintf(text, sizeof text, "%s,normal,20\n%s,neptune,21\n%s\n", row41, row41, row41);
    assert_int_equal(vg_kdd_read_memory(text, strlen(text), "t.kdd", &t), VG_ERR_PARSE);
    assert_string_equal(vg_last_error(), "t.kdd:3: expected 43 fields, found 41");

    /* Text in a numeric field. */
    char bad[512];
    snprintf(bad, sizeof bad, "%s", row41);
    memcpy(strstr(bad, "181"), "1x1", 3);
    snprintf(text, sizeof text, "%s,normal.\n%s,smurf.\n", row41, bad);
    assert_int_equal(vg_kdd_read_memory(text, strlen(text), "t.kdd", &t), VG_ERR_PARSE);
    assert_string_equal(vg_last_error(), "t.kdd:2: field 'src_bytes' (column 5): '1x1' is not a number");
    snprintf(text, sizeof text, "%s,normal,twenty\n", row41);
    assert_int_equal(vg_kdd_read_memory(text, strlen(text), "t.kdd", &t), VG_ERR_PARSE);
    assert_string_equal(vg_last_error(), "t.kdd:1: field 'difficulty' (column 43): 'twenty' is not a number");

    assert_int_equal(vg_kdd_read_memory("", 0, "t.kdd", &t), VG_ERR_PARSE);
    assert_string_equal(vg_last_error(), "t.kdd: no data rows");
    assert_int_equal(vg_kdd_read("/nonexistent.kdd", &t), VG_ERR_IO);
    assert_string_equal(vg_last_error(), "/nonexistent.kdd: No such file or directory");
    assert_null(t);
}

/* Records without a label (41 fields) are records to score: the features
 * only, no label column; 42 and 43 fields add label and difficulty. */
static void test_field_counts(void **state)
{
    (void)state;
    char text[2048];
    vg_table *t;
    snprintf(text, sizeof text, "%s\n\n%s\n", row41, row41);
    assert_int_equal(vg_kdd_read_memory(text, strlen(text), "t.kdd", &t), VG_OK);
    assert_int_equal(vg_table_rows(t), 2);
    assert_int_equal(vg_table_cols(t), VG_KDD_N_FEATURES);
    assert_true(vg_table_find(t, VG_KDD_LABEL) < 0);
    assert_string_equal(vg_table_name(t, 40), "dst_host_srv_rerror_rate");
    assert_int_equal(vg_table_line(t, 1), 3);
    vg_table_free(t);

    snprintf(text, sizeof text, "%s,smurf.\n", row41);
    assert_int_equal(vg_kdd_read_memory(text, strlen(text), "t.kdd", &t), VG_OK);
    assert_int_equal(vg_table_cols(t), 42);
    assert_string_equal(vg_table_category(t, 41, vg_table_codes(t, 41)[0]), "smurf");
    vg_table_free(t);

    snprintf(text, sizeof text, "%s,smurf,12\n", row41);
    assert_int_equal(vg_kdd_read_memory(text, strlen(text), "t.kdd", &t), VG_OK);
    assert_int_equal(vg_table_cols(t), 43);
    assert_string_equal(vg_table_name(t, 42), VG_KDD_DIFFICULTY);
    vg_table_free(t);

    /* Unlabelled then labelled in one file: the rows disagree, named. */
    snprintf(text, sizeof text, "%s\n%s,normal\n", row41, row41);
    assert_int_equal(vg_kdd_read_memory(text, strlen(text), "t.kdd", &t), VG_ERR_PARSE);
    assert_string_equal(vg_last_error(), "t.kdd:2: expected 41 fields, found 42");
}

static void test_small_and_gzip(void **state)
{
    (void)state;
    char text[2048];
    snprintf(text, sizeof text, "\n%s,normal.\n%s,smurf.\r\n%s,?\n", row41, row41, row41);
    vg_table *t;
    assert_int_equal(vg_kdd_read_memory(text, strlen(text), "t.kdd", &t), VG_OK);
    assert_int_equal(vg_table_rows(t), 3);
    assert_int_equal(vg_table_cols(t), 42);
    assert_string_equal(vg_table_category(t, 41, vg_table_codes(t, 41)[1]), "smurf");
    assert_int_equal(vg_table_codes(t, 41)[2], VG_CODE_MISSING);
    assert_int_equal(vg_table_line(t, 0), 2);

    /* The same bytes gzipped give the same table. */
    z_stream zs;
    memset(&zs, 0, sizeof zs);
    assert_int_equal(deflateInit2(&zs, 9, Z_DEFLATED, 31, 8, Z_DEFAULT_STRATEGY), Z_OK);
    unsigned char gz[4096];
    zs.next_in = (unsigned char *)text;
    zs.avail_in = (uInt)strlen(text);
    zs.next_out = gz;
    zs.avail_out = sizeof gz;
    assert_int_equal(deflate(&zs, Z_FINISH), Z_STREAM_END);
    vg_table *g;
    assert_int_equal(vg_kdd_read_memory(gz, zs.total_out, "t.kdd.gz", &g), VG_OK);
    deflateEnd(&zs);
    assert_int_equal(vg_table_rows(g), 3);
    assert_int_equal(vg_table_checksum(g), vg_table_checksum(t));
    for (size_t j = 0; j < 42; j++) {
        if (vg_table_type(t, j) == VG_COLUMN_NUMERIC)
            assert_memory_equal(vg_table_numbers(t, j), vg_table_numbers(g, j), 3 * sizeof(double));
        else
            assert_memory_equal(vg_table_codes(t, j), vg_table_codes(g, j), 3 * sizeof(uint32_t));
    }
    vg_table_free(g);
    vg_table_free(t);
}

/* The load-time target is 0.3 s for KDDTrain+; printed, best of 3. */
static void test_load_time(void **state)
{
    (void)state;
    const char *path = vg_test_shared("nsl-kdd/KDDTrain+.txt.gz");
    double best_read = 1e9, best_total = 1e9;
    for (int i = 0; i < 3; i++) {
        double t0 = vg_now();
        char *text;
        size_t len;
        assert_int_equal(vg_file_read_all(path, 0, &text, &len), VG_OK);
        double t1 = vg_now();
        vg_free(text);
        vg_table *t;
        double t2 = vg_now();
        assert_int_equal(vg_kdd_read(path, &t), VG_OK);
        double t3 = vg_now();
        vg_table_free(t);
        best_read = VG_MIN(best_read, t1 - t0);
        best_total = VG_MIN(best_total, t3 - t2);
    }
    print_message("KDDTrain+.txt.gz: read + gunzip %.3f s, parse %.3f s, vg_kdd_read %.3f s (best of 3)\n",
                  best_read, best_total - best_read, best_total);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_feature_names),
        cmocka_unit_test(test_nsl_kdd_train),
        cmocka_unit_test(test_kdd99_dots_stripped),
        cmocka_unit_test(test_taxonomy),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_field_counts),
        cmocka_unit_test(test_small_and_gzip),
        cmocka_unit_test(test_load_time),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
