/* URL / request-text features (see vigil/urlfeat.h). One pass over the raw
 * bytes for shape, one decode pass, then a token scan that only tries the
 * tokens starting with the byte at hand, so a normal URL costs about one
 * table look-up per byte. */
#include "vigil/urlfeat.h"

#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

typedef struct token {
    const char *text;  /* lower case, whitespace folded to one space */
    unsigned char len;
    unsigned char kind;  /* feature index it counts towards */
} token;

#define T(s, k) { s, (unsigned char)(sizeof(s) - 1), k }
static const token tokens[] = {
    T("union select", VG_URLFEAT_SQLI), T("union all select", VG_URLFEAT_SQLI), T("' or '", VG_URLFEAT_SQLI),
    T("' or 1", VG_URLFEAT_SQLI), T("\" or \"", VG_URLFEAT_SQLI), T(" or 1=1", VG_URLFEAT_SQLI),
    T("' and '", VG_URLFEAT_SQLI), T("1=1", VG_URLFEAT_SQLI), T("sleep(", VG_URLFEAT_SQLI),
    T("benchmark(", VG_URLFEAT_SQLI), T("waitfor delay", VG_URLFEAT_SQLI), T("information_schema", VG_URLFEAT_SQLI),
    T("@@version", VG_URLFEAT_SQLI), T("--", VG_URLFEAT_SQLI), T("/*", VG_URLFEAT_SQLI),
    T("xp_cmdshell", VG_URLFEAT_SQLI), T("drop table", VG_URLFEAT_SQLI), T("select ", VG_URLFEAT_SQLI),
    T("concat(", VG_URLFEAT_SQLI), T("char(", VG_URLFEAT_SQLI), T("pg_sleep", VG_URLFEAT_SQLI),

    T("<script", VG_URLFEAT_XSS), T("</script", VG_URLFEAT_XSS), T("javascript:", VG_URLFEAT_XSS),
    T("vbscript:", VG_URLFEAT_XSS), T("onerror=", VG_URLFEAT_XSS), T("onload=", VG_URLFEAT_XSS),
    T("onmouseover=", VG_URLFEAT_XSS), T("onfocus=", VG_URLFEAT_XSS), T("alert(", VG_URLFEAT_XSS),
    T("prompt(", VG_URLFEAT_XSS), T("confirm(", VG_URLFEAT_XSS), T("<img", VG_URLFEAT_XSS),
    T("<svg", VG_URLFEAT_XSS), T("<iframe", VG_URLFEAT_XSS), T("<body", VG_URLFEAT_XSS),
    T("document.cookie", VG_URLFEAT_XSS), T("eval(", VG_URLFEAT_XSS), T("fromcharcode", VG_URLFEAT_XSS),

    T("../", VG_URLFEAT_TRAVERSAL), T("..\\", VG_URLFEAT_TRAVERSAL), T("/etc/passwd", VG_URLFEAT_TRAVERSAL),
    T("/etc/shadow", VG_URLFEAT_TRAVERSAL), T("/etc/hosts", VG_URLFEAT_TRAVERSAL),
    T("/proc/self", VG_URLFEAT_TRAVERSAL), T("win.ini", VG_URLFEAT_TRAVERSAL), T("boot.ini", VG_URLFEAT_TRAVERSAL),
    T("file://", VG_URLFEAT_TRAVERSAL), { "\0", 1, VG_URLFEAT_TRAVERSAL },

    T(";", VG_URLFEAT_CMDI), T("|", VG_URLFEAT_CMDI), T("`", VG_URLFEAT_CMDI), T("$(", VG_URLFEAT_CMDI),
    T("${", VG_URLFEAT_CMDI), T("&&", VG_URLFEAT_CMDI), T("/bin/sh", VG_URLFEAT_CMDI),
    T("/bin/bash", VG_URLFEAT_CMDI), T("wget ", VG_URLFEAT_CMDI), T("curl ", VG_URLFEAT_CMDI),
    T("nc -e", VG_URLFEAT_CMDI), T("cmd.exe", VG_URLFEAT_CMDI), T("powershell", VG_URLFEAT_CMDI),
    T("chmod ", VG_URLFEAT_CMDI),
};
#undef T
#define N_TOKENS (sizeof tokens / sizeof tokens[0])

/* tokens[] indices grouped by first byte: by_first[first[c] .. first[c+1]). */
static uint8_t by_first[N_TOKENS];
static uint16_t first[257];
static pthread_once_t index_once = PTHREAD_ONCE_INIT;

