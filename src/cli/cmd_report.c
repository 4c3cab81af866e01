/* vigil report: evaluate saved models on data and write the result as one
 * self-contained HTML file; for logs, also a summary per source file, and
 * the summary of an alert store written by `vigil watch`. */
#include "cli.h"
#include "vigil/alerts.h"
#include "vigil/evaluate.h"
#include "vigil/report.h"
#include "vigil/source_summary.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static const char help[] =
    "usage: vigil report --model MODEL.vgm [--model MODEL.vgm]... --data FILE [--data FILE]...\n"
    "                    -o REPORT.html [--title TEXT] [--threads N]\n"
    "                    [--format login|weblog] [--labels FILE] [--threshold P] [--top N]\n"
    "                    [--alerts ALERTS.db]\n"
    "       vigil report --alerts ALERTS.db -o REPORT.html [--title TEXT]\n"
    "\n"
    "Evaluate a saved model on labelled data (read the way its training data was)\n"
    "and write a shareable HTML report: headline metrics, ROC and precision-recall\n"
    "curves, the confusion matrix as a heat map, the score distribution per class,\n"
    "feature importance and the per-class table. With several --model options the\n"
    "report compares them side by side on the same data. The file is self-contained\n"
    "(inline CSS and SVG, no scripts) and prints well.\n"
    "\n"
    "Logs (the model's format is login or weblog; --format, if given, must name it)\n"
    "also get a Sources\n"
    "section with one block per --data file: events, bad lines, time span, the alerts\n"
    "the (first) model raises - those `vigil watch --from-start` would raise, at its\n"
    "threshold or --threshold - and the top entities (client IPs, users) by events\n"
    "and by alerts, countries, status codes or login outcomes, user-agent classes or\n"
    "ASNs, and events and alerts per hour. Logs need no labels: unlabelled data gets\n"
    "the summary without metrics, and the page says so. With several --data files the\n"
    "metrics are those of the first. --labels FILE gives the first log's labelled line\n"
    "numbers or request ids (as for `vigil train`). --top N values per list (default 10).\n"
    "\n"
    "--alerts ALERTS.db adds the summary of an alert store (opened read-only; a watcher\n"
    "may be writing it): alerts per hour or day, per source, per label, top entities.\n"
    "Without --model and --data the report holds that summary alone.\n";

/* A model's name in a comparison: its file name without folder or .vgm
 * (new; caller frees). */
static char *short_name(const char *path)
{
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    char *name = strdup(base);
    size_t len = name ? strlen(name) : 0;
    if (len > 4 && strcmp(name + len - 4, ".vgm") == 0) name[len - 4] = '\0';
    return name;
}

/* The alert store's counts, from a read-only handle that waits briefly for
 * a writer's checkpoint instead of failing. */
static int summarize_store(const char *path, vg_alert_summary *out)
{
    vg_alert_store_params sp = vg_alert_store_params_default();
    sp.read_only = 1;
    sp.busy_timeout_ms = 5000;
    vg_alert_store *db = NULL;
    vg_alert_filter f = vg_alert_filter_default();
    vg_status st = vg_alert_store_open(path, &sp, &db);
    if (!st) st = vg_alert_store_summarize(db, &f, 10, 0, out);
    vg_alert_store_close(db);
    if (st) cli_error("report");
    return st ? -1 : 0;
}

