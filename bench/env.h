/*
 * env.h — the environment recorded with the results, and the BLAS thread
 * count (the one setting of the BLAS the harness changes).
 */
#ifndef BENCH_ENV_H
#define BENCH_ENV_H

#include "report.h"

/* Ask the BLAS for n threads (OpenBLAS's openblas_set_num_threads); 0 if
 * done, -1 if this BLAS has no such call. */
int bench_set_threads(int n);

/* BLAS threads in use (1 if the BLAS cannot say). */
int bench_threads(void);

/* Fill env: CPU, the BLAS report (bptt_blas_info_get: vendor, version,
 * core, threads, whether its kernels are weaker than the CPU), compiler
 * and flags of this build, the date now, bptt_version(); command and
 * budget_ms are kept as given.  Call after bench_set_threads. */
void bench_env_collect(bench_env *env, const char *command, double budget_ms);

#endif