static void build_index(void)
{
    size_t n = 0;
    for (int c = 0; c < 256; c++) {
        first[c] = (uint16_t)n;
        for (size_t t = 0; t < N_TOKENS; t++)
            if ((unsigned char)tokens[t].text[0] == c) by_first[n++] = (uint8_t)t;
    }
    first[256] = (uint16_t)n;
}

static const char *const names[VG_URLFEAT_NGRAM0] = {
    "url_length", "url_path_depth", "url_query_length", "url_params", "url_digits",
    "url_letters", "url_specials", "url_upper", "url_entropy", "url_pct_encoded",
    "url_double_encoded", "url_sqli", "url_xss", "url_traversal", "url_cmdi",
};
static const char *const ngram_names[VG_URLFEAT_NGRAM_BUCKETS] = {
    "url_ng00", "url_ng01", "url_ng02", "url_ng03", "url_ng04", "url_ng05", "url_ng06", "url_ng07",
    "url_ng08", "url_ng09", "url_ng10", "url_ng11", "url_ng12", "url_ng13", "url_ng14", "url_ng15",
    "url_ng16", "url_ng17", "url_ng18", "url_ng19", "url_ng20", "url_ng21", "url_ng22", "url_ng23",
    "url_ng24", "url_ng25", "url_ng26", "url_ng27", "url_ng28", "url_ng29", "url_ng30", "url_ng31",
};

const char *vg_urlfeat_name(size_t i)
{
    if (i < VG_URLFEAT_NGRAM0) return names[i];
    if (i < VG_URLFEAT_COUNT) return ngram_names[i - VG_URLFEAT_NGRAM0];
    return NULL;
}

