/* Per-thread counters and the one-minute window (see stats.h). */
#include "serve/stats.h"

#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#include "serve/prom.h"

#define N_STATUS 500   /* HTTP statuses 100..599 */
#define LAT_STEPS 8    /* latency buckets per doubling: about 9% wide */
#define LAT_BUCKETS 192 /* 1 us .. 2^24 us (17 s) */

static const double duration_bounds[] = { 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
                                          0.05,   0.1,     0.25,   0.5,   1,      2.5,   5,     10 };
#define N_DURATION (sizeof duration_bounds / sizeof *duration_bounds)
static const double score_bounds[] = { 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 0.99, 1 };
#define N_SCORE (sizeof score_bounds / sizeof *score_bounds)

typedef _Atomic uint64_t counter;

typedef struct second {
    _Atomic int64_t sec;
    counter requests, errors, detections, anomalies;
    counter latency[LAT_BUCKETS];
} second;

typedef struct route_counts {
    counter requests[N_STATUS];
    counter duration[N_DURATION + 1];
    _Atomic double duration_sum;
} route_counts;

typedef struct model_counts {
    counter detections, anomalies;
    counter score[N_SCORE + 1];
    _Atomic double score_sum;
} model_counts;

struct vg_stats_shard {
    second window[VG_STATS_WINDOW];
    route_counts *routes;   /* n_routes */
    model_counts *models;   /* n_models */
    size_t n_routes;
    char pad[64];   /* keeps the hot end of one shard off the next one's cache line */
};

struct vg_stats {
    size_t n_shards, n_models, n_routes;
    const char *const *route_names;  /* borrowed */
    vg_stats_shard *shards;
    route_counts *route_block;
    model_counts *model_block;
    atomic_size_t next_shard;
    pthread_key_t key;
};

#define ADD(x, v) atomic_fetch_add_explicit(&(x), (v), memory_order_relaxed)
#define GET(x) atomic_load_explicit(&(x), memory_order_relaxed)

static void add_double(_Atomic double *x, double v)
{
    double old = atomic_load_explicit(x, memory_order_relaxed);
    while (!atomic_compare_exchange_weak_explicit(x, &old, old + v, memory_order_relaxed, memory_order_relaxed)) {
    }
}

vg_status vg_stats_new(size_t n_shards, size_t n_models, const char *const *route_names, size_t n_routes,
                       vg_stats **out)
{
    *out = NULL;
    VG_ASSERT(n_routes >= 1);
    if (n_shards == 0) n_shards = 1;
    vg_stats *s = vg_calloc(1, sizeof *s);
    if (!s) return vg_fail(VG_ERR_NOMEM, "out of memory");
    s->n_shards = n_shards;
    s->n_models = n_models;
    s->n_routes = n_routes;
    s->route_names = route_names;
    s->shards = vg_calloc(n_shards, sizeof *s->shards);
    s->route_block = vg_calloc(n_shards * n_routes, sizeof *s->route_block);
    s->model_block = vg_calloc(n_shards * (n_models ? n_models : 1), sizeof *s->model_block);
    if (!s->shards || !s->route_block || !s->model_block || pthread_key_create(&s->key, NULL) != 0) {
        vg_free(s->shards);
        vg_free(s->route_block);
        vg_free(s->model_block);
        vg_free(s);
        return vg_fail(VG_ERR_NOMEM, "out of memory");
    }
    for (size_t i = 0; i < n_shards; i++) {
        s->shards[i].routes = s->route_block + i * n_routes;
        s->shards[i].n_routes = n_routes;
        s->shards[i].models = s->model_block + i * (n_models ? n_models : 1);
        for (size_t w = 0; w < VG_STATS_WINDOW; w++) atomic_init(&s->shards[i].window[w].sec, -1);
    }
    *out = s;
    return VG_OK;
}

void vg_stats_free(vg_stats *s)
{
    if (!s) return;
    pthread_key_delete(s->key);
    vg_free(s->shards);
    vg_free(s->route_block);
    vg_free(s->model_block);
    vg_free(s);
}

vg_stats_shard *vg_stats_shard_get(vg_stats *s)
{
    vg_stats_shard *sh = pthread_getspecific(s->key);
    if (!sh) {
        size_t i = atomic_fetch_add(&s->next_shard, 1) % s->n_shards;
        sh = &s->shards[i];
        pthread_setspecific(s->key, sh);
    }
    return sh;
}

/* The window bucket of the current second, cleared when it last held an
 * older second. Only the shard's own thread writes here, so clearing does
 * not race with other writers (a concurrent reader may see a half-cleared
 * bucket, which only blurs one second of statistics). */
