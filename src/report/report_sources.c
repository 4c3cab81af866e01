/* The report's log sections (see report_sources.h): per source, headline
 * cards, an events/alerts timeline and the top values as bars whose orange
 * part is the share of alerts; for an alert store, the same kind of cards,
 * timeline and bars from its aggregate counts. Every figure an analyst may
 * want to check against the file carries it in a data- attribute too, so
 * scripts (and the tests) read numbers without parsing the layout. */
#include "report/report_sources.h"
#include "report/report_svg.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

const char vg_report_sources_css[] =
    ".srcs{display:grid;gap:26px}"
    ".src+.src{border-top:1px solid var(--line);padding-top:22px}"
    ".src h3{font-size:15px;overflow-wrap:anywhere;margin-bottom:10px}"
    ".src h3 small{font-weight:400;color:var(--muted);margin-left:8px}"
    ".cards.five{grid-template-columns:repeat(5,minmax(0,1fr))}"
    ".card .v small{font-size:14px;color:var(--muted);font-weight:500;margin-left:4px}"
    ".tops{display:grid;grid-template-columns:repeat(auto-fit,minmax(300px,1fr));gap:22px 36px;margin-top:20px}"
    ".tops.ents{grid-template-columns:repeat(auto-fit,minmax(380px,1fr))}"
    ".tops figcaption small{font-weight:400;color:var(--muted);margin-left:6px}"
    ".bars.sm{grid-template-columns:minmax(60px,1.3fr) minmax(40px,1fr) auto auto;gap:4px 10px;font-size:12.5px}"
    ".bars .r{display:contents}"
    ".bars.sm .b{position:relative;overflow:hidden}"
    ".bars.sm .b i{position:absolute;right:0;top:0;bottom:0;background:#d55e00}"
    ".bars.sm .b.al{background:#d55e00}"
    ".bars .m.hot{color:#d55e00;font-weight:600}"
    ".tl{margin-top:18px}"
    ".tl svg{width:100%;height:auto;display:block}"
    ".tl .bar-e{fill:#0b6bcb;fill-opacity:.75}.tl .bar-a{fill:#d55e00}"
    ".key{display:flex;gap:16px;font-size:12px;color:var(--muted);margin-top:6px;flex-wrap:wrap}"
    ".key span{display:inline-flex;align-items:center;gap:6px}"
    ".bad{color:#d55e00}"
    "#sources-table a{color:inherit;text-decoration:none;border-bottom:1px dotted var(--faint)}"
    "@media (max-width:820px){.cards.five{grid-template-columns:repeat(2,minmax(0,1fr))}}"
    "@media print{.cards.five{grid-template-columns:repeat(5,minmax(0,1fr))}.src{break-inside:avoid}}";

/* "2026-01-01 13:05 UTC" (or a dash for no time). */
static void put_time(vg_wbuf *w, double t)
{
    char buf[48] = "";
    time_t tt = (time_t)floor(t);
    struct tm tm;
    if (isfinite(t) && t > 0 && gmtime_r(&tt, &tm)) strftime(buf, sizeof buf, "%Y-%m-%d %H:%M UTC", &tm);
    vg_html_text(w, *buf ? buf : "\xe2\x80\x93");
}

/* A duration the way people say it: "3 h 12 min", "2 d 4 h". */
static void put_span(vg_wbuf *w, double s)
{
    if (!isfinite(s) || s < 0) vg_html_put(w, "&ndash;");
    else if (s < 60) vg_html_put(w, "%.0f s", s);
    else if (s < 3600) vg_html_put(w, "%.0f min", floor(s / 60));
    else if (s < 86400) vg_html_put(w, "%.0f h %.0f min", floor(s / 3600), floor(fmod(s, 3600) / 60));
    else vg_html_put(w, "%.0f d %.0f h", floor(s / 86400), floor(fmod(s, 86400) / 3600));
}

static double pct(uint64_t part, uint64_t whole) { return whole ? 100.0 * (double)part / (double)whole : NAN; }

/* A headline card; `metric` names it for scripts, value is its raw count. */
static void count_card(vg_wbuf *w, const char *metric, const char *key, uint64_t v, const char *unit)
{
    vg_html_put(w, "<div class=\"card\" data-metric=\"%s\" data-value=\"%llu\"><div class=\"k\">%s</div>"
                "<div class=\"v\">", metric, (unsigned long long)v, key);
    vg_html_count(w, (size_t)v);
    if (unit) vg_html_put(w, "<small>%s</small>", unit);
    vg_html_put(w, "</div><div class=\"d\">");
}

