// The body of the kernels in CKernels.h for one target (not a header of its own), included once
// per target by VectorKernels.c with ICL_TARGET (a function attribute) and ICL_NAME(name) (a
// suffixed name) defined. f8 is 8 floats: one AVX2 register, or two SSE registers on the baseline target.

/// exp of 8 lanes (Cephes expf): x = n ln2 + r with |r| <= ln2 / 2, exp(r) by a degree-7
/// polynomial in Horner form, times 2^n built in the exponent bits.
static ICL_TARGET inline __attribute__((always_inline)) f8 ICL_NAME(exp8)(f8 x) {
    const f8 lowest = -87.3365478515625f;   // ~ln(FLT_MIN): below it exp is subnormal
    const f8 highest = 88.72283935546875f;  // ~ln(FLT_MAX): above it exp overflows
    const f8 magic = 12582912.0f;           // 1.5 * 2^23: adding it rounds to an integer
    f8 clamped = __builtin_elementwise_min(__builtin_elementwise_max(x, lowest), highest);
    f8 shifted = clamped * 1.44269504088896341f + magic;
    f8 n = shifted - magic;
    f8 r = clamped - n * 0.693359375f;
    r = r - n * -2.12194440e-4f;
    f8 p = 1.9875691500e-4f;
    p = p * r + 1.3981999507e-3f;
    p = p * r + 8.3334519073e-3f;
    p = p * r + 4.1665795894e-2f;
    p = p * r + 1.6666665459e-1f;
    p = p * r + 5.0000001201e-1f;
    f8 y = p * (r * r) + r + 1.0f;
    // n reaches 128 just below ln(FLT_MAX): 2^128 is not a float, so such lanes take 2^127 and
    // twice y (exact).
    i8 top = n > 127.0f;
    y = y * (f8)((i8)(f8)1.0f + (top & (1 << 23)));
    i8 exponent = (__builtin_convertvector(n, i8) + 127 + top) << 23;
    f8 result = y * (f8)exponent;
    i8 under = x < lowest, over = x > highest, nan = x != x;
    i8 bits = ((i8)result & ~under) & ~over;
    bits |= over & (i8)(f8)__builtin_inff();
    bits = (bits & ~nan) | (nan & (i8)x);
    return (f8)bits;
}

static ICL_TARGET inline __attribute__((always_inline)) f8 ICL_NAME(load)(const float *p) {
    f8u value;
    memcpy(&value, p, sizeof value);
    return value;
}

static ICL_TARGET inline __attribute__((always_inline)) void ICL_NAME(store)(float *p, f8 value) {
    memcpy(p, &value, sizeof value);
}

/// The first `count` (< 8) floats of p in a vector whose other lanes are `fill`.
static ICL_TARGET inline __attribute__((always_inline)) f8 ICL_NAME(loadTail)(const float *p, size_t count, float fill) {
    float lanes[8] = {fill, fill, fill, fill, fill, fill, fill, fill};
    memcpy(lanes, p, count * sizeof(float));
    return ICL_NAME(load)(lanes);
}

static ICL_TARGET inline __attribute__((always_inline)) void ICL_NAME(storeTail)(float *p, f8 value, size_t count) {
    float lanes[8];
    ICL_NAME(store)(lanes, value);
    memcpy(p, lanes, count * sizeof(float));
}

/// The sum of the 8 lanes, pairwise.
static ICL_TARGET inline __attribute__((always_inline)) float ICL_NAME(sum)(f8 v) {
    f4 half = v.lo + v.hi;
    f4 quarter = half.xyxy + half.zwzw;
    return quarter.x + quarter.y;
}

static ICL_TARGET void ICL_NAME(exp)(const float *x, float *y, size_t count) {
    size_t i = 0;
    for (; i + 8 <= count; i += 8) ICL_NAME(store)(y + i, ICL_NAME(exp8)(ICL_NAME(load)(x + i)));
    if (i < count) ICL_NAME(storeTail)(y + i, ICL_NAME(exp8)(ICL_NAME(loadTail)(x + i, count - i, 0)), count - i);
}

