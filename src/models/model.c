/* vg_model: reading data the model's way, predicting, accessors. */
#include "model_internal.h"
#include "vigil/csv.h"
#include "vigil/kdd.h"

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
    vg_free(m->positive);
    vg_string_list_free(&m->ignore);
    vg_string_list_free(&m->categorical);
    vg_classes_free(&m->classes);
    vg_pipeline_free(m->pipeline);
    vg_string_list_free(&m->params);
    if (m->state && m->kind) m->kind->free(m->state);
    vg_free(m->data_name);
    vg_free(m->vigil_version);
    vg_free(m->metrics_json);
    vg_free(m);
}

vg_label_spec vg_model_label_spec(const vg_model *m)
{
    return (vg_label_spec){ .task = m->task, .kdd = strcmp(m->format, "kdd") == 0, .positive = m->positive };
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
    const char *format = spec->format ? spec->format : "csv";
    if (strcmp(format, "kdd") == 0) return vg_kdd_read(path, out);
    if (strcmp(format, "csv") != 0)
        return vg_fail(VG_ERR_INVALID, "--format: '%s' is not one of csv, kdd", format);
    vg_csv_options opt = vg_csv_options_default();
    opt.categorical = spec->categorical;
    opt.n_categorical = spec->n_categorical;
    vg_status st = vg_csv_read(path, &opt, out);
    if (!st && spec->task != VG_TASK_REGRESSION && (st = label_as_categories(*out, spec->label))) {
        vg_table_free(*out);
        *out = NULL;
    }
    return st;
}

vg_status vg_model_read_data(const vg_model *m, const char *path, vg_table **out)
{
    if (strcmp(m->format, "kdd") == 0) return vg_kdd_read(path, out);
    /* Force the types the pipeline was fitted with, so the same text never
     * changes meaning between training and prediction. */
    size_t n_in = vg_pipeline_n_inputs(m->pipeline);
    const char **cat = vg_calloc(n_in + 1, sizeof *cat);  /* +1: never zero bytes */
    const char **num = vg_calloc(n_in + 1, sizeof *num);
    if (!cat || !num) {
        vg_free(cat), vg_free(num);
        return vg_fail(VG_ERR_NOMEM, "out of memory");
    }
    size_t nc = 0, nn = 0;
    for (size_t i = 0; i < n_in; i++) {
        const char *name = vg_pipeline_input_name(m->pipeline, i);
        if (vg_pipeline_input_type(m->pipeline, i) == VG_COLUMN_CATEGORICAL) cat[nc++] = name;
        else num[nn++] = name;
    }
    vg_csv_options opt = vg_csv_options_default();
    opt.categorical = cat;
    opt.n_categorical = nc;
    opt.numeric = num;
    opt.n_numeric = nn;
    vg_status st = vg_csv_read(path, &opt, out);
    vg_free(cat), vg_free(num);
    if (!st && m->task != VG_TASK_REGRESSION && vg_table_find(*out, m->label) >= 0 &&
        (st = label_as_categories(*out, m->label))) {
        vg_table_free(*out);
        *out = NULL;
    }
    return st;
}

vg_status vg_model_predict(const vg_model *m, const vg_table *t, int threads, float **proba)
{
    *proba = NULL;
    vg_matrix X;
    vg_status st = vg_pipeline_transform(m->pipeline, t, &X);
    if (st) return st;
    uint32_t k = m->kind->n_classes(m->state);
    float *p = vg_malloc((X.rows ? X.rows : 1) * k * sizeof *p);
    if (!p) {
        vg_matrix_free(&X);
        return vg_fail(VG_ERR_NOMEM, "out of memory for %zu predictions", X.rows);
    }
    m->kind->predict(m->state, &X, threads, p);
    vg_matrix_free(&X);
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
const char *vg_model_family(const vg_model *m) { return m->kind->name; }
const vg_estimator_kind *vg_model_kind(const vg_model *m) { return m->kind; }
const void *vg_model_state(const vg_model *m) { return m->state; }
const vg_pipeline *vg_model_pipeline(const vg_model *m) { return m->pipeline; }
vg_task vg_model_task(const vg_model *m) { return m->task; }
const char *vg_model_format(const vg_model *m) { return m->format; }
const char *vg_model_label(const vg_model *m) { return m->label; }
size_t vg_model_train_rows(const vg_model *m) { return m->train_rows; }
double vg_model_train_seconds(const vg_model *m) { return m->train_seconds; }
int vg_model_positive_class(const vg_model *m) { return m->classes.n == 2 ? 1 : -1; }
int vg_model_is_regression(const vg_model *m) { return m->task == VG_TASK_REGRESSION; }

vg_status vg_model_set_metrics_json(vg_model *m, const char *json)
{
    char *copy = vg_strdup(json);
    if (json && !copy) return vg_fail(VG_ERR_NOMEM, "out of memory");
    vg_free(m->metrics_json);
    m->metrics_json = copy;
    return VG_OK;
}

const char *vg_model_metrics_json(const vg_model *m) { return m->metrics_json; }
