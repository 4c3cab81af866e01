/* vg_model: reading data the model's way, predicting, accessors. */
#include "model_internal.h"
#include "features/window.h"
#include "vigil/decision.h"
#include "vigil/format.h"
#include "vigil/parallel.h"
#include "vigil/urlfeat.h"
#include "vigil/ipfeat.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

vg_status vg_string_list_copy(vg_string_list *dst, const char *const *src, size_t n)
{
    dst->n = 0;
    dst->items = vg_calloc(n ? n : 1, sizeof *dst->items);
    if (!dst->items) return vg_fail(VG_ERR_NOMEM, "out of memory");
    for (size_t i = 0; i < n; i++) {
        dst->items[i] = vg_strdup(src[i]);
        if (!dst->items[i]) return vg_fail(VG_ERR_NOMEM, "out of memory");
        dst->n = i + 1;
    }
    return VG_OK;
}

void vg_string_list_free(vg_string_list *l)
{
    for (size_t i = 0; i < l->n; i++) vg_free(l->items[i]);
    vg_free(l->items);
    l->items = NULL;
    l->n = 0;
}

void vg_model_free(vg_model *m)
{
    if (!m) return;
    vg_free(m->format);
    vg_free(m->label);
    vg_free(m->log_label);
    vg_free(m->log_geoip);
    vg_free(m->positive);
    vg_free(m->threshold_by);
    vg_free(m->entity);
    vg_free(m->order);
    vg_string_list_free(&m->ignore);
    vg_string_list_free(&m->categorical);
    vg_string_list_free(&m->text);
    vg_string_list_free(&m->ip);
    vg_free(m->ip_geoip);
    vg_classes_free(&m->classes);
    vg_pipeline_free(m->pipeline);
    vg_string_list_free(&m->params);
    vg_free(m->sampler);
    vg_string_list_free(&m->sampler_params);
    vg_free(m->sampler_classes);
    if (m->learner) m->kind->adapt_free(m->learner);
    vg_free(m->adapt_saved);
    if (m->state && m->kind) m->kind->free(m->state);
    vg_free(m->data_name);
    vg_free(m->vigil_version);
    vg_free(m->metrics_json);
    vg_free(m);
}

static int name_is(const char *s, const char *name, size_t len)
{
    return s && strlen(s) == len && memcmp(s, name, len) == 0;
}

int vg_model_column_set_aside(const vg_model *m, const char *name, size_t len)
{
    if (name_is(m->label, name, len) || name_is(m->log_label, name, len)) return 1;
    if (name_is(m->entity, name, len) || name_is(m->order, name, len)) return 1;
    for (size_t i = 0; i < m->ignore.n; i++)
        if (name_is(m->ignore.items[i], name, len)) return 1;
    /* The format's truth columns (KDD: the label and NSL-KDD's difficulty). */
    const vg_format *f = vg_format_find(m->format);
    return f && vg_format_is_truth(f, name, len);
}

const vg_format *vg_data_format(const vg_data_spec *spec)
{
    return spec->format ? vg_format_find(spec->format) : vg_format_default();
}

vg_label_spec vg_model_label_spec(const vg_model *m)
{
    const vg_format *f = vg_format_find(m->format);
    return (vg_label_spec){ .task = m->task, .kdd = f && f->kdd_labels, .positive = m->positive,
                            .normal = m->classes.normal_value };
}

/* --text columns: read as categories, then expanded into URL/text feature
 * columns (the raw text itself is never a feature; see choose_features). */
static vg_status add_text_features(vg_table *t, const char *const *text, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        long col = vg_table_find(t, text[i]);
        if (col < 0) return vg_fail(VG_ERR_INVALID, "--text: %s has no column '%s'", vg_table_source(t), text[i]);
        vg_status st = vg_urlfeat_add_columns(t, (size_t)col);
        if (st) return st;
    }
    return VG_OK;
}

static int listed(const char *name, const char *const *list, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(name, list[i]) == 0) return 1;
    return 0;
}

/* IP columns: the forced ones (ip[0..n_ip), which must exist) and, when
 * infer is set, every other text column whose values are all addresses
 * (never the label, an --ignore'd, --text or entity column), each expanded
 * into vigil/ipfeat.h's columns, the country from geoip when given. */
static vg_status add_ip_features(vg_table *t, const vg_data_spec *spec, const char *const *ip, size_t n_ip, int infer,
                                 const char *geoip)
{
    for (size_t i = 0; i < n_ip; i++)
        if (vg_table_find(t, ip[i]) < 0)
            return vg_fail(VG_ERR_INVALID, "--ip: %s has no column '%s'", vg_table_source(t), ip[i]);
    size_t ncols = vg_table_cols(t);
    uint8_t *is_ip = vg_calloc(ncols + 1, 1);
    if (!is_ip) return vg_fail(VG_ERR_NOMEM, "out of memory");
    const char *label = spec ? vg_data_label(t, spec) : NULL;
    size_t found = 0;
    for (size_t c = 0; c < ncols; c++) {
        const char *name = vg_table_name(t, c);
        if (listed(name, ip, n_ip)) is_ip[c] = 1;
        else if (infer && spec && !(label && strcmp(name, label) == 0) &&
                 !listed(name, spec->ignore, spec->n_ignore) && !listed(name, spec->text, spec->n_text) &&
                 !(spec->entity && strcmp(name, spec->entity) == 0) && !vg_ipfeat_is_derived(t, name))
            is_ip[c] = (uint8_t)vg_ipfeat_column_is_ip(t, c);
        found += is_ip[c];
    }
    vg_geo *geo = NULL;
    vg_status st = VG_OK;
    if (found && geoip) st = vg_geo_open(geoip, &geo);
    for (size_t c = 0; c < ncols && !st; c++)
        if (is_ip[c]) st = vg_ipfeat_add_columns(t, c, geo);
    vg_geo_free(geo);
    vg_free(is_ip);
    return st;
}

