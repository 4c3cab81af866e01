/* Named models with lock-free acquire and atomic hot reload (see catalog.h). */
#include "serve/catalog.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "vigil/evaluate.h"
#include "eval/json_out.h"

/* GET /v1/models/NAME lists at most this many categories per input. */
#define MAX_LISTED_CATEGORIES 1000
#define MAX_NAME 64

typedef struct slot {
    char *name, *path;
    _Atomic(vg_served *) current;
    atomic_uint epoch;
    atomic_long readers[2];
    uint64_t generation;
    int missing;         /* vg_missing_policy; set before serving, read only afterwards */
    pthread_mutex_t reload_lock;
    atomic_ullong reloads_ok, reloads_failed;  /* for /metrics */
} slot;

struct vg_catalog {
    slot **slots;   /* each slot stays put: it holds a mutex and atomics */
    size_t n;
};

static double wall_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

static void iso_time(double t, char *buf, size_t size)
{
    time_t s = (time_t)t;
    struct tm tm;
    gmtime_r(&s, &tm);
    strftime(buf, size, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static void served_free(vg_served *s)
{
    if (!s) return;
    vg_model_free(s->model);
    vg_free(s->summary_json);
    vg_free(s->detail_json);
    vg_free(s);
}

void vg_served_release(vg_served *s)
{
    if (s && atomic_fetch_sub(&s->refs, 1) == 1) served_free(s);
}

/* cJSON text -> a vg_malloc'd copy (NULL on failure). */
static char *print_json(cJSON *o)
{
    char *text = o ? cJSON_PrintUnformatted(o) : NULL;
    char *copy = text ? vg_strdup(text) : NULL;
    cJSON_free(text);
    return copy;
}

static void add_common(cJSON *o, const vg_served *s)
{
    const vg_model *m = s->model;
    char when[32];
    iso_time(s->loaded_at, when, sizeof when);
    cJSON_AddStringToObject(o, "name", s->name);
    cJSON_AddStringToObject(o, "family", vg_model_family(m));
    cJSON_AddStringToObject(o, "task", vg_task_str(vg_model_task(m)));
    const vg_classes *c = vg_model_classes(m);
    cJSON *classes = cJSON_AddArrayToObject(o, "classes");
    for (uint32_t k = 0; k < c->n && !s->regression; k++) cJSON_AddItemToArray(classes, cJSON_CreateString(c->names[k]));
    if (!s->regression)
        cJSON_AddStringToObject(o, s->multiclass ? "normal_class" : "positive_class", c->names[s->multiclass ? s->rule.normal : s->rule.positive]);
    cJSON_AddStringToObject(o, "file", s->path);
    cJSON_AddNumberToObject(o, "inputs", (double)s->n_inputs);
    cJSON_AddStringToObject(o, "loaded_at", when);
    cJSON_AddNumberToObject(o, "generation", (double)s->generation);
    cJSON_AddBoolToObject(o, "can_explain", s->can_explain);
}

/* The schema, metrics, an example record and the importance of s. */
static char *detail_json(const vg_served *s)
{
    const vg_model *m = s->model;
    const vg_pipeline *p = vg_model_pipeline(m);
    cJSON *o = cJSON_CreateObject();
    if (!o) return NULL;
    add_common(o, s);
    cJSON *inputs = cJSON_AddArrayToObject(o, "schema");
    cJSON *example = cJSON_CreateObject();
    for (size_t i = 0; i < s->n_inputs; i++) {
        const char *name = vg_pipeline_input_name(p, i);
        cJSON *in = cJSON_CreateObject();
        cJSON_AddStringToObject(in, "name", name);
        if (vg_pipeline_input_type(p, i) == VG_COLUMN_NUMERIC) {
            cJSON_AddStringToObject(in, "type", "numeric");
            double med = vg_pipeline_input_median(p, i);
            cJSON_AddNumberToObject(in, "median", med);
            cJSON_AddNumberToObject(example, name, isfinite(med) ? med : 0);
        } else {
            uint32_t n = vg_pipeline_input_n_categories(p, i);
            cJSON_AddStringToObject(in, "type", "categorical");
            cJSON_AddNumberToObject(in, "n_categories", n);
            cJSON *cats = cJSON_AddArrayToObject(in, "categories");
            for (uint32_t k = 0; k < n && k < MAX_LISTED_CATEGORIES; k++)
                cJSON_AddItemToArray(cats, cJSON_CreateString(vg_pipeline_input_category(p, i, k)));
            cJSON_AddBoolToObject(in, "categories_truncated", n > MAX_LISTED_CATEGORIES);
            /* The pipeline keeps categories in first-seen order of the
             * training data; the first is a value the model surely knows. */
            if (n) cJSON_AddStringToObject(example, name, vg_pipeline_input_category(p, i, 0));
            else cJSON_AddNullToObject(example, name);
        }
        cJSON_AddItemToArray(inputs, in);
    }
    const char *metrics = vg_model_metrics_json(m);
    cJSON *mj = metrics ? cJSON_Parse(metrics) : NULL;
    if (mj) cJSON_AddItemToObject(o, "metrics", mj);
    else cJSON_AddNullToObject(o, "metrics");
    cJSON_AddItemToObject(o, "example", example);
    vg_importance_to_json(m, o);
    char *text = print_json(o);
    cJSON_Delete(o);
    return text;
}

static char *summary_json(const vg_served *s)
{
    cJSON *o = cJSON_CreateObject();
    if (!o) return NULL;
    add_common(o, s);
    char *text = print_json(o);
    cJSON_Delete(o);
    return text;
}

/* Load slot `sl`'s file into a new vg_served (one reference, for the slot). */
static vg_status load_served(slot *sl, size_t index, vg_served **out)
{
    *out = NULL;
    vg_served *s = vg_calloc(1, sizeof *s);
    if (!s) return vg_fail(VG_ERR_NOMEM, "out of memory");
    vg_status st = vg_model_load(sl->path, &s->model);
    if (st) {
        vg_free(s);
        return st;
    }
    const vg_model *m = s->model;
    atomic_init(&s->refs, 1);
    s->name = sl->name;
    s->slot = index;
    s->path = sl->path;
    s->loaded_at = wall_now();
    s->generation = sl->generation + 1;
    if ((st = vg_decision_rule_for_model(m, NAN, &s->rule))) {
        served_free(s);
        return st;
    }
    s->regression = s->rule.kind == VG_OUTPUT_VALUE;
    s->multiclass = s->rule.kind == VG_OUTPUT_MULTICLASS;
    s->can_explain = vg_model_can_explain(m);
    s->n_inputs = vg_pipeline_n_inputs(vg_model_pipeline(m));
    s->summary_json = summary_json(s);
    s->detail_json = detail_json(s);
    if (!s->summary_json || !s->detail_json) {
        served_free(s);
        return vg_fail(VG_ERR_NOMEM, "out of memory describing model '%s'", sl->name);
    }
    *out = s;
    return VG_OK;
}

vg_status vg_catalog_new(vg_catalog **out)
{
    *out = vg_calloc(1, sizeof **out);
    return *out ? VG_OK : vg_fail(VG_ERR_NOMEM, "out of memory");
}

void vg_catalog_free(vg_catalog *c)
{
    if (!c) return;
    for (size_t i = 0; i < c->n; i++) {
        slot *sl = c->slots[i];
        vg_served_release(atomic_load(&sl->current));
        pthread_mutex_destroy(&sl->reload_lock);
        vg_free(sl->name);
        vg_free(sl->path);
        vg_free(sl);
    }
    vg_free(c->slots);
    vg_free(c);
}

static int valid_name(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > MAX_NAME) return 0;
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') || *s == '_' ||
              *s == '-' || *s == '.'))
            return 0;
    return 1;
}

