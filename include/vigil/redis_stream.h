/* Redis Streams scale-out: `vigil ship` spreads log lines over STREAM:0 ..
 * STREAM:N-1 by hash(entity) % N, and `vigil watch redis://...` consumers read
 * one shard each in a consumer group. A small RESP2 client over hiredis that
 * checks every reply (type, element counts, sizes) before use, because a
 * reply is data from outside: a wrong or oversized reply is VG_ERR_PARSE /
 * VG_ERR_LIMIT, never a crash. Connection loss is VG_ERR_IO; the client can
 * reconnect (vg_redis_reconnect) and the consumer loop does so with backoff.
 *
 * Stream entries carry the fields line, source, line_no and entity. */
#ifndef VIGIL_REDIS_STREAM_H
#define VIGIL_REDIS_STREAM_H

#include <stddef.h>
#include <stdint.h>
#include "vigil/core.h"

#ifdef __cplusplus
extern "C" {
#endif

/* redis://HOST:PORT/STREAM (PORT defaults to 6379; STREAM up to 200 bytes of
 * [A-Za-z0-9_.:-]). */
typedef struct vg_redis_url {
    char host[256];
    int port;
    char stream[201];
} vg_redis_url;

VG_API vg_status vg_redis_url_parse(const char *url, vg_redis_url *out);
/* 1 if s starts with "redis://". */
VG_API int vg_redis_is_url(const char *s);

/* The shard of an entity: xxh3(entity) % n_shards (an empty entity -> 0). */
VG_API uint32_t vg_redis_shard(const char *entity, size_t len, uint32_t n_shards);

/* Limits on what replies may hold. */
typedef struct vg_redis_limits {
    size_t max_field_bytes;   /* any one string in a reply; default 1 MiB */
    size_t max_entries;       /* entries in one read/claim reply; default 10000 */
    size_t max_fields;        /* field/value pairs per entry; default 64 */
} vg_redis_limits;

VG_API vg_redis_limits vg_redis_limits_default(void);

typedef struct vg_redis vg_redis;

/* Connect (timeout in seconds for connect and each command; commands that
 * block add their block time). *out is new; on failure nothing is returned
 * and VG_ERR_IO names host:port. */
VG_API vg_status vg_redis_connect(const char *host, int port, double timeout, const vg_redis_limits *lim, vg_redis **out);
VG_API void vg_redis_free(vg_redis *r);
/* Drop the connection and connect again (VG_ERR_IO if the server is down). */
VG_API vg_status vg_redis_reconnect(vg_redis *r);

/* Queue XADD stream MAXLEN ~ maxlen * field value ... (maxlen 0 = no cap)
 * without waiting; vg_redis_flush sends the queue and checks every reply. */
VG_API vg_status vg_redis_xadd_queue(vg_redis *r, const char *stream, size_t maxlen, const char *const *names,
                              const char *const *values, const size_t *value_lens, size_t n);
VG_API vg_status vg_redis_flush(vg_redis *r);

/* XGROUP CREATE stream group 0 MKSTREAM; an existing group is fine. */
VG_API vg_status vg_redis_group_create(vg_redis *r, const char *stream, const char *group);

/* One stream entry: id and its fields (borrowed from the entry batch). */
typedef struct vg_redis_entry {
    char id[48];
    const char *line, *source, *entity;
    size_t line_len, source_len, entity_len;
    uint64_t line_no;
    int malformed;            /* fields missing or line_no not a number: ack and count as bad */
} vg_redis_entry;

/* A batch of entries; reuse across calls; free with vg_redis_entries_free. */
typedef struct vg_redis_entries {
    vg_redis_entry *items;
    size_t n, cap;
    void *reply;              /* keeps the strings alive */
    char next_id[48];         /* XAUTOCLAIM: cursor for the next call ("0-0" = done) */
} vg_redis_entries;

VG_API void vg_redis_entries_free(vg_redis_entries *e);

/* XREADGROUP GROUP g c COUNT count BLOCK block_ms STREAMS stream id, where id
 * is ">" for new entries or "0" for this consumer's own pending ones. */
VG_API vg_status vg_redis_read_group(vg_redis *r, const char *stream, const char *group, const char *consumer,
                              const char *id, size_t count, int block_ms, vg_redis_entries *out);
/* XAUTOCLAIM stream g c min_idle_ms start COUNT count: entries pending longer
 * than min_idle_ms move to this consumer; out->next_id is the cursor. */
VG_API vg_status vg_redis_autoclaim(vg_redis *r, const char *stream, const char *group, const char *consumer,
                             long long min_idle_ms, const char *start, size_t count, vg_redis_entries *out);
/* XACK stream g id... */
VG_API vg_status vg_redis_ack(vg_redis *r, const char *stream, const char *group, const char *const *ids, size_t n);
/* XPENDING stream g: the number of pending entries. */
VG_API vg_status vg_redis_pending(vg_redis *r, const char *stream, const char *group, uint64_t *out);
/* XLEN stream. */
VG_API vg_status vg_redis_xlen(vg_redis *r, const char *stream, uint64_t *out);

/* ---- a consumer: one shard of a group, scored into the alert store ------- */

typedef struct vg_detector vg_detector;
typedef struct vg_alert_store vg_alert_store;
typedef struct vg_alert vg_alert;

typedef struct vg_consumer_params {
    const char *host;
    int port;
    const char *stream;         /* the shard's stream (STREAM:K) */
    const char *group, *consumer;
    const char *alerts_stream;  /* also XADD alerts here, or NULL */
    size_t alerts_maxlen;       /* MAXLEN ~ of the alerts stream; default 1000000 */
    size_t count;               /* entries per read; default 500 */
    int block_ms;               /* XREADGROUP BLOCK; default 500 */
    long long claim_idle_ms;    /* XAUTOCLAIM entries idle this long; default 30000 */
    double claim_every;         /* seconds between claim passes; default 1 */
    vg_redis_limits limits;
} vg_consumer_params;

VG_API vg_consumer_params vg_consumer_params_default(void);

typedef struct vg_consumer_stats {
    uint64_t read, claimed, acked, malformed, reconnects;
} vg_consumer_stats;

typedef struct vg_consumer vg_consumer;

/* Borrows the detector and the store (both outlive the consumer). Connects
 * lazily, so a server that is down at start is retried like a lost one. */
VG_API vg_status vg_consumer_new(const vg_consumer_params *p, vg_detector *d, vg_alert_store *store, vg_consumer **out);
VG_API void vg_consumer_free(vg_consumer *c);

/* One round: first this consumer's own pending entries (after a restart),
 * then a claim pass when due, then new entries (blocking up to block_ms).
 * Each batch is scored, its alerts committed to the store, and only then
 * acknowledged, so an entry is never acked before its alert is durable.
 * on_alert (may be NULL) sees each alert. A lost connection is not an error:
 * the round sleeps a backoff (100 ms doubling to 5 s) and the next one
 * reconnects. Errors: the store failing (VG_ERR_IO) or memory. */
VG_API vg_status vg_consumer_step(vg_consumer *c, void (*on_alert)(const vg_alert *a, void *user), void *user);
VG_API const vg_consumer_stats *vg_consumer_stats_get(const vg_consumer *c);

#ifdef __cplusplus
}
#endif

#endif
