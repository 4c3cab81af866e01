/* Training a vg_model from a table: choose the feature columns, decide the
 * classes, fit the pipeline on the training rows only, fit the estimator. */
#include "model_internal.h"
#include "features/window.h"
#include "vigil/decision.h"
#include "vigil/format.h"
#include "vigil/sampler.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Split "key=value" into a key copy and a pointer to the value. */
static vg_status split_param(const char *kv, char *key, size_t key_cap, const char **value)
{
    const char *eq = strchr(kv, '=');
    if (!eq || eq == kv || (size_t)(eq - kv) >= key_cap)
        return vg_fail(VG_ERR_INVALID, "--param '%s': expected KEY=VALUE", kv);
    memcpy(key, kv, (size_t)(eq - kv));
    key[eq - kv] = '\0';
    *value = eq + 1;
    return VG_OK;
}

/* The parameters the train path handles for every family instead of the
 * family's params_set: class_weight (per-row weights), for anomaly models
 * contamination (the operating point), and the text n-gram parameters
 * (ngram_range, n_features), because the pipeline, not the family, makes
 * those columns. */
typedef struct train_params {
    const char *class_weight;   /* NULL: none */
    double contamination;       /* NaN: not given */
    long window;                /* event windows: events per window, 0 = not given */
    vg_textgrams_params text;
} train_params;

static int is_anomaly_kind(const vg_estimator_kind *k)
{
    return !k->needs_labels && (k->outputs & VG_ESTIMATOR_OUT_SCORE);
}

/* Apply rq->params to a fresh parameter block; the parameters above go to tp. */
static vg_status build_params(const vg_train_request *rq, const vg_estimator_kind *kind, void *params,
                              train_params *tp)
{
    kind->params_default(params);
    *tp = (train_params){ .contamination = NAN, .text = vg_textgrams_params_default() };
    const char *parts = rq->model ? strchr(rq->model, ':') : NULL;  /* "vote:gbdt,forest" */
    if (parts) {
        vg_status st = kind->params_set(params, "estimators", parts + 1);
        if (st) return st;
    }
    for (size_t i = 0; i < rq->n_params; i++) {
        char key[128];
        const char *value = NULL;
        vg_status st = split_param(rq->params[i], key, sizeof key, &value);
        if (st) return st;
        if (strcmp(key, "class_weight") == 0) {
            tp->class_weight = value;
            continue;
        }
        if (strcmp(key, "window") == 0 && (kind->inputs & VG_ESTIMATOR_IN_WINDOW)) {
            if ((st = vg_param_int(key, value, 1, VG_WINDOW_MAX, &tp->window))) return st;
            continue;
        }
        if (strcmp(key, "contamination") == 0 && is_anomaly_kind(kind)) {
            if ((st = vg_param_double(key, value, 1e-9, 0.5, &tp->contamination))) return st;
            continue;
        }
        if (vg_textgrams_is_param(key)) {
            if (!vg_estimator_reads_sparse(kind, rq->data.n_text) || rq->data.n_text == 0)
                return vg_fail(VG_ERR_INVALID, "parameter %s: text n-grams are made for --text columns and a "
                               "model that reads sparse rows (logreg, linear-svm); model %s%s", key, kind->name,
                               rq->data.n_text ? " reads dense rows" : ", no --text column");
            if ((st = vg_textgrams_params_set(&tp->text, key, value))) return st;
            continue;
        }
        st = kind->params_set(params, key, value);
        if (st) return st;
    }
    const char *msg = kind->params_check(params);
    if (msg) return vg_fail(VG_ERR_INVALID, "model %s: %s", kind->name, msg);
    return VG_OK;
}

void vg_model_params_describe(const vg_model *m, vg_wbuf *out)
{
    const vg_train_request rq = { .params = (const char *const *)m->params.items, .n_params = m->params.n };
    void *params = vg_calloc(1, m->kind->params_size);
    train_params tp;
    /* The stored parameters were accepted at training; should a newer vigil
     * refuse one, the list as given is all there is to show. */
    vg_train_request rq2 = rq;
    rq2.data.n_text = vg_pipeline_n_text(m->pipeline);
    if (!params || build_params(&rq2, m->kind, params, &tp) || !m->kind->params_describe) {
        for (size_t i = 0; i < m->params.n; i++) vg_wbuf_printf(out, "%s%s", i ? ", " : "", m->params.items[i]);
    } else {
        m->kind->params_describe(params, out);
        if (!is_anomaly_kind(m->kind)) vg_wbuf_printf(out, ", class_weight=%s", tp.class_weight ? tp.class_weight : "none");
        if (rq2.data.n_text)
            vg_wbuf_printf(out, ", ngram_range=%u,%u, n_features=%u", tp.text.ngram_min, tp.text.ngram_max,
                           tp.text.n_features);
    }
    vg_free(params);
}

/* "a, b" of the registered families that offer one of `outputs` (for
 * messages; ~0u: every family). */
