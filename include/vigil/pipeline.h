/* The preprocessing pipeline: fitted on the training rows only, saved inside
 * the model, and run unchanged at prediction time, so predictions take raw
 * records with their original field names and values.
 *
 * Per input column:
 *   numeric      - missing values imputed with the training median; for the
 *                  linear encoding also standardised with the training mean
 *                  and (population) standard deviation;
 *   categorical  - the training categories (at most max_categories, the most
 *                  frequent) are kept; the linear encoding one-hot encodes
 *                  them (an unseen or missing value is all zeros), the native
 *                  encoding passes the category index (unseen/missing = NaN).
 * Columns are matched by name, never by position. */
#ifndef VIGIL_PIPELINE_H
#define VIGIL_PIPELINE_H

#include <stddef.h>
#include <stdint.h>
#include "vigil/buf.h"
#include "vigil/core.h"
#include "vigil/field.h"
#include "vigil/matrix.h"
#include "vigil/table.h"
#include "vigil/textgrams.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct vg_pipeline vg_pipeline;

/* How the raw columns are encoded; each model family asks for one
 * (vg_estimator_kind.encoding). */
typedef enum vg_encoding {
    VG_ENCODING_ONEHOT_SCALED = 0,  /* impute, one-hot categories, standardise numbers; no NaN */
    VG_ENCODING_NATIVE = 1          /* numbers imputed as they are; categories as codes, NaN = unseen */
} vg_encoding;

typedef struct vg_pipeline_params {
    vg_encoding encoding;
    uint32_t max_categories;  /* per categorical column; default 1000 */
    /* Text columns (read as categories) that become hashed character n-gram
     * columns with TF-IDF weights (vigil/textgrams.h): inputs without a
     * dense feature, present in the CSR rows only. Borrowed during fit. */
    const char *const *text;
    size_t n_text;
    vg_textgrams_params textgrams;
    /* Threads for vg_pipeline_transform of this pipeline (0 = the CPUs
     * available); kept with the fitted pipeline, not saved with it. */
    int threads;
} vg_pipeline_params;

VG_API vg_pipeline_params vg_pipeline_params_default(void);

/* Fit on columns cols[0..n_cols) of t. A column with no value in any row of
 * t is left out (with a warning naming it): it teaches nothing, and its type
 * could only be guessed. Fails when no column is left. *out is new (free
 * with vg_pipeline_free). */
VG_API vg_status vg_pipeline_fit(const vg_table *t, const size_t *cols, size_t n_cols,
                          const vg_pipeline_params *params, vg_pipeline **out);
VG_API void vg_pipeline_free(vg_pipeline *p);

/* Encode t (any column order, extra columns ignored) into a new matrix
 * (free with vg_matrix_free). An input column that t lacks, or has without a
 * value in any row, is imputed as missing in every row whatever type t
 * gave it, with one warning naming those columns. Fails naming the file and
 * column when a column with values has the wrong type, and when more than
 * half of the inputs are absent (the wrong file). */
VG_API vg_status vg_pipeline_transform(const vg_pipeline *p, const vg_table *t, vg_matrix *out);
/* The dense transform a block of rows at a time, for a caller that scores
 * each block while it is in cache and never holds the whole matrix:
 * blocks_new checks t against the pipeline as vg_pipeline_transform does
 * (the same errors and warning) and keeps pointers into t, which must
 * outlive the blocks; blocks_rows writes rows [r0, r0 + n) of t into out (n x
 * vg_pipeline_n_features floats, row-major), the same floats as the whole
 * transform's rows; it may run on several threads at once. */
typedef struct vg_pipeline_blocks vg_pipeline_blocks;
VG_API vg_status vg_pipeline_blocks_new(const vg_pipeline *p, const vg_table *t, vg_pipeline_blocks **out);
VG_API void vg_pipeline_blocks_rows(const vg_pipeline_blocks *pl, size_t r0, size_t n, float *out);
VG_API void vg_pipeline_blocks_free(vg_pipeline_blocks *pl);
/* The same rows as CSR (for the families that read sparse rows): the
 * one-hot and zero entries are left out. out is new (vg_csr_free). */
VG_API vg_status vg_pipeline_transform_csr(const vg_pipeline *p, const vg_table *t, vg_csr *out);
/* The CSR width: the dense features, then each text input's hashed columns. */
VG_API size_t vg_pipeline_n_columns(const vg_pipeline *p);
/* Text inputs (hashed n-grams; CSR rows only): how many, and whether input i is one. */
VG_API size_t vg_pipeline_n_text(const vg_pipeline *p);
VG_API int vg_pipeline_input_is_text(const vg_pipeline *p, size_t i);
/* The input a CSR column comes from (a text input for its hashed columns). */
VG_API size_t vg_pipeline_column_input(const vg_pipeline *p, size_t col);

