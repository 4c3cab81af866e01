/* vigil serve: the HTTP/JSON detection service. Parses the options, starts
 * the server, prints the address, and then waits for signals on the main
 * thread: SIGHUP reloads every model from disk, SIGINT/SIGTERM stop. */
#include "cli.h"
#include "vigil/server.h"

#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

static const char help[] =
    "usage: vigil serve --model [NAME=]MODEL.vgm ... [options]\n"
    "\n"
    "Serve detections over HTTP/JSON. Each --model adds a model under NAME (default:\n"
    "the file name without .vgm); the first is the default for requests without\n"
    "?model=NAME. Prints 'vigil serve: listening on http://HOST:PORT (models: ...)'\n"
    "once ready. SIGHUP reloads every model file (a file that fails to load leaves\n"
    "the previous model serving); SIGINT or SIGTERM stop the server.\n"
    "\n"
    "options:\n"
    "  --listen HOST:PORT     address (default 127.0.0.1:8080; port 0 picks a free port)\n"
    "  --threads N            server threads (default: one per CPU this process may use,\n"
    "                         so `taskset -c 0 vigil serve` runs one; on a host loaded by\n"
    "                         other work, two per CPU shorten the tail); each asks the\n"
    "                         kernel for a short (250 us) scheduler slice, for latency\n"
    "                         when the cores are shared (VG_SERVE_SLICE_US=0: not)\n"
    "  --threshold P          anomaly when score >= P (default 0.5; for regression\n"
    "                         models anomalies are flagged only when P is given)\n"
    "  --missing [NAME=]POLICY what to do with a record that misses inputs or names\n"
    "                         unknown fields: reject (the default: 422 naming them when\n"
    "                         a field name is unknown or more than half of the model's\n"
    "                         inputs are absent or null), warn (score it on imputed\n"
    "                         values and say so in \"warnings\") or impute (score it, with\n"
    "                         the per-field warnings only). With NAME= for one model;\n"
    "                         may be repeated. In a batch a refused record's place in\n"
    "                         the reply holds {\"error\": ..., \"status\": 422}\n"
    "  --api-key-file FILE    require 'Authorization: Bearer KEY' or 'X-API-Key: KEY'\n"
    "                         (one key per line; blank and # lines ignored) on every\n"
    "                         route but /healthz, /readyz and the dashboard files\n"
    "  --cors ORIGIN          send Access-Control-Allow-Origin: ORIGIN (off by default)\n"
    "  --alerts FILE.db       serve the alert store `vigil watch --alerts FILE.db` writes\n"
    "                         (read-only; it may be written meanwhile, or created later)\n"
    "                         on GET /v1/alerts and /v1/alerts/summary and the\n"
    "                         dashboard's Alerts panel\n"
    "  -v, --verbose          log connection-level events from the HTTP layer\n"
    "limits (requests beyond them get a 4xx saying which):\n"
    "  --max-body BYTES       request body (default 1M; 413); K/M suffixes allowed\n"
    "  --max-batch N          records per batch request (default 1000; 413)\n"
    "  --max-fields N         fields per record (default 1024; 400)\n"
    "  --max-depth N          JSON nesting depth (default 16; 400)\n"
    "  --max-header BYTES     request line and headers (default 16K; a JSON 431 beyond,\n"
    "                         past twice the limit libmicrohttpd's own 431 page)\n"
    "  --max-connections N    open connections (default 1024)\n"
    "  --timeout SECONDS      close connections idle this long (default 10)\n"
    "  --recent N             recent detections kept for the dashboard (default 200)\n"
    "\n"
    "endpoints: POST /v1/detect[?model=NAME&explain=1&top=N], POST /v1/detect/batch,\n"
    "GET /v1/models, GET /v1/models/NAME, POST /v1/models/NAME/reload,\n"
    "GET /v1/detections/recent?limit=N, GET /v1/stats, GET /v1/alerts?since=&until=&\n"
    "entity=&label=&source=&min_score=&limit=, GET /v1/alerts/summary, GET /healthz, GET /readyz,\n"
    "GET /metrics (Prometheus), GET / (dashboard).\n";

/* "123", "64K", "1M", "1G" (powers of 1024). */
static int parse_size(const char *opt, const char *s, uint64_t lo, uint64_t hi, uint64_t *out)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    uint64_t mult = 1;
    if (end != s && *end) {
        if ((*end == 'k' || *end == 'K') && !end[1]) mult = 1ull << 10;
        else if ((*end == 'm' || *end == 'M') && !end[1]) mult = 1ull << 20;
        else if ((*end == 'g' || *end == 'G') && !end[1]) mult = 1ull << 30;
        else mult = 0;
    }
    if (end == s || *s == '-' || errno || !mult || v > hi / mult || v * mult < lo) {
        cli_usage_error("serve", "%s: '%s' is not a size from %llu to %llu bytes", opt, s, (unsigned long long)lo,
                        (unsigned long long)hi);
        return -1;
    }
    *out = v * mult;
    return 0;
}

