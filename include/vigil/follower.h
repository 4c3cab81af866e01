/* The follower: `vigil watch` over files as a library object. It follows the
 * files like tail -F (vigil/tail.h), feeds each line to a detector and hands
 * the alerts of scored blocks to an alert store (if any) and to a callback.
 * With resume, each file's position is committed in the same store
 * transaction as the alerts of the lines before it, and a new follower picks
 * every file up there: its earlier lines are replayed through the features
 * only, so each line gets its alert exactly once across a crash, with the
 * features an unbroken run computes. */
#ifndef VIGIL_FOLLOWER_H
#define VIGIL_FOLLOWER_H

#include <stddef.h>
#include <stdint.h>
#include "vigil/alerts.h"
#include "vigil/core.h"
#include "vigil/tail.h"
#include "vigil/detector.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct vg_follower vg_follower;

typedef struct vg_follower_params {
    vg_tail_params tail;        /* how files are read; tail.resume is the follower's to set */
    int resume;                 /* 1: positions kept in the store (which must be given) */
    double checkpoint_every;    /* seconds between commits while lines never pause; default 0.5 */
    size_t lines_per_step;      /* lines one vg_follower_step reads at most; default 4096 */
} vg_follower_params;

VG_API vg_follower_params vg_follower_params_default(void);

/* Follow paths (copied) with detector d and store (either may be shared
 * with the caller, both must outlive the follower; store may be NULL
 * without resume). With resume the store must not commit on its own
 * (batch_rows SIZE_MAX, batch_seconds INFINITY), so alerts and positions
 * stay together. *out is new. */
VG_API vg_status vg_follower_new(const char *const *paths, size_t n, const vg_follower_params *p, vg_detector *d,
                          vg_alert_store *store, vg_follower **out);
VG_API void vg_follower_free(vg_follower *f);

/* What vg_follower_step found. */
typedef enum vg_follow_state {
    VG_FOLLOW_LINES,   /* lines were read (more may be waiting) */
    VG_FOLLOW_IDLE,    /* nothing to read now: everything read is scored and committed */
    VG_FOLLOW_DONE     /* every input has ended (stdin at its end, or tail.no_follow) and all is committed */
} vg_follow_state;

/* Read up to lines_per_step lines and score them (in blocks); when input is
 * idle score what is held and commit. on_alert (may be NULL) sees each
 * alert after the store has it, in line order. Errors: the tail's, the
 * detector's or the store's. */
VG_API vg_status vg_follower_step(vg_follower *f, void (*on_alert)(const vg_alert *a, void *user), void *user,
                           vg_follow_state *state);
/* Wait up to timeout_ms for more input (vg_tail_wait). */
VG_API vg_status vg_follower_wait(vg_follower *f, int timeout_ms);
/* Score what is held, store its alerts and commit them with the positions:
 * call before stopping so the lines already read get their alerts. */
VG_API vg_status vg_follower_checkpoint(vg_follower *f, void (*on_alert)(const vg_alert *a, void *user), void *user);

/* What resume found for input i at open: VG_TAIL_RESUMED (its lines up to
 * *line_no are replayed), VG_TAIL_REPLACED (the file scored up to *line_no
 * changed: read whole) or VG_TAIL_NEW. */
VG_API int vg_follower_resume_outcome(const vg_follower *f, size_t i, uint64_t *line_no);

#ifdef __cplusplus
}
#endif

#endif
