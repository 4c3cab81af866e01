/* Strict JSON to a flat tape of nodes (see json_tape.h). Recursive descent;
 * the recursion is bounded by max_depth, which the caller caps. */
#include "serve/json_tape.h"

#include <math.h>
#include <string.h>

#include "vigil/csv.h"

typedef struct parser {
    const char *s;
    size_t len, i;
    size_t depth, max_depth;
    vg_arena *a;
    vg_jnode *nodes;
    size_t n, cap;
} parser;

const char *vg_jtype_str(vg_jtype t)
{
    switch (t) {
    case VG_JNULL: return "null";
    case VG_JFALSE:
    case VG_JTRUE: return "a boolean";
    case VG_JNUMBER: return "a number";
    case VG_JSTRING: return "a string";
    case VG_JARRAY: return "an array";
    case VG_JOBJECT: return "an object";
    }
    return "a value";
}

static vg_status syntax(parser *p, const char *what)
{
    if (p->i >= p->len)
        return vg_fail(VG_ERR_PARSE, "invalid JSON at offset %zu: the text ends before the value is complete (%s)",
                       p->len, what);
    return vg_fail(VG_ERR_PARSE, "invalid JSON at offset %zu: %s", p->i, what);
}

static void skip_ws(parser *p)
{
    while (p->i < p->len) {
        char c = p->s[p->i];
        if (c != ' ' && c != '\n' && c != '\r' && c != '\t') break;
        p->i++;
    }
}

/* Append a node; returns its index or SIZE_MAX when the arena is exhausted. */
static size_t push(parser *p, vg_jtype type)
{
    if (p->n == p->cap) {
        size_t cap = p->cap ? p->cap * 2 : 64;
        vg_jnode *nodes = vg_arena_grow(p->a, p->nodes, p->cap * sizeof *nodes, cap * sizeof *nodes);
        if (!nodes) return SIZE_MAX;
        p->nodes = nodes;
        p->cap = cap;
    }
    vg_jnode *nd = &p->nodes[p->n];
    memset(nd, 0, sizeof *nd);
    nd->type = (uint8_t)type;
    nd->pos = (uint32_t)p->i;
    nd->next = (uint32_t)(p->n + 1);
    return p->n++;
}

static vg_status nomem(void)
{
    return vg_fail(VG_ERR_NOMEM, "out of memory for the parsed request (per-request memory limit)");
}

/* Length of the valid UTF-8 sequence starting at s[0] (a byte >= 0x80), or 0. */
static size_t utf8_seq(const unsigned char *s, size_t avail)
{
    unsigned char c = s[0];
    size_t n;
    unsigned char lo = 0x80, hi = 0xBF;  /* allowed range of the second byte */
    if (c >= 0xC2 && c <= 0xDF) n = 2;
    else if (c == 0xE0) n = 3, lo = 0xA0;
    else if (c >= 0xE1 && c <= 0xEC) n = 3;
    else if (c == 0xED) n = 3, hi = 0x9F;  /* no UTF-16 surrogates */
    else if (c >= 0xEE && c <= 0xEF) n = 3;
    else if (c == 0xF0) n = 4, lo = 0x90;
    else if (c >= 0xF1 && c <= 0xF3) n = 4;
    else if (c == 0xF4) n = 4, hi = 0x8F;
    else return 0;
    if (avail < n || s[1] < lo || s[1] > hi) return 0;
    for (size_t k = 2; k < n; k++)
        if ((s[k] & 0xC0) != 0x80) return 0;
    return n;
}

static int hex4(const char *s, unsigned *out)
{
    unsigned v = 0;
    for (int k = 0; k < 4; k++) {
        char c = s[k];
        unsigned d;
        if (c >= '0' && c <= '9') d = (unsigned)(c - '0');
        else if (c >= 'a' && c <= 'f') d = (unsigned)(c - 'a' + 10);
        else if (c >= 'A' && c <= 'F') d = (unsigned)(c - 'A' + 10);
        else return 0;
        v = v * 16 + d;
    }
    *out = v;
    return 1;
}

