/* Unit tests for the model bundle: training through the request API, the
 * parameter checks, save/load round trips that predict bit-identically, and
 * refusal of every truncated or corrupted model file and of a saved decision
 * (normal class, threshold) that does not fit the model. */
#define _GNU_SOURCE  /* memmem */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "testutil.h"
#include "vigil/evaluate.h"
#include "vigil/model.h"
#include "vigil/vgm.h"

static vg_table *golden(const char *name)
{
    vg_data_spec spec = { .format = "csv" };
    vg_table *t = NULL;
    assert_int_equal(vg_data_read(vg_test_source(name), &spec, &t), VG_OK);
    return t;
}

static vg_model *train(const vg_table *t, const char *family, vg_task task, const char *const *params, size_t n)
{
    vg_train_request rq = { .table = t, .data = { .format = "csv", .task = task }, .model = family,
                            .params = params, .n_params = n, .seed = 3, .threads = 2 };
    vg_model *m = NULL;
    vg_status st = vg_model_train(&rq, &m);
    if (st) print_error("train %s: %s\n", family, vg_last_error());
    assert_int_equal(st, VG_OK);
    return m;
}

static void roundtrip(const vg_model *m, const vg_table *t)
{
    const char *path = vg_test_tmpfile("", 0, ".vgm");
    assert_int_equal(vg_model_save(m, path), VG_OK);
    vg_model *back = NULL;
    assert_int_equal(vg_model_load(path, &back), VG_OK);
    float *p1, *p2;
    assert_int_equal(vg_model_predict(m, t, 1, &p1), VG_OK);
    assert_int_equal(vg_model_predict(back, t, 2, &p2), VG_OK);
    size_t n = vg_table_rows(t) * vg_model_classes(m)->n;
    assert_memory_equal(p1, p2, n * sizeof *p1);
    assert_string_equal(vg_model_family(back), vg_model_family(m));
    assert_int_equal(vg_model_task(back), vg_model_task(m));
    vg_free(p1), vg_free(p2);
    vg_model_free(back);
}

static void test_train_save_load_each_family(void **state)
{
    (void)state;
    vg_table *bin = golden("tests/golden/binary.csv"), *multi = golden("tests/golden/multiclass.csv");
    const char *forest_params[] = { "n_estimators=10" };
    const char *families[] = { "logreg", "tree", "forest" };
    for (int f = 0; f < 3; f++) {
        const char *const *params = f == 2 ? forest_params : NULL;
        vg_model *m = train(bin, families[f], VG_TASK_BINARY, params, f == 2);
        assert_int_equal(vg_model_classes(m)->n, 2);
        vg_evaluation e;
        assert_int_equal(vg_evaluate(m, bin, 2, &e), VG_OK);
        assert_true(e.metrics.accuracy > 0.9);  /* training rows, all three families fit them well */
        vg_evaluation_free(&e);
        roundtrip(m, bin);
        vg_model_free(m);

        m = train(multi, families[f], VG_TASK_LABEL, params, f == 2);
        assert_int_equal(vg_model_classes(m)->n, 3);
        roundtrip(m, multi);
        vg_model_free(m);
    }
    vg_table_free(bin);
    vg_table_free(multi);
}

static void test_request_checks(void **state)
{
    (void)state;
    vg_train_request rq = { .model = "nosuch" };
    assert_int_equal(vg_train_request_check(&rq), VG_ERR_INVALID);
    assert_non_null(strstr(vg_last_error(), "logreg"));  /* lists what exists */
    const char *bad[] = { "C=-1" };
    rq = (vg_train_request){ .model = "logreg", .params = bad, .n_params = 1 };
    assert_int_equal(vg_train_request_check(&rq), VG_ERR_INVALID);
    assert_non_null(strstr(vg_last_error(), "C"));
    const char *noeq[] = { "max_depth" };
    rq = (vg_train_request){ .model = "tree", .params = noeq, .n_params = 1 };
    assert_int_equal(vg_train_request_check(&rq), VG_ERR_INVALID);
    assert_non_null(strstr(vg_last_error(), "KEY=VALUE"));
    const char *cw[] = { "class_weight=balanced" };
    rq = (vg_train_request){ .model = "tree", .params = cw, .n_params = 1 };
    assert_int_equal(vg_train_request_check(&rq), VG_OK);
}

