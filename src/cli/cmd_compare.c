/* vigil compare: train several models on the same split and compare them. */
#include "cli.h"
#include "vigil/evaluate.h"
#include "vigil/report.h"

#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>

static const char help[] =
    "usage: vigil compare --data FILE [--test FILE | --split FRACTION] --models NAME,NAME,...\n"
    "                     [data options as for train] [--param [MODEL:]KEY=VALUE]... [--json]\n"
    "                     [--sampler NAME [--sampler-param K=V]...] [--select K [--select-by HOW]]\n"
    "                     [--report OUT.html]\n"
    "\n"
    "Train each model on the same training rows, evaluate it on the same test rows and\n"
    "print one table: train and test accuracy, precision, recall, F1, ROC-AUC, train\n"
    "and predict seconds. --param KEY=VALUE applies to every model, MODEL:KEY=VALUE to\n"
    "one (an ensemble's parts joined by +: vote:gbdt+forest). Without --test or --split,\n"
    "0.25 of --data is held out. --sampler, --sampler-param, --select and --select-by\n"
    "are as for train and apply to every model, fitted on its training rows only (the\n"
    "test rows are never resampled). --report also writes\n"
    "the comparison on the test rows as a self-contained HTML report.\n"
    "Logs: --labels FILE labels --data, --test-labels FILE the --test log (attack line\n"
    "numbers or request ids, one per line); a --test log without labels is refused.\n";

/* The parameters of `model`: unscoped ones and those scoped "model:". */
static void params_for(const cli_list *all, const char *model, cli_list *out)
{
    size_t n = strlen(model);
    for (size_t i = 0; i < all->n; i++) {
        const char *p = all->items[i], *colon = strchr(p, ':'), *eq = strchr(p, '=');
        if (!colon || (eq && eq < colon)) cli_list_add(out, p);
        else if ((size_t)(colon - p) == n && strncmp(p, model, n) == 0) cli_list_add(out, colon + 1);
    }
}

