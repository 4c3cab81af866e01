/* Synthetic security logs with ground truth, for demos, tests and
 * benchmarks: realistic background traffic plus labelled attacks (credential
 * stuffing, brute force, account takeover from new countries, scanners, SQL
 * injection / XSS / traversal probes). Reproducible from a seed. */
#ifndef VIGIL_SYNTH_H
#define VIGIL_SYNTH_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include "vigil/core.h"
#include "vigil/format.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct vg_synth_params {
    uint64_t seed;
    size_t events;           /* lines to write (default 100000) */
    double attack_fraction;  /* share of events that belong to attacks (default 0.05) */
    double start_time;       /* unix seconds of the first event (default 2026-01-01) */
    FILE *truth;             /* optional: per line "LINE,KIND" for attack lines (KIND = attack kind) */
} vg_synth_params;

VG_API vg_synth_params vg_synth_params_default(void);

typedef struct vg_synth_generator {
    const vg_format *format; /* the format it writes (a row of the format registry) */
    const char *summary;     /* what it writes and which attacks, for `vigil synth --help` */
    vg_status (*write)(FILE *out, const vg_synth_params *p);
} vg_synth_generator;

/* The generator for a format named `format`, or NULL. */
VG_API const vg_synth_generator *vg_synth_find(const char *format);
/* Generator i in registry order, NULL past the last: for listing them. */
VG_API const vg_synth_generator *vg_synth_at(size_t i);
extern VG_API const vg_synth_generator vg_synth_login;   /* src/features/synth_login.c */
extern VG_API const vg_synth_generator vg_synth_weblog;  /* src/features/synth_weblog.c */

#ifdef __cplusplus
}
#endif

#endif
