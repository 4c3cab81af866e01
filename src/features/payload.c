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
                                        "set", "netstat", "print", "uname", NULL };

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

void vg_payload_scan(const char *text, size_t n, uint16_t *counts)
{
    pthread_once(&index_once, build_index);
    const unsigned char *t = (const unsigned char *)text;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = t[i];
        for (size_t k = first[c]; k < first[c + 1]; k++) {
            const token *tk = &tokens[by_first[k]];
            if (tk->len > n - i) continue;
            size_t j = 1;
            while (j < tk->len && t[i + j] == (unsigned char)tk->text[j]) j++;
            if (j < tk->len || (tk->word && i > 0 && alnum(t[i - 1]))) continue;
            add(counts, tk->kind);
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
            if (c == ';')
                for (size_t s = 0; statements[s]; s++)
                    if (word_at(t, n, j, statements[s])) {
                        add(counts, VG_PAYLOAD_SQL_STACKED);
                        break;
                    }
            if (j < n && (t[j] == '|' || t[j] == '&')) j = skip_spaces(t, n, j + 1);
            for (size_t s = 0; commands[s]; s++)
                if (word_at(t, n, j, commands[s])) {
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
}
