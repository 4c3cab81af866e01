/* One record -> one detection result (see detect.h). */
#include "serve/detect.h"

#include <math.h>
#include <string.h>

#include "serve/record.h"

/* Class probabilities live on the stack up to this many classes. */
#define STACK_CLASSES 64

static void write_value(vg_text *out, const vg_field *fd)
{
    if (!fd || fd->kind == VG_FIELD_NULL) vg_text_puts(out, "null");
    else if (fd->kind == VG_FIELD_NUMBER) vg_text_json_num(out, fd->number, 15);  /* the decimal sent, not its binary tail */
    else vg_text_json_str(out, fd->text, fd->text_len);
}

/* "explanation": the `top` inputs with the largest |contribution|, with the
 * value the record gave them, the bias, the raw score explained, and the sum
 * of the contributions left out, so bias + listed + others == raw_score. */
static vg_status write_explanation(const vg_served *s, const vg_field *fields, size_t n, const vg_detect_params *dp,
                                   vg_arena *a, vg_text *out)
{
    const vg_model *m = s->model;
    if (!s->can_explain)
        return vg_fail(VG_ERR_UNSUPPORTED, "model '%s' (%s) cannot explain its predictions; leave out explain=1",
                       s->name, vg_model_family(m));
    const vg_pipeline *p = vg_model_pipeline(m);
    size_t ni = s->n_inputs;
    double *contrib = vg_arena_alloc(a, (ni + 1) * sizeof *contrib);
    size_t *order = vg_arena_alloc(a, (ni ? ni : 1) * sizeof *order);
    long *field_of = vg_arena_alloc(a, (ni ? ni : 1) * sizeof *field_of);
    if (!contrib || !order || !field_of) return vg_fail(VG_ERR_NOMEM, "out of memory for the explanation");
    uint32_t output;
    double raw;
    vg_status st = vg_model_explain_record(m, fields, n, contrib, &output, &raw);
    if (st) return st;
    for (size_t i = 0; i < ni; i++) field_of[i] = -1;
    for (size_t f = 0; f < n; f++) {
        long i = vg_pipeline_find_input(p, fields[f].name, fields[f].name_len);
        if (i >= 0) field_of[i] = (long)f;
    }
    /* Partial selection sort: top is small, inputs are tens. */
    size_t top = VG_MIN(dp->top, ni);
    for (size_t i = 0; i < ni; i++) order[i] = i;
    for (size_t k = 0; k < top; k++) {
        size_t best = k;
        for (size_t j = k + 1; j < ni; j++)
            if (fabs(contrib[order[j]]) > fabs(contrib[order[best]])) best = j;
        size_t tmp = order[k];
        order[k] = order[best];
        order[best] = tmp;
    }
    double others = 0;
    for (size_t k = top; k < ni; k++) others += contrib[order[k]];
    const vg_classes *c = vg_model_classes(m);
    vg_text_puts(out, ",\"explanation\":{\"explained\":");
    vg_text_json_cstr(out, output < c->n ? c->names[output] : c->names[0]);
    vg_text_puts(out, ",\"raw_score\":");
    vg_text_json_num(out, raw, 12);
    vg_text_puts(out, ",\"bias\":");
    vg_text_json_num(out, contrib[ni], 12);
    vg_text_puts(out, ",\"top\":[");
    for (size_t k = 0; k < top; k++) {
        size_t i = order[k];
        if (k) vg_text_putc(out, ',');
        vg_text_puts(out, "{\"field\":");
        vg_text_json_cstr(out, vg_pipeline_input_name(p, i));
        vg_text_puts(out, ",\"value\":");
        write_value(out, field_of[i] >= 0 ? &fields[field_of[i]] : NULL);
        if (field_of[i] < 0 || fields[field_of[i]].kind == VG_FIELD_NULL) vg_text_puts(out, ",\"imputed\":true");
        vg_text_puts(out, ",\"contribution\":");
        vg_text_json_num(out, contrib[i], 12);
        vg_text_putc(out, '}');
    }
    vg_text_puts(out, "],\"others\":");
    vg_text_json_num(out, others, 12);
    vg_text_putc(out, '}');
    return VG_OK;
}

vg_status vg_detect_record(const vg_served *s, const vg_jtape *t, size_t obj, const vg_detect_params *dp,
                           vg_arena *a, vg_text *out, vg_detect_outcome *res)
{
    const vg_model *m = s->model;
    const vg_pipeline *p = vg_model_pipeline(m);
    vg_field *fields;
    size_t n;
    vg_status st = vg_record_fields(t, obj, p, dp->max_fields, a, &fields, &n);
    if (st) return st;
    const vg_classes *c = vg_model_classes(m);
    size_t k = s->regression ? 1 : c->n;
    float stack[STACK_CLASSES];
    float *proba = k <= STACK_CLASSES ? stack : vg_arena_alloc(a, k * sizeof *proba);
    if (!proba) return vg_fail(VG_ERR_NOMEM, "out of memory");
    vg_record_report rep;
    st = vg_model_predict_record(m, fields, n, proba, &rep);
    if (st) return st;

    size_t mark = out->len;
    vg_decision_rule rule = s->rule;
    if (!isnan(dp->threshold)) rule.threshold = dp->threshold;
    vg_decision d = vg_decision_make(&rule, proba);
    double score = d.score;
    if (s->regression) {
        vg_text lt;
        vg_text_init(&lt, a, 32);
        vg_text_json_num(&lt, score, 9);
        res->label = lt.failed ? "" : lt.data;
    } else {
        res->label = c->names[d.label];
    }
    res->score = score;
    res->anomaly = d.anomaly;

    vg_text_puts(out, "{\"model\":");
    vg_text_json_cstr(out, s->name);
    vg_text_puts(out, res->anomaly ? ",\"anomaly\":true,\"score\":" : ",\"anomaly\":false,\"score\":");
    vg_text_json_num(out, score, s->regression ? 9 : 7);
    vg_text_puts(out, ",\"label\":");
    vg_text_json_cstr(out, res->label);
    if (!s->regression) {
        vg_text_puts(out, ",\"probabilities\":{");
        for (uint32_t j = 0; j < k; j++) {
            if (j) vg_text_putc(out, ',');
            vg_text_json_cstr(out, c->names[j]);
            vg_text_putc(out, ':');
            vg_text_json_num(out, proba[j], 7);
        }
        vg_text_putc(out, '}');
    }
    if (rep.unknown || rep.missing || rep.unseen) {
        vg_text_puts(out, ",\"warnings\":[");
        vg_record_warnings(p, fields, n, &rep, dp->max_warnings, a, out);
        vg_text_putc(out, ']');
    } else {
        /* Nulls are imputed without the pipeline counting them. */
        for (size_t f = 0; f < n; f++)
            if (fields[f].kind == VG_FIELD_NULL) {
                vg_text_puts(out, ",\"warnings\":[");
                vg_record_warnings(p, fields, n, &rep, dp->max_warnings, a, out);
                vg_text_putc(out, ']');
                break;
            }
    }
    if (dp->explain) {
        st = write_explanation(s, fields, n, dp, a, out);
        if (st) {
            out->len = mark;
            return st;
        }
    }
    vg_text_putc(out, '}');
    return VG_OK;
}
