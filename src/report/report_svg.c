/* Text, figures and charts of the HTML report (see report_svg.h). Charts are
 * plain SVG elements sized by a viewBox, styled by the report's stylesheet
 * classes (grid, axis, tick) so print and screen stay consistent. */
#include "report/report_svg.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

void vg_html_put(vg_wbuf *w, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vg_wbuf_vprintf(w, fmt, ap);
    va_end(ap);
}

void vg_html_text(vg_wbuf *w, const char *s)
{
    if (!s) return;
    const char *run = s;
    for (; *s; s++) {
        const char *rep;
        switch (*s) {
        case '&': rep = "&amp;"; break;
        case '<': rep = "&lt;"; break;
        case '>': rep = "&gt;"; break;
        case '"': rep = "&quot;"; break;
        case '\'': rep = "&#39;"; break;
        default:
            /* Control characters have no business in a page; show a
             * replacement rather than pass them to the parser. */
            if ((unsigned char)*s < 0x20 && *s != '\t') rep = "&#xFFFD;";
            else continue;
        }
        vg_wbuf_bytes(w, run, (size_t)(s - run));
        vg_wbuf_bytes(w, rep, strlen(rep));
        run = s + 1;
    }
    vg_wbuf_bytes(w, run, (size_t)(s - run));
}

void vg_html_num(vg_wbuf *w, double v, int decimals)
{
    if (!isfinite(v)) vg_html_put(w, "&ndash;");
    else vg_html_put(w, "%.*f", decimals, v);
}

void vg_html_count(vg_wbuf *w, size_t v)
{
    char digits[32], out[48];
    int n = snprintf(digits, sizeof digits, "%zu", v), k = 0;
    for (int i = 0; i < n; i++) {
        if (i > 0 && (n - i) % 3 == 0) out[k++] = ',';
        out[k++] = digits[i];
    }
    vg_wbuf_bytes(w, out, (size_t)k);
}

const char *vg_svg_color(size_t i)
{
    /* Okabe and Ito's palette without its yellow, which vanishes on white;
     * blue first because it is the accent of the page. */
    static const char *const palette[] = { "#0b6bcb", "#d55e00", "#009e73", "#cc79a7",
                                           "#e69f00", "#56b4e9", "#4d4d4d", "#8c6d31" };
    return palette[i % (sizeof palette / sizeof *palette)];
}

enum { MARGIN_L = 46, MARGIN_R = 14, MARGIN_T = 12, MARGIN_B = 42 };

