/* Payload families in canonical text (see vigil/payload.h). Fixed strings go
 * through one table indexed by first byte, as in urlfeat.c; the signs that
 * are a grammar rather than a string (a tautology, a statement after ';', a
 * command after a shell metacharacter, an on*= handler, a tag) are small
 * scanners below. The text is canonical already (canon.c): an inline SQL
 * comment, "union%20select" and "UNION+SeLeCt" all read "union select". */
#include "vigil/payload.h"

#include <pthread.h>
#include <string.h>

typedef struct token {
    const char *text;
    unsigned char len, kind;
    unsigned char word;  /* 1: must not touch a letter or digit before it */
} token;

#define T(s, k) { s, (unsigned char)(sizeof(s) - 1), k, 0 }
#define W(s, k) { s, (unsigned char)(sizeof(s) - 1), k, 1 }
static const token tokens[] = {
    W("select", VG_PAYLOAD_SQL), W("information_schema", VG_PAYLOAD_SQL), T("@@version", VG_PAYLOAD_SQL),
    W("concat(", VG_PAYLOAD_SQL), W("char(", VG_PAYLOAD_SQL), W("chr(", VG_PAYLOAD_SQL),
    W("extractvalue(", VG_PAYLOAD_SQL), W("updatexml(", VG_PAYLOAD_SQL), W("load_file(", VG_PAYLOAD_SQL),
    T("into outfile", VG_PAYLOAD_SQL), T("into dumpfile", VG_PAYLOAD_SQL), W("xp_cmdshell", VG_PAYLOAD_SQL),
    W("cast(", VG_PAYLOAD_SQL), W("convert(", VG_PAYLOAD_SQL), W("substring(", VG_PAYLOAD_SQL),
    W("ascii(", VG_PAYLOAD_SQL), W("database()", VG_PAYLOAD_SQL), W("version()", VG_PAYLOAD_SQL),
    W("user()", VG_PAYLOAD_SQL), W("sysobjects", VG_PAYLOAD_SQL), W("pg_catalog", VG_PAYLOAD_SQL),
    W("sqlite_master", VG_PAYLOAD_SQL), W("order by", VG_PAYLOAD_SQL), W("group by", VG_PAYLOAD_SQL),
    W("having ", VG_PAYLOAD_SQL), W("null,", VG_PAYLOAD_SQL), W("case when", VG_PAYLOAD_SQL),
    W("drop table", VG_PAYLOAD_SQL), W("insert into", VG_PAYLOAD_SQL), W("from dual", VG_PAYLOAD_SQL),
    W("elt(", VG_PAYLOAD_SQL), W("make_set(", VG_PAYLOAD_SQL), W("iif(", VG_PAYLOAD_SQL), W("rlike", VG_PAYLOAD_SQL),
    W("procedure analyse", VG_PAYLOAD_SQL), W("utl_inaddr", VG_PAYLOAD_SQL), W("ctxsys", VG_PAYLOAD_SQL),

    W("union select", VG_PAYLOAD_SQL_UNION), W("union all select", VG_PAYLOAD_SQL_UNION),
    W("union distinct select", VG_PAYLOAD_SQL_UNION), W("union(select", VG_PAYLOAD_SQL_UNION),
    W("union (select", VG_PAYLOAD_SQL_UNION), W("union all(select", VG_PAYLOAD_SQL_UNION),

    T("'='", VG_PAYLOAD_SQL_TAUTOLOGY), T("\"=\"", VG_PAYLOAD_SQL_TAUTOLOGY), W("or true", VG_PAYLOAD_SQL_TAUTOLOGY),
    W("or not false", VG_PAYLOAD_SQL_TAUTOLOGY),

    W("sleep(", VG_PAYLOAD_SQL_TIME), W("sleep (", VG_PAYLOAD_SQL_TIME), W("benchmark(", VG_PAYLOAD_SQL_TIME),
    W("waitfor delay", VG_PAYLOAD_SQL_TIME), W("pg_sleep(", VG_PAYLOAD_SQL_TIME), W("randomblob(", VG_PAYLOAD_SQL_TIME),
    T("dbms_pipe.receive_message", VG_PAYLOAD_SQL_TIME), T("dbms_lock.sleep", VG_PAYLOAD_SQL_TIME),

    W("javascript:", VG_PAYLOAD_XSS_PROTO), W("vbscript:", VG_PAYLOAD_XSS_PROTO), W("data:text/html", VG_PAYLOAD_XSS_PROTO),
    W("alert(", VG_PAYLOAD_XSS_PROTO), W("alert`", VG_PAYLOAD_XSS_PROTO), W("prompt(", VG_PAYLOAD_XSS_PROTO),
    W("confirm(", VG_PAYLOAD_XSS_PROTO), T("document.cookie", VG_PAYLOAD_XSS_PROTO), T("document.domain", VG_PAYLOAD_XSS_PROTO),
    W("eval(", VG_PAYLOAD_XSS_PROTO), T("fromcharcode", VG_PAYLOAD_XSS_PROTO), T("window.location", VG_PAYLOAD_XSS_PROTO),
    W("expression(", VG_PAYLOAD_XSS_PROTO), W("srcdoc=", VG_PAYLOAD_XSS_PROTO), W("settimeout(", VG_PAYLOAD_XSS_PROTO),

    T("../", VG_PAYLOAD_TRAVERSAL), T("..\\", VG_PAYLOAD_TRAVERSAL), T("..;/", VG_PAYLOAD_TRAVERSAL),

    T("/etc/passwd", VG_PAYLOAD_LFI), T("/etc/shadow", VG_PAYLOAD_LFI), T("/etc/hosts", VG_PAYLOAD_LFI),
    T("/etc/group", VG_PAYLOAD_LFI), T("/etc/issue", VG_PAYLOAD_LFI), T("/proc/self", VG_PAYLOAD_LFI),
    T("/proc/version", VG_PAYLOAD_LFI), T("win.ini", VG_PAYLOAD_LFI), T("boot.ini", VG_PAYLOAD_LFI),
    T("system.ini", VG_PAYLOAD_LFI), T("c:\\windows", VG_PAYLOAD_LFI), T("c:/windows", VG_PAYLOAD_LFI),
    W("php://", VG_PAYLOAD_LFI), W("file://", VG_PAYLOAD_LFI), W("expect://", VG_PAYLOAD_LFI),
    W("data://", VG_PAYLOAD_LFI), W("zip://", VG_PAYLOAD_LFI), W("phar://", VG_PAYLOAD_LFI),
    T(".htaccess", VG_PAYLOAD_LFI), T(".htpasswd", VG_PAYLOAD_LFI), T("web.config", VG_PAYLOAD_LFI),
    T("wp-config", VG_PAYLOAD_LFI), T("/.env", VG_PAYLOAD_LFI), T("/.git/", VG_PAYLOAD_LFI), T("id_rsa", VG_PAYLOAD_LFI),
    T("/var/log/", VG_PAYLOAD_LFI), { "\0", 1, VG_PAYLOAD_LFI, 0 },

    T("/bin/sh", VG_PAYLOAD_CMDI), T("/bin/bash", VG_PAYLOAD_CMDI), T("cmd.exe", VG_PAYLOAD_CMDI),
    T("cmd /c", VG_PAYLOAD_CMDI), W("powershell", VG_PAYLOAD_CMDI), T("nc -e", VG_PAYLOAD_CMDI),
    T("${ifs}", VG_PAYLOAD_CMDI), T("$(", VG_PAYLOAD_CMDI), T("/dev/tcp/", VG_PAYLOAD_CMDI),
    /* Code injection into an interpreter (PHP's eval, include of a data: URI). */
    W("system(", VG_PAYLOAD_CMDI), W("passthru(", VG_PAYLOAD_CMDI), W("shell_exec(", VG_PAYLOAD_CMDI),
    W("exit(md5(", VG_PAYLOAD_CMDI), W("phpinfo()", VG_PAYLOAD_CMDI), W("data:;base64,", VG_PAYLOAD_LFI),
    W("data:text/plain;base64,", VG_PAYLOAD_LFI),

    T("{{", VG_PAYLOAD_SSTI), T("{%", VG_PAYLOAD_SSTI), T("<%=", VG_PAYLOAD_SSTI), T("#{", VG_PAYLOAD_SSTI),
    T("*{", VG_PAYLOAD_SSTI), T("__class__", VG_PAYLOAD_SSTI), T("__globals__", VG_PAYLOAD_SSTI),
    T("getruntime", VG_PAYLOAD_SSTI),

    T("jndi:", VG_PAYLOAD_JNDI), T("${${", VG_PAYLOAD_JNDI), T("${lower:", VG_PAYLOAD_JNDI),
    T("${upper:", VG_PAYLOAD_JNDI), T("${::-", VG_PAYLOAD_JNDI), T("${env:", VG_PAYLOAD_JNDI),
    W("ldap://", VG_PAYLOAD_JNDI), W("rmi://", VG_PAYLOAD_JNDI), W("ldaps://", VG_PAYLOAD_JNDI),
};
#undef T
#undef W
#define N_TOKENS (sizeof tokens / sizeof tokens[0])
_Static_assert(N_TOKENS < 256, "token indices are bytes");

