/* The "weblog" log format: each access-log request becomes a feature record
 * of URL features (urlfeat.c), request facts (method, status, bytes, user
 * agent class, client country) and the client's recent behaviour, computed
 * online from the client's past requests plus this one.
 *
 * Per-client state lives in the shared bounded entity store (LRU + TTL), one
 * fixed-size slot per client IP:
 *   - a ring of the last WL_RING requests (time, status class, path hash,
 *     bytes): requests in the last 10 s and distinct paths in the last 60 s
 *     are exact up to WL_RING and saturate there;
 *   - six 10-second buckets of requests, 4xx, 5xx and bytes: the 60-second
 *     counts and ratios, at 10-second granularity (the window is the current
 *     bucket and the five before it), never saturating below 65535;
 *   - lifetime counters and distinct-value sets (paths, user agents).
 * So a client costs about 480 bytes however much it sends.
 *
 * Labels come from the record (a JSON line's "label"), from a side file
 * (--labels), or, for logs nobody labelled, from rules (label "rule-score",
 * `--task rule-score`): +2 each for a known scanner user agent and for any
 * SQL injection, XSS or path traversal token in the URL or a strong payload
 * sign (payload.c, any field: SQL, XSS, traversal, command and template
 * injection, CRLF, JNDI);
 * +1 each for an HTTP tool agent (curl, python-requests, ...), more than 20
 * requests in the last 10 s, a 4xx share over 1/2 of at least 10 requests
 * in the last 60 s, and more than 20 distinct paths in the last 60 s.
 * "anomalous" at 2 or more, else "normal": one strong sign or two weak
 * ones. The rules see the same online features the model does, so a model
 * trained on them learns to generalise the rule, not a different truth. */
#include "vigil/canon.h"
#include "vigil/geo.h"
#include "vigil/payload.h"
#include "io/format_impl.h"
#include "vigil/format.h"
#include "vigil/urlfeat.h"
#include "features/entity_state.h"
#include "io/weblog.h"

#include <math.h>
#include <pthread.h>
#include <string.h>

#define WL_RING 32
#define WL_BUCKETS 6
#define WL_BUCKET_SECONDS 10.0
#define WL_WINDOW 60.0
#define WL_SHORT 10.0
#define RULE_ANOMALOUS 2
#define WL_PV_RING 16          /* recent (path + parameter name, value) pairs of a client */
#define WL_CANON_BYTES 16384   /* canonical text of one field: twice the decoder's 8 KiB input (Latin-1 doubles) */

/* Memos of the pure functions of one text (a field's canonical form and
 * payload signs; a target's URL features), direct-mapped by hash: logs
 * repeat their paths, referers and parameter names (assets, the home page,
 * the same form), and decoding and scanning them again was a third of a
 * line's feature time. A hit is checked byte for byte, so results are
 * those of the functions themselves; longer texts are computed each time. */
#define WL_MEMO_FIELDS 512
#define WL_MEMO_URLS 256
#define WL_MEMO_BYTES 96

enum { SET_PATHS = 0, SET_AGENTS = 1, SET_PARAMS = 2, N_SETS = 3 };

/* Raw text a linear model reads as hashed n-grams (--text): the request line
 * as "METHOD target", the target's path and query (still URL-encoded, as a
 * TF-IDF peer reads them), the user agent; empty when the line has none. */
enum { WL_TEXT_REQUEST = 0, WL_TEXT_PATH, WL_TEXT_QUERY, WL_TEXT_AGENT, WL_N_TEXT };
static const char *const text_names[WL_N_TEXT] = { "request", "path", "query", "agent" };

typedef struct wl_hit {
    float t;          /* seconds after the client's time base */
    uint32_t bytes;   /* saturating */
    uint16_t path;    /* low bits of the path hash: distinct counting */
    uint8_t status;   /* status / 100 */
    uint8_t unused;
} wl_hit;

typedef struct wl_client {
    double base;                  /* time base of ring entries */
    int64_t bucket;               /* index (time / 10 s) of the newest bucket */
    uint64_t agent_hash;
    uint32_t requests, agent_changes;
    uint32_t b_bytes[WL_BUCKETS];
    uint16_t b_req[WL_BUCKETS], b_4xx[WL_BUCKETS], b_5xx[WL_BUCKETS];
    uint8_t head, n;              /* ring: next slot, entries held */
    uint8_t agent_class, agent_name;
    char country[VG_GEO_NAME_BYTES];
    wl_hit ring[WL_RING];
    uint8_t agent_payload[VG_PAYLOAD_COUNT];  /* payload families of the current agent (saturating) */
    uint8_t pv_head, pv_n;
    uint32_t pv[WL_PV_RING];      /* hash16(path, name) << 16 | hash16(value) */
} wl_client;

/* User agents: known attack tools first (the more specific name wins), then
 * generic HTTP libraries, then crawlers. */
