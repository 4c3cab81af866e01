/* Unit tests for the Redis Streams layer: address parsing and sharding, then
 * against a private redis-server (127.0.0.1, a free port, no persistence;
 * failing if the binary is missing): XADD pipelining, consumer groups,
 * pending re-reads, XAUTOCLAIM, every reply checked (malformed entries and
 * reply limits), a consumer that scores into the alert store before acking,
 * and a server that goes away and comes back. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "vigil/alerts.h"
#include "vigil/core.h"
#include "vigil/model.h"
#include "vigil/redis_stream.h"
#include "vigil/detector.h"
#include "testutil.h"

static int port;

static void nap(double s)
{
    struct timespec ts = { .tv_sec = (time_t)s, .tv_nsec = (long)((s - (double)(time_t)s) * 1e9) };
    nanosleep(&ts, NULL);
}

static void test_url_and_shard(void **state)
{
    (void)state;
    vg_redis_url u;
    assert_int_equal(vg_redis_url_parse("redis://127.0.0.1:7000/logs", &u), VG_OK);
    assert_string_equal(u.host, "127.0.0.1");
    assert_int_equal(u.port, 7000);
    assert_string_equal(u.stream, "logs");
    assert_int_equal(vg_redis_url_parse("redis://localhost/a.b:c-d_e", &u), VG_OK);
    assert_int_equal(u.port, 6379);
    assert_int_equal(vg_redis_url_parse("http://x/y", &u), VG_ERR_PARSE);
    assert_int_equal(vg_redis_url_parse("redis://x:99999/y", &u), VG_ERR_PARSE);
    assert_int_equal(vg_redis_url_parse("redis://x:1/", &u), VG_ERR_PARSE);
    assert_int_equal(vg_redis_url_parse("redis://x:1/a b", &u), VG_ERR_PARSE);
    char big[300];
    memset(big, 'a', sizeof big);
    memcpy(big, "redis://h/", 10);
    big[sizeof big - 1] = '\0';
    assert_int_equal(vg_redis_url_parse(big, &u), VG_ERR_PARSE);
    /* the same entity always lands on the same shard; both shards get used */
    int seen[2] = { 0, 0 };
    char e[16];
    for (int i = 0; i < 100; i++) {
        snprintf(e, sizeof e, "10.0.0.%d", i);
        uint32_t k = vg_redis_shard(e, strlen(e), 2);
        assert_true(k < 2);
        assert_int_equal(k, vg_redis_shard(e, strlen(e), 2));
        seen[k]++;
    }
    assert_true(seen[0] > 20 && seen[1] > 20);
    assert_int_equal(vg_redis_shard("", 0, 8), 0);
}

static void xadd_event(vg_redis *r, const char *stream, uint64_t no, const char *line)
{
    char n[24];
    snprintf(n, sizeof n, "%llu", (unsigned long long)no);
    const char *names[] = { "line", "source", "line_no", "entity" };
    const char *values[] = { line, "t.log", n, "e" };
    assert_int_equal(vg_redis_xadd_queue(r, stream, 0, names, values, NULL, 4), VG_OK);
}

