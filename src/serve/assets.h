/* Static files of the dashboard (web/), compiled into the binary by
 * cmake/embed.cmake so the server needs no files at run time. */
#ifndef VG_SERVE_ASSETS_H
#define VG_SERVE_ASSETS_H

#include <stddef.h>

typedef struct vg_asset {
    const char *path;          /* "/index.html" */
    const char *content_type;
    const unsigned char *data;
    size_t size;
} vg_asset;

/* Terminated by an entry with path NULL. */
extern const vg_asset vg_assets[];

/* The asset at `path` ("/" means "/index.html"), or NULL. */
const vg_asset *vg_asset_find(const char *path);

#endif