/* Labels are class names even when they look like numbers (0/1): make a
 * numeric label column categorical after reading. */
static vg_status label_as_categories(vg_table *t, const char *label)
{
    long col = label ? vg_table_find(t, label) : (long)vg_table_cols(t) - 1;
    if (col < 0 || vg_table_type(t, (size_t)col) == VG_COLUMN_CATEGORICAL) return VG_OK;
    return vg_table_make_categorical(t, (size_t)col);
}

vg_status vg_data_read(const char *path, const vg_data_spec *spec, vg_table **out)
{
    const vg_format *f = vg_data_format(spec);
    if (!f) {
        char names[256];
        vg_format_names(names, sizeof names, ", ", NULL);
        return vg_fail(VG_ERR_INVALID, "--format: '%s' is not one of %s", spec->format, names);
    }
    vg_format_read_params rp = { .delimiter = spec->delimiter };
    rp.log = spec->log ? *spec->log : vg_logfmt_options_default();
    if (!f->infers_types) return f->read(f, path, &rp, out);
    /* Text columns are read as categories, whatever they look like. */
    const char **cat = vg_calloc(spec->n_categorical + spec->n_text + 1, sizeof *cat);
    if (!cat) return vg_fail(VG_ERR_NOMEM, "out of memory");
    size_t nc = 0;
    for (size_t i = 0; i < spec->n_categorical; i++) cat[nc++] = spec->categorical[i];
    for (size_t i = 0; i < spec->n_text; i++) cat[nc++] = spec->text[i];
    rp.categorical = cat;
    rp.n_categorical = nc;
    vg_status st = f->read(f, path, &rp, out);
    vg_free(cat);
    if (!st && spec->task != VG_TASK_REGRESSION) st = label_as_categories(*out, spec->label);
    if (!st) st = add_text_features(*out, spec->text, spec->n_text);
    if (!st) st = add_ip_features(*out, spec, spec->ip, spec->n_ip, 1, spec->geoip);
    if (st && *out) {
        vg_table_free(*out);
        *out = NULL;
    }
    return st;
}

vg_status vg_data_read_like(const char *path, const vg_data_spec *spec, const vg_table *like, vg_table **out)
{
    /* The IP columns of `like` (found there by their values) are IP
     * columns here too, whatever this file's values look like. */
    size_t n_like_cols = vg_table_cols(like), n_ip = 0;
    const char **ip = vg_calloc(spec->n_ip + n_like_cols + 1, sizeof *ip);
    if (!ip) return vg_fail(VG_ERR_NOMEM, "out of memory");
    for (size_t i = 0; i < spec->n_ip; i++) ip[n_ip++] = spec->ip[i];
    char probe[600];
    for (size_t j = 0; j < n_like_cols; j++) {
        const char *nm = vg_table_name(like, j);
        snprintf(probe, sizeof probe, "%s.ip_net24", nm);
        if (vg_table_find(like, probe) >= 0 && !listed(nm, spec->ip, spec->n_ip)) ip[n_ip++] = nm;
    }
    vg_data_spec s1 = *spec;
    s1.ip = ip, s1.n_ip = n_ip;
    spec = &s1;
    vg_status st = vg_data_read(path, spec, out);
    const vg_format *f = vg_data_format(spec);
    if (st || !f->infers_types) {
        vg_free(ip);
        return st;  /* other formats fix their types */
    }
    /* Columns categorical in `like` but read as numbers here. Only then is
     * the file read again, with them forced, so categories keep the file's
     * own text ("1.50" stays "1.50", as in training). */
    size_t n_like = vg_table_cols(like), n = 0;
    const char **cat = vg_calloc(spec->n_categorical + n_like + 1, sizeof *cat);
    if (!cat) {
        vg_table_free(*out);
        *out = NULL;
        vg_free(ip);
        return vg_fail(VG_ERR_NOMEM, "out of memory");
    }
    for (size_t i = 0; i < spec->n_categorical; i++) cat[n++] = spec->categorical[i];
    size_t base = n;
    for (size_t j = 0; j < n_like; j++) {
        if (vg_table_type(like, j) != VG_COLUMN_CATEGORICAL) continue;
        long c = vg_table_find(*out, vg_table_name(like, j));
        if (c >= 0 && vg_table_type(*out, (size_t)c) == VG_COLUMN_NUMERIC) cat[n++] = vg_table_name(like, j);
    }
    if (n > base) {
        vg_data_spec again = *spec;
        again.categorical = cat;
        again.n_categorical = n;
        vg_table_free(*out);
        *out = NULL;
        st = vg_data_read(path, &again, out);
    }
    vg_free(cat);
    vg_free(ip);
    return st;
}

/* 1 if input `name` is a feature made from a --text column ("url.url_length"). */
static int derived_from_text(const vg_model *m, const char *name)
{
    for (size_t i = 0; i < m->ip.n; i++) {
        size_t n = strlen(m->ip.items[i]);
        if (strncmp(name, m->ip.items[i], n) == 0 && strncmp(name + n, ".ip_", 4) == 0) return 1;
    }
    for (size_t i = 0; i < m->text.n; i++) {
        size_t n = strlen(m->text.items[i]);
        if (strncmp(name, m->text.items[i], n) == 0 && strncmp(name + n, ".url_", 5) == 0) return 1;
    }
    return 0;
}

