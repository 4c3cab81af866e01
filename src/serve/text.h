/* A growable text buffer in a request's arena, with the JSON and number
 * formatting the responses need. Running out of memory sets `failed` and
 * later writes are dropped, so a writer checks once at the end. */
#ifndef VG_SERVE_TEXT_H
#define VG_SERVE_TEXT_H

#include <stddef.h>

#include "serve/arena.h"

typedef struct vg_text {
    vg_arena *a;
    char *data;
    size_t len, cap;
    int failed;
} vg_text;

void vg_text_init(vg_text *t, vg_arena *a, size_t cap);
void vg_text_put(vg_text *t, const char *s, size_t n);
void vg_text_puts(vg_text *t, const char *s);
void vg_text_putc(vg_text *t, char c);
void vg_text_printf(vg_text *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* s[0..n) as a quoted JSON string, escaping quotes, backslashes and control
 * characters (the text is assumed to be UTF-8). */
void vg_text_json_str(vg_text *t, const char *s, size_t n);
void vg_text_json_cstr(vg_text *t, const char *s);
/* A number as JSON: shortest form with `digits` significant digits; NaN and
 * infinities become null, which JSON cannot express otherwise. */
void vg_text_json_num(vg_text *t, double v, int digits);
/* A whole number in decimal. */
void vg_text_u64(vg_text *t, unsigned long long v);

#endif
