/* Replies of the server: what a route handler fills (status, body, type),
 * the JSON bodies every handler shares ({"error": ...} and a built text),
 * and sending one over libmicrohttpd with the headers every reply carries
 * (Cache-Control by route, CORS, Allow, WWW-Authenticate). Internal to
 * src/serve/. */
#ifndef VG_SERVE_REPLY_H
#define VG_SERVE_REPLY_H

#include <microhttpd.h>
#include <stddef.h>

#include "serve/text.h"

struct vg_request;

/* What a handler produces: status, body (arena or static memory) and type. */
typedef struct vg_reply {
    unsigned status;
    const char *content_type;
    const char *data;
    size_t len;
    const char *allow;          /* Allow header for 405 */
} vg_reply;

/* {"error": msg} with `status`, in the request's arena. */
void vg_reply_error(struct vg_request *rq, unsigned status, const char *msg, vg_reply *out);
/* The text as a JSON reply (or a 500 if building it ran out of memory). */
void vg_reply_json(struct vg_request *rq, unsigned status, const vg_text *t, vg_reply *out);

/* Queue `r` as the request's response and mark the request answered. The
 * body is not copied: it must live until the request completes (the
 * request's arena does). MHD_NO if libmicrohttpd could not take it. */
enum MHD_Result vg_reply_send(struct MHD_Connection *c, struct vg_request *rq, const vg_reply *r);
/* vg_reply_error, sent. */
enum MHD_Result vg_reply_send_error(struct MHD_Connection *c, struct vg_request *rq, unsigned status,
                                    const char *msg);
/* 204 to a CORS preflight (the server has a CORS origin). */
enum MHD_Result vg_reply_preflight(struct MHD_Connection *c, struct vg_request *rq);

#endif
