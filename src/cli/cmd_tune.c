/* vigil tune: search model parameters by cross-validation, refit the best
 * on all rows and save it with the search. */
#include "cli.h"
#include "vigil/evaluate.h"
#include "vigil/tune.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

static const char help[] =
    "usage: vigil tune --data FILE --model NAME --grid KEY=V1,V2,... [--grid KEY=LO:HI[:log]]...\n"
    "                  [--search grid|random|tpe] [--trials N] [--folds K] [--metric NAME]\n"
    "                  [--halving] [--time-budget SECONDS]\n"
    "                  [--group COL | --time COL] [--param KEY=VALUE]... [--sampler NAME]\n"
    "                  [data options as for train] [--json] -o MODEL.vgm\n"
    "\n"
    "Cross-validate the model once per parameter setting (each fold fits everything on\n"
    "its training rows only), print every trial's mean and spread of the metric, refit\n"
    "the best setting on all rows and save it; the search is kept in the model's\n"
    "metrics ('vigil inspect' shows it).\n"
    "\n"
    "  --grid KEY=V1,V2   values to try; KEY=LO:HI or LO:HI:log a range (random search\n"
    "                     draws from it, grid search takes 5 points); whole-number ends\n"
    "                     give whole numbers. Repeatable: grid search tries every combination\n"
    "  --search S         grid (default), random, or tpe (Bayesian: a tree-structured\n"
    "                     Parzen estimator proposes each setting from the results so far,\n"
    "                     after 10 random ones)\n"
    "  --trials N         random and tpe: trials (default 20); grid: at most N of them\n"
    "  --halving          successive halving: every setting on a third^R of the rows first,\n"
    "                     the best third promoted to 3x the rows, until all rows\n"
    "  --time-budget S    start no trial after S seconds (the trials that ran are kept)\n"
    "  --folds K          folds per trial (default 5); --group / --time deal them as cv does\n"
    "  --metric M         roc_auc (default), pr_auc, f1, accuracy, precision, recall,\n"
    "                     macro_f1, weighted_f1, log_loss, recall_at_fpr:F (recall at\n"
    "                     false-positive rate F on the out-of-fold scores); regression:\n"
    "                     rmse, mae, r2\n"
    "  --param KEY=VALUE  fixed parameters for every trial (a --grid key overrides)\n"
    "  --json             one JSON object: the trials and the best\n"
    "Trials that need not wait for each other run side by side on --threads threads;\n"
    "the results are the same for any thread count (a --time-budget aside).\n";

