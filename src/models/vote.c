/* "vote": scikit-learn's VotingClassifier over any classifier families
 * (`--model vote:gbdt,forest,logreg`). Soft voting (the default) averages
 * the parts' class probabilities with their weights; hard voting gives each
 * part one weighted vote for its most probable class and reports the vote
 * shares as probabilities (scikit-learn offers no probabilities for hard
 * voting; shares keep the one decision rule working and rank rows by how
 * many parts agree). Every part is fitted on all the training rows with its
 * own seed derived from the model's, so the result does not depend on the
 * thread count (each part is deterministic by the contract).
 *
 * Rank voting (`voting=rank`, binary tasks) averages where each part puts
 * the row among the training rows instead of its probability: the part's
 * score (P(class 1), or an anomaly part's score) becomes the share of the
 * training rows that the part scored lower (ties count half), read from
 * VOTE_RANK_Q quantiles of those scores kept with the part and interpolated
 * between them. Why: probabilities of different families live on different
 * scales (a forest's are vote shares, a boosted model's saturate near 0 and 1,
 * an anomaly score is no probability at all), so a soft vote lets whichever
 * part is most extreme decide; ranks give each part the same say. On NSL-KDD
 * with attack names held out of training (bench/ensemble_proxy.py) this is
 * what lets an autoencoder fitted on the normal rows (an anomaly part, see
 * parts.h) add what the classifiers cannot know about unseen attack kinds.
 *
 * Explanations (soft voting, every part able to explain): the weighted sum
 * of the parts' contributions in probability units (see parts.h), which
 * sums to the vote's probability of the explained class. */
#include "models/parts.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Version 2: voting=rank, with each part's quantiles after the weights. A
 * soft or hard vote is still written as version 1. */
#define VOTE_FORMAT_VERSION 2u
/* Quantiles of a part's training scores kept for rank voting: the rank of a
 * row is exact to 1/(Q-1) at the quantiles and interpolated between them. */
#define VOTE_RANK_Q 4096u

enum { VOTE_SOFT = 0, VOTE_HARD = 1, VOTE_RANK = 2 };

typedef struct vote_params {
    vg_parts_spec parts;
    int voting;  /* VOTE_* */
    uint32_t n_weights;  /* 0: all 1 */
    double weights[VG_PARTS_MAX];
} vote_params;

typedef struct vote_state {
    uint32_t n, n_features, n_classes;
    int voting;                    /* VOTE_* */
    double weights[VG_PARTS_MAX];  /* normalised to sum 1 */
    vg_part parts[VG_PARTS_MAX];
    uint32_t n_q;                  /* VOTE_RANK: quantiles per part */
    float *q[VG_PARTS_MAX];        /* VOTE_RANK: n_q ascending quantiles of part i's training scores */
} vote_state;

static void vote_params_default(void *params)
{
    memset(params, 0, sizeof(vote_params));
}

/* "2,1,1": positive finite weights, at most VG_PARTS_MAX. */
static vg_status parse_weights(const char *key, const char *value, double *w, uint32_t *n)
{
    char buf[512];
    if (strlen(value) >= sizeof buf) return vg_fail(VG_ERR_INVALID, "parameter %s: too long", key);
    strcpy(buf, value);
    uint32_t k = 0;
    for (char *save = NULL, *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        if (k == VG_PARTS_MAX) return vg_fail(VG_ERR_INVALID, "parameter %s: more than %d weights", key, VG_PARTS_MAX);
        vg_status st = vg_param_double(key, tok, 0.0, 1e9, &w[k]);
        if (st) return st;
        k++;
    }
    if (k == 0) return vg_fail(VG_ERR_INVALID, "parameter %s: '%s' is not a list of weights (e.g. 2,1,1)", key, value);
    *n = k;
    return VG_OK;
}

