/* Tests of the neural layers (src/models/nn*.c) and the two families on
 * them (mlp.c, autoencoder.c): gradients against central finite
 * differences for every activation, output loss, input layout, dropout and
 * the L2 term; a forward pass against PyTorch with the same weights
 * (tests/golden/nn_torch.py writes tests/golden/nn_torch.txt); the OpenBLAS
 * products against the loops; determinism across thread counts; learning
 * on toy data; save/load round trips, truncation and corruption;
 * parameter errors. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "models/nn_act.h"
#include "models/nn_train.h"
#include "testutil.h"
#include "vigil/estimator.h"
#include "vigil/rng.h"

/* ---- helpers ------------------------------------------------------------ */

/* rows x cols matrix of normals; every third value of the first half of the
 * columns snapped to 0 or 1 so that the deviation layout has bases to use. */
static void random_matrix(vg_matrix *X, size_t rows, size_t cols, uint64_t seed)
{
    assert_int_equal(vg_matrix_alloc(X, rows, cols), VG_OK);
    vg_rng r;
    vg_rng_seed(&r, seed, 0);
    for (size_t i = 0; i < rows * cols; i++) {
        const size_t j = i % cols;
        double v = vg_rng_normal(&r);
        if (j < cols / 2 && vg_rng_uniform(&r) < 0.7) v = (j % 2) ? 0.0 : 1.0;
        X->data[i] = (float)v;
    }
}

typedef struct gcase {
    vg_nn_act act;
    vg_nn_out out;
    int deviations;
    float dropout;
    double alpha;
} gcase;

/* loss at the current parameters, the same dropout mask every time */
static double loss_at(vg_nn *net, vg_nn_ws *ws, const vg_nn_input *in, const vg_nn_target *t, const uint32_t *idx,
                      size_t B, const gcase *c)
{
    vg_rng r;
    vg_rng_seed(&r, 99, 0);
    vg_nn_forward(net, ws, in, idx, B, c->dropout, c->dropout > 0 ? &r : NULL);
    return vg_nn_loss(net, ws, t, idx, B, c->alpha);
}

static double check_gradient(const gcase *c)
{
    const size_t rows = 9, B = 6;
    const uint32_t k = c->out == VG_NN_OUT_SOFTMAX ? 3 : c->out == VG_NN_OUT_SIGMOID ? 1 : 7;
    const uint32_t sizes[] = { 7, 5, 4, k };
    vg_matrix X;
    random_matrix(&X, rows, 7, 3);
    vg_nn net;
    assert_int_equal(vg_nn_init(&net, sizes, 3, c->act, c->out), VG_OK);
    net.gemm = VG_NN_GEMM_LOOPS;
    vg_rng r;
    vg_rng_seed(&r, 5, 0);
    vg_nn_glorot(&net, &r);
    /* shift the first biases so ReLU units are neither all on nor all off */
    vg_nn_input in;
    assert_int_equal(vg_nn_input_build(&in, &X, c->deviations), VG_OK);
    assert_int_equal(in.deviations, c->deviations);
    int32_t y[9];
    float w[9], T[9 * 7];
    for (size_t i = 0; i < rows; i++) {
        y[i] = (int32_t)(c->out == VG_NN_OUT_SOFTMAX ? i % 3 : i % 2);
        w[i] = 0.5f + (float)(i % 4);
    }
    for (size_t i = 0; i < rows * 7; i++) T[i] = X.data[i] * 0.5f;
    vg_nn_target t = { .y = y, .T = T, .weight = w };
    const uint32_t idx[6] = { 8, 1, 3, 0, 5, 2 };
    vg_nn_ws ws;
    assert_int_equal(vg_nn_ws_init(&ws, &net, B), VG_OK);
    float *grad = malloc(net.n_params * sizeof(float));
    loss_at(&net, &ws, &in, &t, idx, B, c);
    vg_nn_backward(&net, &ws, &in, B, c->alpha, grad);
    double worst = 0.0;
    const float h = 2e-3f;
    for (size_t q = 0; q < net.n_params; q++) {
        const float keep = net.params[q];
        net.params[q] = keep + h;
        const double up = loss_at(&net, &ws, &in, &t, idx, B, c);
        net.params[q] = keep - h;
        const double down = loss_at(&net, &ws, &in, &t, idx, B, c);
        net.params[q] = keep;
        const double num = (up - down) / (2.0 * (double)h);
        const double err = fabs(num - grad[q]) / (1e-2 + fabs(num));
        if (err > worst) worst = err;
    }
    free(grad);
    vg_nn_ws_free(&ws);
    vg_nn_input_free(&in);
    vg_nn_free(&net);
    vg_matrix_free(&X);
    return worst;
}