static int hexval(unsigned char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

static unsigned char lower(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') ? (unsigned char)(c + 32) : c;
}

/* Percent-decode buf[0..n) in place ('+' is a space); returns the new length. */
static size_t decode(unsigned char *buf, size_t n)
{
    size_t w = 0;
    for (size_t r = 0; r < n; r++) {
        unsigned char c = buf[r];
        int h, l;
        if (c == '%' && r + 2 < n && (h = hexval(buf[r + 1])) >= 0 && (l = hexval(buf[r + 2])) >= 0) {
            c = (unsigned char)(h * 16 + l);
            r += 2;
        } else if (c == '+') {
            c = ' ';
        }
        buf[w++] = c;
    }
    return w;
}

/* Start of the path: after "scheme://host" when the request names a full URL
 * (proxy requests), so the host is not counted as path segments. */
static size_t path_start(const char *s, size_t len)
{
    for (size_t i = 0; i + 2 < len && i < 16; i++) {
        if (s[i] == '/' || s[i] == '?') break;
        if (s[i] == ':' && s[i + 1] == '/' && s[i + 2] == '/') {
            size_t j = i + 3;
            while (j < len && s[j] != '/' && s[j] != '?') j++;
            return j;
        }
    }
    return 0;
}

void vg_urlfeat_compute(const char *s, size_t len, double *out)
{
    pthread_once(&index_once, build_index);
    for (size_t i = 0; i < VG_URLFEAT_COUNT; i++) out[i] = 0;
    out[VG_URLFEAT_LENGTH] = (double)len;

    /* Structure: path segments, query length and parameters. */
    size_t p0 = path_start(s, len), q = p0;
    while (q < len && s[q] != '?' && s[q] != '#') q++;
    size_t depth = 0;
    for (size_t i = p0; i < q; i++)
        if (s[i] != '/' && (i == p0 || s[i - 1] == '/')) depth++;
    out[VG_URLFEAT_PATH_DEPTH] = (double)depth;
    if (q < len && s[q] == '?') {
        size_t qe = q + 1, params = 0, piece = 0;
        while (qe < len && s[qe] != '#') {
            if (s[qe] == '&' || s[qe] == ';') {
                params += piece > 0;
                piece = 0;
            } else {
                piece++;
            }
            qe++;
        }
        params += piece > 0;
        out[VG_URLFEAT_QUERY_LENGTH] = (double)(qe - q - 1);
        out[VG_URLFEAT_PARAMS] = (double)params;
    }

    /* Character classes, entropy, encodings, 3-grams over the raw bytes. */
    /* hist[c] is valid only where bit c of `present` is set: no 1 KB to
     * clear per URL, and the entropy sum visits the few bytes present, in
     * increasing order as a full scan would (same sum, bit for bit). */
    uint32_t hist[256];
    uint64_t present[4] = { 0, 0, 0, 0 };
    size_t digits = 0, letters = 0, upper = 0, pct = 0, dbl = 0;
    uint32_t ng[VG_URLFEAT_NGRAM_BUCKETS] = { 0 };
    const unsigned char *u = (const unsigned char *)s;
    size_t scan = len < VG_URLFEAT_SCAN_BYTES ? len : VG_URLFEAT_SCAN_BYTES;
    /* A multiplicative hash of the lower-cased trigram ending at byte i
     * (i >= 2, within the scan bound): fixed here (not vg_hash) because the
     * buckets are model inputs and must never move. tri = byte i-2 | byte
     * i-1 << 8 | byte i << 16, rolled along so each byte is lower-cased once;
     * in the same pass as the classes (one read of the URL). */
    uint32_t tri = 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = u[i];
        if (i < scan) {
            tri = tri >> 8 | (uint32_t)lower(c) << 16;
            if (i >= 2) ng[(tri * 2654435761u) >> 27]++;
        }
        uint64_t bit = (uint64_t)1 << (c & 63);
        if (present[c >> 6] & bit) {
            hist[c]++;
        } else {
            present[c >> 6] |= bit;
            hist[c] = 1;
        }
        if (c >= '0' && c <= '9') digits++;
        else if (c >= 'a' && c <= 'z') letters++;
        else if (c >= 'A' && c <= 'Z') letters++, upper++;
        else if (c == '%' && i + 2 < len && hexval(u[i + 1]) >= 0 && hexval(u[i + 2]) >= 0) {
            pct++;
            if (u[i + 1] == '2' && u[i + 2] == '5' && i + 4 < len && hexval(u[i + 3]) >= 0 && hexval(u[i + 4]) >= 0)
                dbl++;
        }
    }
    out[VG_URLFEAT_DIGITS] = (double)digits;
    out[VG_URLFEAT_LETTERS] = (double)letters;
    out[VG_URLFEAT_SPECIALS] = (double)(len - digits - letters);
    out[VG_URLFEAT_UPPER] = (double)upper;
    out[VG_URLFEAT_PCT_ENCODED] = (double)pct;
    out[VG_URLFEAT_DOUBLE_ENCODED] = (double)dbl;
    double h = 0;
    if (len) {
        double inv = 1.0 / (double)len;
        for (int w = 0; w < 4; w++)
            for (uint64_t m = present[w]; m; m &= m - 1) {
                int c = w * 64 + __builtin_ctzll(m);
                double p = hist[c] * inv;
                h -= p * log2(p);
            }
    }
    out[VG_URLFEAT_ENTROPY] = h;
    for (size_t b = 0; b < VG_URLFEAT_NGRAM_BUCKETS; b++) out[VG_URLFEAT_NGRAM0 + b] = ng[b];

    /* Attack tokens over the twice-decoded, lower-cased, space-folded text. */
    unsigned char buf[VG_URLFEAT_SCAN_BYTES];
    size_t n = scan;
    const unsigned char *src = u;  /* folded into buf straight from the URL when there is nothing to decode */
    if (memchr(s, '%', n) || memchr(s, '+', n)) {
        memcpy(buf, s, n);
        n = decode(buf, n);
        n = decode(buf, n);
        src = buf;  /* in place: the fold writes at or before the byte it reads */
    }
    size_t w = 0;
    for (size_t r = 0; r < n; r++) {
        unsigned char c = lower(src[r]);
        if (c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f') c = ' ';
        if (c == ' ' && w > 0 && buf[w - 1] == ' ') continue;
        buf[w++] = c;
    }
    n = w;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = buf[i];
        for (size_t k = first[c]; k < first[c + 1]; k++) {
            const token *t = &tokens[by_first[k]];
            if (t->len > n - i) continue;
            /* Tokens are a few bytes: a loop beats a call to memcmp. */
            size_t j = 1;
            while (j < t->len && buf[i + j] == (unsigned char)t->text[j]) j++;
            if (j == t->len) out[t->kind] += 1;
        }
    }
}

