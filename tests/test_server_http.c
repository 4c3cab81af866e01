/* The detection server in-process on 127.0.0.1 (a free port), driven over
 * real sockets: every route, each limit proven just under and just over
 * (body, batch, depth, fields, headers), authentication, CORS, a slow
 * client cut off by the idle timeout while others are served, a chunked
 * body over the limit, reload over HTTP with a corrupt file, every row of
 * the route table refusing the wrong method (counted under its label), and
 * no memory left behind. Runs under the sanitizers in the sanitizer build. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <arpa/inet.h>
#include <cjson/cJSON.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "serve/routes.h"
#include "test_server_fixture.h"
#include "testutil.h"
#include "vigil/server.h"

static const char *model_path;

static int group_setup(void **state)
{
    (void)state;
    model_path = fixture_model("http", 0, NULL);
    return model_path ? 0 : -1;
}

static int group_teardown(void **state)
{
    (void)state;
    unlink(model_path);
    return 0;
}

typedef struct resp {
    int status;
    char head[16384];
    char body[262144];
    size_t body_len;
} resp;

static resp R;  /* large: kept off the stack */

static int connect_to(unsigned port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    struct timeval tv = { .tv_sec = 10 };
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    if (connect(fd, (struct sockaddr *)&a, sizeof a) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

static void send_all(int fd, const char *p, size_t n)
{
    while (n) {
        ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
        if (w <= 0) return;  /* the server may close early (e.g. after a 413) */
        p += w;
        n -= (size_t)w;
    }
}

/* Send raw bytes, read the whole reply (the request says Connection: close). */
static int raw(unsigned port, const char *req, size_t len, resp *r)
{
    int fd = connect_to(port);
    assert_true(fd >= 0);
    send_all(fd, req, len);
    static char buf[sizeof R.head + sizeof R.body];
    size_t got = 0;
    ssize_t n;
    while (got < sizeof buf - 1 && (n = recv(fd, buf + got, sizeof buf - 1 - got, 0)) > 0) got += (size_t)n;
    close(fd);
    buf[got] = '\0';
    r->status = 0;
    r->head[0] = '\0';
    r->body[0] = '\0';
    r->body_len = 0;
    char *sep = strstr(buf, "\r\n\r\n");
    if (!sep || sscanf(buf, "HTTP/1.%*d %d", &r->status) != 1) return -1;
    size_t hl = (size_t)(sep - buf);
    if (hl >= sizeof r->head) hl = sizeof r->head - 1;
    memcpy(r->head, buf, hl);
    r->head[hl] = '\0';
    r->body_len = got - (size_t)(sep + 4 - buf);
    if (r->body_len >= sizeof r->body) r->body_len = sizeof r->body - 1;
    memcpy(r->body, sep + 4, r->body_len);
    r->body[r->body_len] = '\0';
    return r->status;
}

static int http(unsigned port, const char *method, const char *path, const char *headers, const char *body)
{
    size_t bl = body ? strlen(body) : 0;
    size_t cap = bl + 4096 + (headers ? strlen(headers) : 0);
    char *req = malloc(cap);
    int n = snprintf(req, cap, "%s %s HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n%s", method, path,
                     headers ? headers : "");
    if (body) n += snprintf(req + n, cap - (size_t)n, "Content-Type: application/json\r\nContent-Length: %zu\r\n", bl);
    n += snprintf(req + n, cap - (size_t)n, "\r\n");
    if (body) memcpy(req + n, body, bl);
    int st = raw(port, req, (size_t)n + bl, &R);
    free(req);
    return st;
}

static cJSON *body_json(void)
{
    cJSON *j = cJSON_Parse(R.body);
    if (!j) fail_msg("not JSON: %s", R.body);
    return j;
}

static vg_server *start(vg_server_params *p)
{
    p->host = "127.0.0.1";
    p->port = 0;
    p->threads = 2;
    vg_server *s = NULL;
    assert_int_equal(vg_server_new(p, &s), VG_OK);
    assert_int_equal(vg_server_add_model(s, "tree", model_path), VG_OK);
    assert_int_equal(vg_server_start(s), VG_OK);
    assert_true(vg_server_port(s) > 0);
    return s;
}

static const char *record = "{\"bytes\": 900, \"proto\": \"tcp\", \"rate\": 0.2}";

static void test_routes(void **state)
{
    (void)state;
    size_t mem0 = vg_mem_in_use();
    vg_server_params p = vg_server_params_default();
    vg_server *s = start(&p);
    unsigned port = vg_server_port(s);

    assert_int_equal(http(port, "GET", "/healthz", NULL, NULL), 200);
    assert_int_equal(http(port, "GET", "/readyz", NULL, NULL), 200);
    assert_non_null(strstr(R.body, "\"models\":1"));
    assert_int_equal(http(port, "POST", "/v1/detect", NULL, record), 200);
    assert_non_null(strstr(R.head, "Content-Type: application/json"));
    assert_null(strstr(R.head, "Access-Control-Allow-Origin"));  /* no CORS unless asked */
    cJSON *j = body_json();
    assert_string_equal(cJSON_GetObjectItem(j, "label")->valuestring, "attack");
    cJSON_Delete(j);
    assert_int_equal(http(port, "POST", "/v1/detect?model=tree&explain=1&top=2", NULL, record), 200);
    assert_non_null(strstr(R.body, "\"explanation\""));
    assert_int_equal(http(port, "POST", "/v1/detect?model=nope", NULL, record), 404);
    assert_non_null(strstr(R.body, "unknown model 'nope' (loaded: tree)"));
    assert_int_equal(http(port, "POST", "/v1/detect?top=0", NULL, record), 400);
    assert_non_null(strstr(R.body, "'top'"));
    assert_int_equal(http(port, "POST", "/v1/detect?explain=maybe", NULL, record), 400);

    /* Malformed requests: 400 with the parser's position or the field. */
    assert_int_equal(http(port, "POST", "/v1/detect", NULL, "{\"bytes\": 9"), 400);
    assert_non_null(strstr(R.body, "offset 11"));
    assert_int_equal(http(port, "POST", "/v1/detect", NULL, "{\"bytes\": 9} trailing"), 400);
    assert_non_null(strstr(R.body, "unexpected data after"));
    assert_int_equal(http(port, "POST", "/v1/detect", NULL, "[1, 2]"), 400);
    assert_non_null(strstr(R.body, "must be a JSON object"));
    assert_int_equal(http(port, "POST", "/v1/detect", NULL, "{\"bytes\": {\"a\": 1}}"), 400);
    assert_non_null(strstr(R.body, "field 'bytes'"));
    assert_int_equal(http(port, "POST", "/v1/detect", NULL, "{\"bytes\": \"many\"}"), 400);
    assert_non_null(strstr(R.body, "field 'bytes'"));
    assert_int_equal(http(port, "POST", "/v1/detect", NULL, ""), 400);
    assert_int_equal(http(port, "POST", "/v1/detect", NULL, "\xff\xfe"), 400);

    /* Batches: a plain array or {"records": [...]}; per-record errors. */
    assert_int_equal(http(port, "POST", "/v1/detect/batch", NULL,
                          "[{\"bytes\": 900, \"proto\": \"tcp\"}, 7, {\"bytes\": \"x\"}]"), 200);
    j = body_json();
    assert_int_equal(cJSON_GetArraySize(j), 3);
    assert_non_null(cJSON_GetObjectItem(cJSON_GetArrayItem(j, 0), "score"));
    assert_non_null(cJSON_GetObjectItem(cJSON_GetArrayItem(j, 1), "error"));
    assert_non_null(strstr(cJSON_GetObjectItem(cJSON_GetArrayItem(j, 2), "error")->valuestring, "field 'bytes'"));
    cJSON_Delete(j);
    assert_int_equal(http(port, "POST", "/v1/detect/batch", NULL, "{\"records\": [{\"bytes\": 1, \"proto\": \"udp\"}]}"), 200);
    assert_int_equal(http(port, "POST", "/v1/detect/batch", NULL, "{\"rows\": []}"), 400);
    assert_int_equal(http(port, "POST", "/v1/detect/batch", NULL, "[]"), 200);
    assert_string_equal(R.body, "[]\n");

    /* Models, recent, stats, metrics, the dashboard. */
    assert_int_equal(http(port, "GET", "/v1/models", NULL, NULL), 200);
    j = body_json();
    assert_string_equal(cJSON_GetObjectItem(cJSON_GetArrayItem(cJSON_GetObjectItem(j, "models"), 0), "name")->valuestring,
                        "tree");
    cJSON_Delete(j);
    assert_int_equal(http(port, "GET", "/v1/models/tree", NULL, NULL), 200);
    j = body_json();
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(j, "schema")), 3);
    assert_non_null(cJSON_GetObjectItem(j, "example"));
    cJSON_Delete(j);
    assert_int_equal(http(port, "GET", "/v1/models/none", NULL, NULL), 404);
    assert_int_equal(http(port, "GET", "/v1/detections/recent?limit=2", NULL, NULL), 200);
    j = body_json();
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(j, "detections")), 2);
    cJSON_Delete(j);
    assert_int_equal(http(port, "GET", "/v1/detections/recent?limit=0", NULL, NULL), 400);
    assert_int_equal(http(port, "GET", "/v1/stats", NULL, NULL), 200);
    j = body_json();
    assert_true(cJSON_GetObjectItem(j, "detections")->valuedouble >= 4);
    assert_non_null(cJSON_GetObjectItem(cJSON_GetObjectItem(j, "last_minute"), "latency_ms"));
    cJSON_Delete(j);
    assert_int_equal(http(port, "GET", "/metrics", NULL, NULL), 200);
    assert_non_null(strstr(R.head, "text/plain; version=0.0.4"));
    assert_non_null(strstr(R.body, "vigil_requests_total{route=\"detect\",status=\"200\"}"));
    assert_non_null(strstr(R.body, "vigil_memory_bytes "));
    assert_non_null(strstr(R.body, "vigil_models_loaded 1\n"));
    assert_non_null(strstr(R.body, "vigil_anomalies_total{model=\"tree\"}"));
    assert_int_equal(http(port, "GET", "/", NULL, NULL), 200);
    assert_non_null(strstr(R.head, "text/html"));
    assert_int_equal(http(port, "GET", "/no-such-file.js", NULL, NULL), 404);
    assert_int_equal(http(port, "GET", "/v1/nothing", NULL, NULL), 404);
    assert_int_equal(http(port, "GET", "/v1/detect", NULL, NULL), 405);
    assert_non_null(strstr(R.head, "Allow: POST"));
    assert_int_equal(http(port, "DELETE", "/v1/models", NULL, NULL), 405);
    assert_int_equal(http(port, "HEAD", "/healthz", NULL, NULL), 200);

    /* Reload over HTTP; a missing model is 404. */
    assert_int_equal(http(port, "POST", "/v1/models/tree/reload", NULL, ""), 200);
    assert_non_null(strstr(R.body, "\"generation\":2"));
    assert_int_equal(http(port, "POST", "/v1/models/other/reload", NULL, ""), 404);
    assert_int_equal(http(port, "GET", "/healthz", NULL, NULL), 200);
    vg_server_free(s);
    assert_int_equal(vg_mem_in_use(), mem0);
}

