/* IP addresses as features. A raw address teaches a model nothing about an
 * address it has not seen; its networks, class and kind do: a reputation
 * list marks whole hosting ranges, so the /24 and /16 an address sits in
 * carry most of what is learnable (ThreatLens' list: provider and /24 nearly
 * decide the label).
 *
 * An IP column COL (CSV `--ip COL`, or any text column whose every value is
 * an IPv4 or IPv6 address: found when the file is read) becomes:
 *   COL.ip_net24    categorical  IPv4 /24 ("192.0.2.0/24"), IPv6 /48
 *   COL.ip_net16    categorical  IPv4 /16, IPv6 /32
 *   COL.ip_class    categorical  IPv4 class by first octet: A, B, C, D
 *                                (multicast), E (reserved); "v6" for IPv6
 *   COL.ip_private  numeric 0/1  RFC 1918, carrier-grade NAT 100.64/10, IPv6 fc00::/7
 *   COL.ip_reserved numeric 0/1  special-purpose, not globally routed, neither
 *                                private nor loopback: 0/8, link-local,
 *                                documentation, benchmarking, multicast, 240/4,
 *                                broadcast; IPv6 ::, fe80::/10, ff00::/8,
 *                                2001:db8::/32, 100::/64
 *   COL.ip_loopback numeric 0/1  127/8, ::1
 *   COL.ip_country  categorical  the GeoIP country (vigil/geo.h), only when a
 *                                database is given (--geoip)
 * and COL itself is no feature. A cell that is not an address (or missing)
 * gives missing features. Pure functions; no state. */
#ifndef VIGIL_IPFEAT_H
#define VIGIL_IPFEAT_H

#include <stddef.h>
#include "vigil/core.h"
#include "vigil/geo.h"
#include "vigil/table.h"

#ifdef __cplusplus
extern "C" {
#endif

/* What one address yields. */
typedef struct vg_ipfeat {
    int family;                /* 4 or 6; 0: not an address (nothing else set) */
    char net24[48];            /* IPv4 /24 or IPv6 /48, as text with its prefix length */
    char net16[48];            /* IPv4 /16 or IPv6 /32 */
    const char *cls;           /* "A".."E" or "v6"; static storage */
    int is_private, is_reserved, is_loopback;
} vg_ipfeat;

/* The columns an IP column COL yields, in order: COL.<vg_ipfeat_suffix(i)>
 * for i < VG_IPFEAT_COLUMNS ("ip_net24", ...; the last, "ip_country", only
 * with a GeoIP database), or NULL past the end. Static storage. */
#define VG_IPFEAT_COLUMNS 7
VG_API const char *vg_ipfeat_suffix(int i);

/* Column i's value for the address x described: VG_COLUMN_CATEGORICAL with
 * *text (static storage or inside x), VG_COLUMN_NUMERIC with *number, or -1
 * when missing (x is no address; the country, which needs a database). */
VG_API int vg_ipfeat_value(const vg_ipfeat *x, int i, const char **text, double *number);

/* Describe the textual address s[0..len) (dotted quad, or IPv6 as
 * vg_geo_parse_ip takes it). Returns the family (0 when s is no address).
 * Never fails otherwise. */
VG_API int vg_ipfeat_compute(const char *s, size_t len, vg_ipfeat *out);

/* 1 if the categorical column col of t holds at least one value and every
 * value is an address: such a column is read as an IP column. */
VG_API int vg_ipfeat_column_is_ip(const vg_table *t, size_t col);

/* 1 if `name` is a column vigil makes from an IP column ("src.ip_net24"),
 * and that IP column is in t. */
VG_API int vg_ipfeat_is_derived(const vg_table *t, const char *name);

/* Append the columns above made from t's categorical column col (geo may be
 * NULL: no country column). VG_ERR_INVALID when col is numeric or a column
 * of the new names exists; VG_ERR_NOMEM. */
VG_API vg_status vg_ipfeat_add_columns(vg_table *t, size_t col, const vg_geo *geo);

#ifdef __cplusplus
}
#endif

#endif