static void test_gradients(void **state)
{
    (void)state;
    const vg_nn_act acts[] = { VG_NN_RELU, VG_NN_TANH, VG_NN_LOGISTIC, VG_NN_IDENTITY };
    const vg_nn_out outs[] = { VG_NN_OUT_SOFTMAX, VG_NN_OUT_SIGMOID, VG_NN_OUT_LINEAR };
    int n = 0;
    for (int a = 0; a < 4; a++)
        for (int o = 0; o < 3; o++)
            for (int dev = 0; dev < 2; dev++)
                for (int v = 0; v < 2; v++) {
                    gcase c = { acts[a], outs[o], dev, v ? 0.3f : 0.0f, v ? 0.05 : 0.0 };
                    double worst = check_gradient(&c);
                    if (worst > 2e-2)
                        fail_msg("gradient of %s/%d deviations=%d dropout=%g alpha=%g: worst relative error %g",
                                 vg_nn_act_str(c.act), c.out, dev, c.dropout, c.alpha, worst);
                    n++;
                }
    printf("gradient check: %d cases within 2e-2 relative\n", n);
}

/* A wrong gradient must fail the check: flip the sign of one layer's
 * derivative by swapping the target's classes after the backward pass. */
static void test_gradient_check_can_fail(void **state)
{
    (void)state;
    const uint32_t sizes[] = { 4, 3, 2 };
    vg_nn net;
    assert_int_equal(vg_nn_init(&net, sizes, 2, VG_NN_TANH, VG_NN_OUT_SOFTMAX), VG_OK);
    vg_rng r;
    vg_rng_seed(&r, 1, 0);
    vg_nn_glorot(&net, &r);
    vg_matrix X;
    random_matrix(&X, 4, 4, 2);
    vg_nn_input in;
    assert_int_equal(vg_nn_input_build(&in, &X, 0), VG_OK);
    int32_t y[4] = { 0, 1, 0, 1 }, yw[4] = { 1, 0, 1, 0 };
    vg_nn_target t = { .y = y }, tw = { .y = yw };
    const uint32_t idx[4] = { 0, 1, 2, 3 };
    vg_nn_ws ws;
    assert_int_equal(vg_nn_ws_init(&ws, &net, 4), VG_OK);
    float *g = malloc(net.n_params * sizeof(float));
    vg_nn_forward(&net, &ws, &in, idx, 4, 0, NULL);
    vg_nn_loss(&net, &ws, &tw, idx, 4, 0);
    vg_nn_backward(&net, &ws, &in, 4, 0, g);
    const float h = 1e-3f, keep = net.params[0];
    net.params[0] = keep + h;
    vg_nn_forward(&net, &ws, &in, idx, 4, 0, NULL);
    double up = vg_nn_loss(&net, &ws, &t, idx, 4, 0);
    net.params[0] = keep - h;
    vg_nn_forward(&net, &ws, &in, idx, 4, 0, NULL);
    double down = vg_nn_loss(&net, &ws, &t, idx, 4, 0);
    assert_true(fabs((up - down) / (2 * h) - g[0]) > 1e-3);
    free(g);
    vg_nn_ws_free(&ws);
    vg_nn_input_free(&in);
    vg_nn_free(&net);
    vg_matrix_free(&X);
}

/* The first layer read as base + deviations (register blocks of units, the
 * last block overlapping the one before, the weight gradient by column)
 * against the dense rows, for widths below, at and between the blocks. */
