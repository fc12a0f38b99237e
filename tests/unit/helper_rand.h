/* helper_rand.h - a small deterministic generator (xorshift64) for tests: no test may depend on the run. */
#ifndef LL_HELPER_RAND_H
#define LL_HELPER_RAND_H

#include <stdint.h>

/* The state: set it to a non-zero seed at the start of each test. */
static uint64_t rnd_state;

/* rnd() - a number in [0, n). */
static inline uint32_t rnd(uint32_t n)
{
	rnd_state ^= rnd_state << 13;
	rnd_state ^= rnd_state >> 7;
	rnd_state ^= rnd_state << 17;
	return (uint32_t)(rnd_state % n);
}

#endif
