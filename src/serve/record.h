/* A JSON record (an object of raw field names and values) from a request
 * body turned into the vg_field array the model scores, pointing into the
 * parsed text (no copies), and the warnings a response carries about it. */
#ifndef VG_SERVE_RECORD_H
#define VG_SERVE_RECORD_H

#include <stddef.h>

#include "serve/arena.h"
#include "serve/json_tape.h"
#include "serve/text.h"
#include "vigil/core.h"
#include "vigil/pipeline.h"

/* Fields of the object at node obj of t, in the arena (*fields, *n).
 *   numbers -> VG_FIELD_NUMBER; strings -> VG_FIELD_TEXT (the pipeline
 *   parses them for numeric inputs); true/false -> the numbers 1/0; null ->
 *   VG_FIELD_NULL (imputed).
 * Fails with VG_ERR_INVALID when obj is not an object or an input of p is
 * given an object or array (naming the field), VG_ERR_LIMIT when the record
 * has more than max_fields members. An object or array under a name that is
 * not an input is kept as an unknown field (a warning, not an error). */
vg_status vg_record_fields(const vg_jtape *t, size_t obj, const vg_pipeline *p, size_t max_fields, vg_arena *a,
                           vg_field **fields, size_t *n);

/* Append to out the comma-separated JSON strings (no brackets) describing
 * what `rep` counted: unknown fields (ignored), missing and null inputs
 * (imputed), unseen categories, each naming the field; at most `max`
 * strings, then one saying how many more. Writes nothing for a clean
 * record; returns the number of strings written. */
size_t vg_record_warnings(const vg_pipeline *p, const vg_field *fields, size_t n, const vg_record_report *rep,
                          size_t max, vg_arena *a, vg_text *out);

#endif
