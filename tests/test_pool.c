/* Tests of the persistent thread pool (src/core/pool.c): every task of every
 * loop runs exactly once, worker ids stay in range, thousands of short loops
 * in a row (the SVM solver's pattern) neither lose nor repeat a task, and the
 * degenerate pools (one thread, NULL, zero or one task) run inline. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdatomic.h>
#include <string.h>

#include "vigil/parallel.h"

typedef struct job {
    atomic_int *count;   /* per task: times run */
    int threads;
    atomic_int bad_worker;
} job;

static void task(void *ctx, size_t t, int worker)
{
    job *j = ctx;
    atomic_fetch_add(&j->count[t], 1);
    if (worker < 0 || worker >= j->threads) atomic_store(&j->bad_worker, 1);
}

static void run_loops(vg_pool *p, int threads, int loops, size_t max_tasks)
{
    static atomic_int count[512];
    for (int l = 0; l < loops; l++) {
        size_t n = (size_t)(l * 7919) % max_tasks;
        for (size_t t = 0; t < n; t++) atomic_init(&count[t], 0);
        job j = { count, threads, 0 };
        vg_pool_for(p, n, task, &j);
        for (size_t t = 0; t < n; t++)
            if (atomic_load(&count[t]) != 1) fail_msg("loop %d: task %zu ran %d times", l, t, atomic_load(&count[t]));
        assert_int_equal(atomic_load(&j.bad_worker), 0);
    }
}

static void test_pool_loops(void **state)
{
    (void)state;
    for (int threads = 1; threads <= 4; threads++) {
        vg_pool *p = NULL;
        assert_int_equal(vg_pool_new(threads, &p), VG_OK);
        assert_non_null(p);
        assert_true(vg_pool_threads(p) >= 1 && vg_pool_threads(p) <= threads);
        run_loops(p, vg_pool_threads(p), 3000, 512);
        vg_pool_free(p);
    }
    run_loops(NULL, 1, 10, 64);  /* no pool: inline */
    vg_pool_free(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pool_loops),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
