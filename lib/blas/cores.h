/*
 * blas/cores.h — the vector instruction set of each OpenBLAS kernel set,
 * by OpenBLAS's name for it.  Kept apart from blas_info.c, with no other
 * dependency, so that the test suite can check the table on every machine
 * (tests/test_blas.c links it directly; the shared library hides it).
 */
#ifndef BPTT_BLAS_CORES_H
#define BPTT_BLAS_CORES_H

#include "internal.h"

/* The level of the kernels OpenBLAS runs for core name (as
 * openblas_get_corename() returns it, any case: dynamic builds say
 * "Haswell", single-target builds "HASWELL"); BPTT_ISA_UNKNOWN for NULL, ""
 * or a name not in the table (another architecture, a newer core). */
BPTT_HIDDEN bptt_isa bptt__blas_core_isa(const char *name);

#endif /* BPTT_BLAS_CORES_H */
