/* Hashed character n-grams with sublinear TF-IDF weights: the sparse text
 * features of a `--text` column for the linear families (logreg, linear-svm).
 *
 * A text value is turned into a row of `n_features` columns as
 * scikit-learn's HashingVectorizer(analyzer='char', alternate_sign=False,
 * norm=None) followed by TfidfTransformer(sublinear_tf=True) would, except
 * for the hash function and for working on bytes instead of code points:
 *   1. preprocess: ASCII letters lower-cased; a run of two or more whitespace
 *      bytes ([ \t\n\v\f\r\x1c-\x1f], Python's \s on ASCII) becomes one space
 *      (a single whitespace byte stays as it is, as scikit-learn's \s\s+ does);
 *      at most VG_TEXTGRAMS_MAX_BYTES bytes are read (an explicit bound on
 *      the work per value);
 *   2. every n-gram of n in [ngram_min, ngram_max] (overlapping, byte
 *      positions) goes to column XXH3-64(gram, seed VG_TEXTGRAMS_SEED) mapped
 *      onto [0, n_features) by multiply-shift ((h * n_features) >> 64);
 *      no sign trick: every n-gram adds +1, so the TF-IDF weights stay
 *      non-negative and a collision (rare: a data set holds tens of thousands
 *      of distinct 1-3-grams in a million columns) merges two counts rather
 *      than cancelling them;
 *   3. tf = 1 + ln(count) for each column the value hits;
 *   4. idf = ln((1 + n_docs) / (1 + df)) + 1 with df the number of training
 *      values (rows) hitting the column (scikit-learn's smooth_idf);
 *   5. the row is divided by its L2 norm (an empty value stays empty).
 * The IDF is fitted on the training rows and saved in the model; columns no
 * training row hit get df = 0. Thread-safe once fitted (transform only reads). */
#ifndef VIGIL_TEXTGRAMS_H
#define VIGIL_TEXTGRAMS_H

#include <stddef.h>
#include <stdint.h>
#include "vigil/buf.h"
#include "vigil/core.h"

#ifdef __cplusplus
extern "C" {
#endif

#define VG_TEXTGRAMS_SEED 0x7669676c6e677231ull  /* "viglngr1": fixed, part of the model file's meaning */
#define VG_TEXTGRAMS_MAX_BYTES 65536u           /* bytes of one value that are read */
#define VG_TEXTGRAMS_MAX_N 8u                   /* largest n-gram size */
/* Largest hash space: 2^24 columns keep the idf table at 64 MiB and a linear
 * model's weights at 128 MiB per class, well under the model load limit. */
#define VG_TEXTGRAMS_MAX_BITS 24u
#define VG_TEXTGRAMS_MAX_FEATURES (1u << VG_TEXTGRAMS_MAX_BITS)

typedef struct vg_textgrams_params {
    uint32_t ngram_min, ngram_max;  /* n-gram sizes (1, 3) */
    uint32_t n_features;            /* hash space (2^20) */
} vg_textgrams_params;

VG_API vg_textgrams_params vg_textgrams_params_default(void);
/* 1 if key is one of these parameters ("ngram_range", "n_features"). */
VG_API int vg_textgrams_is_param(const char *key);
/* Set "ngram_range" ("1,3") or "n_features" ("1048576" or "2^20").
 * VG_ERR_INVALID naming the key for another key or a bad value. */
VG_API vg_status vg_textgrams_params_set(vg_textgrams_params *p, const char *key, const char *value);
/* NULL if consistent, else a static message. */
VG_API const char *vg_textgrams_params_check(const vg_textgrams_params *p);

typedef struct vg_textgrams vg_textgrams;

/* A new, unfitted object (idf all from df = 0, n_docs = 0). Free with
 * vg_textgrams_free (NULL accepted). */
VG_API vg_status vg_textgrams_new(const vg_textgrams_params *p, vg_textgrams **out);
VG_API void vg_textgrams_free(vg_textgrams *tg);
VG_API vg_textgrams_params vg_textgrams_get_params(const vg_textgrams *tg);

/* Fit the IDF from distinct values and how many rows hold each: values[k]
 * (lens[k] bytes) occurs in counts[k] rows; n_docs is the number of rows,
 * including rows with no value (they count as empty documents, as ""
 * does for scikit-learn). Replaces an earlier fit. */
VG_API vg_status vg_textgrams_fit(vg_textgrams *tg, const char *const *values, const size_t *lens,
                                  const size_t *counts, size_t n_values, size_t n_docs);

/* The TF-IDF row of s[0..len): *nnz entries, columns ascending in cols,
 * weights in vals, L2 norm 1 (or none). cols and vals need room for
 * vg_textgrams_max_entries(tg, len) entries. scratch: NULL (allocated and
 * freed here) or at least that many uint64_t. Fails only on memory. */
VG_API size_t vg_textgrams_max_entries(const vg_textgrams *tg, size_t len);
VG_API vg_status vg_textgrams_transform(const vg_textgrams *tg, const char *s, size_t len, uint64_t *scratch,
                                        uint32_t *cols, float *vals, size_t *nnz);

/* Column of one n-gram gram[0..n) as step 2 computes it (no preprocessing):
 * for tests, and for telling which n-grams a column holds. */
VG_API uint32_t vg_textgrams_column(const vg_textgrams *tg, const char *gram, size_t n);
/* The fitted idf of a column, and the counts behind it. */
VG_API double vg_textgrams_idf(const vg_textgrams *tg, uint32_t col);
VG_API uint64_t vg_textgrams_n_docs(const vg_textgrams *tg);
/* Columns with df > 0. */
VG_API size_t vg_textgrams_n_seen(const vg_textgrams *tg);

/* Persistence: parameters, n_docs and the (column, df) pairs of df > 0.
 * load validates everything (sizes, ascending columns, df <= n_docs) and
 * fails with VG_ERR_FORMAT. */
VG_API vg_status vg_textgrams_save(const vg_textgrams *tg, vg_wbuf *w);
VG_API vg_status vg_textgrams_load(vg_rbuf *r, vg_textgrams **out);

#ifdef __cplusplus
}
#endif

#endif
