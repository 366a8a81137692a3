// Vectorised kernels of the forward and reverse passes: exp, the attention softmax, SiLU, the
// tanh GELU and the rotary embedding. The source is written once with clang vector types and
// compiled twice, for AVX2 + FMA and for the baseline x86-64 (or any other) target; the first
// call picks the variant the CPU supports. Accuracy: see docs/methods.md (fast exp).
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

/// Rotary embedding in place (rotate_half convention): in each of `count` rows (row stride
/// `stride`) and each of `heads` heads of headDim values from the row's start, value i < half
/// pairs with i + half: x_i <- x_i c_i - x_{i+half} s_i, x_{i+half} <- x_{i+half} c_i + x_i s_i,
/// with row t's c and s at cos + t * half and sin + t * half. Products are rounded before the
/// sums (no FMA), as torch computes q * cos + rotate_half(q) * sin.
void icl_rotary(float *rows, size_t stride, size_t count, size_t heads, size_t headDim, size_t half, const float *cos,
                const float *sin);

/// icl_exp compiled for the baseline target, whichever variant icl_exp picks: lets the tests
/// check both on an AVX2 machine.
void icl_exp_baseline(const float *x, float *y, size_t count);

/// Weight products over weights packed once (PackedGEMM.c, docs/methods.md §22.4).
/// The number of floats icl_pack_weights writes for an [n, k] matrix.
size_t icl_packed_weights_count(size_t n, size_t k);

/// Packs the row-major W[n, k] (row stride ldw) into panels of 16 rows, packed[p][kk][j] =
/// W[16 p + j][kk], zero for rows beyond n.
void icl_pack_weights(const float *w, size_t ldw, size_t n, size_t k, float *packed);

/// Rows [row0, row0 + rows) of W[n, k] into its packed form: w points at row row0 (row stride
/// ldw). Packing the rows in parts (keys from several KV segments) gives icl_pack_weights's
/// result once every row is written; the part that ends at row n zeroes the padding rows.
void icl_pack_rows(const float *w, size_t ldw, size_t row0, size_t rows, size_t n, size_t k, float *packed);

/// Rows [kk0, kk0 + count) of V[k, n] (row-major, v points at row kk0, row stride ldv) into the
/// packed form of W = V^T [n, k]: the right-hand side of P · V as a packed weight.
void icl_pack_transposed(const float *v, size_t ldv, size_t kk0, size_t count, size_t n, size_t k, float *packed);

/// Whether icl_packed_gemm runs on this CPU (x86-64 with AVX2 and FMA).
int icl_packed_gemm_available(void);

/// C[i, j] = alpha * sum over kk of A[i, kk] W[j, kk] for i < m and j in [column0, column0 +
/// columns), W given packed; c is C's first element (row stride ldc), a is A's (row stride lda).
/// column0 must be a multiple of 16. Returns 0, or -1 (C untouched) when the CPU lacks AVX2 or
/// the thread's scratch cannot be allocated.
int icl_packed_gemm(const float *a, size_t lda, const float *packed, size_t k, size_t column0, size_t columns,
                    float *c, size_t ldc, size_t m, float alpha);

/// One iteration of icl_parallel_for's loop.
typedef void (*icl_task_fn)(void *context, size_t index);

/// Runs task(context, i) for i in 0..<iterations on up to `threads` threads (the caller's and
/// workers kept for the process's life, ThreadPool.c), returning when every iteration is done.
/// Iterations are taken in ascending order. A call from inside a loop, or while another thread's
/// loop runs, runs its iterations on the calling thread.
void icl_parallel_for(size_t iterations, size_t threads, icl_task_fn task, void *context);

/// What a causal staircase bounds in icl_packed_gemm_causal.
enum {
    /// C[i, j] is computed for j < end(i) only; the rest of C is left as it was.
    ICL_CAUSAL_COLUMNS = 1,
    /// The sum over kk stops at end(i): the caller guarantees A[i, kk] = 0 for kk >= end(i).
    ICL_CAUSAL_DEPTH = 2,
};

/// icl_packed_gemm over all m rows and all columns of W (column0 = 0) for the products of
/// causal attention, where row i needs only the first end(i) = offset + i % period columns (of
/// C, or of the depth kk). Whole 6 x 16 tiles (or k steps) that every row of a strip leaves out
/// are skipped. Every element computed sums the same terms in the same order as
/// icl_packed_gemm's: depth terms skipped are exact zeros.
int icl_packed_gemm_causal(const float *a, size_t lda, const float *packed, size_t k, size_t columns, float *c,
                           size_t ldc, size_t m, float alpha, size_t period, size_t offset, int bound);

#endif
