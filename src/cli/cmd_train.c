/* vigil train: fit a model, evaluate it on held-out data, save it. */
#include "cli.h"
#include "vigil/cv.h"
#include "vigil/evaluate.h"
#include "vigil/format.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static const char help[] =
    "usage: vigil train --data FILE [--test FILE | --split FRACTION] -o MODEL.vgm [options]\n"
    "\n"
    "Fit a model on labelled data, evaluate it on --test (or a stratified --split of\n"
    "--data; otherwise on the training rows, which is optimistic) and save it.\n"
    "\n"
    "data:\n"
    "  --data FILE          training data: CSV (plain or .gz, header optional) or KDD records\n"
    "  --test FILE          separate labelled test data, read like --data\n"
    "  --split FRACTION     hold out this stratified fraction of --data for testing\n"
    "  --format FORMAT      the data's format, one of the formats below (default csv)\n"
    "  --task TASK          binary (default; KDD: attack vs normal), category (KDD: normal,\n"
    "                       DoS, Probe, R2L, U2R), label (every label value is a class) or\n"
    "                       regression (a numeric label; gbdt)\n"
    "  --delimiter SEP      CSV field separator: , ; | tab (default: detected from the first lines)\n"
    "  --label COL          the label column (default: 'label' for kdd, else the last column)\n"
    "  --positive VALUE     binary: the label value that is the positive (attack) class\n"
    "  --normal VALUE       the normal class (default: 'normal' or 'benign' when present, else\n"
    "                       the negative class of a binary task); saved in the model\n"
    "  --ignore COL,...     columns never used as features (ids, timestamps)\n"
    "  --categorical COL,.. read these columns as categories even if they look numeric\n"
    "  --text COL,...       URL/text columns: replaced by URL features (length, entropy, SQL\n"
    "                       injection / XSS / traversal tokens, hashed 3-grams, ...); for\n"
    "                       logreg and linear-svm by hashed character n-grams with TF-IDF\n"
    "                       (--param ngram_range=1,3 --param n_features=2^20); --format weblog:\n"
    "                       any of request, path, query, agent (each line's raw text)\n"
    "  --ip COL,...         IP address columns (also found by their values): replaced by their\n"
    "                       /24 and /16 networks (IPv6 /48, /32), class and private, reserved\n"
    "                       and loopback flags; with --geoip FILE also their country\n"
    "  --entity COL         lstm, gru: score each row with the last `window` rows of the same\n"
    "                       value of COL (a user, a host); log formats have their own entity\n"
    "  --order COL          lstm, gru: the numeric column (time) that orders each entity's rows\n"
    "                       (predict and eval sort a file by it; watch takes rows as they come)\n"
    "logs (a log --format):\n"
    "  --labels FILE        the attack lines of --data: line numbers or request ids, one per\n"
    "                       line (weblog lines carry no labels of their own)\n"
    "  --test-labels FILE   the same for the --test log; a --test log without labels is refused\n"
    "  --task rule-score    label events by the log format's rules (no labels needed)\n"
    "  --max-entities N     per-entity state kept (least recently seen dropped; default 1000000)\n"
    "  --entity-ttl SECONDS state idle this long (event time) is dropped (default 604800)\n"
    "  --geoip FILE         MaxMind .mmdb or IP-range file for client countries\n"
    "model:\n"
    "  --model NAME         one of the models listed below (default forest)\n"
    "anomaly models (fitted without labels; labels in the data only evaluate them):\n"
    "  --fit-on all|normal  fit on every row (default) or on the rows labelled normal only\n"
    "  --contamination F    the operating point: the share F of the fitted rows that score at\n"
    "                       or above the saved threshold (default 0.01; or --param contamination=F)\n"
    "  --alert-rate R       the same as alerts per 10,000 events (R/10000 = F)\n"
    "                       labels: --label, the format's label (kdd, logs), or a csv column\n"
    "                       named 'label'; without them every column is a feature\n"
    "  --param KEY=VALUE    model parameter, scikit-learn names (repeatable), e.g.\n"
    "                       n_estimators=200 max_depth=12 C=0.5 class_weight=balanced;\n"
    "                       lstm, gru: window=T events per entity (default 8), hidden_size\n"
    "                       stack_anomaly=iforest|kmeans|lof|autoencoder (a supervised model):\n"
    "                       that anomaly model is fitted on the training rows (labels unused)\n"
    "                       and its score is one more column; stack_anomaly.KEY=V sets its\n"
    "                       parameters (the model is saved as 'hybrid')\n"
    "  --model vote:A,B,... an ensemble of families: vote (soft by default; voting=hard,\n"
    "                       weights=2,1,1) or stack:A,B,... (out-of-fold probabilities of\n"
    "                       the parts into a logistic regression; cv=5, C=1); a part's own\n"
    "                       parameter is PART.KEY=VALUE, e.g. --param gbdt.max_depth=6;\n"
    "                       bagging: estimator=tree (any classifier), tree.max_depth=...;\n"
    "                       voting=rank (binary) averages each part's rank among the training\n"
    "                       rows and takes anomaly parts (vote:gbdt,autoencoder), fitted on the\n"
    "                       normal rows; transform=log1p: log1p of the numeric columns for the\n"
    "                       one-hot/scaled parts (mlp, logreg, svm, knn, autoencoder)\n"
    "  --select K           keep the K best columns, chosen on the training rows of each fit\n"
    "                       only (inside every cv/tune fold), saved in the model\n"
    "  --select-by HOW      importance (a 100-tree forest's, default) or mutual_info\n"
    "  --sampler NAME       resample the training rows (never the test rows): smote,\n"
    "                       borderline-smote, adasyn, random-over or random-under; categorical\n"
    "                       columns SMOTE-NC style (vigil/sampler.h)\n"
    "  --sampler-param K=V  k_neighbors (5), m_neighbors (borderline, 10), sampling_strategy\n"
    "                       (auto, minority/majority, or a fraction), repeatable\n"
    "  --seed N             random seed (default 42); results are reproducible per seed\n"
    "  --threads N          worker threads (default: all CPUs); results do not depend on it\n"
    "output:\n"
    "  -o, --output FILE    where to save the model (.vgm)\n"
    "  --json               print the evaluation as one JSON object\n"
    "  --threshold P        the operating point saved in the model: a record is an anomaly\n"
    "                       when its score >= P (default 0.5); predict, eval, report, serve\n"
    "                       and watch use it unless given their own --threshold\n"
    "  --threshold-by GOAL  choose the operating point on out-of-fold scores of the training\n"
    "                       rows (never --test or the held-out split): fpr:F (most detections\n"
    "                       at false-positive rate <= F), recall:R, f1, cost:FN=a,FP=b or\n"
    "                       alerts:R (at most a fraction R of records flagged); saved in the model\n"
    "  --threshold-folds K  folds for --threshold-by (default 5)\n"
    "\n"
    "models:\n";

