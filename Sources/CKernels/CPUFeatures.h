// What the CPU offers, for the kernels' dispatch (internal to CKernels).
#ifndef ICL_CPU_FEATURES_H
#define ICL_CPU_FEATURES_H

#if defined(__x86_64__)
/// Whether the CPU has AVX2 and FMA (asked once).
int icl_cpu_has_avx2_fma(void);
#endif

#endif
