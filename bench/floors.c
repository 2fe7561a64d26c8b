/*
 * floors.c — the BLAS floor of each algorithm: the bare BLAS calls its
 * forward or backward makes, back to back, on operands of the case's
 * shapes, with none of the element-wise work between them.  A time divided
 * by its floor says how much the algorithm adds to the BLAS it calls.
 *
 * One small function per algorithm and pass, found by the algorithm's name
 * (bptt_algo_name), so a new algorithm only adds its functions and a row
 * of the table at the end.  Compiled once per precision.
 */
#include <string.h>

#include "problem.h"

typedef struct BX(problem) problem;

/* gemv-ger forward (network.c forward_per_step): per step z(t+1) =
 * W s(t), one GEMV, or one GEMM over the B rows of the step. */
static void gemv_ger_forward(void *vp)
{
    const problem *p = vp;
    const int n = (int)p->dout, m = (int)p->m, B = (int)p->B;
    for (size_t t = 0; t < p->T; t++) {
        const R *s = p->S + t * p->B * p->m;
        R *z = p->Z + t * p->B * p->dout;
        if (B == 1)
            CBLAS(gemv)(CblasRowMajor, CblasNoTrans, n, m, 1, p->W, m, s, 1,
                        0, z, 1);
        else
            CBLAS(gemm)(CblasRowMajor, CblasNoTrans, CblasTrans, B, n, m, 1, s,
                        m, p->W, m, 0, z, n);
    }
}

/* gemv-ger backward (network.c backward_gemv_ger), per step t = T..1:
 * g(t) += Wyᵀ δ(t+1) (eq. 7, not at t = T where δ(T+1) = 0) and ∂L/∂x(t-1)
 * += Wxᵀ δ(t) — the data part — and ∂L/∂W += δ(t) s(t-1)ᵀ (eq. 12), the
 * weight part.  At B = 1 a transposed GEMV, a GER and a transposed GEMV;
 * at B > 1 the same three as GEMMs. */
static void gemv_ger_steps(problem *p, int data, int weights)
{
    const int n = (int)p->dout, m = (int)p->m, din = (int)p->din,
              B = (int)p->B;
    const R *W = p->W, *Wy = p->W + p->din;
    for (size_t t = p->T; t >= 1; t--) {
        const size_t k = (t - 1) * p->B;
        R *delta = p->Delta + k * p->dout;
        const R *s = p->S + k * p->m;
        R *dx = p->dx + k * p->din;
        if (B == 1) {
            if (data && t < p->T)
                CBLAS(gemv)(CblasRowMajor, CblasTrans, n, n, 1, Wy, m,
                            delta + n, 1, 1, delta, 1);
            if (weights)
                CBLAS(ger)(CblasRowMajor, n, m, 1, delta, 1, s, 1, p->dW, m);
            if (data)
                CBLAS(gemv)(CblasRowMajor, CblasTrans, n, din, 1, W, m, delta,
                            1, 1, dx, 1);
        } else {
            if (data && t < p->T)
                CBLAS(gemm)(CblasRowMajor, CblasNoTrans, CblasNoTrans, B, n, n,
                            1, delta + B * n, n, Wy, m, 1, delta, n);
            if (weights)
                CBLAS(gemm)(CblasRowMajor, CblasTrans, CblasNoTrans, n, m, B,
                            1, delta, n, s, m, 1, p->dW, m);
            if (data)
                CBLAS(gemm)(CblasRowMajor, CblasNoTrans, CblasNoTrans, B, din,
                            n, 1, delta, n, W, m, 1, dx, din);
        }
    }
}

static void gemv_ger_backward(void *vp)
{
    gemv_ger_steps(vp, 1, 1);
}

static void gemv_ger_backward_data(void *vp)
{
    gemv_ger_steps(vp, 1, 0);
}

static void gemv_ger_backward_weights(void *vp)
{
    gemv_ger_steps(vp, 0, 1);
}

static void gemv_ger_forward_backward(void *vp)
{
    gemv_ger_forward(vp);
    gemv_ger_backward(vp);
}

/* deferred forward (deferred.c XI(deferred_forward)): Z = X Wxᵀ over all
 * T·B rows, one GEMM (TB x dout x din), then per step the recurrent
 * product z(t+1) += Wy y(t), a GEMV at B = 1, a GEMM (B x dout x dout) at
 * B > 1, on y(t) in the rows of S as the library keeps them. */