/* Every row of the route table over HTTP: the wrong method is a JSON 405
 * with the Allow header, counted on /metrics under the row's label; an
 * unknown /v1 path is a JSON 404 whatever the method. */
static void test_route_table_http(void **state)
{
    (void)state;
    vg_server_params p = vg_server_params_default();
    vg_server *s = start(&p);
    unsigned port = vg_server_port(s);
    size_t checked = 0;
    for (size_t i = 0; i < vg_route_count; i++) {
        const vg_route *r = &vg_route_table[i];
        if (r->method == VG_ROUTE_ANY) continue;
        char url[256];
        if (!r->path) snprintf(url, sizeof url, "/");
        else {
            const char *param = strstr(r->path, "{name}");
            if (param) snprintf(url, sizeof url, "%.*stree%s", (int)(param - r->path), r->path, param + 6);
            else snprintf(url, sizeof url, "%s", r->path);
        }
        int get = r->method == VG_ROUTE_GET;
        if (http(port, get ? "POST" : "GET", url, NULL, get ? "{}" : NULL) != 405)
            fail_msg("%s %s: %d, not 405", get ? "POST" : "GET", url, R.status);
        assert_non_null(strstr(R.head, get ? "Allow: GET, HEAD" : "Allow: POST"));
        cJSON *j = body_json();
        assert_non_null(strstr(cJSON_GetObjectItem(j, "error")->valuestring, "not allowed here"));
        cJSON_Delete(j);
        checked++;
    }
    assert_true(checked + 1 == vg_route_count);
    static const char *const methods[] = { "GET", "POST", "PUT", "DELETE" };
    for (size_t i = 0; i < 4; i++) {
        assert_int_equal(http(port, methods[i], "/v1/no/such/thing", NULL, NULL), 404);
        assert_non_null(strstr(R.head, "Content-Type: application/json"));
        assert_string_equal(R.body, i == 0 ? "{\"error\":\"no such endpoint: GET /v1/no/such/thing\"}\n" : R.body);
        cJSON *j = body_json();
        assert_non_null(strstr(cJSON_GetObjectItem(j, "error")->valuestring, "no such endpoint"));
        cJSON_Delete(j);
    }
    assert_int_equal(http(port, "GET", "/metrics", NULL, NULL), 200);
    for (size_t i = 0; i < vg_route_count; i++) {
        const vg_route *r = &vg_route_table[i];
        char line[128];
        snprintf(line, sizeof line, "vigil_requests_total{route=\"%s\",status=\"%d\"} %d\n", r->stat,
                 r->method == VG_ROUTE_ANY ? 404 : 405, r->method == VG_ROUTE_ANY ? 4 : 1);
        if (!strstr(R.body, line)) fail_msg("no %s in /metrics", line);
    }
    vg_server_free(s);
}

