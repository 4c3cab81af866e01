/* Unit tests for the core layer: last error, allocator accounting, RNG
 * reproducibility, parallel_for coverage, binary buffers. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <pthread.h>
#include <stdatomic.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "vigil/buf.h"
#include "vigil/core.h"
#include "vigil/parallel.h"
#include "vigil/rng.h"

static void test_last_error(void **state)
{
    (void)state;
    vg_status s = vg_fail(VG_ERR_PARSE, "%s:%d: bad", "f.csv", 7);
    assert_int_equal(s, VG_ERR_PARSE);
    assert_string_equal(vg_last_error(), "f.csv:7: bad");
    vg_error_prefix("load: ");
    assert_string_equal(vg_last_error(), "load: f.csv:7: bad");
    assert_string_equal(vg_status_str(VG_ERR_FORMAT), "bad model file");
}

static void test_alloc_counts(void **state)
{
    (void)state;
    size_t before = vg_mem_in_use();
    char *p = vg_malloc(1000);
    assert_non_null(p);
    assert_int_equal(vg_mem_in_use(), before + 1000);
    p = vg_realloc(p, 5000);
    assert_int_equal(vg_mem_in_use(), before + 5000);
    assert_true(vg_mem_peak() >= before + 5000);
    vg_free(p);
    assert_int_equal(vg_mem_in_use(), before);
    vg_free(NULL);
}

static void test_rng(void **state)
{
    (void)state;
    vg_rng a, b, c;
    vg_rng_seed(&a, 42, 0);
    vg_rng_seed(&b, 42, 0);
    vg_rng_seed(&c, 42, 1);
    int differ = 0;
    for (int i = 0; i < 100; i++) {
        uint64_t x = vg_rng_next(&a), y = vg_rng_next(&b), z = vg_rng_next(&c);
        assert_true(x == y);
        differ += x != z;
    }
    assert_true(differ > 90);
    /* vg_rng_below is uniform enough: each of 10 buckets within 5% of 10k. */
    size_t hist[10] = { 0 };
    for (int i = 0; i < 100000; i++) hist[vg_rng_below(&a, 10)]++;
    for (int i = 0; i < 10; i++) assert_true(hist[i] > 9500 && hist[i] < 10500);
    double sum = 0;
    for (int i = 0; i < 10000; i++) {
        double u = vg_rng_uniform(&a);
        assert_true(u >= 0 && u < 1);
        sum += u;
    }
    assert_true(fabs(sum / 10000 - 0.5) < 0.02);
}

static void mark(void *ctx, size_t t, int worker)
{
    (void)worker;
    ((int *)ctx)[t] += 1;
}

static void test_parallel_for(void **state)
{
    (void)state;
    for (int threads = 1; threads <= 4; threads++) {
        int hits[1000] = { 0 };
        vg_parallel_for(threads, 1000, mark, hits);
        for (int i = 0; i < 1000; i++) assert_int_equal(hits[i], 1);
    }
    vg_parallel_for(2, 0, mark, NULL);
}

/* The pool: a task that runs a parallel loop of its own (nesting runs it on
 * the task's thread), two callers at once (one gets the pool, the other
 * runs alone), and worker ids always below the thread count asked for. */
typedef struct nest_ctx {
    atomic_int cells[64 * 64];
    atomic_int bad_worker;
    int threads;
} nest_ctx;

static nest_ctx nest;

static void inner(void *ctx, size_t t, int worker)
{
    int *row = ctx;
    if (worker >= nest.threads) atomic_store(&nest.bad_worker, 1);
    atomic_fetch_add(&nest.cells[(size_t)*row * 64 + t], 1);
}

static void outer(void *ctx, size_t t, int worker)
{
    (void)ctx;
    if (worker >= nest.threads) atomic_store(&nest.bad_worker, 1);
    int row = (int)t;
    vg_parallel_for(nest.threads, 64, inner, &row);
}

static void *second_caller(void *arg)
{
    int *hits = arg;
    for (int k = 0; k < 200; k++) vg_parallel_for(3, 100, mark, hits + 100 * (k % 2));
    return NULL;
}

