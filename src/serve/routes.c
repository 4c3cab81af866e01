/* The server's route table (see routes.h) and its handlers: detection,
 * models, reload, recent detections, stats, Prometheus metrics, health, the
 * dashboard's files and the 404 for unknown endpoints (the alert store's are
 * in alerts_api.c). Each handler fills a vg_reply whose body lives in the
 * request's arena; server.c sends it. */
#include "serve/routes.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "serve/alerts_api.h"
#include "serve/assets.h"
#include "serve/detect.h"
#include "serve/json_tape.h"
#include "serve/prom.h"
#include "serve/server_impl.h"

#define DEFAULT_TOP 5
#define MAX_TOP 1000
#define DEFAULT_RECENT_LIMIT 50
#define MAX_WARNINGS 20

/* A whole number from lo to hi in a query parameter; 0 on success, else a
 * 400 reply naming the parameter. */
static int query_size(vg_request *rq, const char *name, const char *v, size_t lo, size_t hi, size_t *out,
                      vg_reply *reply)
{
    char *end;
    errno = 0;
    unsigned long long n = v[0] >= '0' && v[0] <= '9' ? strtoull(v, &end, 10) : 0;
    if (v[0] < '0' || v[0] > '9' || *end || errno || n < lo || n > hi) {
        char msg[160];
        snprintf(msg, sizeof msg, "query parameter '%s': '%.32s' is not a whole number from %zu to %zu", name, v, lo,
                 hi);
        vg_reply_error(rq, 400, msg, reply);
        return -1;
    }
    *out = (size_t)n;
    return 0;
}

static int query_bool(vg_request *rq, const char *name, const char *v, int *out, vg_reply *reply)
{
    if (strcmp(v, "1") == 0 || strcmp(v, "true") == 0 || strcmp(v, "yes") == 0 || strcmp(v, "") == 0) *out = 1;
    else if (strcmp(v, "0") == 0 || strcmp(v, "false") == 0 || strcmp(v, "no") == 0) *out = 0;
    else {
        char msg[160];
        snprintf(msg, sizeof msg, "query parameter '%s': '%.32s' is not 1/true or 0/false", name, v);
        vg_reply_error(rq, 400, msg, reply);
        return -1;
    }
    return 0;
}

/* The catalog slot of the model named `name`, or -1 after a 404 that lists
 * the loaded ones. */
static long find_model(vg_server *s, vg_request *rq, const char *name, vg_reply *out)
{
    long i = vg_catalog_find(s->catalog, name, strlen(name));
    if (i >= 0) return i;
    vg_text t;
    vg_text_init(&t, &rq->arena, 256);
    vg_text_puts(&t, "unknown model '");
    vg_text_put(&t, name, VG_MIN(strlen(name), 128));
    vg_text_puts(&t, "' (loaded:");
    for (size_t k = 0; k < vg_catalog_count(s->catalog); k++) {
        vg_text_puts(&t, k ? ", " : " ");
        vg_text_puts(&t, vg_catalog_name(s->catalog, k));
    }
    vg_text_putc(&t, ')');
    vg_reply_error(rq, 404, t.failed ? "unknown model" : t.data, out);
    return -1;
}

/* HTTP status for a failure caused by the request's content. */
static unsigned client_status(vg_status st)
{
    /* 422: well-formed JSON whose record the missing-field policy refuses. */
    return st == VG_ERR_NOMEM || st == VG_ERR_IO ? 500 : st == VG_ERR_DATA ? 422 : 400;
}

/* A batch scored as one matrix (detect.h): every record encoded into its
 * row, the rows that encoded scored by one call of the model's batch
 * kernels, then each record's result (or its error, in its place) written
 * in order, as the record-by-record loop in detect() writes them. */
