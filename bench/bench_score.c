/* Batch scoring, stage by stage: how long a saved model takes to read a
 * data file into a table, to encode the table (the pipeline), and to score
 * the encoded rows (the estimator alone), each the best of several runs,
 * plus the whole path from table to scores that eval and predict take. It
 * also checks that the batch scores equal the single-row path's to the bit
 * on every row, so a fast kernel that drifts shows here too.
 *
 *   bench_score MODEL.vgm DATA-FILE THREADS [REPS]
 *
 * Prints one "key=value" line per figure (bench/score.py reads them). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "vigil/model.h"

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static double cpu_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void fail(const char *what)
{
    fprintf(stderr, "bench_score: %s: %s\n", what, vg_last_error());
    exit(1);
}

int main(int argc, char **argv)
{
    if (argc < 4) {
        fprintf(stderr, "usage: bench_score MODEL.vgm DATA-FILE THREADS [REPS]\n");
        return 2;
    }
    int threads = atoi(argv[3]), reps = argc > 4 ? atoi(argv[4]) : 5;
    if (reps < 1) reps = 1;
    vg_model *m;
    if (vg_model_load(argv[1], &m)) fail("load");
    const vg_estimator_kind *k = vg_model_kind(m);
    const void *state = vg_model_state(m);
    vg_table *t = NULL;
    double best_read = INFINITY, best_read_cpu = INFINITY;
    for (int i = 0; i < reps; i++) {
        vg_table_free(t);
        double t0 = now(), c0 = cpu_now();
        if (vg_model_read_data(m, argv[2], &t)) fail("read");
        best_read = fmin(best_read, now() - t0);
        best_read_cpu = fmin(best_read_cpu, cpu_now() - c0);
    }
    vg_matrix X = { 0 };
    double best_enc = INFINITY, best_enc_cpu = INFINITY;
    for (int i = 0; i < reps; i++) {
        vg_matrix_free(&X);
        double t0 = now(), c0 = cpu_now();
        if (vg_pipeline_transform(vg_model_pipeline(m), t, &X)) fail("transform");
        best_enc = fmin(best_enc, now() - t0);
        best_enc_cpu = fmin(best_enc_cpu, cpu_now() - c0);
    }
    uint32_t K = vg_model_n_outputs(m);
    float *out = malloc(X.rows * K * sizeof *out), *one = malloc(K * sizeof *one);
    if (!out || !one) fail("memory");
    double best_est = INFINITY, best_est_cpu = INFINITY;
    for (int i = 0; i < reps; i++) {
        double t0 = now(), c0 = cpu_now();
        if (vg_model_predict_rows(m, &X, threads, out)) fail("predict");
        best_est = fmin(best_est, now() - t0);
        best_est_cpu = fmin(best_est_cpu, cpu_now() - c0);
    }
    double best_whole = INFINITY, best_whole_cpu = INFINITY;
    for (int i = 0; i < reps; i++) {
        float *p;
        double t0 = now(), c0 = cpu_now();
        if (vg_model_predict(m, t, threads, &p)) fail("predict");
        best_whole = fmin(best_whole, now() - t0);
        best_whole_cpu = fmin(best_whole_cpu, cpu_now() - c0);
        vg_free(p);
    }
    /* Every row against the single-row path. */
    size_t differ = 0;
    double max_diff = 0.0;
    for (size_t r = 0; r < X.rows; r++) {
        const float *row = X.data + r * X.cols;
        if (k->predict_row) k->predict_row(state, row, one);
        else {
            vg_matrix X1 = { .rows = 1, .cols = X.cols, .data = (float *)row };
            k->predict(state, &X1, 1, one);
        }
        if (memcmp(one, out + r * K, K * sizeof *one) != 0) differ++;
        for (uint32_t c = 0; c < K; c++) max_diff = fmax(max_diff, fabs((double)one[c] - out[r * K + c]));
    }
    printf("rows=%zu\ncolumns=%zu\nthreads=%d\nreps=%d\n", X.rows, X.cols, threads, reps);
    printf("read_s=%.6f\nread_cpu_s=%.6f\nencode_s=%.6f\nencode_cpu_s=%.6f\n", best_read, best_read_cpu, best_enc,
           best_enc_cpu);
    printf("estimator_s=%.6f\nestimator_cpu_s=%.6f\nwhole_s=%.6f\nwhole_cpu_s=%.6f\n", best_est, best_est_cpu,
           best_whole, best_whole_cpu);
    printf("estimator_rows_per_s=%.0f\nwhole_rows_per_s=%.0f\n", X.rows / best_est, X.rows / best_whole);
    printf("rows_differing_from_single_row=%zu\nmax_abs_diff=%g\n", differ, max_diff);
    vg_matrix_free(&X);
    vg_table_free(t);
    free(out);
    free(one);
    vg_model_free(m);
    return 0;
}