/* A body of exactly n bytes: a record padded with spaces. */
static const char *padded(size_t n)
{
    static char buf[8192];
    const char *rec = "{\"bytes\": 900}";
    size_t rl = strlen(rec);
    assert_true(n >= rl && n < sizeof buf);
    memcpy(buf, rec, rl - 1);
    memset(buf + rl - 1, ' ', n - rl);
    buf[n - 1] = '}';
    buf[n] = '\0';
    return buf;
}

static void test_limits(void **state)
{
    (void)state;
    vg_server_params p = vg_server_params_default();
    /* The limits are about bytes and counts: the records here are padding
     * and made-up names, which the default policy would refuse first. */
    p.missing = VG_MISSING_IMPUTE;
    p.max_body = 2048;
    p.max_batch = 3;
    p.max_fields = 4;
    p.max_depth = 4;
    p.max_header = 4096;
    vg_server *s = start(&p);
    unsigned port = vg_server_port(s);

    /* Body bytes. */
    assert_int_equal(http(port, "POST", "/v1/detect", NULL, padded(2048)), 200);
    assert_int_equal(http(port, "POST", "/v1/detect", NULL, padded(2049)), 413);
    assert_non_null(strstr(R.body, "limit of 2048 bytes (--max-body)"));
    /* The same over chunked transfer (no Content-Length up front). */
    char req[8192];
    const char *big = padded(3000);
    int n = snprintf(req, sizeof req, "POST /v1/detect HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
                                      "Transfer-Encoding: chunked\r\n\r\n%zx\r\n%s\r\n0\r\n\r\n", strlen(big), big);
    assert_int_equal(raw(port, req, (size_t)n, &R), 413);
    const char *small = padded(100);
    n = snprintf(req, sizeof req, "POST /v1/detect HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
                                  "Transfer-Encoding: chunked\r\n\r\n%zx\r\n%s\r\n0\r\n\r\n", strlen(small), small);
    assert_int_equal(raw(port, req, (size_t)n, &R), 200);

    /* Batch size. */
    assert_int_equal(http(port, "POST", "/v1/detect/batch", NULL, "[{},{},{}]"), 200);
    assert_int_equal(http(port, "POST", "/v1/detect/batch", NULL, "[{},{},{},{}]"), 413);
    assert_non_null(strstr(R.body, "batch of 4 records exceeds the limit of 3 (--max-batch)"));

    /* Fields per record. */
    assert_int_equal(http(port, "POST", "/v1/detect", NULL, "{\"a\":1,\"b\":2,\"c\":3,\"d\":4}"), 200);
    assert_int_equal(http(port, "POST", "/v1/detect", NULL, "{\"a\":1,\"b\":2,\"c\":3,\"d\":4,\"e\":5}"), 400);
    assert_non_null(strstr(R.body, "limit of 4 (--max-fields)"));

    /* JSON depth: an unknown field may nest (a warning), up to the limit. */
    assert_int_equal(http(port, "POST", "/v1/detect", NULL, "{\"x\":[[[1]]]}"), 200);
    assert_non_null(strstr(R.body, "unknown field 'x' ignored"));
    assert_int_equal(http(port, "POST", "/v1/detect", NULL, "{\"x\":[[[[1]]]]}"), 400);
    assert_non_null(strstr(R.body, "deeper than 4 levels"));

    /* Header bytes (libmicrohttpd's per-connection memory). */
    static char hdr[8192];
    snprintf(hdr, sizeof hdr, "X-Pad: %0*d\r\n", 2000, 0);
    assert_int_equal(http(port, "GET", "/healthz", hdr, NULL), 200);
    snprintf(hdr, sizeof hdr, "X-Pad: %0*d\r\n", 5000, 0);
    assert_int_equal(http(port, "GET", "/healthz", hdr, NULL), 431);

    assert_int_equal(http(port, "GET", "/healthz", NULL, NULL), 200);
    vg_server_free(s);
}