static second *current(vg_stats_shard *sh, double now)
{
    int64_t sec = (int64_t)floor(now);
    second *b = &sh->window[sec % VG_STATS_WINDOW];
    if (GET(b->sec) != sec) {
        atomic_store_explicit(&b->requests, 0, memory_order_relaxed);
        atomic_store_explicit(&b->errors, 0, memory_order_relaxed);
        atomic_store_explicit(&b->detections, 0, memory_order_relaxed);
        atomic_store_explicit(&b->anomalies, 0, memory_order_relaxed);
        for (size_t k = 0; k < LAT_BUCKETS; k++) atomic_store_explicit(&b->latency[k], 0, memory_order_relaxed);
        atomic_store_explicit(&b->sec, sec, memory_order_release);
    }
    return b;
}

static size_t latency_bucket(double seconds)
{
    double us = seconds * 1e6;
    if (!(us > 1)) return 0;
    double k = log2(us) * LAT_STEPS;
    return k >= LAT_BUCKETS - 1 ? LAT_BUCKETS - 1 : (size_t)k;
}

/* Upper edge of latency bucket k, in seconds. */
static double latency_edge(size_t k)
{
    return exp2((double)(k + 1) / LAT_STEPS) * 1e-6;
}

void vg_stats_request(vg_stats_shard *sh, size_t route, unsigned status, double seconds, double now)
{
    VG_ASSERT(route < sh->n_routes);
    route_counts *rc = &sh->routes[route];
    unsigned st = status < 100 ? 0 : status > 599 ? N_STATUS - 1 : status - 100;
    ADD(rc->requests[st], 1);
    size_t b = 0;
    while (b < N_DURATION && seconds > duration_bounds[b]) b++;
    ADD(rc->duration[b], 1);
    add_double(&rc->duration_sum, seconds);
    second *w = current(sh, now);
    ADD(w->requests, 1);
    if (status >= 400) ADD(w->errors, 1);
    ADD(w->latency[latency_bucket(seconds)], 1);
}

void vg_stats_detection(vg_stats_shard *sh, size_t model, double score, int anomaly, double now)
{
    model_counts *m = &sh->models[model];
    ADD(m->detections, 1);
    if (anomaly) ADD(m->anomalies, 1);
    size_t b = 0;
    while (b < N_SCORE && !(score <= score_bounds[b])) b++;
    ADD(m->score[b], 1);
    if (isfinite(score)) add_double(&m->score_sum, score);
    second *w = current(sh, now);
    ADD(w->detections, 1);
    if (anomaly) ADD(w->anomalies, 1);
}

void vg_stats_window_get(vg_stats *s, double now, double uptime, vg_stats_window *out)
{
    memset(out, 0, sizeof *out);
    int64_t sec = (int64_t)floor(now);
    uint64_t lat[LAT_BUCKETS] = { 0 };
    for (size_t i = 0; i < s->n_shards; i++) {
        vg_stats_shard *sh = &s->shards[i];
        for (int64_t age = 0; age < VG_STATS_WINDOW; age++) {
            int64_t t = sec - age;
            if (t < 0) break;
            second *b = &sh->window[t % VG_STATS_WINDOW];
            if (atomic_load_explicit(&b->sec, memory_order_acquire) != t) continue;
            size_t slot = VG_STATS_WINDOW - 1 - (size_t)age;
            uint64_t r = GET(b->requests), d = GET(b->detections), a = GET(b->anomalies);
            out->requests += r;
            out->errors += GET(b->errors);
            out->detections += d;
            out->anomalies += a;
            out->per_second_requests[slot] += r;
            out->per_second_detections[slot] += d;
            out->per_second_anomalies[slot] += a;
            for (size_t k = 0; k < LAT_BUCKETS; k++) lat[k] += GET(b->latency[k]);
        }
    }
    out->seconds = uptime < VG_STATS_WINDOW ? (uptime > 1 ? uptime : 1) : VG_STATS_WINDOW;
    uint64_t total = 0;
    for (size_t k = 0; k < LAT_BUCKETS; k++) total += lat[k];
    if (total) {
        /* Ranks as in "the smallest latency with at least q of requests at
         * or below it", reported as the bucket's upper edge. */
        uint64_t r50 = (total + 1) / 2, r99 = total - total / 100, cum = 0;
        int got50 = 0;
        for (size_t k = 0; k < LAT_BUCKETS; k++) {
            cum += lat[k];
            if (!got50 && cum >= r50) out->p50 = latency_edge(k), got50 = 1;
            if (cum >= r99) {
                out->p99 = latency_edge(k);
                break;
            }
        }
    }
}

