/* Event windows per entity (see window.h). An entity's slot holds a ring of
 * its last T - 1 encoded rows and how many it has; the window of a new
 * event is the ring, oldest first, then the event's own row. */
#include "features/window.h"
#include "features/entity_state.h"

#include <stdlib.h>
#include <string.h>

struct vg_window {
    uint32_t T;
    size_t F;
    vg_entity_store *store;
};

typedef struct ring {
    uint32_t count;  /* previous rows held, <= T - 1 */
    uint32_t next;   /* slot the next row goes to */
    /* then (T - 1) x F floats */
} ring;

vg_status vg_window_new(uint32_t T, size_t F, size_t max_entities, double ttl, vg_window **out)
{
    *out = NULL;
    if (T < 1 || T > VG_WINDOW_MAX || F < 1)
        return vg_fail(VG_ERR_INVALID, "window: %u events of %zu features (window must be 1 to %u)", T, F,
                       VG_WINDOW_MAX);
    vg_entity_params ep = vg_entity_params_default();
    ep.value_size = sizeof(ring) + (size_t)(T - 1) * F * sizeof(float);
    if (max_entities) ep.max_entities = max_entities;
    ep.ttl = ttl;
    if (vg_entity_params_check(&ep))
        return vg_fail(VG_ERR_INVALID, "window: %u events of %zu features do not fit an entity's state (64 KiB); "
                       "use a smaller window", T, F);
    vg_window *w = vg_calloc(1, sizeof *w);
    if (!w) return vg_fail(VG_ERR_NOMEM, "window: out of memory");
    w->T = T, w->F = F;
    vg_status st = vg_entity_store_new(&ep, &w->store);
    if (st) {
        vg_free(w);
        return st;
    }
    *out = w;
    return VG_OK;
}

void vg_window_free(vg_window *w)
{
    if (!w) return;
    vg_entity_store_free(w->store);
    vg_free(w);
}

size_t vg_window_width(const vg_window *w)
{
    return 1 + (size_t)w->T * w->F;
}

vg_status vg_window_push(vg_window *w, const void *key, size_t len, double time, const float *row, float *out)
{
    const size_t F = w->F, T = w->T, width = vg_window_width(w);
    memset(out, 0, width * sizeof(float));
    memcpy(out + 1 + (T - 1) * F, row, F * sizeof(float));
    out[0] = 1.0f;
    if (!key || len == 0 || T == 1) return VG_OK;
    vg_entity *e;
    int created;
    vg_status st = vg_entity_get(w->store, key, len, time, &e, &created);
    if (st) return st;
    ring *r = vg_entity_value(w->store, e);
    float *slots = (float *)(r + 1);
    const uint32_t cap = (uint32_t)T - 1;
    /* oldest first: the ring's `count` rows end just before `next` */
    for (uint32_t k = 0; k < r->count; k++) {
        const uint32_t slot = (r->next + cap - r->count + k) % cap;
        memcpy(out + 1 + (T - 1 - r->count + k) * F, slots + (size_t)slot * F, F * sizeof(float));
    }
    out[0] = (float)(r->count + 1);
    memcpy(slots + (size_t)r->next * F, row, F * sizeof(float));
    r->next = (r->next + 1) % cap;
    if (r->count < cap) r->count++;
    return VG_OK;
}

typedef struct keyed {
    double t;
    size_t i;
} keyed;

static int by_order(const void *a, const void *b)
{
    const keyed *p = a, *q = b;
    /* NaN (no time) sorts last; ties keep row order, so the sort is stable */
    if (p->t < q->t || (p->t == p->t && q->t != q->t)) return -1;
    if (p->t > q->t || (p->t != p->t && q->t == q->t)) return 1;
    return (p->i > q->i) - (p->i < q->i);
}

vg_status vg_window_rows(uint32_t T, const vg_matrix *X, const char *const *keys, const double *order,
                         size_t max_entities, double ttl, vg_matrix *out)
{
    memset(out, 0, sizeof *out);
    vg_window *w;
    vg_status st = vg_window_new(T, X->cols, max_entities, ttl, &w);
    if (st) return st;
    keyed *perm = vg_malloc((X->rows + 1) * sizeof(keyed));
    if (!perm || (st = vg_matrix_alloc(out, X->rows, vg_window_width(w)))) {
        vg_free(perm);
        vg_window_free(w);
        return st ? st : vg_fail(VG_ERR_NOMEM, "window: out of memory");
    }
    for (size_t i = 0; i < X->rows; i++) perm[i] = (keyed){ order ? order[i] : 0.0, i };
    if (order) qsort(perm, X->rows, sizeof *perm, by_order);
    for (size_t k = 0; k < X->rows && !st; k++) {
        const size_t i = perm[k].i;
        const char *key = keys ? keys[i] : NULL;
        st = vg_window_push(w, key, key ? strlen(key) : 0, order && order[i] == order[i] ? order[i] : 0.0,
                            X->data + i * X->cols, out->data + i * out->cols);
    }
    vg_free(perm);
    vg_window_free(w);
    if (st) vg_matrix_free(out);
    return st;
}
