/* Benchmark: lines per second of vg_logfmt_read with --format login on one
 * thread (parse, online per-user features, table build), and the state it
 * held. Usage: login_read FILE [MAX_ENTITIES]. bench/login.sh drives it. */
#include <stdio.h>
#include <stdlib.h>

#include "vigil/format.h"
#include "vigil/logformat.h"

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: login_read FILE [MAX_ENTITIES]\n");
        return 2;
    }
    vg_logfmt_options o = vg_logfmt_options_default();
    if (argc > 2) o.max_entities = (size_t)strtoull(argv[2], NULL, 10);
    vg_table *t = NULL;
    vg_logfmt_report rep;
    double t0 = vg_now();
    vg_status st = vg_logfmt_read(argv[1], &vg_login_format, &o, &t, &rep);
    double secs = vg_now() - t0;
    if (st) {
        fprintf(stderr, "login_read: %s\n", vg_last_error());
        return 1;
    }
    printf("lines %llu events %llu bad %llu seconds %.3f lines_per_second %.0f peak_mem_mb %.1f\n",
           (unsigned long long)rep.lines, (unsigned long long)rep.events, (unsigned long long)rep.bad, secs,
           (double)rep.lines / secs, (double)vg_mem_peak() / 1e6);
    vg_table_free(t);
    return 0;
}