/* The gate of the fast scan: a position can count something only if its
 * byte is special (a meta character, CR, LF, NUL: the scanners below start
 * there) or its two bytes begin a token or a word a scanner looks for ("or",
 * "an", "xo" of a tautology, "on" of a handler). Plain text passes one table
 * look-up per byte. The set bigrams are ranked (rank_base + a popcount), and
 * the tokens of bigram number r are by_bigram[bigram_start[r] ..
 * bigram_start[r + 1]): a position tries only the tokens that can match it. */
#define N_BIGRAM_WORDS (65536 / 64)
static uint8_t special[256];
static uint8_t one_byte[256];  /* kind + 1 of the one-byte token that is this byte, or 0 */
static uint64_t bigram[N_BIGRAM_WORDS];
static uint16_t rank_base[N_BIGRAM_WORDS];
static uint16_t bigram_start[N_TOKENS + 8];
static uint8_t by_bigram[N_TOKENS];
static pthread_once_t index_once = PTHREAD_ONCE_INIT;

static void mark_bigram(unsigned char a, unsigned char b)
{
    unsigned k = (unsigned)a << 8 | b;
    bigram[k >> 6] |= (uint64_t)1 << (k & 63);
}

static unsigned bigram_rank(unsigned k)
{
    return rank_base[k >> 6] + (unsigned)__builtin_popcountll(bigram[k >> 6] & (((uint64_t)1 << (k & 63)) - 1));
}