const char *vg_data_label(const vg_table *t, const vg_data_spec *spec)
{
    if (spec->label) return spec->label;
    const vg_format *f = vg_data_format(spec);
    if (f && f->default_label) return f->default_label;
    size_t c = vg_table_cols(t);
    while (c > 1) {
        const char *name = vg_table_name(t, c - 1);
        int derived = 0;
        for (size_t i = 0; i < spec->n_text && !derived; i++) {
            size_t n = strlen(spec->text[i]);
            derived = strncmp(name, spec->text[i], n) == 0 && name[n] == '.';
        }
        if (!derived && !vg_ipfeat_is_derived(t, name)) break;
        c--;
    }
    return vg_table_name(t, c - 1);
}

vg_logfmt_options vg_model_log_options(const vg_model *m)
{
    vg_logfmt_options o = vg_logfmt_options_default();
    o.label = m->log_label;
    o.geoip_path = m->log_geoip;
    if (m->log_max_entities) o.max_entities = (size_t)m->log_max_entities;
    o.entity_ttl = m->log_entity_ttl;
    const vg_format *f = vg_format_find(m->format);
    if (f && f->text_fields) o.text = (const char *const *)m->text.items, o.n_text = m->text.n;
    return o;
}

vg_status vg_model_read_data(const vg_model *m, const char *path, vg_table **out)
{
    const vg_format *f = vg_format_find(m->format);  /* the model file was refused without a known one */
    vg_format_read_params rp = { .log = vg_model_log_options(m) };
    if (!f->infers_types) return f->read(f, path, &rp, out);
    /* Force the types the pipeline was fitted with, so the same text never
     * changes meaning between training and prediction. */
    size_t n_in = vg_pipeline_n_inputs(m->pipeline);
    const char **cat = vg_calloc(n_in + m->text.n + m->ip.n + 1, sizeof *cat);  /* +1: never zero bytes */
    const char **num = vg_calloc(n_in + 1, sizeof *num);
    if (!cat || !num) {
        vg_free(cat), vg_free(num);
        return vg_fail(VG_ERR_NOMEM, "out of memory");
    }
    size_t nc = 0, nn = 0;
    for (size_t i = 0; i < n_in; i++) {
        const char *name = vg_pipeline_input_name(m->pipeline, i);
        if (derived_from_text(m, name)) continue;  /* made from a --text column after reading */
        if (vg_pipeline_input_type(m->pipeline, i) == VG_COLUMN_CATEGORICAL) cat[nc++] = name;
        else num[nn++] = name;
    }
    for (size_t i = 0; i < m->text.n; i++) cat[nc++] = m->text.items[i];
    for (size_t i = 0; i < m->ip.n; i++) cat[nc++] = m->ip.items[i];
    rp.categorical = cat;
    rp.n_categorical = nc;
    rp.numeric = num;
    rp.n_numeric = nn;
    rp.forced_may_be_absent = 1;  /* absent inputs are imputed, with a warning, by the pipeline */
    vg_status st = f->read(f, path, &rp, out);
    vg_free(cat), vg_free(num);
    /* A --text column the file lacks leaves its URL features absent, and
     * those are imputed like any other absent input. */
    for (size_t i = 0; i < m->text.n && !st; i++)
        if (vg_table_find(*out, m->text.items[i]) >= 0)
            st = add_text_features(*out, (const char *const *)&m->text.items[i], 1);
    /* The model's IP columns, as in training; an absent one leaves its
     * features absent (imputed). */
    for (size_t i = 0; i < m->ip.n && !st; i++)
        if (vg_table_find(*out, m->ip.items[i]) >= 0)
            st = add_ip_features(*out, NULL, (const char *const *)&m->ip.items[i], 1, 0, m->ip_geoip);
    if (st && *out) {
        vg_table_free(*out);
        *out = NULL;
    }
    if (!st && m->task != VG_TASK_REGRESSION && vg_table_find(*out, m->label) >= 0 &&
        (st = label_as_categories(*out, m->label))) {
        vg_table_free(*out);
        *out = NULL;
    }
    return st;
}

vg_status vg_model_read_labelled(const vg_model *m, const char *path, const char *labels_path, vg_table **out)
{
    if (!labels_path) return vg_model_read_data(m, path, out);
    *out = NULL;
    const vg_format *f = vg_format_find(m->format);
    if (!f || !f->log)
        return vg_fail(VG_ERR_INVALID, "--labels goes with a log format; this model reads %s data", m->format);
    vg_format_read_params rp = { .log = vg_model_log_options(m) };
    rp.log.labels_path = labels_path;
    return f->read(f, path, &rp, out);
}

/* The fitted state every prediction uses: the learner's once the model
 * adapts (vg_model_adapt), else the one fitted or loaded. */
static const void *cur(const vg_model *m)
{
    return m->learner ? m->kind->adapt_state(m->learner) : m->state;
}

int vg_model_can_adapt(const vg_model *m)
{
    const vg_estimator_kind *k = m->kind;
    return k->adapt_new && k->adapt_rows && k->adapt_state && k->adapt_free;
}

vg_status vg_model_adapt(vg_model *m, uint32_t window, uint32_t refresh)
{
    if (!vg_model_can_adapt(m))
        return vg_fail(VG_ERR_UNSUPPORTED, "--adapt: model '%s' cannot learn while watching (iforest can)",
                       m->kind->name);
    if (m->learner) return VG_OK;
    /* A learner saved by an earlier watch continues from its window. */
    if (m->adapt_saved && m->kind->adapt_load) {
        vg_rbuf r;
        vg_rbuf_init(&r, m->adapt_saved, m->adapt_saved_len, "adapt state");
        return m->kind->adapt_load(m->state, &r, window, refresh, m->seed, &m->learner);
    }
    return m->kind->adapt_new(m->state, window ? window : VG_MODEL_ADAPT_WINDOW, refresh ? refresh : VG_MODEL_ADAPT_REFRESH,
                              m->seed, &m->learner);
}

