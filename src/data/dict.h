/* String dictionary (internal): interns byte strings and hands out dense
 * uint32 codes in first-seen order. Used for the category dictionary of each
 * table column and for column-name lookup. Strings live in a chunked arena so
 * the pointers handed out stay valid until the dictionary is freed; lookup is
 * a small open-addressing hash table over vg_hash. */
#ifndef VG_DATA_DICT_H
#define VG_DATA_DICT_H

#include <stddef.h>
#include <stdint.h>
#include "vigil/core.h"

#define VG_DICT_NONE UINT32_MAX

typedef struct vg_dict_chunk vg_dict_chunk;

typedef struct vg_dict {
    const char **strs;   /* code -> NUL-terminated string (in the arena) */
    uint32_t *lens;      /* code -> length in bytes */
    uint64_t *hashes;    /* code -> vg_hash of the string, kept for rehashing */
    uint32_t n, cap;
    uint32_t *slots;     /* open addressing: code + 1, 0 = empty */
    uint32_t mask;       /* number of slots - 1 (a power of two), or 0 when empty */
    vg_dict_chunk *chunks;
} vg_dict;

void vg_dict_init(vg_dict *d);
void vg_dict_free(vg_dict *d);

/* Code of [s, s+len), adding it if new. Errors: VG_ERR_NOMEM, VG_ERR_LIMIT
 * (more than 2^32 - 2 distinct strings). */
vg_status vg_dict_intern(vg_dict *d, const char *s, size_t len, uint32_t *code);

/* Code of [s, s+len), or VG_DICT_NONE if never seen. */
uint32_t vg_dict_find(const vg_dict *d, const char *s, size_t len);

/* dst = a copy of src with the same codes (dst must be initialised and empty). */
vg_status vg_dict_copy(const vg_dict *src, vg_dict *dst);

#endif