static void detect_rows(vg_server *s, vg_served *sv, const vg_jtape *t, size_t first, size_t count,
                        const vg_detect_params *dp, vg_request *rq, size_t slot, vg_stats_shard *sh, double now,
                        double wall, vg_text *txt)
{
    const vg_model *m = sv->model;
    size_t nf = vg_pipeline_n_features(vg_model_pipeline(m)), k = vg_model_n_outputs(m);
    vg_detect_pending *pd = vg_arena_alloc(&rq->arena, count * sizeof *pd);
    vg_status *st = vg_arena_alloc(&rq->arena, count * sizeof *st);
    const char **msg = vg_arena_alloc(&rq->arena, count * sizeof *msg);
    size_t *objs = vg_arena_alloc(&rq->arena, count * sizeof *objs);
    float *x = vg_arena_alloc(&rq->arena, VG_MAX(count * nf, (size_t)1) * sizeof *x);
    float *proba = vg_arena_alloc(&rq->arena, count * k * sizeof *proba);
    if (!pd || !st || !msg || !objs || !x || !proba) {
        txt->failed = 1;
        return;
    }
    size_t ok = 0, obj = first;
    for (size_t r = 0; r < count; r++) {
        msg[r] = NULL;
        objs[r] = obj;
        st[r] = vg_detect_encode(sv, t, obj, dp, &rq->arena, x + ok * nf, &pd[r]);
        if (st[r]) {
            const char *e = vg_last_error();
            msg[r] = vg_arena_strndup(&rq->arena, e, strlen(e));
        } else {
            ok++;
        }
        obj = t->nodes[obj].next;
    }
    vg_matrix X = { .rows = ok, .cols = nf, .data = x };
    /* One thread: the server's threads already take requests side by side. */
    vg_status pst = ok ? vg_model_predict_rows(m, &X, 1, proba) : VG_OK;
    const char *pmsg = pst ? vg_arena_strndup(&rq->arena, vg_last_error(), strlen(vg_last_error())) : NULL;
    size_t row = 0;
    for (size_t r = 0; r < count; r++) {
        if (r) vg_text_putc(txt, ',');
        vg_detect_outcome res;
        vg_status rst = st[r];
        if (!rst && pst) rst = pst, msg[r] = pmsg;
        if (!rst) {
            rst = vg_detect_finish(sv, &pd[r], proba + row++ * k, dp, &rq->arena, txt, &res);
            if (rst) msg[r] = vg_last_error();
        } else if (!st[r]) {
            row++;
        }
        if (rst) {
            vg_text_puts(txt, "{\"error\":");
            vg_text_json_cstr(txt, msg[r] ? msg[r] : "out of memory");
            vg_text_printf(txt, ",\"status\":%u}", client_status(rst));
            continue;
        }
        vg_stats_detection(sh, slot, res.score, res.anomaly, now);
        vg_recent_push(s->recent, wall, slot, res.label, res.score, res.anomaly, t, objs[r]);
    }
}

static void detect(vg_server *s, struct MHD_Connection *c, vg_request *rq, int batch, vg_reply *out)
{
    size_t slot = 0;
    const char *model = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "model");
    if (model) {
        long i = find_model(s, rq, model, out);
        if (i < 0) return;
        slot = (size_t)i;
    } else if (vg_catalog_count(s->catalog) == 0) {
        vg_reply_error(rq, 503, "no model is loaded", out);
        return;
    }
    vg_detect_params dp = {
        .threshold = s->p.threshold,
        .max_fields = s->p.max_fields,
        .max_warnings = MAX_WARNINGS,
        .top = DEFAULT_TOP,
        .missing = vg_catalog_missing(s->catalog, slot),
    };
    const char *v = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "explain");
    if (v && query_bool(rq, "explain", v, &dp.explain, out)) return;
    v = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "top");
    if (v && query_size(rq, "top", v, 1, MAX_TOP, &dp.top, out)) return;

    vg_jtape t;
    vg_status st = vg_jtape_parse(rq->body ? rq->body : "", rq->body_len, s->p.max_depth, &rq->arena, &t);
    if (st) {
        vg_reply_error(rq, client_status(st), vg_last_error(), out);
        return;
    }

    size_t first = 0, count = 1;
    if (batch) {
        size_t arr = t.nodes[0].type == VG_JOBJECT ? vg_jtape_member(&t, 0, "records") : 0;
        if (t.nodes[arr].type != VG_JARRAY) {
            vg_reply_error(rq, 400, "a batch must be a JSON array of records or {\"records\": [...]}", out);
            return;
        }
        count = t.nodes[arr].len;
        first = arr + 1;
        if (count > s->p.max_batch) {
            char msg[160];
            snprintf(msg, sizeof msg, "batch of %zu records exceeds the limit of %zu (--max-batch)", count,
                     s->p.max_batch);
            vg_reply_error(rq, 413, msg, out);
            return;
        }
    }

    vg_served *sv = vg_catalog_acquire(s->catalog, slot);
    vg_stats_shard *sh = vg_stats_shard_get(s->stats);
    double now = vg_now(), wall = vg_wall_now();
    vg_text txt;
    vg_text_init(&txt, &rq->arena, batch ? VG_MIN(256 * count + 64, (size_t)1 << 20) : 512);
    if (batch) vg_text_putc(&txt, '[');
    unsigned status = 200;
    size_t obj = first;
    if (batch && count > 1 && vg_detect_batchable(sv)) {
        detect_rows(s, sv, &t, first, count, &dp, rq, slot, sh, now, wall, &txt);
        count = 0;  /* done */
    }
    for (size_t r = 0; r < count; r++) {
        if (batch && r) vg_text_putc(&txt, ',');
        vg_detect_outcome res;
        st = vg_detect_record(sv, &t, obj, &dp, &rq->arena, &txt, &res);
        if (st) {
            if (!batch) {
                status = client_status(st);
                break;
            }
            /* A refused record keeps its place in the reply (the others
             * are scored) with the status a single request would get. */
            vg_text_puts(&txt, "{\"error\":");
            vg_text_json_cstr(&txt, vg_last_error());
            vg_text_printf(&txt, ",\"status\":%u}", client_status(st));
        } else {
            vg_stats_detection(sh, slot, res.score, res.anomaly, now);
            vg_recent_push(s->recent, wall, slot, res.label, res.score, res.anomaly, &t, obj);
        }
        obj = t.nodes[obj].next;
    }
    vg_served_release(sv);
    if (status != 200) {
        vg_reply_error(rq, status, vg_last_error(), out);
        return;
    }
    if (batch) vg_text_putc(&txt, ']');
    vg_text_putc(&txt, '\n');
    vg_reply_json(rq, 200, &txt, out);
}

