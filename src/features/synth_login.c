/* `vigil synth --format login`: synthetic login events in the RBA data set's
 * 16-column CSV, with ground truth.
 *
 * Background: users with a home country and ISP, one to three devices (a user
 * agent each), one or two home IPs that sometimes change, activity that
 * follows the time of day, typing mistakes (a failure, usually followed by a
 * success seconds later), occasional trips abroad and new devices.
 * Attacks, each setting "Is Attack IP" on every line and "Is Account
 * Takeover" on a line where the attacker gets in:
 *   credential_stuffing  a campaign over many accounts (some nonexistent), one
 *                        or two attempts each, from a few attacker IPs, one
 *                        tool, mostly failures;
 *   brute_force          one account, dozens of failures seconds apart from one
 *                        IP, sometimes ending in a success;
 *   account_takeover     an account entered from a new country, ASN and device,
 *                        after a few failures;
 *   session_hijack       the user works from home while someone with the
 *                        password and a copy of the user's browser logs in
 *                        from abroad, minutes apart, turn about. Each foreign
 *                        login alone looks like a traveller's (the user's own
 *                        device, a success; after the first, a country, IP
 *                        and network already seen, minutes after the last
 *                        login as a traveller's are); only the sequence, a
 *                        login from home minutes before each one, gives it
 *                        away: the attack for the sequence models.
 * Events are generated, then sorted by time, then written; the truth file
 * gets "LINE,KIND" for attack lines (LINE counts the header as line 1).
 * Everything derives from params->seed, so a seed always writes the same file. */
#include "vigil/rng.h"
#include "vigil/synth.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define MAX_EVENTS 20000000u
#define SPAN_DAYS 30.0
#define MAX_USER_DEVICES 4

enum kind { K_NORMAL, K_STUFFING, K_BRUTE, K_TAKEOVER, K_HIJACK };
static const char *const kind_names[] = { "normal", "credential_stuffing", "brute_force", "account_takeover",
                                          "session_hijack" };

/* Networks: home ISPs per country (also where travellers log in from) and
 * attacker-heavy hosting networks. The /16 prefixes are made up. */
typedef struct net {
    unsigned asn;
    const char *cc;
    unsigned char a, b;   /* IPv4 prefix a.b.0.0/16 */
    unsigned char hosting;
} net;

static const net nets[] = {
    { 29695, "NO", 81, 167, 0 },  { 2119, "NO", 84, 208, 0 },  { 41164, "NO", 46, 212, 0 },
    { 15659, "NO", 80, 202, 0 },  { 7922, "US", 73, 15, 0 },   { 701, "US", 108, 20, 0 },
    { 7018, "US", 99, 105, 0 },   { 3301, "SE", 78, 67, 0 },   { 3320, "DE", 79, 192, 0 },
    { 2856, "GB", 86, 128, 0 },   { 3215, "FR", 90, 35, 0 },   { 3352, "ES", 83, 44, 0 },
    { 3269, "IT", 79, 20, 0 },    { 5617, "PL", 83, 24, 0 },   { 1136, "NL", 77, 160, 0 },
    { 14061, "US", 167, 99, 1 },  { 16276, "FR", 51, 75, 1 },  { 4134, "CN", 116, 231, 1 },
    { 12389, "RU", 95, 165, 1 },  { 45899, "VN", 113, 176, 1 }, { 396982, "US", 34, 102, 1 },
    { 9009, "RO", 185, 220, 1 },  { 200019, "MD", 176, 123, 1 }, { 17974, "ID", 36, 71, 1 },
    { 28573, "BR", 177, 36, 1 },
};
#define N_NETS (sizeof nets / sizeof *nets)

/* Home-country shares of the users, in the spirit of the RBA data (mostly NO). */
static const struct { const char *cc; double w; } homes[] = {
    { "NO", 0.55 }, { "US", 0.12 }, { "SE", 0.06 }, { "DE", 0.06 }, { "GB", 0.05 },
    { "FR", 0.04 }, { "ES", 0.03 }, { "IT", 0.03 }, { "PL", 0.03 }, { "NL", 0.03 },
};
#define N_HOMES (sizeof homes / sizeof *homes)

static const char *const no_places[][2] = { { "Oslo County", "Oslo" }, { "Vestland", "Bergen" },
                                            { "Rogaland", "Stavanger" }, { "Trondelag", "Trondheim" },
                                            { "Viken", "Drammen" } };