static vg_status vote_params_set(void *params, const char *key, const char *value)
{
    vote_params *p = params;
    int known;
    if (strcmp(key, "estimators") == 0) return vg_parts_set_list(&p->parts, "vote", value);
    if (strcmp(key, "voting") == 0) {
        if (strcmp(value, "soft") == 0) p->voting = VOTE_SOFT;
        else if (strcmp(value, "hard") == 0) p->voting = VOTE_HARD;
        else if (strcmp(value, "rank") == 0) p->voting = VOTE_RANK;
        else return vg_fail(VG_ERR_INVALID, "parameter voting: '%s' is not soft, hard or rank", value);
        return VG_OK;
    }
    if (strcmp(key, "weights") == 0) return parse_weights(key, value, p->weights, &p->n_weights);
    vg_status st = vg_parts_set_param(&p->parts, "vote", key, value, &known);
    if (st || known) return st;
    return vg_param_unknown("vote", key);
}

static const char *vote_params_check(const void *params)
{
    const vote_params *p = params;
    if (p->parts.n == 0) return "name its parts: --model vote:A,B,... (e.g. vote:gbdt,forest,logreg)";
    if (p->n_weights && p->n_weights != p->parts.n) return "weights must give one weight per part";
    if (p->voting != VOTE_RANK && vg_parts_n_anomaly(&p->parts))
        return "an anomaly part (a score, not probabilities) needs voting=rank";
    double s = 0;
    for (uint32_t i = 0; i < p->n_weights; i++) s += p->weights[i];
    if (p->n_weights && !(s > 0)) return "weights must not all be 0";
    return NULL;
}

static const char *voting_name(int mode)
{
    return mode == VOTE_RANK ? "rank" : mode == VOTE_HARD ? "hard" : "soft";
}

static void vote_params_describe(const void *params, vg_wbuf *out)
{
    const vote_params *p = params;
    vg_wbuf_printf(out, "estimators=");
    vg_parts_describe(&p->parts, out);
    vg_wbuf_printf(out, ", voting=%s, weights=", voting_name(p->voting));
    if (!p->n_weights) vg_wbuf_printf(out, "none");
    for (uint32_t i = 0; i < p->n_weights; i++) vg_wbuf_printf(out, "%s%g", i ? "," : "", p->weights[i]);
}

static void vote_free(void *state)
{
    vote_state *s = state;
    if (!s) return;
    for (uint32_t i = 0; i < s->n; i++) vg_part_free(&s->parts[i]);
    for (uint32_t i = 0; i < VG_PARTS_MAX; i++) vg_free(s->q[i]);
    vg_free(s);
}

/* The score a part ranks rows by: an anomaly part's own, else P(class 1). */
static float part_score(const vote_state *s, uint32_t i, const float *out, size_t r)
{
    return vg_part_is_anomaly(&s->parts[i]) ? out[r] : out[r * s->n_classes + 1];
}

static int cmp_float(const void *a, const void *b)
{
    float x = *(const float *)a, y = *(const float *)b;
    return (x > y) - (x < y);
}

/* Part i's quantiles of its scores of the training rows X. */
static vg_status rank_fit(vote_state *s, uint32_t i, const vg_matrix *X, int threads)
{
    size_t n = X->rows, w = vg_part_is_anomaly(&s->parts[i]) ? 1 : s->n_classes;
    float *out = vg_malloc((n ? n : 1) * w * sizeof *out), *sc = vg_malloc((n ? n : 1) * sizeof *sc);
    s->q[i] = vg_malloc(s->n_q * sizeof *s->q[i]);
    vg_status st = out && sc && s->q[i] ? VG_OK : vg_fail(VG_ERR_NOMEM, "out of memory");
    if (!st) st = vg_part_predict(&s->parts[i], X, threads, out);
    size_t m = 0;  /* the scores that are numbers: a NaN has no place in an order */
    for (size_t r = 0; !st && r < n; r++)
        if (!isnan(sc[m] = part_score(s, i, out, r))) m++;
    if (!st && m < 2) st = vg_fail(VG_ERR_INVALID, "voting=rank: the part scored fewer than 2 training rows");
    if (!st) {
        qsort(sc, m, sizeof *sc, cmp_float);
        for (uint32_t j = 0; j < s->n_q; j++)
            s->q[i][j] = sc[(size_t)((double)j * (double)(m - 1) / (s->n_q - 1) + 0.5)];
    }
    vg_free(out), vg_free(sc);
    return st;
}