static void test_deviations_equal_dense(void **state)
{
    (void)state;
    const uint32_t widths[] = { 5, 32, 45, 100 };
    const size_t rows = 40, B = 23;
    vg_matrix X;
    random_matrix(&X, rows, 30, 8);
    uint32_t idx[23];
    for (size_t i = 0; i < B; i++) idx[i] = (uint32_t)((i * 7 + 3) % rows);
    int32_t y[40];
    for (size_t i = 0; i < rows; i++) y[i] = (int32_t)(i % 3);
    const vg_nn_target t = { .y = y };
    vg_nn_input dense, dev;
    assert_int_equal(vg_nn_input_build(&dense, &X, 0), VG_OK);
    assert_int_equal(vg_nn_input_build(&dev, &X, 1), VG_OK);
    for (size_t w = 0; w < sizeof widths / sizeof *widths; w++) {
        const uint32_t sizes[] = { 30, widths[w], 3 };
        vg_nn net;
        assert_int_equal(vg_nn_init(&net, sizes, 2, VG_NN_TANH, VG_NN_OUT_SOFTMAX), VG_OK);
        net.gemm = VG_NN_GEMM_LOOPS;
        vg_rng r;
        vg_rng_seed(&r, 6, 0);
        vg_nn_glorot(&net, &r);
        vg_nn_ws ws;
        assert_int_equal(vg_nn_ws_init(&ws, &net, B), VG_OK);
        float *g1 = malloc(net.n_params * sizeof(float)), *g2 = malloc(net.n_params * sizeof(float));
        float *p1 = malloc(B * 3 * sizeof(float));
        vg_nn_forward(&net, &ws, &dense, idx, B, 0, NULL);
        memcpy(p1, ws.H[2], B * 3 * sizeof(float));
        const double l1 = vg_nn_loss(&net, &ws, &t, idx, B, 0.01);
        vg_nn_backward(&net, &ws, &dense, B, 0.01, g1);
        vg_nn_forward(&net, &ws, &dev, idx, B, 0, NULL);
        const double l2 = vg_nn_loss(&net, &ws, &t, idx, B, 0.01);
        vg_nn_backward(&net, &ws, &dev, B, 0.01, g2);
        double worst = fabs(l1 - l2), gmax = 0.0;
        for (size_t i = 0; i < B * 3; i++) worst = fmax(worst, fabs(p1[i] - ws.H[2][i]));
        for (size_t q = 0; q < net.n_params; q++) gmax = fmax(gmax, fabs(g1[q]));
        for (size_t q = 0; q < net.n_params; q++) worst = fmax(worst, fabs(g1[q] - g2[q]) / gmax);
        printf("width %u: deviations vs dense, max difference %g\n", widths[w], worst);
        assert_true(worst < 1e-5);
        free(g1), free(g2), free(p1);
        vg_nn_ws_free(&ws);
        vg_nn_free(&net);
    }
    vg_nn_input_free(&dense);
    vg_nn_input_free(&dev);
    vg_matrix_free(&X);
}

/* ---- PyTorch golden ----------------------------------------------------- */

static float *read_floats(char **p, size_t n)
{
    float *v = malloc((n + 1) * sizeof(float));
    for (size_t i = 0; i < n; i++) {
        char *end;
        v[i] = strtof(*p, &end);
        assert_true(end != *p);
        *p = end;
    }
    return v;
}

static void test_forward_torch(void **state)
{
    (void)state;
    const char *path = vg_test_source("tests/golden/nn_torch.txt");
    FILE *f = fopen(path, "rb");
    if (!f) fail_msg("cannot open %s (run tests/golden/nn_torch.py)", path);
    static char text[1 << 16];
    size_t len = fread(text, 1, sizeof text - 1, f);
    fclose(f);
    text[len] = '\0';
    char *p = text;
    int cases = 0;
    double worst_all = 0.0;
    while ((p = strstr(p, "case "))) {
        char act[16], kind[16];
        int L, used;
        assert_int_equal(sscanf(p, "case %15s %15s %d%n", act, kind, &L, &used), 3);
        p += used;
        uint32_t sizes[VG_NN_MAX_LAYERS + 1];
        for (int l = 0; l <= L; l++) sizes[l] = (uint32_t)strtoul(p, &p, 10);
        vg_nn_act a;
        assert_int_equal(vg_nn_act_parse(act, &a), 0);
        vg_nn_out o = strcmp(kind, "softmax") == 0 ? VG_NN_OUT_SOFTMAX
                      : strcmp(kind, "sigmoid") == 0 ? VG_NN_OUT_SIGMOID : VG_NN_OUT_LINEAR;
        for (int be = 0; be < 2; be++) {
            vg_nn net;
            assert_int_equal(vg_nn_init(&net, sizes, (uint32_t)L, a, o), VG_OK);
            net.gemm = be ? VG_NN_GEMM_BLAS : VG_NN_GEMM_LOOPS;
            char *q = strstr(p, "params ") + 7;
            float *params = read_floats(&q, net.n_params);
            memcpy(net.params, params, net.n_params * sizeof(float));
            q = strstr(q, "x ") + 2;
            size_t rows = strtoul(q, &q, 10);
            float *x = read_floats(&q, rows * sizes[0]);
            q = strstr(q, "y ") + 2;
            float *y = read_floats(&q, rows * sizes[L]);
            vg_nn_ws ws;
            assert_int_equal(vg_nn_ws_init(&ws, &net, rows), VG_OK);
            if (be == 0) {
                vg_nn_forward_rows(&net, &ws, x, rows);  /* prediction: the loops */
            } else {
                /* training's pass: the build's backend on a gathered batch */
                vg_nn_input in = { .rows = rows, .cols = sizes[0], .X = x };
                uint32_t idx[16];
                for (uint32_t i = 0; i < rows; i++) idx[i] = i;
                vg_nn_forward(&net, &ws, &in, idx, rows, 0.0f, NULL);
            }
            double worst = 0.0;
            for (size_t i = 0; i < rows * sizes[L]; i++) worst = fmax(worst, fabs(ws.H[L][i] - y[i]));
            if (worst > 1e-5) fail_msg("case %s %s (backend %d): max |vigil - torch| = %g", act, kind, be, worst);
            worst_all = fmax(worst_all, worst);
            vg_nn_ws_free(&ws);
            free(params), free(x), free(y);
            vg_nn_free(&net);
        }
        cases++;
    }
    assert_int_equal(cases, 5);
    printf("forward vs PyTorch: %d cases, max difference %g\n", cases, worst_all);
}

