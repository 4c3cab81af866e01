/* Turning a label column into classes for a task:
 *   binary   - the positive class against everything else (classes: negative
 *              name, positive name); for KDD data "attack" vs "normal";
 *   category - KDD only: normal / DoS / Probe / R2L / U2R;
 *   label    - every distinct label value is a class;
 *   regression - the label is a number to predict (one "class" named after
 *              the label column; targets come from vg_targets_read).
 * The class list is fixed at training time and saved in the model; later data
 * is mapped onto it by name. */
#ifndef VIGIL_LABELS_H
#define VIGIL_LABELS_H

#include <stddef.h>
#include <stdint.h>
#include "vigil/core.h"
#include "vigil/table.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum vg_task {
    VG_TASK_BINARY = 0,
    VG_TASK_CATEGORY = 1,
    VG_TASK_LABEL = 2,
    VG_TASK_REGRESSION = 3     /* a numeric label predicted as a number (gbdt) */
} vg_task;

VG_API const char *vg_task_str(vg_task t);
/* Parse "binary", "category", "label"; VG_ERR_INVALID otherwise. */
VG_API vg_status vg_task_parse(const char *s, vg_task *out);

typedef struct vg_label_spec {
    vg_task task;
    int kdd;                /* labels are KDD attack names (taxonomy known) */
    const char *positive;   /* binary: the positive label value, or NULL to choose */
    const char *normal;     /* the normal label value (--normal), or NULL: the decision module's default
                               (binary: the class that is not positive) */
} vg_label_spec;

/* The classes of a task, owned (vg_malloc'd strings). */
typedef struct vg_classes {
    uint32_t n;
    char **names;
    /* binary only: the raw label value that is positive, or NULL when the
     * positive class is "every label but the negative one" (KDD: not normal). */
    char *positive_value;
    char *negative_value;   /* binary with a named negative (KDD: "normal") */
    char *normal_value;     /* the normal class as named at training (--normal); NULL: the default rule
                               of vigil/decision.h */
} vg_classes;

VG_API void vg_classes_free(vg_classes *c);
VG_API vg_status vg_classes_copy(const vg_classes *src, vg_classes *dst);

/* Decide the classes from the training label column (categorical) and
 * assign each row its class (y, rows entries). Fails with VG_ERR_DATA if the
 * label has a single class, VG_ERR_INVALID if --positive names no label
 * value, VG_ERR_PARSE naming the line for a missing label or an attack name
 * outside the KDD taxonomy. */
VG_API vg_status vg_classes_fit(const vg_table *t, size_t label_col, const vg_label_spec *spec,
                         vg_classes *out, int32_t *y);

/* Map the label column of new data onto fitted classes. Rows whose label is
 * not a known class get -1 and are counted in *unseen (attacks absent from
 * the training set; a binary label neither training value, unless the
 * negative class is every label but --positive). A missing label is an error. */
VG_API vg_status vg_classes_assign(const vg_classes *c, const vg_label_spec *spec, const vg_table *t,
                            size_t label_col, int32_t *y, size_t *unseen);

/* Regression targets: the numeric label column as floats (rows entries).
 * A missing or non-numeric label fails naming the file and line. */
VG_API vg_status vg_targets_read(const vg_table *t, size_t label_col, float *target);

#ifdef __cplusplus
}
#endif

#endif
