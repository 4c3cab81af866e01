/* The RBA login CSV, one line at a time (login_parse.h): fields split and
 * unquoted, the layout from a header or the field count, and every field's
 * syntax checked, so that the features (src/features/login.c) read only
 * valid values. */
#include "io/login_parse.h"
#include "vigil/csv.h"

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

#define MAX_LINE_FIELDS 64

struct vg_login_parser {
    size_t max_line;
    int pos[N_COLS];           /* line field index of each column, -1 absent */
    int have_layout;
    size_t n_line_fields;      /* fields a data line must have */
    int saved_pos[N_COLS];     /* the layout before the last parse (vg_login_parser_undo) */
    int saved_have;
    size_t saved_n;
    char *buf;                 /* the current line, unquoted in place; max_line + 1 */
    const char *fv[MAX_LINE_FIELDS];
    size_t fl[MAX_LINE_FIELDS];
    size_t n_fv;
};
typedef vg_login_parser login_state;  /* the helpers below read the parser */

vg_status vg_login_parser_new(size_t max_line, vg_login_parser **out)
{
    *out = NULL;
    if (max_line == 0 || max_line > ((size_t)1 << 30)) return vg_fail(VG_ERR_INVALID, "login: max_line_bytes must be in 1..2^30");
    vg_login_parser *p = vg_calloc(1, sizeof *p);
    if (!p || !(p->buf = vg_malloc(max_line + 1))) {
        vg_free(p);
        return vg_fail(VG_ERR_NOMEM, "out of memory");
    }
    p->max_line = max_line;
    for (int c = 0; c < N_COLS; c++) p->pos[c] = -1;
    *out = p;
    return VG_OK;
}

void vg_login_parser_free(vg_login_parser *p)
{
    if (!p) return;
    vg_free(p->buf);
    vg_free(p);
}

size_t vg_login_parser_bytes(const vg_login_parser *p)
{
    return sizeof *p + p->max_line + 1;
}

static void set_layout(login_state *s, const enum col *order, size_t n)
{
    for (int c = 0; c < N_COLS; c++) s->pos[c] = -1;
    for (size_t i = 0; i < n; i++) s->pos[order[i]] = (int)i;
    s->n_line_fields = n;
    s->have_layout = 1;
}

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

static const char *col_label(const login_state *s, size_t field)
{
    for (int c = 0; c < N_COLS; c++)
        if (s->pos[c] == (int)field) return col_names[c];
    return NULL;
}

static vg_status parse_line(login_state *s, size_t len, vg_login_record *r);

vg_status vg_login_parse(vg_login_parser *s, const char *line, size_t len, vg_login_record *r)
{
    memset(r, 0, sizeof *r);
    if (len > s->max_line) return vg_fail(VG_ERR_LIMIT, "line longer than %zu bytes", s->max_line);
    memcpy(s->buf, line, len);
    s->buf[len] = '\0';
    memcpy(s->saved_pos, s->pos, sizeof s->pos);
    s->saved_have = s->have_layout;
    s->saved_n = s->n_line_fields;
    vg_status st = parse_line(s, len, r);
    if (st) {
        vg_login_parser_undo(s);
        memset(r, 0, sizeof *r);
    }
    return st;
}

void vg_login_parser_undo(vg_login_parser *s)
{
    memcpy(s->pos, s->saved_pos, sizeof s->pos);
    s->have_layout = s->saved_have;
    s->n_line_fields = s->saved_n;
}

static vg_status parse_line(login_state *s, size_t len, vg_login_record *r)
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
        r->is_header = 1;
        return VG_OK;
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
    if (un > VG_LOGIN_MAX_USER_ID) return vg_fail(VG_ERR_PARSE, "User ID: longer than %d bytes", VG_LOGIN_MAX_USER_ID);
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
    r->time = t;
    r->user = uv, r->user_len = un;
    r->success = success, r->attack_ip = attack_ip, r->ato = ato;
    r->rtt = rtt;
    r->asn = asn, r->asn_len = asn_n;
    r->ip = ip, r->ip_len = ip_n;
    r->country = country, r->country_len = country_n;
    r->devtype = devtype, r->devtype_len = dev_n;
    r->browser = browser, r->browser_len = br_n;
    r->ua = ua, r->ua_len = ua_n;
    r->os = os, r->os_len = os_n;
    r->index = get(s, C_INDEX, &r->index_len);
    return VG_OK;
}
