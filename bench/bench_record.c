/* Single-record latency: scores records one at a time from raw field values
 * (name/value pairs, as the server receives them) through the pipeline and
 * the model, and prints the median, p90 and p99 per record.
 * usage: bench_record MODEL.vgm DATA-FILE [records]
 * The fields are prepared before timing (what a JSON parser would hand over);
 * each timed call is vg_model_predict_record alone. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vigil/model.h"

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: bench_record MODEL.vgm DATA-FILE [records]\n");
        return 2;
    }
    vg_model *m;
    vg_table *t;
    if (vg_model_load(argv[1], &m) || vg_model_read_data(m, argv[2], &t)) {
        fprintf(stderr, "bench_record: %s\n", vg_last_error());
        return 1;
    }
    size_t n = VG_MIN(vg_table_rows(t), argc > 3 ? (size_t)atol(argv[3]) : 20000);
    size_t cols = vg_table_cols(t);
    vg_field *fields = calloc(n * cols, sizeof *fields);
    for (size_t r = 0; r < n; r++)
        for (size_t c = 0; c < cols; c++) {
            vg_field *f = &fields[r * cols + c];
            f->name = vg_table_name(t, c);
            f->name_len = strlen(f->name);
            if (vg_table_type(t, c) == VG_COLUMN_NUMERIC) {
                f->kind = VG_FIELD_NUMBER;
                f->number = vg_table_numbers(t, c)[r];
            } else {
                uint32_t code = vg_table_codes(t, c)[r];
                f->kind = code == VG_CODE_MISSING ? VG_FIELD_NULL : VG_FIELD_TEXT;
                f->text = code == VG_CODE_MISSING ? NULL : vg_table_category(t, c, code);
                f->text_len = f->text ? strlen(f->text) : 0;
            }
        }
    float proba[256];
    double *lat = malloc(n * sizeof *lat), checksum = 0;
    for (size_t r = 0; r < VG_MIN(n, (size_t)1000); r++)  /* warm the caches */
        vg_model_predict_record(m, fields + r * cols, cols, proba, NULL);
    for (size_t r = 0; r < n; r++) {
        double t0 = vg_now();
        if (vg_model_predict_record(m, fields + r * cols, cols, proba, NULL)) {
            fprintf(stderr, "bench_record: row %zu: %s\n", r + 1, vg_last_error());
            return 1;
        }
        lat[r] = (vg_now() - t0) * 1e6;
        checksum += proba[0];
    }
    qsort(lat, n, sizeof *lat, cmp_double);
    printf("%s on %s: %zu records, %zu fields each: median %.2f us, p90 %.2f us, p99 %.2f us "
           "(checksum %.3f)\n", argv[1], argv[2], n, cols, lat[n / 2], lat[n * 9 / 10], lat[n * 99 / 100], checksum);
    free(lat);
    free(fields);
    vg_table_free(t);
    vg_model_free(m);
    return 0;
}
