/* One record -> one detection result (see detect.h). */
#include "serve/detect.h"

#include <math.h>
#include <string.h>

#include "serve/record.h"
#include "vigil/server.h"

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
    size_t fed[VG_PIPELINE_MAX_DERIVED];
    for (size_t f = 0; f < n; f++)
        for (size_t k = vg_pipeline_field_inputs(p, fields[f].name, fields[f].name_len, fed); k-- > 0;)
            field_of[fed[k]] = (long)f;
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

/* Names listed per kind in a refusal, and the bytes of each shown. */
#define LISTED_NAMES 8
#define LISTED_NAME_BYTES 48

/* How complete a record is: inputs absent or null, and field names that are
 * neither an input nor a column the model sets aside (its label...). */
typedef struct completeness {
    size_t missing, unknown;
    unsigned char *given;      /* n_inputs flags: a non-null value was given */
} completeness;

static vg_status measure(const vg_served *s, const vg_field *fields, size_t n, vg_arena *a, completeness *c)
{
    const vg_pipeline *p = vg_model_pipeline(s->model);
    size_t ni = s->n_inputs, present = 0;
    c->unknown = 0;
    c->given = vg_arena_alloc(a, ni ? ni : 1);
    if (!c->given) return vg_fail(VG_ERR_NOMEM, "out of memory for the record");
    memset(c->given, 0, ni);
    size_t fed[VG_PIPELINE_MAX_DERIVED];
    for (size_t f = 0; f < n; f++) {
        size_t k = vg_pipeline_field_inputs(p, fields[f].name, fields[f].name_len, fed);
        if (k == 0) c->unknown += !vg_model_column_set_aside(s->model, fields[f].name, fields[f].name_len);
        while (k-- > 0 && fields[f].kind != VG_FIELD_NULL)
            if (!c->given[fed[k]]) c->given[fed[k]] = 1, present++;
    }
    c->missing = ni - present;
    return VG_OK;
}

/* The reject policy's rule: any unknown name, or more than half the inputs
 * missing (a record that is mostly imputed values says little about itself). */
static int incomplete(const vg_served *s, const completeness *c)
{
    return c->unknown > 0 || 2 * c->missing > s->n_inputs;
}

static void put_name(vg_text *m, const char *name, size_t len, size_t *listed)
{
    if ((*listed)++) vg_text_puts(m, ", ");
    vg_text_putc(m, '\'');
    vg_text_put(m, name, VG_MIN(len, (size_t)LISTED_NAME_BYTES));
    vg_text_putc(m, '\'');
}

/* The 422 message: which names are unknown, which inputs are missing. */
static vg_status refuse(const vg_served *s, const vg_field *fields, size_t n, const completeness *c, vg_arena *a)
{
    const vg_pipeline *p = vg_model_pipeline(s->model);
    vg_text m;
    vg_text_init(&m, a, 512);
    vg_text_puts(&m, "record refused (--missing reject): ");
    if (c->unknown) {
        size_t listed = 0;
        vg_text_printf(&m, "%zu unknown field%s ", c->unknown, c->unknown == 1 ? "" : "s");
        size_t fed[VG_PIPELINE_MAX_DERIVED];
        for (size_t f = 0; f < n && listed < LISTED_NAMES; f++)
            if (vg_pipeline_field_inputs(p, fields[f].name, fields[f].name_len, fed) == 0 &&
                !vg_model_column_set_aside(s->model, fields[f].name, fields[f].name_len))
                put_name(&m, fields[f].name, fields[f].name_len, &listed);
        if (c->unknown > listed) vg_text_printf(&m, " and %zu more", c->unknown - listed);
        vg_text_puts(&m, c->missing ? "; " : "");
    }
    if (c->missing) {
        size_t listed = 0;
        vg_text_printf(&m, "%zu of %zu inputs missing ", c->missing, s->n_inputs);
        for (size_t i = 0; i < s->n_inputs && listed < LISTED_NAMES; i++)
            if (!c->given[i]) {
                const char *name = vg_pipeline_input_name(p, i);
                put_name(&m, name, strlen(name), &listed);
            }
        if (c->missing > listed) vg_text_printf(&m, " and %zu more", c->missing - listed);
    }
    vg_text_printf(&m, " (model '%s' takes the field names of GET /v1/models/%s; a server started with "
                   "--missing warn or impute scores such records on imputed values)", s->name, s->name);
    if (m.failed) return vg_fail(VG_ERR_NOMEM, "out of memory for the error message");
    return vg_fail(VG_ERR_DATA, "%s", m.data);
}

int vg_detect_batchable(const vg_served *s)
{
    return !vg_model_reads_sparse(s->model) && vg_model_window(s->model) == 0;
}

vg_status vg_detect_encode(const vg_served *s, const vg_jtape *t, size_t obj, const vg_detect_params *dp,
                           vg_arena *a, float *row, vg_detect_pending *pd)
{
    const vg_pipeline *p = vg_model_pipeline(s->model);
    vg_status st = vg_record_fields(t, obj, p, dp->max_fields, a, &pd->fields, &pd->n);
    if (st) return st;
    return vg_pipeline_transform_record(p, pd->fields, pd->n, row, &pd->rep);
}

