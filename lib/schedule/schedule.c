/*
 * schedule.c — memory-bounded BPTT for Network A: the schedule's block
 * (one arena: inner workspace, segment arrays, slots, table), the choice
 * of segment length and slot count under a budget, and the executor that
 * runs the planner's walk (revolve.c) with the public forward and backward
 * on segments.
 */
#include <assert.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "arena.h"
#include "heads/elman_impl.h"
#include "schedule/revolve.h"

struct X(schedule) {
    const bptt_net *net;
    size_t T, B, L, n, M;
    size_t nout;               /* Network B's outputs; 0: Network A */
    size_t ps;                 /* elements between the three states */
    X(workspace) *ws;          /* the inner workspace, L steps */
    R *Y, *DY;                 /* a segment's y and dL/dy, L*B x dout */
    R *slots;                  /* M states, B x dout each */
    R *state;                  /* running state, carried dL/dy, y(T) */
    R *dW;                     /* accumulated dW (dout x m), then db */
    uint32_t *C;               /* the planner's table */
    R *head;                   /* Network B: ȳ rows, dȳ rows, dWo, dbo */
};

static_assert(sizeof(struct X(schedule)) <= BPTT_ARENA_SLOT,
              "schedule header exceeds its slot");

/* The arrays of the formula documented in bptt/schedule.h. */
enum { A_WS, A_Y, A_DY, A_SLOTS, A_STATE, A_DW, A_C, A_HEAD, A_N };

static bptt_status layout(const char *fn, const bptt_net *net, size_t nout,
                          size_t T, size_t B, size_t L, size_t M,
                          bptt__arena *a)
{
    size_t wsb;
    CHECK(X(workspace_size)(net, L, B, &wsb));
    int ok = 1;
    const size_t r = sizeof(R), n = T / L + (T % L != 0);
    const size_t row = bptt__mul(bptt__mul(B, net->dout, &ok), r, &ok);
    const size_t seg = bptt__mul(row, L, &ok);
    const size_t bytes[A_N] = {
        [A_WS] = wsb,
        [A_Y] = seg,
        [A_DY] = seg,
        [A_SLOTS] = bptt__mul(row, M, &ok),
        [A_STATE] = bptt__mul(bptt__up64(row, &ok), 3, &ok),
        [A_DW] = bptt__mul(bptt__mul(net->dout, net->m + 1, &ok), r, &ok),
        [A_C] = bptt__mul(bptt__mul(n + 1, M + 1, &ok), sizeof(uint32_t), &ok),
        [A_HEAD] = bptt__mul(bptt__add(bptt__mul(bptt__mul(2 * L, B, &ok),
                                                 nout, &ok),
                                       bptt__mul(nout, net->dout + 1, &ok),
                                       &ok), r, &ok),
    };
    bptt__arena_layout(a, A_N, bytes, &ok);
    if (!ok)
        return bptt__fail(BPTT_EOVERFLOW, fn,
                          "a schedule of T = %zu, B = %zu does not fit", T, B);
    return BPTT_OK;
}

static bptt_status check_sizes(const char *fn, const bptt_net *net, size_t T,
                               size_t B)
{
    if (!net)
        return bptt__fail(BPTT_ENULL, fn, "net is NULL");
    if (T == 0 || B == 0)
        return bptt__fail(BPTT_ESIZE, fn, "T (%zu) and B (%zu) must be > 0",
                          T, B);
    return BPTT_OK;
}

/* The smallest L that keeps n within the planner's table. */
static size_t min_seg(size_t T)
{
    return T / BPTT__MAX_SEGMENTS + (T % BPTT__MAX_SEGMENTS != 0);
}

static bptt_status min_bytes(const char *fn, const bptt_net *net, size_t nout,
                             size_t T, size_t B, size_t *bytes)
{
    CHECK(check_sizes(fn, net, T, B));
    if (!bytes)
        return bptt__fail(BPTT_ENULL, fn, "bytes is NULL");
    bptt__arena a;
    CHECK(layout(fn, net, nout, T, B, min_seg(T), 0, &a));
    *bytes = a.total;
    return BPTT_OK;
}

bptt_status X(schedule_min_bytes)(const bptt_net *net, size_t T, size_t B,
                                  size_t *bytes)
{
    return min_bytes(PREFIX "schedule_min_bytes", net, 0, T, B, bytes);
}

