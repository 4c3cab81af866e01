/* The follower (vigil/follower.h). Its one guarantee is the order of a
 * checkpoint: every line read is scored and its alerts handed to the store,
 * then each file's position is added to the same open batch, then the batch
 * is committed. A crash before the commit loses both the alerts and the
 * position, so the restart scores those lines again; a crash after it loses
 * neither. Quiet files write no position, so an idle follower writes nothing. */
#include "vigil/follower.h"

#include <string.h>

struct vg_follower {
    vg_follower_params p;
    vg_detector *d;
    vg_alert_store *store;
    vg_tail *tail;
    char **paths;
    size_t n;
    vg_tail_position *loaded;   /* with resume: the positions found at open */
    vg_tail_position *saved;    /* with resume: the positions last put into the store */
    double last_checkpoint;
    /* the caller's callback during a step */
    void (*on_alert)(const vg_alert *a, void *user);
    void *user;
};

vg_follower_params vg_follower_params_default(void)
{
    return (vg_follower_params){ .tail = vg_tail_params_default(), .checkpoint_every = 0.5, .lines_per_step = 4096 };
}

void vg_follower_free(vg_follower *f)
{
    if (!f) return;
    vg_tail_close(f->tail);
    for (size_t i = 0; f->paths && i < f->n; i++) vg_free(f->paths[i]);
    vg_free(f->paths);
    vg_free(f->loaded);
    vg_free(f->saved);
    vg_free(f);
}

vg_status vg_follower_new(const char *const *paths, size_t n, const vg_follower_params *p, vg_detector *d,
                          vg_alert_store *store, vg_follower **out)
{
    *out = NULL;
    if (p->resume && !store) return vg_fail(VG_ERR_INVALID, "follower: resume needs an alert store for the positions");
    if (p->lines_per_step < 1) return vg_fail(VG_ERR_INVALID, "follower: lines_per_step must be at least 1");
    vg_follower *f = vg_calloc(1, sizeof *f);
    if (!f || !(f->paths = vg_calloc(n ? n : 1, sizeof *f->paths))) {
        vg_free(f);
        return vg_fail(VG_ERR_NOMEM, "out of memory");
    }
    f->p = *p;
    f->d = d;
    f->store = store;
    f->n = n;
    vg_status st = VG_OK;
    for (size_t i = 0; i < n && !st; i++)
        if (!(f->paths[i] = vg_strdup(paths[i]))) st = vg_fail(VG_ERR_NOMEM, "out of memory");
    vg_tail_params tp = p->tail;
    tp.resume = NULL;
    if (!st && p->resume) {
        f->loaded = vg_calloc(n ? n : 1, sizeof *f->loaded);
        f->saved = vg_calloc(n ? n : 1, sizeof *f->saved);
        if (!f->loaded || !f->saved) st = vg_fail(VG_ERR_NOMEM, "out of memory");
        for (size_t i = 0; i < n && !st; i++)   /* stdin has no position to go back to */
            if (strcmp(paths[i], "-") != 0) st = vg_alert_store_get_position(store, paths[i], &f->loaded[i]);
        if (!st) {
            memcpy(f->saved, f->loaded, n * sizeof *f->loaded);
            tp.resume = f->loaded;
        }
    }
    if (!st) st = vg_tail_open((const char *const *)f->paths, n, &tp, &f->tail);
    if (st) {
        vg_follower_free(f);
        return st;
    }
    f->last_checkpoint = vg_now();
    *out = f;
    return VG_OK;
}

/* A scored alert: into the store's open batch first, then to the caller. */
static vg_status deliver(const vg_alert *a, void *user)
{
    vg_follower *f = user;
    vg_status st = f->store ? vg_alert_store_add(f->store, a) : VG_OK;
    if (!st && f->on_alert) f->on_alert(a, f->user);
    return st;
}

vg_status vg_follower_checkpoint(vg_follower *f, void (*on_alert)(const vg_alert *a, void *user), void *user)
{
    f->on_alert = on_alert;
    f->user = user;
    vg_status st = vg_detector_flush(f->d, deliver, f);
    if (st || !f->store) return st;
    for (size_t i = 0; f->p.resume && i < f->n; i++) {
        vg_tail_position pos = vg_tail_get_position(f->tail, (uint32_t)i);
        const vg_tail_position *old = &f->saved[i];
        if (!pos.known || (old->known && pos.dev == old->dev && pos.ino == old->ino && pos.offset == old->offset &&
                           pos.line_no == old->line_no))
            continue;
        if ((st = vg_alert_store_put_position(f->store, f->paths[i], &pos))) return st;
        f->saved[i] = pos;
    }
    f->last_checkpoint = vg_now();
    return vg_alert_store_commit(f->store);
}

vg_status vg_follower_step(vg_follower *f, void (*on_alert)(const vg_alert *a, void *user), void *user,
                           vg_follow_state *state)
{
    f->on_alert = on_alert;
    f->user = user;
    for (size_t k = 0; k < f->p.lines_per_step; k++) {
        vg_tail_line ln;
        int got;
        vg_status st = vg_tail_next(f->tail, &ln, &got);
        if (st) return st;
        if (!got) {
            /* Idle: score what is held and make it visible and durable. */
            if ((st = vg_follower_checkpoint(f, on_alert, user))) return st;
            *state = vg_tail_finished(f->tail) ? VG_FOLLOW_DONE : VG_FOLLOW_IDLE;
            return VG_OK;
        }
        /* Blocks fill while lines keep coming (a backlog, a burst). */
        st = ln.replay ? vg_detector_replay(f->d, ln.source, ln.line_no, ln.data, ln.len, ln.truncated)
                       : vg_detector_push(f->d, ln.path, ln.source, ln.line_no, ln.data, ln.len, ln.truncated,
                                          deliver, f);
        if (st) return st;
    }
    /* A stream that never idles still commits alerts and positions as often
     * as checkpoint_every says (the store does not commit on its own then). */
    *state = VG_FOLLOW_LINES;
    if (f->p.resume && vg_now() - f->last_checkpoint >= f->p.checkpoint_every)
        return vg_follower_checkpoint(f, on_alert, user);
    return VG_OK;
}

vg_status vg_follower_wait(vg_follower *f, int timeout_ms)
{
    int ready;
    return vg_tail_wait(f->tail, timeout_ms, &ready);
}

int vg_follower_resume_outcome(const vg_follower *f, size_t i, uint64_t *line_no)
{
    *line_no = f->loaded && i < f->n ? f->loaded[i].line_no : 0;
    return i < f->n ? vg_tail_resume_outcome(f->tail, (uint32_t)i) : VG_TAIL_NEW;
}
