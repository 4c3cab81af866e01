/* --format login: login events in the CSV layout of the public Risk-Based
 * Authentication (RBA) login data set (parsed by src/io/login_parse.c),
 * turned into online per-user features.
 *
 * Each event's features come from its user's past plus the event itself,
 * never from later events (entity_state.h keeps the bounded per-user state):
 *   login_success        this attempt succeeded (0/1)
 *   success_count, failure_count, fail_success_ratio (failures / max(1, successes)), so far
 *   recent_attempts, recent_failures: the same counts fading with a time
 *                        constant of an hour (each event adds 1 after the
 *                        past decays by exp(-dt / 3600)), so bursts show
 *   distinct_devices, distinct_ips, distinct_countries, distinct_asns, distinct_browsers, so far
 *   seconds_since_prev   since the user's previous attempt; missing for the first
 *   new_country, new_device, new_asn, new_ip: this value was never seen for
 *                        the user before (missing for the user's first event)
 *   hour                 of day, UTC, of the event
 *   bot_browser, bot_device: the user agent or browser name looks automated
 *                        (bot, crawler, headless, curl, python-requests, ...),
 *                        Device Type is "bot"
 *   rtt_ms, country, device_type, browser_family, asn: raw context
 *   rule_score           the rule-based risk score below; NOT emitted when the
 *                        label is "rule-score", because the label is a
 *                        threshold of it and the model would learn the rule
 *                        from the leak instead of from the features. It is
 *                        a label column (never a feature): a regression
 *                        target, or a second truth beside the label.
 * A "device" is the user agent string when there is one (the most specific
 * fingerprint the data carries), else OS + device type + browser.
 *
 * Rule score: +1 each for more than 2 countries, more than 3 devices, more
 * than 4 IPs, more than 3 browser families, an attempt under 5 s after the
 * previous one, a failure/success ratio over 10; +2 each for a bot browser
 * and a bot device. Label "rule-score": "anomalous" at 3 or more, else
 * "normal". Other labels: "Is Attack IP" (default) or "Is Account Takeover"
 * -> "attack" / "normal". */
#define _GNU_SOURCE  /* memmem */
#include "features/entity_state.h"
#include "io/format_impl.h"
#include "io/login_parse.h"
#include "vigil/format.h"

#include <math.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

enum { SET_DEVICE, SET_IP, SET_COUNTRY, SET_ASN, SET_BROWSER, N_SETS };
enum { LABEL_ATTACK_IP, LABEL_ATO, LABEL_RULE };

#define MAX_OUT_FIELDS 28
/* Time constant (s) of the decayed attempt and failure counts: lifetime
 * counts cannot tell a burst of failures from years of typos of a busy
 * user, a count that fades over about an hour can. */
#define RECENT_TAU 3600.0

#define BOT_CACHE 4096

typedef struct bot_cache_entry {
    uint64_t hash;
    int bot;
} bot_cache_entry;

/* Per-user value in the entity store. */
typedef struct user_state {
    uint32_t successes, failures;
    double recent_attempts, recent_failures;   /* decayed counts, see RECENT_TAU */
} user_state;

typedef struct login_state {
    vg_logfmt_options opt;
    int label_mode;
    vg_login_parser *parser;
    vg_entity_store *users;
    char *lower;               /* scratch for a lowercased field; max_line_bytes + 1 */
    char user[VG_LOGIN_MAX_USER_ID];
    vg_field out[MAX_OUT_FIELDS];
    bot_cache_entry bot_cache[BOT_CACHE];
} login_state;

static void login_state_free(void *state)
{
    login_state *s = state;
    if (!s) return;
    vg_login_parser_free(s->parser);
    vg_entity_store_free(s->users);
    vg_free(s->lower);
    vg_free(s);
}

