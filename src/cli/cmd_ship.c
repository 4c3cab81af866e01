/* vigil ship: read log lines and spread them over Redis stream shards by
 * entity, for `vigil watch redis://...` consumers. */
#include "cli.h"
#include "vigil/format.h"
#include "vigil/redis_stream.h"
#include "vigil/shipper.h"
#include "vigil/tail.h"
#include "vigil/line_adapter.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static const char help[] =
    "usage: vigil ship --format F --redis redis://HOST:PORT/STREAM [--shards N]\n"
    "                  [--maxlen N] [--max-line BYTES] [--retry SECONDS] [-v] FILE... | -\n"
    "\n"
    "Read the lines of FILEs (or standard input) and XADD each one to STREAM:K with the\n"
    "fields line, source (the file name as given), line_no and entity, where\n"
    "K = xxh3(entity) % N (--shards, default 1). The entity comes from running the\n"
    "format's own parser on the line (kdd: the service field; log formats: their\n"
    "entity), so every event of an entity lands on one shard and the consumer owning\n"
    "that shard sees the entity's whole history in order. Lines the parser rejects go\n"
    "to shard 0 (the consumer counts them as bad); over-long lines are not shipped and\n"
    "are counted here. Streams are capped with MAXLEN ~ --maxlen (default 1000000).\n"
    "Lines are sent in pipelined batches; a lost connection is retried with backoff for\n"
    "up to --retry seconds (default 60) and the unconfirmed batch sent again (consumers\n"
    "drop the duplicates by source and line number). csv is not shipped: its header is per file.\n";

static volatile sig_atomic_t stop_flag;

static void nap(double s)
{
    struct timespec ts = { .tv_sec = (time_t)s, .tv_nsec = (long)((s - (double)(time_t)s) * 1e9) };
    nanosleep(&ts, NULL);
}
static void on_signal(int sig)
{
    (void)sig;
    stop_flag = 1;
}

/* Formats whose lines stand alone, so shards can take any of them. */
static int can_ship(const vg_format *f) { return !f->needs_header; }

