/* Shared helpers for the unit tests. */
#include "testutil.h"

#include "vigil/redis_stream.h"
#include "vigil/rng.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static const char *env_or(const char *name, const char *fallback)
{
    const char *v = getenv(name);
    return v && *v ? v : fallback;
}

const char *vg_test_shared(const char *rel)
{
    static char path[4096];
    snprintf(path, sizeof path, "%s/%s", env_or("VG_SHARED_DATA", "../shared/data"), rel);
    return path;
}

const char *vg_test_source(const char *rel)
{
    static char path[4096];
    snprintf(path, sizeof path, "%s/%s", env_or("VG_SOURCE_DIR", "."), rel);
    return path;
}

int vg_test_exists(const char *path)
{
    return access(path, R_OK) == 0;
}

char *vg_test_slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "cannot open %s (its golden script under tools/ or tests/golden/ writes it)\n", path);
        return NULL;
    }
    fseek(f, 0, SEEK_END);
    long len = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *s = len >= 0 ? malloc((size_t)len + 1) : NULL;
    if (s && fread(s, 1, (size_t)len, f) == (size_t)len) {
        s[len] = '\0';
    } else {
        fprintf(stderr, "cannot read %s\n", path);
        free(s);
        s = NULL;
    }
    fclose(f);
    return s;
}

double *vg_test_read_numbers(const char *rel, int header, size_t *rows, size_t *cols)
{
    *rows = *cols = 0;
    char *text = vg_test_slurp(vg_test_source(rel));
    if (!text) return NULL;
    size_t cap = 1 << 16, n = 0;
    double *v = malloc(cap * sizeof *v);
    char *save = NULL, *line = strtok_r(text, "\n", &save);
    if (header && line) line = strtok_r(NULL, "\n", &save);
    for (; v && line; line = strtok_r(NULL, "\n", &save)) {
        size_t c = 0;
        for (char *p = line;;) {
            char *end;
            double x = strtod(p, &end);
            if (end == p) {
                fprintf(stderr, "%s line %zu: not a number at '%.20s'\n", rel, *rows + 1, p);
                goto bad;
            }
            if (n == cap) {
                double *grown = realloc(v, (cap *= 2) * sizeof *v);
                if (!grown) goto bad;
                v = grown;
            }
            v[n++] = x;
            c++;
            if (*end != ',') break;
            p = end + 1;
        }
        if (*rows == 0) *cols = c;
        if (c != *cols) {
            fprintf(stderr, "%s line %zu: %zu numbers, the first line has %zu\n", rel, *rows + 1, c, *cols);
            goto bad;
        }
        (*rows)++;
    }
    free(text);
    return v;
bad:
    free(text);
    free(v);
    *rows = *cols = 0;
    return NULL;
}

int vg_test_dataset_load(const char *rel, int header, vg_test_dataset *d)
{
    memset(d, 0, sizeof *d);
    size_t rows, cols;
    double *v = vg_test_read_numbers(rel, header, &rows, &cols);
    if (!v || cols < 2 || vg_matrix_alloc(&d->X, rows, cols - 1) != VG_OK) {
        free(v);
        return -1;
    }
    d->y = malloc(rows * sizeof *d->y);
    for (size_t i = 0; d->y && i < rows; i++) {
        for (size_t j = 0; j + 1 < cols; j++) d->X.data[i * (cols - 1) + j] = (float)v[i * cols + j];
        d->y[i] = (int32_t)v[i * cols + cols - 1];
        if ((uint32_t)d->y[i] + 1 > d->n_classes) d->n_classes = (uint32_t)d->y[i] + 1;
    }
    free(v);
    return d->y ? 0 : -1;
}

void vg_test_dataset_free(vg_test_dataset *d)
{
    vg_matrix_free(&d->X);
    free(d->y);
    free(d->w);
    memset(d, 0, sizeof *d);
}

const char *vg_test_tmpfile(const void *data, size_t len, const char *suffix)
{
    static char paths[8][256];
    static int slot;
    char *p = paths[slot++ % 8];
    snprintf(p, 256, "/tmp/vg_test_%d_%d%s", (int)getpid(), slot, suffix ? suffix : "");
    FILE *f = fopen(p, "wb");
    if (!f) return NULL;
    fwrite(data, 1, len, f);
    fclose(f);
    return p;
}

