/* The counted allocator: malloc with a small header that remembers the block
 * size, so the bytes the library holds (and their peak) can be reported on
 * /metrics and in benchmarks. The header keeps 16-byte alignment. */
#include "vigil/core.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#define HEADER 16

static atomic_size_t in_use;
static atomic_size_t peak;

static void account(size_t added, size_t removed)
{
    size_t now = atomic_fetch_add(&in_use, added) + added;
    atomic_fetch_sub(&in_use, removed);
    size_t p = atomic_load(&peak);
    while (now > p && !atomic_compare_exchange_weak(&peak, &p, now)) {
    }
}

void *vg_malloc(size_t size)
{
    if (size > SIZE_MAX - HEADER) return NULL;
    unsigned char *p = malloc(size + HEADER);
    if (!p) return NULL;
    memcpy(p, &size, sizeof size);
    account(size, 0);
    return p + HEADER;
}

void *vg_calloc(size_t count, size_t size)
{
    if (size && count > (SIZE_MAX - HEADER) / size) return NULL;
    size_t total = count * size;
    unsigned char *p = calloc(1, total + HEADER);
    if (!p) return NULL;
    memcpy(p, &total, sizeof total);
    account(total, 0);
    return p + HEADER;
}

void *vg_realloc(void *ptr, size_t size)
{
    if (!ptr) return vg_malloc(size);
    if (size > SIZE_MAX - HEADER) return NULL;
    unsigned char *base = (unsigned char *)ptr - HEADER;
    size_t old;
    memcpy(&old, base, sizeof old);
    unsigned char *p = realloc(base, size + HEADER);
    if (!p) return NULL;
    memcpy(p, &size, sizeof size);
    account(size, old);
    return p + HEADER;
}

void vg_free(void *ptr)
{
    if (!ptr) return;
    unsigned char *base = (unsigned char *)ptr - HEADER;
    size_t size;
    memcpy(&size, base, sizeof size);
    atomic_fetch_sub(&in_use, size);
    free(base);
}

char *vg_strdup(const char *s)
{
    if (!s) return NULL;
    size_t n = strlen(s) + 1;
    char *d = vg_malloc(n);
    if (d) memcpy(d, s, n);
    return d;
}

size_t vg_mem_in_use(void)
{
    return atomic_load(&in_use);
}

size_t vg_mem_peak(void)
{
    return atomic_load(&peak);
}
