/* Renderings of vg_metrics: a plain-text report sized for an 80-column
 * terminal (vg_metrics_format) and the metric keys of the --json contract
 * (vg_metrics_to_json). Neither computes anything; metrics.c does. */
#include "vigil/metrics.h"
#include "eval/json_out.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#define FMT_WIDTH 80
#define FMT_ROW_NAME_MAX 20  /* row labels of the matrix and the per-class table */
#define FMT_COL_NAME_MAX 10  /* column headers of the matrix */
#define FMT_NAME_MIN 5       /* room for the "class" header */

/* Append printf-style text. Lines here are short (names are truncated before
 * they get here), so a stack buffer nearly always does; the heap path keeps
 * a long one whole rather than cutting it. */
static void put_spaces(vg_wbuf *w, size_t n)
{
    static const char spaces[] = "                                ";
    while (n > 0) {
        size_t k = VG_MIN(n, sizeof spaces - 1);
        vg_wbuf_bytes(w, spaces, k);
        n -= k;
    }
}

/* A figure in a fixed width; undefined ones read "n/a" rather than "nan". */
static void put_fig(vg_wbuf *w, double v, int width)
{
    if (isnan(v)) vg_wbuf_printf(w, "%*s", width, "n/a");
    else vg_wbuf_printf(w, "%*.4f", width, v);
}

/* Class names come from the data, so they may be long, non-ASCII or hold
 * control characters. Width is counted in UTF-8 code points (not bytes, so
 * columns line up for accented names) and cuts never split a character. */
static int is_continuation(unsigned char b)
{
    return (b & 0xC0) == 0x80;
}

static size_t text_width(const char *s)
{
    size_t n = 0;
    for (; *s; s++) n += !is_continuation((unsigned char)*s);
    return n;
}

/* Write `s` in exactly `width` columns: padded, or cut with a trailing '~'
 * when longer. right: align right (numbers' headers), else left. */
static void put_name(vg_wbuf *w, const char *s, size_t width, int right)
{
    size_t len = text_width(s);
    size_t shown = len <= width ? len : (width > 0 ? width - 1 : 0);
    if (right && len < width) put_spaces(w, width - len);
    const unsigned char *p = (const unsigned char *)s;
    for (size_t cp = 0; *p;) {
        if (!is_continuation(*p)) {
            if (cp == shown) break;
            cp++;
        }
        unsigned char c = *p++;
        if (c < 0x20 || c == 0x7f) c = '?';  /* a tab or newline would break the layout */
        vg_wbuf_u8(w, c);
    }
    if (len > width && width > 0) vg_wbuf_u8(w, '~');
    if (!right && len < width) put_spaces(w, width - len);
}

/* Name of class c: the caller's, or its index when none was given. */
static const char *class_name(const char *const *names, uint32_t c, char tmp[16])
{
    if (names && names[c]) return names[c];
    snprintf(tmp, 16, "%u", c);
    return tmp;
}

static size_t widest_name(const vg_metrics *m, const char *const *names, size_t cap)
{
    size_t wmax = FMT_NAME_MIN;
    char tmp[16];
    for (uint32_t c = 0; c < m->n_classes; c++)
        wmax = VG_MAX(wmax, text_width(class_name(names, c, tmp)));
    return VG_MIN(wmax, cap);
}

static void format_headline(const vg_metrics *m, const char *const *names, vg_wbuf *w)
{
    char tmp[16];
    vg_wbuf_printf(w, "Metrics over %zu rows, %u classes", m->rows, m->n_classes);
    if (m->n_classes == 2) {
        const char *pos = class_name(names, 1, tmp);
        vg_wbuf_printf(w, " (positive: ");
        put_name(w, pos, VG_MIN(text_width(pos), FMT_ROW_NAME_MAX), 0);
        vg_wbuf_printf(w, ")");
    } else {
        vg_wbuf_printf(w, " (precision, recall, F1, FPR: macro)");
    }
    vg_wbuf_printf(w, "\n\n");
    const char *left[5] = { "accuracy", "precision", "recall", "F1", "FPR" };
    const double lv[5] = { m->accuracy, m->precision, m->recall, m->f1, m->fpr };
    const char *right[5] = { "ROC-AUC", "PR-AUC", "log loss", "macro F1", "weighted F1" };
    const double rv[5] = { m->roc_auc, m->pr_auc, m->log_loss, m->macro_f1, m->weighted_f1 };
    for (int i = 0; i < 5; i++) {
        vg_wbuf_printf(w, "  %-12s", left[i]);
        put_fig(w, lv[i], 8);
        vg_wbuf_printf(w, "      %-12s", right[i]);
        put_fig(w, rv[i], 8);
        vg_wbuf_printf(w, "\n");
    }
}

