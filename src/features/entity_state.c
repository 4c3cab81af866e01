/* The bounded per-entity store behind the log formats' online features (see
 * entity_state.h for the bounds and the distinct-set trade-off). Entries are
 * fixed-size slots addressed by 32-bit indexes, so the hash chains, the LRU
 * list and the free list are index links inside the slots and cost no
 * allocation per event. */
#include "features/entity_state.h"

#include <math.h>
#include <string.h>

#define NIL UINT32_MAX
#define MAX_VALUE_SIZE 65536  /* a sequence model's window: T - 1 encoded rows (features/window.c) */
#define MAX_CHUNK_SLOTS 1024
#define EXPIRE_PER_GET 2

struct vg_entity {
    uint64_t hash;
    double last_seen;   /* newest event time seen for this entity */
    double prev_seen;   /* last_seen before the current get(), 0 when new */
    uint32_t chain;     /* next slot in the bucket chain, or in the free list */
    uint32_t lru_prev;  /* towards the most recently seen */
    uint32_t lru_next;  /* towards the least recently seen */
    uint16_t key_len;
    uint8_t live;
    /* then, at 8-byte aligned offsets: sets, value, key */
};

struct vg_entity_store {
    vg_entity_params p;
    size_t slot_size, set_size, sets_off, value_off, key_off;
    unsigned char **chunks;   /* each chunk_slots slots */
    size_t n_chunks, chunks_cap, chunk_slots;
    uint32_t n_slots;         /* slots ever carved (high-water mark) */
    uint32_t *buckets;        /* heads of the hash chains */
    size_t n_buckets;         /* a power of two */
    uint32_t lru_head, lru_tail, free_head;
    size_t count;
    uint64_t evicted, expired;
    double estimate[65];      /* a set's count from its bitmap's zero bits: -64 ln(zeros / 64), made once */
};

static size_t align8(size_t n)
{
    return (n + 7) & ~(size_t)7;
}

vg_entity_params vg_entity_params_default(void)
{
    return (vg_entity_params){ .value_size = 0, .n_sets = 0, .set_exact = 8, .key_cap = 64,
                               .max_entities = 1000000, .ttl = 0 };
}

const char *vg_entity_params_check(const vg_entity_params *p)
{
    if (p->value_size > MAX_VALUE_SIZE) return "entity value_size is over 65536 bytes";
    if (p->n_sets > VG_ENTITY_MAX_SETS) return "entity n_sets is over 8";
    if (p->set_exact < 1 || p->set_exact > VG_ENTITY_MAX_SET_EXACT) return "entity set_exact is not in 1..32";
    if (p->key_cap < 1 || p->key_cap > VG_ENTITY_MAX_KEY) return "entity key_cap is not in 1..255";
    if (p->max_entities < 1 || p->max_entities > ((size_t)1 << 31)) return "max_entities is not in 1..2^31";
    if (!(p->ttl >= 0)) return "entity ttl is negative or not a number";
    return NULL;
}

vg_status vg_entity_store_new(const vg_entity_params *p, vg_entity_store **out)
{
    *out = NULL;
    const char *msg = vg_entity_params_check(p);
    if (msg) return vg_fail(VG_ERR_INVALID, "%s", msg);
    vg_entity_store *s = vg_calloc(1, sizeof *s);
    if (!s) return vg_fail(VG_ERR_NOMEM, "out of memory");
    s->p = *p;
    for (int z = 1; z <= 64; z++) s->estimate[z] = -64.0 * log(z / 64.0);
    /* A set: 64-bit bitmap, 32-bit count and overflow flag, the fingerprints. */
    s->set_size = align8(12 + 4 * (size_t)p->set_exact);  /* keeps each bitmap 8-byte aligned */
    s->sets_off = align8(sizeof(vg_entity));
    s->value_off = align8(s->sets_off + s->set_size * p->n_sets);
    s->key_off = align8(s->value_off + p->value_size);
    s->slot_size = align8(s->key_off + p->key_cap);
    s->chunk_slots = VG_MIN(p->max_entities, (size_t)MAX_CHUNK_SLOTS);
    s->lru_head = s->lru_tail = s->free_head = NIL;
    s->n_buckets = 64;
    s->buckets = vg_malloc(s->n_buckets * sizeof *s->buckets);
    if (!s->buckets) {
        vg_free(s);
        return vg_fail(VG_ERR_NOMEM, "out of memory");
    }
    memset(s->buckets, 0xff, s->n_buckets * sizeof *s->buckets);
    *out = s;
    return VG_OK;
}

void vg_entity_store_free(vg_entity_store *s)
{
    if (!s) return;
    for (size_t i = 0; i < s->n_chunks; i++) vg_free(s->chunks[i]);
    vg_free(s->chunks);
    vg_free(s->buckets);
    vg_free(s);
}

static vg_entity *slot(const vg_entity_store *s, uint32_t i)
{
    return (vg_entity *)(s->chunks[i / s->chunk_slots] + (i % s->chunk_slots) * s->slot_size);
}

