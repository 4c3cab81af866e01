/* vigil watch: follow logs (files, stdin or a Redis stream shard), score each
 * line as it arrives and emit alerts as JSON lines and into the alert store. */
#include "cli.h"
#include "vigil/alerts.h"
#include "vigil/follower.h"
#include "vigil/redis_stream.h"
#include "vigil/tail.h"
#include "vigil/detector.h"
#include "vigil/line_adapter.h"

#include <math.h>
#include <signal.h>
#include <stdlib.h>
#include <errno.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static const char help[] =
    "usage: vigil watch --model MODEL.vgm [--format F] [FILE... | - | redis://HOST:PORT/STREAM]\n"
    "                   [--alerts ALERTS.db [--resume]] [--threshold P] [--from-start] [--explain]\n"
    "                   [--max-line BYTES] [--max-entities N] [--entity-ttl SECONDS]\n"
    "                   [--quiet] [-v] [--stats-every SECONDS] [--batch ROWS] [--threads 1|2]\n"
    "                   [--adapt [--window EVENTS] [--refresh EVENTS] [--checkpoint SECONDS]]\n"
    "       Redis:      --group G --consumer C [--shard K] [--claim-idle MS] [--block MS]\n"
    "                   [--alerts-stream NAME]\n"
    "\n"
    "Follow FILEs like `tail -F` (appended lines; a rotated file is read to its end and\n"
    "the new one from its start; a truncated file from its start; several files at once)\n"
    "or standard input ('-', the default), and score each line with the model as it\n"
    "arrives: features are computed online through the model's format (kdd, csv with a\n"
    "header line, or a log format), with one per-entity state for the whole process.\n"
    "Without --from-start only lines appended after the start are scored. The state\n"
    "holds at most --max-entities entities, each for at most --entity-ttl seconds of\n"
    "event time (defaults from the model); when the bound first drops an entity, standard\n"
    "error says so once.\n"
    "\n"
    "An alert is a line whose score is >= --threshold (default 0.5; the score is the\n"
    "probability of the positive class, for several classes 1 - P(normal class), for a\n"
    "regression model the prediction, which alerts only with --threshold), decided as\n"
    "predict and serve decide; its label is the most probable class that is not the\n"
    "normal one. It is printed as one JSON line on standard output (time, source,\n"
    "line, entity, model, label, truth, score, top contributing fields with --explain\n"
    "when the model family can explain, and the raw line cut to 2048 bytes) and, with\n"
    "--alerts, stored in an SQLite alert store (schema: docs/alerts.md). --quiet stops\n"
    "the JSON lines. Bad lines (over-long, binary, malformed) are counted and reported on\n"
    "standard error (the first one's file and line), never fatal. SIGINT/SIGTERM flush\n"
    "and exit 0. -v prints statistics every --stats-every seconds (default 10).\n"
    "While lines keep coming (a backlog, a burst) they are scored in blocks of --batch\n"
    "rows (default 1024, 1 = each line alone); a block is scored as soon as input is\n"
    "idle, so a quiet stream sees each alert at once. Alerts are the same either way.\n"
    "--threads 2 scores blocks on a second thread while the first reads lines and\n"
    "computes features (which must stay in order, on one thread); default 1.\n"
    "\n"
    "--resume (files only, with --alerts) keeps in the store, committed together with\n"
    "the alerts, how far each file was scored. A restart picks each file up there: its\n"
    "earlier lines are read again for the per-entity state only, so features are what\n"
    "they would have been, and every line gets its alert once across the restart, even\n"
    "after a crash. A file replaced or cut while vigil was stopped is read from its\n"
    "start; the rest of a file rotated away while it was stopped is not looked for.\n"
    "\n"
    "With redis://HOST:PORT/STREAM, read shard K (stream STREAM:K, see `vigil ship`) in\n"
    "consumer group G as consumer C (the group is created if absent). Each batch's alerts\n"
    "are committed to the store before the events are acknowledged; events pending on\n"
    "another consumer for longer than --claim-idle ms (default 30000) are claimed.\n"
    "--block is how long one read waits for new events (default 500 ms).\n"
    "--alerts-stream also appends every alert (field 'alert', JSON) to that stream.\n"
    "\n"
    "--adapt (iforest models) keeps learning while watching: the last --window events\n"
    "(default 4096) are kept, and every --refresh events (default 64) one tree is\n"
    "regrown on a sample of them, in turn, so traffic that has shifted for longer than\n"
    "the window and a round of trees stops raising alerts while a short burst still\n"
    "does. Each event is scored before it is learnt. On exit, and every --checkpoint\n"
    "seconds (default 300, 0 = on exit only), the adapted model, with its window of\n"
    "events and counters, is written back to MODEL.vgm (through a temporary file), so\n"
    "a restart continues where it stopped (the same events give the same scores as\n"
    "one uninterrupted run); a restart keeps the saved --window and --refresh unless\n"
    "given. Memory stays bounded by the window.\n";

