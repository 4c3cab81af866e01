/* Benchmark of the "gbdt" estimator alone on KDD-format data (NSL-KDD or
 * KDD Cup 99): fit and batch-predict seconds, wall and CPU, the best of
 * several prediction runs, single-row prediction, and the test ROC-AUC. It
 * parses the gzip files itself and calls the estimator vtable directly, so
 * the figures are the estimator's own (bench/gbdt.py measures the whole
 * `vigil train` command against XGBoost and scikit-learn).
 *
 *   bench_gbdt TRAIN.gz TEST.gz binary|category THREADS [KEY=VALUE...]
 *
 * VG_BENCH_REPS=N repeats the batch prediction N times (default 5).
 * The categorical columns (protocol_type, service, flag) are passed as
 * native categories, as the pipeline does; VG_BENCH_ORDINAL=1 passes their
 * codes as numbers instead. */
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
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

typedef struct dict {
    int n;
    char names[MAXCAT][32];
} dict;

static int dict_code(dict *d, const char *s, int add)
{
    for (int i = 0; i < d->n; i++)
        if (strcmp(d->names[i], s) == 0) return i;
    if (!add || d->n == MAXCAT) return -1;
    snprintf(d->names[d->n], 32, "%s", s);
    return d->n++;
}

typedef struct data {
    size_t rows;
    float *X;
    int32_t *ybin, *ycat;
} data;

static void load(const char *path, dict *cats, int add, data *out)
{
    gzFile f = gzopen(path, "rb");
    if (!f) {
        fprintf(stderr, "cannot open %s\n", path);
        exit(1);
    }
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
        char *save = NULL, *tok = strtok_r(line, ",\n", &save);
        float *x = out->X + out->rows * NF;
        for (int j = 0; j < NF && tok; j++, tok = strtok_r(NULL, ",\n", &save)) {
            if (j >= 1 && j <= 3) {
                int c = dict_code(&cats[j - 1], tok, add);
                x[j] = c < 0 ? NAN : (float)c;
            } else {
                x[j] = strtof(tok, NULL);
            }
        }
        if (!tok) continue;
        size_t len = strlen(tok);
        if (len && tok[len - 1] == '.') tok[len - 1] = '\0';
        const char *cat = vg_kdd_category(tok);
        if (!cat) {
            fprintf(stderr, "%s: label '%s' is outside the taxonomy\n", path, tok);
            exit(1);
        }
        out->ybin[out->rows] = strcmp(tok, "normal") != 0;
        for (int k = 0; k < 5; k++)
            if (!strcmp(cat, cls[k])) out->ycat[out->rows] = k;
        out->rows++;
    }
    gzclose(f);
}

int main(int argc, char **argv)
{
    if (argc < 5) {
        fprintf(stderr, "usage: bench_gbdt TRAIN.gz TEST.gz binary|category THREADS [KEY=VALUE...]\n");
        return 2;
    }
    int category = strcmp(argv[3], "category") == 0;
    int threads = atoi(argv[4]);
    dict cats[3] = { 0 };
    data tr, te;
    load(argv[1], cats, 1, &tr);
    load(argv[2], cats, 0, &te);
    vg_feature feats[NF];
    for (int j = 0; j < NF; j++) {
        feats[j] = (vg_feature){ .name = "f", .kind = VG_FEATURE_NUMERIC };
        if (j >= 1 && j <= 3 && !getenv("VG_BENCH_ORDINAL"))
            feats[j] = (vg_feature){ "cat", VG_FEATURE_CATEGORICAL, (uint32_t)cats[j - 1].n };
    }
    vg_matrix Xtr = { tr.rows, NF, tr.X }, Xte = { te.rows, NF, te.X };
    const vg_estimator_kind *k = vg_estimator_find("gbdt");
    void *params = malloc(k->params_size);
    k->params_default(params);
    for (int a = 5; a < argc; a++) {
        char key[64];
        const char *eq = strchr(argv[a], '=');
        if (!eq) continue;
        snprintf(key, sizeof key, "%.*s", (int)(eq - argv[a]), argv[a]);
        if (k->params_set(params, key, eq + 1) != VG_OK) {
            fprintf(stderr, "%s\n", vg_last_error());
            return 1;
        }
    }
    uint32_t C = category ? 5 : 2;
    vg_train_set ts = { .X = &Xtr, .features = feats, .y = category ? tr.ycat : tr.ybin, .n_classes = C };
    vg_fit_options opt = { .seed = 42, .threads = threads };
    void *state;
    double t0 = vg_now(), c0 = cpu_now();
    if (k->fit(params, &ts, &opt, &state) != VG_OK) {
        fprintf(stderr, "%s\n", vg_last_error());
        return 1;
    }
    double fit = vg_now() - t0, fit_cpu = cpu_now() - c0;
    float *proba = malloc(te.rows * C * sizeof(float));
    double pred = INFINITY, pred_cpu = INFINITY;
    int reps = getenv("VG_BENCH_REPS") ? atoi(getenv("VG_BENCH_REPS")) : 5;
    for (int rep = 0; rep < reps; rep++) {
        t0 = vg_now();
        c0 = cpu_now();
        k->predict(state, &Xte, threads, proba);
        pred = fmin(pred, vg_now() - t0);
        pred_cpu = fmin(pred_cpu, cpu_now() - c0);
    }
    /* single rows, the server's path */
    float one[8];
    size_t n_one = te.rows < 20000 ? te.rows : 20000;
    t0 = vg_now();
    for (size_t r = 0; r < n_one; r++) k->predict_row(state, te.X + r * NF, one);
    double per_row = (vg_now() - t0) / (double)n_one;
    vg_metrics m;
    vg_metrics_compute(category ? te.ycat : te.ybin, proba, te.rows, C, &m);
    vg_wbuf w;
    vg_wbuf_init(&w);
    k->describe(state, &w);
    vg_wbuf_u8(&w, 0);
    for (char *p = (char *)w.data; *p; p++)
        if (*p == '\n') *p = ' ';
    printf("%s threads %d: %zu train rows, fit %.3f s (cpu %.3f s); predict %zu rows best of %d %.4f s "
           "(cpu %.4f s, %.0f rows/s); one row %.2f us; auc %.5f acc %.5f | %s\n",
           argv[3], threads, tr.rows, fit, fit_cpu, te.rows, reps, pred, pred_cpu, (double)te.rows / pred, per_row * 1e6,
           m.roc_auc, m.accuracy, (char *)w.data);
    if (category) {
        printf("    per-class auc:");
        for (uint32_t q = 0; q < C; q++) printf(" %.4f", m.per_class[q].roc_auc);
        printf("\n");
    }
    vg_wbuf_free(&w);
    vg_metrics_free(&m);
    free(proba);
    k->free(state);
    free(params);
    free(tr.X), free(tr.ybin), free(tr.ycat), free(te.X), free(te.ybin), free(te.ycat);
    return 0;
}
