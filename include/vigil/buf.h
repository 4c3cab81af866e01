/* Little-endian binary writer and bounds-checked reader used by the model
 * file and by every estimator's save/load. The reader never reads past its
 * end: the first short read sets `failed` and every later read returns zeros,
 * so a loader checks once at the end (vg_rbuf_check) and a truncated or
 * corrupted file can never crash the process. */
#ifndef VIGIL_BUF_H
#define VIGIL_BUF_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include "vigil/core.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Growable output buffer. Owns `data` (vg_malloc); free with vg_wbuf_free. */
typedef struct vg_wbuf {
    uint8_t *data;
    size_t len, cap;
    int failed;  /* set when an allocation failed; later writes are dropped */
} vg_wbuf;

VG_API void vg_wbuf_init(vg_wbuf *w);
VG_API void vg_wbuf_free(vg_wbuf *w);
VG_API void vg_wbuf_bytes(vg_wbuf *w, const void *p, size_t n);
VG_API void vg_wbuf_u8(vg_wbuf *w, uint8_t v);
VG_API void vg_wbuf_u32(vg_wbuf *w, uint32_t v);
VG_API void vg_wbuf_u64(vg_wbuf *w, uint64_t v);
VG_API void vg_wbuf_i32(vg_wbuf *w, int32_t v);
VG_API void vg_wbuf_f32(vg_wbuf *w, float v);
VG_API void vg_wbuf_f64(vg_wbuf *w, double v);
/* Append formatted text (no terminating NUL), never truncated. */
VG_API void vg_wbuf_printf(vg_wbuf *w, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
VG_API void vg_wbuf_vprintf(vg_wbuf *w, const char *fmt, va_list ap);
/* Length-prefixed (u32) string; NULL is written as length 0xFFFFFFFF. */
VG_API void vg_wbuf_str(vg_wbuf *w, const char *s);
VG_API void vg_wbuf_f32s(vg_wbuf *w, const float *v, size_t n);
VG_API void vg_wbuf_f64s(vg_wbuf *w, const double *v, size_t n);
VG_API void vg_wbuf_u32s(vg_wbuf *w, const uint32_t *v, size_t n);
VG_API void vg_wbuf_i32s(vg_wbuf *w, const int32_t *v, size_t n);

/* Reader over borrowed memory. */
typedef struct vg_rbuf {
    const uint8_t *data;
    size_t len, pos;
    int failed;
    const char *what;  /* name of the section being read, for messages */
} vg_rbuf;

VG_API void vg_rbuf_init(vg_rbuf *r, const void *data, size_t len, const char *what);
VG_API int vg_rbuf_bytes(vg_rbuf *r, void *out, size_t n);
VG_API uint8_t vg_rbuf_u8(vg_rbuf *r);
VG_API uint32_t vg_rbuf_u32(vg_rbuf *r);
VG_API uint64_t vg_rbuf_u64(vg_rbuf *r);
VG_API int32_t vg_rbuf_i32(vg_rbuf *r);
VG_API float vg_rbuf_f32(vg_rbuf *r);
VG_API double vg_rbuf_f64(vg_rbuf *r);
/* Returns a new vg_malloc'd string (caller frees), or NULL for a NULL string
 * or on failure (check r->failed to tell them apart). */
VG_API char *vg_rbuf_str(vg_rbuf *r);
/* Array readers: check that n elements remain before allocating, so a
 * corrupted count cannot trigger a huge allocation. Return a vg_malloc'd
 * array (caller frees) or NULL on failure (r->failed set). n may be 0. */
VG_API float *vg_rbuf_f32s(vg_rbuf *r, size_t n);
VG_API double *vg_rbuf_f64s(vg_rbuf *r, size_t n);
VG_API uint32_t *vg_rbuf_u32s(vg_rbuf *r, size_t n);
VG_API int32_t *vg_rbuf_i32s(vg_rbuf *r, size_t n);
/* Fail the reader with a message if `cond` is false (for range checks on
 * counts and indices read from the file). Returns cond. */
VG_API int vg_rbuf_require(vg_rbuf *r, int cond, const char *what);
/* State a loader builds larger than the bytes that describe it (a dense
 * weight vector over a hashed feature space, an idf table) is bounded by the
 * model load limit, so a small crafted file cannot make a loader allocate
 * gigabytes. The limit is VIGIL_MODEL_LOAD_MAX_MB from the environment
 * (default VG_MODEL_LOAD_MAX_MB_DEFAULT); raise it for a large model from a
 * source you trust. Fails the reader with a message naming `what`, the size
 * asked for and the limit; returns whether `bytes` fits. */
#define VG_MODEL_LOAD_MAX_MB_DEFAULT 1024
VG_API int vg_rbuf_require_alloc(vg_rbuf *r, uint64_t bytes, const char *what);
/* VG_OK, or VG_ERR_FORMAT with "<what>: truncated or corrupt" as last error. */
VG_API vg_status vg_rbuf_check(vg_rbuf *r);

#ifdef __cplusplus
}
#endif

#endif