vg_status vg_detect_record(const vg_served *s, const vg_jtape *t, size_t obj, const vg_detect_params *dp,
                           vg_arena *a, vg_text *out, vg_detect_outcome *res)
{
    const vg_model *m = s->model;
    const vg_pipeline *p = vg_model_pipeline(m);
    vg_detect_pending pd;
    vg_status st = vg_record_fields(t, obj, p, dp->max_fields, a, &pd.fields, &pd.n);
    if (st) return st;
    size_t k = s->rule.n_outputs;
    float stack[STACK_CLASSES];
    float *proba = k <= STACK_CLASSES ? stack : vg_arena_alloc(a, k * sizeof *proba);
    if (!proba) return vg_fail(VG_ERR_NOMEM, "out of memory");
    st = vg_model_predict_record(m, pd.fields, pd.n, proba, &pd.rep);
    if (st) return st;
    return vg_detect_finish(s, &pd, proba, dp, a, out, res);
}

vg_status vg_detect_finish(const vg_served *s, const vg_detect_pending *pd, const float *proba,
                           const vg_detect_params *dp, vg_arena *a, vg_text *out, vg_detect_outcome *res)
{
    const vg_model *m = s->model;
    const vg_pipeline *p = vg_model_pipeline(m);
    const vg_classes *c = vg_model_classes(m);
    size_t k = s->rule.n_outputs;
    const vg_field *fields = pd->fields;
    size_t n = pd->n;
    vg_record_report rep = pd->rep;
    vg_status st;
    /* Nulls are imputed without the pipeline counting them. */
    int nulls = 0;
    for (size_t f = 0; f < n && !nulls; f++) nulls = fields[f].kind == VG_FIELD_NULL;
    /* After scoring, so a value of the wrong type is reported as such first.
     * The record report has counted absent inputs and names that are no
     * input; a record with neither unknown names nor nulls nor most inputs
     * absent (the steady state) is complete, and only the others take the
     * closer look, a second lookup of every name. */
    completeness cm = { 0 };
    int warn_incomplete = 0;
    if (dp->missing != VG_MISSING_IMPUTE && (rep.unknown || nulls || 2 * rep.missing > s->n_inputs)) {
        if ((st = measure(s, fields, n, a, &cm))) return st;
        if (incomplete(s, &cm)) {
            if (dp->missing == VG_MISSING_REJECT) return refuse(s, fields, n, &cm, a);
            warn_incomplete = 1;
        }
    }

    size_t mark = out->len;
    vg_decision_rule rule = s->rule;
    if (!isnan(dp->threshold)) rule.threshold = dp->threshold;
    vg_decision d = vg_decision_make(&rule, proba);
    double score = d.score;
    if (s->regression) {
        vg_text lt;
        vg_text_init(&lt, a, 32);
        char num[24];
        vg_text_put(&lt, num, (size_t)vg_float_text(score, num, sizeof num));
        res->label = lt.failed ? "" : lt.data;
    } else {
        res->label = c->names[d.label];
    }
    res->score = score;
    res->anomaly = d.anomaly;

    vg_text_puts(out, "{\"model\":");
    vg_text_json_cstr(out, s->name);
    vg_text_puts(out, res->anomaly ? ",\"anomaly\":true,\"score\":" : ",\"anomaly\":false,\"score\":");
    if (isfinite(score)) {   /* the shortest exact text, as predict and watch print it */
        char num[24];
        vg_text_put(out, num, (size_t)vg_float_text(score, num, sizeof num));
    } else {
        vg_text_puts(out, "null");
    }
    vg_text_puts(out, ",\"label\":");
    vg_text_json_cstr(out, res->label);
    if (s->rule.kind == VG_OUTPUT_BINARY || s->rule.kind == VG_OUTPUT_MULTICLASS) {
        vg_text_puts(out, ",\"probabilities\":{");
        for (uint32_t j = 0; j < k; j++) {
            if (j) vg_text_putc(out, ',');
            vg_text_json_cstr(out, c->names[j]);
            vg_text_putc(out, ':');
            vg_text_json_num(out, proba[j], 7);
        }
        vg_text_putc(out, '}');
    }
    if (rep.unknown || rep.missing || rep.unseen || nulls || warn_incomplete) {
        vg_text_puts(out, ",\"warnings\":[");
        if (warn_incomplete) {
            vg_text msg;
            vg_text_init(&msg, a, 160);
            vg_text_printf(&msg, "incomplete record (--missing warn): %zu of %zu inputs missing, %zu unknown "
                           "field%s; the score rests mostly on imputed values", cm.missing, s->n_inputs, cm.unknown,
                           cm.unknown == 1 ? "" : "s");
            if (msg.failed) out->failed = 1;
            else vg_text_json_str(out, msg.data, msg.len);
            if (rep.unknown || rep.missing || rep.unseen || nulls) vg_text_putc(out, ',');
        }
        vg_record_warnings(p, fields, n, &rep, dp->max_warnings, a, out);
        vg_text_putc(out, ']');
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
