/* The HTTP side of the detection server: libmicrohttpd setup, the
 * per-request life cycle (body accumulation under the limits, routing
 * through the route table, authentication, CORS) and the server's life
 * cycle. The route table and its handlers are in routes.c, the replies in
 * reply.c. */
#include "serve/server_impl.h"

#include <errno.h>
#include <math.h>
#include <netdb.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "serve/alerts_api.h"
#include "vigil/parallel.h"

vg_server_params vg_server_params_default(void)
{
    return (vg_server_params){
        .host = "127.0.0.1",
        .port = 8080,
        .threads = 0,
        .threshold = NAN,
        .max_body = 1u << 20,
        .max_batch = 1000,
        .max_fields = 1024,
        .max_depth = 16,
        .max_header = 16u << 10,
        .max_request_memory = 64u << 20,
        .timeout = 10,
        .max_connections = 1024,
        .recent = 200,
        .recent_record_bytes = 1024,
    };
}

const char *vg_server_params_check(const vg_server_params *p)
{
    if (!p->host || !*p->host) return "the listen host is empty";
    if (p->port > 65535) return "the port must be from 0 to 65535";
    if (p->threads < 0 || p->threads > 1024) return "threads must be from 0 (two per CPU) to 1024";
    if (!isnan(p->threshold) && !isfinite(p->threshold)) return "the threshold must be a finite number";
    if (p->max_body < 2 || p->max_body > (1u << 30)) return "max body must be from 2 bytes to 1 GiB";
    if (p->max_batch < 1 || p->max_batch > 1000000) return "max batch must be from 1 to 1000000";
    if (p->max_fields < 1 || p->max_fields > 1000000) return "max fields must be from 1 to 1000000";
    if (p->max_depth < 1 || p->max_depth > 1000) return "max depth must be from 1 to 1000";
    if (p->max_header < 1024 || p->max_header > (64u << 20)) return "max header must be from 1 KiB to 64 MiB";
    if (p->max_request_memory < (1u << 20)) return "max request memory must be at least 1 MiB";
    if (p->timeout < 1 || p->timeout > 86400) return "the connection timeout must be from 1 to 86400 seconds";
    if (p->max_connections < 1 || p->max_connections > 1000000) return "max connections must be from 1 to 1000000";
    if (p->recent < 1 || p->recent > 100000) return "recent detections kept must be from 1 to 100000";
    if (p->recent_record_bytes < 64 || p->recent_record_bytes > (1u << 20))
        return "recent record bytes must be from 64 to 1 MiB";
    if (p->missing != VG_MISSING_REJECT && p->missing != VG_MISSING_WARN && p->missing != VG_MISSING_IMPUTE)
        return "the missing-field policy must be reject, warn or impute";
    if (p->cors_origin && (!*p->cors_origin || strpbrk(p->cors_origin, "\r\n")))
        return "the CORS origin must be a non-empty single-line value";
    return NULL;
}

vg_status vg_server_new(const vg_server_params *p, vg_server **out)
{
    *out = NULL;
    const char *bad = vg_server_params_check(p);
    if (bad) return vg_fail(VG_ERR_INVALID, "%s", bad);
    vg_server *s = vg_calloc(1, sizeof *s);
    if (!s) return vg_fail(VG_ERR_NOMEM, "out of memory");
    s->p = *p;
    s->host = vg_strdup(p->host);
    s->cors = p->cors_origin ? vg_strdup(p->cors_origin) : NULL;
    s->p.host = s->host;
    s->p.cors_origin = s->cors;
    s->p.api_key_file = NULL;
    vg_status st = s->host && (!p->cors_origin || s->cors) ? VG_OK : vg_fail(VG_ERR_NOMEM, "out of memory");
    if (!st && p->api_key_file) {
        st = vg_keyring_load(p->api_key_file, &s->keys);
        s->has_keys = st == VG_OK;
    }
    if (!st) st = vg_catalog_new(&s->catalog);
    if (st) {
        vg_server_free(s);
        return st;
    }
    s->threads = p->threads ? p->threads : vg_server_threads_default();
    *out = s;
    return VG_OK;
}

