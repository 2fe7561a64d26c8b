/*
 * revolve.c — the planner of memory-bounded BPTT: Gruslys et al.'s dynamic
 * program (NeurIPS 2016, "BPTT-HSM": hidden states only) over segments in
 * place of steps, whose optimum for unit costs is Griewank & Walther's
 * binomial schedule (Revolve, ACM TOMS 2000); and the walk that turns the
 * table into the executor's actions.
 */
#include <stdlib.h>

#include "schedule/revolve.h"

size_t bptt__revolve_cap(size_t n, size_t M)
{
    if (M > n - 1)
        M = n - 1;
    const double cap = 3e7 / ((double)n * (double)n);
    return (double)M > cap ? (size_t)cap : M;
}

void bptt__revolve_fill(size_t n, size_t M, uint32_t *C)
{
    const size_t w = M + 1;
    for (size_t m = 0; m <= M; m++)
        C[m] = 0;
    for (size_t t = 1; t <= n; t++) {
        C[t * w] = (uint32_t)(t * (t + 1) / 2);
        for (size_t m = 1; m <= M; m++) {
            if (m + 1 >= t) {
                C[t * w + m] = (uint32_t)(2 * t - 1);
                continue;
            }
            uint32_t best = UINT32_MAX;
            for (size_t y = 1; y < t; y++) {
                uint32_t c = (uint32_t)y + C[(t - y) * w + m - 1] + C[y * w + m];
                if (c < best)
                    best = c;
            }
            C[t * w + m] = best;
        }
    }
}

/* The first store point of C(t, m): the smallest y reaching the minimum
 * (ties to the nearest store, as the table's fill takes the first). */
static size_t split(const uint32_t *C, size_t w, size_t t, size_t m)
{
    if (m + 1 >= t)
        return 1;
    size_t by = 1;
    uint32_t best = UINT32_MAX;
    for (size_t y = 1; y < t; y++) {
        uint32_t c = (uint32_t)y + C[(t - y) * w + m - 1] + C[y * w + m];
        if (c < best) {
            best = c;
            by = y;
        }
    }
    return by;
}

/* Reverse segments a..a+t-1 whose start is in state `from`, with m free
 * slots after the `used` ones.  The left part is a loop (its slot comes
 * back), so the depth of the recursion is at most M. */
static bptt_status reverse(const uint32_t *C, size_t w, size_t a, size_t t,
                           size_t m, int from, size_t used,
                           const bptt__walk_ops *ops)
{
    while (t > 1 && m > 0) {
        const size_t y = split(C, w, t, m);
        const int slot = (int)used;
        CHECK(ops->advance(ops->ctx, from, a, y, slot));
        CHECK(reverse(C, w, a + y, t - y, m - 1, slot, used + 1, ops));
        t = y;
    }
    /* No slot left: each segment from the start, the last first. */
    for (size_t k = t - 1; k >= 1; k--) {
        CHECK(ops->advance(ops->ctx, from, a, k, BPTT__STATE_CUR));
        CHECK(ops->leaf(ops->ctx, BPTT__STATE_CUR, a + k));
    }
    return ops->leaf(ops->ctx, from, a);
}

bptt_status bptt__revolve_walk(const uint32_t *C, size_t n, size_t M,
                               const bptt__walk_ops *ops)
{
    return reverse(C, M + 1, 0, n, M, BPTT__STATE_Y0, 0, ops);
}

/* Counting actions: the steps of segments a..a+k-1. */
typedef struct count {
    size_t T, L, steps, calls;
} count;

static size_t span(const count *c, size_t a, size_t k)
{
    const size_t end = (a + k) * c->L < c->T ? (a + k) * c->L : c->T;
    return end - a * c->L;
}

static bptt_status count_advance(void *ctx, int from, size_t a, size_t k,
                                 int to)
{
    (void)from;
    (void)to;
    count *c = ctx;
    c->steps += span(c, a, k);
    c->calls += k;
    return BPTT_OK;
}

static bptt_status count_leaf(void *ctx, int from, size_t a)
{
    (void)from;
    count *c = ctx;
    c->steps += span(c, a, 1);
    c->calls += 2;
    return BPTT_OK;
}

size_t bptt__revolve_count(const uint32_t *C, size_t w, size_t T, size_t L,
                           size_t M, size_t *calls)
{
    count c = {T, L, 0, 0};
    const bptt__walk_ops ops = {&c, count_advance, count_leaf};
    (void)reverse(C, w, 0, (T + L - 1) / L, M, BPTT__STATE_Y0, 0, &ops);
    if (calls)
        *calls = c.calls;
    return c.steps;
}

size_t bptt__revolve_steps(const uint32_t *C, size_t T, size_t L, size_t M,
                           size_t *calls)
{
    return bptt__revolve_count(C, M + 1, T, L, M, calls);
}

bptt_status bptt_schedule_cost(size_t T, size_t L, size_t M, size_t *steps)
{
    static const char fn[] = "bptt_schedule_cost";
    if (!steps)
        return bptt__fail(BPTT_ENULL, fn, "steps is NULL");
    if (T == 0 || L == 0)
        return bptt__fail(BPTT_ESIZE, fn, "T (%zu) and L (%zu) must be > 0",
                          T, L);
    const size_t n = T / L + (T % L != 0);
    if (n > BPTT__MAX_SEGMENTS)
        return bptt__fail(BPTT_EOVERFLOW, fn,
                          "%zu segments exceed the planner's %zu", n,
                          BPTT__MAX_SEGMENTS);
    M = bptt__revolve_cap(n, M);
    uint32_t *C = malloc((n + 1) * (M + 1) * sizeof *C);
    if (!C)
        return bptt__fail(BPTT_ENOMEM, fn, "no memory for the table");
    bptt__revolve_fill(n, M, C);
    *steps = bptt__revolve_steps(C, T, L, M, NULL);
    free(C);
    return BPTT_OK;
}
