/* Tests of the recurrent layer (src/models/seq.c) and the lstm / gru
 * families on it (recurrent.c): every gradient of both cells against central
 * finite differences (padding, dropout, class weights and the L2 term
 * included); a forward pass against PyTorch with the same weights
 * (tests/golden/seq_torch.py writes tests/golden/seq_torch.txt); learning a
 * pattern that only the sequence shows; predict_row against predict;
 * thread-count determinism; save/load round trips and truncation;
 * parameter errors; explanations against integrated gradients taken from
 * forward passes alone. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "models/seq.h"
#include "testutil.h"
#include "vigil/estimator.h"
#include "vigil/rng.h"

/* ---- gradients ---------------------------------------------------------- */

typedef struct gcase {
    vg_seq_cell cell;
    uint32_t n_classes;
    float dropout;
    double alpha;
    int blas;
} gcase;

static double loss_at(const vg_seq_net *n, vg_seq_ws *ws, const float *X, const vg_nn_target *t, const uint32_t *idx,
                      size_t B, const gcase *c, float *grad)
{
    vg_rng r;
    vg_rng_seed(&r, 99, 0);
    return vg_seq_step(n, ws, X, t, idx, B, c->dropout, c->dropout > 0 ? &r : NULL, c->alpha, grad);
}

static double check_gradient(const gcase *c, double *worst_abs)
{
    const uint32_t T = 5, F = 3, H = 4, rows = 7;
    const size_t B = 5;
    vg_seq_net n;
    assert_int_equal(vg_seq_init(&n, c->cell, T, 1, F, H, c->n_classes), VG_OK);
    n.head.gemm = c->blas ? VG_NN_GEMM_BLAS : VG_NN_GEMM_LOOPS;
    vg_rng r;
    vg_rng_seed(&r, 5, 0);
    vg_seq_init_params(&n, &r);
    for (size_t q = 0; q < n.n_params; q++) n.params[q] *= 2.0f;  /* gates away from their linear range */
    const size_t W = vg_seq_row_width(&n);
    float *X = calloc(rows * W, sizeof(float));
    const int lens[7] = { 5, 3, 1, 5, 2, 4, 5 };
    for (size_t i = 0; i < rows; i++) {
        X[i * W] = (float)lens[i];
        for (size_t s = T - (size_t)lens[i]; s < T; s++)
            for (size_t f = 0; f < F; f++) X[i * W + 1 + s * F + f] = (float)vg_rng_normal(&r);
    }
    int32_t y[7];
    float w[7];
    for (size_t i = 0; i < rows; i++) {
        y[i] = (int32_t)(i % c->n_classes);
        w[i] = 0.5f + (float)(i % 3);
    }
    const vg_nn_target t = { .y = y, .weight = w };
    const uint32_t idx[5] = { 6, 2, 0, 4, 1 };
    vg_seq_ws *ws;
    assert_int_equal(vg_seq_ws_new(&n, B, &ws), VG_OK);
    float *grad = malloc(n.n_params * sizeof(float)), *scratch = malloc(n.n_params * sizeof(float));
    loss_at(&n, ws, X, &t, idx, B, c, grad);
    double worst = 0.0;
    *worst_abs = 0.0;
    const float h = 2e-3f;
    for (size_t q = 0; q < n.n_params; q++) {
        const float keep = n.params[q];
        n.params[q] = keep + h;
        const double up = loss_at(&n, ws, X, &t, idx, B, c, scratch);
        n.params[q] = keep - h;
        const double down = loss_at(&n, ws, X, &t, idx, B, c, scratch);
        n.params[q] = keep;
        const double num = (up - down) / (2.0 * (double)h);
        worst = fmax(worst, fabs(num - grad[q]) / (1e-2 + fabs(num)));
        *worst_abs = fmax(*worst_abs, fabs(num - grad[q]));
    }
    free(grad), free(scratch), free(X);
    vg_seq_ws_free(ws);
    vg_seq_free(&n);
    return worst;
}

