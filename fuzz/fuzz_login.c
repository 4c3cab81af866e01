/* libFuzzer target for the login format: any bytes, split into lines and fed
 * to one state (header detection by column names, headerless rows by field
 * count, the per-user online features), must give an event or
 * VG_ERR_PARSE/VG_ERR_LIMIT with a one-line message, never a crash, and the
 * per-user state must stay within its bound. The first byte picks the label
 * mode, because "rule-score" takes a different path (no rule_score field)
 * from the two label columns. The same bytes then go through vg_logfmt_read as
 * a whole file (an in-memory file, so no disk I/O per run), which builds the
 * training table: an error must be a parse, limit or (gzip) I/O error on one
 * line, and a table must have one row per event. */
#define _GNU_SOURCE  /* memfd_create */
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "vigil/format.h"
#include "vigil/logformat.h"
#include "vigil/table.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_ENTITIES 8

static void read_whole(const vg_logfmt_options *o, const uint8_t *data, size_t size)
{
    static int fd = -1;
    static char path[64];
    if (fd < 0) {
        fd = memfd_create("fuzz_login", 0);
        if (fd < 0) __builtin_trap();
        snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
    }
    if (ftruncate(fd, 0) || pwrite(fd, data, size, 0) != (ssize_t)size) __builtin_trap();
    vg_table *t = NULL;
    vg_logfmt_report rep;
    vg_status st = vg_logfmt_read(path, &vg_login_format, o, &t, &rep);
    if (st == VG_OK) {
        if (!t || vg_table_rows(t) != rep.events || rep.events + rep.bad > rep.lines) __builtin_trap();
    } else if (t || (st != VG_ERR_PARSE && st != VG_ERR_LIMIT && st != VG_ERR_IO) || strchr(vg_last_error(), '\n')) {
        __builtin_trap();
    }
    vg_table_free(t);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const labels[] = { NULL, "Is Account Takeover", "rule-score" };
    vg_logfmt_options o = vg_logfmt_options_default();
    o.max_entities = MAX_ENTITIES;
    o.entity_ttl = 100;
    o.max_line_bytes = 4096;
    if (size) {
        o.label = labels[data[0] % 3];
        data++;
        size--;
    }
    void *state = NULL;
    if (vg_login_format.state_new(&o, &state)) __builtin_trap();
    const char *s = (const char *)data;
    for (size_t i = 0; i <= size;) {
        size_t j = i;
        while (j < size && s[j] != '\n') j++;
        vg_logfmt_event ev;
        vg_status st = vg_login_format.process(state, s + i, j - i, &ev);
        if (st == VG_OK) {
            /* A header gives no fields; an event names its user and has
             * well-formed fields. */
            if (ev.n_fields && !ev.entity) __builtin_trap();
            for (size_t k = 0; k < ev.n_fields; k++) {
                const vg_field *f = &ev.fields[k];
                if (!f->name || !f->name_len) __builtin_trap();
                if (f->kind == VG_FIELD_TEXT && f->text_len && !f->text) __builtin_trap();
                if (f->kind == VG_FIELD_NUMBER && isinf(f->number)) __builtin_trap();
            }
            if (ev.label && !ev.label_len) __builtin_trap();
        } else if ((st != VG_ERR_PARSE && st != VG_ERR_LIMIT) || strchr(vg_last_error(), '\n')) {
            __builtin_trap();
        }
        vg_logfmt_state_stats held;
        vg_login_format.state_stats(state, &held);
        if (held.entities > MAX_ENTITIES) __builtin_trap();
        i = j + 1;
    }
    vg_login_format.state_free(state);
    read_whole(&o, data, size);
    return 0;
}
