/* Byte input helpers shared by the readers (internal): gzip detection and
 * in-memory decompression. vg_file_read_all itself is declared in csv.h. */
#ifndef VG_IO_FILE_READ_H
#define VG_IO_FILE_READ_H

#include <stddef.h>
#include "vigil/core.h"

/* 1 if the bytes start with the gzip magic 1f 8b. */
int vg_is_gzip(const void *data, size_t len);

/* Decompress a whole gzip stream (several members allowed, as gzip writes
 * when files are concatenated) into a new vg_malloc'd buffer with a NUL byte
 * after the last one (caller frees). `name` prefixes messages. max_bytes
 * limits the decompressed size (0 = none). Errors: VG_ERR_IO (truncated or
 * corrupt data), VG_ERR_LIMIT, VG_ERR_NOMEM. */
vg_status vg_gunzip(const void *data, size_t len, const char *name, size_t max_bytes,
                    char **out, size_t *out_len);

#endif