vg_status vg_server_add_model(vg_server *s, const char *name, const char *path)
{
    if (s->daemon) return vg_fail(VG_ERR_INVALID, "models can only be added before the server starts");
    vg_status st = vg_catalog_add(s->catalog, name, path);
    if (!st) vg_catalog_set_missing(s->catalog, vg_catalog_count(s->catalog) - 1, s->p.missing);
    return st;
}

const char *vg_missing_policy_str(vg_missing_policy p)
{
    switch (p) {
    case VG_MISSING_REJECT: return "reject";
    case VG_MISSING_WARN: return "warn";
    case VG_MISSING_IMPUTE: return "impute";
    }
    return "unknown";
}

vg_status vg_missing_policy_parse(const char *s, vg_missing_policy *out)
{
    for (int p = VG_MISSING_REJECT; p <= VG_MISSING_IMPUTE; p++)
        if (strcmp(s, vg_missing_policy_str((vg_missing_policy)p)) == 0) {
            *out = (vg_missing_policy)p;
            return VG_OK;
        }
    return vg_fail(VG_ERR_INVALID, "'%s' is not a missing-field policy (use impute, warn or reject)", s);
}

vg_status vg_server_set_missing(vg_server *s, const char *name, vg_missing_policy p)
{
    if (s->daemon) return vg_fail(VG_ERR_INVALID, "policies can only be set before the server starts");
    long i = vg_catalog_find(s->catalog, name, strlen(name));
    if (i < 0) return vg_fail(VG_ERR_INVALID, "no model named '%s' is served", name);
    vg_catalog_set_missing(s->catalog, (size_t)i, p);
    return VG_OK;
}

size_t vg_server_n_models(const vg_server *s)
{
    return vg_catalog_count(s->catalog);
}

const char *vg_server_model_name(const vg_server *s, size_t i)
{
    return vg_catalog_name(s->catalog, i);
}

unsigned vg_server_port(const vg_server *s)
{
    return s->port;
}

vg_status vg_server_reload(vg_server *s, const char *name)
{
    size_t n = vg_catalog_count(s->catalog);
    if (name) {
        long i = vg_catalog_find(s->catalog, name, strlen(name));
        if (i < 0) return vg_fail(VG_ERR_INVALID, "no model named '%s'", name);
        return vg_catalog_reload(s->catalog, (size_t)i);
    }
    vg_status first = VG_OK;
    char msg[512] = "";
    for (size_t i = 0; i < n; i++) {
        vg_status st = vg_catalog_reload(s->catalog, i);
        if (st && !first) {
            first = st;
            snprintf(msg, sizeof msg, "%s", vg_last_error());
        }
    }
    if (first) return vg_fail(first, "%s", msg);
    return VG_OK;
}

/* ---- one request -------------------------------------------------------- */

static int authorized(vg_server *s, struct MHD_Connection *c)
{
    const char *v = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION);
    const char *key;
    size_t len;
    int ok = 0;
    if (v && vg_auth_bearer(v, &key, &len)) ok |= vg_keyring_check(&s->keys, key, len);
    v = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "X-API-Key");
    if (v) ok |= vg_keyring_check(&s->keys, v, strlen(v));
    return ok;
}

/* Does the route take `method`? HEAD is answered like GET. */
static int method_allowed(const vg_route *r, const char *method)
{
    switch (r->method) {
    case VG_ROUTE_GET: return strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0;
    case VG_ROUTE_POST: return strcmp(method, "POST") == 0;
    case VG_ROUTE_ANY: return 1;
    }
    return 0;
}

static enum MHD_Result add_header_bytes(void *cls, enum MHD_ValueKind kind, const char *key, size_t key_len,
                                        const char *value, size_t value_len)
{
    (void)kind, (void)key;
    *(size_t *)cls += key_len + (value ? value_len : 0) + 4;  /* ": " and CRLF */
    return MHD_YES;
}

/* Bytes of the request line and headers as the client sent them (give or
 * take whitespace). libmicrohttpd answers headers past its connection memory
 * with its own HTML page, so its limit is set to twice --max-header (see
 * vg_server_start) and the limit proper is enforced here, with a JSON reply. */
static size_t header_bytes(struct MHD_Connection *c, const char *url, const char *method)
{
    size_t n = strlen(method) + strlen(url) + sizeof " HTTP/1.1\r\n";
    MHD_get_connection_values_n(c, MHD_HEADER_KIND, add_header_bytes, &n);
    return n;
}

