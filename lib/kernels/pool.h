/*
 * kernels/pool.h — bptt's own thread pool (pool.c): the threads a
 * workspace owns for its time loops.  Precision-independent.
 *
 * A pool of p threads is the caller's thread (tid 0) plus p - 1 workers
 * that sleep on a condition variable between runs.  A run hands one body
 * to the first nth threads and returns when all of them finished it;
 * inside the body, bptt__pool_barrier() is the per-step synchronisation.
 * Nothing here touches the BLAS's threads or any other process-wide
 * setting.
 */
#ifndef BPTT_KERNELS_POOL_H
#define BPTT_KERNELS_POOL_H

#include "internal.h"

typedef struct bptt__pool bptt__pool;

/* Start a pool of nthreads threads (2 .. BPTT_MAX_THREADS).  On failure
 * nothing is left running: BPTT_ENOMEM, or BPTT_ETHREAD when the system
 * refused a thread (the detail names fn and the error). */
BPTT_HIDDEN bptt_status bptt__pool_create(const char *fn, int nthreads,
                                          bptt__pool **pool);

/* A workspace's thread count set to nthreads (1 .. BPTT_MAX_THREADS,
 * else BPTT_EINVAL naming fn): *pool replaced by a pool of that many
 * threads (NULL for 1) once the new one runs, so that a failure
 * (BPTT_ETHREAD, BPTT_ENOMEM) keeps the old.  The caller holds the
 * workspace's busy flag. */
BPTT_HIDDEN bptt_status bptt__pool_set(const char *fn, bptt__pool **pool,
                                       int nthreads);

/* Stop and join the workers, free the pool.  NULL is ignored. */
BPTT_HIDDEN void bptt__pool_destroy(bptt__pool *pool);

/* The pool's thread count (1 for NULL: the caller alone). */
BPTT_HIDDEN int bptt__pool_threads(const bptt__pool *pool);

/* Run body(arg, tid, nth) on threads tid = 0 .. nth-1 (tid 0 is the
 * caller) and wait for all of them.  nth is at most the pool's count; with
 * nth == 1 (or pool NULL) body runs on the caller alone.  Runs of one pool
 * must not overlap: the pool belongs to one workspace, and a workspace is
 * used by one thread at a time. */
BPTT_HIDDEN void bptt__pool_run(bptt__pool *pool, int nth,
                                void (*body)(void *arg, int tid, int nth),
                                void *arg);

/* Wait until all nth threads of the current run have reached the barrier.
 * Each crossing is a full memory barrier: what a thread wrote before it is
 * visible to every thread after it.  A no-op for nth == 1. */
BPTT_HIDDEN void bptt__pool_barrier(bptt__pool *pool, int nth);

#endif /* BPTT_KERNELS_POOL_H */
