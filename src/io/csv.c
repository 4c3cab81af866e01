/* The CSV reader: text (plain or gzip) -> typed table in one pass.
 *
 * Each record is first split into field spans (RFC 4180 quoting, CRLF / LF /
 * CR line ends), then each field goes straight into its column: numbers are
 * parsed as they come. A column is numeric until it meets a value that is
 * neither a number nor a missing token; at that moment it is rebuilt as
 * categorical from the original text of the earlier rows, found again through
 * the saved start offset of every row, so "1.50" stays "1.50" and not "1.5".
 * That costs one re-scan per column that turns, and nothing for the (usual)
 * columns that do not.
 *
 * Every error names the source and the line of the record, and the field
 * where one is involved; data from outside never reaches an assert. */
#include "vigil/csv.h"
#include "data/table_build.h"
#include "io/file_read.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#define F_QUOTED 1u   /* the field was written between quotes */
#define F_ESCAPED 2u  /* ... and contains doubled quotes to undo */

#define HEADER_SAMPLE_ROWS 100   /* rows looked at when the first two lines cannot decide */
#define RESERVE_SAMPLE_ROWS 64   /* rows whose mean length predicts the row count */
#define DELIM_SAMPLE_LINES 10
#define DELIM_SAMPLE_BYTES (1u << 20)
#define SHOWN_TEXT 40            /* characters of a bad value quoted in a message */

vg_csv_options vg_csv_options_default(void)
{
    vg_csv_options o;
    memset(&o, 0, sizeof o);
    o.delimiter = 0;  /* detect: the README promises , ; TAB and | alike */
    o.header = -1;
    o.max_line_bytes = 1u << 20;
    o.max_columns = 4096;
    return o;
}

/* ---- record splitting ---------------------------------------------------- */

typedef struct field {
    const char *p;   /* content (between the quotes for a quoted field) */
    size_t len;
    unsigned flags;
} field;

typedef struct tokenizer {
    const char *data;  /* text, BOM already skipped */
    size_t len;
    const char *name;
    char delim;
    size_t max_line, max_cols;
    unsigned char stop[256];  /* bytes that end an unquoted field */
    size_t pos;               /* next unread byte ... */
    uint64_t line;            /* ... and its line (1-based) */
    size_t rec_start;         /* the record just read: offset, line, fields */
    uint64_t rec_line;
    field *f;
    size_t nf, capf;
    char *scratch;            /* unescaped text of one field */
    size_t scratch_cap;
} tokenizer;

static void tok_init(tokenizer *t, const char *data, size_t len, const char *name, char delim,
                     size_t max_line, size_t max_cols)
{
    memset(t, 0, sizeof *t);
    t->data = data;
    t->len = len;
    t->name = name;
    t->delim = delim;
    t->max_line = max_line;
    t->max_cols = max_cols;
    t->stop[(unsigned char)delim] = 1;
    t->stop['\n'] = 1;
    t->stop['\r'] = 1;
    t->line = 1;
}

static void tok_free(tokenizer *t)
{
    vg_free(t->f);
    vg_free(t->scratch);
    t->f = NULL;
    t->scratch = NULL;
    t->capf = t->scratch_cap = 0;
}

/* Spaces around unquoted fields are not part of the value (unless the
 * space is the delimiter itself). */
static int is_blank(const tokenizer *t, char c)
{
    return (c == ' ' || c == '\t') && c != t->delim;
}

static inline vg_status tok_push(tokenizer *t, const char *p, size_t len, unsigned flags)
{
    if (t->nf == t->capf) {
        if (t->nf >= t->max_cols)
            return vg_fail(VG_ERR_LIMIT, "%s:%llu: more than %zu columns", t->name,
                           (unsigned long long)t->rec_line, t->max_cols);
        size_t cap = t->capf ? t->capf * 2 : 64;
        if (cap > t->max_cols) cap = t->max_cols;
        field *f = vg_realloc(t->f, cap * sizeof *f);
        if (!f) return vg_fail(VG_ERR_NOMEM, "%s: out of memory", t->name);
        t->f = f;
        t->capf = cap;
    }
    field *f = &t->f[t->nf++];
    f->p = p;
    f->len = len;
    f->flags = flags;
    return VG_OK;
}

