/* Monotonic time for training and prediction timings. */
#include "vigil/core.h"

#include <time.h>

double vg_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}
