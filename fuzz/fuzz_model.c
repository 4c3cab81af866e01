/* libFuzzer target: loading a model file from arbitrary bytes must return an
 * error or a valid model, never crash, hang or leak. Seeds: any .vgm file. */
#include <stddef.h>
#include <stdint.h>

#include "vigil/model.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    vg_model *m = NULL;
    if (vg_model_load_memory(data, size, "fuzz.vgm", &m) == VG_OK) vg_model_free(m);
    return 0;
}