vg_status vg_model_predict_rows(const vg_model *m, const vg_matrix *X, int threads, float *out)
{
    if (m->learner) return m->kind->adapt_rows(m->learner, X, out);
    m->kind->predict(m->state, X, threads, out);
    return VG_OK;
}

int vg_model_reads_sparse(const vg_model *m)
{
    return vg_estimator_reads_sparse(m->kind, vg_pipeline_n_text(m->pipeline));
}

static vg_status predict_sparse(const vg_model *m, const vg_table *t, int threads, float **proba)
{
    vg_csr X;
    vg_status st = vg_pipeline_transform_csr(m->pipeline, t, &X);
    if (st) return st;
    uint32_t k = m->kind->n_classes(m->state);
    float *p = vg_malloc((X.rows ? X.rows : 1) * k * sizeof *p);
    if (!p) {
        vg_csr_free(&X);
        return vg_fail(VG_ERR_NOMEM, "out of memory for %zu predictions", X.rows);
    }
    m->kind->predict_sparse(m->state, &X, threads, p);
    vg_csr_free(&X);
    *proba = p;
    return VG_OK;
}

/* Families whose rows are scored alone and fast (predict_in_blocks; the
 * isolation forest): each block of rows is encoded into its thread's
 * scratch and scored while it is in cache, and the whole encoded matrix is
 * never made. That matrix was most of the cost of scoring KDDTest+ with
 * the isolation forest: 3.7 MB written once, one page fault per 4 KiB
 * (about 12 us each in this VM, 11 ms in all, as much as the trees).
 * Each row is encoded and scored alone either way: the same floats. */
#define PREDICT_BLOCK 1024

typedef struct block_job {
    const vg_model *m;
    const vg_pipeline_blocks *plan;
    size_t rows, cols, block;
    uint32_t k;
    float *scratch;  /* block x cols per worker */
    float *out;
} block_job;

static void predict_block(void *ctx, size_t b, int worker)
{
    const block_job *j = ctx;
    size_t r0 = b * j->block, n = VG_MIN(j->block, j->rows - r0);
    vg_matrix X = { .rows = n, .cols = j->cols, .data = j->scratch + (size_t)worker * j->block * j->cols };
    vg_pipeline_blocks_rows(j->plan, r0, n, X.data);
    j->m->kind->predict(j->m->state, &X, 1, j->out + r0 * j->k);
}

static vg_status predict_in_blocks(const vg_model *m, const vg_table *t, int threads, float **proba)
{
    block_job j = { .m = m, .rows = vg_table_rows(t), .cols = vg_pipeline_n_features(m->pipeline),
                    .k = m->kind->n_classes(m->state) };
    vg_pipeline_blocks *plan;
    vg_status st = vg_pipeline_blocks_new(m->pipeline, t, &plan);
    if (st) return st;
    j.plan = plan;
    /* A small table still gives each thread a few blocks, of a multiple of
     * 128 rows so that a family's own blocks of rows (the forest's) stay whole. */
    int workers = vg_threads_resolve(threads);
    size_t per = (j.rows + 4 * (size_t)workers - 1) / (4 * (size_t)workers);
    j.block = VG_MIN((size_t)PREDICT_BLOCK, VG_MAX((size_t)128, (per + 127) / 128 * 128));
    size_t blocks = (j.rows + j.block - 1) / j.block;
    if (blocks < 2) workers = 1;
    j.out = vg_malloc((j.rows ? j.rows : 1) * j.k * sizeof *j.out);
    j.scratch = vg_malloc((size_t)workers * j.block * j.cols * sizeof *j.scratch);
    if (!j.out || !j.scratch) {
        st = vg_fail(VG_ERR_NOMEM, "out of memory for %zu predictions", j.rows);
        vg_free(j.out);
    } else {
        vg_parallel_for(workers, blocks, predict_block, &j);
        *proba = j.out;
    }
    vg_free(j.scratch);
    vg_pipeline_blocks_free(plan);
    return st;
}

vg_status vg_model_predict(const vg_model *m, const vg_table *t, int threads, float **proba)
{
    *proba = NULL;
    if (vg_model_reads_sparse(m)) return predict_sparse(m, t, threads, proba);
    if (m->kind->predict_in_blocks && !m->window && !m->learner) return predict_in_blocks(m, t, threads, proba);
    vg_matrix X;
    vg_status st = vg_pipeline_transform(m->pipeline, t, &X);
    if (st) return st;
    if ((st = vg_model_window_rows(m, t, &X))) {
        vg_matrix_free(&X);
        return st;
    }
    uint32_t k = m->kind->n_classes(cur(m));
    float *p = vg_malloc((X.rows ? X.rows : 1) * k * sizeof *p);
    if (!p) {
        vg_matrix_free(&X);
        return vg_fail(VG_ERR_NOMEM, "out of memory for %zu predictions", X.rows);
    }
    st = vg_model_predict_rows(m, &X, threads, p);
    vg_matrix_free(&X);
    if (st) {
        vg_free(p);
        return st;
    }
    *proba = p;
    return VG_OK;
}

int vg_model_has_labels(const vg_model *m, const vg_table *t)
{
    return vg_table_find(t, m->label) >= 0;
}

vg_status vg_model_true_classes(const vg_model *m, const vg_table *t, int32_t *y, size_t *unseen)
{
    long col = vg_table_find(t, m->label);
    if (col < 0)
        return vg_fail(VG_ERR_INVALID, "%s: no label column '%s' to evaluate against", vg_table_source(t),
                       m->label);
    vg_label_spec spec = vg_model_label_spec(m);
    return vg_classes_assign(&m->classes, &spec, t, (size_t)col, y, unseen);
}

