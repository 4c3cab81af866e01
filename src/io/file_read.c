/* Whole-file input: a path or "-" for stdin, plain or gzip (recognised by the
 * magic bytes 1f 8b, never by the name). The readers parse from one buffer,
 * so the file is read in one go and, if compressed, inflated in one go into
 * a buffer sized from the gzip trailer: inflating 19 MB this way costs about
 * 0.03 s here, small enough that overlapping it with parsing is not worth a
 * thread. */
#include "vigil/csv.h"
#include "io/file_read.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

int vg_is_gzip(const void *data, size_t len)
{
    const unsigned char *p = data;
    return len >= 2 && p[0] == 0x1f && p[1] == 0x8b;
}

static vg_status too_large(const char *name, size_t max_bytes)
{
    return vg_fail(VG_ERR_LIMIT, "%s: larger than the limit of %zu bytes", name, max_bytes);
}

/* Grow *buf to at least `need` bytes (plus the NUL), doubling. */
static vg_status grow(char **buf, size_t *cap, size_t need, const char *name)
{
    size_t cap2 = *cap ? *cap : 4096;
    while (cap2 < need) {
        if (cap2 > SIZE_MAX / 2) return vg_fail(VG_ERR_NOMEM, "%s: too large to hold in memory", name);
        cap2 *= 2;
    }
    char *p = vg_realloc(*buf, cap2 + 1);
    if (!p) return vg_fail(VG_ERR_NOMEM, "%s: out of memory reading %zu bytes", name, cap2);
    *buf = p;
    *cap = cap2;
    return VG_OK;
}

/* Initial output size: the trailer's ISIZE (the size modulo 2^32 of the last
 * member) is exact for the usual single-member file under 4 GiB; it is only
 * a hint, bounded by what deflate can achieve (about 1032:1). */
static size_t size_hint(const unsigned char *in, size_t len, size_t max_bytes)
{
    size_t hint = len * 4;
    if (len >= 18) {
        const unsigned char *t = in + len - 4;
        size_t isize = (size_t)t[0] | (size_t)t[1] << 8 | (size_t)t[2] << 16 | (size_t)t[3] << 24;
        if (isize > 0 && isize / 1032 <= len) hint = isize;
    }
    if (max_bytes && hint > max_bytes) hint = max_bytes;
    return hint ? hint : 1;
}

static int all_zero(const unsigned char *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (p[i]) return 0;
    }
    return 1;
}

vg_status vg_gunzip(const void *data, size_t len, const char *name, size_t max_bytes,
                    char **out, size_t *out_len)
{
    *out = NULL;
    *out_len = 0;
    const unsigned char *in = data;
    size_t cap = size_hint(in, len, max_bytes);
    char *buf = NULL;
    vg_status st = grow(&buf, &cap, cap, name);
    if (st != VG_OK) return st;

    z_stream zs;
    memset(&zs, 0, sizeof zs);
    if (inflateInit2(&zs, 15 + 16) != Z_OK) {  /* 16: expect a gzip wrapper */
        vg_free(buf);
        return vg_fail(VG_ERR_NOMEM, "%s: cannot start gzip decompression", name);
    }
    size_t in_pos = 0, produced = 0;
    for (;;) {
        if (produced == cap) {
            if (max_bytes && cap >= max_bytes) {
                st = too_large(name, max_bytes);
                break;
            }
            size_t need = cap * 2;
            if (max_bytes && need > max_bytes) need = max_bytes;
            if ((st = grow(&buf, &cap, need, name)) != VG_OK) break;
            if (max_bytes && cap > max_bytes) cap = max_bytes;
        }
        /* zlib counts in 32-bit units; feed huge buffers in pieces. */
        size_t in_chunk = VG_MIN(len - in_pos, (size_t)UINT_MAX);
        size_t out_chunk = VG_MIN(cap - produced, (size_t)UINT_MAX);
        zs.next_in = (unsigned char *)(in + in_pos);
        zs.avail_in = (uInt)in_chunk;
        zs.next_out = (unsigned char *)buf + produced;
        zs.avail_out = (uInt)out_chunk;
        int ret = inflate(&zs, Z_NO_FLUSH);
        in_pos += in_chunk - zs.avail_in;
        produced += out_chunk - zs.avail_out;
        if (ret == Z_STREAM_END) {
            if (in_pos == len) break;
            /* Another member (concatenated .gz files) or trailing bytes. */
            if (vg_is_gzip(in + in_pos, len - in_pos)) {
                inflateReset(&zs);
                continue;
            }
            if (all_zero(in + in_pos, len - in_pos)) break;  /* tape/block padding */
            st = vg_fail(VG_ERR_IO, "%s: corrupt gzip data (unexpected bytes after the end of the stream)", name);
            break;
        }
        if (ret == Z_OK) continue;
        if (ret == Z_BUF_ERROR && zs.avail_out == 0) continue;  /* just needs more room */
        if (ret == Z_BUF_ERROR && in_pos == len) {
            st = vg_fail(VG_ERR_IO, "%s: truncated gzip data (the file ends before the compressed stream does)", name);
            break;
        }
        if (ret == Z_MEM_ERROR) {
            st = vg_fail(VG_ERR_NOMEM, "%s: out of memory in gzip decompression", name);
            break;
        }
        st = vg_fail(VG_ERR_IO, "%s: corrupt gzip data (%s)", name, zs.msg ? zs.msg : "invalid stream");
        break;
    }
    inflateEnd(&zs);
    if (st != VG_OK) {
        vg_free(buf);
        return st;
    }
    buf[produced] = '\0';
    *out = buf;
    *out_len = produced;
    return VG_OK;
}