bptt_status X(schedule_elman_min_bytes)(const bptt_elman *el, size_t T,
                                        size_t B, size_t *bytes)
{
    static const char fn[] = PREFIX "schedule_elman_min_bytes";
    if (!el)
        return bptt__fail(BPTT_ENULL, fn, "el is NULL");
    return min_bytes(fn, el->net, el->nout, T, B, bytes);
}

/* Allocate and fill a schedule of segment length L and M slots. */
static bptt_status make(const char *fn, const bptt_net *net, size_t nout,
                        size_t T, size_t B, size_t L, size_t M,
                        X(schedule) **out)
{
    const size_t n = T / L + (T % L != 0);
    if (M > n - 1)
        M = n - 1;
    bptt__arena a;
    unsigned char *base;
    CHECK(layout(fn, net, nout, T, B, L, M, &a));
    CHECK(bptt__arena_alloc(fn, &a, &base));
    X(schedule) *s = (X(schedule) *)base;
    memset(s, 0, sizeof *s);
    s->net = net;
    s->T = T;
    s->B = B;
    s->L = L;
    s->n = n;
    s->M = M;
    s->nout = nout;
    s->Y = bptt__arena_at(base, &a, A_Y);
    s->DY = bptt__arena_at(base, &a, A_DY);
    s->slots = bptt__arena_at(base, &a, A_SLOTS);
    s->state = bptt__arena_at(base, &a, A_STATE);
    s->ps = (a.off[A_DW] - a.off[A_STATE]) / 3 / sizeof(R);
    s->dW = bptt__arena_at(base, &a, A_DW);
    s->C = bptt__arena_at(base, &a, A_C);
    s->head = bptt__arena_at(base, &a, A_HEAD);
    size_t wsb = a.off[A_Y] - a.off[A_WS];
    bptt_status st = X(workspace_init)(net, L, B,
                                       bptt__arena_at(base, &a, A_WS), wsb,
                                       &s->ws);
    if (st != BPTT_OK) {
        free(base);
        return st;
    }
    bptt__revolve_fill(n, M, s->C);
    *out = s;
    return BPTT_OK;
}

static bptt_status plan_fixed(const char *fn, const bptt_net *net,
                              size_t nout, size_t T, size_t B, size_t L,
                              size_t M, X(schedule) **s)
{
    CHECK(check_sizes(fn, net, T, B));
    if (!s)
        return bptt__fail(BPTT_ENULL, fn, "s is NULL");
    if (L == 0)
        return bptt__fail(BPTT_ESIZE, fn, "L must be > 0");
    if (L > T)
        return bptt__fail(BPTT_EINVAL, fn, "L (%zu) exceeds T (%zu)", L, T);
    if (T / L + (T % L != 0) > BPTT__MAX_SEGMENTS)
        return bptt__fail(BPTT_EOVERFLOW, fn, "more than %zu segments",
                          BPTT__MAX_SEGMENTS);
    const size_t n = T / L + (T % L != 0);
    return make(fn, net, nout, T, B, L, bptt__revolve_cap(n, M), s);
}

bptt_status X(schedule_plan_fixed)(const bptt_net *net, size_t T, size_t B,
                                   size_t L, size_t M, X(schedule) **s)
{
    return plan_fixed(PREFIX "schedule_plan_fixed", net, 0, T, B, L, M, s);
}


/* The cost of a forward or backward call in forward steps, over its steps:
 * packing Wy, the whole-segment GEMMs' fixed part, the loss callback. */
#define PLAN_CALL 16

