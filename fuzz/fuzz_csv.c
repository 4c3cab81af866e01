/* libFuzzer target for the CSV reader: any bytes (gzip included, which the
 * reader recognises by its magic) must give a table or a status with a
 * message, never a crash, a leak or undefined behaviour. The first byte picks
 * reader options so delimiter/header detection, forced types and the limits
 * are exercised too. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "vigil/csv.h"
#include "vigil/table.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static volatile double sink;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    vg_csv_options o = vg_csv_options_default();
    static const char *const cats[] = {"c1", "a"};
    static const char *const nums[] = {"c2", "b"};
    if (size > 0) {
        uint8_t k = data[0];
        static const char delims[4] = {',', 0, ';', '\t'};
        o.delimiter = delims[k & 3];
        o.header = (int)((k >> 2) % 3) - 1;
        if (k & 0x10) {
            o.categorical = cats;
            o.n_categorical = 1;
        }
        if (k & 0x20) {
            o.numeric = nums;
            o.n_numeric = 1;
        }
        if (k & 0x40) {
            o.max_line_bytes = 64;
            o.max_columns = 8;
        }
        if (k & 0x80) o.max_rows = 3;
        data++;
        size--;
    }
    vg_table *t = NULL;
    vg_status st = vg_csv_read_memory(data, size, "fuzz.csv", &o, &t);
    if (st == VG_OK) {
        /* Touch everything a consumer would. */
        size_t rows = vg_table_rows(t);
        for (size_t j = 0; j < vg_table_cols(t); j++) {
            if (vg_table_type(t, j) == VG_COLUMN_CATEGORICAL) {
                const uint32_t *c = vg_table_codes(t, j);
                for (size_t i = 0; i < rows; i++) {
                    if (c[i] != VG_CODE_MISSING && !vg_table_category(t, j, c[i])) __builtin_trap();
                }
            } else {
                const double *x = vg_table_numbers(t, j);
                double s = 0;
                for (size_t i = 0; i < rows; i++) s += x[i];
                sink = s;
            }
        }
        for (size_t i = 0; i < rows; i++) (void)vg_table_line(t, i);
        vg_table_free(t);
    } else if (t != NULL || vg_last_error()[0] == '\0' || strchr(vg_last_error(), '\n') != NULL) {
        __builtin_trap();  /* a failure leaves no table and one line of message */
    }
    return 0;
}
