/* libFuzzer target for the KDD reader: any bytes must give a table with the
 * KDD schema (41 features, then the label and NSL-KDD's difficulty when the
 * records carry them: 41, 42 or 43 columns) or a status with a one-line
 * message, never a crash. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "vigil/kdd.h"
#include "vigil/table.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    vg_table *t = NULL;
    vg_status st = vg_kdd_read_memory(data, size, "fuzz.kdd", &t);
    if (st == VG_OK) {
        size_t cols = vg_table_cols(t);
        if (cols != 41 && cols != 42 && cols != 43) __builtin_trap();
        if (cols == 41) {   /* unlabelled records: no label column to check */
            vg_table_free(t);
            return 0;
        }
        const uint32_t *labels = vg_table_codes(t, VG_KDD_N_FEATURES);
        if (!labels) __builtin_trap();
        for (size_t i = 0; i < vg_table_rows(t); i++) {
            if (labels[i] == VG_CODE_MISSING) continue;
            const char *s = vg_table_category(t, VG_KDD_N_FEATURES, labels[i]);
            if (!s) __builtin_trap();
            (void)vg_kdd_category(s);
        }
        vg_table_free(t);
    } else if (t != NULL || vg_last_error()[0] == '\0' || strchr(vg_last_error(), '\n') != NULL) {
        __builtin_trap();
    }
    return 0;
}