static void test_parallel_pool(void **state)
{
    (void)state;
    for (int threads = 2; threads <= 4; threads++) {
        memset(&nest, 0, sizeof nest);
        nest.threads = threads;
        for (int round = 0; round < 20; round++) vg_parallel_for(threads, 64, outer, NULL);
        for (int i = 0; i < 64 * 64; i++) assert_int_equal(atomic_load(&nest.cells[i]), 20);
        assert_int_equal(atomic_load(&nest.bad_worker), 0);
    }
    int mine[1000] = { 0 }, theirs[200] = { 0 };
    pthread_t other;
    assert_int_equal(pthread_create(&other, NULL, second_caller, theirs), 0);
    for (int k = 0; k < 200; k++) vg_parallel_for(2, 1000, mark, mine);
    pthread_join(other, NULL);
    for (int i = 0; i < 1000; i++) assert_int_equal(mine[i], 200);
    for (int i = 0; i < 200; i++) assert_int_equal(theirs[i], 100);
}

static void test_buf_roundtrip_and_truncation(void **state)
{
    (void)state;
    vg_wbuf w;
    vg_wbuf_init(&w);
    vg_wbuf_u32(&w, 0xDEADBEEF);
    vg_wbuf_f64(&w, -1.5);
    vg_wbuf_str(&w, "hello");
    vg_wbuf_str(&w, NULL);
    float fs[3] = { 1, 2, 3 };
    vg_wbuf_u32(&w, 3);
    vg_wbuf_f32s(&w, fs, 3);
    assert_false(w.failed);

    vg_rbuf r;
    vg_rbuf_init(&r, w.data, w.len, "test");
    assert_int_equal(vg_rbuf_u32(&r), 0xDEADBEEF);
    assert_true(vg_rbuf_f64(&r) == -1.5);
    char *s = vg_rbuf_str(&r);
    assert_string_equal(s, "hello");
    vg_free(s);
    assert_null(vg_rbuf_str(&r));
    uint32_t n = vg_rbuf_u32(&r);
    float *back = vg_rbuf_f32s(&r, n);
    assert_non_null(back);
    assert_memory_equal(back, fs, sizeof fs);
    vg_free(back);
    assert_int_equal(vg_rbuf_check(&r), VG_OK);

    /* Every truncation fails cleanly; a huge count never allocates. */
    for (size_t len = 0; len < w.len; len++) {
        vg_rbuf_init(&r, w.data, len, "test");
        vg_rbuf_u32(&r);
        vg_rbuf_f64(&r);
        vg_free(vg_rbuf_str(&r));
        vg_free(vg_rbuf_str(&r));
        n = vg_rbuf_u32(&r);
        vg_free(vg_rbuf_f32s(&r, n));
        assert_int_equal(vg_rbuf_check(&r), VG_ERR_FORMAT);
    }
    vg_rbuf_init(&r, w.data, w.len, "test");
    assert_null(vg_rbuf_f32s(&r, (size_t)1 << 60));
    assert_int_equal(vg_rbuf_check(&r), VG_ERR_FORMAT);
    vg_wbuf_free(&w);
}

static void test_wbuf_printf(void **state)
{
    (void)state;
    vg_wbuf w;
    vg_wbuf_init(&w);
    vg_wbuf_printf(&w, "%s=%d;", "a", 1);
    char long_text[2000];
    memset(long_text, 'x', sizeof long_text - 1);
    long_text[sizeof long_text - 1] = '\0';
    vg_wbuf_printf(&w, "%s|", long_text);  /* longer than the stack line: written whole */
    assert_int_equal(w.len, 4 + 1999 + 1);
    assert_memory_equal(w.data, "a=1;x", 5);
    assert_int_equal(w.data[w.len - 1], '|');
    vg_wbuf_free(&w);
}

/* vg_find_control against a byte-by-byte scan: every control byte at every
 * offset of lines of every length up to 40 (so inside a word, in the tail,
 * first and last), with TAB, 0x7f and bytes >= 0x80 around it. */
static size_t control_slow(const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if ((c < 0x20 && c != '\t') || c == 0x7f) return i;
    }
    return len;
}

