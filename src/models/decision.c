/* The decision rule (see vigil/decision.h).
 *
 * Why `score >= threshold` and not `>`: an operating point is read off the
 * ROC / PR curves (vigil/curves.h), which call a row positive when its score
 * is >= the curve's threshold, as scikit-learn does; deciding with the same
 * comparison makes a threshold taken from a curve reproduce that point's
 * counts exactly. It also keeps threshold 0 meaning "every record" (tests
 * and users replay streams that way), and on an exact tie a detector should
 * rather raise an alert than drop one. Before this module `predict` and
 * `eval` broke a 0.5 tie towards the negative class (argmax, lowest index)
 * while `serve` and `watch` used >=. */
#include "vigil/decision.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

const char *vg_output_kind_str(vg_output_kind k)
{
    switch (k) {
    case VG_OUTPUT_BINARY: return "binary";
    case VG_OUTPUT_MULTICLASS: return "multiclass";
    case VG_OUTPUT_VALUE: return "value";
    case VG_OUTPUT_SCORE: return "anomaly score";
    }
    return "unknown";
}

int vg_decision_normal_name(const char *s)
{
    return s && (strcasecmp(s, "normal") == 0 || strcasecmp(s, "benign") == 0);
}

int32_t vg_decision_normal_class(const vg_classes *c)
{
    for (uint32_t k = 0; c->normal_value && k < c->n; k++)   /* named at training */
        if (strcmp(c->names[k], c->normal_value) == 0) return (int32_t)k;
    /* A binary task chose its positive class (--positive, or "attack" for
     * KDD): the other one is normal whatever its name. */
    if (c->n == 2 && (c->positive_value || c->negative_value)) return 0;
    for (uint32_t k = 0; k < c->n; k++)
        if (vg_decision_normal_name(c->names[k])) return (int32_t)k;
    return 0;
}

vg_status vg_decision_rule_init(vg_output_kind kind, const vg_classes *c, double threshold, vg_decision_rule *out)
{
    *out = (vg_decision_rule){ .kind = kind, .n_outputs = 1, .normal = -1, .positive = -1, .threshold = threshold };
    if (isinf(threshold)) return vg_fail(VG_ERR_INVALID, "the threshold must be a finite number");
    if (kind == VG_OUTPUT_VALUE) return VG_OK;
    if (kind != VG_OUTPUT_BINARY && kind != VG_OUTPUT_MULTICLASS && kind != VG_OUTPUT_SCORE)
        return vg_fail(VG_ERR_INVALID, "decision: unknown output kind %d", (int)kind);
    uint32_t n = c ? c->n : 0;
    if (kind == VG_OUTPUT_MULTICLASS ? n < 3 : n != 2)
        return vg_fail(VG_ERR_INVALID, "decision: %s output with %u classes", vg_output_kind_str(kind), n);
    out->normal = vg_decision_normal_class(c);
    out->positive = kind == VG_OUTPUT_MULTICLASS ? -1 : 1 - out->normal;
    if (kind == VG_OUTPUT_SCORE) {
        /* A score has no natural midpoint (a distance, an error): the
         * threshold comes from training (contamination, alert rate) or the
         * user, never from a default. */
        if (isnan(threshold)) return vg_fail(VG_ERR_INVALID, "decision: an anomaly score needs a threshold");
        return VG_OK;
    }
    out->n_outputs = n;
    if (isnan(threshold)) out->threshold = VG_DECISION_DEFAULT_THRESHOLD;
    return VG_OK;
}

vg_status vg_decision_rule_for_model(const vg_model *m, double threshold, vg_decision_rule *out)
{
    const vg_classes *c = vg_model_classes(m);
    return vg_decision_rule_init(vg_model_output_kind(m), c, isnan(threshold) ? vg_model_threshold(m, NULL) : threshold, out);
}

vg_output_kind vg_model_output_kind(const vg_model *m)
{
    const vg_classes *c = vg_model_classes(m);
    return vg_model_is_regression(m)  ? VG_OUTPUT_VALUE
           : vg_model_is_anomaly(m)  ? VG_OUTPUT_SCORE
           : c->n == 2               ? VG_OUTPUT_BINARY
                                     : VG_OUTPUT_MULTICLASS;
}

vg_decision vg_decision_make(const vg_decision_rule *r, const float *outputs)
{
    vg_decision d = { .label = -1 };
    if (r->kind == VG_OUTPUT_VALUE || r->kind == VG_OUTPUT_SCORE) {
        d.score = outputs[0];
        d.anomaly = !isnan(r->threshold) && d.score >= r->threshold;
        if (r->kind == VG_OUTPUT_SCORE) d.label = d.anomaly ? r->positive : r->normal;
        return d;
    }
    /* Binary reads the positive class's probability as it is (not 1 - P(normal)),
     * so the score keeps the bits the estimator wrote. */
    /* Scores are float32 values (vg_float_text prints them exactly): 1 -
     * P(normal) is rounded to float like every probability is. */
    d.score = r->kind == VG_OUTPUT_BINARY ? (double)outputs[r->positive] : (double)(float)(1.0 - (double)outputs[r->normal]);
    d.anomaly = d.score >= r->threshold;
    if (!d.anomaly) {
        d.label = r->normal;
        return d;
    }
    int32_t best = -1;
    for (uint32_t k = 0; k < r->n_outputs; k++)
        if ((int32_t)k != r->normal && (best < 0 || outputs[k] > outputs[best])) best = (int32_t)k;
    d.label = best;
    return d;
}

void vg_decision_labels(const vg_decision_rule *r, const float *outputs, size_t rows, int32_t *labels)
{
    for (size_t i = 0; i < rows; i++) labels[i] = vg_decision_make(r, outputs + i * r->n_outputs).label;
}

static int by_score_desc(const void *a, const void *b)
{
    float x = *(const float *)a, y = *(const float *)b;
    return (x < y) - (x > y);
}

vg_status vg_threshold_at_share(const float *scores, size_t n, double share, double *threshold)
{
    if (n == 0) return vg_fail(VG_ERR_DATA, "no scores to set a threshold from");
    if (!(share > 0 && share <= 1)) return vg_fail(VG_ERR_INVALID, "the share of rows above the threshold must be in (0, 1]");
    float *s = vg_malloc(n * sizeof *s);
    if (!s) return vg_fail(VG_ERR_NOMEM, "out of memory");
    for (size_t i = 0; i < n; i++) {
        if (isnan(scores[i])) {
            vg_free(s);
            return vg_fail(VG_ERR_DATA, "row %zu has no score (NaN)", i);
        }
        s[i] = scores[i];
    }
    qsort(s, n, sizeof *s, by_score_desc);
    size_t k = (size_t)floor(share * (double)n);
    /* No row may alert: the next float above the highest score keeps the
     * threshold on the scores' own grid. */
    *threshold = k == 0 ? (double)nextafterf(s[0], INFINITY) : (double)s[k - 1];
    vg_free(s);
    return VG_OK;
}
