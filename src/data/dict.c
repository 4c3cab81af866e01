/* String dictionary: first-seen codes, open addressing over vg_hash, strings
 * in a chunked arena (one vg_malloc per 64 KiB instead of one per string, and
 * stable pointers, which vg_table_category hands out). */
#include "data/dict.h"

#include <string.h>

#define CHUNK_BYTES (64u * 1024u)
#define HASH_SEED 0x76696769ull /* "vigi": any fixed value; codes never depend on it */

struct vg_dict_chunk {
    vg_dict_chunk *next;
    size_t used, cap;
    char data[];
};

void vg_dict_init(vg_dict *d)
{
    memset(d, 0, sizeof *d);
}

void vg_dict_free(vg_dict *d)
{
    if (!d) return;
    vg_dict_chunk *c = d->chunks;
    while (c) {
        vg_dict_chunk *next = c->next;
        vg_free(c);
        c = next;
    }
    vg_free(d->strs);
    vg_free(d->lens);
    vg_free(d->hashes);
    vg_free(d->slots);
    memset(d, 0, sizeof *d);
}

/* Copy of [s, s+len) plus a NUL, in the arena. A string larger than a chunk
 * gets a chunk of its own, linked behind the current one so the current
 * chunk's free space is not lost. */
static const char *arena_store(vg_dict *d, const char *s, size_t len)
{
    size_t need = len + 1;
    vg_dict_chunk *c = d->chunks;
    if (!c || c->cap - c->used < need) {
        size_t cap = need > CHUNK_BYTES / 4 ? need : CHUNK_BYTES;
        vg_dict_chunk *nc = vg_malloc(sizeof *nc + cap);
        if (!nc) return NULL;
        nc->used = 0;
        nc->cap = cap;
        if (c && cap != CHUNK_BYTES) {
            nc->next = c->next;
            c->next = nc;
        } else {
            nc->next = c;
            d->chunks = nc;
        }
        c = nc;
    }
    char *p = c->data + c->used;
    if (len) memcpy(p, s, len);
    p[len] = '\0';
    c->used += need;
    return p;
}

static vg_status rehash(vg_dict *d, uint32_t nslots)
{
    uint32_t *slots = vg_calloc(nslots, sizeof *slots);
    if (!slots) return vg_fail(VG_ERR_NOMEM, "out of memory (dictionary of %u strings)", d->n);
    uint32_t mask = nslots - 1;
    for (uint32_t code = 0; code < d->n; code++) {
        uint32_t i = (uint32_t)d->hashes[code] & mask;
        while (slots[i]) i = (i + 1) & mask;
        slots[i] = code + 1;
    }
    vg_free(d->slots);
    d->slots = slots;
    d->mask = mask;
    return VG_OK;
}

static uint32_t lookup(const vg_dict *d, const char *s, size_t len, uint64_t h)
{
    if (!d->slots) return VG_DICT_NONE;
    uint32_t i = (uint32_t)h & d->mask;
    for (;;) {
        uint32_t v = d->slots[i];
        if (!v) return VG_DICT_NONE;
        uint32_t code = v - 1;
        if (d->hashes[code] == h && d->lens[code] == len && memcmp(d->strs[code], s, len) == 0)
            return code;
        i = (i + 1) & d->mask;
    }
}

uint32_t vg_dict_find(const vg_dict *d, const char *s, size_t len)
{
    if (d->n == 0) return VG_DICT_NONE;
    return lookup(d, s, len, vg_hash(s, len, HASH_SEED));
}

static vg_status grow_arrays(vg_dict *d)
{
    uint32_t cap = d->cap ? d->cap * 2 : 16;
    if (d->cap >= UINT32_MAX / 2) cap = UINT32_MAX - 1;
    const char **strs = vg_realloc(d->strs, (size_t)cap * sizeof *strs);
    if (!strs) return vg_fail(VG_ERR_NOMEM, "out of memory (dictionary)");
    d->strs = strs;
    uint32_t *lens = vg_realloc(d->lens, (size_t)cap * sizeof *lens);
    if (!lens) return vg_fail(VG_ERR_NOMEM, "out of memory (dictionary)");
    d->lens = lens;
    uint64_t *hashes = vg_realloc(d->hashes, (size_t)cap * sizeof *hashes);
    if (!hashes) return vg_fail(VG_ERR_NOMEM, "out of memory (dictionary)");
    d->hashes = hashes;
    d->cap = cap;
    return VG_OK;
}

/* Add a string known to be absent. Keeps the load factor at most 1/2 so
 * probe sequences stay short. */
static vg_status insert_new(vg_dict *d, const char *s, size_t len, uint64_t h, uint32_t *code)
{
    if (d->n >= UINT32_MAX - 2)
        return vg_fail(VG_ERR_LIMIT, "more than %u distinct strings", (unsigned)(UINT32_MAX - 2));
    if (len > UINT32_MAX - 1)
        return vg_fail(VG_ERR_LIMIT, "string of %zu bytes is too long for a dictionary", len);
    vg_status st;
    if (d->n == d->cap && (st = grow_arrays(d)) != VG_OK) return st;
    if (!d->slots || (size_t)(d->n + 1) * 2 > (size_t)d->mask + 1) {
        uint64_t nslots = d->slots ? ((uint64_t)d->mask + 1) * 2 : 32;
        if (nslots > (1ull << 31)) return vg_fail(VG_ERR_LIMIT, "dictionary too large");
        if ((st = rehash(d, (uint32_t)nslots)) != VG_OK) return st;
    }
    const char *p = arena_store(d, s, len);
    if (!p) return vg_fail(VG_ERR_NOMEM, "out of memory (dictionary string of %zu bytes)", len);
    uint32_t c = d->n++;
    d->strs[c] = p;
    d->lens[c] = (uint32_t)len;
    d->hashes[c] = h;
    uint32_t i = (uint32_t)h & d->mask;
    while (d->slots[i]) i = (i + 1) & d->mask;
    d->slots[i] = c + 1;
    *code = c;
    return VG_OK;
}

vg_status vg_dict_intern(vg_dict *d, const char *s, size_t len, uint32_t *code)
{
    uint64_t h = vg_hash(s, len, HASH_SEED);
    uint32_t c = lookup(d, s, len, h);
    if (c != VG_DICT_NONE) {
        *code = c;
        return VG_OK;
    }
    return insert_new(d, s, len, h, code);
}

vg_status vg_dict_copy(const vg_dict *src, vg_dict *dst)
{
    for (uint32_t c = 0; c < src->n; c++) {
        uint32_t got;
        vg_status st = insert_new(dst, src->strs[c], src->lens[c], src->hashes[c], &got);
        if (st != VG_OK) return st;
    }
    return VG_OK;
}
