/*
 * schedule.c — memory-bounded BPTT for Network A: the schedule's block
 * (one arena: inner workspace, segment arrays, slots, table), the choice
 * of segment length and slot count under a budget, and the executor that
 * runs the planner's walk (revolve.c) with the public forward and backward
 * on segments.
 */
#include <assert.h>
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "arena.h"
#include "heads/elman_impl.h"
#include "schedule/revolve.h"

struct X(schedule) {
    const bptt_net *net;
    size_t T, B, L, n, M;
    size_t pc;                 /* I, a piece: the inner workspace's steps */
    size_t nout;               /* Network B's outputs; 0: Network A */
    size_t ps;                 /* elements between the three states */
    X(workspace) *ws;          /* the inner workspace, I steps */
    R *Y;                      /* a segment's y, L*B x dout */
    R *DY;                     /* a piece's dL/dy, I*B x dout */
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
                          size_t T, size_t B, size_t L, size_t M, size_t pc,
                          bptt__arena *a)
{
    size_t wsb;
    CHECK(X(workspace_size)(net, pc, B, &wsb));
    int ok = 1;
    const size_t r = sizeof(R), n = T / L + (T % L != 0);
    const size_t row = bptt__mul(bptt__mul(B, net->dout, &ok), r, &ok);
    const size_t bytes[A_N] = {
        [A_WS] = wsb,
        [A_Y] = bptt__mul(row, L, &ok),
        [A_DY] = bptt__mul(row, pc, &ok),
        [A_SLOTS] = bptt__mul(row, M, &ok),
        [A_STATE] = bptt__mul(bptt__up64(row, &ok), 3, &ok),
        [A_DW] = bptt__mul(bptt__mul(net->dout, net->m + 1, &ok), r, &ok),
        [A_C] = bptt__mul(bptt__mul(n + 1, M + 1, &ok), sizeof(uint32_t), &ok),
        [A_HEAD] = bptt__mul(bptt__add(bptt__mul(bptt__mul(2 * pc, B, &ok),
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

/* Whether every unit's f'(z) follows from y = f(z) by the expression the
 * forward uses for it (cells/vanilla/activation.c): tanh 1 - y², logistic
 * y(1 - y), identity 1, ReLU [y > 0] (ReLU's y > 0 exactly when z > 0).
 * Then a piece's workspace is rebuilt from its kept y (restage) and its
 * forward is not run again; otherwise pieces are whole segments. */
static int derivable(const bptt_net *net)
{
    for (size_t k = 0; k < net->nruns; k++) {
        const bptt_activation a = net->runs[k].act;
        if (a != BPTT_ACT_TANH && a != BPTT_ACT_LOGISTIC &&
            a != BPTT_ACT_IDENTITY && a != BPTT_ACT_RELU)
            return 0;
    }
    return 1;
}

/* The smallest piece a segment of L steps may have. */
static size_t min_piece(const bptt_net *net, size_t L)
{
    return derivable(net) ? 1 : L;
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
    CHECK(layout(fn, net, nout, T, B, min_seg(T), 0,
                 min_piece(net, min_seg(T)), &a));
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

/* Allocate and fill a schedule of segment length L, M slots and pieces of
 * I steps. */
static bptt_status make(const char *fn, const bptt_net *net, size_t nout,
                        size_t T, size_t B, size_t L, size_t M, size_t pc,
                        X(schedule) **out)
{
    const size_t n = T / L + (T % L != 0);
    if (M > n - 1)
        M = n - 1;
    bptt__arena a;
    unsigned char *base;
    CHECK(layout(fn, net, nout, T, B, L, M, pc, &a));
    CHECK(bptt__arena_alloc(fn, &a, &base));
    X(schedule) *s = (X(schedule) *)base;
    memset(s, 0, sizeof *s);
    s->net = net;
    s->T = T;
    s->B = B;
    s->L = L;
    s->pc = pc;
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
    bptt_status st = X(workspace_init)(net, pc, B,
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
                              size_t M, size_t pc, X(schedule) **s)
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
    if (pc == 0 || pc > L)
        return bptt__fail(BPTT_EINVAL, fn, "pc (%zu) is not in 1..L (%zu)", pc,
                          L);
    if (pc < L && !derivable(net))
        return bptt__fail(BPTT_EINVAL, fn,
                          "pc (%zu) < L (%zu) needs f' from y (tanh, "
                          "logistic, identity, ReLU units only)", pc, L);
    const size_t n = T / L + (T % L != 0);
    return make(fn, net, nout, T, B, L, bptt__revolve_cap(n, M), pc, s);
}

bptt_status X(schedule_plan_fixed)(const bptt_net *net, size_t T, size_t B,
                                   size_t L, size_t M, X(schedule) **s)
{
    return plan_fixed(PREFIX "schedule_plan_fixed", net, 0, T, B, L, M, L, s);
}

bptt_status X(schedule_plan_pieces)(const bptt_net *net, size_t T, size_t B,
                                    size_t L, size_t M, size_t pc,
                                    X(schedule) **s)
{
    return plan_fixed(PREFIX "schedule_plan_pieces", net, 0, T, B, L, M, pc,
                      s);
}


/* The time model of the planner, in flops: a forward step of B sequences
 * costs 2·B·dout·m (the backward's T steps are the same for every plan),
 * a forward or backward call PLAN_CALL_FLOPS more (packing Wy, the fixed
 * part of the whole-piece GEMMs, the loss callback: about 70 µs a call on
 * the development machine — a one-step forward of (256,256,·,32) against
 * a step of a long one — where a core does some 3·10^10 flops a second;
 * docs/schedule.md).  Restaging a piece only copies rows: not counted. */
#define PLAN_CALL_FLOPS 2e6

/* The plan of least modelled time for segments of L steps: the pieces I
 * tried are L, ceil(L/2), ceil(L/4), ... 1 (L only if f' does not follow
 * from y), each with as many slots as the budget leaves.  *cost is
 * DBL_MAX if none fits. */
static bptt_status plan_seg(const char *fn, const bptt_net *net, size_t nout,
                            size_t T, size_t B, size_t budget, size_t L,
                            double *cost, size_t *bestM, size_t *bestI)
{
    const size_t n = T / L + (T % L != 0);
    const double step = 2.0 * (double)B * (double)net->dout * (double)net->m;
    size_t pc[64], Ms[64], k = 0, Mtop = 0;
    *cost = DBL_MAX;
    /* pieces from the smallest up, so that a tie keeps the larger */
    size_t sh = 0;
    while (derivable(net) && sh < 63 && ((L - 1) >> sh) > 0)
        sh++;
    for (;; sh--) {
        const size_t piece = ((L - 1) >> sh) + 1; /* ceil(L / 2^sh) */
        bptt__arena a;
        CHECK(layout(fn, net, nout, T, B, L, 0, piece, &a));
        if (a.total <= budget && (k == 0 || pc[k - 1] != piece)) {
            /* the most slots that fit (bytes grow with M) */
            size_t lo = 0, hi = n - 1;
            while (lo < hi) {
                const size_t mid = lo + (hi - lo + 1) / 2;
                CHECK(layout(fn, net, nout, T, B, L, mid, piece, &a));
                if (a.total <= budget)
                    lo = mid;
                else
                    hi = mid - 1;
            }
            pc[k] = piece;
            Ms[k] = bptt__revolve_cap(n, lo);
            Mtop = Ms[k] > Mtop ? Ms[k] : Mtop;
            k++;
        }
        if (sh == 0)
            break;
    }
    if (k == 0)
        return BPTT_OK;
    /* one table serves every M <= Mtop */
    uint32_t *C = malloc((n + 1) * (Mtop + 1) * sizeof *C);
    if (!C)
        return bptt__fail(BPTT_ENOMEM, fn, "no memory for the table");
    bptt__revolve_fill(n, Mtop, C);
    for (size_t j = 0; j < k; j++) {
        size_t calls;
        const size_t steps =
            bptt__revolve_count(C, Mtop + 1, T, L, Ms[j], &calls);
        /* each segment's call is ceil(L/I) calls on pieces */
        const double c = step * (double)steps +
                         PLAN_CALL_FLOPS * (double)calls *
                             (double)((L + pc[j] - 1) / pc[j]);
        if (c <= *cost) {
            *cost = c;
            *bestM = Ms[j];
            *bestI = pc[j];
        }
    }
    free(C);
    return BPTT_OK;
}

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
    size_t bestL = 0, bestM = 0, bestI = 0;
    double bestCost = DBL_MAX;
    for (size_t L = min_seg(T), prev = 0;;) {
        /* n = ceil(T/L) segments made even: the last segment, whose
         * forward is not repeated, as long as the others, and the kept y
         * no longer than needed */
        const size_t n = T / L + (T % L != 0), Le = T / n + (T % n != 0);
        if (Le != prev) {
            double cost;
            size_t M = 0, pc = 0;
            CHECK(plan_seg(fn, net, nout, T, B, budget, Le, &cost, &M, &pc));
            if (cost <= bestCost) { /* a tie keeps the longer segment */
                bestCost = cost;
                bestL = Le;
                bestM = M;
                bestI = pc;
            }
            prev = Le;
        }
        if (L == T)
            break;
        L += L / 4 > 1 ? L / 4 : 1;
        if (L > T)
            L = T;
    }
    /* The minimum budget fits the first L tried. */
    return make(fn, net, nout, T, B, bestL, bestM, bestI, s);
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
    return plan_fixed(fn, el->net, el->nout, T, B, L, M, L, s);
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
    CHECK(layout(fn, s->net, s->nout, s->T, s->B, s->L, s->M, s->pc, &a));
    *info = (bptt_schedule_info){
        .T = s->T, .B = s->B, .seg = s->L, .segments = s->n, .slots = s->M,
        .piece = s->pc,
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

/* Forward over segment steps t0..t0+len-1 from the state p (ld ldp), in
 * pieces of I steps, y into rows 0.. of s->Y: each piece starts from the
 * last y of the one before.  The inner workspace is left holding the last
 * piece. */
static bptt_status seg_forward(const run *r, size_t t0, size_t len,
                               const R *p, size_t ldp)
{
    const X(schedule) *s = r->s;
    const size_t dout = s->net->dout, rowb = s->B * dout;
    for (size_t j = 0; j < len; j += s->pc) {
        const size_t k = len - j < s->pc ? len - j : s->pc;
        R *y = s->Y + j * rowb;
        CHECK(X(forward)(s->net, k, s->B, r->W, r->ldw, r->b,
                         r->x + (t0 + j) * s->B * r->ldx, r->ldx, p, ldp, y,
                         dout, BPTT_ALGO_AUTO, s->ws));
        p = y + (k - 1) * rowb;
        ldp = dout;
    }
    return BPTT_OK;
}

/* The inner workspace of piece j0..j0+k-1 of the segment at t0 as its
 * forward would leave it (core.h's layout), from the kept y (s->Y) and the
 * state p before the piece: s(t) = [x(t); y(t)] (docs/derivation.md §1)
 * and f'(z(t+1)) of eq. (4)/(5) from y(t+1) by the forward's own
 * expressions (derivable; p NULL: the zero state, as
 * bptt_forward's y0), so the backward that
 * follows gives the same bits as after a forward, without its products. */
static void restage(const run *r, size_t t0, size_t j0, size_t k,
                    const R *p, size_t ldp)
{
    const X(schedule) *s = r->s;
    const bptt_net *net = s->net;
    const size_t B = s->B, din = net->din, dout = net->dout, m = net->m;
    X(workspace) *ws = s->ws;
    for (size_t t = 0; t < k; t++)
        for (size_t bb = 0; bb < B; bb++) {
            const size_t row = t * B + bb;
            R *srow = ws->S + row * m;
            memcpy(srow, r->x + ((t0 + j0 + t) * B + bb) * r->ldx,
                   din * sizeof(R));
            if (t == 0 && !p) /* y0 NULL: the zero state */
                memset(srow + din, 0, dout * sizeof(R));
            else
                memcpy(srow + din,
                       t == 0 ? p + bb * ldp
                              : s->Y + ((j0 + t - 1) * B + bb) * dout,
                       dout * sizeof(R));
            const R *y = s->Y + ((j0 + t) * B + bb) * dout;
            R *d = ws->D + row * dout;
            for (size_t q = 0; q < net->nruns; q++) {
                const bptt_run run = net->runs[q];
                const size_t e = run.start + run.len;
                switch (run.act) {
                case BPTT_ACT_TANH:
                    for (size_t i = run.start; i < e; i++)
                        d[i] = 1 - y[i] * y[i];
                    break;
                case BPTT_ACT_LOGISTIC:
                    for (size_t i = run.start; i < e; i++)
                        d[i] = y[i] * (1 - y[i]);
                    break;
                case BPTT_ACT_RELU:
                    for (size_t i = run.start; i < e; i++)
                        d[i] = y[i] > 0 ? 1 : 0;
                    break;
                default: /* identity: derivable() admits no other */
                    for (size_t i = run.start; i < e; i++)
                        d[i] = 1;
                    break;
                }
            }
        }
    ws->fwd_T = k;
    ws->fwd_B = B;
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

/* Segment a: its forward (y kept in s->Y), then its pieces from the last
 * down: the loss callback on the piece's y, dL/dy at the piece's end plus
 * what the steps after it sent back through that y (the dy0 of the piece
 * after, eq. (7) across the cut), and the piece's backward, the last piece
 * on the workspace the forward left, the others restaged. */
static bptt_status leaf(void *ctx, int from, size_t a)
{
    static const char fn[] = PREFIX "schedule_run";
    run *r = ctx;
    const X(schedule) *s = r->s;
    const size_t B = s->B, din = s->net->din, dout = s->net->dout,
                 rowb = B * dout, m = s->net->m;
    const size_t t0 = a * s->L, len = s->T - t0 < s->L ? s->T - t0 : s->L;
    size_t ldp;
    const R *p = state_of(r, from, &ldp);
    CHECK(seg_forward(r, t0, len, p, ldp));
    if (r->first)
        memcpy(fin(r), s->Y + (len - 1) * rowb, rowb * sizeof(R));
    const size_t last = (len - 1) / s->pc * s->pc;
    for (size_t q = last / s->pc + 1; q-- > 0;) {
        const size_t j = q * s->pc; /* the piece's first step */
        const size_t k = len - j < s->pc ? len - j : s->pc;
        if (j != last)
            restage(r, t0, j, k, j ? s->Y + (j - 1) * rowb : p,
                    j ? dout : ldp);
        bptt_status st = r->dyfn(r->ctx, t0 + j, k, B, s->Y + j * rowb, dout,
                                 s->DY, dout, &r->loss);
        if (st != BPTT_OK)
            return bptt__fail(st, fn, "the dy callback returned status %d "
                              "for steps %zu..%zu", (int)st, t0 + j,
                              t0 + j + k - 1);
        R *dlast = s->DY + (k - 1) * rowb, *c = carry(r);
        if (!r->first)
            for (size_t i = 0; i < rowb; i++)
                dlast[i] += c[i];
        R *dx = NULL;
        if (r->dx) {
            dx = r->dx + (t0 + j) * B * r->lddx;
            for (size_t i = 0; i < k * B; i++)
                for (size_t q = 0; q < din; q++)
                    dx[i * r->lddx + q] =
                        r->beta == 0 ? 0 : r->beta * dx[i * r->lddx + q];
        }
        memset(c, 0, rowb * sizeof(R));
        CHECK(X(backward)(s->net, k, B, r->W, r->ldw, s->DY, dout, 1,
                          r->want_dW ? s->dW : NULL, m,
                          r->want_db ? s->dW + dout * m : NULL, dx, r->lddx,
                          (t0 + j > 0 || r->want_dy0) ? c : NULL, dout,
                          BPTT_ALGO_AUTO, s->ws));
        r->first = 0;
    }
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
    /* Network B's head as the loss callback on each piece's rows, ȳ and
     * dȳ in the schedule's head arrays (a piece's rows each), dWo and dbo
     * accumulated after them */
    R *Yh = s->head, *dYbar = Yh + s->pc * s->B * nout;
    XI(head_loss) h = {.el = el, .Wo = Wo, .bo = bo, .L = L, .ldwo = ldwo,
                       .ldl = ldl, .t_base = 0, .labels = labels, .Y = Yh,
                       .dYbar = dYbar, .acc = dYbar + s->pc * s->B * nout};
    memset(h.acc, 0, nout * (dh + 1) * sizeof(R));
    CHECK(X(schedule_run)(s, W, ldw, bh, x, ldx, h0, ldh0, XI(head_dy), &h,
                          beta, dW, lddw, dbh, dx, lddx, dh0, lddh0, NULL, 0,
                          E));
    XI(head_deliver)(nout, dh, beta, h.acc, dWo, lddwo, dbo);
    return BPTT_OK;
}
