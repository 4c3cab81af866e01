/* Shared helpers for the cmocka unit tests: locating test data and writing
 * temporary files. */
#ifndef VG_TESTUTIL_H
#define VG_TESTUTIL_H

#include <stddef.h>
#include <stdint.h>

#include "vigil/estimator.h"
#include "vigil/matrix.h"

/* Path of a file under ../shared/data (VG_SHARED_DATA), in a static buffer. */
const char *vg_test_shared(const char *rel);
/* Path of a file in the source tree (VG_SOURCE_DIR), in a static buffer. */
const char *vg_test_source(const char *rel);
/* 1 if the file exists. Tests that need ../shared data fail loudly if absent. */
int vg_test_exists(const char *path);
/* Write `len` bytes to a new temporary file; returns its path (static buffer
 * per call slot, 8 slots rotating). */
const char *vg_test_tmpfile(const void *data, size_t len, const char *suffix);

/* The whole file, NUL-terminated (malloc), or NULL after saying why on stderr. */
char *vg_test_slurp(const char *path);
/* A CSV of numbers under the source tree (a golden file written by a script
 * under tools/ or tests/golden/), its first line skipped when `header`:
 * rows x cols doubles (malloc), or NULL after saying which line is ragged or
 * not a number. */
double *vg_test_read_numbers(const char *rel, int header, size_t *rows, size_t *cols);

/* A labelled float matrix for the estimator tests. */
typedef struct vg_test_dataset {
    vg_matrix X;
    int32_t *y;
    float *w; /* NULL or per-row weights */
    uint32_t n_classes;
} vg_test_dataset;

/* A golden CSV under the source tree (header line skipped when `header`):
 * float32 features, the class index last. Returns 0, or -1 (X empty) when
 * the file cannot be read. */
int vg_test_dataset_load(const char *rel, int header, vg_test_dataset *d);
void vg_test_dataset_free(vg_test_dataset *d);

/* A saved estimator state against hostile bytes: every proper prefix must be
 * refused with VG_ERR_FORMAT (state left NULL), and each of `trials` copies
 * with 1-4 random bytes changed (a bit flipped or a byte replaced) must be
 * refused with VG_ERR_FORMAT or load into a state that predicts X without
 * fault (the sanitizer build checks the reads). Returns how many corrupted
 * copies loaded, or -1 after saying which prefix or trial failed how. */
long vg_test_hostile_loads(const vg_estimator_kind *k, const uint8_t *data, size_t len, const vg_matrix *X,
                           uint64_t seed, size_t trials);

/* A private redis-server on 127.0.0.1 (no persistence), for the Redis tests:
 * vg_test_redis_start(0) picks a free port, a port reuses it (a server that
 * comes back). Returns the port once the server answers, or -1 (saying why
 * when redis-server is not installed: the tests fail, never skip). */
int vg_test_redis_start(int port);
void vg_test_redis_stop(void);

#endif