/* The matrix with class names on both axes when it fits in 80 columns.
 * When it does not (many classes), columns are headed by class numbers,
 * which the row labels repeat, so columns stay as narrow as the counts; the
 * columns are then printed in bands, each repeating the row labels. */
static void format_confusion(const vg_metrics *m, const char *const *names, vg_wbuf *w)
{
    uint32_t k = m->n_classes;
    char tmp[16], num[16];
    size_t maxc = 0;
    for (size_t i = 0; i < (size_t)k * k; i++) maxc = VG_MAX(maxc, m->confusion[i]);
    size_t count_w = (size_t)snprintf(num, sizeof num, "%zu", maxc);
    size_t name_w = widest_name(m, names, FMT_ROW_NAME_MAX);
    size_t cw = VG_MAX(count_w, widest_name(m, names, FMT_COL_NAME_MAX));
    int numbered = 2 + name_w + (size_t)k * (cw + 2) > FMT_WIDTH;
    size_t num_w = (size_t)snprintf(num, sizeof num, "%u", k);
    size_t rw = name_w;
    if (numbered) {
        cw = VG_MAX(count_w, num_w);
        rw = num_w + 1 + name_w;
    }
    size_t per_band = (FMT_WIDTH - 2 - rw) / (cw + 2);
    if (per_band == 0) per_band = 1;

    vg_wbuf_printf(w, "\nConfusion matrix (rows = truth, columns = prediction%s)\n",
        numbered ? " by class number" : "");
    for (uint32_t first = 0; first < k; first += (uint32_t)per_band) {
        uint32_t last = (uint32_t)VG_MIN((size_t)k, first + per_band);
        if (per_band < k) vg_wbuf_printf(w, "  predicted classes %u-%u of %u\n", first + 1, last, k);
        put_spaces(w, 2 + rw);
        for (uint32_t c = first; c < last; c++) {
            vg_wbuf_printf(w, "  ");
            if (numbered) vg_wbuf_printf(w, "%*u", (int)cw, c + 1);
            else put_name(w, class_name(names, c, tmp), cw, 1);
        }
        vg_wbuf_printf(w, "\n");
        for (uint32_t t = 0; t < k; t++) {
            vg_wbuf_printf(w, "  ");
            if (numbered) vg_wbuf_printf(w, "%*u ", (int)num_w, t + 1);
            put_name(w, class_name(names, t, tmp), name_w, 0);
            for (uint32_t c = first; c < last; c++)
                vg_wbuf_printf(w, "  %*zu", (int)cw, m->confusion[(size_t)t * k + c]);
            vg_wbuf_printf(w, "\n");
        }
    }
}

static void format_per_class(const vg_metrics *m, const char *const *names, vg_wbuf *w)
{
    char tmp[16];
    size_t rw = widest_name(m, names, FMT_ROW_NAME_MAX);
    vg_wbuf_printf(w, "\nPer class\n  ");
    put_name(w, "class", rw, 0);
    vg_wbuf_printf(w, "%11s%8s%8s%10s%9s%9s\n", "precision", "recall", "F1", "support", "ROC-AUC", "PR-AUC");
    for (uint32_t c = 0; c < m->n_classes; c++) {
        const vg_class_report *r = &m->per_class[c];
        vg_wbuf_printf(w, "  ");
        put_name(w, class_name(names, c, tmp), rw, 0);
        put_fig(w, r->precision, 11);
        put_fig(w, r->recall, 8);
        put_fig(w, r->f1, 8);
        vg_wbuf_printf(w, "%10zu", r->support);
        put_fig(w, r->roc_auc, 9);
        put_fig(w, r->pr_auc, 9);
        vg_wbuf_printf(w, "\n");
    }
}

void vg_metrics_format(const vg_metrics *m, const char *const *class_names, vg_wbuf *out)
{
    VG_ASSERT(m && out);
    if (!m->confusion || !m->per_class) {
        vg_wbuf_printf(out, "no metrics\n");
        return;
    }
    format_headline(m, class_names, out);
    format_confusion(m, class_names, out);
    format_per_class(m, class_names, out);
}

