/* Request and detection counters of the server, sharded per thread: each
 * server thread writes only its own shard (relaxed atomic adds on cache
 * lines no other writer touches), and a scrape of /metrics or /v1/stats
 * sums the shards. Two views are kept:
 *   - totals since start (Prometheus counters and histograms);
 *   - a ring of 60 one-second buckets (requests, errors, detections,
 *     anomalies and a log-scale latency histogram) for the dashboard's
 *     rates and p50/p99 over the last minute.
 * Requests are counted by route: a route is an index below the n_routes
 * given at creation (the server's route table's rows), labelled on /metrics
 * with the names given there. */
#ifndef VG_SERVE_STATS_H
#define VG_SERVE_STATS_H

#include <stddef.h>
#include <stdint.h>

#include "serve/text.h"
#include "vigil/core.h"

#define VG_STATS_WINDOW 60

typedef struct vg_stats vg_stats;
typedef struct vg_stats_shard vg_stats_shard;

/* n_shards >= 1; n_models fixed for the server's life. route_names: n_routes
 * labels (>= 1), borrowed: they must outlive the statistics. */
vg_status vg_stats_new(size_t n_shards, size_t n_models, const char *const *route_names, size_t n_routes,
                       vg_stats **out);
void vg_stats_free(vg_stats *s);

/* The shard for the calling thread: threads get distinct shards in order of
 * first use, and share (still correctly, through atomics) once there are
 * more threads than shards. */
vg_stats_shard *vg_stats_shard_get(vg_stats *s);

/* One finished request: its route (index below n_routes), HTTP status and
 * duration in seconds; `now` is vg_now() (monotonic seconds). */
void vg_stats_request(vg_stats_shard *sh, size_t route, unsigned status, double seconds, double now);
/* One scored record of model `model`. */
void vg_stats_detection(vg_stats_shard *sh, size_t model, double score, int anomaly, double now);

/* The last minute, summed over the shards. */
typedef struct vg_stats_window {
    double seconds;                 /* span covered (less than 60 just after start) */
    uint64_t requests, errors, detections, anomalies;
    double p50, p99;                /* request latency in seconds (0 when no request) */
    /* per second, oldest first; the last entry is the current second */
    uint64_t per_second_requests[VG_STATS_WINDOW];
    uint64_t per_second_anomalies[VG_STATS_WINDOW];
    uint64_t per_second_detections[VG_STATS_WINDOW];
} vg_stats_window;

void vg_stats_window_get(vg_stats *s, double now, double uptime, vg_stats_window *out);

/* Totals since start. */
typedef struct vg_stats_totals {
    uint64_t requests, errors, detections, anomalies;
} vg_stats_totals;
void vg_stats_totals_get(vg_stats *s, vg_stats_totals *out);
/* Detections and anomalies of one model since start. */
void vg_stats_model_totals(vg_stats *s, size_t model, uint64_t *detections, uint64_t *anomalies);

/* vigil_requests_total, vigil_request_duration_seconds, vigil_score and
 * vigil_anomalies_total (plus vigil_detections_total) in Prometheus text. */
void vg_stats_prometheus(vg_stats *s, const char *const *model_names, vg_text *out);

#endif
