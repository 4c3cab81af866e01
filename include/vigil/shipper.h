/* The shipper: log lines batched into pipelined XADDs on Redis stream shards
 * (STREAM:K, K = vg_redis_shard(entity) % shards), each batch sent again
 * until the server confirms it, reconnecting with backoff for up to
 * retry_for seconds. Consumers drop the duplicates a resend can make by
 * source and line number, so a lost connection loses nothing and doubles
 * nothing. `vigil ship` is this object plus a file reader. */
#ifndef VIGIL_SHIPPER_H
#define VIGIL_SHIPPER_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include "vigil/core.h"
#include "vigil/redis_stream.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct vg_shipper vg_shipper;

typedef struct vg_shipper_params {
    uint32_t shards;           /* 1..4096; default 1 */
    size_t maxlen;             /* XADD MAXLEN ~; default 1000000 */
    size_t batch;              /* lines per pipelined batch; default 1000 */
    double retry_for;          /* seconds of reconnecting before giving up; default 60 */
    double connect_timeout;    /* seconds; default 5 */
    /* When set and nonzero (a signal handler's flag), retrying stops at once. */
    const volatile sig_atomic_t *stop;
} vg_shipper_params;

VG_API vg_shipper_params vg_shipper_params_default(void);

typedef struct vg_shipper_stats {
    uint64_t shipped;          /* lines the server confirmed */
    uint64_t resent;           /* batches sent again after a lost connection */
} vg_shipper_stats;

/* A shipper to url's host and stream. Connects lazily (the first send), so a
 * server that is not up yet is retried like a lost one. *out is new. */
VG_API vg_status vg_shipper_new(const vg_redis_url *url, const vg_shipper_params *p, vg_shipper **out);
/* Frees s (NULL is fine); lines not flushed are dropped: flush first. */
VG_API void vg_shipper_free(vg_shipper *s);

/* Queue one line with its source name, line number and entity (copied). A
 * full batch is sent before this returns. Errors as vg_shipper_flush. */
VG_API vg_status vg_shipper_add(vg_shipper *s, const char *source, uint64_t line_no, const char *line, size_t len,
                         const char *entity, size_t entity_len);
/* Send what is queued until confirmed. VG_ERR_IO when the server stayed
 * away for retry_for seconds or stop was raised (the message says how many
 * lines are unconfirmed, and they stay queued); other statuses: a reply the
 * server refused. */
VG_API vg_status vg_shipper_flush(vg_shipper *s);

/* Lines queued and not yet confirmed. */
VG_API size_t vg_shipper_pending(const vg_shipper *s);
VG_API const vg_shipper_stats *vg_shipper_stats_get(const vg_shipper *s);

#ifdef __cplusplus
}
#endif

#endif
