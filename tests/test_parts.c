/* Unit tests for ensembles over other families (parts.c and the families
 * built on it: vote, stack, bagging, select): a soft vote is the weighted
 * mean of its parts, its explanations sum to its probabilities, bagging
 * without resampling is its base, every one is the same whatever the
 * thread count and survives save/load (and refuses truncated bytes), bad
 * parameters are named, rank voting is the mean of the parts' ranks among
 * the training rows (an anomaly part fitted on the normal rows), and --select chooses its columns from the rows of
 * the fit only (a fold's selector equals one fitted by hand on that fold). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vigil/buf.h"
#include "vigil/core.h"
#include "vigil/estimator.h"
#include "vigil/model.h"
#include "vigil/rng.h"
#include "models/parts.h"
#include "models/select.h"
#include "testutil.h"

#define N 300
#define F 5

static vg_matrix X;
static int32_t Y[N], Y3[N];
static vg_feature feats[F];

/* Columns 0-2 carry the class, 3 is a categorical of 4 values that helps, 4 noise. */
static void make_data(void)
{
    vg_matrix_alloc(&X, N, F);
    vg_rng rng;
    vg_rng_seed(&rng, 5, 0);
    for (int r = 0; r < N; r++) {
        float *x = X.data + r * F;
        for (int f = 0; f < F; f++) x[f] = (float)vg_rng_normal(&rng);
        x[3] = (float)vg_rng_below(&rng, 4);
        double s = x[0] + 0.8 * x[1] - 0.5 * x[2] + (x[3] == 1 ? 1.0 : -0.3) + 0.8 * vg_rng_normal(&rng);
        Y[r] = s > 0;
        Y3[r] = s < -0.7 ? 0 : s < 0.7 ? 1 : 2;
    }
    for (int f = 0; f < F; f++) feats[f] = (vg_feature){ "x", VG_FEATURE_NUMERIC, 0 };
    feats[3] = (vg_feature){ "cat", VG_FEATURE_CATEGORICAL, 4 };
}

static void *params_of(const vg_estimator_kind *k, const char *const *kv)
{
    void *p = calloc(1, k->params_size);
    k->params_default(p);
    for (size_t i = 0; kv && kv[i]; i += 2) {
        vg_status st = k->params_set(p, kv[i], kv[i + 1]);
        if (st) fprintf(stderr, "%s\n", vg_last_error());
        assert_int_equal(st, VG_OK);
    }
    assert_null(k->params_check(p));
    return p;
}

static void *fit(const vg_estimator_kind *k, const char *const *kv, int threads)
{
    void *p = params_of(k, kv);
    vg_train_set ts = { .X = &X, .features = feats, .y = Y, .n_classes = 2 };
    vg_fit_options o = { .seed = 3, .threads = threads };
    void *s = NULL;
    vg_status st = k->fit(p, &ts, &o, &s);
    if (st) fprintf(stderr, "%s\n", vg_last_error());
    assert_int_equal(st, VG_OK);
    free(p);
    return s;
}

