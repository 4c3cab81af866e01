/* Lookup of the embedded dashboard files. */
#include "serve/assets.h"

#include <string.h>

const vg_asset *vg_asset_find(const char *path)
{
    if (strcmp(path, "/") == 0) path = "/index.html";
    for (const vg_asset *a = vg_assets; a->path; a++)
        if (strcmp(a->path, path) == 0) return a;
    return NULL;
}
