/* Parsing one access-log line into a request: Apache/Nginx common and
 * combined formats (`host ident user [time] "request" status bytes
 * ["referer" "user-agent" ...]`, detected per line) and JSON lines with the
 * usual key names. Strict where a wrong guess would corrupt features (time,
 * status, field count), tolerant where real servers differ (extra fields
 * after the user agent, "-" for missing values, escaped quotes). */
#include "weblog.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

long vg_weblog_days_from_civil(long y, unsigned m, unsigned d)
{
    /* Eras of 400 years, with March as the first month so leap days fall last. */
    y -= m <= 2;
    long era = (y >= 0 ? y : y - 399) / 400;
    unsigned yoe = (unsigned)(y - era * 400);
    unsigned doy = (153 * (m + (m > 2 ? -3u : 9u)) + 2) / 5 + d - 1;
    unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (long)doe - 719468;
}

static int digits(const char *s, size_t n, long *out)
{
    long v = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9') return 0;
        v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return n > 0;
}

static int hexdigit(char ch)
{
    unsigned char c = (unsigned char)ch;
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

static int month_of(const char *s)
{
    static const char names[] = "JanFebMarAprMayJunJulAugSepOctNovDec";
    for (int i = 0; i < 12; i++)
        if (memcmp(names + 3 * i, s, 3) == 0) return i + 1;
    return 0;
}

static int valid_date(long y, long mo, long d, long h, long mi, long se)
{
    return y >= 1970 && y <= 9999 && mo >= 1 && mo <= 12 && d >= 1 && d <= 31 && h <= 23 && mi <= 59 && se <= 60;
}

/* "10/Oct/2000:13:55:36 -0700" (optionally with fractional seconds). */
static int parse_clf_time(const char *s, size_t n, double *out)
{
    long d, y, h, mi, se, oh, om;
    if (n < 26 || s[2] != '/' || s[6] != '/' || s[11] != ':' || s[14] != ':' || s[17] != ':') return 0;
    int mo = month_of(s + 3);
    if (!mo || !digits(s, 2, &d) || !digits(s + 7, 4, &y) || !digits(s + 12, 2, &h) || !digits(s + 15, 2, &mi) ||
        !digits(s + 18, 2, &se) || !valid_date(y, mo, d, h, mi, se))
        return 0;
    size_t i = 20;
    double frac = 0;
    if (i < n && s[i] == '.') {
        double scale = 0.1;
        for (i++; i < n && s[i] >= '0' && s[i] <= '9'; i++, scale *= 0.1) frac += (s[i] - '0') * scale;
    }
    if (i + 6 != n || s[i] != ' ' || (s[i + 1] != '+' && s[i + 1] != '-') || !digits(s + i + 2, 2, &oh) ||
        !digits(s + i + 4, 2, &om) || oh > 23 || om > 59)
        return 0;
    double off = (double)(oh * 3600 + om * 60) * (s[i + 1] == '-' ? -1 : 1);
    *out = (double)vg_weblog_days_from_civil(y, (unsigned)mo, (unsigned)d) * 86400.0 + (double)(h * 3600 + mi * 60 + se) +
           frac - off;
    return 1;
}

/* ISO 8601: "2026-01-01T12:00:00[.fff](Z|+hh:mm|+hhmm)" (a space may replace T). */
static int parse_iso_time(const char *s, size_t n, double *out)
{
    long y, mo, d, h, mi, se, oh = 0, om = 0;
    if (n < 19 || s[4] != '-' || s[7] != '-' || (s[10] != 'T' && s[10] != ' ') || s[13] != ':' || s[16] != ':') return 0;
    if (!digits(s, 4, &y) || !digits(s + 5, 2, &mo) || !digits(s + 8, 2, &d) || !digits(s + 11, 2, &h) ||
        !digits(s + 14, 2, &mi) || !digits(s + 17, 2, &se) || !valid_date(y, mo, d, h, mi, se))
        return 0;
    size_t i = 19;
    double frac = 0, sign = 0;
    if (i < n && s[i] == '.') {
        double scale = 0.1;
        for (i++; i < n && s[i] >= '0' && s[i] <= '9'; i++, scale *= 0.1) frac += (s[i] - '0') * scale;
    }
    if (i < n && s[i] == 'Z') i++;
    else if (i < n && (s[i] == '+' || s[i] == '-')) {
        sign = s[i] == '-' ? -1 : 1;
        if (!digits(s + i + 1, 2, &oh)) return 0;
        i += 3;
        if (i < n && s[i] == ':') i++;
        if (i + 2 > n || !digits(s + i, 2, &om)) return 0;
        i += 2;
    }
    if (i != n || oh > 23 || om > 59) return 0;
    *out = (double)vg_weblog_days_from_civil(y, (unsigned)mo, (unsigned)d) * 86400.0 + (double)(h * 3600 + mi * 60 + se) +
           frac - sign * (double)(oh * 3600 + om * 60);
    return 1;
}

/* Split "METHOD URI [PROTO]"; anything else is kept whole as the URI with
 * method "invalid" (garbage requests are themselves a signal). */
static void split_request(const char *r, size_t n, vg_weblog_request *out)
{
    if (n == 0 || (n == 1 && r[0] == '-')) {
        out->method = "-", out->method_len = 1, out->uri = r, out->uri_len = 0;
        return;
    }
    size_t m = 0;
    while (m < n && r[m] >= 'A' && r[m] <= 'Z') m++;
    if (m == 0 || m > VG_WEBLOG_MAX_METHOD || m >= n || r[m] != ' ') {
        out->method = "invalid", out->method_len = 7, out->uri = r, out->uri_len = n;
        return;
    }
    size_t u = m + 1, e = n;
    /* The protocol is the last word when it looks like one. */
    size_t sp = n;
    while (sp > u && r[sp - 1] != ' ') sp--;
    if (sp > u && n - sp >= 5 && memcmp(r + sp, "HTTP/", 5) == 0) e = sp - 1;
    out->method = r, out->method_len = m, out->uri = r + u, out->uri_len = e - u;
}

/* A quoted field starting at line[*i] == '"': backslash escapes the next byte
 * (Apache writes \" and \\, Nginx \x22). */
static int quoted(const char *line, size_t len, size_t *i, const char **s, size_t *n)
{
    if (*i >= len || line[*i] != '"') return 0;
    /* memchr for speed (user agents are long): a quote ends the field when
     * an even number of backslashes precedes it. */
    size_t from = *i + 1, j = from;
    for (;;) {
        const char *q = memchr(line + j, '"', len - j);
        if (!q) return 0;
        j = (size_t)(q - line);
        size_t k = j;
        while (k > from && line[k - 1] == '\\') k--;
        if ((j - k) % 2 == 0) break;
        j++;
    }
    *s = line + from;
    *n = j - from;
    *i = j + 1;
    return 1;
}

static int token(const char *line, size_t len, size_t *i, const char **s, size_t *n)
{
    size_t j = *i;
    while (j < len && line[j] != ' ') j++;
    if (j == *i) return 0;
    *s = line + *i;
    *n = j - *i;
    *i = j;
    return 1;
}

static int space(const char *line, size_t len, size_t *i)
{
    if (*i >= len || line[*i] != ' ') return 0;
    while (*i < len && line[*i] == ' ') (*i)++;
    return 1;
}

/* nginx's `log_format` with "$request_body" after the user agent: the
 * combined format plus one quoted field ('... "$http_user_agent"
 * "$request_body"'), or more fields with the body the last quoted one
 * ('... "$http_user_agent" "$http_x_forwarded_for" "$request_body"',
 * unquoted fields such as $request_time between them allowed). A quoted
 * field that holds only what an address list or a host name holds (digits,
 * letters, '.', ':', ',', '-', '_', spaces; "-" for none) is a forwarded-for
 * or host field, not a body: a form body has '=' and a JSON body '{'. */
static int looks_like_body(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        int plain = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '.' ||
                    c == ':' || c == ',' || c == '-' || c == '_' || c == ' ';
        if (!plain) return 1;
    }
    return 0;
}

