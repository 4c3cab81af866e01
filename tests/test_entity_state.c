/* Unit tests for the bounded per-entity store: LRU eviction order, the event
 * time TTL (lazy and incremental), the distinct-value sets (exact for the
 * first values, estimated after), key limits, memory that stays flat
 * over a million distinct keys, and the TTL and the count bound together. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "features/entity_state.h"
#include "vigil/core.h"

static vg_entity_store *store(size_t max, double ttl, unsigned n_sets)
{
    vg_entity_params p = vg_entity_params_default();
    p.value_size = sizeof(uint64_t);
    p.max_entities = max;
    p.ttl = ttl;
    p.n_sets = n_sets;
    vg_entity_store *s = NULL;
    assert_int_equal(vg_entity_store_new(&p, &s), VG_OK);
    return s;
}

static vg_entity *get(vg_entity_store *s, const char *key, double t, int *created)
{
    vg_entity *e = NULL;
    int c;
    assert_int_equal(vg_entity_get(s, key, strlen(key), t, &e, &c), VG_OK);
    assert_non_null(e);
    if (created) *created = c;
    return e;
}

static int present(const vg_entity_store *s, const char *key, double t)
{
    return vg_entity_find(s, key, strlen(key), t) != NULL;
}

static void test_eviction_order(void **unused)
{
    (void)unused;
    vg_entity_store *s = store(3, 0, 0);
    int created;
    get(s, "a", 1, &created);
    assert_int_equal(created, 1);
    *(uint64_t *)vg_entity_value(s, get(s, "b", 2, NULL)) = 42;
    get(s, "c", 3, NULL);
    get(s, "a", 4, &created);  /* a is now the most recently seen; b the least */
    assert_int_equal(created, 0);
    get(s, "d", 5, NULL);
    assert_false(present(s, "b", 5));
    assert_true(present(s, "a", 5) && present(s, "c", 5) && present(s, "d", 5));
    assert_int_equal(vg_entity_store_count(s), 3);
    assert_int_equal(vg_entity_store_evicted(s), 1);
    get(s, "e", 6, NULL);  /* c is next */
    assert_false(present(s, "c", 6));
    /* b comes back as new: its value was dropped with it. */
    vg_entity *b = get(s, "b", 7, &created);
    assert_int_equal(created, 1);
    assert_int_equal(*(uint64_t *)vg_entity_value(s, b), 0);
    assert_false(present(s, "a", 7));
    vg_entity_store_free(s);
}

static void test_ttl(void **unused)
{
    (void)unused;
    vg_entity_store *s = store(100, 10, 0);
    int created;
    *(uint64_t *)vg_entity_value(s, get(s, "a", 0, NULL)) = 7;
    get(s, "b", 5, NULL);
    vg_entity *a = get(s, "a", 9, &created);
    assert_int_equal(created, 0);
    assert_true(vg_entity_prev_seen(a) == 0.0);
    assert_int_equal(*(uint64_t *)vg_entity_value(s, a), 7);
    /* At 16 b (last seen 5) is idle 11 s: the next get drops it from the tail. */
    assert_false(present(s, "b", 16));
    assert_true(present(s, "a", 16));
    get(s, "c", 16, NULL);
    assert_int_equal(vg_entity_store_count(s), 2);
    assert_int_equal(vg_entity_store_expired(s), 1);
    /* Lazy: a (last seen 9) read at 18.5 is still alive, at 30 it starts over. */
    a = get(s, "a", 18.5, &created);
    assert_int_equal(created, 0);
    assert_true(vg_entity_prev_seen(a) == 9.0);
    a = get(s, "a", 30, &created);
    assert_int_equal(created, 1);
    assert_int_equal(*(uint64_t *)vg_entity_value(s, a), 0);
    vg_entity_store_free(s);
}

static uint64_t h(const char *v)
{
    return vg_hash(v, strlen(v), 0);
}

static void test_sets(void **unused)
{
    (void)unused;
    vg_entity_store *s = store(10, 0, 2);
    vg_entity *e = get(s, "u", 1, NULL);
    char v[32];
    for (int i = 0; i < 8; i++) {
        snprintf(v, sizeof v, "dev%d", i);
        assert_false(vg_entity_set_has(s, e, 0, h(v)));
        assert_int_equal(vg_entity_set_add(s, e, 0, h(v)), 1);
        assert_int_equal(vg_entity_set_add(s, e, 0, h(v)), 0);
        assert_int_equal(vg_entity_set_count(s, e, 0), (uint32_t)i + 1);
    }
    assert_int_equal(vg_entity_set_count(s, e, 1), 0);  /* sets are independent */
    for (int i = 0; i < 8; i++) {
        snprintf(v, sizeof v, "dev%d", i);
        assert_true(vg_entity_set_has(s, e, 0, h(v)));
    }
    /* Past the exact part: estimates, never below what is proven. */
    for (int i = 8; i < 100; i++) {
        snprintf(v, sizeof v, "dev%d", i);
        vg_entity_set_add(s, e, 0, h(v));
    }
    uint32_t c = vg_entity_set_count(s, e, 0);
    print_message("100 distinct values estimated as %u\n", c);
    assert_true(c >= 70 && c <= 140);
    for (int i = 100; i < 5000; i++) {
        snprintf(v, sizeof v, "dev%d", i);
        vg_entity_set_add(s, e, 0, h(v));
    }
    assert_int_equal(vg_entity_set_count(s, e, 0), VG_ENTITY_SET_MAX_COUNT);
    vg_entity_store_free(s);
}