static void test_gradients(void **state)
{
    (void)state;
    int cases = 0;
    double all = 0.0;
    for (int cell = 0; cell < 2; cell++)
        for (uint32_t k = 2; k <= 3; k++)
            for (int v = 0; v < 2; v++)
                for (int blas = 0; blas < 2; blas++) {
                    gcase c = { (vg_seq_cell)cell, k, v ? 0.3f : 0.0f, v ? 0.05 : 0.0, blas };
                    double abs_err, worst = check_gradient(&c, &abs_err);
                    if (worst > 2e-2)
                        fail_msg("gradient of %s, %u classes, dropout %g, alpha %g, blas %d: worst relative error %g",
                                 cell ? "gru" : "lstm", k, c.dropout, c.alpha, blas, worst);
                    all = fmax(all, worst);
                    cases++;
                }
    printf("gradient check: %d cases, worst relative error %.3g (bound 2e-2)\n", cases, all);
}

/* The check can fail: a gradient taken against the wrong classes is far
 * from the finite difference of the right loss. */
static void test_gradient_check_can_fail(void **state)
{
    (void)state;
    vg_seq_net n;
    assert_int_equal(vg_seq_init(&n, VG_SEQ_GRU, 3, 1, 2, 3, 2), VG_OK);
    vg_rng r;
    vg_rng_seed(&r, 1, 0);
    vg_seq_init_params(&n, &r);
    float X[4 * 7];
    for (size_t i = 0; i < 4; i++) {
        X[i * 7] = 3;
        for (size_t q = 1; q < 7; q++) X[i * 7 + q] = (float)vg_rng_normal(&r);
    }
    int32_t y[4] = { 0, 1, 0, 1 }, yw[4] = { 1, 0, 1, 0 };
    const vg_nn_target t = { .y = y }, tw = { .y = yw };
    const uint32_t idx[4] = { 0, 1, 2, 3 };
    vg_seq_ws *ws;
    assert_int_equal(vg_seq_ws_new(&n, 4, &ws), VG_OK);
    float *g = malloc(n.n_params * sizeof(float)), *s = malloc(n.n_params * sizeof(float));
    vg_seq_step(&n, ws, X, &tw, idx, 4, 0, NULL, 0, g);
    const float h = 1e-3f, keep = n.params[n.wh];
    n.params[n.wh] = keep + h;
    double up = vg_seq_step(&n, ws, X, &t, idx, 4, 0, NULL, 0, s);
    n.params[n.wh] = keep - h;
    double down = vg_seq_step(&n, ws, X, &t, idx, 4, 0, NULL, 0, s);
    assert_true(fabs((up - down) / (2 * h) - g[n.wh]) > 1e-4);
    free(g), free(s);
    vg_seq_ws_free(ws);
    vg_seq_free(&n);
}

/* ---- PyTorch golden ----------------------------------------------------- */

static float *read_floats(char **p, size_t n)
{
    float *v = malloc((n + 1) * sizeof(float));
    for (size_t i = 0; i < n; i++) v[i] = strtof(*p, p);
    return v;
}