/* Device templates: a device is a template plus version numbers, packed in
 * 32 bits (template 8, major 8, build 16). The last two are attack tools. */
enum { T_CHROME_WIN, T_CHROME_MAC, T_FIREFOX_WIN, T_SAFARI_IOS, T_CHROME_ANDROID, T_SAMSUNG_TAB, T_EDGE_WIN,
       T_CHROME_OS, N_LEGIT, T_PYTHON = N_LEGIT, T_HEADLESS };

typedef struct user {
    int64_t id;
    double weight;        /* cumulative activity weight, for picking users */
    double trip_t;        /* time of the trip's last login: a trip's logins follow one another */
    uint32_t ips[2];
    uint32_t devices[MAX_USER_DEVICES];
    uint8_t n_ips, n_devices, home_net, trip_net, trip_left;
} user;

typedef struct event {
    double t;
    int64_t uid;
    uint32_t seq;         /* generation order: ties in time keep it */
    uint32_t ip;
    uint32_t device;
    uint16_t rtt;         /* ms, 0 = not measured */
    uint8_t net, kind, success, takeover, place;
} event;

typedef struct gen {
    vg_rng rng;
    const vg_synth_params *p;
    user *users;
    size_t n_users;
    event *ev;
    size_t n_ev, cap_ev;
    double t0, span;
} gen;

static double unif(gen *g)
{
    return vg_rng_uniform(&g->rng);
}

static uint32_t below(gen *g, uint32_t n)
{
    return vg_rng_below(&g->rng, n);
}

static double expo(gen *g, double mean)
{
    return -mean * log(1.0 - unif(g));
}

static unsigned net_of_country(gen *g, const char *cc)
{
    unsigned idx[N_NETS], n = 0;
    for (unsigned i = 0; i < N_NETS; i++)
        if (!nets[i].hosting && strcmp(nets[i].cc, cc) == 0) idx[n++] = i;
    return idx[below(g, n)];
}

static unsigned residential_net(gen *g)
{
    unsigned i;
    do i = below(g, N_NETS);
    while (nets[i].hosting);
    return i;
}

static unsigned hosting_net(gen *g)
{
    unsigned i;
    do i = below(g, N_NETS);
    while (!nets[i].hosting);
    return i;
}

static uint32_t ip_in(gen *g, unsigned net_idx)
{
    return (uint32_t)nets[net_idx].a << 24 | (uint32_t)nets[net_idx].b << 16 | (1 + below(g, 65534));
}

static uint32_t new_device(gen *g, unsigned tpl)
{
    uint32_t major = tpl == T_FIREFOX_WIN ? 60 + below(g, 25) : tpl == T_PYTHON ? below(g, 28) : 70 + below(g, 18);
    return tpl << 24 | major << 16 | below(g, 5000);
}

static uint32_t legit_device(gen *g)
{
    /* Rough market shares: Chrome on Windows and phones dominate. */
    static const double w[N_LEGIT] = { 0.26, 0.12, 0.08, 0.18, 0.2, 0.04, 0.07, 0.05 };
    double u = unif(g), acc = 0;
    unsigned tpl = 0;
    for (; tpl + 1 < N_LEGIT; tpl++)
        if ((acc += w[tpl]) > u) break;
    return new_device(g, tpl);
}

static int64_t random_uid(gen *g)
{
    return (int64_t)vg_rng_next(&g->rng);
}

static vg_status push(gen *g, event e)
{
    if (g->n_ev == g->cap_ev) {
        size_t cap = g->cap_ev ? g->cap_ev * 2 : 1024;
        event *n = vg_realloc(g->ev, cap * sizeof *n);
        if (!n) return vg_fail(VG_ERR_NOMEM, "out of memory for %zu synthetic events", cap);
        g->ev = n;
        g->cap_ev = cap;
    }
    e.seq = (uint32_t)g->n_ev;
    g->ev[g->n_ev++] = e;
    return VG_OK;
}