const char *vg_urlfeat_ext_class(const char *s, size_t len)
{
    size_t p0 = path_start(s, len), q = p0;
    while (q < len && s[q] != '?' && s[q] != '#') q++;
    size_t seg = q;
    while (seg > p0 && s[seg - 1] != '/') seg--;
    size_t dot = q;
    while (dot > seg && s[dot - 1] != '.') dot--;
    if (dot == seg) return "none";
    char ext[8];
    size_t n = q - dot;
    if (n == 0 || n >= sizeof ext) return n ? "other" : "none";
    for (size_t i = 0; i < n; i++) ext[i] = (char)lower((unsigned char)s[dot + i]);
    ext[n] = '\0';
    static const char *const classes[][2] = {
        { "html", "page" },    { "htm", "page" },     { "shtml", "page" },    { "css", "static" },
        { "js", "static" },    { "png", "static" },   { "jpg", "static" },    { "jpeg", "static" },
        { "gif", "static" },   { "ico", "static" },   { "svg", "static" },    { "woff", "static" },
        { "woff2", "static" }, { "ttf", "static" },   { "map", "static" },    { "webp", "static" },
        { "php", "script" },   { "asp", "script" },   { "aspx", "script" },   { "jsp", "script" },
        { "cgi", "script" },   { "pl", "script" },    { "py", "script" },     { "sh", "script" },
        { "json", "data" },    { "xml", "data" },     { "txt", "data" },      { "csv", "data" },
        { "pdf", "data" },     { "zip", "archive" },  { "gz", "archive" },    { "tar", "archive" },
        { "tgz", "archive" },  { "bak", "archive" },  { "sql", "archive" },   { "old", "archive" },
        { "swp", "archive" },  { "env", "archive" },  { "git", "archive" },   { "ini", "archive" },
        { "conf", "archive" }, { "config", "archive" }, { "log", "archive" }, { "rar", "archive" },
        { "7z", "archive" },   { "db", "archive" },   { "sqlite", "archive" }, { "yml", "archive" },
    };
    for (size_t i = 0; i < sizeof classes / sizeof classes[0]; i++)
        if (classes[i][0][0] == ext[0] && strcmp(ext, classes[i][0]) == 0) return classes[i][1];
    return "other";
}

vg_status vg_urlfeat_add_columns(vg_table *t, size_t col)
{
    if (col >= vg_table_cols(t) || vg_table_type(t, col) != VG_COLUMN_CATEGORICAL)
        return vg_fail(VG_ERR_INVALID, "--text: column %zu is not a text column", col);
    const char *base = vg_table_name(t, col);
    char name[512];
    for (size_t i = 0; i <= VG_URLFEAT_COUNT; i++) {
        snprintf(name, sizeof name, "%s.%s", base, i < VG_URLFEAT_COUNT ? vg_urlfeat_name(i) : "url_ext");
        if (vg_table_find(t, name) >= 0) return vg_fail(VG_ERR_INVALID, "--text: column '%s' already exists", name);
    }
    /* Features per distinct value: text columns repeat values (paths, user
     * agents), so this is far cheaper than per row. */
    uint32_t n_cat = vg_table_n_categories(t, col);
    size_t rows = vg_table_rows(t);
    double *feat = vg_malloc(((size_t)n_cat * VG_URLFEAT_COUNT + 1) * sizeof *feat);
    const char **ext = vg_malloc(((size_t)n_cat + 1) * sizeof *ext);
    vg_status st = feat && ext ? VG_OK : vg_fail(VG_ERR_NOMEM, "out of memory");
    for (uint32_t k = 0; k < n_cat && !st; k++) {
        const char *v = vg_table_category(t, col, k);
        vg_urlfeat_compute(v, strlen(v), feat + (size_t)k * VG_URLFEAT_COUNT);
        ext[k] = vg_urlfeat_ext_class(v, strlen(v));
    }
    for (size_t i = 0; i <= VG_URLFEAT_COUNT && !st; i++) {
        snprintf(name, sizeof name, "%s.%s", base, i < VG_URLFEAT_COUNT ? vg_urlfeat_name(i) : "url_ext");
        size_t c;
        st = vg_table_add_column(t, name, i < VG_URLFEAT_COUNT ? VG_COLUMN_NUMERIC : VG_COLUMN_CATEGORICAL, &c);
        /* Re-read the codes each column: adding columns may move storage. */
        for (size_t r = 0; r < rows && !st; r++) {
            uint32_t code = vg_table_codes(t, col)[r];
            int missing = code == VG_CODE_MISSING || code >= n_cat;
            if (i < VG_URLFEAT_COUNT)
                st = vg_table_push_number(t, c, missing ? NAN : feat[(size_t)code * VG_URLFEAT_COUNT + i]);
            else
                st = missing ? vg_table_push_category(t, c, NULL, 0)
                             : vg_table_push_category(t, c, ext[code], strlen(ext[code]));
        }
    }
    vg_free(feat);
    vg_free(ext);
    return st;
}
