/* Per-source summaries of logs (see vigil/source_summary.h). Each line goes
 * through a detector, which decides alerts exactly as `vigil watch` does and
 * hands back the event it scored, whose entity and fields are counted. The
 * file is streamed through a buffer of
 * one line's limit (zlib reads plain and gzip files alike), so memory grows
 * with the distinct values counted, never with the file. Values are counted
 * in string dictionaries (codes in first-seen order) with parallel count
 * arrays. */
#define _GNU_SOURCE  /* qsort_r */
#include "vigil/source_summary.h"
#include "data/dict.h"
#include "vigil/detector.h"
#include "vigil/format.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

_Static_assert(VG_FORMAT_MAX_DIMS <= VG_SUMMARY_MAX_DIMS, "a summary holds every dimension of a format");

static int has_summary(const vg_format *f) { return f->entity_name != NULL; }

/* A table being counted. */
typedef struct counter {
    vg_dict keys;
    uint64_t *events, *alerts;   /* per code */
    size_t cap;
    uint64_t missing;
    size_t max_keys;
    uint32_t other;              /* code of "(other)", VG_DICT_NONE until needed */
} counter;

static void counter_init(counter *c, size_t max_keys)
{
    memset(c, 0, sizeof *c);
    vg_dict_init(&c->keys);
    c->max_keys = max_keys;
    c->other = VG_DICT_NONE;
}

static void counter_free(counter *c)
{
    vg_dict_free(&c->keys);
    vg_free(c->events);
    vg_free(c->alerts);
}

static vg_status counter_add(counter *c, const char *key, size_t len, int alert)
{
    if (!key) {
        c->missing++;
        return VG_OK;
    }
    uint32_t code = vg_dict_find(&c->keys, key, len);
    vg_status st;
    if (code == VG_DICT_NONE) {
        /* Past the bound every new value shares one row, so a log with
         * millions of clients cannot exhaust memory. */
        if (c->keys.n >= c->max_keys) {
            if (c->other == VG_DICT_NONE &&
                (st = vg_dict_intern(&c->keys, VG_SUMMARY_OTHER, strlen(VG_SUMMARY_OTHER), &c->other)))
                return st;
            code = c->other;
        } else if ((st = vg_dict_intern(&c->keys, key, len, &code))) {
            return st;
        }
    }
    if (code >= c->cap) {
        size_t cap = c->cap ? c->cap * 2 : 256;
        uint64_t *e = vg_realloc(c->events, cap * sizeof *e);
        if (e) c->events = e;
        uint64_t *a = e ? vg_realloc(c->alerts, cap * sizeof *a) : NULL;
        if (!a) return vg_fail(VG_ERR_NOMEM, "summary: out of memory");
        c->alerts = a;
        memset(c->events + c->cap, 0, (cap - c->cap) * sizeof *e);
        memset(c->alerts + c->cap, 0, (cap - c->cap) * sizeof *a);
        c->cap = cap;
    }
    c->events[code]++;
    c->alerts[code] += alert != 0;
    return VG_OK;
}

/* Ordering for the top lists: the count that matters, then the key, so
 * equal counts always list in the same order. */
typedef struct rank_ctx {
    const counter *c;
    int by_alerts;
} rank_ctx;

static int rank_cmp(const void *pa, const void *pb, void *user)
{
    const rank_ctx *r = user;
    uint32_t a = *(const uint32_t *)pa, b = *(const uint32_t *)pb;
    const uint64_t *v = r->by_alerts ? r->c->alerts : r->c->events;
    if (v[a] != v[b]) return v[a] > v[b] ? -1 : 1;
    return strcmp(r->c->keys.strs[a], r->c->keys.strs[b]);
}

static char *dup_str(const char *s)
{
    size_t n = strlen(s) + 1;
    char *d = vg_malloc(n);
    if (d) memcpy(d, s, n);
    return d;
}

