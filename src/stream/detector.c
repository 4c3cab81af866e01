/* The detector: a line adapter and a model over a stream of lines, deciding
 * alerts (rules in detector.h). Everything per line reuses buffers made once
 * (the held block and its text grow to their high-water mark and stay), so
 * scoring allocates nothing in the steady state and memory stays flat on
 * endless input. */
#include "vigil/detector.h"
#include "vigil/format.h"

#include <math.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <pthread.h>

#include "vigil/decision.h"
#include "vigil/estimator.h"

#define DETECTOR_MAX_BATCH 4096

/* What an alert needs of a held row once its line and event are gone:
 * offsets into its block's text (the buffer moves as it grows). */
typedef struct held_row {
    uint64_t line_no;
    double time;                  /* event time, else the arrival time */
    size_t source, raw, raw_len;
    size_t entity, entity_len;    /* entity_len 0: none */
    size_t truth, truth_len;
    int has_truth;
    size_t field0, n_fields;      /* --explain: the record, in the block's saved fields */
} held_row;

/* A record field copied for --explain (texts in the block's text). */
typedef struct held_field {
    size_t name, name_len, text, text_len;
    vg_field_kind kind;
    double number;
} held_field;

/* A block of rows waiting to be scored, with what their alerts need. With
 * a scoring thread there are two: one fills while the other is scored. */
typedef struct block {
    size_t n;
    float *x;                /* batch x n_features */
    float *proba;            /* batch x n_classes */
    held_row *rows;          /* batch */
    vg_wbuf text;            /* copied texts of the held rows */
    size_t last_source, last_source_len;  /* the latest source name copied, reused while it repeats */
    held_field *saved;       /* --explain */
    size_t n_saved, saved_cap;
    /* set when the block is scored, taken back by the caller's thread */
    vg_alert_fn on_alert;
    void *user;
    uint64_t events, alerts;
    vg_status st;
    char msg[256];           /* st's message: the last error is per thread */
} block;

struct vg_detector {
    const vg_model *m;
    char *model_name;
    vg_watch_params p;
    vg_line_adapter *adapter;
    vg_watch_stats stats;
    uint32_t n_classes;
    vg_decision_rule rule;   /* score, label and anomaly (vigil/decision.h) */
    int regression, can_explain;
    float *proba;
    double *contrib;         /* n_inputs + 1 */
    size_t n_inputs;
    vg_wbuf expl;            /* explanation JSON of the current alert */
    char value[64];          /* regression: the predicted value as text */
    /* the held blocks (vg_detector_push) */
    size_t batch, n_features;
    vg_model_history *hist;  /* window models: each entity's recent events (push and replay) */
    float *encoded;          /* window models: one event's encoded row before its window */
    vg_pipeline_plan *plan;  /* the adapter's record layout bound to the pipeline at the first event */
    block blk[2];
    int cur;                 /* the block being filled */
    vg_field *fields;        /* --explain: one held record rebuilt (the scoring side only) */
    size_t fields_cap;
    /* threads = 2: a scoring thread takes one block at a time, in order */
    int threaded;
    pthread_t scorer;
    pthread_mutex_t lock;
    pthread_cond_t work, free_cond;
    int pending;             /* the block handed to the scorer and not finished, or -1 */
    int quit;
};

vg_watch_params vg_watch_params_default(const vg_model *m)
{
    vg_watch_params p = { .format = NULL, .threshold = NAN, .explain = 0, .top_features = 3, .max_raw_bytes = 2048,
                          .batch_rows = 1024, .threads = 1 };
    p.log = m ? vg_model_log_options(m) : vg_logfmt_options_default();
    return p;
}

static void *scorer_main(void *arg);

static int block_init(block *b, size_t rows, size_t features, size_t classes)
{
    vg_wbuf_init(&b->text);
    b->x = vg_malloc(rows * VG_MAX(features, (size_t)1) * sizeof *b->x);
    b->proba = vg_malloc(rows * classes * sizeof *b->proba);
    b->rows = vg_malloc(rows * sizeof *b->rows);
    return b->x && b->proba && b->rows;
}

