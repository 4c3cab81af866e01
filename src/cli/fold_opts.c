/* How cv and tune deal their folds (--folds K, --group COL, --time COL),
 * parsed and checked once so both commands spell and refuse them alike. */
#include "cli.h"

void cli_fold_opts_init(cli_fold_opts *o)
{
    *o = (cli_fold_opts){ .folds = 5 };
}

int cli_fold_opts_parse(cli_fold_opts *o, const char *cmd, int argc, char **argv, int *i)
{
    const char *v;
    int r;
    if ((r = cli_opt(argc, argv, i, "--folds", &v))) {
        if (r > 0 && cli_parse_int(cmd, "--folds", v, 2, 1000, &o->folds)) return -1;
    } else if ((r = cli_opt(argc, argv, i, "--group", &v))) {
        if (r > 0) o->group = v;
    } else if ((r = cli_opt(argc, argv, i, "--time", &v))) {
        if (r > 0) o->time_col = v;
    }
    return r;
}

int cli_fold_opts_finish(const cli_fold_opts *o, const char *cmd, const cli_data_opts *d, vg_cv_params *p)
{
    if (d->test || d->split > 0) {
        cli_usage_error(cmd, "--test and --split do not go with %s: the folds hold every row out in turn", cmd);
        return -1;
    }
    if (o->group && o->time_col) {
        cli_usage_error(cmd, "--group and --time are two ways to deal folds: give one");
        return -1;
    }
    p->folds = (uint32_t)o->folds;
    p->kind = o->group ? VG_FOLDS_GROUPED : o->time_col ? VG_FOLDS_TIME : VG_FOLDS_STRATIFIED;
    p->column = o->group ? o->group : o->time_col;
    return 0;
}
