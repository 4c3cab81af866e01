/* vigil's detection service: an HTTP/JSON server (libmicrohttpd, epoll,
 * a thread pool) that scores raw records with one or more loaded models.
 *
 * Endpoints (JSON in and out; errors are {"error": "..."} with a 4xx status
 * naming the field and the problem, 5xx only for the server's own failures):
 *   POST /v1/detect[?model=NAME&explain=1&top=N]   one record (an object of
 *        raw field names and values) -> {"model","anomaly","score","label",
 *        "probabilities"?,"warnings"?,"explanation"?}
 *   POST /v1/detect/batch                          an array of records, or
 *        {"records": [...]} -> an array of results, an item being
 *        {"error": "..."} for a record that could not be scored
 *   GET  /v1/models                                {"models": [...]}
 *   GET  /v1/models/NAME                           schema, metrics, example
 *        input, feature importance
 *   POST /v1/models/NAME/reload                    reload the file from disk
 *   GET  /v1/detections/recent?limit=N             {"detections": [...]} newest first
 *   GET  /v1/stats                                 counters, last-minute rates
 *        and latency for the dashboard
 *   GET  /v1/alerts?since=&until=&entity=&label=&source=&min_score=&limit=
 *        alerts from the --alerts store, newest first: {"store", "alerts":
 *        [{"id", "created", "time", "source", "line", "entity"?, "model",
 *        "label", "score", "top"?, "raw"}], "count", "limit", "more",
 *        "filter"}; limit 1..1000, default 100; since/until as for
 *        `vigil alerts` (unix s, ISO 8601, or an age like 2h)
 *   GET  /v1/alerts/summary?since=&until=&entity=&label=&source=&min_score=&top=&bucket=
 *        {"store", "stored", "total", "first", "last", "timeline": {"start",
 *        "bucket_seconds", "counts": [...]}, "labels", "sources", "models",
 *        "entities": [{"key", "alerts", "max_score"}], "filter"}; by default
 *        the 24 hours up to the latest alert, per hour
 *        (docs/alerts.md; 404 without --alerts, 503 until the file exists)
 *   GET  /healthz  /readyz  /metrics (Prometheus)  and the dashboard at /
 *
 * Shapes the dashboard reads:
 *   /v1/detections/recent: {"detections": [{"time" (Unix s), "model", "label",
 *        "score", "anomaly", "record" (the object as sent, cut to whole fields
 *        within a byte budget), "truncated"}, ...]} newest first (limit
 *        default 50, at most the number kept);
 *   /v1/stats: {"uptime_seconds", "started_at_unix", "requests", "errors",
 *        "detections", "anomalies" (since start), "memory_bytes",
 *        "memory_peak_bytes", "models_loaded", "threshold", "threads",
 *        "alert_store" (the --alerts path or null),
 *        "last_minute": {"seconds", "requests", "errors", "detections",
 *        "anomalies", "requests_per_second", "detections_per_second",
 *        "anomalies_per_second", "latency_ms": {"p50", "p99"},
 *        "per_second": {"requests": [60], "detections": [60],
 *        "anomalies": [60]} (oldest first, the last is the current second)},
 *        "models": {NAME: {"detections", "anomalies", "generation", "family"}}};
 *   explanation (POST /v1/detect?explain=1): {"explained" (class), "raw_score",
 *        "bias", "top": [{"field", "value", "imputed"?, "contribution"}],
 *        "others"} with bias + contributions + others == raw_score.
 *
 * Safety: every client-fed buffer has a limit in vg_server_params; with an
 * API key file, every route but /healthz, /readyz, CORS preflights and the
 * dashboard's static files needs "Authorization: Bearer KEY" or
 * "X-API-Key: KEY" (compared in constant time). Models reload atomically:
 * requests in flight finish on the model they started with.
 *
 * Threads: the server runs its own threads; vg_server_reload may be called
 * from any thread while it serves. */
#ifndef VIGIL_SERVER_H
#define VIGIL_SERVER_H

#include <stddef.h>
#include "vigil/core.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct vg_server vg_server;

/* What the server does with a record that lacks inputs of the model or
 * names fields it does not know (each model has one; --missing):
 *   reject - 422 when more than half of the model's inputs are missing (absent
 *            or null) or any field name is unknown (not an input, nor a
 *            column the model sets aside such as its label), naming them;
 *            other records are scored as with warn. The default: a record
 *            of misspelled names would otherwise be scored on imputed values
 *            alone, with confidence;
 *   warn   - score it (missing inputs imputed, unknown fields ignored) with
 *            warnings naming each, and, for a record reject would refuse, a
 *            first warning saying the score rests mostly on imputed values;
 *   impute - score it, with the per-field warnings only (the behaviour
 *            before the policy existed). */
