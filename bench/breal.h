/*
 * breal.h — the harness's precision shim: the sources that include it are
 * compiled twice, as is and with -DBENCH_SINGLE, as the library compiles
 * its own.  P(name) is the library's public function of that precision,
 * BX(name) the harness's own, CBLAS(name) the BLAS routine.
 */
#ifndef BENCH_BREAL_H
#define BENCH_BREAL_H

#include <bptt.h>
#include <cblas.h>

#ifdef BENCH_SINGLE
typedef float R;
typedef bpttf_workspace WS;
typedef bpttf_rtrl RS;
typedef bpttf_gated_workspace GWS;
#define P(name) bpttf_##name
#define BX(name) bench_f_##name
#define CBLAS(name) cblas_s##name
#else
typedef double R;
typedef bptt_workspace WS;
typedef bptt_rtrl RS;
typedef bptt_gated_workspace GWS;
#define P(name) bptt_##name
#define BX(name) bench_d_##name
#define CBLAS(name) cblas_d##name
#endif

#endif