static unsigned char *slot_key(const vg_entity_store *s, vg_entity *e)
{
    return (unsigned char *)e + s->key_off;
}

static unsigned char *slot_set(const vg_entity_store *s, const vg_entity *e, unsigned set)
{
    return (unsigned char *)e + s->sets_off + s->set_size * set;
}

static void lru_unlink(vg_entity_store *s, uint32_t i)
{
    vg_entity *e = slot(s, i);
    if (e->lru_prev != NIL) slot(s, e->lru_prev)->lru_next = e->lru_next;
    else s->lru_head = e->lru_next;
    if (e->lru_next != NIL) slot(s, e->lru_next)->lru_prev = e->lru_prev;
    else s->lru_tail = e->lru_prev;
    e->lru_prev = e->lru_next = NIL;
}

static void lru_push_head(vg_entity_store *s, uint32_t i)
{
    vg_entity *e = slot(s, i);
    e->lru_prev = NIL;
    e->lru_next = s->lru_head;
    if (s->lru_head != NIL) slot(s, s->lru_head)->lru_prev = i;
    s->lru_head = i;
    if (s->lru_tail == NIL) s->lru_tail = i;
}

/* Take slot i out of its bucket chain and the LRU list (it stays allocated). */
static void unlink_entry(vg_entity_store *s, uint32_t i)
{
    vg_entity *e = slot(s, i);
    uint32_t *link = &s->buckets[e->hash & (s->n_buckets - 1)];
    while (*link != i) link = &slot(s, *link)->chain;
    *link = e->chain;
    lru_unlink(s, i);
    e->live = 0;
    s->count--;
}

static void free_push(vg_entity_store *s, uint32_t i)
{
    slot(s, i)->chain = s->free_head;
    s->free_head = i;
}

/* Zero the caller's value and the sets: the entity starts over. */
static void reset_entry(vg_entity_store *s, vg_entity *e)
{
    memset((unsigned char *)e + s->sets_off, 0, s->key_off - s->sets_off);
    e->prev_seen = 0;
}

/* Double the buckets while the chains average more than one entry, so a
 * lookup stays O(1) without sizing the table for max_entities up front. */
static vg_status maybe_grow(vg_entity_store *s)
{
    if (s->count <= s->n_buckets) return VG_OK;
    size_t n = s->n_buckets * 2;
    uint32_t *b = vg_malloc(n * sizeof *b);
    if (!b) return VG_ERR_NOMEM;  /* the old table still works, only slower */
    memset(b, 0xff, n * sizeof *b);
    for (uint32_t i = s->lru_head; i != NIL;) {
        vg_entity *e = slot(s, i);
        e->chain = b[e->hash & (n - 1)];
        b[e->hash & (n - 1)] = i;
        i = e->lru_next;
    }
    vg_free(s->buckets);
    s->buckets = b;
    s->n_buckets = n;
    return VG_OK;
}

/* A slot for a new entry: a freed one, a newly carved one while under the
 * bound, else the least recently seen entry's. NIL when out of memory. */
static uint32_t take_slot(vg_entity_store *s)
{
    if (s->free_head != NIL) {
        uint32_t i = s->free_head;
        s->free_head = slot(s, i)->chain;
        return i;
    }
    if (s->n_slots < s->p.max_entities) {
        if (s->n_slots % s->chunk_slots == 0) {
            if (s->n_chunks == s->chunks_cap) {
                size_t cap = s->chunks_cap ? s->chunks_cap * 2 : 16;
                unsigned char **c = vg_realloc(s->chunks, cap * sizeof *c);
                if (!c) return NIL;
                s->chunks = c;
                s->chunks_cap = cap;
            }
            unsigned char *chunk = vg_malloc(s->chunk_slots * s->slot_size);
            if (!chunk) return NIL;
            s->chunks[s->n_chunks++] = chunk;
        }
        return s->n_slots++;
    }
    uint32_t i = s->lru_tail;
    unlink_entry(s, i);
    s->evicted++;
    return i;
}

static uint32_t lookup(const vg_entity_store *s, uint64_t h, const void *key, size_t len)
{
    for (uint32_t i = s->buckets[h & (s->n_buckets - 1)]; i != NIL;) {
        vg_entity *e = slot(s, i);
        if (e->hash == h && e->key_len == len && memcmp(slot_key(s, e), key, len) == 0) return i;
        i = e->chain;
    }
    return NIL;
}

static int is_expired(const vg_entity_store *s, const vg_entity *e, double now)
{
    return s->p.ttl > 0 && now - e->last_seen > s->p.ttl;
}

