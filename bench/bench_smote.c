/* Benchmark: vigil's SMOTE on a dumped feature matrix (bench/smote.py writes
 * NSL-KDD KDDTrain+ one-hot + standardised, the same numbers imbalanced-learn
 * gets). Prints "rows_out seconds" of the best of `runs`.
 *
 * build: built by CMake as build/bench_smote
 * usage: bench_smote DIR binary|category [threads] [runs] [sampler] */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vigil/core.h"
#include "vigil/sampler.h"

static void *read_file(const char *dir, const char *name, size_t expect)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "rb");
    void *p = f ? malloc(expect) : NULL;
    if (!p || fread(p, 1, expect, f) != expect) {
        fprintf(stderr, "%s: cannot read %zu bytes\n", path, expect);
        exit(1);
    }
    fclose(f);
    return p;
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: bench_smote DIR binary|category [threads] [runs] [sampler]\n");
        return 2;
    }
    const char *dir = argv[1], *task = argv[2];
    int threads = argc > 3 ? atoi(argv[3]) : 0, runs = argc > 4 ? atoi(argv[4]) : 3;
    const char *name = argc > 5 ? argv[5] : "smote";
    char path[1024], yname[64];
    snprintf(path, sizeof path, "%s/shape.txt", dir);
    FILE *f = fopen(path, "r");
    size_t rows, cols;
    if (!f || fscanf(f, "%zu %zu", &rows, &cols) != 2) {
        fprintf(stderr, "%s: unreadable\n", path);
        return 1;
    }
    fclose(f);
    float *X0 = read_file(dir, "train_X.f32", rows * cols * sizeof *X0);
    snprintf(yname, sizeof yname, "train_y_%s.i32", task);
    int32_t *y0 = read_file(dir, yname, rows * sizeof *y0);
    uint32_t k = 0;
    for (size_t r = 0; r < rows; r++)
        if ((uint32_t)y0[r] + 1 > k) k = (uint32_t)y0[r] + 1;
    vg_sampler_params p;
    if (vg_sampler_params_default(name, &p)) {
        fprintf(stderr, "%s\n", vg_last_error());
        return 1;
    }
    double best = 1e300;
    size_t out_rows = 0;
    for (int i = 0; i < runs; i++) {
        vg_matrix X;
        vg_matrix_alloc(&X, rows, cols);
        memcpy(X.data, X0, rows * cols * sizeof *X0);
        int32_t *y = vg_malloc(rows * sizeof *y);
        memcpy(y, y0, rows * sizeof *y);
        float *w = NULL;
        double t0 = vg_now();
        if (vg_sampler_apply(&p, NULL, k, 42, threads, &X, &y, &w)) {
            fprintf(stderr, "%s\n", vg_last_error());
            return 1;
        }
        double t = vg_now() - t0;
        if (t < best) best = t;
        out_rows = X.rows;
        vg_matrix_free(&X);
        vg_free(y);
    }
    printf("%zu %.4f\n", out_rows, best);
    free(X0), free(y0);
    return 0;
}
