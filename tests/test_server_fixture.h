/* Small models for the server tests, trained in-process on a synthetic CSV
 * (a tree, so it takes milliseconds): binary with classes normal/attack,
 * multiclass with normal/dos/probe. Header-only, shared by
 * tests/test_server*.c. */
#ifndef VG_TEST_SERVER_FIXTURE_H
#define VG_TEST_SERVER_FIXTURE_H

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "vigil/model.h"

/* Train a tree on `rows` synthetic records and save it; returns the .vgm
 * path (static buffer per `tag`) or NULL. bytes > 500 is an attack
 * (multiclass: dos, and proto icmp with rate >= 0.5 is probe). */
static const char *fixture_model(const char *tag, int multiclass, const char *family)
{
    static char csv_path[4][256], vgm_path[4][256];
    static int slot;
    int k = slot++ % 4;
    snprintf(csv_path[k], sizeof csv_path[k], "/tmp/vg_srvfix_%d_%s.csv", (int)getpid(), tag);
    snprintf(vgm_path[k], sizeof vgm_path[k], "/tmp/vg_srvfix_%d_%s.vgm", (int)getpid(), tag);
    FILE *f = fopen(csv_path[k], "w");
    if (!f) return NULL;
    static const char *const protos[] = { "tcp", "udp", "icmp" };
    fputs("bytes,proto,rate,label\n", f);
    for (int i = 0; i < 600; i++) {
        int bytes = (i * 37) % 1000;
        const char *proto = protos[i % 3];
        double rate = (i % 10) / 10.0;
        const char *label = bytes > 500 ? (multiclass ? "dos" : "attack") : "normal";
        if (multiclass && i % 3 == 2 && rate >= 0.5) label = "probe";
        fprintf(f, "%d,%s,%.1f,%s\n", bytes, proto, rate, label);
    }
    fclose(f);
    vg_data_spec spec = { .format = "csv", .task = multiclass ? VG_TASK_LABEL : VG_TASK_BINARY,
                          .positive = multiclass ? NULL : "attack" };
    vg_table *t = NULL;
    vg_model *m = NULL;
    const char *params[] = { "max_depth=6" };
    int ok = vg_data_read(csv_path[k], &spec, &t) == VG_OK;
    vg_train_request rq = { .table = t, .data = spec, .model = family ? family : "tree", .params = params,
                            .n_params = 1, .seed = 1, .threads = 1 };
    ok = ok && vg_model_train(&rq, &m) == VG_OK && vg_model_save(m, vgm_path[k]) == VG_OK;
    if (!ok) fprintf(stderr, "fixture_model: %s\n", vg_last_error());
    vg_model_free(m);
    vg_table_free(t);
    unlink(csv_path[k]);
    return ok ? vgm_path[k] : NULL;
}

#endif