static volatile sig_atomic_t stop_flag;

static void on_signal(int sig)
{
    (void)sig;
    stop_flag = 1;
}

static void install_signals(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;   /* no SA_RESTART: a blocked sleep or read returns */
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
}

typedef struct watch_ctx {
    int quiet, verbose, eviction_told;
    double stats_every, last_stats, last_bad_report, started;
    /* --adapt: where and how often the adapted model is saved (0: on exit only). */
    const vg_model *adapted;
    const char *model_path;
    double checkpoint_every, last_checkpoint;
    uint64_t bad_reported, lines_at_last;
    vg_wbuf json;
    vg_detector *d;
    vg_alert_store *store;
} watch_ctx;

static void emit(const vg_alert *a, void *user)
{
    watch_ctx *w = user;
    if (w->quiet) return;
    w->json.len = 0;
    vg_alert_json(a, &w->json);
    vg_wbuf_u8(&w->json, '\n');
    if (!w->json.failed) fwrite(w->json.data, 1, w->json.len, stdout);
}

static long rss_kib(void)
{
    FILE *f = fopen("/proc/self/statm", "r");
    long pages = 0, rss = 0;
    if (!f) return -1;
    if (fscanf(f, "%ld %ld", &pages, &rss) != 2) rss = -1;
    fclose(f);
    return rss < 0 ? -1 : rss * (sysconf(_SC_PAGESIZE) / 1024);
}

static void report_bad(watch_ctx *w, int final)
{
    const vg_watch_stats *s = vg_detector_stats(w->d);
    if (s->bad == w->bad_reported && !(final && s->bad)) return;
    fprintf(stderr, "vigil watch: %llu bad line%s%s (first: %s:%llu: %s)\n", (unsigned long long)s->bad,
            s->bad == 1 ? "" : "s", final ? "" : " so far", s->first_bad_source, (unsigned long long)s->first_bad_line,
            s->first_bad_message);
    w->bad_reported = s->bad;
}

/* Said once, even with --quiet: from the first eviction on, entities that
 * come back after being dropped have their behaviour features start over. */
static void report_eviction(watch_ctx *w)
{
    if (w->eviction_told) return;
    vg_logfmt_state_stats st = vg_line_adapter_state_stats(vg_detector_adapter(w->d));
    if (!st.evicted) return;
    fprintf(stderr,
            "vigil watch: per-entity state is full at %zu entities: the least recently seen are being dropped and "
            "their features start over if they return (raise --max-entities to keep more)\n",
            st.entities);
    w->eviction_told = 1;
}

