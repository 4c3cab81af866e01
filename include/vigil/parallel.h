/* Data-parallel loops over a persistent pool of worker threads (pthreads,
 * started on the first parallel call; see src/core/parallel.c).
 * Tasks are handed out dynamically; `worker` (0..threads-1) indexes per-thread
 * scratch. With threads <= 1 everything runs on the caller's thread, which is
 * the reference path. Results must never depend on which worker ran a task. */
#ifndef VIGIL_PARALLEL_H
#define VIGIL_PARALLEL_H

#include "vigil/core.h"
#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef void (*vg_task_fn)(void *ctx, size_t task, int worker);

/* Run fn(ctx, t, worker) for t in [0, n_tasks) on `threads` threads
 * (0 = the CPUs this process may run on). Returns when all tasks are done. */
VG_API void vg_parallel_for(int threads, size_t n_tasks, vg_task_fn fn, void *ctx);

/* The CPUs this process may run on: its affinity mask (taskset, a cgroup
 * cpuset, a container's CPU list), not every CPU of the machine. */
VG_API int vg_cpus_available(void);

/* Resolve a requested thread count: 0 -> vg_cpus_available(), otherwise clamp to >= 1. */
VG_API int vg_threads_resolve(int threads);

#ifdef __cplusplus
}
#endif

#endif