/* Read the next record into t->f[0..nf). *got = 0 at the end of the text.
 * Blank lines are skipped (they carry no record). */
static vg_status tok_next(tokenizer *t, int *got)
{
    const char *d = t->data, *end = d + t->len;
    const char *p = d + t->pos;
    uint64_t line = t->line;
    *got = 0;
    while (p < end && (*p == '\n' || *p == '\r')) {
        if (*p == '\r' && p + 1 < end && p[1] == '\n') p++;
        p++;
        line++;
    }
    if (p == end) {
        t->pos = t->len;
        t->line = line;
        return VG_OK;
    }
    const char *rec = p;
    t->rec_start = (size_t)(p - d);
    t->rec_line = line;
    t->nf = 0;
    vg_status st;
    for (;;) {
        const char *q = p;
        while (q < end && is_blank(t, *q)) q++;
        if (q < end && *q == '"') {
            uint64_t open_line = line;
            unsigned flags = F_QUOTED;
            const char *s = ++q;
            for (;;) {
                if (q == end)
                    return vg_fail(VG_ERR_PARSE, "%s:%llu: unterminated quoted field (field %zu opens a quote that never closes)",
                                   t->name, (unsigned long long)open_line, t->nf + 1);
                char c = *q;
                if (c == '"') {
                    if (q + 1 < end && q[1] == '"') {
                        flags |= F_ESCAPED;
                        q += 2;
                        continue;
                    }
                    break;
                }
                if (c == '\n' || (c == '\r' && !(q + 1 < end && q[1] == '\n'))) line++;
                q++;
            }
            if ((st = tok_push(t, s, (size_t)(q - s), flags)) != VG_OK) return st;
            q++;  /* the closing quote */
            while (q < end && is_blank(t, *q)) q++;
            if (q < end && !t->stop[(unsigned char)*q])
                return vg_fail(VG_ERR_PARSE, "%s:%llu: field %zu: unexpected text after the closing quote",
                               t->name, (unsigned long long)line, t->nf);
            p = q;
        } else {
            const char *s = p;
            while (p < end && !t->stop[(unsigned char)*p]) p++;
            const char *e = p;
            while (s < e && is_blank(t, *s)) s++;
            while (e > s && is_blank(t, e[-1])) e--;
            if ((st = tok_push(t, s, (size_t)(e - s), 0)) != VG_OK) return st;
        }
        if (p < end && *p == t->delim) {
            p++;
            continue;
        }
        break;
    }
    if ((size_t)(p - rec) > t->max_line)
        return vg_fail(VG_ERR_LIMIT, "%s:%llu: line longer than %zu bytes", t->name,
                       (unsigned long long)t->rec_line, t->max_line);
    if (p < end) {
        if (*p == '\r' && p + 1 < end && p[1] == '\n') p++;
        p++;
        line++;
    }
    t->pos = (size_t)(p - d);
    t->line = line;
    *got = 1;
    return VG_OK;
}

/* The value of field i: the span itself, or its unescaped copy in scratch
 * (valid until the next call). */
static inline vg_status field_text(tokenizer *t, size_t i, const char **s, size_t *len)
{
    const field *f = &t->f[i];
    if (!(f->flags & F_ESCAPED)) {
        *s = f->p;
        *len = f->len;
        return VG_OK;
    }
    *s = NULL;
    *len = 0;
    if (f->len + 1 > t->scratch_cap) {
        size_t cap = f->len + 1 > 256 ? f->len + 1 : 256;
        char *b = vg_realloc(t->scratch, cap);
        if (!b) return vg_fail(VG_ERR_NOMEM, "%s: out of memory", t->name);
        t->scratch = b;
        t->scratch_cap = cap;
    }
    size_t n = 0;
    for (size_t k = 0; k < f->len; k++) {
        t->scratch[n++] = f->p[k];
        if (f->p[k] == '"') k++;  /* the second quote of a doubled pair */
    }
    t->scratch[n] = '\0';
    *s = t->scratch;
    *len = n;
    return VG_OK;
}

