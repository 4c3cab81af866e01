/* The options that choose what is fitted, parsed once for train, cv and
 * tune, so the three commands accept the same spelling of a model. */
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
                               .seed = d->seed,
                               .threads = d->threads };
}
