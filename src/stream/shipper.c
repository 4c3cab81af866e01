/* The shipper (vigil/shipper.h): lines copied into one byte buffer with a
 * small index, sent as one pipelined batch of XADDs, kept until the server
 * confirms the whole batch. Resending a whole batch after a lost connection
 * may store some lines twice, which consumers drop by (source, line_no);
 * sending only the unconfirmed tail would need per-reply bookkeeping hiredis
 * does not give after the connection is gone. */
#include "vigil/shipper.h"
#include "vigil/buf.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

typedef struct item {
    size_t line_off, line_len, ent_off, ent_len, src_off, src_len;
    uint64_t line_no;
    uint32_t shard;
} item;

struct vg_shipper {
    vg_redis_url url;
    vg_shipper_params p;
    vg_redis *conn;
    vg_wbuf bytes;     /* lines, entities and source names of the queued items */
    item *items;       /* p.batch slots */
    size_t n;
    int failed;        /* a send of the queued batch has failed: its success is a resend */
    vg_shipper_stats stats;
};

vg_shipper_params vg_shipper_params_default(void)
{
    return (vg_shipper_params){ .shards = 1, .maxlen = 1000000, .batch = 1000, .retry_for = 60,
                                .connect_timeout = 5 };
}

vg_status vg_shipper_new(const vg_redis_url *url, const vg_shipper_params *p, vg_shipper **out)
{
    *out = NULL;
    if (p->shards < 1 || p->shards > 4096) return vg_fail(VG_ERR_INVALID, "shipper: shards must be 1..4096");
    if (p->batch < 1 || p->batch > 1000000) return vg_fail(VG_ERR_INVALID, "shipper: batch must be 1..1000000");
    if (!(p->retry_for >= 0) || !(p->connect_timeout > 0))
        return vg_fail(VG_ERR_INVALID, "shipper: retry_for must be >= 0 and connect_timeout > 0");
    vg_shipper *s = vg_calloc(1, sizeof *s);
    if (!s || !(s->items = vg_malloc(p->batch * sizeof *s->items))) {
        vg_free(s);
        return vg_fail(VG_ERR_NOMEM, "out of memory");
    }
    s->url = *url;
    s->p = *p;
    vg_wbuf_init(&s->bytes);
    *out = s;
    return VG_OK;
}

void vg_shipper_free(vg_shipper *s)
{
    if (!s) return;
    vg_redis_free(s->conn);
    vg_wbuf_free(&s->bytes);
    vg_free(s->items);
    vg_free(s);
}

static int stopped(const vg_shipper *s)
{
    return s->p.stop && *s->p.stop;
}

static void nap(double seconds)
{
    struct timespec ts = { .tv_sec = (time_t)seconds,
                           .tv_nsec = (long)((seconds - (double)(time_t)seconds) * 1e9) };
    nanosleep(&ts, NULL);
}

/* Queue every item's XADD on the connection and read all the replies. */
static vg_status send_once(vg_shipper *s)
{
    vg_status st = s->conn ? VG_OK : vg_redis_connect(s->url.host, s->url.port, s->p.connect_timeout, NULL, &s->conn);
    const char *base = (const char *)s->bytes.data;
    for (size_t i = 0; !st && i < s->n; i++) {
        const item *it = &s->items[i];
        char stream[sizeof s->url.stream + 16], no[24];
        snprintf(stream, sizeof stream, "%s:%u", s->url.stream, it->shard);
        snprintf(no, sizeof no, "%llu", (unsigned long long)it->line_no);
        const char *names[] = { "line", "source", "line_no", "entity" };
        const char *values[] = { base + it->line_off, base + it->src_off, no, base + it->ent_off };
        size_t lens[] = { it->line_len, it->src_len, strlen(no), it->ent_len };
        st = vg_redis_xadd_queue(s->conn, stream, s->p.maxlen, names, values, lens, 4);
    }
    if (!st) st = vg_redis_flush(s->conn);
    return st;
}

vg_status vg_shipper_flush(vg_shipper *s)
{
    double backoff = 0.1, give_up = vg_now() + s->p.retry_for;
    while (s->n) {
        vg_status st = send_once(s);
        if (!st) {
            s->stats.shipped += s->n;
            if (s->failed) s->stats.resent++;
            s->failed = 0;
            s->n = 0;
            s->bytes.len = 0;
            return VG_OK;
        }
        if (st != VG_ERR_IO) return st;   /* the server answered, and refused: retrying will not help */
        s->failed = 1;
        vg_redis_free(s->conn);
        s->conn = NULL;
        if (stopped(s) || vg_now() + backoff > give_up)
            return vg_fail(VG_ERR_IO, "%s (%s with %zu lines unconfirmed)", vg_last_error(),
                           stopped(s) ? "stopped" : "gave up", s->n);
        vg_log(VG_LOG_INFO, "shipper: %s (retrying in %.1f s)", vg_last_error(), backoff);
        nap(backoff);
        backoff = VG_MIN(backoff * 2, 5.0);
    }
    return VG_OK;
}

vg_status vg_shipper_add(vg_shipper *s, const char *source, uint64_t line_no, const char *line, size_t len,
                         const char *entity, size_t entity_len)
{
    if (s->n == s->p.batch) {   /* a full batch an earlier flush could not send */
        vg_status st = vg_shipper_flush(s);
        if (st) return st;
    }
    item *it = &s->items[s->n];
    it->line_off = s->bytes.len;
    it->line_len = len;
    vg_wbuf_bytes(&s->bytes, line, len);
    it->ent_off = s->bytes.len;
    it->ent_len = entity_len;
    vg_wbuf_bytes(&s->bytes, entity, entity_len);
    it->src_off = s->bytes.len;
    it->src_len = strlen(source);
    vg_wbuf_bytes(&s->bytes, source, it->src_len);
    if (s->bytes.failed) return vg_fail(VG_ERR_NOMEM, "shipper: out of memory queueing line %llu of %s",
                                        (unsigned long long)line_no, source);
    it->line_no = line_no;
    it->shard = vg_redis_shard(entity, entity_len, s->p.shards);
    s->n++;
    return s->n == s->p.batch ? vg_shipper_flush(s) : VG_OK;
}

size_t vg_shipper_pending(const vg_shipper *s)
{
    return s->n;
}

const vg_shipper_stats *vg_shipper_stats_get(const vg_shipper *s)
{
    return &s->stats;
}