/* ---- the OpenBLAS path against the loops -------------------------------- */

static void test_blas_equals_loops(void **state)
{
    (void)state;
    if (!vg_nn_gemm_have_blas()) {
        printf("built without OpenBLAS: the loops are the only path\n");
        return;
    }
    const size_t B = 37, in = 53, out = 29;
    vg_rng r;
    vg_rng_seed(&r, 4, 0);
    float *X = malloc(B * in * 4), *W = malloc(in * out * 4), *b = malloc(out * 4), *dY = malloc(B * out * 4);
    float *y1 = malloc(B * out * 4), *y2 = malloc(B * out * 4), *g1 = malloc(in * out * 4), *g2 = malloc(in * out * 4);
    float *x1 = malloc(B * in * 4), *x2 = malloc(B * in * 4);
    for (size_t i = 0; i < B * in; i++) X[i] = (float)vg_rng_normal(&r);
    for (size_t i = 0; i < in * out; i++) W[i] = (float)vg_rng_normal(&r);
    for (size_t i = 0; i < out; i++) b[i] = (float)vg_rng_normal(&r);
    for (size_t i = 0; i < B * out; i++) dY[i] = (float)vg_rng_normal(&r);
    vg_nn_gemm_forward(VG_NN_GEMM_LOOPS, B, in, out, X, W, b, y1);
    vg_nn_gemm_forward(VG_NN_GEMM_BLAS, B, in, out, X, W, b, y2);
    vg_nn_gemm_weight_grad(VG_NN_GEMM_LOOPS, B, in, out, X, dY, g1);
    vg_nn_gemm_weight_grad(VG_NN_GEMM_BLAS, B, in, out, X, dY, g2);
    vg_nn_gemm_input_grad(VG_NN_GEMM_LOOPS, B, in, out, dY, W, x1);
    vg_nn_gemm_input_grad(VG_NN_GEMM_BLAS, B, in, out, dY, W, x2);
    /* tolerance: 1e-5 of the sum of |terms| (about sqrt(K) * 1 here) */
    double worst = 0.0;
    for (size_t i = 0; i < B * out; i++) worst = fmax(worst, fabs(y1[i] - y2[i]) / 60.0);
    for (size_t i = 0; i < in * out; i++) worst = fmax(worst, fabs(g1[i] - g2[i]) / 40.0);
    for (size_t i = 0; i < B * in; i++) worst = fmax(worst, fabs(x1[i] - x2[i]) / 30.0);
    printf("OpenBLAS vs loops: max relative difference %g\n", worst);
    assert_true(worst < 1e-5);
    /* and they are different code: a wrong transposition would not pass */
    assert_true(fabs(y1[0] - y2[0]) < 1e-4 && fabs(g1[1] - g2[1]) < 1e-4);
    free(X), free(W), free(b), free(dY), free(y1), free(y2), free(g1), free(g2), free(x1), free(x2);
}

/* ---- the families ------------------------------------------------------- */

/* Two classes separated by a curved boundary in the first two columns. */
static void toy_problem(vg_matrix *X, int32_t *y, size_t rows, uint64_t seed)
{
    random_matrix(X, rows, 6, seed);
    for (size_t i = 0; i < rows; i++) {
        float *x = X->data + i * 6;
        x[0] = (float)((i * 7919 % 1000) / 500.0 - 1.0);
        x[1] = (float)((i * 104729 % 997) / 498.5 - 1.0);
        y[i] = x[0] * x[0] + x[1] > 0.3f;
    }
}

static void *fit_mlp(const vg_matrix *X, const int32_t *y, uint64_t seed, int threads, const char *const *kv)
{
    const vg_estimator_kind *k = vg_estimator_find("mlp");
    assert_non_null(k);
    vg_nn_params p;
    k->params_default(&p);
    for (; kv && kv[0]; kv += 2) assert_int_equal(k->params_set(&p, kv[0], kv[1]), VG_OK);
    vg_feature feats[6] = { 0 };
    vg_train_set ts = { .X = X, .features = feats, .y = y, .n_classes = 2 };
    vg_fit_options opt = { .seed = seed, .threads = threads };
    void *s = NULL;
    vg_status st = k->fit(&p, &ts, &opt, &s);
    if (st) fail_msg("fit: %s", vg_last_error());
    return s;
}

