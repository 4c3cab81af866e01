/* JSON records to vg_field arrays, and their warnings (see record.h). */
#include "serve/record.h"

#include <string.h>

vg_status vg_record_fields(const vg_jtape *t, size_t obj, const vg_pipeline *p, size_t max_fields, vg_arena *a,
                           vg_field **fields, size_t *n)
{
    *fields = NULL;
    *n = 0;
    const vg_jnode *o = &t->nodes[obj];
    if (o->type != VG_JOBJECT)
        return vg_fail(VG_ERR_INVALID, "a record must be a JSON object of field names and values, not %s",
                       vg_jtype_str(o->type));
    if (o->len > max_fields)
        return vg_fail(VG_ERR_LIMIT, "the record has %u fields, more than the limit of %zu (--max-fields)", o->len,
                       max_fields);
    vg_field *f = vg_arena_alloc(a, (o->len ? o->len : 1) * sizeof *f);
    if (!f) return vg_fail(VG_ERR_NOMEM, "out of memory for the record");
    size_t k = obj + 1;
    for (uint32_t m = 0; m < o->len; m++) {
        const vg_jnode *key = &t->nodes[k], *val = &t->nodes[k + 1];
        vg_field *fd = &f[m];
        fd->name = key->v.str;
        fd->name_len = key->len;
        fd->text = NULL;
        fd->text_len = 0;
        fd->number = 0;
        switch ((vg_jtype)val->type) {
        case VG_JNULL: fd->kind = VG_FIELD_NULL; break;
        case VG_JTRUE:
        case VG_JFALSE:
            fd->kind = VG_FIELD_NUMBER;
            fd->number = val->type == VG_JTRUE;
            break;
        case VG_JNUMBER:
            fd->kind = VG_FIELD_NUMBER;
            fd->number = val->v.num;
            break;
        case VG_JSTRING:
            fd->kind = VG_FIELD_TEXT;
            fd->text = val->v.str;
            fd->text_len = val->len;
            break;
        case VG_JARRAY:
        case VG_JOBJECT: {
            size_t fed[VG_PIPELINE_MAX_DERIVED];
            if (vg_pipeline_field_inputs(p, key->v.str, key->len, fed) > 0)
                return vg_fail(VG_ERR_INVALID, "field '%.*s': expected a number, a string or null, not %s",
                               (int)VG_MIN(key->len, 128), key->v.str, vg_jtype_str(val->type));
            fd->kind = VG_FIELD_NULL;  /* not an input: reported as unknown */
            break;
        }
        }
        k = val->next;
    }
    *fields = f;
    *n = o->len;
    return VG_OK;
}

typedef struct warner {
    vg_text *out;
    size_t written, more, max;
} warner;

static int room(warner *w)
{
    if (w->written < w->max) return 1;
    w->more++;
    return 0;
}

static void open_warning(warner *w)
{
    if (w->written++) vg_text_putc(w->out, ',');
}

static void warn_field(warner *w, const char *before, const char *name, size_t len, const char *after)
{
    if (!room(w)) return;
    open_warning(w);
    /* Build the message in the output, then quote it: names are client
     * text and need escaping. */
    vg_text msg;
    vg_text_init(&msg, w->out->a, 128);
    vg_text_puts(&msg, before);
    vg_text_put(&msg, name, VG_MIN(len, 128));
    vg_text_puts(&msg, after);
    if (msg.failed) {
        w->out->failed = 1;
        return;
    }
    vg_text_json_str(w->out, msg.data, msg.len);
}

size_t vg_record_warnings(const vg_pipeline *p, const vg_field *fields, size_t n, const vg_record_report *rep,
                          size_t max, vg_arena *a, vg_text *out)
{
    warner w = { .out = out, .max = max };
    size_t n_inputs = vg_pipeline_n_inputs(p);
    int nulls = 0;
    for (size_t f = 0; f < n; f++) nulls |= fields[f].kind == VG_FIELD_NULL;
    if (!rep->unknown && !rep->missing && !rep->unseen && !nulls) return 0;
    /* The slow path: look every field up again to name the culprits. */
    unsigned char *given = vg_arena_alloc(a, n_inputs ? n_inputs : 1);
    float *row = vg_arena_alloc(a, (vg_pipeline_n_features(p) ? vg_pipeline_n_features(p) : 1) * sizeof *row);
    if (!given || !row) {
        out->failed = 1;
        return 0;
    }
    memset(given, 0, n_inputs);
    for (size_t f = 0; f < n; f++) {
        const vg_field *fd = &fields[f];
        size_t fed[VG_PIPELINE_MAX_DERIVED];
        size_t k = vg_pipeline_field_inputs(p, fd->name, fd->name_len, fed);
        if (k == 0) {
            warn_field(&w, "unknown field '", fd->name, fd->name_len, "' ignored");
            continue;
        }
        int categorical = 0;
        for (size_t j = 0; j < k; j++) {
            given[fed[j]] = 1;
            categorical |= vg_pipeline_input_type(p, fed[j]) == VG_COLUMN_CATEGORICAL;
        }
        if (fd->kind == VG_FIELD_NULL) {
            warn_field(&w, "field '", fd->name, fd->name_len, "' is null: imputed");
        } else if (rep->unseen && categorical) {
            /* Encode the field alone: the pipeline's own lookup decides
             * whether its value is a known category. */
            vg_record_report one;
            if (vg_pipeline_transform_record(p, fd, 1, row, &one) == VG_OK && one.unseen) {
                if (!room(&w)) continue;
                open_warning(&w);
                vg_text msg;
                vg_text_init(&msg, a, 128);
                vg_text_puts(&msg, "field '");
                vg_text_put(&msg, fd->name, VG_MIN(fd->name_len, 128));
                vg_text_puts(&msg, "': category '");
                if (fd->kind == VG_FIELD_TEXT) vg_text_put(&msg, fd->text, VG_MIN(fd->text_len, 128));
                else vg_text_printf(&msg, "%.17g", fd->number);
                vg_text_puts(&msg, "' was never seen in training: encoded as unknown");
                if (msg.failed) out->failed = 1;
                else vg_text_json_str(out, msg.data, msg.len);
            }
        }
    }
    for (size_t i = 0; i < n_inputs && rep->missing; i++)
        if (!given[i]) {
            const char *name = vg_pipeline_input_name(p, i);
            warn_field(&w, "missing field '", name, strlen(name), "': imputed");
        }
    if (w.more) {
        open_warning(&w);
        vg_text msg;
        vg_text_init(&msg, a, 64);
        vg_text_printf(&msg, "... and %zu more warnings", w.more);
        vg_text_json_str(out, msg.data, msg.len);
    }
    return w.written;
}
