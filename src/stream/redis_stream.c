/* The Redis Streams client (see redis_stream.h): hiredis for the wire, and
 * a check of every reply's type, element count and string sizes before any
 * of it is used. Replies are kept whole while their entries are in use, so
 * entries borrow strings instead of copying them. */
#include "vigil/redis_stream.h"

#include <errno.h>
#include <hiredis/hiredis.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

struct vg_redis {
    redisContext *c;
    char host[256];
    int port;
    double timeout;
    vg_redis_limits lim;
    size_t queued;          /* pipelined commands awaiting replies */
};

static struct timeval tv_of(double s)
{
    struct timeval tv = { .tv_sec = (time_t)s, .tv_usec = (suseconds_t)((s - (double)(time_t)s) * 1e6) };
    return tv;
}

static vg_status do_connect(vg_redis *r)
{
    if (r->c) redisFree(r->c);
    r->queued = 0;
    r->c = redisConnectWithTimeout(r->host, r->port, tv_of(r->timeout));
    if (!r->c) return vg_fail(VG_ERR_NOMEM, "out of memory");
    if (r->c->err) {
        vg_status st = vg_fail(VG_ERR_IO, "redis %s:%d: %s", r->host, r->port, r->c->errstr);
        redisFree(r->c);
        r->c = NULL;
        return st;
    }
    redisSetTimeout(r->c, tv_of(r->timeout));
    return VG_OK;
}

vg_status vg_redis_connect(const char *host, int port, double timeout, const vg_redis_limits *lim, vg_redis **out)
{
    *out = NULL;
    if (!host || strlen(host) >= 256) return vg_fail(VG_ERR_INVALID, "bad redis host");
    vg_redis *r = vg_calloc(1, sizeof *r);
    if (!r) return vg_fail(VG_ERR_NOMEM, "out of memory");
    strcpy(r->host, host);
    r->port = port;
    r->timeout = timeout > 0 ? timeout : 5;
    r->lim = lim ? *lim : vg_redis_limits_default();
    vg_status st = do_connect(r);
    if (st) {
        vg_free(r);
        return st;
    }
    *out = r;
    return VG_OK;
}

void vg_redis_free(vg_redis *r)
{
    if (!r) return;
    if (r->c) redisFree(r->c);
    vg_free(r);
}

vg_status vg_redis_reconnect(vg_redis *r) { return do_connect(r); }

/* Lost connections and protocol errors: the context is unusable after. */
static vg_status conn_fail(vg_redis *r, const char *what)
{
    vg_status st = vg_fail(VG_ERR_IO, "redis %s:%d: %s: %s", r->host, r->port, what,
                           r->c && r->c->err ? r->c->errstr : "connection lost");
    if (r->c) redisFree(r->c);
    r->c = NULL;
    r->queued = 0;
    return st;
}

static vg_status need_conn(vg_redis *r)
{
    return r->c ? VG_OK : vg_fail(VG_ERR_IO, "redis %s:%d: not connected", r->host, r->port);
}

/* Run a command; *reply is the checked-for-errors reply (caller frees). */
static vg_status command(vg_redis *r, int argc, const char **argv, const size_t *lens, double extra_wait,
                         redisReply **reply)
{
    *reply = NULL;
    vg_status st = need_conn(r);
    if (st) return st;
    if (extra_wait > 0) redisSetTimeout(r->c, tv_of(r->timeout + extra_wait));
    redisReply *rep = redisCommandArgv(r->c, argc, argv, lens);
    if (extra_wait > 0 && r->c) redisSetTimeout(r->c, tv_of(r->timeout));
    if (!rep) return conn_fail(r, argv[0]);
    if (rep->type == REDIS_REPLY_ERROR) {
        st = vg_fail(VG_ERR_IO, "redis %s: %.200s", argv[0], rep->str ? rep->str : "error");
        freeReplyObject(rep);
        return st;
    }
    *reply = rep;
    return VG_OK;
}