static vg_status make_users(gen *g, size_t n_background)
{
    g->n_users = VG_MAX((size_t)20, n_background / 40);
    g->users = vg_calloc(g->n_users, sizeof *g->users);
    if (!g->users) return vg_fail(VG_ERR_NOMEM, "out of memory for synthetic users");
    double acc = 0;
    for (size_t i = 0; i < g->n_users; i++) {
        user *u = &g->users[i];
        u->id = random_uid(g);
        /* Heavy-tailed activity: a few users log in very often. */
        acc += exp(vg_rng_normal(&g->rng) * 1.0);
        u->weight = acc;
        double x = unif(g), c = 0;
        size_t h = 0;
        for (; h + 1 < N_HOMES; h++)
            if ((c += homes[h].w) > x) break;
        u->home_net = (uint8_t)net_of_country(g, homes[h].cc);
        u->n_ips = (uint8_t)(1 + (unif(g) < 0.4));
        for (unsigned k = 0; k < u->n_ips; k++) u->ips[k] = ip_in(g, u->home_net);
        u->n_devices = (uint8_t)(1 + (unif(g) < 0.5) + (unif(g) < 0.2));
        for (unsigned k = 0; k < u->n_devices; k++) u->devices[k] = legit_device(g);
    }
    return VG_OK;
}

static user *pick_user(gen *g)
{
    double x = unif(g) * g->users[g->n_users - 1].weight;
    size_t lo = 0, hi = g->n_users - 1;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (g->users[mid].weight > x) hi = mid;
        else lo = mid + 1;
    }
    return &g->users[lo];
}

/* A time in the span, more likely by day (UTC 6-22) than at night. */
static double diurnal_time(gen *g)
{
    for (;;) {
        double t = g->t0 + unif(g) * g->span;
        double hour = fmod(t, 86400.0) / 3600.0;
        double w = 0.15 + 0.85 * exp(-0.5 * pow((hour - 14.0) / 4.0, 2));
        if (unif(g) < w) return t;
    }
}

static vg_status background_event(gen *g, double t, size_t *left)
{
    user *u = pick_user(g);
    event e = { .t = t, .uid = u->id, .kind = K_NORMAL, .success = 1 };
    if (u->trip_left == 0 && unif(g) < 0.02) {  /* about one login in ten is on a trip */
        u->trip_net = (uint8_t)residential_net(g);
        u->trip_left = (uint8_t)(2 + below(g, 6));
    }
    if (unif(g) < 0.004) {  /* a new phone or laptop */
        uint32_t d = legit_device(g);
        if (u->n_devices < MAX_USER_DEVICES) u->devices[u->n_devices++] = d;
        else u->devices[below(g, MAX_USER_DEVICES)] = d;
    }
    if (u->trip_left) {
        /* A trip is one short stretch of time, its logins minutes apart
         * (checking in, booking, paying), not scattered over the month
         * between logins from home. */
        if (u->trip_t > 0) e.t = t = u->trip_t + 120 + expo(g, 600);
        u->trip_t = --u->trip_left ? t : 0;
        e.net = u->trip_net;
        e.ip = ip_in(g, e.net);
    } else {
        e.net = u->home_net;
        if (unif(g) < 0.05) u->ips[below(g, u->n_ips)] = ip_in(g, u->home_net);  /* dynamic address */
        e.ip = u->ips[below(g, u->n_ips)];
        if (strcmp(nets[e.net].cc, "NO") == 0 && unif(g) < 0.4) e.place = (uint8_t)(1 + below(g, 5));
    }
    e.device = u->devices[unif(g) < 0.7 ? 0 : below(g, u->n_devices)];
    if (unif(g) < 0.08) e.rtt = (uint16_t)fmin(60000.0, 200 + expo(g, 500));
    /* A mistyped password, then usually the right one a few seconds later. */
    if (unif(g) < 0.06) {
        e.success = 0;
        vg_status st = push(g, e);
        if (st || *left == 0 || unif(g) >= 0.85) return st;
        (*left)--;
        e.t = t + 2 + expo(g, 8);
        e.success = 1;
        return push(g, e);
    }
    return push(g, e);
}

/* One attack line; n counts down the attack budget. */
static vg_status attack(gen *g, double t, int64_t uid, uint32_t ip, unsigned net_idx, uint32_t device, int kind,
                        int success, size_t *n)
{
    if (*n == 0) return VG_OK;
    (*n)--;
    event e = { .t = t, .uid = uid, .ip = ip, .net = (uint8_t)net_idx, .device = device, .kind = (uint8_t)kind,
                .success = (uint8_t)success, .takeover = (uint8_t)success };
    return push(g, e);
}

