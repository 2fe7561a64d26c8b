/*
 * deferred.c — the deferred algorithm (docs/derivation.md, "Deferring the
 * weight gradient"): everything that does not depend on the previous step
 * is taken out of the time loop and done as one GEMM over all T·B rows.
 *
 *   forward:  Z = X Wxᵀ (+ b) for all steps (one GEMM), then per step only
 *             z(t+1) += Wy y(t) and the activation;
 *   backward: per step only g(t) = dL/dy(t) + Wyᵀ δ(t+1) and δ = g ⊙ f'
 *             (eqs. (3)+(7), (5)/(8)), keeping every δ(t) in Δ; then
 *             dL/dW = Δᵀ S (eq. (12), one GEMM, compute-bound instead of T
 *             memory-bound GERs) and dL/dx = Δ Wx (one GEMM).
 *
 * The time loops run on bptt's own recurrence kernel over Wy packed once
 * per call (kernels/recurrence.h), on the workspace's threads: each thread
 * owns a share of the columns (units), packs its panels of Wy, and per step
 * computes its units' product and activation; one barrier per step.  The
 * whole-sequence GEMMs run on the BLAS, or on bptt's own GEMM where the
 * BLAS's kernels are weaker than the CPU (kernels/gemm.h).
 *
 * Forward and backward sit side by side; network.c checks the arguments,
 * stages s(t) and dispatches here.
 */
#include <string.h>

#include "cells/vanilla/core.h"

/* What a thread of a time loop needs; filled by the calling thread. */
typedef struct loop {
    const bptt_net *net;
    const XI(rec_kernel) *kernel;
    size_t T, B;
    const R *W;
    size_t ldw;
    R *y;              /* forward: the caller's y */
    size_t ldy;
    const R *dy;       /* backward: the caller's dL/dy */
    size_t lddy;
    X(workspace) *ws;
} loop;

/* Threads for a loop over n units: the workspace's, unless the step is
 * too small to share or the units too few. */
static int loop_threads(const X(workspace) *ws, size_t B, size_t n)
{
    return XI(rec_threads)(bptt__pool_threads(ws->pool),
                           (double)B * (double)n * (double)n, n,
                           XI(rec_kernel_get)()->nr);
}

/* Panels per call of the kernel when a step walks its panels backwards. */
enum { SNAKE_CHUNK = 8 };

/* C += A·P on the panels q0 .. q1-1, walked forwards on even steps and
 * backwards on odd ones: when a thread's share of Wy is larger than its
 * cache, the panels a step read last are still cached when the next step
 * starts, where in one fixed order every read would miss (LRU).  Each
 * element's sum is the same either way. */
static void product(const loop *L, size_t step, size_t q0, size_t q1,
                    const R *A, size_t lda, R *C)
{
    const size_t n = L->net->dout;
    const XI(rec_kernel) *k = L->kernel;
    if (step % 2 == 0) {
        k->run(L->B, n, n, q0, q1, A, lda, 1, L->ws->P, C, n);
        return;
    }
    for (size_t q = q1; q > q0;) {
        size_t lo = q - q0 > SNAKE_CHUNK ? q - SNAKE_CHUNK : q0;
        k->run(L->B, n, n, lo, q, A, lda, 1, L->ws->P, C, n);
        q = lo;
    }
}

/* Forward's time loop on one thread's units: z(t+1) += Wy y(t) (P = Wyᵀ),
 * then y(t+1) = f(z(t+1)) and s(t+1)'s y part. */
static void forward_loop(void *arg, int tid, int nth)
{
    const loop *L = arg;
    const bptt_net *net = L->net;
    const size_t din = net->din, dout = net->dout, m = net->m, B = L->B;
    const size_t nr = L->kernel->nr;
    X(workspace) *ws = L->ws;
    size_t q0, q1, c0, c1;
    XI(rec_share)(dout, nr, tid, nth, &q0, &q1, &c0, &c1);
    XI(rec_pack)(1, dout, dout, L->W + din, L->ldw, nr, q0, q1, ws->P);
    for (size_t t = 0; t < L->T; t++) {
        R *z = ws->D + t * B * dout;
        const R *yprev = ws->S + t * B * m + din; /* y(t), rows of ld m */
        R *yt = L->y + t * B * L->ldy;
        product(L, t, q0, q1, yprev, m, z);
        XI(activate_cols)(net, B, c0, c1, z, yt, L->ldy);
        if (t + 1 == L->T)
            break;
        for (size_t bb = 0; bb < B; bb++)
            memcpy(ws->S + ((t + 1) * B + bb) * m + din + c0,
                   yt + bb * L->ldy + c0, (c1 - c0) * sizeof(R));
        bptt__pool_barrier(ws->pool, nth); /* y(t+1) complete */
    }
}

void XI(deferred_forward)(const bptt_net *net, size_t T, size_t B,
                          const R *W, size_t ldw, const R *b, const R *x,
                          size_t ldx, R *y, size_t ldy, X(workspace) *ws)
{
    const size_t din = net->din, dout = net->dout, TB = T * B;
    R *Z = ws->D; /* z(t+1) for all t, replaced by f'(z(t+1)) step by step */

    /* Z = X Wxᵀ: the input half of eq. (6)'s sum for every step at once
     * (tokens: Z holds it already, gathered by eq. (T1)) */
    if (x)
        XI(gemm)(0, 1, TB, dout, din, x, ldx, W, ldw, 0, Z, dout, ws->pool,
                 ws->G);
    if (b)
        XI(add_bias)(TB, dout, b, Z, dout);

    loop L = {.net = net, .kernel = XI(rec_kernel_get)(), .T = T, .B = B,
              .W = W, .ldw = ldw, .y = y, .ldy = ldy, .ws = ws};
    bptt__pool_run(ws->pool, loop_threads(ws, B, dout), forward_loop, &L);
}