static void saved(const void *s, const vg_estimator_kind *k, vg_wbuf *w)
{
    vg_wbuf_init(w);
    assert_int_equal(k->save(s, w), VG_OK);
}

static void test_mlp_learns_and_is_deterministic(void **state)
{
    (void)state;
    const size_t rows = 600;
    vg_matrix X;
    int32_t y[600];
    toy_problem(&X, y, rows, 1);
    const char *kv[] = { "hidden_layer_sizes", "16,8", "max_iter", "200", "early_stopping", "true", "dropout", "0.1",
                         "learning_rate_init", "0.01", "batch_size", "32", NULL };
    void *a = fit_mlp(&X, y, 42, 1, kv), *b = fit_mlp(&X, y, 42, 2, kv), *c = fit_mlp(&X, y, 43, 1, kv);
    const vg_estimator_kind *k = &vg_mlp_kind;
    vg_wbuf wa, wb, wc;
    saved(a, k, &wa), saved(b, k, &wb), saved(c, k, &wc);
    assert_int_equal(wa.len, wb.len);
    assert_memory_equal(wa.data, wb.data, wa.len);      /* same seed, any thread count */
    assert_true(wa.len != wc.len || memcmp(wa.data, wc.data, wa.len) != 0);  /* the seed matters */
    float *proba = malloc(rows * 2 * sizeof(float));
    k->predict(a, &X, 2, proba);
    size_t right = 0;
    for (size_t i = 0; i < rows; i++) {
        assert_true(fabsf(proba[2 * i] + proba[2 * i + 1] - 1.0f) < 1e-6f);
        right += (proba[2 * i + 1] >= 0.5f) == (y[i] == 1);
        float one[2];
        k->predict_row(a, X.data + i * 6, one);
        assert_true(one[0] == proba[2 * i] && one[1] == proba[2 * i + 1]);
    }
    printf("mlp on the toy problem: training accuracy %.3f\n", (double)right / rows);
    assert_true(right >= rows * 9 / 10);
    vg_wbuf_free(&wa), vg_wbuf_free(&wb), vg_wbuf_free(&wc);
    k->free(a), k->free(b), k->free(c);
    /* a network wide enough that each batch is cut in parts for the threads */
    const char *wide[] = { "hidden_layer_sizes", "1000", "max_iter", "4", "dropout", "0.2", "batch_size", "200", NULL };
    a = fit_mlp(&X, y, 42, 1, wide), b = fit_mlp(&X, y, 42, 2, wide);
    saved(a, k, &wa), saved(b, k, &wb);
    assert_int_equal(wa.len, wb.len);
    assert_memory_equal(wa.data, wb.data, wa.len);
    vg_wbuf_free(&wa), vg_wbuf_free(&wb);
    k->free(a), k->free(b);
    free(proba);
    vg_matrix_free(&X);
}

static void test_mlp_multiclass_sgd(void **state)
{
    (void)state;
    const size_t rows = 450;
    vg_matrix X;
    random_matrix(&X, rows, 4, 8);
    int32_t y[450];
    for (size_t i = 0; i < rows; i++) {
        y[i] = (int32_t)(i % 3);
        X.data[i * 4 + 3] = (float)y[i] * 2.0f + X.data[i * 4 + 3] * 0.3f;
    }
    const vg_estimator_kind *k = &vg_mlp_kind;
    vg_nn_params p;
    k->params_default(&p);
    assert_int_equal(k->params_set(&p, "solver", "sgd"), VG_OK);
    assert_int_equal(k->params_set(&p, "learning_rate_init", "0.05"), VG_OK);
    assert_int_equal(k->params_set(&p, "activation", "tanh"), VG_OK);
    assert_int_equal(k->params_set(&p, "max_iter", "50"), VG_OK);
    vg_feature feats[4] = { 0 };
    vg_train_set ts = { .X = &X, .features = feats, .y = y, .n_classes = 3 };
    vg_fit_options opt = { .seed = 1 };
    void *s = NULL;
    assert_int_equal(k->fit(&p, &ts, &opt, &s), VG_OK);
    assert_int_equal(k->n_classes(s), 3);
    float *proba = malloc(rows * 3 * sizeof(float));
    k->predict(s, &X, 1, proba);
    size_t right = 0;
    for (size_t i = 0; i < rows; i++) {
        int best = 0;
        for (int c = 1; c < 3; c++) best = proba[i * 3 + c] > proba[i * 3 + best] ? c : best;
        right += best == y[i];
    }
    printf("mlp sgd 3 classes: accuracy %.3f\n", (double)right / rows);
    assert_true(right >= rows * 9 / 10);
    k->free(s);
    free(proba);
    vg_matrix_free(&X);
}