/* The top `top` values of c into list (keys copied). */
static vg_status top_list(const counter *c, int by_alerts, size_t top, uint32_t *order, vg_summary_count **out,
                          size_t *n_out)
{
    *out = NULL;
    *n_out = 0;
    size_t n = 0;
    for (uint32_t i = 0; i < c->keys.n; i++)
        if (!by_alerts || c->alerts[i] > 0) order[n++] = i;
    rank_ctx r = { c, by_alerts };
    qsort_r(order, n, sizeof *order, rank_cmp, &r);
    n = VG_MIN(n, top);
    if (n == 0) return VG_OK;
    vg_summary_count *l = vg_calloc(n, sizeof *l);
    if (!l) return vg_fail(VG_ERR_NOMEM, "summary: out of memory");
    *out = l;
    *n_out = n;
    for (size_t i = 0; i < n; i++) {
        l[i].key = dup_str(c->keys.strs[order[i]]);
        l[i].events = c->events[order[i]];
        l[i].alerts = c->alerts[order[i]];
        if (!l[i].key) return vg_fail(VG_ERR_NOMEM, "summary: out of memory");
    }
    return VG_OK;
}

static vg_status finish_table(const counter *c, const char *title, const char *field, size_t top,
                              vg_summary_table *t)
{
    t->title = title;
    t->field = field;
    t->distinct = c->keys.n;
    t->missing = c->missing;
    for (uint32_t i = 0; i < c->keys.n; i++) t->alerted += c->alerts[i] > 0;
    uint32_t *order = vg_malloc((c->keys.n + 1) * sizeof *order);
    if (!order) return vg_fail(VG_ERR_NOMEM, "summary: out of memory");
    vg_status st = top_list(c, 0, top, order, &t->by_events, &t->n_by_events);
    if (!st) st = top_list(c, 1, top, order, &t->by_alerts, &t->n_by_alerts);
    vg_free(order);
    return st;
}

static void free_table(vg_summary_table *t)
{
    for (size_t i = 0; i < t->n_by_events; i++) vg_free((char *)t->by_events[i].key);
    for (size_t i = 0; i < t->n_by_alerts; i++) vg_free((char *)t->by_alerts[i].key);
    vg_free(t->by_events);
    vg_free(t->by_alerts);
}

/* The value of `name` in the event as text (numbers without decimals when
 * whole, as status codes are), or NULL when absent or null. */
static const char *field_text(const vg_logfmt_event *ev, const vg_format_dim *d, char *buf, size_t cap, size_t *len)
{
    for (size_t i = 0; i < ev->n_fields; i++) {
        const vg_field *f = &ev->fields[i];
        if (f->name_len != strlen(d->field) || memcmp(f->name, d->field, f->name_len) != 0) continue;
        if (f->kind == VG_FIELD_TEXT) {
            if (f->text_len == 0) return NULL;
            *len = f->text_len;
            return f->text;
        }
        if (f->kind != VG_FIELD_NUMBER || !isfinite(f->number)) return NULL;
        int n = d->outcome ? snprintf(buf, cap, "%s", f->number != 0 ? "success" : "failure")
                : f->number == floor(f->number) && fabs(f->number) < 1e15 ? snprintf(buf, cap, "%.0f", f->number)
                : snprintf(buf, cap, "%g", f->number);
        *len = (size_t)n;
        return buf;
    }
    return NULL;
}

vg_summary_params vg_summary_params_default(void)
{
    return (vg_summary_params){ .format = NULL, .threshold = NAN, .top = 10, .max_keys = 1000000,
                                .max_hours = 24 * 400, .log = NULL };
}

/* Hourly buckets grow both ways from the first event's hour; an event
 * farther than max_hours from the others stays out of the timeline. */
typedef struct timeline {
    int64_t h0;      /* hour index of bucket 0 */
    size_t n, cap, max;
    uint64_t *ev, *al;
} timeline;

static vg_status timeline_add(timeline *tl, double t, int alert)
{
    if (!(t > 0) || !isfinite(t)) return VG_OK;
    int64_t h = (int64_t)floor(t / 3600.0);
    if (tl->n == 0) tl->h0 = h;
    int64_t lo = VG_MIN(tl->h0, h), hi = VG_MAX(tl->h0 + (int64_t)tl->n - 1, h);
    if (tl->n == 0) hi = h;
    if ((uint64_t)(hi - lo + 1) > tl->max) return VG_OK;
    size_t need = (size_t)(hi - lo + 1), shift = (size_t)(tl->h0 - lo);
    if (need > tl->cap) {
        size_t cap = VG_MAX(need, tl->cap * 2);
        cap = VG_MAX(cap, (size_t)64);
        uint64_t *e = vg_realloc(tl->ev, cap * sizeof *e);
        if (e) tl->ev = e;
        uint64_t *a = e ? vg_realloc(tl->al, cap * sizeof *a) : NULL;
        if (!a) return vg_fail(VG_ERR_NOMEM, "summary: out of memory");
        tl->al = a;
        tl->cap = cap;
    }
    if (tl->n && shift) {
        /* An event earlier than all before it (logs are only mostly sorted). */
        memmove(tl->ev + shift, tl->ev, tl->n * sizeof *tl->ev);
        memmove(tl->al + shift, tl->al, tl->n * sizeof *tl->al);
        memset(tl->ev, 0, shift * sizeof *tl->ev);
        memset(tl->al, 0, shift * sizeof *tl->al);
    }
    size_t old_end = tl->n ? tl->n + shift : 0;
    if (need > old_end) {
        memset(tl->ev + old_end, 0, (need - old_end) * sizeof *tl->ev);
        memset(tl->al + old_end, 0, (need - old_end) * sizeof *tl->al);
    }
    tl->h0 = lo;
    tl->n = need;
    tl->ev[h - lo]++;
    tl->al[h - lo] += alert != 0;
    return VG_OK;
}

