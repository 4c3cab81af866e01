/* Times loading a KDD file into a table (vg_kdd_read): best of 5 runs.
 * usage: bench_load FILE */
#include <stdio.h>

#include "vigil/kdd.h"

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: bench_load KDD-FILE\n");
        return 2;
    }
    double best = 1e9;
    size_t rows = 0;
    for (int i = 0; i < 5; i++) {
        double t0 = vg_now();
        vg_table *t;
        if (vg_kdd_read(argv[1], &t)) {
            fprintf(stderr, "bench_load: %s\n", vg_last_error());
            return 1;
        }
        double dt = vg_now() - t0;
        rows = vg_table_rows(t);
        vg_table_free(t);
        if (dt < best) best = dt;
    }
    printf("%s: %zu rows, best %.4f s of 5\n", argv[1], rows, best);
    return 0;
}
