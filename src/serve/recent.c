/* Ring buffers of recent detections (see recent.h). */
#include "serve/recent.h"

#include <pthread.h>
#include <stdatomic.h>
#include <string.h>

typedef struct entry {
    uint64_t seq;           /* 0 = empty */
    double time, score;
    uint32_t model;
    uint8_t anomaly, truncated;
    char label[64];
    uint32_t record_len;
    char *record;           /* record_bytes + 1 bytes, inside the shard's block */
} entry;

typedef struct shard {
    pthread_mutex_t lock;
    size_t head;            /* next entry to write */
    entry *entries;
    char *text;
} shard;

struct vg_recent {
    vg_recent_params p;
    size_t n_shards;
    shard *shards;
    atomic_uint_fast64_t seq;
    atomic_size_t next_shard;
    pthread_key_t key;
};

vg_status vg_recent_new(size_t n_shards, const vg_recent_params *p, vg_recent **out)
{
    *out = NULL;
    vg_recent *r = vg_calloc(1, sizeof *r);
    if (!r) return vg_fail(VG_ERR_NOMEM, "out of memory");
    r->p = *p;
    if (r->p.capacity == 0) r->p.capacity = 1;
    r->n_shards = n_shards ? n_shards : 1;
    r->shards = vg_calloc(r->n_shards, sizeof *r->shards);
    if (!r->shards || pthread_key_create(&r->key, NULL) != 0) {
        vg_free(r->shards);
        vg_free(r);
        return vg_fail(VG_ERR_NOMEM, "out of memory");
    }
    for (size_t i = 0; i < r->n_shards; i++) {
        shard *s = &r->shards[i];
        pthread_mutex_init(&s->lock, NULL);
        s->entries = vg_calloc(r->p.capacity, sizeof *s->entries);
        s->text = vg_malloc(r->p.capacity * (r->p.record_bytes + 1));
        if (!s->entries || !s->text) {
            vg_recent_free(r);
            return vg_fail(VG_ERR_NOMEM, "out of memory");
        }
        for (size_t k = 0; k < r->p.capacity; k++) s->entries[k].record = s->text + k * (r->p.record_bytes + 1);
    }
    *out = r;
    return VG_OK;
}

void vg_recent_free(vg_recent *r)
{
    if (!r) return;
    for (size_t i = 0; i < r->n_shards; i++) {
        pthread_mutex_destroy(&r->shards[i].lock);
        vg_free(r->shards[i].entries);
        vg_free(r->shards[i].text);
    }
    pthread_key_delete(r->key);
    vg_free(r->shards);
    vg_free(r);
}

size_t vg_recent_cut(const vg_jtape *t, size_t obj, size_t budget, int *truncated)
{
    const vg_jnode *o = &t->nodes[obj];
    size_t whole = o->end - o->pos;
    *truncated = 0;
    if (whole <= budget) return whole;
    *truncated = 1;
    /* Keep members while "{" + members so far + "}" fits; each member's
     * text runs from its key to the end of its value. */
    size_t keep = 1;  /* just "{" */
    size_t k = obj + 1;
    for (uint32_t m = 0; m < o->len; m++) {
        const vg_jnode *val = &t->nodes[k + 1];
        size_t upto = val->end - o->pos;  /* "{ ... value" */
        if (upto + 1 > budget) break;
        keep = upto;
        k = val->next;
    }
    return keep;
}

void vg_recent_push(vg_recent *r, double time, size_t model, const char *label, double score, int anomaly,
                    const vg_jtape *t, size_t obj)
{
    shard *s = pthread_getspecific(r->key);
    if (!s) {
        s = &r->shards[atomic_fetch_add(&r->next_shard, 1) % r->n_shards];
        pthread_setspecific(r->key, s);
    }
    int truncated;
    size_t len = vg_recent_cut(t, obj, r->p.record_bytes, &truncated);
    uint64_t seq = atomic_fetch_add_explicit(&r->seq, 1, memory_order_relaxed) + 1;
    pthread_mutex_lock(&s->lock);
    entry *e = &s->entries[s->head];
    s->head = (s->head + 1) % r->p.capacity;
    e->seq = seq;
    e->time = time;
    e->score = score;
    e->model = (uint32_t)model;
    e->anomaly = (uint8_t)(anomaly != 0);
    e->truncated = (uint8_t)truncated;
    size_t ll = strlen(label);
    if (ll > sizeof e->label - 1) ll = sizeof e->label - 1;
    memcpy(e->label, label, ll);
    e->label[ll] = '\0';
    const char *text = t->text + t->nodes[obj].pos;
    memcpy(e->record, text, len);
    if (truncated && len < r->p.record_bytes) e->record[len++] = '}';
    e->record_len = (uint32_t)len;
    pthread_mutex_unlock(&s->lock);
}

typedef struct pick {
    uint64_t seq;
    size_t shard, index;
} pick;

void vg_recent_json(vg_recent *r, size_t limit, const char *const *model_names, vg_text *out)
{
    if (limit > r->p.capacity) limit = r->p.capacity;
    /* Copy the shards' entries under their locks, then merge: newest seq first. */
    size_t total = r->n_shards * r->p.capacity;
    entry *copy = vg_arena_alloc(out->a, (total ? total : 1) * sizeof *copy);
    char *text = vg_arena_alloc(out->a, (total ? total : 1) * (r->p.record_bytes + 1));
    if (!copy || !text) {
        out->failed = 1;
        return;
    }
    for (size_t i = 0; i < r->n_shards; i++) {
        shard *s = &r->shards[i];
        pthread_mutex_lock(&s->lock);
        for (size_t k = 0; k < r->p.capacity; k++) {
            entry *d = &copy[i * r->p.capacity + k];
            *d = s->entries[k];
            d->record = text + (i * r->p.capacity + k) * (r->p.record_bytes + 1);
            memcpy(d->record, s->entries[k].record, s->entries[k].record_len);
        }
        pthread_mutex_unlock(&s->lock);
    }
    vg_text_putc(out, '[');
    uint64_t below = UINT64_MAX;
    for (size_t n = 0; n < limit; n++) {
        /* Selection of the next newest: limit and shards are small. */
        entry *best = NULL;
        for (size_t k = 0; k < total; k++)
            if (copy[k].seq && copy[k].seq < below && (!best || copy[k].seq > best->seq)) best = &copy[k];
        if (!best) break;
        below = best->seq;
        if (n) vg_text_putc(out, ',');
        vg_text_puts(out, "{\"time\":");
        vg_text_printf(out, "%.3f", best->time);
        vg_text_puts(out, ",\"model\":");
        vg_text_json_cstr(out, model_names[best->model]);
        vg_text_puts(out, ",\"label\":");
        vg_text_json_cstr(out, best->label);
        vg_text_puts(out, ",\"score\":");
        vg_text_json_num(out, best->score, 7);
        vg_text_puts(out, best->anomaly ? ",\"anomaly\":true" : ",\"anomaly\":false");
        vg_text_puts(out, ",\"record\":");
        vg_text_put(out, best->record, best->record_len);
        vg_text_puts(out, best->truncated ? ",\"truncated\":true}" : ",\"truncated\":false}");
    }
    vg_text_putc(out, ']');
}