enum { UA_NONE, UA_BROWSER, UA_SCANNER, UA_TOOL, UA_BOT, UA_OTHER };
static const char *const ua_class_names[] = { "none", "browser", "scanner", "tool", "bot", "other" };
static const struct {
    const char *needle;  /* lower case */
    uint8_t cls;
} agents[] = {
    { "sqlmap", UA_SCANNER },   { "nikto", UA_SCANNER },       { "nmap", UA_SCANNER },
    { "masscan", UA_SCANNER },  { "zgrab", UA_SCANNER },       { "gobuster", UA_SCANNER },
    { "dirbuster", UA_SCANNER }, { "wpscan", UA_SCANNER },     { "nuclei", UA_SCANNER },
    { "acunetix", UA_SCANNER }, { "nessus", UA_SCANNER },      { "openvas", UA_SCANNER },
    { "w3af", UA_SCANNER },     { "fuzz", UA_SCANNER },        { "hydra", UA_SCANNER },
    { "dirb", UA_SCANNER },     { "zmeu", UA_SCANNER },        { "python-requests", UA_TOOL },
    { "go-http-client", UA_TOOL }, { "curl", UA_TOOL },        { "wget", UA_TOOL },
    { "libwww", UA_TOOL },      { "python-urllib", UA_TOOL },  { "java/", UA_TOOL },
    { "okhttp", UA_TOOL },      { "bot", UA_BOT },             { "crawler", UA_BOT },
    { "spider", UA_BOT },       { "slurp", UA_BOT },
};
#define N_AGENTS (sizeof agents / sizeof agents[0])
#define AGENT_NAME_NONE 255

/* The feature record: fixed names, in this order. */
enum {
    F_METHOD, F_STATUS_CLASS, F_EXT, F_COUNTRY, F_UA_CLASS, F_UA_NAME,  /* text */
    F_STATUS, F_BYTES, F_REQ_10S, F_REQ_60S, F_4XX_60S, F_5XX_60S, F_PATHS_60S, F_BYTES_60S, F_SINCE_PREV,
    F_REQUESTS, F_UA_CHANGED, F_UA_CHANGES, F_DISTINCT_UAS, F_DISTINCT_PATHS, F_HAS_REFERER, F_UA_LENGTH,
    F_SCANNER_UA, F_URL0, F_PAY0 = F_URL0 + VG_URLFEAT_COUNT,
    /* Payload families of every attacker-controlled field together
     * (path, each query parameter's name and value, agent, referer, body),
     * then each field's share, then the encoding the decoder undid. */
    F_PAY_PATH = F_PAY0 + VG_PAYLOAD_COUNT, F_PAY_QUERY, F_PAY_AGENT, F_PAY_REFERER, F_PAY_BODY,
    F_ENC_ROUNDS, F_ENC_PCT, F_ENC_U, F_ENC_ENTITIES, F_ENC_OVERLONG, F_ENC_LATIN1, F_ENC_NON_ASCII,
    F_ENC_CONTROLS, F_ENC_COMMENTS, F_ENC_TRUNCATED,
    F_VALUE_MAX, F_PARAM_MUTATION, F_PARAM_NAMES, F_GAP_CV, F_HAS_BODY, F_PAY_STRONG, F_SAME_PATH_60S, N_FIELDS
};
static const char *const pay_names[VG_PAYLOAD_COUNT] = {
    "pay_sql", "pay_sql_union", "pay_sql_tautology", "pay_sql_time", "pay_sql_stacked", "pay_sql_quote",
    "pay_xss_tag", "pay_xss_handler", "pay_xss_proto", "pay_traversal", "pay_lfi", "pay_cmdi", "pay_ssti",
    "pay_crlf", "pay_jndi", "pay_meta",
};
static const char *const more_names[N_FIELDS - F_PAY_PATH] = {
    "pay_path", "pay_query", "pay_agent", "pay_referer", "pay_body",
    "enc_rounds", "enc_pct", "enc_u", "enc_entities", "enc_overlong", "enc_latin1", "enc_non_ascii",
    "enc_controls", "enc_comments", "enc_truncated",
    "query_value_max", "param_mutation", "param_names", "gap_cv", "has_body", "pay_strong", "same_path_60s",
};
static const char *const field_names[F_URL0] = {
    "method", "status_class", "ext_class", "country", "ua_class", "ua_name",
    "status", "bytes", "req_10s", "req_60s", "ratio_4xx_60s", "ratio_5xx_60s", "distinct_paths_60s", "bytes_60s",
    "since_prev", "requests", "ua_changed", "ua_changes", "distinct_uas", "distinct_paths", "has_referer",
    "ua_length", "scanner_ua",
};

typedef struct wl_field_memo {
    uint64_t hash;                /* 0: empty */
    uint32_t len, cn;             /* the text's length, its canonical form's */
    vg_canon_info ci;
    uint16_t pay[VG_PAYLOAD_COUNT];
    char text[WL_MEMO_BYTES];
} wl_field_memo;

/* URL features are counts no larger than the text (bytes) but the entropy:
 * held as bytes; a target whose features do not fit is not kept. */
typedef struct wl_url_memo {
    uint64_t hash;
    double entropy;
    const char *ext;
    uint32_t len;
    uint8_t counts[VG_URLFEAT_COUNT];
    char text[WL_MEMO_BYTES];
} wl_url_memo;

