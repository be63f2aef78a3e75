/* rng.c: the runtime's own random generator (xoshiro256** seeded through
 * splitmix64), so the same seed gives the same numbers on every machine,
 * and the draws built on it: uniform floats, normals, bounded integers and
 * the Fisher-Yates shuffle the training loop uses. */
#include "seqrt.h"

#include <math.h>

static uint64_t rotl(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

/* splitmix64 (Vigna): spreads one 64-bit seed over the four state words,
 * so even seed 0 gives a non-zero xoshiro state. */
static uint64_t splitmix64(uint64_t *x)
{
    uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

void seqrt_rng_seed(seqrt_rng *rng, uint64_t seed)
{
    for (int i = 0; i < 4; i++)
        rng->s[i] = splitmix64(&seed);
}

/* xoshiro256** 1.0 (Blackman and Vigna), unchanged. */
uint64_t seqrt_rng_next(seqrt_rng *rng)
{
    uint64_t *s = rng->s;
    uint64_t result = rotl(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
}

/* The top 24 bits, the mantissa width of a float: every value k/2^24 is
 * exact, so the result is never rounded up to 1. */
float seqrt_rng_uniform(seqrt_rng *rng)
{
    return (float)(seqrt_rng_next(rng) >> 40) * 0x1p-24f;
}

/* Box-Muller, one normal per call (the sine half is dropped rather than
 * cached, so the whole state stays in s[4]). u1 is in (0, 1] so the
 * logarithm is finite; the arithmetic is in double for accuracy. */
float seqrt_rng_normal(seqrt_rng *rng)
{
    double u1 = (double)((seqrt_rng_next(rng) >> 11) + 1) * 0x1p-53;
    double u2 = (double)(seqrt_rng_next(rng) >> 11) * 0x1p-53;
    const double two_pi = 6.283185307179586476925286766559;
    return (float)(sqrt(-2.0 * log(u1)) * cos(two_pi * u2));
}

/* Lemire's multiply-and-reject: the 64-bit product of a 32-bit draw and n
 * has its high half in [0, n); draws whose low half falls below 2^32 mod n
 * are rejected, which removes the bias exactly. n == 0 returns 0. */
uint32_t seqrt_rng_below(seqrt_rng *rng, uint32_t n)
{
    if (n == 0)
        return 0;
    uint64_t m = (seqrt_rng_next(rng) >> 32) * (uint64_t)n;
    uint32_t low = (uint32_t)m;
    if (low < n) {
        uint32_t threshold = (uint32_t)(-n) % n; /* 2^32 mod n */
        while (low < threshold) {
            m = (seqrt_rng_next(rng) >> 32) * (uint64_t)n;
            low = (uint32_t)m;
        }
    }
    return (uint32_t)(m >> 32);
}

/* Fisher-Yates (Durstenfeld): each of the n! orders equally likely.
 * Datasets are indexed by uint32_t, so n fits below 2^32. */
void seqrt_rng_shuffle(seqrt_rng *rng, uint32_t *order, size_t n)
{
    for (size_t i = n; i > 1; i--) {
        uint32_t j = seqrt_rng_below(rng, (uint32_t)i);
        uint32_t tmp = order[i - 1];
        order[i - 1] = order[j];
        order[j] = tmp;
    }
}
