/* The parts of an ensemble over other families: their parameters as text,
 * the per-part encoder for one-hot families, and fit / predict / explain /
 * save of one part through the estimator vtable (see parts.h). */
#include "models/parts.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "vigil/parallel.h"

/* Wrapper families: a part may not be one (their parts come from a name list
 * a comma-separated list could not nest). */
static int is_wrapper(const char *name)
{
    return strcmp(name, "vote") == 0 || strcmp(name, "stack") == 0;
}

vg_status vg_parts_set_list(vg_parts_spec *s, const char *wrapper, const char *list)
{
    vg_parts_spec t;
    memset(&t, 0, sizeof t);
    const char *p = list;
    for (;;) {
        /* ',' or '+': "vote:gbdt+forest" fits where commas already separate
         * models (vigil compare --models forest,vote:gbdt+forest). */
        const char *comma = strpbrk(p, ",+");
        size_t len = comma ? (size_t)(comma - p) : strlen(p);
        if (len == 0 || len >= VG_PARTS_NAME_LEN)
            return vg_fail(VG_ERR_INVALID, "%s: '%s' is not a list of model names (e.g. %s:gbdt,forest,logreg)",
                           wrapper, list, wrapper);
        if (t.n == VG_PARTS_MAX)
            return vg_fail(VG_ERR_INVALID, "%s: more than %d parts", wrapper, VG_PARTS_MAX);
        memcpy(t.names[t.n], p, len);
        t.names[t.n][len] = '\0';
        const char *name = t.names[t.n];
        const vg_estimator_kind *k = vg_estimator_find(name);
        if (!k || is_wrapper(name))
            return vg_fail(VG_ERR_INVALID, "%s: '%s' is not a model family that can be a part", wrapper, name);
        if (!(k->needs_labels ? k->outputs & VG_ESTIMATOR_OUT_PROBA : k->outputs & VG_ESTIMATOR_OUT_SCORE) ||
            !(k->inputs & VG_ESTIMATOR_IN_DENSE) || (k->inputs & VG_ESTIMATOR_IN_WINDOW))
            return vg_fail(VG_ERR_INVALID, "%s: part '%s' must be a classifier or an anomaly model of single dense "
                           "rows (not an event-window model)", wrapper, name);
        t.n++;
        if (!comma) break;
        p = comma + 1;
    }
    *s = t;
    return VG_OK;
}

int vg_parts_n_anomaly(const vg_parts_spec *s)
{
    int n = 0;
    for (uint32_t i = 0; i < s->n; i++) {
        const vg_estimator_kind *k = vg_estimator_find(s->names[i]);
        n += k && !k->needs_labels;
    }
    return n;
}

int vg_part_is_anomaly(const vg_part *p)
{
    return !p->kind->needs_labels;
}

vg_status vg_parts_set_param(vg_parts_spec *s, const char *wrapper, const char *key, const char *value, int *known)
{
    *known = 0;
    if (strcmp(key, "transform") == 0) {
        if (strcmp(value, "none") == 0) s->transform = VG_PART_TRANSFORM_NONE;
        else if (strcmp(value, "log1p") == 0) s->transform = VG_PART_TRANSFORM_LOG1P;
        else return vg_fail(VG_ERR_INVALID, "parameter transform: '%s' is not none or log1p", value);
        *known = 1;
        return VG_OK;
    }
    const char *dot = strchr(key, '.');
    if (!dot) return VG_OK;
    size_t nlen = (size_t)(dot - key);
    int hits = 0;
    for (uint32_t i = 0; i < s->n; i++) {
        if (strlen(s->names[i]) != nlen || strncmp(s->names[i], key, nlen) != 0) continue;
        if (hits++) continue;  /* same family: same check */
        const vg_estimator_kind *k = vg_estimator_find(s->names[i]);
        void *params = vg_calloc(1, k->params_size);
        if (!params) return vg_fail(VG_ERR_NOMEM, "out of memory");
        k->params_default(params);
        vg_status st = k->params_set(params, dot + 1, value);
        vg_free(params);
        if (st) return st;
    }
    if (!hits) {
        if (s->n == 0) return vg_fail(VG_ERR_INVALID, "parameter %s: %s has no parts yet (give %s:A,B,... first)",
                                      key, wrapper, wrapper);
        return vg_fail(VG_ERR_INVALID, "parameter %s: '%.*s' is not a part of this %s", key, (int)nlen, key, wrapper);
    }
    if (s->n_kv == VG_PARTS_MAX_KV)
        return vg_fail(VG_ERR_INVALID, "parameter %s: more than %d part parameters", key, VG_PARTS_MAX_KV);
    int n = snprintf(s->kv[s->n_kv], VG_PARTS_KV_LEN, "%s=%s", key, value);
    if (n < 0 || n >= VG_PARTS_KV_LEN)
        return vg_fail(VG_ERR_INVALID, "parameter %s: longer than %d bytes", key, VG_PARTS_KV_LEN - 1);
    s->n_kv++;
    *known = 1;
    return VG_OK;
}