/* The share of the training rows part i scored below x (ties half), from its
 * quantiles: a position among them, interpolated, over n_q - 1. */
static double rank_of(const vote_state *s, uint32_t i, float x)
{
    const float *q = s->q[i];
    uint32_t n = s->n_q, lo = 0, hi = n;
    if (isnan(x)) return 0.5;  /* no evidence either way */
    while (lo < hi) {  /* first quantile >= x */
        uint32_t mid = lo + (hi - lo) / 2;
        if (q[mid] < x) lo = mid + 1;
        else hi = mid;
    }
    uint32_t eq = lo;
    while (eq < n && q[eq] == x) eq++;  /* past the quantiles equal to x */
    double pos;
    if (eq > lo) pos = 0.5 * (double)(lo + eq - 1);
    else if (lo == 0) pos = 0;
    else if (lo == n) pos = n - 1;
    else pos = (double)(lo - 1) + ((double)x - q[lo - 1]) / ((double)q[lo] - q[lo - 1]);
    return pos / (n - 1);
}

static vg_status vote_fit(const void *params, const vg_train_set *ts, const vg_fit_options *opt, void **out_state)
{
    *out_state = NULL;
    const vote_params *p = params;
    const char *msg = vote_params_check(p);
    if (msg) return vg_fail(VG_ERR_INVALID, "vote: %s", msg);
    if (!ts->X || !ts->y || ts->n_classes < 2) return vg_fail(VG_ERR_INVALID, "vote: needs dense rows and class labels");
    if (p->voting == VOTE_RANK && ts->n_classes != 2)
        return vg_fail(VG_ERR_INVALID, "vote: voting=rank ranks rows by one score: a binary task only");
    if (p->voting == VOTE_RANK && ts->X->rows < 2) return vg_fail(VG_ERR_INVALID, "vote: voting=rank needs 2 rows");
    vote_state *s = vg_calloc(1, sizeof *s);
    if (!s) return vg_fail(VG_ERR_NOMEM, "out of memory");
    s->n_features = (uint32_t)ts->X->cols;
    s->n_classes = ts->n_classes;
    s->voting = p->voting;
    if (s->voting == VOTE_RANK) s->n_q = ts->X->rows < VOTE_RANK_Q ? (uint32_t)ts->X->rows : VOTE_RANK_Q;
    double total = 0;
    for (uint32_t i = 0; i < p->parts.n; i++) total += s->weights[i] = p->n_weights ? p->weights[i] : 1.0;
    for (uint32_t i = 0; i < p->parts.n; i++) s->weights[i] /= total;
    vg_status st = VG_OK;
    for (uint32_t i = 0; i < p->parts.n && !st; i++) {
        void *cp = NULL;
        if ((st = vg_parts_params(&p->parts, i, &cp))) break;
        vg_fit_options o = opt ? *opt : (vg_fit_options){ 0 };
        o.seed = (opt ? opt->seed : 0) + 1000003ull * i;  /* each part its own stream, fixed by the seed */
        st = vg_part_fit(vg_estimator_find(p->parts.names[i]), cp, p->parts.transform, ts, NULL, 0, NULL, 0, &o,
                         &s->parts[i]);
        vg_free(cp);
        if (!st) s->n = i + 1;
        if (!st && s->voting == VOTE_RANK) st = rank_fit(s, i, ts->X, o.threads);
        if (st) {
            vg_error_prefix("vote: part %u (%s): ", i + 1, p->parts.names[i]);
            break;
        }
    }
    if (st) {
        vote_free(s);
        return st;
    }
    *out_state = s;
    return VG_OK;
}

