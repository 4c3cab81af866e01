/* Country of an IP address, for the web-log and login formats.
 *
 * Two backends behind one handle, chosen by the file's content:
 *   - IP-range files in the format of Tor's geoip/geoip6 ("LOW,HIGH,CC" per
 *     line; IPv4 as integers, IPv6 as addresses), loaded once into sorted
 *     arrays searched by bisection. The default database is the copy of
 *     Debian's tor-geoipdb bundled under data/geoip/ (see its README);
 *   - a MaxMind .mmdb (recognised by its metadata marker) through
 *     libmaxminddb, when the build found it (VG_HAVE_MAXMINDDB).
 * Private, loopback, link-local and unique-local addresses are "private"
 * without a look-up. A handle is read-only after opening: look-ups from
 * several threads at once are safe. */
#ifndef VIGIL_GEO_H
#define VIGIL_GEO_H

#include <stddef.h>
#include <stdint.h>
#include "vigil/core.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct vg_geo vg_geo;

/* Longest country text written by vg_geo_country, with its NUL. */
#define VG_GEO_NAME_BYTES 8

/* Open a database: a .mmdb file, a Tor-format range file (plain or gzip;
 * IPv4 and IPv6 lines may be mixed), or NULL for the bundled default (the
 * folder $VIGIL_GEOIP_DIR if set, else data/geoip/ of the source tree; files
 * geoip.gz and geoip6.gz). *out is new; free with vg_geo_free. Errors:
 * VG_ERR_IO (missing file), VG_ERR_PARSE (a line that is not a range, naming
 * file and line), VG_ERR_UNSUPPORTED (.mmdb in a build without
 * libmaxminddb), VG_ERR_NOMEM. */
VG_API vg_status vg_geo_open(const char *path, vg_geo **out);
VG_API void vg_geo_free(vg_geo *g);

/* The country of the textual address ip[0..len) (IPv4 dotted quad or IPv6,
 * optionally in [brackets]) written to out: a two-letter code ("DE"),
 * "private", "unknown" (not in the database), or "invalid" (not an IP
 * address). Never fails. */
VG_API void vg_geo_country(const vg_geo *g, const char *ip, size_t len, char out[VG_GEO_NAME_BYTES]);

/* Parse a textual IPv4 or IPv6 address into 16 bytes (IPv4 as ::ffff:a.b.c.d).
 * Returns 4 or 6 for the family, 0 if the text is not an address. */
VG_API int vg_geo_parse_ip(const char *ip, size_t len, uint8_t addr[16]);

/* 1 if addr (as from vg_geo_parse_ip) is private, loopback, link-local,
 * carrier-grade NAT, unique-local or unspecified. */
VG_API int vg_geo_is_private(const uint8_t addr[16]);

/* Ranges (or mmdb nodes) held and bytes used, for reports. */
VG_API size_t vg_geo_bytes(const vg_geo *g);

#ifdef __cplusplus
}
#endif

#endif