typedef struct wl_state {
    vg_entity_store *store;
    vg_geo *geo;
    int geo_shared;
    size_t max_line;
    int rule_label;                /* label each event by the rules above */
    char *scratch;                 /* JSON string copies: max_line + 1 bytes */
    char host[VG_WEBLOG_MAX_HOST + 1];
    char method[VG_WEBLOG_MAX_METHOD + 1];
    char id[VG_WEBLOG_MAX_ID + 1];
    char label[64];
    char country[VG_GEO_NAME_BYTES];
    char status_class[4];
    vg_field fields[N_FIELDS + WL_N_TEXT];
    size_t n_text;                 /* raw text fields asked for (--text), after the features */
    uint8_t text_kind[WL_N_TEXT];  /* which of text_names each is */
    char *text;                    /* their bytes: 3 max_line + 16 */
    double url[VG_URLFEAT_COUNT];
    char canon[WL_CANON_BYTES];    /* the field being read, canonical */
    const char *ext;               /* the target's extension class */
    wl_field_memo field_memo[WL_MEMO_FIELDS];
    wl_url_memo url_memo[WL_MEMO_URLS];
} wl_state;

/* The built-in GeoIP database is ~14 MB once loaded and takes a moment to
 * read: states share one copy, freed with the last state. */
static pthread_mutex_t geo_lock = PTHREAD_MUTEX_INITIALIZER;
static vg_geo *geo_default;
static size_t geo_users;

static vg_status geo_acquire(const char *path, vg_geo **g, int *shared)
{
    *shared = 0;
    if (path) return vg_geo_open(path, g);
    vg_status st = VG_OK;
    pthread_mutex_lock(&geo_lock);
    if (!geo_default) st = vg_geo_open(NULL, &geo_default);
    if (!st) geo_users++, *g = geo_default, *shared = 1;
    pthread_mutex_unlock(&geo_lock);
    return st;
}

static void geo_release(vg_geo *g, int shared)
{
    if (!shared) {
        vg_geo_free(g);
        return;
    }
    pthread_mutex_lock(&geo_lock);
    if (--geo_users == 0) {
        vg_geo_free(geo_default);
        geo_default = NULL;
    }
    pthread_mutex_unlock(&geo_lock);
}

static void wl_free(void *state)
{
    wl_state *s = state;
    if (!s) return;
    vg_entity_store_free(s->store);
    if (s->geo) geo_release(s->geo, s->geo_shared);
    vg_free(s->scratch);
    vg_free(s->text);
    vg_free(s);
}

static vg_status wl_new(const vg_logfmt_options *opt, void **out)
{
    *out = NULL;
    vg_logfmt_options o = opt ? *opt : vg_logfmt_options_default();
    wl_state *s = vg_calloc(1, sizeof *s);
    if (!s) return vg_fail(VG_ERR_NOMEM, "out of memory");
    vg_status st = VG_OK;
    s->max_line = o.max_line_bytes ? o.max_line_bytes : 65536;
    if (o.label && strcmp(o.label, "rule-score") != 0) {
        vg_free(s);
        return vg_fail(VG_ERR_INVALID, "weblog: unknown label '%s' (labels come from the record, --labels or "
                                       "rule-score)", o.label);
    }
    s->rule_label = o.label != NULL;
    vg_entity_params ep = vg_entity_params_default();
    ep.value_size = sizeof(wl_client);
    ep.n_sets = N_SETS;
    /* Odd, so each set (12 + 4 * set_exact bytes) keeps the next set's
     * 64-bit bitmap 8-byte aligned in entity_state's current layout. */
    ep.set_exact = 9;
    ep.key_cap = VG_WEBLOG_MAX_HOST;
    ep.max_entities = o.max_entities;
    ep.ttl = o.entity_ttl;
    if (!(s->scratch = vg_malloc(s->max_line + 1))) st = vg_fail(VG_ERR_NOMEM, "out of memory");
    for (size_t i = 0; !st && i < o.n_text; i++) {
        size_t k = 0;
        while (k < WL_N_TEXT && strcmp(o.text[i], text_names[k]) != 0) k++;
        if (k == WL_N_TEXT)
            st = vg_fail(VG_ERR_INVALID, "weblog: --text '%s' is not one of request, path, query, agent", o.text[i]);
        for (size_t j = 0; !st && j < s->n_text; j++)
            if (s->text_kind[j] == k) st = vg_fail(VG_ERR_INVALID, "weblog: --text names '%s' twice", o.text[i]);
        if (!st) s->text_kind[s->n_text++] = (uint8_t)k;
    }
    if (!st && s->n_text && !(s->text = vg_malloc(3 * s->max_line + 16))) st = vg_fail(VG_ERR_NOMEM, "out of memory");
    if (!st) st = vg_entity_store_new(&ep, &s->store);
    if (!st) st = geo_acquire(o.geoip_path, &s->geo, &s->geo_shared);
    if (st) {
        wl_free(s);
        return st;
    }
    for (size_t i = 0; i < N_FIELDS; i++) {
        const char *name = i < F_URL0 ? field_names[i] : i < F_PAY0 ? vg_urlfeat_name(i - F_URL0)
                         : i < F_PAY_PATH ? pay_names[i - F_PAY0] : more_names[i - F_PAY_PATH];
        s->fields[i] = (vg_field){ .name = name, .name_len = strlen(name),
                                   .kind = i <= F_UA_NAME ? VG_FIELD_TEXT : VG_FIELD_NUMBER };
    }
    for (size_t i = 0; i < s->n_text; i++) {
        const char *name = text_names[s->text_kind[i]];
        s->fields[N_FIELDS + i] = (vg_field){ .name = name, .name_len = strlen(name), .kind = VG_FIELD_TEXT };
    }
    *out = s;
    return VG_OK;
}

