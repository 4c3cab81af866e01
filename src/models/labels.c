/* Label columns to class indices, per task (see labels.h). */
#include "vigil/labels.h"
#include "vigil/decision.h"
#include "vigil/kdd.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const char *const kdd_categories[] = { "normal", "DoS", "Probe", "R2L", "U2R" };

const char *vg_task_str(vg_task t)
{
    switch (t) {
    case VG_TASK_BINARY: return "binary";
    case VG_TASK_CATEGORY: return "category";
    case VG_TASK_LABEL: return "label";
    case VG_TASK_REGRESSION: return "regression";
    }
    return "?";
}

vg_status vg_task_parse(const char *s, vg_task *out)
{
    for (int t = VG_TASK_BINARY; t <= VG_TASK_REGRESSION; t++) {
        if (strcmp(s, vg_task_str((vg_task)t)) == 0) {
            *out = (vg_task)t;
            return VG_OK;
        }
    }
    return vg_fail(VG_ERR_INVALID, "--task: '%s' is not one of binary, category, label, regression", s);
}

void vg_classes_free(vg_classes *c)
{
    if (!c) return;
    for (uint32_t i = 0; i < c->n; i++) vg_free(c->names[i]);
    vg_free(c->names);
    vg_free(c->positive_value);
    vg_free(c->negative_value);
    vg_free(c->normal_value);
    memset(c, 0, sizeof *c);
}

static vg_status classes_alloc(vg_classes *c, uint32_t n)
{
    memset(c, 0, sizeof *c);
    c->names = vg_calloc(n, sizeof *c->names);
    if (!c->names) return vg_fail(VG_ERR_NOMEM, "out of memory");
    c->n = n;
    return VG_OK;
}

vg_status vg_classes_copy(const vg_classes *src, vg_classes *dst)
{
    if (classes_alloc(dst, src->n)) return VG_ERR_NOMEM;
    for (uint32_t i = 0; i < src->n; i++) dst->names[i] = vg_strdup(src->names[i]);
    dst->positive_value = vg_strdup(src->positive_value);
    dst->negative_value = vg_strdup(src->negative_value);
    dst->normal_value = vg_strdup(src->normal_value);
    if ((src->positive_value && !dst->positive_value) || (src->negative_value && !dst->negative_value) ||
        (src->normal_value && !dst->normal_value)) {
        vg_classes_free(dst);
        return vg_fail(VG_ERR_NOMEM, "out of memory");
    }
    return VG_OK;
}

/* Label values commonly used for the attack / positive side of a binary label. */
static int looks_positive(const char *s)
{
    static const char *const words[] = { "1", "true", "yes", "attack", "malicious", "anomaly",
                                         "positive", "bad", "fraud", "intrusion", "anomalous" };
    for (size_t i = 0; i < sizeof words / sizeof *words; i++)
        if (strcasecmp(s, words[i]) == 0) return 1;
    return 0;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* 1 when a binary task's negative class is "every label but the positive
 * one" (--positive on a column of more than two values: class 0 is named
 * "not POSITIVE"), 0 when it is the one other value training saw. */
static int negative_is_rest(const vg_classes *c)
{
    const char *n = c->names[0], *p = c->positive_value;
    return strncmp(n, "not ", 4) == 0 && strcmp(n + 4, p) == 0;
}

/* The class index of label code `code` for a task whose classes are known;
 * -1 for a label the classes do not hold (counted as unseen, not scored). */
static int32_t class_of(const vg_classes *c, const vg_label_spec *spec, const char *label)
{
    switch (spec->task) {
    case VG_TASK_BINARY:
        if (c->positive_value) {
            if (strcmp(label, c->positive_value) == 0) return 1;
            /* A test label neither training value (yes/no against 0/1) is
             * unseen, not silently the negative class. */
            return negative_is_rest(c) || strcmp(label, c->names[0]) == 0 ? 0 : -1;
        }
        return strcmp(label, c->negative_value) != 0;
    case VG_TASK_CATEGORY: {
        const char *cat = vg_kdd_category(label);
        if (!cat) return -2;
        for (uint32_t i = 0; i < c->n; i++)
            if (strcmp(c->names[i], cat) == 0) return (int32_t)i;
        return -1;
    }
    case VG_TASK_LABEL:
        for (uint32_t i = 0; i < c->n; i++)
            if (strcmp(c->names[i], label) == 0) return (int32_t)i;
        return -1;
    case VG_TASK_REGRESSION:
        return -1;
    }
    return -1;
}

