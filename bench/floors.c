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

/* The forward of every BLAS algorithm (network.c): per step z(t+1) =
 * W s(t), one GEMV, or one GEMM over the B rows of the step. */
static void blas_forward(void *vp)
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
 * g(t) += Wyᵀ δ(t+1) (eq. 7, not at t = T where δ(T+1) = 0), ∂L/∂W +=
 * δ(t) s(t-1)ᵀ (eq. 12), ∂L/∂x(t-1) += Wxᵀ δ(t).  At B = 1 a transposed
 * GEMV, a GER and a transposed GEMV; at B > 1 the same three as GEMMs. */
static void gemv_ger_backward(void *vp)
{
    problem *p = vp;
    const int n = (int)p->dout, m = (int)p->m, din = (int)p->din,
              B = (int)p->B;
    const R *W = p->W, *Wy = p->W + p->din;
    for (size_t t = p->T; t >= 1; t--) {
        const size_t k = (t - 1) * p->B;
        R *delta = p->Delta + k * p->dout;
        const R *s = p->S + k * p->m;
        R *dx = p->dx + k * p->din;
        if (B == 1) {
            if (t < p->T)
                CBLAS(gemv)(CblasRowMajor, CblasTrans, n, n, 1, Wy, m,
                            delta + n, 1, 1, delta, 1);
            CBLAS(ger)(CblasRowMajor, n, m, 1, delta, 1, s, 1, p->dW, m);
            CBLAS(gemv)(CblasRowMajor, CblasTrans, n, din, 1, W, m, delta, 1,
                        1, dx, 1);
        } else {
            if (t < p->T)
                CBLAS(gemm)(CblasRowMajor, CblasNoTrans, CblasNoTrans, B, n, n,
                            1, delta + B * n, n, Wy, m, 1, delta, n);
            CBLAS(gemm)(CblasRowMajor, CblasTrans, CblasNoTrans, n, m, B, 1,
                        delta, n, s, m, 1, p->dW, m);
            CBLAS(gemm)(CblasRowMajor, CblasNoTrans, CblasNoTrans, B, din, n,
                        1, delta, n, W, m, 1, dx, din);
        }
    }
}

/* deferred backward (BPTT_ALGO_DEFERRED, DESIGN.md §1 "Deferring the
 * weight gradient"): the sequential part alone — g(t) += Wyᵀ δ(t+1) for
 * t = T-1..1 (δ(T+1) = 0), a GEMV per step, a GEMM at B > 1 — then, over
 * all T·B rows at once, ∂L/∂W = Δᵀ S (eq. 12) and ∂L/∂x = Δ·Wx, one GEMM
 * each. */
static void deferred_backward(void *vp)
{
    problem *p = vp;
    const int n = (int)p->dout, m = (int)p->m, din = (int)p->din,
              B = (int)p->B, TB = (int)(p->T * p->B);
    const R *W = p->W, *Wy = p->W + p->din;
    for (size_t t = p->T - 1; t >= 1; t--) {
        R *delta = p->Delta + (t - 1) * p->B * p->dout;
        if (B == 1)
            CBLAS(gemv)(CblasRowMajor, CblasTrans, n, n, 1, Wy, m, delta + n,
                        1, 1, delta, 1);
        else
            CBLAS(gemm)(CblasRowMajor, CblasNoTrans, CblasNoTrans, B, n, n, 1,
                        delta + B * n, n, Wy, m, 1, delta, n);
    }
    CBLAS(gemm)(CblasRowMajor, CblasTrans, CblasNoTrans, n, m, TB, 1,
                p->Delta, n, p->S, m, 0, p->dW, m);
    CBLAS(gemm)(CblasRowMajor, CblasNoTrans, CblasNoTrans, TB, din, n, 1,
                p->Delta, n, W, m, 0, p->dx, din);
}

static const struct {
    const char *algo;
    bench_pass pass;
    bench_floor_fn fn;
} floors[] = {
    {"gemv-ger", BENCH_FORWARD, blas_forward},
    {"gemv-ger", BENCH_BACKWARD, gemv_ger_backward},
    /* bptt_forward: every algorithm but naive runs the BLAS form. */
    {"deferred", BENCH_FORWARD, blas_forward},
    {"deferred", BENCH_BACKWARD, deferred_backward},
};

bench_floor_fn BX(floor_of)(const char *algo_name, bench_pass pass)
{
    for (size_t i = 0; i < sizeof floors / sizeof floors[0]; i++)
        if (floors[i].pass == pass && strcmp(floors[i].algo, algo_name) == 0)
            return floors[i].fn;
    return NULL;
}
