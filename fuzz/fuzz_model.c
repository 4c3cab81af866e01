/* libFuzzer target: loading a model file from arbitrary bytes must return an
 * error or a valid model, never crash, hang or leak. Seeds: any .vgm file. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "vigil/model.h"

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
    vg_model *m = NULL;
    if (vg_model_load_memory(data, size, "fuzz.vgm", &m) == VG_OK) vg_model_free(m);
    return 0;
}
