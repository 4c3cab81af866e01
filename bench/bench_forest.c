/* Benchmark of the "forest" (or "tree") estimator alone on NSL-KDD,
 * KDDTrain+ -> KDDTest+, binary (normal vs attack) and 5-category: fit and
 * predict seconds (wall and CPU), ROC-AUC, accuracy and the model's
 * description, for several seeds. It parses the gzip files itself and
 * calls the estimator vtable directly, so the figures are the estimator's
 * own (bench/nslkdd.py measures the whole `vigil train` command).
 *
 *   bench_forest [DATA_DIR] [THREADS] [N_ESTIMATORS] [SEEDS] [MODEL] [KEY=VALUE...]
 *
 * Environment: VG_BENCH_TASK=binary|category runs one task;
 * VG_BENCH_ORDINAL=1 passes the categorical columns as numeric codes;
 * VG_BENCH_DUMP=PREFIX writes each run's test probabilities (float32) to
 * PREFIX_<task>_<seed>.bin. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <zlib.h>

#include "vigil/core.h"
#include "vigil/estimator.h"
#include "vigil/kdd.h"
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

typedef struct data { size_t rows; float *X; int32_t *ybin, *ycat; } data;

static void load(const char *path, dict *cats, int add, data *out)
{
    gzFile f = gzopen(path, "rb");
    if (!f) { fprintf(stderr, "cannot open %s\n", path); exit(1); }
    size_t cap = 1 << 17;
    out->X = malloc(cap * NF * sizeof(float));
    out->ybin = malloc(cap * sizeof(int32_t));
    out->ycat = malloc(cap * sizeof(int32_t));
    out->rows = 0;
    char line[4096];
    static const char *cls[] = { "normal", "DoS", "Probe", "R2L", "U2R" };
    while (gzgets(f, line, sizeof line)) {
        if (out->rows == cap) {
            cap *= 2;
            out->X = realloc(out->X, cap * NF * sizeof(float));
            out->ybin = realloc(out->ybin, cap * sizeof(int32_t));
            out->ycat = realloc(out->ycat, cap * sizeof(int32_t));
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
        const char *cat = vg_kdd_category(tok);
        if (!cat) { fprintf(stderr, "%s: label '%s' is outside the taxonomy\n", path, tok); exit(1); }
        out->ybin[out->rows] = strcmp(tok, "normal") != 0;
        for (int k = 0; k < 5; k++) if (!strcmp(cat, cls[k])) out->ycat[out->rows] = k;
        out->rows++;
    }
    gzclose(f);
}

int main(int argc, char **argv)
{
    const char *dir = argc > 1 ? argv[1] : "../shared/data/nsl-kdd";
    int threads = argc > 2 ? atoi(argv[2]) : 2;
    const char *n_est = argc > 3 ? argv[3] : "100";
    int seeds = argc > 4 ? atoi(argv[4]) : 1;
    const char *model = argc > 5 ? argv[5] : "forest";
    char path[1024];
    dict cats[3] = { 0 };
    data tr, te;
    snprintf(path, sizeof path, "%s/KDDTrain+.txt.gz", dir);
    load(path, cats, 1, &tr);
    snprintf(path, sizeof path, "%s/KDDTest+.txt.gz", dir);
    load(path, cats, 0, &te);
    vg_feature feats[NF];
    for (int j = 0; j < NF; j++) {
        feats[j] = (vg_feature){ .name = "f", .kind = VG_FEATURE_NUMERIC };
        if (j >= 1 && j <= 3 && !getenv("VG_BENCH_ORDINAL"))
            feats[j] = (vg_feature){ "cat", VG_FEATURE_CATEGORICAL, (uint32_t)cats[j - 1].n };
    }
    vg_matrix Xtr = { tr.rows, NF, tr.X }, Xte = { te.rows, NF, te.X };
    const vg_estimator_kind *k = vg_estimator_find(model);
    void *params = malloc(k->params_size);
    k->params_default(params);
    if (strcmp(model, "forest") == 0 && k->params_set(params, "n_estimators", n_est) != VG_OK) return 1;
    for (int a = 6; a < argc; a++) {
        char key[64];
        const char *eq = strchr(argv[a], '=');
        if (!eq) continue;
        snprintf(key, sizeof key, "%.*s", (int)(eq - argv[a]), argv[a]);
        if (k->params_set(params, key, eq + 1) != VG_OK) { fprintf(stderr, "%s\n", vg_last_error()); return 1; }
    }
    const char *only = getenv("VG_BENCH_TASK");
    for (int task = 0; task < 2; task++) {
        if (only && strcmp(only, task == 0 ? "binary" : "category") != 0) continue;
        uint32_t C = task == 0 ? 2 : 5;
        double sum_auc = 0;
        vg_train_set ts = { .X = &Xtr, .features = feats, .y = task == 0 ? tr.ybin : tr.ycat, .n_classes = C };
        for (int s = 0; s < seeds; s++) {
            vg_fit_options opt = { .seed = (uint64_t)s + 1, .threads = threads };
            void *state;
            double t0 = vg_now(), c0 = cpu_now();
            if (k->fit(params, &ts, &opt, &state) != VG_OK) { fprintf(stderr, "%s\n", vg_last_error()); return 1; }
            double fit = vg_now() - t0, fit_cpu = cpu_now() - c0;
            float *proba = malloc(te.rows * C * sizeof(float));
            t0 = vg_now();
            k->predict(state, &Xte, threads, proba);
            double pred = vg_now() - t0;
            if (getenv("VG_BENCH_DUMP")) {
                char dp[512];
                snprintf(dp, sizeof dp, "%s_%s_%d.bin", getenv("VG_BENCH_DUMP"), task == 0 ? "binary" : "category", s + 1);
                FILE *df = fopen(dp, "wb");
                fwrite(proba, sizeof(float), te.rows * C, df);
                fclose(df);
            }
            vg_metrics m;
            vg_metrics_compute(task == 0 ? te.ybin : te.ycat, proba, te.rows, C, &m);
            vg_wbuf w;
            vg_wbuf_init(&w);
            if (k->describe) k->describe(state, &w);
            vg_wbuf_u8(&w, 0);
            for (char *p = (char *)w.data; *p; p++) if (*p == '\n') *p = ' ';
            sum_auc += m.roc_auc;
            printf("%s %s seed %d threads %d: fit %.3fs (cpu %.3fs) predict %.3fs auc %.5f acc %.5f | %s\n", model,
                   task == 0 ? "binary" : "category", s + 1, threads, fit, fit_cpu, pred, m.roc_auc, m.accuracy,
                   (char *)w.data);
            if (C > 2) {
                printf("    per-class auc:");
                for (uint32_t q = 0; q < C; q++) printf(" %.4f", m.per_class[q].roc_auc);
                printf("\n");
            }
            fflush(stdout);
            vg_wbuf_free(&w);
            vg_metrics_free(&m);
            free(proba);
            k->free(state);
        }
        printf("%s mean auc %.5f over %d seeds\n", task == 0 ? "binary" : "category", sum_auc / seeds, seeds);
    }
    free(params);
    free(tr.X);
    free(tr.ybin);
    free(tr.ycat);
    free(te.X);
    free(te.ybin);
    free(te.ycat);
    return 0;
}