vg_status vg_model_targets(const vg_model *m, const vg_table *t, float *target)
{
    long col = vg_table_find(t, m->label);
    if (col < 0)
        return vg_fail(VG_ERR_INVALID, "%s: no label column '%s' to evaluate against", vg_table_source(t),
                       m->label);
    return vg_targets_read(t, (size_t)col, target);
}

const vg_classes *vg_model_classes(const vg_model *m) { return &m->classes; }

double vg_model_threshold(const vg_model *m, const char **by)
{
    if (by) *by = m->threshold_by;
    return m->threshold;
}
const char *vg_model_family(const vg_model *m) { return m->kind->name; }
const vg_estimator_kind *vg_model_kind(const vg_model *m) { return m->kind; }
const void *vg_model_state(const vg_model *m) { return cur(m); }
const vg_pipeline *vg_model_pipeline(const vg_model *m) { return m->pipeline; }
vg_task vg_model_task(const vg_model *m) { return m->task; }
const char *vg_model_format(const vg_model *m) { return m->format; }
const char *vg_model_label(const vg_model *m) { return m->label; }
size_t vg_model_train_rows(const vg_model *m) { return m->train_rows; }
double vg_model_train_seconds(const vg_model *m) { return m->train_seconds; }
int vg_model_positive_class(const vg_model *m) { return m->classes.n == 2 ? 1 : -1; }
int vg_model_is_regression(const vg_model *m) { return m->task == VG_TASK_REGRESSION; }
int vg_model_is_anomaly(const vg_model *m) { return !m->kind->needs_labels && (m->kind->outputs & VG_ESTIMATOR_OUT_SCORE); }
uint32_t vg_model_n_outputs(const vg_model *m) { return m->kind->n_classes(cur(m)); }

vg_status vg_model_set_metrics_json(vg_model *m, const char *json)
{
    char *copy = vg_strdup(json);
    if (json && !copy) return vg_fail(VG_ERR_NOMEM, "out of memory");
    vg_free(m->metrics_json);
    m->metrics_json = copy;
    return VG_OK;
}

const char *vg_model_metrics_json(const vg_model *m) { return m->metrics_json; }

/* ---- single records, explanations, importance ---------------------------- */

/* Scratch for one encoded row: on the stack for usual widths. */
#define ROW_STACK 2048

/* One record through the CSR path; the row stays in `row` when it is not NULL
 * (for explanations), else it is freed. */
static vg_status record_sparse(const vg_model *m, const vg_field *fields, size_t n_fields, float *proba,
                               vg_record_report *report, vg_csr *row)
{
    vg_csr X;
    vg_status st = vg_csr_begin(&X, vg_pipeline_n_columns(m->pipeline), 256);
    if (st) return st;
    st = vg_pipeline_transform_record_csr(m->pipeline, fields, n_fields, &X, report);
    if (!st && proba) m->kind->predict_sparse(m->state, &X, 1, proba);
    if (!st && row) *row = X;
    else vg_csr_free(&X);
    return st;
}

static vg_status event_score(const vg_model *m, vg_model_history *h, const vg_field *fields, size_t n_fields,
                             const char *entity, size_t entity_len, float *proba, vg_record_report *report);

vg_status vg_model_predict_record(const vg_model *m, const vg_field *fields, size_t n_fields, float *proba,
                                  vg_record_report *report)
{
    if (vg_model_reads_sparse(m)) return record_sparse(m, fields, n_fields, proba, report, NULL);
    if (m->window) return event_score(m, NULL, fields, n_fields, NULL, 0, proba, report);
    size_t n = vg_pipeline_n_features(m->pipeline);
    float stack[ROW_STACK], *row = n <= ROW_STACK ? stack : vg_malloc(n * sizeof *row);
    if (!row) return vg_fail(VG_ERR_NOMEM, "out of memory");
    vg_status st = vg_pipeline_transform_record(m->pipeline, fields, n_fields, row, report);
    if (!st) {
        if (m->learner) {
            vg_matrix X = { .rows = 1, .cols = n, .data = row };
            st = vg_model_predict_rows(m, &X, 1, proba);
        } else if (m->kind->predict_row) {
            m->kind->predict_row(cur(m), row, proba);
        } else {
            vg_matrix X = { .rows = 1, .cols = n, .data = row };
            m->kind->predict(cur(m), &X, 1, proba);
        }
    }
    if (row != stack) vg_free(row);
    return st;
}

int vg_model_can_explain(const vg_model *m)
{
    if (vg_model_reads_sparse(m)) return m->kind->explain_sparse != NULL && m->kind->n_outputs != NULL;
    /* A fitted state may have no exact explanation (svm with a non-linear kernel: no outputs). */
    return m->kind->explain != NULL && m->kind->n_outputs != NULL && m->kind->n_outputs(m->state) > 0;
}

static uint32_t explained_output(const vg_model *m, uint32_t n_outputs, const float *p);

/* Explain CSR row r of X into contrib (n_inputs + 1): each entry's exact
 * term folded into the input its column comes from (all hashed n-gram
 * columns of a text input into that input: a bucket may hold several
 * n-grams, so no single n-gram is named). scratch: (nnz + 1) x n_outputs. */
