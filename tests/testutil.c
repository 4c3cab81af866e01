/* Shared helpers for the unit tests. */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char *env_or(const char *name, const char *fallback)
{
    const char *v = getenv(name);
    return v && *v ? v : fallback;
}

const char *vg_test_shared(const char *rel)
{
    static char path[4096];
    snprintf(path, sizeof path, "%s/%s", env_or("VG_SHARED_DATA", "../shared/data"), rel);
    return path;
}

const char *vg_test_source(const char *rel)
{
    static char path[4096];
    snprintf(path, sizeof path, "%s/%s", env_or("VG_SOURCE_DIR", "."), rel);
    return path;
}

int vg_test_exists(const char *path)
{
    return access(path, R_OK) == 0;
}

const char *vg_test_tmpfile(const void *data, size_t len, const char *suffix)
{
    static char paths[8][256];
    static int slot;
    char *p = paths[slot++ % 8];
    snprintf(p, 256, "/tmp/vg_test_%d_%d%s", (int)getpid(), slot, suffix ? suffix : "");
    FILE *f = fopen(p, "wb");
    if (!f) return NULL;
    fwrite(data, 1, len, f);
    fclose(f);
    return p;
}