static void test_limits(void **unused)
{
    (void)unused;
    vg_entity_params p = vg_entity_params_default();
    p.key_cap = 8;
    vg_entity_store *s = NULL;
    assert_int_equal(vg_entity_store_new(&p, &s), VG_OK);
    vg_entity *e;
    int c;
    assert_int_equal(vg_entity_get(s, "123456789", 9, 0, &e, &c), VG_ERR_LIMIT);
    assert_int_equal(vg_entity_get(s, "", 0, 0, &e, &c), VG_ERR_INVALID);
    assert_int_equal(vg_entity_get(s, "12345678", 8, 0, &e, &c), VG_OK);
    /* Keys are compared by bytes, so a shared prefix is another entity. */
    assert_int_equal(vg_entity_get(s, "1234567", 7, 0, &e, &c), VG_OK);
    assert_int_equal(c, 1);
    vg_entity_store_free(s);
    p = vg_entity_params_default();
    p.max_entities = 0;
    assert_int_equal(vg_entity_store_new(&p, &s), VG_ERR_INVALID);
    p = vg_entity_params_default();
    p.n_sets = VG_ENTITY_MAX_SETS + 1;
    assert_non_null(vg_entity_params_check(&p));
    p = vg_entity_params_default();
    p.ttl = NAN;
    assert_non_null(vg_entity_params_check(&p));
}

/* A million distinct keys through a store of 1000: bytes stop growing once
 * the bound is reached, and the library's counted memory with them. */
static void test_memory_flat(void **unused)
{
    (void)unused;
    size_t base = vg_mem_in_use();
    vg_entity_store *s = store(1000, 3600, 5);
    char key[32];
    size_t bytes_at_10k = 0, mem_at_10k = 0;
    for (int i = 0; i < 1000000; i++) {
        int n = snprintf(key, sizeof key, "user-%d", i);
        vg_entity *e;
        int c;
        assert_int_equal(vg_entity_get(s, key, (size_t)n, i * 0.001, &e, &c), VG_OK);
        vg_entity_set_add(s, e, i % 5, (uint64_t)i * 0x9E3779B97F4A7C15ull);
        if (i == 9999) {
            bytes_at_10k = vg_entity_store_bytes(s);
            mem_at_10k = vg_mem_in_use() - base;
        }
    }
    print_message("store bytes %zu at 10k keys, %zu at 1M keys; counted memory %zu, %zu\n", bytes_at_10k,
                  vg_entity_store_bytes(s), mem_at_10k, vg_mem_in_use() - base);
    assert_int_equal(vg_entity_store_count(s), 1000);
    assert_int_equal(vg_entity_store_bytes(s), bytes_at_10k);
    assert_int_equal(vg_mem_in_use() - base, mem_at_10k);
    assert_int_equal(vg_entity_store_evicted(s), 1000000 - 1000);
    assert_true(present(s, "user-999999", 1000) && !present(s, "user-998999", 1000));
    vg_entity_store_free(s);
    assert_int_equal(vg_mem_in_use(), base);
}

/* TTL and the count bound together: expired entries at the LRU tail make
 * room before any live entry is evicted, and over a long mixed stream every
 * entity ever created is accounted for exactly once (still held, evicted,
 * or expired), with the count never above the bound. */
static void test_ttl_and_bound_together(void **unused)
{
    (void)unused;
    vg_entity_store *s = store(3, 10, 0);
    get(s, "a", 0, NULL);
    get(s, "b", 1, NULL);
    get(s, "c", 2, NULL);
    /* Full, and a and b are idle past the TTL at 20: they go, not c. */
    get(s, "d", 20, NULL);
    assert_int_equal(vg_entity_store_evicted(s), 0);
    assert_int_equal(vg_entity_store_expired(s), 2);
    assert_true(present(s, "c", 11) && present(s, "d", 20));
    get(s, "e", 21, NULL);  /* c expires from the tail */
    assert_int_equal(vg_entity_store_expired(s), 3);
    assert_int_equal(vg_entity_store_count(s), 2);
    get(s, "f", 22, NULL);
    get(s, "g", 23, NULL);  /* nothing expired now: the least recent live one, d, is evicted */
    assert_int_equal(vg_entity_store_evicted(s), 1);
    assert_false(present(s, "d", 23));
    assert_true(present(s, "e", 23) && present(s, "f", 23) && present(s, "g", 23));
    vg_entity_store_free(s);

    s = store(50, 30, 1);
    uint64_t created_total = 0, x = 12345;
    char key[32];
    for (int i = 0; i < 200000; i++) {
        /* Keys from a skewed mix (a few hot, many cold) fill the store and
         * evict; a quiet minute every 10,000 gets lets entries expire. */
        x = x * 6364136223846793005ull + 1442695040888963407ull;
        unsigned k = (unsigned)(x >> 33) % ((x >> 20) & 1 ? 20u : 5000u);
        int n = snprintf(key, sizeof key, "k%u", k);
        vg_entity *e;
        int c;
        assert_int_equal(vg_entity_get(s, key, (size_t)n, i * 0.05 + (i / 10000) * 60.0, &e, &c), VG_OK);
        vg_entity_set_add(s, e, 0, x);
        created_total += (uint64_t)c;
        assert_true(vg_entity_store_count(s) <= 50);
    }
    uint64_t ev = vg_entity_store_evicted(s), ex = vg_entity_store_expired(s);
    print_message("200k gets: %llu created, %llu evicted, %llu expired, %zu held\n", (unsigned long long)created_total,
                  (unsigned long long)ev, (unsigned long long)ex, vg_entity_store_count(s));
    assert_true(ev > 0 && ex > 0);
    assert_int_equal(created_total, ev + ex + vg_entity_store_count(s));
    vg_entity_store_free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_eviction_order), cmocka_unit_test(test_ttl), cmocka_unit_test(test_sets),
        cmocka_unit_test(test_limits), cmocka_unit_test(test_memory_flat), cmocka_unit_test(test_ttl_and_bound_together),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
