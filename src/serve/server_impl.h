/* Internals shared by the server's files: the server object and the
 * per-request context. Not installed; only src/serve/ and its tests include
 * it. */
#ifndef VG_SERVE_SERVER_IMPL_H
#define VG_SERVE_SERVER_IMPL_H

#include <microhttpd.h>
#include <stdalign.h>
#include <stdatomic.h>
#include <stddef.h>
#include <time.h>

#include "serve/arena.h"
#include "serve/auth.h"
#include "serve/catalog.h"
#include "serve/recent.h"
#include "serve/reply.h"
#include "serve/routes.h"
#include "serve/stats.h"
#include "serve/text.h"
#include "vigil/server.h"

struct vg_server {
    vg_server_params p;
    char *host, *cors;           /* owned copies of the params' strings */
    int threads;
    int has_keys;
    vg_keyring keys;
    vg_catalog *catalog;
    vg_stats *stats;
    vg_recent *recent;
    const char **model_names;    /* n_models, borrowed from the catalog */
    const char **route_names;    /* the route table's stat labels, for vg_stats */
    struct MHD_Daemon *daemon;
    atomic_long in_flight;       /* requests between their first callback and completion */
    unsigned port;
    double started, started_wall;
    struct vg_alerts_api *alerts; /* --alerts store, or NULL (alerts_api.c) */
};

/* The first arena chunk lives inside the request object: a typical detect
 * request (1 KB body, its tape, fields and the response) fits, so it costs
 * one allocation in all. */
#define VG_REQUEST_INLINE 12288

typedef struct vg_request {
    vg_server *srv;
    double start;
    const vg_route *route;      /* the route table's row (vg_route_unknown until routed) */
    const char *url, *method;   /* libmicrohttpd's, for the current callback */
    const char *name;           /* model name from the URL (arena), or NULL */
    unsigned status;            /* 0 until a response is queued */
    int responded;              /* a response is queued; ignore further body */
    int body_over;              /* body beyond max_body: discarded, 413 at the end */
    char *body;
    size_t body_len, body_cap, body_seen;
    vg_arena arena;
    alignas(max_align_t) char inline_chunk[VG_REQUEST_INLINE];
} vg_request;

/* Unix time now, for timestamps (vg_now is monotonic). */
static inline double vg_wall_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

#endif