static void build_index(void)
{
    for (size_t t = 0; t < N_TOKENS; t++) {
        if (tokens[t].len == 1) one_byte[(unsigned char)tokens[t].text[0]] = (uint8_t)(tokens[t].kind + 1);
        else mark_bigram((unsigned char)tokens[t].text[0], (unsigned char)tokens[t].text[1]);
    }
    mark_bigram('o', 'r'), mark_bigram('a', 'n'), mark_bigram('x', 'o'), mark_bigram('o', 'n');
    unsigned r = 0;
    for (size_t w = 0; w < N_BIGRAM_WORDS; w++) rank_base[w] = (uint16_t)r, r += (unsigned)__builtin_popcountll(bigram[w]);
    /* Counting sort of the tokens by the rank of their bigram. */
    size_t n = 0;
    for (unsigned q = 0; q < r; q++) {
        bigram_start[q] = (uint16_t)n;
        for (size_t t = 0; t < N_TOKENS; t++)
            if (tokens[t].len > 1 &&
                bigram_rank((unsigned)(unsigned char)tokens[t].text[0] << 8 | (unsigned char)tokens[t].text[1]) == q)
                by_bigram[n++] = (uint8_t)t;
    }
    bigram_start[r] = (uint16_t)n;
    static const char spec[] = "'\"`<>();|${}\\\r\n&";
    for (const char *p = spec; *p; p++) special[(unsigned char)*p] = 1;
    for (int c = 0; c < 256; c++) special[c] |= one_byte[c] != 0;
}

static const char *const names[VG_PAYLOAD_COUNT] = {
    "sql", "sql_union", "sql_tautology", "sql_time", "sql_stacked", "sql_quote", "xss_tag", "xss_handler",
    "xss_proto", "traversal", "lfi", "cmdi", "ssti", "crlf", "jndi", "meta",
};

