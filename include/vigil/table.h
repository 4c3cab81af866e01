/* Typed columnar table: what every reader produces and the pipeline consumes.
 * Columns are either numeric (double, NaN = missing) or categorical (uint32
 * codes into a per-column dictionary of strings, VG_CODE_MISSING = missing).
 * Each row remembers the line of the source file it came from, so any later
 * error can name file and line. Opaque; free with vg_table_free. */
#ifndef VIGIL_TABLE_H
#define VIGIL_TABLE_H

#include <stddef.h>
#include <stdint.h>
#include "vigil/core.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct vg_table vg_table;

typedef enum vg_column_type {
    VG_COLUMN_NUMERIC = 0,
    VG_COLUMN_CATEGORICAL = 1
} vg_column_type;

#define VG_CODE_MISSING UINT32_MAX

/* Construction, for readers, generators and tests. `source` names the file
 * (copied); it prefixes error messages. */
VG_API vg_table *vg_table_new(const char *source);
VG_API void vg_table_free(vg_table *t);
/* Append a column; returns its index through *col. Names must be unique. */
VG_API vg_status vg_table_add_column(vg_table *t, const char *name, vg_column_type type, size_t *col);
/* Append one value to a column (columns grow independently; a row is complete
 * when every column has it). Missing: NaN for numbers, NULL for categories. */
VG_API vg_status vg_table_push_number(vg_table *t, size_t col, double v);
VG_API vg_status vg_table_push_category(vg_table *t, size_t col, const char *s, size_t len);
/* Record the source line of the next row (optional; default: row index + 1). */
VG_API vg_status vg_table_push_line(vg_table *t, uint64_t line);

/* Shape and schema. */
VG_API size_t vg_table_rows(const vg_table *t);
VG_API size_t vg_table_cols(const vg_table *t);
VG_API const char *vg_table_source(const vg_table *t);
VG_API const char *vg_table_name(const vg_table *t, size_t col);
/* Index of the column called `name`, or -1. */
VG_API long vg_table_find(const vg_table *t, const char *name);
VG_API vg_column_type vg_table_type(const vg_table *t, size_t col);

/* Column data, borrowed, valid until the table is freed. Numeric columns only
 * for _numbers, categorical only for _codes (NULL otherwise). */
VG_API const double *vg_table_numbers(const vg_table *t, size_t col);
VG_API const uint32_t *vg_table_codes(const vg_table *t, size_t col);
/* Dictionary of a categorical column: codes are 0..n-1 in first-seen order. */
VG_API uint32_t vg_table_n_categories(const vg_table *t, size_t col);
VG_API const char *vg_table_category(const vg_table *t, size_t col, uint32_t code);
/* Code of `s` in column `col`, or VG_CODE_MISSING if never seen. */
VG_API uint32_t vg_table_category_code(const vg_table *t, size_t col, const char *s);

/* Source line (1-based) of a row. */
VG_API uint64_t vg_table_line(const vg_table *t, size_t row);

/* Checksum (XXH3) of the source bytes, 0 if built by hand. */
VG_API uint64_t vg_table_checksum(const vg_table *t);
VG_API void vg_table_set_checksum(vg_table *t, uint64_t sum);

/* New table holding rows idx[0..n) of t (same schema and dictionaries). */
VG_API vg_status vg_table_take(const vg_table *t, const size_t *idx, size_t n, vg_table **out);

/* Replace every category string s of column col by map(s) (e.g. strip a
 * trailing dot); codes are merged when two strings map to the same value. */
typedef const char *(*vg_category_map_fn)(const char *s, void *user, char *scratch, size_t scratch_len);
VG_API vg_status vg_table_map_categories(vg_table *t, size_t col, vg_category_map_fn map, void *user);

/* Convert a column to categorical, using the text of each number ("%.17g"
 * shortest form; integers without a decimal point). Used for labels that
 * look numeric (0/1). */
VG_API vg_status vg_table_make_categorical(vg_table *t, size_t col);

/* Text in a column of t where the same-named column of `like` has numbers
 * (test data against its training data): VG_ERR_PARSE naming t's file, line
 * and column. The other way round, numbers where `like` has categories, is
 * read again as categories by vg_data_read_like. */
VG_API vg_status vg_table_check_numbers_like(const vg_table *t, const vg_table *like);

#ifdef __cplusplus
}
#endif

#endif