static void route_detect(vg_server *s, struct MHD_Connection *c, vg_request *rq, vg_reply *out)
{
    detect(s, c, rq, 0, out);
}

static void route_detect_batch(vg_server *s, struct MHD_Connection *c, vg_request *rq, vg_reply *out)
{
    detect(s, c, rq, 1, out);
}

static void route_models(vg_server *s, struct MHD_Connection *c, vg_request *rq, vg_reply *out)
{
    (void)c;
    vg_text t;
    vg_text_init(&t, &rq->arena, 1024);
    vg_text_puts(&t, "{\"models\":[");
    for (size_t i = 0; i < vg_catalog_count(s->catalog); i++) {
        vg_served *sv = vg_catalog_acquire(s->catalog, i);
        if (i) vg_text_putc(&t, ',');
        vg_text_puts(&t, sv->summary_json);
        vg_served_release(sv);
    }
    vg_text_puts(&t, "]}\n");
    vg_reply_json(rq, 200, &t, out);
}

static void route_model(vg_server *s, struct MHD_Connection *c, vg_request *rq, vg_reply *out)
{
    (void)c;
    long i = find_model(s, rq, rq->name, out);
    if (i < 0) return;
    vg_served *sv = vg_catalog_acquire(s->catalog, (size_t)i);
    /* Copied: a reload may free this model's text once released. */
    vg_text t;
    size_t n = strlen(sv->detail_json);
    vg_text_init(&t, &rq->arena, n + 2);
    vg_text_put(&t, sv->detail_json, n);
    vg_text_putc(&t, '\n');
    vg_served_release(sv);
    vg_reply_json(rq, 200, &t, out);
}

static void route_reload(vg_server *s, struct MHD_Connection *c, vg_request *rq, vg_reply *out)
{
    (void)c;
    long i = find_model(s, rq, rq->name, out);
    if (i < 0) return;
    vg_status st = vg_catalog_reload(s->catalog, (size_t)i);
    if (st) {
        vg_reply_error(rq, 500, vg_last_error(), out);
        return;
    }
    vg_served *sv = vg_catalog_acquire(s->catalog, (size_t)i);
    vg_text t;
    vg_text_init(&t, &rq->arena, 256);
    vg_text_puts(&t, "{\"model\":");
    vg_text_json_cstr(&t, sv->name);
    vg_text_puts(&t, ",\"reloaded\":true,\"generation\":");
    vg_text_u64(&t, sv->generation);
    vg_text_puts(&t, ",\"family\":");
    vg_text_json_cstr(&t, vg_model_family(sv->model));
    vg_text_puts(&t, ",\"loaded_at_unix\":");
    vg_text_printf(&t, "%.3f", sv->loaded_at);
    vg_text_puts(&t, "}\n");
    vg_served_release(sv);
    vg_reply_json(rq, 200, &t, out);
}

