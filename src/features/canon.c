/* Canonical forms of attacker-controlled text (see vigil/canon.h).
 *
 * The rounds decode in place in a stack buffer (every escape is at least as
 * long as what it stands for: %XX 3 -> 1 byte, %uXXXX 6 -> at most 3, an
 * entity at least 3 -> at most 4 bytes of the UTF-8 of a code point that
 * needs at least 5 characters to write), so one buffer of VG_CANON_WORK_BYTES
 * bounds the work; only the first that many bytes of a longer text are
 * decoded, the same bound the payload scans have (VG_URLFEAT_SCAN_BYTES).
 * The last pass reads UTF-8 / Latin-1 and writes into the caller's buffer,
 * which a Latin-1 byte can outgrow (one byte becomes two). */
#include "vigil/canon.h"

#include <string.h>

#define VG_CANON_WORK_BYTES 8192

static int hexval(unsigned char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

static uint16_t inc(uint16_t v)
{
    return v == UINT16_MAX ? v : (uint16_t)(v + 1);
}

/* UTF-8 of code point cp (< 0x110000) into o; returns its length. */
static size_t put_utf8(unsigned char *o, uint32_t cp)
{
    if (cp < 0x80) return o[0] = (unsigned char)cp, 1;
    if (cp < 0x800) return o[0] = (unsigned char)(0xC0 | cp >> 6), o[1] = (unsigned char)(0x80 | (cp & 63)), 2;
    if (cp < 0x10000) {
        o[0] = (unsigned char)(0xE0 | cp >> 12), o[1] = (unsigned char)(0x80 | (cp >> 6 & 63));
        o[2] = (unsigned char)(0x80 | (cp & 63));
        return 3;
    }
    o[0] = (unsigned char)(0xF0 | cp >> 18), o[1] = (unsigned char)(0x80 | (cp >> 12 & 63));
    o[2] = (unsigned char)(0x80 | (cp >> 6 & 63)), o[3] = (unsigned char)(0x80 | (cp & 63));
    return 4;
}

/* Named references attackers and encoders use; lower case (matched without
 * regard to case: &LT; is accepted by browsers too). */
static const struct {
    const char *name;
    unsigned char len, ch;
} entities[] = {
    { "lt", 2, '<' },    { "gt", 2, '>' },     { "quot", 4, '"' },  { "apos", 4, '\'' }, { "amp", 3, '&' },
    { "sol", 3, '/' },   { "colon", 5, ':' },  { "lpar", 4, '(' },  { "rpar", 4, ')' },  { "tab", 3, '\t' },
    { "newline", 7, '\n' }, { "semi", 4, ';' }, { "equals", 6, '=' }, { "nbsp", 4, ' ' },
};

/* An HTML character reference at b[i] ('&'): its length and code point, or 0. */
static size_t entity_at(const unsigned char *b, size_t n, size_t i, uint32_t *cp)
{
    size_t j = i + 1;
    if (j < n && b[j] == '#') {
        j++;
        int hex = j < n && (b[j] == 'x' || b[j] == 'X');
        j += (size_t)hex;
        uint32_t v = 0;
        size_t d = 0;
        for (; j < n && d < 8; j++, d++) {
            int h = hexval(b[j]);
            if (h < 0 || (!hex && h > 9)) break;
            v = v * (hex ? 16u : 10u) + (uint32_t)h;
        }
        if (d == 0 || v >= 0x110000 || (v >= 0xD800 && v <= 0xDFFF)) return 0;
        if (j < n && b[j] == ';') j++;
        /* The reference must not be shorter than its UTF-8 (in-place decoding). */
        unsigned char tmp[4];
        if (put_utf8(tmp, v) > j - i) return 0;
        *cp = v;
        return j - i;
    }
    for (size_t k = 0; k < sizeof entities / sizeof *entities; k++) {
        size_t l = entities[k].len;
        if (j + l > n) continue;
        size_t m = 0;
        while (m < l && (b[j + m] | 0x20) == entities[k].name[m]) m++;
        if (m < l) continue;
        *cp = entities[k].ch;
        return 1 + l + (j + l < n && b[j + l] == ';');
    }
    return 0;
}

/* One round of percent and entity decoding, in place; returns the new length
 * and sets *changed. '+' is a space only in the first round of form text: a
 * '+' that decoding produced (%2B) is a literal plus to the application. */
static size_t round_decode(unsigned char *b, size_t n, int plus, vg_canon_info *ci, int *changed)
{
    size_t w = 0;
    *changed = 0;
    for (size_t r = 0; r < n; r++) {
        unsigned char c = b[r];
        int h, l;
        uint32_t cp;
        size_t el;
        if (c == '%' && r + 2 < n + 0 && (h = hexval(b[r + 1])) >= 0 && (l = hexval(b[r + 2])) >= 0) {
            b[w++] = (unsigned char)(h * 16 + l);
            r += 2;
            ci->pct = inc(ci->pct);
            *changed = 1;
        } else if (c == '%' && r + 5 < n + 0 && (b[r + 1] | 0x20) == 'u' && hexval(b[r + 2]) >= 0 &&
                   hexval(b[r + 3]) >= 0 && hexval(b[r + 4]) >= 0 && hexval(b[r + 5]) >= 0) {
            cp = (uint32_t)(hexval(b[r + 2]) << 12 | hexval(b[r + 3]) << 8 | hexval(b[r + 4]) << 4 | hexval(b[r + 5]));
            if (cp >= 0xD800 && cp <= 0xDFFF) cp = 0xFFFD;  /* a lone surrogate: the replacement character */
            w += put_utf8(b + w, cp);
            r += 5;
            ci->pct_u = inc(ci->pct_u);
            *changed = 1;
        } else if (c == '&' && (el = entity_at(b, n, r, &cp))) {
            w += put_utf8(b + w, cp);
            r += el - 1;
            ci->entities = inc(ci->entities);
            *changed = 1;
        } else if (c == '+' && plus) {
            b[w++] = ' ';
        } else {
            b[w++] = c;
        }
    }
    return w;
}

/* Length of the UTF-8 sequence at b[i] and its code point; 0 when the bytes
 * are not one (a lone continuation byte, a bad lead, a short or broken
 * sequence, a surrogate, beyond U+10FFFF). *overlong: it took more bytes
 * than its code point needs. */
static size_t utf8_at(const unsigned char *b, size_t n, size_t i, uint32_t *cp, int *overlong)
{
    unsigned char c = b[i];
    size_t len;
    uint32_t v, min;
    if (c >= 0xC0 && c < 0xE0) len = 2, v = c & 0x1Fu, min = 0x80;
    else if (c >= 0xE0 && c < 0xF0) len = 3, v = c & 0x0Fu, min = 0x800;
    else if (c >= 0xF0 && c < 0xF8) len = 4, v = c & 0x07u, min = 0x10000;
    else return 0;
    if (i + len > n) return 0;
    for (size_t k = 1; k < len; k++) {
        if ((b[i + k] & 0xC0) != 0x80) return 0;
        v = v << 6 | (b[i + k] & 0x3Fu);
    }
    if (v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF)) return 0;
    *overlong = v < min;
    *cp = v;
    return len;
}