typedef enum vg_missing_policy {
    VG_MISSING_REJECT = 0,
    VG_MISSING_WARN = 1,
    VG_MISSING_IMPUTE = 2
} vg_missing_policy;

VG_API const char *vg_missing_policy_str(vg_missing_policy p);
/* "reject", "warn" or "impute"; VG_ERR_INVALID otherwise. */
VG_API vg_status vg_missing_policy_parse(const char *s, vg_missing_policy *out);

typedef struct vg_server_params {
    const char *host;              /* address to listen on; default "127.0.0.1" */
    unsigned port;                 /* default 8080; 0 = pick a free port (see vg_server_port) */
    int threads;                   /* server threads; 0 = vg_server_threads_default() */
    double threshold;              /* anomaly when score >= threshold; NaN = 0.5 for
                                      classification, never for regression */
    size_t max_body;               /* request body bytes (413 beyond); default 1 MiB */
    size_t max_batch;              /* records per batch (413 beyond); default 1000 */
    size_t max_fields;             /* fields per record (400 beyond); default 1024 */
    size_t max_depth;              /* JSON nesting (400 beyond); default 16 */
    size_t max_header;             /* request line + headers bytes (JSON 431 beyond); default 16 KiB */
    size_t max_request_memory;     /* scratch memory per request; default 64 MiB */
    unsigned timeout;              /* seconds a connection may stay idle; default 10 */
    unsigned max_connections;      /* open connections; default 1024 */
    const char *cors_origin;       /* Access-Control-Allow-Origin value; NULL = no CORS headers */
    const char *api_key_file;      /* NULL = no authentication */
    size_t recent;                 /* recent detections kept; default 200 */
    size_t recent_record_bytes;    /* record text kept per recent detection; default 1024 */
    vg_missing_policy missing;     /* every model's policy unless set per model; default reject */
} vg_server_params;

VG_API vg_server_params vg_server_params_default(void);
/* NULL if the parameters are usable, else a static message. */
VG_API const char *vg_server_params_check(const vg_server_params *p);

/* A server that does not listen yet. Reads the API key file if one is given
 * (failing with its message). Free with vg_server_free. */
VG_API vg_status vg_server_new(const vg_server_params *p, vg_server **out);

/* How the server runs its threads, exported so bench/bench_echo.c (the
 * ceiling the server is measured against) runs its own the same way.
 * vg_server_threads_default: the thread count when params.threads is 0, one
 * per CPU in the affinity mask (why: server.c, "Threads").
 * vg_server_thread_init: called once on each server thread before its first
 * request (a short scheduler slice; VG_SERVE_SLICE_US=0 leaves the
 * default); a no-op after the first call on a thread. */
VG_API int vg_server_threads_default(void);
VG_API void vg_server_thread_init(void);
/* Load a model to serve as `name` (NULL: the file's base name without
 * .vgm); the first one added is the default. Before vg_server_start only. */
VG_API vg_status vg_server_add_model(vg_server *s, const char *name, const char *path);
/* Serve the alert store at `path` (written by `vigil watch --alerts`),
 * read-only, on GET /v1/alerts and /v1/alerts/summary. The file may not
 * exist yet (it is opened once it does); if it exists it must be an alert
 * store (VG_ERR_FORMAT). One store per server: a second call fails with
 * VG_ERR_INVALID. Before vg_server_start only. */
VG_API vg_status vg_server_add_alert_store(vg_server *s, const char *path);
/* Start listening and serving. Fails (VG_ERR_IO) if the address cannot be
 * bound, naming it. */
VG_API vg_status vg_server_start(vg_server *s);
/* The port actually listened on (useful with port 0), after start. */
VG_API unsigned vg_server_port(const vg_server *s);

/* The missing-field policy of model `name` (added before), instead of
 * the server's default. VG_ERR_INVALID for an unknown name. Before
 * vg_server_start only. */
VG_API vg_status vg_server_set_missing(vg_server *s, const char *name, vg_missing_policy p);

VG_API size_t vg_server_n_models(const vg_server *s);
VG_API const char *vg_server_model_name(const vg_server *s, size_t i);   /* borrowed */

/* Reload model `name` (NULL: every model) from its file. A file that fails
 * to load leaves the previous model serving; the error names the model and
 * why (with NULL, every model is attempted and the first failure returned). */
VG_API vg_status vg_server_reload(vg_server *s, const char *name);

/* Stop serving: close the listening socket and connections, wait for the
 * server threads. Safe to call twice; vg_server_free calls it. */
VG_API void vg_server_stop(vg_server *s);
VG_API void vg_server_free(vg_server *s);

#ifdef __cplusplus
}
#endif

#endif