static void test_groups_claims_limits(void **state)
{
    (void)state;
    vg_redis *r;
    assert_int_equal(vg_redis_connect("127.0.0.1", port, 2, NULL, &r), VG_OK);
    assert_int_equal(vg_redis_group_create(r, "s1", "g"), VG_OK);
    assert_int_equal(vg_redis_group_create(r, "s1", "g"), VG_OK);   /* exists: fine */
    for (uint64_t i = 1; i <= 10; i++) xadd_event(r, "s1", i, "hello");
    assert_int_equal(vg_redis_flush(r), VG_OK);
    uint64_t n;
    assert_int_equal(vg_redis_xlen(r, "s1", &n), VG_OK);
    assert_int_equal(n, 10);

    vg_redis_entries b = { 0 };
    assert_int_equal(vg_redis_read_group(r, "s1", "g", "c1", ">", 4, 100, &b), VG_OK);
    assert_int_equal(b.n, 4);
    assert_int_equal(b.items[0].line_no, 1);
    assert_int_equal(b.items[0].line_len, 5);
    assert_memory_equal(b.items[0].line, "hello", 5);
    assert_false(b.items[0].malformed);
    /* c1 "dies": its 4 stay pending; c2 claims them once idle */
    assert_int_equal(vg_redis_pending(r, "s1", "g", &n), VG_OK);
    assert_int_equal(n, 4);
    assert_int_equal(vg_redis_autoclaim(r, "s1", "g", "c2", 60000, "0-0", 100, &b), VG_OK);
    assert_int_equal(b.n, 0);   /* not idle long enough */
    nap(0.12);
    assert_int_equal(vg_redis_autoclaim(r, "s1", "g", "c2", 100, "0-0", 100, &b), VG_OK);
    assert_int_equal(b.n, 4);
    assert_string_equal(b.next_id, "0-0");
    const char *ids[4];
    for (int i = 0; i < 4; i++) ids[i] = b.items[i].id;
    assert_int_equal(vg_redis_ack(r, "s1", "g", ids, 4), VG_OK);
    assert_int_equal(vg_redis_pending(r, "s1", "g", &n), VG_OK);
    assert_int_equal(n, 0);
    /* own pending re-read with id 0 */
    assert_int_equal(vg_redis_read_group(r, "s1", "g", "c3", ">", 2, 0, &b), VG_OK);
    assert_int_equal(b.n, 2);
    assert_int_equal(vg_redis_read_group(r, "s1", "g", "c3", "0", 10, 0, &b), VG_OK);
    assert_int_equal(b.n, 2);
    assert_int_equal(b.items[0].line_no, 5);
    /* empty read with BLOCK times out with nothing */
    assert_int_equal(vg_redis_read_group(r, "s-empty", "g", "c3", ">", 10, 50, &b), VG_ERR_IO);  /* no group */
    assert_int_equal(vg_redis_group_create(r, "s-empty", "g"), VG_OK);
    assert_int_equal(vg_redis_read_group(r, "s-empty", "g", "c3", ">", 10, 50, &b), VG_OK);
    assert_int_equal(b.n, 0);

    /* Entries without our fields, or with a non-number line_no: malformed, not fatal. */
    const char *names[] = { "foo" }, *values[] = { "bar" };
    assert_int_equal(vg_redis_xadd_queue(r, "s2", 0, names, values, NULL, 1), VG_OK);
    const char *n2[] = { "line", "source", "line_no" }, *v2[] = { "x", "s", "12a" };
    assert_int_equal(vg_redis_xadd_queue(r, "s2", 0, n2, v2, NULL, 3), VG_OK);
    assert_int_equal(vg_redis_flush(r), VG_OK);
    assert_int_equal(vg_redis_group_create(r, "s2", "g"), VG_OK);
    assert_int_equal(vg_redis_read_group(r, "s2", "g", "c", ">", 10, 0, &b), VG_OK);
    assert_int_equal(b.n, 2);
    assert_true(b.items[0].malformed && b.items[1].malformed);
    vg_redis_entries_free(&b);
    vg_redis_free(r);

    /* Reply limits: too many entries in one reply, an oversize field. */
    vg_redis_limits lim = vg_redis_limits_default();
    lim.max_entries = 3;
    lim.max_field_bytes = 4;
    assert_int_equal(vg_redis_connect("127.0.0.1", port, 2, &lim, &r), VG_OK);
    assert_int_equal(vg_redis_group_create(r, "s1", "g2"), VG_OK);
    assert_int_equal(vg_redis_read_group(r, "s1", "g2", "c", ">", 2, 0, &b), VG_OK);
    assert_int_equal(b.n, 2);
    assert_true(b.items[0].malformed);   /* "hello" is over 4 bytes */
    assert_int_equal(vg_redis_autoclaim(r, "s1", "g2", "c9", 0, "0-0", 10, &b), VG_OK);   /* COUNT capped at 3 */
    assert_true(b.n <= 3);
    vg_redis_entries_free(&b);
    vg_redis_free(r);
}

static const char kdd_line[] =
    "0,tcp,private,REJ,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,229,10,0.00,0.00,1.00,1.00,0.04,0.06,0.00,255,10,0.04,"
    "0.06,0.00,0.00,0.00,0.00,1.00,1.00,neptune,21";

