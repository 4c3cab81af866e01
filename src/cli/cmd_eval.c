/* vigil eval: score a saved model on labelled data. */
#include "cli.h"
#include "vigil/evaluate.h"
#include "vigil/report.h"

#include <stdlib.h>

static const char help[] =
    "usage: vigil eval --model MODEL.vgm --data FILE [--labels FILE] [--threshold P] [--json]\n"
    "                  [--report OUT.html]\n"
    "                  [--threads N]\n"
    "\n"
    "Evaluate a saved model on labelled data read the way its training data was\n"
    "(format, label column and column types come from the model). Prints accuracy,\n"
    "precision, recall, F1, FPR, ROC-AUC, PR-AUC, log loss, the confusion matrix and a\n"
    "per-class report; --json prints them as one JSON object. Rows whose label the\n"
    "model never saw (e.g. attacks absent from training, with --task label) are\n"
    "counted and left out of the scores. --report also writes the evaluation as a\n"
    "self-contained HTML report (as `vigil report` does). Input columns FILE lacks\n"
    "or leaves empty are imputed as missing, with one warning naming them, as in\n"
    "`vigil predict`.\n"
    "A row's predicted class is the decision predict, serve and watch make: an anomaly\n"
    "(score >= --threshold, default 0.5; score = probability of the positive class, or\n"
    "1 - P(normal class)) gets its most probable non-normal class, any other row the\n"
    "normal class. The areas under the curves do not depend on the threshold.\n"
    "\n"
    "--labels FILE  a log model (login, weblog): the attack lines of --data, as line\n"
    "               numbers or event ids, one per line (as train's --labels); a log\n"
    "               whose lines carry no labels needs it.\n";

int cmd_eval(int argc, char **argv)
{
    cli_apply_opts a;
    cli_apply_opts_init(&a);
    const char *labels = NULL, *report = NULL, *v;
    int json = 0, r;
    for (int i = 1; i < argc; i++) {
        if (cli_is_help(argv[i])) {
            fputs(help, stdout);
            return VG_EXIT_OK;
        }
        if ((r = cli_apply_opts_parse(&a, "eval", argc, argv, &i))) {
            if (r < 0) return VG_EXIT_USAGE;
        } else if ((r = cli_opt(argc, argv, &i, "--labels", &v))) {
            if (r < 0) return VG_EXIT_USAGE;
            labels = v;
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
    if (cli_apply_opts_finish(&a, "eval")) return VG_EXIT_USAGE;
    vg_model *m = NULL;
    vg_table *t = NULL;
    vg_evaluation e;
    if (vg_model_load(a.model_path, &m) || vg_model_read_labelled(m, a.data, labels, &t)) {
        cli_error("eval");
        vg_table_free(t);
        vg_model_free(m);
        return VG_EXIT_ERROR;
    }
    /* A log usually carries no truth of its own: say where it comes from. */
    if (!vg_model_has_labels(m, t) && vg_logfmt_find(vg_model_format(m))) {
        fprintf(stderr, "vigil eval: %s has no labels to evaluate against: give its attack lines or event ids "
                        "with --labels FILE\n", a.data);
        vg_table_free(t);
        vg_model_free(m);
        return VG_EXIT_ERROR;
    }
    if (vg_evaluate_at(m, t, a.threads, a.threshold, &e)) {
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
        printf("model %s (%s, %s) on %s: %zu rows", a.model_path, vg_model_family(m), vg_task_str(vg_model_task(m)),
               a.data, vg_evaluation_scored_rows(&e));
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
        vg_report_input in = { .source = a.model_path, .model = m, .eval = &e };
        vg_report_params p = vg_report_params_default();
        p.data = a.data;
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
