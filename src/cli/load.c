/* Loading the training data and its held-out test part for train/compare:
 * --test FILE reads a second file; --split F holds out a stratified
 * fraction of --data (the classes are decided on the whole file only to
 * stratify; the model later fits everything on the training part alone). */
#include "cli.h"
#include "vigil/format.h"
#include "vigil/kdd.h"
#include "vigil/split.h"

#include <string.h>

int cli_load_train_test(const char *cmd, const cli_data_opts *o, const vg_data_spec *spec, vg_table **train,
                        vg_table **test)
{
    *train = *test = NULL;
    vg_table *all = NULL;
    if (vg_data_read(o->data, spec, &all)) {
        cli_error(cmd);
        return -1;
    }
    if (o->test) {
        /* The test log gets its own labels file or none: --labels names
         * lines of --data, and applied to another file it would label
         * whatever happens to sit on those line numbers. */
        vg_data_spec ts = *spec;
        vg_logfmt_options tlo;
        if (spec->log) {
            tlo = *spec->log;
            tlo.labels_path = o->test_labels;
            ts.log = &tlo;
        }
        /* Each file's column types are inferred alone; the test file takes
         * the training file's, as a model's data always does: categories
         * read again as categories in the file's own text, and text where
         * training saw numbers refused before training. */
        if (vg_data_read_like(o->test, &ts, all, test) || vg_table_check_numbers_like(*test, all)) {
            cli_error(cmd);
            vg_table_free(*test);
            *test = NULL;
            vg_table_free(all);
            return -1;
        }
        /* Refused before training: metrics need the truth of every test row. */
        const char *label = vg_data_label(all, spec);
        if (vg_table_find(*test, label) < 0) {
            if (spec->log)
                fprintf(stderr,
                        "vigil %s: --test: %s has no labels to evaluate against: give its attack lines or "
                        "event ids with --test-labels FILE (--labels is for --data only)\n",
                        cmd, o->test);
            else
                fprintf(stderr, "vigil %s: --test: %s has no label column '%s' to evaluate against\n", cmd, o->test,
                        label);
            vg_table_free(*test);
            *test = NULL;
            vg_table_free(all);
            return -1;
        }
        *train = all;
        return 0;
    }
    if (!(o->split > 0)) {
        *train = all;
        return 0;
    }
    const vg_format *fmt = vg_format_find(spec->format);
    int kdd = fmt && fmt->kdd_labels;
    const char *label = vg_data_label(all, spec);
    long col = vg_table_find(all, label);
    if (col < 0) {
        fprintf(stderr, "vigil %s: --label: %s has no column '%s'\n", cmd, o->data, label);
        vg_table_free(all);
        return -1;
    }
    size_t rows = vg_table_rows(all);
    int32_t *y = vg_malloc((rows ? rows : 1) * sizeof *y);
    vg_classes classes = { 0 };
    vg_label_spec ls = { .task = spec->task, .kdd = kdd, .positive = spec->positive, .normal = spec->normal };
    size_t *tr = NULL, *te = NULL, ntr = 0, nte = 0;
    int rc = -1;
    if (!y) vg_fail(VG_ERR_NOMEM, "out of memory");
    else if (spec->task == VG_TASK_REGRESSION) {
        /* No classes to stratify: one group, a seeded random hold-out. */
        memset(y, 0, rows * sizeof *y);
        if (!vg_split_holdout(y, rows, 1, o->split, o->seed, &tr, &ntr, &te, &nte) &&
            !vg_table_take(all, tr, ntr, train) && !vg_table_take(all, te, nte, test))
            rc = 0;
    } else if (!vg_classes_fit(all, (size_t)col, &ls, &classes, y)) {
        if (!vg_split_holdout(y, rows, classes.n, o->split, o->seed, &tr, &ntr, &te, &nte) &&
            !vg_table_take(all, tr, ntr, train) && !vg_table_take(all, te, nte, test))
            rc = 0;
        vg_classes_free(&classes);
    }
    if (rc) {
        cli_error(cmd);
        vg_table_free(*train);
        *train = NULL;
    }
    vg_free(y), vg_free(tr), vg_free(te);
    vg_table_free(all);
    return rc;
}
