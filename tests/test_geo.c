/* Unit tests for GeoIP: address parsing (IPv4, IPv6, mapped, brackets, junk),
 * private ranges, a hand-made range file (IPv4 and IPv6 lines, unsorted,
 * overlaps and bad lines refused), and known ranges of the bundled Debian
 * tor-geoipdb copy. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "vigil/geo.h"
#include "testutil.h"

static void country(const vg_geo *g, const char *ip, const char *want)
{
    char out[VG_GEO_NAME_BYTES];
    vg_geo_country(g, ip, strlen(ip), out);
    if (strcmp(out, want) != 0) fail_msg("%s: got %s, want %s", ip, out, want);
}

static void test_parse(void **state)
{
    (void)state;
    uint8_t a[16];
    assert_int_equal(vg_geo_parse_ip("1.2.3.4", 7, a), 4);
    assert_int_equal(a[12], 1);
    assert_int_equal(a[15], 4);
    assert_int_equal(vg_geo_parse_ip("::ffff:1.2.3.4", 14, a), 4);
    assert_int_equal(vg_geo_parse_ip("2001:db8::1", 11, a), 6);
    assert_int_equal(vg_geo_parse_ip("[2001:db8::1]", 13, a), 6);
    assert_int_equal(vg_geo_parse_ip("fe80::1%eth0", 12, a), 6);
    static const char *const bad[] = { "", "1.2.3", "1.2.3.4.5", "256.1.1.1", "1..2.3", "1.2.3.4 ", "a.b.c.d",
                                       "1234.1.1.1", ":::", "2001:db8::g", "example.com", "-" };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        if (vg_geo_parse_ip(bad[i], strlen(bad[i]), a)) fail_msg("accepted '%s'", bad[i]);
}

static void test_private(void **state)
{
    (void)state;
    static const char *const priv[] = { "10.1.2.3", "127.0.0.1", "172.16.0.1", "172.31.255.255", "192.168.1.1",
                                        "169.254.1.1", "100.64.0.1", "::1", "fd00::1", "fe80::1", "::ffff:10.0.0.1" };
    for (size_t i = 0; i < sizeof priv / sizeof priv[0]; i++) country(NULL, priv[i], "private");
    country(NULL, "172.32.0.1", "unknown");
    country(NULL, "8.8.8.8", "unknown");  /* no database */
    country(NULL, "not-an-ip", "invalid");
}

static void test_range_file(void **state)
{
    (void)state;
    const char text[] = "# test\n"
                        "16777216,16777471,AU\n"          /* 1.0.0.0 - 1.0.0.255 */
                        "2001:db8::,2001:db8:ffff:ffff:ffff:ffff:ffff:ffff,ZZ\n"
                        "0,255,??\n"
                        "134744064,134744319,US\r\n"     /* 8.8.8.0/24, CRLF */
                        "\n";
    vg_geo *g = NULL;
    assert_int_equal(vg_geo_open(vg_test_tmpfile(text, sizeof text - 1, ".txt"), &g), VG_OK);
    country(g, "1.0.0.1", "AU");
    country(g, "1.0.0.255", "AU");
    country(g, "1.0.1.0", "unknown");
    country(g, "8.8.8.8", "US");
    country(g, "0.0.0.200", "private");
    country(g, "2001:db8:1::5", "ZZ");
    country(g, "2001:db9::", "unknown");
    country(g, "::ffff:8.8.8.8", "US");
    assert_true(vg_geo_bytes(g) > 0);
    vg_geo_free(g);

    static const char *const bad[] = { "1,2\n", "5,1,US\n", "1,2,usa\n", "x,2,US\n", "1,5,US\n3,9,DE\n",
                                       "::1,::,US\n", "1,99999999999,US\n" };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        g = NULL;
        vg_status st = vg_geo_open(vg_test_tmpfile(bad[i], strlen(bad[i]), ".txt"), &g);
        if (st != VG_ERR_PARSE) fail_msg("range file '%s' gave %d", bad[i], st);
        assert_null(g);
        assert_true(strlen(vg_last_error()) > 0);
    }
    assert_int_equal(vg_geo_open("/nonexistent/geoip", &g), VG_ERR_IO);
}