static void wl_state_stats(const void *state, vg_logfmt_state_stats *out)
{
    const wl_state *s = state;
    *out = (vg_logfmt_state_stats){ .bytes = sizeof *s + s->max_line + 1 + vg_entity_store_bytes(s->store),
                                 .entities = vg_entity_store_count(s->store),
                                 .evicted = vg_entity_store_evicted(s->store),
                                 .expired = vg_entity_store_expired(s->store) };
}

static void classify_agent(const char *ua, size_t len, uint8_t *cls, uint8_t *name)
{
    *name = AGENT_NAME_NONE;
    if (!ua || len == 0) {
        *cls = UA_NONE;
        return;
    }
    char low[512];
    size_t n = VG_MIN(len, sizeof low - 1);
    for (size_t i = 0; i < n; i++) low[i] = (char)((ua[i] >= 'A' && ua[i] <= 'Z') ? ua[i] + 32 : ua[i]);
    low[n] = '\0';
    for (size_t k = 0; k < N_AGENTS; k++)
        if (strstr(low, agents[k].needle)) {
            *cls = agents[k].cls;
            *name = (uint8_t)k;
            return;
        }
    *cls = strncmp(low, "mozilla/", 8) == 0 || strncmp(low, "opera/", 6) == 0 ? UA_BROWSER : UA_OTHER;
}

static void set_num(wl_state *s, int f, double v)
{
    s->fields[f].number = v;
}

static void set_text(wl_state *s, int f, const char *t, size_t n)
{
    s->fields[f].text = t;
    s->fields[f].text_len = n;
}

/* The --text fields of request r, copied (r points into the caller's line
 * or the parser's scratch): request <= method + 1 + target, path + query <=
 * target, agent <= line, so 3 max_line + 16 bytes hold them all. */
static void set_raw_text(wl_state *s, const vg_weblog_request *r)
{
    const char *q = memchr(r->uri, '?', r->uri_len);
    const size_t plen = q ? (size_t)(q - r->uri) : r->uri_len;
    char *p = s->text;
    for (size_t i = 0; i < s->n_text; i++) {
        const char *start = p;
        switch (s->text_kind[i]) {
        case WL_TEXT_REQUEST:
            memcpy(p, r->method, VG_MIN(r->method_len, (size_t)VG_WEBLOG_MAX_METHOD));
            p += VG_MIN(r->method_len, (size_t)VG_WEBLOG_MAX_METHOD);
            *p++ = ' ';
            memcpy(p, r->uri, r->uri_len), p += r->uri_len;
            break;
        case WL_TEXT_PATH: memcpy(p, r->uri, plen), p += plen; break;
        case WL_TEXT_QUERY:
            if (q) memcpy(p, q + 1, r->uri_len - plen - 1), p += r->uri_len - plen - 1;
            break;
        default:
            if (r->agent) memcpy(p, r->agent, r->agent_len), p += r->agent_len;
            break;
        }
        s->fields[N_FIELDS + i].text = start;
        s->fields[N_FIELDS + i].text_len = (size_t)(p - start);
    }
}

/* Advance the 10-second buckets to time t and count this request in its bucket. */
static void bucket_add(wl_client *c, int created, double t, int status_class, double bytes)
{
    int64_t k = (int64_t)floor(t / WL_BUCKET_SECONDS);
    if (created) c->bucket = k;
    if (k > c->bucket) {
        int64_t steps = VG_MIN(k - c->bucket, (int64_t)WL_BUCKETS);
        for (int64_t j = 1; j <= steps; j++) {
            size_t slot = (size_t)((c->bucket + j) % WL_BUCKETS);
            c->b_req[slot] = c->b_4xx[slot] = c->b_5xx[slot] = 0;
            c->b_bytes[slot] = 0;
        }
        c->bucket = k;
    }
    if (c->bucket - k >= WL_BUCKETS) return;  /* a line older than the window: not counted */
    size_t slot = (size_t)(((k % WL_BUCKETS) + WL_BUCKETS) % WL_BUCKETS);
    if (c->b_req[slot] < UINT16_MAX) c->b_req[slot]++;
    if (status_class == 4 && c->b_4xx[slot] < UINT16_MAX) c->b_4xx[slot]++;
    if (status_class == 5 && c->b_5xx[slot] < UINT16_MAX) c->b_5xx[slot]++;
    double nb = (double)c->b_bytes[slot] + bytes;
    c->b_bytes[slot] = nb > UINT32_MAX ? UINT32_MAX : (uint32_t)nb;
}