static bptt_status plan(const char *fn, const bptt_net *net, size_t nout,
                        size_t T, size_t B, size_t budget, X(schedule) **s)
{
    CHECK(check_sizes(fn, net, T, B));
    if (!s)
        return bptt__fail(BPTT_ENULL, fn, "s is NULL");
    size_t minb;
    CHECK(min_bytes(fn, net, nout, T, B, &minb));
    if (budget < minb)
        return bptt__fail(BPTT_EBUFFER, fn,
                          "budget (%zu bytes) is below the minimum of %zu "
                          "(one stored state and one step)", budget, minb);
    size_t bestL = 0, bestM = 0, bestCost = SIZE_MAX;
    for (size_t L = min_seg(T);;) {
        const size_t n = T / L + (T % L != 0);
        bptt__arena a;
        CHECK(layout(fn, net, nout, T, B, L, 0, &a));
        if (a.total <= budget) {
            /* The most slots that fit (bytes grow with M), then the
             * planner's work bound. */
            size_t lo = 0, hi = n - 1;
            while (lo < hi) {
                const size_t mid = lo + (hi - lo + 1) / 2;
                CHECK(layout(fn, net, nout, T, B, L, mid, &a));
                if (a.total <= budget)
                    lo = mid;
                else
                    hi = mid - 1;
            }
            const size_t M = bptt__revolve_cap(n, lo);
            uint32_t *C = malloc((n + 1) * (M + 1) * sizeof *C);
            if (!C)
                return bptt__fail(BPTT_ENOMEM, fn, "no memory for the table");
            bptt__revolve_fill(n, M, C);
            size_t calls;
            const size_t steps = bptt__revolve_steps(C, T, L, M, &calls);
            free(C);
            /* The time model: a forward step, plus PLAN_CALL steps for each
             * forward or backward call (short segments cost more than
             * their steps: measured in bench/schedule.sh). */
            const size_t cost = steps + PLAN_CALL * calls;
            if (cost <= bestCost) {
                bestCost = cost;
                bestL = L;
                bestM = M;
            }
        }
        if (L == T)
            break;
        L += L / 4 > 1 ? L / 4 : 1;
        if (L > T)
            L = T;
    }
    /* The minimum budget fits the first L tried. */
    return make(fn, net, nout, T, B, bestL, bestM, s);
}

bptt_status X(schedule_plan)(const bptt_net *net, size_t T, size_t B,
                             size_t budget, X(schedule) **s)
{
    return plan(PREFIX "schedule_plan", net, 0, T, B, budget, s);
}

bptt_status X(schedule_elman_plan)(const bptt_elman *el, size_t T, size_t B,
                                   size_t budget, X(schedule) **s)
{
    static const char fn[] = PREFIX "schedule_elman_plan";
    if (!el)
        return bptt__fail(BPTT_ENULL, fn, "el is NULL");
    return plan(fn, el->net, el->nout, T, B, budget, s);
}

bptt_status X(schedule_elman_plan_fixed)(const bptt_elman *el, size_t T,
                                         size_t B, size_t L, size_t M,
                                         X(schedule) **s)
{
    static const char fn[] = PREFIX "schedule_elman_plan_fixed";
    if (!el)
        return bptt__fail(BPTT_ENULL, fn, "el is NULL");
    return plan_fixed(fn, el->net, el->nout, T, B, L, M, s);
}

void X(schedule_free)(X(schedule) *s)
{
    if (s) {
        X(workspace_free)(s->ws);
        free(s);
    }
}

bptt_status X(schedule_info_get)(const X(schedule) *s,
                                 bptt_schedule_info *info)
{
    static const char fn[] = PREFIX "schedule_info_get";
    if (!s)
        return bptt__fail(BPTT_ENULL, fn, "s is NULL");
    if (!info)
        return bptt__fail(BPTT_ENULL, fn, "info is NULL");
    size_t full;
    bptt__arena a;
    CHECK(X(workspace_size)(s->net, s->T, s->B, &full));
    CHECK(layout(fn, s->net, s->nout, s->T, s->B, s->L, s->M, &a));
    *info = (bptt_schedule_info){
        .T = s->T, .B = s->B, .seg = s->L, .segments = s->n, .slots = s->M,
        .forward_steps = bptt__revolve_steps(s->C, s->T, s->L, s->M, NULL),
        .bytes = a.total, .full_bytes = full};
    return BPTT_OK;
}

/* ------------------------------------------------------------------------ */
/* Executor                                                                  */
/* ------------------------------------------------------------------------ */

typedef struct run {
    X(schedule) *s;
    const R *W, *b, *x, *y0;
    size_t ldw, ldx, ldy0;
    X(dy_fn) dyfn;
    void *ctx;
    R beta;
    R *dx;
    size_t lddx;
    int first, want_dW, want_db, want_dy0;
    double loss;
} run;

static R *cur(const run *r) { return r->s->state; }
static R *carry(const run *r) { return r->s->state + r->s->ps; }
static R *fin(const run *r) { return r->s->state + 2 * r->s->ps; }