const char *vg_payload_name(size_t i)
{
    return i < VG_PAYLOAD_COUNT ? names[i] : NULL;
}

static int alnum(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
}

static int alpha(unsigned char c)
{
    return c >= 'a' && c <= 'z';
}

static void add(uint16_t *counts, int kind)
{
    if (counts[kind] < UINT16_MAX) counts[kind]++;
}

/* Does t[i..) start with word w followed by a non-word byte (or the end)? */
static int word_at(const unsigned char *t, size_t n, size_t i, const char *w)
{
    if (i >= n || t[i] != (unsigned char)w[0]) return 0;  /* most tries end here, before strlen */
    size_t l = strlen(w);
    return i + l <= n && memcmp(t + i, w, l) == 0 && (i + l == n || !alnum(t[i + l]));
}

static const char *const statements[] = { "select", "insert", "update", "delete", "drop", "declare", "exec",
                                          "execute", "waitfor", "shutdown", "create", "alter", "truncate", "begin",
                                          "set", "union", NULL };
static const char *const commands[] = { "id", "ls", "cat", "whoami", "uname", "ping", "sleep", "nslookup", "wget",
                                        "curl", "nc", "ncat", "bash", "sh", "echo", "type", "dir", "net", "ipconfig",
                                        "ifconfig", "ps", "pwd", "perl", "python", "php", "rm", "chmod", "hostname",
                                        "systeminfo", "timeout", "expr", "head", "tail", "more", "dig", "host", "ver",
                                        "set", "netstat", "print", "uname", "env", "printenv", "exit", "system",
                                        "passthru", NULL };

static size_t skip_spaces(const unsigned char *t, size_t n, size_t i)
{
    while (i < n && t[i] == ' ') i++;
    return i;
}

/* An operand of a comparison at t[i..): a quoted string (its closing quote
 * may be missing: the application adds it), a number or a name. Its extent
 * without quotes goes to *a.. *b; returns the index after it, or i when
 * there is none. */
static size_t operand(const unsigned char *t, size_t n, size_t i, size_t *a, size_t *b)
{
    if (i < n && (t[i] == '\'' || t[i] == '"')) {
        unsigned char q = t[i];
        size_t j = i + 1;
        while (j < n && t[j] != q) j++;
        *a = i + 1, *b = j;
        return j < n ? j + 1 : j;
    }
    size_t j = i;
    while (j < n && alnum(t[j])) j++;
    *a = i, *b = j;
    return j;
}

/* OR/AND/XOR (or || / &&) then two equal operands around = or LIKE. */
static int tautology_at(const unsigned char *t, size_t n, size_t i)
{
    size_t j;
    if (word_at(t, n, i, "or")) j = i + 2;
    else if (word_at(t, n, i, "and") || word_at(t, n, i, "xor")) j = i + 3;
    else if (i + 1 < n && ((t[i] == '|' && t[i + 1] == '|') || (t[i] == '&' && t[i + 1] == '&'))) j = i + 2;
    else return 0;
    if (i > 0 && alnum(t[i - 1])) return 0;
    j = skip_spaces(t, n, j);
    size_t a0, a1, b0, b1;
    size_t k = operand(t, n, j, &a0, &a1);
    if (k == j) return 0;
    k = skip_spaces(t, n, k);
    if (k < n && t[k] == '=') k++;
    else if (word_at(t, n, k, "like")) k += 4;
    else return 0;
    k = skip_spaces(t, n, k);
    size_t e = operand(t, n, k, &b0, &b1);
    if (e == k) return 0;
    return a1 - a0 == b1 - b0 && memcmp(t + a0, t + b0, a1 - a0) == 0;
}

/* Does token tk match at t[i..)? */
static int token_at(const unsigned char *t, size_t n, size_t i, const token *tk)
{
    if (tk->len > n - i) return 0;
    size_t j = 0;
    while (j < tk->len && t[i + j] == (unsigned char)tk->text[j]) j++;
    return j == tk->len && !(tk->word && i > 0 && alnum(t[i - 1]));
}

/* Every sign that starts at t[i]; every token tried when `all` (the
 * reference), else the tokens of the position's bigram. */