/* ---- values -------------------------------------------------------------- */

static int lower(char c)
{
    return c >= 'A' && c <= 'Z' ? c + 32 : c;
}

static int same_ci(const char *s, const char *word, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        if (lower(s[i]) != word[i]) return 0;
    }
    return 1;
}

/* "", "?", "NA", "NaN", "N/A", "null", any case. */
static int is_missing(const char *s, size_t len)
{
    switch (len) {
    case 0: return 1;
    case 1: return s[0] == '?';
    case 2: return same_ci(s, "na", 2);
    case 3: return same_ci(s, "nan", 3) || same_ci(s, "n/a", 3);
    case 4: return same_ci(s, "null", 4);
    default: return 0;
    }
}

/* A value made safe to quote in a one-line message: at most SHOWN_TEXT
 * characters, control bytes replaced. */
static void shown(const char *s, size_t len, char *out, size_t cap)
{
    size_t n = 0;
    for (size_t i = 0; i < len && n + 4 < cap; i++) {
        if (i == SHOWN_TEXT) {
            memcpy(out + n, "...", 3);
            n += 3;
            break;
        }
        unsigned char c = (unsigned char)s[i];
        out[n++] = c < 0x20 || c == 0x7f ? '?' : (char)c;
    }
    out[n] = '\0';
}

static void shown_name(const vg_table *t, size_t col, char *out, size_t cap)
{
    const char *nm = vg_table_name(t, col);
    shown(nm, strlen(nm), out, cap);
}

/* ---- delimiter and header detection ------------------------------------- */

/* The candidate that occurs the same, non-zero number of times (outside
 * quotes) on each of the first lines, the most frequent such one; else the
 * most frequent on line 1; else ','. */
static char detect_delimiter(const char *d, size_t len)
{
    static const char cand[4] = {',', ';', '\t', '|'};
    size_t counts[DELIM_SAMPLE_LINES][4];
    memset(counts, 0, sizeof counts);
    size_t limit = VG_MIN(len, (size_t)DELIM_SAMPLE_BYTES);
    int n = 0, inq = 0, content = 0;
    for (size_t i = 0; i < limit && n < DELIM_SAMPLE_LINES; i++) {
        char c = d[i];
        if (c == '"') {
            inq = !inq;
            content = 1;
        } else if (!inq && (c == '\n' || c == '\r')) {
            if (content) n++;
            content = 0;
        } else {
            content = 1;
            if (!inq) {
                for (int k = 0; k < 4; k++) counts[n][k] += c == cand[k];
            }
        }
    }
    if (content && limit == len && n < DELIM_SAMPLE_LINES) n++;  /* last line, no newline */
    if (n == 0) return ',';
    int best = -1;
    for (int k = 0; k < 4; k++) {
        if (!counts[0][k]) continue;
        int same = 1;
        for (int l = 1; l < n; l++) same &= counts[l][k] == counts[0][k];
        if (same && (best < 0 || counts[0][k] > counts[0][best])) best = k;
    }
    if (best >= 0) return cand[best];
    for (int k = 0; k < 4; k++) {
        if (counts[0][k] && (best < 0 || counts[0][k] > counts[0][best])) best = k;
    }
    return best >= 0 ? cand[best] : ',';
}

/* The fields of the current record, copied (one allocation: the pointer
 * array followed by the NUL-terminated strings). Caller frees. */
static vg_status copy_record(tokenizer *t, char ***out)
{
    size_t bytes = t->nf * sizeof(char *);
    for (size_t i = 0; i < t->nf; i++) bytes += t->f[i].len + 1;
    char **v = vg_malloc(bytes ? bytes : 1);
    if (!v) return vg_fail(VG_ERR_NOMEM, "%s: out of memory", t->name);
    char *s = (char *)(v + t->nf);
    for (size_t i = 0; i < t->nf; i++) {
        const char *txt;
        size_t len;
        vg_status st = field_text(t, i, &txt, &len);
        if (st != VG_OK) {
            vg_free(v);
            return st;
        }
        memcpy(s, txt, len);
        s[len] = '\0';
        v[i] = s;
        s += len + 1;
    }
    *out = v;
    return VG_OK;
}

