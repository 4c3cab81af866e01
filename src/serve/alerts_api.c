/* GET /v1/alerts and GET /v1/alerts/summary over a read-only alert store
 * (see alerts_api.h). Query parameters are checked before the store is
 * touched; a bad one gets a 400 naming it, an unknown one too (a typo such
 * as `entitiy=` must not silently list everything). */
#include "serve/alerts_api.h"
#include "serve/server_impl.h"
#include "vigil/alerts.h"

#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define STR_(x) #x
#define STR(x) STR_(x)

struct vg_alerts_api {
    char *path;
    vg_alert_store *db;      /* NULL until the file exists */
    pthread_mutex_t lock;    /* the SQLite handle is single-threaded (NOMUTEX) */
};

/* Open the store if it is there; VG_OK with a->db NULL if it is not yet. */
static vg_status try_open(vg_alerts_api *a)
{
    if (a->db) return VG_OK;
    struct stat sb;
    if (stat(a->path, &sb) != 0) return VG_OK;
    vg_alert_store_params sp = vg_alert_store_params_default();
    sp.read_only = 1;
    sp.busy_timeout_ms = VG_ALERTS_BUSY_MS;
    return vg_alert_store_open(a->path, &sp, &a->db);
}

vg_status vg_alerts_api_new(const char *path, vg_alerts_api **out)
{
    *out = NULL;
    vg_alerts_api *a = vg_calloc(1, sizeof *a);
    if (!a || !(a->path = vg_strdup(path))) {
        vg_free(a);
        return vg_fail(VG_ERR_NOMEM, "out of memory");
    }
    pthread_mutex_init(&a->lock, NULL);
    vg_status st = try_open(a);
    if (st) {
        vg_alerts_api_free(a);
        return st;
    }
    *out = a;
    return VG_OK;
}

const char *vg_alerts_api_path(const vg_alerts_api *a) { return a->path; }

void vg_alerts_api_free(vg_alerts_api *a)
{
    if (!a) return;
    vg_alert_store_close(a->db);
    pthread_mutex_destroy(&a->lock);
    vg_free(a->path);
    vg_free(a);
}

/* ---- query parameters ------------------------------------------------------ */

typedef struct params {
    vg_alert_filter f;
    size_t limit, top;
    double bucket;
    int summary;
    char bad[200];          /* the first problem, naming the parameter */
} params;

static void bad_param(params *p, const char *name, const char *value, const char *what)
{
    if (!p->bad[0])
        snprintf(p->bad, sizeof p->bad, "query parameter '%.32s': '%.40s' %s", name, value ? value : "", what);
}

static int parse_number(const char *v, double *out)
{
    char *end;
    errno = 0;
    double d = strtod(v, &end);
    if (!*v || *end || errno || !isfinite(d)) return -1;
    *out = d;
    return 0;
}

static int parse_whole(const char *v, size_t lo, size_t hi, size_t *out)
{
    char *end;
    errno = 0;
    unsigned long long n = v[0] >= '0' && v[0] <= '9' ? strtoull(v, &end, 10) : 0;
    if (v[0] < '0' || v[0] > '9' || *end || errno || n < lo || n > hi) return -1;
    *out = (size_t)n;
    return 0;
}

static enum MHD_Result one_param(void *user, enum MHD_ValueKind kind, const char *key, const char *value)
{
    (void)kind;
    params *p = user;
    const char *v = value ? value : "";
    double now = vg_wall_now();
    if (strcmp(key, "since") == 0 || strcmp(key, "until") == 0) {
        double t;
        if (vg_alert_parse_time(v, now, &t)) bad_param(p, key, v, "is not a time (unix seconds, "
                                                      "YYYY-MM-DD[THH:MM:SS[Z]] or an age like 15m, 2h, 7d)");
        else if (key[0] == 's') p->f.since = t;
        else p->f.until = t;
    } else if (strcmp(key, "entity") == 0 || strcmp(key, "label") == 0 || strcmp(key, "source") == 0) {
        if (!*v || strlen(v) > VG_ALERTS_MAX_PARAM) {
            char what[64];
            snprintf(what, sizeof what, "must be 1 to %d bytes", VG_ALERTS_MAX_PARAM);
            bad_param(p, key, v, what);
        } else if (key[0] == 'e') p->f.entity = v;
        else if (key[0] == 'l') p->f.label = v;
        else p->f.source = v;
    } else if (strcmp(key, "min_score") == 0) {
        if (parse_number(v, &p->f.min_score)) bad_param(p, key, v, "is not a number");
    } else if (!p->summary && strcmp(key, "limit") == 0) {
        if (parse_whole(v, 1, VG_ALERTS_MAX_LIMIT, &p->limit))
            bad_param(p, key, v, "is not a whole number from 1 to " STR(VG_ALERTS_MAX_LIMIT));
    } else if (p->summary && strcmp(key, "top") == 0) {
        if (parse_whole(v, 1, VG_ALERTS_MAX_TOP, &p->top))
            bad_param(p, key, v, "is not a whole number from 1 to " STR(VG_ALERTS_MAX_TOP));
    } else if (p->summary && strcmp(key, "bucket") == 0) {
        size_t b;
        if (parse_whole(v, 60, 30 * 86400, &b)) bad_param(p, key, v, "is not a number of seconds from 60 to 2592000");
        else p->bucket = (double)b;
    } else {
        bad_param(p, key, v, p->summary ? "is not known here (since, until, entity, label, source, min_score, top, "
                                          "bucket)"
                                        : "is not known here (since, until, entity, label, source, min_score, limit)");
    }
    return MHD_YES;
}

