/* The format registry: every kind of data vigil reads (--format NAME) is one
 * row (vigil/format_row.h), listed here, so no command lists format names by
 * hand.
 *
 * A new format is one file that defines its row (vg_format_NAME) and one
 * line in the table of src/features/format_registry.c. A table format (csv,
 * kdd) lives in src/io/; a log format (features computed online from each
 * entity's past, logformat.h) lives in src/features/ and points its row at
 * its vg_logfmt. The registry sits in features, the lowest layer that sees
 * every row, so that no layer points up: io defines the row type and the
 * table formats, features adds the log formats and the list. */
#ifndef VIGIL_FORMAT_H
#define VIGIL_FORMAT_H

#include <stddef.h>
#include "vigil/core.h"
#include "vigil/format_row.h"
#include "vigil/logformat.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The row named `name`, or NULL (also for NULL). */
VG_API const vg_format *vg_format_find(const char *name);
/* Row i in registry order, NULL past the last: for listing formats. */
VG_API const vg_format *vg_format_at(size_t i);
/* The format of data given without --format (csv). */
VG_API const vg_format *vg_format_default(void);
/* The names of the rows for which keep(row) is non-zero (all when keep is
 * NULL), in registry order, joined by sep, into buf (always terminated). */
VG_API void vg_format_names(char *buf, size_t cap, const char *sep, int (*keep)(const vg_format *f));
/* The log format of the row named `name`; NULL for other names and table
 * formats. */
VG_API const vg_logfmt *vg_logfmt_find(const char *name);

extern VG_API const vg_format vg_format_login;   /* src/features/login.c */
extern VG_API const vg_format vg_format_weblog;  /* src/features/weblog.c */
extern VG_API const vg_logfmt vg_login_format;   /* src/features/login.c */
extern VG_API const vg_logfmt vg_weblog_format;  /* src/features/weblog.c */

#ifdef __cplusplus
}
#endif

#endif