static void test_forward_torch(void **state)
{
    (void)state;
    const char *path = vg_test_source("tests/golden/seq_torch.txt");
    FILE *f = fopen(path, "rb");
    if (!f) fail_msg("cannot open %s (run tests/golden/seq_torch.py)", path);
    static char text[1 << 16];
    size_t len = fread(text, 1, sizeof text - 1, f);
    fclose(f);
    text[len] = '\0';
    char *p = text;
    int cases = 0;
    double worst_all = 0.0;
    while ((p = strstr(p, "case "))) {
        char cell[8];
        unsigned T, F, H, K;
        int used;
        assert_int_equal(sscanf(p, "case %7s %u %u %u %u%n", cell, &T, &F, &H, &K, &used), 5);
        p += used;
        for (int be = 0; be < 2; be++) {
            vg_seq_net n;
            assert_int_equal(vg_seq_init(&n, strcmp(cell, "lstm") == 0 ? VG_SEQ_LSTM : VG_SEQ_GRU, T, 1, F, H,
                                         K == 1 ? 2 : K), VG_OK);
            n.head.gemm = be ? VG_NN_GEMM_BLAS : VG_NN_GEMM_LOOPS;
            char *q = strstr(p, "params ") + 7;
            float *params = read_floats(&q, n.n_params);
            memcpy(n.params, params, n.n_params * sizeof(float));
            q = strstr(q, "x ") + 2;
            size_t rows = strtoul(q, &q, 10);
            float *x = read_floats(&q, rows * vg_seq_row_width(&n));
            q = strstr(q, "y ") + 2;
            float *y = read_floats(&q, rows * K);
            vg_seq_ws *ws;
            assert_int_equal(vg_seq_ws_new(&n, rows, &ws), VG_OK);
            uint32_t idx[16];
            for (uint32_t i = 0; i < rows; i++) idx[i] = i;
            const float *out = vg_seq_forward(&n, ws, x, idx, rows, !be);
            double worst = 0.0;
            for (size_t i = 0; i < rows * K; i++) worst = fmax(worst, fabs(out[i] - y[i]));
            if (worst > 1e-5) fail_msg("case %s T=%u (backend %d): max |vigil - torch| = %g", cell, T, be, worst);
            worst_all = fmax(worst_all, worst);
            vg_seq_ws_free(ws);
            free(params), free(x), free(y);
            vg_seq_free(&n);
        }
        cases++;
    }
    assert_int_equal(cases, 5);
    printf("forward vs PyTorch: %d cases x 2 backends, max |diff| %.3g (bound 1e-5)\n", cases, worst_all);
}

/* ---- the families --------------------------------------------------------- */

/* Windows of T events of 3 features; class 1 when an EARLIER event of the
 * window had feature 0 above 1.2 and the last event has feature 1 > 0: no
 * single event tells, the sequence does. */
static void toy_windows(vg_matrix *X, int32_t *y, size_t rows, uint32_t T, uint64_t seed)
{
    const size_t F = 3, W = 1 + T * F;
    assert_int_equal(vg_matrix_alloc(X, rows, W), VG_OK);
    memset(X->data, 0, rows * W * sizeof(float));
    vg_rng r;
    vg_rng_seed(&r, seed, 0);
    for (size_t i = 0; i < rows; i++) {
        float *row = X->data + i * W;
        const uint32_t L = 1 + (uint32_t)(vg_rng_uniform(&r) * T);
        row[0] = (float)L;
        int marked = 0;
        for (uint32_t s = T - L; s < T; s++) {
            float *e = row + 1 + s * F;
            for (size_t f = 0; f < F; f++) e[f] = (float)vg_rng_normal(&r);
            if (s + 1 < T && e[0] > 1.2f) marked = 1;
        }
        y[i] = marked && row[1 + (T - 1) * F + 1] > 0.0f;
    }
}

static void *fit_kind(const vg_estimator_kind *k, const vg_matrix *X, const int32_t *y, uint32_t window,
                      const char *const *kv, int threads)
{
    void *params = calloc(1, k->params_size);
    k->params_default(params);
    for (size_t i = 0; kv && kv[i]; i += 2) assert_int_equal(k->params_set(params, kv[i], kv[i + 1]), VG_OK);
    assert_null(k->params_check(params));
    vg_train_set ts = { .X = X, .y = y, .n_classes = 2, .window = window };
    vg_fit_options fo = { .seed = 3, .threads = threads };
    void *s = NULL;
    vg_status st = k->fit(params, &ts, &fo, &s);
    if (st) fail_msg("%s fit: %s", k->name, vg_last_error());
    free(params);
    return s;
}

static double accuracy(const vg_estimator_kind *k, const void *s, const vg_matrix *X, const int32_t *y)
{
    float *p = malloc(X->rows * 2 * sizeof(float));
    k->predict(s, X, 2, p);
    size_t ok = 0;
    for (size_t i = 0; i < X->rows; i++) ok += (p[2 * i + 1] >= 0.5f) == y[i];
    free(p);
    return (double)ok / (double)X->rows;
}

