/* Argument helpers, shared data options, errors and progress for the CLI. */
#include "cli.h"
#include "vigil/format.h"
#include "vigil/labels.h"

#include <errno.h>
#include <libgen.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Every item is the list's own copy, so lists built from argv, from split
 * values or from other lists are all freed the same way. */
static void add_copy(cli_list *l, const char *s, size_t len)
{
    char *copy = strndup(s, len);
    if (!copy) {
        fprintf(stderr, "vigil: out of memory\n");
        exit(VG_EXIT_ERROR);
    }
    if (l->n == l->cap) {
        l->cap = l->cap ? l->cap * 2 : 8;
        const char **items = realloc(l->items, l->cap * sizeof *items);
        if (!items) {
            fprintf(stderr, "vigil: out of memory\n");
            exit(VG_EXIT_ERROR);
        }
        l->items = items;
    }
    l->items[l->n++] = copy;
}

void cli_list_add(cli_list *l, const char *s) { add_copy(l, s, strlen(s)); }

void cli_list_add_csv(cli_list *l, const char *s)
{
    const char *p = s;
    while (*p) {
        const char *comma = strchr(p, ',');
        size_t len = comma ? (size_t)(comma - p) : strlen(p);
        if (len) add_copy(l, p, len);
        p += len + (comma ? 1 : 0);
    }
}

void cli_list_free(cli_list *l)
{
    for (size_t i = 0; i < l->n; i++) free((char *)l->items[i]);
    free(l->items);
    memset(l, 0, sizeof *l);
}

int cli_opt(int argc, char **argv, int *i, const char *name, const char **value)
{
    const char *a = argv[*i];
    size_t n = strlen(name);
    if (strncmp(a, name, n) != 0) return 0;
    if (a[n] == '=') {
        *value = a + n + 1;
        return 1;
    }
    if (a[n] != '\0') return 0;
    if (*i + 1 >= argc) {
        fprintf(stderr, "vigil: %s needs a value\n", name);
        return -1;
    }
    *value = argv[++*i];
    return 1;
}

int cli_flag(char **argv, int i, const char *name)
{
    return strcmp(argv[i], name) == 0;
}

int cli_is_help(const char *arg)
{
    return strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0;
}

void cli_error(const char *cmd)
{
    fprintf(stderr, "vigil %s: %s\n", cmd, vg_last_error());
}

void cli_usage_error(const char *cmd, const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "vigil %s: ", cmd);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, " (see vigil %s --help)\n", cmd);
}

int cli_parse_u64(const char *cmd, const char *opt, const char *s, uint64_t *out)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (!*s || *end || errno || *s == '-') {
        cli_usage_error(cmd, "%s: '%s' is not a whole number", opt, s);
        return -1;
    }
    *out = v;
    return 0;
}

int cli_parse_count(const char *cmd, const char *opt, const char *s, uint64_t lo, uint64_t hi, uint64_t *out)
{
    if (cli_parse_u64(cmd, opt, s, out)) return -1;
    if (*out >= lo && *out <= hi) return 0;
    cli_usage_error(cmd, "%s: '%s' is not from %llu to %llu", opt, s, (unsigned long long)lo, (unsigned long long)hi);
    return -1;
}

int cli_parse_double(const char *cmd, const char *opt, const char *s, double lo, double hi, double *out)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (!*s || *end || errno || !isfinite(v) || v < lo || v > hi) {
        if (isinf(lo) && isinf(hi)) cli_usage_error(cmd, "%s: '%s' is not a number", opt, s);
        else cli_usage_error(cmd, "%s: '%s' is not a number in [%g, %g]", opt, s, lo, hi);
        return -1;
    }
    *out = v;
    return 0;
}

int cli_parse_int(const char *cmd, const char *opt, const char *s, int lo, int hi, int *out)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (!*s || *end || errno || v < lo || v > hi) {
        cli_usage_error(cmd, "%s: '%s' is not a whole number in [%d, %d]", opt, s, lo, hi);
        return -1;
    }
    *out = (int)v;
    return 0;
}

int cli_parse_delimiter(const char *cmd, const char *s, char *out)
{
    if (strcmp(s, "auto") == 0) *out = 0;
    else if (strcmp(s, "tab") == 0 || strcmp(s, "\\t") == 0) *out = '\t';
    else if (strlen(s) == 1 && strchr(",;|\t :", s[0])) *out = s[0];
    else {
        cli_usage_error(cmd, "--delimiter: '%s' is not one of , ; | tab (or auto)", s);
        return -1;
    }
    return 0;
}

void cli_print_entry(const char *name, const char *text)
{
    const int indent = 11, width = 80;
    printf("  %-8s ", name);
    int col = indent;
    const char *p = text;
    while (*p) {
        size_t word = strcspn(p, " ");
        if (col > indent && col + 1 + (int)word > width) {
            printf("\n%*s", indent, "");
            col = indent;
        } else if (col > indent) {
            putchar(' ');
            col++;
        }
        fwrite(p, 1, word, stdout);
        col += (int)word;
        p += word;
        while (*p == ' ') p++;
    }
    putchar('\n');
}

