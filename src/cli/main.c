/* vigil: the command-line entry point; dispatches to the subcommands. */
#include "cli.h"

#include <string.h>

static const char usage[] =
    "vigil " VG_VERSION_STRING ": detect attacks in security data with machine learning\n"
    "\n"
    "usage: vigil COMMAND [OPTIONS]\n"
    "\n"
    "commands:\n"
    "  train     fit a model on labelled data and save it (.vgm)\n"
    "  eval      evaluate a saved model on labelled data\n"
    "  predict   score new records with a saved model\n"
    "  compare   train several models on the same split and compare them\n"
    "  cv        cross-validate a model (stratified, grouped or time-ordered folds)\n"
    "  tune      search model parameters by cross-validation and save the best\n"
    "  inspect   describe a saved model file\n"
    "  serve     serve detections over HTTP/JSON\n"
    "  report    write an HTML report of a model's evaluation\n"
    "  synth     write a synthetic security log with labelled attacks\n"
    "  watch     follow logs (files, stdin, Redis streams) and raise alerts as lines arrive\n"
    "  alerts    list and filter the alerts of an alert store\n"
    "  ship      spread log lines over Redis stream shards by entity\n"
    "\n"
    "Run 'vigil COMMAND --help' for the options of a command.\n";

int main(int argc, char **argv)
{
    if (argc < 2 || cli_is_help(argv[1])) {
        fputs(usage, argc < 2 ? stderr : stdout);
        return argc < 2 ? VG_EXIT_USAGE : VG_EXIT_OK;
    }
    if (strcmp(argv[1], "--version") == 0) {
        puts("vigil " VG_VERSION_STRING);
        return VG_EXIT_OK;
    }
    static const struct {
        const char *name;
        int (*run)(int, char **);
    } commands[] = {
        { "train", cmd_train }, { "eval", cmd_eval }, { "predict", cmd_predict },
        { "compare", cmd_compare }, { "cv", cmd_cv }, { "tune", cmd_tune }, { "inspect", cmd_inspect }, { "serve", cmd_serve }, { "report", cmd_report },
        { "synth", cmd_synth }, { "watch", cmd_watch }, { "alerts", cmd_alerts }, { "ship", cmd_ship },
    };
    for (size_t i = 0; i < sizeof commands / sizeof *commands; i++)
        if (strcmp(argv[1], commands[i].name) == 0) return commands[i].run(argc - 1, argv + 1);
    fprintf(stderr, "vigil: unknown command '%s'\n\n%s", argv[1], usage);
    return VG_EXIT_USAGE;
}