static void route_recent(vg_server *s, struct MHD_Connection *c, vg_request *rq, vg_reply *out)
{
    size_t limit = VG_MIN((size_t)DEFAULT_RECENT_LIMIT, s->p.recent);
    const char *v = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "limit");
    if (v && query_size(rq, "limit", v, 1, s->p.recent, &limit, out)) return;
    vg_text t;
    vg_text_init(&t, &rq->arena, 4096);
    vg_text_puts(&t, "{\"detections\":");
    vg_recent_json(s->recent, limit, s->model_names, &t);
    vg_text_puts(&t, "}\n");
    vg_reply_json(rq, 200, &t, out);
}

static void json_u64_array(vg_text *t, const uint64_t *v, size_t n)
{
    vg_text_putc(t, '[');
    for (size_t i = 0; i < n; i++) {
        if (i) vg_text_putc(t, ',');
        vg_text_u64(t, v[i]);
    }
    vg_text_putc(t, ']');
}

static void route_stats(vg_server *s, struct MHD_Connection *c, vg_request *rq, vg_reply *out)
{
    (void)c;
    double now = vg_now(), uptime = now - s->started;
    vg_stats_totals tot;
    vg_stats_window w;
    vg_stats_totals_get(s->stats, &tot);
    vg_stats_window_get(s->stats, now, uptime, &w);
    vg_text t;
    vg_text_init(&t, &rq->arena, 4096);
    vg_text_printf(&t, "{\"uptime_seconds\":%.3f,\"started_at_unix\":%.3f", uptime, s->started_wall);
    vg_text_puts(&t, ",\"requests\":");
    vg_text_u64(&t, tot.requests);
    vg_text_puts(&t, ",\"errors\":");
    vg_text_u64(&t, tot.errors);
    vg_text_puts(&t, ",\"detections\":");
    vg_text_u64(&t, tot.detections);
    vg_text_puts(&t, ",\"anomalies\":");
    vg_text_u64(&t, tot.anomalies);
    vg_text_puts(&t, ",\"memory_bytes\":");
    vg_text_u64(&t, vg_mem_in_use());
    vg_text_puts(&t, ",\"memory_peak_bytes\":");
    vg_text_u64(&t, vg_mem_peak());
    vg_text_puts(&t, ",\"models_loaded\":");
    vg_text_u64(&t, vg_catalog_count(s->catalog));
    vg_text_puts(&t, ",\"threshold\":");
    vg_text_json_num(&t, isnan(s->p.threshold) ? 0.5 : s->p.threshold, 9);
    vg_text_puts(&t, ",\"threads\":");
    vg_text_u64(&t, (unsigned long long)s->threads);
    /* The dashboard shows its Alerts panel, or how to get one, from this. */
    vg_text_puts(&t, ",\"alert_store\":");
    if (s->alerts) vg_text_json_cstr(&t, vg_alerts_api_path(s->alerts));
    else vg_text_puts(&t, "null");
    vg_text_puts(&t, ",\"last_minute\":{\"seconds\":");
    vg_text_json_num(&t, w.seconds, 6);
    vg_text_puts(&t, ",\"requests\":");
    vg_text_u64(&t, w.requests);
    vg_text_puts(&t, ",\"errors\":");
    vg_text_u64(&t, w.errors);
    vg_text_puts(&t, ",\"detections\":");
    vg_text_u64(&t, w.detections);
    vg_text_puts(&t, ",\"anomalies\":");
    vg_text_u64(&t, w.anomalies);
    vg_text_puts(&t, ",\"requests_per_second\":");
    vg_text_json_num(&t, (double)w.requests / w.seconds, 6);
    vg_text_puts(&t, ",\"detections_per_second\":");
    vg_text_json_num(&t, (double)w.detections / w.seconds, 6);
    vg_text_puts(&t, ",\"anomalies_per_second\":");
    vg_text_json_num(&t, (double)w.anomalies / w.seconds, 6);
    vg_text_puts(&t, ",\"latency_ms\":{\"p50\":");
    vg_text_json_num(&t, w.p50 * 1e3, 4);
    vg_text_puts(&t, ",\"p99\":");
    vg_text_json_num(&t, w.p99 * 1e3, 4);
    vg_text_puts(&t, "},\"per_second\":{\"requests\":");
    json_u64_array(&t, w.per_second_requests, VG_STATS_WINDOW);
    vg_text_puts(&t, ",\"detections\":");
    json_u64_array(&t, w.per_second_detections, VG_STATS_WINDOW);
    vg_text_puts(&t, ",\"anomalies\":");
    json_u64_array(&t, w.per_second_anomalies, VG_STATS_WINDOW);
    vg_text_puts(&t, "}},\"models\":{");
    for (size_t i = 0; i < vg_catalog_count(s->catalog); i++) {
        uint64_t d, a;
        vg_stats_model_totals(s->stats, i, &d, &a);
        vg_served *sv = vg_catalog_acquire(s->catalog, i);
        if (i) vg_text_putc(&t, ',');
        vg_text_json_cstr(&t, sv->name);
        vg_text_puts(&t, ":{\"detections\":");
        vg_text_u64(&t, d);
        vg_text_puts(&t, ",\"anomalies\":");
        vg_text_u64(&t, a);
        vg_text_puts(&t, ",\"generation\":");
        vg_text_u64(&t, sv->generation);
        vg_text_puts(&t, ",\"family\":");
        vg_text_json_cstr(&t, vg_model_family(sv->model));
        vg_text_putc(&t, '}');
        vg_served_release(sv);
    }
    vg_text_puts(&t, "}}\n");
    vg_reply_json(rq, 200, &t, out);
}

