/*
 * pool.c — bptt's own thread pool (kernels/pool.h).
 *
 * Why a pool of its own: the time loop of a recurrence is T short steps,
 * each needing all of the previous step's state, so its threads must meet
 * once per step.  OpenBLAS's threads cannot be used for that, and changing
 * OpenBLAS's thread count (as bptt once did) is visible to every other
 * thread of the user's program.
 *
 * Workers sleep on a condition variable between runs, so an idle pool
 * costs no CPU time (the BLAS's threads may need the cores between runs).
 * Inside a run the per-step barrier spins, because a step lasts
 * microseconds; after a bounded number of spins it yields the CPU, so that
 * more threads than cores (a loaded machine, a sanitizer) still progress.
 */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "kernels/pool.h"

struct bptt__pool {
    int nthreads;
    pthread_t *tids;             /* nthreads - 1 workers */
    pthread_mutex_t lock;
    pthread_cond_t wake, done;
    unsigned long job;           /* run counter, guarded by lock */
    int stop;                    /* guarded by lock */
    void (*body)(void *, int, int);
    void *arg;
    int nth;
    /* job and stop as the workers poll them, without the lock */
    atomic_ulong posted;
    atomic_int stopping;
    atomic_int running;          /* workers still in the current run */
    /* The step barrier: arrivals and a generation that flips each time
     * all nth threads arrived. */
    _Alignas(64) atomic_int arrived;
    _Alignas(64) atomic_uint generation;
};

struct worker_arg {
    bptt__pool *pool;
    int tid;
};

static inline void cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#endif
}

/* Polls of an idle worker (and of a caller waiting for its workers) before
 * it sleeps: about 50-200 us.  Calls come in bursts (forward, backward, the
 * next batch), and a run that finds its workers awake starts without a
 * futex wake-up. */
enum { IDLE_SPINS = 1 << 13 };

static void *worker(void *p)
{
    struct worker_arg wa = *(struct worker_arg *)p;
    free(p);
    bptt__pool *pool = wa.pool;
    unsigned long seen = 0;
    for (;;) {
        for (unsigned spins = 0;
             spins < IDLE_SPINS &&
             atomic_load_explicit(&pool->posted, memory_order_acquire) == seen &&
             !atomic_load_explicit(&pool->stopping, memory_order_relaxed);
             spins++)
            cpu_relax();
        pthread_mutex_lock(&pool->lock);
        while (!pool->stop && pool->job == seen)
            pthread_cond_wait(&pool->wake, &pool->lock);
        if (pool->stop) {
            pthread_mutex_unlock(&pool->lock);
            break;
        }
        seen = pool->job;
        int nth = pool->nth;
        void (*body)(void *, int, int) = pool->body;
        void *arg = pool->arg;
        pthread_mutex_unlock(&pool->lock);
        if (wa.tid >= nth)
            continue;
        body(arg, wa.tid, nth);
        if (atomic_fetch_sub_explicit(&pool->running, 1,
                                      memory_order_acq_rel) == 1) {
            pthread_mutex_lock(&pool->lock);
            pthread_cond_signal(&pool->done);
            pthread_mutex_unlock(&pool->lock);
        }
    }
    return NULL;
}

static void stop_workers(bptt__pool *pool, int started)
{
    pthread_mutex_lock(&pool->lock);
    pool->stop = 1;
    atomic_store_explicit(&pool->stopping, 1, memory_order_relaxed);
    pthread_cond_broadcast(&pool->wake);
    pthread_mutex_unlock(&pool->lock);
    for (int i = 0; i < started; i++)
        pthread_join(pool->tids[i], NULL);
}

