/* libFuzzer target for the weblog format: any bytes, split into lines and fed
 * to one state, must give an event or VG_ERR_PARSE/VG_ERR_LIMIT with a
 * one-line message, never a crash; the URL features must accept any bytes. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "vigil/format.h"
#include "vigil/logformat.h"
#include "vigil/urlfeat.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A private, tiny range file keeps each run fast (the built-in database
 * takes a quarter second to load). */
static const char *geo_file(void)
{
    static char path[] = "/tmp/vigil-fuzz-geo.txt";
    static int done;
    if (!done) {
        FILE *f = fopen(path, "w");
        if (f) {
            fputs("16777216,16777471,AU\n2001:db8::,2001:db8::ffff,ZZ\n", f);
            fclose(f);
        }
        done = 1;
    }
    return path;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    vg_logfmt_options o = vg_logfmt_options_default();
    o.max_entities = 8;
    o.entity_ttl = 100;
    o.max_line_bytes = 4096;
    o.geoip_path = geo_file();
    /* Every --text field too: their copies must fit the state's buffer for any line. */
    static const char *const text[] = { "request", "path", "query", "agent" };
    o.text = text;
    o.n_text = 4;
    void *state = NULL;
    if (vg_weblog_format.state_new(&o, &state)) __builtin_trap();
    const char *s = (const char *)data;
    for (size_t i = 0; i <= size;) {
        size_t j = i;
        while (j < size && s[j] != '\n') j++;
        vg_logfmt_event ev;
        vg_status st = vg_weblog_format.process(state, s + i, j - i, &ev);
        if (st == VG_OK) {
            if (ev.n_fields == 0 || ev.entity_len == 0) __builtin_trap();
            for (size_t k = 0; k < ev.n_fields; k++)
                if (ev.fields[k].kind == VG_FIELD_TEXT && ev.fields[k].text_len && !ev.fields[k].text) __builtin_trap();
        } else if ((st != VG_ERR_PARSE && st != VG_ERR_LIMIT) || strchr(vg_last_error(), '\n')) {
            __builtin_trap();
        }
        vg_logfmt_state_stats held;
        vg_weblog_format.state_stats(state, &held);
        if (held.entities > 8) __builtin_trap();
        i = j + 1;
    }
    double f[VG_URLFEAT_COUNT];
    vg_urlfeat_compute(s, size, f);
    (void)vg_urlfeat_ext_class(s, size);
    vg_weblog_format.state_free(state);
    return 0;
}