static void test_find_control(void **state)
{
    (void)state;
    char line[40] = { 0 };
    const unsigned char fill[] = { 'a', '\t', 0x80, 0xff, ' ', '~', 0x9f, 0xe2 };
    for (size_t len = 0; len <= sizeof line; len++) {
        for (size_t i = 0; i < len; i++) line[i] = (char)fill[(i * 7 + len) % sizeof fill];
        assert_int_equal(vg_find_control(line, len), len);  /* none: TAB and high bytes are not control */
        const unsigned char bad[] = { 0x00, 0x01, '\n', '\r', 0x1f, 0x7f };
        for (size_t at = 0; at < len; at++) {
            for (size_t b = 0; b < sizeof bad; b++) {
                char saved = line[at];
                line[at] = (char)bad[b];
                assert_int_equal(vg_find_control(line, len), at);
                assert_int_equal(control_slow(line, len), at);
                line[at] = saved;
            }
        }
    }
}

/* Scores as text: the shortest decimal that reads back as the same float,
 * for every float tried (so predict, serve and watch agree bit for bit). */
static void test_float_text(void **state)
{
    (void)state;
    char b[24];
    assert_int_equal(vg_float_text(0.5, b, sizeof b), 3);
    assert_string_equal(b, "0.5");
    vg_float_text(0.3f, b, sizeof b);
    assert_string_equal(b, "0.3");
    vg_float_text(1.0, b, sizeof b);
    assert_string_equal(b, "1");
    vg_float_text(NAN, b, sizeof b);
    assert_string_equal(b, "nan");
    vg_float_text(1.0 / 3.0, b, sizeof b);
    assert_true(strtof(b, NULL) == (float)(1.0 / 3.0));
    vg_rng r;
    vg_rng_seed(&r, 7, 0);
    for (int i = 0; i < 200000; i++) {
        uint32_t bits = (uint32_t)vg_rng_next(&r);
        float f;
        memcpy(&f, &bits, sizeof f);
        if (!isfinite(f)) continue;
        int n = vg_float_text(f, b, sizeof b);
        assert_true(n > 0 && (size_t)n < sizeof b);
        if (strtof(b, NULL) != f) fail_msg("%.9g printed as %s", (double)f, b);
        float p = (float)vg_rng_uniform(&r);   /* probabilities: at most 9 digits */
        vg_float_text(p, b, sizeof b);
        assert_true(strtof(b, NULL) == p);
    }
}

/* The model load limit: the default, the environment's value, and a value
 * that is not a whole number of MiB falling back to the default. */
static void test_load_limit(void **state)
{
    (void)state;
    const uint64_t mib = 1u << 20, dflt = (uint64_t)VG_MODEL_LOAD_MAX_MB_DEFAULT * mib;
    const char *junk[] = { "", "0", "-5", "12abc", "99999999999999999999999" };
    vg_rbuf r;
    unsetenv("VIGIL_MODEL_LOAD_MAX_MB");
    vg_rbuf_init(&r, "", 0, "limit");
    assert_true(vg_rbuf_require_alloc(&r, dflt, "weights"));
    assert_false(vg_rbuf_require_alloc(&r, dflt + 1, "weights"));
    assert_int_equal(vg_rbuf_check(&r), VG_ERR_FORMAT);
    assert_non_null(strstr(vg_last_error(), "limit: weights needs 1025 MiB, over the model load limit of 1024 MiB"));
    setenv("VIGIL_MODEL_LOAD_MAX_MB", "2", 1);
    vg_rbuf_init(&r, "", 0, "limit");
    assert_true(vg_rbuf_require_alloc(&r, 2 * mib, "weights"));
    assert_false(vg_rbuf_require_alloc(&r, 2 * mib + 1, "weights"));
    for (size_t i = 0; i < sizeof junk / sizeof *junk; i++) {
        setenv("VIGIL_MODEL_LOAD_MAX_MB", junk[i], 1);
        vg_rbuf_init(&r, "", 0, "limit");
        assert_true(vg_rbuf_require_alloc(&r, dflt, "weights"));
        assert_false(vg_rbuf_require_alloc(&r, dflt + 1, "weights"));
    }
    unsetenv("VIGIL_MODEL_LOAD_MAX_MB");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_float_text),
        cmocka_unit_test(test_last_error),
        cmocka_unit_test(test_alloc_counts),
        cmocka_unit_test(test_rng),
        cmocka_unit_test(test_parallel_for),
        cmocka_unit_test(test_parallel_pool),
        cmocka_unit_test(test_buf_roundtrip_and_truncation),
        cmocka_unit_test(test_load_limit),
        cmocka_unit_test(test_wbuf_printf),
        cmocka_unit_test(test_find_control),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
