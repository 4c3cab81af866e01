/* Saving and loading a vg_model as a .vgm file, and describing it.
 *
 * Sections (container in vigil/vgm.h):
 *   META  typed key/value metadata: u32 count, then per entry a key string,
 *         a u8 type (1 string, 2 signed 64-bit integer, 3 double) and the value;
 *         string lists (ignore, categorical, params, classes) are stored as a
 *         count entry "NAME.n" followed by entries "NAME.0", "NAME.1", ...
 *   PIPE  the pipeline (vg_pipeline_save)
 *   ESTM  the estimator: family name string, then its fitted state
 *   METR  evaluation metrics, JSON text (optional)
 *   ADPT  a model saved while learning (watch --adapt): the learner's memory
 *         beyond ESTM (recent rows, counters), the family's adapt_save
 *         bytes (optional; a restart with --adapt continues from it) */
#include "model_internal.h"
#include "vigil/decision.h"
#include "vigil/format.h"
#include "vigil/vgm.h"
#include "features/window.h"

#include <math.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

enum { KV_STR = 1, KV_INT = 2, KV_F64 = 3 };

#define MAX_META_ENTRIES 100000u

/* ---- META writing ----------------------------------------------------- */

typedef struct meta_writer {
    vg_wbuf body;
    uint32_t count;
} meta_writer;

static void kv_str(meta_writer *mw, const char *key, const char *v)
{
    if (!v) return;
    vg_wbuf_str(&mw->body, key);
    vg_wbuf_u8(&mw->body, KV_STR);
    vg_wbuf_str(&mw->body, v);
    mw->count++;
}

static void kv_int(meta_writer *mw, const char *key, int64_t v)
{
    vg_wbuf_str(&mw->body, key);
    vg_wbuf_u8(&mw->body, KV_INT);
    vg_wbuf_u64(&mw->body, (uint64_t)v);
    mw->count++;
}

static void kv_f64(meta_writer *mw, const char *key, double v)
{
    vg_wbuf_str(&mw->body, key);
    vg_wbuf_u8(&mw->body, KV_F64);
    vg_wbuf_f64(&mw->body, v);
    mw->count++;
}

static void kv_list(meta_writer *mw, const char *name, char *const *items, size_t n)
{
    char key[96];
    snprintf(key, sizeof key, "%s.n", name);
    kv_int(mw, key, (int64_t)n);
    for (size_t i = 0; i < n; i++) {
        snprintf(key, sizeof key, "%s.%zu", name, i);
        kv_str(mw, key, items[i]);
    }
}