/* Map every dictionary entry of the label column to a class once, then rows. */
static vg_status assign_rows(const vg_classes *c, const vg_label_spec *spec, const vg_table *t,
                             size_t col, int32_t *y, size_t *unseen)
{
    uint32_t n_codes = vg_table_n_categories(t, col);
    int32_t *map = vg_malloc((n_codes + 1) * sizeof *map);
    if (!map) return vg_fail(VG_ERR_NOMEM, "out of memory");
    for (uint32_t k = 0; k < n_codes; k++) map[k] = class_of(c, spec, vg_table_category(t, col, k));
    const uint32_t *codes = vg_table_codes(t, col);
    size_t rows = vg_table_rows(t), n_unseen = 0;
    vg_status st = VG_OK;
    for (size_t r = 0; r < rows; r++) {
        if (codes[r] == VG_CODE_MISSING) {
            st = vg_fail(VG_ERR_PARSE, "%s:%llu: field '%s': the label is missing", vg_table_source(t),
                         (unsigned long long)vg_table_line(t, r), vg_table_name(t, col));
            break;
        }
        int32_t k = map[codes[r]];
        if (k == -2) {
            st = vg_fail(VG_ERR_PARSE, "%s:%llu: field '%s': '%s' is not a known KDD attack name",
                         vg_table_source(t), (unsigned long long)vg_table_line(t, r),
                         vg_table_name(t, col), vg_table_category(t, col, codes[r]));
            break;
        }
        if (k < 0) n_unseen++;
        y[r] = k < 0 ? -1 : k;
    }
    vg_free(map);
    if (unseen) *unseen = n_unseen;
    return st;
}

static vg_status fit_binary(const vg_table *t, size_t col, const vg_label_spec *spec, vg_classes *out)
{
    uint32_t n_codes = vg_table_n_categories(t, col);
    if (spec->kdd && !spec->positive) {
        if (classes_alloc(out, 2)) return VG_ERR_NOMEM;
        out->names[0] = vg_strdup("normal");
        out->names[1] = vg_strdup("attack");
        out->negative_value = vg_strdup("normal");
        return VG_OK;
    }
    const char *pos = spec->positive;
    if (spec->normal) {
        /* --normal names the negative side: with two values the other one is
         * positive, with more every label but the normal one is. */
        if (pos)
            return vg_fail(VG_ERR_INVALID, "--normal and --positive: give one (a binary task's positive class is "
                                           "every label but the normal one)");
        uint32_t code = vg_table_category_code(t, col, spec->normal);
        if (code == VG_CODE_MISSING)
            return vg_fail(VG_ERR_INVALID, "--normal: '%s' is not a value of label column '%s'", spec->normal,
                           vg_table_name(t, col));
        if (n_codes != 2) {
            if (classes_alloc(out, 2)) return VG_ERR_NOMEM;
            size_t len = strlen(spec->normal) + 5;
            out->names[0] = vg_strdup(spec->normal);
            out->names[1] = vg_malloc(len);
            if (out->names[1]) snprintf(out->names[1], len, "not %s", spec->normal);
            out->negative_value = vg_strdup(spec->normal);
            return out->negative_value ? VG_OK : vg_fail(VG_ERR_NOMEM, "out of memory");
        }
        pos = vg_table_category(t, col, code == 0 ? 1 : 0);
    } else if (pos) {
        if (vg_table_category_code(t, col, pos) == VG_CODE_MISSING)
            return vg_fail(VG_ERR_INVALID, "--positive: '%s' is not a value of label column '%s'",
                           pos, vg_table_name(t, col));
    } else {
        if (n_codes != 2)
            return vg_fail(VG_ERR_INVALID,
                           "label column '%s' has %u values; --task binary needs two, or name the "
                           "positive one with --positive", vg_table_name(t, col), n_codes);
        const char *a = vg_table_category(t, col, 0), *b = vg_table_category(t, col, 1);
        /* Prefer a value that reads as "attack"; otherwise the later one in
         * sorted order (so 0/1 and false/true pick 1 and true). */
        if (looks_positive(a) && !looks_positive(b)) pos = a;
        else if (looks_positive(b) && !looks_positive(a)) pos = b;
        else pos = strcmp(a, b) > 0 ? a : b;
    }
    if (classes_alloc(out, 2)) return VG_ERR_NOMEM;
    out->positive_value = vg_strdup(pos);
    if (n_codes == 2) {
        const char *a = vg_table_category(t, col, 0);
        const char *neg = strcmp(a, pos) == 0 ? vg_table_category(t, col, 1) : a;
        out->names[0] = vg_strdup(neg);
    } else {
        size_t len = strlen(pos) + 5;
        out->names[0] = vg_malloc(len);
        if (out->names[0]) snprintf(out->names[0], len, "not %s", pos);
    }
    out->names[1] = vg_strdup(pos);
    return VG_OK;
}

static vg_status fit_label(const vg_table *t, size_t col, const char *normal, vg_classes *out)
{
    uint32_t n = vg_table_n_categories(t, col);
    if (classes_alloc(out, n)) return VG_ERR_NOMEM;
    for (uint32_t k = 0; k < n; k++) out->names[k] = vg_strdup(vg_table_category(t, col, k));
    /* Sorted names make class order independent of row order. */
    qsort(out->names, n, sizeof *out->names, cmp_str);
    /* Two classes, one of them normal (--normal, else by name): it goes first, so class 1, whose
     * precision, recall and curves a binary evaluation reports, is the
     * attack (["attack", "normal"] sorted would report on normal rows). */
    if (n == 2 && (normal ? strcmp(out->names[1], normal) == 0
                          : vg_decision_normal_name(out->names[1]) && !vg_decision_normal_name(out->names[0]))) {
        char *tmp = out->names[0];
        out->names[0] = out->names[1];
        out->names[1] = tmp;
    }
    return VG_OK;
}