static void test_auth_and_cors(void **state)
{
    (void)state;
    const char keys[] = "# test keys\nk-123\nother-key\n";
    const char *kf = vg_test_tmpfile(keys, sizeof keys - 1, ".keys");
    vg_server_params p = vg_server_params_default();
    p.api_key_file = kf;
    p.cors_origin = "https://dash.example";
    vg_server *s = start(&p);
    unsigned port = vg_server_port(s);
    assert_int_equal(http(port, "POST", "/v1/detect", NULL, record), 401);
    assert_non_null(strstr(R.head, "WWW-Authenticate: Bearer"));
    assert_non_null(strstr(R.body, "API key"));
    assert_int_equal(http(port, "POST", "/v1/detect", "Authorization: Bearer k-12\r\n", record), 401);
    assert_int_equal(http(port, "POST", "/v1/detect", "Authorization: Bearer k-1234\r\n", record), 401);
    assert_int_equal(http(port, "POST", "/v1/detect", "X-API-Key: wrong\r\n", record), 401);
    assert_int_equal(http(port, "POST", "/v1/detect", "Authorization: Bearer k-123\r\n", record), 200);
    assert_non_null(strstr(R.head, "Access-Control-Allow-Origin: https://dash.example"));
    assert_int_equal(http(port, "POST", "/v1/detect", "X-API-Key: other-key\r\n", record), 200);
    assert_int_equal(http(port, "GET", "/metrics", NULL, NULL), 401);
    assert_int_equal(http(port, "GET", "/v1/stats", NULL, NULL), 401);
    assert_int_equal(http(port, "POST", "/v1/models/tree/reload", NULL, ""), 401);
    assert_int_equal(http(port, "GET", "/healthz", NULL, NULL), 200);
    assert_int_equal(http(port, "GET", "/readyz", NULL, NULL), 200);
    assert_int_equal(http(port, "GET", "/", NULL, NULL), 200);
    /* A preflight needs no key and gets the allowed methods and headers. */
    assert_int_equal(http(port, "OPTIONS", "/v1/detect", "Origin: https://dash.example\r\n", NULL), 204);
    assert_non_null(strstr(R.head, "Access-Control-Allow-Headers: Authorization"));
    vg_server_free(s);
    unlink(kf);

    p = vg_server_params_default();
    p.api_key_file = "/nonexistent/keys";
    vg_server *bad = NULL;
    assert_int_equal(vg_server_new(&p, &bad), VG_ERR_IO);
    assert_null(bad);
}

