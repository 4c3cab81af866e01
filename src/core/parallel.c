/* vg_parallel_for over a persistent worker pool: threads are started once,
 * on the first parallel call, and then wait for work, so a parallel step
 * costs a wake-up (a few microseconds) instead of creating and joining
 * threads (about 60 us here, which forced gbdt to run small nodes on one
 * thread). Tasks are handed out from an atomic counter.
 *
 * One job runs on the pool at a time. A call made while the pool is busy
 * (another thread's job, e.g. two server requests) or from inside a task
 * (nesting) runs on the calling thread alone: the results are the same by
 * contract (they never depend on which worker ran a task), and nothing can
 * wait for itself. The pool's threads live until the process exits.
 *
 * Waiting spins for a few microseconds before it sleeps, on both sides: a
 * worker that finished a job watches for the next one, and the caller
 * watches for the workers to leave. Training posts jobs back to back (a
 * boosted tree is about thirty of them, some of tens of microseconds), and
 * a futex sleep and wake-up costs about as much as such a job, so without
 * the spin the second thread mostly arrives after the work is gone. The
 * spin is short and bounded (SPIN_NS), so an idle pool costs nothing. */
#define _GNU_SOURCE  /* sched_getaffinity, CPU_COUNT */
#include "vigil/parallel.h"
#include "vigil/core.h"

#include <pthread.h>
#include <sched.h>
#include <time.h>
#include <stdatomic.h>
#include <stdint.h>
#include <unistd.h>

#define MAX_THREADS 256
#define SPIN_NS 30000  /* how long a waiter spins before it sleeps */

typedef struct job {
    vg_task_fn fn;
    void *ctx;
    size_t n_tasks;
    atomic_size_t next;
} job;

static struct {
    pthread_mutex_t mu;
    pthread_cond_t work;     /* a new job (generation) was posted */
    pthread_cond_t done;     /* a worker left the current job */
    int n_workers;           /* threads started, not counting callers */
    int busy;                /* a caller owns the pool */
    atomic_uint_fast64_t generation;  /* bumped for every job (under mu; read by spinners) */
    job *cur;
    int want;                /* workers the current job may use (ids 1..want) */
    atomic_int joined;       /* workers that took an id in this job (changed under mu) */
    atomic_int left;         /* ... and have finished with it (changed under mu) */
    int closed;              /* the caller ran out of tasks: no more joining */
} pool = { .mu = PTHREAD_MUTEX_INITIALIZER, .work = PTHREAD_COND_INITIALIZER, .done = PTHREAD_COND_INITIALIZER };

static _Thread_local int in_pool_task;

static void run_tasks(job *j, int id)
{
    for (;;) {
        size_t t = atomic_fetch_add(&j->next, 1);
        if (t >= j->n_tasks) break;
        j->fn(j->ctx, t, id);
    }
}

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static inline void cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    __asm__ __volatile__("yield");
#endif
}

/* Spin up to SPIN_NS until done(arg) holds; returns whether it did. */
static int spin_until(int (*done)(const void *), const void *arg)
{
    uint64_t start = now_ns();
    for (unsigned i = 1;; i++) {
        if (done(arg)) return 1;
        cpu_relax();
        if ((i & 63) == 0 && now_ns() - start > SPIN_NS) return done(arg);
    }
}

static int new_job(const void *seen)
{
    return atomic_load_explicit(&pool.generation, memory_order_acquire) != *(const uint64_t *)seen;
}

static int all_left(const void *joined)
{
    return atomic_load_explicit(&pool.left, memory_order_acquire) >= *(const int *)joined;
}

/* arg: the generation before the job that started this worker, so the
 * worker joins that job too: read at start, it would already be the job's
 * own and the first job after the pool grew ran on the caller alone (a LOF
 * fit, the first parallel call of its process, used one CPU of two). */
static void *worker_main(void *arg)
{
    in_pool_task = 1;
    uint64_t seen = (uint64_t)(uintptr_t)arg;
    pthread_mutex_lock(&pool.mu);
    for (;;) {
        if (pool.generation == seen) {
            pthread_mutex_unlock(&pool.mu);
            spin_until(new_job, &seen);
            pthread_mutex_lock(&pool.mu);
        }
        while (pool.generation == seen) pthread_cond_wait(&pool.work, &pool.mu);
        seen = pool.generation;
        if (pool.closed || pool.joined >= pool.want) continue;
        int id = ++pool.joined;
        job *j = pool.cur;
        pthread_mutex_unlock(&pool.mu);
        run_tasks(j, id);
        pthread_mutex_lock(&pool.mu);
        if (++pool.left == pool.joined) pthread_cond_signal(&pool.done);
    }
    return NULL;
}

/* Own the pool with at least `workers` threads started (fewer if threads
 * cannot be created); 0 when it is busy. Called with pool.mu held. */
static int pool_acquire(int workers)
{
    if (pool.busy) return 0;
    while (pool.n_workers < workers) {
        pthread_t tid;
        pthread_attr_t attr;
        pthread_attr_init(&attr);
        pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
        void *seen = (void *)(uintptr_t)atomic_load(&pool.generation);  /* the job about to be posted is new to it */
        int ok = pthread_create(&tid, &attr, worker_main, seen) == 0;
        pthread_attr_destroy(&attr);
        if (!ok) break;  /* the caller and the workers there are take more tasks */
        pool.n_workers++;
    }
    pool.busy = 1;
    return 1;
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
    return threads > MAX_THREADS ? MAX_THREADS : threads;
}

void vg_parallel_for(int threads, size_t n_tasks, vg_task_fn fn, void *ctx)
{
    threads = vg_threads_resolve(threads);
    if ((size_t)threads > n_tasks) threads = (int)n_tasks;
    job j = { .fn = fn, .ctx = ctx, .n_tasks = n_tasks };
    atomic_init(&j.next, 0);
    if (threads <= 1 || in_pool_task) {
        run_tasks(&j, 0);
        return;
    }
    pthread_mutex_lock(&pool.mu);
    if (!pool_acquire(threads - 1)) {
        pthread_mutex_unlock(&pool.mu);
        run_tasks(&j, 0);
        return;
    }
    pool.cur = &j;
    pool.want = VG_MIN(threads - 1, pool.n_workers);
    pool.joined = 0;
    pool.left = 0;
    pool.closed = 0;
    pool.generation++;
    pthread_cond_broadcast(&pool.work);
    pthread_mutex_unlock(&pool.mu);

    /* The caller is worker 0 and must not start nested jobs on the pool it holds. */
    in_pool_task = 1;
    run_tasks(&j, 0);
    in_pool_task = 0;

    /* Workers that have not joined yet would find no task left: close the
     * job to them and wait only for those inside it. */
    pthread_mutex_lock(&pool.mu);
    pool.closed = 1;
    int joined = pool.joined;  /* final: no worker joins a closed job */
    if (pool.left < joined) {
        pthread_mutex_unlock(&pool.mu);
        spin_until(all_left, &joined);
        pthread_mutex_lock(&pool.mu);
    }
    while (pool.left < pool.joined) pthread_cond_wait(&pool.done, &pool.mu);
    pool.cur = NULL;
    pool.busy = 0;
    pthread_mutex_unlock(&pool.mu);
}
