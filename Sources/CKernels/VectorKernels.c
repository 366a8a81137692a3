#include "CKernels.h"
#include "CPUFeatures.h"

#include <stdint.h>
#include <string.h>

typedef float f8 __attribute__((ext_vector_type(8)));
typedef float f4 __attribute__((ext_vector_type(4)));
typedef float f8u __attribute__((ext_vector_type(8), aligned(4)));
typedef int32_t i8 __attribute__((ext_vector_type(8)));

// The helpers that take and return f8 are always inlined, so the ABI of passing AVX-sized
// vectors without AVX (what -Wpsabi warns about) never arises.
#pragma clang diagnostic ignored "-Wpsabi"

// The baseline variant: any CPU the package builds for.
#define ICL_TARGET
#define ICL_NAME(name) name##Baseline
#include "VectorKernelsBody.h"
#undef ICL_TARGET
#undef ICL_NAME

#if defined(__x86_64__)
#define ICL_TARGET __attribute__((target("avx2,fma")))
#define ICL_NAME(name) name##AVX2
#include "VectorKernelsBody.h"
#undef ICL_TARGET
#undef ICL_NAME

int icl_cpu_has_avx2_fma(void) {
    static int answer = -1;
    if (answer < 0) {
        __builtin_cpu_init();
        answer = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    }
    return answer;
}
#define DISPATCH(name, ...) (icl_cpu_has_avx2_fma() ? name##AVX2(__VA_ARGS__) : name##Baseline(__VA_ARGS__))
#else
#define DISPATCH(name, ...) name##Baseline(__VA_ARGS__)
#endif

void icl_exp(const float *x, float *y, size_t count) { DISPATCH(exp, x, y, count); }

void icl_rotary(float *rows, size_t stride, size_t count, size_t heads, size_t headDim, size_t half, const float *cos,
                const float *sin) {
    DISPATCH(rotary, rows, stride, count, heads, headDim, half, cos, sin);
}

void icl_exp_baseline(const float *x, float *y, size_t count) { expBaseline(x, y, count); }

void icl_softmax_row(float *row, size_t start, size_t end, size_t width) {
    DISPATCH(softmaxRow, row, start, end, width);
}

void icl_silu_mul(const float *gate, const float *up, float *act, size_t count) {
    DISPATCH(siluMul, gate, up, act, count);
}

void icl_sigmoid(const float *x, float *sigmoid, size_t count) { DISPATCH(sigmoid, x, sigmoid, count); }

void icl_gelu_tanh(const float *x, float *y, size_t count) { DISPATCH(geluTanh, x, y, count); }

void icl_gelu_tanh_mul(const float *gate, const float *up, float *act, size_t count) {
    DISPATCH(geluTanhMul, gate, up, act, count);
}

void icl_gelu_tanh_backward(const float *x, const float *dy, float *dx, size_t count) {
    DISPATCH(geluTanhBackward, x, dy, dx, count);
}

void icl_gelu_tanh_mul_backward(const float *gate, const float *up, const float *dact, float *dgate, float *dup,
                                size_t count) {
    DISPATCH(geluTanhMulBackward, gate, up, dact, dgate, dup, count);
}
