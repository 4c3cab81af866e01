/* The server's route table: one row per endpoint (method, path, flags,
 * handler, the route's label on /metrics), read by dispatch (server.c), by
 * the API-key check and by the statistics (the row's index is its counter
 * slot, its `stat` the label). Adding an endpoint is one row in routes.c and
 * its handler.
 *
 * Paths: a row's path is matched exactly, except that
 *   - "{name}" stands for one path segment (no '/'), handed to the handler
 *     as rq->name; at the end of a path it must not be empty;
 *   - with VG_ROUTE_PREFIX the row also takes every path under it
 *     ("/v1" takes "/v1" and "/v1/...", not "/v1x");
 *   - a NULL path takes any path.
 * An exact (or "{name}") match wins over a prefix, the longest prefix over a
 * shorter one, and a prefix over a NULL path, so the order of the rows is
 * only the order of the labels on /metrics. Internal to src/serve/. */
#ifndef VG_SERVE_ROUTES_H
#define VG_SERVE_ROUTES_H

#include <stddef.h>

struct MHD_Connection;
struct vg_server;
struct vg_request;
struct vg_reply;

typedef enum vg_route_method {
    VG_ROUTE_GET,    /* GET or HEAD; answered as soon as the headers are in */
    VG_ROUTE_POST,   /* POST; the handler runs once the body is in (under --max-body) */
    VG_ROUTE_ANY,    /* any method; answered as soon as the headers are in */
} vg_route_method;

enum {
    VG_ROUTE_PUBLIC = 1 << 0,   /* answered without an API key */
    VG_ROUTE_PREFIX = 1 << 1,   /* also takes the paths under this one */
    VG_ROUTE_NO_STORE = 1 << 2, /* replies say Cache-Control: no-store */
};

/* Fills `out` (its body in the request's arena or static memory); reads the
 * query through `c` and, for POST routes, rq->body. */
typedef void (*vg_route_fn)(struct vg_server *s, struct MHD_Connection *c, struct vg_request *rq,
                            struct vg_reply *out);

typedef struct vg_route {
    vg_route_method method;
    const char *path;     /* see above; NULL: any path */
    unsigned flags;       /* VG_ROUTE_* */
    vg_route_fn handler;
    const char *stat;     /* the route label on /metrics: unique, [a-z_]+ */
} vg_route;

/* The table (static) and its length. */
extern const vg_route vg_route_table[];
extern const size_t vg_route_count;

/* The row for `url` (never NULL: a NULL-path row takes what nothing else
 * does). A "{name}" segment is returned in *name / *name_len, pointing into
 * url; *name is NULL when the row has none. */
const vg_route *vg_route_match(const char *url, const char **name, size_t *name_len);

/* The row that answers 404 for unknown paths under /v1; it also counts the
 * requests refused before they were routed (oversized headers). */
const vg_route *vg_route_unknown(void);

/* "GET", "POST" or "*". */
const char *vg_route_method_str(vg_route_method m);

#endif
