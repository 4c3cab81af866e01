/* Internal: exp, the logistic function and tanh in float as plain
 * arithmetic, so that a loop over a layer's units vectorises. libm's expf
 * and tanhf are calls the compiler cannot vectorise, and they took 45% of
 * an LSTM's training time (perf, bench/seq.py) against 20% for its matrix
 * products.
 *
 * exp(x) = 2^n e^r with n = round(x / ln 2) and |r| <= ln(2) / 2, where
 * ln 2 is split in two parts so that r keeps its low bits, e^r a degree-6
 * polynomial and 2^n written straight into the float's exponent. tanh is
 * 1 - 2 / (1 + e^2|x|) with x's sign, except near 0 where that cancels and
 * an odd polynomial in x is used. The polynomials are Cephes' minimax fits
 * (S. Moshier, "Methods and Programs for Mathematical Functions", 1989).
 * Both stay within a few units in the last place of libm's results over
 * the whole range (tests/test_nn.c measures it); inputs are clamped where
 * the results saturate, so no infinity or NaN comes out of a finite x. */
#ifndef VG_MODELS_NN_ACT_H
#define VG_MODELS_NN_ACT_H

#include <stdint.h>
#include <string.h>

static inline float vg_nn_expf(float x)
{
    /* e^88.3 is near FLT_MAX, and below -87.3 the result leaves the normal
     * floats: clamp to keep 2^n's exponent in range */
    x = x > 88.3f ? 88.3f : x;
    x = x < -87.3f ? -87.3f : x;
    /* round to nearest by adding and removing 1.5 * 2^23 (no libm call) */
    const float n = (x * 1.44269504088896341f + 12582912.0f) - 12582912.0f;
    float r = x - n * 0.693359375f;
    r = r - n * -2.12194440e-4f;
    const float r2 = r * r;
    float p = 1.9875691500e-4f;
    p = p * r + 1.3981999507e-3f;
    p = p * r + 8.3334519073e-3f;
    p = p * r + 4.1665795894e-2f;
    p = p * r + 1.6666665459e-1f;
    p = p * r + 5.0000001201e-1f;
    p = p * r2 + r + 1.0f;
    const int32_t bits = ((int32_t)n + 127) << 23;
    float scale;
    memcpy(&scale, &bits, sizeof scale);
    return p * scale;
}

static inline float vg_nn_sigmoidf(float x)
{
    return 1.0f / (1.0f + vg_nn_expf(-x));
}

static inline float vg_nn_tanhf(float x)
{
    const float ax = x < 0.0f ? -x : x;
    /* tanh(|x|) = 1 - 2 / (1 + e^(2|x|)); it rounds to 1 in float past 9.1 */
    const float big = 1.0f - 2.0f / (1.0f + vg_nn_expf(2.0f * (ax < 10.0f ? ax : 10.0f)));
    const float z = x * x;
    float p = -5.70498872745e-3f;
    p = p * z + 2.06390887954e-2f;
    p = p * z - 5.37397155531e-2f;
    p = p * z + 1.33314422036e-1f;
    p = p * z - 3.33332819422e-1f;
    const float small = p * z * ax + ax;
    const float t = ax < 0.625f ? small : big;
    return x < 0.0f ? -t : t;
}

#endif
