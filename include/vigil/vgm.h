/* The .vgm model file container.
 *
 * Layout (all integers little-endian):
 *   offset 0   magic      8 bytes  "VIGILMDL"
 *              version    u32      VG_VGM_VERSION (a reader refuses newer files)
 *              n_sections u32
 *              file_size  u64      total bytes, trailer included (detects truncation)
 *   then n_sections directory entries of 24 bytes:
 *              tag        4 bytes  e.g. "META", "PIPE", "ESTM", "METR"
 *              reserved   u32      0
 *              offset     u64      from the start of the file, 16-byte aligned
 *              size       u64
 *   section data, each starting at a 16-byte boundary (zero padding);
 *   trailer    checksum   u64      XXH3-64 of every byte before the trailer.
 *
 * Sections written by vigil 0.1 (see docs/model-file.md): META typed
 * key/value metadata, PIPE the preprocessing pipeline, ESTM the estimator
 * (family name, parameters, fitted state), METR the evaluation metrics as
 * JSON text. Readers ignore sections they do not know. */
#ifndef VIGIL_VGM_H
#define VIGIL_VGM_H

#include <stddef.h>
#include <stdint.h>
#include "vigil/core.h"

#ifdef __cplusplus
extern "C" {
#endif

#define VG_VGM_VERSION 1u
#define VG_VGM_MAX_SECTIONS 64u
#define VG_VGM_MAX_BYTES ((uint64_t)4 << 30)  /* refuse files over 4 GiB */

typedef struct vg_vgm_section {
    char tag[4];
    const void *data;  /* borrowed */
    size_t size;
} vg_vgm_section;

/* Serialise sections into a new vg_malloc'd image (caller frees). */
VG_API vg_status vg_vgm_build(const vg_vgm_section *sections, size_t n, uint8_t **image, size_t *size);
/* Write sections to `path` atomically (temporary file + rename). */
VG_API vg_status vg_vgm_write(const char *path, const vg_vgm_section *sections, size_t n);

/* A parsed file: owns the bytes; sections point into them. */
typedef struct vg_vgm_file {
    uint8_t *bytes;
    size_t size;
    uint32_t version;
    size_t n_sections;
    vg_vgm_section sections[VG_VGM_MAX_SECTIONS];
} vg_vgm_file;

/* Validate an image (magic, version, size, directory bounds, checksum).
 * `name` prefixes messages. On success *f borrows `image` (f->bytes = NULL). */
VG_API vg_status vg_vgm_parse(const uint8_t *image, size_t size, const char *name, vg_vgm_file *f);
/* Read and validate a file; f->bytes is owned (vg_vgm_close frees it). */
VG_API vg_status vg_vgm_read(const char *path, vg_vgm_file *f);
VG_API void vg_vgm_close(vg_vgm_file *f);
/* The section with `tag`, or NULL. */
VG_API const vg_vgm_section *vg_vgm_find(const vg_vgm_file *f, const char tag[4]);

#ifdef __cplusplus
}
#endif

#endif
