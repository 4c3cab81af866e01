/* vg_geo: address parsing, the private-range check, and the choice between
 * the range-file and .mmdb backends by the file's content. */
#include "vigil/geo.h"
#include "vigil/csv.h"
#include "geo_backend.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Range files are text of about 25 MB for the full world; refuse anything
 * far larger rather than reading it into memory. */
#define MAX_RANGE_FILE ((size_t)256 << 20)

struct vg_geo {
    vg_geo_ranges *ranges;
    vg_geo_mmdb *mmdb;
};

int vg_geo_parse_ip(const char *ip, size_t len, uint8_t addr[16])
{
    if (len >= 2 && ip[0] == '[' && ip[len - 1] == ']') ip++, len -= 2;
    if (len == 0 || len > 45 + 16) return 0;
    if (!memchr(ip, ':', len)) {
        /* Dotted quad, strict: four decimal parts of 1-3 digits, each <= 255. */
        uint32_t part = 0;
        int parts = 0, digits = 0;
        memset(addr, 0, 10);
        addr[10] = addr[11] = 0xff;
        for (size_t i = 0; i <= len; i++) {
            if (i == len || ip[i] == '.') {
                if (digits == 0 || part > 255 || parts == 4) return 0;
                addr[12 + parts++] = (uint8_t)part;
                part = 0, digits = 0;
            } else if (ip[i] >= '0' && ip[i] <= '9' && digits < 3) {
                part = part * 10 + (uint32_t)(ip[i] - '0');
                digits++;
            } else {
                return 0;
            }
        }
        return parts == 4 ? 4 : 0;
    }
    char buf[64];
    const char *zone = memchr(ip, '%', len);  /* fe80::1%eth0: the zone is not part of the address */
    if (zone) len = (size_t)(zone - ip);
    if (len == 0 || len >= sizeof buf) return 0;
    memcpy(buf, ip, len);
    buf[len] = '\0';
    if (inet_pton(AF_INET6, buf, addr) != 1) return 0;
    static const uint8_t mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };
    return memcmp(addr, mapped, 12) == 0 ? 4 : 6;
}

int vg_geo_is_private(const uint8_t a[16])
{
    static const uint8_t mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };
    if (memcmp(a, mapped, 12) == 0) {
        const uint8_t *v = a + 12;
        return v[0] == 10 || v[0] == 127 || v[0] == 0 || (v[0] == 172 && (v[1] & 0xf0) == 16) ||
               (v[0] == 192 && v[1] == 168) || (v[0] == 169 && v[1] == 254) || (v[0] == 100 && (v[1] & 0xc0) == 64);
    }
    int zero = 1;
    for (int i = 0; i < 15; i++) zero &= a[i] == 0;
    if (zero && (a[15] == 0 || a[15] == 1)) return 1;  /* :: and ::1 */
    if ((a[0] & 0xfe) == 0xfc) return 1;                /* fc00::/7 unique local */
    if (a[0] == 0xfe && (a[1] & 0xc0) == 0x80) return 1; /* fe80::/10 link local */
    return 0;
}

void vg_geo_country(const vg_geo *g, const char *ip, size_t len, char out[VG_GEO_NAME_BYTES])
{
    uint8_t a[16];
    int fam = vg_geo_parse_ip(ip, len, a);
    if (!fam) memcpy(out, "invalid", 8);
    else if (vg_geo_is_private(a)) memcpy(out, "private", 8);
    else if (g && g->mmdb) vg_geo_mmdb_lookup(g->mmdb, a, fam, out);
    else if (g && g->ranges) vg_geo_ranges_lookup(g->ranges, a, fam, out);
    else memcpy(out, "unknown", 8);
}

size_t vg_geo_bytes(const vg_geo *g)
{
    if (!g) return 0;
    return sizeof *g + (g->ranges ? vg_geo_ranges_bytes(g->ranges) : 0) + (g->mmdb ? vg_geo_mmdb_bytes(g->mmdb) : 0);
}

void vg_geo_free(vg_geo *g)
{
    if (!g) return;
    vg_geo_ranges_free(g->ranges);
    vg_geo_mmdb_free(g->mmdb);
    vg_free(g);
}

/* The bundled data folder: $VIGIL_GEOIP_DIR, else data/geoip of the source
 * tree this file was compiled from (so nothing is installed at run time). */
static void default_dir(char *buf, size_t cap)
{
    const char *env = getenv("VIGIL_GEOIP_DIR");
    if (env && *env) {
        snprintf(buf, cap, "%s", env);
        return;
    }
    const char *self = __FILE__;
    const char *tail = strstr(self, "src/io/geo.c");
    int root = tail ? (int)(tail - self) : 0;
    snprintf(buf, cap, "%.*sdata/geoip", root, self);
}

static vg_status add_file(vg_geo_ranges *r, const char *path)
{
    char *data;
    size_t len;
    vg_status st = vg_file_read_all(path, MAX_RANGE_FILE, &data, &len);
    if (st) return st;
    st = vg_geo_ranges_add(r, data, len, path);
    vg_free(data);
    return st;
}

/* 1 if the file's last bytes hold the MaxMind metadata marker. */
static int file_is_mmdb(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) return 0;
    int yes = 0;
    char *tail = vg_malloc(128 * 1024);
    if (tail && fseek(f, 0, SEEK_END) == 0) {
        long size = ftell(f);
        long start = size > 128 * 1024 ? size - 128 * 1024 : 0;
        if (size > 0 && fseek(f, start, SEEK_SET) == 0) {
            size_t n = fread(tail, 1, (size_t)(size - start), f);
            yes = vg_geo_mmdb_magic(tail, n);
        }
    }
    vg_free(tail);
    fclose(f);
    return yes;
}

vg_status vg_geo_open(const char *path, vg_geo **out)
{
    *out = NULL;
    vg_geo *g = vg_calloc(1, sizeof *g);
    if (!g) return vg_fail(VG_ERR_NOMEM, "out of memory");
    vg_status st = VG_OK;
    if (path && file_is_mmdb(path)) {
        st = vg_geo_mmdb_open(path, &g->mmdb);
    } else if (!(g->ranges = vg_geo_ranges_new())) {
        st = vg_fail(VG_ERR_NOMEM, "out of memory");
    } else if (path) {
        st = add_file(g->ranges, path);
        if (!st) st = vg_geo_ranges_finish(g->ranges, path);
    } else {
        char dir[1024], p4[1100], p6[1100];
        default_dir(dir, sizeof dir);
        snprintf(p4, sizeof p4, "%s/geoip.gz", dir);
        snprintf(p6, sizeof p6, "%s/geoip6.gz", dir);
        st = add_file(g->ranges, p4);
        if (!st) st = add_file(g->ranges, p6);
        if (!st) st = vg_geo_ranges_finish(g->ranges, dir);
        if (st) vg_error_prefix("built-in GeoIP data (set VIGIL_GEOIP_DIR or --geoip): ");
    }
    if (st) {
        vg_geo_free(g);
        return st;
    }
    *out = g;
    return VG_OK;
}