static void test_learns_sequences(void **state)
{
    (void)state;
    const uint32_t T = 6;
    vg_matrix X, Xt;
    int32_t *y = malloc(3000 * sizeof(int32_t)), *yt = malloc(1000 * sizeof(int32_t));
    toy_windows(&X, y, 3000, T, 1);
    toy_windows(&Xt, yt, 1000, T, 2);
    /* The last event alone (a window of one) as the baseline a per-event model has. */
    vg_matrix X1, X1t;
    assert_int_equal(vg_matrix_alloc(&X1, 3000, 3), VG_OK);
    assert_int_equal(vg_matrix_alloc(&X1t, 1000, 3), VG_OK);
    for (size_t i = 0; i < 3000; i++) memcpy(X1.data + i * 3, X.data + i * X.cols + 1 + (T - 1) * 3, 12);
    for (size_t i = 0; i < 1000; i++) memcpy(X1t.data + i * 3, Xt.data + i * Xt.cols + 1 + (T - 1) * 3, 12);
    const char *kv[] = { "hidden_size", "16", "learning_rate_init", "0.01", "max_iter", "60", NULL };
    const vg_estimator_kind *kinds[2] = { &vg_lstm_kind, &vg_gru_kind };
    for (int c = 0; c < 2; c++) {
        void *s = fit_kind(kinds[c], &X, y, T, kv, 1);
        void *s1 = fit_kind(kinds[c], &X1, y, 0, kv, 1);
        const double acc = accuracy(kinds[c], s, &Xt, yt), acc1 = accuracy(kinds[c], s1, &X1t, yt);
        printf("%s: held-out accuracy %.3f on windows of %u, %.3f on the last event alone\n", kinds[c]->name, acc, T,
               acc1);
        assert_true(acc > 0.93);
        assert_true(acc > acc1 + 0.05);
        kinds[c]->free(s), kinds[c]->free(s1);
    }
    vg_matrix_free(&X), vg_matrix_free(&Xt), vg_matrix_free(&X1), vg_matrix_free(&X1t);
    free(y), free(yt);
}

static void test_row_threads_save_load(void **state)
{
    (void)state;
    const uint32_t T = 4;
    vg_matrix X;
    int32_t y[600];
    toy_windows(&X, y, 600, T, 9);
    const char *kv[] = { "hidden_size", "8", "max_iter", "5", "dropout", "0.2", NULL };
    const vg_estimator_kind *kinds[2] = { &vg_lstm_kind, &vg_gru_kind };
    for (int c = 0; c < 2; c++) {
        const vg_estimator_kind *k = kinds[c];
        void *a = fit_kind(k, &X, y, T, kv, 1), *b = fit_kind(k, &X, y, T, kv, 2);
        float *pa = malloc(600 * 2 * sizeof(float)), *pb = malloc(600 * 2 * sizeof(float));
        k->predict(a, &X, 1, pa);
        k->predict(b, &X, 3, pb);
        assert_memory_equal(pa, pb, 600 * 2 * sizeof(float));  /* same network whatever the threads */
        for (size_t i = 0; i < 600; i += 37) {
            float one[2];
            k->predict_row(a, X.data + i * X.cols, one);
            assert_memory_equal(one, pa + 2 * i, sizeof one);
        }
        assert_int_equal(k->n_features(a), X.cols);
        vg_wbuf w;
        vg_wbuf_init(&w);
        assert_int_equal(k->save(a, &w), VG_OK);
        vg_rbuf r;
        vg_rbuf_init(&r, w.data, w.len, "test");
        void *l = NULL;
        assert_int_equal(k->load(&r, &l), VG_OK);
        k->predict(l, &X, 2, pb);
        assert_memory_equal(pa, pb, 600 * 2 * sizeof(float));
        k->free(l);
        for (size_t cut = 0; cut < w.len; cut += 1 + cut / 3) {
            vg_rbuf_init(&r, w.data, cut, "test");
            l = NULL;
            assert_int_equal(k->load(&r, &l), VG_ERR_FORMAT);
            assert_null(l);
        }
        /* the other cell's loader refuses this state */
        vg_rbuf_init(&r, w.data, w.len, "test");
        assert_int_equal(kinds[1 - c]->load(&r, &l), VG_ERR_FORMAT);
        vg_wbuf_free(&w);
        free(pa), free(pb);
        k->free(a), k->free(b);
    }
    vg_matrix_free(&X);
}