static ICL_TARGET void ICL_NAME(softmaxRow)(float *row, size_t start, size_t end, size_t width) {
    float *v = row + start;
    size_t count = end - start, i = 0;
    f8 maxima = -__builtin_inff();
    for (; i + 8 <= count; i += 8) maxima = __builtin_elementwise_max(maxima, ICL_NAME(load)(v + i));
    if (i < count) maxima = __builtin_elementwise_max(maxima, ICL_NAME(loadTail)(v + i, count - i, -__builtin_inff()));
    float maximum = __builtin_reduce_max(maxima);
    // A row whose every score is -inf has no finite maximum; subtracting 0 then gives NaN rows
    // as -inf - -inf would in torch.
    f8 sums = 0;
    for (i = 0; i + 8 <= count; i += 8) {
        f8 e = ICL_NAME(exp8)(ICL_NAME(load)(v + i) - maximum);
        ICL_NAME(store)(v + i, e);
        sums += e;
    }
    if (i < count) {
        f8 e = ICL_NAME(exp8)(ICL_NAME(loadTail)(v + i, count - i, -__builtin_inff()) - maximum);
        ICL_NAME(storeTail)(v + i, e, count - i);
        sums += e;
    }
    float inverse = 1.0f / ICL_NAME(sum)(sums);
    for (i = 0; i + 8 <= count; i += 8) ICL_NAME(store)(v + i, ICL_NAME(load)(v + i) * inverse);
    for (; i < count; i++) v[i] *= inverse;
    memset(row, 0, start * sizeof(float));
    memset(row + end, 0, (width - end) * sizeof(float));
}

static ICL_TARGET void ICL_NAME(siluMul)(const float *gate, const float *up, float *act, size_t count) {
    size_t i = 0;
    for (; i + 8 <= count; i += 8) {
        f8 g = ICL_NAME(load)(gate + i);
        ICL_NAME(store)(act + i, g / (1.0f + ICL_NAME(exp8)(-g)) * ICL_NAME(load)(up + i));
    }
    if (i < count) {
        f8 g = ICL_NAME(loadTail)(gate + i, count - i, 0);
        f8 u = ICL_NAME(loadTail)(up + i, count - i, 0);
        ICL_NAME(storeTail)(act + i, g / (1.0f + ICL_NAME(exp8)(-g)) * u, count - i);
    }
}

static ICL_TARGET void ICL_NAME(sigmoid)(const float *x, float *sigmoid, size_t count) {
    size_t i = 0;
    for (; i + 8 <= count; i += 8) {
        ICL_NAME(store)(sigmoid + i, 1.0f / (1.0f + ICL_NAME(exp8)(-ICL_NAME(load)(x + i))));
    }
    if (i < count) {
        f8 s = 1.0f / (1.0f + ICL_NAME(exp8)(-ICL_NAME(loadTail)(x + i, count - i, 0)));
        ICL_NAME(storeTail)(sigmoid + i, s, count - i);
    }
}

/// exp(-2u), u = sqrt(2/pi) (x + 0.044715 x^3): what the tanh GELU and its reverse share.
static ICL_TARGET inline __attribute__((always_inline)) f8 ICL_NAME(geluTanhExp8)(f8 x) {
    f8 u = 0.7978845608028654f * (x + 0.044715f * (x * x * x));
    return ICL_NAME(exp8)(-2.0f * u);
}

/// The tanh GELU of 8 lanes: 0.5 x (1 + tanh(u)) = x / (1 + exp(-2u)).
/// For very negative x, exp(-2u) is +inf and the lane is -0, the limit.
static ICL_TARGET inline __attribute__((always_inline)) f8 ICL_NAME(geluTanh8)(f8 x) {
    return x / (1.0f + ICL_NAME(geluTanhExp8)(x));
}

static ICL_TARGET void ICL_NAME(geluTanh)(const float *x, float *y, size_t count) {
    size_t i = 0;
    for (; i + 8 <= count; i += 8) ICL_NAME(store)(y + i, ICL_NAME(geluTanh8)(ICL_NAME(load)(x + i)));
    if (i < count) ICL_NAME(storeTail)(y + i, ICL_NAME(geluTanh8)(ICL_NAME(loadTail)(x + i, count - i, 0)), count - i);
}

static ICL_TARGET void ICL_NAME(geluTanhMul)(const float *gate, const float *up, float *act, size_t count) {
    size_t i = 0;
    for (; i + 8 <= count; i += 8) {
        ICL_NAME(store)(act + i, ICL_NAME(geluTanh8)(ICL_NAME(load)(gate + i)) * ICL_NAME(load)(up + i));
    }
    if (i < count) {
        f8 g = ICL_NAME(loadTail)(gate + i, count - i, 0);
        f8 u = ICL_NAME(loadTail)(up + i, count - i, 0);
        ICL_NAME(storeTail)(act + i, ICL_NAME(geluTanh8)(g) * u, count - i);
    }
}

