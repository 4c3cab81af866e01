/* Reading a whole log into a table by running its format line by line (the
 * same online features `vigil watch` computes). Values go straight into the
 * table's columns as each event is read: numbers into double arrays, text
 * interned into the column's dictionary, so memory is the table itself plus
 * the file's bytes, never a heap object per cell. The columns are only known
 * from the events, so a column first seen late is back-filled with missing
 * values, and a column that met only numbers so far becomes categorical at
 * its first text value (its numbers turned into their text). */
#include "vigil/csv.h"
#include "vigil/logformat.h"
#include "data/table_build.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_COLUMNS 4096
#define RESERVED_COLUMNS 256

/* A column being built, and the value the current event gives it. Values are
 * held until the event ends, because a format may name a field twice (the
 * last value wins) and a column's type can change mid-event. */
typedef struct column {
    int text;                   /* categorical: met a text value */
    int set;                    /* the current event gave a value */
    vg_field_kind kind;
    double number;
    const char *str;            /* points into the format's state or the labels; valid for this event */
    size_t len;
} column;

typedef struct builder {
    vg_table *t;
    column *cols;
    size_t n_cols, cap_cols;
    size_t rows;                /* events stored */
    size_t reserve;             /* rows reserved in every column: the file's line count, an upper bound */
} builder;

/* A number in a categorical column is stored as this text, the form the
 * pipeline matches a number against a column's categories at prediction. */
static int number_text(double v, char *buf, size_t cap)
{
    return snprintf(buf, cap, "%.17g", v);
}

/* Turn numeric column j into a categorical one, its numbers so far becoming
 * categories in row order, so codes keep first-seen order over the rows. */
static vg_status make_text(builder *b, size_t j)
{
    size_t n = vg_table_column_len(b->t, j);
    double *saved = vg_malloc((n ? n : 1) * sizeof *saved);
    if (!saved) return vg_fail(VG_ERR_NOMEM, "%s: out of memory", vg_table_source(b->t));
    if (n) memcpy(saved, vg_table_numbers(b->t, j), n * sizeof *saved);
    vg_status st = vg_table_reset_column(b->t, j, VG_COLUMN_CATEGORICAL);
    for (size_t r = 0; r < n && !st; r++) {
        char num[64];
        st = isnan(saved[r]) ? vg_table_push_category(b->t, j, NULL, 0)
                             : vg_table_push_category(b->t, j, num, (size_t)number_text(saved[r], num, sizeof num));
    }
    vg_free(saved);
    b->cols[j].text = 1;
    return st;
}

static vg_status grow_columns(builder *b)
{
    if (b->n_cols < b->cap_cols) return VG_OK;
    size_t cap = b->cap_cols ? 2 * b->cap_cols : 64;
    column *c = vg_realloc(b->cols, cap * sizeof *c);
    if (!c) return vg_fail(VG_ERR_NOMEM, "%s: out of memory", vg_table_source(b->t));
    b->cols = c;
    b->cap_cols = cap;
    return VG_OK;
}

/* 1 if NUL-terminated z is exactly [name, name+len). Stops at z's end, so a
 * name with a NUL byte inside never makes it read past z. */
static int name_is(const char *z, const char *name, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if (z[i] == '\0' || z[i] != name[i]) return 0;
    return z[len] == '\0';
}

/* Index of the column named [name, name+len), added (with a missing value
 * for every row so far) if new. hint is where the name usually is: formats
 * emit their fields in a fixed order, so the lookup is one compare. */
static vg_status find_or_add_column(builder *b, const char *name, size_t len, size_t hint, uint64_t line,
                                    size_t *out)
{
    if (hint < b->n_cols && name_is(vg_table_name(b->t, hint), name, len)) {
        *out = hint;
        return VG_OK;
    }
    char small[128];
    char *z = len < sizeof small ? small : vg_malloc(len + 1);
    if (!z) return vg_fail(VG_ERR_NOMEM, "%s: out of memory", vg_table_source(b->t));
    memcpy(z, name, len);
    z[len] = '\0';
    vg_status st = VG_OK;
    long found = memchr(name, '\0', len) ? -2 : vg_table_find(b->t, z);
    if (found >= 0) {
        *out = (size_t)found;
    } else if (found == -2) {
        st = vg_fail(VG_ERR_PARSE, "%s:%llu: feature field name contains a NUL byte", vg_table_source(b->t),
                     (unsigned long long)line);
    } else if (b->n_cols >= MAX_COLUMNS) {
        st = vg_fail(VG_ERR_LIMIT, "%s:%llu: field '%.64s': more than %d feature fields", vg_table_source(b->t),
                     (unsigned long long)line, z, MAX_COLUMNS);
    } else if ((st = grow_columns(b)) == VG_OK && (st = vg_table_add_column(b->t, z, VG_COLUMN_NUMERIC, out)) == VG_OK) {
        memset(&b->cols[*out], 0, sizeof b->cols[*out]);
        b->n_cols++;
        /* Past a few hundred columns (only a format with free-form field
         * names gets there) reserving the line count for each could ask for
         * more than the machine has; those columns grow as they fill. */
        if (b->n_cols <= RESERVED_COLUMNS) st = vg_table_reserve(b->t, b->reserve);
        for (size_t r = 0; r < b->rows && !st; r++) st = vg_table_push_number(b->t, *out, NAN);
    }
    if (z != small) vg_free(z);
    return st;
}

