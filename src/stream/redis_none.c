/* The Redis client in a libvigil built without hiredis (VG_WITH_REDIS=OFF):
 * connecting fails with a message saying so, so `ship` and `watch redis://`
 * refuse clearly; nothing past a connection can be reached. */
#include "vigil/redis_stream.h"

#include <string.h>

static vg_status unsupported(void)
{
    return vg_fail(VG_ERR_UNSUPPORTED, "Redis streams need hiredis: this libvigil was built without it "
                                       "(cmake -DVG_WITH_REDIS=ON)");
}

vg_status vg_redis_connect(const char *host, int port, double timeout, const vg_redis_limits *lim, vg_redis **out)
{
    (void)host, (void)port, (void)timeout, (void)lim;
    *out = NULL;
    return unsupported();
}

void vg_redis_free(vg_redis *r) { (void)r; }
vg_status vg_redis_reconnect(vg_redis *r) { (void)r; return unsupported(); }

vg_status vg_redis_xadd_queue(vg_redis *r, const char *stream, size_t maxlen, const char *const *names,
                              const char *const *values, const size_t *lens, size_t n)
{
    (void)r, (void)stream, (void)maxlen, (void)names, (void)values, (void)lens, (void)n;
    return unsupported();
}

vg_status vg_redis_flush(vg_redis *r) { (void)r; return unsupported(); }

vg_status vg_redis_group_create(vg_redis *r, const char *stream, const char *group)
{
    (void)r, (void)stream, (void)group;
    return unsupported();
}

void vg_redis_entries_free(vg_redis_entries *e)
{
    vg_free(e->items);
    memset(e, 0, sizeof *e);
}

vg_status vg_redis_read_group(vg_redis *r, const char *stream, const char *group, const char *consumer,
                              const char *id, size_t count, int block_ms, vg_redis_entries *out)
{
    (void)r, (void)stream, (void)group, (void)consumer, (void)id, (void)count, (void)block_ms, (void)out;
    return unsupported();
}

vg_status vg_redis_autoclaim(vg_redis *r, const char *stream, const char *group, const char *consumer,
                             long long min_idle_ms, const char *start, size_t count, vg_redis_entries *out)
{
    (void)r, (void)stream, (void)group, (void)consumer, (void)min_idle_ms, (void)start, (void)count, (void)out;
    return unsupported();
}

vg_status vg_redis_ack(vg_redis *r, const char *stream, const char *group, const char *const *ids, size_t n)
{
    (void)r, (void)stream, (void)group, (void)ids, (void)n;
    return unsupported();
}

vg_status vg_redis_pending(vg_redis *r, const char *stream, const char *group, uint64_t *out)
{
    (void)r, (void)stream, (void)group, (void)out;
    return unsupported();
}

vg_status vg_redis_xlen(vg_redis *r, const char *stream, uint64_t *out)
{
    (void)r, (void)stream, (void)out;
    return unsupported();
}
