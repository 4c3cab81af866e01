/* The models a server holds, by name, and their hot reload.
 *
 * Each name is a slot pointing at the current vg_served: a loaded model plus
 * what requests need from it (which class is the score, the prebuilt JSON of
 * GET /v1/models). A request acquires the current vg_served (reference
 * counted) and releases it when done; a reload loads the new file fully,
 * then swaps the slot's pointer, so in-flight requests finish on the old
 * model, which is freed by whoever drops its last reference. A failed load
 * leaves the slot untouched.
 *
 * Acquire takes no lock. A reader announces itself in one of two counters
 * picked by the slot's epoch before reading the pointer; the reloader swaps
 * the pointer, moves the epoch on and waits until the old epoch's counter
 * drains, after which no reader can still be about to take a reference to
 * the old model, and only then drops the slot's own reference. */
#ifndef VG_SERVE_CATALOG_H
#define VG_SERVE_CATALOG_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "vigil/core.h"
#include "vigil/decision.h"
#include "vigil/model.h"

typedef struct vg_served {
    atomic_long refs;
    vg_model *model;
    const char *name;        /* the slot's name (lives as long as the catalog) */
    size_t slot;             /* index of the slot */
    const char *path;        /* the slot's file */
    double loaded_at;        /* Unix time of the load */
    uint64_t generation;     /* 1 for the first load, +1 per successful reload */
    int regression;
    int multiclass;
    vg_decision_rule rule;   /* score, label and anomaly (threshold: the default; the server may override) */
    int can_explain;
    size_t n_inputs;
    char *summary_json;      /* this model's entry in GET /v1/models (vg_malloc'd) */
    char *detail_json;       /* GET /v1/models/NAME (vg_malloc'd) */
} vg_served;

typedef struct vg_catalog vg_catalog;

vg_status vg_catalog_new(vg_catalog **out);
/* Frees every slot; no request may hold a model any more. */
void vg_catalog_free(vg_catalog *c);

/* Load `path` as model `name` (NULL: the file's base name without .vgm).
 * Only before serving starts: slots never move afterwards. Fails on a
 * duplicate or invalid name and on any load error (message names the file). */
vg_status vg_catalog_add(vg_catalog *c, const char *name, const char *path);

size_t vg_catalog_count(const vg_catalog *c);
const char *vg_catalog_name(const vg_catalog *c, size_t i);
/* Slot index of name[0..len), or -1. */
long vg_catalog_find(const vg_catalog *c, const char *name, size_t len);

/* The missing-field policy of slot i (vigil/server.h; reject until set). */
void vg_catalog_set_missing(vg_catalog *c, size_t i, int policy);
int vg_catalog_missing(const vg_catalog *c, size_t i);

/* The current model of slot i with a reference taken; never NULL. */
vg_served *vg_catalog_acquire(vg_catalog *c, size_t i);
void vg_served_release(vg_served *s);

/* Reload slot i from its file. On success the new model serves every
 * request that starts afterwards; on failure (message says why) the old one
 * keeps serving. Reloads of one slot are serialised. */
vg_status vg_catalog_reload(vg_catalog *c, size_t i);
/* Reloads of slot i so far that succeeded and that failed. */
void vg_catalog_reloads(const vg_catalog *c, size_t i, uint64_t *ok, uint64_t *failed);

#endif
