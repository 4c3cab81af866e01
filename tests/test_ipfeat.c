/* IP address features (src/features/ipfeat.c): networks, class and flags of
 * IPv4 and IPv6 addresses against the IANA special-purpose registries, a
 * column found by its values, and the columns added to a table (country
 * from a small range file). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "vigil/geo.h"
#include "vigil/ipfeat.h"
#include "vigil/table.h"

static vg_ipfeat f(const char *s)
{
    vg_ipfeat x;
    vg_ipfeat_compute(s, strlen(s), &x);
    return x;
}

static void test_compute(void **state)
{
    (void)state;
    vg_ipfeat x = f("195.54.160.149");
    assert_int_equal(x.family, 4);
    assert_string_equal(x.net24, "195.54.160.0/24");
    assert_string_equal(x.net16, "195.54.0.0/16");
    assert_string_equal(x.cls, "C");
    assert_true(!x.is_private && !x.is_reserved && !x.is_loopback);
    struct { const char *ip, *cls; int priv, res, loop; } cases[] = {
        { "10.1.2.3", "A", 1, 0, 0 },        { "172.16.0.1", "B", 1, 0, 0 },   { "172.32.0.1", "B", 0, 0, 0 },
        { "192.168.9.9", "C", 1, 0, 0 },     { "100.64.0.1", "A", 1, 0, 0 },   { "100.128.0.1", "A", 0, 0, 0 },
        { "127.0.0.1", "A", 0, 0, 1 },       { "0.1.2.3", "A", 0, 1, 0 },      { "169.254.1.1", "B", 0, 1, 0 },
        { "192.0.2.7", "C", 0, 1, 0 },       { "198.19.255.1", "C", 0, 1, 0 }, { "198.20.0.1", "C", 0, 0, 0 },
        { "203.0.113.5", "C", 0, 1, 0 },     { "224.0.0.251", "D", 0, 1, 0 },  { "250.1.1.1", "E", 0, 1, 0 },
        { "255.255.255.255", "E", 0, 1, 0 }, { "8.8.8.8", "A", 0, 0, 0 },      { "128.0.0.1", "B", 0, 0, 0 },
        { "::1", "v6", 0, 0, 1 },            { "::", "v6", 0, 1, 0 },          { "fd12:3456::1", "v6", 1, 0, 0 },
        { "fe80::1", "v6", 0, 1, 0 },        { "ff02::1", "v6", 0, 1, 0 },     { "2001:db8::1", "v6", 0, 1, 0 },
        { "2a01:4f8:c17:1::1", "v6", 0, 0, 0 },
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        x = f(cases[i].ip);
        if (strcmp(x.cls, cases[i].cls) != 0 || x.is_private != cases[i].priv || x.is_reserved != cases[i].res ||
            x.is_loopback != cases[i].loop)
            printf("%s: class %s private %d reserved %d loopback %d\n", cases[i].ip, x.cls, x.is_private,
                   x.is_reserved, x.is_loopback);
        assert_string_equal(x.cls, cases[i].cls);
        assert_int_equal(x.is_private, cases[i].priv);
        assert_int_equal(x.is_reserved, cases[i].res);
        assert_int_equal(x.is_loopback, cases[i].loop);
    }
    x = f("2a01:4f8:c17:1::1");
    assert_int_equal(x.family, 6);
    assert_string_equal(x.net24, "2a01:4f8:c17::/48");
    assert_string_equal(x.net16, "2a01:4f8::/32");
    const char *bad[] = { "", "1.2.3", "1.2.3.4.5", "256.1.1.1", "host.example", "1.2.3.4/24", "12345" };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        assert_int_equal(vg_ipfeat_compute(bad[i], strlen(bad[i]), &x), 0);
        assert_int_equal(x.family, 0);
    }
}

static vg_table *table(const char *const *ips, size_t n)
{
    vg_table *t = vg_table_new("ip-test");
    size_t a, b;
    vg_table_add_column(t, "src", VG_COLUMN_CATEGORICAL, &a);
    vg_table_add_column(t, "n", VG_COLUMN_NUMERIC, &b);
    for (size_t i = 0; i < n; i++) {
        vg_table_push_category(t, a, ips[i], ips[i] ? strlen(ips[i]) : 0);
        vg_table_push_number(t, b, (double)i);
    }
    return t;
}

static void test_columns(void **state)
{
    (void)state;
    const char *ips[] = { "9.9.9.9", "10.0.0.1", NULL, "9.9.8.1", "2001:db8::5", "9.9.9.200" };
    vg_table *t = table(ips, 6);
    assert_true(vg_ipfeat_column_is_ip(t, 0));
    assert_false(vg_ipfeat_column_is_ip(t, 1));  /* numbers */
    /* a small Tor-format range file: 9.9.0.0 - 9.9.255.255 is "CH" */
    char path[] = "/tmp/vg_ipfeat_geoXXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    FILE *fp = fdopen(fd, "w");
    fprintf(fp, "%u,%u,CH\n", (9u << 24) | (9u << 16), (9u << 24) | (9u << 16) | 0xffffu);
    fclose(fp);
    vg_geo *geo = NULL;
    assert_int_equal(vg_geo_open(path, &geo), VG_OK);
    assert_int_equal(vg_ipfeat_add_columns(t, 0, geo), VG_OK);
    unlink(path);
    vg_geo_free(geo);
    long n24 = vg_table_find(t, "src.ip_net24"), n16 = vg_table_find(t, "src.ip_net16"),
         pr = vg_table_find(t, "src.ip_private"), rs = vg_table_find(t, "src.ip_reserved"),
         cc = vg_table_find(t, "src.ip_country"), cl = vg_table_find(t, "src.ip_class");
    assert_true(n24 > 0 && n16 > 0 && pr > 0 && rs > 0 && cc > 0 && cl > 0);
    assert_true(vg_ipfeat_is_derived(t, "src.ip_net24"));
    assert_false(vg_ipfeat_is_derived(t, "n.ip_net24"));  /* n is no IP column */
    assert_false(vg_ipfeat_is_derived(t, "src.ip_other"));
    const uint32_t *c24 = vg_table_codes(t, (size_t)n24), *c16 = vg_table_codes(t, (size_t)n16),
                   *ccc = vg_table_codes(t, (size_t)cc);
    assert_string_equal(vg_table_category(t, (size_t)n24, c24[0]), "9.9.9.0/24");
    assert_true(c24[0] == c24[5] && c24[0] != c24[3]);   /* same /24, another /24 */
    assert_true(c16[0] == c16[3] && c16[0] != c16[1]);   /* same /16 */
    assert_int_equal(c24[2], VG_CODE_MISSING);           /* a missing cell: missing features */
    assert_true(isnan(vg_table_numbers(t, (size_t)pr)[2]));
    assert_true(vg_table_numbers(t, (size_t)pr)[1] == 1 && vg_table_numbers(t, (size_t)pr)[0] == 0);
    assert_true(vg_table_numbers(t, (size_t)rs)[4] == 1);
    assert_string_equal(vg_table_category(t, (size_t)cc, ccc[0]), "CH");
    assert_string_equal(vg_table_category(t, (size_t)cc, ccc[1]), "private");
    assert_string_equal(vg_table_category(t, (size_t)n24, c24[4]), "2001:db8:0::/48");
    /* twice is an error naming the column; numbers are no addresses */
    assert_int_equal(vg_ipfeat_add_columns(t, 0, NULL), VG_ERR_INVALID);
    assert_int_equal(vg_ipfeat_add_columns(t, 1, NULL), VG_ERR_INVALID);
    vg_table_free(t);
    /* one value that is not an address: not an IP column by inference */
    const char *mixed[] = { "9.9.9.9", "localhost" };
    t = table(mixed, 2);
    assert_false(vg_ipfeat_column_is_ip(t, 0));
    /* forced, it still works: the non-address gets missing features */
    assert_int_equal(vg_ipfeat_add_columns(t, 0, NULL), VG_OK);
    assert_int_equal(vg_table_find(t, "src.ip_country"), -1);  /* no database, no country */
    assert_int_equal(vg_table_codes(t, (size_t)vg_table_find(t, "src.ip_class"))[1], VG_CODE_MISSING);
    vg_table_free(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_compute),
        cmocka_unit_test(test_columns),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