/* The first call for a request: headers are in, the body is not. Routes
 * without a body are answered here; so are requests refused before their
 * body is read (auth, size), which also spares reading it. */
static enum MHD_Result begin(vg_server *s, struct MHD_Connection *c, vg_request *rq, const char *url,
                             const char *method)
{
    size_t hb = header_bytes(c, url, method);
    if (hb > s->p.max_header) {
        char msg[160];
        snprintf(msg, sizeof msg, "request line and headers of %zu bytes exceed the limit of %zu bytes (--max-header)",
                 hb, s->p.max_header);
        return vg_reply_send_error(c, rq, MHD_HTTP_REQUEST_HEADER_FIELDS_TOO_LARGE, msg);
    }
    const char *name;
    size_t name_len;
    const vg_route *route = vg_route_match(url, &name, &name_len);
    rq->route = route;
    if (strcmp(method, "OPTIONS") == 0 && s->cors) return vg_reply_preflight(c, rq);
    if (!method_allowed(route, method)) {
        vg_reply r = { 0 };
        char msg[96];
        snprintf(msg, sizeof msg, "method %.16s not allowed here: use %s", method,
                 vg_route_method_str(route->method));
        vg_reply_error(rq, MHD_HTTP_METHOD_NOT_ALLOWED, msg, &r);
        r.allow = route->method == VG_ROUTE_GET ? "GET, HEAD" : "POST";
        return vg_reply_send(c, rq, &r);
    }
    if (s->has_keys && !(route->flags & VG_ROUTE_PUBLIC) && !authorized(s, c))
        return vg_reply_send_error(c, rq, MHD_HTTP_UNAUTHORIZED,
                                   "missing or invalid API key: send 'Authorization: Bearer KEY' or 'X-API-Key: KEY'");
    if (name) {
        rq->name = vg_arena_strndup(&rq->arena, name, name_len);
        if (!rq->name) return MHD_NO;
    }
    if (route->method != VG_ROUTE_POST) {
        vg_reply r = { 0 };
        route->handler(s, c, rq, &r);
        return vg_reply_send(c, rq, &r);
    }
    /* A POST route: refuse an announced body over the limit before reading it. */
    const char *cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
    if (cl) {
        char *end;
        unsigned long long n = strtoull(cl, &end, 10);
        if (end != cl && n > s->p.max_body) {
            char msg[160];
            snprintf(msg, sizeof msg, "request body of %llu bytes exceeds the limit of %zu bytes (--max-body)", n,
                     s->p.max_body);
            return vg_reply_send_error(c, rq, MHD_HTTP_CONTENT_TOO_LARGE, msg);
        }
        if (end != cl && n > 0) {
            rq->body = vg_arena_alloc(&rq->arena, n);
            if (!rq->body) return MHD_NO;
            rq->body_cap = n;
        }
    }
    return MHD_YES;
}

/* Append a chunk of the body. Past max_body the rest is only counted (a
 * 413 follows); a client that keeps sending far beyond is disconnected. */
static enum MHD_Result take_body(vg_server *s, vg_request *rq, const char *data, size_t n)
{
    rq->body_seen += n;
    if (rq->body_over || rq->body_len + n > s->p.max_body) {
        rq->body_over = 1;
        return rq->body_seen > 16 * s->p.max_body ? MHD_NO : MHD_YES;
    }
    if (rq->body_len + n > rq->body_cap) {
        size_t cap = VG_MAX(rq->body_cap * 2, rq->body_len + n);
        if (cap > s->p.max_body) cap = s->p.max_body;
        char *b = vg_arena_grow(&rq->arena, rq->body, rq->body_cap, cap);
        if (!b) return MHD_NO;
        rq->body = b;
        rq->body_cap = cap;
    }
    memcpy(rq->body + rq->body_len, data, n);
    rq->body_len += n;
    return MHD_YES;
}

static enum MHD_Result finish(vg_server *s, struct MHD_Connection *c, vg_request *rq)
{
    if (rq->body_over) {
        char msg[160];
        snprintf(msg, sizeof msg, "request body exceeds the limit of %zu bytes (--max-body)", s->p.max_body);
        return vg_reply_send_error(c, rq, MHD_HTTP_CONTENT_TOO_LARGE, msg);
    }
    vg_reply r = { 0 };
    rq->route->handler(s, c, rq, &r);
    return vg_reply_send(c, rq, &r);
}