static void write_meta(const vg_model *m, vg_wbuf *out)
{
    meta_writer mw = { .count = 0 };
    vg_wbuf_init(&mw.body);
    kv_str(&mw, "vigil_version", m->vigil_version);
    kv_str(&mw, "format", m->format);
    kv_str(&mw, "task", vg_task_str(m->task));
    kv_str(&mw, "label", m->label);
    kv_str(&mw, "positive", m->positive);
    kv_list(&mw, "ignore", m->ignore.items, m->ignore.n);
    kv_list(&mw, "categorical", m->categorical.items, m->categorical.n);
    kv_list(&mw, "text", m->text.items, m->text.n);
    if (m->ip.n) kv_list(&mw, "ip", m->ip.items, m->ip.n);
    kv_str(&mw, "ip.geoip", m->ip_geoip);
    kv_list(&mw, "classes", m->classes.names, m->classes.n);
    kv_str(&mw, "classes.positive_value", m->classes.positive_value);
    kv_str(&mw, "classes.negative_value", m->classes.negative_value);
    kv_str(&mw, "classes.normal_value", m->classes.normal_value);
    if (!isnan(m->threshold)) kv_f64(&mw, "decision.threshold", m->threshold);
    kv_str(&mw, "decision.threshold_by", m->threshold_by);
    kv_str(&mw, "log.label", m->log_label);
    kv_str(&mw, "log.geoip", m->log_geoip);
    kv_int(&mw, "log.max_entities", (int64_t)m->log_max_entities);
    kv_f64(&mw, "log.entity_ttl", m->log_entity_ttl);
    if (m->window) {
        kv_int(&mw, "window.size", m->window);
        kv_str(&mw, "window.entity", m->entity);
        kv_str(&mw, "window.order", m->order);
    }
    kv_str(&mw, "model", m->kind->name);
    kv_list(&mw, "params", m->params.items, m->params.n);
    if (m->sampler) {
        kv_str(&mw, "sampler.name", m->sampler);
        kv_list(&mw, "sampler.params", m->sampler_params.items, m->sampler_params.n);
        kv_int(&mw, "sampler.rows_before", (int64_t)m->sampler_rows_before);
        kv_int(&mw, "sampler.rows_after", (int64_t)m->sampler_rows_after);
        kv_str(&mw, "sampler.classes", m->sampler_classes);
    }
    kv_int(&mw, "seed", (int64_t)m->seed);
    kv_int(&mw, "threads", m->threads);
    kv_int(&mw, "train_rows", (int64_t)m->train_rows);
    kv_f64(&mw, "train_seconds", m->train_seconds);
    kv_int(&mw, "data_checksum", (int64_t)m->data_checksum);
    kv_str(&mw, "data", m->data_name);
    kv_int(&mw, "created", m->created);
    vg_wbuf_u32(out, mw.count);
    vg_wbuf_bytes(out, mw.body.data, mw.body.len);
    if (mw.body.failed) out->failed = 1;
    vg_wbuf_free(&mw.body);
}

vg_status vg_model_save(const vg_model *m, const char *path)
{
    vg_wbuf meta, pipe, estm, adpt;
    vg_wbuf_init(&meta), vg_wbuf_init(&pipe), vg_wbuf_init(&estm), vg_wbuf_init(&adpt);
    write_meta(m, &meta);
    vg_status st = vg_pipeline_save(m->pipeline, &pipe);
    vg_wbuf_str(&estm, m->kind->name);
    if (!st) st = m->kind->save(vg_model_state(m), &estm);
    if (!st && m->learner && m->kind->adapt_save) st = m->kind->adapt_save(m->learner, &adpt);
    else if (!st && m->adapt_saved) vg_wbuf_bytes(&adpt, m->adapt_saved, m->adapt_saved_len);
    if (!st && (meta.failed || pipe.failed || estm.failed || adpt.failed)) st = vg_fail(VG_ERR_NOMEM, "out of memory");
    if (!st) {
        vg_vgm_section s[5] = {
            { "META", meta.data, meta.len },
            { "PIPE", pipe.data, pipe.len },
            { "ESTM", estm.data, estm.len },
        };
        size_t n = 3;
        if (m->metrics_json) s[n++] = (vg_vgm_section){ "METR", m->metrics_json, strlen(m->metrics_json) };
        if (adpt.len) s[n++] = (vg_vgm_section){ "ADPT", adpt.data, adpt.len };
        st = vg_vgm_write(path, s, n);
    }
    vg_wbuf_free(&meta), vg_wbuf_free(&pipe), vg_wbuf_free(&estm), vg_wbuf_free(&adpt);
    return st;
}

/* ---- META reading ----------------------------------------------------- */

typedef struct kv {
    char *key;
    uint8_t type;
    char *s;
    int64_t i;
    double d;
} kv;

typedef struct meta {
    uint32_t n;
    kv *items;
} meta;

static void meta_free(meta *mt)
{
    for (uint32_t i = 0; i < mt->n; i++) vg_free(mt->items[i].key), vg_free(mt->items[i].s);
    vg_free(mt->items);
}

