/* The most recent detections, for the dashboard: every scored record goes
 * into a ring of its thread's shard (a mutex per shard, so writers never
 * wait for each other; only a reader of /v1/detections/recent briefly takes
 * each shard's lock), and a read merges the shards newest first by a global
 * sequence number.
 *
 * An entry keeps the record as the JSON text the client sent, cut to
 * whole members so it stays a valid object: no formatting on the hot path. */
#ifndef VG_SERVE_RECENT_H
#define VG_SERVE_RECENT_H

#include <stddef.h>
#include <stdint.h>

#include "serve/json_tape.h"
#include "serve/text.h"
#include "vigil/core.h"

typedef struct vg_recent vg_recent;

typedef struct vg_recent_params {
    size_t capacity;       /* detections kept (per shard; reads return at most this many) */
    size_t record_bytes;   /* most bytes of record text kept per detection */
} vg_recent_params;

vg_status vg_recent_new(size_t n_shards, const vg_recent_params *p, vg_recent **out);
void vg_recent_free(vg_recent *r);

/* Remember one detection. time is Unix seconds; model is the model's slot
 * index; obj is the record's node in t. label is copied (truncated to 63 bytes). */
void vg_recent_push(vg_recent *r, double time, size_t model, const char *label, double score, int anomaly,
                    const vg_jtape *t, size_t obj);

/* Write a JSON array of the `limit` newest detections, newest first:
 * {"time","model","label","score","anomaly","record","truncated"}. */
void vg_recent_json(vg_recent *r, size_t limit, const char *const *model_names, vg_text *out);

/* Length of the longest prefix of the object at node obj that holds whole
 * members and, closed with '}', fits in `budget` bytes; *truncated says
 * whether members were dropped. Exposed for tests. */
size_t vg_recent_cut(const vg_jtape *t, size_t obj, size_t budget, int *truncated);

#endif