static uint32_t attack_tool(gen *g)
{
    double x = unif(g);
    if (x < 0.15) return new_device(g, T_PYTHON);
    if (x < 0.25) return new_device(g, T_HEADLESS);
    return legit_device(g);  /* spoofed browser */
}

static unsigned attacker_net(gen *g)
{
    return unif(g) < 0.2 ? residential_net(g) : hosting_net(g);
}

static vg_status stuffing(gen *g, size_t *n)
{
    double t = g->t0 + unif(g) * g->span;
    unsigned n_ips = 1 + below(g, 3);
    uint32_t ips[3];
    unsigned ip_nets[3];
    for (unsigned k = 0; k < n_ips; k++) ips[k] = ip_in(g, ip_nets[k] = attacker_net(g));
    uint32_t tool = attack_tool(g);
    unsigned targets = 20 + below(g, 60);
    vg_status st = VG_OK;
    for (unsigned k = 0; k < targets && *n && !st; k++) {
        int64_t uid = unif(g) < 0.7 ? pick_user(g)->id : random_uid(g);
        unsigned tries = 1 + (unif(g) < 0.3);
        for (unsigned r = 0; r < tries && *n && !st; r++) {
            unsigned w = below(g, n_ips);
            t += 0.5 + expo(g, 2.0);
            st = attack(g, t, uid, ips[w], ip_nets[w], tool, K_STUFFING, unif(g) < 0.03, n);
        }
    }
    return st;
}

static vg_status brute_force(gen *g, size_t *n)
{
    double t = g->t0 + unif(g) * g->span;
    unsigned net_idx = attacker_net(g);
    uint32_t ip = ip_in(g, net_idx), tool = attack_tool(g);
    int64_t uid = pick_user(g)->id;
    unsigned tries = 15 + below(g, 100);
    int wins = unif(g) < 0.2;
    vg_status st = VG_OK;
    for (unsigned k = 0; k < tries && *n && !st; k++) {
        t += 0.5 + expo(g, 1.5);
        st = attack(g, t, uid, ip, net_idx, tool, K_BRUTE, wins && k + 1 == tries, n);
    }
    return st;
}

static vg_status takeover(gen *g, size_t *n)
{
    double t = g->t0 + unif(g) * g->span;
    user *u = pick_user(g);
    unsigned net_idx;
    do net_idx = attacker_net(g);
    while (strcmp(nets[net_idx].cc, nets[u->home_net].cc) == 0);
    uint32_t ip = ip_in(g, net_idx), device = legit_device(g);
    unsigned fails = below(g, 4);
    vg_status st = VG_OK;
    for (unsigned k = 0; k <= fails && *n && !st; k++) {
        t += 5 + expo(g, 30);
        st = attack(g, t, u->id, ip, net_idx, device, K_TAKEOVER, k == fails, n);
    }
    return st;
}

static vg_status hijack(gen *g, size_t *n)
{
    double t = diurnal_time(g);
    user *u = pick_user(g);
    unsigned net_idx;
    do net_idx = residential_net(g);
    while (strcmp(nets[net_idx].cc, nets[u->home_net].cc) == 0);
    const uint32_t device = u->devices[0];
    const unsigned rounds = 3 + below(g, 5);
    vg_status st = VG_OK;
    /* Minutes after the user, as a traveller's logins follow one another;
     * the attacker rotates addresses in one residential network abroad, as
     * a traveller's phone gets a new one at each login. */
    for (unsigned k = 0; k < rounds && *n && !st; k++) {
        t += 1800 + expo(g, 4 * 3600);
        (*n)--;  /* the user, at home: one of the episode's lines, labelled normal */
        event e = { .t = t, .uid = u->id, .ip = u->ips[below(g, u->n_ips)], .net = u->home_net, .device = device,
                    .success = 1 };
        if ((st = push(g, e)) || !*n) break;
        t += 120 + expo(g, 600);
        st = attack(g, t, u->id, ip_in(g, net_idx), net_idx, device, K_HIJACK, 1, n);
    }
    return st;
}

static int cmp_event(const void *a, const void *b)
{
    const event *x = a, *y = b;
    if (x->t != y->t) return x->t < y->t ? -1 : 1;
    return (x->seq > y->seq) - (x->seq < y->seq);
}

