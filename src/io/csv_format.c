/* The csv format: any CSV file with a header, column types inferred from
 * the text (a model forces the types it was fitted with). Whole files are
 * read by the CSV reader (csv.c); for streaming, each line is one record and
 * line 1 of every input its header of column names, kept per input. No
 * entity. */
#include "vigil/csv.h"
#include "vigil/format_row.h"

#include <string.h>
#include <strings.h>

#define CSV_MAX_COLUMNS 4096
#define CSV_MAX_SOURCES 4096

/* A CSV header: the names, one allocation. */
typedef struct csv_header {
    char *names;          /* NUL-separated */
    const char **name;    /* n pointers into names */
    size_t *name_len;
    size_t n;
    long label;           /* column of the label, -1 */
} csv_header;

typedef struct csv_lines {
    char *label_column;
    vg_field *fields;     /* CSV_MAX_COLUMNS */
    csv_header *headers;  /* per source */
    size_t n_headers;
    char *scratch;        /* unquoted cell text, max_line_bytes */
    size_t *cell_off, *cell_len;
} csv_lines;

static void header_clear(csv_header *h)
{
    vg_free(h->names);
    vg_free(h->name);
    vg_free(h->name_len);
    memset(h, 0, sizeof *h);
}

static void csv_lines_free(void *state)
{
    csv_lines *a = state;
    if (!a) return;
    for (size_t i = 0; i < a->n_headers; i++) header_clear(&a->headers[i]);
    vg_free(a->headers);
    vg_free(a->fields);
    vg_free(a->scratch);
    vg_free(a->cell_off);
    vg_free(a->cell_len);
    vg_free(a->label_column);
    vg_free(a);
}

static vg_status csv_lines_new(const vg_format *f, const vg_logfmt_options *opt, const char *label_column, void **state)
{
    (void)f;
    *state = NULL;
    csv_lines *a = vg_calloc(1, sizeof *a);
    if (!a) return vg_fail(VG_ERR_NOMEM, "out of memory");
    a->fields = vg_calloc(CSV_MAX_COLUMNS, sizeof *a->fields);
    a->scratch = vg_malloc(opt->max_line_bytes + 1);
    a->cell_off = vg_malloc(CSV_MAX_COLUMNS * sizeof *a->cell_off);
    a->cell_len = vg_malloc(CSV_MAX_COLUMNS * sizeof *a->cell_len);
    if (!a->fields || !a->scratch || !a->cell_off || !a->cell_len ||
        (label_column && !(a->label_column = vg_strdup(label_column)))) {
        csv_lines_free(a);
        return vg_fail(VG_ERR_NOMEM, "out of memory");
    }
    *state = a;
    return VG_OK;
}

/* Split one CSV line (RFC 4180 quoting inside the line; a quoted newline
 * cannot arrive through a line follower, so an open quote at the end is an
 * error) into cells whose text lands in a->scratch. */
static vg_status csv_split(csv_lines *a, const char *line, size_t len, size_t *n_cells)
{
    size_t n = 0, w = 0, i = 0;
    for (;;) {
        if (n == CSV_MAX_COLUMNS) return vg_fail(VG_ERR_LIMIT, "more than %d columns", CSV_MAX_COLUMNS);
        a->cell_off[n] = w;
        if (i < len && line[i] == '"') {
            i++;
            for (;;) {
                if (i >= len) return vg_fail(VG_ERR_PARSE, "column %zu: unterminated quote", n + 1);
                if (line[i] == '"') {
                    if (i + 1 < len && line[i + 1] == '"') {
                        a->scratch[w++] = '"';
                        i += 2;
                        continue;
                    }
                    i++;
                    break;
                }
                a->scratch[w++] = line[i++];
            }
            if (i < len && line[i] != ',')
                return vg_fail(VG_ERR_PARSE, "column %zu: text after a closing quote", n + 1);
        } else {
            while (i < len && line[i] != ',') {
                if (line[i] == '"') return vg_fail(VG_ERR_PARSE, "column %zu: quote inside an unquoted field", n + 1);
                a->scratch[w++] = line[i++];
            }
        }
        a->cell_len[n] = w - a->cell_off[n];
        n++;
        if (i >= len) break;
        i++;  /* the comma */
        if (i == len) {  /* trailing comma: one more empty cell */
            a->cell_off[n] = w;
            a->cell_len[n++] = 0;
            break;
        }
    }
    *n_cells = n;
    return VG_OK;
}