static void route_metrics(vg_server *s, struct MHD_Connection *c, vg_request *rq, vg_reply *out)
{
    (void)c;
    vg_text t;
    vg_text_init(&t, &rq->arena, 16384);
    vg_stats_prometheus(s->stats, s->model_names, &t);
    vg_prom_header(&t, "vigil_memory_bytes", "gauge", "Bytes held by vigil's counted allocator (models, requests).");
    vg_prom_sample(&t, "vigil_memory_bytes", NULL, (double)vg_mem_in_use());
    vg_prom_header(&t, "vigil_models_loaded", "gauge", "Models loaded and serving.");
    vg_prom_sample(&t, "vigil_models_loaded", NULL, (double)vg_catalog_count(s->catalog));
    vg_prom_header(&t, "vigil_model_reloads_total", "counter", "Model reloads by model and result.");
    vg_text lab;
    vg_text_init(&lab, &rq->arena, 128);
    for (size_t i = 0; i < vg_catalog_count(s->catalog); i++) {
        uint64_t n_ok, n_failed;
        vg_catalog_reloads(s->catalog, i, &n_ok, &n_failed);
        for (int ok = 1; ok >= 0; ok--) {
            lab.len = 0;
            vg_text_puts(&lab, "model=\"");
            vg_prom_escape(&lab, s->model_names[i]);
            vg_text_puts(&lab, ok ? "\",result=\"ok\"" : "\",result=\"error\"");
            vg_prom_sample(&t, "vigil_model_reloads_total", lab.failed ? "" : lab.data,
                           (double)(ok ? n_ok : n_failed));
        }
    }
    vg_prom_header(&t, "vigil_uptime_seconds", "gauge", "Seconds since the server started.");
    vg_prom_sample(&t, "vigil_uptime_seconds", NULL, vg_now() - s->started);
    if (t.failed) {
        vg_reply_error(rq, 500, "out of memory building the metrics", out);
        return;
    }
    out->status = 200;
    out->content_type = "text/plain; version=0.0.4; charset=utf-8";
    out->data = t.data;
    out->len = t.len;
}

static void health(vg_server *s, vg_request *rq, int ready, vg_reply *out)
{
    vg_text t;
    vg_text_init(&t, &rq->arena, 64);
    size_t n = vg_catalog_count(s->catalog);
    if (!ready) {
        vg_text_puts(&t, "{\"status\":\"ok\"}\n");
        vg_reply_json(rq, 200, &t, out);
        return;
    }
    vg_text_printf(&t, "{\"status\":\"%s\",\"models\":%zu}\n", n ? "ready" : "not ready", n);
    vg_reply_json(rq, n ? 200 : 503, &t, out);
}

static void route_healthz(vg_server *s, struct MHD_Connection *c, vg_request *rq, vg_reply *out)
{
    (void)c;
    health(s, rq, 0, out);
}

static void route_readyz(vg_server *s, struct MHD_Connection *c, vg_request *rq, vg_reply *out)
{
    (void)c;
    health(s, rq, 1, out);
}

static void route_asset(vg_server *s, struct MHD_Connection *c, vg_request *rq, vg_reply *out)
{
    (void)s, (void)c;
    const vg_asset *a = vg_asset_find(rq->url);
    if (!a) {
        vg_reply_error(rq, 404, "no such page", out);
        return;
    }
    *out = (vg_reply){ .status = 200, .content_type = a->content_type, .data = (const char *)a->data,
                       .len = a->size };
}