void vg_parts_describe(const vg_parts_spec *s, vg_wbuf *out)
{
    for (uint32_t i = 0; i < s->n; i++) vg_wbuf_printf(out, "%s%s", i ? "," : "", s->names[i]);
    for (uint32_t i = 0; i < s->n_kv; i++) vg_wbuf_printf(out, ", %s", s->kv[i]);
    if (s->transform == VG_PART_TRANSFORM_LOG1P) vg_wbuf_printf(out, ", transform=log1p");
}

vg_status vg_parts_params(const vg_parts_spec *s, uint32_t i, void **out)
{
    *out = NULL;
    const vg_estimator_kind *k = vg_estimator_find(s->names[i]);
    if (!k) return vg_fail(VG_ERR_INVALID, "unknown part '%s'", s->names[i]);
    void *params = vg_calloc(1, k->params_size);
    if (!params) return vg_fail(VG_ERR_NOMEM, "out of memory");
    k->params_default(params);
    size_t nlen = strlen(s->names[i]);
    for (uint32_t j = 0; j < s->n_kv; j++) {
        const char *kv = s->kv[j];
        if (strncmp(kv, s->names[i], nlen) != 0 || kv[nlen] != '.') continue;
        char key[VG_PARTS_KV_LEN];
        const char *eq = strchr(kv, '=');
        size_t klen = (size_t)(eq - kv) - nlen - 1;
        memcpy(key, kv + nlen + 1, klen);
        key[klen] = '\0';
        vg_status st = k->params_set(params, key, eq + 1);
        if (st) {
            vg_free(params);
            return st;
        }
    }
    const char *msg = k->params_check(params);
    if (msg) {
        vg_free(params);
        return vg_fail(VG_ERR_INVALID, "part %s: %s", s->names[i], msg);
    }
    *out = params;
    return VG_OK;
}

/* ---- the encoder ---- */

static uint32_t n_sel(const vg_part *p)
{
    return p->sel ? p->n_sel : p->n_in;
}

static uint32_t src_col(const vg_part *p, uint32_t j)
{
    return p->sel ? p->sel[j] : j;
}

/* A numeric value as the encoder reads it. log1p keeps the sign, so a
 * negative value (a difference, a score) stays ordered. */
static double transformed(const vg_part *p, float x)
{
    if (p->transform != VG_PART_TRANSFORM_LOG1P) return x;
    return x < 0 ? -log1p(-(double)x) : log1p((double)x);
}

void vg_part_encode_row(const vg_part *p, const float *row, float *out)
{
    uint32_t k = 0, n = n_sel(p);
    for (uint32_t j = 0; j < n; j++) {
        float x = row[src_col(p, j)];
        if (!p->encode) {
            out[k++] = x;
        } else if (p->n_cats[j]) {
            /* An unseen or missing category (NaN, out of range) is no column at all. */
            memset(out + k, 0, p->n_cats[j] * sizeof *out);
            if (x >= 0 && x < (float)p->n_cats[j]) out[k + (uint32_t)x] = 1.0f;
            k += p->n_cats[j];
        } else {
            out[k++] = isnan(x) ? 0.0f : (float)((transformed(p, x) - p->mean[j]) / p->scale[j]);
        }
    }
}

