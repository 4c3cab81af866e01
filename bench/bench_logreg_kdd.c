/* Benchmark: vigil's logreg on NSL-KDD against scikit-learn's lbfgs, on the
 * very same feature matrix. bench/bench_logreg_kdd.py --dump DIR writes the
 * one-hot + standardised KDDTrain+/KDDTest+ matrices as float32 and prints
 * scikit-learn's fit time and test accuracy; this program trains vigil on
 * DIR's files with the same C, max_iter and tol and prints the same figures.
 *
 * build: built by CMake as build/bench_logreg_kdd; bench/bench_logreg_kdd.py --dump DIR first
 * usage: bench_logreg_kdd DIR [threads] [repeats] [binary|category] */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "vigil/estimator.h"

static void *read_file(const char *dir, const char *name, size_t expect)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "cannot open %s\n", path);
        exit(1);
    }
    void *p = malloc(expect);
    if (!p || fread(p, 1, expect, f) != expect) {
        fprintf(stderr, "%s: short read\n", path);
        exit(1);
    }
    fclose(f);
    return p;
}

static double accuracy(const float *proba, const int32_t *y, size_t rows, uint32_t k)
{
    size_t ok = 0;
    for (size_t i = 0; i < rows; i++) {
        uint32_t best = 0;
        for (uint32_t c = 1; c < k; c++)
            if (proba[i * k + c] > proba[i * k + best]) best = c;
        ok += (int32_t)best == y[i];
    }
    return (double)ok / (double)rows;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: %s DIR [threads] [repeats]\n", argv[0]);
        return 2;
    }
    const char *dir = argv[1];
    int threads = argc > 2 ? atoi(argv[2]) : 0, repeats = argc > 3 ? atoi(argv[3]) : 3;
    size_t tr_rows, te_rows, cols;
    char shape[1024];
    snprintf(shape, sizeof shape, "%s/shape.txt", dir);
    FILE *f = fopen(shape, "r");
    if (!f || fscanf(f, "%zu %zu %zu", &tr_rows, &te_rows, &cols) != 3) {
        fprintf(stderr, "cannot read %s\n", shape);
        return 1;
    }
    fclose(f);
    vg_matrix Xtr = { tr_rows, cols, read_file(dir, "train_X.f32", tr_rows * cols * 4) };
    vg_matrix Xte = { te_rows, cols, read_file(dir, "test_X.f32", te_rows * cols * 4) };
    vg_feature *feats = calloc(cols, sizeof *feats);

    const char *tasks[] = { "binary", "category" };
    const uint32_t classes[] = { 2, 5 };
    for (int t = 0; t < 2; t++) {
        if (argc > 4 && strcmp(argv[4], tasks[t]) != 0) continue;
        char name[64];
        snprintf(name, sizeof name, "train_y_%s.i32", tasks[t]);
        int32_t *ytr = read_file(dir, name, tr_rows * 4);
        snprintf(name, sizeof name, "test_y_%s.i32", tasks[t]);
        int32_t *yte = read_file(dir, name, te_rows * 4);

        const vg_estimator_kind *k = &vg_logreg_kind;
        void *params = malloc(k->params_size);
        k->params_default(params);
        vg_train_set ts = { .X = &Xtr, .features = feats, .y = ytr, .n_classes = classes[t] };
        vg_fit_options opt = { .seed = 1, .threads = threads };
        double best = 1e30, best_cpu = 1e30;
        void *state = NULL;
        for (int r = 0; r < repeats; r++) {
            if (state) k->free(state);
            double t0 = vg_now();
            clock_t c0 = clock();
            if (k->fit(params, &ts, &opt, &state)) {
                fprintf(stderr, "fit: %s\n", vg_last_error());
                return 1;
            }
            double dt = vg_now() - t0, cpu = (double)(clock() - c0) / CLOCKS_PER_SEC;
            best = dt < best ? dt : best;
            best_cpu = cpu < best_cpu ? cpu : best_cpu;
        }
        float *proba = malloc(te_rows * classes[t] * sizeof(float));
        k->predict(state, &Xte, threads, proba);
        vg_wbuf d;
        vg_wbuf_init(&d);
        k->describe(state, &d);
        vg_wbuf_u8(&d, 0);
        for (char *p = (char *)d.data; (p = strchr(p, '\n'));) *p = ' ';
        printf("vigil %s: fit %.3f s wall, %.3f s cpu (best of %d, threads %d), %s test accuracy %.4f\n",
               tasks[t], best, best_cpu, repeats, threads, (char *)d.data,
               accuracy(proba, yte, te_rows, classes[t]));
        vg_wbuf_free(&d);
        k->free(state);
        free(proba);
        free(params);
        free(ytr);
        free(yte);
    }
    return 0;
}
