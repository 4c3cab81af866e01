/* The two GeoIP backends behind vg_geo (internal): IP-range arrays
 * (geo_ranges.c) and MaxMind .mmdb (geo_mmdb.c). geo.c picks one by the
 * file's content and owns the handle. */
#ifndef VG_IO_GEO_BACKEND_H
#define VG_IO_GEO_BACKEND_H

#include <stddef.h>
#include <stdint.h>
#include "vigil/geo.h"

typedef struct vg_geo_ranges vg_geo_ranges;
typedef struct vg_geo_mmdb vg_geo_mmdb;

/* Add the ranges of one Tor-format file's bytes (name for messages). */
vg_status vg_geo_ranges_add(vg_geo_ranges *r, const char *data, size_t len, const char *name);
vg_geo_ranges *vg_geo_ranges_new(void);
/* Sort after the last add; checks that ranges do not overlap. */
vg_status vg_geo_ranges_finish(vg_geo_ranges *r, const char *name);
void vg_geo_ranges_free(vg_geo_ranges *r);
/* Country code of a 16-byte address into out, or "unknown". */
void vg_geo_ranges_lookup(const vg_geo_ranges *r, const uint8_t addr[16], int family, char out[VG_GEO_NAME_BYTES]);
size_t vg_geo_ranges_bytes(const vg_geo_ranges *r);

/* 1 if the bytes end with the MaxMind metadata marker (within the last 128 KiB). */
int vg_geo_mmdb_magic(const char *data, size_t len);
vg_status vg_geo_mmdb_open(const char *path, vg_geo_mmdb **out);
void vg_geo_mmdb_free(vg_geo_mmdb *m);
void vg_geo_mmdb_lookup(const vg_geo_mmdb *m, const uint8_t addr[16], int family, char out[VG_GEO_NAME_BYTES]);
size_t vg_geo_mmdb_bytes(const vg_geo_mmdb *m);

#endif