/* The state named by the walk, and its leading dimension. */
static const R *state_of(const run *r, int id, size_t *ld)
{
    const size_t dout = r->s->net->dout;
    *ld = dout;
    if (id == BPTT__STATE_Y0) {
        *ld = r->ldy0;
        return r->y0;
    }
    if (id == BPTT__STATE_CUR)
        return cur(r);
    return r->s->slots + (size_t)id * r->s->B * dout;
}

/* Forward steps t0..t0+len-1 from the state p (ld ldp) into s->Y. */
static bptt_status seg_forward(const run *r, size_t t0, size_t len,
                               const R *p, size_t ldp)
{
    const X(schedule) *s = r->s;
    return X(forward)(s->net, len, s->B, r->W, r->ldw, r->b,
                      r->x + t0 * s->B * r->ldx, r->ldx, p, ldp, s->Y,
                      s->net->dout, BPTT_ALGO_AUTO, s->ws);
}

static bptt_status advance(void *ctx, int from, size_t a, size_t k, int to)
{
    run *r = ctx;
    const X(schedule) *s = r->s;
    const size_t rowb = s->B * s->net->dout;
    const size_t end = (a + k) * s->L < s->T ? (a + k) * s->L : s->T;
    size_t ldp;
    const R *p = state_of(r, from, &ldp);
    for (size_t t = a * s->L; t < end; t += s->L) {
        const size_t len = end - t < s->L ? end - t : s->L;
        CHECK(seg_forward(r, t, len, p, ldp));
        memcpy(cur(r), s->Y + (len - 1) * rowb, rowb * sizeof(R));
        p = cur(r);
        ldp = s->net->dout;
    }
    if (to != BPTT__STATE_CUR)
        memcpy(s->slots + (size_t)to * rowb, cur(r), rowb * sizeof(R));
    return BPTT_OK;
}

static bptt_status leaf(void *ctx, int from, size_t a)
{
    static const char fn[] = PREFIX "schedule_run";
    run *r = ctx;
    const X(schedule) *s = r->s;
    const size_t B = s->B, din = s->net->din, dout = s->net->dout,
                 rowb = B * dout;
    const size_t t0 = a * s->L, len = s->T - t0 < s->L ? s->T - t0 : s->L;
    size_t ldp;
    const R *p = state_of(r, from, &ldp);
    CHECK(seg_forward(r, t0, len, p, ldp));
    if (r->first)
        memcpy(fin(r), s->Y + (len - 1) * rowb, rowb * sizeof(R));
    bptt_status st = r->dyfn(r->ctx, t0, len, B, s->Y, dout, s->DY, dout,
                             &r->loss);
    if (st != BPTT_OK)
        return bptt__fail(st, fn, "the dy callback returned status %d for "
                          "steps %zu..%zu", (int)st, t0, t0 + len - 1);
    /* dL/dy(end) += what the later segments' backward sent back through
     * y(end) (the dy0 of the segment after, eq. (7) across the cut). */
    R *last = s->DY + (len - 1) * rowb, *c = carry(r);
    if (!r->first)
        for (size_t i = 0; i < rowb; i++)
            last[i] += c[i];
    R *dx = NULL;
    if (r->dx) {
        dx = r->dx + t0 * B * r->lddx;
        for (size_t i = 0; i < len * B; i++)
            for (size_t j = 0; j < din; j++)
                dx[i * r->lddx + j] =
                    r->beta == 0 ? 0 : r->beta * dx[i * r->lddx + j];
    }
    memset(c, 0, rowb * sizeof(R));
    const size_t m = s->net->m;
    CHECK(X(backward)(s->net, len, B, r->W, r->ldw, s->DY, dout, 1,
                      r->want_dW ? s->dW : NULL, m,
                      r->want_db ? s->dW + dout * m : NULL, dx, r->lddx,
                      (a > 0 || r->want_dy0) ? c : NULL, dout,
                      BPTT_ALGO_AUTO, s->ws));
    r->first = 0;
    return BPTT_OK;
}