/* Parse the query; 0 on success, else a 400 reply naming the parameter. */
static int read_params(struct MHD_Connection *c, vg_request *rq, int summary, params *p, vg_reply *out)
{
    memset(p, 0, sizeof *p);
    p->f = vg_alert_filter_default();
    p->limit = VG_ALERTS_DEFAULT_LIMIT;
    p->top = 10;
    p->summary = summary;
    MHD_get_connection_values(c, MHD_GET_ARGUMENT_KIND, one_param, p);
    if (!p->bad[0] && !isnan(p->f.since) && !isnan(p->f.until) && p->f.until <= p->f.since)
        snprintf(p->bad, sizeof p->bad, "query parameter 'until': must be later than 'since'");
    if (p->bad[0]) {
        vg_reply_error(rq, 400, p->bad, out);
        return -1;
    }
    return 0;
}

/* Lock the store, opening it if it appeared since; NULL after filling a 404
 * or 500 reply. */
static vg_alert_store *acquire(vg_alerts_api *a, vg_request *rq, vg_reply *out)
{
    if (!a) {
        vg_reply_error(rq, 404, "no alert store: start vigil serve with --alerts FILE.db "
                                "(the store vigil watch --alerts FILE.db writes)", out);
        return NULL;
    }
    pthread_mutex_lock(&a->lock);
    vg_status st = try_open(a);
    if (st || !a->db) {
        pthread_mutex_unlock(&a->lock);
        if (st) vg_reply_error(rq, 500, vg_last_error(), out);
        else {
            char msg[512];
            snprintf(msg, sizeof msg, "the alert store %.300s does not exist yet (vigil watch --alerts creates it)",
                     a->path);
            vg_reply_error(rq, 503, msg, out);
        }
        return NULL;
    }
    return a->db;
}

/* ---- GET /v1/alerts ---------------------------------------------------------- */

typedef struct list_ctx {
    vg_text *t;
    vg_wbuf row;             /* one alert's JSON, copied into t */
    size_t n, limit;
    int more;
} list_ctx;

static int list_row(const vg_alert_row *r, void *user)
{
    list_ctx *l = user;
    if (l->n == l->limit) {
        l->more = 1;    /* the extra row asked for: there are more */
        return 1;
    }
    l->row.len = 0;
    vg_alert_row_json(r, &l->row);
    if (l->row.failed || l->row.len == 0) {
        l->t->failed = 1;
        return 1;
    }
    if (l->n++) vg_text_putc(l->t, ',');
    vg_text_put(l->t, (const char *)l->row.data, l->row.len);
    return 0;
}

static void put_filter(vg_text *t, const vg_alert_filter *f)
{
    vg_text_puts(t, "\"filter\":{\"since\":");
    vg_text_json_num(t, f->since, 15);
    vg_text_puts(t, ",\"until\":");
    vg_text_json_num(t, f->until, 15);
    vg_text_puts(t, ",\"entity\":");
    if (f->entity) vg_text_json_cstr(t, f->entity);
    else vg_text_puts(t, "null");
    vg_text_puts(t, ",\"label\":");
    if (f->label) vg_text_json_cstr(t, f->label);
    else vg_text_puts(t, "null");
    vg_text_puts(t, ",\"source\":");
    if (f->source) vg_text_json_cstr(t, f->source);
    else vg_text_puts(t, "null");
    vg_text_puts(t, ",\"min_score\":");
    vg_text_json_num(t, f->min_score, 9);
    vg_text_putc(t, '}');
}

void vg_route_alerts(vg_server *s, struct MHD_Connection *c, vg_request *rq, vg_reply *out)
{
    vg_alerts_api *a = s->alerts;
    params p;
    if (read_params(c, rq, 0, &p, out)) return;
    vg_alert_store *db = acquire(a, rq, out);
    if (!db) return;
    vg_text t;
    /* Room for a typical page; the text grows for long raw lines. */
    vg_text_init(&t, &rq->arena, 1024 + (p.limit < 50 ? p.limit : 50) * 768);
    vg_text_puts(&t, "{\"store\":");
    vg_text_json_cstr(&t, a->path);
    vg_text_puts(&t, ",\"alerts\":[");
    list_ctx l = { .t = &t, .limit = p.limit };
    vg_wbuf_init(&l.row);
    p.f.limit = p.limit + 1;
    vg_status st = vg_alert_store_list(db, &p.f, list_row, &l);
    pthread_mutex_unlock(&a->lock);
    vg_wbuf_free(&l.row);
    if (st) {
        vg_reply_error(rq, 500, vg_last_error(), out);
        return;
    }
    vg_text_printf(&t, "],\"count\":%zu,\"limit\":%zu,\"more\":%s,", l.n, p.limit, l.more ? "true" : "false");
    put_filter(&t, &p.f);
    vg_text_puts(&t, "}\n");
    vg_reply_json(rq, 200, &t, out);
}