/* One top list as bars. by_alerts: ranked by alerts, the bar all orange and
 * the last column the value's own alert rate; else ranked by events with the
 * alerts' share in orange at the bar's end. */
static void put_top(vg_wbuf *w, const char *id, const char *title, const char *key_name, const vg_summary_table *t,
                    int by_alerts, int with_alerts)
{
    const vg_summary_count *c = by_alerts ? t->by_alerts : t->by_events;
    size_t n = by_alerts ? t->n_by_alerts : t->n_by_events;
    vg_html_put(w, "<figure id=\"%s\"><figcaption>%s<small>", id, title);
    if (by_alerts) {
        vg_html_count(w, t->alerted);
        vg_html_put(w, " with alerts");
    } else {
        vg_html_count(w, t->distinct);
        vg_html_put(w, " distinct");
        if (t->missing) {
            vg_html_put(w, ", ");
            vg_html_count(w, (size_t)t->missing);
            vg_html_put(w, " events without");
        }
    }
    vg_html_put(w, "</small></figcaption>");
    if (n == 0) {
        vg_html_put(w, "<p class=\"note\">%s</p></figure>", by_alerts ? "No alerts." : "No values.");
        return;
    }
    vg_html_put(w, "<div class=\"bars sm\"><div class=\"h\" style=\"text-align:right\">");
    vg_html_text(w, key_name);
    vg_html_put(w, "</div><div class=\"h\">%s</div><div class=\"h\" style=\"text-align:right\">%s</div>"
                "<div class=\"h m\">%s</div>", "",
                by_alerts ? "alerts" : "events", by_alerts ? "rate" : with_alerts ? "alerts" : "");
    uint64_t max = by_alerts ? c[0].alerts : c[0].events;
    for (size_t i = 0; i < n; i++) {
        uint64_t v = by_alerts ? c[i].alerts : c[i].events;
        double wdt = max ? 100.0 * (double)v / (double)max : 0;
        vg_html_put(w, "<div class=\"r\" data-key=\"");
        vg_html_text(w, c[i].key);
        vg_html_put(w, "\" data-events=\"%llu\" data-alerts=\"%llu\"><div class=\"f\" title=\"",
                    (unsigned long long)c[i].events, (unsigned long long)c[i].alerts);
        vg_html_text(w, c[i].key);
        vg_html_put(w, "\">");
        vg_html_text(w, c[i].key);
        if (by_alerts) {
            vg_html_put(w, "</div><div class=\"t\"><div class=\"b al\" style=\"width:%.2f%%\"></div></div>"
                        "<div class=\"n\">", wdt);
            vg_html_count(w, (size_t)c[i].alerts);
            vg_html_put(w, "</div><div class=\"m\">");
            vg_html_num(w, pct(c[i].alerts, c[i].events), 1);
            vg_html_put(w, "%%</div></div>");
            continue;
        }
        double share = c[i].events ? 100.0 * (double)c[i].alerts / (double)c[i].events : 0;
        vg_html_put(w, "</div><div class=\"t\"><div class=\"b\" style=\"width:%.2f%%\">", wdt);
        if (with_alerts && c[i].alerts) vg_html_put(w, "<i style=\"width:%.2f%%;min-width:2px\"></i>", share);
        vg_html_put(w, "</div></div><div class=\"n\">");
        vg_html_count(w, (size_t)c[i].events);
        vg_html_put(w, "</div><div class=\"m%s\">", c[i].alerts ? " hot" : "");
        if (with_alerts) vg_html_count(w, (size_t)c[i].alerts);
        vg_html_put(w, "</div></div>");
    }
    vg_html_put(w, "</div></figure>");
}

/* Counts per time bucket as two bands sharing the x axis: events (blue) on
 * top, alerts (orange) below, each on its own scale because alerts are
 * usually a sliver of the traffic. Hourly counts are merged into wider
 * buckets so at most about 72 bars are drawn. ev may be NULL (alerts only). */