void vg_stats_totals_get(vg_stats *s, vg_stats_totals *out)
{
    memset(out, 0, sizeof *out);
    for (size_t i = 0; i < s->n_shards; i++) {
        vg_stats_shard *sh = &s->shards[i];
        for (size_t r = 0; r < s->n_routes; r++)
            for (size_t st = 0; st < N_STATUS; st++) {
                uint64_t n = GET(sh->routes[r].requests[st]);
                out->requests += n;
                if (st + 100 >= 400) out->errors += n;
            }
        for (size_t m = 0; m < s->n_models; m++) {
            out->detections += GET(sh->models[m].detections);
            out->anomalies += GET(sh->models[m].anomalies);
        }
    }
}

void vg_stats_model_totals(vg_stats *s, size_t model, uint64_t *detections, uint64_t *anomalies)
{
    *detections = *anomalies = 0;
    for (size_t i = 0; i < s->n_shards; i++) {
        *detections += GET(s->shards[i].models[model].detections);
        *anomalies += GET(s->shards[i].models[model].anomalies);
    }
}

/* `model="name"` into buf (escaped through a vg_text in the same arena). */
static const char *model_label(vg_text *scratch, const char *name)
{
    scratch->len = 0;
    vg_text_puts(scratch, "model=\"");
    vg_prom_escape(scratch, name);
    vg_text_putc(scratch, '"');
    return scratch->failed ? "" : scratch->data;
}

void vg_stats_prometheus(vg_stats *s, const char *const *model_names, vg_text *out)
{
    char labels[96];
    vg_prom_header(out, "vigil_requests_total", "counter", "HTTP requests by route and status code.");
    for (size_t r = 0; r < s->n_routes; r++)
        for (size_t st = 0; st < N_STATUS; st++) {
            uint64_t n = 0;
            for (size_t i = 0; i < s->n_shards; i++) n += GET(s->shards[i].routes[r].requests[st]);
            if (!n) continue;
            snprintf(labels, sizeof labels, "route=\"%s\",status=\"%zu\"", s->route_names[r], st + 100);
            vg_prom_sample(out, "vigil_requests_total", labels, (double)n);
        }

    vg_prom_header(out, "vigil_request_duration_seconds", "histogram",
                   "Time from the request's arrival to its completion, by route.");
    for (size_t r = 0; r < s->n_routes; r++) {
        uint64_t counts[N_DURATION + 1] = { 0 }, total = 0;
        double sum = 0;
        for (size_t i = 0; i < s->n_shards; i++) {
            const route_counts *rc = &s->shards[i].routes[r];
            for (size_t b = 0; b <= N_DURATION; b++) counts[b] += GET(rc->duration[b]);
            sum += atomic_load_explicit(&rc->duration_sum, memory_order_relaxed);
        }
        for (size_t b = 0; b <= N_DURATION; b++) total += counts[b];
        if (!total) continue;
        snprintf(labels, sizeof labels, "route=\"%s\"", s->route_names[r]);
        vg_prom_histogram(out, "vigil_request_duration_seconds", labels, duration_bounds, counts, N_DURATION, sum);
    }

    vg_text scratch;
    vg_text_init(&scratch, out->a, 128);
    vg_prom_header(out, "vigil_score", "histogram", "Scores of the records scored, by model.");
    for (size_t m = 0; m < s->n_models; m++) {
        uint64_t counts[N_SCORE + 1] = { 0 };
        double sum = 0;
        for (size_t i = 0; i < s->n_shards; i++) {
            for (size_t b = 0; b <= N_SCORE; b++) counts[b] += GET(s->shards[i].models[m].score[b]);
            sum += atomic_load_explicit(&s->shards[i].models[m].score_sum, memory_order_relaxed);
        }
        vg_prom_histogram(out, "vigil_score", model_label(&scratch, model_names[m]), score_bounds, counts, N_SCORE,
                          sum);
    }
    vg_prom_header(out, "vigil_detections_total", "counter", "Records scored, by model.");
    for (size_t m = 0; m < s->n_models; m++) {
        uint64_t d, a;
        vg_stats_model_totals(s, m, &d, &a);
        vg_prom_sample(out, "vigil_detections_total", model_label(&scratch, model_names[m]), (double)d);
    }
    vg_prom_header(out, "vigil_anomalies_total", "counter", "Records scored as anomalies (score >= threshold), by model.");
    for (size_t m = 0; m < s->n_models; m++) {
        uint64_t d, a;
        vg_stats_model_totals(s, m, &d, &a);
        vg_prom_sample(out, "vigil_anomalies_total", model_label(&scratch, model_names[m]), (double)a);
    }
}
