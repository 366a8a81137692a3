#include "CKernels.h"
#include "CPUFeatures.h"

#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

// Weight products over weights packed once (docs/methods.md §22.4). OpenBLAS packs the weight
// matrix again on every call; here it is laid out once, at load, in the order the inner kernel
// reads it: panels of 16 weight rows (output columns), each [k][16], so a kernel call streams one
// panel front to back. The activations (the small operand) are packed per call into strips of 6
// rows, [kc][6]. The inner kernel holds a 6 x 16 block of C in 12 AVX2 registers.
//
// Blocking: a panel's kc x 16 slice (at most 24 KiB) stays in L1 while it meets every strip of a
// block of A's rows (at most A_BLOCK floats, 384 KiB, in L2); m is cut into equal blocks of whole
// strips, so 256 rows are one block at k = 576. k is cut into equal blocks of at most KC_MAX,
// fixed by k alone, and every output element sums its k terms in the same order whatever m, the
// row's place in its strip or the column range are: a row's result does not depend on the
// prompt's length or the thread count. For causal attention (icl_packed_gemm_causal) the tiles
// and k steps above the mask's staircase are skipped.

enum { MR = 6, NR = 16, KC_MAX = 384, A_BLOCK = 96 * 1024 };

size_t icl_packed_weights_count(size_t n, size_t k) { return (n + NR - 1) / NR * NR * k; }

void icl_pack_rows(const float *w, size_t ldw, size_t row0, size_t rows, size_t n, size_t k, float *packed) {
    for (size_t i = 0; i < rows; i++) {
        size_t row = row0 + i;
        float *target = packed + row / NR * k * NR + row % NR;
        const float *source = w + i * ldw;
        for (size_t kk = 0; kk < k; kk++) target[kk * NR] = source[kk];
    }
    // The last panel's rows beyond n are read by the kernel (and never stored): keep them zero.
    if (row0 + rows == n && n % NR != 0) {
        float *panel = packed + n / NR * k * NR;
        for (size_t kk = 0; kk < k; kk++) {
            for (size_t j = n % NR; j < NR; j++) panel[kk * NR + j] = 0;
        }
    }
}

void icl_pack_weights(const float *w, size_t ldw, size_t n, size_t k, float *packed) {
    icl_pack_rows(w, ldw, 0, n, n, k, packed);
}

void icl_pack_transposed(const float *v, size_t ldv, size_t kk0, size_t count, size_t n, size_t k, float *packed) {
    for (size_t p = 0; p * NR < n; p++) {
        size_t width = n - p * NR < NR ? n - p * NR : NR;
        float *panel = packed + p * k * NR;
        for (size_t kk = kk0; kk < kk0 + count; kk++) {
            const float *source = v + (kk - kk0) * ldv + p * NR;
            for (size_t j = 0; j < width; j++) panel[kk * NR + j] = source[j];
            for (size_t j = width; j < NR; j++) panel[kk * NR + j] = 0;
        }
    }
}

#if defined(__x86_64__)
#include <immintrin.h>

int icl_packed_gemm_available(void) { return icl_cpu_has_avx2_fma(); }

// One scratch block of packed activations per thread, kept for the thread's life.
static pthread_key_t scratchKey;
static pthread_once_t scratchOnce = PTHREAD_ONCE_INIT;
static void makeScratchKey(void) { pthread_key_create(&scratchKey, free); }

static float *threadScratch(void) {
    pthread_once(&scratchOnce, makeScratchKey);
    float *scratch = pthread_getspecific(scratchKey);
    if (!scratch) {
        scratch = aligned_alloc(64, sizeof(float) * (A_BLOCK + 8));
        if (scratch && pthread_setspecific(scratchKey, scratch) != 0) {
            free(scratch);
            scratch = NULL;
        }
    }
    return scratch;
}

