/*
 * revolve.h — the schedule planner (revolve.c), precision-independent: the
 * dynamic program over n segments and M slots, and a walk of the schedule
 * it defines that calls an executor's advance and leaf actions in order.
 */
#ifndef BPTT_SCHEDULE_REVOLVE_H
#define BPTT_SCHEDULE_REVOLVE_H

#include <stdint.h>

#include "internal.h"

/* Most segments a plan has (the table counts forward segments in 32 bits:
 * C(n, 0) = n(n+1)/2 must fit). */
#define BPTT__MAX_SEGMENTS ((size_t)65535)

/* M cut to n - 1 (more slots are of no use) and to the planner's work
 * bound, n²·M <= 3·10^7 (the fill's cells times splits; the walk's
 * recursion is at most M deep). */
BPTT_HIDDEN size_t bptt__revolve_cap(size_t n, size_t M);

/* States named by the walk: the caller's y0, the running state, or a
 * slot k >= 0. */
enum { BPTT__STATE_Y0 = -1, BPTT__STATE_CUR = -2 };

/* Fill C[t*(M+1) + m], t = 0..n, m = 0..M: the forward segment count that
 * reverses t segments whose start state is stored, with m free slots:
 *   C(1, m) = 1;  C(t, 0) = t(t+1)/2 (each segment run from the start);
 *   C(t, m) = min_{1<=y<t} y + C(t-y, m-1) + C(y, m)   (store at y, reverse
 *   the right part with one slot fewer, then the left part with the slot
 *   back);  C(t, m) = 2t - 1 for m >= t - 1 (store every start). */
BPTT_HIDDEN void bptt__revolve_fill(size_t n, size_t M, uint32_t *C);

/* The executor's actions: advance runs forward from state `from` (at the
 * start of segment a) over k segments without keeping anything and leaves
 * the state in `to` (a slot or the running state); leaf runs segment a
 * forward from `from` and back-propagates it.  A non-OK status stops the
 * walk. */
typedef struct bptt__walk_ops {
    void *ctx;
    bptt_status (*advance)(void *ctx, int from, size_t a, size_t k, int to);
    bptt_status (*leaf)(void *ctx, int from, size_t a);
} bptt__walk_ops;

/* Walk the schedule of table C (n segments, M slots) from y0: the leaves
 * come from segment n-1 down to 0. */
BPTT_HIDDEN bptt_status bptt__revolve_walk(const uint32_t *C, size_t n,
                                           size_t M, const bptt__walk_ops *ops);

/* Forward steps of the walk for T steps in segments of L (the last
 * shorter); *calls (if not NULL) the forward and backward calls it makes
 * (one per segment advanced over, two per leaf). */
/* The same on a table filled for more slots than M (width w >= M + 1:
 * C(t, m) does not depend on the table's size), so that one fill serves
 * every M up to its own. */
BPTT_HIDDEN size_t bptt__revolve_count(const uint32_t *C, size_t w, size_t T,
                                       size_t L, size_t M, size_t *calls);
BPTT_HIDDEN size_t bptt__revolve_steps(const uint32_t *C, size_t T, size_t L,
                                       size_t M, size_t *calls);

#endif /* BPTT_SCHEDULE_REVOLVE_H */