/* Request objects are kept for reuse by the thread that freed them, so the
 * steady state allocates none (a request object is ~12 KiB: its arena's
 * first chunk is inside it). libmicrohttpd runs a connection's callbacks,
 * completion included, on the one pool thread that owns the connection, so
 * an object mostly returns to the cache it came from; each thread keeps at
 * most REQUEST_CACHE, freed when the thread ends (the pool's threads end
 * when the daemon stops). */
#define REQUEST_CACHE 64

typedef struct request_cache {
    size_t n;
    vg_request *free[REQUEST_CACHE];
} request_cache;

static pthread_key_t cache_key;
static pthread_once_t cache_once = PTHREAD_ONCE_INIT;
static int cache_ok;

static void cache_drop(void *p)
{
    request_cache *c = p;
    for (size_t i = 0; i < c->n; i++) vg_free(c->free[i]);
    vg_free(c);
}

static void cache_init(void)
{
    cache_ok = pthread_key_create(&cache_key, cache_drop) == 0;
}

static vg_request *request_take(void)
{
    pthread_once(&cache_once, cache_init);
    request_cache *c = cache_ok ? pthread_getspecific(cache_key) : NULL;
    if (c && c->n) return c->free[--c->n];
    return vg_malloc(sizeof(vg_request));
}

static void request_give(vg_request *rq)
{
    request_cache *c = cache_ok ? pthread_getspecific(cache_key) : NULL;
    if (!c && cache_ok && (c = vg_calloc(1, sizeof *c)) && pthread_setspecific(cache_key, c) != 0) {
        vg_free(c);
        c = NULL;
    }
    if (c && c->n < REQUEST_CACHE) c->free[c->n++] = rq;
    else vg_free(rq);
}

/* Threads. Each pool thread owns the connections it accepted and serves
 * them from its own epoll loop, so while a thread waits for a CPU every
 * request on its connections waits too. On a machine loaded by other work,
 * two threads per CPU shortened that wait (bench/serve_ab.py: p99 at 64
 * connections 8.3 ms with 2 threads on 2 CPUs, 2.9 ms with 4); on a quiet
 * one, with only the load generator beside the server, one per CPU is
 * better (same script, the same run: p99 median 4.6 ms with 2 threads,
 * 5.2 ms with 4, and the echo server 1.3 ms vs 2.1 ms; bench/RESULTS.md,
 * the server section). One per CPU, then; --threads for a loaded host. */
int vg_server_threads_default(void)
{
    return VG_MIN(vg_cpus_available(), 1024);  /* vg_server_params_check's bound */
}

/* Linux's EEVDF scheduler (6.6+; a per-task slice from 6.12) lets a thread
 * ask for a shorter slice, and a thread with a shorter slice that wakes gets
 * an earlier deadline, so a pool thread woken by a request runs soon instead
 * of waiting out the slice of whatever holds the CPU. The pool threads spend
 * most of their life blocked in epoll, so they use little of the CPU they
 * are given promptly. Kernels without it ignore the runtime or refuse, and
 * either way nothing else changes. An A/B at 4 threads on 2 shared CPUs:
 * p99 median 2.9 ms with 250 us, 6.4 ms without (bench/RESULTS.md). */
#define SERVE_SLICE_US 250

struct slice_attr {  /* struct sched_attr of sched_setattr(2), version 0 */
    uint32_t size, policy;
    uint64_t flags;
    int32_t nice;
    uint32_t priority;
    uint64_t runtime, deadline, period;
};