bptt_status X(schedule_run)(X(schedule) *s, const R *W, size_t ldw,
                            const R *b, const R *x, size_t ldx, const R *y0,
                            size_t ldy0, X(dy_fn) dyfn, void *ctx, R beta,
                            R *dW, size_t lddw, R *db, R *dx, size_t lddx,
                            R *dy0, size_t lddy0, R *yT, size_t ldyT,
                            double *loss)
{
    static const char fn[] = PREFIX "schedule_run";
    if (!s)
        return bptt__fail(BPTT_ENULL, fn, "s is NULL");
    const size_t din = s->net->din, dout = s->net->dout, m = s->net->m,
                 B = s->B, TB = s->T * s->B;
    CHECK(XI(check_arg)(fn, "W", W, 1, dout, m, ldw));
    CHECK(XI(check_arg)(fn, "x", x, 1, TB, din, ldx));
    CHECK(XI(check_arg)(fn, "y0", y0, 0, B, dout, ldy0));
    if (!dyfn)
        return bptt__fail(BPTT_ENULL, fn, "dyfn is NULL");
    CHECK(XI(check_arg)(fn, "dW", dW, 0, dout, m, lddw));
    CHECK(XI(check_arg)(fn, "dx", dx, 0, TB, din, lddx));
    CHECK(XI(check_arg)(fn, "dy0", dy0, 0, B, dout, lddy0));
    CHECK(XI(check_arg)(fn, "yT", yT, 0, B, dout, ldyT));
    if (!isfinite(beta))
        return bptt__fail(BPTT_EINVAL, fn, "beta is not finite");

    run r = {.s = s, .W = W, .b = b, .x = x, .y0 = y0, .ldw = ldw,
             .ldx = ldx, .ldy0 = y0 ? ldy0 : dout, .dyfn = dyfn, .ctx = ctx,
             .beta = beta, .dx = dx, .lddx = lddx, .first = 1,
             .want_dW = dW != NULL, .want_db = db != NULL,
             .want_dy0 = dy0 != NULL, .loss = 0};
    memset(s->dW, 0, dout * (m + 1) * sizeof(R));
    const bptt__walk_ops ops = {&r, advance, leaf};
    CHECK(bptt__revolve_walk(s->C, s->n, s->M, &ops));

    /* out = beta·out + the accumulated gradient; beta = 0 reads nothing. */
    for (size_t i = 0; dW && i < dout; i++)
        for (size_t j = 0; j < m; j++)
            dW[i * lddw + j] = (beta == 0 ? 0 : beta * dW[i * lddw + j]) +
                               s->dW[i * m + j];
    for (size_t i = 0; db && i < dout; i++)
        db[i] = (beta == 0 ? 0 : beta * db[i]) + s->dW[dout * m + i];
    for (size_t bb = 0; dy0 && bb < B; bb++)
        for (size_t j = 0; j < dout; j++)
            dy0[bb * lddy0 + j] = (beta == 0 ? 0 : beta * dy0[bb * lddy0 + j]) +
                                  carry(&r)[bb * dout + j];
    for (size_t bb = 0; yT && bb < B; bb++)
        memcpy(yT + bb * ldyT, fin(&r) + bb * dout, dout * sizeof(R));
    if (loss)
        *loss = r.loss;
    return BPTT_OK;
}

/* The squared-error loss as a callback (bptt_loss_squared on the rows of
 * the segment). */
typedef struct squared {
    const R *target;
    size_t ldt, dout;
    const unsigned char *mask;
} squared;

static bptt_status squared_dy(void *ctx, size_t t0, size_t n, size_t B,
                              const R *y, size_t ldy, R *dy, size_t lddy,
                              double *loss)
{
    const squared *q = ctx;
    double l;
    CHECK(X(loss_squared)(n, B, q->dout, y, ldy, q->target + t0 * B * q->ldt,
                          q->ldt, q->mask ? q->mask + t0 * B : NULL, &l, dy,
                          lddy));
    *loss += l;
    return BPTT_OK;
}

bptt_status X(schedule_run_squared)(X(schedule) *s, const R *W, size_t ldw,
                                    const R *b, const R *x, size_t ldx,
                                    const R *y0, size_t ldy0, const R *target,
                                    size_t ldt, const unsigned char *mask,
                                    R beta, R *dW, size_t lddw, R *db, R *dx,
                                    size_t lddx, R *dy0, size_t lddy0, R *yT,
                                    size_t ldyT, double *loss)
{
    static const char fn[] = PREFIX "schedule_run_squared";
    if (!s)
        return bptt__fail(BPTT_ENULL, fn, "s is NULL");
    CHECK(XI(check_arg)(fn, "target", target, 1, s->T * s->B, s->net->dout,
                        ldt));
    squared q = {target, ldt, s->net->dout, mask};
    return X(schedule_run)(s, W, ldw, b, x, ldx, y0, ldy0, squared_dy, &q,
                           beta, dW, lddw, db, dx, lddx, dy0, lddy0, yT, ldyT,
                           loss);
}

