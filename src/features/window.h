/* Internal: event windows for the sequence families (VG_ESTIMATOR_IN_WINDOW).
 * Each event is given with the encoded rows of the last T events of its
 * entity (user, client IP, --entity column), its own last:
 *     out = [len, x_1 (F), ..., x_T (F)],  len = events present (1..T),
 * the first T - len rows zero padding. The T - 1 previous rows of each
 * entity live in the bounded entity store (LRU + TTL of event time,
 * entity_state.h), so a stream (`watch`) and a whole file (`predict`, which
 * pushes its rows through the same object in order) build the same windows.
 * An event without an entity (empty key) has no history: len = 1.
 *
 * Not thread-safe: one window state per stream. */
#ifndef VG_FEATURES_WINDOW_H
#define VG_FEATURES_WINDOW_H

#include <stddef.h>
#include <stdint.h>
#include "vigil/core.h"
#include "vigil/matrix.h"

#define VG_WINDOW_MAX 256u  /* events per window */

typedef struct vg_window vg_window;

/* T events of F features; entities bounded by max_entities (0 = 1000000)
 * and ttl seconds of event time (0 = forever). VG_ERR_INVALID when T is
 * outside 1..VG_WINDOW_MAX or T - 1 rows of F floats exceed an entity's
 * slot (64 KiB), VG_ERR_NOMEM. *out is new (vg_window_free). */
vg_status vg_window_new(uint32_t T, size_t F, size_t max_entities, double ttl, vg_window **out);
void vg_window_free(vg_window *w);
/* Columns of a window row: 1 + T F. */
size_t vg_window_width(const vg_window *w);

/* The event of entity key[0..len) at `time` with encoded row (F floats):
 * writes its window (vg_window_width floats) to out and remembers the row.
 * Keys longer than 255 bytes: VG_ERR_LIMIT; VG_ERR_NOMEM. */
vg_status vg_window_push(vg_window *w, const void *key, size_t len, double time, const float *row, float *out);

/* The windows of every row of X (rows x F), rows taken in ascending `order`
 * (stable; NULL = row order) and pushed as above with keys[i] (keys[i] may
 * be NULL: no entity) and times order[i] (or 0); out is new, rows x
 * (1 + T F), each row at its own index. */
vg_status vg_window_rows(uint32_t T, const vg_matrix *X, const char *const *keys, const double *order,
                         size_t max_entities, double ttl, vg_matrix *out);

#endif