static vg_status explain_sparse_row(const vg_model *m, const vg_csr *X, size_t r, double *scratch, double *contrib,
                                    uint32_t *output, double *raw)
{
    uint32_t n_out = m->kind->n_outputs(m->state), k = m->classes.n;
    size_t ni = vg_pipeline_n_inputs(m->pipeline), nnz = (size_t)(X->indptr[r + 1] - X->indptr[r]);
    float proba[256];
    if (k > 256) return vg_fail(VG_ERR_UNSUPPORTED, "explanations support at most 256 classes");
    vg_csr one = { .rows = 1, .cols = X->cols, .nnz = nnz, .indptr = NULL };
    uint64_t ptr[2] = { 0, nnz };
    one.indptr = ptr, one.indices = X->indices + X->indptr[r], one.values = X->values + X->indptr[r];
    m->kind->predict_sparse(m->state, &one, 1, proba);
    uint32_t o = explained_output(m, n_out, proba);
    vg_status st = m->kind->explain_sparse(m->state, &one, 0, scratch);
    if (st) return st;
    memset(contrib, 0, (ni + 1) * sizeof *contrib);
    double sum = 0;
    for (size_t e = 0; e <= nnz; e++) {
        double v = scratch[e * n_out + o];
        sum += v;
        contrib[e == nnz ? ni : vg_pipeline_column_input(m->pipeline, one.indices[e])] += v;
    }
    *output = n_out == 1 && m->classes.n == 2 ? 1 : o;
    *raw = sum;
    return VG_OK;
}

/* Which raw output to explain for a row whose probabilities are p: binary,
 * the positive class (the score); multiclass, the class the decision rule
 * labels the row with at the model's operating point (vigil/decision.h), so an
 * alert labelled DoS is explained as DoS even where "normal" has the largest
 * probability below one half. */
static uint32_t explained_output(const vg_model *m, uint32_t n_outputs, const float *p)
{
    if (n_outputs == 1) return 0;
    vg_decision_rule r;
    if (vg_decision_rule_for_model(m, NAN, &r)) return m->classes.n == 2 ? 1 : 0;
    if (r.kind == VG_OUTPUT_BINARY) return (uint32_t)r.positive;
    return (uint32_t)vg_decision_make(&r, p).label;
}

/* Explain one encoded row into contrib (n_inputs + 1); scratch holds
 * (n_features + 1) x n_outputs doubles. */
static vg_status explain_row(const vg_model *m, const float *row, double *scratch, double *contrib, uint32_t *output,
                             double *raw)
{
    uint32_t n_out = m->kind->n_outputs(cur(m));
    size_t nf = vg_pipeline_n_features(m->pipeline), ni = vg_pipeline_n_inputs(m->pipeline);
    float proba[256];
    uint32_t k = m->classes.n;
    if (k > 256) return vg_fail(VG_ERR_UNSUPPORTED, "explanations support at most 256 classes");
    if (m->kind->predict_row) {
        m->kind->predict_row(cur(m), row, proba);
    } else {
        vg_matrix X = { .rows = 1, .cols = nf, .data = (float *)row };
        m->kind->predict(cur(m), &X, 1, proba);
    }
    uint32_t o = explained_output(m, n_out, proba);
    vg_status st = m->kind->explain(cur(m), row, scratch);
    if (st) return st;
    memset(contrib, 0, (ni + 1) * sizeof *contrib);
    double sum = 0;
    for (size_t f = 0; f <= nf; f++) {
        double v = scratch[f * n_out + o];
        sum += v;
        contrib[f == nf ? ni : vg_pipeline_feature_input(m->pipeline, f)] += v;
    }
    /* One raw output for two classes is the positive class's log-odds. */
    *output = n_out == 1 && m->classes.n == 2 ? 1 : o;
    *raw = sum;
    return VG_OK;
}

typedef struct explain_job {
    const vg_model *m;
    const vg_matrix *X;
    vg_explanation *out;
    double **scratch;   /* per worker */
    vg_status *status;  /* per row block */
} explain_job;

#define EXPLAIN_BLOCK 256

static void explain_block(void *ctx, size_t block, int worker)
{
    explain_job *j = ctx;
    size_t ni = j->out->n_inputs, r0 = block * EXPLAIN_BLOCK, r1 = VG_MIN(r0 + EXPLAIN_BLOCK, j->X->rows);
    for (size_t r = r0; r < r1; r++) {
        vg_status st = explain_row(j->m, j->X->data + r * j->X->cols, j->scratch[worker],
                                   j->out->contrib + r * (ni + 1), &j->out->output[r], &j->out->raw[r]);
        if (st) {
            j->status[block] = st;
            return;
        }
    }
}

static vg_status explain_sparse_table(const vg_model *m, const vg_table *t, vg_explanation *out)
{
    vg_csr X;
    vg_status st = vg_pipeline_transform_csr(m->pipeline, t, &X);
    if (st) return st;
    size_t rows = X.rows, ni = vg_pipeline_n_inputs(m->pipeline), widest = 0;
    for (size_t r = 0; r < rows; r++) widest = VG_MAX(widest, (size_t)(X.indptr[r + 1] - X.indptr[r]));
    out->rows = rows;
    out->n_inputs = ni;
    out->contrib = vg_malloc((rows ? rows : 1) * (ni + 1) * sizeof *out->contrib);
    out->output = vg_malloc((rows ? rows : 1) * sizeof *out->output);
    out->raw = vg_malloc((rows ? rows : 1) * sizeof *out->raw);
    double *scratch = vg_malloc((widest + 1) * m->kind->n_outputs(m->state) * sizeof *scratch);
    if (!out->contrib || !out->output || !out->raw || !scratch) st = vg_fail(VG_ERR_NOMEM, "out of memory for explanations");
    for (size_t r = 0; r < rows && !st; r++)
        st = explain_sparse_row(m, &X, r, scratch, out->contrib + r * (ni + 1), &out->output[r], &out->raw[r]);
    vg_free(scratch);
    vg_csr_free(&X);
    if (st) vg_explanation_free(out);
    return st;
}

