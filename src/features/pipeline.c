/* The fitted preprocessing pipeline (see pipeline.h). */
#include "vigil/pipeline.h"
#include "features/derived.h"
#include "vigil/csv.h"
#include "vigil/parallel.h"
#include "vigil/textgrams.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_INPUTS 100000
#define MAX_CATEGORIES_LIMIT 1000000
#define MAX_TEXT_INPUTS 64
#define TEXT_BLOCK_TAG 0x31545854u  /* "TXT1" */

typedef struct input {
    char *name;
    size_t name_len;
    vg_column_type type;
    size_t col;          /* its column in the table being fitted (while fitting) */
    double median;       /* numeric: imputation value */
    double mean, scale;  /* numeric, linear encoding: (x - mean) / scale */
    uint32_t n_cats;     /* categorical: kept categories, index = code */
    char **cats;
    /* Records give categories as text of a known length: an open-addressing
     * table (slot = index + 1, 0 = empty) finds one with a hash and one
     * comparison instead of a binary search of string comparisons. */
    uint32_t *cat_slot, cat_mask;
    uint32_t *cat_len;
    size_t first_feature;
    /* A text input (after the others): no dense feature; its hashed n-gram
     * columns are [first_col, first_col + n_features of tg) of the CSR rows. */
    vg_textgrams *tg;
    size_t first_col;
} input;

struct vg_pipeline {
    vg_encoding encoding;
    int threads;            /* transform's threads (params; not saved) */
    size_t n_inputs;
    input *inputs;
    size_t n_features;
    size_t n_text;          /* text inputs, the last n_text of inputs */
    size_t n_columns;       /* CSR width: n_features + the text inputs' hashed columns */
    vg_feature *features;
    char **feature_names;   /* owned storage behind features[].name */
    size_t *feature_input;
    /* Input names -> index, open addressing (slot = index + 1, 0 = empty),
     * for records that arrive as name/value pairs. */
    uint32_t name_slots;
    uint32_t *name_index;
    vg_derived *derived;    /* raw fields records carry instead of derived inputs; NULL: none */
};

vg_pipeline_params vg_pipeline_params_default(void)
{
    return (vg_pipeline_params){ .encoding = VG_ENCODING_ONEHOT_SCALED, .max_categories = 1000,
                                 .textgrams = vg_textgrams_params_default() };
}

void vg_pipeline_free(vg_pipeline *p)
{
    if (!p) return;
    for (size_t i = 0; i < p->n_inputs; i++) {
        input *in = &p->inputs[i];
        vg_free(in->name);
        for (uint32_t k = 0; k < in->n_cats; k++) vg_free(in->cats[k]);
        vg_free(in->cats);
        vg_free(in->cat_slot);
        vg_free(in->cat_len);
        vg_textgrams_free(in->tg);
    }
    vg_free(p->inputs);
    for (size_t j = 0; j < p->n_features; j++) vg_free(p->feature_names[j]);
    vg_free(p->feature_names);
    vg_free(p->features);
    vg_free(p->feature_input);
    vg_free(p->name_index);
    vg_derived_free(p->derived);
    vg_free(p);
}

/* ---- lookup of category strings ------------------------------------- */

static uint64_t cat_hash(const char *s, size_t len)
{
    return vg_hash(s, len, 0x85ebca6bu);
}

/* a[0..n) == b[0..n) for the short names and categories of records: a call
 * to memcmp costs more than the comparison itself at these lengths, and a
 * record has dozens of fields. Overlapping word loads stay inside both. */
static inline int same_bytes(const char *a, const char *b, size_t n)
{
    if (n >= 8 && n <= 16) {
        uint64_t a0, a1, b0, b1;
        memcpy(&a0, a, 8), memcpy(&b0, b, 8);
        memcpy(&a1, a + n - 8, 8), memcpy(&b1, b + n - 8, 8);
        return ((a0 ^ b0) | (a1 ^ b1)) == 0;
    }
    if (n >= 4 && n < 8) {
        uint32_t a0, a1, b0, b1;
        memcpy(&a0, a, 4), memcpy(&b0, b, 4);
        memcpy(&a1, a + n - 4, 4), memcpy(&b1, b + n - 4, 4);
        return ((a0 ^ b0) | (a1 ^ b1)) == 0;
    }
    if (n < 4) {
        for (size_t i = 0; i < n; i++)
            if (a[i] != b[i]) return 0;
        return 1;
    }
    return memcmp(a, b, n) == 0;
}

/* Build the hash table of the categories (a category given twice is a
 * corrupt pipeline). */
static vg_status index_categories(input *in)
{
    uint32_t slots = 16;
    while (slots < 2 * (uint64_t)in->n_cats) slots *= 2;
    in->cat_slot = vg_calloc(slots, sizeof *in->cat_slot);
    in->cat_len = vg_malloc((in->n_cats ? in->n_cats : 1) * sizeof *in->cat_len);
    if (!in->cat_slot || !in->cat_len) return vg_fail(VG_ERR_NOMEM, "out of memory");
    in->cat_mask = slots - 1;
    for (uint32_t k = 0; k < in->n_cats; k++) {
        uint32_t len = in->cat_len[k] = (uint32_t)strlen(in->cats[k]);
        uint32_t h = (uint32_t)cat_hash(in->cats[k], len) & in->cat_mask;
        for (uint32_t o; (o = in->cat_slot[h]); h = (h + 1) & in->cat_mask)
            if (in->cat_len[o - 1] == len && memcmp(in->cats[o - 1], in->cats[k], len) == 0)
                return vg_fail(VG_ERR_FORMAT, "column '%s': category '%s' appears twice", in->name, in->cats[k]);
        in->cat_slot[h] = k + 1;
    }
    return VG_OK;
}

/* Category index of a string of known length (records are not
 * NUL-terminated), or UINT32_MAX. */
static uint32_t find_category_n(const input *in, const char *s, size_t len)
{
    if (in->n_cats == 0) return UINT32_MAX;
    uint32_t h = (uint32_t)cat_hash(s, len) & in->cat_mask;
    for (uint32_t k; (k = in->cat_slot[h]); h = (h + 1) & in->cat_mask)
        if (in->cat_len[k - 1] == len && same_bytes(in->cats[k - 1], s, len)) return k - 1;
    return UINT32_MAX;
}

/* ---- columns without values ------------------------------------------- */

/* 1 if column col of t has no value in any row. A log format emits a field
 * it cannot fill as missing (the ASN of a 9-column login file, which has no
 * ASN column), and such a column's type was never seen, only guessed: the
 * model's schema decides what it is, so it is imputed, not type-checked. */
static int column_empty(const vg_table *t, size_t col)
{
    size_t rows = vg_table_rows(t);
    if (rows == 0) return 0;  /* nothing to impute, nothing to say */
    if (vg_table_type(t, col) == VG_COLUMN_NUMERIC) {
        const double *v = vg_table_numbers(t, col);
        for (size_t r = 0; r < rows; r++)
            if (!isnan(v[r])) return 0;
    } else {
        const uint32_t *c = vg_table_codes(t, col);
        for (size_t r = 0; r < rows; r++)
            if (c[r] != VG_CODE_MISSING) return 0;
    }
    return 1;
}

/* Append name to a comma-separated list shown in a message: the first
 * LIST_NAMES names, then "...". */
#define LIST_NAMES 8
static void list_name(char *buf, size_t cap, size_t *n, const char *name)
{
    size_t len = strlen(buf);
    if (*n < LIST_NAMES && len < cap)
        snprintf(buf + len, cap - len, "%s%s", *n ? ", " : "", name);
    else if (*n == LIST_NAMES && len < cap)
        snprintf(buf + len, cap - len, ", ...");
    ++*n;
}