static void print_models_and_formats(void)
{
    for (const vg_estimator_kind *const *k = vg_estimator_all(); *k; k++) cli_print_entry((*k)->name, (*k)->summary);
    puts("\nformats:");
    for (size_t i = 0; vg_format_at(i); i++) cli_print_entry(vg_format_at(i)->name, vg_format_at(i)->summary);
}

static int report(const vg_model *m, const vg_evaluation *e, const char *evaluated_on, int json, const char *out)
{
    if (json) {
        char *text = vg_evaluation_json(m, e);
        if (!text) {
            fprintf(stderr, "vigil train: out of memory\n");
            return -1;
        }
        cJSON *o = cJSON_Parse(text);
        vg_free(text);
        if (!o) return -1;
        cJSON_AddStringToObject(o, "evaluated_on", evaluated_on);
        cJSON_AddStringToObject(o, "output", out);
        char *s = cJSON_PrintUnformatted(o);
        puts(s);
        cJSON_free(s);
        cJSON_Delete(o);
        return 0;
    }
    printf("trained %s on %zu rows in %.3f s\n", vg_model_family(m), vg_model_train_rows(m),
           vg_model_train_seconds(m));
    const char *by = NULL;
    double thr = vg_model_threshold(m, &by);
    if (vg_model_is_anomaly(m)) printf("threshold %.6g (%s)\n", thr, by ? by : "given");
    else if (by && isfinite(thr)) printf("operating point: score >= %.6g, chosen by %s\n", thr, by);
    printf("evaluated on %s: %zu rows", evaluated_on,
           vg_evaluation_scored_rows(e));
    if (e->excluded) printf(" (%zu more rows have labels the model never saw and are not scored)", e->excluded);
    printf(", predicted in %.3f s\n\n", e->predict_seconds);
    vg_wbuf text;
    vg_wbuf_init(&text);
    vg_evaluation_format(m, e, &text);
    fwrite(text.data, 1, text.len, stdout);
    vg_wbuf_free(&text);
    struct stat sb;
    if (stat(out, &sb) == 0) printf("\nsaved %s (%lld bytes)\n", out, (long long)sb.st_size);
    return 0;
}