static void test_soft_vote_is_weighted_mean(void **state)
{
    (void)state;
    const char *kv[] = { "estimators", "tree,logreg", "tree.max_depth", "3", "weights", "2,1", NULL };
    void *v = fit(&vg_vote_kind, kv, 2);
    /* The parts by hand, with the seeds vote gives them. */
    const char *tkv[] = { "max_depth", "3", NULL };
    void *tp = params_of(&vg_tree_kind, tkv), *lp = params_of(&vg_logreg_kind, NULL);
    vg_train_set ts = { .X = &X, .features = feats, .y = Y, .n_classes = 2 };
    vg_fit_options o0 = { .seed = 3, .threads = 1 }, o1 = { .seed = 3 + 1000003ull, .threads = 1 };
    vg_part a, b;
    assert_int_equal(vg_part_fit(&vg_tree_kind, tp, VG_PART_TRANSFORM_NONE, &ts, NULL, 0, NULL, 0, &o0, &a), VG_OK);
    assert_int_equal(vg_part_fit(&vg_logreg_kind, lp, VG_PART_TRANSFORM_NONE, &ts, NULL, 0, NULL, 0, &o1, &b), VG_OK);
    assert_int_equal(a.encode, 0);
    assert_int_equal(b.encode, 1);
    assert_int_equal(b.n_out, 4 + 4);  /* 4 numbers + 4 one-hot columns */
    float pv[N * 2], pa[N * 2], pb[N * 2];
    vg_vote_kind.predict(v, &X, 1, pv);
    assert_int_equal(vg_part_predict(&a, &X, 1, pa), VG_OK);
    assert_int_equal(vg_part_predict(&b, &X, 1, pb), VG_OK);
    double worst = 0;
    for (int i = 0; i < N * 2; i++) worst = fmax(worst, fabs(pv[i] - (2.0 * pa[i] + pb[i]) / 3.0));
    printf("vote: max |vote - (2 tree + logreg) / 3| %.3g\n", worst);
    assert_true(worst < 1e-6);
    /* Explanations: for each class, the contributions sum to the vote's probability. */
    double phi[(F + 1) * 2];
    assert_int_equal(vg_vote_kind.n_outputs(v), 2);
    for (int r = 0; r < 20; r++) {
        assert_int_equal(vg_vote_kind.explain(v, X.data + r * F, phi), VG_OK);
        for (int c = 0; c < 2; c++) {
            double s = 0;
            for (int f = 0; f <= F; f++) s += phi[f * 2 + c];
            assert_true(fabs(s - pv[r * 2 + c]) < 1e-5);
        }
    }
    /* Hard voting: vote shares, no explanations. */
    const char *hkv[] = { "estimators", "tree,logreg,tree", "voting", "hard", NULL };
    void *h = fit(&vg_vote_kind, hkv, 1);
    float ph[N * 2];
    vg_vote_kind.predict(h, &X, 1, ph);
    for (int i = 0; i < N * 2; i++) {
        float k = ph[i] * 3.0f;
        assert_true(fabsf(k - roundf(k)) < 1e-5f);
    }
    assert_int_equal(vg_vote_kind.n_outputs(h), 0);
    vg_part_free(&a), vg_part_free(&b);
    free(tp), free(lp);
    vg_vote_kind.free(v), vg_vote_kind.free(h);
}

/* Rank voting: each part's P(class 1) (an anomaly part's score) becomes the
 * share of the training rows it scored lower, ties half; with fewer rows
 * than quantiles the quantiles are every training score, so a training row's
 * rank is exact and is counted here by hand. The anomaly part is fitted on
 * the class-0 rows only (the same as fitting it by hand on them), and
 * transform=log1p standardises sign(x) log(1 + |x|). */
