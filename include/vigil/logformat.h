/* Log formats: security logs (login events, web access logs) turned into
 * feature records ONLINE. A format parses one line into an event and computes
 * the event's features from its entity's past (user, client IP) and the event
 * itself, never from later events, so the same code serves training (a whole
 * file, vg_logfmt_read) and streaming detection (`vigil watch`, line by line) and
 * both see identical features. Per-entity state is bounded (LRU + TTL), so
 * memory stays flat on endless input.
 *
 * A format's feature record is a list of name/value fields (vg_field, see
 * field.h): numbers for counts, rates and flags, text for categories. The
 * model pipeline takes them by name like any CSV column. */
#ifndef VIGIL_LOGFORMAT_H
#define VIGIL_LOGFORMAT_H

#include <stddef.h>
#include <stdint.h>
#include "vigil/core.h"
#include "vigil/field.h"
#include "vigil/table.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The column a whole log read into a table (vg_logfmt_read) gets with each
 * event's entity (user, client IP): the key of the sequence models' event
 * windows, never a feature (each format lists it with its truth columns). */
#define VG_LOGFMT_ENTITY_COLUMN "entity"

typedef struct vg_logfmt_options {
    size_t max_line_bytes;      /* longer lines are bad lines; default 65536 */
    size_t max_entities;        /* entities with state kept (least recently seen dropped); default 1000000 */
    double entity_ttl;          /* seconds of event time after which idle state is dropped; 0 = never; default 7 days */
    const char *label;          /* which ground truth becomes the label: format-specific name, NULL = default */
    const char *labels_path;    /* side file of labelled line numbers / event ids (weblog), or NULL */
    const char *geoip_path;     /* MaxMind .mmdb or IP-range file for countries, NULL = built-in default */
    /* Raw text fields added to each record for --text (the format's
     * text_fields, vigil/format_row.h; weblog: request, path, query, agent);
     * a name the format does not have fails state_new. Borrowed. */
    const char *const *text;
    size_t n_text;
} vg_logfmt_options;

VG_API vg_logfmt_options vg_logfmt_options_default(void);

/* One processed line. Everything points into the format's state and stays
 * valid until the next process() call on that state. */
typedef struct vg_logfmt_event {
    const vg_field *fields;     /* the feature record; n_fields == 0 for a line to skip (a header) */
    size_t n_fields;
    const char *entity;         /* the state key (user id, client IP); also the shard key */
    size_t entity_len;
    double time;                /* event time, unix seconds (0 if the line has none) */
    const char *label;          /* ground-truth label text if the line carries one, else NULL */
    size_t label_len;
    const char *event_id;       /* an id to match --labels files against, or NULL */
    size_t event_id_len;
} vg_logfmt_event;

/* The per-entity state of a log format: bytes held and entities tracked now;
 * entities dropped so far by the max_entities bound (evicted, least recently
 * seen first) and by the TTL (expired). A dropped entity's features start
 * over if it comes back, so a growing `evicted` says the bound is too small. */
typedef struct vg_logfmt_state_stats {
    size_t bytes, entities;
    uint64_t evicted, expired;
} vg_logfmt_state_stats;

typedef struct vg_logfmt {
    const char *name;           /* --format NAME */
    const char *summary;
    /* Features computed from the entity's past: process() must be called in
     * line order. *state is owned by the caller (state_free). */
    vg_status (*state_new)(const vg_logfmt_options *opt, void **state);
    void (*state_free)(void *state);
    /* Parse one line (no trailing newline). A malformed line returns
     * VG_ERR_PARSE with a message naming the field or problem (the caller
     * adds file:line) and leaves the state as if the line never came. */
    vg_status (*process)(void *state, const char *line, size_t len, vg_logfmt_event *out);
    /* What the per-entity state holds now and has dropped so far. */
    void (*state_stats)(const void *state, vg_logfmt_state_stats *out);
    /* The columns that carry or derive the truth are the format's registry
     * row's truth_columns (vigil/format.h), named once there. */
} vg_logfmt;

/* The log formats themselves (vg_login_format, vg_weblog_format) and
 * vg_logfmt_find are declared with the registry, vigil/format.h: they are
 * features, above this header's io. */

/* Bad lines met while reading a whole log: counted and reported, never
 * silently skipped, never fatal. bad_lines holds the line numbers of the
 * first VG_LOGFMT_REPORT_LINES of them (min(bad, VG_LOGFMT_REPORT_LINES) set), so
 * a message can name them, not just the first. */
#define VG_LOGFMT_REPORT_LINES 10
typedef struct vg_logfmt_report {
    uint64_t lines, events, bad;
    uint64_t first_bad_line;
    char first_bad_message[256];
    uint64_t bad_lines[VG_LOGFMT_REPORT_LINES];
    uint64_t labels_past_end;   /* line numbers of the labels file past the log's last line */
} vg_logfmt_report;

/* "6, 9, 12" or "6, 9, ... and 7 more" (the lines in rep->bad_lines and how
 * many more there were) into buf; "" when there is no bad line. */
VG_API void vg_logfmt_report_lines(const vg_logfmt_report *rep, char *buf, size_t cap);

/* Read a log file (plain or gzip, "-" = stdin) into a table: one row per
 * event, one column per feature field (numeric if the field is a number in
 * every event that has it, else categorical), plus a "label" column when
 * events carry labels or opt->labels_path marks them. A labels file that
 * lists entries of which no event matches one is VG_ERR_INVALID: it belongs
 * to another file, or is not a list of line numbers and ids. */
VG_API vg_status vg_logfmt_read(const char *path, const vg_logfmt *fmt, const vg_logfmt_options *opt, vg_table **out,
                      vg_logfmt_report *report);

#ifdef __cplusplus
}
#endif

#endif