/* ---- fitting ------------------------------------------------------------ */

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* The k-th smallest of a[0..n) (0-based), reordering a: quickselect with
 * a three-way partition, so the long runs of equal values security columns
 * hold (counts and flags that are mostly 0) finish in one pass instead of
 * degrading to quadratic time. The median of every numeric column was a
 * full sort, a tenth of gbdt's training time on NSL-KDD; this is linear.
 * Past 2 log2(n) rounds (an unlucky pivot sequence) the rest is sorted. */
static double select_kth(double *a, size_t n, size_t k)
{
    size_t lo = 0, hi = n;  /* the answer is in a[lo..hi) */
    int budget = 2;
    for (size_t m = n; m > 1; m >>= 1) budget += 2;
    while (hi - lo > 1) {
        if (budget-- == 0) {
            qsort(a + lo, hi - lo, sizeof *a, cmp_double);
            return a[k];
        }
        /* median of three as the pivot */
        double x = a[lo], y = a[lo + (hi - lo) / 2], z = a[hi - 1];
        double piv = x < y ? (y < z ? y : (x < z ? z : x)) : (x < z ? x : (y < z ? z : y));
        /* a[lo..lt) < piv, a[lt..i) == piv, a[gt..hi) > piv */
        size_t lt = lo, i = lo, gt = hi;
        while (i < gt) {
            double t = a[i];
            if (t < piv) {
                a[i++] = a[lt];
                a[lt++] = t;
            } else if (t > piv) {
                a[i] = a[--gt];
                a[gt] = t;
            } else {
                i++;
            }
        }
        if (k < lt) hi = lt;
        else if (k >= gt) lo = gt;
        else return piv;
    }
    return a[k];
}

static vg_status fit_numeric(input *in, const double *v, size_t rows)
{
    double *present = vg_malloc((rows ? rows : 1) * sizeof *present);
    if (!present) return vg_fail(VG_ERR_NOMEM, "out of memory");
    size_t n = 0;
    double sum = 0;
    for (size_t r = 0; r < rows; r++)
        if (!isnan(v[r])) present[n++] = v[r], sum += v[r];
    if (n == 0) {
        in->median = 0, in->mean = 0, in->scale = 1;
        vg_free(present);
        return VG_OK;
    }
    double hi = select_kth(present, n, n / 2);
    if (n % 2) {
        in->median = hi;
    } else {
        /* the (n/2 - 1)-th is the largest of the values select_kth left below the n/2-th */
        double lo = present[0];
        for (size_t i = 1; i < n / 2; i++) lo = present[i] > lo ? present[i] : lo;
        in->median = 0.5 * (lo + hi);
    }
    /* Mean and variance after imputation, as a StandardScaler placed after
     * a SimpleImputer would see them. */
    double mean = (sum + (double)(rows - n) * in->median) / (double)rows, ss = 0;
    for (size_t r = 0; r < rows; r++) {
        double x = isnan(v[r]) ? in->median : v[r];
        ss += (x - mean) * (x - mean);
    }
    double sd = sqrt(ss / (double)rows);
    in->mean = mean;
    in->scale = sd > 1e-12 * (fabs(mean) + 1) ? sd : 1.0;
    vg_free(present);
    return VG_OK;
}

/* The numeric inputs' statistics, one column per task: each column is
 * computed alone, so the thread count changes no value. fit_numeric fails
 * only for memory, reported here on the calling thread (the last error is
 * per thread). */
typedef struct numeric_ctx {
    vg_pipeline *p;
    const vg_table *t;
    vg_status *st;  /* (n_inputs) */
} numeric_ctx;

static void numeric_task(void *ctx, size_t i, int worker)
{
    (void)worker;
    const numeric_ctx *c = ctx;
    input *in = &c->p->inputs[i];
    if (in->type == VG_COLUMN_NUMERIC)
        c->st[i] = fit_numeric(in, vg_table_numbers(c->t, in->col), vg_table_rows(c->t));
}

static vg_status fit_numerics(vg_pipeline *p, const vg_table *t)
{
    vg_status *st = vg_calloc(p->n_inputs ? p->n_inputs : 1, sizeof *st);
    if (!st) return vg_fail(VG_ERR_NOMEM, "out of memory");
    numeric_ctx c = { p, t, st };
    vg_parallel_for(vg_table_rows(t) >= 16384 ? p->threads : 1, p->n_inputs, numeric_task, &c);
    vg_status r = VG_OK;
    for (size_t i = 0; i < p->n_inputs && !r; i++)
        if (st[i]) r = vg_fail(st[i], "out of memory fitting column '%s'", p->inputs[i].name);
    vg_free(st);
    return r;
}

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return (x > y) - (x < y);
}

typedef struct cat_count {
    uint32_t code;
    size_t count;
} cat_count;

static int cmp_count_desc(const void *a, const void *b)
{
    const cat_count *x = a, *y = b;
    if (x->count != y->count) return x->count < y->count ? 1 : -1;
    return (x->code > y->code) - (x->code < y->code);
}

static vg_status fit_categorical(input *in, const vg_table *t, size_t col, uint32_t max_categories)
{
    uint32_t n = vg_table_n_categories(t, col);
    cat_count *cc = vg_calloc(n ? n : 1, sizeof *cc);
    if (!cc) return vg_fail(VG_ERR_NOMEM, "out of memory");
    for (uint32_t k = 0; k < n; k++) cc[k].code = k;
    const uint32_t *codes = vg_table_codes(t, col);
    size_t rows = vg_table_rows(t);
    for (size_t r = 0; r < rows; r++)
        if (codes[r] != VG_CODE_MISSING) cc[codes[r]].count++;
    /* Keep the most frequent categories; a category the training rows never
     * use (possible after a split) is not kept. */
    qsort(cc, n, sizeof *cc, cmp_count_desc);
    uint32_t keep = 0;
    while (keep < n && keep < max_categories && cc[keep].count > 0) keep++;
    if (keep < n && cc[keep].count > 0) {
        /* Capped: say so, and what becomes of the rest, rather than drop them silently. */
        uint32_t used = keep;
        size_t rest_rows = 0;
        for (; used < n && cc[used].count > 0; used++) rest_rows += cc[used].count;
        vg_log(VG_LOG_WARN, "column '%s': %u distinct values in the training rows; the %u most frequent are "
                            "kept as categories, the other %u (%zu of %zu rows) are treated as unseen values",
               vg_table_name(t, col), used, keep, used - keep, rest_rows, rows);
    }
    /* Store kept categories in first-seen order for stable, readable output. */
    uint32_t *codes_kept = vg_malloc((keep ? keep : 1) * sizeof *codes_kept);
    in->cats = vg_calloc(keep ? keep : 1, sizeof *in->cats);
    if (!codes_kept || !in->cats) {
        vg_free(cc), vg_free(codes_kept);
        return vg_fail(VG_ERR_NOMEM, "out of memory");
    }
    for (uint32_t k = 0; k < keep; k++) codes_kept[k] = cc[k].code;
    qsort(codes_kept, keep, sizeof *codes_kept, cmp_u32);
    vg_free(cc);
    for (uint32_t k = 0; k < keep; k++) {
        in->cats[k] = vg_strdup(vg_table_category(t, col, codes_kept[k]));
        if (!in->cats[k]) {
            vg_free(codes_kept);
            return vg_fail(VG_ERR_NOMEM, "out of memory");
        }
        in->n_cats = k + 1;
    }
    vg_free(codes_kept);
    return index_categories(in);
}

