// The fp32 GEMM rate OpenBLAS reaches on this machine for given shapes: the ceiling the engine's
// weight products run against (benchmarks/README.md). C[m, n] = A[m, k] · B[n, k]^T, row-major,
// as the engine calls it; medians of --repeats timed calls after one warm-up call.
// usage: benchmarks/gemm-ceiling [THREADS] (builds this file and runs the shapes of the README)
//        gemm_ceiling THREADS REPEATS M N K [M N K ...]
#include <cblas.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

void openblas_set_num_threads(int);

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec * 1e-9;
}

static int ascending(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int main(int argc, char **argv) {
    if (argc < 6 || (argc - 3) % 3 != 0) {
        fprintf(stderr, "usage: %s THREADS REPEATS M N K [M N K ...]\n", argv[0]);
        return 2;
    }
    int threads = atoi(argv[1]), repeats = atoi(argv[2]);
    if (threads < 1 || repeats < 1) {
        fprintf(stderr, "%s: THREADS and REPEATS must be at least 1\n", argv[0]);
        return 2;
    }
    openblas_set_num_threads(threads);
    double *seconds = malloc(sizeof(double) * repeats);
    printf("| m | n | k | threads | GFLOP/s (median of %d) |\n|---:|---:|---:|---:|---:|\n", repeats);
    for (int s = 3; s < argc; s += 3) {
        int m = atoi(argv[s]), n = atoi(argv[s + 1]), k = atoi(argv[s + 2]);
        if (m < 1 || n < 1 || k < 1) {
            fprintf(stderr, "%s: shape %s %s %s: every size must be at least 1\n", argv[0], argv[s], argv[s + 1], argv[s + 2]);
            return 2;
        }
        float *a = malloc(sizeof(float) * (size_t)m * k), *b = malloc(sizeof(float) * (size_t)n * k);
        float *c = malloc(sizeof(float) * (size_t)m * n);
        if (!a || !b || !c) {
            fprintf(stderr, "%s: shape %d %d %d does not fit in memory\n", argv[0], m, n, k);
            return 1;
        }
        for (size_t i = 0; i < (size_t)m * k; i++) a[i] = (float)(i % 13) / 13 - 0.5f;
        for (size_t i = 0; i < (size_t)n * k; i++) b[i] = (float)(i % 7) / 7 - 0.5f;
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, m, n, k, 1, a, k, b, k, 0, c, n);
        for (int r = 0; r < repeats; r++) {
            double start = now();
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, m, n, k, 1, a, k, b, k, 0, c, n);
            seconds[r] = now() - start;
        }
        qsort(seconds, repeats, sizeof(double), ascending);
        printf("| %d | %d | %d | %d | %.1f |\n", m, n, k, threads, 2.0 * m * n * k / seconds[repeats / 2] / 1e9);
        free(a);
        free(b);
        free(c);
    }
    free(seconds);
    return 0;
}