static void block_free(block *b)
{
    vg_wbuf_free(&b->text);
    vg_free(b->x);
    vg_free(b->proba);
    vg_free(b->rows);
    vg_free(b->saved);
}

vg_status vg_detector_new(const vg_model *m, const char *model_name, const vg_watch_params *p, vg_detector **out)
{
    *out = NULL;
    vg_detector *d = vg_calloc(1, sizeof *d);
    if (!d) return vg_fail(VG_ERR_NOMEM, "out of memory");
    d->m = m;
    d->p = p ? *p : vg_watch_params_default(m);
    d->pending = -1;
    if (!d->p.threads) d->p.threads = 1;
    if (d->p.threads < 1 || d->p.threads > 2) {
        vg_free(d);
        return vg_fail(VG_ERR_INVALID, "threads must be 1 or 2 (one thread computes features, one scores)");
    }
    if (!d->p.top_features) d->p.top_features = 3;
    if (!d->p.max_raw_bytes) d->p.max_raw_bytes = 2048;
    if (!d->p.batch_rows) d->p.batch_rows = 1024;
    d->batch = VG_MIN(d->p.batch_rows, (size_t)DETECTOR_MAX_BATCH);
    vg_wbuf_init(&d->expl);
    vg_status st = vg_decision_rule_for_model(m, d->p.threshold, &d->rule);
    if (st) {
        vg_free(d);
        return st;
    }
    d->p.threshold = d->rule.threshold;
    d->regression = d->rule.kind == VG_OUTPUT_VALUE;
    d->n_classes = d->rule.n_outputs;
    d->can_explain = d->p.explain && vg_model_can_explain(m);
    d->n_inputs = vg_pipeline_n_inputs(vg_model_pipeline(m));
    d->n_features = vg_model_row_width(m);
    if ((st = vg_model_history_new(m, &d->hist))) {
        vg_free(d);
        return st;
    }
    if (d->hist && !(d->encoded = vg_malloc(vg_pipeline_n_features(vg_model_pipeline(m)) * sizeof(float)))) {
        vg_model_history_free(d->hist);
        vg_free(d);
        return vg_fail(VG_ERR_NOMEM, "out of memory");
    }
    d->model_name = vg_strdup(model_name ? model_name : vg_model_family(m));
    d->proba = vg_malloc(d->n_classes * sizeof *d->proba);
    d->contrib = vg_malloc((d->n_inputs + 1) * sizeof *d->contrib);
    int blocks_ok = block_init(&d->blk[0], d->batch, d->n_features, d->n_classes);
    if (d->p.threads == 2) blocks_ok &= block_init(&d->blk[1], d->batch, d->n_features, d->n_classes);
    if (!d->model_name || !d->proba || !d->contrib || !blocks_ok) {
        vg_detector_free(d);
        return vg_fail(VG_ERR_NOMEM, "out of memory");
    }
    const char *format = d->p.format ? d->p.format : vg_model_format(m);
    /* A format that cannot know its truth column (csv) is told the model's. */
    const vg_format *fmt = vg_format_find(format);
    const char *label = fmt && fmt->infers_types ? vg_model_label(m) : NULL;
    st = vg_line_adapter_new(format, label, &d->p.log, &d->adapter);
    if (st) {
        vg_detector_free(d);
        return st;
    }
    d->p.format = vg_line_adapter_format(d->adapter);
    if (d->p.threads == 2) {
        pthread_mutex_init(&d->lock, NULL);
        pthread_cond_init(&d->work, NULL);
        pthread_cond_init(&d->free_cond, NULL);
        d->threaded = 1;
        if (pthread_create(&d->scorer, NULL, scorer_main, d) != 0) {
            d->threaded = 0;
            pthread_mutex_destroy(&d->lock);
            pthread_cond_destroy(&d->work);
            pthread_cond_destroy(&d->free_cond);
            vg_detector_free(d);
            return vg_fail(VG_ERR_NOMEM, "cannot start the scoring thread");
        }
    }
    *out = d;
    return VG_OK;
}