/* One pass over a log: its detector and what is counted. */
typedef struct pass {
    const vg_format *fs;
    const char *path;
    vg_detector *det;
    vg_source_summary *s;
    counter ent, labels, dims[VG_SUMMARY_MAX_DIMS];
    timeline tl;
    uint64_t line_no;
} pass;

/* One line (no newline): through the detector, then counted if it was
 * scored as an event. cut: longer than the limit (bad). */
static vg_status one_line(pass *ps, const char *line, size_t n, int cut)
{
    ps->line_no++;
    if (n && line[n - 1] == '\r') n--;
    vg_logfmt_event ev;
    vg_alert a;
    int fired = 0;
    vg_status st = vg_detector_line(ps->det, ps->path, 0, ps->line_no, line, n, cut, &ev, &a, &fired);
    if (st || ev.n_fields == 0) return st;
    ps->s->labelled += ev.label != NULL;
    if ((st = counter_add(&ps->ent, ev.entity_len ? ev.entity : NULL, ev.entity_len, fired))) return st;
    for (size_t d = 0; d < ps->fs->n_dims; d++) {
        char buf[64];
        size_t vl = 0;
        const char *v = field_text(&ev, &ps->fs->dims[d], buf, sizeof buf, &vl);
        if ((st = counter_add(&ps->dims[d], v, vl, fired))) return st;
    }
    if (fired && (st = counter_add(&ps->labels, a.label, strlen(a.label), 1))) return st;
    vg_source_summary *s = ps->s;
    if (ev.time > 0) {
        if (isnan(s->first_time) || ev.time < s->first_time) s->first_time = ev.time;
        if (isnan(s->last_time) || ev.time > s->last_time) s->last_time = ev.time;
    }
    return timeline_add(&ps->tl, ev.time, fired);
}

/* Stream the file (plain or gzip: zlib reads both) through one_line in a
 * buffer of one line's limit, so memory stays flat however big the log.
 * The rest of an over-long line is skipped up to its newline. */
static vg_status read_lines(pass *ps, size_t max_line)
{
    gzFile gz = gzopen(ps->path, "rb");
    if (!gz) return vg_fail(VG_ERR_IO, "%s: cannot open: %s", ps->path, errno ? strerror(errno) : "out of memory");
    size_t limit = max_line ? max_line : (size_t)1 << 20, cap = limit + 2;  /* + '\r' and one byte to see it is too long */
    char *buf = vg_malloc(cap);
    if (!buf) {
        gzclose(gz);
        return vg_fail(VG_ERR_NOMEM, "summary: out of memory");
    }
    size_t have = 0;
    int skipping = 0, eof = 0;
    vg_status st = VG_OK;
    while (!st && !eof) {
        int r = gzread(gz, buf + have, (unsigned)(cap - have));
        if (r < 0) {
            int zerr;
            const char *msg = gzerror(gz, &zerr);
            st = vg_fail(VG_ERR_IO, "%s: read failed: %s", ps->path, zerr == Z_ERRNO ? strerror(errno) : msg);
            break;
        }
        eof = r == 0;
        have += (size_t)r;
        size_t start = 0;
        char *nl;
        while (!st && (nl = memchr(buf + start, '\n', have - start))) {
            size_t n = (size_t)(nl - (buf + start));
            if (skipping) skipping = 0;  /* the tail of a line already counted */
            else st = one_line(ps, buf + start, n, max_line && n > max_line + (n && buf[start + n - 1] == '\r'));
            start += n + 1;
        }
        memmove(buf, buf + start, have - start);
        have -= start;
        if (!st && have == cap) {
            if (!skipping) st = one_line(ps, buf, have, 1);
            skipping = 1;
            have = 0;
        }
        if (!st && eof && have && !skipping) st = one_line(ps, buf, have, max_line && have > max_line);
    }
    vg_free(buf);
    gzclose(gz);
    return st;
}

