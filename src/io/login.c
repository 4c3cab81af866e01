/* --format login: login events in the CSV layout of the public Risk-Based
 * Authentication (RBA) login data set, turned into online per-user features.
 *
 * Columns are found by name from the header line, so the full 16-column file
 * and the 9-column reduction popular notebooks use (Login_Data.csv) both
 * work; a headerless stream (`vigil watch` attached mid-file) is read by its
 * field count: 16 = the full RBA order, 9 = the reduced order.
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
#include "vigil/csv.h"
#include "io/format_impl.h"
#include "vigil/logformat.h"

#include <math.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

enum col {
    C_INDEX, C_TIME, C_USER, C_RTT, C_IP, C_COUNTRY, C_REGION, C_CITY, C_ASN, C_UA,
    C_BROWSER, C_OS, C_DEVICE, C_SUCCESS, C_ATTACK_IP, C_ATO, N_COLS
};

/* The RBA header names, in the full file's column order. */
static const char *const col_names[N_COLS] = {
    "index", "Login Timestamp", "User ID", "Round-Trip Time [ms]", "IP Address", "Country", "Region", "City",
    "ASN", "User Agent String", "Browser Name and Version", "OS Name and Version", "Device Type",
    "Login Successful", "Is Attack IP", "Is Account Takeover",
};

/* The 9-column reduction (Login_Data.csv) for headerless input. */
static const enum col reduced_order[] = { C_TIME, C_USER, C_IP, C_COUNTRY, C_REGION, C_CITY, C_BROWSER, C_DEVICE, C_SUCCESS };

enum { SET_DEVICE, SET_IP, SET_COUNTRY, SET_ASN, SET_BROWSER, N_SETS };
enum { LABEL_ATTACK_IP, LABEL_ATO, LABEL_RULE };

#define MAX_LINE_FIELDS 64
#define MAX_USER_ID 64
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
    int pos[N_COLS];           /* line field index of each column, -1 absent */
    int have_layout;
    size_t n_line_fields;      /* fields a data line must have */
    vg_entity_store *users;
    char *buf;                 /* the current line, unquoted in place; max_line_bytes + 1 */
    char *lower;               /* scratch for a lowercased field; max_line_bytes + 1 */
    const char *fv[MAX_LINE_FIELDS];
    size_t fl[MAX_LINE_FIELDS];
    size_t n_fv;
    char user[MAX_USER_ID];
    vg_field out[MAX_OUT_FIELDS];
    bot_cache_entry bot_cache[BOT_CACHE];
} login_state;

static void set_layout(login_state *s, const enum col *order, size_t n)
{
    for (int c = 0; c < N_COLS; c++) s->pos[c] = -1;
    for (size_t i = 0; i < n; i++) s->pos[order[i]] = (int)i;
    s->n_line_fields = n;
    s->have_layout = 1;
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
    if (o.max_line_bytes == 0 || o.max_line_bytes > ((size_t)1 << 30))
        return vg_fail(VG_ERR_INVALID, "login: max_line_bytes must be in 1..2^30");
    vg_entity_params ep = vg_entity_params_default();
    ep.value_size = sizeof(user_state);
    ep.n_sets = N_SETS;
    ep.key_cap = MAX_USER_ID;
    ep.max_entities = o.max_entities;
    ep.ttl = o.entity_ttl;
    login_state *s = vg_calloc(1, sizeof *s);
    if (!s) return vg_fail(VG_ERR_NOMEM, "out of memory");
    s->opt = o;
    s->opt.label = NULL;  /* not owned; only the mode is kept */
    s->label_mode = mode;
    for (int c = 0; c < N_COLS; c++) s->pos[c] = -1;
    s->buf = vg_malloc(o.max_line_bytes + 1);
    s->lower = vg_malloc(o.max_line_bytes + 1);
    vg_status st = s->buf && s->lower ? vg_entity_store_new(&ep, &s->users) : vg_fail(VG_ERR_NOMEM, "out of memory");
    if (st) {
        vg_free(s->buf);
        vg_free(s->lower);
        vg_free(s);
        return st;
    }
    *out = s;
    return VG_OK;
}