/* Backward's time loop on one thread's units, t = T .. 1:
 * δ(t) = (dL/dy(t) + Wyᵀ δ(t+1)) ⊙ f'(z(t))  (eqs. (3), (7), (5)/(8)),
 * with P = Wy, into the rows (t-1)·B.. of Δ. */
static void backward_loop(void *arg, int tid, int nth)
{
    const loop *L = arg;
    const size_t dout = L->net->dout, B = L->B, nr = L->kernel->nr;
    X(workspace) *ws = L->ws;
    size_t q0, q1, c0, c1;
    XI(rec_share)(dout, nr, tid, nth, &q0, &q1, &c0, &c1);
    XI(rec_pack)(0, dout, dout, L->W + L->net->din, L->ldw, nr, q0, q1,
                 ws->P);
    for (size_t t = L->T; t >= 1; t--) {
        const size_t k = (t - 1) * B; /* first row of step t */
        R *delta = ws->Delta + k * dout;
        const R *D = ws->D + k * dout;
        for (size_t bb = 0; bb < B; bb++) /* g(t) = dL/dy(t) (eq. (3)) ... */
            memcpy(delta + bb * dout + c0, L->dy + (k + bb) * L->lddy + c0,
                   (c1 - c0) * sizeof(R));
        if (t < L->T) /* ... + Wyᵀ δ(t+1) (eq. (7)) */
            product(L, t, q0, q1, delta + B * dout, dout, delta);
        if (nth == 1) /* ‖g(t)‖, ‖δ(t)‖ if asked (whole rows: one thread) */
            XI(record_flow)(ws, k, B, delta, D);
        for (size_t bb = 0; bb < B; bb++) /* δ(t) = g(t) ⊙ f'(z(t)) */
            for (size_t i = c0; i < c1; i++)
                delta[bb * dout + i] *= D[bb * dout + i];
        if (t == 1)
            break;
        bptt__pool_barrier(ws->pool, nth); /* δ(t) complete */
    }
}

void XI(deferred_backward)(const bptt_net *net, size_t T, size_t B,
                           const R *W, size_t ldw, const R *dy, size_t lddy,
                           R beta, R *dW, size_t lddw, R *db, R *dx,
                           size_t lddx, R *dy0, size_t lddy0,
                           X(workspace) *ws)
{
    const size_t din = net->din, dout = net->dout, m = net->m, TB = T * B;
    const R *Wy = W + din;
    R *Delta = ws->Delta;

    loop L = {.net = net, .kernel = XI(rec_kernel_get)(), .T = T, .B = B,
              .W = W, .ldw = ldw, .dy = dy, .lddy = lddy, .ws = ws};
    int nth = ws->flow_g || ws->flow_d ? 1 : loop_threads(ws, B, dout);
    bptt__pool_run(ws->pool, nth, backward_loop, &L);

    /* dL/dW = β dW + Δᵀ S: eq. (12)'s sum over t (and b) as one GEMM, or
     * as panels of rows of dW when a hook wants each as soon as it is
     * final (bptt/hook.h); row i of dW is Δ's column i times S either way.
     * After tokens the GEMM covers the y-columns only, and the x-columns
     * are β dW_x plus the scatter-add of every row of Δ (eq. (T2)). */
    const bptt_grad_hook *hook = ws->hook;
    const size_t j0 = ws->fwd_tokens ? din : 0;
    for (size_t r0 = 0, r1; dW && r0 < dout; r0 = r1) {
        /* read before each panel: ready may change it */
        size_t pr = hook && hook->panel_rows ? hook->panel_rows : dout;
        r1 = pr < dout - r0 ? r0 + pr : dout;
        XI(gemm)(1, 0, r1 - r0, m - j0, TB, Delta + r0, dout, ws->S + j0, m,
                 beta, dW + r0 * lddw + j0, lddw, ws->pool, ws->G);
        if (j0) {
            XI(scale)(r1 - r0, din, beta, dW + r0 * lddw, lddw);
            XI(tokens_scatter)(ws, 0, TB, r0, r1, dW, lddw);
        }
        if (hook)
            hook->ready(hook->user, BPTT_GRAD_W, r0, r1);
    }
    /* dL/dx = β dx + Δ Wx: every step's input gradient as one GEMM */
    if (dx)
        XI(gemm)(0, 0, TB, din, dout, Delta, dout, W, ldw, beta, dx, lddx,
                 ws->pool, ws->G);
    if (db) {
        XI(scale)(1, dout, beta, db, dout);
        for (size_t k = 0; k < TB; k++)
            for (size_t i = 0; i < dout; i++)
                db[i] += Delta[k * dout + i];
    }
    /* dL/dy(0) = β dy0 + Wyᵀ δ(1) */
    if (dy0)
        XI(rows_times)(0, B, dout, dout, Delta, dout, Wy, ldw, beta, dy0,
                       lddy0);
}
