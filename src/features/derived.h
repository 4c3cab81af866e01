/* Inputs a pipeline derives from one raw field on the record path.
 *
 * A table gets derived columns when it is read: a CSV `--text COL` column's
 * URL features (COL.url_length, ..., COL.url_ext: vg_urlfeat_add_columns)
 * and an IP column's networks, class and flags (COL.ip_net24, ...:
 * vg_ipfeat_add_columns), and the pipeline is fitted on those. A record sent
 * to `serve` or read by `watch` carries COL itself; these compute the same
 * values from it, so a record scores as its row in a file does. Built from
 * the pipeline's input names at fit and load; nothing is saved. */
#ifndef VIGIL_FEATURES_DERIVED_H
#define VIGIL_FEATURES_DERIVED_H

#include <stddef.h>
#include "vigil/pipeline.h"
#include "vigil/urlfeat.h"

/* The most inputs one field yields: the URL features and the extension class. */
#define VG_DERIVED_MAX (VG_URLFEAT_COUNT + 1)
_Static_assert(VG_DERIVED_MAX <= VG_PIPELINE_MAX_DERIVED, "the public bound holds every kind");

typedef struct vg_derived vg_derived;

/* One derived input's value for a record: its input index and a field to
 * encode (text points into `text` or static storage). */
typedef struct vg_derived_value {
    size_t input;
    vg_field field;
    char text[48];
} vg_derived_value;

/* The source fields of p's derived inputs; *out is NULL when p has none. */
vg_status vg_derived_build(const vg_pipeline *p, vg_derived **out);
void vg_derived_free(vg_derived *d);

/* If fd is a source field: the values of the inputs it yields into
 * out[0..VG_DERIVED_MAX) and their count; 0 when it is none. A null or
 * numeric value gives missing values (as an empty cell does in a table). */
size_t vg_derived_expand(const vg_derived *d, const vg_field *fd, vg_derived_value *out);

/* The inputs derived from the field called name[0..len) into inputs[0..VG_DERIVED_MAX)
 * and their count (0: no such source field). */
size_t vg_derived_inputs(const vg_derived *d, const char *name, size_t len, size_t *inputs);

#endif
