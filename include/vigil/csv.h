/* CSV reader: plain or gzip (recognised by its magic bytes, not the name),
 * a file or "-" for stdin, with or without a header, RFC 4180 quoting, and
 * missing values ("", "?", "NA", "NaN", "N/A", "null", case-insensitive).
 * Column types are inferred (numeric if every present value is a number)
 * unless forced. Every failure names the file, the line and the field. */
#ifndef VIGIL_CSV_H
#define VIGIL_CSV_H

#include <stddef.h>
#include "vigil/core.h"
#include "vigil/table.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct vg_csv_options {
    char delimiter;            /* 0 (default) = detect from the first lines (, ; TAB |); or the separator */
    int header;                /* 1 yes, 0 no, -1 detect (default) */
    const char *const *names;  /* column names when there is no header; NULL -> "c1", "c2", ... */
    size_t n_names;
    const char *const *categorical;  /* columns forced categorical (by name) */
    size_t n_categorical;
    const char *const *numeric;      /* columns forced numeric: text there is an error */
    size_t n_numeric;
    int forced_may_be_absent;  /* 0: a forced name the file lacks is an error; 1: ignored (prediction,
                                  where the pipeline imputes the model's absent columns) */
    size_t max_line_bytes;     /* default 1 MiB; a longer line is an error */
    size_t max_columns;        /* default 4096 */
    size_t max_rows;           /* 0 = no limit */
} vg_csv_options;

VG_API vg_csv_options vg_csv_options_default(void);

/* Read a whole file into a new table (caller frees). Errors: VG_ERR_IO
 * (missing/unreadable), VG_ERR_PARSE (ragged row, bad quoting, empty file,
 * text in a forced-numeric column), VG_ERR_LIMIT (line or column limits). */
VG_API vg_status vg_csv_read(const char *path, const vg_csv_options *opt, vg_table **out);

/* Same, from memory; `name` is used in messages. Used by tests and fuzzers. */
VG_API vg_status vg_csv_read_memory(const void *data, size_t len, const char *name,
                             const vg_csv_options *opt, vg_table **out);

/* Read a whole file, gunzipping if it starts with the gzip magic, into a
 * vg_malloc'd buffer (caller frees). Limit: max_bytes (0 = none). */
VG_API vg_status vg_file_read_all(const char *path, size_t max_bytes, char **data, size_t *len);

/* Parse a number the way the CSV reader does (decimal, exponent, inf not
 * accepted). Returns 1 and sets *out if the whole [s, s+len) is a number. */
VG_API int vg_parse_number(const char *s, size_t len, double *out);

#ifdef __cplusplus
}
#endif

#endif