/* Lay out the encoded features after the inputs are known (fit and load). */
static uint64_t name_hash(const char *s, size_t len)
{
    return vg_hash(s, len, 0x9e3779b9u);
}

static vg_status build_name_index(vg_pipeline *p)
{
    uint32_t slots = 16;
    while (slots < 2 * p->n_inputs) slots *= 2;
    p->name_index = vg_calloc(slots, sizeof *p->name_index);
    if (!p->name_index) return vg_fail(VG_ERR_NOMEM, "out of memory");
    p->name_slots = slots;
    for (size_t i = 0; i < p->n_inputs; i++) {
        p->inputs[i].name_len = strlen(p->inputs[i].name);
        uint32_t h = (uint32_t)name_hash(p->inputs[i].name, p->inputs[i].name_len) & (slots - 1);
        while (p->name_index[h]) h = (h + 1) & (slots - 1);
        p->name_index[h] = (uint32_t)i + 1;
    }
    return vg_derived_build(p, &p->derived);
}

size_t vg_pipeline_field_inputs(const vg_pipeline *p, const char *name, size_t len, size_t *inputs)
{
    long i = vg_pipeline_find_input(p, name, len);
    if (i < 0) return vg_derived_inputs(p->derived, name, len, inputs);
    inputs[0] = (size_t)i;
    return 1;
}

long vg_pipeline_find_input(const vg_pipeline *p, const char *name, size_t len)
{
    uint32_t h = (uint32_t)name_hash(name, len) & (p->name_slots - 1);
    while (p->name_index[h]) {
        const input *in = &p->inputs[p->name_index[h] - 1];
        if (in->name_len == len && memcmp(in->name, name, len) == 0) return (long)p->name_index[h] - 1;
        h = (h + 1) & (p->name_slots - 1);
    }
    return -1;
}

static vg_status build_features(vg_pipeline *p)
{
    if (build_name_index(p)) return VG_ERR_NOMEM;
    size_t n = 0;
    for (size_t i = 0; i < p->n_inputs; i++) {
        const input *in = &p->inputs[i];
        int onehot = in->type == VG_COLUMN_CATEGORICAL && p->encoding == VG_ENCODING_ONEHOT_SCALED;
        if (!in->tg) n += onehot ? in->n_cats : 1;
    }
    p->n_features = 0;
    p->features = vg_calloc(n ? n : 1, sizeof *p->features);
    p->feature_names = vg_calloc(n ? n : 1, sizeof *p->feature_names);
    p->feature_input = vg_calloc(n ? n : 1, sizeof *p->feature_input);
    if (!p->features || !p->feature_names || !p->feature_input) return vg_fail(VG_ERR_NOMEM, "out of memory");
    size_t j = 0;
    for (size_t i = 0; i < p->n_inputs; i++) {
        input *in = &p->inputs[i];
        in->first_feature = j;
        if (in->tg) continue;
        if (in->type == VG_COLUMN_CATEGORICAL && p->encoding == VG_ENCODING_ONEHOT_SCALED) {
            for (uint32_t k = 0; k < in->n_cats; k++, j++) {
                size_t len = strlen(in->name) + strlen(in->cats[k]) + 2;
                p->feature_names[j] = vg_malloc(len);
                if (!p->feature_names[j]) return vg_fail(VG_ERR_NOMEM, "out of memory");
                snprintf(p->feature_names[j], len, "%s=%s", in->name, in->cats[k]);
                p->features[j] = (vg_feature){ p->feature_names[j], VG_FEATURE_NUMERIC, 0 };
                p->feature_input[j] = i;
                p->n_features = j + 1;
            }
        } else {
            p->feature_names[j] = vg_strdup(in->name);
            if (!p->feature_names[j]) return vg_fail(VG_ERR_NOMEM, "out of memory");
            int cat = in->type == VG_COLUMN_CATEGORICAL;
            p->features[j] = (vg_feature){ p->feature_names[j], cat ? VG_FEATURE_CATEGORICAL : VG_FEATURE_NUMERIC,
                                           cat ? in->n_cats : 0 };
            p->feature_input[j] = i;
            p->n_features = ++j;
        }
    }
    p->n_features = j;
    p->n_columns = j;
    for (size_t i = 0; i < p->n_inputs; i++)
        if (p->inputs[i].tg) {
            p->inputs[i].first_col = p->n_columns;
            p->n_columns += vg_textgrams_get_params(p->inputs[i].tg).n_features;
        }
    return VG_OK;
}

/* A text input from column `name` of t: the IDF of its hashed n-grams over
 * the training rows, each distinct value hashed once. */
static vg_status fit_text(vg_pipeline *p, const vg_table *t, const char *name, const vg_textgrams_params *tp)
{
    long col = vg_table_find(t, name);
    if (col < 0) return vg_fail(VG_ERR_INVALID, "--text: %s has no column '%s'", vg_table_source(t), name);
    if (vg_table_type(t, (size_t)col) != VG_COLUMN_CATEGORICAL)
        return vg_fail(VG_ERR_INVALID, "--text: column '%s' of %s was not read as text", name, vg_table_source(t));
    for (size_t i = 0; i < p->n_inputs; i++)
        if (strcmp(p->inputs[i].name, name) == 0)
            return vg_fail(VG_ERR_INVALID, "--text: column '%s' is an input already", name);
    input *in = &p->inputs[p->n_inputs++];
    in->type = VG_COLUMN_CATEGORICAL;
    in->name = vg_strdup(name);
    if (!in->name) return vg_fail(VG_ERR_NOMEM, "out of memory");
    in->name_len = strlen(name);
    p->n_text++;
    vg_status st = vg_textgrams_new(tp, &in->tg);
    if (st) return st;
    uint32_t n = vg_table_n_categories(t, (size_t)col);
    size_t rows = vg_table_rows(t), *counts = vg_calloc(n ? n : 1, sizeof *counts), *lens = vg_malloc((n ? n : 1) * sizeof *lens);
    const char **values = vg_malloc((n ? n : 1) * sizeof *values);
    if (!counts || !lens || !values) st = vg_fail(VG_ERR_NOMEM, "out of memory");
    const uint32_t *codes = vg_table_codes(t, (size_t)col);
    for (size_t r = 0; !st && r < rows; r++)
        if (codes[r] != VG_CODE_MISSING) counts[codes[r]]++;
    for (uint32_t k = 0; !st && k < n; k++) values[k] = vg_table_category(t, (size_t)col, k), lens[k] = strlen(values[k]);
    if (!st) st = vg_textgrams_fit(in->tg, values, lens, counts, n, rows);
    vg_free(counts), vg_free(lens), vg_free(values);
    return st;
}