static vg_status meta_parse(const vg_vgm_section *sec, const char *name, meta *mt)
{
    memset(mt, 0, sizeof *mt);
    vg_rbuf r;
    vg_rbuf_init(&r, sec->data, sec->size, "model metadata");
    uint32_t n = vg_rbuf_u32(&r);
    /* Each entry takes at least 6 bytes, which bounds the count. */
    if (!vg_rbuf_require(&r, n <= MAX_META_ENTRIES && n <= sec->size / 6, "entry count"))
        return vg_rbuf_check(&r);
    mt->items = vg_calloc(n ? n : 1, sizeof *mt->items);
    if (!mt->items) return vg_fail(VG_ERR_NOMEM, "out of memory");
    for (uint32_t i = 0; i < n && !r.failed; i++) {
        kv *e = &mt->items[i];
        mt->n = i + 1;
        e->key = vg_rbuf_str(&r);
        e->type = vg_rbuf_u8(&r);
        vg_rbuf_require(&r, e->key != NULL, "key");
        if (e->type == KV_STR) {
            e->s = vg_rbuf_str(&r);
            vg_rbuf_require(&r, e->s != NULL, "string value");
        } else if (e->type == KV_INT) {
            e->i = (int64_t)vg_rbuf_u64(&r);
        } else if (e->type == KV_F64) {
            e->d = vg_rbuf_f64(&r);
        } else {
            vg_rbuf_require(&r, 0, "value type");
        }
    }
    vg_status st = vg_rbuf_check(&r);
    if (st) vg_error_prefix("%s: ", name);
    return st;
}

static const kv *meta_get(const meta *mt, const char *key, uint8_t type)
{
    for (uint32_t i = 0; i < mt->n; i++)
        if (mt->items[i].type == type && strcmp(mt->items[i].key, key) == 0) return &mt->items[i];
    return NULL;
}

static const char *meta_str(const meta *mt, const char *key)
{
    const kv *e = meta_get(mt, key, KV_STR);
    return e ? e->s : NULL;
}

static vg_status meta_list(const meta *mt, const char *name, const char *file, vg_string_list *out)
{
    char key[96];
    snprintf(key, sizeof key, "%s.n", name);
    const kv *e = meta_get(mt, key, KV_INT);
    int64_t n = e ? e->i : 0;
    if (n < 0 || n > (int64_t)mt->n) return vg_fail(VG_ERR_FORMAT, "%s: metadata list %s is invalid", file, name);
    const char **items = vg_calloc((size_t)n + 1, sizeof *items);
    if (!items) return vg_fail(VG_ERR_NOMEM, "out of memory");
    for (int64_t i = 0; i < n; i++) {
        snprintf(key, sizeof key, "%s.%lld", name, (long long)i);
        items[i] = meta_str(mt, key);
        if (!items[i]) {
            vg_free(items);
            return vg_fail(VG_ERR_FORMAT, "%s: metadata list %s is missing entry %lld", file, name, (long long)i);
        }
    }
    vg_status st = vg_string_list_copy(out, items, (size_t)n);
    vg_free(items);
    return st;
}

static vg_status required(const char *v, const char *file, const char *key)
{
    return v ? VG_OK : vg_fail(VG_ERR_FORMAT, "%s: model metadata lacks '%s'", file, key);
}