static void scan_at(const unsigned char *t, size_t n, size_t i, uint16_t *counts, int all)
{
    unsigned char c = t[i];
    if (all) {
        for (size_t k = 0; k < N_TOKENS; k++)
            if (token_at(t, n, i, &tokens[k])) add(counts, tokens[k].kind);
    } else {
        if (one_byte[c]) add(counts, one_byte[c] - 1);
        unsigned k = i + 1 < n ? (unsigned)c << 8 | t[i + 1] : 0;
        if (i + 1 < n && (bigram[k >> 6] >> (k & 63) & 1)) {
            unsigned r = bigram_rank(k);
            for (size_t q = bigram_start[r]; q < bigram_start[r + 1]; q++)
                if (token_at(t, n, i, &tokens[by_bigram[q]])) add(counts, tokens[by_bigram[q]].kind);
        }
    }
    switch (c) {
    case '\'': case '"': case '`': case '<': case '>': case '(': case ')': case ';': case '|': case '$':
    case '{': case '}': case '\\':
        add(counts, VG_PAYLOAD_META);
        break;
    case '\r': case '\n':
        add(counts, VG_PAYLOAD_CRLF);
        break;
    default:
        break;
    }
    if (c == 'o' || c == 'a' || c == 'x' || c == '|' || c == '&') {
        if (tautology_at(t, n, i)) add(counts, VG_PAYLOAD_SQL_TAUTOLOGY);
    }
    if (c == '\'' || c == '"') {
        size_t j = skip_spaces(t, n, i + 1);
        if (j < n && (word_at(t, n, j, "or") || word_at(t, n, j, "and") || t[j] == ')' || t[j] == ';' ||
                      t[j] == '#' || (t[j] == '-' && j + 1 < n && t[j + 1] == '-') || word_at(t, n, j, "union") ||
                      (t[j] == '|' && j + 1 < n && t[j + 1] == '|') || word_at(t, n, j, "order")))
            add(counts, VG_PAYLOAD_SQL_QUOTE);
    }
    if (c == ';' || c == '|' || c == '&' || c == '`' || c == '\n') {
        size_t j = skip_spaces(t, n, i + 1);
        if (j < n && alpha(t[j]) && c == ';')
            for (size_t s = 0; statements[s]; s++)
                if (word_at(t, n, j, statements[s])) {
                    add(counts, VG_PAYLOAD_SQL_STACKED);
                    break;
                }
        if (j < n && (t[j] == '|' || t[j] == '&')) j = skip_spaces(t, n, j + 1);
        for (size_t s = 0; j < n && alpha(t[j]) && commands[s]; s++)  /* every statement and command is a word */
            if ((unsigned char)commands[s][0] == t[j] && word_at(t, n, j, commands[s])) {
                add(counts, VG_PAYLOAD_CMDI);
                break;
            }
    }
    if (c == '<' && i + 1 < n && (alpha(t[i + 1]) || (t[i + 1] == '/' && i + 2 < n && alpha(t[i + 2])) || t[i + 1] == '!'))
        add(counts, VG_PAYLOAD_XSS_TAG);
    if (c == 'o' && i + 1 < n && t[i + 1] == 'n' && (i == 0 || !alpha(t[i - 1]))) {
        size_t j = i + 2;
        while (j < n && alpha(t[j])) j++;
        if (j - i - 2 >= 3) {
            j = skip_spaces(t, n, j);
            if (j < n && t[j] == '=') add(counts, VG_PAYLOAD_XSS_HANDLER);
        }
    }
}

void vg_payload_scan(const char *text, size_t n, uint16_t *counts)
{
    pthread_once(&index_once, build_index);
    const unsigned char *t = (const unsigned char *)text;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = t[i];
        if (special[c]) {
            scan_at(t, n, i, counts, 0);
        } else if (i + 1 < n) {
            unsigned k = (unsigned)c << 8 | t[i + 1];
            if (bigram[k >> 6] >> (k & 63) & 1) scan_at(t, n, i, counts, 0);
        }
    }
}

void vg_payload_scan_full(const char *text, size_t n, uint16_t *counts)
{
    pthread_once(&index_once, build_index);
    for (size_t i = 0; i < n; i++) scan_at((const unsigned char *)text, n, i, counts, 1);
}
