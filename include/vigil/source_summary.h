/* What a log source holds, for an analyst: per input file, its events and
 * bad lines, the time it spans, the alerts a model raises on it (exactly what
 * `vigil watch --from-start` would raise: the same line adapter, detector and
 * threshold), and the top values of what an analyst looks at first - the
 * entities (client IP for weblog, user for login) by events and by alerts,
 * countries, status codes (weblog) or login outcomes (login), user-agent
 * classes (weblog) or ASNs (login) - plus events and alerts per hour.
 *
 * The HTML report draws it (vg_report_params.sources). Ground truth is not
 * needed: the summary works on unlabelled logs. Distinct values are counted
 * exactly up to max_keys per table; later new values are pooled under
 * "(other)" so memory stays bounded on huge logs. */
#ifndef VIGIL_SOURCE_SUMMARY_H
#define VIGIL_SOURCE_SUMMARY_H

#include <stddef.h>
#include <stdint.h>
#include "vigil/core.h"
#include "vigil/logformat.h"
#include "vigil/model.h"

#ifdef __cplusplus
extern "C" {
#endif

#define VG_SUMMARY_MAX_DIMS 4
#define VG_SUMMARY_OTHER "(other)"

/* One value of a table with its events and the alerts among them. */
typedef struct vg_summary_count {
    const char *key;     /* owned by the summary */
    uint64_t events, alerts;
} vg_summary_count;

/* The top values of one field. */
typedef struct vg_summary_table {
    const char *title;           /* "Countries", static */
    const char *field;           /* the format's field it counts ("country"), or "entity"; static */
    size_t distinct;             /* distinct values seen (at most max_keys + 1 with "(other)") */
    size_t alerted;              /* distinct values with at least one alert */
    uint64_t missing;            /* events without a value */
    vg_summary_count *by_events; /* top values by events, most first (ties: by key) */
    size_t n_by_events;
    vg_summary_count *by_alerts; /* top values by alerts (only those with alerts), most first */
    size_t n_by_alerts;
} vg_summary_table;

typedef struct vg_source_summary {
    char *source;                /* the path, as given (owned) */
    const char *format;          /* the log format's name (static) */
    const char *entity_name;     /* "client IP", "user" (static) */
    uint64_t lines, events, skipped, bad, alerts;
    uint64_t labelled;           /* events whose line carried a ground-truth label */
    uint64_t first_bad_line;     /* 0 = none */
    char first_bad_message[256];
    double first_time, last_time;/* event times (unix s); NaN without events */
    double threshold;            /* the detector's threshold */
    vg_summary_table entities;
    vg_summary_table dims[VG_SUMMARY_MAX_DIMS];
    size_t n_dims;
    vg_summary_table labels;     /* the alerts' predicted labels */
    /* Events and alerts per hour: bucket i covers [hour0 + 3600 i, + 3600). */
    double hour0;
    size_t n_hours;
    uint64_t *hour_events, *hour_alerts;  /* n_hours each (owned) */
} vg_source_summary;

typedef struct vg_summary_params {
    const char *format;          /* log format; NULL = the model's */
    double threshold;            /* NaN = the detector's default */
    size_t top;                  /* values kept per table; default 10 */
    size_t max_keys;             /* distinct values counted per table; default 1000000 */
    size_t max_hours;            /* hourly buckets (events outside are not in the timeline); default 24 * 400 */
    const vg_logfmt_options *log;   /* NULL = the model's log options */
} vg_summary_params;

VG_API vg_summary_params vg_summary_params_default(void);

/* Read the log at `path` (plain or gzip) line by line the way `vigil watch`
 * does and summarise it, scoring every event with m. Fails with
 * VG_ERR_INVALID when the format is not a log format (login, weblog),
 * VG_ERR_IO when the file cannot be read, VG_ERR_NOMEM. Bad lines are counted,
 * never fatal. *out is new; free with vg_source_summary_free. */
VG_API vg_status vg_source_summarize(const vg_model *m, const char *path, const vg_summary_params *p,
                              vg_source_summary **out);
VG_API void vg_source_summary_free(vg_source_summary *s);

#ifdef __cplusplus
}
#endif

#endif