static vg_status read_meta(vg_model *m, const meta *mt, const char *file, const char **family)
{
    vg_status st;
    const char *task = meta_str(mt, "task");
    *family = meta_str(mt, "model");
    if ((st = required(meta_str(mt, "format"), file, "format")) || (st = required(task, file, "task")) ||
        (st = required(meta_str(mt, "label"), file, "label")) || (st = required(*family, file, "model")))
        return st;
    if (vg_task_parse(task, &m->task)) return vg_fail(VG_ERR_FORMAT, "%s: unknown task '%s'", file, task);
    m->format = vg_strdup(meta_str(mt, "format"));
    m->label = vg_strdup(meta_str(mt, "label"));
    m->positive = vg_strdup(meta_str(mt, "positive"));
    m->data_name = vg_strdup(meta_str(mt, "data"));
    m->vigil_version = vg_strdup(meta_str(mt, "vigil_version"));
    if (!vg_format_find(m->format))
        return vg_fail(VG_ERR_FORMAT, "%s: unknown data format '%s'", file, m->format);
    m->log_label = vg_strdup(meta_str(mt, "log.label"));
    m->log_geoip = vg_strdup(meta_str(mt, "log.geoip"));
    m->ip_geoip = vg_strdup(meta_str(mt, "ip.geoip"));
    vg_string_list classes = { 0 };
    if ((st = meta_list(mt, "ignore", file, &m->ignore)) || (st = meta_list(mt, "categorical", file, &m->categorical)) ||
        (st = meta_list(mt, "text", file, &m->text)) || (st = meta_list(mt, "ip", file, &m->ip)) ||
        (st = meta_list(mt, "params", file, &m->params)) || (st = meta_list(mt, "classes", file, &classes)))
        return st;
    m->classes.n = (uint32_t)classes.n;
    m->classes.names = classes.items;
    m->classes.positive_value = vg_strdup(meta_str(mt, "classes.positive_value"));
    m->classes.negative_value = vg_strdup(meta_str(mt, "classes.negative_value"));
    m->classes.normal_value = vg_strdup(meta_str(mt, "classes.normal_value"));
    /* Files written before the operating point was saved have none: the
     * decision default applies, as it did when they were written. */
    m->threshold = NAN;
    m->threshold_by = vg_strdup(meta_str(mt, "decision.threshold_by"));
    if (m->task == VG_TASK_REGRESSION ? m->classes.n != 1 : m->classes.n < 2)
        return vg_fail(VG_ERR_FORMAT, "%s: model has %u classes for task %s", file, m->classes.n, task);
    if (m->task == VG_TASK_BINARY && (m->classes.n != 2 || (!m->classes.positive_value && !m->classes.negative_value)))
        return vg_fail(VG_ERR_FORMAT, "%s: binary model without its positive class", file);
    if (m->classes.normal_value) {
        uint32_t k = 0;
        while (k < m->classes.n && strcmp(m->classes.names[k], m->classes.normal_value) != 0) k++;
        if (k == m->classes.n)
            return vg_fail(VG_ERR_FORMAT, "%s: the normal class '%s' is not one of the model's classes", file,
                           m->classes.normal_value);
    }
    const kv *e;
    if ((e = meta_get(mt, "decision.threshold", KV_F64))) {
        if (!isfinite(e->d)) return vg_fail(VG_ERR_FORMAT, "%s: the saved threshold is not a finite number", file);
        m->threshold = e->d;
    }
    if ((e = meta_get(mt, "log.max_entities", KV_INT)) && e->i >= 0) m->log_max_entities = (uint64_t)e->i;
    if ((e = meta_get(mt, "log.entity_ttl", KV_F64)) && e->d >= 0) m->log_entity_ttl = e->d;
    if ((e = meta_get(mt, "window.size", KV_INT))) {
        if (e->i < 1 || e->i > VG_WINDOW_MAX || !meta_str(mt, "window.entity"))
            return vg_fail(VG_ERR_FORMAT, "%s: event window of %lld events (1 to %u, with its entity column)", file,
                           (long long)e->i, VG_WINDOW_MAX);
        m->window = (uint32_t)e->i;
        m->entity = vg_strdup(meta_str(mt, "window.entity"));
        m->order = vg_strdup(meta_str(mt, "window.order"));
    }
    if (meta_str(mt, "sampler.name")) {
        /* Files from before the sampler was recorded have none of these. */
        m->sampler = vg_strdup(meta_str(mt, "sampler.name"));
        m->sampler_classes = vg_strdup(meta_str(mt, "sampler.classes"));
        if ((st = meta_list(mt, "sampler.params", file, &m->sampler_params))) return st;
        if ((e = meta_get(mt, "sampler.rows_before", KV_INT)) && e->i >= 0) m->sampler_rows_before = (uint64_t)e->i;
        if ((e = meta_get(mt, "sampler.rows_after", KV_INT)) && e->i >= 0) m->sampler_rows_after = (uint64_t)e->i;
    }
    if ((e = meta_get(mt, "seed", KV_INT))) m->seed = (uint64_t)e->i;
    if ((e = meta_get(mt, "threads", KV_INT))) m->threads = (int)e->i;
    if ((e = meta_get(mt, "train_rows", KV_INT))) m->train_rows = (size_t)e->i;
    if ((e = meta_get(mt, "train_seconds", KV_F64))) m->train_seconds = e->d;
    if ((e = meta_get(mt, "data_checksum", KV_INT))) m->data_checksum = (uint64_t)e->i;
    if ((e = meta_get(mt, "created", KV_INT))) m->created = e->i;
    return VG_OK;
}