static const char *families_with(unsigned outputs)
{
    static _Thread_local char names[256];
    names[0] = '\0';
    for (const vg_estimator_kind *const *k = vg_estimator_all(); *k; k++) {
        if (!((*k)->outputs & outputs)) continue;
        if (names[0]) strncat(names, ", ", sizeof names - strlen(names) - 1);
        strncat(names, (*k)->name, sizeof names - strlen(names) - 1);
    }
    return names;
}

static const vg_estimator_kind *find_kind(const char *name)
{
    const vg_estimator_kind *kind = vg_estimator_find(name ? name : "forest");
    if (!kind) vg_fail(VG_ERR_INVALID, "--model: unknown model '%s' (available: %s)", name, families_with(~0u));
    return kind;
}

/* --model F --param stack_anomaly=A is the hybrid (models/hybrid.c) with
 * model=F as its first parameter: fills *rq2 (its params in *list, which the
 * caller frees with vg_free, and list[0] with it) and returns 1 if rq asks
 * for one; 0 otherwise, or -1 out of memory. */
static int hybrid_request(const vg_train_request *rq, vg_train_request *rq2, char ***list)
{
    *list = NULL;
    if (rq->model && strcmp(rq->model, vg_hybrid_kind.name) == 0) return 0;
    int asked = 0;
    for (size_t i = 0; i < rq->n_params; i++)
        asked |= strncmp(rq->params[i], "stack_anomaly=", 14) == 0 || strncmp(rq->params[i], "stack_anomaly.", 14) == 0;
    if (!asked) return 0;
    char **l = vg_calloc(rq->n_params + 1, sizeof *l);
    size_t len = strlen(rq->model ? rq->model : "forest") + 7;
    if (!l || !(l[0] = vg_malloc(len))) {
        vg_free(l);
        vg_fail(VG_ERR_NOMEM, "out of memory");
        return -1;
    }
    snprintf(l[0], len, "model=%s", rq->model ? rq->model : "forest");
    for (size_t i = 0; i < rq->n_params; i++) l[i + 1] = (char *)rq->params[i];
    *rq2 = *rq;
    rq2->model = vg_hybrid_kind.name;
    rq2->params = (const char *const *)l;
    rq2->n_params = rq->n_params + 1;
    *list = l;
    return 1;
}

static void hybrid_request_free(char **list)
{
    if (list) vg_free(list[0]);
    vg_free(list);
}

static vg_status check_request(const vg_train_request *rq)
{
    vg_train_request rq2;
    char **list;
    int h = hybrid_request(rq, &rq2, &list);
    if (h < 0) return VG_ERR_NOMEM;
    if (h) {
        vg_status st = check_request(&rq2);
        hybrid_request_free(list);
        return st;
    }
    const vg_estimator_kind *kind = find_kind(rq->model);
    if (!kind) return VG_ERR_INVALID;
    void *params = vg_calloc(1, kind->params_size);
    if (!params) return vg_fail(VG_ERR_NOMEM, "out of memory");
    train_params tp;
    vg_status st = build_params(rq, kind, params, &tp);
    vg_free(params);
    if (st) return st;
    const char *cw = tp.class_weight;
    if (cw && is_anomaly_kind(kind))
        return vg_fail(VG_ERR_INVALID, "parameter class_weight: model '%s' is fitted without labels", kind->name);
    if (cw && strcmp(cw, "balanced") != 0 && strcmp(cw, "none") != 0 && !strchr(cw, ':'))
        return vg_fail(VG_ERR_INVALID, "parameter class_weight: '%s' is not 'balanced', 'none' or "
                                       "CLASS:WEIGHT,...", cw);
    if (!is_anomaly_kind(kind) && (rq->fit_on_normal || rq->contamination != 0))
        return vg_fail(VG_ERR_INVALID, "%s: model '%s' learns from labels; --fit-on, --contamination and "
                                       "--alert-rate go with the anomaly models (%s)",
                       rq->fit_on_normal ? "--fit-on" : "--contamination", kind->name,
                       families_with(VG_ESTIMATOR_OUT_SCORE));
    if (rq->contamination != 0 && !isnan(tp.contamination))
        return vg_fail(VG_ERR_INVALID, "--contamination or --alert-rate, and --param contamination: give one");
    if (rq->contamination != 0 && !(rq->contamination > 0 && rq->contamination <= 0.5))
        return vg_fail(VG_ERR_INVALID, "--contamination: %g is not in (0, 0.5]", rq->contamination);
    if (is_anomaly_kind(kind) && (rq->data.task != VG_TASK_BINARY))
        return vg_fail(VG_ERR_INVALID, "--task %s: model '%s' tells normal from anomalous (--task binary); its "
                                       "evaluation reports each label's recall", vg_task_str(rq->data.task), kind->name);
    vg_sampler_params sp;
    if (rq->sampler && (st = vg_sampler_params_parse(rq->sampler, rq->sampler_params, rq->n_sampler_params, &sp)))
        return st;
    if (rq->sampler && (rq->data.task == VG_TASK_REGRESSION || is_anomaly_kind(kind)))
        return vg_fail(VG_ERR_INVALID, "--sampler: resampling classes is not meaningful for %s",
                       is_anomaly_kind(kind) ? "a model that learns without labels" : "--task regression");
    return VG_OK;
}