static void test_params(void **state)
{
    (void)state;
    const vg_estimator_kind *k = &vg_lstm_kind;
    void *p = calloc(1, k->params_size);
    k->params_default(p);
    assert_int_equal(k->params_set(p, "hidden_size", "0"), VG_ERR_INVALID);
    assert_non_null(strstr(vg_last_error(), "hidden_size"));
    assert_int_equal(k->params_set(p, "hidden_layer_sizes", "10"), VG_ERR_INVALID);
    assert_non_null(strstr(vg_last_error(), "hidden_size"));
    assert_int_equal(k->params_set(p, "n_estimators", "10"), VG_ERR_INVALID);
    assert_non_null(strstr(vg_last_error(), "n_estimators"));
    assert_int_equal(k->params_set(p, "dropout", "1"), VG_ERR_INVALID);
    assert_int_equal(k->params_set(p, "hidden_size", "32"), VG_OK);
    vg_wbuf w;
    vg_wbuf_init(&w);
    k->params_describe(p, &w);
    vg_wbuf_u8(&w, 0);
    assert_non_null(strstr((const char *)w.data, "hidden_size=32"));
    vg_wbuf_free(&w);
    assert_null(vg_estimator_check(&vg_lstm_kind));
    assert_null(vg_estimator_check(&vg_gru_kind));
    /* columns that are not windows of the given length */
    vg_matrix X;
    assert_int_equal(vg_matrix_alloc(&X, 4, 8), VG_OK);
    memset(X.data, 0, 32 * sizeof(float));
    int32_t y[4] = { 0, 1, 0, 1 };
    vg_train_set ts = { .X = &X, .y = y, .n_classes = 2, .window = 3 };
    void *s = NULL;
    assert_int_equal(k->fit(p, &ts, NULL, &s), VG_ERR_DATA);
    assert_non_null(strstr(vg_last_error(), "windows"));
    vg_matrix_free(&X);
    free(p);
}

/* ---- explanations ------------------------------------------------------- */

/* Raw output k (K = 1: the log-odds) up to a per-row constant, from the
 * forward pass's probabilities: logit(p) for one output, log p_k - log p_0
 * for a softmax (logits are only defined up to a shift). */
static double raw_of(const vg_seq_net *n, vg_seq_ws *ws, const float *row, uint32_t k)
{
    const uint32_t zero = 0;
    const float *p = vg_seq_forward(n, ws, row, &zero, 1, 1);
    if (n->K == 1) return log((double)p[0] / (1.0 - (double)p[0]));
    return log((double)p[k]) - log((double)p[0]);
}

/* The explanation against the forward pass: the terms sum to the score;
 * the bias is the score with the current event at the baseline (the
 * history kept); each term matches integrated gradients computed from
 * forward passes alone (central differences along the path). A permuted
 * attribution fails the same check, so the check can fail. */
