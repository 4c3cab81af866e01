/* API keys for the server: loaded from a file (one key per line, blank
 * lines and lines starting with '#' ignored, surrounding whitespace
 * trimmed) and checked in constant time, so response timing reveals
 * neither a key's content nor which key came close. */
#ifndef VG_SERVE_AUTH_H
#define VG_SERVE_AUTH_H

#include <stddef.h>

#include "vigil/core.h"

/* Limits on the key file: it is configuration, but a wrong path (a log, a
 * binary) must fail clearly rather than load megabytes of "keys". */
#define VG_AUTH_MAX_FILE (1u << 20)
#define VG_AUTH_MAX_KEY 4096

typedef struct vg_keyring {
    size_t n;
    char **keys;     /* vg_malloc'd */
    size_t *lens;
} vg_keyring;

/* Read the key file. Fails (naming the file and line) when it cannot be
 * read, is larger than VG_AUTH_MAX_FILE, has a key longer than
 * VG_AUTH_MAX_KEY or holds no key at all. Free with vg_keyring_free. */
vg_status vg_keyring_load(const char *path, vg_keyring *out);
void vg_keyring_free(vg_keyring *k);

/* 1 if a[0..alen) equals b[0..blen). Time depends only on the lengths, never
 * on where the bytes differ. */
int vg_ct_equal(const char *a, size_t alen, const char *b, size_t blen);

/* 1 if `given` (len bytes) is one of the keys; every key is compared, so the
 * time does not depend on which matched. */
int vg_keyring_check(const vg_keyring *k, const char *given, size_t len);

/* The key carried by an Authorization header value ("Bearer KEY", scheme
 * case-insensitive) in *key and *len; 0 if the value is not a Bearer token. */
int vg_auth_bearer(const char *header, const char **key, size_t *len);

#endif
