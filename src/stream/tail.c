/* The file follower behind `vigil watch FILE...` (see tail.h): per input a
 * read buffer of max_line_bytes + 64 KiB, lines cut out with memchr, and at
 * each end of file a stat() of the path to notice rotation (another inode
 * now has the name) and an fstat() to notice truncation (the size fell
 * below what was read). */
#include "vigil/tail.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define TAIL_MAX_PATHS 1024
#define TAIL_READ_BYTES 65536

typedef struct tail_file {
    char *path;
    int is_stdin, ended;      /* stdin (or a file with no_follow) has ended */
    int fd;                   /* -1 while the file does not exist */
    int opened_once;          /* later opens (new files, rotations) read from 0 */
    dev_t dev;
    ino_t ino;
    off_t pos;                /* bytes read from fd */
    char *buf;
    size_t cap, start, end;   /* unread bytes: buf[start, end) */
    uint64_t line_no;
    uint64_t replay_until;    /* lines up to this one are replayed (params.resume) */
    int resume_outcome;       /* VG_TAIL_NEW, _RESUMED or _REPLACED */
    int discarding;           /* inside the rest of a cut over-long line */
    char *header;             /* line 1 to deliver first (deliver_header), or NULL */
    size_t header_len;
    int header_truncated;
} tail_file;

struct vg_tail {
    vg_tail_params p;
    tail_file *files;
    size_t n, cur;
    unsigned burst;           /* lines taken from files[cur] in a row */
    uint64_t rotations, truncations;
};

vg_tail_params vg_tail_params_default(void)
{
    return (vg_tail_params){ .max_line_bytes = 65536, .from_start = 0, .deliver_header = 0 };
}

static void file_close(tail_file *f)
{
    if (f->fd >= 0 && !f->is_stdin) close(f->fd);
    f->fd = -1;
    f->start = f->end = 0;
    f->pos = 0;
    f->line_no = 0;
    f->replay_until = 0;
    f->discarding = 0;
}

/* Skip the content a file has now, keeping line numbers right: count its
 * newlines, stop after the last one (a partial last line is read later, when
 * complete) and keep line 1 aside if the caller wants headers. */
static vg_status skip_existing(vg_tail *t, tail_file *f)
{
    off_t pos = 0, after_nl = 0;
    uint64_t lines = 0;
    size_t first_len = 0;
    int first_done = 0, first_cut = 0;
    int want = t->p.deliver_header;
    for (;;) {
        ssize_t r = read(f->fd, f->buf, f->cap);
        if (r < 0) {
            if (errno == EINTR) continue;
            return vg_fail(VG_ERR_IO, "%s: %s", f->path, strerror(errno));
        }
        if (r == 0) break;
        const char *p = f->buf, *end = f->buf + r;
        while (p < end) {
            const char *nl = memchr(p, '\n', (size_t)(end - p));
            const char *stop = nl ? nl : end;
            if (want && !first_done) {
                size_t take = (size_t)(stop - p);
                if (first_len + take > t->p.max_line_bytes) {
                    take = t->p.max_line_bytes - first_len;
                    first_cut = 1;
                }
                char *h = vg_realloc(f->header, first_len + take + 1);
                if (!h) return vg_fail(VG_ERR_NOMEM, "out of memory");
                f->header = h;
                memcpy(h + first_len, p, take);
                first_len += take;
                if (nl) first_done = 1;
            }
            if (!nl) break;
            lines++;
            after_nl = pos + (nl - f->buf) + 1;
            p = nl + 1;
        }
        pos += r;
    }
    if (lines == 0 || !want) {   /* line 1 is not complete yet: it comes the normal way */
        vg_free(f->header);
        f->header = NULL;
    } else {
        if (first_len && f->header[first_len - 1] == '\r') first_len--;
        f->header_len = first_len;
        f->header_truncated = first_cut;
    }
    if (lseek(f->fd, after_nl, SEEK_SET) < 0) return vg_fail(VG_ERR_IO, "%s: %s", f->path, strerror(errno));
    f->pos = after_nl;
    f->line_no = lines;
    return VG_OK;
}

