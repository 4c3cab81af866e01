/* The server's view of an alert store written by `vigil watch --alerts`:
 * GET /v1/alerts (filtered listing, newest first) and GET /v1/alerts/summary
 * (counts per label, source, model, entity and per time bucket). The store
 * is opened read-only, lazily (a watcher may create it after the server
 * starts), and shared by the server threads under a mutex: every query is
 * indexed by time or entity and bounded by a limit, and SQLite waits at most
 * a short busy timeout, so no HTTP thread is held for long. Internal to
 * src/serve/. */
#ifndef VG_SERVE_ALERTS_API_H
#define VG_SERVE_ALERTS_API_H

#include <microhttpd.h>

#include "vigil/core.h"

#define VG_ALERTS_DEFAULT_LIMIT 100
#define VG_ALERTS_MAX_LIMIT 1000
#define VG_ALERTS_MAX_TOP 100
#define VG_ALERTS_MAX_PARAM 256     /* bytes of a text filter (entity, label, source) */
#define VG_ALERTS_BUSY_MS 250       /* how long a query may wait for a writer's lock */

typedef struct vg_alerts_api vg_alerts_api;

/* A view of the store at `path`. If the file exists it must be a vigil
 * alert store (VG_ERR_FORMAT otherwise, VG_ERR_IO if unreadable); if it does
 * not, it is opened on the first request that finds it. *out is new. */
vg_status vg_alerts_api_new(const char *path, vg_alerts_api **out);
void vg_alerts_api_free(vg_alerts_api *a);
const char *vg_alerts_api_path(const vg_alerts_api *a);  /* borrowed */

struct vg_server;
struct vg_request;
struct vg_reply;
/* The handlers (rows of the route table, routes.c), over the server's store;
 * without one (no --alerts): 404 saying how to add one. */
void vg_route_alerts(struct vg_server *s, struct MHD_Connection *c, struct vg_request *rq, struct vg_reply *out);
void vg_route_alerts_summary(struct vg_server *s, struct MHD_Connection *c, struct vg_request *rq,
                             struct vg_reply *out);

#endif
