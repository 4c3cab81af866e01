/* A row of the format registry (vigil/format.h): what every kind of data
 * vigil reads (--format NAME) says about itself, so training, prediction,
 * streaming, the report and the command line ask the row instead of
 * comparing names. A row says how to read a whole file into a table, how to
 * read it line by line for streaming, which column is the label by default,
 * which columns are truth and never features, and which fields the report's
 * Sources section counts. Rows are constant and live for the whole process.
 *
 * The row type is io's (table formats define their rows in src/io/); the
 * registry that lists every row is features' (src/features/format_registry.c),
 * because a log format's row points at its online features. */
#ifndef VIGIL_FORMAT_ROW_H
#define VIGIL_FORMAT_ROW_H

#include <stddef.h>
#include <stdint.h>
#include "vigil/core.h"
#include "vigil/logformat.h"
#include "vigil/table.h"

#ifdef __cplusplus
extern "C" {
#endif

/* How to read a whole file: columns forced categorical or numeric (by name;
 * formats with fixed types ignore them), the CSV delimiter (0 = detect), and
 * the log options of a log format. */
typedef struct vg_format_read_params {
    const char *const *categorical;
    size_t n_categorical;
    const char *const *numeric;
    size_t n_numeric;
    int forced_may_be_absent;   /* a forced name the file lacks is ignored (prediction) */
    char delimiter;
    vg_logfmt_options log;
} vg_format_read_params;

/* One dimension of a source summary: a field counted per value. outcome: a
 * 1/0 field read as "success"/"failure". */
typedef struct vg_format_dim {
    const char *title, *field;
    int outcome;
} vg_format_dim;

#define VG_FORMAT_MAX_DIMS 4

typedef struct vg_format vg_format;
struct vg_format {
    const char *name;           /* --format NAME */
    const char *summary;        /* one line for --help and docs */
    /* Read a whole file (plain or gzip, "-" = stdin) into a new table. */
    vg_status (*read)(const vg_format *f, const char *path, const vg_format_read_params *p, vg_table **out);
    /* A line reader for streaming: state_new makes *state (freed with
     * lines_free); label_column is the column that holds the truth when the
     * format cannot know it (csv), else ignored. lines_process turns line
     * line_no (from 1) of input `source` into an event (n_fields 0: skip
     * it); a malformed line is VG_ERR_PARSE or VG_ERR_LIMIT with a message
     * and leaves the state unchanged. lines_stats may be NULL (no state). */
    vg_status (*lines_new)(const vg_format *f, const vg_logfmt_options *opt, const char *label_column, void **state);
    void (*lines_free)(void *state);
    vg_status (*lines_process)(void *state, uint32_t source, uint64_t line_no, const char *line, size_t len,
                               vg_logfmt_event *out);
    void (*lines_stats)(const void *state, vg_logfmt_state_stats *out);
    const vg_logfmt *log;       /* a log format's online features, or NULL for a table format */
    int infers_types;           /* column types come from the text (csv): a model forces its own, and
                                   --text, --delimiter and a numeric label read as classes go with it */
    int needs_header;           /* line 1 of every input names the columns (csv): cannot be shipped */
    int kdd_labels;             /* labels are KDD attack names, grouped by the KDD taxonomy */
    const char *default_label;  /* the label column without --label; NULL = the last column */
    const char *const *truth_columns;  /* carry or derive the truth (or key the entity): never features;
                                          NULL-terminated or NULL */
    const char *entity_name;    /* what the entity of an event is ("user"), NULL = no source summary */
    const char *text_fields;    /* log formats: the raw text fields --text may name (", "-separated), NULL = none */
    vg_format_dim dims[VG_FORMAT_MAX_DIMS];
    size_t n_dims;
};

/* 1 if `name` is one of f's truth columns. */
VG_API int vg_format_is_truth(const vg_format *f, const char *name, size_t len);

extern VG_API const vg_format vg_format_csv;     /* src/io/csv_format.c */
extern VG_API const vg_format vg_format_kdd;     /* src/io/kdd.c */

#ifdef __cplusplus
}
#endif

#endif