static vg_status fit_category(vg_classes *out)
{
    if (classes_alloc(out, 5)) return VG_ERR_NOMEM;
    for (int i = 0; i < 5; i++) out->names[i] = vg_strdup(kdd_categories[i]);
    return VG_OK;
}

/* --normal: the class it names (for binary, the negative class fit_binary
 * made of it) is kept by name, so every decision finds it again. */
static vg_status name_normal(vg_classes *c, const char *normal)
{
    uint32_t k = 0;
    while (k < c->n && strcmp(c->names[k], normal) != 0) k++;
    if (k == c->n)
        return vg_fail(VG_ERR_INVALID, "--normal: '%s' is not a class (classes: %s, %s%s)", normal, c->names[0],
                       c->names[1], c->n > 2 ? ", ..." : "");
    c->normal_value = vg_strdup(normal);
    return c->normal_value ? VG_OK : vg_fail(VG_ERR_NOMEM, "out of memory");
}

vg_status vg_classes_fit(const vg_table *t, size_t label_col, const vg_label_spec *spec,
                         vg_classes *out, int32_t *y)
{
    memset(out, 0, sizeof *out);
    if (vg_table_type(t, label_col) != VG_COLUMN_CATEGORICAL)
        return vg_fail(VG_ERR_INVALID, "label column '%s' must be categorical", vg_table_name(t, label_col));
    if (spec->task == VG_TASK_CATEGORY && !spec->kdd)
        return vg_fail(VG_ERR_INVALID, "--task category needs --format kdd (it uses the KDD attack "
                                       "taxonomy); use --task label for other data");
    vg_status st;
    switch (spec->task) {
    case VG_TASK_BINARY: st = fit_binary(t, label_col, spec, out); break;
    case VG_TASK_CATEGORY: st = fit_category(out); break;
    default: st = fit_label(t, label_col, spec->normal, out); break;
    }
    if (!st && spec->normal) st = name_normal(out, spec->normal);
    if (st) {
        vg_classes_free(out);
        return st;
    }
    for (uint32_t i = 0; i < out->n; i++)
        if (!out->names[i]) {
            vg_classes_free(out);
            return vg_fail(VG_ERR_NOMEM, "out of memory");
        }
    st = assign_rows(out, spec, t, label_col, y, NULL);
    if (st) {
        vg_classes_free(out);
        return st;
    }
    /* A task needs at least two classes actually present. */
    size_t rows = vg_table_rows(t);
    uint32_t present = 0;
    char *seen = vg_calloc(out->n, 1);
    if (!seen) return vg_fail(VG_ERR_NOMEM, "out of memory");
    for (size_t r = 0; r < rows; r++)
        if (!seen[y[r]]) seen[y[r]] = 1, present++;
    vg_free(seen);
    if (present < 2) {
        vg_status s2 = vg_fail(VG_ERR_DATA, "%s: label column '%s' has a single class ('%s') in %zu rows; "
                               "a detector needs examples of at least two", vg_table_source(t),
                               vg_table_name(t, label_col), rows ? out->names[y[0]] : "", rows);
        vg_classes_free(out);
        return s2;
    }
    return VG_OK;
}

vg_status vg_classes_assign(const vg_classes *c, const vg_label_spec *spec, const vg_table *t,
                            size_t label_col, int32_t *y, size_t *unseen)
{
    if (vg_table_type(t, label_col) != VG_COLUMN_CATEGORICAL)
        return vg_fail(VG_ERR_INVALID, "label column '%s' must be categorical", vg_table_name(t, label_col));
    return assign_rows(c, spec, t, label_col, y, unseen);
}

vg_status vg_targets_read(const vg_table *t, size_t label_col, float *target)
{
    if (vg_table_type(t, label_col) != VG_COLUMN_NUMERIC) {
        const uint32_t *codes = vg_table_codes(t, label_col);
        size_t r = 0;
        while (r + 1 < vg_table_rows(t) && codes[r] == VG_CODE_MISSING) r++;
        return vg_fail(VG_ERR_PARSE, "%s:%llu: field '%s': '%s' is not a number (--task regression needs a "
                       "numeric label)", vg_table_source(t), (unsigned long long)vg_table_line(t, r),
                       vg_table_name(t, label_col), codes[r] == VG_CODE_MISSING ? "" : vg_table_category(t, label_col, codes[r]));
    }
    const double *v = vg_table_numbers(t, label_col);
    for (size_t r = 0; r < vg_table_rows(t); r++) {
        if (isnan(v[r]))
            return vg_fail(VG_ERR_PARSE, "%s:%llu: field '%s': the label is missing", vg_table_source(t),
                           (unsigned long long)vg_table_line(t, r), vg_table_name(t, label_col));
        target[r] = (float)v[r];
    }
    return VG_OK;
}