static void test_slow_client(void **state)
{
    (void)state;
    vg_server_params p = vg_server_params_default();
    p.timeout = 1;
    vg_server *s = start(&p);
    unsigned port = vg_server_port(s);
    /* Headers dribbled byte by byte, then silence. */
    int slow = connect_to(port);
    assert_true(slow >= 0);
    const char *partial = "POST /v1/detect HTTP/1.1\r\nHost: x\r\nContent-Le";
    for (const char *c = partial; *c; c++) {
        send_all(slow, c, 1);
        usleep(20000);
    }
    /* Others are served meanwhile. */
    double t0 = vg_now();
    for (int i = 0; i < 20; i++) assert_int_equal(http(port, "POST", "/v1/detect", NULL, record), 200);
    assert_true(vg_now() - t0 < 1.0);
    /* The stalled connection is closed by the server within the timeout
     * (plus libmicrohttpd's granularity), not left open. */
    struct pollfd pf = { .fd = slow, .events = POLLIN };
    t0 = vg_now();
    int closed = 0;
    while (!closed && vg_now() - t0 < 5) {
        if (poll(&pf, 1, 200) > 0) {
            char b[256];
            closed = recv(slow, b, sizeof b, 0) <= 0;
        }
    }
    assert_true(closed);
    assert_true(vg_now() - t0 < 3.5);
    close(slow);
    assert_int_equal(http(port, "GET", "/healthz", NULL, NULL), 200);
    vg_server_free(s);
}