static void test_rank_vote_is_mean_rank(void **state)
{
    (void)state;
    const char *kv[] = { "estimators", "tree,logreg,iforest", "voting", "rank", "transform", "log1p",
                         "tree.max_depth", "3", "iforest.n_estimators", "25", NULL };
    void *v = fit(&vg_vote_kind, kv, 2);
    const vg_estimator_kind *kinds[3] = { &vg_tree_kind, &vg_logreg_kind, &vg_iforest_kind };
    const char *tkv[] = { "max_depth", "3", NULL }, *ikv[] = { "n_estimators", "25", NULL };
    void *params[3] = { params_of(&vg_tree_kind, tkv), params_of(&vg_logreg_kind, NULL),
                        params_of(&vg_iforest_kind, ikv) };
    vg_train_set ts = { .X = &X, .features = feats, .y = Y, .n_classes = 2 };
    static float score[3][N], out[N * 2];
    vg_part part[3];
    for (int i = 0; i < 3; i++) {
        vg_fit_options o = { .seed = 3 + 1000003ull * (uint64_t)i, .threads = 1 };
        assert_int_equal(vg_part_fit(kinds[i], params[i], VG_PART_TRANSFORM_LOG1P, &ts, NULL, 0, NULL, 0, &o,
                                     &part[i]), VG_OK);
        assert_int_equal(vg_part_predict(&part[i], &X, 1, out), VG_OK);
        for (int r = 0; r < N; r++) score[i][r] = i == 2 ? out[r] : out[r * 2 + 1];
    }
    /* The logreg part read log1p-standardised numbers. */
    double m0 = 0;
    for (int r = 0; r < N; r++) {
        double x = X.data[r * F];
        m0 += (x < 0 ? -log1p(-x) : log1p(x)) / N;
    }
    assert_int_equal(part[1].transform, VG_PART_TRANSFORM_LOG1P);
    assert_true(fabs(part[1].mean[0] - m0) < 1e-9);
    assert_int_equal(part[0].transform, 0);  /* a tree reads native rows: nothing to transform */
    /* The iforest part: fitted by hand on the class-0 rows. */
    int n0 = 0;
    for (int r = 0; r < N; r++) n0 += Y[r] == 0;
    vg_matrix X0;
    vg_matrix_alloc(&X0, (size_t)n0, F);
    for (int r = 0, k = 0; r < N; r++)
        if (Y[r] == 0) memcpy(X0.data + (size_t)(k++) * F, X.data + r * F, F * sizeof(float));
    vg_train_set t0 = { .X = &X0, .features = feats, .n_classes = 1 };
    vg_fit_options o2 = { .seed = 3 + 2000006ull, .threads = 1 };
    void *iso = NULL;
    assert_int_equal(vg_iforest_kind.fit(params[2], &t0, &o2, &iso), VG_OK);
    vg_iforest_kind.predict(iso, &X, 1, out);
    for (int r = 0; r < N; r++) assert_true(out[r] == score[2][r]);
    /* The vote: the mean of the three exact ranks. */
    float pv[N * 2];
    vg_vote_kind.predict(v, &X, 1, pv);
    double worst = 0;
    for (int r = 0; r < N; r++) {
        double mean = 0;
        for (int i = 0; i < 3; i++) {
            int below = 0, equal = 0;
            for (int j = 0; j < N; j++) below += score[i][j] < score[i][r], equal += score[i][j] == score[i][r];
            mean += (below + (equal - 1) / 2.0) / (N - 1) / 3.0;
        }
        worst = fmax(worst, fabs(pv[r * 2 + 1] - mean));
        assert_true(fabs(pv[r * 2] + pv[r * 2 + 1] - 1.0) < 1e-6);
        float one[2];
        vg_vote_kind.predict_row(v, X.data + r * F, one);
        assert_true(fabsf(one[1] - pv[r * 2 + 1]) < 1e-6f);
    }
    printf("rank vote: max |vote - mean exact rank| %.3g\n", worst);
    assert_true(worst < 1e-6);
    assert_int_equal(vg_vote_kind.n_outputs(v), 0);
    /* Ranks need one score per row: a multiclass task is refused. */
    vg_train_set t3 = { .X = &X, .features = feats, .y = Y3, .n_classes = 3 };
    void *p3 = params_of(&vg_vote_kind, kv), *s3 = NULL;
    vg_fit_options o = { .seed = 3 };
    assert_int_equal(vg_vote_kind.fit(p3, &t3, &o, &s3), VG_ERR_INVALID);
    assert_non_null(strstr(vg_last_error(), "binary"));
    free(p3);
    for (int i = 0; i < 3; i++) vg_part_free(&part[i]), free(params[i]);
    vg_iforest_kind.free(iso);
    vg_matrix_free(&X0);
    vg_vote_kind.free(v);
}

/* A stack's explanations: per feature, the final weights times each part's
 * contributions; they sum to the final model's log-odds of the row (binary:
 * logit of P(class 1); multiclass: each class's logit, softmax of which is
 * the probability). */
