/* Alerts and the SQLite alert store (schema: docs/alerts.md).
 *
 * An alert is what a detector says about one line: when, where it came from
 * (source, line_no), whose it is (entity), which model, the label and score,
 * why (the top contributing fields as JSON, or none) and the raw line. The
 * store appends alerts in batched transactions in WAL mode with
 * synchronous=NORMAL: a batch is durable once vg_alert_store_commit returns
 * (a crash loses at most the uncommitted batch, never the file). Several
 * processes may write one store (each waits up to busy_timeout_ms for the
 * lock). With `dedup`, an alert whose (source, line_no) is already stored is
 * dropped: Redis consumers use it so an event scored twice after a takeover
 * is stored once. */
#ifndef VIGIL_ALERTS_H
#define VIGIL_ALERTS_H

#include <stddef.h>
#include <stdint.h>
#include "vigil/buf.h"
#include "vigil/core.h"
#include "vigil/tail.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Borrowed strings; lengths given where the text need not end in NUL. */
typedef struct vg_alert {
    double time;                    /* event time (unix seconds); arrival time if the line has none */
    const char *source;             /* file path or shipped source name */
    uint64_t line_no;
    const char *entity;             /* may be NULL */
    size_t entity_len;
    const char *model;
    const char *label;              /* predicted class (or the value for regression) */
    const char *truth;              /* ground-truth label the line carried, or NULL (not stored) */
    size_t truth_len;
    double score;
    const char *explanation_json;   /* [{"field":..,"contribution":..},...] or NULL */
    const char *raw;                /* the line, possibly cut */
    size_t raw_len;
} vg_alert;

/* One alert as a JSON object on one line (no newline), appended to w:
 * {"time","source","line","entity","model","label","truth","score","top","raw"};
 * entity, truth and top are left out when absent. */
VG_API void vg_alert_json(const vg_alert *a, vg_wbuf *w);
/* A JSON string literal of s[0..len) (escaped; invalid UTF-8 bytes become
 * U+FFFD), appended to w. */
VG_API void vg_json_string(vg_wbuf *w, const char *s, size_t len);

typedef struct vg_alert_store_params {
    size_t batch_rows;        /* commit after this many alerts; default 1000 */
    double batch_seconds;     /* or when the open batch is this old (checked on add); default 0.5 */
    int dedup;                /* drop alerts whose (source, line_no) is stored already */
    int busy_timeout_ms;      /* wait for another writer's lock; default 10000 */
    int read_only;
} vg_alert_store_params;

VG_API vg_alert_store_params vg_alert_store_params_default(void);

typedef struct vg_alert_store vg_alert_store;

/* Open (creating the file and schema if needed) a store. Fails with
 * VG_ERR_IO if the file cannot be opened, VG_ERR_FORMAT if it is not a vigil
 * alert store (an SQLite file with a foreign `alerts` table or a newer
 * schema version). *out is new; close with vg_alert_store_close. */
VG_API vg_status vg_alert_store_open(const char *path, const vg_alert_store_params *p, vg_alert_store **out);
/* Commit what is pending and close. Accepts NULL. Returns the commit status. */
VG_API vg_status vg_alert_store_close(vg_alert_store *s);

/* Add an alert to the open batch (committing it when full or old). Raw text
 * is stored as given (the detector already cut it). */
VG_API vg_status vg_alert_store_add(vg_alert_store *s, const vg_alert *a);
/* Commit the open batch now; no-op when nothing is pending. */
VG_API vg_status vg_alert_store_commit(vg_alert_store *s);
/* Alerts added and not yet committed; alerts stored since open (dedup drops excluded). */
VG_API size_t vg_alert_store_pending(const vg_alert_store *s);
VG_API uint64_t vg_alert_store_added(const vg_alert_store *s);

/* Where `vigil watch --resume` got to in each file it follows (table
 * watch_positions, one row per path as given). A position is written into
 * the open batch, so it is committed in the same transaction as the alerts of
 * the lines before it: the store never holds an alert past its file's
 * position, nor a position past a line whose alert it lacks. */
