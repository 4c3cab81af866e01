/* The typed columnar table: numeric columns are double arrays (NaN = missing),
 * categorical columns uint32 code arrays over a per-column dictionary. Each
 * row keeps the source line it came from, so errors found later (in the
 * pipeline, in a model) can still name file and line. */
#include "vigil/table.h"
#include "data/dict.h"
#include "data/table_build.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct column {
    char *name;
    vg_column_type type;
    double *num;       /* numeric: values */
    uint32_t *codes;   /* categorical: codes, VG_CODE_MISSING = missing */
    size_t len, cap;
    vg_dict dict;      /* categorical: code -> string */
} column;

struct vg_table {
    char *source;
    column *cols;
    size_t n_cols, cap_cols;
    vg_dict names;     /* column name -> index, for find and the uniqueness check */
    uint64_t *lines;   /* row -> source line; rows beyond n_lines use row + 1 */
    size_t n_lines, cap_lines;
    uint64_t checksum;
};

vg_table *vg_table_new(const char *source)
{
    vg_table *t = vg_calloc(1, sizeof *t);
    if (!t) return NULL;
    t->source = vg_strdup(source ? source : "");
    if (!t->source) {
        vg_free(t);
        return NULL;
    }
    vg_dict_init(&t->names);
    return t;
}

static void column_clear(column *c)
{
    vg_free(c->num);
    vg_free(c->codes);
    vg_dict_free(&c->dict);
    c->num = NULL;
    c->codes = NULL;
    c->len = c->cap = 0;
}

void vg_table_free(vg_table *t)
{
    if (!t) return;
    for (size_t i = 0; i < t->n_cols; i++) {
        column_clear(&t->cols[i]);
        vg_free(t->cols[i].name);
    }
    vg_free(t->cols);
    vg_dict_free(&t->names);
    vg_free(t->lines);
    vg_free(t->source);
    vg_free(t);
}

vg_status vg_table_add_column(vg_table *t, const char *name, vg_column_type type, size_t *col)
{
    VG_ASSERT(t && name);
    if (type != VG_COLUMN_NUMERIC && type != VG_COLUMN_CATEGORICAL)
        return vg_fail(VG_ERR_INVALID, "%s: column '%s': unknown column type %d", t->source, name, (int)type);
    size_t len = strlen(name);
    if (vg_dict_find(&t->names, name, len) != VG_DICT_NONE)
        return vg_fail(VG_ERR_INVALID, "%s: duplicate column name '%s'", t->source, name);
    if (t->n_cols == t->cap_cols) {
        size_t cap = t->cap_cols ? t->cap_cols * 2 : 8;
        column *cols = vg_realloc(t->cols, cap * sizeof *cols);
        if (!cols) return vg_fail(VG_ERR_NOMEM, "%s: out of memory adding column '%s'", t->source, name);
        t->cols = cols;
        t->cap_cols = cap;
    }
    column *c = &t->cols[t->n_cols];
    memset(c, 0, sizeof *c);
    c->name = vg_strdup(name);
    if (!c->name) return vg_fail(VG_ERR_NOMEM, "%s: out of memory adding column '%s'", t->source, name);
    c->type = type;
    vg_dict_init(&c->dict);
    uint32_t code;
    vg_status st = vg_dict_intern(&t->names, name, len, &code);
    if (st != VG_OK) {
        vg_free(c->name);
        return st;
    }
    if (col) *col = t->n_cols;
    t->n_cols++;
    return VG_OK;
}

static vg_status column_reserve(column *c, size_t cap)
{
    if (cap <= c->cap) return VG_OK;
    if (c->type == VG_COLUMN_NUMERIC) {
        double *p = vg_realloc(c->num, cap * sizeof *p);
        if (!p) return VG_ERR_NOMEM;
        c->num = p;
    } else {
        uint32_t *p = vg_realloc(c->codes, cap * sizeof *p);
        if (!p) return VG_ERR_NOMEM;
        c->codes = p;
    }
    c->cap = cap;
    return VG_OK;
}

static vg_status column_grow(const vg_table *t, column *c)
{
    size_t cap = c->cap ? c->cap + c->cap / 2 : 256;
    if (column_reserve(c, cap) != VG_OK)
        return vg_fail(VG_ERR_NOMEM, "%s: out of memory growing column '%s' to %zu rows", t->source, c->name, cap);
    return VG_OK;
}

