// Vectorised element-wise kernels of the forward and reverse passes: exp, the attention
// softmax, SiLU and the tanh GELU. The source is written once with clang vector types and compiled twice, for
// AVX2 + FMA and for the baseline x86-64 (or any other) target; the first call picks the
// variant the CPU supports. Accuracy: see docs/methods.md (fast exp).
#ifndef ICL_CKERNELS_H
#define ICL_CKERNELS_H

#include <stddef.h>

/// y[i] = exp(x[i]) for i < count (x and y may be the same array). Within 2 ulp of the correctly
/// rounded value on [-87.33, 88.72]; below -87.33 (where exp is subnormal) the result is 0, above
/// 88.72 it is +inf; NaN gives NaN.
void icl_exp(const float *x, float *y, size_t count);

/// In-place softmax of row[start..<end]; the entries outside it (masked keys: beyond the causal
/// limit or before a sliding window) are set to 0, as a mask of -inf would leave them.
/// Requires start < end <= width.
void icl_softmax_row(float *row, size_t start, size_t end, size_t width);

/// act[i] = silu(gate[i]) * up[i] = gate[i] / (1 + exp(-gate[i])) * up[i], i < count.
void icl_silu_mul(const float *gate, const float *up, float *act, size_t count);

/// sigmoid[i] = 1 / (1 + exp(-x[i])), the same exp as icl_silu_mul (for its reverse).
void icl_sigmoid(const float *x, float *sigmoid, size_t count);

/// y[i] = gelu_tanh(x[i]) = 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))), computed as
/// x / (1 + exp(-2 sqrt(2/pi) (x + 0.044715 x^3))) with the exp above (x and y may be the same array).
void icl_gelu_tanh(const float *x, float *y, size_t count);

/// act[i] = gelu_tanh(gate[i]) * up[i], i < count (Gemma's GeGLU).
void icl_gelu_tanh_mul(const float *gate, const float *up, float *act, size_t count);

/// dx[i] = dy[i] * gelu_tanh'(x[i]), the reverse of icl_gelu_tanh (x: its input), with the same s.
void icl_gelu_tanh_backward(const float *x, const float *dy, float *dx, size_t count);

/// The reverse of icl_gelu_tanh_mul: dgate[i] = dact[i] * up[i] * gelu_tanh'(gate[i]),
/// dup[i] = dact[i] * gelu_tanh(gate[i]) (the forward's value bit for bit).
void icl_gelu_tanh_mul_backward(const float *gate, const float *up, const float *dact, float *dgate, float *dup,
                                size_t count);

/// icl_exp compiled for the baseline target, whichever variant icl_exp picks: lets the tests
/// check both on an AVX2 machine.
void icl_exp_baseline(const float *x, float *y, size_t count);

#endif