static void test_autoencoder_scores_outliers(void **state)
{
    (void)state;
    /* rows on a 2-d plane in 8 dimensions; outliers off it */
    const size_t rows = 800, d = 8;
    vg_matrix X, Q;
    assert_int_equal(vg_matrix_alloc(&X, rows, d), VG_OK);
    assert_int_equal(vg_matrix_alloc(&Q, 20, d), VG_OK);
    vg_rng r;
    vg_rng_seed(&r, 3, 0);
    for (size_t i = 0; i < rows + 20; i++) {
        const double u = vg_rng_normal(&r), v = vg_rng_normal(&r);
        float *x = i < rows ? X.data + i * d : Q.data + (i - rows) * d;
        for (size_t j = 0; j < d; j++) x[j] = (float)(u * cos((double)j) + v * sin(2.0 * j));
        if (i >= rows + 10) x[(i * 3) % d] += 4.0f;  /* the last 10 query rows are off the plane */
    }
    const vg_estimator_kind *k = vg_estimator_find("autoencoder");
    assert_non_null(k);
    assert_true(k->outputs == VG_ESTIMATOR_OUT_SCORE && !k->needs_labels);
    assert_null(vg_estimator_check(k));
    vg_nn_params p;
    k->params_default(&p);
    assert_int_equal(k->params_set(&p, "hidden_layer_sizes", "6,2"), VG_OK);
    assert_int_equal(k->params_set(&p, "activation", "tanh"), VG_OK);
    assert_int_equal(k->params_set(&p, "max_iter", "300"), VG_OK);
    assert_int_equal(k->params_set(&p, "learning_rate_init", "0.01"), VG_OK);
    vg_feature feats[8] = { 0 };
    vg_train_set ts = { .X = &X, .features = feats, .n_classes = 1 };
    vg_fit_options opt = { .seed = 9 };
    void *s = NULL;
    assert_int_equal(k->fit(&p, &ts, &opt, &s), VG_OK);
    assert_int_equal(k->n_classes(s), 1);
    assert_int_equal(k->n_outputs(s), 1);
    float score[20];
    k->predict(s, &Q, 2, score);
    float worst_in = 0, best_out = INFINITY;
    for (int i = 0; i < 10; i++) worst_in = fmaxf(worst_in, score[i]);
    for (int i = 10; i < 20; i++) best_out = fminf(best_out, score[i]);
    printf("autoencoder: largest inlier score %g, smallest outlier score %g\n", worst_in, best_out);
    assert_true(best_out > worst_in);
    for (int i = 0; i < 20; i++) {
        double contrib[9], sum = 0;
        assert_int_equal(k->explain(s, Q.data + i * d, contrib), VG_OK);
        for (int j = 0; j < 9; j++) sum += contrib[j];
        assert_true(contrib[8] == 0.0);
        assert_true(fabs(sum - score[i]) <= 1e-5 * fmax(1.0, score[i]));
        float one;
        k->predict_row(s, Q.data + i * d, &one);
        assert_true(one == score[i]);
    }
    /* the row that was pushed off the plane is the largest term */
    double contrib[9];
    assert_int_equal(k->explain(s, Q.data + 15 * d, contrib), VG_OK);
    int top = 0;
    for (int j = 1; j < 8; j++) top = contrib[j] > contrib[top] ? j : top;
    assert_int_equal(top, (15 + rows) * 3 % d);
    k->free(s);
    vg_matrix_free(&X);
    vg_matrix_free(&Q);
}

/* ---- save / load -------------------------------------------------------- */