/* Network B's head as the loss callback: per segment, ȳ = H Woᵀ + bo and
 * its loss (head_forward), then dȳ, dWo += dȳᵀ H, dbo += Σ dȳ and the
 * core's dL/dh = dȳ Wo (head_backward) — the same arithmetic as
 * bptt_elman_forward/backward on the segment's rows. */
typedef struct head_ctx {
    const X(schedule) *s;
    const bptt_elman *el;
    const R *Wo, *bo, *L;
    size_t ldwo, ldl;
    const int *labels;
} head_ctx;

static bptt_status head_dy(void *ctx, size_t t0, size_t n, size_t B,
                           const R *y, size_t ldy, R *dy, size_t lddy,
                           double *loss)
{
    (void)ldy;
    (void)lddy; /* both dout: the schedule's own segment arrays */
    const head_ctx *h = ctx;
    const X(schedule) *s = h->s;
    const size_t rows = n * B, nout = s->nout, dh = s->net->dout;
    R *Yh = s->head, *dYbar = Yh + s->L * B * nout, *dWo = dYbar + s->L * B * nout;
    const int *labels = h->labels ? h->labels + t0 * B : NULL;
    const R *L = h->L ? h->L + t0 * B * h->ldl : NULL;
    double e = 0;
    XI(head_forward)(h->el, rows, h->Wo, h->ldwo, h->bo, y, labels, L, h->ldl,
                     0, Yh, &e);
    XI(head_backward)(h->el, rows, h->Wo, h->ldwo, y, Yh, labels, L, h->ldl, 0,
                      dYbar, dWo, dh, dWo + nout * dh, dy);
    *loss += e;
    return BPTT_OK;
}

bptt_status X(schedule_elman_run)(X(schedule) *s, const bptt_elman *el,
                                  const R *W, size_t ldw, const R *bh,
                                  const R *Wo, size_t ldwo, const R *bo,
                                  const R *x, size_t ldx, const R *h0,
                                  size_t ldh0, const int *labels, const R *L,
                                  size_t ldl, R beta, R *dW, size_t lddw,
                                  R *dbh, R *dWo, size_t lddwo, R *dbo, R *dx,
                                  size_t lddx, R *dh0, size_t lddh0, double *E)
{
    static const char fn[] = PREFIX "schedule_elman_run";
    if (!s)
        return bptt__fail(BPTT_ENULL, fn, "s is NULL");
    if (!el)
        return bptt__fail(BPTT_ENULL, fn, "el is NULL");
    if (el->net != s->net || el->nout != s->nout)
        return bptt__fail(BPTT_EMISMATCH, fn,
                          "s was planned for another descriptor");
    const size_t nout = el->nout, dh = s->net->dout;
    CHECK(XI(check_arg)(fn, "Wo", Wo, 1, nout, dh, ldwo));
    CHECK(XI(check_arg)(fn, "dWo", dWo, 0, nout, dh, lddwo));
    CHECK(XI(head_check_targets)(fn, el, s->T * s->B, labels, L, ldl));
    if (!isfinite(beta))
        return bptt__fail(BPTT_EINVAL, fn, "beta is not finite");
    R *acc = s->head + 2 * s->L * s->B * nout;
    memset(acc, 0, nout * (dh + 1) * sizeof(R));
    head_ctx h = {s, el, Wo, bo, L, ldwo, ldl, labels};
    CHECK(X(schedule_run)(s, W, ldw, bh, x, ldx, h0, ldh0, head_dy, &h, beta,
                          dW, lddw, dbh, dx, lddx, dh0, lddh0, NULL, 0, E));
    for (size_t i = 0; dWo && i < nout; i++)
        for (size_t j = 0; j < dh; j++)
            dWo[i * lddwo + j] = (beta == 0 ? 0 : beta * dWo[i * lddwo + j]) +
                                 acc[i * dh + j];
    for (size_t i = 0; dbo && i < nout; i++)
        dbo[i] = (beta == 0 ? 0 : beta * dbo[i]) + acc[nout * dh + i];
    return BPTT_OK;
}
