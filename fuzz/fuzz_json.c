/* libFuzzer target for the server's request JSON parser (serve/json_tape):
 * any bytes must give a tape whose nodes nest inside the text and each
 * other, or a status with a one-line message, never a crash; the arena is
 * bounded as a request's is. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "serve/json_tape.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    _Alignas(max_align_t) char first[4096];
    vg_arena a;
    vg_arena_init(&a, first, sizeof first, 1 << 20);
    vg_jtape t;
    vg_status st = vg_jtape_parse((const char *)data, size, 16, &a, &t);
    if (st == VG_OK) {
        if (t.n == 0) __builtin_trap();
        for (size_t i = 0; i < t.n; i++) {
            const vg_jnode *n = &t.nodes[i];
            if (n->pos > n->end || n->end > size || n->next <= i || n->next > t.n) __builtin_trap();
            if (n->type > VG_JOBJECT) __builtin_trap();
            if (n->type == VG_JSTRING && n->len && !n->v.str) __builtin_trap();
        }
        if (t.nodes[0].next != t.n) __builtin_trap();
        if (t.nodes[0].type == VG_JOBJECT) (void)vg_jtape_member(&t, 0, "duration");
    } else if (vg_last_error()[0] == '\0' || strchr(vg_last_error(), '\n') != NULL) {
        __builtin_trap();
    }
    vg_arena_free(&a);
    return 0;
}
