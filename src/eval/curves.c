/* ROC and precision-recall curve points (see vigil/curves.h), built on the
 * shared threshold sweep. */
#include "vigil/curves.h"
#include "eval/sweep.h"

#include <math.h>
#include <string.h>

typedef enum { CURVE_ROC, CURVE_PR } curve_kind;

static void set_xy(vg_curve_point *p, curve_kind kind, size_t positives, size_t negatives)
{
    if (kind == CURVE_ROC) {
        p->x = (double)p->fp / (double)negatives;
        p->y = (double)p->tp / (double)positives;
    } else {
        p->x = (double)p->tp / (double)positives;
        /* Only the +inf start has no predicted positives; scikit-learn puts
         * precision 1 there so the curve starts at the top left. */
        p->y = p->tp + p->fp ? (double)p->tp / (double)(p->tp + p->fp) : 1.0;
    }
}

static vg_status build_curve(const uint8_t *is_pos, const float *score, size_t n,
                             curve_kind kind, vg_curve *out)
{
    memset(out, 0, sizeof *out);
    vg_sweep s;
    vg_status st = vg_sweep_init(is_pos, score, 1, n, &s);
    if (st != VG_OK) return st;
    if (s.positives == 0 || (kind == CURVE_ROC && s.negatives == 0)) {
        vg_sweep_free(&s);
        return vg_fail(VG_ERR_DATA, "%s curve: the scores need %s", kind == CURVE_ROC ? "ROC" : "PR",
                       kind == CURVE_ROC ? "both positive and negative rows" : "at least one positive row");
    }
    /* At most one point per row plus the start; counting distinct scores
     * first would cost a second sweep for a saving that does not matter. */
    vg_curve_point *pts = n < SIZE_MAX / sizeof *pts ? vg_malloc((n + 1) * sizeof *pts) : NULL;
    if (!pts) {
        vg_sweep_free(&s);
        return vg_fail(VG_ERR_NOMEM, "curve: out of memory for %zu points", n + 1);
    }
    size_t k = 0;
    pts[k] = (vg_curve_point){ .threshold = INFINITY };
    set_xy(&pts[k++], kind, s.positives, s.negatives);
    float thr;
    size_t tp, fp;
    while (vg_sweep_next(&s, &thr, &tp, &fp)) {
        pts[k] = (vg_curve_point){ .threshold = thr, .tp = tp, .fp = fp };
        set_xy(&pts[k++], kind, s.positives, s.negatives);
    }
    /* Give back the slack when many scores tie; keep the block if that fails. */
    vg_curve_point *shrunk = vg_realloc(pts, k * sizeof *pts);
    out->points = shrunk ? shrunk : pts;
    out->n_points = k;
    out->positives = s.positives;
    out->negatives = s.negatives;
    vg_sweep_free(&s);
    return VG_OK;
}

vg_status vg_roc_curve(const uint8_t *is_pos, const float *score, size_t n, vg_curve *out)
{
    return build_curve(is_pos, score, n, CURVE_ROC, out);
}

vg_status vg_pr_curve(const uint8_t *is_pos, const float *score, size_t n, vg_curve *out)
{
    return build_curve(is_pos, score, n, CURVE_PR, out);
}

void vg_curve_free(vg_curve *c)
{
    if (!c) return;
    vg_free(c->points);
    memset(c, 0, sizeof *c);
}