/* The missing-field policy: by default a record with an unknown name or
 * more than half of the inputs missing is a 422 naming them; warn scores it
 * and says so; impute scores it as before the policy; per model. */
static void test_missing_policy(void **state)
{
    (void)state;
    vg_server_params p = vg_server_params_default();
    assert_int_equal(p.missing, VG_MISSING_REJECT);
    p.host = "127.0.0.1";
    p.port = 0;
    p.threads = 2;
    vg_server *s = NULL;
    assert_int_equal(vg_server_new(&p, &s), VG_OK);
    assert_int_equal(vg_server_add_model(s, "tree", model_path), VG_OK);
    assert_int_equal(vg_server_add_model(s, "w", model_path), VG_OK);
    assert_int_equal(vg_server_add_model(s, "i", model_path), VG_OK);
    assert_int_equal(vg_server_set_missing(s, "w", VG_MISSING_WARN), VG_OK);
    assert_int_equal(vg_server_set_missing(s, "i", VG_MISSING_IMPUTE), VG_OK);
    assert_int_equal(vg_server_set_missing(s, "nope", VG_MISSING_WARN), VG_ERR_INVALID);
    assert_int_equal(vg_server_start(s), VG_OK);
    unsigned port = vg_server_port(s);

    /* {}: every input missing, each named. */
    assert_int_equal(http(port, "POST", "/v1/detect", NULL, "{}"), 422);
    cJSON *j = body_json();
    const char *e = cJSON_GetObjectItem(j, "error")->valuestring;
    assert_non_null(strstr(e, "3 of 3 inputs missing 'bytes', 'proto', 'rate'"));
    assert_non_null(strstr(e, "--missing"));
    cJSON_Delete(j);
    /* Misspelled names: unknown, named, even though few. */
    assert_int_equal(http(port, "POST", "/v1/detect", NULL, "{\"bytez\": 900, \"proto\": \"tcp\", \"rate\": 0.2}"),
                     422);
    assert_non_null(strstr(R.body, "1 unknown field 'bytez'"));
    assert_non_null(strstr(R.body, "1 of 3 inputs missing 'bytes'"));
    /* Nulls count as missing: 2 of 3. */
    assert_int_equal(http(port, "POST", "/v1/detect", NULL, "{\"bytes\": 900, \"proto\": null, \"rate\": null}"), 422);
    assert_non_null(strstr(R.body, "2 of 3 inputs missing 'proto', 'rate'"));
    /* One of three missing is not more than half: scored, with a warning. */
    assert_int_equal(http(port, "POST", "/v1/detect", NULL, "{\"bytes\": 900, \"proto\": \"tcp\"}"), 200);
    assert_non_null(strstr(R.body, "missing field 'rate': imputed"));
    assert_null(strstr(R.body, "incomplete record"));
    /* The label column is not an unknown field. */
    assert_int_equal(http(port, "POST", "/v1/detect", NULL,
                          "{\"bytes\": 900, \"proto\": \"tcp\", \"rate\": 0.2, \"label\": \"attack\"}"), 200);
    /* A batch: the refused record keeps its place, with its status. */
    assert_int_equal(http(port, "POST", "/v1/detect/batch", NULL, "[{\"bytes\": 900, \"proto\": \"tcp\"}, {}]"), 200);
    j = body_json();
    assert_int_equal(cJSON_GetArraySize(j), 2);
    assert_non_null(cJSON_GetObjectItem(cJSON_GetArrayItem(j, 0), "score"));
    cJSON *bad = cJSON_GetArrayItem(j, 1);
    assert_null(cJSON_GetObjectItem(bad, "score"));
    assert_int_equal(cJSON_GetObjectItem(bad, "status")->valueint, 422);
    assert_non_null(strstr(cJSON_GetObjectItem(bad, "error")->valuestring, "3 of 3 inputs missing"));
    cJSON_Delete(j);

    /* warn: scored, and the first warning says what it rests on. */
    assert_int_equal(http(port, "POST", "/v1/detect?model=w", NULL, "{\"bytez\": 900}"), 200);
    j = body_json();
    assert_non_null(cJSON_GetObjectItem(j, "score"));
    cJSON *w = cJSON_GetObjectItem(j, "warnings");
    assert_non_null(strstr(cJSON_GetArrayItem(w, 0)->valuestring,
                           "incomplete record (--missing warn): 3 of 3 inputs missing, 1 unknown field"));
    assert_non_null(strstr(R.body, "unknown field 'bytez' ignored"));
    cJSON_Delete(j);
    /* impute: scored with the per-field warnings only (the old behaviour). */
    assert_int_equal(http(port, "POST", "/v1/detect?model=i", NULL, "{\"bytez\": 900}"), 200);
    assert_non_null(strstr(R.body, "unknown field 'bytez' ignored"));
    assert_null(strstr(R.body, "incomplete record"));
    assert_int_equal(http(port, "POST", "/v1/detect?model=i", NULL, "{}"), 200);
    vg_server_free(s);

    vg_missing_policy mp;
    assert_int_equal(vg_missing_policy_parse("warn", &mp), VG_OK);
    assert_int_equal(mp, VG_MISSING_WARN);
    assert_int_equal(vg_missing_policy_parse("drop", &mp), VG_ERR_INVALID);
    assert_non_null(strstr(vg_last_error(), "impute, warn or reject"));
}