static void test_stack_explanations_sum_to_log_odds(void **state)
{
    (void)state;
    for (uint32_t C = 2; C <= 3; C++) {
        const char *kv[] = { "estimators", "tree,logreg", "tree.max_depth", "3", "cv", "3", NULL };
        void *p = params_of(&vg_stack_kind, kv);
        vg_train_set ts = { .X = &X, .features = feats, .y = C == 2 ? Y : Y3, .n_classes = C };
        vg_fit_options o = { .seed = 3, .threads = 2 };
        void *sk = NULL;
        assert_int_equal(vg_stack_kind.fit(p, &ts, &o, &sk), VG_OK);
        uint32_t V = vg_stack_kind.n_outputs(sk);
        assert_int_equal(V, C == 2 ? 1 : C);
        float pr[N * 3];
        vg_stack_kind.predict(sk, &X, 1, pr);
        double phi[(F + 1) * 3], worst = 0, moved = 0;
        for (int r = 0; r < 40; r++) {
            assert_int_equal(vg_stack_kind.explain(sk, X.data + r * F, phi), VG_OK);
            double logit[3] = { 0 }, z = 0;
            for (uint32_t k = 0; k < V; k++)
                for (int f = 0; f <= F; f++) logit[k] += phi[f * V + k];
            for (int f = 0; f < F; f++) moved = fmax(moved, fabs(phi[f * V]));
            if (C == 2) {
                worst = fmax(worst, fabs(1.0 / (1.0 + exp(-logit[0])) - pr[r * 2 + 1]));
            } else {
                for (uint32_t k = 0; k < C; k++) z += exp(logit[k]);
                for (uint32_t k = 0; k < C; k++) worst = fmax(worst, fabs(exp(logit[k]) / z - pr[r * C + k]));
            }
        }
        printf("stack (%u classes): max |probability from summed contributions - predicted| %.3g\n", C, worst);
        assert_true(worst < 1e-5);
        assert_true(moved > 0.1);  /* the features do carry the score, not the bias alone */
        /* A part that cannot explain (knn): no explanations. */
        const char *nkv[] = { "estimators", "tree,knn", NULL };
        void *np = params_of(&vg_stack_kind, nkv), *ns = NULL;
        assert_int_equal(vg_stack_kind.fit(np, &ts, &o, &ns), VG_OK);
        assert_int_equal(vg_stack_kind.n_outputs(ns), 0);
        assert_int_not_equal(vg_stack_kind.explain(ns, X.data, phi), VG_OK);
        vg_stack_kind.free(sk), vg_stack_kind.free(ns);
        free(p), free(np);
    }
}

static void test_bagging_without_resampling_is_its_base(void **state)
{
    (void)state;
    const char *kv[] = { "estimator", "tree", "n_estimators", "4", "bootstrap", "false", "tree.max_depth", "4", NULL };
    void *bg = fit(&vg_bagging_kind, kv, 2);
    const char *tkv[] = { "max_depth", "4", NULL };
    void *t = fit(&vg_tree_kind, tkv, 1);
    float pb[N * 2], pt[N * 2];
    vg_bagging_kind.predict(bg, &X, 1, pb);
    vg_tree_kind.predict(t, &X, 1, pt);
    for (int i = 0; i < N * 2; i++) assert_true(fabsf(pb[i] - pt[i]) < 1e-6f);
    vg_bagging_kind.free(bg), vg_tree_kind.free(t);
}

/* Same model for 1 and 4 threads, and the same after save + load; every
 * truncation of the bytes is refused. */
static void roundtrip(const vg_estimator_kind *k, const char *const *kv)
{
    void *a = fit(k, kv, 1), *b = fit(k, kv, 4);
    float pa[N * 2], pb[N * 2], pc[N * 2];
    k->predict(a, &X, 1, pa);
    k->predict(b, &X, 4, pb);
    assert_memory_equal(pa, pb, sizeof pa);
    vg_wbuf w;
    vg_wbuf_init(&w);
    assert_int_equal(k->save(a, &w), VG_OK);
    vg_rbuf r;
    vg_rbuf_init(&r, w.data, w.len, k->name);
    void *c = NULL;
    assert_int_equal(k->load(&r, &c), VG_OK);
    assert_int_equal(r.pos, r.len);
    k->predict(c, &X, 1, pc);
    assert_memory_equal(pa, pc, sizeof pa);
    for (size_t len = 0; len < w.len; len += 1 + len / 64) {
        vg_rbuf t;
        vg_rbuf_init(&t, w.data, len, k->name);
        void *g = NULL;
        assert_int_equal(k->load(&t, &g), VG_ERR_FORMAT);
        assert_null(g);
    }
    vg_wbuf_free(&w);
    k->free(a), k->free(b), k->free(c);
}