/* Per-row weights from class_weight: "balanced" gives each class
 * rows / (n_classes * count_c), as scikit-learn does; "NAME:W,NAME:W" sets
 * chosen classes (others 1). Returns NULL weights for "none"/absent. */
static vg_status class_weights(const char *spec, const vg_classes *classes, const int32_t *y, size_t rows,
                               float **out)
{
    *out = NULL;
    if (!spec || strcmp(spec, "none") == 0) return VG_OK;
    double *w = vg_malloc(classes->n * sizeof *w);
    float *rw = vg_malloc((rows ? rows : 1) * sizeof *rw);
    if (!w || !rw) {
        vg_free(w), vg_free(rw);
        return vg_fail(VG_ERR_NOMEM, "out of memory");
    }
    for (uint32_t c = 0; c < classes->n; c++) w[c] = 1.0;
    vg_status st = VG_OK;
    if (strcmp(spec, "balanced") == 0) {
        size_t *count = vg_calloc(classes->n, sizeof *count);
        if (!count) st = vg_fail(VG_ERR_NOMEM, "out of memory");
        for (size_t r = 0; count && r < rows; r++) count[y[r]]++;
        for (uint32_t c = 0; count && c < classes->n; c++)
            w[c] = count[c] ? (double)rows / ((double)classes->n * (double)count[c]) : 1.0;
        vg_free(count);
    } else {
        const char *p = spec;
        while (*p && !st) {
            const char *comma = strchr(p, ',');
            size_t len = comma ? (size_t)(comma - p) : strlen(p);
            const char *colon = memchr(p, ':', len);
            char name[256];
            size_t nlen = colon ? (size_t)(colon - p) : 0;
            if (!colon || nlen == 0 || nlen >= sizeof name) {
                st = vg_fail(VG_ERR_INVALID, "parameter class_weight: '%.*s' is not CLASS:WEIGHT", (int)len, p);
                break;
            }
            memcpy(name, p, nlen);
            name[nlen] = '\0';
            char num[64];
            size_t vlen = len - nlen - 1;
            if (vlen >= sizeof num) vlen = sizeof num - 1;
            memcpy(num, colon + 1, vlen);
            num[vlen] = '\0';
            char *end;
            double v = strtod(num, &end);
            if (end == num || *end || !(v > 0) || !isfinite(v)) {
                st = vg_fail(VG_ERR_INVALID, "parameter class_weight: weight '%s' for '%s' is not a "
                                             "positive number", num, name);
                break;
            }
            uint32_t c = 0;
            while (c < classes->n && strcmp(classes->names[c], name) != 0) c++;
            if (c == classes->n) {
                st = vg_fail(VG_ERR_INVALID, "parameter class_weight: '%s' is not a class (classes: %s, %s%s)",
                             name, classes->names[0], classes->names[1], classes->n > 2 ? ", ..." : "");
                break;
            }
            w[c] = v;
            p = comma ? comma + 1 : p + len;
        }
    }
    for (size_t r = 0; r < rows; r++) rw[r] = (float)w[y[r]];
    vg_free(w);
    if (st) {
        vg_free(rw);
        return st;
    }
    *out = rw;
    return VG_OK;
}

static int in_list(const char *name, const char *const *list, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(name, list[i]) == 0) return 1;
    return 0;
}

/* A categorical column whose every value is distinct in the training rows (a
 * session or event id) cannot generalise and would only make the model
 * memorise rows. The training rows decide: after --split the table holds the
 * whole file's categories, which a row count of the training part would never
 * match. */
static int looks_like_id(const vg_table *t, size_t col)
{
    size_t rows = vg_table_rows(t);
    if (vg_table_type(t, col) != VG_COLUMN_CATEGORICAL || rows < 50) return 0;
    uint32_t n = vg_table_n_categories(t, col);
    if (n < rows) return 0;
    unsigned char *seen = vg_calloc(n, 1);
    if (!seen) return 0;  /* out of memory: keep the column, the pipeline's fit will say so */
    const uint32_t *codes = vg_table_codes(t, col);
    int distinct = 1;
    for (size_t r = 0; r < rows && distinct; r++) {
        if (codes[r] == VG_CODE_MISSING || seen[codes[r]]) distinct = 0;
        else seen[codes[r]] = 1;
    }
    vg_free(seen);
    return distinct;
}

/* The feature columns: everything but the label, ignored columns, the
 * format's truth columns (KDD's difficulty) and id-like columns. */
