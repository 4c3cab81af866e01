/* Building and sending replies (see reply.h). */
#include "serve/reply.h"

#include <string.h>

#include "serve/server_impl.h"

void vg_reply_error(vg_request *rq, unsigned status, const char *msg, vg_reply *out)
{
    vg_text t;
    vg_text_init(&t, &rq->arena, 128 + strlen(msg));
    vg_text_puts(&t, "{\"error\":");
    vg_text_json_cstr(&t, msg);
    vg_text_puts(&t, "}\n");
    out->status = status;
    out->content_type = "application/json";
    out->data = t.failed ? "{\"error\":\"out of memory\"}\n" : t.data;
    out->len = t.failed ? strlen(out->data) : t.len;
}

void vg_reply_json(vg_request *rq, unsigned status, const vg_text *t, vg_reply *out)
{
    if (t->failed) {
        vg_reply_error(rq, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory building the response", out);
        return;
    }
    out->status = status;
    out->content_type = "application/json";
    out->data = t->data;
    out->len = t->len;
}

enum MHD_Result vg_reply_send(struct MHD_Connection *c, vg_request *rq, const vg_reply *r)
{
    /* The body lives in the request's arena (or static memory) until the
     * completion callback, after the response has been sent. */
    struct MHD_Response *resp = MHD_create_response_from_buffer(r->len, (void *)r->data, MHD_RESPMEM_PERSISTENT);
    if (!resp) return MHD_NO;
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, r->content_type);
    if (rq->route->flags & VG_ROUTE_NO_STORE)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
    if (r->allow) MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW, r->allow);
    if (r->status == MHD_HTTP_UNAUTHORIZED)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_WWW_AUTHENTICATE, "Bearer realm=\"vigil\"");
    const char *cors = rq->srv->cors;
    if (cors) {
        MHD_add_response_header(resp, MHD_HTTP_HEADER_ACCESS_CONTROL_ALLOW_ORIGIN, cors);
        MHD_add_response_header(resp, MHD_HTTP_HEADER_VARY, "Origin");
    }
    enum MHD_Result ret = MHD_queue_response(c, r->status, resp);
    MHD_destroy_response(resp);
    rq->status = r->status;
    rq->responded = 1;
    return ret;
}

enum MHD_Result vg_reply_send_error(struct MHD_Connection *c, vg_request *rq, unsigned status, const char *msg)
{
    vg_reply r = { 0 };
    vg_reply_error(rq, status, msg, &r);
    return vg_reply_send(c, rq, &r);
}

enum MHD_Result vg_reply_preflight(struct MHD_Connection *c, vg_request *rq)
{
    struct MHD_Response *resp = MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
    if (!resp) return MHD_NO;
    MHD_add_response_header(resp, MHD_HTTP_HEADER_ACCESS_CONTROL_ALLOW_ORIGIN, rq->srv->cors);
    MHD_add_response_header(resp, MHD_HTTP_HEADER_VARY, "Origin");
    MHD_add_response_header(resp, "Access-Control-Allow-Methods", "GET, POST, OPTIONS");
    MHD_add_response_header(resp, "Access-Control-Allow-Headers", "Authorization, Content-Type, X-API-Key");
    MHD_add_response_header(resp, "Access-Control-Max-Age", "600");
    enum MHD_Result ret = MHD_queue_response(c, MHD_HTTP_NO_CONTENT, resp);
    MHD_destroy_response(resp);
    rq->status = MHD_HTTP_NO_CONTENT;
    rq->responded = 1;
    return ret;
}
