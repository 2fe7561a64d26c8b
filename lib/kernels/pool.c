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
    int running;                 /* workers still in the current run */
    void (*body)(void *, int, int);
    void *arg;
    int nth;
    /* The step barrier: arrivals and a generation that flips each time
     * all nth threads arrived. */
    _Alignas(64) atomic_int arrived;
    _Alignas(64) atomic_uint generation;
};

struct worker_arg {
    bptt__pool *pool;
    int tid;
};

static void *worker(void *p)
{
    struct worker_arg wa = *(struct worker_arg *)p;
    free(p);
    bptt__pool *pool = wa.pool;
    unsigned long seen = 0;
    pthread_mutex_lock(&pool->lock);
    for (;;) {
        while (!pool->stop && pool->job == seen)
            pthread_cond_wait(&pool->wake, &pool->lock);
        if (pool->stop)
            break;
        seen = pool->job;
        int nth = pool->nth;
        void (*body)(void *, int, int) = pool->body;
        void *arg = pool->arg;
        pthread_mutex_unlock(&pool->lock);
        if (wa.tid < nth)
            body(arg, wa.tid, nth);
        pthread_mutex_lock(&pool->lock);
        if (wa.tid < nth && --pool->running == 0)
            pthread_cond_signal(&pool->done);
    }
    pthread_mutex_unlock(&pool->lock);
    return NULL;
}

static void stop_workers(bptt__pool *pool, int started)
{
    pthread_mutex_lock(&pool->lock);
    pool->stop = 1;
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
    pool->running = nth - 1;
    atomic_store_explicit(&pool->arrived, 0, memory_order_relaxed);
    pool->job++;
    pthread_cond_broadcast(&pool->wake);
    pthread_mutex_unlock(&pool->lock);

    body(arg, 0, nth);

    pthread_mutex_lock(&pool->lock);
    while (pool->running > 0)
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
