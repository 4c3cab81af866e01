/* Benchmark driver for the distance-based families (kmeans, lof, knn) on the
 * very matrices bench/neighbors.py gives scikit-learn: it fits the family on
 * DIR's training rows, scores DIR's test rows, prints the best-of-N fit and
 * predict seconds and writes the scores (anomaly families: one float a row;
 * knn: the class probabilities) to DIR/vigil_MODEL.f32 for the script to
 * compare with scikit-learn's.
 *
 * build: built by CMake as build/bench_neighbors; bench/neighbors.py runs it
 * usage: bench_neighbors DIR kmeans|lof|knn THREADS REPEATS [KEY=VALUE...]
 * DIR holds shape.txt ("train_rows test_rows cols classes"), train_X.f32,
 * test_X.f32 and, for knn, train_y.i32. */
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
    void *p = malloc(expect + 1);
    if (!f || !p || fread(p, 1, expect, f) != expect) {
        fprintf(stderr, "cannot read %zu bytes of %s\n", expect, path);
        exit(1);
    }
    fclose(f);
    return p;
}

int main(int argc, char **argv)
{
    if (argc < 5) {
        fprintf(stderr, "usage: %s DIR kmeans|lof|knn THREADS REPEATS [KEY=VALUE...]\n", argv[0]);
        return 2;
    }
    const char *dir = argv[1];
    if (getenv("VG_BENCH_DEBUG")) vg_log_set_level(VG_LOG_DEBUG);
    const vg_estimator_kind *k = vg_estimator_find(argv[2]);
    int threads = atoi(argv[3]), repeats = atoi(argv[4]);
    if (!k) {
        fprintf(stderr, "unknown model %s\n", argv[2]);
        return 2;
    }
    size_t tr, te, cols, classes;
    char shape[1024];
    snprintf(shape, sizeof shape, "%s/shape.txt", dir);
    FILE *f = fopen(shape, "r");
    if (!f || fscanf(f, "%zu %zu %zu %zu", &tr, &te, &cols, &classes) != 4) {
        fprintf(stderr, "cannot read %s\n", shape);
        return 1;
    }
    fclose(f);
    vg_matrix Xtr = { tr, cols, read_file(dir, "train_X.f32", tr * cols * 4) };
    vg_matrix Xte = { te, cols, read_file(dir, "test_X.f32", te * cols * 4) };
    int32_t *y = k->needs_labels ? read_file(dir, "train_y.i32", tr * 4) : NULL;
    void *params = malloc(k->params_size);
    k->params_default(params);
    for (int a = 5; a < argc; a++) {
        char *eq = strchr(argv[a], '=');
        if (!eq) return 2;
        *eq = '\0';
        if (k->params_set(params, argv[a], eq + 1)) {
            fprintf(stderr, "%s\n", vg_last_error());
            return 2;
        }
    }
    vg_train_set ts = { .X = &Xtr, .y = y, .n_classes = y ? (uint32_t)classes : 1 };
    vg_fit_options opt = { .seed = 42, .threads = threads };
    double fit_best = 1e30, pred_best = 1e30, fit_cpu = 1e30, pred_cpu = 1e30;
    void *state = NULL;
    uint32_t nout = 0;
    float *out = NULL;
    for (int r = 0; r < repeats; r++) {
        if (state) k->free(state);
        double t0 = vg_now();
        clock_t c0 = clock();
        if (k->fit(params, &ts, &opt, &state)) {
            fprintf(stderr, "fit: %s\n", vg_last_error());
            return 1;
        }
        double t1 = vg_now();
        clock_t c1 = clock();
        nout = k->n_classes(state);
        if (!out) out = malloc(te * nout * sizeof(float));
        k->predict(state, &Xte, threads, out);
        double t2 = vg_now();
        clock_t c2 = clock();
        double fc = (double)(c1 - c0) / CLOCKS_PER_SEC, pc = (double)(c2 - c1) / CLOCKS_PER_SEC;
        fit_cpu = fc < fit_cpu ? fc : fit_cpu;
        pred_cpu = pc < pred_cpu ? pc : pred_cpu;
        fit_best = t1 - t0 < fit_best ? t1 - t0 : fit_best;
        pred_best = t2 - t1 < pred_best ? t2 - t1 : pred_best;
    }
    char path[1024];
    snprintf(path, sizeof path, "%s/vigil_%s.f32", dir, k->name);
    FILE *o = fopen(path, "wb");
    if (!o || fwrite(out, sizeof(float), te * nout, o) != te * nout) return 1;
    fclose(o);
    vg_wbuf d;
    vg_wbuf_init(&d);
    k->describe(state, &d);
    vg_wbuf_u8(&d, 0);
    for (char *p = (char *)d.data; (p = strchr(p, '\n'));) *p = ';';
    printf("{\"fit_seconds\": %.4f, \"predict_seconds\": %.4f, \"fit_cpu\": %.4f, \"predict_cpu\": %.4f, "
           "\"outputs\": %u, \"describe\": \"%s\"}\n", fit_best, pred_best, fit_cpu, pred_cpu, nout, (char *)d.data);
    vg_wbuf_free(&d);
    k->free(state);
    return 0;
}
