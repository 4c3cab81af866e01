/* Streaming detection: one line in, maybe one alert out.
 *
 * The detector runs a line adapter (vigil/line_adapter.h) and a model over lines and decides alerts
 * with the model's decision rule (vigil/decision.h), as predict and serve do:
 * an alert is a record whose score (binary: probability of the positive
 * class; multiclass: 1 - P(normal class); regression: the prediction) is >=
 * the threshold, labelled with its most probable non-normal class. Bad lines
 * (too long, binary, malformed) are counted, the first one remembered, and never stop the stream.
 *
 * Micro-batching: features must be computed one line at a time in arrival
 * order (each event sees only its entity's past), but scoring need not be.
 * vg_detector_push computes a line's features into a block of up to
 * batch_rows rows and keeps what an alert needs (a copy of the line cut to
 * max_raw_bytes, entity, truth, source); the block is scored with the
 * model's batch path when full or when the caller flushes (input idle), and
 * its alerts come out in line order. vg_detector_line is the one-line path:
 * the same decisions, scored row by row (the reference the batched path is
 * tested against). */
#ifndef VIGIL_DETECTOR_H
#define VIGIL_DETECTOR_H

#include <stddef.h>
#include <stdint.h>
#include "vigil/alerts.h"
#include "vigil/core.h"
#include "vigil/line_adapter.h"
#include "vigil/logformat.h"
#include "vigil/model.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct vg_watch_params {
    const char *format;       /* NULL = the model's format */
    double threshold;         /* NaN = default: 0.5 for classes; a regression model alerts only with one */
    int explain;              /* add the top contributing fields when the family can explain */
    size_t top_features;      /* how many; default 3 */
    size_t max_raw_bytes;     /* raw line kept in an alert; longer is cut (UTF-8 safe); default 2048 */
    vg_logfmt_options log;       /* line limit and state bounds; start from vg_model_log_options() */
    size_t batch_rows;        /* vg_detector_push: rows scored together; default 1024, at most 4096 */
    int threads;              /* 1 (default; 0 means 1), or 2: blocks are scored on a second thread while
                                 the caller's thread reads lines and computes features; else VG_ERR_INVALID */
} vg_watch_params;

/* Defaults for a model (its log options, default threshold). */
VG_API vg_watch_params vg_watch_params_default(const vg_model *m);

/* Counters since the detector was made. */
typedef struct vg_watch_stats {
    uint64_t lines, events, skipped, bad, alerts;
    uint64_t first_bad_line;             /* 0 = no bad line yet */
    char first_bad_source[256];
    char first_bad_message[256];
} vg_watch_stats;

typedef struct vg_detector vg_detector;

/* The detector borrows m (must outlive it); model_name is copied and goes
 * into every alert. *out is new. */
VG_API vg_status vg_detector_new(const vg_model *m, const char *model_name, const vg_watch_params *p, vg_detector **out);
VG_API void vg_detector_free(vg_detector *d);

/* Score one line from input `source` (index, named source_name) at line
 * line_no. *fired = 1 and *alert filled (valid until the next call) when the
 * line raises an alert. A bad line is counted and returns VG_OK with
 * *fired = 0; only failures of the process itself (memory) are errors.
 * `truncated` says the follower cut an over-long line (it is bad). event
 * (may be NULL) gets the line's event when it was scored, else n_fields 0;
 * valid until the next call. */
VG_API vg_status vg_detector_line(vg_detector *d, const char *source_name, uint32_t source, uint64_t line_no,
                           const char *line, size_t len, int truncated, vg_logfmt_event *event, vg_alert *alert,
                           int *fired);

/* Called for each alert of a scored block, in line order; the alert is valid
 * only during the call. A non-zero status stops the block and is returned by
 * the push or flush that follows. With threads = 2 it runs on the scoring
 * thread, possibly while the caller's thread is inside vg_detector_push, one
 * alert at a time, and never after vg_detector_flush has returned. */
typedef vg_status (*vg_alert_fn)(const vg_alert *a, void *user);

/* Compute the features of one line (arguments as vg_detector_line) into the
 * current block; when the block is full it is scored and on_alert called for
 * its alerts. source_name is copied. Bad lines are counted here, as by
 * vg_detector_line; `events` and `alerts` count when a block is scored.
 * Fails on memory, or with on_alert's status. Do not mix with
 * vg_detector_line while rows are held. */
VG_API vg_status vg_detector_push(vg_detector *d, const char *source_name, uint32_t source, uint64_t line_no,
                           const char *line, size_t len, int truncated, vg_alert_fn on_alert, void *user);
/* A line scored in an earlier run (`vigil watch --resume`): only its
 * features are computed, so the per-entity state is what it was when that
 * run read it; nothing is scored or counted (a bad line was reported then).
 * Fails only on memory. */
VG_API vg_status vg_detector_replay(vg_detector *d, uint32_t source, uint64_t line_no, const char *line, size_t len,
                             int truncated);
/* Score the rows held now (none: nothing happens) and call on_alert for
 * their alerts, in order; returns when every pushed row is scored and its
 * alerts delivered (then the caller may commit a store the callback
 * writes). Call it when input goes idle so alerts are not held back. After
 * a failure the held rows are dropped. */
VG_API vg_status vg_detector_flush(vg_detector *d, vg_alert_fn on_alert, void *user);
/* Rows pushed and not yet scored. */
VG_API size_t vg_detector_held(const vg_detector *d);

VG_API const vg_watch_stats *vg_detector_stats(const vg_detector *d);
VG_API const vg_line_adapter *vg_detector_adapter(const vg_detector *d);
/* The threshold in use (after defaults). */
VG_API double vg_detector_threshold(const vg_detector *d);

#ifdef __cplusplus
}
#endif

#endif