bptt_status bptt__pool_create(const char *fn, int nthreads, bptt__pool **out)
{
    bptt__pool *pool = calloc(1, sizeof *pool);
    pthread_t *tids = calloc((size_t)nthreads, sizeof *tids);
    if (!pool || !tids) {
        free(pool);
        free(tids);
        return bptt__fail(BPTT_ENOMEM, fn, "allocating a pool of %d threads",
                          nthreads);
    }
    pool->nthreads = nthreads;
    pool->tids = tids;
    pthread_mutex_init(&pool->lock, NULL);
    pthread_cond_init(&pool->wake, NULL);
    pthread_cond_init(&pool->done, NULL);
    atomic_init(&pool->posted, 0ul);
    atomic_init(&pool->stopping, 0);
    atomic_init(&pool->running, 0);
    atomic_init(&pool->arrived, 0);
    atomic_init(&pool->generation, 0u);
    for (int i = 0; i < nthreads - 1; i++) {
        struct worker_arg *wa = malloc(sizeof *wa);
        int err = ENOMEM;
        if (wa) {
            wa->pool = pool;
            wa->tid = i + 1;
            err = pthread_create(&tids[i], NULL, worker, wa);
        }
        if (err != 0) {
            free(wa);
            stop_workers(pool, i);
            pthread_cond_destroy(&pool->done);
            pthread_cond_destroy(&pool->wake);
            pthread_mutex_destroy(&pool->lock);
            free(tids);
            free(pool);
            return bptt__fail(err == ENOMEM ? BPTT_ENOMEM : BPTT_ETHREAD, fn,
                              "starting thread %d of %d: %s", i + 2, nthreads,
                              strerror(err));
        }
    }
    *out = pool;
    return BPTT_OK;
}

bptt_status bptt__pool_set(const char *fn, bptt__pool **pool, int nthreads)
{
    if (nthreads < 1 || nthreads > BPTT_MAX_THREADS)
        return bptt__fail(BPTT_EINVAL, fn, "nthreads (%d) is not in 1..%d",
                          nthreads, BPTT_MAX_THREADS);
    if (nthreads == bptt__pool_threads(*pool))
        return BPTT_OK;
    bptt__pool *fresh = NULL;
    if (nthreads > 1)
        CHECK(bptt__pool_create(fn, nthreads, &fresh));
    bptt__pool_destroy(*pool);
    *pool = fresh;
    return BPTT_OK;
}

void bptt__pool_destroy(bptt__pool *pool)
{
    if (!pool)
        return;
    stop_workers(pool, pool->nthreads - 1);
    pthread_cond_destroy(&pool->done);
    pthread_cond_destroy(&pool->wake);
    pthread_mutex_destroy(&pool->lock);
    free(pool->tids);
    free(pool);
}

int bptt__pool_threads(const bptt__pool *pool)
{
    return pool ? pool->nthreads : 1;
}

void bptt__pool_run(bptt__pool *pool, int nth,
                    void (*body)(void *arg, int tid, int nth), void *arg)
{
    if (!pool || nth <= 1) {
        body(arg, 0, 1);
        return;
    }
    pthread_mutex_lock(&pool->lock);
    pool->body = body;
    pool->arg = arg;
    pool->nth = nth;
    atomic_store_explicit(&pool->running, nth - 1, memory_order_relaxed);
    atomic_store_explicit(&pool->arrived, 0, memory_order_relaxed);
    pool->job++;
    atomic_store_explicit(&pool->posted, pool->job, memory_order_release);
    pthread_cond_broadcast(&pool->wake);
    pthread_mutex_unlock(&pool->lock);

    body(arg, 0, nth);

    for (unsigned spins = 0;
         spins < IDLE_SPINS &&
         atomic_load_explicit(&pool->running, memory_order_acquire) > 0;
         spins++)
        cpu_relax();
    pthread_mutex_lock(&pool->lock);
    while (atomic_load_explicit(&pool->running, memory_order_acquire) > 0)
        pthread_cond_wait(&pool->done, &pool->lock);
    pthread_mutex_unlock(&pool->lock);
}

/* Spins before the barrier yields the CPU: about 10-50 us of polling,
 * longer than a step's imbalance between two cores, far shorter than a
 * scheduler time slice. */
enum { SPINS = 1 << 12 };

void bptt__pool_barrier(bptt__pool *pool, int nth)
{
    if (!pool || nth <= 1)
        return;
    unsigned gen = atomic_load_explicit(&pool->generation, memory_order_acquire);
    if (atomic_fetch_add_explicit(&pool->arrived, 1, memory_order_acq_rel) ==
        nth - 1) {
        atomic_store_explicit(&pool->arrived, 0, memory_order_relaxed);
        atomic_fetch_add_explicit(&pool->generation, 1u, memory_order_acq_rel);
        return;
    }
    for (unsigned spins = 0;
         atomic_load_explicit(&pool->generation, memory_order_acquire) == gen;
         spins++)
        if (spins >= SPINS)
            sched_yield();
}