static void test_class_weight_changes_model(void **state)
{
    (void)state;
    vg_table *bin = golden("tests/golden/binary.csv");
    const char *plain[] = { "C=0.01" };
    const char *weighted[] = { "C=0.01", "class_weight=0:10" };
    vg_model *a = train(bin, "logreg", VG_TASK_BINARY, plain, 1);
    vg_model *b = train(bin, "logreg", VG_TASK_BINARY, weighted, 2);
    float *pa, *pb;
    assert_int_equal(vg_model_predict(a, bin, 1, &pa), VG_OK);
    assert_int_equal(vg_model_predict(b, bin, 1, &pb), VG_OK);
    /* Weighting class 0 up lowers the mean probability of class 1. */
    double ma = 0, mb = 0;
    for (size_t r = 0; r < vg_table_rows(bin); r++) ma += pa[2 * r + 1], mb += pb[2 * r + 1];
    assert_true(mb < ma);
    vg_free(pa), vg_free(pb);
    vg_model_free(a);
    vg_model_free(b);
    const char *unknown[] = { "class_weight=7:2" };
    vg_train_request rq = { .table = bin, .data = { .format = "csv" }, .model = "tree", .params = unknown, .n_params = 1 };
    vg_model *m = NULL;
    assert_int_equal(vg_model_train(&rq, &m), VG_ERR_INVALID);
    assert_non_null(strstr(vg_last_error(), "'7' is not a class"));
    vg_table_free(bin);
}

static void test_corrupt_model_files(void **state)
{
    (void)state;
    vg_table *bin = golden("tests/golden/binary.csv");
    const char *params[] = { "n_estimators=3", "max_depth=3" };
    vg_model *m = train(bin, "forest", VG_TASK_BINARY, params, 2);
    const char *path = vg_test_tmpfile("", 0, ".vgm");
    assert_int_equal(vg_model_save(m, path), VG_OK);
    vg_vgm_file f;
    assert_int_equal(vg_vgm_read(path, &f), VG_OK);
    size_t size = f.size;
    uint8_t *bytes = f.bytes;
    vg_model *back;
    for (size_t len = 0; len < size; len += 7) {
        assert_int_equal(vg_model_load_memory(bytes, len, "m.vgm", &back), VG_ERR_FORMAT);
        assert_null(back);
    }
    for (size_t i = 0; i < size; i += 3) {
        bytes[i] ^= 0x10;
        assert_int_equal(vg_model_load_memory(bytes, size, "m.vgm", &back), VG_ERR_FORMAT);
        bytes[i] ^= 0x10;
    }
    assert_int_equal(vg_model_load_memory(bytes, size, "m.vgm", &back), VG_OK);
    vg_model_free(back);
    vg_vgm_close(&f);
    vg_model_free(m);
    vg_table_free(bin);
}

/* The saved decision (the normal class, the operating point) is checked on
 * load like every other field: a normal class that is not a class, or a
 * threshold that is not finite, refuses the file with a message. */
static void patch_and_load(const vg_vgm_file *f, const char *key, const void *value, size_t value_len,
                           const char *expect)
{
    vg_vgm_section sec[VG_VGM_MAX_SECTIONS];
    memcpy(sec, f->sections, f->n_sections * sizeof *sec);
    const vg_vgm_section *meta = vg_vgm_find(f, "META");
    assert_non_null(meta);
    uint8_t *copy = vg_malloc(meta->size);
    memcpy(copy, meta->data, meta->size);
    /* key (the bytes of its name), then a type byte, then the value:
     * a string's u32 length first, an f64 as it is. */
    const uint8_t *at = memmem(copy, meta->size, key, strlen(key));
    assert_non_null(at);
    size_t off = (size_t)(at - copy) + strlen(key) + 1 + (copy[(at - copy) + strlen(key)] == 1 ? 4 : 0);
    memcpy(copy + off, value, value_len);
    for (size_t k = 0; k < f->n_sections; k++)
        if (memcmp(sec[k].tag, "META", 4) == 0) sec[k].data = copy;
    uint8_t *image;
    size_t size;
    assert_int_equal(vg_vgm_build(sec, f->n_sections, &image, &size), VG_OK);
    vg_model *back = NULL;
    assert_int_equal(vg_model_load_memory(image, size, "m.vgm", &back), VG_ERR_FORMAT);
    assert_null(back);
    if (!strstr(vg_last_error(), expect)) fail_msg("load said: %s", vg_last_error());
    vg_free(image);
    vg_free(copy);
}