/* Signs of the families benign text does not produce (not the SQL words or
 * meta characters alone, which prose and JSON have): the rule score's
 * strong sign, and the feature pay_strong (all families in one number, so
 * a tree needs one split for what the rule says, not one per family). */
static uint32_t strong_signs(const uint16_t *pay)
{
    uint32_t strong = 0;
    for (size_t k = VG_PAYLOAD_SQL_UNION; k < VG_PAYLOAD_META; k++) strong += k != VG_PAYLOAD_SQL_QUOTE ? pay[k] : 0;
    return strong + (pay[VG_PAYLOAD_SQL] >= 2);
}

/* What the fields of one request add up to (payload.h, canon.h). */
typedef struct wl_text {
    uint16_t pay[VG_PAYLOAD_COUNT];
    uint32_t field_hits;       /* the last field's hits, the meta characters aside */
    vg_canon_info enc;         /* summed over fields; rounds is the maximum */
} wl_text;

/* Canonical form of one field, its payload signs added to *x. */
static size_t read_field(wl_state *s, const char *t, size_t n, int form, wl_text *x)
{
    vg_canon_info ci;
    size_t cn;
    uint16_t pay[VG_PAYLOAD_COUNT] = { 0 };
    wl_field_memo *m = NULL;
    uint64_t h = 0;
    if (n <= WL_MEMO_BYTES) {
        h = vg_hash(t, n, 0x6669656cu + (uint64_t)form) | 1;
        m = &s->field_memo[h % WL_MEMO_FIELDS];
    }
    if (m && m->hash == h && m->len == n && memcmp(m->text, t, n) == 0) {
        ci = m->ci;
        cn = m->cn;
        memcpy(pay, m->pay, sizeof pay);
    } else {
        cn = vg_canon_decode(t, n, form, s->canon, sizeof s->canon, &ci);
        vg_payload_scan(s->canon, cn, pay);
        if (m) {
            *m = (wl_field_memo){ .hash = h, .len = (uint32_t)n, .cn = (uint32_t)cn, .ci = ci };
            memcpy(m->pay, pay, sizeof pay);
            memcpy(m->text, t, n);
        }
    }
    x->field_hits = 0;
    for (size_t k = 0; k < VG_PAYLOAD_COUNT; k++) {
        uint32_t v = (uint32_t)x->pay[k] + pay[k];
        x->pay[k] = v > UINT16_MAX ? UINT16_MAX : (uint16_t)v;
        if (k != VG_PAYLOAD_META) x->field_hits += pay[k];
    }
#define SUM(f) x->enc.f = (uint16_t)VG_MIN((uint32_t)x->enc.f + ci.f, (uint32_t)UINT16_MAX)
    SUM(pct), SUM(pct_u), SUM(entities), SUM(overlong), SUM(latin1), SUM(non_ascii), SUM(controls), SUM(comments),
        SUM(truncated);
#undef SUM
    if (ci.rounds > x->enc.rounds) x->enc.rounds = ci.rounds;
    return cn;
}

/* A client trying many values of one parameter of one path (a fuzzer, an
 * injection tool, a password guesser) whatever the server answers: the
 * most distinct values among the client's recent pairs with the same path
 * and name, this one included. */
static uint32_t note_param(wl_client *c, uint64_t path_hash, const char *name, size_t nl, const char *val, size_t vl)
{
    uint32_t key = (uint32_t)(vg_hash(name, nl, path_hash) & 0xFFFF);
    uint32_t v = (uint32_t)(vg_hash(val, vl, 7) & 0xFFFF);
    uint32_t entry = key << 16 | v;
    uint16_t seen[WL_PV_RING + 1];
    size_t n_seen = 0;
    seen[n_seen++] = (uint16_t)v;
    for (size_t i = 0; i < c->pv_n; i++) {
        uint32_t e = c->pv[i];
        if (e >> 16 != key) continue;
        size_t j = 0;
        while (j < n_seen && seen[j] != (uint16_t)e) j++;
        if (j == n_seen) seen[n_seen++] = (uint16_t)e;
    }
    c->pv[c->pv_head] = entry;
    c->pv_head = (uint8_t)((c->pv_head + 1) % WL_PV_RING);
    if (c->pv_n < WL_PV_RING) c->pv_n++;
    return (uint32_t)n_seen;
}

/* URL features of the request target into s->url, its extension class
 * into s->ext. */