static size_t put_utf8(char *d, unsigned cp)
{
    if (cp < 0x80) {
        d[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        d[0] = (char)(0xC0 | (cp >> 6));
        d[1] = (char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        d[0] = (char)(0xE0 | (cp >> 12));
        d[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        d[2] = (char)(0x80 | (cp & 0x3F));
        return 3;
    }
    d[0] = (char)(0xF0 | (cp >> 18));
    d[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
    d[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
    d[3] = (char)(0x80 | (cp & 0x3F));
    return 4;
}

/* Decode the escaped string body s[start..end) into the arena. */
static vg_status decode_escaped(parser *p, size_t start, size_t end, const char **out, uint32_t *out_len)
{
    char *d = vg_arena_alloc(p->a, end - start);
    if (!d) return nomem();
    size_t o = 0;
    for (size_t i = start; i < end;) {
        char c = p->s[i];
        if (c != '\\') {
            d[o++] = c;
            i++;
            continue;
        }
        p->i = i;
        char e = p->s[i + 1];  /* the scan guaranteed a character after '\' */
        i += 2;
        switch (e) {
        case '"': d[o++] = '"'; break;
        case '\\': d[o++] = '\\'; break;
        case '/': d[o++] = '/'; break;
        case 'b': d[o++] = '\b'; break;
        case 'f': d[o++] = '\f'; break;
        case 'n': d[o++] = '\n'; break;
        case 'r': d[o++] = '\r'; break;
        case 't': d[o++] = '\t'; break;
        case 'u': {
            unsigned cp, lo;
            if (end - i < 4 || !hex4(p->s + i, &cp)) return syntax(p, "\\u must be followed by four hex digits");
            i += 4;
            if (cp >= 0xDC00 && cp <= 0xDFFF) return syntax(p, "lone UTF-16 low surrogate in \\u escape");
            if (cp >= 0xD800 && cp <= 0xDBFF) {
                if (end - i < 6 || p->s[i] != '\\' || p->s[i + 1] != 'u' || !hex4(p->s + i + 2, &lo) ||
                    lo < 0xDC00 || lo > 0xDFFF)
                    return syntax(p, "UTF-16 high surrogate not followed by a low surrogate");
                i += 6;
                cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
            }
            o += put_utf8(d + o, cp);
            break;
        }
        default: return syntax(p, "unknown escape in string");
        }
    }
    *out = d;
    *out_len = (uint32_t)o;
    return VG_OK;
}

/* 1 for bytes a string may hold as they are: not '"', '\\', a control
 * character or the start of a multi-byte UTF-8 sequence (checked apart). */
static inline int plain_char(unsigned char c)
{
    return c >= 0x20 && c < 0x80 && c != '"' && c != '\\';
}

/* 1 if any of the 8 bytes at s is not plain: '"', '\\', below 0x20 or
 * 0x80 and above (the classic SWAR tests for a zero or a small byte). */
static inline int special_in_word(const unsigned char *s)
{
    uint64_t x;
    memcpy(&x, s, 8);
    const uint64_t ones = 0x0101010101010101ull, highs = 0x8080808080808080ull;
    uint64_t q = x ^ (ones * '"'), b = x ^ (ones * '\\');
    uint64_t zero_q = (q - ones) & ~q, zero_b = (b - ones) & ~b;
    uint64_t small = (x - ones * 0x20) & ~x;
    return ((zero_q | zero_b | small) & highs) != 0 || (x & highs) != 0;
}

/* p->s[p->i] is the opening quote. */
static vg_status parse_string(parser *p, const char **out, uint32_t *out_len)
{
    size_t start = ++p->i, i = start;
    int escaped = 0;
    const unsigned char *s = (const unsigned char *)p->s;
    while (i < p->len) {
        /* Plain characters are the common case: skip them 8 at a time,
         * then one by one up to the next special byte. */
        while (i + 8 <= p->len && !special_in_word(s + i)) i += 8;
        while (i < p->len && plain_char(s[i])) i++;
        if (i >= p->len) break;
        unsigned char c = s[i];
        if (c == '"') {
            p->i = i + 1;
            if (!escaped) {
                *out = p->s + start;
                *out_len = (uint32_t)(i - start);
                return VG_OK;
            }
            vg_status st = decode_escaped(p, start, i, out, out_len);
            p->i = i + 1;
            return st;
        }
        if (c == '\\') {
            escaped = 1;
            if (i + 1 >= p->len) break;
            i += 2;
        } else if (c < 0x20) {
            p->i = i;
            return syntax(p, "control character in string (escape it)");
        } else if (c >= 0x80) {
            size_t n = utf8_seq(s + i, p->len - i);
            if (!n) {
                p->i = i;
                return syntax(p, "invalid UTF-8 in string");
            }
            i += n;
        } else {
            i++;
        }
    }
    p->i = p->len;
    return syntax(p, "unterminated string");
}

static int is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static const double pow10_exact[23] = {
    1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,  1e8,  1e9,  1e10, 1e11,
    1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
};

/* Validates the JSON number grammar and, for the common short decimals,
 * computes the value in the same pass; anything longer or with an exponent
 * goes to vg_parse_number (correctly rounded through strtod). */
static vg_status parse_number(parser *p, double *out)
{
    size_t start = p->i, i = p->i;
    const char *s = p->s;
    uint64_t m = 0;
    int digits = 0, exp10 = 0, fast = 1;
    if (i < p->len && s[i] == '-') i++;
    if (i < p->len && s[i] == '0') {
        i++;
    } else if (i < p->len && s[i] >= '1' && s[i] <= '9') {
        while (i < p->len && is_digit(s[i])) {
            m = m * 10 + (uint64_t)(s[i++] - '0');
            digits++;
        }
    } else {
        p->i = i;
        return syntax(p, "expected a digit");
    }
    if (i < p->len && s[i] == '.') {
        i++;
        if (i >= p->len || !is_digit(s[i])) {
            p->i = i;
            return syntax(p, "expected a digit after the decimal point");
        }
        while (i < p->len && is_digit(s[i])) {
            m = m * 10 + (uint64_t)(s[i++] - '0');
            digits += m != 0;
            exp10--;
        }
    }
    if (digits > 15) fast = 0;
    if (i < p->len && (s[i] == 'e' || s[i] == 'E')) {
        fast = 0;
        i++;
        if (i < p->len && (s[i] == '+' || s[i] == '-')) i++;
        if (i >= p->len || !is_digit(s[i])) {
            p->i = i;
            return syntax(p, "expected a digit in the exponent");
        }
        while (i < p->len && is_digit(s[i])) i++;
    }
    double v;
    if (fast && exp10 >= -22 && exp10 <= 22) {
        /* Up to 15 digits and a power of ten up to 22 are exact doubles,
         * so one division or multiplication is correctly rounded. */
        v = exp10 < 0 ? (double)m / pow10_exact[-exp10] : (double)m * pow10_exact[exp10];
        if (s[start] == '-') v = -v;
        p->i = i;
        *out = v;
        return VG_OK;
    }
    if (!vg_parse_number(s + start, i - start, &v) || !isfinite(v)) {
        p->i = start;
        return syntax(p, "number out of range");
    }
    p->i = i;
    *out = v;
    return VG_OK;
}

static vg_status parse_value(parser *p);

static vg_status parse_container(parser *p, int object)
{
    if (++p->depth > p->max_depth)
        return vg_fail(VG_ERR_LIMIT, "JSON nested deeper than %zu levels at offset %zu (limit: --max-depth)",
                       p->max_depth, p->i);
    size_t idx = push(p, object ? VG_JOBJECT : VG_JARRAY);
    if (idx == SIZE_MAX) return nomem();
    char close = object ? '}' : ']';
    p->i++;
    skip_ws(p);
    uint32_t count = 0;
    if (p->i < p->len && p->s[p->i] == close) {
        p->i++;
    } else {
        for (;;) {
            if (object) {
                if (p->i >= p->len || p->s[p->i] != '"') return syntax(p, "expected a string key");
                size_t k = push(p, VG_JSTRING);
                if (k == SIZE_MAX) return nomem();
                const char *str;
                uint32_t len;
                vg_status st = parse_string(p, &str, &len);
                if (st) return st;
                p->nodes[k].v.str = str;
                p->nodes[k].len = len;
                p->nodes[k].end = (uint32_t)p->i;
                skip_ws(p);
                if (p->i >= p->len || p->s[p->i] != ':') return syntax(p, "expected ':' after the key");
                p->i++;
                skip_ws(p);
            }
            vg_status st = parse_value(p);
            if (st) return st;
            count++;
            skip_ws(p);
            if (p->i < p->len && p->s[p->i] == ',') {
                p->i++;
                skip_ws(p);
                continue;
            }
            if (p->i < p->len && p->s[p->i] == close) {
                p->i++;
                break;
            }
            return syntax(p, object ? "expected ',' or '}' after an object member" : "expected ',' or ']' after an array element");
        }
    }
    p->nodes[idx].len = count;
    p->nodes[idx].next = (uint32_t)p->n;
    p->nodes[idx].end = (uint32_t)p->i;
    p->depth--;
    return VG_OK;
}

static vg_status parse_literal(parser *p, const char *word, vg_jtype type)
{
    size_t n = strlen(word);
    if (p->len - p->i < n || memcmp(p->s + p->i, word, n) != 0) return syntax(p, "expected a JSON value");
    size_t idx = push(p, type);
    if (idx == SIZE_MAX) return nomem();
    p->i += n;
    p->nodes[idx].end = (uint32_t)p->i;
    return VG_OK;
}

static vg_status parse_value(parser *p)
{
    if (p->i >= p->len) return syntax(p, "expected a JSON value");
    char c = p->s[p->i];
    switch (c) {
    case '{': return parse_container(p, 1);
    case '[': return parse_container(p, 0);
    case '"': {
        size_t idx = push(p, VG_JSTRING);
        if (idx == SIZE_MAX) return nomem();
        const char *str;
        uint32_t len;
        vg_status st = parse_string(p, &str, &len);
        if (st) return st;
        p->nodes[idx].v.str = str;
        p->nodes[idx].len = len;
        p->nodes[idx].end = (uint32_t)p->i;
        return VG_OK;
    }
    case 't': return parse_literal(p, "true", VG_JTRUE);
    case 'f': return parse_literal(p, "false", VG_JFALSE);
    case 'n': return parse_literal(p, "null", VG_JNULL);
    default:
        if (c == '-' || is_digit(c)) {
            size_t idx = push(p, VG_JNUMBER);
            if (idx == SIZE_MAX) return nomem();
            double v = 0;
            vg_status st = parse_number(p, &v);
            if (st) return st;
            p->nodes[idx].v.num = v;
            p->nodes[idx].end = (uint32_t)p->i;
            return VG_OK;
        }
        return syntax(p, "expected a JSON value");
    }
}

vg_status vg_jtape_parse(const char *text, size_t len, size_t max_depth, vg_arena *a, vg_jtape *out)
{
    out->text = text;
    out->nodes = NULL;
    out->n = 0;
    if (len >= UINT32_MAX) return vg_fail(VG_ERR_LIMIT, "JSON text of %zu bytes is too large", len);
    parser p = { .s = text, .len = len, .max_depth = max_depth ? max_depth : 1, .a = a };
    /* Most documents need about one node per 8 bytes; sizing the tape up
     * front avoids regrowing it for typical records. */
    p.cap = len / 8 + 16;
    p.nodes = vg_arena_alloc(a, p.cap * sizeof *p.nodes);
    if (!p.nodes) return nomem();
    skip_ws(&p);
    if (p.i >= p.len) return vg_fail(VG_ERR_PARSE, "invalid JSON: the body is empty");
    vg_status st = parse_value(&p);
    if (st) return st;
    skip_ws(&p);
    if (p.i < p.len) return syntax(&p, "unexpected data after the JSON value");
    out->nodes = p.nodes;
    out->n = p.n;
    return VG_OK;
}

size_t vg_jtape_member(const vg_jtape *t, size_t obj, const char *name)
{
    const vg_jnode *o = &t->nodes[obj];
    if (o->type != VG_JOBJECT) return 0;
    size_t n = strlen(name), found = 0;
    size_t k = obj + 1;
    for (uint32_t m = 0; m < o->len; m++) {
        const vg_jnode *key = &t->nodes[k];
        if (key->len == n && memcmp(key->v.str, name, n) == 0) found = k + 1;
        k = t->nodes[k + 1].next;
    }
    return found;
}