static void login_state_free(void *state)
{
    login_state *s = state;
    if (!s) return;
    vg_entity_store_free(s->users);
    vg_free(s->buf);
    vg_free(s->lower);
    vg_free(s);
}

static void login_state_stats(const void *state, vg_logfmt_state_stats *out)
{
    const login_state *s = state;
    *out = (vg_logfmt_state_stats){ .bytes = sizeof *s + 2 * (s->opt.max_line_bytes + 1) + vg_entity_store_bytes(s->users),
                                 .entities = vg_entity_store_count(s->users),
                                 .evicted = vg_entity_store_evicted(s->users),
                                 .expired = vg_entity_store_expired(s->users) };
}

/* ---- the line ------------------------------------------------------------ */

/* Split s->buf[0..len) into fields, unquoting in place ("" is a quote). */
static vg_status split_fields(login_state *s, size_t len)
{
    char *b = s->buf;
    size_t r = 0;
    s->n_fv = 0;
    for (;;) {
        if (s->n_fv == MAX_LINE_FIELDS) return vg_fail(VG_ERR_PARSE, "more than %d fields", MAX_LINE_FIELDS);
        char *start = b + r;
        size_t w = r;
        if (r < len && b[r] == '"') {
            r++;
            for (;;) {
                if (r >= len) return vg_fail(VG_ERR_PARSE, "field %zu: unterminated quote", s->n_fv + 1);
                if (b[r] == '"') {
                    if (r + 1 < len && b[r + 1] == '"') {
                        b[w++] = '"';
                        r += 2;
                        continue;
                    }
                    r++;
                    break;
                }
                b[w++] = b[r++];
            }
            if (r < len && b[r] != ',')
                return vg_fail(VG_ERR_PARSE, "field %zu: text after the closing quote", s->n_fv + 1);
        } else {
            while (r < len && b[r] != ',') {
                if (b[r] == '"') return vg_fail(VG_ERR_PARSE, "field %zu: quote inside an unquoted field", s->n_fv + 1);
                r++;
            }
            w = r;
        }
        s->fv[s->n_fv] = start;
        s->fl[s->n_fv] = (size_t)(b + w - start);
        s->n_fv++;
        if (r >= len) break;
        r++;  /* the comma */
    }
    return VG_OK;
}

/* A header names at least two RBA columns (no data line does). It need not
 * name the two required ones: a header without 'User ID' is refused as a
 * header saying so, not read as a data line of the wrong field count. */
static int is_header(const login_state *s)
{
    int known = 0;
    for (size_t i = 0; i < s->n_fv && known < 2; i++)
        for (int c = 0; c < N_COLS; c++)
            if (strlen(col_names[c]) == s->fl[i] && memcmp(col_names[c], s->fv[i], s->fl[i]) == 0) {
                known++;
                break;
            }
    return known >= 2;
}

static void read_header(login_state *s)
{
    for (int c = 0; c < N_COLS; c++) s->pos[c] = -1;
    for (size_t i = 0; i < s->n_fv; i++)
        for (int c = 0; c < N_COLS; c++)
            if (s->pos[c] < 0 && strlen(col_names[c]) == s->fl[i] && memcmp(col_names[c], s->fv[i], s->fl[i]) == 0)
                s->pos[c] = (int)i;
    s->n_line_fields = s->n_fv;
    s->have_layout = 1;
}

/* Field of column c, or NULL (len 0) when the layout lacks it. "-" and ""
 * both mean unknown. */
static const char *get(const login_state *s, enum col c, size_t *len)
{
    *len = 0;
    if (s->pos[c] < 0) return NULL;
    const char *v = s->fv[s->pos[c]];
    size_t n = s->fl[s->pos[c]];
    if (n == 0 || (n == 1 && v[0] == '-')) return NULL;
    *len = n;
    return v;
}

/* Days since 1970-01-01 of a proleptic Gregorian date. */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    unsigned yoe = (unsigned)(y - era * 400);
    unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

static int digits(const char *s, size_t n, unsigned *out)
{
    unsigned v = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9') return 0;
        v = v * 10 + (unsigned)(s[i] - '0');
    }
    *out = v;
    return 1;
}