// Rows [0, rows) and columns [k0, k0 + kc) of A into strips [rows / 6][kc][6], the last strip
// padded with zero rows. Eight kk at a time, the strip's six rows are read as eight-float pieces
// and transposed in registers; each of the eight stores writes two floats past its kk, which the
// next store (or the next strip, or the scratch's padding) overwrites, so stores go in order.
__attribute__((target("avx2,fma")))
static void packActivations(const float *a, size_t lda, size_t rows, size_t k0, size_t kc, float *strips) {
    static const float zeros[KC_MAX];
    for (size_t s = 0; s * MR < rows; s++) {
        const float *source[MR];
        for (size_t r = 0; r < MR; r++) source[r] = s * MR + r < rows ? a + (s * MR + r) * lda + k0 : zeros;
        float *strip = strips + s * kc * MR;
        size_t kk = 0;
        for (; kk + 8 <= kc; kk += 8, strip += 8 * MR) {
            __m256 r0 = _mm256_loadu_ps(source[0] + kk), r1 = _mm256_loadu_ps(source[1] + kk);
            __m256 r2 = _mm256_loadu_ps(source[2] + kk), r3 = _mm256_loadu_ps(source[3] + kk);
            __m256 r4 = _mm256_loadu_ps(source[4] + kk), r5 = _mm256_loadu_ps(source[5] + kk);
            __m256 zero = _mm256_setzero_ps();
            // Rows interleaved in pairs (t: rows 0-1, 2-3, 4-5), then in fours (q: rows 0-3; p: rows
            // 4-5 and two zeros).
            __m256 t0 = _mm256_unpacklo_ps(r0, r1), t1 = _mm256_unpackhi_ps(r0, r1);
            __m256 t2 = _mm256_unpacklo_ps(r2, r3), t3 = _mm256_unpackhi_ps(r2, r3);
            __m256 t4 = _mm256_unpacklo_ps(r4, r5), t5 = _mm256_unpackhi_ps(r4, r5);
            __m256 q0 = _mm256_shuffle_ps(t0, t2, 0x44), q1 = _mm256_shuffle_ps(t0, t2, 0xEE);
            __m256 q2 = _mm256_shuffle_ps(t1, t3, 0x44), q3 = _mm256_shuffle_ps(t1, t3, 0xEE);
            __m256 p0 = _mm256_shuffle_ps(t4, zero, 0x44), p1 = _mm256_shuffle_ps(t4, zero, 0xEE);
            __m256 p2 = _mm256_shuffle_ps(t5, zero, 0x44), p3 = _mm256_shuffle_ps(t5, zero, 0xEE);
            // q_j's low half is kk + j's rows 0-3, its high half kk + 4 + j's; p_j the same for rows 4-5.
            __m256 columns[8] = {
                _mm256_permute2f128_ps(q0, p0, 0x20), _mm256_permute2f128_ps(q1, p1, 0x20),
                _mm256_permute2f128_ps(q2, p2, 0x20), _mm256_permute2f128_ps(q3, p3, 0x20),
                _mm256_permute2f128_ps(q0, p0, 0x31), _mm256_permute2f128_ps(q1, p1, 0x31),
                _mm256_permute2f128_ps(q2, p2, 0x31), _mm256_permute2f128_ps(q3, p3, 0x31),
            };
            for (size_t j = 0; j < 8; j++) _mm256_storeu_ps(strip + j * MR, columns[j]);
        }
        for (; kk < kc; kk++, strip += MR) {
            for (size_t r = 0; r < MR; r++) strip[r] = source[r][kk];
        }
    }
}

// One kk of the 6 x 16 block: row i's two accumulators (lo: columns 0-7, hi: 8-15) take a_i b.
#define ROW(A, i, lo, hi)                                                                  \
    x = _mm256_broadcast_ss((A) + (i));                                                    \
    lo = _mm256_fmadd_ps(x, b0, lo), hi = _mm256_fmadd_ps(x, b1, hi)