int cmd_ship(int argc, char **argv)
{
    const char *format = NULL, *redis_url = NULL, *v;
    uint64_t shards = 1, maxlen = 1000000, max_line = 65536;
    int verbose = 0, r;
    double retry_for = 60;
    cli_list inputs = { 0 };
    for (int i = 1; i < argc; i++) {
        if (cli_is_help(argv[i])) {
            fputs(help, stdout);
            cli_list_free(&inputs);
            return VG_EXIT_OK;
        }
        if ((r = cli_opt(argc, argv, &i, "--format", &v))) {
            if (r < 0) goto usage;
            format = v;
        } else if ((r = cli_opt(argc, argv, &i, "--redis", &v))) {
            if (r < 0) goto usage;
            redis_url = v;
        } else if ((r = cli_opt(argc, argv, &i, "--shards", &v))) {
            if (r < 0 || cli_parse_count("ship", "--shards", v, 1, 4096, &shards)) goto usage;
        } else if ((r = cli_opt(argc, argv, &i, "--maxlen", &v))) {
            if (r < 0 || cli_parse_u64("ship", "--maxlen", v, &maxlen)) goto usage;
        } else if ((r = cli_opt(argc, argv, &i, "--max-line", &v))) {
            if (r < 0 || cli_parse_count("ship", "--max-line", v, 16, 64u << 20, &max_line)) goto usage;
        } else if ((r = cli_opt(argc, argv, &i, "--retry", &v))) {
            if (r < 0 || cli_parse_double("ship", "--retry", v, 0, 1e6, &retry_for)) goto usage;
        } else if (cli_flag(argv, i, "-v") || cli_flag(argv, i, "--verbose")) {
            verbose = 1;
        } else if (argv[i][0] == '-' && argv[i][1] != '\0') {
            cli_usage_error("ship", "unknown option '%s'", argv[i]);
            goto usage;
        } else {
            cli_list_add(&inputs, argv[i]);
        }
    }
    if (!format || !redis_url) {
        cli_usage_error("ship", "--format and --redis are required");
        goto usage;
    }
    const vg_format *fmt = vg_format_find(format);
    if (fmt && fmt->needs_header) {
        char names[256];
        vg_format_names(names, sizeof names, ", ", can_ship);
        cli_usage_error("ship", "%s cannot be shipped (its header is per file); use one of %s", format, names);
        goto usage;
    }
    vg_redis_url u;
    if (vg_redis_url_parse(redis_url, &u)) {
        cli_error("ship");
        goto usage;
    }
    if (inputs.n == 0) cli_list_add(&inputs, "-");
    for (size_t i = 0; i < inputs.n; i++)
        if (strcmp(inputs.items[i], "-") != 0 && access(inputs.items[i], R_OK) != 0) {
            fprintf(stderr, "vigil ship: %s: %s\n", inputs.items[i], strerror(errno));
            cli_list_free(&inputs);
            return VG_EXIT_ERROR;
        }

    vg_logfmt_options lo = vg_logfmt_options_default();
    lo.max_line_bytes = (size_t)max_line;
    vg_line_adapter *ad = NULL;
    vg_tail *t = NULL;
    vg_shipper *sh = NULL;
    int rc = VG_EXIT_ERROR;
    vg_tail_params tp = vg_tail_params_default();
    tp.from_start = 1;
    tp.no_follow = 1;
    tp.max_line_bytes = (size_t)max_line;
    vg_shipper_params sp = vg_shipper_params_default();
    sp.shards = (uint32_t)shards;
    sp.maxlen = (size_t)maxlen;
    sp.retry_for = retry_for;
    sp.stop = &stop_flag;
    if (verbose) vg_log_set_level(VG_LOG_INFO);   /* the shipper's retries */
    if (vg_shipper_new(&u, &sp, &sh) || vg_line_adapter_new(format, NULL, &lo, &ad) ||
        vg_tail_open(inputs.items, inputs.n, &tp, &t)) {
        cli_error("ship");
        goto done;
    }
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    uint64_t too_long = 0, unparsed = 0, first_long = 0;
    const char *first_long_src = NULL;
    vg_status st = VG_OK;
    while (!stop_flag && !st) {
        vg_tail_line ln;
        int got;
        if ((st = vg_tail_next(t, &ln, &got))) break;
        if (!got) {
            if (vg_tail_finished(t)) break;   /* files are shipped as they are now */
            if ((st = vg_shipper_flush(sh))) break;
            nap(0.05);
            continue;
        }
        if (ln.truncated) {
            if (too_long++ == 0) {
                first_long = ln.line_no;
                first_long_src = ln.path;
            }
            continue;
        }
        vg_logfmt_event ev;
        const char *ent = "";
        size_t ent_len = 0;
        if (vg_line_adapter_process(ad, ln.source, ln.line_no, ln.data, ln.len, &ev) == VG_OK) {
            if (ev.entity) {
                ent = ev.entity;
                ent_len = ev.entity_len;
            }
        } else {
            unparsed++;
        }
        st = vg_shipper_add(sh, inputs.items[ln.source], ln.line_no, ln.data, ln.len, ent, ent_len);
    }
    if (!st) st = vg_shipper_flush(sh);
    if (st) cli_error("ship");
    else rc = VG_EXIT_OK;
    if (too_long)
        fprintf(stderr, "vigil ship: %llu over-long lines not shipped (first: %s:%llu)\n", (unsigned long long)too_long,
                first_long_src, (unsigned long long)first_long);
    if (verbose)
        fprintf(stderr, "vigil ship: %llu lines to %llu shard(s) of %s (%llu the parser rejected)\n",
                (unsigned long long)vg_shipper_stats_get(sh)->shipped, (unsigned long long)shards, u.stream,
                (unsigned long long)unparsed);
done:
    vg_shipper_free(sh);
    vg_tail_close(t);
    vg_line_adapter_free(ad);
    cli_list_free(&inputs);
    return rc;
usage:
    cli_list_free(&inputs);
    return VG_EXIT_USAGE;
}
