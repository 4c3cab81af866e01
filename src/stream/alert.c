/* Alerts as data, whatever stores them: an alert and a stored row as JSON
 * lines, the time forms --since and /v1/alerts take, the default filter and
 * parameters, and freeing a summary. Nothing here needs SQLite, so a
 * libvigil built without it (VG_WITH_SQLITE=OFF, alert_store_none.c) keeps
 * them. */
#include "vigil/alerts.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* ---- JSON ------------------------------------------------------------------ */

/* Length of the valid UTF-8 sequence at s (1..4), or 0 if invalid. */
static size_t utf8_seq(const unsigned char *s, size_t avail)
{
    unsigned char c = s[0];
    size_t n;
    uint32_t cp;
    if (c < 0x80) return 1;
    if (c >= 0xC2 && c <= 0xDF) n = 2, cp = c & 0x1F;
    else if (c >= 0xE0 && c <= 0xEF) n = 3, cp = c & 0x0F;
    else if (c >= 0xF0 && c <= 0xF4) n = 4, cp = c & 0x07;
    else return 0;
    if (avail < n) return 0;
    for (size_t i = 1; i < n; i++) {
        if ((s[i] & 0xC0) != 0x80) return 0;
        cp = (cp << 6) | (s[i] & 0x3F);
    }
    if ((n == 3 && (cp < 0x800 || (cp >= 0xD800 && cp <= 0xDFFF))) || (n == 4 && (cp < 0x10000 || cp > 0x10FFFF)))
        return 0;
    return n;
}

void vg_json_string(vg_wbuf *w, const char *s, size_t len)
{
    static const char hex[] = "0123456789abcdef";
    const unsigned char *u = (const unsigned char *)s;
    vg_wbuf_u8(w, '"');
    size_t i = 0;
    while (i < len) {
        unsigned char c = u[i];
        if (c == '"' || c == '\\') {
            char e[2] = { '\\', (char)c };
            vg_wbuf_bytes(w, e, 2);
            i++;
        } else if (c < 0x20) {
            char e[6] = { '\\', 'u', '0', '0', hex[c >> 4], hex[c & 15] };
            if (c == '\n') vg_wbuf_bytes(w, "\\n", 2);
            else if (c == '\t') vg_wbuf_bytes(w, "\\t", 2);
            else if (c == '\r') vg_wbuf_bytes(w, "\\r", 2);
            else vg_wbuf_bytes(w, e, 6);
            i++;
        } else {
            size_t n = utf8_seq(u + i, len - i);
            if (n == 0) {
                vg_wbuf_bytes(w, "\xEF\xBF\xBD", 3);  /* U+FFFD */
                i++;
            } else {
                vg_wbuf_bytes(w, u + i, n);
                i += n;
            }
        }
    }
    vg_wbuf_u8(w, '"');
}

static void put_cstr(vg_wbuf *w, const char *s) { vg_wbuf_bytes(w, s, strlen(s)); }

void vg_alert_json(const vg_alert *a, vg_wbuf *w)
{
    char num[96];
    snprintf(num, sizeof num, "{\"time\":%.3f,\"source\":", a->time);
    put_cstr(w, num);
    vg_json_string(w, a->source ? a->source : "", a->source ? strlen(a->source) : 0);
    snprintf(num, sizeof num, ",\"line\":%llu", (unsigned long long)a->line_no);
    put_cstr(w, num);
    if (a->entity) {
        put_cstr(w, ",\"entity\":");
        vg_json_string(w, a->entity, a->entity_len);
    }
    put_cstr(w, ",\"model\":");
    vg_json_string(w, a->model ? a->model : "", a->model ? strlen(a->model) : 0);
    put_cstr(w, ",\"label\":");
    vg_json_string(w, a->label ? a->label : "", a->label ? strlen(a->label) : 0);
    if (a->truth) {
        put_cstr(w, ",\"truth\":");
        vg_json_string(w, a->truth, a->truth_len);
    }
    /* The shortest exact text of the score, as predict and serve print it. */
    memcpy(num, ",\"score\":", 9);
    vg_float_text(a->score, num + 9, sizeof num - 9);
    put_cstr(w, num);
    if (a->explanation_json) {
        put_cstr(w, ",\"top\":");
        put_cstr(w, a->explanation_json);
    }
    put_cstr(w, ",\"raw\":");
    vg_json_string(w, a->raw ? a->raw : "", a->raw ? a->raw_len : 0);
    vg_wbuf_u8(w, '}');
}