/* "YYYY-MM-DD HH:MM:SS[.fff]" (or a 'T' between date and time), UTC. */
static int parse_time(const char *s, size_t n, double *out)
{
    unsigned y, mo, d, h, mi, se;
    if (n < 19 || s[4] != '-' || s[7] != '-' || (s[10] != ' ' && s[10] != 'T') || s[13] != ':' || s[16] != ':')
        return 0;
    if (!digits(s, 4, &y) || !digits(s + 5, 2, &mo) || !digits(s + 8, 2, &d) || !digits(s + 11, 2, &h) ||
        !digits(s + 14, 2, &mi) || !digits(s + 17, 2, &se))
        return 0;
    static const unsigned mdays[] = { 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
    if (y < 1970 || mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1] || h > 23 || mi > 59 || se > 60) return 0;
    double frac = 0;
    if (n > 19) {
        if (s[19] != '.' || n == 20 || n > 29) return 0;
        double scale = 0.1;
        for (size_t i = 20; i < n; i++, scale /= 10) {
            if (s[i] < '0' || s[i] > '9') return 0;
            frac += (s[i] - '0') * scale;
        }
    }
    *out = (double)days_from_civil(y, mo, d) * 86400.0 + h * 3600.0 + mi * 60.0 + se + frac;
    return 1;
}

