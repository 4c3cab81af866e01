/* NSL-KDD / KDD Cup 99 records: the CSV reader with the format's fixed
 * schema (names, which columns are categories, which must be numbers), the
 * KDD'99 trailing dot stripped from labels, and the attack taxonomy. A file
 * without labels (41 fields: records to score) is read as well as a labelled
 * one, as `vigil watch` reads such lines one at a time. */
#include "vigil/kdd.h"
#include "vigil/format_row.h"
#include "vigil/csv.h"
#include "io/file_read.h"

#include <string.h>

static const char *const feature_names[VG_KDD_N_FEATURES] = {
    "duration", "protocol_type", "service", "flag", "src_bytes", "dst_bytes",
    "land", "wrong_fragment", "urgent", "hot", "num_failed_logins", "logged_in",
    "num_compromised", "root_shell", "su_attempted", "num_root",
    "num_file_creations", "num_shells", "num_access_files", "num_outbound_cmds",
    "is_host_login", "is_guest_login", "count", "srv_count", "serror_rate",
    "srv_serror_rate", "rerror_rate", "srv_rerror_rate", "same_srv_rate",
    "diff_srv_rate", "srv_diff_host_rate", "dst_host_count", "dst_host_srv_count",
    "dst_host_same_srv_rate", "dst_host_diff_srv_rate",
    "dst_host_same_src_port_rate", "dst_host_srv_diff_host_rate",
    "dst_host_serror_rate", "dst_host_srv_serror_rate", "dst_host_rerror_rate",
    "dst_host_srv_rerror_rate",
};

/* attack -> category, as in ../shared/data/nsl-kdd/attack_categories.csv
 * (the usual DARPA 1998/99 taxonomy; test-only attacks as that file maps them). */
static const char *const taxonomy[][2] = {
    {"normal", "normal"},
    {"back", "DoS"}, {"land", "DoS"}, {"neptune", "DoS"}, {"pod", "DoS"},
    {"smurf", "DoS"}, {"teardrop", "DoS"}, {"apache2", "DoS"}, {"mailbomb", "DoS"},
    {"processtable", "DoS"}, {"udpstorm", "DoS"}, {"worm", "DoS"},
    {"ipsweep", "Probe"}, {"nmap", "Probe"}, {"portsweep", "Probe"}, {"satan", "Probe"},
    {"mscan", "Probe"}, {"saint", "Probe"},
    {"ftp_write", "R2L"}, {"guess_passwd", "R2L"}, {"imap", "R2L"}, {"multihop", "R2L"},
    {"phf", "R2L"}, {"spy", "R2L"}, {"warezclient", "R2L"}, {"warezmaster", "R2L"},
    {"httptunnel", "R2L"}, {"named", "R2L"}, {"sendmail", "R2L"}, {"snmpgetattack", "R2L"},
    {"snmpguess", "R2L"}, {"xlock", "R2L"}, {"xsnoop", "R2L"},
    {"buffer_overflow", "U2R"}, {"loadmodule", "U2R"}, {"perl", "U2R"}, {"rootkit", "U2R"},
    {"ps", "U2R"}, {"sqlattack", "U2R"}, {"xterm", "U2R"},
};

const char *const *vg_kdd_feature_names(void)
{
    return feature_names;
}

int vg_kdd_feature_is_categorical(size_t i)
{
    return i >= 1 && i <= 3;
}

const char *vg_kdd_category(const char *label)
{
    if (!label) return NULL;
    size_t len = strlen(label);
    if (len && label[len - 1] == '.') len--;  /* KDD'99 spelling */
    for (size_t i = 0; i < sizeof taxonomy / sizeof taxonomy[0]; i++) {
        if (strlen(taxonomy[i][0]) == len && memcmp(taxonomy[i][0], label, len) == 0) return taxonomy[i][1];
    }
    return NULL;
}

static const char *strip_dot(const char *s, void *user, char *scratch, size_t scratch_len)
{
    (void)user;
    size_t len = strlen(s);
    if (!len || s[len - 1] != '.' || len > scratch_len) return s;
    memcpy(scratch, s, len - 1);
    scratch[len - 1] = '\0';
    return scratch;
}

/* Fields on the first non-blank line (the format has no quoting), and that
 * line's number. */
static size_t first_line_fields(const char *d, size_t len, unsigned long long *line)
{
    size_t i = 0;
    *line = 1;
    while (i < len && (d[i] == '\n' || d[i] == '\r')) {
        if (d[i] == '\r' && i + 1 < len && d[i + 1] == '\n') i++;
        i++;
        (*line)++;
    }
    if (i == len) return 0;
    size_t n = 1;
    for (; i < len && d[i] != '\n' && d[i] != '\r'; i++) n += d[i] == ',';
    return n;
}