/* 1 if name is a column vigil made from text column `text` ("url.url_length"). */
static int made_from(const char *name, const char *text)
{
    size_t n = strlen(text);
    return strncmp(name, text, n) == 0 && strncmp(name + n, ".url_", 5) == 0;
}

/* 1 if column `name` of t is an IP column: its features sit beside it. */
static int is_ip_column(const vg_table *t, const char *name)
{
    char probe[600];
    snprintf(probe, sizeof probe, "%s.ip_net24", name);
    return vg_table_find(t, probe) >= 0;
}

/* The IP columns of t (found by their values or given by --ip), which
 * prediction expands again. */
static vg_status copy_ip_columns(vg_model *m, const vg_table *t, const char *geoip)
{
    size_t n = 0, ncols = vg_table_cols(t);
    const char **names = vg_calloc(ncols + 1, sizeof *names);
    if (!names) return vg_fail(VG_ERR_NOMEM, "out of memory");
    for (size_t c = 0; c < ncols; c++)
        if (is_ip_column(t, vg_table_name(t, c))) names[n++] = vg_table_name(t, c);
    vg_status st = vg_string_list_copy(&m->ip, names, n);
    vg_free(names);
    if (!st && n && geoip && !(m->ip_geoip = vg_strdup(geoip))) st = vg_fail(VG_ERR_NOMEM, "out of memory");
    return st;
}

/* The feature columns (text_sparse: the --text columns become n-gram inputs
 * of the pipeline, so their URL feature columns are left out). */
static vg_status choose_features(const vg_train_request *rq, size_t label_col, int text_sparse, size_t **cols,
                                 size_t *n)
{
    const vg_table *t = rq->table;
    for (size_t i = 0; i < rq->data.n_ignore; i++)
        if (vg_table_find(t, rq->data.ignore[i]) < 0)
            return vg_fail(VG_ERR_INVALID, "--ignore: %s has no column '%s'", vg_table_source(t), rq->data.ignore[i]);
    for (size_t i = 0; i < rq->data.n_categorical; i++)
        if (vg_table_find(t, rq->data.categorical[i]) < 0)
            return vg_fail(VG_ERR_INVALID, "--categorical: %s has no column '%s'", vg_table_source(t),
                           rq->data.categorical[i]);
    const char *roles[2] = { rq->data.entity, rq->data.order }, *flags[2] = { "--entity", "--order" };
    for (int i = 0; i < 2; i++)
        if (roles[i] && vg_table_find(t, roles[i]) < 0)
            return vg_fail(VG_ERR_INVALID, "%s: %s has no column '%s'", flags[i], vg_table_source(t), roles[i]);
    const vg_format *f = vg_data_format(&rq->data);
    size_t ncols = vg_table_cols(t);
    *cols = vg_malloc(ncols * sizeof **cols);
    if (!*cols) return vg_fail(VG_ERR_NOMEM, "out of memory");
    *n = 0;
    for (size_t c = 0; c < ncols; c++) {
        const char *name = vg_table_name(t, c);
        if (c == label_col || in_list(name, rq->data.ignore, rq->data.n_ignore)) continue;
        if ((roles[0] && strcmp(name, roles[0]) == 0) || (roles[1] && strcmp(name, roles[1]) == 0))
            continue;  /* who and when: the windows' keys, never features */
        if (in_list(name, rq->data.text, rq->data.n_text)) continue;  /* its URL features or its n-grams are */
        if (is_ip_column(t, name)) continue;  /* its networks, class and flags are (vigil/ipfeat.h) */
        int derived = 0;
        for (size_t i = 0; text_sparse && i < rq->data.n_text && !derived; i++) derived = made_from(name, rq->data.text[i]);
        if (derived) continue;
        if (f && vg_format_is_truth(f, name, strlen(name))) continue;  /* truth, whatever the task */
        if (looks_like_id(t, c)) {
            vg_log(VG_LOG_WARN, "column '%s' looks like an id (all %zu values distinct in the training "
                                "rows); not used as a feature (use --ignore to say so explicitly)", name, vg_table_rows(t));
            continue;
        }
        (*cols)[(*n)++] = c;
    }
    if (*n == 0 && !text_sparse) {
        vg_free(*cols);
        *cols = NULL;  /* the caller frees it on every error path */
        return vg_fail(VG_ERR_INVALID, "%s: no feature columns left after the label and --ignore",
                       vg_table_source(t));
    }
    return VG_OK;
}

/* Event windows for a family that reads them: --param window=T (default 8)
 * events of the entity named by --entity, or a log format's own entity
 * column. Without an entity, or with window=1, the family reads single rows
 * (m->window stays 0). --entity and --order for a family that reads single
 * rows are an error rather than silently unused. */
