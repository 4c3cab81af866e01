/* Redis stream addresses and shards (see redis_stream.h): what `ship` and
 * `watch redis://` agree on before any connection, kept apart from the
 * hiredis client so a libvigil built without it (VG_WITH_REDIS=OFF,
 * redis_none.c) still parses and shards the same way. */
#include "vigil/redis_stream.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

vg_redis_limits vg_redis_limits_default(void)
{
    return (vg_redis_limits){ .max_field_bytes = 1 << 20, .max_entries = 10000, .max_fields = 64 };
}

int vg_redis_is_url(const char *s) { return s && strncmp(s, "redis://", 8) == 0; }

vg_status vg_redis_url_parse(const char *url, vg_redis_url *out)
{
    memset(out, 0, sizeof *out);
    if (!vg_redis_is_url(url)) return vg_fail(VG_ERR_PARSE, "'%s' is not a redis://HOST:PORT/STREAM address", url);
    const char *h = url + 8, *slash = strchr(h, '/');
    if (!slash) return vg_fail(VG_ERR_PARSE, "%s: no /STREAM after the host", url);
    const char *colon = memchr(h, ':', (size_t)(slash - h));
    const char *hend = colon ? colon : slash;
    size_t hl = (size_t)(hend - h);
    if (hl == 0 || hl >= sizeof out->host) return vg_fail(VG_ERR_PARSE, "%s: bad host", url);
    memcpy(out->host, h, hl);
    out->port = 6379;
    if (colon) {
        char *end;
        long p = strtol(colon + 1, &end, 10);
        if (end != slash || p < 1 || p > 65535) return vg_fail(VG_ERR_PARSE, "%s: bad port", url);
        out->port = (int)p;
    }
    const char *s = slash + 1;
    size_t sl = strlen(s);
    if (sl == 0 || sl >= sizeof out->stream) return vg_fail(VG_ERR_PARSE, "%s: stream name empty or over 200 bytes", url);
    for (size_t i = 0; i < sl; i++)
        if (!(s[i] == '_' || s[i] == '.' || s[i] == ':' || s[i] == '-' || (s[i] >= '0' && s[i] <= '9') ||
              (s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z')))
            return vg_fail(VG_ERR_PARSE, "%s: stream name may hold only letters, digits and _.:-", url);
    memcpy(out->stream, s, sl);
    return VG_OK;
}

uint32_t vg_redis_shard(const char *entity, size_t len, uint32_t n_shards)
{
    if (n_shards <= 1 || !entity || !len) return 0;
    return (uint32_t)(vg_hash(entity, len, 0) % n_shards);
}