static int is_number(const char *s, size_t len)
{
    double v;
    return vg_parse_number(s, len, &v);
}

/* Header detection. Line 1 is a header if each of its fields is non-empty
 * text (not a number, not a missing token) and either some column of line 2
 * holds a number, or, when line 2 is all text too, no value of line 1 turns
 * up again in its column in the next rows: category values repeat, names of
 * columns do not. The tokenizer is left where it was. */
static int detect_header(tokenizer *t, char **first, size_t n_first)
{
    for (size_t j = 0; j < n_first; j++) {
        size_t len = strlen(first[j]);
        if (is_missing(first[j], len) || is_number(first[j], len)) return 0;
    }
    size_t pos = t->pos;
    uint64_t line = t->line;
    int got, header = 1;
    for (int row = 0; row < HEADER_SAMPLE_ROWS; row++) {
        if (tok_next(t, &got) != VG_OK || !got) break;
        for (size_t j = 0; j < t->nf && j < n_first; j++) {
            const char *s;
            size_t len;
            if (field_text(t, j, &s, &len) != VG_OK) break;
            if (row == 0 && is_number(s, len)) {
                header = 2;  /* decided by the first rule */
                break;
            }
            if (len == strlen(first[j]) && memcmp(s, first[j], len) == 0) header = 0;
        }
        if (header != 1) break;  /* decided on line 2 */
    }
    t->pos = pos;
    t->line = line;
    return header != 0;
}

/* ---- the reader ---------------------------------------------------------- */

enum { K_NUM, K_NUM_FORCED, K_CAT, K_CAT_FORCED };

typedef struct colstate {
    int kind;
    size_t n_present, n_numeric;  /* K_CAT: values seen, and how many were numbers */
    uint64_t first_text_line;     /* K_CAT: where the first non-number was */
    char first_text[SHOWN_TEXT + 8];
} colstate;

typedef struct reader {
    tokenizer tok;
    vg_csv_options opt;
    const char *name;
    vg_table *t;
    colstate *cs;
    size_t ncols;
    size_t *offsets;  /* row -> offset of its record, for re-scans */
    size_t n_rows, cap_rows;
} reader;

static vg_status push_text(reader *r, size_t j, const char *s, size_t len)
{
    colstate *c = &r->cs[j];
    if (is_missing(s, len)) return vg_table_push_category(r->t, j, NULL, 0);
    if (c->kind == K_CAT) {
        c->n_present++;
        if (is_number(s, len)) {
            c->n_numeric++;
        } else if (!c->first_text_line) {
            c->first_text_line = r->tok.rec_line;
            shown(s, len, c->first_text, sizeof c->first_text);
        }
    }
    return vg_table_push_category(r->t, j, s, len);
}

/* Column j, numeric so far, met text in the current row: rebuild it as
 * categorical from the original text of rows 0..n_rows-1. */
static vg_status convert_column(reader *r, size_t j)
{
    vg_status st = vg_table_reset_column(r->t, j, VG_COLUMN_CATEGORICAL);
    if (st != VG_OK) return st;
    r->cs[j].kind = K_CAT;
    tokenizer rt = r->tok;  /* same text and settings, own buffers */
    rt.f = NULL;
    rt.scratch = NULL;
    rt.capf = rt.scratch_cap = 0;
    for (size_t i = 0; i < r->n_rows && st == VG_OK; i++) {
        int got;
        rt.pos = r->offsets[i];
        rt.line = vg_table_line(r->t, i);
        if ((st = tok_next(&rt, &got)) != VG_OK) break;
        VG_ASSERT(got && rt.nf == r->ncols);  /* the row was read before */
        const char *s;
        size_t len;
        if ((st = field_text(&rt, j, &s, &len)) != VG_OK) break;
        st = push_text(r, j, s, len);
    }
    tok_free(&rt);
    return st;
}

