/* The options that choose what is fitted, parsed once for train, cv and
 * tune, so the three commands accept the same spelling of a model. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cli.h"

void cli_model_opts_init(cli_model_opts *o)
{
    memset(o, 0, sizeof *o);
    o->model = "forest";
}

void cli_model_opts_free(cli_model_opts *o)
{
    cli_list_free(&o->params);
    cli_list_free(&o->sampler_params);
}

int cli_model_opts_parse(cli_model_opts *o, int argc, char **argv, int *i)
{
    const char *v;
    int r;
    if ((r = cli_opt(argc, argv, i, "--model", &v))) {
        if (r > 0) o->model = v;
    } else if ((r = cli_opt(argc, argv, i, "--param", &v))) {
        if (r > 0) cli_list_add(&o->params, v);
    } else if ((r = cli_opt(argc, argv, i, "--sampler", &v))) {
        if (r > 0) o->sampler = v;
    } else if ((r = cli_opt(argc, argv, i, "--sampler-param", &v))) {
        if (r > 0) cli_list_add(&o->sampler_params, v);
    } else if ((r = cli_opt(argc, argv, i, "--select", &v))) {
        if (r > 0) {
            char *end;
            errno = 0;
            unsigned long k = strtoul(v, &end, 10);
            if (end == v || *end || errno || k < 1 || k > 100000 || v[0] == '-') {
                fprintf(stderr, "vigil: --select: '%s' is not a column count in [1, 100000]\n", v);
                return -1;
            }
            o->select_k = (unsigned)k;
        }
    } else if ((r = cli_opt(argc, argv, i, "--select-by", &v))) {
        if (r > 0) o->select_by = v;
    }
    return r;
}

vg_train_request cli_model_opts_request(const cli_model_opts *o, const cli_data_opts *d, const vg_data_spec *spec)
{
    return (vg_train_request){ .data = *spec,
                               .model = o->model,
                               .params = o->params.items,
                               .n_params = o->params.n,
                               .sampler = o->sampler,
                               .sampler_params = o->sampler_params.items,
                               .n_sampler_params = o->sampler_params.n,
                               .select_k = o->select_k,
                               .select_by = o->select_by,
                               .seed = d->seed,
                               .threads = d->threads };
}
