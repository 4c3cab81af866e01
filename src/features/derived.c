/* Inputs derived from one raw field on the record path (see derived.h). */
#include "features/derived.h"

#include <math.h>
#include <string.h>

#include "vigil/ipfeat.h"

typedef enum { SOURCE_URL, SOURCE_IP } source_kind;

/* One raw field and the inputs it yields: input[k] for derived column k of
 * its kind (-1 when the pipeline dropped that column). */
typedef struct source {
    const char *name;  /* points into the pipeline's input name */
    size_t name_len;
    source_kind kind;
    long input[VG_DERIVED_MAX];
} source;

struct vg_derived {
    size_t n;
    source *sources;
};

/* Column k of a kind: its suffix after "COL.", or NULL past the end. */
static const char *suffix(source_kind kind, size_t k)
{
    if (kind == SOURCE_IP) return k < VG_IPFEAT_COLUMNS ? vg_ipfeat_suffix((int)k) : NULL;
    return k < VG_URLFEAT_COUNT ? vg_urlfeat_name(k) : k == VG_URLFEAT_COUNT ? "url_ext" : NULL;
}

/* The kind and column of a derived input name "COL.SUFFIX", split at the
 * last dot; 0 when the name is no derived column. */
static int parse_name(const char *name, size_t *base_len, source_kind *kind, size_t *k)
{
    const char *dot = strrchr(name, '.');
    if (!dot || dot == name) return 0;
    for (int kd = SOURCE_URL; kd <= SOURCE_IP; kd++)
        for (size_t j = 0; suffix((source_kind)kd, j); j++)
            if (strcmp(dot + 1, suffix((source_kind)kd, j)) == 0) {
                *base_len = (size_t)(dot - name), *kind = (source_kind)kd, *k = j;
                return 1;
            }
    return 0;
}

static source *find(const vg_derived *d, const char *name, size_t len)
{
    for (size_t s = 0; s < d->n; s++)
        if (d->sources[s].name_len == len && memcmp(d->sources[s].name, name, len) == 0) return &d->sources[s];
    return NULL;
}

vg_status vg_derived_build(const vg_pipeline *p, vg_derived **out)
{
    *out = NULL;
    size_t ni = vg_pipeline_n_inputs(p);
    vg_derived *d = vg_calloc(1, sizeof *d);
    if (!d) return vg_fail(VG_ERR_NOMEM, "out of memory");
    for (size_t i = 0; i < ni; i++) {
        const char *name = vg_pipeline_input_name(p, i);
        size_t base_len, k;
        source_kind kind;
        /* A source that is itself an input is read as that input. */
        if (!parse_name(name, &base_len, &kind, &k) || vg_pipeline_find_input(p, name, base_len) >= 0) continue;
        source *s = find(d, name, base_len);
        if (s && s->kind != kind) continue;  /* COL.url_* and COL.ip_*: not made by vigil; left to the pipeline */
        if (!s) {
            source *grown = vg_realloc(d->sources, (d->n + 1) * sizeof *grown);
            if (!grown) {
                vg_derived_free(d);
                return vg_fail(VG_ERR_NOMEM, "out of memory");
            }
            d->sources = grown;
            s = &d->sources[d->n++];
            *s = (source){ .name = name, .name_len = base_len, .kind = kind };
            for (size_t j = 0; j < VG_DERIVED_MAX; j++) s->input[j] = -1;
        }
        s->input[k] = (long)i;
    }
    if (d->n == 0) vg_derived_free(d), d = NULL;
    *out = d;
    return VG_OK;
}

void vg_derived_free(vg_derived *d)
{
    if (!d) return;
    vg_free(d->sources);
    vg_free(d);
}

size_t vg_derived_inputs(const vg_derived *d, const char *name, size_t len, size_t *inputs)
{
    const source *s = d ? find(d, name, len) : NULL;
    size_t n = 0;
    for (size_t k = 0; s && k < VG_DERIVED_MAX; k++)
        if (s->input[k] >= 0) inputs[n++] = (size_t)s->input[k];
    return n;
}

static void set_text(vg_derived_value *v, const char *text)
{
    v->field.kind = VG_FIELD_TEXT;
    v->field.text = text;
    v->field.text_len = strlen(text);
}

static void set_number(vg_derived_value *v, double x)
{
    v->field.kind = isnan(x) ? VG_FIELD_NULL : VG_FIELD_NUMBER;
    v->field.number = x;
}

size_t vg_derived_expand(const vg_derived *d, const vg_field *fd, vg_derived_value *out)
{
    const source *s = d ? find(d, fd->name, fd->name_len) : NULL;
    if (!s) return 0;
    int have = fd->kind == VG_FIELD_TEXT;
    double url[VG_URLFEAT_COUNT];
    vg_ipfeat ip = { 0 };
    if (have && s->kind == SOURCE_URL) vg_urlfeat_compute(fd->text, fd->text_len, url);
    if (have && s->kind == SOURCE_IP) vg_ipfeat_compute(fd->text, fd->text_len, &ip);
    size_t n = 0;
    for (size_t k = 0; k < VG_DERIVED_MAX; k++) {
        if (s->input[k] < 0) continue;
        vg_derived_value *v = &out[n++];
        v->input = (size_t)s->input[k];
        v->field = (vg_field){ .name = fd->name, .name_len = fd->name_len, .kind = VG_FIELD_NULL };
        if (!have) continue;
        if (s->kind == SOURCE_URL) {
            if (k < VG_URLFEAT_COUNT) set_number(v, url[k]);
            else set_text(v, vg_urlfeat_ext_class(fd->text, fd->text_len));
            continue;
        }
        const char *text = NULL;
        double x = NAN;
        int type = vg_ipfeat_value(&ip, (int)k, &text, &x);
        if (type == VG_COLUMN_CATEGORICAL) {
            /* The networks live in ip, which goes out of scope: copy them. */
            size_t len = strlen(text);
            if (len >= sizeof v->text) len = sizeof v->text - 1;
            memcpy(v->text, text, len), v->text[len] = '\0';
            set_text(v, v->text);
        } else if (type == VG_COLUMN_NUMERIC) {
            set_number(v, x);
        }
    }
    return n;
}
