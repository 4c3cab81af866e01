/* Little-endian binary writer and bounds-checked reader (see buf.h). The
 * machines we target are little-endian; the byte order is still fixed
 * explicitly so files move between machines. */
#include "vigil/buf.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void vg_wbuf_init(vg_wbuf *w)
{
    memset(w, 0, sizeof *w);
}

void vg_wbuf_free(vg_wbuf *w)
{
    vg_free(w->data);
    memset(w, 0, sizeof *w);
}

void vg_wbuf_bytes(vg_wbuf *w, const void *p, size_t n)
{
    if (w->failed || n == 0) return;
    if (w->len + n > w->cap) {
        size_t cap = w->cap ? w->cap : 256;
        while (cap < w->len + n) cap *= 2;
        uint8_t *d = vg_realloc(w->data, cap);
        if (!d) {
            w->failed = 1;
            return;
        }
        w->data = d;
        w->cap = cap;
    }
    memcpy(w->data + w->len, p, n);
    w->len += n;
}

void vg_wbuf_vprintf(vg_wbuf *w, const char *fmt, va_list ap)
{
    char line[512];
    va_list again;
    va_copy(again, ap);
    int n = vsnprintf(line, sizeof line, fmt, ap);
    if (n >= 0 && (size_t)n < sizeof line) {
        vg_wbuf_bytes(w, line, (size_t)n);
    } else if (n >= 0) {
        /* A long line is written whole rather than cut. */
        char *big = vg_malloc((size_t)n + 1);
        if (big) {
            vsnprintf(big, (size_t)n + 1, fmt, again);
            vg_wbuf_bytes(w, big, (size_t)n);
            vg_free(big);
        } else {
            w->failed = 1;
        }
    }
    va_end(again);
}

void vg_wbuf_printf(vg_wbuf *w, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vg_wbuf_vprintf(w, fmt, ap);
    va_end(ap);
}

static void put_le(vg_wbuf *w, uint64_t v, int bytes)
{
    uint8_t b[8];
    for (int i = 0; i < bytes; i++) b[i] = (uint8_t)(v >> (8 * i));
    vg_wbuf_bytes(w, b, (size_t)bytes);
}

void vg_wbuf_u8(vg_wbuf *w, uint8_t v) { put_le(w, v, 1); }
void vg_wbuf_u32(vg_wbuf *w, uint32_t v) { put_le(w, v, 4); }
void vg_wbuf_u64(vg_wbuf *w, uint64_t v) { put_le(w, v, 8); }
void vg_wbuf_i32(vg_wbuf *w, int32_t v) { put_le(w, (uint32_t)v, 4); }

void vg_wbuf_f32(vg_wbuf *w, float v)
{
    uint32_t u;
    memcpy(&u, &v, 4);
    put_le(w, u, 4);
}

void vg_wbuf_f64(vg_wbuf *w, double v)
{
    uint64_t u;
    memcpy(&u, &v, 8);
    put_le(w, u, 8);
}

void vg_wbuf_str(vg_wbuf *w, const char *s)
{
    if (!s) {
        vg_wbuf_u32(w, UINT32_MAX);
        return;
    }
    size_t n = strlen(s);
    vg_wbuf_u32(w, (uint32_t)n);
    vg_wbuf_bytes(w, s, n);
}

void vg_wbuf_f32s(vg_wbuf *w, const float *v, size_t n) { for (size_t i = 0; i < n; i++) vg_wbuf_f32(w, v[i]); }
void vg_wbuf_f64s(vg_wbuf *w, const double *v, size_t n) { for (size_t i = 0; i < n; i++) vg_wbuf_f64(w, v[i]); }
void vg_wbuf_u32s(vg_wbuf *w, const uint32_t *v, size_t n) { for (size_t i = 0; i < n; i++) vg_wbuf_u32(w, v[i]); }
void vg_wbuf_i32s(vg_wbuf *w, const int32_t *v, size_t n) { for (size_t i = 0; i < n; i++) vg_wbuf_i32(w, v[i]); }

void vg_rbuf_init(vg_rbuf *r, const void *data, size_t len, const char *what)
{
    r->data = data;
    r->len = len;
    r->pos = 0;
    r->failed = 0;
    r->what = what ? what : "data";
}

int vg_rbuf_bytes(vg_rbuf *r, void *out, size_t n)
{
    if (r->failed || n > r->len - r->pos) {
        r->failed = 1;
        if (out && n) memset(out, 0, n);
        return 0;
    }
    if (n) memcpy(out, r->data + r->pos, n);
    r->pos += n;
    return 1;
}

static uint64_t get_le(vg_rbuf *r, int bytes)
{
    uint8_t b[8];
    if (!vg_rbuf_bytes(r, b, (size_t)bytes)) return 0;
    uint64_t v = 0;
    for (int i = 0; i < bytes; i++) v |= (uint64_t)b[i] << (8 * i);
    return v;
}

