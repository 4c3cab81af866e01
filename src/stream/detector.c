/* The detector: a line adapter and a model over a stream of lines, deciding
 * alerts (rules in watch.h). Everything per line reuses buffers made once,
 * so scoring allocates nothing and memory stays flat on endless input. */
#include "vigil/watch.h"

#include <math.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

struct vg_detector {
    const vg_model *m;
    char *model_name;
    vg_watch_params p;
    vg_line_adapter *adapter;
    vg_watch_stats stats;
    uint32_t n_classes;
    int positive;            /* binary: index of the positive class; -1 otherwise */
    int normal;              /* multiclass: the normal class */
    int regression, can_explain;
    float *proba;
    double *contrib;         /* n_inputs + 1 */
    size_t n_inputs;
    vg_wbuf expl;            /* explanation JSON of the current alert */
    char value[64];          /* regression: the predicted value as text */
};

vg_watch_params vg_watch_params_default(const vg_model *m)
{
    vg_watch_params p = { .format = NULL, .threshold = NAN, .explain = 0, .top_features = 3, .max_raw_bytes = 2048 };
    p.log = m ? vg_model_log_options(m) : vg_log_options_default();
    return p;
}

static int find_normal(const vg_classes *c)
{
    for (uint32_t k = 0; k < c->n; k++)
        if (strcasecmp(c->names[k], "normal") == 0 || strcasecmp(c->names[k], "benign") == 0) return (int)k;
    return 0;
}

vg_status vg_detector_new(const vg_model *m, const char *model_name, const vg_watch_params *p, vg_detector **out)
{
    *out = NULL;
    vg_detector *d = vg_calloc(1, sizeof *d);
    if (!d) return vg_fail(VG_ERR_NOMEM, "out of memory");
    d->m = m;
    d->p = p ? *p : vg_watch_params_default(m);
    if (!d->p.top_features) d->p.top_features = 3;
    if (!d->p.max_raw_bytes) d->p.max_raw_bytes = 2048;
    vg_wbuf_init(&d->expl);
    const vg_classes *c = vg_model_classes(m);
    d->regression = vg_model_is_regression(m);
    d->n_classes = d->regression ? 1 : c->n;
    d->positive = d->regression ? -1 : vg_model_positive_class(m);
    d->normal = d->regression ? -1 : find_normal(c);
    if (isnan(d->p.threshold)) d->p.threshold = d->positive >= 0 ? 0.5 : 0.0;
    d->can_explain = d->p.explain && vg_model_can_explain(m);
    d->n_inputs = vg_pipeline_n_inputs(vg_model_pipeline(m));
    d->model_name = vg_strdup(model_name ? model_name : vg_model_family(m));
    d->proba = vg_malloc(d->n_classes * sizeof *d->proba);
    d->contrib = vg_malloc((d->n_inputs + 1) * sizeof *d->contrib);
    if (!d->model_name || !d->proba || !d->contrib) {
        vg_detector_free(d);
        return vg_fail(VG_ERR_NOMEM, "out of memory");
    }
    const char *format = d->p.format ? d->p.format : vg_model_format(m);
    const char *label = strcmp(format, "csv") == 0 ? vg_model_label(m) : NULL;
    vg_status st = vg_line_adapter_new(format, label, &d->p.log, &d->adapter);
    if (st) {
        vg_detector_free(d);
        return st;
    }
    d->p.format = vg_line_adapter_format(d->adapter);
    *out = d;
    return VG_OK;
}

void vg_detector_free(vg_detector *d)
{
    if (!d) return;
    vg_line_adapter_free(d->adapter);
    vg_wbuf_free(&d->expl);
    vg_free(d->proba);
    vg_free(d->contrib);
    vg_free(d->model_name);
    vg_free(d);
}

const vg_watch_stats *vg_detector_stats(const vg_detector *d) { return &d->stats; }
const vg_line_adapter *vg_detector_adapter(const vg_detector *d) { return d->adapter; }
double vg_detector_threshold(const vg_detector *d) { return d->p.threshold; }

static void count_bad(vg_detector *d, const char *source, uint64_t line_no, const char *msg)
{
    if (d->stats.bad++ == 0) {
        d->stats.first_bad_line = line_no;
        snprintf(d->stats.first_bad_source, sizeof d->stats.first_bad_source, "%s", source ? source : "");
        snprintf(d->stats.first_bad_message, sizeof d->stats.first_bad_message, "%s", msg);
    }
}

/* Cut s to at most max bytes without splitting a UTF-8 sequence. */
static size_t utf8_cut(const char *s, size_t len, size_t max)
{
    if (len <= max) return len;
    size_t n = max;
    while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80) n--;
    return n;
}

