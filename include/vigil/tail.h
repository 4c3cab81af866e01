/* Following files like `tail -F`: lines are delivered as they are appended
 * to any of several files (or stdin), in order within each file. A file
 * renamed away and replaced (rotation) is read to its end, then the new file
 * from its start; a file that shrinks (truncation) is read again from 0; a
 * file that does not exist yet is waited for. A last line without its newline
 * is held until the newline arrives (or, at rotation, the old file ends).
 * Lines longer than the limit are cut and flagged, never buffered whole, so
 * memory is bounded by n_files x (max_line_bytes + 64 KiB). Files are
 * polled, no inotify: simple, works on every filesystem, and a 50 ms sleep
 * when idle costs nothing measurable. Standard input is waited on with
 * poll(2) instead (vg_tail_wait): a pipe holds only 64 KiB, so a reader that
 * slept whenever it was empty would throttle a steady writer to a pipeful
 * per sleep. */
#ifndef VIGIL_TAIL_H
#define VIGIL_TAIL_H

#include <stddef.h>
#include <stdint.h>
#include "vigil/core.h"

#ifdef __cplusplus
extern "C" {
#endif

/* How far a file was read: its identity and the byte offset and number of
 * the last line delivered. Saved by `vigil watch --resume` to pick up where
 * it stopped. */
typedef struct vg_tail_position {
    int known;                /* 0: none (standard input, a file not open yet) */
    uint64_t dev, ino;
    uint64_t offset;          /* bytes through the last delivered line */
    uint64_t line_no;         /* that line's number */
} vg_tail_position;

typedef struct vg_tail_params {
    size_t max_line_bytes;    /* longer lines come out cut to this, flagged; default 65536 */
    int from_start;           /* 1: read existing content; 0: only what is appended after opening */
    int deliver_header;       /* with from_start = 0: still deliver line 1 of each file (csv headers) */
    int no_follow;            /* 1: a file ends at its end of file (its last line even without a newline),
                                 as stdin does; for one-shot readers such as `vigil ship` */
    const vg_tail_position *resume;  /* NULL, or one per path: where a known position's file (same device
                                 and inode, at least `offset` bytes long) is still at the path, it is read
                                 from its start with lines up to line_no marked `replay`; a file that
                                 has been replaced or cut since is read from its start, all of it new */
} vg_tail_params;

VG_API vg_tail_params vg_tail_params_default(void);

/* One line. Borrowed: valid until the next vg_tail_next. */
typedef struct vg_tail_line {
    uint32_t source;          /* index into the paths given to vg_tail_open */
    const char *path;
    uint64_t line_no;         /* 1-based within the current file (restarts after rotation or truncation) */
    const char *data;         /* no newline (a trailing \r is removed too) */
    size_t len;
    int truncated;            /* the line was longer than max_line_bytes */
    int replay;               /* read before (params.resume): for state only */
} vg_tail_line;

typedef struct vg_tail vg_tail;

/* paths: files, or "-" for standard input (at most once). The strings are
 * copied. Files that do not exist yet are fine. At most 1024 paths. */
VG_API vg_status vg_tail_open(const char *const *paths, size_t n, const vg_tail_params *p, vg_tail **out);
VG_API void vg_tail_close(vg_tail *t);

/* The next complete line from any input: *got = 1 and *line filled, or
 * *got = 0 when nothing is available now (vg_tail_wait, then call again).
 * Fails only on a read error of an open file (VG_ERR_IO). */
VG_API vg_status vg_tail_next(vg_tail *t, vg_tail_line *line, int *got);
/* Wait until there may be more to read: at most timeout_ms, less when
 * standard input (if it is an input and has not ended) becomes readable or
 * ends, or a signal arrives. *ready = 1 if stdin became readable, else 0.
 * Files have no readiness to wait on: with only files this sleeps. */
VG_API vg_status vg_tail_wait(vg_tail *t, int timeout_ms, int *ready);
/* 1 when every input has ended for good (stdin, or files with no_follow). */
VG_API int vg_tail_finished(const vg_tail *t);

/* Counters: rotations and truncations noticed. */
VG_API uint64_t vg_tail_rotations(const vg_tail *t);
VG_API uint64_t vg_tail_truncations(const vg_tail *t);

/* Where input `source` is now: the file being read (after a rotation, the
 * old one until it is done) and its last delivered line. */
VG_API vg_tail_position vg_tail_get_position(const vg_tail *t, uint32_t source);
/* What happened to input `source`'s params.resume position at open:
 * VG_TAIL_RESUMED (replayed up to it), VG_TAIL_REPLACED (the file changed:
 * read whole) or VG_TAIL_NEW (no position, or not opened yet). */
enum { VG_TAIL_NEW, VG_TAIL_RESUMED, VG_TAIL_REPLACED };
VG_API int vg_tail_resume_outcome(const vg_tail *t, uint32_t source);

#ifdef __cplusplus
}
#endif

#endif
