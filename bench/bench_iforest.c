/* Benchmark of the "iforest" estimator alone on NSL-KDD (KDDTrain+ ->
 * KDDTest+): fit on the normal training rows (or all of them, labels
 * ignored), score the test rows; fit and scoring seconds, scoring rows/s,
 * ROC-AUC and PR-AUC of attack vs normal. It parses the gzip files itself
 * (categories as native codes) and calls the vtable directly, so the
 * figures are the estimator's own; bench/anomaly.py measures the `vigil`
 * command beside scikit-learn.
 *
 *   bench_iforest [DATA_DIR] [THREADS] [normal|all] [KEY=VALUE...] */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <zlib.h>

#include "vigil/core.h"
#include "vigil/estimator.h"
#include "vigil/metrics.h"

#define NF 41
#define MAXCAT 128

static double cpu_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

typedef struct dict { int n; char names[MAXCAT][32]; } dict;

static int dict_code(dict *d, const char *s, int add)
{
    for (int i = 0; i < d->n; i++)
        if (strcmp(d->names[i], s) == 0) return i;
    if (!add || d->n == MAXCAT) return -1;
    snprintf(d->names[d->n], 32, "%s", s);
    return d->n++;
}

typedef struct data { size_t rows; float *X; uint8_t *attack; } data;

static void load(const char *path, dict *cats, int add, data *out)
{
    gzFile f = gzopen(path, "rb");
    if (!f) { fprintf(stderr, "cannot open %s\n", path); exit(1); }
    size_t cap = 1 << 17;
    out->X = malloc(cap * NF * sizeof(float));
    out->attack = malloc(cap);
    out->rows = 0;
    char line[4096];
    while (gzgets(f, line, sizeof line)) {
        if (out->rows == cap) {
            cap *= 2;
            out->X = realloc(out->X, cap * NF * sizeof(float));
            out->attack = realloc(out->attack, cap);
        }
        char *tok = strtok(line, ",\n");
        float *x = out->X + out->rows * NF;
        for (int j = 0; j < NF && tok; j++, tok = strtok(NULL, ",\n")) {
            if (j >= 1 && j <= 3) {
                int c = dict_code(&cats[j - 1], tok, add);
                x[j] = c < 0 ? NAN : (float)c;
            } else {
                x[j] = strtof(tok, NULL);
            }
        }
        out->attack[out->rows] = tok && strcmp(tok, "normal") != 0;
        out->rows++;
    }
    gzclose(f);
}

int main(int argc, char **argv)
{
    const char *dir = argc > 1 ? argv[1] : "../shared/data/nsl-kdd";
    int threads = argc > 2 ? atoi(argv[2]) : 0;
    int normal_only = !(argc > 3 && strcmp(argv[3], "all") == 0);
    char path[1024];
    dict cats[3] = { 0 };
    data tr, te;
    snprintf(path, sizeof path, "%s/KDDTrain+.txt.gz", dir);
    load(path, cats, 1, &tr);
    snprintf(path, sizeof path, "%s/KDDTest+.txt.gz", dir);
    load(path, cats, 0, &te);
    vg_matrix X = { 0, NF, NULL };
    X.data = malloc(tr.rows * NF * sizeof(float));
    for (size_t r = 0; r < tr.rows; r++)
        if (!normal_only || !tr.attack[r]) memcpy(X.data + X.rows++ * NF, tr.X + r * NF, NF * sizeof(float));
    vg_feature feat[NF];
    for (int j = 0; j < NF; j++) feat[j] = (vg_feature){ "f", VG_FEATURE_NUMERIC, 0 };
    for (int j = 1; j <= 3; j++) feat[j] = (vg_feature){ "cat", VG_FEATURE_CATEGORICAL, (uint32_t)cats[j - 1].n };
    const vg_estimator_kind *k = vg_estimator_find("iforest");
    void *params = malloc(k->params_size);
    k->params_default(params);
    for (int i = 4; i < argc; i++) {
        char *eq = strchr(argv[i], '=');
        if (!eq) { fprintf(stderr, "KEY=VALUE expected: %s\n", argv[i]); return 2; }
        *eq = '\0';
        if (k->params_set(params, argv[i], eq + 1)) { fprintf(stderr, "%s\n", vg_last_error()); return 2; }
    }
    vg_train_set ts = { .X = &X, .features = feat, .n_classes = 1 };
    vg_fit_options opt = { .seed = 1, .threads = threads };
    void *state = NULL;
    double best_fit = 1e9, best_score = 1e9, best_cpu = 1e9, auc = 0, ap = 0;
    float *s = malloc(te.rows * sizeof *s);
    vg_matrix T = { te.rows, NF, te.X };
    for (int rep = 0; rep < 5; rep++) {
        double t0 = vg_now();
        if (k->fit(params, &ts, &opt, &state)) { fprintf(stderr, "%s\n", vg_last_error()); return 1; }
        double t1 = vg_now(), c1 = cpu_now();
        k->predict(state, &T, threads, s);
        double t2 = vg_now(), c2 = cpu_now();
        best_cpu = c2 - c1 < best_cpu ? c2 - c1 : best_cpu;
        best_fit = t1 - t0 < best_fit ? t1 - t0 : best_fit;
        best_score = t2 - t1 < best_score ? t2 - t1 : best_score;
        auc = vg_roc_auc(te.attack, s, te.rows);
        ap = vg_average_precision(te.attack, s, te.rows);
        if (rep < 4) k->free(state);
    }
    printf("iforest fit on %s (%zu rows), threads %d: fit %.4f s, scoring %zu rows %.4f s (%.0f rows/s; cpu %.4f s), "
           "ROC-AUC %.4f, PR-AUC %.4f\n", normal_only ? "normal" : "all", X.rows, threads, best_fit, te.rows,
           best_score, te.rows / best_score, best_cpu, auc, ap);
    k->free(state);
    return 0;
}