static void periodic(watch_ctx *w, int final)
{
    double now = vg_now();
    if (!final && now - w->last_bad_report >= w->stats_every) {
        report_bad(w, 0);
        report_eviction(w);
        w->last_bad_report = now;
    }
    if (!w->verbose || (!final && now - w->last_stats < w->stats_every)) return;
    const vg_watch_stats *s = vg_detector_stats(w->d);
    double dt = now - w->last_stats;
    vg_logfmt_state_stats st = vg_line_adapter_state_stats(vg_detector_adapter(w->d));
    fprintf(stderr,
            "vigil watch: %llu lines (%.0f/s), %llu events, %llu alerts, %llu bad, %zu entities (%zu KiB state, "
            "%llu evicted, %llu expired), %zu KiB held, RSS %ld KiB\n",
            (unsigned long long)s->lines, dt > 0 ? (double)(s->lines - w->lines_at_last) / dt : 0.0,
            (unsigned long long)s->events, (unsigned long long)s->alerts, (unsigned long long)s->bad, st.entities,
            st.bytes / 1024, (unsigned long long)st.evicted, (unsigned long long)st.expired, vg_mem_in_use() / 1024,
            rss_kib());
    w->last_stats = now;
    w->lines_at_last = s->lines;
}

static void report_resume(const vg_follower *f, const char *const *paths, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        uint64_t line_no;
        int how = vg_follower_resume_outcome(f, i, &line_no);
        if (how == VG_TAIL_RESUMED)
            fprintf(stderr, "vigil watch: %s: resuming after line %llu (earlier lines are read again for the state)\n",
                    paths[i], (unsigned long long)line_no);
        else if (how == VG_TAIL_REPLACED)
            fprintf(stderr, "vigil watch: %s: not the file scored up to line %llu before (replaced or cut since): "
                    "reading it from its start\n", paths[i], (unsigned long long)line_no);
    }
}

static int save_adapted(const vg_model *m, const char *path);

/* --adapt --checkpoint: due now? (the caller has every pushed row scored first,
 * so the learner is not in use by the scoring thread while it is saved). */
static int checkpoint_due(const watch_ctx *w)
{
    return w->adapted && w->checkpoint_every > 0 && vg_now() - w->last_checkpoint >= w->checkpoint_every;
}

static void checkpoint_save(watch_ctx *w)
{
    w->last_checkpoint = vg_now();
    /* A failed checkpoint is said and watching goes on; exit tries again. */
    save_adapted(w->adapted, w->model_path);
}

static int run_files(watch_ctx *w, const char *const *paths, size_t n, const vg_follower_params *fp)
{
    vg_follower *f;
    if (vg_follower_new(paths, n, fp, w->d, w->store, &f)) {
        cli_error("watch");
        return VG_EXIT_ERROR;
    }
    if (fp->resume) report_resume(f, paths, n);
    vg_status st = VG_OK;
    while (!stop_flag && !st) {
        vg_follow_state state;
        if ((st = vg_follower_step(f, emit, w, &state))) break;
        if (state != VG_FOLLOW_LINES) fflush(stdout);
        if (state == VG_FOLLOW_DONE) break;
        periodic(w, 0);
        if (checkpoint_due(w) && !(st = vg_follower_checkpoint(f, emit, w))) checkpoint_save(w);
        if (!st && state == VG_FOLLOW_IDLE) st = vg_follower_wait(f, 50);
    }
    /* Stopped by a signal: the lines already read still get their alerts. */
    if (!st) st = vg_follower_checkpoint(f, emit, w);
    if (st) cli_error("watch");
    vg_follower_free(f);
    return st ? VG_EXIT_ERROR : VG_EXIT_OK;
}

static int run_redis(watch_ctx *w, const vg_redis_url *u, const vg_consumer_params *cp)
{
    vg_consumer *c;
    if (vg_consumer_new(cp, w->d, w->store, &c)) {
        cli_error("watch");
        return VG_EXIT_ERROR;
    }
    int rc = VG_EXIT_OK;
    while (!stop_flag) {
        if (vg_consumer_step(c, emit, w)) {
            cli_error("watch");
            rc = VG_EXIT_ERROR;
            break;
        }
        fflush(stdout);
        periodic(w, 0);
        /* A step scores its whole batch before it returns. */
        if (checkpoint_due(w)) checkpoint_save(w);
    }
    if (w->verbose) {
        const vg_consumer_stats *s = vg_consumer_stats_get(c);
        fprintf(stderr, "vigil watch: %s: read %llu, claimed %llu, acked %llu, malformed %llu\n", cp->stream,
                (unsigned long long)s->read, (unsigned long long)s->claimed, (unsigned long long)s->acked,
                (unsigned long long)s->malformed);
    }
    (void)u;
    vg_consumer_free(c);
    return rc;
}