static vg_status read_row(reader *r)
{
    tokenizer *tk = &r->tok;
    if (r->n_rows == r->cap_rows) {
        size_t cap = r->cap_rows ? r->cap_rows + r->cap_rows / 2 : 1024;
        size_t *o = vg_realloc(r->offsets, cap * sizeof *o);
        if (!o) return vg_fail(VG_ERR_NOMEM, "%s: out of memory at line %llu", r->name,
                               (unsigned long long)tk->rec_line);
        r->offsets = o;
        r->cap_rows = cap;
    }
    vg_status st = vg_table_push_line(r->t, tk->rec_line);
    if (st != VG_OK) return st;
    for (size_t j = 0; j < r->ncols; j++) {
        colstate *c = &r->cs[j];
        const char *s;
        size_t len;
        if ((st = field_text(tk, j, &s, &len)) != VG_OK) return st;
        if (c->kind == K_NUM || c->kind == K_NUM_FORCED) {
            double v;
            if (vg_parse_number(s, len, &v)) {
                st = vg_table_push_number(r->t, j, v);
            } else if (is_missing(s, len)) {
                st = vg_table_push_number(r->t, j, NAN);
            } else if (c->kind == K_NUM_FORCED) {
                char txt[SHOWN_TEXT + 8], nm[SHOWN_TEXT + 8];
                shown(s, len, txt, sizeof txt);
                shown_name(r->t, j, nm, sizeof nm);
                return vg_fail(VG_ERR_PARSE, "%s:%llu: field '%s' (column %zu): '%s' is not a number",
                               r->name, (unsigned long long)tk->rec_line, nm, j + 1, txt);
            } else {
                if ((st = convert_column(r, j)) == VG_OK) st = push_text(r, j, s, len);
            }
        } else {
            st = push_text(r, j, s, len);
        }
        if (st != VG_OK) return st;
    }
    r->offsets[r->n_rows++] = tk->rec_start;
    return VG_OK;
}

/* A column inferred categorical whose values are nearly all numbers almost
 * surely holds a typo; reading it as categories would silently lose the
 * numbers, so say where the first non-number is. */
static vg_status check_mostly_numeric(reader *r)
{
    for (size_t j = 0; j < r->ncols; j++) {
        const colstate *c = &r->cs[j];
        if (c->kind != K_CAT || !c->n_present || c->n_numeric * 10 < c->n_present * 9) continue;
        char nm[SHOWN_TEXT + 8];
        shown_name(r->t, j, nm, sizeof nm);
        unsigned pct = (unsigned)((double)c->n_numeric * 100.0 / (double)c->n_present);
        return vg_fail(VG_ERR_PARSE,
                       "%s:%llu: field '%s': '%s' is not a number, but %u%% of the column is numeric "
                       "(use --categorical %s if it is a category)",
                       r->name, (unsigned long long)c->first_text_line, nm, c->first_text, pct, nm);
    }
    return VG_OK;
}

static int in_list(const char *name, const char *const *list, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (list[i] && strcmp(list[i], name) == 0) return 1;
    }
    return 0;
}

