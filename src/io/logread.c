/* Reading a whole log into a table by running its format line by line (the
 * same online features `vigil watch` computes). Cells are gathered per
 * column first, because the columns are only known from the events, and a
 * column's type only once every event is seen. */
#include "vigil/csv.h"
#include "vigil/logformat.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_COLUMNS 4096

typedef struct cell {
    double number;      /* NUMBER */
    uint32_t off, len;  /* TEXT: bytes in the text arena */
    uint8_t kind;       /* vg_field_kind; NULL = missing */
} cell;

typedef struct column {
    char *name;
    cell *cells;        /* one per event; events before the column appeared are NULL cells */
    size_t cap;
    int has_text;
} column;

typedef struct collector {
    column *cols;
    size_t n_cols, rows;
    char *text;         /* arena of text values */
    size_t text_len, text_cap;
    int failed;
} collector;

static int grow(void **p, size_t *cap, size_t need, size_t elem)
{
    if (need <= *cap) return 1;
    size_t c = *cap ? *cap : 64;
    while (c < need) c *= 2;
    void *q = vg_realloc(*p, c * elem);
    if (!q) return 0;
    memset((char *)q + *cap * elem, 0, (c - *cap) * elem);
    *p = q;
    *cap = c;
    return 1;
}

static long find_or_add_column(collector *c, const char *name, size_t len, size_t hint)
{
    if (hint < c->n_cols && strncmp(c->cols[hint].name, name, len) == 0 && c->cols[hint].name[len] == '\0')
        return (long)hint;
    for (size_t i = 0; i < c->n_cols; i++)
        if (strncmp(c->cols[i].name, name, len) == 0 && c->cols[i].name[len] == '\0') return (long)i;
    if (c->n_cols >= MAX_COLUMNS) return -1;
    column *nc = vg_realloc(c->cols, (c->n_cols + 1) * sizeof *nc);
    if (!nc) return -1;
    c->cols = nc;
    column *col = &c->cols[c->n_cols];
    memset(col, 0, sizeof *col);
    col->name = vg_malloc(len + 1);
    if (!col->name) return -1;
    memcpy(col->name, name, len);
    col->name[len] = '\0';
    return (long)c->n_cols++;
}

static int put_text(collector *c, const char *s, size_t len, cell *out)
{
    if (!grow((void **)&c->text, &c->text_cap, c->text_len + len + 1, 1)) return 0;
    memcpy(c->text + c->text_len, s, len);
    out->off = (uint32_t)c->text_len;
    out->len = (uint32_t)len;
    c->text_len += len;
    return c->text_len < UINT32_MAX;
}

/* Store field f of event row `row` into column `col`. */
static int put_field(collector *c, size_t col, size_t row, const vg_field *f)
{
    column *k = &c->cols[col];
    if (!grow((void **)&k->cells, &k->cap, row + 1, sizeof *k->cells)) return 0;
    cell *x = &k->cells[row];
    x->kind = (uint8_t)f->kind;
    if (f->kind == VG_FIELD_NUMBER) x->number = f->number;
    else if (f->kind == VG_FIELD_TEXT) {
        k->has_text = 1;
        return put_text(c, f->text, f->text_len, x);
    }
    return 1;
}

static void collector_free(collector *c)
{
    for (size_t i = 0; i < c->n_cols; i++) vg_free(c->cols[i].name), vg_free(c->cols[i].cells);
    vg_free(c->cols);
    vg_free(c->text);
}