/* Fit the encoder's means and scales on the chosen rows (weights ignored, as
 * the pipeline does). */
static vg_status encoder_fit(vg_part *p, const vg_train_set *ts, const size_t *rows, size_t n_rows)
{
    uint32_t n = n_sel(p);
    p->n_cats = vg_calloc(n ? n : 1, sizeof *p->n_cats);
    p->mean = vg_calloc(n ? n : 1, sizeof *p->mean);
    p->scale = vg_calloc(n ? n : 1, sizeof *p->scale);
    if (!p->n_cats || !p->mean || !p->scale) return vg_fail(VG_ERR_NOMEM, "out of memory");
    const vg_matrix *X = ts->X;
    uint64_t width = 0;
    for (uint32_t j = 0; j < n; j++) {
        const vg_feature *f = &ts->features[src_col(p, j)];
        if (f->kind == VG_FEATURE_CATEGORICAL) {
            p->n_cats[j] = f->n_categories ? f->n_categories : 1;
            p->scale[j] = 1.0;  /* unused: keeps every saved scale positive */
            width += p->n_cats[j];
            continue;
        }
        width++;
        double s = 0, ss = 0;
        size_t cnt = 0;
        for (size_t i = 0; i < n_rows; i++) {
            float x = X->data[(rows ? rows[i] : i) * X->cols + src_col(p, j)];
            if (isnan(x)) continue;
            s += transformed(p, x);
            cnt++;
        }
        double mean = cnt ? s / (double)cnt : 0.0;
        for (size_t i = 0; i < n_rows; i++) {
            float x = X->data[(rows ? rows[i] : i) * X->cols + src_col(p, j)];
            if (!isnan(x)) ss += (transformed(p, x) - mean) * (transformed(p, x) - mean);
        }
        double sd = cnt ? sqrt(ss / (double)cnt) : 0.0;
        p->mean[j] = mean;
        p->scale[j] = sd > 1e-12 ? sd : 1.0;  /* a constant column stays 0, as scikit-learn's scaler leaves it */
    }
    if (width > (1u << 20)) return vg_fail(VG_ERR_LIMIT, "part %s: %llu one-hot columns are too many",
                                           p->kind->name, (unsigned long long)width);
    p->n_out = (uint32_t)width;
    return VG_OK;
}