int cli_check_output(const char *cmd, const char *path)
{
    if (strcmp(path, "-") == 0) return 0;
    char *copy = strdup(path);
    if (!copy) return -1;
    const char *dir = dirname(copy);
    struct stat sb;
    int rc = 0;
    if (stat(dir, &sb) != 0 || !S_ISDIR(sb.st_mode)) {
        fprintf(stderr, "vigil %s: %s: the folder '%s' does not exist\n", cmd, path, dir);
        rc = -1;
    } else if (access(dir, W_OK) != 0) {
        fprintf(stderr, "vigil %s: %s: the folder '%s' is not writable\n", cmd, path, dir);
        rc = -1;
    }
    free(copy);
    return rc;
}

void cli_data_opts_init(cli_data_opts *o)
{
    memset(o, 0, sizeof *o);
    o->seed = 42;
    o->threads = 0;
    o->log = vg_logfmt_options_default();
}

void cli_data_opts_free(cli_data_opts *o)
{
    cli_list_free(&o->ignore);
    cli_list_free(&o->categorical);
    cli_list_free(&o->text);
    cli_list_free(&o->ip);
}

int cli_data_opts_parse(cli_data_opts *o, int argc, char **argv, int *i)
{
    const char *v;
    int r;
#define STRING_OPT(flag, field) \
    if ((r = cli_opt(argc, argv, i, flag, &v))) { \
        if (r > 0) o->field = v; \
        return r; \
    }
    STRING_OPT("--data", data)
    STRING_OPT("--test", test)
    STRING_OPT("--format", format)
    STRING_OPT("--task", task)
    STRING_OPT("--label", label)
    STRING_OPT("--positive", positive)
    STRING_OPT("--normal", normal)
    STRING_OPT("--entity", entity)
    STRING_OPT("--order", order)
#undef STRING_OPT
    if ((r = cli_opt(argc, argv, i, "--split", &v))) {
        if (r < 0) return r;
        char *end;
        o->split = strtod(v, &end);
        if (*end || !(o->split > 0 && o->split < 1)) {
            cli_usage_error("train", "--split: '%s' is not a fraction between 0 and 1", v);
            return -1;
        }
        return 1;
    }
    if ((r = cli_opt(argc, argv, i, "--delimiter", &v))) {
        if (r < 0) return r;
        if (cli_parse_delimiter("train", v, &o->delimiter)) return -1;
        return 1;
    }
    if ((r = cli_opt(argc, argv, i, "--labels", &v))) return r > 0 ? (o->log.labels_path = v, 1) : r;
    if ((r = cli_opt(argc, argv, i, "--test-labels", &v))) return r > 0 ? (o->test_labels = v, 1) : r;
    if ((r = cli_opt(argc, argv, i, "--geoip", &v))) return r > 0 ? (o->log.geoip_path = v, 1) : r;
    if ((r = cli_opt(argc, argv, i, "--max-entities", &v))) {
        uint64_t n;
        if (r < 0 || cli_parse_u64("train", "--max-entities", v, &n)) return -1;
        if (n == 0) {
            cli_usage_error("train", "--max-entities must be at least 1");
            return -1;
        }
        o->log.max_entities = (size_t)n;
        return 1;
    }
    if ((r = cli_opt(argc, argv, i, "--entity-ttl", &v))) {
        char *end;
        if (r < 0) return -1;
        o->log.entity_ttl = strtod(v, &end);
        if (*end || !(o->log.entity_ttl >= 0)) {
            cli_usage_error("train", "--entity-ttl: '%s' is not a number of seconds", v);
            return -1;
        }
        return 1;
    }
    if ((r = cli_opt(argc, argv, i, "--ignore", &v))) return r > 0 ? (cli_list_add_csv(&o->ignore, v), 1) : r;
    if ((r = cli_opt(argc, argv, i, "--categorical", &v)))
        return r > 0 ? (cli_list_add_csv(&o->categorical, v), 1) : r;
    if ((r = cli_opt(argc, argv, i, "--text", &v))) return r > 0 ? (cli_list_add_csv(&o->text, v), 1) : r;
    if ((r = cli_opt(argc, argv, i, "--ip", &v))) return r > 0 ? (cli_list_add_csv(&o->ip, v), 1) : r;
    if ((r = cli_opt(argc, argv, i, "--seed", &v))) return r > 0 ? (cli_parse_u64("train", "--seed", v, &o->seed) ? -1 : 1) : r;
    if ((r = cli_opt(argc, argv, i, "--threads", &v)))
        return r > 0 ? (cli_parse_int("train", "--threads", v, 0, 256, &o->threads) ? -1 : 1) : r;
    return 0;
}