/* Hold field f as the current event's value of column j. */
static vg_status put_field(builder *b, size_t j, const vg_field *f)
{
    column *k = &b->cols[j];
    if (f->kind == VG_FIELD_TEXT && !k->text) {
        vg_status st = make_text(b, j);
        if (st) return st;
    }
    k->set = 1;
    k->kind = f->kind;
    k->number = f->number;
    k->str = f->text;
    k->len = f->text_len;
    return VG_OK;
}

/* Store the current event as a row: every column gets its held value or a
 * missing one. */
static vg_status end_row(builder *b, uint64_t line)
{
    vg_status st = VG_OK;
    for (size_t j = 0; j < b->n_cols && !st; j++) {
        column *k = &b->cols[j];
        int have = k->set;
        k->set = 0;
        if (!k->text) {
            st = vg_table_push_number(b->t, j, have && k->kind == VG_FIELD_NUMBER ? k->number : NAN);
        } else if (have && k->kind == VG_FIELD_TEXT) {
            st = vg_table_push_category(b->t, j, k->str, k->len);
        } else if (have && k->kind == VG_FIELD_NUMBER) {
            char num[64];
            st = vg_table_push_category(b->t, j, num, (size_t)number_text(k->number, num, sizeof num));
        } else {
            st = vg_table_push_category(b->t, j, NULL, 0);
        }
    }
    if (!st) st = vg_table_push_line(b->t, line);
    if (!st) b->rows++;
    return st;
}