/* Line numbers and event ids listed in a --labels side file. */
typedef struct label_set {
    uint64_t *lines;
    size_t n_lines;
    char **ids;
    size_t n_ids;
} label_set;

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static vg_status label_set_read(const char *path, label_set *ls)
{
    memset(ls, 0, sizeof *ls);
    char *data;
    size_t len;
    vg_status st = vg_file_read_all(path, (size_t)1 << 30, &data, &len);
    if (st) return st;
    size_t cap_l = 0, cap_i = 0;
    for (size_t i = 0; i < len && !st;) {
        size_t j = i;
        while (j < len && data[j] != '\n') j++;
        size_t a = i, b = j;
        while (a < b && (data[a] == ' ' || data[a] == '\t' || data[a] == '\r')) a++;
        while (b > a && (data[b - 1] == ' ' || data[b - 1] == '\t' || data[b - 1] == '\r')) b--;
        if (b > a && data[a] != '#') {
            double v;
            if (vg_parse_number(data + a, b - a, &v) && v >= 1 && v == floor(v)) {
                if (!grow((void **)&ls->lines, &cap_l, ls->n_lines + 1, sizeof *ls->lines)) st = VG_ERR_NOMEM;
                else ls->lines[ls->n_lines++] = (uint64_t)v;
            } else {
                char *id = vg_malloc(b - a + 1);
                if (!id || !grow((void **)&ls->ids, &cap_i, ls->n_ids + 1, sizeof *ls->ids)) {
                    vg_free(id);
                    st = VG_ERR_NOMEM;
                } else {
                    memcpy(id, data + a, b - a);
                    id[b - a] = '\0';
                    ls->ids[ls->n_ids++] = id;
                }
            }
        }
        i = j + 1;
    }
    vg_free(data);
    if (st) return vg_fail(VG_ERR_NOMEM, "%s: out of memory", path);
    if (ls->n_lines) qsort(ls->lines, ls->n_lines, sizeof *ls->lines, cmp_u64);
    if (ls->n_ids) qsort(ls->ids, ls->n_ids, sizeof *ls->ids, cmp_str);
    return VG_OK;
}

static int label_set_has(const label_set *ls, uint64_t line, const char *id, size_t id_len)
{
    if (ls->n_lines && bsearch(&line, ls->lines, ls->n_lines, sizeof *ls->lines, cmp_u64)) return 1;
    if (ls->n_ids && id) {
        char key[256];
        size_t n = VG_MIN(id_len, sizeof key - 1);
        memcpy(key, id, n);
        key[n] = '\0';
        char *k = key;
        if (bsearch(&k, ls->ids, ls->n_ids, sizeof *ls->ids, cmp_str)) return 1;
    }
    return 0;
}

static void label_set_free(label_set *ls)
{
    for (size_t i = 0; i < ls->n_ids; i++) vg_free(ls->ids[i]);
    vg_free(ls->ids);
    vg_free(ls->lines);
}

/* Build the table once every event is collected. */
static vg_status build_table(collector *c, const char *path, const uint64_t *lines, vg_table **out)
{
    vg_table *t = vg_table_new(path);
    if (!t) return vg_fail(VG_ERR_NOMEM, "out of memory");
    vg_status st = VG_OK;
    for (size_t i = 0; i < c->n_cols && !st; i++) {
        column *k = &c->cols[i];
        size_t idx;
        vg_column_type type = k->has_text ? VG_COLUMN_CATEGORICAL : VG_COLUMN_NUMERIC;
        if ((st = vg_table_add_column(t, k->name, type, &idx))) break;
        for (size_t r = 0; r < c->rows && !st; r++) {
            cell x = r < k->cap ? k->cells[r] : (cell){ 0 };
            if (type == VG_COLUMN_NUMERIC) {
                st = vg_table_push_number(t, idx, x.kind == VG_FIELD_NUMBER ? x.number : NAN);
            } else if (x.kind == VG_FIELD_TEXT) {
                st = vg_table_push_category(t, idx, c->text + x.off, x.len);
            } else if (x.kind == VG_FIELD_NUMBER) {
                char num[64];
                int n = snprintf(num, sizeof num, "%.17g", x.number);
                st = vg_table_push_category(t, idx, num, (size_t)n);
            } else {
                st = vg_table_push_category(t, idx, NULL, 0);
            }
        }
    }
    for (size_t r = 0; r < c->rows && !st; r++) st = vg_table_push_line(t, lines[r]);
    if (st) {
        vg_table_free(t);
        return st;
    }
    *out = t;
    return VG_OK;
}