vg_status vg_pipeline_fit(const vg_table *t, const size_t *cols, size_t n_cols,
                          const vg_pipeline_params *params, vg_pipeline **out)
{
    *out = NULL;
    if (n_cols + params->n_text == 0)
        return vg_fail(VG_ERR_INVALID, "%s: no feature columns left to learn from", vg_table_source(t));
    if (vg_table_rows(t) == 0) return vg_fail(VG_ERR_DATA, "%s: no rows to fit on", vg_table_source(t));
    vg_pipeline *p = vg_calloc(1, sizeof *p);
    if (!p) return vg_fail(VG_ERR_NOMEM, "out of memory");
    p->encoding = params->encoding;
    p->threads = params->threads;
    p->inputs = vg_calloc(n_cols + params->n_text, sizeof *p->inputs);
    if (!p->inputs) {
        vg_pipeline_free(p);
        return vg_fail(VG_ERR_NOMEM, "out of memory");
    }
    vg_status st = VG_OK;
    /* A column without a value in any training row teaches nothing, and its
     * type was only guessed (a log format's field that this file cannot
     * fill, such as the ASN of a 9-column login file, comes out numeric):
     * kept, it would refuse a later file that does fill it. */
    char empty[512] = "";
    size_t n_empty = 0;
    for (size_t c = 0; c < n_cols && !st; c++) {
        if (column_empty(t, cols[c])) {
            list_name(empty, sizeof empty, &n_empty, vg_table_name(t, cols[c]));
            continue;
        }
        input *in = &p->inputs[p->n_inputs++];
        in->name = vg_strdup(vg_table_name(t, cols[c]));
        in->type = vg_table_type(t, cols[c]);
        in->col = cols[c];
        if (!in->name) st = vg_fail(VG_ERR_NOMEM, "out of memory");
        else if (in->type != VG_COLUMN_NUMERIC)
            st = fit_categorical(in, t, cols[c], params->max_categories ? params->max_categories : 1000);
    }
    if (!st) st = fit_numerics(p, t);
    for (size_t c = 0; c < params->n_text && !st; c++) st = fit_text(p, t, params->text[c], &params->textgrams);
    if (!st && p->n_inputs == 0)
        st = vg_fail(VG_ERR_DATA, "%s: no feature column has a value in any training row (%s)", vg_table_source(t),
                     empty);
    else if (!st && n_empty)
        vg_log(VG_LOG_WARN, "%s: not used as feature%s, no value in any training row: %s", vg_table_source(t),
               n_empty > 1 ? "s" : "", empty);
    if (!st) st = build_features(p);
    if (st) {
        vg_pipeline_free(p);
        return st;
    }
    *out = p;
    return VG_OK;
}

/* ---- transforming ----------------------------------------------------- */

/* The dense transform runs in blocks of rows, every input of a block
 * before the next block: the matrix is row-major, so one whole-column pass
 * per input touched every cache line of it once per input (41 passes over
 * NSL-KDD's 20 MB), while a block's rows stay in cache. Blocks are
 * independent, so they run in parallel; each value is computed alone, so
 * the matrix does not depend on the thread count. */
#define TRANSFORM_ROWS 2048

typedef enum { COL_SKIP, COL_IMPUTE, COL_NUMERIC, COL_CATEGORICAL } col_kind;

typedef struct col_plan {
    const input *in;
    col_kind kind;
    const double *v;         /* COL_NUMERIC: the table's numbers */
    const uint32_t *codes;   /* COL_CATEGORICAL: the table's codes ... */
    uint32_t *remap;         /* ... and its dictionary mapped onto the model's categories (owned) */
} col_plan;

struct vg_pipeline_blocks {
    const vg_pipeline *p;
    col_plan *plan;  /* one per input */
    size_t rows;
};

static vg_status plan_numeric(const input *in, const vg_table *t, size_t col, col_plan *cp)
{
    if (vg_table_type(t, col) != VG_COLUMN_NUMERIC)
        return vg_fail(VG_ERR_PARSE, "%s: column '%s' holds text, but the model expects numbers",
                       vg_table_source(t), in->name);
    cp->kind = COL_NUMERIC;
    cp->v = vg_table_numbers(t, col);
    return VG_OK;
}

static vg_status plan_categorical(const input *in, const vg_table *t, size_t col, col_plan *cp)
{
    if (vg_table_type(t, col) != VG_COLUMN_CATEGORICAL)
        return vg_fail(VG_ERR_PARSE, "%s: column '%s' was read as numbers, but the model expects categories",
                       vg_table_source(t), in->name);
    /* Map the table's own dictionary onto the model's categories once. */
    uint32_t n = vg_table_n_categories(t, col);
    cp->remap = vg_malloc((n ? n : 1) * sizeof *cp->remap);
    if (!cp->remap) return vg_fail(VG_ERR_NOMEM, "out of memory");
    for (uint32_t k = 0; k < n; k++) {
        const char *c = vg_table_category(t, col, k);
        cp->remap[k] = find_category_n(in, c, strlen(c));
    }
    cp->kind = COL_CATEGORICAL;
    cp->codes = vg_table_codes(t, col);
    return VG_OK;
}

static void encode_value(const vg_pipeline *p, const input *in, int missing, double x, uint32_t cat, float *row);

/* Rows [r0, r1) into out (row r at out + (r - r0) x n_features), which
 * starts zeroed (the one-hot columns are only set). */
static void blocks_rows(const vg_pipeline_blocks *pl, size_t r0, size_t r1, float *out)
{
    const vg_pipeline *p = pl->p;
    size_t cols = p->n_features;
    int scaled = p->encoding == VG_ENCODING_ONEHOT_SCALED;
    for (size_t i = 0; i < p->n_inputs; i++) {
        const col_plan *cp = &pl->plan[i];
        const input *in = cp->in;
        float *o = out + in->first_feature;  /* o[(r - r0) x cols]: row r's first column of this input */
        switch (cp->kind) {
        case COL_IMPUTE:  /* every row missing: the median, or no category */
            for (size_t r = r0; r < r1; r++) encode_value(p, in, 1, 0, UINT32_MAX, out + (r - r0) * cols);
            break;
        case COL_NUMERIC: {
            double mean = scaled ? in->mean : 0, inv = scaled ? 1.0 / in->scale : 1.0;
            for (size_t r = r0; r < r1; r++) {
                double x = isnan(cp->v[r]) ? in->median : cp->v[r];
                o[(r - r0) * cols] = (float)((x - mean) * inv);
            }
            break;
        }
        case COL_CATEGORICAL:
            for (size_t r = r0; r < r1; r++) {
                uint32_t k = cp->codes[r] == VG_CODE_MISSING ? UINT32_MAX : cp->remap[cp->codes[r]];
                if (scaled) {
                    if (k != UINT32_MAX) o[(r - r0) * cols + k] = 1.0f;
                } else {
                    o[(r - r0) * cols] = k == UINT32_MAX ? NAN : (float)k;
                }
            }
            break;
        case COL_SKIP:
            break;
        }
    }
}

void vg_pipeline_blocks_free(vg_pipeline_blocks *pl)
{
    if (!pl) return;
    for (size_t i = 0; pl->plan && i < pl->p->n_inputs; i++) vg_free(pl->plan[i].remap);
    vg_free(pl->plan);
    vg_free(pl);
}

