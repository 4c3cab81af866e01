/* Line adapters: one line of a KDD record, a CSV line or a log format's line
 * turned into a feature record (vg_logfmt_event), so `vigil watch` serves
 * tabular models as well as log models. Kept out of the log-format registry
 * on purpose: vg_data_read must keep reading CSV and KDD files as tables. */
#include "vigil/line_adapter.h"
#include "vigil/csv.h"
#include "vigil/kdd.h"

#include <string.h>
#include <strings.h>

#define CSV_MAX_COLUMNS 4096
#define CSV_MAX_SOURCES 4096

typedef enum { ADAPT_KDD, ADAPT_CSV, ADAPT_LOG } adapt_kind;

/* A CSV header: the names, one allocation. */
typedef struct csv_header {
    char *names;          /* NUL-separated */
    const char **name;    /* n pointers into names */
    size_t *name_len;
    size_t n;
    long label;           /* column of the label, -1 */
} csv_header;

struct vg_line_adapter {
    adapt_kind kind;
    char *format;
    char *label_column;
    vg_logfmt_options opt;
    const vg_logfmt *log;
    void *log_state;
    vg_field *fields;     /* kdd: 41; csv: CSV_MAX_COLUMNS */
    /* csv */
    csv_header *headers;  /* per source */
    size_t n_headers;
    char *scratch;        /* unquoted cell text, max_line_bytes */
    size_t *cell_off, *cell_len;
};

vg_status vg_line_adapter_new(const char *format, const char *label_column, const vg_logfmt_options *opt,
                              vg_line_adapter **out)
{
    *out = NULL;
    if (!format) return vg_fail(VG_ERR_INVALID, "no format given");
    vg_line_adapter *a = vg_calloc(1, sizeof *a);
    if (!a) return vg_fail(VG_ERR_NOMEM, "out of memory");
    a->opt = opt ? *opt : vg_logfmt_options_default();
    if (!a->opt.max_line_bytes) a->opt.max_line_bytes = 65536;
    a->format = vg_strdup(format);
    if (!a->format) goto nomem;
    if (label_column && !(a->label_column = vg_strdup(label_column))) goto nomem;
    if (strcmp(format, "kdd") == 0) {
        a->kind = ADAPT_KDD;
        if (!(a->fields = vg_calloc(VG_KDD_N_FEATURES, sizeof *a->fields))) goto nomem;
    } else if (strcmp(format, "csv") == 0) {
        a->kind = ADAPT_CSV;
        a->fields = vg_calloc(CSV_MAX_COLUMNS, sizeof *a->fields);
        a->scratch = vg_malloc(a->opt.max_line_bytes + 1);
        a->cell_off = vg_malloc(CSV_MAX_COLUMNS * sizeof *a->cell_off);
        a->cell_len = vg_malloc(CSV_MAX_COLUMNS * sizeof *a->cell_len);
        if (!a->fields || !a->scratch || !a->cell_off || !a->cell_len) goto nomem;
    } else if ((a->log = vg_logfmt_find(format))) {
        a->kind = ADAPT_LOG;
        vg_status st = a->log->state_new(&a->opt, &a->log_state);
        if (st) {
            vg_line_adapter_free(a);
            return st;
        }
    } else {
        vg_line_adapter_free(a);
        return vg_fail(VG_ERR_INVALID, "format '%s' is not one of kdd, csv or a log format", format);
    }
    *out = a;
    return VG_OK;
nomem:
    vg_line_adapter_free(a);
    return vg_fail(VG_ERR_NOMEM, "out of memory");
}

static void header_clear(csv_header *h)
{
    vg_free(h->names);
    vg_free(h->name);
    vg_free(h->name_len);
    memset(h, 0, sizeof *h);
}

void vg_line_adapter_free(vg_line_adapter *a)
{
    if (!a) return;
    if (a->log && a->log_state) a->log->state_free(a->log_state);
    for (size_t i = 0; i < a->n_headers; i++) header_clear(&a->headers[i]);
    vg_free(a->headers);
    vg_free(a->fields);
    vg_free(a->scratch);
    vg_free(a->cell_off);
    vg_free(a->cell_len);
    vg_free(a->label_column);
    vg_free(a->format);
    vg_free(a);
}

const char *vg_line_adapter_format(const vg_line_adapter *a) { return a->format; }
int vg_line_adapter_needs_header(const vg_line_adapter *a) { return a->kind == ADAPT_CSV; }