vg_status vg_part_fit(const vg_estimator_kind *kind, const void *params, uint32_t transform, const vg_train_set *ts,
                      const size_t *rows, size_t n_rows, const uint32_t *cols, uint32_t n_cols,
                      const vg_fit_options *opt, vg_part *out)
{
    memset(out, 0, sizeof *out);
    vg_part p = { .kind = kind, .n_in = (uint32_t)ts->X->cols };
    if (!rows) n_rows = ts->X->rows;
    vg_status st = VG_OK;
    size_t *normal = NULL;
    if (!kind->needs_labels) {
        /* An anomaly part learns what normal looks like: the rows of class 0
         * (a binary task's negative class), labels dropped. */
        if (!ts->y || ts->n_classes != 2)
            return vg_fail(VG_ERR_INVALID, "anomaly part %s: needs a binary task (it fits on the normal rows)",
                           kind->name);
        normal = vg_malloc((n_rows ? n_rows : 1) * sizeof *normal);
        if (!normal) return vg_fail(VG_ERR_NOMEM, "out of memory");
        size_t k = 0;
        for (size_t i = 0; i < n_rows; i++) {
            size_t r = rows ? rows[i] : i;
            if (ts->y[r] == 0) normal[k++] = r;
        }
        if (k == 0) {
            vg_free(normal);
            return vg_fail(VG_ERR_INVALID, "anomaly part %s: no normal (class 0) rows to fit on", kind->name);
        }
        rows = normal, n_rows = k;
    }
    vg_matrix Xp = { 0 };
    int32_t *y = NULL;
    float *w = NULL;
    vg_feature *feat = NULL;
    if (cols) {
        p.sel = vg_malloc((n_cols ? n_cols : 1) * sizeof *p.sel);
        if (!p.sel) {
            st = vg_fail(VG_ERR_NOMEM, "out of memory");
            goto done;
        }
        memcpy(p.sel, cols, n_cols * sizeof *cols);
        p.n_sel = n_cols;
    }
    p.encode = kind->encoding == VG_ENCODING_ONEHOT_SCALED;
    if (p.encode) {
        p.transform = transform;
        if ((st = encoder_fit(&p, ts, rows, n_rows))) goto done;
    } else {
        p.n_out = n_sel(&p);
    }
    feat = vg_calloc(p.n_out ? p.n_out : 1, sizeof *feat);
    y = ts->y && kind->needs_labels ? vg_malloc((n_rows ? n_rows : 1) * sizeof *y) : NULL;
    w = ts->weight ? vg_malloc((n_rows ? n_rows : 1) * sizeof *w) : NULL;
    if (!feat || (ts->y && kind->needs_labels && !y) || (ts->weight && !w) ||
        (st = vg_matrix_alloc(&Xp, n_rows, p.n_out))) {
        if (!st) st = vg_fail(VG_ERR_NOMEM, "out of memory");
        goto done;
    }
    for (uint32_t j = 0; j < p.n_out; j++) {
        if (p.encode) feat[j] = (vg_feature){ .name = "encoded", .kind = VG_FEATURE_NUMERIC };
        else feat[j] = ts->features[src_col(&p, j)];
    }
    for (size_t i = 0; i < n_rows; i++) {
        size_t r = rows ? rows[i] : i;
        vg_part_encode_row(&p, ts->X->data + r * ts->X->cols, Xp.data + i * p.n_out);
        if (y) y[i] = ts->y[r];
        if (w) w[i] = ts->weight[r];
    }
    vg_train_set sub = { .X = &Xp, .features = feat, .y = y, .weight = w, .n_classes = y ? ts->n_classes : 1 };
    st = kind->fit(params, &sub, opt, &p.state);
done:
    vg_free(normal);
    vg_matrix_free(&Xp);
    vg_free(y), vg_free(w), vg_free(feat);
    if (st) {
        vg_part_free(&p);
        return st;
    }
    *out = p;
    return VG_OK;
}

static int identity(const vg_part *p)
{
    return !p->encode && !p->sel;
}

vg_status vg_part_predict(const vg_part *p, const vg_matrix *X, int threads, float *proba)
{
    if (identity(p)) {
        p->kind->predict(p->state, X, threads, proba);
        return VG_OK;
    }
    /* Blocks bound the encoded copy's memory on a large file. */
    const size_t block = 8192;
    vg_matrix E = { 0 };
    uint32_t C = p->kind->n_classes(p->state);
    vg_status st = vg_matrix_alloc(&E, X->rows < block ? (X->rows ? X->rows : 1) : block, p->n_out);
    if (st) return st;
    for (size_t r0 = 0; r0 < X->rows; r0 += block) {
        size_t n = X->rows - r0 < block ? X->rows - r0 : block;
        vg_matrix in = { .rows = n, .cols = X->cols, .data = X->data + r0 * X->cols };
        vg_matrix enc = { .rows = n, .cols = p->n_out, .data = E.data };
        for (size_t r = 0; r < n; r++) vg_part_encode_row(p, in.data + r * in.cols, enc.data + r * p->n_out);
        p->kind->predict(p->state, &enc, threads, proba + r0 * C);
    }
    vg_matrix_free(&E);
    return VG_OK;
}

vg_status vg_part_predict_row(const vg_part *p, const float *row, float *proba)
{
    float small[512];
    float *enc = (float *)row;
    if (!identity(p)) {
        enc = p->n_out <= 512 ? small : vg_malloc(p->n_out * sizeof *enc);
        if (!enc) return vg_fail(VG_ERR_NOMEM, "out of memory");
        vg_part_encode_row(p, row, enc);
    }
    if (p->kind->predict_row) {
        p->kind->predict_row(p->state, enc, proba);
    } else {
        vg_matrix X = { .rows = 1, .cols = p->n_out, .data = enc };
        p->kind->predict(p->state, &X, 1, proba);
    }
    if (enc != row && enc != small) vg_free(enc);
    return VG_OK;
}

