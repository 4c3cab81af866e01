/* The ceiling for bench/serve.py: a libmicrohttpd server that does no work,
 * built the way `vigil serve` builds its daemon (src/serve/server.c): the
 * same flags (epoll, internal thread pool of vg_server_threads_default()
 * threads, each set up by vg_server_thread_init on its first request, ITC), the
 * same connection limit, memory limit, timeout and listen backlog, a
 * per-request context made on the first callback and freed on completion,
 * the body gathered from the upload callbacks, and one Content-Type header
 * on the reply. It answers every request with the request's body (or "{}"
 * when there is none), so wrk sees replies of the size it sends.
 *
 *   bench_echo PORT [THREADS]
 *
 * Runs until SIGINT or SIGTERM. */
#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "vigil/server.h"

#define MAX_BODY (1u << 20)

typedef struct req {
    size_t len, cap;
    char *body;
} req;

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
    (void)sig;
    stop = 1;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url, const char *method,
                                  const char *version, const char *upload, size_t *upload_size, void **ctx)
{
    (void)cls, (void)url, (void)method, (void)version;
    req *r = *ctx;
    if (!r) {
        vg_server_thread_init();
        r = calloc(1, sizeof *r);
        if (!r) return MHD_NO;
        *ctx = r;
        return MHD_YES;
    }
    if (*upload_size) {
        size_t n = *upload_size;
        *upload_size = 0;
        if (r->len + n > MAX_BODY) return MHD_NO;
        if (r->len + n > r->cap) {
            size_t cap = r->cap ? r->cap * 2 : 2048;
            while (cap < r->len + n) cap *= 2;
            char *b = realloc(r->body, cap);
            if (!b) return MHD_NO;
            r->body = b;
            r->cap = cap;
        }
        memcpy(r->body + r->len, upload, n);
        r->len += n;
        return MHD_YES;
    }
    /* The body lives in the context until the completion callback. */
    struct MHD_Response *resp = r->len ? MHD_create_response_from_buffer(r->len, r->body, MHD_RESPMEM_PERSISTENT)
                                       : MHD_create_response_from_buffer(2, (void *)"{}", MHD_RESPMEM_PERSISTENT);
    if (!resp) return MHD_NO;
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json");
    enum MHD_Result ret = MHD_queue_response(c, MHD_HTTP_OK, resp);
    MHD_destroy_response(resp);
    return ret;
}

static void on_completed(void *cls, struct MHD_Connection *c, void **ctx, enum MHD_RequestTerminationCode toe)
{
    (void)cls, (void)c, (void)toe;
    req *r = *ctx;
    if (!r) return;
    free(r->body);
    free(r);
    *ctx = NULL;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: bench_echo PORT [THREADS]\n");
        return 2;
    }
    unsigned port = (unsigned)atoi(argv[1]);
    int threads = argc > 2 ? atoi(argv[2]) : 0;
    if (threads <= 0) threads = vg_server_threads_default();
    struct sockaddr_in addr = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    struct MHD_OptionItem opts[10];
    size_t k = 0;
    opts[k++] = (struct MHD_OptionItem){ MHD_OPTION_SOCK_ADDR, 0, &addr };
    opts[k++] = (struct MHD_OptionItem){ MHD_OPTION_CONNECTION_TIMEOUT, 10, NULL };
    opts[k++] = (struct MHD_OptionItem){ MHD_OPTION_CONNECTION_LIMIT, 1024, NULL };
    opts[k++] = (struct MHD_OptionItem){ MHD_OPTION_CONNECTION_MEMORY_LIMIT, 2 * (16u << 10), NULL };
    opts[k++] = (struct MHD_OptionItem){ MHD_OPTION_NOTIFY_COMPLETED, (intptr_t)on_completed, NULL };
    opts[k++] = (struct MHD_OptionItem){ MHD_OPTION_LISTEN_BACKLOG_SIZE, 1024, NULL };
    if (threads > 1) opts[k++] = (struct MHD_OptionItem){ MHD_OPTION_THREAD_POOL_SIZE, (intptr_t)threads, NULL };
    opts[k++] = (struct MHD_OptionItem){ MHD_OPTION_END, 0, NULL };
    struct MHD_Daemon *d = MHD_start_daemon(MHD_USE_EPOLL_INTERNAL_THREAD | MHD_USE_ITC | MHD_USE_ERROR_LOG,
                                            (uint16_t)port, NULL, NULL, &on_request, NULL, MHD_OPTION_ARRAY, opts,
                                            MHD_OPTION_END);
    if (!d) {
        fprintf(stderr, "bench_echo: cannot listen on port %u\n", port);
        return 1;
    }
    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);
    fprintf(stderr, "bench_echo: listening on 127.0.0.1:%u with %d threads\n", port, threads);
    while (!stop) pause();
    MHD_stop_daemon(d);
    return 0;
}