static void url_features(wl_state *s, const char *uri, size_t n)
{
    wl_url_memo *m = NULL;
    uint64_t h = 0;
    if (n <= WL_MEMO_BYTES) {
        h = vg_hash(uri, n, 0x75726cu) | 1;
        m = &s->url_memo[h % WL_MEMO_URLS];
        if (m->hash == h && m->len == n && memcmp(m->text, uri, n) == 0) {
            for (size_t i = 0; i < VG_URLFEAT_COUNT; i++) s->url[i] = m->counts[i];
            s->url[VG_URLFEAT_ENTROPY] = m->entropy;
            s->ext = m->ext;
            return;
        }
    }
    vg_urlfeat_compute(uri, n, s->url);
    s->ext = vg_urlfeat_ext_class(uri, n);
    if (!m) return;
    int fits = 1;   /* one pass without a branch per feature */
    for (size_t i = 0; i < VG_URLFEAT_COUNT; i++) {
        double v = s->url[i];
        uint8_t b = (uint8_t)(v >= 0 && v <= 255 ? v : 0);
        fits &= (double)b == v || i == VG_URLFEAT_ENTROPY;
        m->counts[i] = b;
    }
    m->hash = fits ? h : 0;
    if (!fits) return;
    m->len = (uint32_t)n;
    m->entropy = s->url[VG_URLFEAT_ENTROPY];
    m->ext = s->ext;
    memcpy(m->text, uri, n);
}