static void route_unknown(vg_server *s, struct MHD_Connection *c, vg_request *rq, vg_reply *out)
{
    (void)s, (void)c;
    char msg[200];
    snprintf(msg, sizeof msg, "no such endpoint: %.16s %.128s", rq->method, rq->url);
    vg_reply_error(rq, 404, msg, out);
}

/* ---- the table ------------------------------------------------------------ */

/* The order is the order of the route labels on /metrics; the last row
 * (vg_route_unknown) stays last, new rows go above it. Detection replies
 * carry no Cache-Control (POST replies are not cached); every other reply
 * changes from one call to the next or may be a key-guarded page, so it says
 * no-store. Unknown /v1 paths answer 404 to anyone, whatever the method: the
 * API key guards data, not the list of endpoints. */
#define NS VG_ROUTE_NO_STORE
const vg_route vg_route_table[] = {
    { VG_ROUTE_POST, "/v1/detect", 0, route_detect, "detect" },
    { VG_ROUTE_POST, "/v1/detect/batch", 0, route_detect_batch, "detect_batch" },
    { VG_ROUTE_GET, "/v1/models", NS, route_models, "models" },
    { VG_ROUTE_GET, "/v1/models/{name}", NS, route_model, "model" },
    { VG_ROUTE_POST, "/v1/models/{name}/reload", NS, route_reload, "reload" },
    { VG_ROUTE_GET, "/v1/detections/recent", NS, route_recent, "recent" },
    { VG_ROUTE_GET, "/v1/stats", NS, route_stats, "stats" },
    { VG_ROUTE_GET, "/metrics", NS, route_metrics, "metrics" },
    { VG_ROUTE_GET, "/healthz", NS | VG_ROUTE_PUBLIC, route_healthz, "healthz" },
    { VG_ROUTE_GET, "/readyz", NS | VG_ROUTE_PUBLIC, route_readyz, "readyz" },
    { VG_ROUTE_GET, NULL, NS | VG_ROUTE_PUBLIC, route_asset, "asset" },
    { VG_ROUTE_GET, "/v1/alerts", NS, vg_route_alerts, "alerts" },
    { VG_ROUTE_GET, "/v1/alerts/summary", NS, vg_route_alerts_summary, "alerts_summary" },
    { VG_ROUTE_ANY, "/v1", NS | VG_ROUTE_PUBLIC | VG_ROUTE_PREFIX, route_unknown, "other" },
};
#undef NS
const size_t vg_route_count = sizeof vg_route_table / sizeof *vg_route_table;

const vg_route *vg_route_unknown(void)
{
    return &vg_route_table[vg_route_count - 1];
}

const char *vg_route_method_str(vg_route_method m)
{
    switch (m) {
    case VG_ROUTE_GET: return "GET";
    case VG_ROUTE_POST: return "POST";
    case VG_ROUTE_ANY: return "*";
    }
    return "?";
}

#define NAME_PARAM "{name}"

/* Does `url` match the pattern `p` (no prefix rule)? A "{name}" segment is
 * returned through name/name_len. */
static int match_path(const char *p, const char *url, const char **name, size_t *name_len)
{
    for (;;) {
        if (*p == '{' && strncmp(p, NAME_PARAM, sizeof NAME_PARAM - 1) == 0) {
            p += sizeof NAME_PARAM - 1;
            size_t n = strcspn(url, "/");
            /* "/v1/models/" names no model; "/v1/models//reload" names the
             * empty one (which then is unknown), as it always has. */
            if (!*p && n == 0) return 0;
            *name = url;
            *name_len = n;
            url += n;
            continue;
        }
        if (*p != *url) return 0;
        if (!*p) return 1;
        p++, url++;
    }
}

const vg_route *vg_route_match(const char *url, const char **name, size_t *name_len)
{
    const vg_route *prefix = NULL, *any = NULL;
    size_t prefix_len = 0;
    for (size_t i = 0; i < vg_route_count; i++) {
        const vg_route *r = &vg_route_table[i];
        if (!r->path) {
            if (!any) any = r;
            continue;
        }
        const char *nm = NULL;
        size_t nl = 0;
        if (match_path(r->path, url, &nm, &nl)) {
            *name = nm;
            *name_len = nl;
            return r;
        }
        if (r->flags & VG_ROUTE_PREFIX) {
            size_t n = strlen(r->path);
            if (n > prefix_len && strncmp(url, r->path, n) == 0 && url[n] == '/') prefix = r, prefix_len = n;
        }
    }
    *name = NULL;
    *name_len = 0;
    return prefix ? prefix : any;
}