vg_logfmt_state_stats vg_line_adapter_state_stats(const vg_line_adapter *a)
{
    vg_logfmt_state_stats st = { 0 };
    if (a->kind == ADAPT_LOG) a->log->state_stats(a->log_state, &st);
    return st;
}

/* ---- kdd ------------------------------------------------------------------ */

static vg_status kdd_process(vg_line_adapter *a, const char *line, size_t len, vg_logfmt_event *out)
{
    const char *const *names = vg_kdd_feature_names();
    const char *cell[44];
    size_t cell_len[44], n = 0;
    const char *p = line, *end = line + len;
    for (;;) {
        const char *c = memchr(p, ',', (size_t)(end - p));
        const char *stop = c ? c : end;
        if (n == 44) return vg_fail(VG_ERR_PARSE, "more than 43 fields (a KDD record has 41 features, label, difficulty)");
        cell[n] = p;
        cell_len[n++] = (size_t)(stop - p);
        if (!c) break;
        p = c + 1;
    }
    if (n < VG_KDD_N_FEATURES || n > VG_KDD_N_FEATURES + 2)
        return vg_fail(VG_ERR_PARSE, "%zu fields, a KDD record has 41 features then label and difficulty", n);
    for (size_t i = 0; i < VG_KDD_N_FEATURES; i++) {
        vg_field *f = &a->fields[i];
        f->name = names[i];
        f->name_len = strlen(names[i]);
        if (vg_kdd_feature_is_categorical(i)) {
            f->kind = cell_len[i] ? VG_FIELD_TEXT : VG_FIELD_NULL;
            f->text = cell[i];
            f->text_len = cell_len[i];
        } else if (cell_len[i] == 1 && cell[i][0] == '?') {
            f->kind = VG_FIELD_NULL;
        } else {
            f->kind = VG_FIELD_NUMBER;
            if (!vg_parse_number(cell[i], cell_len[i], &f->number))
                return vg_fail(VG_ERR_PARSE, "field %zu (%s): '%.*s' is not a number", i + 1, names[i],
                               (int)VG_MIN(cell_len[i], 40), cell[i]);
        }
    }
    memset(out, 0, sizeof *out);
    out->fields = a->fields;
    out->n_fields = VG_KDD_N_FEATURES;
    out->entity = cell[2];       /* service: see line_adapter.h */
    out->entity_len = cell_len[2];
    if (n > VG_KDD_N_FEATURES && cell_len[VG_KDD_N_FEATURES]) {
        out->label = cell[VG_KDD_N_FEATURES];
        out->label_len = cell_len[VG_KDD_N_FEATURES];
        if (out->label[out->label_len - 1] == '.') out->label_len--;  /* KDD'99 spelling */
    }
    return VG_OK;
}

/* ---- csv ------------------------------------------------------------------- */

/* Split one CSV line (RFC 4180 quoting inside the line; a quoted newline
 * cannot arrive through a line follower, so an open quote at the end is an
 * error) into cells whose text lands in a->scratch. */
static vg_status csv_split(vg_line_adapter *a, const char *line, size_t len, size_t *n_cells)
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

static vg_status csv_set_header(vg_line_adapter *a, csv_header *h, size_t n)
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

static vg_status csv_process(vg_line_adapter *a, uint32_t source, uint64_t line_no, const char *line, size_t len,
                             vg_logfmt_event *out)
{
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

vg_status vg_line_adapter_process(vg_line_adapter *a, uint32_t source, uint64_t line_no, const char *line, size_t len,
                                  vg_logfmt_event *out)
{
    memset(out, 0, sizeof *out);
    if (len > a->opt.max_line_bytes)
        return vg_fail(VG_ERR_LIMIT, "line of %zu bytes is longer than the limit of %zu", len, a->opt.max_line_bytes);
    /* Binary garbage never makes a valid record: one clear message for kdd
     * and csv, whose fields would otherwise pass as odd text. The log
     * formats refuse control bytes themselves, naming the column or field,
     * so their lines are not scanned twice. */
    if (a->kind != ADAPT_LOG && vg_find_control(line, len) < len)
        return vg_fail(VG_ERR_PARSE, "binary data (control bytes) in the line");
    switch (a->kind) {
    case ADAPT_KDD: return kdd_process(a, line, len, out);
    case ADAPT_CSV: return csv_process(a, source, line_no, line, len, out);
    case ADAPT_LOG: return a->log->process(a->log_state, line, len, out);
    }
    return vg_fail(VG_ERR_INVALID, "bad adapter");
}
