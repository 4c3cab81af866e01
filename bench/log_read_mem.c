/* Memory of reading a log for training: runs vg_logfmt_read once and prints its
 * peak (counted allocator and the process's max RSS) next to the size of the
 * table it returns, because the reader's cost worth watching is how far its
 * peak sits above what it hands back. Usage: log_read_mem FILE login|weblog [LABELS].
 * bench/logread.sh drives it. */
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>

#include "vigil/format.h"
#include "vigil/logformat.h"
#include "vigil/table.h"

/* Bytes the table's own arrays need: values, category strings and line
 * numbers. Dictionary hash slots are left out, so the ratio printed is an
 * upper bound on the reader's overhead. */
static double table_bytes(const vg_table *t)
{
    size_t rows = vg_table_rows(t);
    double b = 8.0 * (double)rows;  /* line numbers */
    for (size_t j = 0; j < vg_table_cols(t); j++) {
        if (vg_table_type(t, j) == VG_COLUMN_NUMERIC) {
            b += 8.0 * (double)rows;
            continue;
        }
        b += 4.0 * (double)rows;
        for (uint32_t k = 0; k < vg_table_n_categories(t, j); k++) b += (double)strlen(vg_table_category(t, j, k)) + 1;
    }
    return b;
}

/* A hash of everything the table holds (names, types, values, categories,
 * line numbers), so a change to the reader can show it returns the same table
 * bit for bit. */
static uint64_t table_hash(const vg_table *t)
{
    size_t rows = vg_table_rows(t);
    uint64_t h = vg_hash(&rows, sizeof rows, 0);
    for (size_t j = 0; j < vg_table_cols(t); j++) {
        const char *name = vg_table_name(t, j);
        vg_column_type type = vg_table_type(t, j);
        h = vg_hash(name, strlen(name), h);
        h = vg_hash(&type, sizeof type, h);
        if (type == VG_COLUMN_NUMERIC) {
            h = vg_hash(vg_table_numbers(t, j), rows * sizeof(double), h);
            continue;
        }
        h = vg_hash(vg_table_codes(t, j), rows * sizeof(uint32_t), h);
        for (uint32_t k = 0; k < vg_table_n_categories(t, j); k++) {
            const char *s = vg_table_category(t, j, k);
            h = vg_hash(s, strlen(s) + 1, h);
        }
    }
    for (size_t r = 0; r < rows; r++) {
        uint64_t line = vg_table_line(t, r);
        h = vg_hash(&line, sizeof line, h);
    }
    return h;
}

int main(int argc, char **argv)
{
    const vg_logfmt *fmt = argc == 3 || argc == 4 ? vg_logfmt_find(argv[2]) : NULL;
    if (!fmt) {
        fprintf(stderr, "usage: log_read_mem FILE login|weblog [LABELS]\n");
        return 2;
    }
    vg_logfmt_options o = vg_logfmt_options_default();
    if (argc == 4) o.labels_path = argv[3];
    vg_table *t = NULL;
    vg_logfmt_report rep;
    double t0 = vg_now();
    if (vg_logfmt_read(argv[1], fmt, &o, &t, &rep)) {
        fprintf(stderr, "log_read_mem: %s\n", vg_last_error());
        return 1;
    }
    double secs = vg_now() - t0;
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    /* CPU time too: on a shared machine wall time also counts other jobs. */
    double cpu = (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec * 1e-6 + (double)ru.ru_stime.tv_sec +
                 ru.ru_stime.tv_usec * 1e-6;
    double tb = table_bytes(t);
    printf("lines=%llu rows=%zu columns=%zu seconds=%.2f cpu_seconds=%.2f table_mb=%.1f peak_alloc_mb=%.1f max_rss_mb=%.1f "
           "rss_over_table=%.2f table_hash=%016llx\n",
           (unsigned long long)rep.lines, vg_table_rows(t), vg_table_cols(t), secs, cpu, tb / 1e6,
           (double)vg_mem_peak() / 1e6, (double)ru.ru_maxrss / 1e3, (double)ru.ru_maxrss * 1e3 / tb, (unsigned long long)table_hash(t));
    vg_table_free(t);
    return 0;
}