static pid_t redis_pid = -1;

static int free_port(void)
{
    int s = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    socklen_t len = sizeof a;
    if (s < 0 || bind(s, (struct sockaddr *)&a, sizeof a) || getsockname(s, (struct sockaddr *)&a, &len)) return -1;
    int p = ntohs(a.sin_port);
    close(s);
    return p;
}

int vg_test_redis_start(int port)
{
    if (system("command -v redis-server >/dev/null 2>&1") != 0) {
        fprintf(stderr, "redis-server is not installed (scripts/setup.sh --test installs it)\n");
        return -1;
    }
    if (port <= 0 && (port = free_port()) <= 0) return -1;
    char ps[16];
    snprintf(ps, sizeof ps, "%d", port);
    redis_pid = fork();
    if (redis_pid == 0) {
        if (!freopen("/dev/null", "w", stdout)) _exit(127);
        execlp("redis-server", "redis-server", "--port", ps, "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
               (char *)NULL);
        _exit(127);
    }
    for (int i = 0; i < 100; i++) {   /* up to 5 s */
        vg_redis *r;
        if (vg_redis_connect("127.0.0.1", port, 1, NULL, &r) == VG_OK) {
            vg_redis_free(r);
            return port;
        }
        struct timespec ts = { .tv_sec = 0, .tv_nsec = 50000000 };
        nanosleep(&ts, NULL);
    }
    return -1;
}

void vg_test_redis_stop(void)
{
    if (redis_pid > 0) {
        kill(redis_pid, SIGKILL);
        waitpid(redis_pid, NULL, 0);
    }
    redis_pid = -1;
}

/* Load `len` bytes through the kind; a loaded state predicts X once. */
static vg_status load_and_use(const vg_estimator_kind *k, const uint8_t *data, size_t len, const vg_matrix *X,
                              void **state)
{
    vg_rbuf r;
    vg_rbuf_init(&r, data, len, k->name);
    *state = NULL;
    vg_status st = k->load(&r, state);
    if (st != VG_OK || !*state) return st;
    float *out = malloc(VG_MAX(X->rows * k->n_classes(*state), (size_t)1) * sizeof *out);
    if (out) k->predict(*state, X, 1, out);
    free(out);
    k->free(*state);
    return VG_OK;
}

long vg_test_hostile_loads(const vg_estimator_kind *k, const uint8_t *data, size_t len, const vg_matrix *X,
                           uint64_t seed, size_t trials)
{
    void *state;
    for (size_t n = 0; n < len; n++) {
        vg_status st = load_and_use(k, data, n, X, &state);
        if (st != VG_ERR_FORMAT || state) {
            fprintf(stderr, "%s: a prefix of %zu of %zu bytes gave status %d\n", k->name, n, len, (int)st);
            return -1;
        }
    }
    uint8_t *copy = malloc(len);
    if (!copy) return -1;
    vg_rng rng;
    vg_rng_seed(&rng, seed, 0);
    long loaded = 0;
    for (size_t t = 0; t < trials; t++) {
        memcpy(copy, data, len);
        for (uint32_t i = 0, changes = 1 + vg_rng_below(&rng, 4); i < changes; i++) {
            size_t at = vg_rng_below(&rng, (uint32_t)len);
            copy[at] = vg_rng_below(&rng, 2) ? (uint8_t)(copy[at] ^ (1u << vg_rng_below(&rng, 8)))
                                             : (uint8_t)vg_rng_below(&rng, 256);
        }
        vg_status st = load_and_use(k, copy, len, X, &state);
        if (st == VG_OK) {
            loaded++;
        } else if (st != VG_ERR_FORMAT || state || !vg_last_error()[0]) {
            fprintf(stderr, "%s: corrupted copy %zu gave status %d (%s)\n", k->name, t, (int)st, vg_last_error());
            free(copy);
            return -1;
        }
    }
    free(copy);
    printf("%s: %ld of %zu corrupted copies loaded (e.g. a changed threshold or leaf value)\n", k->name, loaded,
           trials);
    return loaded;
}
