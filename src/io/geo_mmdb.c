/* GeoIP from a user's MaxMind .mmdb (GeoLite2/GeoIP2 Country or City, or any
 * database with country.iso_code) through libmaxminddb. Built only when CMake
 * found libmaxminddb (VG_HAVE_MAXMINDDB); otherwise opening one is a clear
 * VG_ERR_UNSUPPORTED, and the range files remain the default. */
#include "geo_backend.h"

#include <string.h>

/* MaxMind's metadata section starts with this marker, near the file's end. */
static const char marker[] = "\xAB\xCD\xEFMaxMind.com";
#define MARKER_WINDOW ((size_t)128 * 1024)

int vg_geo_mmdb_magic(const char *data, size_t len)
{
    size_t m = sizeof marker - 1;
    size_t start = len > MARKER_WINDOW ? len - MARKER_WINDOW : 0;
    for (size_t i = len >= m ? len - m + 1 : 0; i-- > start;)
        if (memcmp(data + i, marker, m) == 0) return 1;
    return 0;
}

#ifdef VG_HAVE_MAXMINDDB
#include <maxminddb.h>
#include <netinet/in.h>
#include <sys/socket.h>

struct vg_geo_mmdb {
    MMDB_s db;
};

vg_status vg_geo_mmdb_open(const char *path, vg_geo_mmdb **out)
{
    *out = NULL;
    vg_geo_mmdb *m = vg_calloc(1, sizeof *m);
    if (!m) return vg_fail(VG_ERR_NOMEM, "out of memory");
    int rc = MMDB_open(path, MMDB_MODE_MMAP, &m->db);
    if (rc != MMDB_SUCCESS) {
        vg_free(m);
        return vg_fail(rc == MMDB_IO_ERROR ? VG_ERR_IO : VG_ERR_PARSE, "%s: %s", path, MMDB_strerror(rc));
    }
    *out = m;
    return VG_OK;
}

void vg_geo_mmdb_free(vg_geo_mmdb *m)
{
    if (!m) return;
    MMDB_close(&m->db);
    vg_free(m);
}

size_t vg_geo_mmdb_bytes(const vg_geo_mmdb *m)
{
    return m->db.file_size;
}

void vg_geo_mmdb_lookup(const vg_geo_mmdb *m, const uint8_t addr[16], int family, char out[VG_GEO_NAME_BYTES])
{
    memcpy(out, "unknown", 8);
    struct sockaddr_storage ss;
    memset(&ss, 0, sizeof ss);
    if (family == 4) {
        struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
        s4->sin_family = AF_INET;
        memcpy(&s4->sin_addr, addr + 12, 4);
    } else {
        struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;
        s6->sin6_family = AF_INET6;
        memcpy(&s6->sin6_addr, addr, 16);
    }
    int rc;
    /* MMDB_lookup_sockaddr takes a non-const MMDB_s but does not modify it. */
    MMDB_lookup_result_s res = MMDB_lookup_sockaddr((MMDB_s *)&m->db, (struct sockaddr *)&ss, &rc);
    if (rc != MMDB_SUCCESS || !res.found_entry) return;
    MMDB_entry_data_s d;
    if (MMDB_get_value(&res.entry, &d, "country", "iso_code", NULL) != MMDB_SUCCESS || !d.has_data ||
        d.type != MMDB_DATA_TYPE_UTF8_STRING) {
        if (MMDB_get_value(&res.entry, &d, "registered_country", "iso_code", NULL) != MMDB_SUCCESS || !d.has_data ||
            d.type != MMDB_DATA_TYPE_UTF8_STRING)
            return;
    }
    if (d.data_size == 0 || d.data_size >= VG_GEO_NAME_BYTES) return;
    memcpy(out, d.utf8_string, d.data_size);
    out[d.data_size] = '\0';
}

#else

struct vg_geo_mmdb {
    int unused;
};

vg_status vg_geo_mmdb_open(const char *path, vg_geo_mmdb **out)
{
    *out = NULL;
    return vg_fail(VG_ERR_UNSUPPORTED, "%s: a MaxMind .mmdb needs a build with libmaxminddb (apt-get install "
                                       "libmaxminddb-dev, then rebuild)", path);
}

void vg_geo_mmdb_free(vg_geo_mmdb *m)
{
    vg_free(m);
}

size_t vg_geo_mmdb_bytes(const vg_geo_mmdb *m)
{
    return 0;
}

void vg_geo_mmdb_lookup(const vg_geo_mmdb *m, const uint8_t addr[16], int family, char out[VG_GEO_NAME_BYTES])
{
    memcpy(out, "unknown", 8);
}

#endif