vg_status vg_source_summarize(const vg_model *m, const char *path, const vg_summary_params *params,
                              vg_source_summary **out)
{
    *out = NULL;
    vg_summary_params p = params ? *params : vg_summary_params_default();
    if (p.top == 0) p.top = 10;
    if (p.max_keys == 0) p.max_keys = 1000000;
    if (p.max_hours == 0) p.max_hours = 24 * 400;
    const char *format = p.format ? p.format : vg_model_format(m);
    /* Which fields are counted, and how they read, is the format's row. */
    const vg_format *fs = vg_format_find(format);
    if (!fs || !fs->entity_name) {
        char names[256];
        vg_format_names(names, sizeof names, ", ", has_summary);
        return vg_fail(VG_ERR_INVALID, "summary: '%s' is not a log format (%s)", format, names);
    }

    vg_watch_params wp = vg_watch_params_default(m);
    wp.format = format;
    wp.threshold = p.threshold;
    if (p.log) wp.log = *p.log;
    pass ps = { .fs = fs, .path = path, .tl = { .max = p.max_hours } };
    counter_init(&ps.ent, p.max_keys);
    counter_init(&ps.labels, p.max_keys);
    for (size_t d = 0; d < VG_SUMMARY_MAX_DIMS; d++) counter_init(&ps.dims[d], p.max_keys);
    vg_source_summary *s = ps.s = vg_calloc(1, sizeof *s);
    vg_status st;
    if (!s || !(s->source = dup_str(path))) {
        st = vg_fail(VG_ERR_NOMEM, "summary: out of memory");
        goto done;
    }
    if ((st = vg_detector_new(m, "report", &wp, &ps.det))) goto done;
    s->format = fs->name;
    s->entity_name = fs->entity_name;
    s->threshold = vg_detector_threshold(ps.det);
    s->first_time = s->last_time = NAN;
    if ((st = read_lines(&ps, wp.log.max_line_bytes))) goto done;

    const vg_watch_stats *ws = vg_detector_stats(ps.det);
    s->lines = ws->lines;
    s->events = ws->events;
    s->skipped = ws->skipped;
    s->bad = ws->bad;
    s->alerts = ws->alerts;
    s->first_bad_line = ws->first_bad_line;
    snprintf(s->first_bad_message, sizeof s->first_bad_message, "%s", ws->first_bad_message);
    if ((st = finish_table(&ps.ent, "Entities", "entity", p.top, &s->entities))) goto done;
    for (size_t d = 0; d < fs->n_dims; d++)
        if ((st = finish_table(&ps.dims[d], fs->dims[d].title, fs->dims[d].field, p.top, &s->dims[d]))) goto done;
    s->n_dims = fs->n_dims;
    if ((st = finish_table(&ps.labels, "Alert labels", "label", p.top, &s->labels))) goto done;
    s->hour0 = (double)ps.tl.h0 * 3600.0;
    s->n_hours = ps.tl.n;
    s->hour_events = ps.tl.ev;
    s->hour_alerts = ps.tl.al;
    ps.tl.ev = ps.tl.al = NULL;

done:
    vg_free(ps.tl.ev);
    vg_free(ps.tl.al);
    counter_free(&ps.ent);
    counter_free(&ps.labels);
    for (size_t d = 0; d < VG_SUMMARY_MAX_DIMS; d++) counter_free(&ps.dims[d]);
    vg_detector_free(ps.det);
    if (st) vg_source_summary_free(s);
    else *out = s;
    return st;
}

void vg_source_summary_free(vg_source_summary *s)
{
    if (!s) return;
    free_table(&s->entities);
    for (size_t d = 0; d < VG_SUMMARY_MAX_DIMS; d++) free_table(&s->dims[d]);
    free_table(&s->labels);
    vg_free(s->hour_events);
    vg_free(s->hour_alerts);
    vg_free(s->source);
    vg_free(s);
}