vg_status vg_catalog_add(vg_catalog *c, const char *name, const char *path)
{
    char base[MAX_NAME + 1];
    if (!name) {
        const char *b = strrchr(path, '/');
        b = b ? b + 1 : path;
        size_t n = strlen(b);
        if (n > 4 && strcmp(b + n - 4, ".vgm") == 0) n -= 4;
        if (n > MAX_NAME) n = MAX_NAME;
        memcpy(base, b, n);
        base[n] = '\0';
        name = base;
    }
    if (!valid_name(name))
        return vg_fail(VG_ERR_INVALID,
                       "model name '%s': use 1 to %d letters, digits, '_', '-' or '.' (give one with NAME=FILE)",
                       name, MAX_NAME);
    if (vg_catalog_find(c, name, strlen(name)) >= 0)
        return vg_fail(VG_ERR_INVALID, "model name '%s' is used twice (give distinct names with NAME=FILE)", name);
    slot **slots = vg_realloc(c->slots, (c->n + 1) * sizeof *slots);
    if (!slots) return vg_fail(VG_ERR_NOMEM, "out of memory");
    c->slots = slots;
    slot *sl = vg_calloc(1, sizeof *sl);
    if (!sl) return vg_fail(VG_ERR_NOMEM, "out of memory");
    sl->name = vg_strdup(name);
    sl->path = vg_strdup(path);
    vg_served *s = NULL;
    vg_status st = sl->name && sl->path ? load_served(sl, c->n, &s) : vg_fail(VG_ERR_NOMEM, "out of memory");
    if (st) {
        vg_free(sl->name);
        vg_free(sl->path);
        vg_free(sl);
        return st;
    }
    sl->generation = s->generation;
    atomic_init(&sl->current, s);
    atomic_init(&sl->epoch, 0);
    atomic_init(&sl->readers[0], 0);
    atomic_init(&sl->readers[1], 0);
    atomic_init(&sl->reloads_ok, 0);
    atomic_init(&sl->reloads_failed, 0);
    pthread_mutex_init(&sl->reload_lock, NULL);
    slots[c->n++] = sl;
    return VG_OK;
}