/// gelu_tanh(x) and its derivative for 8 lanes, with s = 1 / (1 + exp(-2u)) as in geluTanh8:
/// gelu = x s, gelu' = s + 2 x s (1 - s) u', u' = sqrt(2/pi) (1 + 3 * 0.044715 x^2). 1 - s is taken
/// as exp(-2u) s where x >= 0 (no cancellation as s nears 1) and as 1 - s below (exp(-2u) may be inf).
static ICL_TARGET inline __attribute__((always_inline)) void ICL_NAME(geluTanhGrad8)(f8 x, f8 *value, f8 *derivative) {
    f8 e = ICL_NAME(geluTanhExp8)(x);
    f8 s = 1.0f / (1.0f + e);
    i8 negative = x < 0.0f;
    f8 oneMinusS = (f8)((((i8)(1.0f - s)) & negative) | (((i8)(e * s)) & ~negative));
    *value = x / (1.0f + e);
    *derivative = s + 2.0f * x * s * oneMinusS * (0.7978845608028654f * (1.0f + 0.134145f * (x * x)));
}

static ICL_TARGET void ICL_NAME(geluTanhBackward)(const float *x, const float *dy, float *dx, size_t count) {
    size_t i = 0;
    f8 value, derivative;
    for (; i + 8 <= count; i += 8) {
        ICL_NAME(geluTanhGrad8)(ICL_NAME(load)(x + i), &value, &derivative);
        ICL_NAME(store)(dx + i, ICL_NAME(load)(dy + i) * derivative);
    }
    if (i < count) {
        ICL_NAME(geluTanhGrad8)(ICL_NAME(loadTail)(x + i, count - i, 0), &value, &derivative);
        ICL_NAME(storeTail)(dx + i, ICL_NAME(loadTail)(dy + i, count - i, 0) * derivative, count - i);
    }
}

static ICL_TARGET void ICL_NAME(geluTanhMulBackward)(const float *gate, const float *up, const float *dact,
                                                     float *dgate, float *dup, size_t count) {
    size_t i = 0;
    f8 value, derivative;
    for (; i + 8 <= count; i += 8) {
        ICL_NAME(geluTanhGrad8)(ICL_NAME(load)(gate + i), &value, &derivative);
        f8 da = ICL_NAME(load)(dact + i);
        ICL_NAME(store)(dup + i, da * value);
        ICL_NAME(store)(dgate + i, da * ICL_NAME(load)(up + i) * derivative);
    }
    if (i < count) {
        size_t n = count - i;
        ICL_NAME(geluTanhGrad8)(ICL_NAME(loadTail)(gate + i, n, 0), &value, &derivative);
        f8 da = ICL_NAME(loadTail)(dact + i, n, 0);
        ICL_NAME(storeTail)(dup + i, da * value, n);
        ICL_NAME(storeTail)(dgate + i, da * ICL_NAME(loadTail)(up + i, n, 0) * derivative, n);
    }
}

/// Rotary embedding of the first 2 * half values of `heads` heads of headDim values in each of
/// `count` rows (row stride `stride`), in place: x_i <- x_i cos - x_{i+half} sin,
/// x_{i+half} <- x_{i+half} cos + x_i sin, with row t's cos and sin at cos + t * half. Each
/// product is rounded before the sum, as torch's q * cos + rotate_half(q) * sin (no FMA).
static ICL_TARGET void ICL_NAME(rotary)(float *rows, size_t stride, size_t count, size_t heads, size_t headDim,
                                        size_t half, const float *cos, const float *sin) {
#pragma clang fp contract(off)
    for (size_t t = 0; t < count; t++) {
        const float *c = cos + t * half, *s = sin + t * half;
        for (size_t h = 0; h < heads; h++) {
            float *x = rows + t * stride + h * headDim;
            size_t i = 0;
            for (; i + 8 <= half; i += 8) {
                f8 a = ICL_NAME(load)(x + i), b = ICL_NAME(load)(x + i + half);
                f8 ci = ICL_NAME(load)(c + i), si = ICL_NAME(load)(s + i);
                ICL_NAME(store)(x + i, a * ci - b * si);
                ICL_NAME(store)(x + i + half, b * ci + a * si);
            }
            for (; i < half; i++) {
                float a = x[i], b = x[i + half];
                x[i] = a * c[i] - b * s[i];
                x[i + half] = b * c[i] + a * s[i];
            }
        }
    }
}