/* "True"/"False" (any case) or 1/0; -1 for anything else. */
static int parse_bool(const char *v, size_t n)
{
    if ((n == 4 && strncasecmp(v, "true", 4) == 0) || (n == 1 && v[0] == '1')) return 1;
    if ((n == 5 && strncasecmp(v, "false", 5) == 0) || (n == 1 && v[0] == '0')) return 0;
    return -1;
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

static const char *col_label(login_state *s, size_t field)
{
    for (int c = 0; c < N_COLS; c++)
        if (s->pos[c] == (int)field) return col_names[c];
    return NULL;
}

/* The line's fields are checked in full before the per-user state changes;
 * a layout guessed or read from this line is undone if the line is bad. */
static vg_status process_line(login_state *s, size_t len, vg_logfmt_event *out);

static vg_status login_process(void *state, const char *line, size_t len, vg_logfmt_event *out)
{
    login_state *s = state;
    memset(out, 0, sizeof *out);
    if (len > s->opt.max_line_bytes)
        return vg_fail(VG_ERR_LIMIT, "line longer than %zu bytes", s->opt.max_line_bytes);
    memcpy(s->buf, line, len);
    s->buf[len] = '\0';
    int pos[N_COLS];
    memcpy(pos, s->pos, sizeof pos);
    int have = s->have_layout;
    size_t n_fields = s->n_line_fields;
    vg_status st = process_line(s, len, out);
    if (st) {
        memcpy(s->pos, pos, sizeof pos);
        s->have_layout = have;
        s->n_line_fields = n_fields;
        memset(out, 0, sizeof *out);
    }
    return st;
}

static vg_status process_line(login_state *s, size_t len, vg_logfmt_event *out)
{
    vg_status st = split_fields(s, len);
    if (st) return st;
    if (is_header(s)) {
        read_header(s);
        if (s->pos[C_TIME] < 0 || s->pos[C_USER] < 0)
            return vg_fail(VG_ERR_PARSE, "header lacks the required column%s %s%s%s (the other columns are optional)",
                           s->pos[C_TIME] < 0 && s->pos[C_USER] < 0 ? "s" : "",
                           s->pos[C_TIME] < 0 ? "'Login Timestamp'" : "",
                           s->pos[C_TIME] < 0 && s->pos[C_USER] < 0 ? " and " : "",
                           s->pos[C_USER] < 0 ? "'User ID'" : "");
        return VG_OK;  /* n_fields 0: nothing to learn from a header */
    }
    if (!s->have_layout) {
        if (s->n_fv == N_COLS) {
            enum col full[N_COLS];
            for (int c = 0; c < N_COLS; c++) full[c] = (enum col)c;
            set_layout(s, full, N_COLS);
        } else if (s->n_fv == sizeof reduced_order / sizeof *reduced_order) {
            set_layout(s, reduced_order, s->n_fv);
        } else {
            return vg_fail(VG_ERR_PARSE, "no header line and %zu fields (the RBA layouts have 16 or 9)", s->n_fv);
        }
    }
    if (s->n_fv != s->n_line_fields)
        return vg_fail(VG_ERR_PARSE, "expected %zu fields, found %zu", s->n_line_fields, s->n_fv);
    for (size_t i = 0; i < s->n_fv; i++)
        for (size_t j = 0; j < s->fl[i]; j++) {
            unsigned char ch = (unsigned char)s->fv[i][j];
            if ((ch < 0x20 && ch != '\t') || ch == 0x7f) {
                const char *name = col_label(s, i);
                return name ? vg_fail(VG_ERR_PARSE, "%s: control or binary byte 0x%02x", name, ch)
                            : vg_fail(VG_ERR_PARSE, "field %zu: control or binary byte 0x%02x", i + 1, ch);
            }
        }

    /* Parse and validate everything before the state is touched. */
    size_t tn, un, n;
    const char *tv = get(s, C_TIME, &tn), *uv = get(s, C_USER, &un);
    double t;
    if (!tv || !parse_time(tv, tn, &t))
        return vg_fail(VG_ERR_PARSE, "Login Timestamp: '%.*s' is not YYYY-MM-DD HH:MM:SS[.fff]", (int)VG_MIN(tn, 40),
                       tv ? tv : "");
    if (!uv) return vg_fail(VG_ERR_PARSE, "User ID: empty");
    if (un > MAX_USER_ID) return vg_fail(VG_ERR_PARSE, "User ID: longer than %d bytes", MAX_USER_ID);
    int success = -1, attack_ip = -1, ato = -1;
    const char *v;
    if ((v = get(s, C_SUCCESS, &n)) && (success = parse_bool(v, n)) < 0)
        return vg_fail(VG_ERR_PARSE, "Login Successful: '%.*s' is not True or False", (int)VG_MIN(n, 20), v);
    if ((v = get(s, C_ATTACK_IP, &n)) && (attack_ip = parse_bool(v, n)) < 0)
        return vg_fail(VG_ERR_PARSE, "Is Attack IP: '%.*s' is not True or False", (int)VG_MIN(n, 20), v);
    if ((v = get(s, C_ATO, &n)) && (ato = parse_bool(v, n)) < 0)
        return vg_fail(VG_ERR_PARSE, "Is Account Takeover: '%.*s' is not True or False", (int)VG_MIN(n, 20), v);
    double rtt = NAN;
    /* isfinite: the number parser reads an overflowing literal (1e999) as
     * inf, as strtod does, and an inf feature breaks scaling downstream. */
    if ((v = get(s, C_RTT, &n)) && (!vg_parse_number(v, n, &rtt) || !(rtt >= 0) || !isfinite(rtt)))
        return vg_fail(VG_ERR_PARSE, "Round-Trip Time [ms]: '%.*s' is not a number of milliseconds",
                       (int)VG_MIN(n, 20), v);
    size_t asn_n, ip_n, country_n, dev_n, br_n, ua_n, os_n;
    const char *asn = get(s, C_ASN, &asn_n), *ip = get(s, C_IP, &ip_n), *country = get(s, C_COUNTRY, &country_n);
    const char *devtype = get(s, C_DEVICE, &dev_n), *browser = get(s, C_BROWSER, &br_n);
    const char *ua = get(s, C_UA, &ua_n), *os = get(s, C_OS, &os_n);
    unsigned asn_num;
    if (asn && (asn_n > 10 || !digits(asn, asn_n, &asn_num)))
        return vg_fail(VG_ERR_PARSE, "ASN: '%.*s' is not a number", (int)VG_MIN(asn_n, 20), asn);
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
    memcpy(s->user, uv, un);
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
    int truth = s->label_mode == LABEL_RULE ? score >= 3 : s->label_mode == LABEL_ATO ? ato : attack_ip;
    if (truth >= 0) {
        const char *lab = s->label_mode == LABEL_RULE ? (truth ? "anomalous" : "normal") : (truth ? "attack" : "normal");
        out->label = lab;
        out->label_len = strlen(lab);
    }
    if ((v = get(s, C_INDEX, &n))) {
        out->event_id = v;
        out->event_id_len = n;
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
