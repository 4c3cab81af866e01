/* Bounded per-entity state for the log formats' online features: a map from
 * an entity key (user id, client IP: any bytes) to a fixed-size value struct
 * the format defines, plus a few distinct-value sets per entity ("devices
 * seen so far"). Internal to the library (src/features); shared by the
 * login and weblog formats.
 *
 * Bounds, so memory stays flat on endless input:
 *   - at most max_entities entries; adding one more evicts the least recently
 *     seen entity (an LRU list ordered by get() calls);
 *   - entries idle longer than ttl seconds of EVENT time are dropped: lazily
 *     (a get() on an expired entry returns it reset, as if new) and
 *     incrementally (every get() drops up to two expired entries from the LRU
 *     tail), so no sweep ever walks the whole store;
 *   - every entry is one fixed-size slot, carved from chunks that are never
 *     returned until the store is freed, so the bytes in use grow to
 *     max_entities slots at most and then stay constant.
 * With ttl the LRU tail is the oldest entry only if event times arrive in
 * order; out-of-order times only make expiry later, never wrong.
 *
 * Keys are stored (up to key_cap bytes, longer keys are refused) and compared
 * byte for byte, so a crafted key cannot alias another entity's state.
 *
 * Distinct-value sets. Each set remembers values by a 64-bit hash the caller
 * supplies (vg_hash of the value's bytes). The first set_exact distinct
 * values are kept exactly (as 32-bit fingerprints: a false "seen" needs a
 * 32-bit collision among those few values). Every value also sets one bit of
 * a 64-bit bitmap. Once more than set_exact values were seen the count is the
 * linear-counting estimate from the bitmap (-64 ln(zero bits / 64): standard
 * error about 6% at 30 values and 12% at 100, saturating at
 * VG_ENTITY_SET_MAX_COUNT), and
 * membership of a value not in the exact list is "seen" if its bit is set
 * (so a new value may be taken as seen, never the reverse). This is the
 * trade: "new country / new device" flags and the small counts the rules
 * test ("more than 3 devices") are exact, which is what matters; large counts
 * are estimates; each set costs 12 + 4 * set_exact bytes, rounded up to 8.
 *
 * Not thread-safe: one store per format state, used by one thread. */
#ifndef VG_ENTITY_STATE_H
#define VG_ENTITY_STATE_H

#include <stddef.h>
#include <stdint.h>
#include "vigil/core.h"

#define VG_ENTITY_MAX_SETS 8
#define VG_ENTITY_MAX_SET_EXACT 32
#define VG_ENTITY_MAX_KEY 255
/* The largest distinct count a saturated set reports. */
#define VG_ENTITY_SET_MAX_COUNT 266

typedef struct vg_entity_params {
    size_t value_size;     /* bytes of the caller's struct per entity, zeroed on (re)creation; <= 65536 */
    unsigned n_sets;       /* distinct-value sets per entity, <= VG_ENTITY_MAX_SETS */
    unsigned set_exact;    /* values kept exactly per set, 1..VG_ENTITY_MAX_SET_EXACT (default 8) */
    size_t key_cap;        /* longest key in bytes, 1..VG_ENTITY_MAX_KEY (default 64) */
    size_t max_entities;   /* entries kept, 1..2^31 (default 1000000) */
    double ttl;            /* seconds of event time an idle entry is kept; 0 = forever */
} vg_entity_params;

vg_entity_params vg_entity_params_default(void);
/* NULL if p is usable, else a message naming the bad field (static storage). */
const char *vg_entity_params_check(const vg_entity_params *p);

typedef struct vg_entity_store vg_entity_store;
/* One entity's slot. Valid until the next vg_entity_get() on the store,
 * which may evict or reuse it. */
typedef struct vg_entity vg_entity;

/* A new empty store; VG_ERR_INVALID with the check message for bad params.
 * The caller owns *out (vg_entity_store_free). */
vg_status vg_entity_store_new(const vg_entity_params *p, vg_entity_store **out);
void vg_entity_store_free(vg_entity_store *s);

/* The entity for key[0..len), created (value and sets zeroed) if absent or
 * expired at event time `now`, and marked most recently seen. *created is 1
 * for a new or reset entity. Keys longer than key_cap: VG_ERR_LIMIT; empty
 * keys: VG_ERR_INVALID; allocation failure: VG_ERR_NOMEM. */
vg_status vg_entity_get(vg_entity_store *s, const void *key, size_t len, double now, vg_entity **e, int *created);
/* The entity for key if present and not expired at `now`, else NULL. Changes
 * nothing (no touch, no expiry), so it can be used to peek. */
vg_entity *vg_entity_find(const vg_entity_store *s, const void *key, size_t len, double now);

/* The caller's value_size bytes (8-byte aligned). */
void *vg_entity_value(const vg_entity_store *s, vg_entity *e);
/* Event time of the get() before the current one (the entity's previous
 * event), or 0 for a new entity. */
double vg_entity_prev_seen(const vg_entity *e);

/* 1 if the value with this hash is (probably, see above) in set `set`. */
int vg_entity_set_has(const vg_entity_store *s, const vg_entity *e, unsigned set, uint64_t hash);
/* Add a value; returns 1 if it was not in the set (by vg_entity_set_has). */
int vg_entity_set_add(const vg_entity_store *s, vg_entity *e, unsigned set, uint64_t hash);
/* Distinct values added so far: exact up to set_exact, then estimated. */
uint32_t vg_entity_set_count(const vg_entity_store *s, const vg_entity *e, unsigned set);

/* Entities held now, and bytes the store holds (slots, chunks, hash table). */
size_t vg_entity_store_count(const vg_entity_store *s);
size_t vg_entity_store_bytes(const vg_entity_store *s);
/* Entities dropped so far by the max_entities bound and by the ttl. */
uint64_t vg_entity_store_evicted(const vg_entity_store *s);
uint64_t vg_entity_store_expired(const vg_entity_store *s);

#endif
