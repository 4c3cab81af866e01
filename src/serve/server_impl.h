/* Internals shared by the server's files: the server object, the
 * per-request context and the reply a route handler fills. Not installed;
 * only src/serve/ and its tests include it. */
#ifndef VG_SERVE_SERVER_IMPL_H
#define VG_SERVE_SERVER_IMPL_H

#include <microhttpd.h>
#include <stdalign.h>
#include <stdatomic.h>
#include <stddef.h>

#include "serve/arena.h"
#include "serve/auth.h"
#include "serve/catalog.h"
#include "serve/recent.h"
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
    atomic_ullong *reloads_ok, *reloads_failed;  /* per model */
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
    vg_route route;
    const char *name;           /* model name from the URL (arena), or NULL */
    unsigned status;            /* 0 until a response is queued */
    int responded;              /* a response is queued; ignore further body */
    int body_over;              /* body beyond max_body: discarded, 413 at the end */
    char *body;
    size_t body_len, body_cap, body_seen;
    vg_arena arena;
    alignas(max_align_t) char inline_chunk[VG_REQUEST_INLINE];
} vg_request;

/* What a handler produces: status, body (arena or static memory) and type. */
typedef struct vg_reply {
    unsigned status;
    const char *content_type;
    const char *data;
    size_t len;
    const char *allow;          /* Allow header for 405 */
} vg_reply;

/* Handlers (routes.c). GET handlers read only the query; POST handlers also
 * the body. */
void vg_route_models(vg_server *s, vg_request *rq, vg_reply *out);
void vg_route_model(vg_server *s, vg_request *rq, const char *name, vg_reply *out);
void vg_route_reload(vg_server *s, vg_request *rq, const char *name, vg_reply *out);
void vg_route_detect(vg_server *s, struct MHD_Connection *c, vg_request *rq, int batch, vg_reply *out);
void vg_route_recent(vg_server *s, struct MHD_Connection *c, vg_request *rq, vg_reply *out);
void vg_route_stats(vg_server *s, vg_request *rq, vg_reply *out);
void vg_route_metrics(vg_server *s, vg_request *rq, vg_reply *out);
void vg_route_health(vg_server *s, vg_request *rq, int ready, vg_reply *out);

/* {"error": msg} with `status`, in the request's arena. */
void vg_reply_error(vg_request *rq, unsigned status, const char *msg, vg_reply *out);
/* The text as a JSON reply (or a 500 if building it ran out of memory). */
void vg_reply_json(vg_request *rq, unsigned status, const vg_text *t, vg_reply *out);

/* Unix time now, for timestamps. */
double vg_wall_now(void);

#endif
