/* Web access log lines parsed into requests (internal: io and the weblog
 * format's features): Apache /
 * Nginx combined and common formats, detected per line, and JSON lines.
 * src/features/weblog.c turns requests into online features. */
#ifndef VG_IO_WEBLOG_H
#define VG_IO_WEBLOG_H

#include <stddef.h>
#include "vigil/core.h"

/* Bounds on the parts of a request, beyond the line-length bound. */
#define VG_WEBLOG_MAX_HOST 255    /* client address or host name */
#define VG_WEBLOG_MAX_METHOD 16
#define VG_WEBLOG_MAX_ID 255      /* request id (JSON "id" / "request_id") */

typedef struct vg_weblog_request {
    const char *host;            /* client address as written (IPv4, IPv6, or name) */
    size_t host_len;
    double time;                 /* unix seconds */
    const char *method;          /* "GET"; "-" for an empty request; "invalid" for one that is not METHOD URI [PROTO] */
    size_t method_len;
    const char *uri;             /* the request target as written (still URL-encoded) */
    size_t uri_len;
    int status;                  /* 0..999 */
    double bytes;                /* response body bytes; 0 for "-" */
    const char *referer;         /* NULL when the line has none or "-" */
    size_t referer_len;
    const char *agent;           /* NULL when the line has none or "-" */
    size_t agent_len;
    const char *body;            /* the request body, or NULL: JSON "request_body" / "body", or nginx's
                                  * "$request_body" as the last quoted field after the agent (its \xHH
                                  * escapes undone; weblog_parse.c says which layouts are read) */
    size_t body_len;
    const char *id;              /* JSON request id, or NULL */
    size_t id_len;
    const char *label;           /* JSON "label", or NULL */
    size_t label_len;
} vg_weblog_request;

/* Parse one line (no newline). JSON lines start with '{'. Strings of a JSON
 * line are copied into scratch (at least len + 1 bytes), and a text line's
 * body when it had escapes to undo; the others point into line. A malformed
 * line: VG_ERR_PARSE naming the problem. */
vg_status vg_weblog_parse(const char *line, size_t len, char *scratch, size_t scratch_cap, vg_weblog_request *out);

/* Days since 1970-01-01 of a proleptic Gregorian date (shared with tests). */
long vg_weblog_days_from_civil(long y, unsigned m, unsigned d);

#endif