static void test_explain(void **state)
{
    (void)state;
    const uint32_t T = 4, F = 3, H = 5, W = 1 + T * F;
    double worst_ig = 0.0, worst_sum = 0.0, worst_bias = 0.0, worst_rem = 0.0;
    for (int cell = 0; cell < 2; cell++)
        for (uint32_t classes = 2; classes <= 3; classes++) {
            vg_seq_net n;
            assert_int_equal(vg_seq_init(&n, (vg_seq_cell)cell, T, 1, F, H, classes), VG_OK);
            vg_rng r;
            vg_rng_seed(&r, 5 + cell, classes);
            vg_seq_init_params(&n, &r);
            for (size_t i = 0; i < n.n_params; i++) n.params[i] *= 3.0f;  /* well into the gates' curves */
            float row[1 + 4 * 3], base_row[1 + 4 * 3], probe[1 + 4 * 3];
            row[0] = 3;  /* the first event is padding */
            for (size_t q = 1; q < W; q++) row[q] = q <= F ? 0.0f : (float)vg_rng_normal(&r);
            memcpy(base_row, row, sizeof row);
            memset(base_row + 1 + (T - 1) * F, 0, F * sizeof(float));
            const uint32_t K = n.K;
            double *scratch = malloc(vg_seq_explain_scratch(&n) * sizeof(double));
            double contrib[(3 + 1) * 3], base[3];
            vg_seq_ws *ws;
            assert_int_equal(vg_seq_ws_new(&n, 1, &ws), VG_OK);
            assert_int_equal(vg_seq_explain(&n, row, scratch, contrib, base), VG_OK);
            const float *x = row + 1 + (T - 1) * F;
            for (uint32_t k = 0; k < K; k++) {
                /* for a softmax, compare differences to output 0 (see raw_of) */
                const uint32_t k0 = K == 1 ? k : 0;
                double sum = 0.0, sum0 = 0.0;
                for (uint32_t j = 0; j <= F; j++) sum += contrib[j * K + k], sum0 += contrib[j * K + k0];
                double d_sum = fabs((K == 1 ? sum : sum - sum0) - raw_of(&n, ws, row, k));
                double bias = contrib[F * K + k] - (K == 1 ? 0.0 : contrib[F * K + k0]);
                double d_bias = fabs(bias - raw_of(&n, ws, base_row, k));
                worst_sum = fmax(worst_sum, d_sum), worst_bias = fmax(worst_bias, d_bias);
                worst_rem = fmax(worst_rem, fabs(contrib[F * K + k] - base[k]));
                double num[3], mx = 0.0;
                for (uint32_t j = 0; j < F; j++) {
                    const int M = 200;
                    const float dlt = 1e-2f;
                    double acc = 0.0;
                    for (int s = 0; s < M; s++) {
                        const float a = (float)((s + 0.5) / M);
                        memcpy(probe, base_row, sizeof probe);
                        for (uint32_t q = 0; q < F; q++) probe[1 + (T - 1) * F + q] = a * x[q];
                        probe[1 + (T - 1) * F + j] += dlt;
                        double up = raw_of(&n, ws, probe, k);
                        probe[1 + (T - 1) * F + j] -= 2 * dlt;
                        acc += (up - raw_of(&n, ws, probe, k)) / (2.0 * dlt);
                    }
                    num[j] = x[j] * acc / M;
                    mx = fmax(mx, fabs(num[j]));
                }
                double perm_err = 0.0;
                for (uint32_t j = 0; j < F; j++) {
                    double got = contrib[j * K + k] - (K == 1 ? 0.0 : contrib[j * K + k0]);
                    double swapped = contrib[((j + 1) % F) * K + k] - (K == 1 ? 0.0 : contrib[((j + 1) % F) * K + k0]);
                    worst_ig = fmax(worst_ig, fabs(got - num[j]) / (mx + 1e-3));
                    perm_err = fmax(perm_err, fabs(swapped - num[j]) / (mx + 1e-3));
                }
                if (K == 1 || k > 0) assert_true(perm_err > 1e-2);
            }
            free(scratch);
            vg_seq_ws_free(ws);
            vg_seq_free(&n);
        }
    printf("explain: sum vs forward %.3g, bias vs baseline forward %.3g, quadrature remainder %.3g, terms vs "
           "numerical IG (relative) %.3g\n",
           worst_sum, worst_bias, worst_rem, worst_ig);
    assert_true(worst_rem < 1e-5);
    assert_true(worst_sum < 1e-4);
    assert_true(worst_bias < 1e-4);
    assert_true(worst_ig < 5e-3);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_gradients),
        cmocka_unit_test(test_gradient_check_can_fail),
        cmocka_unit_test(test_forward_torch),
        cmocka_unit_test(test_learns_sequences),
        cmocka_unit_test(test_row_threads_save_load),
        cmocka_unit_test(test_params),
        cmocka_unit_test(test_explain),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
