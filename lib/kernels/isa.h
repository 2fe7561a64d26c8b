/*
 * kernels/isa.h — the instruction-set levels of bptt/cpu.h, for the
 * kernels' dispatch.  Precision-independent.
 */
#ifndef BPTT_KERNELS_ISA_H
#define BPTT_KERNELS_ISA_H

#include "internal.h"

/* 1 when the whole-sequence products run on bptt's own GEMM
 * (kernels/gemm.c), 0 on the BLAS: bptt_own_gemm() (bptt/cpu.h). */
#define bptt__gemm_own bptt_own_gemm

#endif /* BPTT_KERNELS_ISA_H */