/* nginx escapes a variable's '"', '\' and bytes below 0x20 or above 0x7e
 * as \xHH in a text log line: the body is given back as the application
 * got it, written into scratch (at least n bytes) when there is an escape
 * to undo (returns 1, the new length in *out_n), else left where it is
 * (returns 0). Apache's \" and \\ are undone too; other backslashes kept. */
static int unescape_nginx(const char *s, size_t n, char *scratch, size_t cap, size_t *out_n)
{
    if (!memchr(s, '\\', n) || cap < n) return 0;
    size_t w = 0;
    for (size_t r = 0; r < n; r++) {
        int h, l;
        if (s[r] == '\\' && r + 3 < n && s[r + 1] == 'x' && (h = hexdigit(s[r + 2])) >= 0 &&
            (l = hexdigit(s[r + 3])) >= 0) {
            scratch[w++] = (char)(h * 16 + l);
            r += 3;
        } else if (s[r] == '\\' && r + 1 < n && (s[r + 1] == '"' || s[r + 1] == '\\')) {
            scratch[w++] = s[++r];
        } else {
            scratch[w++] = s[r];
        }
    }
    *out_n = w;
    return 1;
}

static vg_status parse_text(const char *line, size_t len, char *scratch, size_t scratch_cap, vg_weblog_request *out)
{
    size_t i = 0, n;
    const char *s;
    if (!token(line, len, &i, &out->host, &out->host_len)) return vg_fail(VG_ERR_PARSE, "empty client host");
    if (!space(line, len, &i) || !token(line, len, &i, &s, &n) || !space(line, len, &i) ||
        !token(line, len, &i, &s, &n) || !space(line, len, &i))
        return vg_fail(VG_ERR_PARSE, "too few fields: expected host ident user [time] \"request\" status bytes");
    if (i >= len || line[i] != '[') return vg_fail(VG_ERR_PARSE, "expected [time] as the fourth field");
    const char *close = memchr(line + i, ']', len - i);
    if (!close) return vg_fail(VG_ERR_PARSE, "unterminated [time]");
    if (!parse_clf_time(line + i + 1, (size_t)(close - line - i - 1), &out->time))
        return vg_fail(VG_ERR_PARSE, "bad time '%.*s' (expected dd/Mon/yyyy:hh:mm:ss +zzzz)",
                       (int)VG_MIN((size_t)(close - line - i - 1), 40), line + i + 1);
    i = (size_t)(close - line) + 1;
    const char *req;
    size_t req_len;
    if (!space(line, len, &i) || !quoted(line, len, &i, &req, &req_len))
        return vg_fail(VG_ERR_PARSE, "missing or unterminated \"request\" field");
    split_request(req, req_len, out);
    long status;
    if (!space(line, len, &i) || !token(line, len, &i, &s, &n)) return vg_fail(VG_ERR_PARSE, "missing status");
    if (n != 3 || !digits(s, 3, &status)) return vg_fail(VG_ERR_PARSE, "bad status '%.*s'", (int)VG_MIN(n, 20), s);
    out->status = (int)status;
    if (!space(line, len, &i) || !token(line, len, &i, &s, &n)) return vg_fail(VG_ERR_PARSE, "missing bytes");
    long bytes = 0;
    if (!(n == 1 && s[0] == '-') && (n > 15 || !digits(s, n, &bytes)))
        return vg_fail(VG_ERR_PARSE, "bad bytes '%.*s'", (int)VG_MIN(n, 20), s);
    out->bytes = (double)bytes;
    if (i == len) return VG_OK;  /* common log format */
    if (!space(line, len, &i)) return vg_fail(VG_ERR_PARSE, "junk after bytes");
    if (i == len) return VG_OK;
    if (!quoted(line, len, &i, &out->referer, &out->referer_len))
        return vg_fail(VG_ERR_PARSE, "expected \"referer\" after bytes");
    if (!space(line, len, &i) || !quoted(line, len, &i, &out->agent, &out->agent_len))
        return vg_fail(VG_ERR_PARSE, "referer without \"user-agent\"");
    /* Anything further (Nginx's forwarded-for, request time, ...) is allowed;
     * the last quoted field of those is the request body when it looks like
     * one (request_body, below). */
    if (i < len && line[i] != ' ') return vg_fail(VG_ERR_PARSE, "junk after user-agent");
    const char *last = NULL;
    size_t last_n = 0;
    while (i < len && space(line, len, &i) && i < len) {
        if (line[i] == '"') {
            if (!quoted(line, len, &i, &s, &n)) break;  /* unterminated: tolerated, as other junk there is */
            last = s, last_n = n;
        } else if (!token(line, len, &i, &s, &n)) {
            break;
        }
    }
    if (last && looks_like_body(last, last_n)) {
        out->body = last, out->body_len = last_n;
        if (unescape_nginx(last, last_n, scratch, scratch_cap, &out->body_len)) out->body = scratch;
    }
    return VG_OK;
}