static int is_log_format(const vg_format *f) { return f->log != NULL; }

int cli_data_opts_finish(cli_data_opts *o, const char *cmd, vg_data_spec *spec)
{
    memset(spec, 0, sizeof *spec);
    if (!o->data) {
        cli_usage_error(cmd, "--data FILE is required");
        return -1;
    }
    if (o->test && o->split > 0) {
        cli_usage_error(cmd, "use either --test or --split, not both");
        return -1;
    }
    const vg_format *fmt = o->format ? vg_format_find(o->format) : vg_format_default();
    char names[256], logs[256];
    vg_format_names(names, sizeof names, ", ", NULL);
    vg_format_names(logs, sizeof logs, " or ", is_log_format);
    if (!fmt) {
        cli_usage_error(cmd, "--format: '%s' is not one of %s", o->format, names);
        return -1;
    }
    int log_format = fmt->log != NULL;
    if (o->text.n && !fmt->infers_types && !fmt->text_fields) {
        cli_usage_error(cmd, "--text goes with CSV data (--format %s) or --format weblog", vg_format_default()->name);
        return -1;
    }
    if (o->ip.n && !fmt->infers_types) {
        cli_usage_error(cmd, "--ip goes with CSV data (--format %s)", vg_format_default()->name);
        return -1;
    }
    if (o->text.n && fmt->text_fields) o->log.text = (const char *const *)o->text.items, o->log.n_text = o->text.n;
    if (o->delimiter && !fmt->infers_types) {
        cli_usage_error(cmd, "--delimiter goes with CSV data (--format %s)", vg_format_default()->name);
        return -1;
    }
    if (o->log.labels_path && !log_format) {
        cli_usage_error(cmd, "--labels goes with a log format (--format %s)", logs);
        return -1;
    }
    if (o->test_labels && !log_format) {
        cli_usage_error(cmd, "--test-labels goes with a log format (--format %s)", logs);
        return -1;
    }
    if (o->test_labels && !o->test) {
        cli_usage_error(cmd, "--test-labels labels the --test log: give --test FILE too");
        return -1;
    }
    vg_task task = VG_TASK_BINARY;
    if (o->task && strcmp(o->task, "rule-score") == 0) {
        /* The rule-based risk score of log events becomes the binary label. */
        if (!log_format) {
            cli_usage_error(cmd, "--task rule-score needs a log format (--format %s)", logs);
            return -1;
        }
        if (o->log.labels_path || o->test_labels) {
            cli_usage_error(cmd, "--task rule-score makes the labels: it does not go with --%s",
                            o->log.labels_path ? "labels" : "test-labels");
            return -1;
        }
        o->log.label = "rule-score";
    } else if (o->task && vg_task_parse(o->task, &task)) {
        cli_usage_error(cmd, "--task: '%s' is not one of binary, category, label, regression, rule-score", o->task);
        return -1;
    }
    if (o->normal && task == VG_TASK_REGRESSION) {
        cli_usage_error(cmd, "--normal names a class: it does not go with --task regression");
        return -1;
    }
    spec->format = fmt->name;
    spec->label = o->label;
    spec->task = task;
    spec->positive = o->positive;
    spec->normal = o->normal;
    spec->entity = o->entity;
    spec->order = o->order;
    spec->ignore = o->ignore.items;
    spec->n_ignore = o->ignore.n;
    spec->categorical = o->categorical.items;
    spec->n_categorical = o->categorical.n;
    spec->text = o->text.items;
    spec->n_text = o->text.n;
    spec->ip = o->ip.items;
    spec->n_ip = o->ip.n;
    spec->geoip = log_format ? NULL : o->log.geoip_path;  /* csv: the IP columns' country */
    spec->log = log_format ? &o->log : NULL;
    spec->delimiter = o->delimiter;
    return 0;
}

/* Progress: the callback may run on worker threads, so a mutex guards the
 * line; it redraws at most when the percentage changes. */
static pthread_mutex_t progress_lock = PTHREAD_MUTEX_INITIALIZER;
static int progress_shown;
static int progress_last = -1;

void cli_progress(void *user, const char *stage, size_t done, size_t total)
{
    (void)user;
    if (!isatty(STDERR_FILENO) || total == 0) return;
    int pct = (int)(100.0 * (double)done / (double)total);
    pthread_mutex_lock(&progress_lock);
    if (pct != progress_last) {
        progress_last = pct;
        progress_shown = 1;
        fprintf(stderr, "\r  training: %s %zu/%zu (%d%%)   ", stage, done, total, pct);
        fflush(stderr);
    }
    pthread_mutex_unlock(&progress_lock);
}

void cli_progress_end(void)
{
    pthread_mutex_lock(&progress_lock);
    if (progress_shown) fprintf(stderr, "\r%60s\r", "");
    progress_shown = 0;
    progress_last = -1;
    pthread_mutex_unlock(&progress_lock);
}