/* JSON numbers cannot be NaN; an undefined figure is null. */
static cJSON *json_figure(double v)
{
    return isnan(v) ? cJSON_CreateNull() : cJSON_CreateNumber(v);
}

/* Set obj[key] = item, replacing an existing key so calling twice does not
 * leave duplicates. Takes ownership of item, also on failure. */
static vg_status json_set(cJSON *obj, const char *key, cJSON *item)
{
    if (!item) return vg_fail(VG_ERR_NOMEM, "metrics: out of memory building JSON");
    cJSON_bool ok = cJSON_GetObjectItemCaseSensitive(obj, key)
                        ? cJSON_ReplaceItemInObjectCaseSensitive(obj, key, item)
                        : cJSON_AddItemToObject(obj, key, item);
    if (!ok) {
        cJSON_Delete(item);
        return vg_fail(VG_ERR_NOMEM, "metrics: out of memory building JSON");
    }
    return VG_OK;
}

static cJSON *json_confusion(const vg_metrics *m)
{
    uint32_t k = m->n_classes;
    cJSON *rows = cJSON_CreateArray();
    for (uint32_t t = 0; rows && t < k; t++) {
        cJSON *row = cJSON_CreateArray();
        for (uint32_t c = 0; row && c < k; c++) {
            cJSON *v = cJSON_CreateNumber((double)m->confusion[(size_t)t * k + c]);
            if (!v || !cJSON_AddItemToArray(row, v)) {
                cJSON_Delete(v);
                cJSON_Delete(row);
                row = NULL;
            }
        }
        if (!row || !cJSON_AddItemToArray(rows, row)) {
            cJSON_Delete(row);
            cJSON_Delete(rows);
            rows = NULL;
        }
    }
    return rows;
}

static cJSON *json_class(const vg_class_report *r)
{
    cJSON *o = cJSON_CreateObject();
    if (!o) return NULL;
    const char *keys[7] = { "precision", "recall", "f1", "fpr", "support", "roc_auc", "pr_auc" };
    const double vals[7] = { r->precision, r->recall, r->f1, r->fpr, (double)r->support,
                             r->roc_auc, r->pr_auc };
    for (int i = 0; i < 7; i++) {
        cJSON *v = json_figure(vals[i]);
        if (!v || !cJSON_AddItemToObject(o, keys[i], v)) {
            cJSON_Delete(v);
            cJSON_Delete(o);
            return NULL;
        }
    }
    return o;
}

static cJSON *json_per_class(const vg_metrics *m, const char *const *names)
{
    cJSON *o = cJSON_CreateObject();
    char tmp[16];
    for (uint32_t c = 0; o && c < m->n_classes; c++) {
        cJSON *v = json_class(&m->per_class[c]);
        if (!v || !cJSON_AddItemToObject(o, class_name(names, c, tmp), v)) {
            cJSON_Delete(v);
            cJSON_Delete(o);
            o = NULL;
        }
    }
    return o;
}

vg_status vg_metrics_to_json(const vg_metrics *m, const char *const *class_names, cJSON *obj)
{
    if (!m || !obj || !cJSON_IsObject(obj))
        return vg_fail(VG_ERR_INVALID, "metrics: JSON output needs metrics and a JSON object");
    if (!m->confusion || !m->per_class)
        return vg_fail(VG_ERR_INVALID, "metrics: nothing computed to write as JSON");
    const char *keys[10] = { "accuracy", "precision", "recall", "f1", "fpr",
                             "macro_f1", "weighted_f1", "roc_auc", "pr_auc", "log_loss" };
    const double vals[10] = { m->accuracy, m->precision, m->recall, m->f1, m->fpr,
                              m->macro_f1, m->weighted_f1, m->roc_auc, m->pr_auc, m->log_loss };
    vg_status st = VG_OK;
    for (int i = 0; i < 10 && st == VG_OK; i++) st = json_set(obj, keys[i], json_figure(vals[i]));
    if (st == VG_OK) st = json_set(obj, "confusion_matrix", json_confusion(m));
    if (st == VG_OK) st = json_set(obj, "per_class", json_per_class(m, class_names));
    return st;
}