/* ---- writing --------------------------------------------------------------- */

static void write_time(FILE *f, double t)
{
    int64_t ms = (int64_t)llround(t * 1000.0);
    int64_t secs = ms / 1000, days = secs / 86400, rem = secs % 86400;
    /* civil_from_days */
    int64_t z = days + 719468, era = (z >= 0 ? z : z - 146096) / 146097;
    unsigned doe = (unsigned)(z - era * 146097);
    unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t y = (int64_t)yoe + era * 400;
    unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    unsigned mp = (5 * doy + 2) / 153, d = doy - (153 * mp + 2) / 5 + 1, m = mp < 10 ? mp + 3 : mp - 9;
    y += m <= 2;
    fprintf(f, "%04lld-%02u-%02u %02u:%02u:%02u.%03u", (long long)y, m, d, (unsigned)(rem / 3600),
            (unsigned)(rem / 60 % 60), (unsigned)(rem % 60), (unsigned)(ms % 1000));
}

/* User agent, browser, OS and device type columns of a packed device. */
static void write_device(FILE *f, uint32_t dev)
{
    unsigned tpl = dev >> 24, major = dev >> 16 & 0xff, build = dev & 0xffff;
    unsigned b = 3000 + build, patch = build % 211;
    switch (tpl) {
    case T_CHROME_WIN:
        fprintf(f, "\"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
                   "Chrome/%u.0.%u.%u Safari/537.36\",Chrome %u.0.%u,Windows 10,desktop", major, b, patch, major, b);
        break;
    case T_CHROME_MAC:
        fprintf(f, "\"Mozilla/5.0 (Macintosh; Intel Mac OS X 10_%u_%u) AppleWebKit/537.36 (KHTML, like Gecko) "
                   "Chrome/%u.0.%u.%u Safari/537.36\",Chrome %u.0.%u,Mac OS X 10.%u.%u,desktop",
                12 + build % 4, build % 7, major, b, patch, major, b, 12 + build % 4, build % 7);
        break;
    case T_FIREFOX_WIN:
        fprintf(f, "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:%u.0) Gecko/20100101 Firefox/%u.0,"
                   "Firefox %u.0,Windows 10,desktop", major, major, major);
        break;
    case T_SAFARI_IOS:
        fprintf(f, "\"Mozilla/5.0 (iPhone; CPU iPhone OS 13_%u like Mac OS X) AppleWebKit/605.1.15 (KHTML, like "
                   "Gecko) Version/13.%u Mobile/15E148 Safari/604.1\",Mobile Safari 13.%u,iOS 13.%u,mobile",
                build % 7, build % 2, build % 2, build % 7);
        break;
    case T_CHROME_ANDROID:
        fprintf(f, "\"Mozilla/5.0 (Linux; Android 10; SM-G97%uF) AppleWebKit/537.36 (KHTML, like Gecko) "
                   "Chrome/%u.0.%u.%u Mobile Safari/537.36\",Chrome Mobile %u.0.%u,Android 10,mobile",
                build % 10, major, b, patch, major, b);
        break;
    case T_SAMSUNG_TAB:
        fprintf(f, "\"Mozilla/5.0 (Linux; Android 9; SM-T%u) AppleWebKit/537.36 (KHTML, like Gecko) "
                   "SamsungBrowser/12.%u Chrome/79.0.3945.136 Safari/537.36\",Samsung Internet 12.%u,Android 9,tablet",
                500 + build % 400, build % 2, build % 2);
        break;
    case T_EDGE_WIN:
        fprintf(f, "\"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
                   "Chrome/%u.0.%u.%u Safari/537.36 Edg/%u.0.%u.%u\",Edge %u.0.%u,Windows 10,desktop",
                major, b, patch, major, b, patch, major, b);
        break;
    case T_CHROME_OS:
        fprintf(f, "\"Mozilla/5.0 (X11; CrOS x86_64 13020.%u.3) AppleWebKit/537.36 (KHTML, like Gecko) "
                   "Chrome/%u.0.%u.%u Safari/537.36\",Chrome %u.0.%u,Chrome OS 13020.%u.3,desktop",
                build % 90, major, b, patch, major, b, build % 90);
        break;
    case T_PYTHON:
        fprintf(f, "python-requests/2.%u.0,Python Requests 2.%u,Other,bot", major, major);
        break;
    default:
        fprintf(f, "\"Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/%u.0.%u.%u"
                   " Safari/537.36\",HeadlessChrome %u.0.%u,Linux,desktop", major, b, patch, major, b);
        break;
    }
}