int vg_part_can_explain(const vg_part *p)
{
    return !vg_part_is_anomaly(p) && p->kind->explain && p->kind->n_outputs && p->kind->n_outputs(p->state) > 0;
}

/* p from a bias vector through the link a family's raw scores most likely
 * have: one output = log-odds of class 1, several = softmax of log-odds. */
static void bias_proba(const double *bias, uint32_t n_out, uint32_t C, double *pb)
{
    if (n_out == 1) {
        pb[1] = 1.0 / (1.0 + exp(-bias[0]));
        pb[0] = 1.0 - pb[1];
        return;
    }
    double mx = bias[0], s = 0;
    for (uint32_t c = 1; c < C; c++) mx = bias[c] > mx ? bias[c] : mx;
    for (uint32_t c = 0; c < C; c++) s += pb[c] = exp(bias[c] - mx);
    for (uint32_t c = 0; c < C; c++) pb[c] /= s;
}

vg_status vg_parts_explain_sum(const vg_part *parts, uint32_t n, const double *w, const float *row, uint32_t n_in,
                               uint32_t C, double *contrib)
{
    size_t len = ((size_t)n_in + 1) * C;
    double *one = vg_malloc(len * sizeof *one);
    if (!one) return vg_fail(VG_ERR_NOMEM, "out of memory");
    memset(contrib, 0, len * sizeof *contrib);
    vg_status st = VG_OK;
    for (uint32_t i = 0; i < n && !st; i++) {
        st = vg_part_explain(&parts[i], row, n_in, C, one);
        double wi = w ? w[i] : 1.0 / n;
        for (size_t k = 0; !st && k < len; k++) contrib[k] += wi * one[k];
    }
    vg_free(one);
    return st;
}

vg_status vg_part_explain(const vg_part *p, const float *row, uint32_t n_in, uint32_t C, double *contrib)
{
    if (!vg_part_can_explain(p)) return vg_fail(VG_ERR_UNSUPPORTED, "part %s cannot explain", p->kind->name);
    uint32_t n_out = p->kind->n_outputs(p->state), W = p->n_out;
    if (!(n_out == C || (n_out == 1 && C == 2)) || C > 256)
        return vg_fail(VG_ERR_UNSUPPORTED, "part %s: %u explained outputs for %u classes", p->kind->name, n_out, C);
    float proba[256];
    double *raw = vg_malloc(((size_t)W + 1) * n_out * sizeof *raw);
    float *enc = vg_malloc((W ? W : 1) * sizeof *enc);
    if (!raw || !enc) {
        vg_free(raw), vg_free(enc);
        return vg_fail(VG_ERR_NOMEM, "out of memory");
    }
    vg_part_encode_row(p, row, enc);
    vg_status st = vg_part_predict_row(p, row, proba);
    if (!st) st = p->kind->explain(p->state, enc, raw);
    if (st) {
        vg_free(raw), vg_free(enc);
        return st;
    }
    double sum[256], bias[256], pb[256];
    for (uint32_t o = 0; o < n_out; o++) {
        sum[o] = 0;
        for (uint32_t f = 0; f <= W; f++) sum[o] += raw[(size_t)f * n_out + o];
        bias[o] = raw[(size_t)W * n_out + o];
    }
    /* Already probabilities (forest, tree)? Then keep them as they are. */
    int is_proba = n_out == C;
    for (uint32_t c = 0; c < C && is_proba; c++) is_proba = fabs(sum[c] - proba[c]) < 1e-4;
    if (is_proba) {
        for (uint32_t c = 0; c < C; c++) pb[c] = bias[c];
    } else {
        bias_proba(bias, n_out, C, pb);
    }
    memset(contrib, 0, ((size_t)n_in + 1) * C * sizeof *contrib);
    for (uint32_t c = 0; c < C; c++) {
        /* The output explaining class c and the sign it carries (one output
         * for two classes: class 0 moves opposite to class 1). */
        uint32_t o = n_out == 1 ? 0 : c;
        double sign = n_out == 1 && c == 0 ? -1.0 : 1.0;
        double d = sign * (sum[o] - bias[o]);  /* how far class c's raw score moved from the bias */
        double k = is_proba ? 1.0 : (fabs(d) > 1e-12 ? ((double)proba[c] - pb[c]) / d : 0.0);
        double acc = 0;
        uint32_t e = 0, nsel = n_sel(p);
        for (uint32_t j = 0; j < nsel; j++) {
            uint32_t width = p->encode && p->n_cats[j] ? p->n_cats[j] : 1;
            double v = 0;
            for (uint32_t u = 0; u < width; u++, e++) v += raw[(size_t)e * n_out + o];
            v *= sign * k;
            contrib[(size_t)src_col(p, j) * C + c] += v;
            acc += v;
        }
        /* The bias takes what rounding left, so each class sums exactly. */
        contrib[(size_t)n_in * C + c] = (double)proba[c] - acc;
    }
    vg_free(raw), vg_free(enc);
    return VG_OK;
}