/* ADPT: checked whole now (restored as saved, then dropped), kept as bytes
 * until a watch --adapt restores it with its own window. */
static vg_status load_adapt(vg_model *m, const vg_vgm_section *sec, const char *name)
{
    if (!m->kind->adapt_load)
        return vg_fail(VG_ERR_FORMAT, "%s: model '%s' cannot learn while watching but the file holds a learner's "
                       "state", name, m->kind->name);
    vg_rbuf r;
    vg_rbuf_init(&r, sec->data, sec->size, "adapt state");
    void *learner = NULL;
    vg_status st = m->kind->adapt_load(m->state, &r, 0, 0, m->seed, &learner);
    if (st) {
        vg_error_prefix("%s: ", name);
        return st;
    }
    m->kind->adapt_free(learner);
    m->adapt_saved = vg_malloc(sec->size ? sec->size : 1);
    if (!m->adapt_saved) return vg_fail(VG_ERR_NOMEM, "out of memory");
    memcpy(m->adapt_saved, sec->data, sec->size);
    m->adapt_saved_len = sec->size;
    return VG_OK;
}

vg_status vg_model_load_memory(const void *data, size_t len, const char *name, vg_model **out)
{
    *out = NULL;
    vg_vgm_file f;
    vg_status st = vg_vgm_parse(data, len, name, &f);
    if (st) return st;
    const vg_vgm_section *s_meta = vg_vgm_find(&f, "META"), *s_pipe = vg_vgm_find(&f, "PIPE"),
                         *s_estm = vg_vgm_find(&f, "ESTM"), *s_metr = vg_vgm_find(&f, "METR"),
                         *s_adpt = vg_vgm_find(&f, "ADPT");
    if (!s_meta || !s_pipe || !s_estm)
        return vg_fail(VG_ERR_FORMAT, "%s: model file lacks a required section (META, PIPE, ESTM)", name);
    vg_model *m = vg_calloc(1, sizeof *m);
    if (!m) return vg_fail(VG_ERR_NOMEM, "out of memory");
    meta mt;
    const char *family = NULL;
    if ((st = meta_parse(s_meta, name, &mt))) goto err;
    st = read_meta(m, &mt, name, &family);
    if (!st) {
        m->kind = vg_estimator_find(family);
        if (!m->kind) st = vg_fail(VG_ERR_FORMAT, "%s: model family '%s' is unknown to this vigil", name, family);
    }
    meta_free(&mt);
    if (st) goto err;

    vg_rbuf r;
    vg_rbuf_init(&r, s_pipe->data, s_pipe->size, "pipeline");
    if ((st = vg_pipeline_load(&r, &m->pipeline))) {
        vg_error_prefix("%s: ", name);
        goto err;
    }
    vg_rbuf_init(&r, s_estm->data, s_estm->size, "estimator");
    char *stored_family = vg_rbuf_str(&r);
    int same = stored_family && strcmp(stored_family, m->kind->name) == 0;
    vg_free(stored_family);
    if (!same) {
        st = vg_fail(VG_ERR_FORMAT, "%s: estimator section does not match the metadata", name);
        goto err;
    }
    if ((st = m->kind->load(&r, &m->state))) {
        vg_error_prefix("%s: ", name);
        goto err;
    }
    /* An anomaly model writes one score per row and decides between its two
     * classes (normal, anomaly) with the threshold it must carry. */
    if (vg_model_is_anomaly(m) && (m->classes.n != 2 || isnan(m->threshold) || m->task != VG_TASK_BINARY)) {
        st = vg_fail(VG_ERR_FORMAT, "%s: anomaly model without its two classes, binary task and threshold", name);
        goto err;
    }
    if (m->kind->n_classes(m->state) != (vg_model_is_anomaly(m) ? 1 : m->classes.n)) {
        st = vg_fail(VG_ERR_FORMAT, "%s: estimator has %u classes, metadata %u", name,
                     m->kind->n_classes(m->state), m->classes.n);
        goto err;
    }
    if (m->window && !(m->kind->inputs & VG_ESTIMATOR_IN_WINDOW)) {
        st = vg_fail(VG_ERR_FORMAT, "%s: model '%s' reads no event windows but the file gives it some", name,
                     m->kind->name);
        goto err;
    }
    size_t width = vg_model_row_width(m);
    if (m->kind->n_features && m->kind->n_features(m->state) != width) {
        st = vg_fail(VG_ERR_FORMAT, "%s: estimator expects %u features, the pipeline makes %zu", name,
                     m->kind->n_features(m->state), width);
        goto err;
    }
    if (s_metr) {
        m->metrics_json = vg_malloc(s_metr->size + 1);
        if (!m->metrics_json) {
            st = vg_fail(VG_ERR_NOMEM, "out of memory");
            goto err;
        }
        memcpy(m->metrics_json, s_metr->data, s_metr->size);
        m->metrics_json[s_metr->size] = '\0';
    }
    if (s_adpt && (st = load_adapt(m, s_adpt, name))) goto err;
    *out = m;
    return VG_OK;
err:
    vg_model_free(m);
    return st;
}

