/* The report's log sections: a summary per source file (what it holds and
 * what the model raises on it) and the summary of an alert store written by
 * `vigil watch`. Kept apart from report.c, which draws the evaluation.
 * Internal to the library. */
#ifndef VG_REPORT_REPORT_SOURCES_H
#define VG_REPORT_REPORT_SOURCES_H

#include <stddef.h>
#include "vigil/alerts.h"
#include "vigil/buf.h"
#include "vigil/source_summary.h"

/* Extra rules for the report's stylesheet (bars with an alert share, the
 * timeline, the per-source blocks). */
extern const char vg_report_sources_css[];

/* <section id="sources"> with one block per summary (nothing when n == 0). */
void vg_report_put_sources(vg_wbuf *w, const vg_source_summary *const *s, size_t n);

/* <section id="alert-store"> for the summary of the store at `path`. */
void vg_report_put_alert_store(vg_wbuf *w, const vg_alert_summary *a, const char *path);

#endif
