/* xoshiro256** seeded through splitmix64: fast, small state, and good enough
 * statistically for bootstrap sampling, feature sub-sampling and shuffles. */
#include "vigil/rng.h"

#include <math.h>

static uint64_t splitmix64(uint64_t *x)
{
    uint64_t z = (*x += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

static uint64_t rotl(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

void vg_rng_seed(vg_rng *r, uint64_t seed, uint64_t stream)
{
    uint64_t x = seed ^ (stream * 0xD1B54A32D192ED03ull);
    for (int i = 0; i < 4; i++) r->s[i] = splitmix64(&x);
}

uint64_t vg_rng_next(vg_rng *r)
{
    uint64_t *s = r->s;
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

double vg_rng_uniform(vg_rng *r)
{
    return (double)(vg_rng_next(r) >> 11) * 0x1.0p-53;
}

uint32_t vg_rng_below(vg_rng *r, uint32_t n)
{
    /* Lemire's multiply-shift with rejection: unbiased without division. */
    uint64_t m = (uint64_t)(uint32_t)vg_rng_next(r) * n;
    uint32_t low = (uint32_t)m;
    if (low < n) {
        uint32_t threshold = (uint32_t)-n % n;
        while (low < threshold) {
            m = (uint64_t)(uint32_t)vg_rng_next(r) * n;
            low = (uint32_t)m;
        }
    }
    return (uint32_t)(m >> 32);
}

double vg_rng_normal(vg_rng *r)
{
    double u1 = vg_rng_uniform(r), u2 = vg_rng_uniform(r);
    if (u1 < 1e-300) u1 = 1e-300;
    return sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2);
}

void vg_rng_shuffle_u32(vg_rng *r, uint32_t *v, size_t n)
{
    for (size_t i = n; i > 1; i--) {
        uint32_t j = vg_rng_below(r, (uint32_t)i);
        uint32_t t = v[i - 1];
        v[i - 1] = v[j];
        v[j] = t;
    }
}
