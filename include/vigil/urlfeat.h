/* URL and request-text features: a pure function over one string (a request
 * URI, or any text column), so the web-log format and a CSV `--text` column
 * compute exactly the same numbers. No state, no allocation, thread-safe.
 *
 * The string is scanned raw for shape (length, character classes, entropy,
 * percent-encoding) and, for attack tokens, after URL-decoding twice,
 * lower-casing and folding whitespace runs (so "UNION%20%20SeLeCt" and
 * "union+select" both count as "union select"). Token scans look at the first
 * VG_URLFEAT_SCAN_BYTES decoded bytes: an explicit bound on work per string. */
#ifndef VIGIL_URLFEAT_H
#define VIGIL_URLFEAT_H

#include <stddef.h>
#include "vigil/core.h"
#include "vigil/table.h"

#ifdef __cplusplus
extern "C" {
#endif

#define VG_URLFEAT_NGRAM_BUCKETS 32
#define VG_URLFEAT_SCAN_BYTES 8192

/* The numeric features, in order; names from vg_urlfeat_name(). */
enum {
    VG_URLFEAT_LENGTH = 0,      /* bytes */
    VG_URLFEAT_PATH_DEPTH,      /* non-empty path segments before '?' */
    VG_URLFEAT_QUERY_LENGTH,    /* bytes after '?' (up to '#') */
    VG_URLFEAT_PARAMS,          /* non-empty '&'/';'-separated query parameters */
    VG_URLFEAT_DIGITS,
    VG_URLFEAT_LETTERS,
    VG_URLFEAT_SPECIALS,        /* neither letter nor digit */
    VG_URLFEAT_UPPER,
    VG_URLFEAT_ENTROPY,         /* Shannon entropy of the raw bytes, bits per byte */
    VG_URLFEAT_PCT_ENCODED,     /* valid %XX sequences */
    VG_URLFEAT_DOUBLE_ENCODED,  /* %25XX sequences (an encoded '%' before hex) */
    VG_URLFEAT_SQLI,            /* SQL injection tokens */
    VG_URLFEAT_XSS,             /* cross-site scripting tokens */
    VG_URLFEAT_TRAVERSAL,       /* path traversal tokens */
    VG_URLFEAT_CMDI,            /* command injection tokens */
    VG_URLFEAT_NGRAM0,          /* VG_URLFEAT_NGRAM_BUCKETS hashed character 3-gram counts */
    VG_URLFEAT_COUNT = VG_URLFEAT_NGRAM0 + VG_URLFEAT_NGRAM_BUCKETS
};

/* Compute the numeric features of s[0..len) into out[VG_URLFEAT_COUNT].
 * Never fails; any bytes are accepted. */
VG_API void vg_urlfeat_compute(const char *s, size_t len, double *out);

/* Feature name ("url_length", "url_sqli", "url_ng07", ...) of index i, or
 * NULL when i >= VG_URLFEAT_COUNT. Static storage. */
VG_API const char *vg_urlfeat_name(size_t i);

/* The class of the path's file extension: "none", "page", "static",
 * "script", "data", "archive" (backups, dumps, configs), "other". Static
 * storage. */
VG_API const char *vg_urlfeat_ext_class(const char *s, size_t len);

/* CSV `--text COL`: append to t the URL features of its categorical column
 * `col`, as numeric columns "COL.url_length", ... (VG_URLFEAT_COUNT of them)
 * and a categorical "COL.url_ext" (vg_urlfeat_ext_class). A missing cell gives
 * NaN / missing. Computed once per distinct value. Pipeline-independent: the
 * caller decides when (before fitting and before predicting, so both see the
 * same columns). Errors: VG_ERR_INVALID (col not categorical, or a column of
 * that name exists), VG_ERR_NOMEM; after an error t may hold part of the new
 * columns and should be discarded. */
VG_API vg_status vg_urlfeat_add_columns(vg_table *t, size_t col);

#ifdef __cplusplus
}
#endif

#endif