static void deferred_forward(void *vp)
{
    problem *p = vp;
    const int n = (int)p->dout, m = (int)p->m, din = (int)p->din,
              B = (int)p->B, TB = (int)(p->T * p->B);
    const R *Wy = p->W + p->din;
    CBLAS(gemm)(CblasRowMajor, CblasNoTrans, CblasTrans, TB, n, din, 1, p->x,
                din, p->W, m, 0, p->Z, n);
    for (size_t t = 0; t < p->T; t++) {
        R *z = p->Z + t * p->B * p->dout;
        const R *yprev = p->S + t * p->B * p->m + p->din;
        if (B == 1)
            CBLAS(gemv)(CblasRowMajor, CblasNoTrans, n, n, 1, Wy, m, yprev, 1,
                        1, z, 1);
        else
            CBLAS(gemm)(CblasRowMajor, CblasNoTrans, CblasTrans, B, n, n, 1,
                        yprev, m, Wy, m, 1, z, n);
    }
}

/* deferred backward (deferred.c XI(deferred_backward)), the sequential
 * part: g(t) += Wyᵀ δ(t+1) for t = T-1..1 (δ(T+1) = 0), a GEMV per step,
 * a GEMM (B x dout x dout) at B > 1. */
static void deferred_recurrence(problem *p)
{
    const int n = (int)p->dout, m = (int)p->m, B = (int)p->B;
    const R *Wy = p->W + p->din;
    for (size_t t = p->T - 1; t >= 1; t--) {
        R *delta = p->Delta + (t - 1) * p->B * p->dout;
        if (B == 1)
            CBLAS(gemv)(CblasRowMajor, CblasTrans, n, n, 1, Wy, m, delta + n,
                        1, 1, delta, 1);
        else
            CBLAS(gemm)(CblasRowMajor, CblasNoTrans, CblasNoTrans, B, n, n, 1,
                        delta + B * n, n, Wy, m, 1, delta, n);
    }
}

/* ∂L/∂W = Δᵀ S (eq. 12): one GEMM, dout x (din+dout) x TB. */
static void deferred_backward_weights(void *vp)
{
    problem *p = vp;
    const int n = (int)p->dout, m = (int)p->m, TB = (int)(p->T * p->B);
    CBLAS(gemm)(CblasRowMajor, CblasTrans, CblasNoTrans, n, m, TB, 1,
                p->Delta, n, p->S, m, 0, p->dW, m);
}

/* ∂L/∂x = Δ·Wx: one GEMM, TB x din x dout. */
static void deferred_dx(problem *p)
{
    const int n = (int)p->dout, m = (int)p->m, din = (int)p->din,
              TB = (int)(p->T * p->B);
    CBLAS(gemm)(CblasRowMajor, CblasNoTrans, CblasNoTrans, TB, din, n, 1,
                p->Delta, n, p->W, m, 0, p->dx, din);
}

/* backward_data (dW = NULL): the recurrence, then ∂L/∂x. */
static void deferred_backward_data(void *vp)
{
    deferred_recurrence(vp);
    deferred_dx(vp);
}

/* The recurrence, ∂L/∂W = Δᵀ S, then ∂L/∂x = Δ·Wx, in the library's
 * order. */
static void deferred_backward(void *vp)
{
    deferred_recurrence(vp);
    deferred_backward_weights(vp);
    deferred_dx(vp);
}

static void deferred_forward_backward(void *vp)
{
    deferred_forward(vp);
    deferred_backward(vp);
}

static const struct {
    const char *algo;
    bench_pass pass;
    bench_floor_fn fn;
} floors[] = {
    {"gemv-ger", BENCH_FORWARD, gemv_ger_forward},
    {"gemv-ger", BENCH_BACKWARD, gemv_ger_backward},
    {"gemv-ger", BENCH_BACKWARD_DATA, gemv_ger_backward_data},
    {"gemv-ger", BENCH_BACKWARD_WEIGHTS, gemv_ger_backward_weights},
    {"gemv-ger", BENCH_FORWARD_BACKWARD, gemv_ger_forward_backward},
    {"deferred", BENCH_FORWARD, deferred_forward},
    {"deferred", BENCH_BACKWARD, deferred_backward},
    {"deferred", BENCH_BACKWARD_DATA, deferred_backward_data},
    {"deferred", BENCH_BACKWARD_WEIGHTS, deferred_backward_weights},
    {"deferred", BENCH_FORWARD_BACKWARD, deferred_forward_backward},
};

bench_floor_fn BX(floor_of)(const char *algo_name, bench_pass pass)
{
    for (size_t i = 0; i < sizeof floors / sizeof floors[0]; i++)
        if (floors[i].pass == pass && strcmp(floors[i].algo, algo_name) == 0)
            return floors[i].fn;
    return NULL;
}