int cmd_report(int argc, char **argv)
{
    cli_list models = { 0 }, data = { 0 };
    const char *output = NULL, *title = NULL, *format = NULL, *labels = NULL, *alerts = NULL, *v;
    double threshold = NAN;
    uint64_t top = 10;
    int threads = 0, r, rc = VG_EXIT_USAGE;
    for (int i = 1; i < argc; i++) {
        if (cli_is_help(argv[i])) {
            fputs(help, stdout);
            rc = VG_EXIT_OK;
            goto done;
        }
        if ((r = cli_opt(argc, argv, &i, "--model", &v))) {
            if (r < 0) goto done;
            cli_list_add(&models, v);
        } else if ((r = cli_opt(argc, argv, &i, "--data", &v))) {
            if (r < 0) goto done;
            cli_list_add(&data, v);
        } else if ((r = cli_opt(argc, argv, &i, "--output", &v)) || (r = cli_opt(argc, argv, &i, "-o", &v))) {
            if (r < 0) goto done;
            output = v;
        } else if ((r = cli_opt(argc, argv, &i, "--title", &v))) {
            if (r < 0) goto done;
            title = v;
        } else if ((r = cli_opt(argc, argv, &i, "--format", &v))) {
            if (r < 0) goto done;
            if (!vg_logfmt_find(v)) {
                cli_usage_error("report", "--format: '%s' is not a log format (login, weblog)", v);
                goto done;
            }
            format = v;
        } else if ((r = cli_opt(argc, argv, &i, "--labels", &v))) {
            if (r < 0) goto done;
            labels = v;
        } else if ((r = cli_opt(argc, argv, &i, "--alerts", &v))) {
            if (r < 0) goto done;
            alerts = v;
        } else if ((r = cli_opt(argc, argv, &i, "--threshold", &v))) {
            if (r < 0 || cli_parse_double("report", "--threshold", v, -INFINITY, INFINITY, &threshold)) goto done;
        } else if ((r = cli_opt(argc, argv, &i, "--top", &v))) {
            if (r < 0 || cli_parse_count("report", "--top", v, 1, 1000, &top)) goto done;
        } else if ((r = cli_opt(argc, argv, &i, "--threads", &v))) {
            if (r < 0 || cli_parse_int("report", "--threads", v, 0, 256, &threads)) goto done;
        } else {
            cli_usage_error("report", "unknown option '%s'", argv[i]);
            goto done;
        }
    }
    if (!output || (models.n == 0 && !alerts) || (models.n > 0) != (data.n > 0)) {
        cli_usage_error("report", "--model, --data and -o are required (or --alerts and -o)");
        goto done;
    }
    if (cli_check_output("report", output)) goto done;
    rc = VG_EXIT_ERROR;
    size_t n = models.n;
    vg_model **m = calloc(n + 1, sizeof *m);
    vg_evaluation *e = calloc(n + 1, sizeof *e);
    vg_report_input *in = calloc(n + 1, sizeof *in);
    char **names = calloc(n + 1, sizeof *names);
    vg_source_summary **sums = calloc(data.n + 1, sizeof *sums);
    vg_alert_summary store = { 0 };
    int have_store = 0;
    vg_table *top_rows = NULL;  /* an anomaly model's data, kept for its top rows */
    if (!m || !e || !in || !names || !sums) {
        fputs("vigil report: out of memory\n", stderr);
        goto free_all;
    }
    for (size_t k = 0; k < n; k++) {
        if (vg_model_load(models.items[k], &m[k])) {
            cli_error("report");
            goto free_all;
        }
    }
    /* Logs: one summary per file, scored by the first model. Its features
     * come from its own format: any other would feed it nothing it knows. */
    if (format && n && strcmp(format, vg_model_format(m[0])) != 0) {
        cli_usage_error("report", "--format %s: the model reads %s data", format, vg_model_format(m[0]));
        rc = VG_EXIT_USAGE;
        goto free_all;
    }
    const char *fmt = format ? format : n ? vg_model_format(m[0]) : NULL;
    size_t n_sums = 0;
    if (n && vg_logfmt_find(fmt)) {
        vg_summary_params sp = vg_summary_params_default();
        sp.format = fmt;
        sp.threshold = threshold;
        sp.top = (size_t)top;
        for (size_t k = 0; k < data.n; k++, n_sums++)
            if (vg_source_summarize(m[0], data.items[k], &sp, &sums[k])) {
                cli_error("report");
                goto free_all;
            }
    } else if (data.n > 1) {
        cli_usage_error("report", "several --data files need a log format (login, weblog)");
        rc = VG_EXIT_USAGE;
        goto free_all;
    }
    /* A log whose lines carry no ground truth (and no --labels file) has
     * nothing to evaluate: skip reading it whole into a table. */
    int evaluate = n && (labels || n_sums == 0 || sums[0]->labelled > 0);
    for (size_t k = 0; k < n; k++) {
        /* Each model reads the data its own way (format, column types). */
        vg_table *t = NULL;
        /* An anomaly model's top rows are shown with or without labels. */
        int anomaly = n == 1 && vg_model_is_anomaly(m[k]);
        vg_status st = evaluate || anomaly ? vg_model_read_labelled(m[k], data.items[0], labels, &t) : VG_OK;
        int labelled = evaluate && !st && vg_model_has_labels(m[k], t);
        if (!st && !labelled && n > 1) {
            vg_table_free(t);
            fprintf(stderr, "vigil report: %s has no labels, so models cannot be compared on it\n", data.items[0]);
            goto free_all;
        }
        if (!st && labelled) st = vg_evaluate(m[k], t, threads, &e[k]);
        if (anomaly && !st) top_rows = t;
        else vg_table_free(t);
        if (st) {
            cli_error("report");
            goto free_all;
        }
        if (n > 1) names[k] = short_name(models.items[k]);
        in[k] = (vg_report_input){ .name = names[k], .source = models.items[k], .model = m[k],
                                   .eval = labelled ? &e[k] : NULL, .data = top_rows };
    }
    if (n && !in[0].eval && n_sums == 0 && !top_rows) {
        fprintf(stderr, "vigil report: %s has no labels to evaluate against\n", data.items[0]);
        goto free_all;
    }
    if (alerts) {
        if (summarize_store(alerts, &store)) goto free_all;
        have_store = 1;
    }
    vg_report_params p = vg_report_params_default();
    p.title = title;
    p.data = data.n ? data.items[0] : NULL;
    p.sources = (const vg_source_summary *const *)sums;
    p.n_sources = n_sums;
    p.alerts = have_store ? &store : NULL;
    p.alerts_path = alerts;
    p.threads = threads;
    if (vg_report_write(output, in, n, &p)) {
        cli_error("report");
        goto free_all;
    }
    if (n && !in[0].eval) fprintf(stderr, "vigil report: %s has no labels: the report holds the summary only\n",
                                  data.items[0]);
    fprintf(stderr, "vigil report: wrote %s\n", output);
    rc = VG_EXIT_OK;
free_all:
    for (size_t k = 0; m && e && names && k < n; k++) {
        vg_evaluation_free(&e[k]);
        vg_model_free(m[k]);
        free(names[k]);
    }
    for (size_t k = 0; sums && k < data.n; k++) vg_source_summary_free(sums[k]);
    vg_alert_summary_free(&store);
    vg_table_free(top_rows);
    free(m), free(e), free(in), free(names), free(sums);
done:
    cli_list_free(&models);
    cli_list_free(&data);
    return rc;
}