vg_status vg_pipeline_blocks_new(const vg_pipeline *p, const vg_table *t, vg_pipeline_blocks **out)
{
    *out = NULL;
    /* Inputs the file does not have (absent), or has without a value in any
     * row (empty), are imputed as missing, as a record's missing field is:
     * a 9-column login file scores with a model of the 16-column one. More
     * than half of the inputs absent is the wrong file, not a sparse one. */
    char absent[512] = "", empty[512] = "";
    size_t n_absent = 0, n_empty = 0;
    vg_status st = VG_OK;
    vg_pipeline_blocks *pl = vg_calloc(1, sizeof *pl);
    if (pl) pl->plan = vg_calloc(p->n_inputs ? p->n_inputs : 1, sizeof *pl->plan);
    if (!pl || !pl->plan) {
        vg_free(pl);
        return vg_fail(VG_ERR_NOMEM, "out of memory");
    }
    pl->p = p;
    pl->rows = vg_table_rows(t);
    col_plan *plan = pl->plan;
    for (size_t i = 0; i < p->n_inputs && !st; i++) {
        const input *in = &p->inputs[i];
        long col = vg_table_find(t, in->name);
        plan[i].in = in;
        if (in->tg) {  /* no dense feature; an absent text column is an empty one (transform_csr) */
            if (col < 0) list_name(absent, sizeof absent, &n_absent, in->name);
            continue;
        }
        if (col < 0 || column_empty(t, (size_t)col)) {
            if (col < 0) list_name(absent, sizeof absent, &n_absent, in->name);
            else list_name(empty, sizeof empty, &n_empty, in->name);
            plan[i].kind = COL_IMPUTE;
        } else if (in->type == VG_COLUMN_NUMERIC) {
            st = plan_numeric(in, t, (size_t)col, &plan[i]);
        } else {
            st = plan_categorical(in, t, (size_t)col, &plan[i]);
        }
    }
    if (!st && 2 * n_absent > p->n_inputs)
        st = vg_fail(VG_ERR_INVALID, "%s: %zu of the model's %zu input columns are missing (%s): not the kind of "
                     "data the model was trained on", vg_table_source(t), n_absent, p->n_inputs, absent);
    if (st) {
        vg_pipeline_blocks_free(pl);
        return st;
    }
    /* One warning per file, naming the columns, not one per row. */
    if (n_absent && n_empty)
        vg_log(VG_LOG_WARN, "%s: imputed as missing in every row: the model's input columns %s (not in the file) "
               "and %s (no value in any row)", vg_table_source(t), absent, empty);
    else if (n_absent || n_empty)
        vg_log(VG_LOG_WARN, "%s: imputed as missing in every row: the model's input column%s %s (%s)",
               vg_table_source(t), n_absent + n_empty > 1 ? "s" : "", n_absent ? absent : empty,
               n_absent ? "not in the file" : "no value in any row");
    *out = pl;
    return VG_OK;
}

void vg_pipeline_blocks_rows(const vg_pipeline_blocks *pl, size_t r0, size_t n, float *out)
{
    memset(out, 0, n * pl->p->n_features * sizeof *out);
    blocks_rows(pl, r0, r0 + n, out);
}

typedef struct transform_ctx {
    const vg_pipeline_blocks *pl;
    vg_matrix *m;
} transform_ctx;

static void transform_block(void *ctx, size_t block, int worker)
{
    (void)worker;
    const transform_ctx *c = ctx;
    size_t r0 = block * TRANSFORM_ROWS, r1 = VG_MIN(r0 + TRANSFORM_ROWS, c->m->rows);
    blocks_rows(c->pl, r0, r1, c->m->data + r0 * c->m->cols);  /* the matrix starts zeroed */
}

vg_status vg_pipeline_transform(const vg_pipeline *p, const vg_table *t, vg_matrix *out)
{
    vg_pipeline_blocks *pl;
    vg_status st = vg_pipeline_blocks_new(p, t, &pl);
    if (st) return st;
    if ((st = vg_matrix_alloc(out, vg_table_rows(t), p->n_features))) {
        vg_pipeline_blocks_free(pl);
        return st;
    }
    transform_ctx c = { pl, out };
    size_t blocks = (out->rows + TRANSFORM_ROWS - 1) / TRANSFORM_ROWS;
    vg_parallel_for(blocks > 1 ? p->threads : 1, blocks, transform_block, &c);
    vg_pipeline_blocks_free(pl);
    return VG_OK;
}

/* The hashed n-gram rows of every distinct value of a text column, computed
 * once each, in parallel (a pure function of the value): value k's entries
 * are cols/vals[start[k], end[k]). */
typedef struct text_cache {
    const vg_textgrams *tg;
    const vg_table *t;
    size_t col;
    uint32_t n_values;
    uint64_t *start;    /* n_values + 1: room reserved per value */
    uint64_t *end;      /* n_values */
    uint32_t *cols;
    float *vals;
    vg_status *status;  /* per block */
} text_cache;

#define TEXT_BLOCK 256

static void text_count(void *ctx, size_t block, int worker)
{
    (void)worker;
    text_cache *c = ctx;
    for (size_t k = block * TEXT_BLOCK; k < VG_MIN((size_t)c->n_values, (block + 1) * TEXT_BLOCK); k++)
        c->start[k + 1] = vg_textgrams_max_entries(c->tg, strlen(vg_table_category(c->t, c->col, (uint32_t)k)));
}

static void text_fill(void *ctx, size_t block, int worker)
{
    (void)worker;
    text_cache *c = ctx;
    for (size_t k = block * TEXT_BLOCK; k < VG_MIN((size_t)c->n_values, (block + 1) * TEXT_BLOCK); k++) {
        const char *v = vg_table_category(c->t, c->col, (uint32_t)k);
        size_t nnz = 0;
        vg_status st = vg_textgrams_transform(c->tg, v, strlen(v), NULL, c->cols + c->start[k],
                                              c->vals + c->start[k], &nnz);
        c->end[k] = c->start[k] + nnz;
        if (st) c->status[block] = st;
    }
}

static vg_status text_cache_build(text_cache *c, const vg_textgrams *tg, const vg_table *t, size_t col)
{
    memset(c, 0, sizeof *c);
    c->tg = tg, c->t = t, c->col = col, c->n_values = vg_table_n_categories(t, col);
    size_t n = c->n_values, blocks = (n + TEXT_BLOCK - 1) / TEXT_BLOCK;
    c->start = vg_calloc(n + 1, sizeof *c->start);
    c->end = vg_calloc(n ? n : 1, sizeof *c->end);
    c->status = vg_calloc(blocks ? blocks : 1, sizeof *c->status);
    if (!c->start || !c->end || !c->status) return vg_fail(VG_ERR_NOMEM, "out of memory for text n-grams");
    int threads = vg_threads_resolve(0);
    vg_parallel_for(threads, blocks, text_count, c);
    for (size_t k = 0; k < n; k++) c->start[k + 1] += c->start[k];
    c->cols = vg_malloc((c->start[n] ? c->start[n] : 1) * sizeof *c->cols);
    c->vals = vg_malloc((c->start[n] ? c->start[n] : 1) * sizeof *c->vals);
    if (!c->cols || !c->vals)
        return vg_fail(VG_ERR_NOMEM, "out of memory for the n-grams of %u text values", c->n_values);
    vg_parallel_for(threads, blocks, text_fill, c);
    for (size_t b = 0; b < blocks; b++)
        if (c->status[b]) return c->status[b];
    return VG_OK;
}

static void text_cache_free(text_cache *c)
{
    vg_free(c->start), vg_free(c->end), vg_free(c->cols), vg_free(c->vals), vg_free(c->status);
}

/* Dense features (their non-zeros) and then each text input's n-gram
 * columns: the column ranges ascend in that order, so each row is pushed in
 * ascending column order. A missing or absent text value is an empty row. */
