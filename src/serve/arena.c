/* Per-request bump allocator (see arena.h). */
#include "serve/arena.h"

#include <stdalign.h>
#include <stdint.h>
#include <string.h>

#include "vigil/core.h"

#define ALIGN alignof(max_align_t)
#define MIN_CHUNK 16384

struct vg_arena_chunk {
    vg_arena_chunk *next;
    size_t size;
    alignas(max_align_t) char data[];
};

void vg_arena_init(vg_arena *a, void *first, size_t size, size_t limit)
{
    a->pos = first;
    a->end = first ? (char *)first + size : NULL;
    a->chunks = NULL;
    a->allocated = 0;
    a->limit = limit;
}

void vg_arena_free(vg_arena *a)
{
    vg_arena_chunk *c = a->chunks;
    while (c) {
        vg_arena_chunk *next = c->next;
        vg_free(c);
        c = next;
    }
    a->chunks = NULL;
    a->pos = a->end = NULL;
    a->allocated = 0;
}

static size_t round_up(size_t n)
{
    return (n + ALIGN - 1) & ~(size_t)(ALIGN - 1);
}

void *vg_arena_alloc(vg_arena *a, size_t n)
{
    if (n > SIZE_MAX / 2) return NULL;
    n = round_up(n ? n : 1);
    if (a->pos && (size_t)(a->end - a->pos) >= n) {
        void *p = a->pos;
        a->pos += n;
        return p;
    }
    /* Chunks double with the arena's size so a large request needs only a
     * logarithmic number of allocations. */
    size_t size = VG_MAX((size_t)MIN_CHUNK, VG_MAX(n, a->allocated));
    if (a->limit) {
        size_t room = a->limit > a->allocated ? a->limit - a->allocated : 0;
        if (room < n) return NULL;
        size = VG_MIN(size, room);
    }
    vg_arena_chunk *c = vg_malloc(sizeof *c + size);
    if (!c) return NULL;
    c->next = a->chunks;
    c->size = size;
    a->chunks = c;
    a->allocated += size;
    a->pos = c->data + n;
    a->end = c->data + size;
    return c->data;
}

void *vg_arena_grow(vg_arena *a, void *p, size_t old, size_t n)
{
    if (!p) return vg_arena_alloc(a, n);
    if (n <= old) return p;
    size_t old_r = round_up(old ? old : 1), n_r = round_up(n);
    /* The last allocation ends at a->pos: extend it where it lies. */
    if ((char *)p + old_r == a->pos && (size_t)(a->end - (char *)p) >= n_r) {
        a->pos = (char *)p + n_r;
        return p;
    }
    void *q = vg_arena_alloc(a, n);
    if (q) memcpy(q, p, old);
    return q;
}

char *vg_arena_strndup(vg_arena *a, const char *s, size_t len)
{
    char *d = vg_arena_alloc(a, len + 1);
    if (!d) return NULL;
    memcpy(d, s, len);
    d[len] = '\0';
    return d;
}