/* ---- GET /v1/alerts/summary ------------------------------------------------- */

static void put_groups(vg_text *t, const char *name, const vg_alert_group *g, size_t n)
{
    vg_text_printf(t, ",\"%s\":[", name);
    for (size_t i = 0; i < n; i++) {
        if (i) vg_text_putc(t, ',');
        vg_text_puts(t, "{\"key\":");
        vg_text_json_cstr(t, g[i].key);
        vg_text_puts(t, ",\"alerts\":");
        vg_text_u64(t, g[i].n);
        vg_text_puts(t, ",\"max_score\":");
        vg_text_json_num(t, g[i].max_score, 6);
        vg_text_putc(t, '}');
    }
    vg_text_putc(t, ']');
}

void vg_route_alerts_summary(vg_server *s, struct MHD_Connection *c, vg_request *rq, vg_reply *out)
{
    vg_alerts_api *a = s->alerts;
    params p;
    if (read_params(c, rq, 1, &p, out)) return;
    vg_alert_store *db = acquire(a, rq, out);
    if (!db) return;
    /* By default the 24 hours up to the latest alert (now, for a live
     * watcher; the end of a replayed log otherwise), hour by hour. */
    double first, last, hour = 3600;
    vg_status st = vg_alert_store_time_range(db, &first, &last);
    double anchor = isnan(last) || last > vg_wall_now() ? vg_wall_now() : last;
    if (isnan(p.f.until)) p.f.until = fmax((floor(anchor / hour) + 1) * hour, isnan(p.f.since) ? 0 : p.f.since + hour);
    if (isnan(p.f.since)) p.f.since = p.f.until - 86400;
    if (p.bucket == 0) p.bucket = p.f.until - p.f.since > 4 * 86400 ? 86400 : hour;
    vg_alert_summary sum = { 0 };
    if (!st) st = vg_alert_store_summarize(db, &p.f, p.top, p.bucket, &sum);
    uint64_t stored = 0;
    if (!st) st = vg_alert_store_count(db, &stored);
    pthread_mutex_unlock(&a->lock);
    if (st) {
        vg_alert_summary_free(&sum);
        vg_reply_error(rq, 500, vg_last_error(), out);
        return;
    }
    vg_text t;
    vg_text_init(&t, &rq->arena, 2048 + sum.n_buckets * 12);
    vg_text_puts(&t, "{\"store\":");
    vg_text_json_cstr(&t, a->path);
    vg_text_puts(&t, ",\"stored\":");
    vg_text_u64(&t, stored);
    vg_text_puts(&t, ",\"total\":");
    vg_text_u64(&t, sum.total);
    vg_text_puts(&t, ",\"first\":");
    vg_text_json_num(&t, sum.first, 15);
    vg_text_puts(&t, ",\"last\":");
    vg_text_json_num(&t, sum.last, 15);
    vg_text_puts(&t, ",\"timeline\":{\"start\":");
    vg_text_json_num(&t, sum.bucket0, 15);
    vg_text_puts(&t, ",\"bucket_seconds\":");
    vg_text_json_num(&t, sum.bucket_seconds, 15);
    vg_text_puts(&t, ",\"counts\":[");
    for (size_t i = 0; i < sum.n_buckets; i++) {
        if (i) vg_text_putc(&t, ',');
        vg_text_u64(&t, sum.buckets[i]);
    }
    vg_text_puts(&t, "]}");
    put_groups(&t, "labels", sum.labels, sum.n_labels);
    put_groups(&t, "sources", sum.sources, sum.n_sources);
    put_groups(&t, "models", sum.models, sum.n_models);
    put_groups(&t, "entities", sum.entities, sum.n_entities);
    vg_text_putc(&t, ',');
    put_filter(&t, &p.f);
    vg_text_puts(&t, "}\n");
    vg_alert_summary_free(&sum);
    vg_reply_json(rq, 200, &t, out);
}

vg_status vg_server_add_alert_store(vg_server *s, const char *path)
{
    if (s->alerts) return vg_fail(VG_ERR_INVALID, "--alerts: one alert store per server (%s is already served)",
                                  vg_alerts_api_path(s->alerts));
    return vg_alerts_api_new(path, &s->alerts);
}