/* Room for `need` elements of `elem` bytes in *p (doubling). */
static int grow(void **p, size_t *cap, size_t need, size_t elem)
{
    if (need <= *cap) return 1;
    size_t c = *cap ? *cap : 64;
    while (c < need) c *= 2;
    void *q = vg_realloc(*p, c * elem);
    if (!q) return 0;
    *p = q;
    *cap = c;
    return 1;
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

/* Entries that do not fit whole are left out (a cut "12" would read "1"). */
void vg_logfmt_report_lines(const vg_logfmt_report *rep, char *buf, size_t cap)
{
    if (!cap) return;
    buf[0] = '\0';
    size_t shown = rep->bad < VG_LOGFMT_REPORT_LINES ? (size_t)rep->bad : VG_LOGFMT_REPORT_LINES, len = 0;
    for (size_t i = 0; i <= shown; i++) {
        char item[64];
        int n = i < shown ? snprintf(item, sizeof item, "%s%llu", i ? ", " : "", (unsigned long long)rep->bad_lines[i])
                : rep->bad > shown ? snprintf(item, sizeof item, ", ... and %llu more",
                                              (unsigned long long)(rep->bad - shown))
                                   : 0;
        if (n <= 0 || (size_t)n >= cap - len) return;
        memcpy(buf + len, item, (size_t)n + 1);
        len += (size_t)n;
    }
}

/* Upper bound on the rows a file can give: one per line. */
static size_t count_lines(const char *data, size_t len)
{
    size_t n = 1;
    for (const char *p = data, *end = data + len; (p = memchr(p, '\n', (size_t)(end - p))) != NULL; p++) n++;
    return n;
}

vg_status vg_logfmt_read(const char *path, const vg_logfmt *fmt, const vg_logfmt_options *opt, vg_table **out,
                      vg_logfmt_report *report)
{
    *out = NULL;
    vg_logfmt_report rep = { 0 };
    vg_logfmt_options o = opt ? *opt : vg_logfmt_options_default();
    char *data = NULL;
    size_t len = 0;
    label_set ls = { 0 };
    builder b = { 0 };
    void *state = NULL;
    vg_status st = vg_file_read_all(path, 0, &data, &len);
    if (st) return st;
    if (o.labels_path && (st = label_set_read(o.labels_path, &ls))) goto done;
    if ((st = fmt->state_new(&o, &state))) goto done;
    if (!(b.t = vg_table_new(path))) {
        st = vg_fail(VG_ERR_NOMEM, "%s: out of memory", path);
        goto done;
    }
    /* Reserving every column for the line count up front means no column is
     * ever regrown (a regrown array briefly exists twice); what bad and
     * header lines leave unused is given back at the end. */
    b.reserve = count_lines(data, len);
    size_t label_col = 0;
    int have_label_col = 0;
    size_t entity_col = 0;
    int have_entity_col = 0;
    /* A UTF-8 byte order mark (editors and Windows exports write one) is not
     * part of the first line: left in, it would glue itself to the first
     * field, a client address that then no longer parses as one. */
    size_t start = len >= 3 && memcmp(data, "\xEF\xBB\xBF", 3) == 0 ? 3 : 0;
    uint64_t skipped = 0;  /* lines the format passed over (headers) */
    uint64_t labelled = 0; /* events the labels file marks */
    for (size_t i = start; i < len && !st;) {
        size_t j = i;
        while (j < len && data[j] != '\n') j++;
        size_t n = j - i;
        if (n && data[i + n - 1] == '\r') n--;
        rep.lines++;
        const char *line = data + i;
        i = j + 1;
        if (n == 0) continue;
        vg_logfmt_event ev;
        vg_status line_st = n > o.max_line_bytes
                                ? vg_fail(VG_ERR_LIMIT, "line longer than %zu bytes", o.max_line_bytes)
                                : fmt->process(state, line, n, &ev);
        if (line_st) {
            if (rep.bad == 0) {
                rep.first_bad_line = rep.lines;
                snprintf(rep.first_bad_message, sizeof rep.first_bad_message, "%s", vg_last_error());
            }
            if (rep.bad < VG_LOGFMT_REPORT_LINES) rep.bad_lines[rep.bad] = rep.lines;
            rep.bad++;
            continue;
        }
        if (ev.n_fields == 0) {
            skipped++;
            continue;
        }
        for (size_t f = 0; f < ev.n_fields && !st; f++) {
            size_t col;
            st = find_or_add_column(&b, ev.fields[f].name, ev.fields[f].name_len, f, rep.lines, &col);
            if (!st) st = put_field(&b, col, &ev.fields[f]);
        }
        if (!st && ev.entity_len) {
            if (!have_entity_col) st = find_or_add_column(&b, VG_LOGFMT_ENTITY_COLUMN, 6, 0, rep.lines, &entity_col);
            have_entity_col = !st;
            vg_field ef = { .name = VG_LOGFMT_ENTITY_COLUMN, .name_len = 6, .kind = VG_FIELD_TEXT, .text = ev.entity,
                            .text_len = ev.entity_len };
            if (!st) st = put_field(&b, entity_col, &ef);
        }
        const char *label = ev.label;
        size_t label_len = ev.label_len;
        if (o.labels_path) {  /* an empty file too: a log without attacks */
            int hit = label_set_has(&ls, rep.lines, ev.event_id, ev.event_id_len);
            labelled += hit;
            label = hit ? "attack" : "normal";
            label_len = strlen(label);
        }
        if (!st && label) {
            if (!have_label_col) st = find_or_add_column(&b, "label", 5, 0, rep.lines, &label_col);
            have_label_col = !st;
            vg_field lf = { .name = "label", .name_len = 5, .kind = VG_FIELD_TEXT, .text = label,
                            .text_len = label_len };
            if (!st) st = put_field(&b, label_col, &lf);
        }
        if (!st) st = end_row(&b, rep.lines);
        if (!st) rep.events++;
    }
    if (!st && b.rows == 0)
        st = rep.bad ? vg_fail(VG_ERR_PARSE, "%s:%llu: no valid %s events (%llu bad lines; first: %s)", path,
                               (unsigned long long)rep.first_bad_line, fmt->name, (unsigned long long)rep.bad,
                               rep.first_bad_message)
                     : start == len ? vg_fail(VG_ERR_PARSE, "%s: no %s events (empty file)", path, fmt->name)
                                    : vg_fail(VG_ERR_PARSE, "%s: no %s events (%llu line%s: %llu header, %llu blank)",
                                              path, fmt->name, (unsigned long long)rep.lines, rep.lines == 1 ? "" : "s",
                                              (unsigned long long)skipped, (unsigned long long)(rep.lines - skipped));
    /* Labels that match nothing are another file's (or a truth file's
     * "LINE,KIND" lines, read as ids): training or scoring against them
     * would call every event normal without a word. */
    if (!st && (ls.n_lines || ls.n_ids) && labelled == 0)
        st = vg_fail(VG_ERR_INVALID,
                     "%s: labels file %s matches no event (%zu line numbers, %zu ids%s%.40s%s): it must list this "
                     "log's attack line numbers or request ids, one per line",
                     path, o.labels_path, ls.n_lines, ls.n_ids, ls.n_ids ? " such as '" : "",
                     ls.n_ids ? ls.ids[0] : "", ls.n_ids ? "'" : "");
    for (size_t k = ls.n_lines; k > 0 && ls.lines[k - 1] > rep.lines; k--) rep.labels_past_end++;
    if (!st) {
        vg_table_shrink(b.t);
        vg_table_set_checksum(b.t, vg_hash(data, len, 0));
        *out = b.t;
        b.t = NULL;
    }
done:
    if (state) fmt->state_free(state);
    vg_table_free(b.t);
    vg_free(b.cols);
    label_set_free(&ls);
    vg_free(data);
    if (report) *report = rep;
    return st;
}