void vg_svg_curves(vg_wbuf *w, const vg_svg_series *s, size_t n, const vg_svg_chart *c)
{
    double W = c->width > 0 ? c->width : 400, H = c->height > 0 ? c->height : 340;
    double pw = W - MARGIN_L - MARGIN_R, ph = H - MARGIN_T - MARGIN_B;
    double x0 = MARGIN_L, y0 = MARGIN_T + ph;  /* the origin, in SVG units */
    vg_html_put(w, "<svg class=\"chart\" viewBox=\"0 0 %.0f %.0f\" role=\"img\" aria-label=\"", W, H);
    vg_html_text(w, c->title);
    vg_html_put(w, "\">");
    for (int i = 0; i <= 5; i++) {
        double f = i / 5.0, gx = x0 + f * pw, gy = y0 - f * ph;
        vg_html_put(w, "<line class=\"grid\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>", gx, y0, gx, y0 - ph);
        vg_html_put(w, "<line class=\"grid\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>", x0, gy, x0 + pw, gy);
        vg_html_put(w, "<text class=\"tick\" x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">%.1f</text>", gx, y0 + 16, f);
        vg_html_put(w, "<text class=\"tick\" x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">%.1f</text>", x0 - 6, gy + 4, f);
    }
    vg_html_put(w, "<path class=\"axis\" d=\"M%.1f %.1fV%.1fH%.1f\"/>", x0, y0 - ph, y0, x0 + pw);
    if (c->diagonal)
        vg_html_put(w, "<line class=\"chance\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>", x0, y0, x0 + pw,
                    y0 - ph);
    if (c->baseline >= 0 && c->baseline <= 1) {
        double by = y0 - c->baseline * ph;
        vg_html_put(w, "<line class=\"chance\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>", x0, by, x0 + pw, by);
    }
    for (size_t k = 0; k < n; k++) {
        if (s[k].n == 0) continue;
        if (s[k].area) {
            vg_html_put(w, "<path fill=\"%s\" fill-opacity=\"0.08\" d=\"M%.1f %.1f", s[k].color, x0 + s[k].xy[0] * pw,
                        y0);
            for (size_t i = 0; i < s[k].n; i++)
                vg_html_put(w, "L%.1f %.1f", x0 + s[k].xy[2 * i] * pw, y0 - s[k].xy[2 * i + 1] * ph);
            vg_html_put(w, "L%.1f %.1fZ\"/>", x0 + s[k].xy[2 * (s[k].n - 1)] * pw, y0);
        }
        vg_html_put(w, "<polyline fill=\"none\" stroke=\"%s\" stroke-width=\"2\" stroke-linejoin=\"round\"%s points=\"",
                    s[k].color, s[k].dashed ? " stroke-dasharray=\"6 4\"" : "");
        for (size_t i = 0; i < s[k].n; i++)
            vg_html_put(w, "%s%.1f,%.1f", i ? " " : "", x0 + s[k].xy[2 * i] * pw, y0 - s[k].xy[2 * i + 1] * ph);
        vg_html_put(w, "\"/>");
    }
    vg_html_put(w, "<text class=\"label\" x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">", x0 + pw / 2, H - 6);
    vg_html_text(w, c->x_label);
    vg_html_put(w, "</text><text class=\"label\" transform=\"translate(13 %.1f) rotate(-90)\" text-anchor=\"middle\">",
                MARGIN_T + ph / 2);
    vg_html_text(w, c->y_label);
    vg_html_put(w, "</text></svg>");
}

void vg_svg_histograms(vg_wbuf *w, const size_t *counts, size_t rows, size_t bins, const char *const *labels,
                       const char *const *colors, const char *x_label, double mark)
{
    /* One scale for every row, so a class whose scores spread out looks
     * flatter than one whose scores pile up, as it should. */
    double top = 0;
    for (size_t r = 0; r < rows; r++) {
        size_t total = 0;
        for (size_t b = 0; b < bins; b++) total += counts[r * bins + b];
        for (size_t b = 0; total && b < bins; b++) top = fmax(top, sqrt((double)counts[r * bins + b] / (double)total));
    }
    const double W = 600, H = 72, bw = W / (double)bins;
    vg_html_put(w, "<div class=\"hist\">");
    for (size_t r = 0; r < rows; r++) {
        size_t total = 0;
        for (size_t b = 0; b < bins; b++) total += counts[r * bins + b];
        vg_html_put(w, "<div class=\"hrow\"><div class=\"hlab\"><span class=\"sw\" style=\"background:%s\"></span>"
                    "<span class=\"hname\">", colors[r]);
        vg_html_text(w, labels[r]);
        vg_html_put(w, "</span><small>");
        vg_html_count(w, total);
        vg_html_put(w, " rows</small></div><svg viewBox=\"0 0 %.0f %.0f\" preserveAspectRatio=\"none\" "
                    "role=\"img\" aria-label=\"", W, H);
        vg_html_text(w, labels[r]);
        vg_html_put(w, "\"><line class=\"axis\" x1=\"0\" y1=\"%.1f\" x2=\"%.0f\" y2=\"%.1f\"/>", H - 0.5, W, H - 0.5);
        for (size_t b = 0; b < bins; b++) {
            size_t v = counts[r * bins + b];
            double share = total ? (double)v / (double)total : 0;
            double h = top > 0 ? sqrt(share) / top * (H - 4) : 0;
            /* Keep a sliver for non-empty bins so a rare score still shows. */
            if (v > 0 && h < 1.5) h = 1.5;
            vg_html_put(w, "<rect x=\"%.2f\" y=\"%.2f\" width=\"%.2f\" height=\"%.2f\" fill=\"%s\">"
                        "<title>%.2f&ndash;%.2f: ", b * bw + 1, H - 1 - h, bw - 2, h, colors[r],
                        (double)b / (double)bins, (double)(b + 1) / (double)bins);
            vg_html_count(w, v);
            vg_html_put(w, " rows (%.1f%%)</title></rect>", 100 * share);
        }
        if (mark >= 0 && mark <= 1)
            vg_html_put(w, "<line class=\"mark\" x1=\"%.1f\" y1=\"0\" x2=\"%.1f\" y2=\"%.0f\"/>", mark * W,
                        mark * W, H);
        vg_html_put(w, "</svg></div>");
    }
    /* Tick labels in HTML: the bars stretch to the row, text must not. */
    vg_html_put(w, "<div class=\"hrow\"><div class=\"hlab\"></div><div class=\"hx\">");
    for (int i = 0; i <= 4; i++) vg_html_put(w, "<span style=\"left:%d%%\">%.2f</span>", i * 25, i / 4.0);
    vg_html_put(w, "</div></div><div class=\"hrow\"><div class=\"hlab\"></div><div class=\"hxl\">");
    vg_html_text(w, x_label);
    vg_html_put(w, "</div></div></div>");
}
