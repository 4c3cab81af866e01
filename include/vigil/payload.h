/* Payload families in canonical text (vigil/canon.h: decoded, lower case,
 * comments and whitespace runs collapsed): counts of the signs of each kind
 * of injection, for the features of every attacker-controlled field. The
 * signs are the grammar of the attack, not one tool's strings: a UNION
 * followed by SELECT, an OR/AND whose two sides are equal, a time-delay
 * call, a statement after ';', a tag or an on*= handler, a path that climbs,
 * a shell metacharacter before a command, a template expression, a CR/LF,
 * a ${jndi: lookup however it is spelled. No state, thread-safe. */
#ifndef VIGIL_PAYLOAD_H
#define VIGIL_PAYLOAD_H

#include <stddef.h>
#include <stdint.h>
#include "vigil/core.h"

#ifdef __cplusplus
extern "C" {
#endif

enum {
    VG_PAYLOAD_SQL = 0,        /* SQL words and functions (select ... from, information_schema, concat(, ...) */
    VG_PAYLOAD_SQL_UNION,      /* UNION [ALL|DISTINCT] SELECT */
    VG_PAYLOAD_SQL_TAUTOLOGY,  /* OR/AND x=x, OR true, '=' between equal quoted values */
    VG_PAYLOAD_SQL_TIME,       /* SLEEP(, BENCHMARK(, WAITFOR DELAY, PG_SLEEP(, RANDOMBLOB(, DBMS_PIPE */
    VG_PAYLOAD_SQL_STACKED,    /* ; followed by a statement */
    VG_PAYLOAD_SQL_QUOTE,      /* a quote closing a value: ' or " followed by an operator, comment or ')' */
    VG_PAYLOAD_XSS_TAG,        /* <script, <svg, <img, ... any <letter...> tag-like text */
    VG_PAYLOAD_XSS_HANDLER,    /* on<event>= */
    VG_PAYLOAD_XSS_PROTO,      /* javascript:, vbscript:, data:text/html, alert( / prompt( / confirm( / document.cookie */
    VG_PAYLOAD_TRAVERSAL,      /* ../ and ..\ */
    VG_PAYLOAD_LFI,            /* /etc/passwd, win.ini, php://, file://, /proc/self, ... */
    VG_PAYLOAD_CMDI,           /* ; | & ` $( before a shell command */
    VG_PAYLOAD_SSTI,           /* {{ }}, ${ }, #{ }, {% %}, <%= */
    VG_PAYLOAD_CRLF,           /* CR or LF in decoded text */
    VG_PAYLOAD_JNDI,           /* ${jndi:, ${${lower:j}ndi:, ... */
    VG_PAYLOAD_META,           /* characters that code, not prose, uses: ' " ` < > ( ) ; | $ { } \ */
    VG_PAYLOAD_COUNT
};

/* Count the signs of every family in canonical text t[0..n) into
 * counts[VG_PAYLOAD_COUNT] (added to what is there; saturating). */
VG_API void vg_payload_scan(const char *t, size_t n, uint16_t *counts);

/* The same counts, every sign tried at every byte: the reference the scan
 * above is tested against (it skips the bytes where no sign can start, one
 * table look-up each). */
VG_API void vg_payload_scan_full(const char *t, size_t n, uint16_t *counts);

/* "sql", "sql_union", ... of family i, or NULL past the last. */
VG_API const char *vg_payload_name(size_t i);

#ifdef __cplusplus
}
#endif

#endif