static vg_status choose_windows(const vg_train_request *rq, const vg_estimator_kind *kind, long window,
                                const vg_table *t, vg_model *m)
{
    if (!(kind->inputs & VG_ESTIMATOR_IN_WINDOW)) {
        if (rq->data.entity || rq->data.order)
            return vg_fail(VG_ERR_INVALID, "%s: model '%s' scores single rows; --entity and --order give event "
                           "windows to lstm and gru", rq->data.entity ? "--entity" : "--order", kind->name);
        return VG_OK;
    }
    const vg_format *f = vg_data_format(&rq->data);
    const char *entity = rq->data.entity;
    if (!entity && f && f->log && vg_table_find(t, VG_LOGFMT_ENTITY_COLUMN) >= 0) entity = VG_LOGFMT_ENTITY_COLUMN;
    const long T = window ? window : 8;
    if (!entity || T == 1) {
        if (rq->data.order) return vg_fail(VG_ERR_INVALID, "--order: goes with --entity (windows of one entity's events)");
        if (!entity && window > 1)
            return vg_fail(VG_ERR_INVALID, "parameter window: %ld events of which entity? give --entity COL", window);
        vg_log(VG_LOG_INFO, "%s: %s; each row is scored alone", kind->name,
               entity ? "window=1" : "no entity column (--entity)");
        return VG_OK;
    }
    m->window = (uint32_t)T;
    m->entity = vg_strdup(entity);
    m->order = rq->data.order ? vg_strdup(rq->data.order) : NULL;
    if (!m->entity || (rq->data.order && !m->order)) return vg_fail(VG_ERR_NOMEM, "out of memory");
    return VG_OK;
}

/* The model's parameters as given, an ensemble's parts ("vote:a,b") first
 * as "estimators=a,b", so the saved list alone rebuilds the parameters. */
static vg_status copy_params(vg_model *m, const vg_train_request *rq)
{
    const char *parts = rq->model ? strchr(rq->model, ':') : NULL;
    if (!parts) return vg_string_list_copy(&m->params, rq->params, rq->n_params);
    const char **all = vg_malloc((rq->n_params + 1) * sizeof *all);
    char *first = vg_malloc(strlen(parts) + sizeof "estimators=");
    vg_status st = all && first ? VG_OK : vg_fail(VG_ERR_NOMEM, "out of memory");
    if (!st) {
        sprintf(first, "estimators=%s", parts + 1);
        all[0] = first;
        for (size_t i = 0; i < rq->n_params; i++) all[i + 1] = rq->params[i];
        st = vg_string_list_copy(&m->params, all, rq->n_params + 1);
    }
    vg_free(all), vg_free(first);
    return st;
}

static vg_status copy_spec(vg_model *m, const vg_train_request *rq, const char *label)
{
    m->format = vg_strdup(rq->data.format ? rq->data.format : vg_format_default()->name);
    m->label = vg_strdup(label);
    m->positive = vg_strdup(rq->data.positive);
    m->task = rq->data.task;
    vg_status st = vg_string_list_copy(&m->ignore, rq->data.ignore, rq->data.n_ignore);
    if (!st) st = vg_string_list_copy(&m->categorical, rq->data.categorical, rq->data.n_categorical);
    if (!st) st = vg_string_list_copy(&m->text, rq->data.text, rq->data.n_text);
    if (!st) st = copy_ip_columns(m, rq->table, rq->data.geoip);
    if (!st) st = copy_params(m, rq);
    if (vg_logfmt_find(m->format)) {  /* a log format: its options are the model's */
        vg_logfmt_options lo = rq->data.log ? *rq->data.log : vg_logfmt_options_default();
        m->log_label = vg_strdup(lo.label);
        m->log_geoip = vg_strdup(lo.geoip_path);
        m->log_max_entities = lo.max_entities;
        m->log_entity_ttl = lo.entity_ttl;
        if ((lo.label && !m->log_label) || (lo.geoip_path && !m->log_geoip)) st = vg_fail(VG_ERR_NOMEM, "out of memory");
    }
    m->data_name = vg_strdup(vg_table_source(rq->table));
    m->vigil_version = vg_strdup(VG_VERSION_STRING);
    if (!st && (!m->format || !m->label || !m->data_name || !m->vigil_version ||
                (rq->data.positive && !m->positive)))
        st = vg_fail(VG_ERR_NOMEM, "out of memory");
    return st;
}

/* The label column of an anomaly model's data: --label, else the format's
 * label (kdd, the logs), else a csv column named "label" (the last column is
 * not taken for one: unlabelled rows are the usual case). Labels, when the
 * data has them, choose the rows of --fit-on normal and evaluate; they are
 * never learned from. */
static const char *anomaly_label(const vg_train_request *rq)
{
    if (rq->data.label) return rq->data.label;
    return vg_data_format(&rq->data) == vg_format_default() ? "label" : vg_data_label(rq->table, &rq->data);
}

/* The classes of an anomaly model without labels: normal and anomaly, where
 * data evaluated later counts every label but "normal" as an anomaly. */