#define STEP(A, B)                                                                         \
    do {                                                                                   \
        __m256 b0 = _mm256_loadu_ps(B), b1 = _mm256_loadu_ps((B) + 8), x;                  \
        ROW(A, 0, c00, c01); ROW(A, 1, c10, c11); ROW(A, 2, c20, c21);                     \
        ROW(A, 3, c30, c31); ROW(A, 4, c40, c41); ROW(A, 5, c50, c51);                     \
    } while (0)

// C[rows, cols] (+)= strip[kc][6] · panel[kc][16] for rows <= 6, cols <= 16; adds to C when
// accumulate is set (the k blocks after the first).
__attribute__((target("avx2,fma")))
static void kernel6x16(size_t kc, const float *restrict a, const float *restrict b, float *restrict c, size_t ldc,
                       int accumulate, float alpha, size_t rows, size_t cols) {
    __m256 c00 = _mm256_setzero_ps(), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00;
    __m256 c30 = c00, c31 = c00, c40 = c00, c41 = c00, c50 = c00, c51 = c00;
    size_t kk = 0;
    for (; kk + 4 <= kc; kk += 4, a += 4 * MR, b += 4 * NR) {
        STEP(a, b);
        STEP(a + MR, b + NR);
        STEP(a + 2 * MR, b + 2 * NR);
        STEP(a + 3 * MR, b + 3 * NR);
    }
    for (; kk < kc; kk++, a += MR, b += NR) STEP(a, b);
    __m256 block[2 * MR] = {c00, c01, c10, c11, c20, c21, c30, c31, c40, c41, c50, c51};
    if (alpha != 1) {
        for (size_t i = 0; i < 2 * MR; i++) block[i] = _mm256_mul_ps(block[i], _mm256_set1_ps(alpha));
    }
    if (cols == NR) {
        for (size_t i = 0; i < rows; i++) {
            float *row = c + i * ldc;
            __m256 left = block[2 * i], right = block[2 * i + 1];
            if (accumulate) {
                left = _mm256_add_ps(left, _mm256_loadu_ps(row));
                right = _mm256_add_ps(right, _mm256_loadu_ps(row + 8));
            }
            _mm256_storeu_ps(row, left);
            _mm256_storeu_ps(row + 8, right);
        }
    } else {
        float tile[MR * NR];
        for (size_t i = 0; i < MR; i++) {
            _mm256_storeu_ps(tile + i * NR, block[2 * i]);
            _mm256_storeu_ps(tile + i * NR + 8, block[2 * i + 1]);
        }
        for (size_t i = 0; i < rows; i++) {
            float *row = c + i * ldc;
            for (size_t j = 0; j < cols; j++) row[j] = accumulate ? row[j] + tile[i * NR + j] : tile[i * NR + j];
        }
    }
}

// One past the last column (or depth step) any of rows [row, row + rows) needs under the
// staircase end(i) = offset + i % period; everything when period is 0.
static size_t stripEnd(size_t row, size_t rows, size_t period, size_t offset) {
    if (period == 0) return SIZE_MAX;
    size_t end = 0;
    for (size_t i = row; i < row + rows; i++) {
        size_t rowEnd = offset + i % period;
        end = rowEnd > end ? rowEnd : end;
    }
    return end;
}