vg_status vg_model_load(const char *path, vg_model **out)
{
    *out = NULL;
    vg_vgm_file f;
    vg_status st = vg_vgm_read(path, &f);
    if (st) return st;
    st = vg_model_load_memory(f.bytes, f.size, path, out);
    vg_vgm_close(&f);
    return st;
}

/* ---- describe --------------------------------------------------------- */

static void put_list(vg_wbuf *out, const char *title, const vg_string_list *l)
{
    if (!l->n) return;
    vg_wbuf_printf(out, "%-16s", title);
    for (size_t i = 0; i < l->n; i++) vg_wbuf_printf(out, "%s%s", i ? ", " : "", l->items[i]);
    vg_wbuf_printf(out, "\n");
}

void vg_model_describe(const vg_model *m, vg_wbuf *out)
{
    char when[64] = "?";
    time_t created = (time_t)m->created;
    struct tm tm;
    if (gmtime_r(&created, &tm)) strftime(when, sizeof when, "%Y-%m-%d %H:%M:%S UTC", &tm);
    vg_wbuf_printf(out, "model           %s (%s)\n", m->kind->name, m->kind->summary);
    vg_wbuf_printf(out, "task            %s on %s data, label column '%s'\n", vg_task_str(m->task), m->format, m->label);
    vg_wbuf_printf(out, "classes         ");
    for (uint32_t c = 0; c < m->classes.n; c++) vg_wbuf_printf(out, "%s%s", c ? ", " : "", m->classes.names[c]);
    if (m->classes.positive_value) vg_wbuf_printf(out, "  (positive: label '%s')", m->classes.positive_value);
    else if (m->classes.negative_value) vg_wbuf_printf(out, "  (positive: every label but '%s')", m->classes.negative_value);
    vg_wbuf_printf(out, "\n");
    if (vg_model_is_anomaly(m)) {
        vg_wbuf_printf(out, "decision        anomaly score (fitted without labels); anomaly when score >= ");
    } else if (m->task != VG_TASK_REGRESSION) {
        const vg_classes *c = &m->classes;
        vg_wbuf_printf(out, "decision        normal class '%s'%s; anomaly when score >= ", c->names[vg_decision_normal_class(c)],
                       c->normal_value ? " (--normal)" : "");
    } else {
        vg_wbuf_printf(out, "decision        anomaly when value >= ");
    }
    if (!isnan(m->threshold)) vg_wbuf_printf(out, "%.6g (%s)\n", m->threshold, m->threshold_by ? m->threshold_by : "saved");
    else if (m->task != VG_TASK_REGRESSION) vg_wbuf_printf(out, "%g (the default)\n", VG_DECISION_DEFAULT_THRESHOLD);
    else vg_wbuf_printf(out, "a threshold given with --threshold (none saved: no value is an anomaly)\n");
    vg_wbuf_printf(out, "parameters      ");
    vg_model_params_describe(m, out);
    vg_wbuf_printf(out, "\n");
    put_list(out, "given", &m->params);
    if (m->sampler) {
        vg_wbuf_printf(out, "sampler         %s", m->sampler);
        for (size_t i = 0; i < m->sampler_params.n; i++)
            vg_wbuf_printf(out, "%s%s", i ? ", " : " (", m->sampler_params.items[i]);
        vg_wbuf_printf(out, "%s on the training rows: %llu -> %llu rows (%s)\n", m->sampler_params.n ? ")" : "",
                       (unsigned long long)m->sampler_rows_before, (unsigned long long)m->sampler_rows_after,
                       m->sampler_classes ? m->sampler_classes : "?");
    }
    if (m->window) {
        vg_wbuf_printf(out, "windows         each event with the last %u events of its '%s'", m->window, m->entity);
        if (m->order) vg_wbuf_printf(out, ", in order of '%s'", m->order);
        vg_wbuf_printf(out, "\n");
    }
    put_list(out, "ignored", &m->ignore);
    put_list(out, "categorical", &m->categorical);
    put_list(out, "text columns", &m->text);
    put_list(out, "ip columns", &m->ip);
    if (m->ip.n && m->ip_geoip) vg_wbuf_printf(out, "ip countries    from %s\n", m->ip_geoip);
    vg_wbuf_printf(out, "trained on      %zu rows of %s (checksum %016llx), seed %llu, %.3f s\n", m->train_rows,
        m->data_name ? m->data_name : "?", (unsigned long long)m->data_checksum, (unsigned long long)m->seed,
        m->train_seconds);
    vg_wbuf_printf(out, "created         %s by vigil %s\n", when, m->vigil_version ? m->vigil_version : "?");
    if (m->adapt_saved)
        vg_wbuf_printf(out, "adapted         while watching; its learner's memory (%zu bytes) is kept for watch --adapt\n",
                       m->adapt_saved_len);
    if (m->kind->describe) {
        vg_wbuf_printf(out, "\nestimator\n");
        vg_wbuf est;
        vg_wbuf_init(&est);
        m->kind->describe(vg_model_state(m), &est);
        /* Indent the family's own "key: value" lines. */
        size_t start = 0;
        for (size_t i = 0; i < est.len; i++)
            if (est.data[i] == '\n') {
                vg_wbuf_printf(out, "  %.*s\n", (int)(i - start), (const char *)est.data + start);
                start = i + 1;
            }
        vg_wbuf_free(&est);
    }
    vg_wbuf_printf(out, "\npipeline\n");
    vg_pipeline_describe(m->pipeline, out);
}
