/* vigil alerts: list and filter the alerts of an alert store. */
#include "cli.h"
#include "vigil/alerts.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const char help[] =
    "usage: vigil alerts --db ALERTS.db [--since TIME] [--until TIME] [--by event|stored]\n"
    "                    [--entity E] [--label L] [--source FILE] [--min-score S] [--limit N] [--json]\n"
    "\n"
    "List the alerts stored by `vigil watch --alerts`, newest first (by event time): time\n"
    "in [--since, --until), and the given entity, label, source and least score. TIME is\n"
    "unix seconds, YYYY-MM-DD[THH:MM:SS[Z]] (UTC) or an age such as 90s, 15m, 2h, 7d.\n"
    "--by event (default) bounds the time of the event, as the log line gives it;\n"
    "--by stored the time watch stored the alert (for a replayed or old log).\n"
    "--limit defaults to 100 (0 = all). Without --json a table; with it one JSON object\n"
    "per line (the fields of `vigil watch`'s output plus id and created).\n";

typedef struct list_ctx {
    int json;
    vg_wbuf buf;
    uint64_t n;
} list_ctx;

static void fmt_time(double t, char *out, size_t n)
{
    time_t s = (time_t)t;
    struct tm tm;
    if (!gmtime_r(&s, &tm) || !strftime(out, n, "%Y-%m-%dT%H:%M:%SZ", &tm)) snprintf(out, n, "%.0f", t);
}

/* Printable, one line, at most max bytes of s. */
static void put_short(const char *s, size_t len, size_t max)
{
    size_t n = VG_MIN(len, max);
    for (size_t i = 0; i < n; i++) putchar((unsigned char)s[i] < 0x20 ? ' ' : s[i]);
    if (len > max) fputs("...", stdout);
}

static int row(const vg_alert_row *r, void *user)
{
    list_ctx *c = user;
    const vg_alert *a = &r->alert;
    c->n++;
    if (c->json) {
        c->buf.len = 0;
        vg_alert_row_json(r, &c->buf);
        vg_wbuf_u8(&c->buf, '\n');
        if (c->buf.failed) return 1;
        fwrite(c->buf.data, 1, c->buf.len, stdout);
        return 0;
    }
    char when[40];
    fmt_time(a->time, when, sizeof when);
    printf("%-20s  %7.4f  %-14s  %-18.*s  %s:%llu  ", when, a->score, a->label ? a->label : "",
           a->entity ? (int)VG_MIN(a->entity_len, 18) : 1, a->entity ? a->entity : "-", a->source ? a->source : "",
           (unsigned long long)a->line_no);
    put_short(a->raw ? a->raw : "", a->raw_len, 80);
    putchar('\n');
    return 0;
}

/* Nothing in an event-time range: say which time that was and where the
 * store's events lie, because a replayed log's events are rarely recent. */
static void hint_event_time(vg_alert_store *s)
{
    double first, last;
    if (vg_alert_store_time_range(s, &first, &last) || isnan(first)) return;
    char a[40], b[40];
    fmt_time(first, a, sizeof a);
    fmt_time(last, b, sizeof b);
    fprintf(stderr, "vigil alerts: no alert has an event time in that range; the stored events run from %s to %s "
                    "(--by stored filters on when alerts were stored)\n", a, b);
}

static int parse_time(const char *v, double *out)
{
    if (!vg_alert_parse_time(v, (double)time(NULL), out)) return 0;
    cli_error("alerts");
    return -1;
}

int cmd_alerts(int argc, char **argv)
{
    const char *db = NULL, *v;
    vg_alert_filter q = vg_alert_filter_default();
    q.limit = 100;
    int json = 0, r;
    for (int i = 1; i < argc; i++) {
        if (cli_is_help(argv[i])) {
            fputs(help, stdout);
            return VG_EXIT_OK;
        }
        if ((r = cli_opt(argc, argv, &i, "--db", &v))) {
            if (r < 0) return VG_EXIT_USAGE;
            db = v;
        } else if ((r = cli_opt(argc, argv, &i, "--since", &v))) {
            if (r < 0 || parse_time(v, &q.since)) return VG_EXIT_USAGE;
        } else if ((r = cli_opt(argc, argv, &i, "--until", &v))) {
            if (r < 0 || parse_time(v, &q.until)) return VG_EXIT_USAGE;
        } else if ((r = cli_opt(argc, argv, &i, "--by", &v))) {
            if (r < 0) return VG_EXIT_USAGE;
            if (strcmp(v, "event") != 0 && strcmp(v, "stored") != 0) {
                cli_usage_error("alerts", "--by: '%s' is not event or stored", v);
                return VG_EXIT_USAGE;
            }
            q.by_stored = strcmp(v, "stored") == 0;
        } else if ((r = cli_opt(argc, argv, &i, "--source", &v))) {
            if (r < 0) return VG_EXIT_USAGE;
            q.source = v;
        } else if ((r = cli_opt(argc, argv, &i, "--entity", &v))) {
            if (r < 0) return VG_EXIT_USAGE;
            q.entity = v;
        } else if ((r = cli_opt(argc, argv, &i, "--label", &v))) {
            if (r < 0) return VG_EXIT_USAGE;
            q.label = v;
        } else if ((r = cli_opt(argc, argv, &i, "--min-score", &v))) {
            if (r < 0 || cli_parse_double("alerts", "--min-score", v, -INFINITY, INFINITY, &q.min_score))
                return VG_EXIT_USAGE;
        } else if ((r = cli_opt(argc, argv, &i, "--limit", &v))) {
            uint64_t n;
            if (r < 0 || cli_parse_u64("alerts", "--limit", v, &n)) return VG_EXIT_USAGE;
            q.limit = (size_t)n;
        } else if (cli_flag(argv, i, "--json")) {
            json = 1;
        } else {
            cli_usage_error("alerts", "unknown option '%s'", argv[i]);
            return VG_EXIT_USAGE;
        }
    }
    if (!db) {
        cli_usage_error("alerts", "--db is required");
        return VG_EXIT_USAGE;
    }
    vg_alert_store_params p = vg_alert_store_params_default();
    p.read_only = 1;
    vg_alert_store *s;
    if (vg_alert_store_open(db, &p, &s)) {
        cli_error("alerts");
        return VG_EXIT_ERROR;
    }
    list_ctx c = { .json = json };
    vg_wbuf_init(&c.buf);
    if (!json) printf("%-20s  %7s  %-14s  %-18s  %s  %s\n", "time", "score", "label", "entity", "source:line", "raw");
    vg_status st = vg_alert_store_list(s, &q, row, &c);
    if (st) cli_error("alerts");
    else if (c.n == 0 && !q.by_stored && (!isnan(q.since) || !isnan(q.until))) hint_event_time(s);
    vg_wbuf_free(&c.buf);
    vg_alert_store_close(s);
    if (fflush(stdout) != 0) return VG_EXIT_ERROR;
    return st ? VG_EXIT_ERROR : VG_EXIT_OK;
}