static void test_threads_and_files(void **state)
{
    (void)state;
    const char *vote[] = { "estimators", "forest,logreg,gbdt", "forest.n_estimators", "10", "gbdt.n_estimators", "10", NULL };
    const char *stack[] = { "estimators", "tree,logreg,forest", "forest.n_estimators", "10", "cv", "3", NULL };
    const char *bag[] = { "estimator", "logreg", "n_estimators", "5", "max_samples", "0.7", "max_features", "3", NULL };
    const char *sel[] = { "estimator", "vote:tree,logreg", "k", "3", "by", "mutual_info", NULL };
    const char *rank[] = { "estimators", "tree,logreg,iforest", "voting", "rank", "transform", "log1p",
                           "iforest.n_estimators", "20", NULL };
    roundtrip(&vg_vote_kind, vote);
    roundtrip(&vg_vote_kind, rank);
    roundtrip(&vg_stack_kind, stack);
    roundtrip(&vg_bagging_kind, bag);
    roundtrip(&vg_select_kind, sel);
}

static void expect_error(const vg_estimator_kind *k, const char *const *kv, const char *words)
{
    void *p = calloc(1, k->params_size);
    k->params_default(p);
    vg_status st = VG_OK;
    for (size_t i = 0; kv[i] && !st; i += 2) st = k->params_set(p, kv[i], kv[i + 1]);
    const char *msg = st ? vg_last_error() : k->params_check(p);
    assert_non_null(msg);
    if (!strstr(msg, words)) fprintf(stderr, "message '%s' lacks '%s'\n", msg, words);
    assert_non_null(strstr(msg, words));
    free(p);
}

static void test_parameter_errors(void **state)
{
    (void)state;
    const char *none[] = { NULL };
    expect_error(&vg_vote_kind, none, "vote:A,B");
    const char *unknown[] = { "estimators", "gbdt,nope", NULL };
    expect_error(&vg_vote_kind, unknown, "nope");
    const char *anomaly[] = { "estimators", "gbdt,iforest", NULL };
    expect_error(&vg_vote_kind, anomaly, "voting=rank");
    const char *stack_anomaly[] = { "estimators", "gbdt,autoencoder", NULL };
    expect_error(&vg_stack_kind, stack_anomaly, "anomaly");
    const char *window[] = { "estimators", "gbdt,lstm", NULL };
    expect_error(&vg_vote_kind, window, "lstm");
    const char *voting[] = { "estimators", "gbdt,forest", "voting", "median", NULL };
    expect_error(&vg_vote_kind, voting, "median");
    const char *transform[] = { "estimators", "gbdt,logreg", "transform", "sqrt", NULL };
    expect_error(&vg_vote_kind, transform, "sqrt");
    const char *bad_child[] = { "estimators", "gbdt,forest", "gbdt.bogus", "1", NULL };
    expect_error(&vg_vote_kind, bad_child, "bogus");
    const char *not_part[] = { "estimators", "gbdt,forest", "svm.C", "1", NULL };
    expect_error(&vg_vote_kind, not_part, "svm");
    const char *weights[] = { "estimators", "gbdt,forest", "weights", "1,2,3", NULL };
    expect_error(&vg_vote_kind, weights, "one weight per part");
    const char *cv[] = { "estimators", "gbdt,forest", "cv", "1", NULL };
    expect_error(&vg_stack_kind, cv, "cv");
    const char *base[] = { "estimator", "tree", "max_samples", "1.5", NULL };
    expect_error(&vg_bagging_kind, base, "max_samples");
    const char *nested[] = { "estimators", "vote,gbdt", NULL };
    expect_error(&vg_stack_kind, nested, "vote");
}

/* --select inside a fold: the model trained on a fold's rows keeps the
 * columns vg_select_columns gives on those rows by hand, not those of all
 * rows. Column 2 matches the label exactly on the held-out rows only, so a
 * selector that saw them would take it. */
