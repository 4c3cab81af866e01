/* Choosing a threshold by a goal (see vigil/operating_point.h).
 *
 * One walk down the ROC curve (one point per distinct score, highest first)
 * visits every threshold a score can give; each goal is a rule for keeping
 * the best point seen. A point's threshold is a score itself, so flagging
 * score >= threshold reproduces its counts exactly. The first point of the
 * curve (threshold +inf, nothing flagged) stands for "nothing": it becomes
 * the next float above the highest score, as a saved threshold must be finite. */
#include "vigil/operating_point.h"
#include "vigil/curves.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int parse_fraction(const char *s, double *v)
{
    char *end;
    *v = strtod(s, &end);
    return end != s && *end == '\0' && isfinite(*v);
}

vg_status vg_operating_point_parse(const char *s, vg_operating_point *out)
{
    memset(out, 0, sizeof *out);
    if (!s) return vg_fail(VG_ERR_INVALID, "--threshold-by: missing goal");
    static const char expected[] = "fpr:F, recall:R, f1, cost:FN=a,FP=b or alerts:R";
    if (strcmp(s, "f1") == 0) {
        out->goal = VG_OP_F1;
        return VG_OK;
    }
    const char *colon = strchr(s, ':');
    if (!colon) return vg_fail(VG_ERR_INVALID, "--threshold-by '%s': expected %s", s, expected);
    size_t klen = (size_t)(colon - s);
    const char *v = colon + 1;
    if (klen == 4 && strncmp(s, "cost", 4) == 0) {
        out->goal = VG_OP_COST;
        double fn = NAN, fp = NAN;
        char buf[128];
        if (strlen(v) >= sizeof buf) return vg_fail(VG_ERR_INVALID, "--threshold-by '%s': too long", s);
        strcpy(buf, v);
        for (char *save = NULL, *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
            double x;
            if (strncmp(tok, "FN=", 3) == 0 && parse_fraction(tok + 3, &x)) fn = x;
            else if (strncmp(tok, "FP=", 3) == 0 && parse_fraction(tok + 3, &x)) fp = x;
            else return vg_fail(VG_ERR_INVALID, "--threshold-by '%s': '%s' is not FN=a or FP=b", s, tok);
        }
        if (!(fn > 0) || !(fp > 0))
            return vg_fail(VG_ERR_INVALID, "--threshold-by '%s': needs FN=a,FP=b with both costs positive", s);
        out->cost_fn = fn, out->cost_fp = fp;
        return VG_OK;
    }
    double x;
    if (klen == 3 && strncmp(s, "fpr", 3) == 0) out->goal = VG_OP_FPR;
    else if (klen == 6 && strncmp(s, "recall", 6) == 0) out->goal = VG_OP_RECALL;
    else if (klen == 6 && strncmp(s, "alerts", 6) == 0) out->goal = VG_OP_ALERTS;
    else return vg_fail(VG_ERR_INVALID, "--threshold-by '%s': expected %s", s, expected);
    int ok = parse_fraction(v, &x) && x > 0 && (out->goal == VG_OP_RECALL ? x <= 1 : x < 1);
    if (!ok)
        return vg_fail(VG_ERR_INVALID, "--threshold-by '%s': %.*s must be a fraction in (0, 1%c", s, (int)klen, s,
                       out->goal == VG_OP_RECALL ? ']' : ')');
    out->value = x;
    return VG_OK;
}

void vg_operating_point_str(const vg_operating_point *op, char *buf, size_t cap)
{
    switch (op->goal) {
    case VG_OP_FPR: snprintf(buf, cap, "fpr:%g", op->value); break;
    case VG_OP_RECALL: snprintf(buf, cap, "recall:%g", op->value); break;
    case VG_OP_F1: snprintf(buf, cap, "f1"); break;
    case VG_OP_COST: snprintf(buf, cap, "cost:FN=%g,FP=%g", op->cost_fn, op->cost_fp); break;
    case VG_OP_ALERTS: snprintf(buf, cap, "alerts:%g", op->value); break;
    default: snprintf(buf, cap, "?"); break;
    }
}

static void fill(vg_op_result *r, const vg_curve *c, const vg_curve_point *p, size_t n, const vg_operating_point *op)
{
    r->tp = p->tp, r->fp = p->fp, r->positives = c->positives, r->negatives = c->negatives;
    r->tpr = (double)p->tp / (double)c->positives;
    r->fpr = (double)p->fp / (double)c->negatives;
    r->precision = p->tp + p->fp ? (double)p->tp / (double)(p->tp + p->fp) : 1.0;
    r->f1 = p->tp ? 2.0 * (double)p->tp / (double)(2 * p->tp + p->fp + (c->positives - p->tp)) : 0.0;
    r->alert_rate = (double)(p->tp + p->fp) / (double)n;
    r->cost = op->goal == VG_OP_COST ? op->cost_fn * (double)(c->positives - p->tp) + op->cost_fp * (double)p->fp : NAN;
    r->threshold = p->threshold;
}

vg_status vg_operating_point_choose(const vg_operating_point *op, const uint8_t *is_pos, const float *score,
                                    size_t n, vg_op_result *out)
{
    memset(out, 0, sizeof *out);
    vg_curve c = { 0 };
    vg_status st = vg_roc_curve(is_pos, score, n, &c);
    if (st) return st;
    /* best: index of the kept point; the walk goes from the highest
     * threshold down, and only a strictly better point replaces it, so ties
     * keep the higher threshold. */
    size_t best = 0;
    double best_v = -INFINITY;
    for (size_t i = 0; i < c.n_points; i++) {
        const vg_curve_point *p = &c.points[i];
        double flagged = (double)(p->tp + p->fp) / (double)n, v;
        switch (op->goal) {
        case VG_OP_FPR: v = p->x <= op->value ? p->y : -INFINITY; break;
        case VG_OP_ALERTS: v = flagged <= op->value ? p->y : -INFINITY; break;
        case VG_OP_RECALL: v = p->y >= op->value ? -p->x : -INFINITY; break;
        case VG_OP_F1: v = p->tp ? 2.0 * (double)p->tp / (double)(p->tp + p->fp + c.positives) : 0.0; break;
        case VG_OP_COST:
            v = -(op->cost_fn * (double)(c.positives - p->tp) + op->cost_fp * (double)p->fp);
            break;
        default: v = -INFINITY; break;
        }
        if (v > best_v) best_v = v, best = i;
    }
    fill(out, &c, &c.points[best], n, op);
    if (!isfinite(out->threshold)) {  /* nothing flagged: just above the top score */
        float top = c.n_points > 1 ? (float)c.points[1].threshold : 1.0f;
        out->threshold = (double)nextafterf(top, INFINITY);
    }
    vg_curve_free(&c);
    return VG_OK;
}