/* The raw input columns the pipeline expects. */
VG_API size_t vg_pipeline_n_inputs(const vg_pipeline *p);
VG_API const char *vg_pipeline_input_name(const vg_pipeline *p, size_t i);
VG_API vg_column_type vg_pipeline_input_type(const vg_pipeline *p, size_t i);
VG_API uint32_t vg_pipeline_input_n_categories(const vg_pipeline *p, size_t i);
VG_API const char *vg_pipeline_input_category(const vg_pipeline *p, size_t i, uint32_t k);
/* The training median of numeric input i (its imputation value); NaN for a
 * categorical input. */
VG_API double vg_pipeline_input_median(const vg_pipeline *p, size_t i);

/* The encoded features (matrix columns): names ("service=http" for one-hot),
 * kinds, and the input column each comes from (to fold explanations back).
 * Borrowed; valid while p lives. */
VG_API size_t vg_pipeline_n_features(const vg_pipeline *p);
VG_API const vg_feature *vg_pipeline_features(const vg_pipeline *p);
VG_API size_t vg_pipeline_feature_input(const vg_pipeline *p, size_t feature);
VG_API vg_encoding vg_pipeline_encoding(const vg_pipeline *p);

/* What a record lacked or carried in excess; never an error by itself. */
typedef struct vg_record_report {
    size_t missing, unknown, unseen;   /* inputs absent, fields not inputs, unseen categories */
    size_t first_missing;              /* input index of the first absent input */
    size_t first_unknown;              /* field index of the first unknown field */
} vg_record_report;

/* Encode one record into row (n_features floats). Absent inputs and nulls
 * are encoded as missing (imputed / unseen); text in a numeric field is
 * parsed, and if it is not a number fails with VG_ERR_PARSE naming the field.
 * report (may be NULL) receives the counts above. Allocation-free for up to
 * 256 inputs, so the single-record path stays fast. */
VG_API vg_status vg_pipeline_transform_record(const vg_pipeline *p, const vg_field *fields, size_t n_fields, float *row,
                                       vg_record_report *report);
/* One record as one CSR row appended to out (begun by the caller with
 * vg_pipeline_n_columns columns): the dense features' non-zeros and the
 * text inputs' n-grams; otherwise as vg_pipeline_transform_record. */
VG_API vg_status vg_pipeline_transform_record_csr(const vg_pipeline *p, const vg_field *fields, size_t n_fields,
                                                  vg_csr *out, vg_record_report *report);
/* A record layout bound to the pipeline once, for a source whose records
 * list the same fields in the same order (a log format's line reader): the
 * input of each field is found by name when the plan is made, not per
 * record. vg_pipeline_plan_transform then encodes a record as
 * vg_pipeline_transform_record does (the same row, bit for bit, without the
 * report); a record whose field count or name pointers differ from the
 * layout's, and a layout that does not give every input exactly once, take
 * vg_pipeline_transform_record itself. The plan borrows p (it must outlive
 * the plan) and keeps the name pointers, not the names; it remembers each
 * categorical field's last text, so one thread uses a plan at a time. */
typedef struct vg_pipeline_plan vg_pipeline_plan;
VG_API vg_status vg_pipeline_plan_new(const vg_pipeline *p, const vg_field *fields, size_t n_fields,
                                      vg_pipeline_plan **out);
VG_API void vg_pipeline_plan_free(vg_pipeline_plan *pl);
VG_API vg_status vg_pipeline_plan_transform(vg_pipeline_plan *pl, const vg_field *fields, size_t n_fields,
                                            float *row);
/* Index of the input called name[0..len), or -1. */
VG_API long vg_pipeline_find_input(const vg_pipeline *p, const char *name, size_t len);
/* The inputs a record's field name[0..len) feeds, into inputs[] (room for
 * VG_PIPELINE_MAX_DERIVED), and their count: the input of that name, or the
 * inputs derived from it (a record carries the raw field a table's derived
 * columns came from: a --text column's URL features, an IP column's networks
 * and flags; vg_pipeline_transform_record computes them); 0: none. */
#define VG_PIPELINE_MAX_DERIVED 64
VG_API size_t vg_pipeline_field_inputs(const vg_pipeline *p, const char *name, size_t len, size_t *inputs);

VG_API vg_status vg_pipeline_save(const vg_pipeline *p, vg_wbuf *w);
/* Validates everything it reads; VG_ERR_FORMAT on truncation or nonsense. */
VG_API vg_status vg_pipeline_load(vg_rbuf *r, vg_pipeline **out);

/* "name  numeric  median=...  mean=... std=..." lines for `vigil inspect`. */
VG_API void vg_pipeline_describe(const vg_pipeline *p, vg_wbuf *out);

#ifdef __cplusplus
}
#endif

#endif
