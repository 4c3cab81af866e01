/* The .vgm container: directory of tagged, aligned sections and a trailing
 * checksum (format in vgm.h and docs/model-file.md). Every field read from a
 * file is checked before use, so a truncated, corrupted or future file is
 * refused with a message and never crashes the reader. */
#include "vigil/vgm.h"
#include "vigil/buf.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static const char magic[8] = { 'V', 'I', 'G', 'I', 'L', 'M', 'D', 'L' };
#define HEADER_BYTES 24u
#define ENTRY_BYTES 24u
#define ALIGN 16u

static size_t align_up(size_t x)
{
    return (x + ALIGN - 1) & ~(size_t)(ALIGN - 1);
}

vg_status vg_vgm_build(const vg_vgm_section *sections, size_t n, uint8_t **image, size_t *size)
{
    if (n > VG_VGM_MAX_SECTIONS) return vg_fail(VG_ERR_INVALID, "too many model file sections (%zu)", n);
    size_t off = align_up(HEADER_BYTES + n * ENTRY_BYTES);
    size_t offsets[VG_VGM_MAX_SECTIONS];
    for (size_t i = 0; i < n; i++) {
        offsets[i] = off;
        off = align_up(off + sections[i].size);
    }
    size_t total = off + 8;
    vg_wbuf w;
    vg_wbuf_init(&w);
    vg_wbuf_bytes(&w, magic, sizeof magic);
    vg_wbuf_u32(&w, VG_VGM_VERSION);
    vg_wbuf_u32(&w, (uint32_t)n);
    vg_wbuf_u64(&w, total);
    for (size_t i = 0; i < n; i++) {
        vg_wbuf_bytes(&w, sections[i].tag, 4);
        vg_wbuf_u32(&w, 0);
        vg_wbuf_u64(&w, offsets[i]);
        vg_wbuf_u64(&w, sections[i].size);
    }
    static const uint8_t zeros[ALIGN];
    for (size_t i = 0; i < n; i++) {
        vg_wbuf_bytes(&w, zeros, offsets[i] - w.len);
        vg_wbuf_bytes(&w, sections[i].data, sections[i].size);
    }
    vg_wbuf_bytes(&w, zeros, (total - 8) - w.len);
    vg_wbuf_u64(&w, w.failed ? 0 : vg_hash(w.data, w.len, 0));
    if (w.failed) {
        vg_wbuf_free(&w);
        return vg_fail(VG_ERR_NOMEM, "out of memory while building the model file");
    }
    *image = w.data;
    *size = w.len;
    return VG_OK;
}

vg_status vg_vgm_write(const char *path, const vg_vgm_section *sections, size_t n)
{
    uint8_t *image;
    size_t size;
    vg_status st = vg_vgm_build(sections, n, &image, &size);
    if (st) return st;
    char tmp[4096];
    if (snprintf(tmp, sizeof tmp, "%s.tmp.%d", path, (int)getpid()) >= (int)sizeof tmp) {
        vg_free(image);
        return vg_fail(VG_ERR_INVALID, "%s: path too long", path);
    }
    FILE *f = fopen(tmp, "wb");
    if (!f) {
        vg_free(image);
        return vg_fail(VG_ERR_IO, "%s: cannot write: %s", path, strerror(errno));
    }
    int ok = fwrite(image, 1, size, f) == size;
    ok = (fflush(f) == 0) && ok;
    ok = (fclose(f) == 0) && ok;
    vg_free(image);
    if (!ok || rename(tmp, path) != 0) {
        int e = errno;
        unlink(tmp);
        return vg_fail(VG_ERR_IO, "%s: cannot write: %s", path, strerror(e));
    }
    return VG_OK;
}