/* The first present key of `keys` in object o. */
static const cJSON *member(const cJSON *o, const char *const *keys)
{
    for (size_t k = 0; keys[k]; k++) {
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, keys[k]);
        if (v && !cJSON_IsNull(v)) return v;
    }
    return NULL;
}

/* Copy a JSON string or number's text into scratch. */
static int json_text(const cJSON *v, char **scratch, size_t *cap, const char **s, size_t *n)
{
    char num[32];
    const char *src;
    size_t len;
    if (cJSON_IsString(v)) src = v->valuestring, len = strlen(src);
    else if (cJSON_IsNumber(v)) {
        len = (size_t)snprintf(num, sizeof num, "%.17g", v->valuedouble);
        src = num;
    } else return 0;
    if (len + 1 > *cap) return 0;
    memcpy(*scratch, src, len);
    (*scratch)[len] = '\0';
    *s = *scratch, *n = len;
    *scratch += len + 1, *cap -= len + 1;
    return 1;
}

static vg_status parse_json(const char *line, size_t len, char *scratch, size_t cap, vg_weblog_request *out)
{
    static const char *const k_host[] = { "remote_addr", "client", "client_ip", "ip", "remote_ip", "clientip", "host", NULL };
    static const char *const k_time[] = { "time", "timestamp", "@timestamp", "time_iso8601", "time_local", "ts", NULL };
    static const char *const k_method[] = { "method", "request_method", "verb", NULL };
    static const char *const k_uri[] = { "uri", "path", "url", "request_uri", NULL };
    static const char *const k_request[] = { "request", NULL };
    static const char *const k_status[] = { "status", "status_code", "response", NULL };
    static const char *const k_bytes[] = { "bytes", "body_bytes_sent", "bytes_sent", "size", "response_size", NULL };
    static const char *const k_ref[] = { "referer", "http_referer", "referrer", NULL };
    static const char *const k_agent[] = { "user_agent", "agent", "http_user_agent", "ua", NULL };
    static const char *const k_id[] = { "request_id", "id", "event_id", NULL };
    static const char *const k_label[] = { "label", NULL };
    /* nginx: log_format ... escape=json '{..."request_body":"$request_body"}' */
    static const char *const k_body[] = { "request_body", "body", NULL };
    cJSON *o = cJSON_ParseWithLength(line, len);
    if (!o || !cJSON_IsObject(o)) {
        cJSON_Delete(o);
        return vg_fail(VG_ERR_PARSE, "not a JSON object");
    }
    vg_status st = VG_OK;
    const cJSON *v;
    const char *s;
    size_t n;
    if (!(v = member(o, k_host)) || !json_text(v, &scratch, &cap, &out->host, &out->host_len) || out->host_len == 0) {
        st = vg_fail(VG_ERR_PARSE, "JSON line lacks the client address (remote_addr, client or ip)");
        goto done;
    }
    if (!(v = member(o, k_time))) {
        st = vg_fail(VG_ERR_PARSE, "JSON line lacks the time (time or timestamp)");
        goto done;
    }
    if (cJSON_IsNumber(v)) {
        out->time = v->valuedouble;
        /* Milliseconds since the epoch are common in JSON logs. */
        if (out->time > 1e11) out->time /= 1000.0;
        if (!(out->time >= 0 && out->time < 253402300800.0)) st = vg_fail(VG_ERR_PARSE, "JSON time out of range");
    } else if (!cJSON_IsString(v) || (!parse_iso_time(v->valuestring, strlen(v->valuestring), &out->time) &&
                                      !parse_clf_time(v->valuestring, strlen(v->valuestring), &out->time))) {
        st = vg_fail(VG_ERR_PARSE, "bad JSON time (expected ISO 8601, dd/Mon/yyyy:hh:mm:ss +zzzz or unix seconds)");
    }
    if (st) goto done;
    if ((v = member(o, k_uri))) {
        if (!json_text(v, &scratch, &cap, &out->uri, &out->uri_len)) {
            st = vg_fail(VG_ERR_PARSE, "bad JSON uri");
            goto done;
        }
        out->method = "-", out->method_len = 1;
        if ((v = member(o, k_method))) {
            if (!json_text(v, &scratch, &cap, &s, &n) || n == 0 || n > VG_WEBLOG_MAX_METHOD) {
                st = vg_fail(VG_ERR_PARSE, "bad JSON method");
                goto done;
            }
            out->method = s, out->method_len = n;
        }
    } else if ((v = member(o, k_request)) && json_text(v, &scratch, &cap, &s, &n)) {
        split_request(s, n, out);
    } else {
        st = vg_fail(VG_ERR_PARSE, "JSON line lacks the request (uri, path, url or request)");
        goto done;
    }
    if (!(v = member(o, k_status))) {
        st = vg_fail(VG_ERR_PARSE, "JSON line lacks the status");
        goto done;
    }
    double status = cJSON_IsNumber(v) ? v->valuedouble : cJSON_IsString(v) ? strtod(v->valuestring, NULL) : -1;
    if (!(status >= 0 && status <= 999) || status != floor(status)) {
        st = vg_fail(VG_ERR_PARSE, "bad JSON status");
        goto done;
    }
    out->status = (int)status;
    out->bytes = 0;
    if ((v = member(o, k_bytes))) {
        double b = cJSON_IsNumber(v) ? v->valuedouble : cJSON_IsString(v) ? strtod(v->valuestring, NULL) : -1;
        if (!(b >= 0 && b < 1e15)) {
            st = vg_fail(VG_ERR_PARSE, "bad JSON bytes");
            goto done;
        }
        out->bytes = b;
    }
    if ((v = member(o, k_ref)) && !json_text(v, &scratch, &cap, &out->referer, &out->referer_len)) out->referer = NULL;
    if ((v = member(o, k_agent)) && !json_text(v, &scratch, &cap, &out->agent, &out->agent_len)) out->agent = NULL;
    if ((v = member(o, k_body)) && (!json_text(v, &scratch, &cap, &out->body, &out->body_len) || !out->body_len))
        out->body = NULL;
    if ((v = member(o, k_id)) && json_text(v, &scratch, &cap, &s, &n) && n) {
        if (n > VG_WEBLOG_MAX_ID) {
            st = vg_fail(VG_ERR_PARSE, "request id longer than %d bytes", VG_WEBLOG_MAX_ID);
            goto done;
        }
        out->id = s, out->id_len = n;
    }
    if ((v = member(o, k_label)) && json_text(v, &scratch, &cap, &s, &n) && n) out->label = s, out->label_len = n;
done:
    cJSON_Delete(o);
    return st;
}

