/* vigil synth: write a synthetic security log with labelled attacks (the
 * generators live in src/features/synth*.c). */
#include "cli.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "vigil/synth.h"

static const char help[] =
    "usage: vigil synth --format FORMAT [--events N] [--seed N] [--attack-fraction F]\n"
    "                   [--truth FILE] [-o FILE]\n"
    "\n"
    "Write a synthetic log in the given format, reproducible from --seed: realistic\n"
    "background activity plus labelled attacks.\n"
    "\n"
    "  --events N            lines to write, header excluded (default 100000)\n"
    "  --seed N              random seed (default 1)\n"
    "  --attack-fraction F   share of lines that belong to attacks (default 0.05)\n"
    "  --truth FILE          write LINE,KIND for every attack line (LINE counts a\n"
    "                        header as line 1)\n"
    "  -o, --output FILE     where to write the log (default: standard output)\n"
    "\n"
    "formats:\n";

static int close_file(FILE *f, const char *path)
{
    if (fclose(f) != 0) {
        fprintf(stderr, "vigil synth: %s: %s\n", path, strerror(errno));
        return -1;
    }
    return 0;
}

/* The formats that have a generator, joined by sep (one call at a time). */
static const char *synth_names(const char *sep)
{
    static char buf[256];
    size_t w = 0;
    buf[0] = '\0';
    for (size_t i = 0; vg_synth_at(i) && w < sizeof buf; i++) {
        int n = snprintf(buf + w, sizeof buf - w, "%s%s", i ? sep : "", vg_synth_at(i)->format->name);
        if (n < 0) break;
        w += (size_t)n;
    }
    return buf;
}

int cmd_synth(int argc, char **argv)
{
    const char *format = NULL, *out = NULL, *truth = NULL, *v;
    vg_synth_params p = vg_synth_params_default();
    int r;
    for (int i = 1; i < argc; i++) {
        if (cli_is_help(argv[i])) {
            fputs(help, stdout);
            for (size_t k = 0; vg_synth_at(k); k++)
                cli_print_entry(vg_synth_at(k)->format->name, vg_synth_at(k)->summary);
            return VG_EXIT_OK;
        }
        if ((r = cli_opt(argc, argv, &i, "--format", &v))) {
            if (r < 0) return VG_EXIT_USAGE;
            format = v;
        } else if ((r = cli_opt(argc, argv, &i, "--events", &v))) {
            uint64_t n;
            if (r < 0 || cli_parse_u64("synth", "--events", v, &n)) return VG_EXIT_USAGE;
            if (n == 0) {
                cli_usage_error("synth", "--events must be at least 1");
                return VG_EXIT_USAGE;
            }
            p.events = (size_t)n;
        } else if ((r = cli_opt(argc, argv, &i, "--seed", &v))) {
            if (r < 0 || cli_parse_u64("synth", "--seed", v, &p.seed)) return VG_EXIT_USAGE;
        } else if ((r = cli_opt(argc, argv, &i, "--attack-fraction", &v))) {
            char *end;
            if (r < 0) return VG_EXIT_USAGE;
            p.attack_fraction = strtod(v, &end);
            if (!*v || *end || !(p.attack_fraction >= 0 && p.attack_fraction <= 1)) {
                cli_usage_error("synth", "--attack-fraction: '%s' is not a number in [0, 1]", v);
                return VG_EXIT_USAGE;
            }
        } else if ((r = cli_opt(argc, argv, &i, "--truth", &v))) {
            if (r < 0) return VG_EXIT_USAGE;
            truth = v;
        } else if ((r = cli_opt(argc, argv, &i, "--output", &v)) || (r = cli_opt(argc, argv, &i, "-o", &v))) {
            if (r < 0) return VG_EXIT_USAGE;
            out = v;
        } else {
            cli_usage_error("synth", "unknown option '%s'", argv[i]);
            return VG_EXIT_USAGE;
        }
    }
    if (!format) {
        cli_usage_error("synth", "--format is required (%s)", synth_names(" or "));
        return VG_EXIT_USAGE;
    }
    const vg_synth_generator *gen = vg_synth_find(format);
    if (!gen) {
        cli_usage_error("synth", "--format: '%s' is not one of %s", format, synth_names(", "));
        return VG_EXIT_USAGE;
    }
    FILE *f = out ? fopen(out, "w") : stdout;
    if (!f) {
        fprintf(stderr, "vigil synth: %s: %s\n", out, strerror(errno));
        return VG_EXIT_ERROR;
    }
    FILE *tf = NULL;
    if (truth && !(tf = fopen(truth, "w"))) {
        fprintf(stderr, "vigil synth: %s: %s\n", truth, strerror(errno));
        if (out) fclose(f);
        return VG_EXIT_ERROR;
    }
    p.truth = tf;
    int rc = VG_EXIT_OK;
    if (gen->write(f, &p)) {
        cli_error("synth");
        rc = VG_EXIT_ERROR;
    }
    if (tf && close_file(tf, truth)) rc = VG_EXIT_ERROR;
    if (out && close_file(f, out)) rc = VG_EXIT_ERROR;
    if (!out && fflush(stdout) != 0) rc = VG_EXIT_ERROR;
    return rc;
}