void vg_part_describe(const vg_part *p, const char *prefix, vg_wbuf *out)
{
    if (!p->kind->describe) return;
    vg_wbuf own;
    vg_wbuf_init(&own);
    p->kind->describe(p->state, &own);
    for (size_t i = 0; i < own.len && !own.failed;) {
        const uint8_t *nl = memchr(own.data + i, '\n', own.len - i);
        size_t n = nl ? (size_t)(nl - (own.data + i)) : own.len - i;
        vg_wbuf_printf(out, "%s%.*s\n", prefix, (int)n, (const char *)own.data + i);
        i += n + 1;
    }
    vg_wbuf_free(&own);
}

/* ---- save / load ---- */

/* Version 2 adds the encoder's transform (u32, after the encoder flag of an
 * encoder part); a part without one is still written as version 1, so files
 * that do not use it stay readable by older builds. */
#define PART_FORMAT_VERSION 2u

vg_status vg_part_save(const vg_part *p, vg_wbuf *w)
{
    vg_wbuf_u32(w, p->transform ? PART_FORMAT_VERSION : 1u);
    vg_wbuf_str(w, p->kind->name);
    vg_wbuf_u32(w, p->n_in);
    vg_wbuf_u32(w, p->sel ? 1u : 0u);
    if (p->sel) {
        vg_wbuf_u32(w, p->n_sel);
        vg_wbuf_u32s(w, p->sel, p->n_sel);
    }
    vg_wbuf_u32(w, (uint32_t)p->encode);
    if (p->transform) vg_wbuf_u32(w, p->transform);
    if (p->encode) {
        vg_wbuf_u32s(w, p->n_cats, n_sel(p));
        vg_wbuf_f64s(w, p->mean, n_sel(p));
        vg_wbuf_f64s(w, p->scale, n_sel(p));
    }
    vg_wbuf body;
    vg_wbuf_init(&body);
    vg_status st = p->kind->save(p->state, &body);
    if (!st && body.failed) st = vg_fail(VG_ERR_NOMEM, "out of memory");
    if (!st) {
        vg_wbuf_u64(w, body.len);
        vg_wbuf_bytes(w, body.data, body.len);
    }
    vg_wbuf_free(&body);
    return st;
}

