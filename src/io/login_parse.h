/* Login event lines parsed into records (internal to io and the login
 * format's features): the CSV layout of the public Risk-Based Authentication
 * (RBA) login data set. Columns are found by name from a header line, so the
 * full 16-column file and the 9-column reduction (Login_Data.csv) both work;
 * a headerless stream (`vigil watch` attached mid-file) is read by its field
 * count: 16 = the full RBA order, 9 = the reduced order. The parser knows
 * fields and their syntax only; what a user's events mean is
 * src/features/login.c's. */
#ifndef VG_IO_LOGIN_PARSE_H
#define VG_IO_LOGIN_PARSE_H

#include <stddef.h>
#include "vigil/core.h"

#define VG_LOGIN_MAX_USER_ID 64

typedef struct vg_login_parser vg_login_parser;

/* One data line. Text points into the parser's copy of the line and stays
 * valid until the next parse; NULL (length 0) = the layout lacks the column,
 * or the field is "" or "-". */
typedef struct vg_login_record {
    int is_header;             /* a header line: nothing else is set */
    double time;               /* Login Timestamp, unix seconds (UTC) */
    const char *user;          /* User ID: never NULL, at most VG_LOGIN_MAX_USER_ID bytes */
    size_t user_len;
    int success, attack_ip, ato;  /* 1/0, -1 unknown */
    double rtt;                /* Round-Trip Time [ms], NAN unknown; finite and >= 0 otherwise */
    const char *asn, *ip, *country, *devtype, *browser, *ua, *os, *index;  /* asn: digits only */
    size_t asn_len, ip_len, country_len, devtype_len, browser_len, ua_len, os_len, index_len;
} vg_login_record;

/* A parser for lines of at most max_line bytes (1..2^30). Owned by the caller
 * (vg_login_parser_free, which accepts NULL). */
vg_status vg_login_parser_new(size_t max_line, vg_login_parser **out);
void vg_login_parser_free(vg_login_parser *p);
/* Bytes the parser holds. */
size_t vg_login_parser_bytes(const vg_login_parser *p);

/* Parse one line (no newline). A header line sets the layout. A malformed
 * line is VG_ERR_PARSE (VG_ERR_LIMIT for a long one) naming the column or
 * problem, and leaves the layout as it was. */
vg_status vg_login_parse(vg_login_parser *p, const char *line, size_t len, vg_login_record *out);

/* Undo what the last successful parse did to the layout (a layout guessed
 * from that data line): for a caller that refuses the line after parsing. */
void vg_login_parser_undo(vg_login_parser *p);

#endif
