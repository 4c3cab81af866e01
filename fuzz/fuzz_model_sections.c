/* libFuzzer target: the checksum stops random bytes at the container, so this
 * target wraps the fuzzer's bytes as the PIPE and ESTM sections of a valid
 * container (split at the first byte's position) to reach the pipeline and
 * estimator loaders behind it. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "vigil/buf.h"
#include "vigil/model.h"
#include "vigil/vgm.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2) return 0;
    size_t cut = 1 + (size_t)data[0] * (size - 1) / 256;
    /* A minimal valid META: format, task, label, model, two classes. */
    vg_wbuf meta;
    vg_wbuf_init(&meta);
    const char *kv[][2] = { { "format", "csv" }, { "task", "label" }, { "label", "y" },
                            { "model", (data[0] & 1) ? "forest" : "logreg" }, { "classes.0", "a" }, { "classes.1", "b" } };
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
    vg_wbuf_str(&estm, (data[0] & 1) ? "forest" : "logreg");
    vg_wbuf_bytes(&estm, data + cut, size - cut);
    vg_vgm_section s[3] = { { "META", meta.data, meta.len }, { "PIPE", data + 1, cut - 1 }, { "ESTM", estm.data, estm.len } };
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