/* --adapt: the adapted model replaces MODEL.vgm whole or not at all. */
static int save_adapted(const vg_model *m, const char *path)
{
    char tmp[4096];
    if (snprintf(tmp, sizeof tmp, "%s.adapt-tmp", path) >= (int)sizeof tmp) {
        fprintf(stderr, "vigil watch: --adapt: model path too long to save next to\n");
        return 1;
    }
    if (vg_model_save(m, tmp)) {
        cli_error("watch");
        remove(tmp);
        return 1;
    }
    if (rename(tmp, path) != 0) {
        fprintf(stderr, "vigil watch: --adapt: cannot replace %s: %s\n", path, strerror(errno));
        remove(tmp);
        return 1;
    }
    fprintf(stderr, "vigil watch: saved the adapted model to %s\n", path);
    return 0;
}

int cmd_watch(int argc, char **argv)
{
    const char *model_path = NULL, *format = NULL, *alerts = NULL, *group = NULL, *consumer = NULL,
               *alerts_stream = NULL, *v;
    double threshold = NAN, ttl = -1, stats_every = 10, claim_idle = 30000, block_ms = 500;
    uint64_t max_line = 0, max_entities = 0, shard = 0, batch = 0, threads = 1;
    uint64_t window = 0, refresh = 0;   /* 0: the saved learner's, else VG_MODEL_ADAPT_* */
    double checkpoint = 300;
    int from_start = 0, explain = 0, quiet = 0, verbose = 0, resume = 0, adapt = 0, r;
    cli_list inputs = { 0 };
    for (int i = 1; i < argc; i++) {
        if (cli_is_help(argv[i])) {
            fputs(help, stdout);
            cli_list_free(&inputs);
            return VG_EXIT_OK;
        }
        if ((r = cli_opt(argc, argv, &i, "--model", &v))) {
            if (r < 0) goto usage;
            model_path = v;
        } else if ((r = cli_opt(argc, argv, &i, "--format", &v))) {
            if (r < 0) goto usage;
            format = v;
        } else if ((r = cli_opt(argc, argv, &i, "--alerts", &v))) {
            if (r < 0) goto usage;
            alerts = v;
        } else if ((r = cli_opt(argc, argv, &i, "--threshold", &v))) {
            if (r < 0 || cli_parse_double("watch", "--threshold", v, -1e300, 1e300, &threshold)) goto usage;
        } else if ((r = cli_opt(argc, argv, &i, "--max-line", &v))) {
            if (r < 0 || cli_parse_count("watch", "--max-line", v, 16, 64u << 20, &max_line)) goto usage;
        } else if ((r = cli_opt(argc, argv, &i, "--batch", &v))) {
            if (r < 0 || cli_parse_count("watch", "--batch", v, 1, 4096, &batch)) goto usage;
        } else if ((r = cli_opt(argc, argv, &i, "--threads", &v))) {
            if (r < 0 || cli_parse_u64("watch", "--threads", v, &threads)) goto usage;
            if (threads < 1 || threads > 2) {
                cli_usage_error("watch", "--threads: 1 or 2 (features on one thread, scoring on the other)");
                goto usage;
            }
        } else if ((r = cli_opt(argc, argv, &i, "--max-entities", &v))) {
            if (r < 0 || cli_parse_u64("watch", "--max-entities", v, &max_entities)) goto usage;
        } else if ((r = cli_opt(argc, argv, &i, "--entity-ttl", &v))) {
            if (r < 0 || cli_parse_double("watch", "--entity-ttl", v, 0, 1e12, &ttl)) goto usage;
        } else if ((r = cli_opt(argc, argv, &i, "--stats-every", &v))) {
            if (r < 0 || cli_parse_double("watch", "--stats-every", v, 0.01, 86400, &stats_every)) goto usage;
        } else if ((r = cli_opt(argc, argv, &i, "--group", &v))) {
            if (r < 0) goto usage;
            group = v;
        } else if ((r = cli_opt(argc, argv, &i, "--consumer", &v))) {
            if (r < 0) goto usage;
            consumer = v;
        } else if ((r = cli_opt(argc, argv, &i, "--shard", &v))) {
            if (r < 0 || cli_parse_u64("watch", "--shard", v, &shard)) goto usage;
        } else if ((r = cli_opt(argc, argv, &i, "--claim-idle", &v))) {
            if (r < 0 || cli_parse_double("watch", "--claim-idle", v, 0, 1e12, &claim_idle)) goto usage;
        } else if ((r = cli_opt(argc, argv, &i, "--block", &v))) {
            if (r < 0 || cli_parse_double("watch", "--block", v, 1, 60000, &block_ms)) goto usage;
        } else if ((r = cli_opt(argc, argv, &i, "--alerts-stream", &v))) {
            if (r < 0) goto usage;
            alerts_stream = v;
        } else if ((r = cli_opt(argc, argv, &i, "--window", &v))) {
            if (r < 0 || cli_parse_count("watch", "--window", v, 2, 1u << 24, &window)) goto usage;
        } else if ((r = cli_opt(argc, argv, &i, "--refresh", &v))) {
            if (r < 0 || cli_parse_count("watch", "--refresh", v, 1, 1u << 24, &refresh)) goto usage;
        } else if ((r = cli_opt(argc, argv, &i, "--checkpoint", &v))) {
            if (r < 0 || cli_parse_double("watch", "--checkpoint", v, 0, 1e9, &checkpoint)) goto usage;
        } else if (cli_flag(argv, i, "--adapt")) {
            adapt = 1;
        } else if (cli_flag(argv, i, "--from-start")) {
            from_start = 1;
        } else if (cli_flag(argv, i, "--resume")) {
            resume = 1;
        } else if (cli_flag(argv, i, "--explain")) {
            explain = 1;
        } else if (cli_flag(argv, i, "--quiet") || cli_flag(argv, i, "-q")) {
            quiet = 1;
        } else if (cli_flag(argv, i, "-v") || cli_flag(argv, i, "--verbose")) {
            verbose = 1;
        } else if (argv[i][0] == '-' && argv[i][1] != '\0') {
            cli_usage_error("watch", "unknown option '%s'", argv[i]);
            goto usage;
        } else {
            cli_list_add(&inputs, argv[i]);
        }
    }
    if (!model_path) {
        cli_usage_error("watch", "--model is required");
        goto usage;
    }
    if (inputs.n == 0) cli_list_add(&inputs, "-");
    int redis = 0;
    vg_redis_url url;
    for (size_t i = 0; i < inputs.n; i++) redis |= vg_redis_is_url(inputs.items[i]);
    if (redis) {
        if (inputs.n != 1) {
            cli_usage_error("watch", "a redis:// input cannot be mixed with other inputs");
            goto usage;
        }
        if (vg_redis_url_parse(inputs.items[0], &url)) {
            cli_error("watch");
            goto usage;
        }
        if (!group || !consumer) {
            cli_usage_error("watch", "a redis:// input needs --group and --consumer");
            goto usage;
        }
    } else if (group || consumer || alerts_stream) {
        cli_usage_error("watch", "--group, --consumer and --alerts-stream need a redis:// input");
        goto usage;
    }
    if (resume && (!alerts || redis)) {
        cli_usage_error("watch", "--resume needs --alerts (positions are kept in the store) and file inputs "
                                 "(a Redis group keeps its own)");
        goto usage;
    }

    vg_model *m = NULL;
    if (vg_model_load(model_path, &m)) {
        cli_error("watch");
        cli_list_free(&inputs);
        return VG_EXIT_ERROR;
    }
    if (adapt && vg_model_adapt(m, (uint32_t)window, (uint32_t)refresh)) {
        cli_error("watch");
        vg_model_free(m);
        cli_list_free(&inputs);
        return VG_EXIT_ERROR;
    }
    vg_watch_params wp = vg_watch_params_default(m);
    wp.format = format;
    wp.threshold = threshold;
    wp.explain = explain;
    if (max_line) wp.log.max_line_bytes = (size_t)max_line;
    if (max_entities) wp.log.max_entities = (size_t)max_entities;
    if (batch) wp.batch_rows = (size_t)batch;
    wp.threads = (int)threads;
    if (ttl >= 0) wp.log.entity_ttl = ttl;
    const char *base = strrchr(model_path, '/');
    base = base ? base + 1 : model_path;
    watch_ctx w = { .quiet = quiet, .verbose = verbose, .stats_every = stats_every };
    vg_wbuf_init(&w.json);
    w.started = w.last_stats = w.last_bad_report = w.last_checkpoint = vg_now();
    if (adapt) {
        w.adapted = m;
        w.model_path = model_path;
        w.checkpoint_every = checkpoint;
    }
    int rc = VG_EXIT_ERROR;
    if (vg_detector_new(m, base, &wp, &w.d)) {
        cli_error("watch");
        goto done;
    }
    if (alerts) {
        vg_alert_store_params sp = vg_alert_store_params_default();
        sp.dedup = redis;   /* a re-delivered event must not make a second alert */
        if (resume) {       /* commits only at checkpoints, with the positions */
            sp.batch_rows = SIZE_MAX;
            sp.batch_seconds = INFINITY;
        }
        if (vg_alert_store_open(alerts, &sp, &w.store)) {
            cli_error("watch");
            goto done;
        }
    }
    install_signals();
    if (redis) {
        char stream[256];
        snprintf(stream, sizeof stream, "%s:%llu", url.stream, (unsigned long long)shard);
        vg_consumer_params cp = vg_consumer_params_default();
        cp.host = url.host;
        cp.port = url.port;
        cp.stream = stream;
        cp.group = group;
        cp.consumer = consumer;
        cp.alerts_stream = alerts_stream;
        cp.claim_idle_ms = (long long)claim_idle;
        cp.block_ms = (int)block_ms;
        cp.claim_every = VG_MIN(1.0, VG_MAX(0.05, claim_idle / 2000.0));
        cp.limits.max_field_bytes = wp.log.max_line_bytes + 1024;
        rc = run_redis(&w, &url, &cp);
    } else {
        vg_follower_params fp = vg_follower_params_default();
        fp.tail.max_line_bytes = wp.log.max_line_bytes;
        fp.tail.from_start = from_start;
        fp.tail.deliver_header = vg_line_adapter_needs_header(vg_detector_adapter(w.d));
        fp.resume = resume;
        rc = run_files(&w, inputs.items, inputs.n, &fp);
    }
    if (w.store && vg_alert_store_commit(w.store)) {
        cli_error("watch");
        rc = VG_EXIT_ERROR;
    }
    fflush(stdout);
    report_bad(&w, 1);
    report_eviction(&w);
    periodic(&w, 1);
    if (adapt && save_adapted(m, model_path)) rc = VG_EXIT_ERROR;
done:
    if (vg_alert_store_close(w.store) && rc == VG_EXIT_OK) {
        cli_error("watch");
        rc = VG_EXIT_ERROR;
    }
    vg_detector_free(w.d);
    vg_wbuf_free(&w.json);
    vg_model_free(m);
    cli_list_free(&inputs);
    return rc;
usage:
    cli_list_free(&inputs);
    return VG_EXIT_USAGE;
}