static void put_timeline(vg_wbuf *w, double t0, double seconds, const uint64_t *ev, const uint64_t *al, size_t n)
{
    if (n == 0) return;
    static const int widths[] = { 1, 2, 3, 4, 6, 8, 12, 24, 48, 168, 336, 720 };
    size_t k = 1;
    for (size_t i = 0; i < sizeof widths / sizeof *widths && (n + k - 1) / k > 72; i++) k = (size_t)widths[i];
    while ((n + k - 1) / k > 72) k *= 2;
    size_t nb = (n + k - 1) / k;
    uint64_t me = 0, ma = 0;
    uint64_t be[80] = { 0 }, ba[80] = { 0 };
    for (size_t i = 0; i < n; i++) {
        if (ev) be[i / k] += ev[i];
        ba[i / k] += al[i];
    }
    for (size_t b = 0; b < nb; b++) me = be[b] > me ? be[b] : me, ma = ba[b] > ma ? ba[b] : ma;
    double width = seconds * (double)k;
    const double W = 860, L = 64, R = 8, band = 56, gap = 14, top = 6;
    int bands = ev ? 2 : 1;
    double H = top + bands * band + (bands - 1) * gap + 34, pw = W - L - R, bw = pw / (double)nb;
    vg_html_put(w, "<figure class=\"tl\"><figcaption>%s per ", ev ? "Events and alerts" : "Alerts");
    if (width < 86400) vg_html_put(w, "%.0f h", width / 3600);
    else vg_html_put(w, "%.0f d", width / 86400);
    vg_html_put(w, "</figcaption><svg class=\"chart\" viewBox=\"0 0 %.0f %.0f\" role=\"img\" aria-label=\"%s over "
                "time\">", W, H, ev ? "events and alerts" : "alerts");
    for (int band_i = 0; band_i < bands; band_i++) {
        int is_alerts = !ev || band_i == 1;
        const uint64_t *v = is_alerts ? ba : be;
        uint64_t mx = is_alerts ? ma : me;
        double y0 = top + band_i * (band + gap) + band;
        vg_html_put(w, "<line class=\"axis\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>", L, y0 + 0.5, W - R,
                    y0 + 0.5);
        vg_html_put(w, "<text class=\"tick\" x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">%s</text>", L - 8, y0 - band / 2 + 4,
                    is_alerts ? "alerts" : "events");
        vg_html_put(w, "<text class=\"tick\" x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">max ", L - 8, y0 - band / 2 + 17);
        vg_html_count(w, (size_t)mx);
        vg_html_put(w, "</text>");
        for (size_t b = 0; b < nb; b++) {
            if (!v[b]) continue;
            double h = mx ? (double)v[b] / (double)mx * (band - 2) : 0;
            if (h < 1.5) h = 1.5;  /* a lone alert must still show */
            vg_html_put(w, "<rect class=\"%s\" x=\"%.2f\" y=\"%.2f\" width=\"%.2f\" height=\"%.2f\"><title>",
                        is_alerts ? "bar-a" : "bar-e", L + b * bw + 0.5, y0 - h, bw > 2 ? bw - 1 : bw, h);
            put_time(w, t0 + (double)b * width);
            vg_html_put(w, ": ");
            vg_html_count(w, (size_t)v[b]);
            vg_html_put(w, " %s</title></rect>", is_alerts ? "alerts" : "events");
        }
    }
    /* Start, middle and end of the axis. */
    double yl = H - 12;
    for (int i = 0; i <= 2; i++) {
        double f = i / 2.0, x = L + f * pw;
        vg_html_put(w, "<text class=\"tick\" x=\"%.1f\" y=\"%.1f\" text-anchor=\"%s\">", x, yl,
                    i == 0 ? "start" : i == 1 ? "middle" : "end");
        put_time(w, t0 + f * width * (double)nb);
        vg_html_put(w, "</text>");
    }
    vg_html_put(w, "</svg></figure>");
}

static void put_source(vg_wbuf *w, const vg_source_summary *s, size_t idx)
{
    vg_html_put(w, "<div class=\"src\" id=\"source-%zu\" data-source=\"", idx + 1);
    vg_html_text(w, s->source);
    vg_html_put(w, "\"><h3>");
    vg_html_text(w, s->source);
    vg_html_put(w, "<small>%s log</small></h3><div class=\"cards five\">", s->format);
    count_card(w, "events", "Events", s->events, NULL);
    vg_html_count(w, (size_t)s->lines);
    vg_html_put(w, " lines read");
    if (s->skipped) {
        vg_html_put(w, ", ");
        vg_html_count(w, (size_t)s->skipped);
        vg_html_put(w, " header");
    }
    vg_html_put(w, "</div></div>");
    count_card(w, "bad", "Bad lines", s->bad, NULL);
    if (s->bad) {
        vg_html_put(w, "<span class=\"bad\">first: line %llu, ", (unsigned long long)s->first_bad_line);
        vg_html_text(w, s->first_bad_message);
        vg_html_put(w, "</span>");
    } else {
        vg_html_put(w, "every line parsed");
    }
    vg_html_put(w, "</div></div>");
    vg_html_put(w, "<div class=\"card\" data-metric=\"span\" data-value=\"%.0f\"><div class=\"k\">Time span</div>"
                "<div class=\"v\">", isfinite(s->last_time - s->first_time) ? s->last_time - s->first_time : 0);
    put_span(w, s->last_time - s->first_time);
    vg_html_put(w, "</div><div class=\"d\">");
    put_time(w, s->first_time);
    vg_html_put(w, " to ");
    put_time(w, s->last_time);
    vg_html_put(w, "</div></div>");
    count_card(w, "alerts", "Alerts", s->alerts, NULL);
    vg_html_num(w, pct(s->alerts, s->events), 2);
    vg_html_put(w, "%% of events, score &ge; ");
    vg_html_num(w, s->threshold, 2);
    vg_html_put(w, "</div></div>");
    char key[64];
    snprintf(key, sizeof key, "%ss", s->entity_name);  /* a static name, never data */
    key[0] = (char)toupper((unsigned char)key[0]);
    count_card(w, "entities", key, s->entities.distinct, NULL);
    vg_html_put(w, "distinct, ");
    vg_html_count(w, s->entities.alerted);
    vg_html_put(w, " with alerts</div></div></div>");

    put_timeline(w, s->hour0, 3600, s->hour_events, s->hour_alerts, s->n_hours);
    vg_html_put(w, "<div class=\"key\"><span><i class=\"sw\" style=\"background:#0b6bcb\"></i>events</span>"
                "<span><i class=\"sw\" style=\"background:#d55e00\"></i>alerts</span></div>");

    char id[64], title[96];
    /* Entities get wide columns: user ids and IPv6 addresses are long. */
    vg_html_put(w, "<div class=\"tops ents\">");
    snprintf(id, sizeof id, "source-%zu-entities", idx + 1);
    snprintf(title, sizeof title, "Top %ss by events", s->entity_name);
    put_top(w, id, title, s->entity_name, &s->entities, 0, 1);
    snprintf(id, sizeof id, "source-%zu-entity-alerts", idx + 1);
    snprintf(title, sizeof title, "Top %ss by alerts", s->entity_name);
    put_top(w, id, title, s->entity_name, &s->entities, 1, 1);
    vg_html_put(w, "</div><div class=\"tops\">");
    for (size_t d = 0; d < s->n_dims; d++) {
        snprintf(id, sizeof id, "source-%zu-%s", idx + 1, s->dims[d].field);
        put_top(w, id, s->dims[d].title, s->dims[d].field, &s->dims[d], 0, 1);
    }
    if (s->labels.n_by_events > 1) {
        snprintf(id, sizeof id, "source-%zu-labels", idx + 1);
        put_top(w, id, "Alerts by predicted class", "class", &s->labels, 0, 0);
    }
    vg_html_put(w, "</div></div>");
}

void vg_report_put_sources(vg_wbuf *w, const vg_source_summary *const *s, size_t n)
{
    if (n == 0) return;
    vg_html_put(w, "<section id=\"sources\" class=\"long\"><h2>Sources</h2><p class=\"note\">What each log holds and "
                "what the model raises on it: the alerts are those <code>vigil watch --from-start</code> would raise "
                "on the same file (same features, same threshold). Bars are events; their orange end is the share "
                "that raised an alert.</p><div class=\"srcs\">");
    if (n > 1) {
        /* Several files: one line each first, so the odd one out shows. */
        vg_html_put(w, "<div class=\"scroll\"><table class=\"data\" id=\"sources-table\"><thead><tr><th>source</th>"
                    "<th>events</th><th>bad lines</th><th>from</th><th>to</th><th>alerts</th><th>alert rate</th>"
                    "<th>entities with alerts</th></tr></thead><tbody>");
        for (size_t i = 0; i < n; i++) {
            vg_html_put(w, "<tr><td><a href=\"#source-%zu\">", i + 1);
            vg_html_text(w, s[i]->source);
            vg_html_put(w, "</a></td><td>");
            vg_html_count(w, (size_t)s[i]->events);
            vg_html_put(w, "</td><td%s>", s[i]->bad ? " class=\"bad\"" : "");
            vg_html_count(w, (size_t)s[i]->bad);
            vg_html_put(w, "</td><td>");
            put_time(w, s[i]->first_time);
            vg_html_put(w, "</td><td>");
            put_time(w, s[i]->last_time);
            vg_html_put(w, "</td><td>");
            vg_html_count(w, (size_t)s[i]->alerts);
            vg_html_put(w, "</td><td>");
            vg_html_num(w, pct(s[i]->alerts, s[i]->events), 2);
            vg_html_put(w, "%%</td><td>");
            vg_html_count(w, s[i]->entities.alerted);
            vg_html_put(w, "</td></tr>");
        }
        vg_html_put(w, "</tbody></table></div>");
    }
    for (size_t i = 0; i < n; i++) put_source(w, s[i], i);
    vg_html_put(w, "</div></section>");
}

/* One list of alert-store groups as bars (all alerts, so no orange share). */
static void put_groups(vg_wbuf *w, const char *id, const char *title, const char *key_name, const vg_alert_group *g,
                       size_t n, uint64_t total)
{
    vg_html_put(w, "<figure id=\"%s\"><figcaption>%s</figcaption>", id, title);
    if (n == 0) {
        vg_html_put(w, "<p class=\"note\">None.</p></figure>");
        return;
    }
    vg_html_put(w, "<div class=\"bars sm\"><div class=\"h\" style=\"text-align:right\">%s</div><div class=\"h\">alerts"
                "</div><div class=\"h\" style=\"text-align:right\">alerts</div><div class=\"h m\">share</div>",
                key_name);
    for (size_t i = 0; i < n; i++) {
        const char *key = g[i].key && *g[i].key ? g[i].key : "(none)";
        vg_html_put(w, "<div class=\"r\" data-key=\"");
        vg_html_text(w, g[i].key);
        vg_html_put(w, "\" data-alerts=\"%llu\"><div class=\"f\" title=\"", (unsigned long long)g[i].n);
        vg_html_text(w, key);
        vg_html_put(w, "\">");
        vg_html_text(w, key);
        vg_html_put(w, "</div><div class=\"t\"><div class=\"b al\" style=\"width:%.2f%%\"></div></div><div class=\"n\">",
                    g[0].n ? 100.0 * (double)g[i].n / (double)g[0].n : 0);
        vg_html_count(w, (size_t)g[i].n);
        vg_html_put(w, "</div><div class=\"m\">");
        vg_html_num(w, pct(g[i].n, total), 1);
        vg_html_put(w, "%%</div></div>");
    }
    vg_html_put(w, "</div></figure>");
}

void vg_report_put_alert_store(vg_wbuf *w, const vg_alert_summary *a, const char *path)
{
    vg_html_put(w, "<section id=\"alert-store\"><h2>Alert store</h2><p class=\"note\">The alerts ");
    vg_html_put(w, "<code>vigil watch --alerts</code> stored in <b>");
    vg_html_text(w, path);
    vg_html_put(w, "</b>, by their event time. List them with <code>vigil alerts --db</code>.</p>"
                "<div class=\"cards five\">");
    count_card(w, "alerts", "Alerts", a->total, NULL);
    vg_html_put(w, "stored</div></div>");
    vg_html_put(w, "<div class=\"card\" data-metric=\"span\" data-value=\"%.0f\"><div class=\"k\">Time span</div>"
                "<div class=\"v\">", a->total ? a->last - a->first : 0);
    put_span(w, a->total ? a->last - a->first : NAN);
    vg_html_put(w, "</div><div class=\"d\">");
    put_time(w, a->first);
    vg_html_put(w, " to ");
    put_time(w, a->last);
    vg_html_put(w, "</div></div>");
    count_card(w, "sources", "Sources", a->n_sources, NULL);
    vg_html_put(w, "files or streams</div></div>");
    count_card(w, "labels", "Labels", a->n_labels, NULL);
    vg_html_put(w, "predicted classes</div></div>");
    count_card(w, "models", "Models", a->n_models, NULL);
    vg_html_put(w, "that raised them</div></div></div>");
    if (a->total == 0) {
        vg_html_put(w, "<p class=\"note\" style=\"margin-top:14px\">The store holds no alerts yet.</p></section>");
        return;
    }
    /* The store's buckets are hours or days; the timeline merges as needed. */
    put_timeline(w, a->bucket0, a->bucket_seconds, NULL, a->buckets, a->n_buckets);
    vg_html_put(w, "<div class=\"tops\">");
    put_groups(w, "alert-store-sources", "Alerts per source", "source", a->sources, a->n_sources, a->total);
    put_groups(w, "alert-store-labels", "Alerts per label", "label", a->labels, a->n_labels, a->total);
    put_groups(w, "alert-store-entities", "Top entities", "entity", a->entities, a->n_entities, a->total);
    if (a->n_models > 1) put_groups(w, "alert-store-models", "Alerts per model", "model", a->models, a->n_models, a->total);
    vg_html_put(w, "</div></section>");
}
