/* The options of the commands that apply a saved model to data (eval,
 * predict): --model, --data, --threads and --threshold, parsed once so they
 * are spelled and bounded alike. */
#include "cli.h"

#include <math.h>

void cli_apply_opts_init(cli_apply_opts *o)
{
    *o = (cli_apply_opts){ .threshold = NAN };
}

int cli_apply_opts_parse(cli_apply_opts *o, const char *cmd, int argc, char **argv, int *i)
{
    const char *v;
    int r;
    if ((r = cli_opt(argc, argv, i, "--model", &v))) {
        if (r > 0) o->model_path = v;
    } else if ((r = cli_opt(argc, argv, i, "--data", &v))) {
        if (r > 0) o->data = v;
    } else if ((r = cli_opt(argc, argv, i, "--threads", &v))) {
        if (r > 0 && cli_parse_int(cmd, "--threads", v, 0, 256, &o->threads)) return -1;
    } else if ((r = cli_opt(argc, argv, i, "--threshold", &v))) {
        if (r > 0 && cli_parse_double(cmd, "--threshold", v, -1e300, 1e300, &o->threshold)) return -1;
    }
    return r;
}

int cli_apply_opts_finish(const cli_apply_opts *o, const char *cmd)
{
    if (o->model_path && o->data) return 0;
    cli_usage_error(cmd, "--model and --data are required");
    return -1;
}