vg_status vg_vgm_parse(const uint8_t *image, size_t size, const char *name, vg_vgm_file *f)
{
    memset(f, 0, sizeof *f);
    if (size < sizeof magic || memcmp(image, magic, sizeof magic) != 0)
        return vg_fail(VG_ERR_FORMAT, "%s: not a vigil model file (bad magic)", name);
    if (size < HEADER_BYTES + 8)
        return vg_fail(VG_ERR_FORMAT, "%s: truncated model file (%zu bytes)", name, size);
    vg_rbuf r;
    vg_rbuf_init(&r, image, size, name);
    r.pos = sizeof magic;
    uint32_t version = vg_rbuf_u32(&r);
    uint32_t n = vg_rbuf_u32(&r);
    uint64_t total = vg_rbuf_u64(&r);
    if (version > VG_VGM_VERSION)
        return vg_fail(VG_ERR_FORMAT, "%s: model file format version %u is newer than this vigil "
                       "reads (%u); upgrade vigil", name, version, VG_VGM_VERSION);
    if (version == 0) return vg_fail(VG_ERR_FORMAT, "%s: invalid model file version 0", name);
    if (total != size)
        return vg_fail(VG_ERR_FORMAT, "%s: %s model file (%zu bytes, header says %llu)", name,
                       size < total ? "truncated" : "oversized", size, (unsigned long long)total);
    uint64_t stored;
    memcpy(&stored, image + size - 8, 8);  /* little-endian host (checked by the build) */
    if (stored != vg_hash(image, size - 8, 0))
        return vg_fail(VG_ERR_FORMAT, "%s: model file is corrupted (checksum mismatch)", name);
    if (n > VG_VGM_MAX_SECTIONS || HEADER_BYTES + (uint64_t)n * ENTRY_BYTES > size - 8)
        return vg_fail(VG_ERR_FORMAT, "%s: model file has an invalid section count (%u)", name, n);
    for (uint32_t i = 0; i < n; i++) {
        vg_vgm_section *s = &f->sections[i];
        vg_rbuf_bytes(&r, s->tag, 4);
        vg_rbuf_u32(&r);
        uint64_t off = vg_rbuf_u64(&r), len = vg_rbuf_u64(&r);
        if (off < HEADER_BYTES || off > size - 8 || len > size - 8 - off)
            return vg_fail(VG_ERR_FORMAT, "%s: model file section %.4s lies outside the file", name, s->tag);
        s->data = image + off;
        s->size = (size_t)len;
    }
    f->version = version;
    f->n_sections = n;
    f->size = size;
    return VG_OK;
}

vg_status vg_vgm_read(const char *path, vg_vgm_file *f)
{
    memset(f, 0, sizeof *f);
    FILE *fp = fopen(path, "rb");
    if (!fp) return vg_fail(VG_ERR_IO, "%s: %s", path, strerror(errno));
    if (fseek(fp, 0, SEEK_END) != 0) {
        fclose(fp);
        return vg_fail(VG_ERR_IO, "%s: not a regular file", path);
    }
    long len = ftell(fp);
    if (len < 0 || (uint64_t)len > VG_VGM_MAX_BYTES) {
        fclose(fp);
        return vg_fail(VG_ERR_FORMAT, "%s: not a model file (size %ld)", path, len);
    }
    rewind(fp);
    uint8_t *bytes = vg_malloc(len ? (size_t)len : 1);
    if (!bytes) {
        fclose(fp);
        return vg_fail(VG_ERR_NOMEM, "%s: out of memory", path);
    }
    size_t got = fread(bytes, 1, (size_t)len, fp);
    fclose(fp);
    if (got != (size_t)len) {
        vg_free(bytes);
        return vg_fail(VG_ERR_IO, "%s: read failed", path);
    }
    vg_status st = vg_vgm_parse(bytes, got, path, f);
    if (st) {
        vg_free(bytes);
        return st;
    }
    f->bytes = bytes;
    return VG_OK;
}

void vg_vgm_close(vg_vgm_file *f)
{
    if (!f) return;
    vg_free(f->bytes);
    memset(f, 0, sizeof *f);
}

const vg_vgm_section *vg_vgm_find(const vg_vgm_file *f, const char tag[4])
{
    for (size_t i = 0; i < f->n_sections; i++)
        if (memcmp(f->sections[i].tag, tag, 4) == 0) return &f->sections[i];
    return NULL;
}