vg_status vg_part_load(vg_rbuf *r, uint32_t n_in, uint32_t n_classes, int allow_anomaly, vg_part *out)
{
    memset(out, 0, sizeof *out);
    vg_part p = { 0 };
    vg_status st = VG_OK;
    char *name = NULL;
    uint32_t version = vg_rbuf_u32(r);
    vg_rbuf_require(r, version >= 1 && version <= PART_FORMAT_VERSION, "ensemble part version");
    name = vg_rbuf_str(r);
    vg_rbuf_require(r, name != NULL, "ensemble part name");
    if ((st = vg_rbuf_check(r))) goto done;
    p.kind = vg_estimator_find(name);
    /* Any labelled dense classifier, a vote or stack too (select holds one),
     * but not select itself: a file cannot nest without end. */
    if (!p.kind || strcmp(name, "select") == 0 || !(p.kind->needs_labels || allow_anomaly) ||
        !(p.kind->inputs & VG_ESTIMATOR_IN_DENSE) || (p.kind->inputs & VG_ESTIMATOR_IN_WINDOW)) {
        st = vg_fail(VG_ERR_FORMAT, "ensemble part: family '%s' cannot be a part here", name);
        goto done;
    }
    p.n_in = vg_rbuf_u32(r);
    vg_rbuf_require(r, p.n_in == n_in, "ensemble part width");
    uint32_t has_sel = vg_rbuf_u32(r);
    vg_rbuf_require(r, has_sel <= 1, "ensemble part column flag");
    if ((st = vg_rbuf_check(r))) goto done;
    if (has_sel) {
        p.n_sel = vg_rbuf_u32(r);
        vg_rbuf_require(r, p.n_sel >= 1 && p.n_sel <= n_in, "ensemble part column count");
        if (!r->failed) p.sel = vg_rbuf_u32s(r, p.n_sel);
        for (uint32_t j = 0; p.sel && j < p.n_sel; j++) vg_rbuf_require(r, p.sel[j] < n_in, "ensemble part column");
    }
    uint32_t enc = vg_rbuf_u32(r);
    vg_rbuf_require(r, enc <= 1 && enc == (p.kind->encoding == VG_ENCODING_ONEHOT_SCALED), "ensemble part encoder flag");
    if (version >= 2) {
        p.transform = vg_rbuf_u32(r);
        vg_rbuf_require(r, enc == 1 && p.transform == VG_PART_TRANSFORM_LOG1P, "ensemble part transform");
    }
    if ((st = vg_rbuf_check(r))) goto done;
    p.encode = (int)enc;
    uint32_t n = n_sel(&p);
    if (p.encode) {
        p.n_cats = vg_rbuf_u32s(r, n);
        if (!r->failed) p.mean = vg_rbuf_f64s(r, n);
        if (!r->failed) p.scale = vg_rbuf_f64s(r, n);
        uint64_t width = 0;
        for (uint32_t j = 0; !r->failed && j < n; j++) {
            vg_rbuf_require(r, p.n_cats[j] <= (1u << 20), "ensemble part categories");
            vg_rbuf_require(r, isfinite(p.mean[j]) && isfinite(p.scale[j]) && p.scale[j] > 0, "ensemble part scale");
            width += p.n_cats[j] ? p.n_cats[j] : 1;
        }
        vg_rbuf_require(r, width <= (1u << 20), "ensemble part width");
        p.n_out = (uint32_t)width;
    } else {
        p.n_out = n;
    }
    uint64_t len = vg_rbuf_u64(r);
    vg_rbuf_require(r, len <= r->len - r->pos, "ensemble part length");
    if ((st = vg_rbuf_check(r))) goto done;
    vg_rbuf sub;
    vg_rbuf_init(&sub, r->data + r->pos, (size_t)len, r->what);
    r->pos += (size_t)len;
    if ((st = p.kind->load(&sub, &p.state))) goto done;
    if (sub.pos != sub.len) {
        st = vg_fail(VG_ERR_FORMAT, "ensemble part %s: %zu bytes left over", name, sub.len - sub.pos);
        goto done;
    }
    if (p.kind->n_classes(p.state) != (p.kind->needs_labels ? n_classes : 1) ||
        (p.kind->n_features && p.kind->n_features(p.state) != p.n_out)) {
        st = vg_fail(VG_ERR_FORMAT, "ensemble part %s: its shape does not match the ensemble's", name);
        goto done;
    }
done:
    vg_free(name);
    if (st) {
        vg_part_free(&p);
        return st;
    }
    *out = p;
    return VG_OK;
}

void vg_part_free(vg_part *p)
{
    if (p->kind && p->state) p->kind->free(p->state);
    vg_free(p->sel), vg_free(p->n_cats), vg_free(p->mean), vg_free(p->scale);
    memset(p, 0, sizeof *p);
}
