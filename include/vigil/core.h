/* vigil core: status codes, the per-thread last error, logging, the counted
 * allocator and a monotonic clock. Every other layer depends on this one.
 *
 * Conventions used by the whole library:
 *   - functions that can fail return vg_status (0 = VG_OK, negative = error) and
 *     leave a one-line, human-readable message in vg_last_error();
 *   - outputs come last, through out-parameters;
 *   - long-lived memory goes through vg_malloc()/vg_free() so vg_mem_in_use()
 *     reports what the library holds. */
#ifndef VIGIL_CORE_H
#define VIGIL_CORE_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define VG_VERSION_STRING "0.1.0"

/* Marks the functions and data of the public API: libvigil is built with
 * every other symbol hidden, so only what the headers promise is exported
 * (and can be kept stable). */
#if defined(__GNUC__) || defined(__clang__)
#define VG_API __attribute__((visibility("default")))
#else
#define VG_API
#endif

typedef enum vg_status {
    VG_OK = 0,
    VG_ERR_NOMEM = -1,       /* allocation failed */
    VG_ERR_IO = -2,          /* file missing, unreadable, write failed */
    VG_ERR_PARSE = -3,       /* malformed input data (CSV, log line, JSON) */
    VG_ERR_INVALID = -4,     /* bad argument or parameter from the caller */
    VG_ERR_LIMIT = -5,       /* an explicit input limit was exceeded */
    VG_ERR_FORMAT = -6,      /* model file truncated, corrupt or of a newer version */
    VG_ERR_DATA = -7,        /* data unusable for the task (e.g. one class only) */
    VG_ERR_UNSUPPORTED = -8  /* valid request the library cannot serve */
} vg_status;

/* Name of a status ("ok", "out of memory", ...). Never NULL; static storage. */
VG_API const char *vg_status_str(vg_status s);

/* The message left by the last failing call on this thread ("" if none).
 * Owned by the library; valid until the next vigil call on this thread. */
VG_API const char *vg_last_error(void);

/* Record a formatted message as this thread's last error and return `s`,
 * so library code can write `return vg_fail(VG_ERR_IO, "%s: ...", path);`. */
VG_API vg_status vg_fail(vg_status s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Prefix the current last error with a formatted context ("file.csv: " + old). */
VG_API void vg_error_prefix(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
VG_API void vg_clear_error(void);

/* Logging. The default sink writes warnings and errors to stderr; the CLI
 * raises the level with -v. Library code never prints otherwise. */
typedef enum { VG_LOG_ERROR = 0, VG_LOG_WARN = 1, VG_LOG_INFO = 2, VG_LOG_DEBUG = 3 } vg_log_level;
typedef void (*vg_log_fn)(vg_log_level level, const char *msg, void *user);
VG_API void vg_log_set_sink(vg_log_fn fn, void *user);
VG_API void vg_log_set_level(vg_log_level level);
VG_API void vg_log(vg_log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
VG_API const char *vg_log_level_str(vg_log_level level);

/* Counted allocator: same contract as malloc/calloc/realloc/free (free and
 * realloc accept NULL), plus byte accounting across all threads. */
VG_API void *vg_malloc(size_t size);
VG_API void *vg_calloc(size_t count, size_t size);
VG_API void *vg_realloc(void *ptr, size_t size);
VG_API void vg_free(void *ptr);
VG_API char *vg_strdup(const char *s);
VG_API size_t vg_mem_in_use(void);
VG_API size_t vg_mem_peak(void);

/* Seconds from a monotonic clock. */
VG_API double vg_now(void);

/* Offset of the first control byte (below 0x20 but TAB, or 0x7f) in
 * s[0..len), or len if there is none. No log format has them in a record,
 * so one means binary garbage or a torn write. */
VG_API size_t vg_find_control(const char *s, size_t len);

/* v rounded to float32, as the shortest decimal text that reads back as the
 * same float (at most 9 significant digits; "nan", "inf"): how every
 * command prints a score. Returns snprintf's length; out needs 24 bytes. */
VG_API int vg_float_text(double v, char *out, size_t cap);

/* 64-bit hash of a byte string (xxHash XXH3). */
VG_API uint64_t vg_hash(const void *data, size_t len, uint64_t seed);

/* Programmer errors only; never for data from outside. */
#define VG_ASSERT(cond) \
    do { if (!(cond)) vg_assert_fail(#cond, __FILE__, __LINE__); } while (0)
VG_API void vg_assert_fail(const char *cond, const char *file, int line) __attribute__((noreturn));

#define VG_MIN(a, b) ((a) < (b) ? (a) : (b))
#define VG_MAX(a, b) ((a) > (b) ? (a) : (b))

#ifdef __cplusplus
}
#endif
#endif