static vg_status unlabelled_classes(vg_classes *c)
{
    c->names = vg_calloc(2, sizeof *c->names);
    if (!c->names) return vg_fail(VG_ERR_NOMEM, "out of memory");
    c->n = 2;
    c->names[0] = vg_strdup("normal");
    c->names[1] = vg_strdup("anomaly");
    c->negative_value = vg_strdup("normal");
    return c->names[0] && c->names[1] && c->negative_value ? VG_OK : vg_fail(VG_ERR_NOMEM, "out of memory");
}

/* Rows labelled normal (--fit-on normal) as a table of their own, so the
 * pipeline's medians and scales are those of the rows the model fits. */
static vg_status normal_rows(const vg_table *t, const int32_t *y, int32_t normal, vg_table **out)
{
    size_t rows = vg_table_rows(t), n = 0;
    size_t *idx = vg_malloc(rows * sizeof *idx);
    if (!idx) return vg_fail(VG_ERR_NOMEM, "out of memory");
    for (size_t r = 0; r < rows; r++)
        if (y[r] == normal) idx[n++] = r;
    vg_status st = n < 2 ? vg_fail(VG_ERR_DATA, "--fit-on normal: %s has %zu rows labelled normal, too few to fit on",
                                   vg_table_source(t), n)
                         : vg_table_take(t, idx, n, out);
    vg_free(idx);
    return st;
}

/* An anomaly model's operating point from its own training scores: the
 * threshold at which `contamination` of the fitted rows score at or above
 * it (or the user's --threshold). */
static vg_status set_operating_point(vg_model *m, const vg_train_request *rq, double contamination,
                                     const vg_matrix *X, const vg_csr *Xs)
{
    if (rq->threshold_set) return VG_OK;
    size_t rows = Xs ? Xs->rows : X->rows;
    const float *kept = m->kind->fit_scores ? m->kind->fit_scores(m->state, rows) : NULL;
    float *scores = kept ? NULL : vg_malloc((rows ? rows : 1) * sizeof *scores);
    if (!kept && !scores) return vg_fail(VG_ERR_NOMEM, "out of memory");
    if (!kept && Xs) m->kind->predict_sparse(m->state, Xs, rq->threads, scores);
    else if (!kept) m->kind->predict(m->state, X, rq->threads, scores);
    vg_status st = vg_threshold_at_share(kept ? kept : scores, rows, contamination, &m->threshold);
    vg_free(scores);
    if (st) return st;
    char by[160];
    snprintf(by, sizeof by, "contamination %g of the %zu %srows fitted", contamination, rows,
             rq->fit_on_normal ? "normal " : "");
    return (m->threshold_by = vg_strdup(by)) ? VG_OK : vg_fail(VG_ERR_NOMEM, "out of memory");
}

/* Resample the training rows and record in m what the sampler did: its
 * name and parameters, and the rows per class before and after, which
 * `vigil inspect` shows (the rows a model saw are not the file's rows). */
static vg_status run_sampler(const vg_train_request *rq, vg_model *m, vg_matrix *X, int32_t **y, float **weights)
{
    uint32_t k = m->classes.n;
    size_t *before = vg_calloc(2 * (size_t)k + 1, sizeof *before), *after = before ? before + k : NULL;
    if (!before) return vg_fail(VG_ERR_NOMEM, "out of memory");
    size_t rows_before = X->rows;
    for (size_t r = 0; r < X->rows; r++)
        if ((*y)[r] >= 0 && (uint32_t)(*y)[r] < k) before[(*y)[r]]++;
    vg_status st = vg_sampler_run(rq->sampler, rq->sampler_params, rq->n_sampler_params,
                                  vg_pipeline_features(m->pipeline), k, rq->seed, rq->threads, X, y, weights);
    if (!st) {
        for (size_t r = 0; r < X->rows; r++)
            if ((*y)[r] >= 0 && (uint32_t)(*y)[r] < k) after[(*y)[r]]++;
        vg_wbuf w;
        vg_wbuf_init(&w);
        for (uint32_t c = 0; c < k; c++)
            vg_wbuf_printf(&w, "%s%s: %zu -> %zu", c ? ", " : "", m->classes.names[c], before[c], after[c]);
        vg_wbuf_u8(&w, 0);
        m->sampler = vg_strdup(rq->sampler);
        m->sampler_classes = w.failed ? NULL : vg_strdup((const char *)w.data);
        m->sampler_rows_before = rows_before;
        m->sampler_rows_after = X->rows;
        if (w.failed || !m->sampler || !m->sampler_classes ||
            vg_string_list_copy(&m->sampler_params, rq->sampler_params, rq->n_sampler_params))
            st = vg_fail(VG_ERR_NOMEM, "out of memory");
        vg_wbuf_free(&w);
    }
    vg_free(before);
    return st;
}