/* Read all bytes of fd. A regular file is read with one allocation of its
 * size; a pipe grows its buffer as it goes. */
static vg_status read_fd(int fd, const char *name, size_t max_bytes, char **data, size_t *len)
{
    struct stat sb;
    size_t cap = 0;
    if (fstat(fd, &sb) == 0) {
        if (S_ISDIR(sb.st_mode)) return vg_fail(VG_ERR_IO, "%s: %s", name, strerror(EISDIR));
        if (S_ISREG(sb.st_mode)) {
            if (max_bytes && (uint64_t)sb.st_size > max_bytes) return too_large(name, max_bytes);
            cap = (size_t)sb.st_size;
        }
    }
    char *buf = NULL;
    size_t n = 0;
    vg_status st = grow(&buf, &cap, cap ? cap : 65536, name);
    if (st != VG_OK) return st;
    for (;;) {
        char probe[1];
        char *dst = buf + n;
        size_t want = VG_MIN(cap - n, (size_t)1 << 30);
        if (n == cap) {
            /* Full: a regular file usually ends exactly here, so ask for one
             * byte before paying for a larger buffer. */
            dst = probe;
            want = 1;
        }
        ssize_t r = read(fd, dst, want);
        if (r < 0) {
            if (errno == EINTR) continue;
            vg_status e = vg_fail(VG_ERR_IO, "%s: %s", name, strerror(errno));
            vg_free(buf);
            return e;
        }
        if (r == 0) break;
        if (dst == probe) {
            if (max_bytes && n >= max_bytes) {
                vg_free(buf);
                return too_large(name, max_bytes);
            }
            size_t need = cap * 2;
            if (max_bytes && need > max_bytes) need = max_bytes;
            if ((st = grow(&buf, &cap, need, name)) != VG_OK) {
                vg_free(buf);
                return st;
            }
            if (max_bytes && cap > max_bytes) cap = max_bytes;
            buf[n] = probe[0];
        }
        n += (size_t)r;
    }
    buf[n] = '\0';
    *data = buf;
    *len = n;
    return VG_OK;
}

vg_status vg_file_read_all(const char *path, size_t max_bytes, char **data, size_t *len)
{
    VG_ASSERT(path && data && len);
    *data = NULL;
    *len = 0;
    int is_stdin = strcmp(path, "-") == 0;
    const char *name = is_stdin ? "<stdin>" : path;
    int fd = is_stdin ? STDIN_FILENO : open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return vg_fail(VG_ERR_IO, "%s: %s", name, strerror(errno));
    char *raw = NULL;
    size_t n = 0;
    vg_status st = read_fd(fd, name, max_bytes, &raw, &n);
    if (!is_stdin) close(fd);
    if (st != VG_OK) return st;
    if (!vg_is_gzip(raw, n)) {
        *data = raw;
        *len = n;
        return VG_OK;
    }
    st = vg_gunzip(raw, n, name, max_bytes, data, len);
    vg_free(raw);
    return st;
}
