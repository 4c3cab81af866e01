/* One record given as name/value pairs: what the server and the stream
 * score, and what a log format makes of each line. Plain data; the fields
 * borrow their names and text from the caller. Kept apart from the pipeline,
 * which encodes records, so that the readers below it can make them. */
#ifndef VIGIL_FIELD_H
#define VIGIL_FIELD_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Names and text need not be NUL-terminated. */
typedef enum vg_field_kind { VG_FIELD_NULL = 0, VG_FIELD_NUMBER = 1, VG_FIELD_TEXT = 2 } vg_field_kind;

typedef struct vg_field {
    const char *name;
    size_t name_len;
    vg_field_kind kind;
    double number;        /* VG_FIELD_NUMBER */
    const char *text;     /* VG_FIELD_TEXT */
    size_t text_len;
} vg_field;

#ifdef __cplusplus
}
#endif

#endif