/* Bytes the fast path below cannot take as they are: escapes ('%', '&'),
 * what is not ASCII text (controls, DEL, bytes >= 0x80) and '/' (a comment
 * may start there: the path checks the next byte). */
enum { PLAIN = 0, UPPER = 1, SPACE = 2, SLASH = 3, PLUS = 4, SLOW = 5 };
static const unsigned char byte_class[256] = {
    [0 ... 0x1F] = SLOW, ['%'] = SLOW, ['&'] = SLOW, [0x7F ... 0xFF] = SLOW,
    ['A' ... 'Z'] = UPPER, [' '] = SPACE, ['/'] = SLASH, ['+'] = PLUS,
};

/* Most fields (paths, search words, agents) hold nothing to decode: then
 * the canonical form is the text lower-cased with its space runs collapsed,
 * written in one pass. Returns the length written, or SIZE_MAX at the first
 * byte that needs the full decoder (whose rounds then start afresh: what was
 * written is overwritten). Same output and info as the full path: every
 * count stays 0 for such text. */
static size_t plain_copy(const unsigned char *b, size_t n, int form, unsigned char *o, size_t cap)
{
    size_t w = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = b[i];
        if (w == cap) {
            /* The output is full, but the decoder's counts cover all of
             * the input: the rest must be plain too. */
            c = byte_class[c];
            if (c == SLOW || (c == SLASH && i + 1 < n && b[i + 1] == '*')) return SIZE_MAX;
            continue;
        }
        switch (byte_class[c]) {
        case PLAIN: o[w++] = c; break;
        case UPPER: o[w++] = (unsigned char)(c + 32); break;
        case SPACE: if (w && o[w - 1] != ' ') o[w++] = c; break;
        case SLASH:
            if (i + 1 < n && b[i + 1] == '*') return SIZE_MAX;
            o[w++] = c;
            break;
        case PLUS:  /* in form text a space, as the first decoding round reads it (that is no change) */
            if (!form) o[w++] = c;
            else if (w && o[w - 1] != ' ') o[w++] = ' ';
            break;
        default: return SIZE_MAX;
        }
    }
    if (w && o[w - 1] == ' ') w--;
    return w;
}

