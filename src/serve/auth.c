/* API key file and constant-time checks (see auth.h). */
#include "serve/auth.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

int vg_ct_equal(const char *a, size_t alen, const char *b, size_t blen)
{
    /* Walk all of b (the client's bytes) against a repeated, folding every
     * difference into one accumulator: no early exit, no branch on data. */
    size_t diff = alen ^ blen;
    if (alen == 0) return blen == 0;
    size_t j = 0;
    for (size_t i = 0; i < blen; i++) {
        diff |= (unsigned char)(a[j] ^ b[i]);
        if (++j == alen) j = 0;
    }
    return diff == 0;
}

int vg_keyring_check(const vg_keyring *k, const char *given, size_t len)
{
    int ok = 0;
    for (size_t i = 0; i < k->n; i++) ok |= vg_ct_equal(k->keys[i], k->lens[i], given, len);
    return ok;
}

int vg_auth_bearer(const char *header, const char **key, size_t *len)
{
    while (*header == ' ' || *header == '\t') header++;
    if (strncasecmp(header, "bearer", 6) != 0 || (header[6] != ' ' && header[6] != '\t')) return 0;
    const char *s = header + 6;
    while (*s == ' ' || *s == '\t') s++;
    size_t n = strlen(s);
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\t')) n--;
    *key = s;
    *len = n;
    return n > 0;
}

void vg_keyring_free(vg_keyring *k)
{
    for (size_t i = 0; i < k->n; i++) vg_free(k->keys[i]);
    vg_free(k->keys);
    vg_free(k->lens);
    k->keys = NULL;
    k->lens = NULL;
    k->n = 0;
}

static int add_key(vg_keyring *k, const char *s, size_t n)
{
    char **keys = vg_realloc(k->keys, (k->n + 1) * sizeof *keys);
    if (!keys) return -1;
    k->keys = keys;
    size_t *lens = vg_realloc(k->lens, (k->n + 1) * sizeof *lens);
    if (!lens) return -1;
    k->lens = lens;
    char *copy = vg_malloc(n + 1);
    if (!copy) return -1;
    memcpy(copy, s, n);
    copy[n] = '\0';
    k->keys[k->n] = copy;
    k->lens[k->n++] = n;
    return 0;
}

vg_status vg_keyring_load(const char *path, vg_keyring *out)
{
    memset(out, 0, sizeof *out);
    FILE *f = fopen(path, "rb");
    if (!f) return vg_fail(VG_ERR_IO, "%s: %s", path, strerror(errno));
    char *text = vg_malloc(VG_AUTH_MAX_FILE + 1);
    if (!text) {
        fclose(f);
        return vg_fail(VG_ERR_NOMEM, "out of memory");
    }
    size_t len = fread(text, 1, VG_AUTH_MAX_FILE + 1, f);
    int err = ferror(f);
    fclose(f);
    vg_status st = VG_OK;
    if (err) st = vg_fail(VG_ERR_IO, "%s: read error", path);
    else if (len > VG_AUTH_MAX_FILE)
        st = vg_fail(VG_ERR_LIMIT, "%s: larger than %u bytes; is this an API key file?", path, VG_AUTH_MAX_FILE);
    size_t line = 0;
    for (size_t i = 0; i < len && !st;) {
        size_t end = i;
        while (end < len && text[end] != '\n') end++;
        line++;
        const char *s = text + i;
        size_t n = end - i;
        while (n && (*s == ' ' || *s == '\t')) s++, n--;
        while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r')) n--;
        if (n && *s != '#') {
            if (n > VG_AUTH_MAX_KEY)
                st = vg_fail(VG_ERR_LIMIT, "%s:%zu: key longer than %u bytes", path, line, VG_AUTH_MAX_KEY);
            else if (memchr(s, '\0', n) || memchr(s, ' ', n) || memchr(s, '\t', n))
                st = vg_fail(VG_ERR_PARSE, "%s:%zu: a key may not contain spaces or NUL bytes", path, line);
            else if (add_key(out, s, n))
                st = vg_fail(VG_ERR_NOMEM, "out of memory");
        }
        i = end + 1;
    }
    vg_free(text);
    if (!st && out->n == 0) st = vg_fail(VG_ERR_INVALID, "%s: no API key in the file", path);
    if (st) vg_keyring_free(out);
    return st;
}