uint8_t vg_rbuf_u8(vg_rbuf *r) { return (uint8_t)get_le(r, 1); }
uint32_t vg_rbuf_u32(vg_rbuf *r) { return (uint32_t)get_le(r, 4); }
uint64_t vg_rbuf_u64(vg_rbuf *r) { return get_le(r, 8); }
int32_t vg_rbuf_i32(vg_rbuf *r) { return (int32_t)(uint32_t)get_le(r, 4); }

float vg_rbuf_f32(vg_rbuf *r)
{
    uint32_t u = (uint32_t)get_le(r, 4);
    float v;
    memcpy(&v, &u, 4);
    return v;
}

double vg_rbuf_f64(vg_rbuf *r)
{
    uint64_t u = get_le(r, 8);
    double v;
    memcpy(&v, &u, 8);
    return v;
}

char *vg_rbuf_str(vg_rbuf *r)
{
    uint32_t n = vg_rbuf_u32(r);
    if (r->failed || n == UINT32_MAX) return NULL;
    if (n > r->len - r->pos) {
        r->failed = 1;
        return NULL;
    }
    char *s = vg_malloc((size_t)n + 1);
    if (!s) {
        r->failed = 1;
        return NULL;
    }
    memcpy(s, r->data + r->pos, n);
    s[n] = '\0';
    r->pos += n;
    return s;
}

/* Shared body of the array readers: refuse counts the remaining bytes cannot
 * hold before allocating anything. */
static void *read_array(vg_rbuf *r, size_t n, size_t elem)
{
    if (r->failed) return NULL;
    if (n > (r->len - r->pos) / elem) {
        r->failed = 1;
        return NULL;
    }
    void *out = vg_malloc(n ? n * elem : 1);
    if (!out) {
        r->failed = 1;
        return NULL;
    }
    return out;
}

float *vg_rbuf_f32s(vg_rbuf *r, size_t n)
{
    float *v = read_array(r, n, 4);
    for (size_t i = 0; v && i < n; i++) v[i] = vg_rbuf_f32(r);
    return v;
}

double *vg_rbuf_f64s(vg_rbuf *r, size_t n)
{
    double *v = read_array(r, n, 8);
    for (size_t i = 0; v && i < n; i++) v[i] = vg_rbuf_f64(r);
    return v;
}

uint32_t *vg_rbuf_u32s(vg_rbuf *r, size_t n)
{
    uint32_t *v = read_array(r, n, 4);
    for (size_t i = 0; v && i < n; i++) v[i] = vg_rbuf_u32(r);
    return v;
}

int32_t *vg_rbuf_i32s(vg_rbuf *r, size_t n)
{
    int32_t *v = read_array(r, n, 4);
    for (size_t i = 0; v && i < n; i++) v[i] = vg_rbuf_i32(r);
    return v;
}

int vg_rbuf_require(vg_rbuf *r, int cond, const char *what)
{
    if (!cond && !r->failed) {
        r->failed = 1;
        vg_fail(VG_ERR_FORMAT, "%s: invalid value (%s)", r->what, what);
    }
    return cond;
}

/* The limit in bytes: VIGIL_MODEL_LOAD_MAX_MB when it is a whole number of
 * MiB >= 1, else the default (a typo must not lift the bound). */
static uint64_t load_limit_bytes(void)
{
    uint64_t mb = VG_MODEL_LOAD_MAX_MB_DEFAULT;
    const char *env = getenv("VIGIL_MODEL_LOAD_MAX_MB");
    if (env && *env) {
        char *end;
        errno = 0;
        unsigned long long v = strtoull(env, &end, 10);
        if (!*end && !errno && v >= 1 && v <= (UINT64_MAX >> 20) && *env != '-') mb = v;
    }
    return mb << 20;
}

int vg_rbuf_require_alloc(vg_rbuf *r, uint64_t bytes, const char *what)
{
    if (r->failed) return 0;
    uint64_t limit = load_limit_bytes();
    if (bytes <= limit) return 1;
    r->failed = 1;
    vg_fail(VG_ERR_FORMAT, "%s: %s needs %llu MiB, over the model load limit of %llu MiB "
                           "(set VIGIL_MODEL_LOAD_MAX_MB to load a larger model from a source you trust)",
            r->what, what, (unsigned long long)((bytes + (1u << 20) - 1) >> 20), (unsigned long long)(limit >> 20));
    return 0;
}

vg_status vg_rbuf_check(vg_rbuf *r)
{
    if (!r->failed) return VG_OK;
    /* vg_rbuf_require leaves a more precise message; keep it if present. */
    const char *e = vg_last_error();
    if (e[0] && strstr(e, r->what)) return VG_ERR_FORMAT;
    return vg_fail(VG_ERR_FORMAT, "%s: truncated or corrupt", r->what);
}
