/* The NSL-KDD / KDD Cup 99 record format: no header, 41 features, the label
 * (KDD'99 writes it with a trailing dot, which is stripped) and, for NSL-KDD,
 * a difficulty column that is never a feature. Also the attack taxonomy used
 * by --task category (normal, DoS, Probe, R2L, U2R). */
#ifndef VIGIL_KDD_H
#define VIGIL_KDD_H

#include "vigil/core.h"
#include "vigil/table.h"

#ifdef __cplusplus
extern "C" {
#endif

#define VG_KDD_N_FEATURES 41
#define VG_KDD_LABEL "label"
#define VG_KDD_DIFFICULTY "difficulty"

/* Column names of the 41 features, in file order; static storage. */
const char *const *vg_kdd_feature_names(void);
/* 1 if feature column i (0-based) is categorical (protocol_type, service, flag). */
VG_API int vg_kdd_feature_is_categorical(size_t i);

/* Read a KDD file (plain or gzip) into a table with the 41 named features,
 * then, if the rows have them, "label" (42 fields; dot stripped) and
 * "difficulty" (43). 41 fields is an unlabelled file: records to score.
 * Rows must all have the same field count; text in a numeric field is an error. */
VG_API vg_status vg_kdd_read(const char *path, vg_table **out);
VG_API vg_status vg_kdd_read_memory(const void *data, size_t len, const char *name, vg_table **out);

/* Category of an attack label ("normal" -> "normal", "neptune" -> "DoS"), or
 * NULL for a name outside the taxonomy. Static storage. */
VG_API const char *vg_kdd_category(const char *label);

#ifdef __cplusplus
}
#endif

#endif