/* The top contributing fields by absolute contribution, as JSON. */
static vg_status explain(vg_detector *d, const vg_log_event *ev)
{
    uint32_t output;
    double raw;
    vg_status st = vg_model_explain_record(d->m, ev->fields, ev->n_fields, d->contrib, &output, &raw);
    if (st) return st;
    const vg_pipeline *pl = vg_model_pipeline(d->m);
    size_t k = VG_MIN(d->p.top_features, d->n_inputs);
    size_t best[64];
    k = VG_MIN(k, 64);
    /* Selection by repeated scans: k is tiny, the inputs are few dozen. */
    size_t chosen = 0;
    for (; chosen < k; chosen++) {
        long pick = -1;
        for (size_t i = 0; i < d->n_inputs; i++) {
            int used = 0;
            for (size_t j = 0; j < chosen; j++) used |= best[j] == i;
            if (used || d->contrib[i] == 0) continue;
            if (pick < 0 || fabs(d->contrib[i]) > fabs(d->contrib[pick])) pick = (long)i;
        }
        if (pick < 0) break;
        best[chosen] = (size_t)pick;
    }
    d->expl.len = 0;
    vg_wbuf_bytes(&d->expl, "[", 1);
    for (size_t j = 0; j < chosen; j++) {
        char num[64];
        const char *name = vg_pipeline_input_name(pl, best[j]);
        if (j) vg_wbuf_bytes(&d->expl, ",", 1);
        vg_wbuf_bytes(&d->expl, "{\"field\":", 9);
        vg_json_string(&d->expl, name, strlen(name));
        int n = snprintf(num, sizeof num, ",\"contribution\":%.6g}", d->contrib[best[j]]);
        vg_wbuf_bytes(&d->expl, num, (size_t)n);
    }
    vg_wbuf_bytes(&d->expl, "]", 2);   /* with the NUL */
    if (d->expl.failed) return vg_fail(VG_ERR_NOMEM, "out of memory");
    return VG_OK;
}

vg_status vg_detector_line(vg_detector *d, const char *source_name, uint32_t source, uint64_t line_no,
                           const char *line, size_t len, int truncated, vg_alert *alert, int *fired)
{
    *fired = 0;
    d->stats.lines++;
    if (truncated) {
        char msg[96];
        snprintf(msg, sizeof msg, "line longer than the limit of %zu bytes", d->p.log.max_line_bytes);
        count_bad(d, source_name, line_no, msg);
        return VG_OK;
    }
    vg_log_event ev;
    vg_status st = vg_line_adapter_process(d->adapter, source, line_no, line, len, &ev);
    if (st == VG_ERR_NOMEM) return st;
    if (st) {
        count_bad(d, source_name, line_no, vg_last_error());
        return VG_OK;
    }
    if (ev.n_fields == 0) {
        d->stats.skipped++;
        return VG_OK;
    }
    st = vg_model_predict_record(d->m, ev.fields, ev.n_fields, d->proba, NULL);
    if (st == VG_ERR_NOMEM) return st;
    if (st) {
        count_bad(d, source_name, line_no, vg_last_error());
        return VG_OK;
    }
    d->stats.events++;
    const vg_classes *c = vg_model_classes(d->m);
    double score;
    const char *label;
    int alert_now;
    if (d->regression) {
        score = d->proba[0];
        snprintf(d->value, sizeof d->value, "%.6g", score);
        label = d->value;
        alert_now = score >= d->p.threshold;
    } else if (d->positive >= 0) {
        score = d->proba[d->positive];
        alert_now = score >= d->p.threshold;
        label = c->names[alert_now ? d->positive : 1 - d->positive];
    } else {
        uint32_t best = 0;
        for (uint32_t k = 1; k < c->n; k++)
            if (d->proba[k] > d->proba[best]) best = k;
        score = d->proba[best];
        label = c->names[best];
        alert_now = (int)best != d->normal && score >= d->p.threshold;
    }
    if (!alert_now) return VG_OK;
    d->stats.alerts++;
    memset(alert, 0, sizeof *alert);
    if (ev.time > 0) {
        alert->time = ev.time;
    } else {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        alert->time = (double)ts.tv_sec + ts.tv_nsec * 1e-9;
    }
    alert->source = source_name;
    alert->line_no = line_no;
    alert->entity = ev.entity_len ? ev.entity : NULL;
    alert->entity_len = ev.entity_len;
    alert->model = d->model_name;
    alert->label = label;
    alert->truth = ev.label;
    alert->truth_len = ev.label ? ev.label_len : 0;
    alert->score = score;
    alert->raw = line;
    alert->raw_len = utf8_cut(line, len, d->p.max_raw_bytes);
    if (d->can_explain) {
        st = explain(d, &ev);
        if (st == VG_ERR_NOMEM) return st;
        if (!st) alert->explanation_json = (const char *)d->expl.data;
    }
    *fired = 1;
    return VG_OK;
}