static void test_connection_limit(void **state)
{
    (void)state;
    vg_server_params p = vg_server_params_default();
    p.max_connections = 2;
    p.host = "127.0.0.1";
    p.port = 0;
    p.threads = 1;
    vg_server *s = NULL;
    assert_int_equal(vg_server_new(&p, &s), VG_OK);
    assert_int_equal(vg_server_add_model(s, "tree", model_path), VG_OK);
    assert_int_equal(vg_server_start(s), VG_OK);
    unsigned port = vg_server_port(s);
    /* Two idle connections fill the limit: a third is not taken in (it waits
     * in the kernel's listen queue) until one of them goes. */
    int a = connect_to(port), b = connect_to(port);
    assert_true(a >= 0 && b >= 0);
    usleep(100000);
    int c = connect_to(port);
    assert_true(c >= 0);
    const char *req = "GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
    send_all(c, req, strlen(req));
    struct pollfd pf = { .fd = c, .events = POLLIN };
    assert_int_equal(poll(&pf, 1, 500), 0);  /* no answer while at the limit */
    close(a);
    assert_int_equal(poll(&pf, 1, 5000), 1);  /* admitted once a slot is free */
    char buf[64];
    ssize_t got = recv(c, buf, sizeof buf - 1, 0);
    assert_true(got > 12);
    buf[got] = '\0';
    assert_non_null(strstr(buf, "200 OK"));
    close(b);
    close(c);
    vg_server_free(s);
}