static void test_select_inside_fold(void **state)
{
    (void)state;
    const int rows = 250, held = 150;  /* rows 150..249 are the held-out fold */
    char *csv = malloc(64 * 1024), *p = csv;
    p += sprintf(p, "a,b,leak,d,label\n");
    vg_rng rng;
    vg_rng_seed(&rng, 9, 0);
    float vals[250][4];
    int lab[250];
    for (int r = 0; r < rows; r++) {
        double a = vg_rng_normal(&rng), b = vg_rng_normal(&rng), d = vg_rng_normal(&rng);
        int y = a + 0.8 * vg_rng_normal(&rng) > 0;
        double leak = r >= held ? (y ? 5.0 : -5.0) : vg_rng_normal(&rng);
        vals[r][0] = (float)a, vals[r][1] = (float)b, vals[r][2] = (float)leak, vals[r][3] = (float)d;
        lab[r] = y;
        p += sprintf(p, "%.6f,%.6f,%.6f,%.6f,%s\n", a, b, leak, d, y ? "attack" : "normal");
    }
    const char *path = vg_test_tmpfile(csv, (size_t)(p - csv), ".csv");
    vg_data_spec spec = { .label = "label", .task = VG_TASK_BINARY };
    vg_table *all = NULL, *fold = NULL;
    assert_int_equal(vg_data_read(path, &spec, &all), VG_OK);
    size_t idx[250];
    for (int r = 0; r < held; r++) idx[r] = (size_t)r;
    assert_int_equal(vg_table_take(all, idx, held, &fold), VG_OK);
    uint32_t got_fold[1], got_all[1], by_hand[1];
    for (int pass = 0; pass < 2; pass++) {
        vg_train_request rq = { .table = pass ? all : fold, .data = spec, .model = "logreg", .select_k = 1,
                                .select_by = "mutual_info", .seed = 1, .threads = 1 };
        vg_model *m = NULL;
        vg_status st = vg_model_train(&rq, &m);
        if (st) fprintf(stderr, "%s\n", vg_last_error());
        assert_int_equal(st, VG_OK);
        assert_string_equal(vg_model_kind(m)->name, "select");
        uint32_t n;
        const uint32_t *cols = vg_select_state_columns(vg_model_state(m), &n);
        assert_int_equal(n, 1);
        memcpy(pass ? got_all : got_fold, cols, sizeof got_fold);
        vg_model_free(m);
    }
    /* By hand on the fold's rows (numbers pass the native pipeline as they are). */
    vg_matrix Xf;
    vg_matrix_alloc(&Xf, held, 4);
    int32_t yf[250];
    for (int r = 0; r < held; r++) {
        memcpy(Xf.data + r * 4, vals[r], sizeof vals[r]);
        yf[r] = lab[r];  /* class 1 = attack, the positive class */
    }
    vg_feature ff[4];
    for (int f = 0; f < 4; f++) ff[f] = (vg_feature){ "x", VG_FEATURE_NUMERIC, 0 };
    vg_train_set ts = { .X = &Xf, .features = ff, .y = yf, .n_classes = 2 };
    assert_int_equal(vg_select_columns(&ts, 1, VG_SELECT_MUTUAL_INFO, 1, 1, by_hand, NULL), VG_OK);
    printf("select: fold %u; by hand %u; all rows %u\n", got_fold[0], by_hand[0], got_all[0]);
    assert_memory_equal(got_fold, by_hand, sizeof by_hand);
    assert_int_equal(got_fold[0], 0);  /* the fold's rows: the honest column */
    assert_int_equal(got_all[0], 2);   /* with the held-out rows: the leak */
    vg_matrix_free(&Xf);
    vg_table_free(all), vg_table_free(fold);
    free(csv);
}

int main(void)
{
    make_data();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_soft_vote_is_weighted_mean),
        cmocka_unit_test(test_rank_vote_is_mean_rank),
        cmocka_unit_test(test_stack_explanations_sum_to_log_odds),
        cmocka_unit_test(test_bagging_without_resampling_is_its_base),
        cmocka_unit_test(test_threads_and_files),
        cmocka_unit_test(test_parameter_errors),
        cmocka_unit_test(test_select_inside_fold),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    vg_matrix_free(&X);
    return rc;
}