static void round_trip(const vg_estimator_kind *k, void *s, const vg_matrix *X, size_t n_out)
{
    vg_wbuf w;
    saved(s, k, &w);
    vg_rbuf r;
    vg_rbuf_init(&r, w.data, w.len, "test");
    void *back = NULL;
    assert_int_equal(k->load(&r, &back), VG_OK);
    float *p1 = malloc(X->rows * n_out * 4), *p2 = malloc(X->rows * n_out * 4);
    k->predict(s, X, 1, p1);
    k->predict(back, X, 2, p2);
    assert_memory_equal(p1, p2, X->rows * n_out * 4);
    k->free(back);
    /* every truncation is refused */
    for (size_t len = 0; len < w.len; len += (len < 200 ? 1 : 97)) {
        vg_rbuf_init(&r, w.data, len, "test");
        back = NULL;
        vg_status st = k->load(&r, &back);
        if (st == VG_OK) fail_msg("%s: a state cut to %zu of %zu bytes loaded", k->name, len, w.len);
        assert_null(back);
    }
    /* corruption: a layer count, a width, a NaN weight, the version */
    const size_t head = k == &vg_mlp_kind ? 32 : 28;  /* bytes before the network */
    const uint32_t bad_counts[] = { 0, 17, 0xFFFFFFFFu };
    for (size_t c = 0; c < 3; c++) {
        uint8_t *copy = malloc(w.len);
        memcpy(copy, w.data, w.len);
        memcpy(copy + head, &bad_counts[c], 4);
        vg_rbuf_init(&r, copy, w.len, "test");
        assert_int_equal(k->load(&r, &back), VG_ERR_FORMAT);
        memcpy(copy, w.data, w.len);
        memcpy(copy + head + 4, &bad_counts[c], 4);  /* the input width */
        vg_rbuf_init(&r, copy, w.len, "test");
        assert_int_equal(k->load(&r, &back), VG_ERR_FORMAT);
        free(copy);
    }
    uint8_t *copy = malloc(w.len);
    memcpy(copy, w.data, w.len);
    const float nan = NAN;
    memcpy(copy + w.len - 4, &nan, 4);
    vg_rbuf_init(&r, copy, w.len, "test");
    assert_int_equal(k->load(&r, &back), VG_ERR_FORMAT);
    assert_non_null(strstr(vg_last_error(), "not finite"));
    memcpy(copy, w.data, w.len);
    copy[0] = 9;
    vg_rbuf_init(&r, copy, w.len, "test");
    assert_int_equal(k->load(&r, &back), VG_ERR_FORMAT);
    assert_non_null(strstr(vg_last_error(), "version"));
    free(copy);
    free(p1), free(p2);
    vg_wbuf_free(&w);
}

static void test_save_load(void **state)
{
    (void)state;
    vg_matrix X;
    int32_t y[200];
    toy_problem(&X, y, 200, 4);
    const char *kv[] = { "hidden_layer_sizes", "5,3", "max_iter", "3", NULL };
    void *s = fit_mlp(&X, y, 1, 1, kv);
    round_trip(&vg_mlp_kind, s, &X, 2);
    vg_mlp_kind.free(s);

    vg_nn_params p;
    vg_autoencoder_kind.params_default(&p);
    assert_int_equal(vg_autoencoder_kind.params_set(&p, "max_iter", "3"), VG_OK);
    vg_feature feats[6] = { 0 };
    vg_train_set ts = { .X = &X, .features = feats, .n_classes = 1 };
    vg_fit_options opt = { .seed = 2 };
    assert_int_equal(vg_autoencoder_kind.fit(&p, &ts, &opt, &s), VG_OK);
    round_trip(&vg_autoencoder_kind, s, &X, 1);
    vg_autoencoder_kind.free(s);
    vg_matrix_free(&X);
}

/* ---- parameters --------------------------------------------------------- */

