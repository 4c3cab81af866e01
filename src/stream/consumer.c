/* A Redis Streams consumer (see redis_stream.h): one shard of a consumer
 * group scored into the alert store. The order of the work is what makes
 * it safe: score a batch, commit its alerts to SQLite, then XACK. A crash
 * between commit and ack leaves the entries pending; whoever reads them
 * again (this consumer after a restart, or a survivor through XAUTOCLAIM)
 * scores them again and the store's (source, line_no) dedup keeps one alert. */
#include "vigil/redis_stream.h"
#include "vigil/alerts.h"
#include "vigil/detector.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

struct vg_consumer {
    vg_consumer_params p;
    char *stream, *group, *consumer, *alerts_stream, *host;
    vg_detector *d;
    vg_alert_store *store;
    vg_redis *r;
    vg_redis_entries batch;
    const char **ids;
    size_t ids_cap;
    int own_pending_done;     /* re-read our own pending entries after each (re)connect */
    double last_claim, retry_at, backoff;
    char source_buf[1024];
    vg_wbuf json;
    vg_consumer_stats stats;
};

vg_consumer_params vg_consumer_params_default(void)
{
    return (vg_consumer_params){ .port = 6379, .alerts_maxlen = 1000000, .count = 500, .block_ms = 500,
                                 .claim_idle_ms = 30000, .claim_every = 1.0, .limits = vg_redis_limits_default() };
}

vg_status vg_consumer_new(const vg_consumer_params *p, vg_detector *d, vg_alert_store *store, vg_consumer **out)
{
    *out = NULL;
    if (!p->host || !p->stream || !p->group || !p->consumer)
        return vg_fail(VG_ERR_INVALID, "consumer needs host, stream, group and consumer names");
    vg_consumer *c = vg_calloc(1, sizeof *c);
    if (!c) return vg_fail(VG_ERR_NOMEM, "out of memory");
    c->p = *p;
    c->d = d;
    c->store = store;
    c->backoff = 0.1;
    c->last_claim = -1e9;
    vg_wbuf_init(&c->json);
    c->host = vg_strdup(p->host);
    c->stream = vg_strdup(p->stream);
    c->group = vg_strdup(p->group);
    c->consumer = vg_strdup(p->consumer);
    if (p->alerts_stream) c->alerts_stream = vg_strdup(p->alerts_stream);
    if (!c->host || !c->stream || !c->group || !c->consumer || (p->alerts_stream && !c->alerts_stream)) {
        vg_consumer_free(c);
        return vg_fail(VG_ERR_NOMEM, "out of memory");
    }
    c->p.host = c->host;
    *out = c;
    return VG_OK;
}

void vg_consumer_free(vg_consumer *c)
{
    if (!c) return;
    vg_redis_entries_free(&c->batch);
    vg_redis_free(c->r);
    vg_wbuf_free(&c->json);
    vg_free(c->ids);
    vg_free(c->host);
    vg_free(c->stream);
    vg_free(c->group);
    vg_free(c->consumer);
    vg_free(c->alerts_stream);
    vg_free(c);
}

const vg_consumer_stats *vg_consumer_stats_get(const vg_consumer *c) { return &c->stats; }

static void sleep_for(double s)
{
    struct timespec ts = { .tv_sec = (time_t)s, .tv_nsec = (long)((s - (double)(time_t)s) * 1e9) };
    nanosleep(&ts, NULL);  /* a signal may cut it short: the caller's loop checks its flag */
}

/* The connection is gone: next round reconnects after the backoff. */
static void lost(vg_consumer *c)
{
    vg_redis_free(c->r);
    c->r = NULL;
    c->retry_at = vg_now() + c->backoff;
    c->backoff = VG_MIN(c->backoff * 2, 5.0);
}

static vg_status ensure_connected(vg_consumer *c, int *ready)
{
    *ready = 0;
    if (c->r) {
        *ready = 1;
        return VG_OK;
    }
    double wait = c->retry_at - vg_now();
    if (wait > 0) {
        sleep_for(wait);
        return VG_OK;
    }
    vg_status st = vg_redis_connect(c->p.host, c->p.port, 5.0, &c->p.limits, &c->r);
    if (st == VG_ERR_NOMEM) return st;
    if (!st) st = vg_redis_group_create(c->r, c->stream, c->group);
    if (st) {
        vg_log(VG_LOG_WARN, "%s (retrying in %.1f s)", vg_last_error(), c->backoff);
        if (c->r) {
            vg_redis_free(c->r);
            c->r = NULL;
        }
        c->retry_at = vg_now() + c->backoff;
        c->backoff = VG_MIN(c->backoff * 2, 5.0);
        return VG_OK;
    }
    if (c->stats.reconnects++ > 0 || c->backoff > 0.1) vg_log(VG_LOG_INFO, "redis %s:%d: connected", c->p.host, c->p.port);
    c->backoff = 0.1;
    c->own_pending_done = 0;
    *ready = 1;
    return VG_OK;
}

typedef struct alert_sink {
    vg_consumer *c;
    void (*on_alert)(const vg_alert *, void *);
    void *user;
} alert_sink;