int cmd_compare(int argc, char **argv)
{
    cli_data_opts o;
    cli_data_opts_init(&o);
    cli_list models = { 0 }, params = { 0 };
    cli_model_opts mo;  /* the sampler and selector, as train spells them */
    cli_model_opts_init(&mo);
    const char *v, *report = NULL;
    int json = 0, rc = VG_EXIT_USAGE, r;
    for (int i = 1; i < argc; i++) {
        if (cli_is_help(argv[i])) {
            fputs(help, stdout);
            rc = VG_EXIT_OK;
            goto done;
        }
        if ((r = cli_data_opts_parse(&o, argc, argv, &i))) {
            if (r < 0) goto done;
        } else if ((r = cli_opt(argc, argv, &i, "--models", &v))) {
            if (r < 0) goto done;
            cli_list_add_csv(&models, v);
        } else if ((r = cli_opt(argc, argv, &i, "--param", &v))) {
            if (r < 0) goto done;
            cli_list_add(&params, v);
        } else if ((r = cli_opt(argc, argv, &i, "--report", &v))) {
            if (r < 0) goto done;
            report = v;
        } else if (cli_flag(argv, i, "--json")) {
            json = 1;
        } else if (strcmp(argv[i], "--model") && (r = cli_model_opts_parse(&mo, argc, argv, &i))) {
            if (r < 0) goto done;
        } else {
            cli_usage_error("compare", "unknown option '%s'", argv[i]);
            goto done;
        }
    }
    vg_data_spec spec;
    if (cli_data_opts_finish(&o, "compare", &spec)) goto done;
    if (report && cli_check_output("compare", report)) goto done;
    if (models.n == 0) {
        cli_usage_error("compare", "--models NAME,NAME,... is required");
        goto done;
    }
    if (!o.test && !(o.split > 0)) o.split = 0.25;
    /* Check every model and its parameters before any work. */
    for (size_t k = 0; k < models.n; k++) {
        cli_list mp = { 0 };
        params_for(&params, models.items[k], &mp);
        vg_train_request rq = cli_model_opts_request(&mo, &o, &spec);
        rq.model = models.items[k], rq.params = mp.items, rq.n_params = mp.n;
        vg_status st = vg_train_request_check(&rq);
        cli_list_free(&mp);
        if (st) {
            cli_error("compare");
            goto done;
        }
    }
    rc = VG_EXIT_ERROR;
    vg_table *train = NULL, *test = NULL;
    if (cli_load_train_test("compare", &o, &spec, &train, &test)) goto done;
    cJSON *out = cJSON_CreateObject();
    cJSON *arr = cJSON_AddArrayToObject(out, "models");
    if (!json) {
        printf("train: %zu rows, test: %zu rows (%s)\n\n", vg_table_rows(train), vg_table_rows(test),
               o.test ? o.test : "stratified split of --data");
        if (spec.task == VG_TASK_REGRESSION)
            printf("%-11s %10s %10s %10s %9s %9s %9s\n", "model", "train_rmse", "test_rmse", "test_mae", "test_r2",
                   "train_s", "predict_s");
        else
            printf("%-11s %9s %9s %9s %9s %9s %9s %9s %9s\n", "model", "train_acc", "test_acc", "precision",
                   "recall", "f1", "roc_auc", "train_s", "predict_s");
    }
    /* The report needs every model and its test evaluation at the end. */
    vg_model **kept = report ? calloc(models.n, sizeof *kept) : NULL;
    vg_evaluation *kept_eval = report ? calloc(models.n, sizeof *kept_eval) : NULL;
    rc = VG_EXIT_OK;
    if (report && (!kept || !kept_eval)) {
        fputs("vigil compare: out of memory\n", stderr);
        rc = VG_EXIT_ERROR;
    }
    for (size_t k = 0; k < models.n && rc == VG_EXIT_OK; k++) {
        cli_list mp = { 0 };
        params_for(&params, models.items[k], &mp);
        vg_train_request rq = cli_model_opts_request(&mo, &o, &spec);
        rq.table = train, rq.model = models.items[k], rq.params = mp.items, rq.n_params = mp.n;
        rq.progress = cli_progress;
        vg_model *m = NULL;
        vg_evaluation etr = { 0 }, ete = { 0 };
        if (vg_model_train(&rq, &m) || vg_evaluate(m, train, o.threads, &etr) || vg_evaluate(m, test, o.threads, &ete)) {
            cli_progress_end();
            cli_error("compare");
            rc = VG_EXIT_ERROR;
        } else {
            cli_progress_end();
            const vg_metrics *t = &ete.metrics;
            if (json) {
                char *text = vg_evaluation_json(m, &ete);
                cJSON *item = text ? cJSON_Parse(text) : NULL;
                vg_free(text);
                if (item) {
                    if (etr.regression) cJSON_AddNumberToObject(item, "train_rmse", etr.reg.rmse);
                    else cJSON_AddNumberToObject(item, "train_accuracy", etr.metrics.accuracy);
                    cJSON_AddItemToArray(arr, item);
                }
            } else if (etr.regression) {
                printf("%-11s %10.5g %10.5g %10.5g %9.4f %9.3f %9.3f\n", models.items[k], etr.reg.rmse, ete.reg.rmse,
                       ete.reg.mae, ete.reg.r2, vg_model_train_seconds(m), ete.predict_seconds);
                fflush(stdout);
            } else {
                printf("%-11s %9.4f %9.4f %9.4f %9.4f %9.4f %9.4f %9.3f %9.3f\n", models.items[k], etr.metrics.accuracy,
                       t->accuracy, t->precision, t->recall, t->f1, t->roc_auc, vg_model_train_seconds(m),
                       ete.predict_seconds);
                fflush(stdout);
            }
        }
        vg_evaluation_free(&etr);
        if (report && rc == VG_EXIT_OK) {
            kept[k] = m, kept_eval[k] = ete;
        } else {
            vg_evaluation_free(&ete);
            vg_model_free(m);
        }
        cli_list_free(&mp);
    }
    if (report && kept && kept_eval) {
        vg_report_input *in = calloc(models.n, sizeof *in);
        size_t n = 0;
        for (size_t k = 0; in && k < models.n; k++)
            if (kept[k])
                in[n++] = (vg_report_input){ .name = models.items[k], .model = kept[k], .eval = &kept_eval[k] };
        if (rc == VG_EXIT_OK && in) {
            vg_report_params p = vg_report_params_default();
            char held_out[1024];
            snprintf(held_out, sizeof held_out, "%.0f%% held out of %s", 100 * o.split, o.data);
            p.data = o.test ? o.test : held_out;
            p.train = o.data;
            if (vg_report_write(report, in, n, &p)) {
                cli_error("compare");
                rc = VG_EXIT_ERROR;
            }
        }
        for (size_t k = 0; k < models.n; k++) {
            vg_evaluation_free(&kept_eval[k]);
            vg_model_free(kept[k]);
        }
        free(in);
    }
    free(kept), free(kept_eval);
    if (json && rc == VG_EXIT_OK) {
        char *s = cJSON_PrintUnformatted(out);
        puts(s);
        cJSON_free(s);
    } else if (!json && rc == VG_EXIT_OK) {
        printf("\nprecision, recall and f1: binary - of the positive class; multiclass - macro averages\n");
    }
    cJSON_Delete(out);
    vg_table_free(train);
    vg_table_free(test);
done:
    cli_list_free(&models);
    cli_list_free(&params);
    cli_model_opts_free(&mo);
    cli_data_opts_free(&o);
    return rc;
}
