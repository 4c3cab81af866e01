/* vigil report: evaluate saved models on labelled data and write the result
 * as one self-contained HTML file. */
#include "cli.h"
#include "vigil/evaluate.h"
#include "vigil/report.h"

#include <stdlib.h>
#include <string.h>

static const char help[] =
    "usage: vigil report --model MODEL.vgm [--model MODEL.vgm]... --data FILE -o REPORT.html\n"
    "                    [--title TEXT] [--threads N]\n"
    "\n"
    "Evaluate a saved model on labelled data (read the way its training data was)\n"
    "and write a shareable HTML report: headline metrics, ROC and precision-recall\n"
    "curves, the confusion matrix as a heat map, the score distribution per class,\n"
    "feature importance and the per-class table. With several --model options the\n"
    "report compares them side by side on the same data. The file is self-contained\n"
    "(inline CSS and SVG, no scripts) and prints well.\n";

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

int cmd_report(int argc, char **argv)
{
    cli_list models = { 0 };
    const char *data = NULL, *output = NULL, *title = NULL, *v;
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
            data = v;
        } else if ((r = cli_opt(argc, argv, &i, "--output", &v)) || (r = cli_opt(argc, argv, &i, "-o", &v))) {
            if (r < 0) goto done;
            output = v;
        } else if ((r = cli_opt(argc, argv, &i, "--title", &v))) {
            if (r < 0) goto done;
            title = v;
        } else if ((r = cli_opt(argc, argv, &i, "--threads", &v))) {
            if (r < 0 || cli_parse_int("report", "--threads", v, 0, 256, &threads)) goto done;
        } else {
            cli_usage_error("report", "unknown option '%s'", argv[i]);
            goto done;
        }
    }
    if (models.n == 0 || !data || !output) {
        cli_usage_error("report", "--model, --data and -o are required");
        goto done;
    }
    rc = VG_EXIT_ERROR;
    vg_model **m = calloc(models.n, sizeof *m);
    vg_evaluation *e = calloc(models.n, sizeof *e);
    vg_report_input *in = calloc(models.n, sizeof *in);
    char **names = calloc(models.n, sizeof *names);
    if (!m || !e || !in || !names) {
        fputs("vigil report: out of memory\n", stderr);
        goto free_all;
    }
    for (size_t k = 0; k < models.n; k++) {
        /* Each model reads the data its own way (format, column types). */
        vg_table *t = NULL;
        vg_status st = vg_model_load(models.items[k], &m[k]);
        if (!st) st = vg_model_read_data(m[k], data, &t);
        if (!st) st = vg_evaluate(m[k], t, threads, &e[k]);
        vg_table_free(t);
        if (st) {
            cli_error("report");
            goto free_all;
        }
        if (models.n > 1) names[k] = short_name(models.items[k]);
        in[k] = (vg_report_input){ .name = names[k],
                                   .source = models.items[k], .model = m[k], .eval = &e[k] };
    }
    vg_report_params p = vg_report_params_default();
    p.title = title;
    p.data = data;
    if (vg_report_write(output, in, models.n, &p)) {
        cli_error("report");
        goto free_all;
    }
    fprintf(stderr, "vigil report: wrote %s\n", output);
    rc = VG_EXIT_OK;
free_all:
    for (size_t k = 0; m && e && names && k < models.n; k++) {
        vg_evaluation_free(&e[k]);
        vg_model_free(m[k]);
        free(names[k]);
    }
    free(m), free(e), free(in), free(names);
done:
    cli_list_free(&models);
    return rc;
}