vg_status vg_table_push_number(vg_table *t, size_t col, double v)
{
    VG_ASSERT(t && col < t->n_cols && t->cols[col].type == VG_COLUMN_NUMERIC);
    column *c = &t->cols[col];
    if (c->len == c->cap) {
        vg_status st = column_grow(t, c);
        if (st != VG_OK) return st;
    }
    c->num[c->len++] = v;
    return VG_OK;
}

vg_status vg_table_push_category(vg_table *t, size_t col, const char *s, size_t len)
{
    VG_ASSERT(t && col < t->n_cols && t->cols[col].type == VG_COLUMN_CATEGORICAL);
    column *c = &t->cols[col];
    if (c->len == c->cap) {
        vg_status st = column_grow(t, c);
        if (st != VG_OK) return st;
    }
    uint32_t code = VG_CODE_MISSING;
    if (s) {
        vg_status st = vg_dict_intern(&c->dict, s, len, &code);
        if (st != VG_OK) {
            vg_error_prefix("%s: column '%s': ", t->source, c->name);
            return st;
        }
    }
    c->codes[c->len++] = code;
    return VG_OK;
}

static vg_status lines_reserve(vg_table *t, size_t cap)
{
    if (cap <= t->cap_lines) return VG_OK;
    uint64_t *p = vg_realloc(t->lines, cap * sizeof *p);
    if (!p) return vg_fail(VG_ERR_NOMEM, "%s: out of memory (line numbers of %zu rows)", t->source, cap);
    t->lines = p;
    t->cap_lines = cap;
    return VG_OK;
}

vg_status vg_table_push_line(vg_table *t, uint64_t line)
{
    VG_ASSERT(t);
    if (t->n_lines == t->cap_lines) {
        vg_status st = lines_reserve(t, t->cap_lines ? t->cap_lines + t->cap_lines / 2 : 256);
        if (st != VG_OK) return st;
    }
    t->lines[t->n_lines++] = line;
    return VG_OK;
}

vg_status vg_table_reserve(vg_table *t, size_t rows)
{
    for (size_t i = 0; i < t->n_cols; i++) {
        if (column_reserve(&t->cols[i], rows) != VG_OK)
            return vg_fail(VG_ERR_NOMEM, "%s: out of memory reserving %zu rows", t->source, rows);
    }
    return lines_reserve(t, rows);
}

/* Shrinking realloc cannot fail in a way that matters: on failure the old,
 * larger block is still valid and still ours. */
void vg_table_shrink(vg_table *t)
{
    for (size_t i = 0; i < t->n_cols; i++) {
        column *c = &t->cols[i];
        size_t n = c->len ? c->len : 1;
        if (n >= c->cap) continue;
        void **p = c->type == VG_COLUMN_NUMERIC ? (void **)&c->num : (void **)&c->codes;
        void *q = vg_realloc(*p, n * (c->type == VG_COLUMN_NUMERIC ? sizeof *c->num : sizeof *c->codes));
        if (!q) continue;
        *p = q;
        c->cap = n;
    }
    size_t n = t->n_lines ? t->n_lines : 1;
    if (n < t->cap_lines) {
        uint64_t *q = vg_realloc(t->lines, n * sizeof *q);
        if (q) {
            t->lines = q;
            t->cap_lines = n;
        }
    }
}

vg_status vg_table_reset_column(vg_table *t, size_t col, vg_column_type type)
{
    VG_ASSERT(t && col < t->n_cols);
    column *c = &t->cols[col];
    size_t cap = c->cap;
    column_clear(c);
    c->type = type;
    if (column_reserve(c, cap) != VG_OK)
        return vg_fail(VG_ERR_NOMEM, "%s: out of memory converting column '%s'", t->source, c->name);
    return VG_OK;
}

size_t vg_table_column_len(const vg_table *t, size_t col)
{
    VG_ASSERT(t && col < t->n_cols);
    return t->cols[col].len;
}

size_t vg_table_rows(const vg_table *t)
{
    if (!t || t->n_cols == 0) return 0;
    /* A row exists once every column has its value. */
    size_t n = t->cols[0].len;
    for (size_t i = 1; i < t->n_cols; i++) n = VG_MIN(n, t->cols[i].len);
    return n;
}

