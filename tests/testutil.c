/* Shared helpers for the unit tests. */
#include "testutil.h"

#include "vigil/redis_stream.h"

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
