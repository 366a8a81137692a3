// OpenBLAS's CBLAS interface (Debian's libopenblas-dev; the pthread flavour is the default
// alternative). Only fp32 GEMM/GEMV are used: Debian's build exports no bf16/fp16 GEMM.
#ifndef ICL_COPENBLAS_SHIM_H
#define ICL_COPENBLAS_SHIM_H
#include <cblas.h>
#endif
