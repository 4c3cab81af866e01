/* A bump allocator for per-request scratch: the parsed JSON, the field
 * arrays and the response text of one HTTP request all come from one arena
 * and go away together when the request completes. Memory comes from the
 * counted allocator in chunks, so it shows in vg_mem_in_use(); the first
 * chunk can be supplied by the caller (e.g. embedded in the request object)
 * so a small request costs no extra allocation. Not thread-safe: one arena
 * belongs to one request. */
#ifndef VG_SERVE_ARENA_H
#define VG_SERVE_ARENA_H

#include <stddef.h>

typedef struct vg_arena_chunk vg_arena_chunk;

typedef struct vg_arena {
    char *pos, *end;          /* free space of the current chunk */
    vg_arena_chunk *chunks;   /* chunks this arena allocated, newest first */
    size_t allocated;         /* bytes held in those chunks */
    size_t limit;             /* most bytes the arena may allocate (0 = none) */
} vg_arena;

/* Start an arena over `first` (size bytes, may be NULL/0); beyond it,
 * chunks are allocated on demand, at most `limit` bytes in all (0 = no
 * limit). Alignment of `first` must be at least that of max_align_t. */
void vg_arena_init(vg_arena *a, void *first, size_t size, size_t limit);
/* Release every allocated chunk (the caller's first block stays theirs). */
void vg_arena_free(vg_arena *a);

/* n bytes aligned for any type, or NULL when out of memory or over the
 * arena's limit. Valid until vg_arena_free. */
void *vg_arena_alloc(vg_arena *a, size_t n);
/* Grow the most recent allocation `p` (of old bytes) to n bytes, in place
 * when it is the last one and fits, else by copying. NULL on failure (p
 * stays valid). p may be NULL. */
void *vg_arena_grow(vg_arena *a, void *p, size_t old, size_t n);
/* Copy of s[0..len) plus a NUL. */
char *vg_arena_strndup(vg_arena *a, const char *s, size_t len);

#endif