size_t vg_table_cols(const vg_table *t)
{
    return t ? t->n_cols : 0;
}

const char *vg_table_source(const vg_table *t)
{
    return t->source;
}

const char *vg_table_name(const vg_table *t, size_t col)
{
    VG_ASSERT(t && col < t->n_cols);
    return t->cols[col].name;
}

long vg_table_find(const vg_table *t, const char *name)
{
    uint32_t i = vg_dict_find(&t->names, name, strlen(name));
    return i == VG_DICT_NONE ? -1 : (long)i;
}

vg_column_type vg_table_type(const vg_table *t, size_t col)
{
    VG_ASSERT(t && col < t->n_cols);
    return t->cols[col].type;
}

const double *vg_table_numbers(const vg_table *t, size_t col)
{
    VG_ASSERT(t && col < t->n_cols);
    return t->cols[col].type == VG_COLUMN_NUMERIC ? t->cols[col].num : NULL;
}

const uint32_t *vg_table_codes(const vg_table *t, size_t col)
{
    VG_ASSERT(t && col < t->n_cols);
    return t->cols[col].type == VG_COLUMN_CATEGORICAL ? t->cols[col].codes : NULL;
}

uint32_t vg_table_n_categories(const vg_table *t, size_t col)
{
    VG_ASSERT(t && col < t->n_cols);
    return t->cols[col].dict.n;
}

const char *vg_table_category(const vg_table *t, size_t col, uint32_t code)
{
    VG_ASSERT(t && col < t->n_cols);
    const column *c = &t->cols[col];
    return code < c->dict.n ? c->dict.strs[code] : NULL;
}

uint32_t vg_table_category_code(const vg_table *t, size_t col, const char *s)
{
    VG_ASSERT(t && col < t->n_cols && s);
    return vg_dict_find(&t->cols[col].dict, s, strlen(s));
}

uint64_t vg_table_line(const vg_table *t, size_t row)
{
    return row < t->n_lines ? t->lines[row] : (uint64_t)row + 1;
}

uint64_t vg_table_checksum(const vg_table *t)
{
    return t->checksum;
}

void vg_table_set_checksum(vg_table *t, uint64_t sum)
{
    t->checksum = sum;
}

vg_status vg_table_take(const vg_table *t, const size_t *idx, size_t n, vg_table **out)
{
    VG_ASSERT(t && out && (idx || n == 0));
    *out = NULL;
    size_t rows = vg_table_rows(t);
    for (size_t i = 0; i < n; i++) {
        if (idx[i] >= rows)
            return vg_fail(VG_ERR_INVALID, "%s: row index %zu out of range (%zu rows)", t->source, idx[i], rows);
    }
    vg_table *r = vg_table_new(t->source);
    if (!r) return vg_fail(VG_ERR_NOMEM, "%s: out of memory", t->source);
    vg_status st = VG_OK;
    for (size_t j = 0; j < t->n_cols && st == VG_OK; j++) {
        const column *c = &t->cols[j];
        size_t k;
        if ((st = vg_table_add_column(r, c->name, c->type, &k)) != VG_OK) break;
        column *d = &r->cols[k];
        if (column_reserve(d, n ? n : 1) != VG_OK) {
            st = vg_fail(VG_ERR_NOMEM, "%s: out of memory taking %zu rows", t->source, n);
            break;
        }
        if (c->type == VG_COLUMN_NUMERIC) {
            for (size_t i = 0; i < n; i++) d->num[i] = c->num[idx[i]];
        } else {
            if ((st = vg_dict_copy(&c->dict, &d->dict)) != VG_OK) break;
            for (size_t i = 0; i < n; i++) d->codes[i] = c->codes[idx[i]];
        }
        d->len = n;
    }
    if (st == VG_OK && (st = lines_reserve(r, n ? n : 1)) == VG_OK) {
        for (size_t i = 0; i < n; i++) r->lines[i] = vg_table_line(t, idx[i]);
        r->n_lines = n;
    }
    if (st != VG_OK) {
        vg_table_free(r);
        return st;
    }
    r->checksum = t->checksum;
    *out = r;
    return VG_OK;
}