/* An alert of a scored block: into the store's open batch, onto the alerts
 * stream, and to the caller. */
static vg_status sink_alert(const vg_alert *a, void *arg)
{
    alert_sink *k = arg;
    vg_consumer *c = k->c;
    vg_status st;
    if (c->store && (st = vg_alert_store_add(c->store, a))) return st;
    if (c->alerts_stream && c->r) {
        c->json.len = 0;
        vg_alert_json(a, &c->json);
        if (c->json.failed) return vg_fail(VG_ERR_NOMEM, "out of memory");
        const char *names[] = { "alert" };
        const char *values[] = { (const char *)c->json.data };
        size_t lens[] = { c->json.len };
        if (vg_redis_xadd_queue(c->r, c->alerts_stream, c->p.alerts_maxlen, names, values, lens, 1)) lost(c);
    }
    if (k->on_alert) k->on_alert(a, k->user);
    return VG_OK;
}

/* Score the batch (in the detector's blocks, flushed before the commit),
 * make its alerts durable, then acknowledge it. */
static vg_status process(vg_consumer *c, void (*on_alert)(const vg_alert *, void *), void *user)
{
    vg_redis_entries *b = &c->batch;
    if (b->n == 0) return VG_OK;
    if (b->n > c->ids_cap) {
        const char **ids = vg_realloc(c->ids, b->n * sizeof *ids);
        if (!ids) return vg_fail(VG_ERR_NOMEM, "out of memory");
        c->ids = ids;
        c->ids_cap = b->n;
    }
    vg_status st;
    alert_sink sink = { c, on_alert, user };
    for (size_t i = 0; i < b->n; i++) {
        vg_redis_entry *e = &b->items[i];
        c->ids[i] = e->id;
        if (e->malformed) {
            c->stats.malformed++;
            continue;
        }
        size_t sl = VG_MIN(e->source_len, sizeof c->source_buf - 1);
        memcpy(c->source_buf, e->source, sl);   /* the detector copies it */
        c->source_buf[sl] = '\0';
        if ((st = vg_detector_push(c->d, c->source_buf, 0, e->line_no, e->line, e->line_len, 0, sink_alert, &sink)))
            return st;
    }
    if ((st = vg_detector_flush(c->d, sink_alert, &sink))) return st;   /* every alert of the batch is in the store */
    if (c->store && (st = vg_alert_store_commit(c->store))) return st;   /* durable before the ack */
    if (!c->r) return VG_OK;
    if (c->alerts_stream && vg_redis_flush(c->r) == VG_ERR_IO) {
        lost(c);
        return VG_OK;
    }
    st = vg_redis_ack(c->r, c->stream, c->group, c->ids, b->n);
    if (st == VG_ERR_NOMEM) return st;
    if (st) {
        vg_log(VG_LOG_WARN, "%s", vg_last_error());
        lost(c);   /* the entries stay pending and come back; dedup keeps one alert each */
        return VG_OK;
    }
    c->stats.acked += b->n;
    return VG_OK;
}

/* Read errors other than memory mean the connection or the server is in a
 * bad state; treat them alike. */
static vg_status read_failed(vg_consumer *c, vg_status st)
{
    if (st == VG_ERR_NOMEM) return st;
    vg_log(VG_LOG_WARN, "%s", vg_last_error());
    lost(c);
    return VG_OK;
}

vg_status vg_consumer_step(vg_consumer *c, void (*on_alert)(const vg_alert *a, void *user), void *user)
{
    int ready;
    vg_status st = ensure_connected(c, &ready);
    if (st || !ready) return st;
    if (!c->own_pending_done) {
        /* Entries delivered to this consumer name before and never acked. */
        st = vg_redis_read_group(c->r, c->stream, c->group, c->consumer, "0", c->p.count, 0, &c->batch);
        if (st) return read_failed(c, st);
        if (c->batch.n == 0) c->own_pending_done = 1;
        c->stats.read += c->batch.n;
        return process(c, on_alert, user);
    }
    double now = vg_now();
    if (now - c->last_claim >= c->p.claim_every) {
        c->last_claim = now;
        char cursor[48] = "0-0";
        for (int page = 0; page < 100; page++) {   /* bounded pass: the rest waits for the next one */
            st = vg_redis_autoclaim(c->r, c->stream, c->group, c->consumer, c->p.claim_idle_ms, cursor, c->p.count,
                                    &c->batch);
            if (st) return read_failed(c, st);
            c->stats.claimed += c->batch.n;
            if (c->batch.n) vg_log(VG_LOG_INFO, "%s: claimed %zu idle entries", c->stream, c->batch.n);
            snprintf(cursor, sizeof cursor, "%s", c->batch.next_id);
            if ((st = process(c, on_alert, user))) return st;
            if (!c->r || strcmp(cursor, "0-0") == 0) break;
        }
        if (!c->r) return VG_OK;
    }
    st = vg_redis_read_group(c->r, c->stream, c->group, c->consumer, ">", c->p.count, c->p.block_ms, &c->batch);
    if (st) return read_failed(c, st);
    c->stats.read += c->batch.n;
    return process(c, on_alert, user);
}
