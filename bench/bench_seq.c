/* Benchmark driver for the sequence families: build the event windows of a
 * login log the way `vigil train --model lstm` does (the pipeline fitted on
 * the log, each event with its user's last T events, features/window.c),
 * write them for bench/seq.py's PyTorch peer, and train vigil's lstm or gru
 * on them through the estimator vtable for a fixed number of epochs.
 *
 * build: built by CMake as build/bench_seq
 * usage: bench_seq FAMILY LOG T EPOCHS OUT_PREFIX [KEY=VALUE...]
 *   writes OUT_PREFIX_X.f32 (rows x (1 + T F), row-major), OUT_PREFIX_y.i32
 *   and OUT_PREFIX.shape ("rows cols T F"), then trains.
 * prints: "fit_seconds EPOCHS loss_1 ... loss_EPOCHS" (mean training loss
 * per epoch, from the epoch loop's debug log). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "features/window.h"
#include "vigil/estimator.h"
#include "vigil/model.h"
#include "vigil/pipeline.h"
#include "vigil/table.h"

static double losses[100000];
static size_t n_losses;

static void sink(vg_log_level level, const char *msg, void *user)
{
    (void)user;
    double l;
    long e;
    if (sscanf(msg, "neural network: epoch %ld loss %lf", &e, &l) == 2 && n_losses < 100000) losses[n_losses++] = l;
    else if (level <= VG_LOG_WARN) fprintf(stderr, "bench_seq: %s\n", msg);
}

static void die(const char *what)
{
    fprintf(stderr, "bench_seq: %s: %s\n", what, vg_last_error());
    exit(1);
}

static void write_file(const char *prefix, const char *suffix, const void *p, size_t n)
{
    char path[1024];
    snprintf(path, sizeof path, "%s%s", prefix, suffix);
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(p, 1, n, f) != n || fclose(f)) {
        fprintf(stderr, "bench_seq: cannot write %s\n", path);
        exit(1);
    }
}

int main(int argc, char **argv)
{
    if (argc < 6) {
        fprintf(stderr, "usage: bench_seq lstm|gru LOG T EPOCHS OUT_PREFIX [KEY=VALUE...]\n");
        return 2;
    }
    const vg_estimator_kind *k = vg_estimator_find(argv[1]);
    if (!k || !(k->inputs & VG_ESTIMATOR_IN_WINDOW)) {
        fprintf(stderr, "bench_seq: %s is not a sequence family\n", argv[1]);
        return 2;
    }
    const uint32_t T = (uint32_t)atoi(argv[3]);
    const char *epochs = argv[4], *out = argv[5];
    vg_log_set_sink(sink, NULL);
    vg_log_set_level(VG_LOG_DEBUG);

    vg_data_spec spec = { .format = "login" };
    vg_table *t;
    if (vg_data_read(argv[2], &spec, &t)) die("read");
    size_t cols[256], n = 0;
    long label = -1, entity = -1;
    for (size_t c = 0; c < vg_table_cols(t); c++) {
        const char *name = vg_table_name(t, c);
        if (strcmp(name, "label") == 0) label = (long)c;
        else if (strcmp(name, "entity") == 0) entity = (long)c;
        else if (strcmp(name, "rule_score") != 0 && n < 256) cols[n++] = c;
    }
    if (label < 0 || entity < 0) {
        fprintf(stderr, "bench_seq: the log has no label or entity column\n");
        return 1;
    }
    vg_pipeline_params pp = vg_pipeline_params_default();
    vg_pipeline *p;
    vg_matrix X, W;
    if (vg_pipeline_fit(t, cols, n, &pp, &p) || vg_pipeline_transform(p, t, &X)) die("pipeline");
    const size_t rows = vg_table_rows(t);
    const char **keys = calloc(rows, sizeof *keys);
    int32_t *y = malloc(rows * sizeof *y);
    const uint32_t *ec = vg_table_codes(t, (size_t)entity), *lc = vg_table_codes(t, (size_t)label);
    for (size_t i = 0; i < rows; i++) {
        keys[i] = ec[i] < vg_table_n_categories(t, (size_t)entity) ? vg_table_category(t, (size_t)entity, ec[i]) : NULL;
        const char *l = lc[i] < vg_table_n_categories(t, (size_t)label) ? vg_table_category(t, (size_t)label, lc[i]) : "";
        y[i] = strcmp(l, "normal") != 0;
    }
    if (vg_window_rows(T, &X, keys, NULL, 0, 0.0, &W)) die("windows");
    write_file(out, "_X.f32", W.data, W.rows * W.cols * sizeof(float));
    write_file(out, "_y.i32", y, rows * sizeof *y);
    char shape[128];
    snprintf(shape, sizeof shape, "%zu %zu %u %zu\n", W.rows, W.cols, T, X.cols);
    write_file(out, ".shape", shape, strlen(shape));

    void *params = calloc(1, k->params_size);
    k->params_default(params);
    const char *fixed[][2] = { { "max_iter", epochs }, { "early_stopping", "false" }, { "tol", "0" },
                               { "n_iter_no_change", "1000000" }, { "batch_size", "200" } };
    for (size_t i = 0; i < sizeof fixed / sizeof *fixed; i++)
        if (k->params_set(params, fixed[i][0], fixed[i][1])) die(fixed[i][0]);
    for (int a = 6; a < argc; a++) {
        char key[128];
        const char *eq = strchr(argv[a], '=');
        if (!eq || (size_t)(eq - argv[a]) >= sizeof key) return 2;
        memcpy(key, argv[a], (size_t)(eq - argv[a]));
        key[eq - argv[a]] = '\0';
        if (k->params_set(params, key, eq + 1)) die(key);
    }
    vg_train_set ts = { .X = &W, .y = y, .n_classes = 2, .window = T };
    vg_fit_options fo = { .seed = 1, .threads = 0 };
    void *state;
    double t0 = vg_now();
    if (k->fit(params, &ts, &fo, &state)) die("fit");
    double secs = vg_now() - t0;
    printf("%.6f %zu", secs, n_losses);
    for (size_t i = 0; i < n_losses; i++) printf(" %.6f", losses[i]);
    printf("\n");
    k->free(state);
    free(params), free(keys), free(y);
    vg_matrix_free(&X), vg_matrix_free(&W);
    vg_pipeline_free(p);
    vg_table_free(t);
    return 0;
}