static vg_status login_state_new(const vg_logfmt_options *opt, void **out)
{
    *out = NULL;
    vg_logfmt_options o = opt ? *opt : vg_logfmt_options_default();
    int mode;
    if (!o.label || strcmp(o.label, "Is Attack IP") == 0) mode = LABEL_ATTACK_IP;
    else if (strcmp(o.label, "Is Account Takeover") == 0) mode = LABEL_ATO;
    else if (strcmp(o.label, "rule-score") == 0) mode = LABEL_RULE;
    else
        return vg_fail(VG_ERR_INVALID, "login: unknown label '%s' (Is Attack IP, Is Account Takeover or rule-score)",
                       o.label);
    vg_login_parser *parser;
    vg_status st = vg_login_parser_new(o.max_line_bytes, &parser);
    if (st) return st;
    vg_entity_params ep = vg_entity_params_default();
    ep.value_size = sizeof(user_state);
    ep.n_sets = N_SETS;
    ep.key_cap = VG_LOGIN_MAX_USER_ID;
    ep.max_entities = o.max_entities;
    ep.ttl = o.entity_ttl;
    login_state *s = vg_calloc(1, sizeof *s);
    if (!s) {
        vg_login_parser_free(parser);
        return vg_fail(VG_ERR_NOMEM, "out of memory");
    }
    s->parser = parser;
    s->opt = o;
    s->opt.label = NULL;  /* not owned; only the mode is kept */
    s->label_mode = mode;
    s->lower = vg_malloc(o.max_line_bytes + 1);
    st = s->lower ? vg_entity_store_new(&ep, &s->users) : vg_fail(VG_ERR_NOMEM, "out of memory");
    if (st) {
        login_state_free(s);
        return st;
    }
    *out = s;
    return VG_OK;
}

static void login_state_stats(const void *state, vg_logfmt_state_stats *out)
{
    const login_state *s = state;
    *out = (vg_logfmt_state_stats){ .bytes = sizeof *s + vg_login_parser_bytes(s->parser) + s->opt.max_line_bytes + 1 +
                                             vg_entity_store_bytes(s->users),
                                 .entities = vg_entity_store_count(s->users),
                                 .evicted = vg_entity_store_evicted(s->users),
                                 .expired = vg_entity_store_expired(s->users) };
}