int cmd_train(int argc, char **argv)
{
    cli_data_opts o;
    cli_data_opts_init(&o);
    cli_model_opts mo;
    cli_model_opts_init(&mo);
    const char *out = NULL, *v;
    const char *threshold_by = NULL;
    int json = 0, rc = VG_EXIT_USAGE, r, threshold_set = 0, fit_on_normal = 0, threshold_folds = 5;
    double threshold = 0, contamination = 0, alert_rate = 0;
    for (int i = 1; i < argc; i++) {
        if (cli_is_help(argv[i])) {
            fputs(help, stdout);
            print_models_and_formats();
            rc = VG_EXIT_OK;
            goto done;
        }
        if ((r = cli_data_opts_parse(&o, argc, argv, &i))) {
            if (r < 0) goto done;
        } else if ((r = cli_model_opts_parse(&mo, argc, argv, &i))) {
            if (r < 0) goto done;
        } else if ((r = cli_opt(argc, argv, &i, "--output", &v)) || (r = cli_opt(argc, argv, &i, "-o", &v))) {
            if (r < 0) goto done;
            out = v;
        } else if ((r = cli_opt(argc, argv, &i, "--threshold", &v))) {
            if (r < 0 || cli_parse_double("train", "--threshold", v, -1e300, 1e300, &threshold)) goto done;
            threshold_set = 1;
        } else if ((r = cli_opt(argc, argv, &i, "--threshold-by", &v))) {
            if (r < 0) goto done;
            threshold_by = v;
        } else if ((r = cli_opt(argc, argv, &i, "--threshold-folds", &v))) {
            if (r < 0 || cli_parse_int("train", "--threshold-folds", v, 2, 100, &threshold_folds)) goto done;
        } else if ((r = cli_opt(argc, argv, &i, "--fit-on", &v))) {
            if (r < 0) goto done;
            if (strcmp(v, "all") != 0 && strcmp(v, "normal") != 0) {
                cli_usage_error("train", "--fit-on: '%s' is not all or normal", v);
                goto done;
            }
            fit_on_normal = strcmp(v, "normal") == 0;
        } else if ((r = cli_opt(argc, argv, &i, "--contamination", &v))) {
            if (r < 0 || cli_parse_double("train", "--contamination", v, 1e-9, 0.5, &contamination)) goto done;
        } else if ((r = cli_opt(argc, argv, &i, "--alert-rate", &v))) {
            if (r < 0 || cli_parse_double("train", "--alert-rate", v, 1e-5, 5000, &alert_rate)) goto done;
        } else if (cli_flag(argv, i, "--json")) {
            json = 1;
        } else {
            cli_usage_error("train", "unknown option '%s'", argv[i]);
            goto done;
        }
    }
    if (contamination > 0 && alert_rate > 0) {
        cli_usage_error("train", "--contamination and --alert-rate set the same thing: give one");
        goto done;
    }
    if (alert_rate > 0) contamination = alert_rate / 10000.0;
    vg_data_spec spec;
    if (cli_data_opts_finish(&o, "train", &spec)) goto done;
    if (!out) {
        cli_usage_error("train", "-o MODEL.vgm is required");
        goto done;
    }
    if (cli_check_output("train", out)) goto done;
    vg_operating_point op;
    if (threshold_by && threshold_set) {
        cli_usage_error("train", "--threshold and --threshold-by both set the threshold: give one");
        goto done;
    }
    if (threshold_by && vg_operating_point_parse(threshold_by, &op)) {
        cli_error("train");
        goto done;
    }
    vg_train_request rq = cli_model_opts_request(&mo, &o, &spec);
    rq.progress = cli_progress;
    rq.threshold_set = threshold_set, rq.threshold = threshold;
    rq.fit_on_normal = fit_on_normal, rq.contamination = contamination;
    /* Check the model and its parameters before reading any data. */
    if (vg_train_request_check(&rq)) {
        cli_error("train");
        goto done;
    }
    rc = VG_EXIT_ERROR;
    vg_table *train = NULL, *test = NULL;
    if (cli_load_train_test("train", &o, &spec, &train, &test)) goto done;
    rq.table = train;
    vg_model *m = NULL;
    vg_evaluation e = { 0 };
    /* --threshold-by: out-of-fold scores of the training rows choose the
     * threshold (vigil/cv.h); the test rows are read but never looked at. */
    if (threshold_by ? vg_cv_train(&rq, &op, (uint32_t)threshold_folds, NULL, &m) : vg_model_train(&rq, &m)) {
        cli_progress_end();
        cli_error("train");
        goto free_tables;
    }
    cli_progress_end();
    const char *evaluated_on = test ? (o.test ? o.test : "the held-out split") : "the training rows (optimistic)";
    if (vg_evaluate(m, test ? test : train, o.threads, &e)) {
        cli_error("train");
        goto free_model;
    }
    char *metrics = vg_evaluation_json(m, &e);
    if (!metrics || vg_model_set_metrics_json(m, metrics) || vg_model_save(m, out)) {
        vg_free(metrics);
        cli_error("train");
        goto free_eval;
    }
    vg_free(metrics);
    if (report(m, &e, evaluated_on, json, out) == 0) rc = VG_EXIT_OK;
free_eval:
    vg_evaluation_free(&e);
free_model:
    vg_model_free(m);
free_tables:
    vg_table_free(train);
    vg_table_free(test);
done:
    cli_model_opts_free(&mo);
    cli_data_opts_free(&o);
    return rc;
}
