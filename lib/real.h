/*
 * real.h — the precision shim.  Every precision-dependent source includes
 * this file and is compiled twice: once as is (double, names bptt_*), once
 * with -DBPTT_SINGLE (float, names bpttf_*), as FFTW builds fftw_ and
 * fftwf_ from one source.  The macros only mangle names and pick the BLAS
 * or LAPACKE routine, or the libm function of the precision; they never
 * hold code.  Sources that call LAPACKE
 * include <lapacke.h> themselves.
 */
#ifndef BPTT_REAL_H
#define BPTT_REAL_H

#include <cblas.h>

#ifdef BPTT_SINGLE
typedef float R;
#define X(name) bpttf_##name         /* public name                        */
#define XI(name) bpttf__##name       /* internal, hidden name              */
#define CBLAS(name) cblas_s##name    /* cblas_sgemm, ...                   */
#define LAPACKE(name) LAPACKE_s##name /* LAPACKE_sgeev, ... (<lapacke.h>)  */
#define PREFIX "bpttf_"
#define TANH tanhf                   /* libm, by precision (<math.h>)     */
#define EXP expf
#define LOG logf
#define LOG1P log1pf
#define FABS fabsf
#else
typedef double R;
#define X(name) bptt_##name
#define XI(name) bptt__##name
#define CBLAS(name) cblas_d##name
#define LAPACKE(name) LAPACKE_d##name
#define PREFIX "bptt_"
#define TANH tanh
#define EXP exp
#define LOG log
#define LOG1P log1p
#define FABS fabs
#endif

#endif /* BPTT_REAL_H */