vg_status vg_pipeline_transform_csr(const vg_pipeline *p, const vg_table *t, vg_csr *out)
{
    vg_matrix X;
    vg_status st = vg_pipeline_transform(p, t, &X);
    if (st) return st;
    size_t nt = p->n_text, rows = X.rows;
    text_cache *cache = vg_calloc(nt ? nt : 1, sizeof *cache);
    const uint32_t **codes = vg_calloc(nt ? nt : 1, sizeof *codes);
    if (!cache || !codes) st = vg_fail(VG_ERR_NOMEM, "out of memory");
    size_t hint = 0;
    for (size_t q = 0; q < nt && !st; q++) {
        const input *in = &p->inputs[p->n_inputs - nt + q];
        long col = vg_table_find(t, in->name);
        if (col < 0) continue;
        if (vg_table_type(t, (size_t)col) != VG_COLUMN_CATEGORICAL) {
            st = vg_fail(VG_ERR_PARSE, "%s: column '%s' was read as numbers, but the model expects text",
                         vg_table_source(t), in->name);
            break;
        }
        st = text_cache_build(&cache[q], in->tg, t, (size_t)col);
        codes[q] = vg_table_codes(t, (size_t)col);
        for (size_t r = 0; !st && r < rows; r++)
            if (codes[q][r] != VG_CODE_MISSING) hint += cache[q].end[codes[q][r]] - cache[q].start[codes[q][r]];
    }
    if (!st) st = vg_csr_begin(out, p->n_columns, hint + rows * 8);
    for (size_t r = 0; r < rows && !st; r++) {
        const float *row = X.data + r * X.cols;
        for (size_t c = 0; c < X.cols && !st; c++)
            if (row[c] != 0.0f) st = vg_csr_push(out, (uint32_t)c, row[c]);
        for (size_t q = 0; q < nt && !st; q++) {
            if (!codes[q] || codes[q][r] == VG_CODE_MISSING) continue;
            uint32_t k = codes[q][r];
            size_t base = p->inputs[p->n_inputs - nt + q].first_col;
            for (uint64_t e = cache[q].start[k]; e < cache[q].end[k] && !st; e++)
                st = vg_csr_push(out, (uint32_t)(base + cache[q].cols[e]), cache[q].vals[e]);
        }
        if (!st) st = vg_csr_end_row(out);
    }
    for (size_t q = 0; cache && q < nt; q++) text_cache_free(&cache[q]);
    vg_free(cache), vg_free(codes);
    vg_matrix_free(&X);
    if (st) vg_csr_free(out);
    return st;
}

vg_status vg_pipeline_transform_record_csr(const vg_pipeline *p, const vg_field *fields, size_t n_fields,
                                           vg_csr *out, vg_record_report *report)
{
    float stack[1024], *row = p->n_features <= 1024 ? stack : vg_malloc(p->n_features * sizeof *row);
    if (!row) return vg_fail(VG_ERR_NOMEM, "out of memory");
    vg_status st = vg_pipeline_transform_record(p, fields, n_fields, row, report);
    for (size_t c = 0; c < p->n_features && !st; c++)
        if (row[c] != 0.0f) st = vg_csr_push(out, (uint32_t)c, row[c]);
    if (row != stack) vg_free(row);
    for (size_t q = 0; q < p->n_text && !st; q++) {
        const input *in = &p->inputs[p->n_inputs - p->n_text + q];
        const vg_field *fd = NULL;
        for (size_t f = 0; f < n_fields && !fd; f++)
            if (fields[f].name_len == in->name_len && memcmp(fields[f].name, in->name, in->name_len) == 0)
                fd = &fields[f];
        if (!fd || fd->kind == VG_FIELD_NULL) continue;
        char num[64];
        const char *text = fd->text;
        size_t len = fd->text_len;
        if (fd->kind != VG_FIELD_TEXT) len = (size_t)snprintf(num, sizeof num, "%.17g", fd->number), text = num;
        size_t cap = vg_textgrams_max_entries(in->tg, len), nnz = 0;
        uint32_t *cols = vg_malloc(cap * sizeof *cols);
        float *vals = vg_malloc(cap * sizeof *vals);
        st = cols && vals ? vg_textgrams_transform(in->tg, text, len, NULL, cols, vals, &nnz)
                          : vg_fail(VG_ERR_NOMEM, "out of memory");
        for (size_t e = 0; e < nnz && !st; e++) st = vg_csr_push(out, (uint32_t)(in->first_col + cols[e]), vals[e]);
        vg_free(cols), vg_free(vals);
    }
    if (!st) st = vg_csr_end_row(out);
    return st;
}

/* ---- accessors -------------------------------------------------------- */

size_t vg_pipeline_n_inputs(const vg_pipeline *p) { return p->n_inputs; }
const char *vg_pipeline_input_name(const vg_pipeline *p, size_t i) { return p->inputs[i].name; }
vg_column_type vg_pipeline_input_type(const vg_pipeline *p, size_t i) { return p->inputs[i].type; }
uint32_t vg_pipeline_input_n_categories(const vg_pipeline *p, size_t i) { return p->inputs[i].n_cats; }
const char *vg_pipeline_input_category(const vg_pipeline *p, size_t i, uint32_t k) { return p->inputs[i].cats[k]; }
double vg_pipeline_input_median(const vg_pipeline *p, size_t i)
{
    return p->inputs[i].type == VG_COLUMN_NUMERIC ? p->inputs[i].median : NAN;
}
size_t vg_pipeline_n_features(const vg_pipeline *p) { return p->n_features; }
size_t vg_pipeline_n_columns(const vg_pipeline *p) { return p->n_columns; }
size_t vg_pipeline_n_text(const vg_pipeline *p) { return p->n_text; }
int vg_pipeline_input_is_text(const vg_pipeline *p, size_t i) { return p->inputs[i].tg != NULL; }
size_t vg_pipeline_column_input(const vg_pipeline *p, size_t col)
{
    if (col < p->n_features) return p->feature_input[col];
    for (size_t i = p->n_inputs - p->n_text; i < p->n_inputs; i++) {
        const input *in = &p->inputs[i];
        if (col >= in->first_col && col - in->first_col < vg_textgrams_get_params(in->tg).n_features) return i;
    }
    return p->n_inputs;  /* beyond the columns: a caller's bug */
}
const vg_feature *vg_pipeline_features(const vg_pipeline *p) { return p->features; }
size_t vg_pipeline_feature_input(const vg_pipeline *p, size_t j) { return p->feature_input[j]; }
vg_encoding vg_pipeline_encoding(const vg_pipeline *p) { return p->encoding; }

/* ---- persistence ------------------------------------------------------ */

vg_status vg_pipeline_save(const vg_pipeline *p, vg_wbuf *w)
{
    vg_wbuf_u32(w, (uint32_t)p->encoding);
    size_t n_dense = p->n_inputs - p->n_text;
    vg_wbuf_u64(w, n_dense);
    for (size_t i = 0; i < n_dense; i++) {
        const input *in = &p->inputs[i];
        vg_wbuf_str(w, in->name);
        vg_wbuf_u8(w, (uint8_t)in->type);
        vg_wbuf_f64(w, in->median);
        vg_wbuf_f64(w, in->mean);
        vg_wbuf_f64(w, in->scale);
        vg_wbuf_u32(w, in->n_cats);
        for (uint32_t k = 0; k < in->n_cats; k++) vg_wbuf_str(w, in->cats[k]);
    }
    /* Text inputs follow as an optional block, so a pipeline without them is
     * byte for byte what earlier versions wrote and read. */
    if (p->n_text) {
        vg_wbuf_u32(w, TEXT_BLOCK_TAG);
        vg_wbuf_u64(w, p->n_text);
        for (size_t i = n_dense; i < p->n_inputs; i++) {
            vg_wbuf_str(w, p->inputs[i].name);
            vg_status st = vg_textgrams_save(p->inputs[i].tg, w);
            if (st) return st;
        }
    }
    return w->failed ? vg_fail(VG_ERR_NOMEM, "out of memory while saving the pipeline") : VG_OK;
}

