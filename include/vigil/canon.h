/* Canonical forms of attacker-controlled text (a URL path, a query parameter
 * name or value, a User-Agent, a Referer, a request body), so that payload
 * features see what the application will see, however the client encoded it.
 *
 * vg_canon_decode repeats, until nothing changes (at most VG_CANON_MAX_ROUNDS):
 *   - percent-decoding: %XX, %uXXXX (IIS / old JavaScript escape()) and, in
 *     form mode, '+' as a space, so %253C (a double-encoded '<') becomes '<'
 *     in two rounds;
 *   - HTML character references: &lt; &gt; &quot; &apos; &amp; &sol; &colon;
 *     &lpar; &rpar; &Tab; &NewLine; and &#NN; / &#xHH; (the ';' optional, as
 *     browsers accept it).
 * then reads the bytes as UTF-8 where they are valid UTF-8 and as Latin-1
 * where they are not (a lone %F1 is an ñ, not an error), decodes overlong
 * UTF-8 forms of ASCII (%C0%AF is '/': IIS traversal) to the ASCII they
 * hide, and writes the result as ASCII-lowercased UTF-8 with SQL block
 * comments (/ * ... * /) and runs of whitespace (and control bytes other
 * than CR, LF and NUL, which are kept as payload signals) collapsed to one
 * space. What it had to undo is counted in vg_canon_info: the amount and
 * kind of encoding is itself a signal (browsers encode once, tools often
 * more, and nobody benign sends overlong UTF-8).
 *
 * No allocation, no state, thread-safe; any bytes are accepted and the work
 * is bounded by the input length times VG_CANON_MAX_ROUNDS. */
#ifndef VIGIL_CANON_H
#define VIGIL_CANON_H

#include <stddef.h>
#include <stdint.h>
#include "vigil/core.h"

#ifdef __cplusplus
extern "C" {
#endif

#define VG_CANON_MAX_ROUNDS 4

typedef struct vg_canon_info {
    uint16_t rounds;        /* decoding rounds that changed something (0: the text was plain) */
    uint16_t pct;           /* %XX sequences decoded, all rounds */
    uint16_t pct_u;         /* %uXXXX sequences decoded */
    uint16_t entities;      /* HTML character references decoded */
    uint16_t overlong;      /* overlong UTF-8 sequences (decoded to the ASCII they encode) */
    uint16_t latin1;        /* bytes that are not valid UTF-8, read as Latin-1 */
    uint16_t non_ascii;     /* non-ASCII characters in the result (letters of most languages) */
    uint16_t controls;      /* control bytes (NUL, CR, LF and others) in the decoded text */
    uint16_t comments;      /* SQL block comments removed */
    uint16_t truncated;     /* a '%' not followed by two hex digits (kept as '%') */
} vg_canon_info;

/* Flags of vg_canon_decode. */
#define VG_CANON_FORM 1  /* '+' means a space (query strings and form bodies; not paths or headers) */
#define VG_CANON_FULL 2  /* no fast path: text with nothing to decode goes through every step too (the
                          * reference the fast path is tested against; same output and info) */

/* Decode s[0..len) into out (at most cap bytes; the result is cut there,
 * not terminated); returns the bytes written. flags: VG_CANON_FORM and
 * VG_CANON_FULL or 0. info may be NULL. Text without '%', '&', control or
 * non-ASCII bytes or a comment opener takes a fast path: one pass with a
 * byte-class table that lower-cases and collapses spaces. */
VG_API size_t vg_canon_decode(const char *s, size_t len, int flags, char *out, size_t cap, vg_canon_info *info);

#ifdef __cplusplus
}
#endif

#endif
