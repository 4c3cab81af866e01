/* vigil inspect: describe a .vgm model file. */
#include "cli.h"

#include <cjson/cJSON.h>

#include "vigil/evaluate.h"

static const char help[] =
    "usage: vigil inspect MODEL.vgm\n"
    "\n"
    "Print what a model file holds: the model family and parameters, the task and its\n"
    "classes, training metadata, the fitted estimator, the pipeline (every input column\n"
    "with its type and statistics) and the metrics stored at training time. A\n"
    "truncated, corrupted or newer-version file is refused with a message.\n";

int cmd_inspect(int argc, char **argv)
{
    const char *path = NULL;
    for (int i = 1; i < argc; i++) {
        if (cli_is_help(argv[i])) {
            fputs(help, stdout);
            return VG_EXIT_OK;
        }
        if (argv[i][0] == '-' || path) {
            cli_usage_error("inspect", "unexpected argument '%s'", argv[i]);
            return VG_EXIT_USAGE;
        }
        path = argv[i];
    }
    if (!path) {
        cli_usage_error("inspect", "MODEL.vgm is required");
        return VG_EXIT_USAGE;
    }
    vg_model *m;
    if (vg_model_load(path, &m)) {
        cli_error("inspect");
        return VG_EXIT_ERROR;
    }
    vg_wbuf out;
    vg_wbuf_init(&out);
    vg_model_describe(m, &out);
    vg_importance_format(m, 20, &out);
    fwrite(out.data, 1, out.len, stdout);
    vg_wbuf_free(&out);
    const char *metrics = vg_model_metrics_json(m);
    if (metrics) {
        cJSON *o = cJSON_Parse(metrics);
        /* Curve points and histograms are for plots (report, dashboard), not for reading. */
        cJSON_DeleteItemFromObject(o, "curves");
        cJSON_DeleteItemFromObject(o, "score_histogram");
        char *pretty = o ? cJSON_Print(o) : NULL;
        printf("\nmetrics at training time\n%s\n", pretty ? pretty : metrics);
        cJSON_free(pretty);
        cJSON_Delete(o);
    }
    vg_model_free(m);
    return VG_EXIT_OK;
}