/* Open the file behind f->path if it exists now. 1 opened, 0 not there. */
static int file_try_open(vg_tail *t, tail_file *f, vg_status *st)
{
    *st = VG_OK;
    int fd = open(f->path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return 0;
    struct stat sb;
    if (fstat(fd, &sb) != 0) {
        close(fd);
        return 0;
    }
    f->fd = fd;
    f->dev = sb.st_dev;
    f->ino = sb.st_ino;
    f->pos = 0;
    f->line_no = 0;
    f->start = f->end = 0;
    f->discarding = 0;
    f->replay_until = 0;
    const vg_tail_position *r = t->p.resume && !f->opened_once ? &t->p.resume[f - t->files] : NULL;
    if (r && r->known) {
        /* The file it was reading is still there (not replaced, not cut
         * below the saved offset): read it again from its start for the
         * state, and go on from there. Otherwise all of it is new. */
        int same = (uint64_t)sb.st_dev == r->dev && (uint64_t)sb.st_ino == r->ino && S_ISREG(sb.st_mode) &&
                   (uint64_t)sb.st_size >= r->offset;
        f->replay_until = same ? r->line_no : 0;
        f->resume_outcome = same ? VG_TAIL_RESUMED : VG_TAIL_REPLACED;
    } else if (!f->opened_once && !t->p.from_start && S_ISREG(sb.st_mode)) {
        *st = skip_existing(t, f);
    }
    f->opened_once = 1;
    return 1;
}

vg_status vg_tail_open(const char *const *paths, size_t n, const vg_tail_params *p, vg_tail **out)
{
    *out = NULL;
    if (n == 0) return vg_fail(VG_ERR_INVALID, "no input to follow");
    if (n > TAIL_MAX_PATHS) return vg_fail(VG_ERR_LIMIT, "more than %d inputs", TAIL_MAX_PATHS);
    vg_tail *t = vg_calloc(1, sizeof *t);
    if (!t) return vg_fail(VG_ERR_NOMEM, "out of memory");
    t->p = p ? *p : vg_tail_params_default();
    if (!t->p.max_line_bytes) t->p.max_line_bytes = 65536;
    t->files = vg_calloc(n, sizeof *t->files);
    if (!t->files) goto nomem;
    t->n = n;
    int stdin_seen = 0;
    for (size_t i = 0; i < n; i++) {
        tail_file *f = &t->files[i];
        f->fd = -1;
        if (!(f->path = vg_strdup(paths[i]))) goto nomem;
        f->cap = t->p.max_line_bytes + TAIL_READ_BYTES;
        if (!(f->buf = vg_malloc(f->cap))) goto nomem;
        if (strcmp(paths[i], "-") == 0) {
            if (stdin_seen++) {
                vg_tail_close(t);
                return vg_fail(VG_ERR_INVALID, "standard input ('-') given twice");
            }
            f->is_stdin = 1;
            f->fd = STDIN_FILENO;
            f->opened_once = 1;
            continue;
        }
        vg_status st;
        file_try_open(t, f, &st);
        if (st) {
            vg_tail_close(t);
            return st;
        }
    }
    *out = t;
    return VG_OK;
nomem:
    vg_tail_close(t);
    return vg_fail(VG_ERR_NOMEM, "out of memory");
}

void vg_tail_close(vg_tail *t)
{
    if (!t) return;
    for (size_t i = 0; t->files && i < t->n; i++) {
        file_close(&t->files[i]);
        vg_free(t->files[i].path);
        vg_free(t->files[i].buf);
        vg_free(t->files[i].header);
    }
    vg_free(t->files);
    vg_free(t);
}

static void set_line(tail_file *f, uint32_t idx, const char *data, size_t len, int cut, vg_tail_line *out)
{
    if (len && data[len - 1] == '\r') len--;
    out->source = idx;
    out->path = f->path;
    out->line_no = ++f->line_no;
    out->data = data;
    out->len = len;
    out->truncated = cut;
    out->replay = f->line_no <= f->replay_until;
}

/* A complete line from the buffer (1), or 0. An over-long line comes out cut
 * to the limit as soon as the limit is reached; its rest is dropped. */
static int take_line(vg_tail *t, tail_file *f, uint32_t idx, int at_end, vg_tail_line *out)
{
    size_t max = t->p.max_line_bytes;
    while (f->start < f->end) {
        char *s = f->buf + f->start;
        size_t avail = f->end - f->start;
        char *nl = memchr(s, '\n', avail);
        if (nl) {
            size_t len = (size_t)(nl - s);
            f->start += len + 1;
            if (f->discarding) {
                f->discarding = 0;
                continue;
            }
            if (len > max) {
                set_line(f, idx, s, max, 1, out);
                return 1;
            }
            set_line(f, idx, s, len, 0, out);
            return 1;
        }
        if (f->discarding) {
            f->start = f->end = 0;
            return 0;
        }
        if (avail >= max) {  /* no newline within the limit: cut it here */
            set_line(f, idx, s, max, 1, out);
            f->start = f->end = 0;
            f->discarding = 1;
            return 1;
        }
        if (at_end) {        /* the file is over for good: its last line has no newline */
            set_line(f, idx, s, avail, 0, out);
            f->start = f->end = 0;
            return 1;
        }
        return 0;
    }
    return 0;
}

/* Room for the next read: unread bytes moved to the front. */
static void compact(tail_file *f)
{
    if (f->start == 0) return;
    memmove(f->buf, f->buf + f->start, f->end - f->start);
    f->end -= f->start;
    f->start = 0;
}

/* Look for rotation and truncation after an end of file: 1 if f changed
 * (read again), 0 if not. */
static int check_file(vg_tail *t, tail_file *f, vg_status *st)
{
    *st = VG_OK;
    struct stat sb;
    if (stat(f->path, &sb) == 0 && (sb.st_dev != f->dev || sb.st_ino != f->ino)) {
        t->rotations++;
        file_close(f);
        file_try_open(t, f, st);
        return 1;
    }
    if (fstat(f->fd, &sb) == 0 && S_ISREG(sb.st_mode) && sb.st_size < f->pos) {
        t->truncations++;
        if (lseek(f->fd, 0, SEEK_SET) < 0) {
            *st = vg_fail(VG_ERR_IO, "%s: %s", f->path, strerror(errno));
            return 0;
        }
        f->pos = 0;
        f->start = f->end = 0;
        f->line_no = 0;
        f->replay_until = 0;
        f->discarding = 0;
        return 1;
    }
    return 0;
}

/* The next line of one input: 1 got, 0 nothing now. */
static int file_next(vg_tail *t, tail_file *f, uint32_t idx, vg_tail_line *out, vg_status *st)
{
    *st = VG_OK;
    if (f->header) {
        /* Moved into the read buffer's place would race with reads; deliver
         * it from its own copy, numbered 1 without touching line_no. */
        out->source = idx;
        out->path = f->path;
        out->line_no = 1;
        out->data = f->header;
        out->len = f->header_len;
        out->truncated = f->header_truncated;
        out->replay = 0;
        /* freed on the next call (the caller holds a pointer until then) */
        f->header_len = (size_t)-1;
        return 1;
    }
    for (int rounds = 0; rounds < 64; rounds++) {
        if (f->fd < 0) {
            if (f->ended || f->is_stdin) return 0;
            if (!file_try_open(t, f, st)) {
                f->ended = t->p.no_follow;   /* nothing to wait for */
                return 0;
            }
            if (*st) return 0;
        }
        if (take_line(t, f, idx, 0, out)) return 1;
        compact(f);
        if (f->is_stdin) {
            struct pollfd pfd = { .fd = f->fd, .events = POLLIN };
            if (f->ended || poll(&pfd, 1, 0) <= 0) return 0;
        }
        ssize_t r = read(f->fd, f->buf + f->end, f->cap - f->end);
        if (r > 0) {
            f->end += (size_t)r;
            f->pos += r;
            continue;
        }
        if (r < 0) {
            if (errno == EINTR || errno == EAGAIN) return 0;
            *st = vg_fail(VG_ERR_IO, "%s: %s", f->path, strerror(errno));
            return 0;
        }
        if (f->is_stdin || t->p.no_follow) {
            f->ended = 1;
            return take_line(t, f, idx, 1, out);
        }
        /* End of file: before switching to a rotated file, its last
         * partial line (the writer is done with it) comes out. */
        struct stat sb;
        if (stat(f->path, &sb) == 0 && (sb.st_dev != f->dev || sb.st_ino != f->ino) && f->end > f->start &&
            !f->discarding) {
            if (take_line(t, f, idx, 1, out)) return 1;
        }
        if (!check_file(t, f, st)) return 0;
        if (*st) return 0;
    }
    return 0;
}

vg_status vg_tail_next(vg_tail *t, vg_tail_line *line, int *got)
{
    *got = 0;
    for (size_t k = 0; k <= t->n; k++) {  /* <= : the file that hit its burst gets a turn again */
        tail_file *f = &t->files[t->cur];
        if (f->header && f->header_len == (size_t)-1) {  /* delivered last time */
            vg_free(f->header);
            f->header = NULL;
        }
        vg_status st;
        /* A busy file yields to the others now and then, so one fast writer
         * cannot starve the rest. */
        if (t->burst < 1024 && file_next(t, f, (uint32_t)t->cur, line, &st)) {
            t->burst++;
            *got = 1;
            return VG_OK;
        }
        t->burst = 0;
        st = VG_OK;
        if (f->header && f->header_len == (size_t)-1) {
            vg_free(f->header);
            f->header = NULL;
        }
        if (st) return st;
        t->cur = (t->cur + 1) % t->n;
    }
    return VG_OK;
}

vg_status vg_tail_wait(vg_tail *t, int timeout_ms, int *ready)
{
    *ready = 0;
    int fd = -1;
    for (size_t i = 0; i < t->n; i++)
        if (t->files[i].is_stdin && !t->files[i].ended) fd = t->files[i].fd;
    if (fd < 0) {
        struct timespec ts = { .tv_sec = timeout_ms / 1000, .tv_nsec = (long)(timeout_ms % 1000) * 1000000L };
        nanosleep(&ts, NULL);   /* a signal cuts it short: the caller looks at its flag */
        return VG_OK;
    }
    /* Files beside stdin are still looked at every timeout_ms. */
    struct pollfd pfd = { .fd = fd, .events = POLLIN };
    int r = poll(&pfd, 1, timeout_ms);
    if (r < 0 && errno != EINTR) return vg_fail(VG_ERR_IO, "standard input: %s", strerror(errno));
    *ready = r > 0;
    return VG_OK;
}

int vg_tail_finished(const vg_tail *t)
{
    for (size_t i = 0; i < t->n; i++)
        if (!t->files[i].ended || t->files[i].end > t->files[i].start) return 0;
    return 1;
}

uint64_t vg_tail_rotations(const vg_tail *t) { return t->rotations; }
uint64_t vg_tail_truncations(const vg_tail *t) { return t->truncations; }

vg_tail_position vg_tail_get_position(const vg_tail *t, uint32_t source)
{
    const tail_file *f = &t->files[source];
    if (f->is_stdin || f->fd < 0) return (vg_tail_position){ 0 };
    /* What was read but not delivered is still in the buffer. */
    return (vg_tail_position){ .known = 1, .dev = (uint64_t)f->dev, .ino = (uint64_t)f->ino,
                               .offset = (uint64_t)f->pos - (f->end - f->start), .line_no = f->line_no };
}

int vg_tail_resume_outcome(const vg_tail *t, uint32_t source) { return t->files[source].resume_outcome; }