static int packedProduct(const float *a, size_t lda, const float *packed, size_t k, size_t column0, size_t columns,
                         float *c, size_t ldc, size_t m, float alpha, size_t period, size_t offset, int bound) {
    if (!icl_packed_gemm_available() || column0 % NR != 0) return -1;
    float *packedA = threadScratch();
    if (!packedA) return -1;
    if (k == 0) {
        for (size_t i = 0; i < m; i++) memset(c + i * ldc + column0, 0, sizeof(float) * columns);
        return 0;
    }
    size_t blocks = (k + KC_MAX - 1) / KC_MAX;
    size_t panel0 = column0 / NR, panels = (columns + NR - 1) / NR;
    size_t strips = (m + MR - 1) / MR;
    for (size_t block = 0; block < blocks; block++) {
        size_t k0 = k * block / blocks, kc = k * (block + 1) / blocks - k0;
        size_t stripsPerBlock = A_BLOCK / (kc * MR), rowBlocks = (strips + stripsPerBlock - 1) / stripsPerBlock;
        for (size_t rowBlock = 0; rowBlock < rowBlocks; rowBlock++) {
            size_t row0 = strips * rowBlock / rowBlocks * MR;
            size_t row1 = strips * (rowBlock + 1) / rowBlocks * MR, rows = (row1 < m ? row1 : m) - row0;
            packActivations(a + row0 * lda, lda, rows, k0, kc, packedA);
            size_t rowStrips = (rows + MR - 1) / MR, linesPerStrip = (kc + rowStrips - 1) / rowStrips;
            for (size_t p = 0; p < panels; p++) {
                const float *panel = packed + ((panel0 + p) * k + k0) * NR;
                size_t cols = columns - p * NR < NR ? columns - p * NR : NR;
                float *target = c + row0 * ldc + column0 + p * NR;
                for (size_t s = 0; s < rowStrips; s++) {
                    // The weights stream from memory: each strip's call asks for its share of
                    // the next panel's lines (one line = one kk of 16 floats), ahead of its use.
                    if (p + 1 < panels) {
                        const float *next = panel + k * NR;
                        size_t last = (s + 1) * linesPerStrip < kc ? (s + 1) * linesPerStrip : kc;
                        for (size_t line = s * linesPerStrip; line < last; line++) {
                            __builtin_prefetch(next + line * NR, 0, 3);
                        }
                    }
                    size_t stripRows = rows - s * MR < MR ? rows - s * MR : MR;
                    size_t end = stripEnd(row0 + s * MR, stripRows, period, offset), depth = kc;
                    if (bound == ICL_CAUSAL_COLUMNS && (panel0 + p) * NR >= end) continue;
                    if (bound == ICL_CAUSAL_DEPTH) {
                        depth = end <= k0 ? 0 : end - k0 < kc ? end - k0 : kc;
                        if (depth == 0 && block > 0) continue;
                    }
                    kernel6x16(depth, packedA + s * kc * MR, panel, target + s * MR * ldc, ldc, block > 0, alpha,
                               stripRows, cols);
                }
            }
        }
    }
    return 0;
}

int icl_packed_gemm(const float *a, size_t lda, const float *packed, size_t k, size_t column0, size_t columns,
                    float *c, size_t ldc, size_t m, float alpha) {
    return packedProduct(a, lda, packed, k, column0, columns, c, ldc, m, alpha, 0, 0, 0);
}

int icl_packed_gemm_causal(const float *a, size_t lda, const float *packed, size_t k, size_t columns, float *c,
                           size_t ldc, size_t m, float alpha, size_t period, size_t offset, int bound) {
    return packedProduct(a, lda, packed, k, 0, columns, c, ldc, m, alpha, period, offset, bound);
}

#else

int icl_packed_gemm_available(void) { return 0; }

int icl_packed_gemm(const float *a, size_t lda, const float *packed, size_t k, size_t column0, size_t columns,
                    float *c, size_t ldc, size_t m, float alpha) {
    (void)a, (void)lda, (void)packed, (void)k, (void)column0, (void)columns, (void)c, (void)ldc, (void)m, (void)alpha;
    return -1;
}

int icl_packed_gemm_causal(const float *a, size_t lda, const float *packed, size_t k, size_t columns, float *c,
                           size_t ldc, size_t m, float alpha, size_t period, size_t offset, int bound) {
    (void)a, (void)lda, (void)packed, (void)k, (void)columns, (void)c, (void)ldc, (void)m, (void)alpha, (void)period;
    (void)offset, (void)bound;
    return -1;
}

#endif