static void test_reload_corrupt_over_http(void **state)
{
    (void)state;
    char path[256];
    snprintf(path, sizeof path, "/tmp/vg_test_http_reload_%d.vgm", (int)getpid());
    FILE *in = fopen(model_path, "rb"), *out = fopen(path, "wb");
    char buf[65536];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, in)) > 0) fwrite(buf, 1, n, out);
    fclose(in);
    fclose(out);
    vg_server_params p = vg_server_params_default();
    p.host = "127.0.0.1";
    p.port = 0;
    vg_server *s = NULL;
    assert_int_equal(vg_server_new(&p, &s), VG_OK);
    assert_int_equal(vg_server_add_model(s, "m", path), VG_OK);
    assert_int_equal(vg_server_start(s), VG_OK);
    assert_int_equal(vg_server_add_model(s, "late", path), VG_ERR_INVALID);
    unsigned port = vg_server_port(s);
    /* Truncate the file: the reload fails, names why, the old model serves. */
    assert_int_equal(truncate(path, 100), 0);
    assert_int_equal(http(port, "POST", "/v1/models/m/reload", NULL, ""), 500);
    assert_non_null(strstr(R.body, "previous model keeps serving"));
    assert_int_equal(http(port, "POST", "/v1/detect", NULL, record), 200);
    assert_int_equal(http(port, "GET", "/metrics", NULL, NULL), 200);
    assert_non_null(strstr(R.body, "vigil_model_reloads_total{model=\"m\",result=\"error\"} 1"));
    assert_int_equal(vg_server_reload(s, "nope"), VG_ERR_INVALID);
    vg_server_free(s);
    unlink(path);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_routes),
        cmocka_unit_test(test_route_table_http),
        cmocka_unit_test(test_limits),
        cmocka_unit_test(test_missing_policy),
        cmocka_unit_test(test_auth_and_cors),
        cmocka_unit_test(test_slow_client),
        cmocka_unit_test(test_connection_limit),
        cmocka_unit_test(test_reload_corrupt_over_http),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
