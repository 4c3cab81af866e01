/* Unit tests for the shipper against a private redis-server: batches land on
 * the shard of their entity, a lost server is retried and the unconfirmed
 * batch sent again once it is back, giving up after retry_for and at once on
 * the stop flag, and parameters are checked before any work. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "vigil/redis_stream.h"
#include "vigil/shipper.h"
#include "testutil.h"

static int port;

static vg_redis_url url_of(const char *stream)
{
    vg_redis_url u;
    char s[128];
    snprintf(s, sizeof s, "redis://127.0.0.1:%d/%s", port, stream);
    assert_int_equal(vg_redis_url_parse(s, &u), VG_OK);
    return u;
}

static uint64_t xlen(const char *stream)
{
    vg_redis *r;
    uint64_t n = 0;
    assert_int_equal(vg_redis_connect("127.0.0.1", port, 2, NULL, &r), VG_OK);
    assert_int_equal(vg_redis_xlen(r, stream, &n), VG_OK);
    vg_redis_free(r);
    return n;
}

static void add_lines(vg_shipper *s, uint64_t from, uint64_t n)
{
    for (uint64_t i = from; i < from + n; i++) {
        char line[64], ent[32];
        int len = snprintf(line, sizeof line, "event %llu", (unsigned long long)i);
        int el = snprintf(ent, sizeof ent, "10.0.0.%llu", (unsigned long long)(i % 7));
        assert_int_equal(vg_shipper_add(s, "app.log", i + 1, line, (size_t)len, ent, (size_t)el), VG_OK);
    }
}

static void test_batches_by_shard(void **state)
{
    (void)state;
    vg_redis_url u = url_of("batch");
    vg_shipper_params p = vg_shipper_params_default();
    p.shards = 2;
    p.batch = 100;
    vg_shipper *s;
    assert_int_equal(vg_shipper_new(&u, &p, &s), VG_OK);
    add_lines(s, 0, 250);
    /* two full batches went out as they filled; 50 lines wait for a flush */
    assert_int_equal(vg_shipper_pending(s), 50);
    assert_int_equal(vg_shipper_stats_get(s)->shipped, 200);
    assert_int_equal(vg_shipper_flush(s), VG_OK);
    assert_int_equal(vg_shipper_pending(s), 0);
    assert_int_equal(vg_shipper_stats_get(s)->shipped, 250);
    assert_int_equal(vg_shipper_stats_get(s)->resent, 0);
    /* every line once, each on its entity's shard */
    uint64_t want[2] = { 0, 0 };
    for (int i = 0; i < 250; i++) {
        char ent[32];
        int el = snprintf(ent, sizeof ent, "10.0.0.%d", i % 7);
        want[vg_redis_shard(ent, (size_t)el, 2)]++;
    }
    assert_int_equal(xlen("batch:0"), want[0]);
    assert_int_equal(xlen("batch:1"), want[1]);
    assert_true(want[0] > 0 && want[1] > 0);
    vg_shipper_free(s);
}

static void test_retry_and_give_up(void **state)
{
    (void)state;
    vg_redis_url u = url_of("retry");
    vg_shipper_params p = vg_shipper_params_default();
    p.retry_for = 0.5;
    vg_shipper *s;
    assert_int_equal(vg_shipper_new(&u, &p, &s), VG_OK);
    add_lines(s, 0, 10);
    assert_int_equal(vg_shipper_flush(s), VG_OK);
    vg_test_redis_stop();
    add_lines(s, 10, 10);
    assert_int_equal(vg_shipper_flush(s), VG_ERR_IO);   /* gave up after 0.5 s */
    assert_non_null(strstr(vg_last_error(), "gave up with 10 lines unconfirmed"));
    assert_int_equal(vg_shipper_pending(s), 10);   /* kept, not lost */
    volatile sig_atomic_t stop = 1;
    p.stop = &stop;
    vg_shipper *s2;
    assert_int_equal(vg_shipper_new(&u, &p, &s2), VG_OK);
    add_lines(s2, 0, 1);
    assert_int_equal(vg_shipper_flush(s2), VG_ERR_IO);
    assert_non_null(strstr(vg_last_error(), "stopped with 1 lines unconfirmed"));
    vg_shipper_free(s2);
    /* the server comes back (empty): the kept batch goes out */
    assert_int_equal(vg_test_redis_start(port), port);
    assert_int_equal(vg_shipper_flush(s), VG_OK);
    assert_int_equal(vg_shipper_stats_get(s)->shipped, 20);
    assert_int_equal(vg_shipper_stats_get(s)->resent, 1);
    assert_int_equal(xlen("retry:0"), 10);
    vg_shipper_free(s);
}

static void test_params(void **state)
{
    (void)state;
    vg_redis_url u = url_of("p");
    vg_shipper_params p = vg_shipper_params_default();
    vg_shipper *s = (vg_shipper *)&p;
    p.shards = 0;
    assert_int_equal(vg_shipper_new(&u, &p, &s), VG_ERR_INVALID);
    assert_null(s);
    p = vg_shipper_params_default();
    p.batch = 0;
    assert_int_equal(vg_shipper_new(&u, &p, &s), VG_ERR_INVALID);
    p = vg_shipper_params_default();
    p.retry_for = -1;
    assert_int_equal(vg_shipper_new(&u, &p, &s), VG_ERR_INVALID);
    vg_shipper_free(NULL);
}

static int setup(void **state)
{
    (void)state;
    port = vg_test_redis_start(0);
    return port > 0 ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    vg_test_redis_stop();
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_params),
        cmocka_unit_test(test_batches_by_shard),
        cmocka_unit_test(test_retry_and_give_up),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