void vg_detector_free(vg_detector *d)
{
    if (!d) return;
    if (d->threaded) {
        /* Rows still held are dropped, as without the thread. */
        pthread_mutex_lock(&d->lock);
        d->quit = 1;
        pthread_cond_signal(&d->work);
        pthread_mutex_unlock(&d->lock);
        pthread_join(d->scorer, NULL);
        pthread_mutex_destroy(&d->lock);
        pthread_cond_destroy(&d->work);
        pthread_cond_destroy(&d->free_cond);
    }
    vg_line_adapter_free(d->adapter);
    vg_model_history_free(d->hist);
    vg_pipeline_plan_free(d->plan);
    vg_free(d->encoded);
    vg_wbuf_free(&d->expl);
    block_free(&d->blk[0]);
    block_free(&d->blk[1]);
    vg_free(d->fields);
    vg_free(d->proba);
    vg_free(d->contrib);
    vg_free(d->model_name);
    vg_free(d);
}

const vg_watch_stats *vg_detector_stats(const vg_detector *d) { return &d->stats; }
const vg_line_adapter *vg_detector_adapter(const vg_detector *d) { return d->adapter; }
size_t vg_detector_held(const vg_detector *d)
{
    size_t n = d->blk[d->cur].n;
    if (d->threaded) {
        pthread_mutex_lock((pthread_mutex_t *)&d->lock);
        if (d->pending >= 0) n += d->blk[d->pending].n;
        pthread_mutex_unlock((pthread_mutex_t *)&d->lock);
    }
    return n;
}
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
static vg_status explain(vg_detector *d, const vg_field *fields, size_t n_fields)
{
    uint32_t output;
    double raw;
    vg_status st = vg_model_explain_record(d->m, fields, n_fields, d->contrib, &output, &raw);
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

/* Features of one line into ev: 1 to score it, 0 when the line is bad or
 * skipped (counted here), or a failure of the process in *st. */
static int line_event(vg_detector *d, const char *source_name, uint32_t source, uint64_t line_no, const char *line,
                      size_t len, int truncated, vg_logfmt_event *ev, vg_status *st)
{
    *st = VG_OK;
    d->stats.lines++;
    if (truncated) {
        char msg[96];
        snprintf(msg, sizeof msg, "line longer than the limit of %zu bytes", d->p.log.max_line_bytes);
        count_bad(d, source_name, line_no, msg);
        return 0;
    }
    vg_status s = vg_line_adapter_process(d->adapter, source, line_no, line, len, ev);
    if (s == VG_ERR_NOMEM) *st = s;
    if (s) {
        if (s != VG_ERR_NOMEM) count_bad(d, source_name, line_no, vg_last_error());
        return 0;
    }
    if (ev->n_fields == 0) {
        d->stats.skipped++;
        return 0;
    }
    return 1;
}

/* The decision on one scored row (vigil/decision.h): 1 if it alerts, with
 * its score and label (regression: the value's text in d->value). */
static int decide(vg_detector *d, const float *proba, double *score, const char **label)
{
    vg_decision dc = vg_decision_make(&d->rule, proba);
    *score = dc.score;
    if (d->regression) {
        if (dc.anomaly) snprintf(d->value, sizeof d->value, "%.6g", dc.score);
        *label = d->value;
    } else {
        *label = vg_model_classes(d->m)->names[dc.label];
    }
    return dc.anomaly;
}

static double arrival_time(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

vg_status vg_detector_line(vg_detector *d, const char *source_name, uint32_t source, uint64_t line_no,
                           const char *line, size_t len, int truncated, vg_logfmt_event *event, vg_alert *alert,
                           int *fired)
{
    VG_ASSERT(vg_detector_held(d) == 0);   /* held rows first: the caller mixed the two paths */
    *fired = 0;
    if (event) event->n_fields = 0;
    vg_logfmt_event ev;
    vg_status st;
    if (!line_event(d, source_name, source, line_no, line, len, truncated, &ev, &st)) return st;
    st = vg_model_predict_record(d->m, ev.fields, ev.n_fields, d->proba, NULL);
    if (st == VG_ERR_NOMEM) return st;
    if (st) {
        count_bad(d, source_name, line_no, vg_last_error());
        return VG_OK;
    }
    double score;
    const char *label;
    d->stats.events++;
    if (event) *event = ev;
    if (!decide(d, d->proba, &score, &label)) return VG_OK;
    d->stats.alerts++;
    memset(alert, 0, sizeof *alert);
    alert->time = ev.time > 0 ? ev.time : arrival_time();
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
        st = explain(d, ev.fields, ev.n_fields);
        if (st == VG_ERR_NOMEM) return st;
        if (!st) alert->explanation_json = (const char *)d->expl.data;
    }
    *fired = 1;
    return VG_OK;
}

/* ---- the held blocks ------------------------------------------------------------ */

static size_t put_text(block *b, const char *s, size_t len)
{
    size_t off = b->text.len;
    vg_wbuf_bytes(&b->text, s, len);
    return off;
}

/* Copy the record's fields for a later explanation. */
static vg_status save_fields(block *b, const vg_logfmt_event *ev, held_row *h)
{
    if (b->n_saved + ev->n_fields > b->saved_cap) {
        size_t cap = VG_MAX(b->saved_cap * 2, b->n_saved + ev->n_fields);
        held_field *s = vg_realloc(b->saved, cap * sizeof *s);
        if (!s) return vg_fail(VG_ERR_NOMEM, "out of memory");
        b->saved = s;
        b->saved_cap = cap;
    }
    h->field0 = b->n_saved;
    h->n_fields = ev->n_fields;
    for (size_t i = 0; i < ev->n_fields; i++) {
        const vg_field *f = &ev->fields[i];
        held_field *s = &b->saved[b->n_saved++];
        s->name = put_text(b, f->name, f->name_len);
        s->name_len = f->name_len;
        s->kind = f->kind;
        s->number = f->number;
        s->text_len = f->kind == VG_FIELD_TEXT ? f->text_len : 0;
        s->text = put_text(b, f->text, s->text_len);
    }
    return VG_OK;
}

/* The held record of row h as fields again, for vg_model_explain_record. */
static vg_status rebuild_fields(vg_detector *d, const block *b, const held_row *h)
{
    if (h->n_fields > d->fields_cap) {
        vg_field *f = vg_realloc(d->fields, h->n_fields * sizeof *f);
        if (!f) return vg_fail(VG_ERR_NOMEM, "out of memory");
        d->fields = f;
        d->fields_cap = h->n_fields;
    }
    const char *base = (const char *)b->text.data;
    for (size_t i = 0; i < h->n_fields; i++) {
        const held_field *s = &b->saved[h->field0 + i];
        d->fields[i] = (vg_field){ .name = base + s->name, .name_len = s->name_len, .kind = s->kind,
                                   .number = s->number, .text = base + s->text, .text_len = s->text_len };
    }
    return VG_OK;
}

/* Score block b and call its on_alert for each alert, in order; counts and
 * the first failure go into the block (on the scoring thread when there is
 * one: it touches the detector only where the caller's thread does not). */
static void score_block(vg_detector *d, block *b)
{
    size_t n = b->n;
    b->events = n;
    b->alerts = 0;
    b->st = VG_OK;
    vg_matrix X = { .rows = n, .cols = d->n_features, .data = b->x };
    /* A model of CSR rows (text n-grams) was scored record by record in push;
     * the rest through the model, so an adapting model (watch --adapt) learns
     * the block in line order. */
    if (!vg_model_reads_sparse(d->m) && (b->st = vg_model_predict_rows(d->m, &X, 1, b->proba)) != VG_OK) {
        snprintf(b->msg, sizeof b->msg, "%s", vg_last_error());
        return;
    }
    const char *base = (const char *)b->text.data;
    for (size_t i = 0; i < n; i++) {
        double score;
        const char *label;
        if (!decide(d, b->proba + i * d->n_classes, &score, &label)) continue;
        b->alerts++;
        const held_row *h = &b->rows[i];
        vg_alert a = { .time = h->time, .source = base + h->source, .line_no = h->line_no, .model = d->model_name,
                       .label = label, .score = score, .raw = base + h->raw, .raw_len = h->raw_len };
        if (h->entity_len) {
            a.entity = base + h->entity;
            a.entity_len = h->entity_len;
        }
        if (h->has_truth) {
            a.truth = base + h->truth;
            a.truth_len = h->truth_len;
        }
        if (d->can_explain) {
            vg_status st = rebuild_fields(d, b, h);
            if (!st) st = explain(d, d->fields, h->n_fields);
            if (st == VG_ERR_NOMEM) {
                b->st = st;
                snprintf(b->msg, sizeof b->msg, "%s", vg_last_error());
                return;
            }
            if (!st) a.explanation_json = (const char *)d->expl.data;
        }
        vg_status st = b->on_alert ? b->on_alert(&a, b->user) : VG_OK;
        if (st) {
            b->st = st;
            snprintf(b->msg, sizeof b->msg, "%s", vg_last_error());
            return;
        }
    }
}

/* Counts and status of a scored block, taken into the caller's view; the
 * block is empty and free again. */
static vg_status take_back(vg_detector *d, block *b)
{
    d->stats.events += b->events;
    d->stats.alerts += b->alerts;
    vg_status st = b->st;
    b->events = b->alerts = 0;
    b->st = VG_OK;
    b->n = 0;
    return st ? vg_fail(st, "%s", b->msg) : VG_OK;
}

static void *scorer_main(void *arg)
{
    vg_detector *d = arg;
    pthread_mutex_lock(&d->lock);
    for (;;) {
        while (d->pending < 0 && !d->quit) pthread_cond_wait(&d->work, &d->lock);
        if (d->quit) break;   /* the detector is going away: a block not flushed is dropped */
        block *b = &d->blk[d->pending];
        pthread_mutex_unlock(&d->lock);
        score_block(d, b);
        pthread_mutex_lock(&d->lock);
        d->pending = -1;
        pthread_cond_signal(&d->free_cond);
    }
    pthread_mutex_unlock(&d->lock);
    return NULL;
}

/* Threaded: wait until the scorer has finished its block; its counts and
 * status are then taken back. */
static vg_status wait_scorer(vg_detector *d)
{
    pthread_mutex_lock(&d->lock);
    while (d->pending >= 0) pthread_cond_wait(&d->free_cond, &d->lock);
    pthread_mutex_unlock(&d->lock);
    return take_back(d, &d->blk[d->cur ^ 1]);
}

/* The current block is full or must go out now. */
static vg_status submit(vg_detector *d, vg_alert_fn on_alert, void *user)
{
    block *b = &d->blk[d->cur];
    b->on_alert = on_alert;
    b->user = user;
    if (!d->threaded) {
        score_block(d, b);
        return take_back(d, b);
    }
    /* The other block is free once the scorer is done with it. */
    vg_status st = wait_scorer(d);
    pthread_mutex_lock(&d->lock);
    d->pending = d->cur;
    pthread_cond_signal(&d->work);
    pthread_mutex_unlock(&d->lock);
    d->cur ^= 1;
    return st;
}

/* A window model's row for event ev (vg_model_row_width floats); the event
 * joins its entity's history. */
static vg_status window_row(vg_detector *d, const vg_logfmt_event *ev, float *row)
{
    vg_status st = vg_pipeline_transform_record(vg_model_pipeline(d->m), ev->fields, ev->n_fields, d->encoded, NULL);
    if (st) return st;
    return vg_model_history_push(d->hist, ev->fields, ev->n_fields, ev->entity, ev->entity_len, d->encoded, row);
}

vg_status vg_detector_push(vg_detector *d, const char *source_name, uint32_t source, uint64_t line_no,
                           const char *line, size_t len, int truncated, vg_alert_fn on_alert, void *user)
{
    vg_logfmt_event ev;
    vg_status st;
    if (!line_event(d, source_name, source, line_no, line, len, truncated, &ev, &st)) return st;
    block *b = &d->blk[d->cur];
    float *row = b->x + b->n * d->n_features;
    if (vg_model_reads_sparse(d->m))  /* its rows are CSR: score the record now, as predict_record does */
        st = vg_model_predict_record(d->m, ev.fields, ev.n_fields, b->proba + b->n * d->n_classes, NULL);
    else if (d->hist)  /* the row is the event's window: its entity's last events, then itself */
        st = window_row(d, &ev, row);
    else if (d->plan || !(st = vg_pipeline_plan_new(vg_model_pipeline(d->m), ev.fields, ev.n_fields, &d->plan)))
        st = vg_pipeline_plan_transform(d->plan, ev.fields, ev.n_fields, row);
    if (st == VG_ERR_NOMEM) return st;
    if (st) {
        count_bad(d, source_name, line_no, vg_last_error());
        return VG_OK;
    }
    if (b->n == 0) b->text.len = b->n_saved = b->last_source_len = 0;
    held_row *h = &b->rows[b->n];
    h->line_no = line_no;
    h->time = ev.time > 0 ? ev.time : arrival_time();
    /* Most lines come from the same few sources: copy a name once while it repeats. */
    const char *src = source_name ? source_name : "";
    size_t sl = strlen(src);
    if (!(b->last_source_len == sl + 1 && memcmp(b->text.data + b->last_source, src, sl) == 0)) {
        b->last_source = put_text(b, src, sl + 1);
        b->last_source_len = sl + 1;
    }
    h->source = b->last_source;
    h->raw_len = utf8_cut(line, len, d->p.max_raw_bytes);
    h->raw = put_text(b, line, h->raw_len);
    h->entity_len = ev.entity_len;
    h->entity = put_text(b, ev.entity, ev.entity_len);
    h->has_truth = ev.label != NULL;
    h->truth_len = ev.label ? ev.label_len : 0;
    h->truth = put_text(b, ev.label, h->truth_len);
    h->n_fields = 0;
    if (d->can_explain && (st = save_fields(b, &ev, h))) return st;
    if (b->text.failed) return vg_fail(VG_ERR_NOMEM, "out of memory");
    if (++b->n == d->batch) return submit(d, on_alert, user);
    return VG_OK;
}

vg_status vg_detector_replay(vg_detector *d, uint32_t source, uint64_t line_no, const char *line, size_t len,
                             int truncated)
{
    if (truncated) return VG_OK;
    vg_logfmt_event ev;
    vg_status st = vg_line_adapter_process(d->adapter, source, line_no, line, len, &ev);
    if (st) return st == VG_ERR_NOMEM ? VG_ERR_NOMEM : VG_OK;
    if (d->hist && ev.n_fields) {  /* the windows' history is rebuilt with the format's state */
        float *row = d->blk[d->cur].x + d->blk[d->cur].n * d->n_features;  /* free room, overwritten later */
        st = window_row(d, &ev, row);
        if (st == VG_ERR_NOMEM) return st;
    }
    return VG_OK;
}

vg_status vg_detector_flush(vg_detector *d, vg_alert_fn on_alert, void *user)
{
    vg_status st = VG_OK;
    if (d->blk[d->cur].n) st = submit(d, on_alert, user);
    if (d->threaded) {
        vg_status s2 = wait_scorer(d);
        if (!st) st = s2;
    }
    return st;
}
