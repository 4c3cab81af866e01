/* Shared pieces of the vigil subcommands: argument matching, the common data
 * options, error printing and the terminal progress line. Only src/cli/
 * prints or exits. */
#ifndef VG_CLI_H
#define VG_CLI_H

#include <stddef.h>
#include <stdio.h>
#include "vigil/core.h"
#include "vigil/cv.h"
#include "vigil/model.h"

enum { VG_EXIT_OK = 0, VG_EXIT_ERROR = 1, VG_EXIT_USAGE = 2 };

/* A list of strings gathered from repeated or comma-separated options; it
 * keeps its own copies, freed by cli_list_free. */
typedef struct cli_list {
    size_t n, cap;
    const char **items;
} cli_list;

void cli_list_add(cli_list *l, const char *s);
/* Split "a,b,c" into l. */
void cli_list_add_csv(cli_list *l, const char *s);
void cli_list_free(cli_list *l);

/* If argv[*i] is "--name VALUE" or "--name=VALUE", set *value, advance *i
 * past it and return 1. A missing value prints a usage error and returns -1. */
int cli_opt(int argc, char **argv, int *i, const char *name, const char **value);
/* If argv[*i] is the flag "--name", return 1. */
int cli_flag(char **argv, int i, const char *name);
int cli_is_help(const char *arg);

/* Options shared by train and compare. */
typedef struct cli_data_opts {
    const char *data, *test, *format, *task, *label, *positive, *normal;
    const char *entity, *order;  /* event windows: --entity COL, --order COL */
    double split;  /* 0 = none */
    char delimiter; /* CSV field separator; 0 = detect */
    cli_list ignore, categorical, text, ip;
    uint64_t seed;
    int threads;
    vg_logfmt_options log;   /* --labels, --geoip, --max-entities, --entity-ttl, --task rule-score */
    /* --test-labels: the labels side file of the --test log. log.labels_path
     * is --data's alone: line numbers and event ids mean nothing in another
     * file. */
    const char *test_labels;
} cli_data_opts;

void cli_data_opts_init(cli_data_opts *o);
/* Try to consume one shared option at argv[*i]: 1 consumed, 0 not ours, -1 error. */
int cli_data_opts_parse(cli_data_opts *o, int argc, char **argv, int *i);
/* Check the combination and fill a vg_data_spec. Returns 0 or prints and returns -1. */
int cli_data_opts_finish(cli_data_opts *o, const char *cmd, vg_data_spec *spec);
void cli_data_opts_free(cli_data_opts *o);

/* Options that choose what is fitted, shared by train, cv and tune:
 * --model NAME, --param KEY=VALUE..., --sampler NAME, --sampler-param K=V... */
typedef struct cli_model_opts {
    const char *model; /* default "forest" */
    const char *sampler;
    cli_list params, sampler_params;
    unsigned select_k;       /* --select K, 0 = none */
    const char *select_by;   /* --select-by importance|mutual_info */
} cli_model_opts;

void cli_model_opts_init(cli_model_opts *o);
/* Try to consume one model option at argv[*i]: 1 consumed, 0 not ours, -1 error. */
int cli_model_opts_parse(cli_model_opts *o, int argc, char **argv, int *i);
/* A train request naming the model options and the data options' spec, seed
 * and threads; the strings stay owned by o and d. */
vg_train_request cli_model_opts_request(const cli_model_opts *o, const cli_data_opts *d, const vg_data_spec *spec);
void cli_model_opts_free(cli_model_opts *o);

/* What eval and predict apply: --model M.vgm --data FILE [--threads N]
 * [--threshold T] (NaN: the model's own). */
typedef struct cli_apply_opts {
    const char *model_path, *data;
    int threads;
    double threshold;
} cli_apply_opts;

void cli_apply_opts_init(cli_apply_opts *o);
/* Try to consume one of these options at argv[*i]: 1 consumed, 0 not ours, -1 error. */
int cli_apply_opts_parse(cli_apply_opts *o, const char *cmd, int argc, char **argv, int *i);
/* --model and --data given: 0; else prints and returns -1. */
int cli_apply_opts_finish(const cli_apply_opts *o, const char *cmd);

/* How cv and tune deal folds: --folds K (default 5), --group COL (one
 * entity never on both sides) or --time COL (train on the past only). */
typedef struct cli_fold_opts {
    int folds;
    const char *group, *time_col;
} cli_fold_opts;

void cli_fold_opts_init(cli_fold_opts *o);
/* Try to consume one fold option at argv[*i]: 1 consumed, 0 not ours, -1 error. */
int cli_fold_opts_parse(cli_fold_opts *o, const char *cmd, int argc, char **argv, int *i);
/* Refuse --test/--split and --group with --time, then set p's folds, kind and
 * column. Returns 0 or prints and returns -1. */
int cli_fold_opts_finish(const cli_fold_opts *o, const char *cmd, const cli_data_opts *d, vg_cv_params *p);

/* Read --data and the test part (--test file or --split fraction; *test is
 * NULL when neither is given). A --test file is read with --test-labels as
 * its labels side file, and must have labels to evaluate against. Prints
 * errors; returns 0 or -1. */
int cli_load_train_test(const char *cmd, const cli_data_opts *o, const vg_data_spec *spec, vg_table **train,
                        vg_table **test);

/* Before any work: the folder an output file goes to exists and is writable
 * ("-" = stdout passes). Prints one line naming the path; returns 0 or -1. */
int cli_check_output(const char *cmd, const char *path);

/* One "  NAME  text" entry of a --help list (models, formats, generators),
 * the text wrapped at 80 columns under itself: help lists are printed from
 * the registries, so a new model or format appears without editing help. */
void cli_print_entry(const char *name, const char *text);

/* "vigil CMD: message" on stderr, where message is the library's last error. */
void cli_error(const char *cmd);
void cli_usage_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Progress callback printing "\r<stage> done/total" on stderr when it is a
 * terminal (nothing otherwise); cli_progress_end clears the line. */
void cli_progress(void *user, const char *stage, size_t done, size_t total);
void cli_progress_end(void);

/* Parse numeric options: one line naming the option on a bad value, -1. */
int cli_parse_u64(const char *cmd, const char *opt, const char *s, uint64_t *out);
/* --delimiter VALUE: , ; | tab (or \t) or auto (0 = detect). */
int cli_parse_delimiter(const char *cmd, const char *s, char *out);
int cli_parse_int(const char *cmd, const char *opt, const char *s, int lo, int hi, int *out);
/* A whole number in [lo, hi]. */
int cli_parse_count(const char *cmd, const char *opt, const char *s, uint64_t lo, uint64_t hi, uint64_t *out);
/* A finite number in [lo, hi] (pass -INFINITY, INFINITY for any number). */
int cli_parse_double(const char *cmd, const char *opt, const char *s, double lo, double hi, double *out);

int cmd_train(int argc, char **argv);
int cmd_eval(int argc, char **argv);
int cmd_predict(int argc, char **argv);
int cmd_compare(int argc, char **argv);
int cmd_cv(int argc, char **argv);
int cmd_tune(int argc, char **argv);
int cmd_inspect(int argc, char **argv);
int cmd_serve(int argc, char **argv);
int cmd_report(int argc, char **argv);
int cmd_watch(int argc, char **argv);
int cmd_alerts(int argc, char **argv);
int cmd_ship(int argc, char **argv);
int cmd_synth(int argc, char **argv);

#endif