/* "HOST:PORT", "[V6]:PORT" or "PORT" into host (a static copy) and port. */
static int parse_listen(const char *s, const char **host, unsigned *port)
{
    static char buf[256];
    const char *colon = strrchr(s, ':');
    const char *p = colon ? colon + 1 : s;
    size_t hl = colon ? (size_t)(colon - s) : 0;
    if (hl >= sizeof buf) hl = sizeof buf - 1;
    if (colon) {
        const char *h = s;
        if (hl >= 2 && h[0] == '[' && h[hl - 1] == ']') h++, hl -= 2;
        memcpy(buf, h, hl);
        buf[hl] = '\0';
        if (hl) *host = buf;
    }
    char *end;
    errno = 0;
    unsigned long v = strtoul(p, &end, 10);
    if (!*p || *end || errno || v > 65535 || *p == '-') {
        cli_usage_error("serve", "--listen: '%s' is not HOST:PORT with a port from 0 to 65535", s);
        return -1;
    }
    *port = (unsigned)v;
    return 0;
}

static int valid_name_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-' ||
           c == '.';
}

int cmd_serve(int argc, char **argv)
{
    vg_server_params p = vg_server_params_default();
    cli_list models = { 0 }, missing = { 0 };
    const char *v, *alerts = NULL;
    int r, verbose = 0;
    uint64_t n;
    for (int i = 1; i < argc; i++) {
        if (cli_is_help(argv[i])) {
            fputs(help, stdout);
            cli_list_free(&models);
            cli_list_free(&missing);
            return VG_EXIT_OK;
        }
        int bad = 0;
        if ((r = cli_opt(argc, argv, &i, "--model", &v))) {
            if (r < 0) bad = 1;
            else cli_list_add(&models, v);
        } else if ((r = cli_opt(argc, argv, &i, "--listen", &v))) {
            bad = r < 0 || parse_listen(v, &p.host, &p.port);
        } else if ((r = cli_opt(argc, argv, &i, "--threads", &v))) {
            bad = r < 0 || cli_parse_int("serve", "--threads", v, 0, 1024, &p.threads);
        } else if ((r = cli_opt(argc, argv, &i, "--threshold", &v))) {
            bad = r < 0 || cli_parse_double("serve", "--threshold", v, -INFINITY, INFINITY, &p.threshold);
        } else if ((r = cli_opt(argc, argv, &i, "--missing", &v))) {
            if (r < 0) bad = 1;
            else {
                const char *eq = strchr(v, '=');
                vg_missing_policy mp;
                if (vg_missing_policy_parse(eq ? eq + 1 : v, &mp)) {
                    cli_usage_error("serve", "--missing: %s", vg_last_error());
                    bad = 1;
                } else if (eq) {
                    cli_list_add(&missing, v);
                } else {
                    p.missing = mp;
                }
            }
        } else if ((r = cli_opt(argc, argv, &i, "--api-key-file", &v))) {
            if (r < 0) bad = 1;
            else p.api_key_file = v;
        } else if ((r = cli_opt(argc, argv, &i, "--alerts", &v))) {
            if (r < 0) bad = 1;
            else if (alerts) {
                cli_usage_error("serve", "--alerts: one alert store per server");
                bad = 1;
            } else alerts = v;
        } else if ((r = cli_opt(argc, argv, &i, "--cors", &v))) {
            if (r < 0) bad = 1;
            else p.cors_origin = v;
        } else if ((r = cli_opt(argc, argv, &i, "--max-body", &v))) {
            bad = r < 0 || parse_size("--max-body", v, 2, 1ull << 30, &n);
            p.max_body = (size_t)n;
        } else if ((r = cli_opt(argc, argv, &i, "--max-header", &v))) {
            bad = r < 0 || parse_size("--max-header", v, 1024, 64ull << 20, &n);
            p.max_header = (size_t)n;
        } else if ((r = cli_opt(argc, argv, &i, "--max-batch", &v))) {
            bad = r < 0 || cli_parse_count("serve", "--max-batch", v, 1, 1000000, &n);
            p.max_batch = (size_t)n;
        } else if ((r = cli_opt(argc, argv, &i, "--max-fields", &v))) {
            bad = r < 0 || cli_parse_count("serve", "--max-fields", v, 1, 1000000, &n);
            p.max_fields = (size_t)n;
        } else if ((r = cli_opt(argc, argv, &i, "--max-depth", &v))) {
            bad = r < 0 || cli_parse_count("serve", "--max-depth", v, 1, 1000, &n);
            p.max_depth = (size_t)n;
        } else if ((r = cli_opt(argc, argv, &i, "--max-connections", &v))) {
            bad = r < 0 || cli_parse_count("serve", "--max-connections", v, 1, 1000000, &n);
            p.max_connections = (unsigned)n;
        } else if ((r = cli_opt(argc, argv, &i, "--timeout", &v))) {
            bad = r < 0 || cli_parse_count("serve", "--timeout", v, 1, 86400, &n);
            p.timeout = (unsigned)n;
        } else if ((r = cli_opt(argc, argv, &i, "--recent", &v))) {
            bad = r < 0 || cli_parse_count("serve", "--recent", v, 1, 100000, &n);
            p.recent = (size_t)n;
        } else if (cli_flag(argv, i, "--verbose") || cli_flag(argv, i, "-v")) {
            verbose = 1;
        } else {
            cli_usage_error("serve", "unknown option '%s'", argv[i]);
            bad = 1;
        }
        if (bad) {
            cli_list_free(&models);
            cli_list_free(&missing);
            return VG_EXIT_USAGE;
        }
    }
    if (models.n == 0) {
        cli_usage_error("serve", "--model is required (repeat it to serve several models)");
        cli_list_free(&missing);
        return VG_EXIT_USAGE;
    }
    const char *bad = vg_server_params_check(&p);
    if (bad) {
        cli_usage_error("serve", "%s", bad);
        cli_list_free(&models);
        cli_list_free(&missing);
        return VG_EXIT_USAGE;
    }
    if (verbose) vg_log_set_level(VG_LOG_INFO);

    /* Block the signals before any server thread exists, so every thread
     * inherits the mask and only sigwait below receives them. */
    sigset_t sigs;
    sigemptyset(&sigs);
    sigaddset(&sigs, SIGINT);
    sigaddset(&sigs, SIGTERM);
    sigaddset(&sigs, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &sigs, NULL);
    signal(SIGPIPE, SIG_IGN);

    vg_server *s = NULL;
    int rc = VG_EXIT_OK;
    if (vg_server_new(&p, &s)) {
        cli_error("serve");
        cli_list_free(&models);
        cli_list_free(&missing);
        return VG_EXIT_ERROR;
    }
    for (size_t k = 0; k < models.n && rc == VG_EXIT_OK; k++) {
        const char *spec = models.items[k], *eq = strchr(spec, '='), *path = spec;
        char name[128];
        int named = eq && eq > spec && (size_t)(eq - spec) < sizeof name;
        for (const char *c = spec; named && c < eq; c++) named = valid_name_char(*c);
        if (named) {
            memcpy(name, spec, (size_t)(eq - spec));
            name[eq - spec] = '\0';
            path = eq + 1;
        }
        if (vg_server_add_model(s, named ? name : NULL, path)) {
            cli_error("serve");
            rc = VG_EXIT_ERROR;
        }
    }
    for (size_t k = 0; k < missing.n && rc == VG_EXIT_OK; k++) {
        const char *spec = missing.items[k], *eq = strchr(spec, '=');
        char name[128];
        vg_missing_policy mp = VG_MISSING_REJECT;
        snprintf(name, sizeof name, "%.*s", (int)VG_MIN((size_t)(eq - spec), sizeof name - 1), spec);
        if (vg_missing_policy_parse(eq + 1, &mp) || vg_server_set_missing(s, name, mp)) {
            fprintf(stderr, "vigil serve: --missing %s: %s\n", spec, vg_last_error());
            rc = VG_EXIT_USAGE;
        }
    }
    if (rc == VG_EXIT_OK && alerts && vg_server_add_alert_store(s, alerts)) {
        cli_error("serve");
        rc = VG_EXIT_ERROR;
    }
    if (rc == VG_EXIT_OK && vg_server_start(s)) {
        cli_error("serve");
        rc = VG_EXIT_ERROR;
    }
    cli_list_free(&models);
    cli_list_free(&missing);
    if (rc != VG_EXIT_OK) {
        vg_server_free(s);
        return rc;
    }
    int v6 = strchr(p.host, ':') != NULL;
    printf("vigil serve: listening on http://%s%s%s:%u (models:", v6 ? "[" : "", p.host, v6 ? "]" : "",
           vg_server_port(s));
    for (size_t k = 0; k < vg_server_n_models(s); k++) printf("%s%s", k ? ", " : " ", vg_server_model_name(s, k));
    printf(")\n");
    fflush(stdout);

    for (;;) {
        int sig = 0;
        if (sigwait(&sigs, &sig) != 0) continue;
        if (sig == SIGHUP) {
            if (vg_server_reload(s, NULL)) {
                fprintf(stderr, "vigil serve: %s\n", vg_last_error());
            } else {
                fprintf(stderr, "vigil serve: reloaded");
                for (size_t k = 0; k < vg_server_n_models(s); k++)
                    fprintf(stderr, "%s%s", k ? ", " : " ", vg_server_model_name(s, k));
                fputc('\n', stderr);
            }
            continue;
        }
        fprintf(stderr, "vigil serve: %s, stopping\n", sig == SIGINT ? "interrupted" : "terminated");
        break;
    }
    vg_server_free(s);
    return VG_EXIT_OK;
}