static vg_status wl_process(void *state, const char *line, size_t len, vg_logfmt_event *out)
{
    wl_state *s = state;
    memset(out, 0, sizeof *out);
    if (len > s->max_line) return vg_fail(VG_ERR_LIMIT, "line longer than %zu bytes", s->max_line);
    vg_weblog_request r;
    vg_status st = vg_weblog_parse(line, len, s->scratch, s->max_line + 1, &r);
    if (st) return st;

    /* Everything that can fail is checked before the client's state changes. */
    memcpy(s->host, r.host, r.host_len);
    s->host[r.host_len] = '\0';
    size_t mlen = VG_MIN(r.method_len, (size_t)VG_WEBLOG_MAX_METHOD);
    memcpy(s->method, r.method, mlen);
    s->method[mlen] = '\0';
    if (r.id) {
        memcpy(s->id, r.id, r.id_len);
        s->id[r.id_len] = '\0';
    }
    if (r.label) {
        if (r.label_len >= sizeof s->label) return vg_fail(VG_ERR_PARSE, "label longer than %zu bytes", sizeof s->label - 1);
        memcpy(s->label, r.label, r.label_len);
        s->label[r.label_len] = '\0';
    }

    vg_entity *e;
    int created;
    if ((st = vg_entity_get(s->store, s->host, r.host_len, r.time, &e, &created))) return st;
    wl_client *c = vg_entity_value(s->store, e);
    double prev = vg_entity_prev_seen(e);
    int sc = r.status / 100;

    /* Path (before the query) and user agent, by hash. */
    size_t plen = 0;
    while (plen < r.uri_len && r.uri[plen] != '?' && r.uri[plen] != '#') plen++;
    uint64_t ph = vg_hash(r.uri, plen, 0);
    uint64_t ah = r.agent ? vg_hash(r.agent, r.agent_len, 1) : 0;
    wl_text x;
    memset(&x, 0, sizeof x);
    int ua_changed = !created && ah != c->agent_hash;
    if (created || ua_changed) {
        /* The agent's payload signs, kept while the client keeps its agent. */
        wl_text ua;
        memset(&ua, 0, sizeof ua);
        if (r.agent) read_field(s, r.agent, r.agent_len, 0, &ua);
        for (size_t k = 0; k < VG_PAYLOAD_COUNT; k++) c->agent_payload[k] = (uint8_t)VG_MIN(ua.pay[k], 255);
    }
    if (created) {
        c->base = r.time;
        vg_geo_country(s->geo, s->host, r.host_len, c->country);
        classify_agent(r.agent, r.agent_len, &c->agent_class, &c->agent_name);
    }
    if (ua_changed) {
        classify_agent(r.agent, r.agent_len, &c->agent_class, &c->agent_name);
        c->agent_changes++;
    }
    /* Every other attacker-controlled field, as canonical text. */
    read_field(s, r.uri, plen, 0, &x);
    uint32_t pay_path = x.field_hits, pay_query = 0, mutation = 0;
    size_t value_max = 0;
    if (plen < r.uri_len && r.uri[plen] == '?') {
        size_t qe = plen + 1;
        while (qe < r.uri_len && r.uri[qe] != '#') qe++;
        for (size_t i = plen + 1; i < qe;) {
            size_t j = i;
            while (j < qe && r.uri[j] != '&') j++;
            size_t eq = i;
            while (eq < j && r.uri[eq] != '=') eq++;
            if (j > i) {
                read_field(s, r.uri + i, eq - i, 1, &x);
                pay_query += x.field_hits;
                size_t vl = eq < j ? j - eq - 1 : 0;
                size_t cn = read_field(s, r.uri + eq + (eq < j), vl, 1, &x);
                pay_query += x.field_hits;
                value_max = VG_MAX(value_max, cn);
                vg_entity_set_add(s->store, e, SET_PARAMS, vg_hash(r.uri + i, eq - i, 3));
                mutation = VG_MAX(mutation, note_param(c, ph, r.uri + i, eq - i, r.uri + eq + (eq < j), vl));
            }
            i = j + 1;
        }
    }
    uint32_t pay_referer = 0, pay_body = 0, pay_agent = 0;
    if (r.referer) {
        read_field(s, r.referer, r.referer_len, 1, &x);
        pay_referer = x.field_hits;
    }
    int has_body = r.body && !(r.body_len == 1 && r.body[0] == '-');
    if (has_body) {
        read_field(s, r.body, r.body_len, 1, &x);
        pay_body = x.field_hits;
    }
    for (size_t k = 0; k < VG_PAYLOAD_COUNT; k++) {
        x.pay[k] = (uint16_t)VG_MIN((uint32_t)x.pay[k] + c->agent_payload[k], (uint32_t)UINT16_MAX);
        if (k != VG_PAYLOAD_META) pay_agent += c->agent_payload[k];
    }
    c->agent_hash = ah;
    c->requests++;
    vg_entity_set_add(s->store, e, SET_PATHS, ph);
    vg_entity_set_add(s->store, e, SET_AGENTS, ah);
    bucket_add(c, created, r.time, sc, r.bytes);

    /* Ring: drop requests older than the window, then add this one. */
    if (c->n == 0 || r.time - c->base > 1e5) {
        /* Rebase so float offsets keep millisecond precision. */
        for (size_t i = 0; i < c->n; i++) {
            wl_hit *h = &c->ring[(c->head + WL_RING - c->n + i) % WL_RING];
            h->t = (float)(h->t + (c->base - r.time));
        }
        c->base = r.time;
    }
    float now = (float)(r.time - c->base);
    while (c->n && c->ring[(c->head + WL_RING - c->n) % WL_RING].t < now - (float)WL_WINDOW) c->n--;
    uint32_t strong = strong_signs(x.pay);
    c->ring[c->head] = (wl_hit){ .t = now, .bytes = r.bytes > UINT32_MAX ? UINT32_MAX : (uint32_t)r.bytes,
                                 .path = (uint16_t)ph, .status = (uint8_t)sc };
    c->head = (uint8_t)((c->head + 1) % WL_RING);
    if (c->n < WL_RING) c->n++;
    uint32_t seen[1024 / 32] = { 0 };
    size_t req10 = 0, paths = 0, same_path = 0;
    double gap_sum = 0, gap_sq = 0, prev_t = now;
    for (size_t i = 0; i < c->n; i++) {
        const wl_hit *h = &c->ring[(c->head + WL_RING - 1 - i) % WL_RING];
        req10 += h->t >= now - (float)WL_SHORT;
        if (i > 0) {
            double g = (double)(prev_t - h->t);
            gap_sum += g, gap_sq += g * g;
        }
        prev_t = h->t;
        same_path += h->path == (uint16_t)ph;
        uint32_t b = h->path & 1023u;
        paths += !(seen[b >> 5] >> (b & 31) & 1u);
        seen[b >> 5] |= 1u << (b & 31);
    }
    double req60 = 0, e4 = 0, e5 = 0, b60 = 0;
    for (size_t i = 0; i < WL_BUCKETS; i++) req60 += c->b_req[i], e4 += c->b_4xx[i], e5 += c->b_5xx[i], b60 += c->b_bytes[i];

    /* The record. */
    s->status_class[0] = (char)('0' + (sc % 10)), s->status_class[1] = 'x', s->status_class[2] = 'x';
    s->status_class[3] = '\0';
    memcpy(s->country, c->country, sizeof s->country);
    url_features(s, r.uri, r.uri_len);
    const char *ext = s->ext;
    const char *ua_name = c->agent_name == AGENT_NAME_NONE ? "" : agents[c->agent_name].needle;
    const char *ua_cls = ua_class_names[c->agent_class];
    set_text(s, F_METHOD, s->method, mlen);
    set_text(s, F_STATUS_CLASS, s->status_class, 3);
    set_text(s, F_EXT, ext, strlen(ext));
    set_text(s, F_COUNTRY, s->country, strlen(s->country));
    set_text(s, F_UA_CLASS, ua_cls, strlen(ua_cls));
    set_text(s, F_UA_NAME, ua_name[0] ? ua_name : "-", ua_name[0] ? strlen(ua_name) : 1);
    set_num(s, F_STATUS, r.status);
    set_num(s, F_BYTES, r.bytes);
    set_num(s, F_REQ_10S, (double)req10);
    set_num(s, F_REQ_60S, req60);
    set_num(s, F_4XX_60S, req60 > 0 ? e4 / req60 : 0);
    set_num(s, F_5XX_60S, req60 > 0 ? e5 / req60 : 0);
    set_num(s, F_PATHS_60S, (double)paths);
    set_num(s, F_BYTES_60S, b60);
    set_num(s, F_SINCE_PREV, created ? -1.0 : VG_MAX(0.0, r.time - prev));
    set_num(s, F_REQUESTS, c->requests);
    set_num(s, F_UA_CHANGED, ua_changed);
    set_num(s, F_UA_CHANGES, c->agent_changes);
    set_num(s, F_DISTINCT_UAS, vg_entity_set_count(s->store, e, SET_AGENTS));
    set_num(s, F_DISTINCT_PATHS, vg_entity_set_count(s->store, e, SET_PATHS));
    set_num(s, F_HAS_REFERER, r.referer != NULL);
    set_num(s, F_UA_LENGTH, r.agent ? (double)r.agent_len : 0);
    set_num(s, F_SCANNER_UA, c->agent_class == UA_SCANNER);
    for (size_t i = 0; i < VG_URLFEAT_COUNT; i++) s->fields[F_URL0 + i].number = s->url[i];
    for (size_t i = 0; i < VG_PAYLOAD_COUNT; i++) set_num(s, (int)(F_PAY0 + i), x.pay[i]);
    set_num(s, F_PAY_PATH, pay_path);
    set_num(s, F_PAY_QUERY, pay_query);
    set_num(s, F_PAY_AGENT, pay_agent);
    set_num(s, F_PAY_REFERER, pay_referer);
    set_num(s, F_PAY_BODY, pay_body);
    set_num(s, F_ENC_ROUNDS, x.enc.rounds);
    set_num(s, F_ENC_PCT, x.enc.pct);
    set_num(s, F_ENC_U, x.enc.pct_u);
    set_num(s, F_ENC_ENTITIES, x.enc.entities);
    set_num(s, F_ENC_OVERLONG, x.enc.overlong);
    set_num(s, F_ENC_LATIN1, x.enc.latin1);
    set_num(s, F_ENC_NON_ASCII, x.enc.non_ascii);
    set_num(s, F_ENC_CONTROLS, x.enc.controls);
    set_num(s, F_ENC_COMMENTS, x.enc.comments);
    set_num(s, F_ENC_TRUNCATED, x.enc.truncated);
    set_num(s, F_VALUE_MAX, (double)value_max);
    set_num(s, F_PARAM_MUTATION, mutation);
    set_num(s, F_PARAM_NAMES, vg_entity_set_count(s->store, e, SET_PARAMS));
    /* Regularity of the gaps between the client's recent requests: tools
     * fire at an even pace (small), people in bursts (large); -1 until there
     * are three requests to have two gaps. */
    double gaps = c->n > 2 ? (double)(c->n - 1) : 0, mean = gaps ? gap_sum / gaps : 0;
    double var = gaps ? VG_MAX(0.0, gap_sq / gaps - mean * mean) : 0;
    set_num(s, F_GAP_CV, gaps ? (mean > 1e-6 ? sqrt(var) / mean : 0.0) : -1.0);
    set_num(s, F_HAS_BODY, has_body);
    set_num(s, F_PAY_STRONG, strong);
    /* One form or page asked again and again (a password guesser, an
     * injection tool) whatever the answer: this request's path among the
     * client's requests of the last 60 s (exact up to WL_RING). */
    set_num(s, F_SAME_PATH_60S, (double)same_path);

    if (s->rule_label) {
        /* A payload sign in any field, decoded: the families that benign
         * text does not produce (not the SQL words or meta characters
         * alone, which prose and JSON have). */
        /* Not the URL's command-injection tokens: a lone ';' or '|' is
         * punctuation people type ("rock & roll; live"); payload.c's cmdi
         * family, in `strong`, needs a command after it. */
        int score = 2 * (c->agent_class == UA_SCANNER) +
                    2 * (s->url[VG_URLFEAT_SQLI] + s->url[VG_URLFEAT_XSS] + s->url[VG_URLFEAT_TRAVERSAL] > 0 ||
                         strong > 0) +
                    (c->agent_class == UA_TOOL) + (req10 > 20) + (req60 >= 10 && e4 / req60 > 0.5) + (paths > 20);
        const char *lab = score >= RULE_ANOMALOUS ? "anomalous" : "normal";
        out->label = lab, out->label_len = strlen(lab);
    }

    if (s->n_text) set_raw_text(s, &r);
    out->fields = s->fields;
    out->n_fields = N_FIELDS + s->n_text;
    out->entity = s->host;
    out->entity_len = r.host_len;
    out->time = r.time;
    if (r.id) out->event_id = s->id, out->event_id_len = r.id_len;
    if (r.label && !s->rule_label) out->label = s->label, out->label_len = r.label_len;
    return VG_OK;
}

#define FORMAT_NAME "weblog"
#define FORMAT_SUMMARY "web access logs: Apache/Nginx combined or common format, or JSON lines; entity = client IP"

static const char *const weblog_truth_columns[] = { "label", VG_LOGFMT_ENTITY_COLUMN, NULL };

const vg_logfmt vg_weblog_format = {
    .name = FORMAT_NAME,
    .summary = FORMAT_SUMMARY,
    .state_new = wl_new,
    .state_free = wl_free,
    .process = wl_process,
    .state_stats = wl_state_stats,
};

/* Its row of the format registry; the dimensions are what the report's
 * Sources section counts per client IP. */
const vg_format vg_format_weblog = {
    .name = FORMAT_NAME,
    .summary = FORMAT_SUMMARY,
    VG_LOGFMT_ROW(vg_weblog_format),
    .truth_columns = weblog_truth_columns,
    .entity_name = "client IP",
    .text_fields = "request, path, query, agent",
    .dims = { { "Countries", "country", 0 }, { "Status codes", "status", 0 }, { "User-agent classes", "ua_class", 0 },
              { "Methods", "method", 0 } },
    .n_dims = 4,
};