static vg_status train_model(const vg_train_request *rq, vg_model **out)
{
    *out = NULL;
    vg_train_request rq2;
    char **list;
    int h = hybrid_request(rq, &rq2, &list);
    if (h < 0) return VG_ERR_NOMEM;
    if (h) {
        vg_status st = train_model(&rq2, out);
        hybrid_request_free(list);
        return st;
    }
    const vg_table *t = rq->table;
    vg_status st = check_request(rq);
    if (st) return st;
    const vg_estimator_kind *kind = find_kind(rq->model);
    int anomaly = is_anomaly_kind(kind);
    const char *label = anomaly ? anomaly_label(rq) : vg_data_label(t, &rq->data);
    long label_col = vg_table_find(t, label);
    if (label_col < 0 && (!anomaly || rq->data.label))
        return vg_fail(VG_ERR_INVALID, "--label: %s has no column '%s'", vg_table_source(t), label);
    if (label_col < 0 && rq->fit_on_normal)
        return vg_fail(VG_ERR_INVALID, "--fit-on normal: %s has no label column '%s' to find the normal rows by",
                       vg_table_source(t), label);
    size_t rows = vg_table_rows(t);
    if (rows < 2) return vg_fail(VG_ERR_DATA, "%s: %zu rows are too few to train on", vg_table_source(t), rows);

    double t0 = vg_now();
    vg_model *m = vg_calloc(1, sizeof *m);
    int32_t *y = vg_malloc(rows * sizeof *y);
    void *params = vg_calloc(1, kind->params_size);
    size_t *cols = NULL, n_cols = 0;
    float *weights = NULL, *target = NULL;
    vg_table *fit_rows = NULL;  /* --fit-on normal: the normal rows; else t itself */
    vg_matrix X = { 0 };
    vg_csr Xs = { 0 };
    int sparse = vg_estimator_reads_sparse(kind, rq->data.n_text), text_sparse = sparse && rq->data.n_text > 0;
    if (!m || !y || !params) {
        st = vg_fail(VG_ERR_NOMEM, "out of memory");
        goto err;
    }
    m->kind = kind;
    m->threshold = NAN;
    if (rq->threshold_set) {
        if (!isfinite(rq->threshold)) {
            st = vg_fail(VG_ERR_INVALID, "--threshold: must be a finite number");
            goto err;
        }
        m->threshold = rq->threshold;
        if (!(m->threshold_by = vg_strdup(rq->threshold_by ? rq->threshold_by : "train --threshold"))) {
            st = vg_fail(VG_ERR_NOMEM, "out of memory");
            goto err;
        }
    }
    if ((st = copy_spec(m, rq, label))) goto err;
    int regression = rq->data.task == VG_TASK_REGRESSION;
    if (regression) {
        if (!(kind->outputs & VG_ESTIMATOR_OUT_VALUE)) {
            st = vg_fail(VG_ERR_INVALID, "--task regression: model '%s' does not do regression (%s do)", kind->name,
                         families_with(VG_ESTIMATOR_OUT_VALUE));
            goto err;
        }
        target = vg_malloc(rows * sizeof *target);
        m->classes.names = vg_calloc(1, sizeof *m->classes.names);
        if (!target || !m->classes.names || !(m->classes.names[0] = vg_strdup(label))) {
            st = vg_fail(VG_ERR_NOMEM, "out of memory");
            goto err;
        }
        m->classes.n = 1;
        if ((st = vg_targets_read(t, (size_t)label_col, target))) goto err;
    } else if (label_col >= 0) {
        vg_label_spec spec = vg_model_label_spec(m);
        spec.normal = rq->data.normal;
        if ((st = vg_classes_fit(t, (size_t)label_col, &spec, &m->classes, y))) goto err;
    } else if ((st = unlabelled_classes(&m->classes))) {
        goto err;
    }
    if ((st = choose_features(rq, label_col < 0 ? SIZE_MAX : (size_t)label_col, text_sparse, &cols, &n_cols)))
        goto err;
    if (rq->fit_on_normal && (st = normal_rows(t, y, vg_decision_normal_class(&m->classes), &fit_rows))) goto err;
    const vg_table *ft = fit_rows ? fit_rows : t;

    vg_pipeline_params pp = vg_pipeline_params_default();
    train_params tp;
    if ((st = build_params(rq, kind, params, &tp))) goto err;
    pp.textgrams = tp.text;
    pp.encoding = kind->params_encoding ? kind->params_encoding(params) : kind->encoding;
    pp.threads = rq->threads;
    if (text_sparse) pp.text = rq->data.text, pp.n_text = rq->data.n_text;
    if ((st = vg_pipeline_fit(ft, cols, n_cols, &pp, &m->pipeline))) goto err;
    if (sparse ? (st = vg_pipeline_transform_csr(m->pipeline, ft, &Xs)) : (st = vg_pipeline_transform(m->pipeline, ft, &X)))
        goto err;
    if ((st = choose_windows(rq, kind, tp.window, ft, m)) || (st = vg_model_window_rows(m, ft, &X))) goto err;

    if (regression && tp.class_weight) {
        st = vg_fail(VG_ERR_INVALID, "parameter class_weight: not meaningful for --task regression");
        goto err;
    }
    if (!regression && !anomaly && (st = class_weights(tp.class_weight, &m->classes, y, rows, &weights))) goto err;
    /* After the pipeline and class weights, on this fit's rows only. */
    if (rq->sampler && sparse) {
        st = vg_fail(VG_ERR_INVALID, "--sampler: model '%s' reads sparse rows; the samplers work on dense ones",
                     kind->name);
        goto err;
    }
    if (rq->sampler && m->window) {
        st = vg_fail(VG_ERR_INVALID, "--sampler: model '%s' reads event windows; the samplers make single rows "
                     "(use class_weight=balanced)", kind->name);
        goto err;
    }
    if (rq->sampler && (st = run_sampler(rq, m, &X, &y, &weights))) goto err;
    vg_train_set ts = { .X = sparse ? NULL : &X, .Xs = sparse ? &Xs : NULL,
                        .features = vg_pipeline_features(m->pipeline), .y = regression || anomaly ? NULL : y,
                        .weight = weights, .n_classes = anomaly ? 1 : m->classes.n, .target = target,
                        .window = m->window };
    vg_fit_options fo = { .seed = rq->seed, .threads = rq->threads, .progress = rq->progress,
                          .progress_user = rq->progress_user };
    if ((st = kind->fit(params, &ts, &fo, &m->state))) goto err;
    if (anomaly) {
        double c = rq->contamination != 0 ? rq->contamination
                   : !isnan(tp.contamination) ? tp.contamination
                                              : VG_DEFAULT_CONTAMINATION;
        if ((st = set_operating_point(m, rq, c, &X, sparse ? &Xs : NULL))) goto err;
    }

    m->seed = rq->seed;
    m->threads = rq->threads;
    m->train_rows = sparse ? Xs.rows : X.rows;
    m->train_seconds = vg_now() - t0;
    m->data_checksum = vg_table_checksum(t);
    m->created = (int64_t)time(NULL);
    vg_matrix_free(&X);
    vg_table_free(fit_rows);
    vg_csr_free(&Xs);
    vg_free(y), vg_free(params), vg_free(cols), vg_free(weights), vg_free(target);
    *out = m;
    return VG_OK;
err:
    vg_matrix_free(&X);
    vg_table_free(fit_rows);
    vg_csr_free(&Xs);
    vg_free(y), vg_free(params), vg_free(cols), vg_free(weights), vg_free(target);
    vg_model_free(m);
    return st;
}

