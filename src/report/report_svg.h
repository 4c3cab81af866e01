/* Writing the HTML report: escaped text, figures, and the charts drawn as
 * inline SVG (curves in the unit square, per-class score histograms), so a
 * report needs no script, no font and no network. Internal to the library. */
#ifndef VG_REPORT_REPORT_SVG_H
#define VG_REPORT_REPORT_SVG_H

#include <stddef.h>
#include "vigil/buf.h"

/* printf-style text appended as is (the caller's markup, never data). */
void vg_html_put(vg_wbuf *w, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Text from data (class and field names, paths), escaped for element
 * content and attribute values alike. NULL writes nothing. */
void vg_html_text(vg_wbuf *w, const char *s);
/* A figure with `decimals` decimals; NaN and infinities read as a dash, so
 * no report ever shows "nan". */
void vg_html_num(vg_wbuf *w, double v, int decimals);
/* A count with thousands separators: 22,544. */
void vg_html_count(vg_wbuf *w, size_t v);

/* One polyline of a chart. */
typedef struct vg_svg_series {
    const double *xy;   /* n x, y pairs in [0, 1] */
    size_t n;
    const char *color;  /* CSS colour */
    int dashed;
    int area;           /* shade the area under the line (a lone ROC curve) */
} vg_svg_series;

typedef struct vg_svg_chart {
    int width, height;           /* viewBox size; the SVG scales to its box */
    const char *x_label, *y_label;
    const char *title;           /* accessible name of the figure */
    int diagonal;                /* draw the y = x line (a ROC curve's chance) */
    double baseline;             /* draw y = baseline when in [0, 1] (PR's chance); else none */
} vg_svg_chart;

/* Curves over [0, 1] x [0, 1] with a grid, ticks and axis titles. */
void vg_svg_curves(vg_wbuf *w, const vg_svg_series *s, size_t n, const vg_svg_chart *c);

/* One small histogram per row of counts (rows x bins over [0, 1]), stacked
 * and sharing the x axis; a bar's height is the square root of its share of
 * the row's total (mass piles up at 0 and 1; tails would vanish on a linear
 * scale), on one scale for all rows. mark: a dashed line at that x (a decision threshold)
 * when in [0, 1]. Labels come from data and are escaped. */
void vg_svg_histograms(vg_wbuf *w, const size_t *counts, size_t rows, size_t bins, const char *const *labels,
                       const char *const *colors, const char *x_label, double mark);

/* The colour of series i from a palette safe for colour-blind readers. */
const char *vg_svg_color(size_t i);

#endif
