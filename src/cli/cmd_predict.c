/* vigil predict: score records with a saved model and write a CSV. */
#include "cli.h"

#include <errno.h>
#include <string.h>

#include "vigil/decision.h"

static const char help[] =
    "usage: vigil predict --model MODEL.vgm --data FILE [--explain] [--threshold P]\n"
    "                     [-o OUT.csv] [--threads N]\n"
    "\n"
    "Score every record of FILE (read the way the training data was; a label column\n"
    "is not needed) and write CSV with a header: row,score,prediction. row is the\n"
    "record's 1-based position in FILE, score the anomaly score (binary: probability\n"
    "of the positive class; several classes: 1 - P(normal class)), prediction the\n"
    "decided class: a record with score >= --threshold (default 0.5) is an anomaly\n"
    "and gets its most probable class that is not the normal one, any other record\n"
    "the normal class - the decision serve and watch make. For a regression model\n"
    "both are the predicted value.\n"
    "A log (login, weblog) has lines that are no events: a header, blank lines and\n"
    "bad lines, which are skipped, counted and named on standard error. So for a log\n"
    "the first column is line instead of row: the event's 1-based line number in\n"
    "FILE (a header counted), the number an editor or a --labels file uses.\n"
    "Without -o the CSV goes to standard output.\n"
    "Input columns FILE lacks or leaves empty in every row (the 9-column RBA login\n"
    "file for a model of the 16-column one) are imputed as missing, with one\n"
    "warning naming them; more than half of them absent is an error.\n"
    "\n"
    "--explain adds why: explained (the class whose raw score is explained: the\n"
    "positive class, or the decided one), raw_score (gbdt: log-odds; forest and\n"
    "tree: probability), bias (the average raw score) and one contrib_FIELD column\n"
    "per input field (exact TreeSHAP values; one-hot columns folded into their\n"
    "field). bias plus the contributions equals raw_score.\n"
    "lstm, gru: raw_score is the log-odds (or the class logit); the contributions are\n"
    "integrated gradients over the features of the row's own event, from a blank event\n"
    "(numbers at their training mean, no category) with the entity's earlier events\n"
    "kept; bias is the score of that blank event after the same history.\n";

/* Write a CSV field, quoting it when it holds a delimiter, quote or newline. */
static void put_field(FILE *f, const char *s)
{
    if (!strpbrk(s, ",\"\r\n")) {
        fputs(s, f);
        return;
    }
    fputc('"', f);
    for (; *s; s++) {
        if (*s == '"') fputc('"', f);
        fputc(*s, f);
    }
    fputc('"', f);
}

int cmd_predict(int argc, char **argv)
{
    cli_apply_opts a;
    cli_apply_opts_init(&a);
    const char *out = NULL, *v;
    int explain = 0, r;
    for (int i = 1; i < argc; i++) {
        if (cli_is_help(argv[i])) {
            fputs(help, stdout);
            return VG_EXIT_OK;
        }
        if ((r = cli_apply_opts_parse(&a, "predict", argc, argv, &i))) {
            if (r < 0) return VG_EXIT_USAGE;
        } else if ((r = cli_opt(argc, argv, &i, "--output", &v)) || (r = cli_opt(argc, argv, &i, "-o", &v))) {
            if (r < 0) return VG_EXIT_USAGE;
            out = v;
        } else if (cli_flag(argv, i, "--explain")) {
            explain = 1;
        } else {
            cli_usage_error("predict", "unknown option '%s'", argv[i]);
            return VG_EXIT_USAGE;
        }
    }
    if (cli_apply_opts_finish(&a, "predict")) return VG_EXIT_USAGE;
    if (out && cli_check_output("predict", out)) return VG_EXIT_USAGE;
    vg_model *m = NULL;
    vg_table *t = NULL;
    float *proba = NULL;
    vg_explanation ex = { 0 };
    vg_decision_rule rule;
    if (vg_model_load(a.model_path, &m) || vg_decision_rule_for_model(m, a.threshold, &rule) ||
        vg_model_read_data(m, a.data, &t) || vg_model_predict(m, t, a.threads, &proba) ||
        (explain && vg_model_explain(m, t, a.threads, &ex))) {
        cli_error("predict");
        vg_free(proba);  /* scored before an explanation was refused */
        vg_table_free(t);
        vg_model_free(m);
        return VG_EXIT_ERROR;
    }
    int rc = VG_EXIT_OK;
    FILE *f = out ? fopen(out, "w") : stdout;
    if (!f) {
        fprintf(stderr, "vigil predict: %s: %s\n", out, strerror(errno));
        rc = VG_EXIT_ERROR;
    } else {
        const vg_classes *c = vg_model_classes(m);
        const vg_pipeline *pl = vg_model_pipeline(m);
        /* A log's refused and header lines have no row: its records are
         * named by their line in the file, and the header says so. A CSV
         * or KDD file is refused whole on a bad record, so a record's
         * position there never drifts from what the user counts. */
        int by_line = vg_logfmt_find(vg_model_format(m)) != NULL;
        fputs(by_line ? "line,score,prediction" : "row,score,prediction", f);
        if (explain) {
            fputs(",explained,raw_score,bias", f);
            for (size_t k = 0; k < ex.n_inputs; k++) {
                fputs(",contrib_", f);
                fputs(vg_pipeline_input_name(pl, k), f);
            }
        }
        fputc('\n', f);
        for (size_t i = 0; i < vg_table_rows(t); i++) {
            unsigned long long id = by_line ? (unsigned long long)vg_table_line(t, i) : (unsigned long long)i + 1;
            if (vg_model_is_regression(m)) {
                char value[24];
                vg_float_text(proba[i], value, sizeof value);
                fprintf(f, "%llu,%s,%s", id, value, value);
            } else {
                vg_decision d = vg_decision_make(&rule, proba + i * rule.n_outputs);
                char score[24];
                vg_float_text(d.score, score, sizeof score);
                fprintf(f, "%llu,%s,", id, score);
                put_field(f, c->names[d.label]);
            }
            if (explain) {
                const double *ct = ex.contrib + i * (ex.n_inputs + 1);
                fputc(',', f);
                put_field(f, c->names[vg_model_is_regression(m) ? 0 : ex.output[i]]);
                fprintf(f, ",%.6g,%.6g", ex.raw[i], ct[ex.n_inputs]);
                for (size_t k = 0; k < ex.n_inputs; k++) fprintf(f, ",%.6g", ct[k]);
            }
            fputc('\n', f);
        }
        if (out && fclose(f) != 0) {
            fprintf(stderr, "vigil predict: %s: %s\n", out, strerror(errno));
            rc = VG_EXIT_ERROR;
        } else if (!out && fflush(stdout) != 0) {
            rc = VG_EXIT_ERROR;
        }
    }
    vg_free(proba);
    vg_explanation_free(&ex);
    vg_table_free(t);
    vg_model_free(m);
    return rc;
}