void vg_server_thread_init(void)
{
#ifdef SYS_sched_setattr
    static _Thread_local int asked;
    if (asked) return;
    asked = 1;
    const char *env = getenv("VG_SERVE_SLICE_US");
    long us = env && *env ? strtol(env, NULL, 10) : SERVE_SLICE_US;
    if (us <= 0) return;
    errno = 0;
    int nice = getpriority(PRIO_PROCESS, 0);
    if (errno) return;
    struct slice_attr a = { .size = sizeof a, .policy = 0 /* SCHED_OTHER */, .nice = nice,
                            .runtime = (uint64_t)us * 1000u };
    (void)syscall(SYS_sched_setattr, 0, &a, 0);
#endif
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url, const char *method,
                                  const char *version, const char *upload, size_t *upload_size, void **ctx)
{
    vg_server *s = cls;
    vg_request *rq = *ctx;
    if (!rq) {
        vg_server_thread_init();
        /* Not zeroed as a whole: the inline chunk is scratch. */
        rq = request_take();
        if (!rq) return MHD_NO;
        rq->srv = s;
        rq->start = vg_now();
        rq->route = vg_route_unknown();
        rq->url = url;
        rq->method = method;
        rq->name = NULL;
        rq->status = 0;
        rq->responded = 0;
        rq->body_over = 0;
        rq->body = NULL;
        rq->body_len = rq->body_cap = rq->body_seen = 0;
        vg_arena_init(&rq->arena, rq->inline_chunk, sizeof rq->inline_chunk, s->p.max_request_memory);
        *ctx = rq;
        atomic_fetch_add_explicit(&s->in_flight, 1, memory_order_relaxed);
        return begin(s, c, rq, url, method);
    }
    /* Handlers may read them in a later callback (POST routes run at the end). */
    rq->url = url;
    rq->method = method;
    if (*upload_size) {
        size_t n = *upload_size;
        *upload_size = 0;
        if (rq->responded) return MHD_YES;
        return take_body(s, rq, upload, n);
    }
    if (rq->responded) return MHD_YES;
    return finish(s, c, rq);
}

static void on_completed(void *cls, struct MHD_Connection *c, void **ctx, enum MHD_RequestTerminationCode toe)
{
    vg_server *s = cls;
    vg_request *rq = *ctx;
    if (!rq) return;
    if (rq->status) {
        double now = vg_now();
        vg_stats_request(vg_stats_shard_get(s->stats), (size_t)(rq->route - vg_route_table), rq->status,
                         now - rq->start, now);
    }
    vg_arena_free(&rq->arena);
    request_give(rq);
    *ctx = NULL;
    atomic_fetch_sub_explicit(&s->in_flight, 1, memory_order_release);
}

static void on_log(void *cls, const char *fmt, va_list ap)
{
    char buf[512];
    vsnprintf(buf, sizeof buf, fmt, ap);
    size_t n = strlen(buf);
    while (n && (buf[n - 1] == '\n' || buf[n - 1] == '\r')) buf[--n] = '\0';
    /* Connection-level noise (resets, timeouts) is routine under load. */
    vg_log(VG_LOG_INFO, "http: %s", buf);
}

/* ---- life cycle -------------------------------------------------------- */