vg_status vg_weblog_parse(const char *line, size_t len, char *scratch, size_t scratch_cap, vg_weblog_request *out)
{
    memset(out, 0, sizeof *out);
    /* Control bytes never appear in a server's own log lines (both servers
     * escape them), so they mean binary garbage or a truncated write. */
    size_t bad = vg_find_control(line, len);
    if (bad < len)
        return vg_fail(VG_ERR_PARSE, "control byte 0x%02x at column %zu (binary data?)", (unsigned char)line[bad],
                       bad + 1);
    size_t i = 0;
    while (i < len && (line[i] == ' ' || line[i] == '\t')) i++;
    if (i == len) return vg_fail(VG_ERR_PARSE, "blank line");
    vg_status st = line[i] == '{' ? parse_json(line + i, len - i, scratch, scratch_cap, out)
                                  : parse_text(line + i, len - i, scratch, scratch_cap, out);
    if (st) return st;
    if (out->host_len > VG_WEBLOG_MAX_HOST)
        return vg_fail(VG_ERR_PARSE, "client host longer than %d bytes", VG_WEBLOG_MAX_HOST);
    if (out->referer && out->referer_len == 1 && out->referer[0] == '-') out->referer = NULL;
    if (out->agent && out->agent_len == 1 && out->agent[0] == '-') out->agent = NULL;
    return VG_OK;
}
