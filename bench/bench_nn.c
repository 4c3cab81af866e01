/* Benchmark driver: train vigil's mlp or autoencoder through the estimator
 * vtable on float32 matrices that bench/mlp.py wrote (the same features the
 * Python peers get), and write the test rows' scores for it to rank.
 *
 * build: built by CMake as build/bench_nn
 * usage: bench_nn FAMILY TRAIN TEST SCORES [KEY=VALUE...]
 *   TRAIN, TEST: path prefixes of PREFIX_X.f32 (row-major), PREFIX_y.i32
 *   (labels; read for mlp only) and PREFIX.shape ("rows cols").
 *   SCORES: float32 per test row (mlp: P(class 1); autoencoder: the score).
 * prints one line: fit_seconds epochs predict_seconds */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vigil/estimator.h"

static void *slurp(const char *prefix, const char *suffix, size_t expect)
{
    char path[1024];
    snprintf(path, sizeof path, "%s%s", prefix, suffix);
    FILE *f = fopen(path, "rb");
    void *p = malloc(expect + 1);
    if (!f || !p || fread(p, 1, expect, f) != expect) {
        fprintf(stderr, "bench_nn: cannot read %zu bytes of %s\n", expect, path);
        exit(1);
    }
    fclose(f);
    return p;
}

static void load(const char *prefix, vg_matrix *X, int32_t **y, int labels)
{
    char path[1024];
    snprintf(path, sizeof path, "%s.shape", prefix);
    FILE *f = fopen(path, "r");
    if (!f || fscanf(f, "%zu %zu", &X->rows, &X->cols) != 2) {
        fprintf(stderr, "bench_nn: cannot read %s\n", path);
        exit(1);
    }
    fclose(f);
    X->data = slurp(prefix, "_X.f32", X->rows * X->cols * sizeof(float));
    *y = labels ? slurp(prefix, "_y.i32", X->rows * sizeof(int32_t)) : NULL;
}

int main(int argc, char **argv)
{
    if (argc < 5) {
        fprintf(stderr, "usage: bench_nn FAMILY TRAIN TEST SCORES [KEY=VALUE...]\n");
        return 2;
    }
    const vg_estimator_kind *k = vg_estimator_find(argv[1]);
    if (!k) {
        fprintf(stderr, "bench_nn: no family %s\n", argv[1]);
        return 2;
    }
    const int labels = k->needs_labels;
    vg_matrix Xtr, Xte;
    int32_t *ytr, *yte;
    load(argv[2], &Xtr, &ytr, labels);
    load(argv[3], &Xte, &yte, 0);
    void *params = calloc(1, k->params_size);
    k->params_default(params);
    for (int i = 5; i < argc; i++) {
        char *eq = strchr(argv[i], '=');
        if (!eq) return 2;
        *eq = '\0';
        if (k->params_set(params, argv[i], eq + 1)) {
            fprintf(stderr, "bench_nn: %s\n", vg_last_error());
            return 2;
        }
    }
    vg_feature *feats = calloc(Xtr.cols, sizeof *feats);
    vg_train_set ts = { .X = &Xtr, .features = feats, .y = ytr, .n_classes = labels ? 2 : 1 };
    vg_fit_options opt = { .seed = 0, .threads = 0 };
    void *state = NULL;
    double t0 = vg_now();
    if (k->fit(params, &ts, &opt, &state)) {
        fprintf(stderr, "bench_nn: %s\n", vg_last_error());
        return 1;
    }
    double fit_s = vg_now() - t0;
    const uint32_t nc = k->n_classes(state);
    float *out = malloc(Xte.rows * nc * sizeof(float)), *score = malloc(Xte.rows * sizeof(float));
    t0 = vg_now();
    k->predict(state, &Xte, 0, out);
    double pred_s = vg_now() - t0;
    for (size_t i = 0; i < Xte.rows; i++) score[i] = nc == 2 ? out[2 * i + 1] : out[i];
    FILE *f = fopen(argv[4], "wb");
    if (!f || fwrite(score, sizeof(float), Xte.rows, f) != Xte.rows) return 1;
    fclose(f);
    vg_wbuf w;
    vg_wbuf_init(&w);
    k->describe(state, &w);
    vg_wbuf_u8(&w, 0);
    const char *ep = strstr((const char *)w.data, "epochs: ");
    printf("%.4f %d %.4f\n", fit_s, ep ? atoi(ep + 8) : 0, pred_s);
    return 0;
}