vg_status vg_model_explain(const vg_model *m, const vg_table *t, int threads, vg_explanation *out)
{
    memset(out, 0, sizeof *out);
    if (!vg_model_can_explain(m))
        return vg_fail(VG_ERR_UNSUPPORTED, "model '%s' cannot explain its predictions", m->kind->name);
    if (vg_model_reads_sparse(m)) return explain_sparse_table(m, t, out);
    vg_matrix X;
    vg_status st = vg_pipeline_transform(m->pipeline, t, &X);
    if (st) return st;
    /* Window families explain each row's window (as predict scored it), in
     * terms of the current event's features. */
    if ((st = vg_model_window_rows(m, t, &X))) {
        vg_matrix_free(&X);
        return st;
    }
    size_t rows = X.rows, ni = vg_pipeline_n_inputs(m->pipeline);
    size_t scratch_len = (X.cols + 1) * m->kind->n_outputs(cur(m));
    int workers = vg_threads_resolve(threads);
    size_t blocks = (rows + EXPLAIN_BLOCK - 1) / EXPLAIN_BLOCK;
    out->rows = rows;
    out->n_inputs = ni;
    out->contrib = vg_malloc((rows ? rows : 1) * (ni + 1) * sizeof *out->contrib);
    out->output = vg_malloc((rows ? rows : 1) * sizeof *out->output);
    out->raw = vg_malloc((rows ? rows : 1) * sizeof *out->raw);
    explain_job j = { .m = m, .X = &X, .out = out };
    j.scratch = vg_calloc((size_t)workers, sizeof *j.scratch);
    j.status = vg_calloc(blocks ? blocks : 1, sizeof *j.status);
    int ok = out->contrib && out->output && out->raw && j.scratch && j.status;
    for (int w = 0; ok && w < workers; w++) ok = (j.scratch[w] = vg_malloc(scratch_len * sizeof(double))) != NULL;
    if (!ok) st = vg_fail(VG_ERR_NOMEM, "out of memory for explanations");
    else vg_parallel_for(workers, blocks, explain_block, &j);
    for (size_t b = 0; !st && b < blocks; b++) st = j.status[b];
    for (int w = 0; j.scratch && w < workers; w++) vg_free(j.scratch[w]);
    vg_free(j.scratch), vg_free(j.status);
    vg_matrix_free(&X);
    if (st) vg_explanation_free(out);
    return st;
}

void vg_explanation_free(vg_explanation *e)
{
    if (!e) return;
    vg_free(e->contrib), vg_free(e->output), vg_free(e->raw);
    memset(e, 0, sizeof *e);
}

vg_status vg_model_explain_record(const vg_model *m, const vg_field *fields, size_t n_fields, double *contrib,
                                  uint32_t *output, double *raw)
{
    if (!vg_model_can_explain(m))
        return vg_fail(VG_ERR_UNSUPPORTED, "model '%s' cannot explain its predictions", m->kind->name);
    if (vg_model_reads_sparse(m)) {
        vg_csr X;
        vg_status st = record_sparse(m, fields, n_fields, NULL, NULL, &X);
        if (st) return st;
        double *scratch = vg_malloc((X.nnz + 1) * m->kind->n_outputs(m->state) * sizeof *scratch);
        st = scratch ? explain_sparse_row(m, &X, 0, scratch, contrib, output, raw) : vg_fail(VG_ERR_NOMEM, "out of memory");
        vg_free(scratch);
        vg_csr_free(&X);
        return st;
    }
    /* A window family sees the record as a window of this one event, as
     * vg_model_predict_record scores it (no entity history here). */
    size_t nf = vg_pipeline_n_features(m->pipeline), W = vg_model_row_width(m);
    float *row = vg_malloc((nf + W) * sizeof *row), *win = row ? row + nf : NULL;
    double *scratch = vg_malloc((nf + 1) * m->kind->n_outputs(cur(m)) * sizeof *scratch);
    vg_status st = row && scratch ? VG_OK : vg_fail(VG_ERR_NOMEM, "out of memory");
    if (!st) st = vg_pipeline_transform_record(m->pipeline, fields, n_fields, row, NULL);
    if (!st && m->window) {
        memset(win, 0, W * sizeof *win);
        win[0] = 1.0f;
        memcpy(win + W - nf, row, nf * sizeof *row);
    }
    if (!st) st = explain_row(m, m->window ? win : row, scratch, contrib, output, raw);
    vg_free(row), vg_free(scratch);
    return st;
}

vg_status vg_model_importance(const vg_model *m, int kind, double *out)
{
    if (!m->kind->importance)
        return vg_fail(VG_ERR_UNSUPPORTED, "model '%s' has no feature importance", m->kind->name);
    size_t nf = vg_pipeline_n_features(m->pipeline), ni = vg_pipeline_n_inputs(m->pipeline);
    double *per_feature = vg_calloc(nf ? nf : 1, sizeof *per_feature);
    if (!per_feature) return vg_fail(VG_ERR_NOMEM, "out of memory");
    m->kind->importance(cur(m), kind, per_feature);
    memset(out, 0, ni * sizeof *out);
    for (size_t f = 0; f < nf; f++) out[vg_pipeline_feature_input(m->pipeline, f)] += per_feature[f];
    vg_free(per_feature);
    return VG_OK;
}

/* ---- event windows -------------------------------------------------------- */

size_t vg_model_row_width(const vg_model *m)
{
    if (vg_model_reads_sparse(m)) return vg_pipeline_n_columns(m->pipeline);
    const size_t F = vg_pipeline_n_features(m->pipeline);
    return m->window ? 1 + (size_t)m->window * F : F;
}

uint32_t vg_model_window(const vg_model *m)
{
    return m->window;
}

/* Numbers as entity keys: one text for a number whether it came from a
 * table's numeric column or a record's field. */
