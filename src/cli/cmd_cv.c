/* vigil cv: cross-validate a model on one data file. */
#include "cli.h"
#include "vigil/cv.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <string.h>

static const char help[] =
    "usage: vigil cv --data FILE --model NAME [--param KEY=VALUE]... [--folds K]\n"
    "                [--group COL | --time COL] [--threshold-by GOAL] [--sampler NAME\n"
    "                [--sampler-param K=V]...] [--select K [--select-by HOW]]\n"
    "                [data options as for train]\n"
    "                [--json]\n"
    "\n"
    "Fit the model K times (default 5), each time on the training rows of one fold\n"
    "only, score it on that fold's held-out rows, and print every fold and the mean\n"
    "and spread (standard deviation over the folds) of every metric. Everything that\n"
    "is fitted (the pipeline's imputer, scaler and categories, class weights, a\n"
    "sampler, the model, a --threshold-by threshold) sees only the fold's training rows.\n"
    "\n"
    "  --folds K          number of folds (default 5)\n"
    "                     default: stratified, every class spread evenly over the folds\n"
    "  --group COL        grouped: all rows with the same COL value (a host, a user) sit in\n"
    "                     the same fold, so one entity is never on both sides of a fit\n"
    "  --time COL         time-ordered: rows sorted by COL cut into K+1 blocks; fit f trains\n"
    "                     on blocks 1..f and is scored on block f+1 (never on the past)\n"
    "  --threshold-by G   score each fold at a threshold chosen on out-of-fold scores of\n"
    "                     its own training rows (nested); G as for train\n"
    "  --json             one JSON object: folds, per-fold metrics, mean and std\n"
    "Data, --model and --param options are those of 'vigil train'; --seed deals the folds\n"
    "and seeds every fit; results do not depend on --threads.\n";

static void print_table(const vg_cv_result *r, const char *model, const char *kind)
{
    printf("%s, %u folds (%s), %zu rows\n\n", model, r->folds, kind, r->rows);
    printf("%-16s", "fold");
    for (uint32_t f = 0; f < r->folds; f++) printf(" %9u", f + 1);
    printf(" %9s %9s\n", "mean", "std");
    printf("%-16s", "train_rows");
    for (uint32_t f = 0; f < r->folds; f++) printf(" %9zu", r->train_rows[f]);
    printf("\n%-16s", "test_rows");
    for (uint32_t f = 0; f < r->folds; f++) printf(" %9zu", r->test_rows[f]);
    printf("\n");
    for (size_t j = 0; j < r->n_metrics; j++) {
        printf("%-16s", r->names[j]);
        for (uint32_t f = 0; f < r->folds; f++) printf(" %9.4f", r->value[(size_t)f * r->n_metrics + j]);
        printf(" %9.4f %9.4f\n", r->mean[j], r->std[j]);
    }
    if (!r->regression)
        printf("\nprecision, recall and f1: binary - of the positive class; multiclass - macro averages\n");
}

static cJSON *number_or_null(double x)
{
    return isfinite(x) ? cJSON_CreateNumber(x) : cJSON_CreateNull();
}

static void print_json(const vg_cv_result *r, const char *model, const char *kind)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "model", model);
    cJSON_AddStringToObject(o, "folds_kind", kind);
    cJSON_AddNumberToObject(o, "folds", r->folds);
    cJSON_AddNumberToObject(o, "rows", (double)r->rows);
    cJSON *arr = cJSON_AddArrayToObject(o, "per_fold");
    for (uint32_t f = 0; f < r->folds; f++) {
        cJSON *fo = cJSON_CreateObject();
        cJSON_AddNumberToObject(fo, "train_rows", (double)r->train_rows[f]);
        cJSON_AddNumberToObject(fo, "test_rows", (double)r->test_rows[f]);
        for (size_t j = 0; j < r->n_metrics; j++)
            cJSON_AddItemToObject(fo, r->names[j], number_or_null(r->value[(size_t)f * r->n_metrics + j]));
        cJSON_AddItemToArray(arr, fo);
    }
    cJSON *mean = cJSON_AddObjectToObject(o, "mean"), *sd = cJSON_AddObjectToObject(o, "std");
    for (size_t j = 0; j < r->n_metrics; j++) {
        cJSON_AddItemToObject(mean, r->names[j], number_or_null(r->mean[j]));
        cJSON_AddItemToObject(sd, r->names[j], number_or_null(r->std[j]));
    }
    char *s = cJSON_PrintUnformatted(o);
    puts(s);
    cJSON_free(s);
    cJSON_Delete(o);
}

int cmd_cv(int argc, char **argv)
{
    cli_data_opts o;
    cli_data_opts_init(&o);
    cli_model_opts mo;
    cli_model_opts_init(&mo);
    cli_fold_opts fo;
    cli_fold_opts_init(&fo);
    const char *v, *threshold_by = NULL;
    int json = 0, rc = VG_EXIT_USAGE, r;
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
        } else if ((r = cli_fold_opts_parse(&fo, "cv", argc, argv, &i))) {
            if (r < 0) goto done;
        } else if ((r = cli_opt(argc, argv, &i, "--threshold-by", &v))) {
            if (r < 0) goto done;
            threshold_by = v;
        } else if (cli_flag(argv, i, "--json")) {
            json = 1;
        } else {
            cli_usage_error("cv", "unknown option '%s'", argv[i]);
            goto done;
        }
    }
    vg_data_spec spec;
    vg_cv_params p = vg_cv_params_default();
    if (cli_data_opts_finish(&o, "cv", &spec) || cli_fold_opts_finish(&fo, "cv", &o, &p)) goto done;
    vg_operating_point op;
    if (threshold_by && vg_operating_point_parse(threshold_by, &op)) {
        cli_error("cv");
        goto done;
    }
    vg_train_request rq = cli_model_opts_request(&mo, &o, &spec);
    if (vg_train_request_check(&rq)) {
        cli_error("cv");
        goto done;
    }
    rc = VG_EXIT_ERROR;
    vg_table *t = NULL, *unused = NULL;
    if (cli_load_train_test("cv", &o, &spec, &t, &unused)) goto done;
    rq.table = t;
    p.op = threshold_by ? &op : NULL;
    vg_cv_result res;
    if (vg_cv_run(&rq, &p, &res)) {
        cli_error("cv");
    } else {
        const char *kind = spec.task == VG_TASK_REGRESSION && p.kind == VG_FOLDS_STRATIFIED ? "shuffled"
                                                                                             : vg_folds_kind_str(p.kind);
        if (json) print_json(&res, mo.model, kind);
        else print_table(&res, mo.model, kind);
        vg_cv_result_free(&res);
        rc = VG_EXIT_OK;
    }
    vg_table_free(t);
    vg_table_free(unused);
done:
    cli_model_opts_free(&mo);
    cli_data_opts_free(&o);
    return rc;
}