vg_status vg_pipeline_load(vg_rbuf *r, vg_pipeline **out)
{
    *out = NULL;
    vg_pipeline *p = vg_calloc(1, sizeof *p);
    if (!p) return vg_fail(VG_ERR_NOMEM, "out of memory");
    uint32_t enc = vg_rbuf_u32(r);
    uint64_t n = vg_rbuf_u64(r);
    vg_rbuf_require(r, enc <= VG_ENCODING_NATIVE, "pipeline encoding");
    /* Every input needs at least 33 bytes, which bounds n by the data. */
    vg_rbuf_require(r, n <= MAX_INPUTS && n <= (r->len - r->pos) / 33, "pipeline input count");
    if (!r->failed) {
        p->encoding = (vg_encoding)enc;
        p->inputs = vg_calloc(n + MAX_TEXT_INPUTS, sizeof *p->inputs);
        if (!p->inputs) r->failed = 1;
    }
    for (size_t i = 0; i < n && !r->failed; i++) {
        input *in = &p->inputs[i];
        p->n_inputs = i + 1;
        in->name = vg_rbuf_str(r);
        uint8_t type = vg_rbuf_u8(r);
        in->median = vg_rbuf_f64(r);
        in->mean = vg_rbuf_f64(r);
        in->scale = vg_rbuf_f64(r);
        uint32_t nc = vg_rbuf_u32(r);
        vg_rbuf_require(r, in->name != NULL, "input name");
        vg_rbuf_require(r, type <= VG_COLUMN_CATEGORICAL, "input type");
        vg_rbuf_require(r, isfinite(in->median) && isfinite(in->mean) && isfinite(in->scale) &&
                               (in->scale > 0 || type == VG_COLUMN_CATEGORICAL), "input statistics");
        vg_rbuf_require(r, nc <= MAX_CATEGORIES_LIMIT && nc <= (r->len - r->pos) / 4, "category count");
        vg_rbuf_require(r, type == VG_COLUMN_CATEGORICAL || nc == 0, "categories of a numeric input");
        if (r->failed) break;
        in->type = (vg_column_type)type;
        in->cats = vg_calloc(nc ? nc : 1, sizeof *in->cats);
        if (!in->cats) {
            r->failed = 1;
            break;
        }
        for (uint32_t k = 0; k < nc && !r->failed; k++) {
            in->cats[k] = vg_rbuf_str(r);
            vg_rbuf_require(r, in->cats[k] != NULL, "category name");
            in->n_cats = k + 1;
        }
    }
    if (!r->failed && r->pos < r->len) {  /* the text inputs */
        uint32_t tag = vg_rbuf_u32(r);
        uint64_t nt = vg_rbuf_u64(r);
        vg_rbuf_require(r, tag == TEXT_BLOCK_TAG, "pipeline text block");
        vg_rbuf_require(r, nt >= 1 && nt <= MAX_TEXT_INPUTS, "pipeline text input count");
        for (uint64_t q = 0; q < nt && !r->failed; q++) {
            input *in = &p->inputs[p->n_inputs++];
            p->n_text++;
            in->type = VG_COLUMN_CATEGORICAL;
            in->name = vg_rbuf_str(r);
            vg_rbuf_require(r, in->name != NULL, "text input name");
            if (!r->failed && vg_textgrams_load(r, &in->tg)) r->failed = 1;
        }
    }
    vg_rbuf_require(r, p->n_inputs >= 1, "pipeline input count");
    vg_status st = vg_rbuf_check(r);
    for (size_t i = 0; !st && i < p->n_inputs; i++)
        if (p->inputs[i].type == VG_COLUMN_CATEGORICAL && !p->inputs[i].tg) st = index_categories(&p->inputs[i]);
    for (size_t i = 0; !st && i < p->n_inputs; i++)
        for (size_t j = 0; j < i && !st; j++)
            if (strcmp(p->inputs[i].name, p->inputs[j].name) == 0)
                st = vg_fail(VG_ERR_FORMAT, "pipeline: input '%s' appears twice", p->inputs[i].name);
    if (!st) st = build_features(p);
    if (st) {
        vg_pipeline_free(p);
        return st == VG_ERR_NOMEM ? st : VG_ERR_FORMAT;
    }
    *out = p;
    return VG_OK;
}

void vg_pipeline_describe(const vg_pipeline *p, vg_wbuf *out)
{
    char line[512];
    int n = snprintf(line, sizeof line, "encoding: %s, %zu input columns -> %zu features\n",
                     p->encoding == VG_ENCODING_NATIVE ? "native (categories as codes)"
                                                       : "one-hot + standardised",
                     p->n_inputs, p->n_features);
    vg_wbuf_bytes(out, line, (size_t)n);
    for (size_t i = 0; i < p->n_inputs; i++) {
        const input *in = &p->inputs[i];
        if (in->tg) {
            vg_textgrams_params tp = vg_textgrams_get_params(in->tg);
            n = snprintf(line, sizeof line, "  %-28s text         character %u-%u-grams hashed into %u columns, "
                         "sublinear tf, idf of %zu seen columns from %llu rows\n", in->name, tp.ngram_min,
                         tp.ngram_max, tp.n_features, vg_textgrams_n_seen(in->tg),
                         (unsigned long long)vg_textgrams_n_docs(in->tg));
        } else if (in->type == VG_COLUMN_NUMERIC)
            n = snprintf(line, sizeof line, "  %-28s numeric      median %-10.4g mean %-10.4g std %.4g\n",
                         in->name, in->median, in->mean, in->scale);
        else
            n = snprintf(line, sizeof line, "  %-28s categorical  %u categories (%s%s%s%s)\n", in->name,
                         in->n_cats, in->n_cats ? in->cats[0] : "", in->n_cats > 1 ? ", " : "",
                         in->n_cats > 1 ? in->cats[1] : "", in->n_cats > 2 ? ", ..." : "");
        vg_wbuf_bytes(out, line, (size_t)VG_MIN(n, (int)sizeof line - 1));
    }
}

/* ---- single records ----------------------------------------------------- */

static inline void encode_value(const vg_pipeline *p, const input *in, int missing, double x, uint32_t cat, float *row)
{
    float *out = row + in->first_feature;
    if (in->tg) return;  /* text: CSR columns only */
    if (in->type == VG_COLUMN_NUMERIC) {
        if (missing || isnan(x)) x = in->median;
        *out = p->encoding == VG_ENCODING_ONEHOT_SCALED ? (float)((x - in->mean) / in->scale) : (float)x;
    } else if (p->encoding == VG_ENCODING_ONEHOT_SCALED) {
        memset(out, 0, in->n_cats * sizeof *out);
        if (!missing && cat != UINT32_MAX) out[cat] = 1.0f;
    } else {
        *out = missing || cat == UINT32_MAX ? NAN : (float)cat;
    }
}

/* Field fd as input in of a record; counts an unseen category. Inlined into
 * the record loops: as a call it cost watch 6% of its time. */
static inline __attribute__((always_inline)) vg_status encode_input(const vg_pipeline *p, const input *in,
                                                                    const vg_field *fd, float *row,
                                                                    vg_record_report *rep)
{
    if (in->tg) return VG_OK;  /* text: its n-grams go to CSR rows (vg_pipeline_transform_record_csr) */
    if (fd->kind == VG_FIELD_NULL) {
        encode_value(p, in, 1, 0, UINT32_MAX, row);
    } else if (in->type == VG_COLUMN_NUMERIC) {
        double x = fd->number;
        if (fd->kind == VG_FIELD_TEXT && !vg_parse_number(fd->text, fd->text_len, &x)) {
            if (fd->text_len > 0)
                return vg_fail(VG_ERR_PARSE, "field '%s': '%.*s' is not a number", in->name,
                               (int)VG_MIN(fd->text_len, 64), fd->text);
            x = NAN;
        }
        encode_value(p, in, 0, x, 0, row);
    } else {
        uint32_t cat;
        if (fd->kind == VG_FIELD_TEXT) {
            cat = find_category_n(in, fd->text, fd->text_len);
        } else {
            /* A number given for a categorical field: match its text form. */
            char text[64];
            int len = snprintf(text, sizeof text, "%.17g", fd->number);
            cat = find_category_n(in, text, (size_t)len);
        }
        if (cat == UINT32_MAX) rep->unseen++;
        encode_value(p, in, 0, 0, cat, row);
    }
    return VG_OK;
}