/* Add part i's probabilities (rows x C) into acc with its weight. */
static void add_part(const vote_state *s, uint32_t i, const float *pr, size_t rows, double *acc)
{
    const uint32_t C = s->n_classes;
    for (size_t r = 0; r < rows; r++) {
        const float *q = pr + r * C;
        if (s->voting == VOTE_RANK) {
            double v = s->weights[i] * rank_of(s, i, part_score(s, i, pr, r));
            acc[r * C] += s->weights[i] - v;
            acc[r * C + 1] += v;
        } else if (s->voting) {
            uint32_t best = 0;  /* the first of tied classes, as numpy's argmax */
            for (uint32_t c = 1; c < C; c++)
                if (q[c] > q[best]) best = c;
            acc[r * C + best] += s->weights[i];
        } else {
            for (uint32_t c = 0; c < C; c++) acc[r * C + c] += s->weights[i] * q[c];
        }
    }
}

static void vote_predict(const void *state, const vg_matrix *X, int threads, float *proba)
{
    const vote_state *s = state;
    const uint32_t C = s->n_classes;
    size_t n = X->rows * C;
    double *acc = vg_calloc(n ? n : 1, sizeof *acc);
    float *pr = vg_malloc((n ? n : 1) * sizeof *pr);
    int ok = acc && pr;
    for (uint32_t i = 0; ok && i < s->n; i++) {
        if (vg_part_predict(&s->parts[i], X, threads, pr)) ok = 0;
        else add_part(s, i, pr, X->rows, acc);
    }
    /* predict has no status: out of memory leaves uniform probabilities, which
     * the caller's decision treats as "no evidence" rather than a crash. */
    for (size_t k = 0; k < n; k++) proba[k] = ok ? (float)acc[k] : 1.0f / (float)C;
    vg_free(acc), vg_free(pr);
}

static void vote_predict_row(const void *state, const float *row, float *proba)
{
    const vote_state *s = state;
    const uint32_t C = s->n_classes;
    double acc[256] = { 0 };
    float pr[256];
    for (uint32_t i = 0; i < s->n; i++) {
        if (C > 256 || vg_part_predict_row(&s->parts[i], row, pr)) {
            for (uint32_t c = 0; c < C; c++) proba[c] = 1.0f / (float)C;
            return;
        }
        add_part(s, i, pr, 1, acc);
    }
    for (uint32_t c = 0; c < C; c++) proba[c] = (float)acc[c];
}

static uint32_t vote_n_classes(const void *state)
{
    return ((const vote_state *)state)->n_classes;
}

static uint32_t vote_n_features(const void *state)
{
    return ((const vote_state *)state)->n_features;
}

static uint32_t vote_n_outputs(const void *state)
{
    const vote_state *s = state;
    if (s->voting || s->n_classes > 256) return 0;
    for (uint32_t i = 0; i < s->n; i++)
        if (!vg_part_can_explain(&s->parts[i])) return 0;
    return s->n_classes;
}

static vg_status vote_explain(const void *state, const float *row, double *contrib)
{
    const vote_state *s = state;
    if (!vote_n_outputs(s))
        return vg_fail(VG_ERR_UNSUPPORTED, "vote: hard or rank voting, or a part that cannot explain");
    return vg_parts_explain_sum(s->parts, s->n, s->weights, row, s->n_features, s->n_classes, contrib);
}

static vg_status vote_save(const void *state, vg_wbuf *w)
{
    const vote_state *s = state;
    vg_wbuf_u32(w, s->voting == VOTE_RANK ? VOTE_FORMAT_VERSION : 1u);
    vg_wbuf_u32(w, s->n_features);
    vg_wbuf_u32(w, s->n_classes);
    vg_wbuf_u32(w, (uint32_t)s->voting);
    vg_wbuf_u32(w, s->n);
    vg_wbuf_f64s(w, s->weights, s->n);
    if (s->voting == VOTE_RANK) {
        vg_wbuf_u32(w, s->n_q);
        for (uint32_t i = 0; i < s->n; i++) vg_wbuf_f32s(w, s->q[i], s->n_q);
    }
    for (uint32_t i = 0; i < s->n; i++) {
        vg_status st = vg_part_save(&s->parts[i], w);
        if (st) return st;
    }
    return VG_OK;
}

