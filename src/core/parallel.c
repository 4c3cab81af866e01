/* vg_parallel_for: a fixed set of pthreads pulling task indices from an
 * atomic counter. Threads are created per call; training calls it a handful
 * of times, so the ~20 us start-up does not matter, and there is no global
 * pool to configure or shut down. */
#define _GNU_SOURCE  /* sched_getaffinity, CPU_COUNT */
#include "vigil/parallel.h"
#include "vigil/core.h"

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <unistd.h>

typedef struct job {
    vg_task_fn fn;
    void *ctx;
    size_t n_tasks;
    atomic_size_t next;
} job;

typedef struct worker_arg {
    job *j;
    int id;
} worker_arg;

static void run_tasks(job *j, int id)
{
    for (;;) {
        size_t t = atomic_fetch_add(&j->next, 1);
        if (t >= j->n_tasks) break;
        j->fn(j->ctx, t, id);
    }
}

static void *worker_main(void *p)
{
    worker_arg *a = p;
    run_tasks(a->j, a->id);
    return NULL;
}

int vg_cpus_available(void)
{
    /* Threads beyond the CPUs we may use only take turns on them, and the
     * turns show up as latency (a server) or as lost time (training). */
    cpu_set_t set;
    if (sched_getaffinity(0, sizeof set, &set) == 0 && CPU_COUNT(&set) > 0) return CPU_COUNT(&set);
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 ? (int)n : 1;
}

int vg_threads_resolve(int threads)
{
    if (threads <= 0) threads = vg_cpus_available();
    return threads > 256 ? 256 : threads;
}

void vg_parallel_for(int threads, size_t n_tasks, vg_task_fn fn, void *ctx)
{
    threads = vg_threads_resolve(threads);
    if ((size_t)threads > n_tasks) threads = (int)n_tasks;
    job j = { .fn = fn, .ctx = ctx, .n_tasks = n_tasks };
    atomic_init(&j.next, 0);
    if (threads <= 1) {
        run_tasks(&j, 0);
        return;
    }
    pthread_t tids[256];
    worker_arg args[256];
    int started = 0;
    for (int i = 1; i < threads; i++) {
        args[i] = (worker_arg){ &j, i };
        if (pthread_create(&tids[i], NULL, worker_main, &args[i]) != 0) break;
        started = i;
    }
    /* The caller is worker 0; if a thread failed to start, the remaining
     * workers simply take more tasks. */
    run_tasks(&j, 0);
    for (int i = 1; i <= started; i++) pthread_join(tids[i], NULL);
}
