/*
 * prng.h - a small deterministic generator (splitmix64) for the
 * cross-check tests: the same seed gives the same subscribers on every
 * machine, so a mismatch can be replayed.  Not for keys in production.
 */
#ifndef GBA_TEST_PRNG_H
#define GBA_TEST_PRNG_H

#include <stddef.h>
#include <stdint.h>

static inline uint64_t prng_next(uint64_t *s)
{
	uint64_t z = (*s += UINT64_C(0x9e3779b97f4a7c15));
	z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
	z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
	return z ^ (z >> 31);
}

static inline void prng_fill(uint64_t *s, uint8_t *buf, size_t len)
{
	for (size_t i = 0; i < len; i++)
		buf[i] = (uint8_t)prng_next(s);
}

/* A value in [0, n). */
static inline unsigned prng_below(uint64_t *s, unsigned n)
{
	return (unsigned)(prng_next(s) % n);
}

#endif