vg_status vg_redis_xadd_queue(vg_redis *r, const char *stream, size_t maxlen, const char *const *names,
                              const char *const *values, const size_t *value_lens, size_t n)
{
    vg_status st = need_conn(r);
    if (st) return st;
    if (n > 16) return vg_fail(VG_ERR_INVALID, "xadd: at most 16 fields");
    const char *argv[6 + 32];
    size_t lens[6 + 32];
    char cap[32];
    int argc = 0;
    argv[argc++] = "XADD";
    argv[argc++] = stream;
    if (maxlen) {
        snprintf(cap, sizeof cap, "%zu", maxlen);
        argv[argc++] = "MAXLEN";
        argv[argc++] = "~";
        argv[argc++] = cap;
    }
    argv[argc++] = "*";
    for (int i = 0; i < argc; i++) lens[i] = strlen(argv[i]);
    for (size_t i = 0; i < n; i++) {
        argv[argc] = names[i];
        lens[argc++] = strlen(names[i]);
        argv[argc] = values[i];
        lens[argc++] = value_lens ? value_lens[i] : strlen(values[i]);
    }
    if (redisAppendCommandArgv(r->c, argc, argv, lens) != REDIS_OK) return conn_fail(r, "XADD");
    r->queued++;
    return VG_OK;
}

vg_status vg_redis_flush(vg_redis *r)
{
    vg_status st = VG_OK, first = VG_OK;
    while (r->queued) {
        if ((st = need_conn(r))) return st;
        void *p = NULL;
        if (redisGetReply(r->c, &p) != REDIS_OK || !p) return conn_fail(r, "reply");
        r->queued--;
        redisReply *rep = p;
        /* XADD answers with the new id: a bulk string, short. */
        if (rep->type == REDIS_REPLY_ERROR && !first)
            first = vg_fail(VG_ERR_IO, "redis: %.200s", rep->str ? rep->str : "error");
        else if (rep->type != REDIS_REPLY_ERROR && (rep->type != REDIS_REPLY_STRING || rep->len > 64) && !first)
            first = vg_fail(VG_ERR_PARSE, "redis: unexpected reply to a queued command");
        freeReplyObject(rep);
    }
    return first;
}

vg_status vg_redis_group_create(vg_redis *r, const char *stream, const char *group)
{
    const char *argv[] = { "XGROUP", "CREATE", stream, group, "0", "MKSTREAM" };
    redisReply *rep;
    vg_status st = command(r, 6, argv, NULL, 0, &rep);
    if (st == VG_ERR_IO && strstr(vg_last_error(), "BUSYGROUP")) return VG_OK;  /* exists: fine */
    if (st) return st;
    int ok = rep->type == REDIS_REPLY_STATUS;
    freeReplyObject(rep);
    return ok ? VG_OK : vg_fail(VG_ERR_PARSE, "redis XGROUP CREATE: unexpected reply");
}

void vg_redis_entries_free(vg_redis_entries *e)
{
    if (e->reply) freeReplyObject(e->reply);
    vg_free(e->items);
    memset(e, 0, sizeof *e);
}

static int is_str(const redisReply *x, size_t max)
{
    return x && (x->type == REDIS_REPLY_STRING || x->type == REDIS_REPLY_STATUS) && x->str && x->len <= max;
}