/* Columns and their kinds, from the header (names), opt->names or c1..cN. */
static vg_status make_columns(reader *r, char **header, uint64_t header_line)
{
    const vg_csv_options *o = &r->opt;
    size_t n = r->ncols;
    if (!header && o->names && o->n_names != n)
        return vg_fail(VG_ERR_INVALID, "%s: %zu column names given, but the data has %zu fields",
                       r->name, o->n_names, n);
    r->cs = vg_calloc(n, sizeof *r->cs);
    if (!r->cs) return vg_fail(VG_ERR_NOMEM, "%s: out of memory", r->name);
    for (size_t j = 0; j < n; j++) {
        char gen[32];
        snprintf(gen, sizeof gen, "c%zu", j + 1);
        const char *nm = header ? header[j] : o->names ? o->names[j] : gen;
        if (!nm || !*nm) nm = gen;
        long dup = vg_table_find(r->t, nm);
        if (dup >= 0) {
            char txt[SHOWN_TEXT + 8];
            shown(nm, strlen(nm), txt, sizeof txt);
            if (header)
                return vg_fail(VG_ERR_PARSE, "%s:%llu: duplicate column name '%s' (columns %ld and %zu)",
                               r->name, (unsigned long long)header_line, txt, dup + 1, j + 1);
            return vg_fail(VG_ERR_INVALID, "%s: duplicate column name '%s' (columns %ld and %zu)",
                           r->name, txt, dup + 1, j + 1);
        }
        int cat = in_list(nm, o->categorical, o->n_categorical);
        int num = in_list(nm, o->numeric, o->n_numeric);
        if (cat && num)
            return vg_fail(VG_ERR_INVALID, "%s: column '%s' is forced both categorical and numeric", r->name, nm);
        r->cs[j].kind = cat ? K_CAT_FORCED : num ? K_NUM_FORCED : K_NUM;
        vg_status st = vg_table_add_column(r->t, nm, cat ? VG_COLUMN_CATEGORICAL : VG_COLUMN_NUMERIC, NULL);
        if (st != VG_OK) return st;
    }
    for (size_t i = 0; i < o->n_categorical && !o->forced_may_be_absent; i++) {
        if (o->categorical[i] && vg_table_find(r->t, o->categorical[i]) < 0)
            return vg_fail(VG_ERR_INVALID, "%s: no column named '%s' (asked to read it as categorical)",
                           r->name, o->categorical[i]);
    }
    for (size_t i = 0; i < o->n_numeric && !o->forced_may_be_absent; i++) {
        if (o->numeric[i] && vg_table_find(r->t, o->numeric[i]) < 0)
            return vg_fail(VG_ERR_INVALID, "%s: no column named '%s' (asked to read it as numeric)",
                           r->name, o->numeric[i]);
    }
    return VG_OK;
}

static vg_status check_options(const vg_csv_options *o, const char *name)
{
    char d = o->delimiter;
    if (d == '"' || d == '\n' || d == '\r')
        return vg_fail(VG_ERR_INVALID, "%s: the delimiter cannot be a quote or a line break", name);
    if (o->header < -1 || o->header > 1)
        return vg_fail(VG_ERR_INVALID, "%s: header must be 1, 0 or -1 (detect), not %d", name, o->header);
    return VG_OK;
}

/* The line of the first NUL byte: a CSV never holds one, a binary file
 * almost always does. */
static vg_status check_binary(const char *d, size_t len, const char *name)
{
    const char *z = memchr(d, '\0', len);
    if (!z) return VG_OK;
    unsigned long long line = 1;
    for (const char *p = d; p < z; p++) line += *p == '\n';
    return vg_fail(VG_ERR_PARSE, "%s:%llu: binary data (a NUL byte at offset %zu); not a text CSV file",
                   name, line, (size_t)(z - d));
}

/* Reserve room for the rows the first ones suggest (mean length of up to
 * RESERVE_SAMPLE_ROWS records), so the columns rarely regrow; a guess from
 * the first row alone can be off many times over when it is short. The
 * tokenizer is left where it was. */
static vg_status reserve_rows(reader *r, size_t len)
{
    tokenizer *tk = &r->tok;
    size_t pos = tk->pos;
    uint64_t line = tk->line;
    size_t n = 0;
    int got;
    while (n < RESERVE_SAMPLE_ROWS && tok_next(tk, &got) == VG_OK && got) n++;
    size_t sampled = tk->pos - pos;
    tk->pos = pos;
    tk->line = line;
    if (n == 0) return VG_OK;
    size_t rest = len - pos;
    size_t est = n == RESERVE_SAMPLE_ROWS ? (size_t)((double)rest / ((double)sampled / (double)n) * 1.05) + 16 : n;
    est = VG_MIN(est, rest / r->ncols + 1);  /* a row holds at least a byte per column */
    if (r->opt.max_rows) est = VG_MIN(est, r->opt.max_rows);
    size_t *o = vg_malloc(est * sizeof *o);
    if (!o) return vg_fail(VG_ERR_NOMEM, "%s: out of memory reserving %zu rows", r->name, est);
    r->offsets = o;
    r->cap_rows = est;
    return vg_table_reserve(r->t, est);
}