vg_status vg_table_map_categories(vg_table *t, size_t col, vg_category_map_fn map, void *user)
{
    VG_ASSERT(t && col < t->n_cols && map);
    column *c = &t->cols[col];
    if (c->type != VG_COLUMN_CATEGORICAL)
        return vg_fail(VG_ERR_INVALID, "%s: column '%s' is not categorical", t->source, c->name);
    char scratch[1024];
    vg_dict nd;
    vg_dict_init(&nd);
    uint32_t *remap = vg_malloc((c->dict.n ? c->dict.n : 1) * sizeof *remap);
    if (!remap) return vg_fail(VG_ERR_NOMEM, "%s: out of memory", t->source);
    vg_status st = VG_OK;
    for (uint32_t k = 0; k < c->dict.n; k++) {
        const char *m = map(c->dict.strs[k], user, scratch, sizeof scratch);
        if (!m) {
            remap[k] = VG_CODE_MISSING;  /* the map may declare a value missing */
            continue;
        }
        if ((st = vg_dict_intern(&nd, m, strlen(m), &remap[k])) != VG_OK) break;
    }
    if (st != VG_OK) {
        vg_free(remap);
        vg_dict_free(&nd);
        return st;
    }
    for (size_t i = 0; i < c->len; i++) {
        if (c->codes[i] != VG_CODE_MISSING) c->codes[i] = remap[c->codes[i]];
    }
    vg_free(remap);
    vg_dict_free(&c->dict);
    c->dict = nd;
    return VG_OK;
}

/* Shortest text that reads back as exactly v: "%.15g" covers almost every
 * value seen in practice, "%.17g" always round-trips. */
static void number_text(double v, char *buf, size_t cap)
{
    if (v == 0) v = 0;  /* -0 and 0 are the same category */
    for (int prec = 15; prec <= 17; prec++) {
        snprintf(buf, cap, "%.*g", prec, v);
        if (strtod(buf, NULL) == v) return;
    }
}

vg_status vg_table_make_categorical(vg_table *t, size_t col)
{
    VG_ASSERT(t && col < t->n_cols);
    column *c = &t->cols[col];
    if (c->type == VG_COLUMN_CATEGORICAL) return VG_OK;
    uint32_t *codes = vg_malloc((c->cap ? c->cap : 1) * sizeof *codes);
    if (!codes) return vg_fail(VG_ERR_NOMEM, "%s: out of memory", t->source);
    vg_dict d;
    vg_dict_init(&d);
    char buf[64];
    for (size_t i = 0; i < c->len; i++) {
        double v = c->num[i];
        if (isnan(v)) {
            codes[i] = VG_CODE_MISSING;
            continue;
        }
        number_text(v, buf, sizeof buf);
        vg_status st = vg_dict_intern(&d, buf, strlen(buf), &codes[i]);
        if (st != VG_OK) {
            vg_free(codes);
            vg_dict_free(&d);
            return st;
        }
    }
    vg_free(c->num);
    c->num = NULL;
    c->codes = codes;
    if (!c->cap) c->cap = 1;
    c->dict = d;
    c->type = VG_COLUMN_CATEGORICAL;
    return VG_OK;
}

vg_status vg_table_check_numbers_like(const vg_table *t, const vg_table *like)
{
    for (size_t col = 0; col < t->n_cols; col++) {
        long lc = vg_table_find(like, t->cols[col].name);
        if (lc < 0 || t->cols[col].type != VG_COLUMN_CATEGORICAL || like->cols[lc].type != VG_COLUMN_NUMERIC) continue;
        /* Name the first value that does not read as a number (the reader's
         * rules are stricter than strtod's, so the first value at all if
         * every one does). */
        const column *c = &t->cols[col];
        size_t bad = c->len;
        for (size_t r = 0; r < c->len; r++) {
            if (c->codes[r] == VG_CODE_MISSING) continue;
            if (bad == c->len) bad = r;
            const char *s = vg_table_category(t, col, c->codes[r]);
            char *end;
            strtod(s, &end);
            if (end == s || *end) {
                bad = r;
                break;
            }
        }
        if (bad == c->len) continue;   /* no value at all: nothing to disagree with */
        return vg_fail(VG_ERR_PARSE, "%s:%llu: column '%s': '%.40s' is not a number, and %s has numbers there",
                       t->source, (unsigned long long)vg_table_line(t, bad), c->name,
                       vg_table_category(t, col, c->codes[bad]), like->source);
    }
    return VG_OK;
}