vg_status vg_log_read(const char *path, const vg_log_format *fmt, const vg_log_options *opt, vg_table **out,
                      vg_log_report *report)
{
    *out = NULL;
    vg_log_report rep = { 0 };
    vg_log_options o = opt ? *opt : vg_log_options_default();
    char *data = NULL;
    size_t len = 0;
    label_set ls = { 0 };
    collector c = { 0 };
    uint64_t *lines = NULL;
    size_t lines_cap = 0;
    void *state = NULL;
    vg_status st = vg_file_read_all(path, 0, &data, &len);
    if (st) return st;
    if (o.labels_path && (st = label_set_read(o.labels_path, &ls))) goto done;
    if ((st = fmt->state_new(&o, &state))) goto done;
    long label_col = -1;
    for (size_t i = 0; i < len;) {
        size_t j = i;
        while (j < len && data[j] != '\n') j++;
        size_t n = j - i;
        if (n && data[i + n - 1] == '\r') n--;
        rep.lines++;
        if (n == 0) {
            i = j + 1;
            continue;
        }
        vg_log_event ev;
        vg_status ls_st = n > o.max_line_bytes
                              ? vg_fail(VG_ERR_LIMIT, "line longer than %zu bytes", o.max_line_bytes)
                              : fmt->process(state, data + i, n, &ev);
        if (ls_st) {
            if (rep.bad++ == 0) {
                rep.first_bad_line = rep.lines;
                snprintf(rep.first_bad_message, sizeof rep.first_bad_message, "%s", vg_last_error());
            }
        } else if (ev.n_fields) {
            size_t row = c.rows;
            for (size_t f = 0; f < ev.n_fields && !st; f++) {
                long col = find_or_add_column(&c, ev.fields[f].name, ev.fields[f].name_len, f);
                if (col < 0 || !put_field(&c, (size_t)col, row, &ev.fields[f]))
                    st = vg_fail(VG_ERR_NOMEM, "%s: out of memory or too many feature fields", path);
            }
            const char *label = ev.label;
            size_t label_len = ev.label_len;
            if (ls.n_lines || ls.n_ids) {
                int hit = label_set_has(&ls, rep.lines, ev.event_id, ev.event_id_len);
                label = hit ? "attack" : "normal";
                label_len = strlen(label);
            }
            if (!st && label) {
                if (label_col < 0) label_col = find_or_add_column(&c, "label", 5, 0);
                vg_field lf = { .name = "label", .name_len = 5, .kind = VG_FIELD_TEXT, .text = label,
                                .text_len = label_len };
                if (label_col < 0 || !put_field(&c, (size_t)label_col, row, &lf))
                    st = vg_fail(VG_ERR_NOMEM, "%s: out of memory", path);
            }
            if (!st && !grow((void **)&lines, &lines_cap, row + 1, sizeof *lines))
                st = vg_fail(VG_ERR_NOMEM, "%s: out of memory", path);
            if (st) break;
            lines[row] = rep.lines;
            c.rows++;
            rep.events++;
        }
        i = j + 1;
    }
    if (!st && c.rows == 0)
        st = rep.bad ? vg_fail(VG_ERR_PARSE, "%s:%llu: no valid %s events (%llu bad lines; first: %s)", path,
                               (unsigned long long)rep.first_bad_line, fmt->name, (unsigned long long)rep.bad,
                               rep.first_bad_message)
                     : vg_fail(VG_ERR_PARSE, "%s: no %s events", path, fmt->name);
    if (!st) st = build_table(&c, path, lines, out);
    if (!st) vg_table_set_checksum(*out, vg_hash(data, len, 0));
done:
    if (state) fmt->state_free(state);
    collector_free(&c);
    label_set_free(&ls);
    vg_free(lines);
    vg_free(data);
    if (report) *report = rep;
    return st;
}