static vg_status read_text(const char *text, size_t len, const char *name, vg_table **out)
{
    unsigned long long line;
    size_t nf = first_line_fields(text, len, &line);
    if (nf == 0) return vg_fail(VG_ERR_PARSE, "%s: no data rows", name);
    if (nf < VG_KDD_N_FEATURES || nf > VG_KDD_N_FEATURES + 2)
        return vg_fail(VG_ERR_PARSE,
                       "%s:%llu: expected 41 fields (the features, unlabelled), 42 (KDD'99: and the label) "
                       "or 43 (NSL-KDD: and the difficulty), found %zu",
                       name, line, nf);

    const char *names[VG_KDD_N_FEATURES + 2];
    const char *numeric[VG_KDD_N_FEATURES + 2];
    const char *categorical[4];
    size_t n_num = 0, n_cat = 0;
    for (size_t i = 0; i < VG_KDD_N_FEATURES; i++) {
        names[i] = feature_names[i];
        if (vg_kdd_feature_is_categorical(i))
            categorical[n_cat++] = feature_names[i];
        else
            numeric[n_num++] = feature_names[i];
    }
    if (nf > VG_KDD_N_FEATURES) {
        names[VG_KDD_N_FEATURES] = VG_KDD_LABEL;
        categorical[n_cat++] = VG_KDD_LABEL;
    }
    if (nf == VG_KDD_N_FEATURES + 2) {
        names[VG_KDD_N_FEATURES + 1] = VG_KDD_DIFFICULTY;
        numeric[n_num++] = VG_KDD_DIFFICULTY;
    }

    vg_csv_options opt = vg_csv_options_default();
    opt.delimiter = ',';
    opt.header = 0;
    opt.names = names;
    opt.n_names = nf;
    opt.categorical = categorical;
    opt.n_categorical = n_cat;
    opt.numeric = numeric;
    opt.n_numeric = n_num;
    vg_table *t;
    vg_status st = vg_csv_read_memory(text, len, name, &opt, &t);
    if (st != VG_OK) return st;
    if (nf > VG_KDD_N_FEATURES) st = vg_table_map_categories(t, VG_KDD_N_FEATURES, strip_dot, NULL);
    if (st != VG_OK) {
        vg_table_free(t);
        return st;
    }
    *out = t;
    return VG_OK;
}

vg_status vg_kdd_read_memory(const void *data, size_t len, const char *name, vg_table **out)
{
    VG_ASSERT(out && (data || len == 0));
    *out = NULL;
    if (!name) name = "<memory>";
    if (!vg_is_gzip(data, len)) return read_text(data, len, name, out);
    char *text = NULL;
    size_t n = 0;
    vg_status st = vg_gunzip(data, len, name, 0, &text, &n);
    if (st != VG_OK) return st;
    st = read_text(text, n, name, out);
    vg_free(text);
    return st;
}

vg_status vg_kdd_read(const char *path, vg_table **out)
{
    VG_ASSERT(path && out);
    *out = NULL;
    char *text = NULL;
    size_t n = 0;
    vg_status st = vg_file_read_all(path, 0, &text, &n);
    if (st != VG_OK) return st;
    st = read_text(text, n, strcmp(path, "-") == 0 ? "<stdin>" : path, out);
    vg_free(text);
    return st;
}

/* ---- the registry row: a KDD record per line for streaming ---------------- */

static vg_status kdd_lines_new(const vg_format *f, const vg_logfmt_options *opt, const char *label_column, void **state)
{
    (void)f, (void)opt, (void)label_column;
    *state = vg_calloc(VG_KDD_N_FEATURES, sizeof(vg_field));
    return *state ? VG_OK : vg_fail(VG_ERR_NOMEM, "out of memory");
}

static void kdd_lines_free(void *state) { vg_free(state); }

static vg_status kdd_lines_process(void *state, uint32_t source, uint64_t line_no, const char *line, size_t len,
                                   vg_logfmt_event *out)
{
    (void)source, (void)line_no;
    vg_field *fields = state;
    memset(out, 0, sizeof *out);
    /* Binary garbage never makes a valid record, though its fields would
     * pass as odd text. */
    if (vg_find_control(line, len) < len) return vg_fail(VG_ERR_PARSE, "binary data (control bytes) in the line");
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
        vg_field *f = &fields[i];
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
    out->fields = fields;
    out->n_fields = VG_KDD_N_FEATURES;
    out->entity = cell[2];       /* service: something for `vigil ship` to spread lines over shards with */
    out->entity_len = cell_len[2];
    if (n > VG_KDD_N_FEATURES && cell_len[VG_KDD_N_FEATURES]) {
        out->label = cell[VG_KDD_N_FEATURES];
        out->label_len = cell_len[VG_KDD_N_FEATURES];
        if (out->label[out->label_len - 1] == '.') out->label_len--;  /* KDD'99 spelling */
    }
    return VG_OK;
}

static vg_status kdd_read(const vg_format *f, const char *path, const vg_format_read_params *p, vg_table **out)
{
    (void)f, (void)p;  /* the schema is fixed */
    return vg_kdd_read(path, out);
}

static const char *const kdd_truth[] = { VG_KDD_LABEL, VG_KDD_DIFFICULTY, NULL };

const vg_format vg_format_kdd = {
    .name = "kdd",
    .summary = "NSL-KDD / KDD Cup 99 records: 41 features, then the label and NSL-KDD's difficulty",
    .read = kdd_read,
    .lines_new = kdd_lines_new,
    .lines_free = kdd_lines_free,
    .lines_process = kdd_lines_process,
    .kdd_labels = 1,
    .default_label = VG_KDD_LABEL,
    .truth_columns = kdd_truth,
};