static vg_status vote_load(vg_rbuf *r, void **out_state)
{
    *out_state = NULL;
    vote_state *s = vg_calloc(1, sizeof *s);
    if (!s) return vg_fail(VG_ERR_NOMEM, "out of memory");
    uint32_t version = vg_rbuf_u32(r);
    vg_rbuf_require(r, version >= 1 && version <= VOTE_FORMAT_VERSION, "vote model version");
    s->n_features = vg_rbuf_u32(r);
    s->n_classes = vg_rbuf_u32(r);
    uint32_t voting = vg_rbuf_u32(r);
    uint32_t n = vg_rbuf_u32(r);
    vg_rbuf_require(r, s->n_features >= 1 && s->n_classes >= 2 && s->n_classes <= 65536 && n >= 1 &&
                           n <= VG_PARTS_MAX && (version == 1 ? voting <= VOTE_HARD : voting == VOTE_RANK) &&
                           (voting != VOTE_RANK || s->n_classes == 2), "vote model header");
    s->voting = (int)voting;
    double sum = 0;
    for (uint32_t i = 0; !r->failed && i < n; i++) {
        s->weights[i] = vg_rbuf_f64(r);
        vg_rbuf_require(r, isfinite(s->weights[i]) && s->weights[i] >= 0, "vote model weight");
        sum += s->weights[i];
    }
    vg_rbuf_require(r, fabs(sum - 1.0) < 1e-6, "vote model weights");
    if (s->voting == VOTE_RANK) {
        s->n_q = vg_rbuf_u32(r);
        vg_rbuf_require(r, s->n_q >= 2 && s->n_q <= VOTE_RANK_Q, "vote model quantile count");
        for (uint32_t i = 0; !r->failed && i < n; i++) {
            s->q[i] = vg_rbuf_f32s(r, s->n_q);
            for (uint32_t j = 0; s->q[i] && j < s->n_q; j++)  /* ascending, no NaN: rank_of's search needs it */
                vg_rbuf_require(r, !isnan(s->q[i][j]) && (j == 0 || s->q[i][j - 1] <= s->q[i][j]),
                                "vote model quantiles");
        }
    }
    vg_status st = vg_rbuf_check(r);
    for (uint32_t i = 0; !st && i < n; i++) {
        if ((st = vg_part_load(r, s->n_features, s->n_classes, s->voting == VOTE_RANK, &s->parts[i]))) break;
        s->n = i + 1;
    }
    if (st) {
        vote_free(s);
        return st;
    }
    *out_state = s;
    return VG_OK;
}

static void vote_describe(const void *state, vg_wbuf *out)
{
    const vote_state *s = state;
    vg_wbuf_printf(out, "voting: %s\n", voting_name(s->voting));
    for (uint32_t i = 0; i < s->n; i++) {
        char prefix[32];
        snprintf(prefix, sizeof prefix, "part %u ", i + 1);
        vg_wbuf_printf(out, "part %u: %s (weight %.4g)\n", i + 1, s->parts[i].kind->name, s->weights[i]);
        vg_part_describe(&s->parts[i], prefix, out);
    }
}

const vg_estimator_kind vg_vote_kind = {
    .name = "vote",
    .summary = "vote:A,B,... soft (weighted mean of probabilities), hard or rank voting over any classifiers",
    .encoding = VG_ENCODING_NATIVE,
    .params_size = sizeof(vote_params),
    .params_default = vote_params_default,
    .params_set = vote_params_set,
    .params_check = vote_params_check,
    .params_describe = vote_params_describe,
    .fit = vote_fit,
    .predict = vote_predict,
    .predict_row = vote_predict_row,
    .n_classes = vote_n_classes,
    .n_features = vote_n_features,
    .save = vote_save,
    .load = vote_load,
    .free = vote_free,
    .describe = vote_describe,
    .n_outputs = vote_n_outputs,
    .explain = vote_explain,
    .outputs = VG_ESTIMATOR_OUT_PROBA,
    .needs_labels = 1,
    .inputs = VG_ESTIMATOR_IN_DENSE,
};