static void test_consumer(void **state)
{
    (void)state;
    const char *train = vg_test_shared("nsl-kdd/KDDTrain+_20Percent.txt.gz");
    assert_true(vg_test_exists(train));
    vg_table *t;
    vg_data_spec spec = { .format = "kdd", .task = VG_TASK_BINARY };
    assert_int_equal(vg_data_read(train, &spec, &t), VG_OK);
    vg_train_request rq = { .table = t, .data = spec, .model = "tree", .seed = 1, .threads = 1 };
    vg_model *m;
    assert_int_equal(vg_model_train(&rq, &m), VG_OK);
    vg_table_free(t);

    vg_redis *r;
    assert_int_equal(vg_redis_connect("127.0.0.1", port, 2, NULL, &r), VG_OK);
    for (uint64_t i = 1; i <= 30; i++) xadd_event(r, "k:0", i, kdd_line);
    const char *names[] = { "bogus" }, *values[] = { "1" };
    assert_int_equal(vg_redis_xadd_queue(r, "k:0", 0, names, values, NULL, 1), VG_OK);
    assert_int_equal(vg_redis_flush(r), VG_OK);

    char db[128];
    snprintf(db, sizeof db, "/tmp/vg_test_redis_%d.db", (int)getpid());
    unlink(db);
    vg_alert_store_params sp = vg_alert_store_params_default();
    sp.dedup = 1;
    vg_alert_store *s;
    assert_int_equal(vg_alert_store_open(db, &sp, &s), VG_OK);
    vg_watch_params wp = vg_watch_params_default(m);
    wp.threshold = 0;
    vg_detector *d;
    assert_int_equal(vg_detector_new(m, "tree", &wp, &d), VG_OK);
    vg_consumer_params cp = vg_consumer_params_default();
    cp.host = "127.0.0.1";
    cp.port = port;
    cp.stream = "k:0";
    cp.group = "g";
    cp.consumer = "c1";
    cp.count = 7;
    cp.block_ms = 50;
    cp.alerts_stream = "k:alerts";
    vg_consumer *c;
    assert_int_equal(vg_consumer_new(&cp, d, s, &c), VG_OK);
    for (int i = 0; i < 12; i++) assert_int_equal(vg_consumer_step(c, NULL, NULL), VG_OK);
    const vg_consumer_stats *cs = vg_consumer_stats_get(c);
    assert_int_equal(cs->acked, 31);
    assert_int_equal(cs->malformed, 1);
    uint64_t n;
    assert_int_equal(vg_alert_store_count(s, &n), VG_OK);
    assert_int_equal(n, 30);
    assert_int_equal(vg_redis_pending(r, "k:0", "g", &n), VG_OK);
    assert_int_equal(n, 0);
    assert_int_equal(vg_redis_xlen(r, "k:alerts", &n), VG_OK);
    assert_int_equal(n, 30);

    /* The same events delivered again (a takeover after a crash between the
     * commit and the ack): scored again, stored once. */
    for (uint64_t i = 1; i <= 5; i++) xadd_event(r, "k:0", i, kdd_line);
    assert_int_equal(vg_redis_flush(r), VG_OK);
    for (int i = 0; i < 3; i++) assert_int_equal(vg_consumer_step(c, NULL, NULL), VG_OK);
    assert_int_equal(vg_alert_store_count(s, &n), VG_OK);
    assert_int_equal(n, 30);

    /* The server goes away: steps keep returning OK (backing off), and
     * when it is back the consumer reconnects and carries on. */
    vg_test_redis_stop();
    vg_log_set_level(VG_LOG_ERROR);
    double t0 = vg_now();
    while (vg_now() - t0 < 0.5) assert_int_equal(vg_consumer_step(c, NULL, NULL), VG_OK);
    assert_int_equal(vg_test_redis_start(port), port);   /* fresh, empty server */
    vg_redis_free(r);
    assert_int_equal(vg_redis_connect("127.0.0.1", port, 2, NULL, &r), VG_OK);
    assert_int_equal(vg_redis_group_create(r, "k:0", "g"), VG_OK);
    xadd_event(r, "k:0", 100, kdd_line);
    assert_int_equal(vg_redis_flush(r), VG_OK);
    t0 = vg_now();
    while (vg_now() - t0 < 8 && vg_alert_store_added(s) < 31) assert_int_equal(vg_consumer_step(c, NULL, NULL), VG_OK);
    assert_int_equal(vg_alert_store_added(s), 31);
    vg_log_set_level(VG_LOG_WARN);

    vg_consumer_free(c);
    vg_detector_free(d);
    assert_int_equal(vg_alert_store_close(s), VG_OK);
    vg_redis_free(r);
    vg_model_free(m);
    unlink(db);
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
        cmocka_unit_test(test_url_and_shard),
        cmocka_unit_test(test_groups_claims_limits),
        cmocka_unit_test(test_consumer),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