static void test_saved_decision_checked(void **state)
{
    (void)state;
    vg_table *bin = golden("tests/golden/binary.csv");
    vg_train_request rq = { .table = bin, .data = { .format = "csv", .normal = "0" }, .model = "tree", .seed = 3,
                            .threshold_set = 1, .threshold = 0.7 };
    vg_model *m = NULL;
    assert_int_equal(vg_model_train(&rq, &m), VG_OK);
    const char *by = NULL;
    assert_true(vg_model_threshold(m, &by) == 0.7);
    assert_string_equal(by, "train --threshold");
    const char *path = vg_test_tmpfile("", 0, ".vgm");
    assert_int_equal(vg_model_save(m, path), VG_OK);
    vg_model *back = NULL;
    assert_int_equal(vg_model_load(path, &back), VG_OK);   /* round trip */
    assert_true(vg_model_threshold(back, NULL) == 0.7);
    assert_string_equal(vg_model_classes(back)->normal_value, "0");
    vg_model_free(back);
    vg_vgm_file f;
    assert_int_equal(vg_vgm_read(path, &f), VG_OK);
    patch_and_load(&f, "classes.normal_value", "x", 1, "the normal class 'x' is not one of the model's classes");
    double inf = INFINITY;
    patch_and_load(&f, "decision.threshold", &inf, sizeof inf, "the saved threshold is not a finite number");
    vg_vgm_close(&f);
    vg_model_free(m);
    vg_table_free(bin);
}

/* A second file is read with the first one's categorical columns kept
 * categorical, in its own text, even when it holds only numbers there. */
static void test_data_read_like(void **state)
{
    (void)state;
    static const char train[] = "port,x,label\n080,1,normal\nssh,2,attack\n22,3,attack\n";
    static const char test[] = "port,x,label\n080,1,normal\n22,3,attack\n";
    vg_data_spec spec = { .format = "csv" };
    vg_table *a = NULL, *b = NULL, *plain = NULL;
    assert_int_equal(vg_data_read(vg_test_tmpfile(train, sizeof train - 1, ".csv"), &spec, &a), VG_OK);
    const char *path = vg_test_tmpfile(test, sizeof test - 1, ".csv");
    assert_int_equal(vg_data_read(path, &spec, &plain), VG_OK);
    assert_int_equal(vg_table_type(plain, 0), VG_COLUMN_NUMERIC);  /* on its own: numbers */
    assert_int_equal(vg_data_read_like(path, &spec, a, &b), VG_OK);
    assert_int_equal(vg_table_type(b, 0), VG_COLUMN_CATEGORICAL);
    assert_string_equal(vg_table_category(b, 0, vg_table_codes(b, 0)[0]), "080");
    assert_int_equal(vg_table_type(b, 1), VG_COLUMN_NUMERIC);  /* x stays numeric */
    vg_table_free(a), vg_table_free(b), vg_table_free(plain);
}

/* A family that scores rows alone (predict_in_blocks: the isolation forest)
 * is given the table a block of rows at a time: the same floats as its
 * predict over the whole encoded matrix, for 1 and 2 threads. */
static void test_predict_in_blocks_same_scores(void **state)
{
    (void)state;
    vg_table *bin = golden("tests/golden/binary.csv");
    const char *params[] = { "n_estimators=20" };
    vg_model *m = train(bin, "iforest", VG_TASK_BINARY, params, 1);
    assert_true(vg_model_kind(m)->predict_in_blocks);
    vg_matrix X;
    assert_int_equal(vg_pipeline_transform(vg_model_pipeline(m), bin, &X), VG_OK);
    float *whole = vg_malloc(X.rows * sizeof *whole);
    vg_model_kind(m)->predict(vg_model_state(m), &X, 1, whole);
    for (int threads = 1; threads <= 2; threads++) {
        float *p;
        assert_int_equal(vg_model_predict(m, bin, threads, &p), VG_OK);
        assert_memory_equal(p, whole, X.rows * sizeof *p);
        vg_free(p);
    }
    vg_free(whole);
    vg_matrix_free(&X);
    vg_model_free(m);
    vg_table_free(bin);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_train_save_load_each_family),
        cmocka_unit_test(test_request_checks),
        cmocka_unit_test(test_class_weight_changes_model),
        cmocka_unit_test(test_corrupt_model_files),
        cmocka_unit_test(test_saved_decision_checked),
        cmocka_unit_test(test_data_read_like),
        cmocka_unit_test(test_predict_in_blocks_same_scores),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