static void test_params(void **state)
{
    (void)state;
    const vg_estimator_kind *kinds[] = { &vg_mlp_kind, &vg_autoencoder_kind };
    for (int i = 0; i < 2; i++) {
        const vg_estimator_kind *k = kinds[i];
        vg_nn_params p;
        k->params_default(&p);
        assert_null(k->params_check(&p));
        static const char *const bad[][2] = {
            { "hidden_layer_sizes", "0" },  { "hidden_layer_sizes", "abc" }, { "hidden_layer_sizes", "64,,3" },
            { "hidden_layer_sizes", "70000" }, { "activation", "softplus" }, { "solver", "lbfgs" },
            { "learning_rate_init", "0" },  { "alpha", "-1" },              { "batch_size", "0" },
            { "max_iter", "0" },            { "dropout", "1" },             { "validation_fraction", "1" },
            { "beta_1", "1" },              { "epsilon", "0" },             { "momentum", "2" },
            { "early_stopping", "maybe" },  { "n_estimators", "10" },
        };
        for (size_t b = 0; b < sizeof bad / sizeof bad[0]; b++) {
            if (k->params_set(&p, bad[b][0], bad[b][1]) != VG_ERR_INVALID)
                fail_msg("%s: %s=%s accepted", k->name, bad[b][0], bad[b][1]);
            assert_non_null(strstr(vg_last_error(), bad[b][0]));
        }
        assert_int_equal(k->params_set(&p, "hidden_layer_sizes", "(64, 32)"), VG_OK);
        assert_int_equal(p.n_hidden, 2);
        assert_int_equal(p.hidden[1], 32);
        assert_int_equal(k->params_set(&p, "hidden_layer_sizes", "(100,)"), VG_OK);
        assert_int_equal(p.n_hidden, 1);
        assert_int_equal(k->params_set(&p, "batch_size", "auto"), VG_OK);
        vg_wbuf w;
        vg_wbuf_init(&w);
        k->params_describe(&p, &w);
        vg_wbuf_u8(&w, 0);
        assert_non_null(strstr((char *)w.data, "hidden_layer_sizes=100, activation=relu"));
        vg_wbuf_free(&w);
    }
    vg_nn_params p;
    vg_autoencoder_kind.params_default(&p);
    assert_int_equal(vg_autoencoder_kind.params_set(&p, "hidden_layer_sizes", "9,8,7,6,5,4,3,2,1"), VG_OK);
    assert_non_null(vg_autoencoder_kind.params_check(&p));
    /* data errors: a NaN value, a label out of range */
    vg_matrix X;
    int32_t y[20] = { 0 };
    toy_problem(&X, y, 20, 5);
    y[3] = 5;
    vg_mlp_kind.params_default(&p);
    vg_feature feats[6] = { 0 };
    vg_train_set ts = { .X = &X, .features = feats, .y = y, .n_classes = 2 };
    vg_fit_options opt = { 0 };
    void *s = NULL;
    assert_int_equal(vg_mlp_kind.fit(&p, &ts, &opt, &s), VG_ERR_DATA);
    y[3] = 1;
    X.data[7] = NAN;
    assert_int_equal(vg_mlp_kind.fit(&p, &ts, &opt, &s), VG_ERR_DATA);
    assert_non_null(strstr(vg_last_error(), "not a finite number"));
    assert_null(s);
    vg_matrix_free(&X);
}

/* The vectorisable exp, logistic and tanh against libm's double versions
 * over the range where they vary, and their saturation past it. The error
 * is measured relative to max(|f|, 1e-3) for tanh, whose small-|x| branch
 * must hold its relative accuracy too. */
static void test_activations_match_libm(void **state)
{
    (void)state;
    double worst_exp = 0, worst_sig = 0, worst_tanh = 0;
    for (int k = -200000; k <= 200000; k++) {
        const float x = (float)k * 4e-4f;  /* [-80, 80] */
        const double e = exp((double)x), s = 1.0 / (1.0 + exp(-(double)x)), t = tanh((double)x);
        worst_exp = fmax(worst_exp, fabs(vg_nn_expf(x) - e) / e);
        worst_sig = fmax(worst_sig, fabs(vg_nn_sigmoidf(x) - s) / s);
        worst_tanh = fmax(worst_tanh, fabs(vg_nn_tanhf(x) - t) / fmax(fabs(t), 1e-3));
    }
    for (float x = 1e-6f; x < 1e-2f; x *= 1.1f) {
        worst_tanh = fmax(worst_tanh, fabs(vg_nn_tanhf(x) - tanh((double)x)) / tanh((double)x));
        worst_tanh = fmax(worst_tanh, fabs(vg_nn_tanhf(-x) + tanh((double)x)) / tanh((double)x));
    }
    printf("activations vs libm: relative error exp %.3g, logistic %.3g, tanh %.3g (bound 1e-6)\n", worst_exp,
           worst_sig, worst_tanh);
    assert_true(worst_exp < 1e-6 && worst_sig < 1e-6 && worst_tanh < 1e-6);
    assert_true(vg_nn_sigmoidf(-1000.0f) >= 0.0f && vg_nn_sigmoidf(-1000.0f) < 1e-37f);
    assert_true(vg_nn_sigmoidf(1000.0f) == 1.0f);
    assert_true(vg_nn_tanhf(50.0f) == 1.0f && vg_nn_tanhf(-50.0f) == -1.0f);
    assert_true(isfinite(vg_nn_expf(1000.0f)) && vg_nn_expf(-1000.0f) > 0.0f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_activations_match_libm),
        cmocka_unit_test(test_gradients),
        cmocka_unit_test(test_gradient_check_can_fail),
        cmocka_unit_test(test_deviations_equal_dense),
        cmocka_unit_test(test_forward_torch),
        cmocka_unit_test(test_blas_equals_loops),
        cmocka_unit_test(test_mlp_learns_and_is_deterministic),
        cmocka_unit_test(test_mlp_multiclass_sgd),
        cmocka_unit_test(test_autoencoder_scores_outliers),
        cmocka_unit_test(test_save_load),
        cmocka_unit_test(test_params),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