vg_status vg_server_start(vg_server *s)
{
    if (s->daemon) return vg_fail(VG_ERR_INVALID, "the server is already running");
    size_t n_models = vg_catalog_count(s->catalog);
    size_t shards = (size_t)s->threads + 1;
    vg_recent_params rp = { .capacity = s->p.recent, .record_bytes = s->p.recent_record_bytes };
    s->route_names = vg_calloc(vg_route_count, sizeof *s->route_names);
    if (!s->route_names) return vg_fail(VG_ERR_NOMEM, "out of memory");
    for (size_t i = 0; i < vg_route_count; i++) s->route_names[i] = vg_route_table[i].stat;
    vg_status st = vg_stats_new(shards, n_models, s->route_names, vg_route_count, &s->stats);
    if (!st) st = vg_recent_new(shards, &rp, &s->recent);
    if (st) return st;
    s->model_names = vg_calloc(n_models ? n_models : 1, sizeof *s->model_names);
    if (!s->model_names) return vg_fail(VG_ERR_NOMEM, "out of memory");
    for (size_t i = 0; i < n_models; i++) s->model_names[i] = vg_catalog_name(s->catalog, i);

    char port[16];
    snprintf(port, sizeof port, "%u", s->p.port);
    struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM,
                              .ai_flags = AI_PASSIVE | AI_NUMERICSERV };
    struct addrinfo *ai = NULL;
    int gai = getaddrinfo(s->host, port, &hints, &ai);
    if (gai != 0 || !ai)
        return vg_fail(VG_ERR_IO, "cannot listen on %s:%u: %s", s->host, s->p.port, gai_strerror(gai));
    struct sockaddr_storage addr;
    memcpy(&addr, ai->ai_addr, ai->ai_addrlen);
    int v6 = ai->ai_family == AF_INET6;
    freeaddrinfo(ai);

    /* ITC lets vg_server_stop quiesce the pool's threads (stop accepting). */
    unsigned flags = MHD_USE_EPOLL_INTERNAL_THREAD | MHD_USE_ITC | MHD_USE_ERROR_LOG | (v6 ? MHD_USE_IPv6 : 0);
    struct MHD_OptionItem opts[16];
    size_t k = 0;
    /* The logger first, or libmicrohttpd may print before it is set. */
    opts[k++] = (struct MHD_OptionItem){ MHD_OPTION_EXTERNAL_LOGGER, (intptr_t)on_log, s };
    opts[k++] = (struct MHD_OptionItem){ MHD_OPTION_SOCK_ADDR, 0, &addr };
    opts[k++] = (struct MHD_OptionItem){ MHD_OPTION_CONNECTION_TIMEOUT, s->p.timeout, NULL };
    /* At the limit libmicrohttpd stops accepting: newcomers wait in the
     * listen queue (at most the backlog) until a connection ends or idles
     * out, so a flood of idle sockets cannot exhaust descriptors. */
    opts[k++] = (struct MHD_OptionItem){ MHD_OPTION_CONNECTION_LIMIT, s->p.max_connections, NULL };
    /* The connection's memory holds the headers and the read buffer; twice
     * --max-header leaves room to parse headers just over the limit and
     * refuse them in begin() with a JSON 431 rather than libmicrohttpd's page. */
    opts[k++] = (struct MHD_OptionItem){ MHD_OPTION_CONNECTION_MEMORY_LIMIT, (intptr_t)(2 * s->p.max_header), NULL };
    opts[k++] = (struct MHD_OptionItem){ MHD_OPTION_NOTIFY_COMPLETED, (intptr_t)on_completed, s };
    opts[k++] = (struct MHD_OptionItem){ MHD_OPTION_LISTEN_BACKLOG_SIZE, 1024, NULL };
    if (s->threads > 1) opts[k++] = (struct MHD_OptionItem){ MHD_OPTION_THREAD_POOL_SIZE, s->threads, NULL };
    opts[k++] = (struct MHD_OptionItem){ MHD_OPTION_END, 0, NULL };
    s->daemon = MHD_start_daemon(flags, (uint16_t)s->p.port, NULL, NULL, &on_request, s, MHD_OPTION_ARRAY, opts,
                                 MHD_OPTION_END);
    if (!s->daemon)
        return vg_fail(VG_ERR_IO, "cannot listen on %s:%u (address in use or not available here?)", s->host,
                       s->p.port);
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(s->daemon, MHD_DAEMON_INFO_BIND_PORT);
    s->port = info ? info->port : s->p.port;
    s->started = vg_now();
    s->started_wall = vg_wall_now();
    return VG_OK;
}

/* Requests in flight get this long to finish when the server stops. */
#define DRAIN_SECONDS 5.0

void vg_server_stop(vg_server *s)
{
    if (!s || !s->daemon) return;
    /* Stop accepting, let requests in flight finish (bounded), then close
     * everything, idle keep-alive connections included. */
    MHD_socket listener = MHD_quiesce_daemon(s->daemon);
    if (listener != MHD_INVALID_SOCKET) close(listener);
    double t0 = vg_now();
    while (atomic_load_explicit(&s->in_flight, memory_order_acquire) > 0 && vg_now() - t0 < DRAIN_SECONDS)
        usleep(2000);
    MHD_stop_daemon(s->daemon);
    s->daemon = NULL;
}

void vg_server_free(vg_server *s)
{
    if (!s) return;
    vg_server_stop(s);
    vg_catalog_free(s->catalog);
    vg_stats_free(s->stats);
    vg_recent_free(s->recent);
    vg_alerts_api_free(s->alerts);
    vg_free(s->model_names);
    vg_free(s->route_names);
    if (s->has_keys) vg_keyring_free(&s->keys);
    vg_free(s->host);
    vg_free(s->cors);
    vg_free(s);
}
