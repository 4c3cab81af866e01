/* Web access log throughput, single thread: `process` times parse + online
 * features alone (the per-line work `vigil watch` does before its model),
 * `read` times vg_logfmt_read building the whole training table. Prints one
 * line of key=value figures for bench/weblog.sh. */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "vigil/csv.h"
#include "vigil/format.h"
#include "vigil/logformat.h"
#include "vigil/table.h"

/* CPU seconds of this thread: on a shared machine wall time also counts
 * other jobs' turns, and the target is per core. */
static double cpu_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

int main(int argc, char **argv)
{
    if (argc != 3 || (strcmp(argv[2], "process") != 0 && strcmp(argv[2], "read") != 0)) {
        fprintf(stderr, "usage: bench_weblog FILE process|read\n");
        return 2;
    }
    vg_logfmt_options o = vg_logfmt_options_default();
    if (strcmp(argv[2], "read") == 0) {
        vg_table *t = NULL;
        vg_logfmt_report rep;
        double t0 = vg_now(), c0 = cpu_now();
        if (vg_logfmt_read(argv[1], &vg_weblog_format, &o, &t, &rep)) {
            fprintf(stderr, "bench_weblog: %s\n", vg_last_error());
            return 1;
        }
        double dt = vg_now() - t0, ct = cpu_now() - c0;
        printf("mode=read lines=%llu bad=%llu columns=%zu seconds=%.3f cpu_seconds=%.3f lines_per_s=%.0f "
               "lines_per_cpu_s=%.0f\n",
               (unsigned long long)rep.lines, (unsigned long long)rep.bad, vg_table_cols(t), dt, ct, rep.lines / dt,
               rep.lines / ct);
        vg_table_free(t);
        return 0;
    }
    char *data;
    size_t len;
    if (vg_file_read_all(argv[1], 0, &data, &len)) {
        fprintf(stderr, "bench_weblog: %s\n", vg_last_error());
        return 1;
    }
    void *state;
    double g0 = vg_now();
    if (vg_weblog_format.state_new(&o, &state)) {
        fprintf(stderr, "bench_weblog: %s\n", vg_last_error());
        return 1;
    }
    double setup = vg_now() - g0;
    size_t lines = 0, bad = 0;
    double sum = 0;  /* keeps the work observable */
    double t0 = vg_now(), c0 = cpu_now();
    for (size_t i = 0; i < len;) {
        size_t j = i;
        while (j < len && data[j] != '\n') j++;
        vg_logfmt_event ev;
        if (vg_weblog_format.process(state, data + i, j - i, &ev)) bad++;
        else sum += ev.fields[ev.n_fields - 1].number;
        lines++;
        i = j + 1;
    }
    double dt = vg_now() - t0, ct = cpu_now() - c0;
    vg_logfmt_state_stats held;
    vg_weblog_format.state_stats(state, &held);
    printf("mode=process lines=%zu bad=%zu seconds=%.3f cpu_seconds=%.3f lines_per_s=%.0f lines_per_cpu_s=%.0f "
           "state_new_s=%.3f entities=%zu state_bytes=%zu check=%g\n",
           lines, bad, dt, ct, lines / dt, lines / ct, setup, held.entities, held.bytes, sum);
    vg_weblog_format.state_free(state);
    vg_free(data);
    return 0;
}
