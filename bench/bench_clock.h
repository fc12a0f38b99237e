/* bench_clock.h - the clocks every bench reads: CPU time of this thread, and wall time. */
#ifndef LL_BENCH_CLOCK_H
#define LL_BENCH_CLOCK_H

#include <time.h>

/* CPU seconds of this thread: the box may be shared, the rate is per core. */
static inline double cpu_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static inline double wall_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

#endif