static int is_missing(const char *s, size_t n)
{
    static const char *const words[] = { "?", "NA", "NaN", "N/A", "null" };
    if (n == 0) return 1;
    for (size_t i = 0; i < sizeof words / sizeof *words; i++)
        if (strlen(words[i]) == n && strncasecmp(words[i], s, n) == 0) return 1;
    return 0;
}

static vg_status csv_set_header(csv_lines *a, csv_header *h, size_t n)
{
    header_clear(h);
    size_t bytes = 0;
    for (size_t i = 0; i < n; i++) bytes += a->cell_len[i] + 1;
    h->names = vg_malloc(bytes ? bytes : 1);
    h->name = vg_malloc(n * sizeof *h->name);
    h->name_len = vg_malloc(n * sizeof *h->name_len);
    if (!h->names || !h->name || !h->name_len) {
        header_clear(h);
        return vg_fail(VG_ERR_NOMEM, "out of memory");
    }
    size_t w = 0;
    h->label = -1;
    for (size_t i = 0; i < n; i++) {
        memcpy(h->names + w, a->scratch + a->cell_off[i], a->cell_len[i]);
        h->names[w + a->cell_len[i]] = '\0';
        h->name[i] = h->names + w;
        h->name_len[i] = a->cell_len[i];
        if (a->label_column && strcmp(h->name[i], a->label_column) == 0) h->label = (long)i;
        w += a->cell_len[i] + 1;
    }
    h->n = n;
    return VG_OK;
}

static vg_status csv_lines_process(void *state, uint32_t source, uint64_t line_no, const char *line, size_t len,
                                   vg_logfmt_event *out)
{
    csv_lines *a = state;
    memset(out, 0, sizeof *out);
    /* Binary garbage never makes a valid record, though its fields would
     * pass as odd text. */
    if (vg_find_control(line, len) < len) return vg_fail(VG_ERR_PARSE, "binary data (control bytes) in the line");
    if (source >= CSV_MAX_SOURCES) return vg_fail(VG_ERR_LIMIT, "more than %d csv sources", CSV_MAX_SOURCES);
    if (source >= a->n_headers) {
        csv_header *h = vg_realloc(a->headers, (source + 1) * sizeof *h);
        if (!h) return vg_fail(VG_ERR_NOMEM, "out of memory");
        memset(h + a->n_headers, 0, (source + 1 - a->n_headers) * sizeof *h);
        a->headers = h;
        a->n_headers = source + 1;
    }
    csv_header *h = &a->headers[source];
    size_t n = 0;
    vg_status st = csv_split(a, line, len, &n);
    if (st) return st;
    memset(out, 0, sizeof *out);
    if (line_no == 1) return csv_set_header(a, h, n);   /* n_fields = 0: skip */
    if (!h->n) return vg_fail(VG_ERR_PARSE, "no header line seen for this input");
    if (n != h->n) return vg_fail(VG_ERR_PARSE, "%zu fields, the header has %zu", n, h->n);
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        const char *s = a->scratch + a->cell_off[i];
        size_t sl = a->cell_len[i];
        if ((long)i == h->label) {
            out->label = s;
            out->label_len = sl;
            continue;
        }
        vg_field *f = &a->fields[k++];
        f->name = h->name[i];
        f->name_len = h->name_len[i];
        f->text = s;
        f->text_len = sl;
        if (is_missing(s, sl)) f->kind = VG_FIELD_NULL;
        else if (vg_parse_number(s, sl, &f->number)) f->kind = VG_FIELD_NUMBER;
        else f->kind = VG_FIELD_TEXT;
    }
    out->fields = a->fields;
    out->n_fields = k;
    return VG_OK;
}

static vg_status csv_read(const vg_format *f, const char *path, const vg_format_read_params *p, vg_table **out)
{
    (void)f;
    vg_csv_options opt = vg_csv_options_default();
    opt.delimiter = p->delimiter;
    opt.categorical = p->categorical;
    opt.n_categorical = p->n_categorical;
    opt.numeric = p->numeric;
    opt.n_numeric = p->n_numeric;
    opt.forced_may_be_absent = p->forced_may_be_absent;
    return vg_csv_read(path, &opt, out);
}

const vg_format vg_format_csv = {
    .name = "csv",
    .summary = "any CSV file (plain or .gz, header optional, , ; TAB or |); column types inferred",
    .read = csv_read,
    .lines_new = csv_lines_new,
    .lines_free = csv_lines_free,
    .lines_process = csv_lines_process,
    .infers_types = 1,
    .needs_header = 1,
};