size_t vg_catalog_count(const vg_catalog *c)
{
    return c->n;
}

const char *vg_catalog_name(const vg_catalog *c, size_t i)
{
    return c->slots[i]->name;
}

long vg_catalog_find(const vg_catalog *c, const char *name, size_t len)
{
    for (size_t i = 0; i < c->n; i++)
        if (strncmp(c->slots[i]->name, name, len) == 0 && c->slots[i]->name[len] == '\0') return (long)i;
    return -1;
}

void vg_catalog_set_missing(vg_catalog *c, size_t i, int policy)
{
    c->slots[i]->missing = policy;
}

int vg_catalog_missing(const vg_catalog *c, size_t i)
{
    return c->slots[i]->missing;
}

vg_served *vg_catalog_acquire(vg_catalog *c, size_t i)
{
    slot *sl = c->slots[i];
    unsigned e;
    for (;;) {
        e = atomic_load(&sl->epoch);
        atomic_fetch_add(&sl->readers[e & 1], 1);
        if (atomic_load(&sl->epoch) == e) break;
        /* A reload moved the epoch on meanwhile: announce in the new one. */
        atomic_fetch_sub(&sl->readers[e & 1], 1);
    }
    vg_served *s = atomic_load(&sl->current);
    atomic_fetch_add(&s->refs, 1);
    atomic_fetch_sub(&sl->readers[e & 1], 1);
    return s;
}

vg_status vg_catalog_reload(vg_catalog *c, size_t i)
{
    slot *sl = c->slots[i];
    pthread_mutex_lock(&sl->reload_lock);
    vg_served *fresh = NULL;
    vg_status st = load_served(sl, i, &fresh);
    if (st) {
        vg_error_prefix("reload of model '%s' failed, the previous model keeps serving: ", sl->name);
        atomic_fetch_add(&sl->reloads_failed, 1);
        pthread_mutex_unlock(&sl->reload_lock);
        return st;
    }
    sl->generation = fresh->generation;
    vg_served *old = atomic_exchange(&sl->current, fresh);
    unsigned e = atomic_fetch_add(&sl->epoch, 1);
    /* Readers of epoch e may have read `old` and not yet taken their
     * reference; they hold the counter only for a few instructions. */
    while (atomic_load(&sl->readers[e & 1]) != 0) sched_yield();
    atomic_fetch_add(&sl->reloads_ok, 1);
    pthread_mutex_unlock(&sl->reload_lock);
    vg_served_release(old);
    return VG_OK;
}

void vg_catalog_reloads(const vg_catalog *c, size_t i, uint64_t *ok, uint64_t *failed)
{
    *ok = atomic_load(&c->slots[i]->reloads_ok);
    *failed = atomic_load(&c->slots[i]->reloads_failed);
}