static vg_status write_all(gen *g, FILE *out)
{
    static const char header[] = "index,Login Timestamp,User ID,Round-Trip Time [ms],IP Address,Country,Region,City,"
                                 "ASN,User Agent String,Browser Name and Version,OS Name and Version,Device Type,"
                                 "Login Successful,Is Attack IP,Is Account Takeover\n";
    fputs(header, out);
    for (size_t i = 0; i < g->n_ev; i++) {
        const event *e = &g->ev[i];
        const net *nt = &nets[e->net];
        fprintf(out, "%zu,", i);
        write_time(out, e->t);
        fprintf(out, ",%lld,", (long long)e->uid);
        if (e->rtt) fprintf(out, "%u.0", e->rtt);
        fprintf(out, ",%u.%u.%u.%u,%s,", e->ip >> 24, e->ip >> 16 & 0xff, e->ip >> 8 & 0xff, e->ip & 0xff, nt->cc);
        if (e->place) fprintf(out, "%s,%s", no_places[e->place - 1][0], no_places[e->place - 1][1]);
        else fputs("-,-", out);
        fprintf(out, ",%u,", nt->asn);
        write_device(out, e->device);
        fprintf(out, ",%s,%s,%s\n", e->success ? "True" : "False", e->kind != K_NORMAL ? "True" : "False",
                e->takeover ? "True" : "False");
        if (g->p->truth && e->kind != K_NORMAL) fprintf(g->p->truth, "%zu,%s\n", i + 2, kind_names[e->kind]);
    }
    if (ferror(out) || (g->p->truth && ferror(g->p->truth))) return vg_fail(VG_ERR_IO, "write failed");
    return VG_OK;
}

static vg_status synth_login_write(FILE *out, const vg_synth_params *p)
{
    if (p->events == 0 || p->events > MAX_EVENTS)
        return vg_fail(VG_ERR_LIMIT, "--events must be in 1..%u", MAX_EVENTS);
    if (!(p->attack_fraction >= 0 && p->attack_fraction <= 1))
        return vg_fail(VG_ERR_INVALID, "--attack-fraction must be in [0, 1]");
    gen g = { .p = p, .t0 = p->start_time, .span = SPAN_DAYS * 86400.0 };
    vg_rng_seed(&g.rng, p->seed, 0x6c6f67696eu);  /* its own stream: the bytes of the word login */
    size_t n_attack = (size_t)llround(p->attack_fraction * (double)p->events);
    size_t n_background = p->events - n_attack;
    vg_status st = make_users(&g, n_background);
    size_t left = n_background;
    while (!st && left) {
        left--;
        st = background_event(&g, diurnal_time(&g), &left);
    }
    /* Each kind gets its share of the attack lines (stuffing is the bulk of
     * real attack traffic); episodes of a kind run until its share is used. */
    size_t budget[4];
    budget[0] = (size_t)llround(0.40 * (double)n_attack);
    budget[1] = (size_t)llround(0.30 * (double)n_attack);
    budget[2] = (size_t)llround(0.15 * (double)n_attack);
    budget[3] = n_attack - budget[0] - budget[1] - budget[2];
    while (!st && budget[0]) st = stuffing(&g, &budget[0]);
    while (!st && budget[1]) st = brute_force(&g, &budget[1]);
    while (!st && budget[2]) st = takeover(&g, &budget[2]);
    while (!st && budget[3]) st = hijack(&g, &budget[3]);
    if (!st) {
        qsort(g.ev, g.n_ev, sizeof *g.ev, cmp_event);
        st = write_all(&g, out);
    }
    vg_free(g.ev);
    vg_free(g.users);
    return st;
}

const vg_synth_generator vg_synth_login = {
    .format = &vg_format_login,
    .summary = "RBA login-data CSV (16 columns, header): users with home countries, devices and daily "
               "rhythms, typos, travel, new devices; attacks: credential_stuffing, brute_force, "
               "account_takeover, session_hijack (only its sequence shows), marked in the 'Is Attack IP' and "
               "'Is Account Takeover' columns",
    .write = synth_login_write,
};