/* One entry [id, [f, v, ...]] (fields may be nil: deleted while pending). */
static vg_status parse_entry(vg_redis *r, const redisReply *x, vg_redis_entry *e)
{
    memset(e, 0, sizeof *e);
    if (!x || x->type != REDIS_REPLY_ARRAY || x->elements != 2 || !is_str(x->element[0], sizeof e->id - 1))
        return vg_fail(VG_ERR_PARSE, "redis: malformed stream entry");
    memcpy(e->id, x->element[0]->str, x->element[0]->len);
    const redisReply *f = x->element[1];
    if (!f || f->type == REDIS_REPLY_NIL) {
        e->malformed = 1;
        return VG_OK;
    }
    if (f->type != REDIS_REPLY_ARRAY || f->elements % 2) return vg_fail(VG_ERR_PARSE, "redis: malformed entry fields");
    if (f->elements / 2 > r->lim.max_fields)
        return vg_fail(VG_ERR_LIMIT, "redis: entry %s has %zu fields (limit %zu)", e->id, f->elements / 2,
                       r->lim.max_fields);
    int have_line = 0, have_no = 0;
    for (size_t i = 0; i + 1 < f->elements; i += 2) {
        const redisReply *k = f->element[i], *v = f->element[i + 1];
        if (!is_str(k, 64) || !v || v->type != REDIS_REPLY_STRING || !v->str)
            return vg_fail(VG_ERR_PARSE, "redis: entry %s: field is not a string", e->id);
        if (v->len > r->lim.max_field_bytes) {
            e->malformed = 1;  /* an oversize value is the event's problem, not the stream's */
            continue;
        }
        if (strcmp(k->str, "line") == 0) {
            e->line = v->str;
            e->line_len = v->len;
            have_line = 1;
        } else if (strcmp(k->str, "source") == 0) {
            e->source = v->str;
            e->source_len = v->len;
        } else if (strcmp(k->str, "entity") == 0) {
            e->entity = v->str;
            e->entity_len = v->len;
        } else if (strcmp(k->str, "line_no") == 0) {
            char *end;
            errno = 0;
            unsigned long long n = v->len && v->len < 21 ? strtoull(v->str, &end, 10) : 0;
            if (v->len && v->len < 21 && !errno && *end == '\0') {
                e->line_no = n;
                have_no = 1;
            }
        }
    }
    if (!have_line || !have_no || !e->source) e->malformed = 1;
    return VG_OK;
}

static vg_status parse_entries(vg_redis *r, const redisReply *list, vg_redis_entries *out)
{
    if (!list || list->type != REDIS_REPLY_ARRAY) return vg_fail(VG_ERR_PARSE, "redis: entries are not an array");
    if (list->elements > r->lim.max_entries)
        return vg_fail(VG_ERR_LIMIT, "redis: %zu entries in one reply (limit %zu)", list->elements, r->lim.max_entries);
    if (list->elements > out->cap) {
        vg_redis_entry *it = vg_realloc(out->items, list->elements * sizeof *it);
        if (!it) return vg_fail(VG_ERR_NOMEM, "out of memory");
        out->items = it;
        out->cap = list->elements;
    }
    for (size_t i = 0; i < list->elements; i++) {
        const redisReply *x = list->element[i];
        if (x && x->type == REDIS_REPLY_NIL) continue;  /* 6.2 XAUTOCLAIM: deleted entry */
        vg_status st = parse_entry(r, x, &out->items[out->n]);
        if (st) return st;
        out->n++;
    }
    return VG_OK;
}

static void entries_reset(vg_redis_entries *out)
{
    if (out->reply) freeReplyObject(out->reply);
    out->reply = NULL;
    out->n = 0;
    out->next_id[0] = '\0';
}

vg_status vg_redis_read_group(vg_redis *r, const char *stream, const char *group, const char *consumer,
                              const char *id, size_t count, int block_ms, vg_redis_entries *out)
{
    entries_reset(out);
    char cnt[32], blk[32];
    snprintf(cnt, sizeof cnt, "%zu", count ? VG_MIN(count, r->lim.max_entries) : 1);
    snprintf(blk, sizeof blk, "%d", block_ms > 0 ? block_ms : 0);
    const char *argv[] = { "XREADGROUP", "GROUP", group, consumer, "COUNT", cnt, "BLOCK", blk, "STREAMS", stream, id };
    int argc = block_ms > 0 ? 11 : 9;
    if (block_ms <= 0) {   /* no BLOCK at all: drop those two words */
        argv[6] = "STREAMS";
        argv[7] = stream;
        argv[8] = id;
    }
    redisReply *rep;
    vg_status st = command(r, argc, argv, NULL, block_ms / 1000.0, &rep);
    if (st) return st;
    out->reply = rep;
    if (rep->type == REDIS_REPLY_NIL) return VG_OK;  /* timed out: nothing new */
    /* [[stream, [entries]]] */
    if (rep->type != REDIS_REPLY_ARRAY || rep->elements != 1 || !rep->element[0] ||
        rep->element[0]->type != REDIS_REPLY_ARRAY || rep->element[0]->elements != 2)
        return vg_fail(VG_ERR_PARSE, "redis XREADGROUP: unexpected reply shape");
    return parse_entries(r, rep->element[0]->element[1], out);
}