size_t vg_canon_decode(const char *s, size_t len, int flags, char *out, size_t cap, vg_canon_info *info)
{
    vg_canon_info dummy;
    vg_canon_info *ci = info ? info : &dummy;
    memset(ci, 0, sizeof *ci);
    int form = flags & VG_CANON_FORM;
    size_t n = len < VG_CANON_WORK_BYTES ? len : VG_CANON_WORK_BYTES;
    if (!(flags & VG_CANON_FULL)) {
        size_t w = plain_copy((const unsigned char *)s, n, form, (unsigned char *)out, cap);
        if (w != SIZE_MAX) return w;
    }
    unsigned char b[VG_CANON_WORK_BYTES];
    if (n) memcpy(b, s, n);
    for (int round = 0; round < VG_CANON_MAX_ROUNDS; round++) {
        int changed;
        n = round_decode(b, n, form && round == 0, ci, &changed);
        if (!changed) break;
        ci->rounds = inc(ci->rounds);
    }

    unsigned char *o = (unsigned char *)out;
    size_t w = 0;
    int in_exec = 0;  /* inside a MySQL executable comment: its text counts */
#define EMIT(ch)                                            \
    do {                                                    \
        unsigned char e_ = (ch);                            \
        if (e_ == ' ' && (w == 0 || o[w - 1] == ' ')) break; \
        if (w < cap) o[w++] = e_;                           \
    } while (0)
    for (size_t i = 0; i < n && w < cap; i++) {
        unsigned char c = b[i];
        if (c < 0x80) {
            if (c == '/' && i + 1 < n && b[i + 1] == '*') {
                if (i + 2 < n && b[i + 2] == '!') {  /* MySQL's  / *!50000 UNION * /  runs its text */
                    i += 2;
                    while (i + 1 < n && b[i + 1] >= '0' && b[i + 1] <= '9') i++;
                    in_exec = 1;
                    ci->comments = inc(ci->comments);
                    EMIT(' ');
                    continue;
                }
                size_t j = i + 2;
                while (j + 1 < n && !(b[j] == '*' && b[j + 1] == '/')) j++;
                if (j + 1 < n) {
                    ci->comments = inc(ci->comments);
                    EMIT(' ');
                    i = j + 1;
                    continue;
                }
            } else if (c == '*' && in_exec && i + 1 < n && b[i + 1] == '/') {
                in_exec = 0;
                EMIT(' ');
                i++;
                continue;
            }
            if (c == '%' && !(i + 2 < n && hexval(b[i + 1]) >= 0 && hexval(b[i + 2]) >= 0))
                ci->truncated = inc(ci->truncated);
            if (c < 0x20 || c == 0x7F) {
                if (c != '\t') ci->controls = inc(ci->controls);
                if (c == 0 || c == '\r' || c == '\n') {
                    if (w < cap) o[w++] = c;
                } else {
                    EMIT(' ');
                }
                continue;
            }
            EMIT(c >= 'A' && c <= 'Z' ? (unsigned char)(c + 32) : c);
            continue;
        }
        uint32_t cp;
        int overlong;
        size_t l = utf8_at(b, n, i, &cp, &overlong);
        if (l && overlong) {
            ci->overlong = inc(ci->overlong);
            if (cp < 0x80) {
                i += l - 1;
                b[i] = (unsigned char)cp;  /* read the ASCII it hides through the branch above */
                i--;
                continue;
            }
            unsigned char u8[4];
            size_t k = put_utf8(u8, cp);
            if (w + k > cap) break;
            memcpy(o + w, u8, k), w += k;
            ci->non_ascii = inc(ci->non_ascii);
            i += l - 1;
        } else if (l) {
            if (w + l > cap) break;
            memcpy(o + w, b + i, l), w += l;
            ci->non_ascii = inc(ci->non_ascii);
            i += l - 1;
        } else {
            if (w + 2 > cap) break;
            w += put_utf8(o + w, c);
            ci->latin1 = inc(ci->latin1);
            ci->non_ascii = inc(ci->non_ascii);
        }
    }
#undef EMIT
    if (w && o[w - 1] == ' ') w--;  /* a run at the end is no separator */
    return w;
}
