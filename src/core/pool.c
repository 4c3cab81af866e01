/* vg_pool: worker threads that stay up between parallel loops, for code
 * that runs thousands of short ones (the SVM solver computes one kernel row
 * per loop). vg_parallel_for starts and joins its threads per call, and a
 * join waits for every thread to have run, which on a busy machine is a
 * scheduler delay per call. Here the caller works on the tasks itself and
 * waits only for tasks a worker has already claimed; a worker that wakes
 * late finds the loop over (or a later one) and claims nothing from a loop
 * it was not woken for, because a claim carries the loop's generation. */
#include "vigil/parallel.h"
#include "vigil/core.h"

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>

struct vg_pool {
    int threads, started;
    pthread_t tid[256];
    pthread_mutex_t mu;
    pthread_cond_t wake;
    int stop;
    /* the current loop, set under mu */
    uint32_t gen;
    vg_task_fn fn;
    void *ctx;
    size_t n_tasks;
    _Atomic uint64_t next;   /* gen << 32 | next task index */
    atomic_size_t done;      /* tasks of this loop finished */
};



/* Claim and run tasks of loop `gen` until none is left or the loop changed. */
static void run_loop(vg_pool *p, uint32_t gen, vg_task_fn fn, void *ctx, size_t n, int id)
{
    for (;;) {
        uint64_t v = atomic_load(&p->next);
        if ((uint32_t)(v >> 32) != gen || (v & 0xffffffffu) >= n) return;
        if (!atomic_compare_exchange_weak(&p->next, &v, v + 1)) continue;
        fn(ctx, (size_t)(v & 0xffffffffu), id);
        atomic_fetch_add(&p->done, 1);
    }
}

static void *pool_worker(void *arg)
{
    vg_pool *p = ((void **)arg)[0];
    int id = (int)(intptr_t)((void **)arg)[1];
    vg_free(arg);
    pthread_mutex_lock(&p->mu);
    uint32_t seen = p->gen;
    for (;;) {
        while (!p->stop && p->gen == seen) pthread_cond_wait(&p->wake, &p->mu);
        if (p->stop) break;
        seen = p->gen;
        vg_task_fn fn = p->fn;
        void *ctx = p->ctx;
        size_t n = p->n_tasks;
        pthread_mutex_unlock(&p->mu);
        run_loop(p, seen, fn, ctx, n, id);
        pthread_mutex_lock(&p->mu);
    }
    pthread_mutex_unlock(&p->mu);
    return NULL;
}

vg_status vg_pool_new(int threads, vg_pool **out)
{
    *out = NULL;
    vg_pool *p = vg_calloc(1, sizeof *p);
    if (!p) return vg_fail(VG_ERR_NOMEM, "out of memory for a thread pool");
    p->threads = vg_threads_resolve(threads);
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->wake, NULL);
    atomic_init(&p->next, 0);
    atomic_init(&p->done, 0);
    for (int i = 1; i < p->threads; i++) {
        void **a = vg_malloc(2 * sizeof *a);
        if (!a) break;
        a[0] = p;
        a[1] = (void *)(intptr_t)i;
        if (pthread_create(&p->tid[i], NULL, pool_worker, a) != 0) {
            vg_free(a);
            break;
        }
        p->started = i;
    }
    /* Workers that failed to start leave their share to the others. */
    *out = p;
    return VG_OK;
}

void vg_pool_free(vg_pool *p)
{
    if (!p) return;
    pthread_mutex_lock(&p->mu);
    p->stop = 1;
    pthread_cond_broadcast(&p->wake);
    pthread_mutex_unlock(&p->mu);
    for (int i = 1; i <= p->started; i++) pthread_join(p->tid[i], NULL);
    pthread_cond_destroy(&p->wake);
    pthread_mutex_destroy(&p->mu);
    vg_free(p);
}

int vg_pool_threads(const vg_pool *p)
{
    return p ? p->started + 1 : 1;
}

void vg_pool_for(vg_pool *p, size_t n_tasks, vg_task_fn fn, void *ctx)
{
    VG_ASSERT(n_tasks < 0xffffffffu);
    if (!p || p->started == 0 || n_tasks <= 1) {
        for (size_t t = 0; t < n_tasks; t++) fn(ctx, t, 0);
        return;
    }
    pthread_mutex_lock(&p->mu);
    uint32_t gen = ++p->gen;
    p->fn = fn;
    p->ctx = ctx;
    p->n_tasks = n_tasks;
    atomic_store(&p->done, 0);
    atomic_store(&p->next, (uint64_t)gen << 32);
    pthread_cond_broadcast(&p->wake);
    pthread_mutex_unlock(&p->mu);
    run_loop(p, gen, fn, ctx, n_tasks, 0);
    /* Every task is claimed; wait for those still running on a worker. */
    while (atomic_load(&p->done) < n_tasks) sched_yield();
}