/* Field fd as input i of a record: marks it seen, then encode_input. */
static inline __attribute__((always_inline)) vg_status encode_field(const vg_pipeline *p, size_t i, const vg_field *fd,
                                                                    float *row, uint8_t *seen, size_t *given,
                                                                    vg_record_report *rep)
{
    *given += !seen[i];
    seen[i] = 1;
    return encode_input(p, &p->inputs[i], fd, row, rep);
}

vg_status vg_pipeline_transform_record(const vg_pipeline *p, const vg_field *fields, size_t n_fields, float *row,
                                       vg_record_report *report)
{
    vg_record_report rep = { 0 };
    /* seen[] marks inputs given by the record; the rest are encoded missing. */
    uint8_t seen_small[256];
    uint8_t *seen = p->n_inputs <= sizeof seen_small ? seen_small : vg_calloc(p->n_inputs, 1);
    if (!seen) return vg_fail(VG_ERR_NOMEM, "out of memory");
    if (seen == seen_small) memset(seen, 0, p->n_inputs);
    vg_status st = VG_OK;
    /* Records usually list fields in the order the pipeline's inputs were
     * seen in training (a log format always emits the same order), so the
     * input after the previous match is tried before hashing the name. */
    size_t guess = 0, given = 0;
    for (size_t f = 0; f < n_fields && !st; f++) {
        const vg_field *fd = &fields[f];
        long i;
        if (guess < p->n_inputs && p->inputs[guess].name_len == fd->name_len &&
            same_bytes(p->inputs[guess].name, fd->name, fd->name_len))
            i = (long)guess;
        else
            i = vg_pipeline_find_input(p, fd->name, fd->name_len);
        if (i >= 0) {
            guess = (size_t)i + 1;
            st = encode_field(p, (size_t)i, fd, row, seen, &given, &rep);
            continue;
        }
        vg_derived_value dv[VG_DERIVED_MAX];
        size_t nd = p->derived ? vg_derived_expand(p->derived, fd, dv) : 0;
        if (nd == 0 && rep.unknown++ == 0) rep.first_unknown = f;
        for (size_t k = 0; k < nd && !st; k++) st = encode_field(p, dv[k].input, &dv[k].field, row, seen, &given, &rep);
    }
    /* A full record (the usual case) needs no pass over the inputs. */
    for (size_t i = 0; i < p->n_inputs && !st && given < p->n_inputs; i++)
        if (!seen[i]) {
            if (rep.missing++ == 0) rep.first_missing = i;
            encode_value(p, &p->inputs[i], 1, 0, UINT32_MAX, row);
        }
    if (seen != seen_small) vg_free(seen);
    if (report) *report = rep;
    return st;
}

/* ---- records of one fixed layout ------------------------------------------ */

/* One field of the layout, compact: the loop reads this and the record's
 * field, not the input's whole struct (two cache lines each). */
typedef struct plan_field {
    const char *name;       /* the name pointer the layout's field had */
    size_t name_len;
    const input *in;        /* the input it is */
    double median;          /* a plain input's imputation value */
    uint32_t feature;
    uint32_t plain;         /* a numeric input, not text */
    /* a categorical input: the last text given and its category (records
     * in a row mostly repeat a method, a status class, an agent class) */
    uint32_t last_len, last_cat;
    char last[16];
} plan_field;

struct vg_pipeline_plan {
    const vg_pipeline *p;
    size_t n_fields;
    plan_field *f;
    int whole;              /* every input given by exactly one field, none derived or unknown */
};

void vg_pipeline_plan_free(vg_pipeline_plan *pl)
{
    if (!pl) return;
    vg_free(pl->f);
    vg_free(pl);
}

vg_status vg_pipeline_plan_new(const vg_pipeline *p, const vg_field *fields, size_t n_fields, vg_pipeline_plan **out)
{
    *out = NULL;
    vg_pipeline_plan *pl = vg_calloc(1, sizeof *pl);
    uint8_t *seen = vg_calloc(p->n_inputs + 1, 1);
    if (pl) pl->f = vg_calloc(n_fields ? n_fields : 1, sizeof *pl->f);
    if (!pl || !seen || !pl->f) {
        vg_free(seen);
        vg_pipeline_plan_free(pl);
        return vg_fail(VG_ERR_NOMEM, "out of memory");
    }
    pl->p = p;
    pl->n_fields = n_fields;
    size_t given = 0;
    int whole = 1;
    for (size_t f = 0; f < n_fields; f++) {
        plan_field *pf = &pl->f[f];
        pf->name = fields[f].name;
        pf->name_len = fields[f].name_len;
        long i = vg_pipeline_find_input(p, fields[f].name, fields[f].name_len);
        if (i < 0 || seen[i]) {  /* derived, unknown or given twice: the general path decides */
            whole = 0;
            continue;
        }
        seen[i] = 1;
        given++;
        const input *in = &p->inputs[i];
        pf->in = in;
        pf->feature = (uint32_t)in->first_feature;
        pf->plain = in->type == VG_COLUMN_NUMERIC && !in->tg;
        pf->median = in->median;
        pf->last_len = UINT32_MAX;
    }
    pl->whole = whole && given == p->n_inputs;
    vg_free(seen);
    *out = pl;
    return VG_OK;
}

vg_status vg_pipeline_plan_transform(vg_pipeline_plan *pl, const vg_field *fields, size_t n_fields, float *row)
{
    const vg_pipeline *p = pl->p;
    if (!pl->whole || n_fields != pl->n_fields) return vg_pipeline_transform_record(p, fields, n_fields, row, NULL);
    vg_record_report rep = { 0 };
    const int native = p->encoding != VG_ENCODING_ONEHOT_SCALED;
    for (size_t f = 0; f < n_fields; f++) {
        const vg_field *fd = &fields[f];
        plan_field *pf = &pl->f[f];
        /* A field of another name (a layout that changed) redoes the record
         * by names: it writes every feature, so what was written is moot. */
        if (fd->name != pf->name || fd->name_len != pf->name_len)
            return vg_pipeline_transform_record(p, fields, n_fields, row, NULL);
        if (native && pf->plain && fd->kind == VG_FIELD_NUMBER) {
            /* encode_value's numeric case, the one most fields take */
            row[pf->feature] = (float)(isnan(fd->number) ? pf->median : fd->number);
            continue;
        }
        if (fd->kind == VG_FIELD_TEXT && !pf->plain && !pf->in->tg && fd->text_len <= sizeof pf->last) {
            uint32_t cat;
            if (fd->text_len == pf->last_len && same_bytes(pf->last, fd->text, fd->text_len)) {
                cat = pf->last_cat;
            } else {
                cat = find_category_n(pf->in, fd->text, fd->text_len);
                pf->last_len = (uint32_t)fd->text_len;
                pf->last_cat = cat;
                memcpy(pf->last, fd->text, fd->text_len);
            }
            encode_value(p, pf->in, 0, 0, cat, row);
            continue;
        }
        vg_status st = encode_input(p, pf->in, fd, row, &rep);
        if (st) return st;
    }
    return VG_OK;
}