/* --select K: the same request for the "select" family over rq->model, its
 * parameters first ("estimator=", "k=", "by=", then the model's own). The
 * strings live in *sel (free with selection_free). */
typedef struct selection {
    vg_train_request rq;
    const char **params;
    char *text[3];
} selection;

static void selection_free(selection *s)
{
    vg_free(s->params);
    for (int i = 0; i < 3; i++) vg_free(s->text[i]);
}

static vg_status with_selection(const vg_train_request *rq, selection *s)
{
    memset(s, 0, sizeof *s);
    s->rq = *rq;
    if (!rq->select_k) {
        if (rq->select_by) return vg_fail(VG_ERR_INVALID, "--select-by: goes with --select K");
        return VG_OK;
    }
    const char *model = rq->model ? rq->model : "forest";
    const char *by = rq->select_by ? rq->select_by : "importance";
    s->params = vg_malloc((rq->n_params + 3) * sizeof *s->params);
    s->text[0] = vg_malloc(strlen(model) + 16);
    s->text[1] = vg_malloc(32);
    s->text[2] = vg_malloc(strlen(by) + 8);
    if (!s->params || !s->text[0] || !s->text[1] || !s->text[2]) {
        selection_free(s);
        return vg_fail(VG_ERR_NOMEM, "out of memory");
    }
    sprintf(s->text[0], "estimator=%s", model);
    sprintf(s->text[1], "k=%u", rq->select_k);
    sprintf(s->text[2], "by=%s", by);
    for (int i = 0; i < 3; i++) s->params[i] = s->text[i];
    for (size_t i = 0; i < rq->n_params; i++) s->params[i + 3] = rq->params[i];
    s->rq.model = "select";
    s->rq.params = s->params;
    s->rq.n_params = rq->n_params + 3;
    return VG_OK;
}

vg_status vg_train_request_check(const vg_train_request *rq)
{
    selection s;
    vg_status st = with_selection(rq, &s);
    if (!st) st = check_request(&s.rq);
    selection_free(&s);
    return st;
}

vg_status vg_model_train(const vg_train_request *rq, vg_model **out)
{
    *out = NULL;
    selection s;
    vg_status st = with_selection(rq, &s);
    if (!st) st = train_model(&s.rq, out);
    selection_free(&s);
    return st;
}
