/* libFuzzer target: the checksum stops random bytes at the container, so this
 * target wraps the fuzzer's bytes as the PIPE and ESTM sections of a valid
 * container to reach the pipeline and every family's state loader behind it.
 * Byte 0 picks the family (its index in the registry, modulo the count, so a
 * new family is fuzzed without a change here), bytes 1-2 (u16, little-endian,
 * clamped to what follows) the PIPE section's length; the rest is PIPE then
 * the family's state (fuzz/corpus/model_sections/ holds every family's). */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "vigil/buf.h"
#include "vigil/estimator.h"
#include "vigil/model.h"
#include "vigil/vgm.h"

/* Loaders bound dense state by the model load limit (vg_rbuf_require_alloc):
 * at 64 MiB here, an allocation libFuzzer's malloc limit still catches is one
 * that no bound guards. */
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc, (void)argv;
    setenv("VIGIL_MODEL_LOAD_MAX_MB", "64", 1);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 3) return 0;
    const vg_estimator_kind *const *all = vg_estimator_all();
    size_t n_kinds = 0;
    while (all[n_kinds]) n_kinds++;
    const char *family = all[data[0] % n_kinds]->name;
    size_t cut = (size_t)data[1] | (size_t)data[2] << 8;
    data += 3, size -= 3;
    if (cut > size) cut = size;
    /* A minimal valid META: format, task, label, model, two classes. */
    vg_wbuf meta;
    vg_wbuf_init(&meta);
    const char *kv[][2] = { { "format", "csv" }, { "task", "label" }, { "label", "y" },
                            { "model", family }, { "classes.0", "a" }, { "classes.1", "b" } };
    vg_wbuf_u32(&meta, 7);
    for (size_t i = 0; i < 6; i++) {
        vg_wbuf_str(&meta, kv[i][0]);
        vg_wbuf_u8(&meta, 1);
        vg_wbuf_str(&meta, kv[i][1]);
    }
    vg_wbuf_str(&meta, "classes.n");
    vg_wbuf_u8(&meta, 2);
    vg_wbuf_u64(&meta, 2);
    vg_wbuf estm;
    vg_wbuf_init(&estm);
    vg_wbuf_str(&estm, family);
    vg_wbuf_bytes(&estm, data + cut, size - cut);
    vg_vgm_section s[3] = { { "META", meta.data, meta.len }, { "PIPE", data, cut }, { "ESTM", estm.data, estm.len } };
    uint8_t *image;
    size_t len;
    if (vg_vgm_build(s, 3, &image, &len) == VG_OK) {
        vg_model *m = NULL;
        if (vg_model_load_memory(image, len, "fuzz.vgm", &m) == VG_OK) vg_model_free(m);
        vg_free(image);
    }
    vg_wbuf_free(&meta);
    vg_wbuf_free(&estm);
    return 0;
}