static vg_status parse_text(reader *r, const char *data, size_t len)
{
    vg_status st = check_binary(data, len, r->name);
    if (st != VG_OK) return st;
    if (len >= 3 && memcmp(data, "\xEF\xBB\xBF", 3) == 0) {  /* UTF-8 byte order mark */
        data += 3;
        len -= 3;
    }
    const vg_csv_options *o = &r->opt;
    char delim = o->delimiter ? o->delimiter : detect_delimiter(data, len);
    tok_init(&r->tok, data, len, r->name, delim, o->max_line_bytes, o->max_columns);
    tokenizer *tk = &r->tok;

    int got;
    if ((st = tok_next(tk, &got)) != VG_OK) return st;
    if (!got) return vg_fail(VG_ERR_PARSE, "%s: no data rows", r->name);
    r->ncols = tk->nf;
    uint64_t header_line = tk->rec_line;
    size_t first_start = tk->rec_start;
    char **first = NULL;
    if ((st = copy_record(tk, &first)) != VG_OK) return st;
    int header = o->header;
    if (header < 0) header = detect_header(tk, first, r->ncols);
    if (!header) {
        tk->pos = first_start;  /* line 1 is data: read it again */
        tk->line = header_line;
    }
    st = make_columns(r, header ? first : NULL, header_line);
    vg_free(first);
    if (st != VG_OK) return st;

    if ((st = reserve_rows(r, len)) != VG_OK) return st;
    if ((st = tok_next(tk, &got)) != VG_OK) return st;
    while (got) {
        if (tk->nf != r->ncols)
            return vg_fail(VG_ERR_PARSE, "%s:%llu: expected %zu fields, found %zu", r->name,
                           (unsigned long long)tk->rec_line, r->ncols, tk->nf);
        if ((st = read_row(r)) != VG_OK) return st;
        if (o->max_rows && r->n_rows >= o->max_rows) break;
        if ((st = tok_next(tk, &got)) != VG_OK) return st;
    }
    if (r->n_rows == 0) return vg_fail(VG_ERR_PARSE, "%s: no data rows", r->name);
    return check_mostly_numeric(r);
}

static vg_status read_text(const char *data, size_t len, const char *name,
                           const vg_csv_options *opt, vg_table **out)
{
    reader r;
    memset(&r, 0, sizeof r);
    r.opt = opt ? *opt : vg_csv_options_default();
    vg_csv_options def = vg_csv_options_default();
    if (!r.opt.max_line_bytes) r.opt.max_line_bytes = def.max_line_bytes;
    if (!r.opt.max_columns) r.opt.max_columns = def.max_columns;
    r.name = name;
    vg_status st = check_options(&r.opt, name);
    if (st != VG_OK) return st;
    r.t = vg_table_new(name);
    if (!r.t) return vg_fail(VG_ERR_NOMEM, "%s: out of memory", name);
    st = parse_text(&r, data, len);
    tok_free(&r.tok);
    vg_free(r.cs);
    vg_free(r.offsets);
    if (st != VG_OK) {
        vg_table_free(r.t);
        return st;
    }
    vg_table_set_checksum(r.t, vg_hash(data, len, 0));
    *out = r.t;
    return VG_OK;
}

vg_status vg_csv_read_memory(const void *data, size_t len, const char *name,
                             const vg_csv_options *opt, vg_table **out)
{
    VG_ASSERT(out && (data || len == 0));
    *out = NULL;
    if (!name) name = "<memory>";
    if (!vg_is_gzip(data, len)) return read_text(data, len, name, opt, out);
    char *text = NULL;
    size_t n = 0;
    vg_status st = vg_gunzip(data, len, name, 0, &text, &n);
    if (st != VG_OK) return st;
    st = read_text(text, n, name, opt, out);
    vg_free(text);
    return st;
}

vg_status vg_csv_read(const char *path, const vg_csv_options *opt, vg_table **out)
{
    VG_ASSERT(path && out);
    *out = NULL;
    char *text = NULL;
    size_t n = 0;
    vg_status st = vg_file_read_all(path, 0, &text, &n);
    if (st != VG_OK) return st;
    st = read_text(text, n, strcmp(path, "-") == 0 ? "<stdin>" : path, opt, out);
    vg_free(text);
    return st;
}
