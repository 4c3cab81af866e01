/* Shared helpers for the cmocka unit tests: locating test data and writing
 * temporary files. */
#ifndef VG_TESTUTIL_H
#define VG_TESTUTIL_H

#include <stddef.h>

/* Path of a file under ../shared/data (VG_SHARED_DATA), in a static buffer. */
const char *vg_test_shared(const char *rel);
/* Path of a file in the source tree (VG_SOURCE_DIR), in a static buffer. */
const char *vg_test_source(const char *rel);
/* 1 if the file exists. Tests that need ../shared data fail loudly if absent. */
int vg_test_exists(const char *path);
/* Write `len` bytes to a new temporary file; returns its path (static buffer
 * per call slot, 8 slots rotating). */
const char *vg_test_tmpfile(const void *data, size_t len, const char *suffix);

/* A private redis-server on 127.0.0.1 (no persistence), for the Redis tests:
 * vg_test_redis_start(0) picks a free port, a port reuses it (a server that
 * comes back). Returns the port once the server answers, or -1 (saying why
 * when redis-server is not installed: the tests fail, never skip). */
int vg_test_redis_start(int port);
void vg_test_redis_stop(void);

#endif