int cmd_tune(int argc, char **argv)
{
    cli_data_opts o;
    cli_data_opts_init(&o);
    cli_model_opts mo;
    cli_model_opts_init(&mo);
    cli_list grids = { 0 };
    cli_fold_opts fo;
    cli_fold_opts_init(&fo);
    const char *v, *out = NULL, *search = "grid", *metric = "roc_auc";
    int json = 0, rc = VG_EXIT_USAGE, r, trials = 0, halving = 0;
    double budget = 0;
    vg_tune_axis *axes = NULL;
    size_t n_axes = 0;
    for (int i = 1; i < argc; i++) {
        if (cli_is_help(argv[i])) {
            fputs(help, stdout);
            rc = VG_EXIT_OK;
            goto done;
        }
        if ((r = cli_data_opts_parse(&o, argc, argv, &i))) {
            if (r < 0) goto done;
        } else if ((r = cli_model_opts_parse(&mo, argc, argv, &i))) {
            if (r < 0) goto done;
        } else if ((r = cli_opt(argc, argv, &i, "--grid", &v))) {
            if (r < 0) goto done;
            cli_list_add(&grids, v);
        } else if ((r = cli_opt(argc, argv, &i, "--search", &v))) {
            if (r < 0) goto done;
            search = v;
        } else if ((r = cli_opt(argc, argv, &i, "--trials", &v))) {
            if (r < 0 || cli_parse_int("tune", "--trials", v, 1, 100000, &trials)) goto done;
        } else if ((r = cli_fold_opts_parse(&fo, "tune", argc, argv, &i))) {
            if (r < 0) goto done;
        } else if ((r = cli_opt(argc, argv, &i, "--metric", &v))) {
            if (r < 0) goto done;
            metric = v;
        } else if ((r = cli_opt(argc, argv, &i, "--output", &v)) || (r = cli_opt(argc, argv, &i, "-o", &v))) {
            if (r < 0) goto done;
            out = v;
        } else if ((r = cli_opt(argc, argv, &i, "--time-budget", &v))) {
            if (r < 0 || cli_parse_double("tune", "--time-budget", v, 0.001, 1e9, &budget)) goto done;
        } else if (cli_flag(argv, i, "--halving")) {
            halving = 1;
        } else if (cli_flag(argv, i, "--json")) {
            json = 1;
        } else {
            cli_usage_error("tune", "unknown option '%s'", argv[i]);
            goto done;
        }
    }
    vg_data_spec spec;
    vg_tune_params tp = vg_tune_params_default();
    if (cli_data_opts_finish(&o, "tune", &spec) || cli_fold_opts_finish(&fo, "tune", &o, &tp.cv)) goto done;
    if (!out) {
        cli_usage_error("tune", "-o MODEL.vgm is required (the best setting is refitted and saved)");
        goto done;
    }
    if (grids.n == 0) {
        cli_usage_error("tune", "--grid KEY=V1,V2,... is required");
        goto done;
    }
    if (strcmp(search, "grid") != 0 && strcmp(search, "random") != 0 && strcmp(search, "tpe") != 0) {
        cli_usage_error("tune", "--search: '%s' is not grid, random or tpe", search);
        goto done;
    }
    if (cli_check_output("tune", out)) goto done;
    axes = calloc(grids.n, sizeof *axes);
    for (size_t i = 0; axes && i < grids.n; i++, n_axes++)
        if (vg_tune_axis_parse(grids.items[i], &axes[i])) {
            cli_error("tune");
            goto done;
        }
    vg_train_request rq = cli_model_opts_request(&mo, &o, &spec);
    if (vg_train_request_check(&rq)) {
        cli_error("tune");
        goto done;
    }
    rc = VG_EXIT_ERROR;
    vg_table *t = NULL, *unused = NULL;
    if (cli_load_train_test("tune", &o, &spec, &t, &unused)) goto done;
    rq.table = t;
    tp.search = strcmp(search, "random") == 0 ? VG_TUNE_RANDOM : strcmp(search, "tpe") == 0 ? VG_TUNE_TPE : VG_TUNE_GRID;
    tp.halving = halving;
    tp.time_budget = budget;
    tp.trials = (uint32_t)trials;
    tp.metric = metric;
    vg_tune_result res = { 0 };
    vg_model *m = NULL;
    vg_evaluation e = { 0 };
    cJSON *js = NULL;
    if (vg_tune_run(&rq, axes, n_axes, &tp, &res)) {
        cli_error("tune");
        goto free_all;
    }
    /* The best setting, refitted on every row. */
    const vg_tune_trial *best = &res.trials[res.best];
    cli_list bp = { 0 };
    for (size_t i = 0; i < mo.params.n; i++) cli_list_add(&bp, mo.params.items[i]);
    for (size_t i = 0; i < best->n_params; i++) cli_list_add(&bp, best->params[i]);
    rq.params = bp.items, rq.n_params = bp.n;
    int fit_ok = vg_model_train(&rq, &m) == VG_OK && vg_evaluate(m, t, o.threads, &e) == VG_OK;
    if (!fit_ok) cli_error("tune");
    cli_list_free(&bp);
    if (!fit_ok) goto free_all;
    js = cJSON_CreateObject();
    cJSON *srch = cJSON_AddObjectToObject(js, "search");
    cJSON_AddStringToObject(srch, "search", search);
    cJSON_AddStringToObject(srch, "metric", metric);
    cJSON_AddNumberToObject(srch, "folds", fo.folds);
    cJSON_AddStringToObject(srch, "folds_kind", vg_folds_kind_str(tp.cv.kind));
    cJSON_AddNumberToObject(srch, "seed", (double)rq.seed);
    cJSON_AddBoolToObject(srch, "halving", halving);
    cJSON_AddNumberToObject(srch, "rungs", res.n_rungs);
    if (budget > 0) cJSON_AddNumberToObject(srch, "time_budget", budget);
    cJSON_AddBoolToObject(srch, "budget_hit", res.budget_hit);
    cJSON_AddNumberToObject(srch, "seconds", res.seconds);
    cJSON *fixed = cJSON_AddArrayToObject(srch, "fixed_params");
    for (size_t i = 0; i < mo.params.n; i++) cJSON_AddItemToArray(fixed, cJSON_CreateString(mo.params.items[i]));
    cJSON *arr = cJSON_AddArrayToObject(srch, "trials");
    for (size_t k = 0; k < res.n_trials; k++) {
        const vg_tune_trial *tr = &res.trials[k];
        cJSON *to = cJSON_CreateObject(), *pa = cJSON_AddArrayToObject(to, "params");
        for (size_t i = 0; i < tr->n_params; i++) cJSON_AddItemToArray(pa, cJSON_CreateString(tr->params[i]));
        cJSON_AddItemToObject(to, "mean", isfinite(tr->mean) ? cJSON_CreateNumber(tr->mean) : cJSON_CreateNull());
        cJSON_AddItemToObject(to, "std", isfinite(tr->std) ? cJSON_CreateNumber(tr->std) : cJSON_CreateNull());
        cJSON_AddNumberToObject(to, "seconds", tr->seconds);
        if (res.n_rungs > 1) {
            cJSON_AddNumberToObject(to, "rung", tr->rung);
            cJSON_AddNumberToObject(to, "rows", (double)tr->rows);
        }
        cJSON_AddItemToArray(arr, to);
    }
    cJSON_AddNumberToObject(srch, "best", (double)res.best);
    /* The model's metrics: its training-row evaluation (optimistic, as
     * train without --test says) with the search beside it. */
    char *mj = vg_evaluation_json(m, &e);
    cJSON *metrics_js = mj ? cJSON_Parse(mj) : NULL;
    vg_free(mj);
    if (metrics_js) {
        cJSON_AddStringToObject(metrics_js, "evaluated_on", "the training rows (optimistic)");
        cJSON_AddItemReferenceToObject(metrics_js, "search", srch);
    }
    char *text = metrics_js ? cJSON_PrintUnformatted(metrics_js) : NULL;
    cJSON_Delete(metrics_js);
    if (!text || vg_model_set_metrics_json(m, text) || vg_model_save(m, out)) {
        cJSON_free(text);
        cli_error("tune");
        goto free_all;
    }
    cJSON_free(text);
    if (json) {
        cJSON_AddStringToObject(js, "model", mo.model);
        cJSON_AddStringToObject(js, "output", out);
        char *s = cJSON_PrintUnformatted(js);
        puts(s);
        cJSON_free(s);
    } else {
        printf("%s, %s search, %zu trials, %d folds (%s) each, metric %s (%s is better)", mo.model, search,
               res.n_trials, fo.folds, vg_folds_kind_str(tp.cv.kind), metric, res.higher_better ? "higher" : "lower");
        if (res.n_rungs > 1) printf(", successive halving over %u rungs", res.n_rungs);
        if (res.budget_hit) printf(", stopped by the %g s time budget", budget);
        printf("\n\n%5s %10s %9s %9s  %s%s\n", "trial", "mean", "std", "seconds", res.n_rungs > 1 ? "rung     rows  " : "",
               "parameters");
        for (size_t k = 0; k < res.n_trials; k++) {
            const vg_tune_trial *tr = &res.trials[k];
            printf("%4zu%c %10.5f %9.5f %9.2f  ", k + 1, k == res.best ? '*' : ' ', tr->mean, tr->std, tr->seconds);
            if (res.n_rungs > 1) printf("%4u %8zu  ", tr->rung, tr->rows);
            for (size_t i = 0; i < tr->n_params; i++) printf("%s%s", i ? " " : "", tr->params[i]);
            putchar('\n');
        }
        printf("\nbest: trial %zu, refitted on all %zu rows and saved to %s (search %.1f s)\n", res.best + 1,
               vg_table_rows(t), out, res.seconds);
    }
    rc = VG_EXIT_OK;
free_all:
    cJSON_Delete(js);
    vg_evaluation_free(&e);
    vg_model_free(m);
    vg_tune_result_free(&res);
    vg_table_free(t);
    vg_table_free(unused);
done:
    for (size_t i = 0; i < n_axes; i++) vg_tune_axis_free(&axes[i]);
    free(axes);
    cli_list_free(&grids);
    cli_model_opts_free(&mo);
    cli_data_opts_free(&o);
    return rc;
}