void vg_alert_row_json(const vg_alert_row *r, vg_wbuf *w)
{
    size_t start = w->len;
    vg_alert_json(&r->alert, w);
    if (w->failed || w->len == start) return;
    w->len--;   /* the closing brace: the row's own fields go before it */
    vg_wbuf_printf(w, ",\"id\":%lld,\"created\":%.3f}", (long long)r->id, r->created);
}

vg_alert_store_params vg_alert_store_params_default(void)
{
    return (vg_alert_store_params){ .batch_rows = 1000, .batch_seconds = 0.5, .dedup = 0, .busy_timeout_ms = 10000 };
}

vg_alert_filter vg_alert_filter_default(void)
{
    return (vg_alert_filter){ .since = NAN, .until = NAN, .min_score = NAN };
}

/* ---- times ----------------------------------------------------------------- */

vg_status vg_alert_parse_time(const char *s, double now, double *out)
{
    size_t n = s ? strlen(s) : 0;
    /* The value is echoed in the messages below, which must stay one line. */
    if (n && vg_find_control(s, n) < n) return vg_fail(VG_ERR_PARSE, "time: a control byte in the value");
    if (n == 0 || n > 64) return vg_fail(VG_ERR_PARSE, "time '%.64s': empty or too long", s ? s : "");
    char *end;
    double v = strtod(s, &end);
    if (end != s && *end == '\0' && isfinite(v)) {
        *out = v;
        return VG_OK;
    }
    if (end != s && end[1] == '\0' && v >= 0 && isfinite(v) && strchr("smhd", *end)) {
        double unit = *end == 's' ? 1 : *end == 'm' ? 60 : *end == 'h' ? 3600 : 86400;
        *out = now - v * unit;
        return VG_OK;
    }
    int y, mo, d, h = 0, mi = 0, sec = 0, used = 0;
    if (sscanf(s, "%4d-%2d-%2d%n", &y, &mo, &d, &used) == 3) {
        const char *r = s + used;
        if ((*r == 'T' || *r == ' ') && sscanf(r + 1, "%2d:%2d:%2d%n", &h, &mi, &sec, &used) == 3) r += 1 + used;
        if (*r == 'Z') r++;
        if (*r == '\0' && mo >= 1 && mo <= 12 && d >= 1 && d <= 31 && h >= 0 && h < 24 && mi >= 0 && mi < 60 &&
            sec >= 0 && sec <= 60) {
            struct tm tm = { .tm_year = y - 1900, .tm_mon = mo - 1, .tm_mday = d, .tm_hour = h, .tm_min = mi,
                             .tm_sec = sec };
            *out = (double)timegm(&tm);
            return VG_OK;
        }
    }
    return vg_fail(VG_ERR_PARSE,
                   "time '%s': expected unix seconds, YYYY-MM-DD[THH:MM:SS[Z]] or an age like 15m, 2h, 7d", s);
}

static void free_groups(vg_alert_group *g, size_t n)
{
    for (size_t i = 0; g && i < n; i++) vg_free(g[i].key);
    vg_free(g);
}

void vg_alert_summary_free(vg_alert_summary *sum)
{
    if (!sum) return;
    free_groups(sum->labels, sum->n_labels);
    free_groups(sum->sources, sum->n_sources);
    free_groups(sum->models, sum->n_models);
    free_groups(sum->entities, sum->n_entities);
    vg_free(sum->buckets);
    memset(sum, 0, sizeof *sum);
}

