/*
 * kernels/isa.h — the instruction-set levels of bptt/cpu.h, for the
 * kernels' dispatch.  Precision-independent.
 */
#ifndef BPTT_KERNELS_ISA_H
#define BPTT_KERNELS_ISA_H

#include "internal.h"

#endif /* BPTT_KERNELS_ISA_H */
