/*
 * threads.c — the thread cap for the sequential part of forward and
 * backward.  OpenBLAS wakes its threads on every call above a tiny size; a
 * per-step product of B·n·n multiply-adds below 2^22 took longer on two
 * threads than on one on the development machine (1.2-3x at n = 128..512,
 * B = 1..8; measured with per-step GEMV/GEMM loops; docs/algorithms.md,
 * "Threads"), while the whole-sequence GEMMs of the deferred algorithm gain
 * from threads.  So only the time loop runs capped to one thread, and only
 * when the shape is below that size.
 *
 * OpenBLAS's thread count is process-wide: the cap lowers it for the loop
 * and restores it after.  It does nothing when the count is already 1, so
 * a program that calls bptt from several threads at once sets OpenBLAS to
 * one thread (as OpenBLAS itself advises for such programs) and is never
 * touched.
 */
#include "internal.h"

#ifdef BPTT_HAVE_OPENBLAS_THREADS
#include <cblas.h>
#endif

/* B·n·n below which the time loop runs on one thread. */
#define CAP_WORK ((double)(1 << 22))

int bptt__threads_cap(size_t B, size_t n)
{
#ifdef BPTT_HAVE_OPENBLAS_THREADS
    if ((double)B * (double)n * (double)n >= CAP_WORK)
        return 0;
    int threads = openblas_get_num_threads();
    if (threads <= 1)
        return 0;
    openblas_set_num_threads(1);
    return threads;
#else
    (void)B;
    (void)n;
    return 0;
#endif
}

void bptt__threads_restore(int saved)
{
#ifdef BPTT_HAVE_OPENBLAS_THREADS
    if (saved > 1)
        openblas_set_num_threads(saved);
#else
    (void)saved;
#endif
}