vg_status vg_redis_autoclaim(vg_redis *r, const char *stream, const char *group, const char *consumer,
                             long long min_idle_ms, const char *start, size_t count, vg_redis_entries *out)
{
    entries_reset(out);
    char idle[32], cnt[32];
    snprintf(idle, sizeof idle, "%lld", min_idle_ms);
    snprintf(cnt, sizeof cnt, "%zu", count ? VG_MIN(count, r->lim.max_entries) : 100);
    const char *argv[] = { "XAUTOCLAIM", stream, group, consumer, idle, start, "COUNT", cnt };
    redisReply *rep;
    vg_status st = command(r, 8, argv, NULL, 0, &rep);
    if (st) return st;
    out->reply = rep;
    /* [next, [entries], (7.0) [deleted ids]] */
    if (rep->type != REDIS_REPLY_ARRAY || rep->elements < 2 || rep->elements > 3 ||
        !is_str(rep->element[0], sizeof out->next_id - 1))
        return vg_fail(VG_ERR_PARSE, "redis XAUTOCLAIM: unexpected reply shape");
    memcpy(out->next_id, rep->element[0]->str, rep->element[0]->len);
    out->next_id[rep->element[0]->len] = '\0';
    return parse_entries(r, rep->element[1], out);
}

vg_status vg_redis_ack(vg_redis *r, const char *stream, const char *group, const char *const *ids, size_t n)
{
    if (n == 0) return VG_OK;
    const char **argv = vg_malloc((n + 3) * sizeof *argv);
    if (!argv) return vg_fail(VG_ERR_NOMEM, "out of memory");
    argv[0] = "XACK";
    argv[1] = stream;
    argv[2] = group;
    for (size_t i = 0; i < n; i++) argv[3 + i] = ids[i];
    redisReply *rep;
    vg_status st = command(r, (int)(n + 3), argv, NULL, 0, &rep);
    vg_free(argv);
    if (st) return st;
    int ok = rep->type == REDIS_REPLY_INTEGER && rep->integer >= 0 && (size_t)rep->integer <= n;
    freeReplyObject(rep);
    return ok ? VG_OK : vg_fail(VG_ERR_PARSE, "redis XACK: unexpected reply");
}

static vg_status int_command(vg_redis *r, int argc, const char **argv, long long *out)
{
    redisReply *rep;
    vg_status st = command(r, argc, argv, NULL, 0, &rep);
    if (st) return st;
    if (rep->type == REDIS_REPLY_INTEGER) {
        *out = rep->integer;
    } else if (rep->type == REDIS_REPLY_ARRAY && rep->elements >= 1 && rep->element[0] &&
               rep->element[0]->type == REDIS_REPLY_INTEGER) {
        *out = rep->element[0]->integer;   /* XPENDING summary: [count, min, max, consumers] */
    } else {
        freeReplyObject(rep);
        return vg_fail(VG_ERR_PARSE, "redis %s: unexpected reply", argv[0]);
    }
    freeReplyObject(rep);
    return *out >= 0 ? VG_OK : vg_fail(VG_ERR_PARSE, "redis %s: negative count", argv[0]);
}

vg_status vg_redis_pending(vg_redis *r, const char *stream, const char *group, uint64_t *out)
{
    const char *argv[] = { "XPENDING", stream, group };
    long long n = 0;
    vg_status st = int_command(r, 3, argv, &n);
    *out = (uint64_t)n;
    return st;
}

vg_status vg_redis_xlen(vg_redis *r, const char *stream, uint64_t *out)
{
    const char *argv[] = { "XLEN", stream };
    long long n = 0;
    vg_status st = int_command(r, 2, argv, &n);
    *out = (uint64_t)n;
    return st;
}