VG_API vg_status vg_alert_store_put_position(vg_alert_store *s, const char *path, const vg_tail_position *pos);
/* The committed position of path; pos->known = 0 if there is none. */
VG_API vg_status vg_alert_store_get_position(vg_alert_store *s, const char *path, vg_tail_position *pos);

/* One stored alert as listed (strings valid during the callback only). */
typedef struct vg_alert_row {
    int64_t id;
    vg_alert alert;
    double created;
} vg_alert_row;

/* A stored alert as JSON (no newline), appended to w: vg_alert_json's
 * fields, then "id" and "created". */
VG_API void vg_alert_row_json(const vg_alert_row *r, vg_wbuf *w);

/* Number of alerts stored. */
VG_API vg_status vg_alert_store_count(vg_alert_store *s, uint64_t *out);

/* Parse a time for --since: unix seconds ("1700000000"), an ISO 8601 UTC
 * date or date-time ("2024-05-01", "2024-05-01T12:00:00Z") or an age before
 * `now` ("90s", "15m", "2h", "7d"). VG_ERR_PARSE otherwise. */
VG_API vg_status vg_alert_parse_time(const char *s, double now, double *out);

/* ---- reading for reports and the dashboard ---------------------------------
 * Filters with an upper time bound and a source, and aggregate counts. Each
 * call is one read transaction, so a watcher writing the store at the same
 * time is never blocked (WAL) and the figures are consistent. Reads use the
 * time and entity indexes; a label, source or score filter scans what the
 * time bounds leave. */

typedef struct vg_alert_filter {
    double since, until;      /* since <= time < until; NaN = open */
    int by_stored;            /* 1: since/until bound when the alert was stored (created), not the
                                 event time (a replayed log's events are old; no index: a scan) */
    const char *entity;       /* NULL = any */
    const char *label;
    const char *source;
    double min_score;         /* NaN = any */
    size_t limit;             /* rows listed; 0 = all */
} vg_alert_filter;

VG_API vg_alert_filter vg_alert_filter_default(void);

/* Call fn for each matching alert, newest first (time, then id); fn
 * returns nonzero to stop. */
VG_API vg_status vg_alert_store_list(vg_alert_store *s, const vg_alert_filter *f,
                              int (*fn)(const vg_alert_row *row, void *user), void *user);

/* One group of an aggregate: a value and its alerts. */
typedef struct vg_alert_group {
    char *key;                /* owned; "" for alerts without the value (no entity) */
    uint64_t n;
    double max_score;
} vg_alert_group;

typedef struct vg_alert_summary {
    uint64_t total;                   /* alerts matching the filter */
    double first, last;               /* their earliest and latest time; NaN when none */
    double bucket_seconds;            /* width of a timeline bucket */
    double bucket0;                   /* start of bucket 0 (a multiple of bucket_seconds) */
    size_t n_buckets;
    uint64_t *buckets;                /* alerts per bucket, n_buckets (owned) */
    vg_alert_group *labels, *sources, *entities, *models;   /* most first (owned) */
    size_t n_labels, n_sources, n_entities, n_models;
} vg_alert_summary;

/* Count the alerts matching f (its limit is ignored): per label, source,
 * model and entity (the `top` largest of each), and per time bucket of
 * bucket_seconds from since (or the first alert) to until (or the last one);
 * bucket_seconds 0 picks an hour, or a day when that would make more than 96
 * buckets; buckets are widened so there are at most 2000. Errors: VG_ERR_IO
 * (SQLite), VG_ERR_NOMEM. Free with vg_alert_summary_free (safe on a zeroed
 * or failed summary). */
VG_API vg_status vg_alert_store_summarize(vg_alert_store *s, const vg_alert_filter *f, size_t top, double bucket_seconds,
                                   vg_alert_summary *out);
VG_API void vg_alert_summary_free(vg_alert_summary *sum);

/* Earliest and latest alert time in the store (NaN, NaN when empty); two
 * index lookups, so cheap on any size. */
VG_API vg_status vg_alert_store_time_range(vg_alert_store *s, double *first, double *last);

#ifdef __cplusplus
}
#endif

#endif