static size_t number_key(double v, char *buf, size_t cap)
{
    int n = snprintf(buf, cap, "%.17g", v);
    return n > 0 && (size_t)n < cap ? (size_t)n : 0;
}

vg_status vg_model_window_rows(const vg_model *m, const vg_table *t, vg_matrix *X)
{
    if (!m->window) return VG_OK;
    long ec = vg_table_find(t, m->entity), oc = m->order ? vg_table_find(t, m->order) : -1;
    if (ec < 0)
        return vg_fail(VG_ERR_INVALID, "%s: no entity column '%s' (the model scores each event with its entity's "
                       "last %u events)", vg_table_source(t), m->entity, m->window);
    if (m->order && oc < 0)
        return vg_fail(VG_ERR_INVALID, "%s: no order column '%s'", vg_table_source(t), m->order);
    if (oc >= 0 && vg_table_type(t, (size_t)oc) != VG_COLUMN_NUMERIC)
        return vg_fail(VG_ERR_INVALID, "%s: order column '%s' is not numeric (times or sequence numbers)",
                       vg_table_source(t), m->order);
    const size_t rows = vg_table_rows(t);
    const char **keys = vg_calloc(rows + 1, sizeof *keys);
    char *text = NULL;
    if (!keys) return vg_fail(VG_ERR_NOMEM, "out of memory for %zu entity keys", rows);
    if (vg_table_type(t, (size_t)ec) == VG_COLUMN_NUMERIC) {
        const double *v = vg_table_numbers(t, (size_t)ec);
        text = vg_malloc(rows * 32 + 1);
        if (!text) {
            vg_free(keys);
            return vg_fail(VG_ERR_NOMEM, "out of memory for %zu entity keys", rows);
        }
        for (size_t i = 0; i < rows; i++)
            if (v[i] == v[i] && number_key(v[i], text + i * 32, 32)) keys[i] = text + i * 32;
    } else {
        const uint32_t *codes = vg_table_codes(t, (size_t)ec), nc = vg_table_n_categories(t, (size_t)ec);
        for (size_t i = 0; i < rows; i++)
            if (codes[i] < nc) keys[i] = vg_table_category(t, (size_t)ec, codes[i]);
    }
    vg_matrix W;
    vg_status st = vg_window_rows(m->window, X, keys, oc >= 0 ? vg_table_numbers(t, (size_t)oc) : NULL,
                                  m->log_max_entities, 0.0, &W);
    vg_free(keys);
    vg_free(text);
    if (st) return st;
    vg_matrix_free(X);
    *X = W;
    return VG_OK;
}

struct vg_model_history {
    const vg_model *m;
    vg_window *w;
};

vg_status vg_model_history_new(const vg_model *m, vg_model_history **out)
{
    *out = NULL;
    if (!m->window) return VG_OK;
    vg_model_history *h = vg_calloc(1, sizeof *h);
    if (!h) return vg_fail(VG_ERR_NOMEM, "out of memory");
    h->m = m;
    vg_status st = vg_window_new(m->window, vg_pipeline_n_features(m->pipeline), m->log_max_entities, 0.0, &h->w);
    if (st) {
        vg_free(h);
        return st;
    }
    *out = h;
    return VG_OK;
}

void vg_model_history_free(vg_model_history *h)
{
    if (!h) return;
    vg_window_free(h->w);
    vg_free(h);
}

vg_status vg_model_history_push(vg_model_history *h, const vg_field *fields, size_t n_fields, const char *entity,
                                size_t entity_len, const float *row, float *out)
{
    char num[32];
    for (size_t f = 0; f < n_fields; f++) {
        if (!name_is(h->m->entity, fields[f].name, fields[f].name_len)) continue;
        if (fields[f].kind == VG_FIELD_TEXT) entity = fields[f].text, entity_len = fields[f].text_len;
        else if (fields[f].kind == VG_FIELD_NUMBER && fields[f].number == fields[f].number)
            entity = num, entity_len = number_key(fields[f].number, num, sizeof num);
        else entity = NULL, entity_len = 0;
        break;
    }
    return vg_window_push(h->w, entity, entity ? entity_len : 0, 0.0, row, out);
}

static vg_status event_score(const vg_model *m, vg_model_history *h, const vg_field *fields, size_t n_fields,
                             const char *entity, size_t entity_len, float *proba, vg_record_report *report)
{
    const size_t F = vg_pipeline_n_features(m->pipeline), W = vg_model_row_width(m);
    float *row = vg_malloc((F + W) * sizeof *row);
    if (!row) return vg_fail(VG_ERR_NOMEM, "out of memory");
    float *win = row + F;
    vg_status st = vg_pipeline_transform_record(m->pipeline, fields, n_fields, row, report);
    if (!st) {
        if (h) {
            st = vg_model_history_push(h, fields, n_fields, entity, entity_len, row, win);
        } else {  /* no history: a window of this one event */
            memset(win, 0, W * sizeof *win);
            win[0] = 1.0f;
            memcpy(win + W - F, row, F * sizeof *row);
        }
    }
    if (!st) {
        if (m->kind->predict_row) {
            m->kind->predict_row(cur(m), win, proba);
        } else {
            vg_matrix X = { .rows = 1, .cols = W, .data = win };
            m->kind->predict(cur(m), &X, 1, proba);
        }
    }
    vg_free(row);
    return st;
}

vg_status vg_model_predict_event(const vg_model *m, vg_model_history *h, const vg_field *fields, size_t n_fields,
                                 const char *entity, size_t entity_len, float *proba)
{
    if (!m->window) return vg_model_predict_record(m, fields, n_fields, proba, NULL);
    return event_score(m, h, fields, n_fields, entity, entity_len, proba, NULL);
}
