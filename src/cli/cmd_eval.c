/* vigil eval: score a saved model on labelled data. */
#include "cli.h"
#include "vigil/evaluate.h"
#include "vigil/report.h"

#include <stdlib.h>

static const char help[] =
    "usage: vigil eval --model MODEL.vgm --data FILE [--json] [--report OUT.html] [--threads N]\n"
    "\n"
    "Evaluate a saved model on labelled data read the way its training data was\n"
    "(format, label column and column types come from the model). Prints accuracy,\n"
    "precision, recall, F1, FPR, ROC-AUC, PR-AUC, log loss, the confusion matrix and a\n"
    "per-class report; --json prints them as one JSON object. Rows whose label the\n"
    "model never saw (e.g. attacks absent from training, with --task label) are\n"
    "counted and left out of the scores. --report also writes the evaluation as a\n"
    "self-contained HTML report (as `vigil report` does). Input columns FILE lacks\n"
    "or leaves empty are imputed as missing, with one warning naming them, as in\n"
    "`vigil predict`.\n";

int cmd_eval(int argc, char **argv)
{
    const char *model_path = NULL, *data = NULL, *report = NULL, *v;
    int json = 0, threads = 0, r;
    for (int i = 1; i < argc; i++) {
        if (cli_is_help(argv[i])) {
            fputs(help, stdout);
            return VG_EXIT_OK;
        }
        if ((r = cli_opt(argc, argv, &i, "--model", &v))) {
            if (r < 0) return VG_EXIT_USAGE;
            model_path = v;
        } else if ((r = cli_opt(argc, argv, &i, "--data", &v))) {
            if (r < 0) return VG_EXIT_USAGE;
            data = v;
        } else if ((r = cli_opt(argc, argv, &i, "--threads", &v))) {
            if (r < 0 || cli_parse_int("eval", "--threads", v, 0, 256, &threads)) return VG_EXIT_USAGE;
        } else if ((r = cli_opt(argc, argv, &i, "--report", &v))) {
            if (r < 0) return VG_EXIT_USAGE;
            report = v;
        } else if (cli_flag(argv, i, "--json")) {
            json = 1;
        } else {
            cli_usage_error("eval", "unknown option '%s'", argv[i]);
            return VG_EXIT_USAGE;
        }
    }
    if (!model_path || !data) {
        cli_usage_error("eval", "--model and --data are required");
        return VG_EXIT_USAGE;
    }
    vg_model *m = NULL;
    vg_table *t = NULL;
    vg_evaluation e;
    if (vg_model_load(model_path, &m) || vg_model_read_data(m, data, &t) || vg_evaluate(m, t, threads, &e)) {
        cli_error("eval");
        vg_table_free(t);
        vg_model_free(m);
        return VG_EXIT_ERROR;
    }
    if (json) {
        char *text = vg_evaluation_json(m, &e);
        if (text) puts(text);
        vg_free(text);
    } else {
        printf("model %s (%s, %s) on %s: %zu rows", model_path, vg_model_family(m), vg_task_str(vg_model_task(m)),
               data, e.regression ? e.reg.rows : e.metrics.rows);
        if (e.excluded) printf(" (%zu more rows have labels the model never saw and are not scored)", e.excluded);
        printf(", predicted in %.3f s\n\n", e.predict_seconds);
        vg_wbuf text;
        vg_wbuf_init(&text);
        vg_evaluation_format(m, &e, &text);
        vg_importance_format(m, 10, &text);
        fwrite(text.data, 1, text.len, stdout);
        vg_wbuf_free(&text);
    }
    int rc = VG_EXIT_OK;
    if (report) {
        vg_report_input in = { .source = model_path, .model = m, .eval = &e };
        vg_report_params p = vg_report_params_default();
        p.data = data;
        if (vg_report_write(report, &in, 1, &p)) {
            cli_error("eval");
            rc = VG_EXIT_ERROR;
        }
    }
    vg_evaluation_free(&e);
    vg_table_free(t);
    vg_model_free(m);
    return rc;
}