static int is_alpha(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

/* Automated clients announce themselves in the user agent or browser name.
 * "bot" counts only as a word ending (Googlebot/2.1, AhrefsBot) and not in
 * "Cubot", a phone brand common in login data. The text is lowercased once
 * into scratch (n + 1 bytes) so each word is one memmem, not a
 * case-insensitive compare at every offset (that was two thirds of the time
 * of reading a log). */
static int looks_bot(const char *s, size_t n, char *scratch)
{
    static const char *const words[] = { "crawler", "spider", "headless", "python-requests", "python-urllib",
                                         "curl/", "wget/", "scrapy", "go-http-client", "libwww", "okhttp/",
                                         "java/", "phantomjs", "selenium", "httpclient", "slurp" };
    if (!s) return 0;
    for (size_t i = 0; i < n; i++) scratch[i] = (s[i] >= 'A' && s[i] <= 'Z') ? (char)(s[i] + 32) : s[i];
    for (size_t i = 0; i < sizeof words / sizeof *words; i++)
        if (memmem(scratch, n, words[i], strlen(words[i]))) return 1;
    for (const char *p = scratch, *end = scratch + n; (p = memmem(p, (size_t)(end - p), "bot", 3)); p += 3) {
        size_t i = (size_t)(p - scratch);
        if ((i + 3 == n || !is_alpha(scratch[i + 3])) && !(i >= 2 && memcmp(p - 2, "cu", 2) == 0)) return 1;
    }
    return n == 4 && memcmp(scratch, "curl", 4) == 0;
}

/* looks_bot of the user agent or the browser name, remembered for recent
 * pairs: logs repeat the same few thousand agents, and the scan was still a
 * quarter of the time. A direct-mapped cache keyed by a 64-bit hash. */
static int bot_cached(login_state *s, const char *ua, size_t ua_n, const char *br, size_t br_n)
{
    uint64_t h = vg_hash(ua ? ua : "", ua_n, vg_hash(br ? br : "", br_n, 0x626f74)) | 1;  /* 0 = empty slot */
    bot_cache_entry *c = &s->bot_cache[h % BOT_CACHE];
    if (c->hash == h) return c->bot;
    c->hash = h;
    c->bot = looks_bot(ua, ua_n, s->lower) || looks_bot(br, br_n, s->lower);
    return c->bot;
}

/* "Chrome Mobile WebView 85.0.4183" -> "Chrome Mobile WebView": the words
 * before the first one that starts with a digit. */
static size_t browser_family(const char *v, size_t n)
{
    size_t end = 0;
    for (size_t i = 0; i < n;) {
        while (i < n && v[i] == ' ') i++;
        if (i >= n || (v[i] >= '0' && v[i] <= '9')) break;
        while (i < n && v[i] != ' ') i++;
        end = i;
    }
    return end;
}

/* ---- features ------------------------------------------------------------ */

static void put_num(login_state *s, size_t *k, const char *name, double v)
{
    s->out[(*k)++] = (vg_field){ .name = name, .name_len = strlen(name), .kind = VG_FIELD_NUMBER, .number = v };
}

static void put_null(login_state *s, size_t *k, const char *name)
{
    s->out[(*k)++] = (vg_field){ .name = name, .name_len = strlen(name), .kind = VG_FIELD_NULL };
}

static void put_text(login_state *s, size_t *k, const char *name, const char *v, size_t n)
{
    if (!v) {
        put_null(s, k, name);
        return;
    }
    s->out[(*k)++] = (vg_field){ .name = name, .name_len = strlen(name), .kind = VG_FIELD_TEXT, .text = v, .text_len = n };
}

/* Add a value to a set; emit the new_* flag (missing when the value is
 * unknown or the user has no past to compare with). */
static void track(login_state *s, vg_entity *e, unsigned set, const char *v, size_t n, int first, int *new_out)
{
    *new_out = -1;
    if (!v) return;
    int fresh = vg_entity_set_add(s->users, e, set, vg_hash(v, n, set));
    if (!first) *new_out = fresh;
}

static void put_flag(login_state *s, size_t *k, const char *name, int flag)
{
    if (flag < 0) put_null(s, k, name);
    else put_num(s, k, name, flag);
}

static vg_status login_features(login_state *s, const vg_login_record *r, vg_logfmt_event *out);

/* The line is parsed and checked in full before the per-user state changes;
 * a layout the parser guessed from this line is undone if the line is
 * refused after all. */
static vg_status login_process(void *state, const char *line, size_t len, vg_logfmt_event *out)
{
    login_state *s = state;
    memset(out, 0, sizeof *out);
    vg_login_record r;
    vg_status st = vg_login_parse(s->parser, line, len, &r);
    if (st || r.is_header) return st;  /* n_fields 0 for a header: nothing to learn from it */
    st = login_features(s, &r, out);
    if (st) {
        vg_login_parser_undo(s->parser);
        memset(out, 0, sizeof *out);
    }
    return st;
}

static vg_status login_features(login_state *s, const vg_login_record *r, vg_logfmt_event *out)
{
    vg_status st;
    double t = r->time, rtt = r->rtt;
    int success = r->success;
    size_t un = r->user_len, asn_n = r->asn_len, ip_n = r->ip_len, country_n = r->country_len;
    size_t dev_n = r->devtype_len, br_n = r->browser_len, ua_n = r->ua_len, os_n = r->os_len;
    const char *asn = r->asn, *ip = r->ip, *country = r->country, *devtype = r->devtype, *browser = r->browser;
    const char *ua = r->ua, *os = r->os;
    size_t fam_n = browser ? browser_family(browser, br_n) : 0;
    const char *fam = fam_n ? browser : NULL;
    int bot_browser = bot_cached(s, ua, ua_n, browser, br_n);
    int bot_device = devtype && dev_n == 3 && strncasecmp(devtype, "bot", 3) == 0;
    /* The device fingerprint: the user agent, else OS | type | browser. */
    uint64_t dev_hash = 0;
    int have_dev = 0;
    if (ua) {
        dev_hash = vg_hash(ua, ua_n, SET_DEVICE);
        have_dev = 1;
    } else if (os || devtype || browser) {
        dev_hash = vg_hash(os ? os : "", os ? os_n : 0, vg_hash(devtype ? devtype : "", devtype ? dev_n : 0,
                                                                  vg_hash(browser ? browser : "", br_n, SET_DEVICE)));
        have_dev = 1;
    }

    /* The user's past, then this event folded in. */
    memcpy(s->user, r->user, un);
    vg_entity *e;
    int first;
    if ((st = vg_entity_get(s->users, s->user, un, t, &e, &first))) return st;
    user_state *u = vg_entity_value(s->users, e);
    double since = first ? NAN : fmax(0.0, t - vg_entity_prev_seen(e));
    double fade = first ? 0.0 : exp(-since / RECENT_TAU);
    u->recent_attempts = u->recent_attempts * fade + 1.0;
    u->recent_failures = u->recent_failures * fade + (success == 0);
    if (success == 1 && u->successes < UINT32_MAX) u->successes++;
    if (success == 0 && u->failures < UINT32_MAX) u->failures++;
    int new_country, new_device = -1, new_asn, new_ip, new_browser;  /* new_browser: tracked, not a feature */
    track(s, e, SET_COUNTRY, country, country_n, first, &new_country);
    track(s, e, SET_ASN, asn, asn_n, first, &new_asn);
    track(s, e, SET_IP, ip, ip_n, first, &new_ip);
    track(s, e, SET_BROWSER, fam, fam_n, first, &new_browser);
    (void)new_browser;
    if (have_dev) {
        int fresh = vg_entity_set_add(s->users, e, SET_DEVICE, dev_hash);
        if (!first) new_device = fresh;
    }
    uint32_t n_dev = vg_entity_set_count(s->users, e, SET_DEVICE), n_ip = vg_entity_set_count(s->users, e, SET_IP);
    uint32_t n_country = vg_entity_set_count(s->users, e, SET_COUNTRY);
    uint32_t n_asn = vg_entity_set_count(s->users, e, SET_ASN), n_br = vg_entity_set_count(s->users, e, SET_BROWSER);
    double ratio = (double)u->failures / (double)VG_MAX(u->successes, 1u);
    int score = (n_country > 2) + (n_dev > 3) + (n_ip > 4) + (n_br > 3) + (!first && since < 5.0) + (ratio > 10) +
                2 * bot_browser + 2 * bot_device;

    size_t k = 0;
    put_flag(s, &k, "login_success", success);
    put_num(s, &k, "success_count", u->successes);
    put_num(s, &k, "failure_count", u->failures);
    put_num(s, &k, "fail_success_ratio", ratio);
    put_num(s, &k, "recent_attempts", u->recent_attempts);
    put_num(s, &k, "recent_failures", u->recent_failures);
    if (have_dev) put_num(s, &k, "distinct_devices", n_dev);
    else put_null(s, &k, "distinct_devices");
    if (ip) put_num(s, &k, "distinct_ips", n_ip);
    else put_null(s, &k, "distinct_ips");
    if (country) put_num(s, &k, "distinct_countries", n_country);
    else put_null(s, &k, "distinct_countries");
    if (asn) put_num(s, &k, "distinct_asns", n_asn);
    else put_null(s, &k, "distinct_asns");
    if (fam) put_num(s, &k, "distinct_browsers", n_br);
    else put_null(s, &k, "distinct_browsers");
    if (first) put_null(s, &k, "seconds_since_prev");
    else put_num(s, &k, "seconds_since_prev", since);
    put_flag(s, &k, "new_country", new_country);
    put_flag(s, &k, "new_device", new_device);
    put_flag(s, &k, "new_asn", new_asn);
    put_flag(s, &k, "new_ip", new_ip);
    double day = fmod(t, 86400.0);
    put_num(s, &k, "hour", floor(day / 3600.0));
    put_num(s, &k, "bot_browser", bot_browser);
    put_num(s, &k, "bot_device", bot_device);
    if (isnan(rtt)) put_null(s, &k, "rtt_ms");
    else put_num(s, &k, "rtt_ms", rtt);
    put_text(s, &k, "country", country, country_n);
    put_text(s, &k, "device_type", devtype, dev_n);
    put_text(s, &k, "browser_family", fam, fam_n);
    put_text(s, &k, "asn", asn, asn_n);
    if (s->label_mode != LABEL_RULE) put_num(s, &k, "rule_score", score);
    VG_ASSERT(k <= MAX_OUT_FIELDS);

    out->fields = s->out;
    out->n_fields = k;
    out->entity = s->user;
    out->entity_len = un;
    out->time = t;
    int truth = s->label_mode == LABEL_RULE ? score >= 3 : s->label_mode == LABEL_ATO ? r->ato : r->attack_ip;
    if (truth >= 0) {
        const char *lab = s->label_mode == LABEL_RULE ? (truth ? "anomalous" : "normal") : (truth ? "attack" : "normal");
        out->label = lab;
        out->label_len = strlen(lab);
    }
    if (r->index) {
        out->event_id = r->index;
        out->event_id_len = r->index_len;
    }
    return VG_OK;
}

#define FORMAT_NAME "login"
#define FORMAT_SUMMARY "login events (RBA data set CSV) with online per-user features"

static const char *const login_truth_columns[] = { "label", "rule_score", NULL };

const vg_logfmt vg_login_format = {
    .name = FORMAT_NAME,
    .summary = FORMAT_SUMMARY,
    .state_new = login_state_new,
    .state_free = login_state_free,
    .process = login_process,
    .state_stats = login_state_stats,
};

/* Its row of the format registry; the dimensions are what the report's
 * Sources section counts per user. */
const vg_format vg_format_login = {
    .name = FORMAT_NAME,
    .summary = FORMAT_SUMMARY,
    VG_LOGFMT_ROW(vg_login_format),
    .truth_columns = login_truth_columns,
    .entity_name = "user",
    .dims = { { "Countries", "country", 0 }, { "Outcome", "login_success", 1 }, { "ASNs", "asn", 0 },
              { "Device types", "device_type", 0 } },
    .n_dims = 4,
};