static void test_range_file_v6_forms(void **state)
{
    (void)state;
    /* IPv6 bounds in every form: a plain parser reads hex groups with one
     * "::" and leaves the rest (embedded IPv4) to inet_pton; both must give
     * the same ranges. */
    const char text[] = "::100,::1ff,AA\n"                                   /* "::" first */
                        "1:2:3:4:5:6:7:0,1:2:3:4:5:6:7:FFFF,BB\n"            /* eight groups, upper case */
                        "2001:db8::,2001:db8:0:0:0:0:0:ffff,CC\n"            /* "::" last, then spelled out */
                        "2001:db8:1::7:0,2001:db8:1:0:0:0:7:ffff,DD\n"       /* "::" inside */
                        "64:ff9b::1.2.3.0,64:ff9b::1.2.3.255,EE\n";          /* embedded IPv4: inet_pton */
    vg_geo *g = NULL;
    assert_int_equal(vg_geo_open(vg_test_tmpfile(text, sizeof text - 1, ".txt"), &g), VG_OK);
    country(g, "::1a0", "AA");
    country(g, "::200", "unknown");
    country(g, "1:2:3:4:5:6:7:abcd", "BB");
    country(g, "1:2:3:4:5:6:8:0", "unknown");
    country(g, "2001:db8::1234", "CC");
    country(g, "2001:db8::1:0", "unknown");
    country(g, "2001:db8:1::7:42", "DD");
    country(g, "2001:db8:1::8:0", "unknown");
    country(g, "64:ff9b::102:3ff", "EE");
    country(g, "64:ff9b::102:400", "unknown");
    vg_geo_free(g);
    static const char *const bad[] = { "1::2::3,1::4,US\n", "1:2:3:4:5:6:7:8:9,1::,US\n", "12345::,12345::1,US\n",
                                       "1:,2::,US\n" };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        g = NULL;
        if (vg_geo_open(vg_test_tmpfile(bad[i], strlen(bad[i]), ".txt"), &g) != VG_ERR_PARSE)
            fail_msg("range file '%s' accepted", bad[i]);
    }
}

static void test_bundled(void **state)
{
    (void)state;
    vg_geo *g = NULL;
    vg_status st = vg_geo_open(NULL, &g);
    if (st) fail_msg("bundled GeoIP data: %s", vg_last_error());
    /* Ranges from the bundled file (2026-06 export); allocations of these
     * blocks are long-standing. */
    country(g, "1.0.0.1", "AU");          /* APNIC's 1.0.0.0/24 */
    country(g, "1.0.1.1", "CN");
    country(g, "8.8.8.8", "US");
    country(g, "81.2.69.160", "GB");
    country(g, "2001:4860:4860::8888", "US");
    country(g, "2001:2::1", "JP");
    country(g, "2001::1", "unknown");     /* "??" in the file */
    country(g, "192.168.0.1", "private");
    country(g, "garbage", "invalid");
    vg_geo_free(g);
}

static void test_mmdb_routing(void **state)
{
    (void)state;
    /* Bytes ending in MaxMind's metadata marker go to the .mmdb backend:
     * libmaxminddb refuses this broken one (or the build lacks it); either
     * way the range parser never sees it. */
    char junk[300];
    memset(junk, 'x', sizeof junk);
    memcpy(junk + 200, "\xAB\xCD\xEFMaxMind.com", 14);
    vg_geo *g = NULL;
    vg_status st = vg_geo_open(vg_test_tmpfile(junk, sizeof junk, ".mmdb"), &g);
#ifdef VG_HAVE_MAXMINDDB
    assert_int_equal(st, VG_ERR_PARSE);
#else
    assert_true(st == VG_ERR_PARSE || st == VG_ERR_UNSUPPORTED);
#endif
    assert_null(g);
    assert_null(strstr(vg_last_error(), "LOW,HIGH"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse),
        cmocka_unit_test(test_private),
        cmocka_unit_test(test_range_file),
        cmocka_unit_test(test_range_file_v6_forms),
        cmocka_unit_test(test_bundled),
        cmocka_unit_test(test_mmdb_routing),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