vg_status vg_entity_get(vg_entity_store *s, const void *key, size_t len, double now, vg_entity **out, int *created)
{
    *out = NULL;
    *created = 0;
    if (len == 0) return vg_fail(VG_ERR_INVALID, "empty entity key");
    if (len > s->p.key_cap) return vg_fail(VG_ERR_LIMIT, "entity key longer than %zu bytes", s->p.key_cap);
    for (int k = 0; k < EXPIRE_PER_GET && s->lru_tail != NIL && is_expired(s, slot(s, s->lru_tail), now); k++) {
        uint32_t t = s->lru_tail;
        unlink_entry(s, t);
        free_push(s, t);
        s->expired++;
    }
    uint64_t h = vg_hash(key, len, 0);
    uint32_t i = lookup(s, h, key, len);
    if (i != NIL) {
        vg_entity *e = slot(s, i);
        if (is_expired(s, e, now)) {
            reset_entry(s, e);
            e->last_seen = now;
            s->expired++;
            *created = 1;
        } else {
            e->prev_seen = e->last_seen;
            if (now > e->last_seen) e->last_seen = now;
        }
        if (s->lru_head != i) {
            lru_unlink(s, i);
            lru_push_head(s, i);
        }
        *out = e;
        return VG_OK;
    }
    i = take_slot(s);
    if (i == NIL) return vg_fail(VG_ERR_NOMEM, "out of memory for entity state");
    vg_entity *e = slot(s, i);
    e->hash = h;
    e->last_seen = now;
    e->key_len = (uint16_t)len;
    e->live = 1;
    reset_entry(s, e);
    memcpy(slot_key(s, e), key, len);
    uint32_t *b = &s->buckets[h & (s->n_buckets - 1)];
    e->chain = *b;
    *b = i;
    lru_push_head(s, i);
    s->count++;
    (void)maybe_grow(s);
    *out = e;
    *created = 1;
    return VG_OK;
}

vg_entity *vg_entity_find(const vg_entity_store *s, const void *key, size_t len, double now)
{
    if (len == 0 || len > s->p.key_cap) return NULL;
    uint32_t i = lookup(s, vg_hash(key, len, 0), key, len);
    if (i == NIL || is_expired(s, slot(s, i), now)) return NULL;
    return slot(s, i);
}

void *vg_entity_value(const vg_entity_store *s, vg_entity *e)
{
    return (unsigned char *)e + s->value_off;
}

double vg_entity_prev_seen(const vg_entity *e)
{
    return e->prev_seen;
}

/* A set's fields inside its bytes: bitmap, count|overflow, fingerprints. */
typedef struct set_view {
    uint64_t *bits;
    uint32_t *meta;
    uint32_t *fp;
} set_view;

#define SET_OVERFLOW 0x80000000u

static set_view view(const vg_entity_store *s, const vg_entity *e, unsigned set)
{
    VG_ASSERT(set < s->p.n_sets);
    unsigned char *b = slot_set(s, e, set);
    return (set_view){ (uint64_t *)b, (uint32_t *)(b + 8), (uint32_t *)(b + 12) };
}

int vg_entity_set_has(const vg_entity_store *s, const vg_entity *e, unsigned set, uint64_t hash)
{
    set_view v = view(s, e, set);
    uint32_t fp = (uint32_t)hash, n = *v.meta & ~SET_OVERFLOW;
    for (uint32_t k = 0; k < n; k++)
        if (v.fp[k] == fp) return 1;
    if (!(*v.meta & SET_OVERFLOW)) return 0;
    return (*v.bits >> (hash >> 58)) & 1;
}

int vg_entity_set_add(const vg_entity_store *s, vg_entity *e, unsigned set, uint64_t hash)
{
    if (vg_entity_set_has(s, e, set, hash)) return 0;
    set_view v = view(s, e, set);
    *v.bits |= (uint64_t)1 << (hash >> 58);
    uint32_t n = *v.meta & ~SET_OVERFLOW;
    if (n < s->p.set_exact) {
        v.fp[n] = (uint32_t)hash;
        *v.meta = (*v.meta & SET_OVERFLOW) | (n + 1);
    } else {
        *v.meta |= SET_OVERFLOW;
    }
    return 1;
}

uint32_t vg_entity_set_count(const vg_entity_store *s, const vg_entity *e, unsigned set)
{
    set_view v = view(s, e, set);
    uint32_t n = *v.meta & ~SET_OVERFLOW;
    if (!(*v.meta & SET_OVERFLOW)) return n;
    int zeros = 64 - __builtin_popcountll(*v.bits);
    if (zeros == 0) return VG_ENTITY_SET_MAX_COUNT;
    uint32_t c = (uint32_t)(s->estimate[zeros] + 0.5);
    /* The exact list already proved set_exact + 1 distinct values. */
    return VG_MAX(c, s->p.set_exact + 1);
}

size_t vg_entity_store_count(const vg_entity_store *s)
{
    return s->count;
}

size_t vg_entity_store_bytes(const vg_entity_store *s)
{
    return sizeof *s + s->n_chunks * s->chunk_slots * s->slot_size + s->chunks_cap * sizeof *s->chunks +
           s->n_buckets * sizeof *s->buckets;
}

uint64_t vg_entity_store_evicted(const vg_entity_store *s)
{
    return s->evicted;
}

uint64_t vg_entity_store_expired(const vg_entity_store *s)
{
    return s->expired;
}
