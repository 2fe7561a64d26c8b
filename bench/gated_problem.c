/*
 * gated_problem.c — one gated cell's case (bptt/gated.h, LSTM or GRU) in
 * one precision, through the public API as a user calls it: the arrays,
 * the passes, the naive reference over the first Tc steps and the check
 * against it, and the backward's and forward's BLAS floors.  Compiled once
 * per precision (breal.h).
 *
 * W and U are kept side by side as one (G·n) x (din+n) matrix [W | U]
 * (ldw = ldu = din+n), the layout the peers take (bench/peers/protocol.h),
 * and so are dW and dU.
 */
#include "env.h"
#include "problem.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

typedef struct BX(gated) {
    bptt_cell cell;
    size_t din, n, G, m, T, B, Tc;
    R *W;                    /* (G·n) x m: [W | U] */
    R *b;                    /* 2 x G·n: bx, bh */
    R *x, *dy;               /* TB x din inputs, TB x n dL/dh(t) */
    R *h, *dW, *dx, *db;     /* outputs: TB x n, (G·n) x m, TB x din, 2Gn */
    R *ref_h, *ref_dW, *ref_dx; /* naive over the first Tc steps */
    R *D, *H, *Gs, *Z;       /* floors: TB x Gn deltas, TB x n h, B x n
                                carried gradient, TB x Gn gate sums */
    GWS *ws;
} gated;

static double uniform(unsigned long long *s) /* deterministic, in [-1, 1) */
{
    *s = *s * 6364136223846793005ULL + 1442695040888963407ULL;
    return (double)(*s >> 11) / 9007199254740992.0 * 2 - 1;
}

enum { NARRAYS = 15 };

/* Every array of g with its element count, for allocation and release. */
static void arrays(gated *g, R **a[NARRAYS], size_t k[NARRAYS])
{
    const size_t TB = g->T * g->B, Gn = g->G * g->n;
    R **all[NARRAYS] = {&g->W,  &g->b,     &g->x,      &g->dy,     &g->h,
                        &g->dW, &g->dx,    &g->db,     &g->ref_h,  &g->ref_dW,
                        &g->ref_dx, &g->D, &g->H,      &g->Gs,     &g->Z};
    const size_t cnt[NARRAYS] = {
        Gn * g->m, 2 * Gn,      TB * g->din, TB * g->n,  TB * g->n,
        Gn * g->m, TB * g->din, 2 * Gn,      g->Tc * g->B * g->n, Gn * g->m,
        g->Tc * g->B * g->din,  TB * Gn,     TB * g->n,  g->B * g->n,
        TB * Gn};
    memcpy(a, all, sizeof all);
    memcpy(k, cnt, sizeof cnt);
}

void BX(gated_free)(void *vg)
{
    gated *g = vg;
    if (!g)
        return;
    R **a[NARRAYS];
    size_t k[NARRAYS];
    arrays(g, a, k);
    for (int i = 0; i < NARRAYS; i++)
        free(*a[i]);
    P(gated_workspace_free)(g->ws);
    free(g);
}

void *BX(gated_new)(bptt_cell cell, size_t din, size_t n, size_t T, size_t B,
                    size_t Tc, unsigned long long seed)
{
    gated *g = calloc(1, sizeof *g);
    const size_t G = bptt_gated_gates(cell);
    if (!g || !G || !din || !n || !T || !B || !Tc || Tc > T
        || n > SIZE_MAX / 4 / (n + din) || T > SIZE_MAX / B) {
        free(g);
        return NULL;
    }
    *g = (gated){.cell = cell, .din = din, .n = n, .G = G, .m = din + n,
                 .T = T, .B = B, .Tc = Tc};
    R **a[NARRAYS];
    size_t k[NARRAYS];
    arrays(g, a, k);
    for (int i = 0; i < NARRAYS; i++)
        if (k[i] > SIZE_MAX / sizeof(R)
            || !(*a[i] = calloc(k[i] ? k[i] : 1, sizeof(R)))) {
            BX(gated_free)(g);
            return NULL;
        }
    /* bptt's threads are the harness's (--threads), as Network A's */
    if (P(gated_workspace_alloc)(cell, din, n, T, B, &g->ws) != BPTT_OK
        || P(gated_workspace_set_threads)(g->ws, bench_threads()) != BPTT_OK) {
        BX(gated_free)(g);
        return NULL;
    }
    /* As the tests' cells: weights ±1/√n, biases ±0.1, x and dL/dh ±1. */
    const double ws = 1 / sqrt((double)n);
    const size_t TB = T * B, Gn = G * n;
    for (size_t i = 0; i < Gn * g->m; i++)
        g->W[i] = (R)(ws * uniform(&seed));
    for (size_t i = 0; i < 2 * Gn; i++)
        g->b[i] = (R)(0.1 * uniform(&seed));
    for (size_t i = 0; i < TB * din; i++)
        g->x[i] = (R)uniform(&seed);
    for (size_t i = 0; i < TB * n; i++)
        g->dy[i] = (R)uniform(&seed);
    return g;
}

bptt_status BX(gated_run)(void *vg, bptt_algo algo, bench_pass pass,
                          int check)
{
    gated *g = vg;
    const size_t T = check ? g->Tc : g->T, din = g->din, n = g->n, m = g->m,
                 Gn = g->G * n;
    bptt_status st = BPTT_OK;
    if (pass == BENCH_FORWARD || pass == BENCH_FORWARD_BACKWARD)
        st = P(gated_forward)(T, g->B, g->W, m, g->W + din, m, g->b,
                              g->b + Gn, g->x, din, NULL, 0, NULL, 0, g->h, n,
                              NULL, 0, algo, g->ws);
    /* every gradient the peers compute: weights, biases, inputs */
    if (st == BPTT_OK
        && (pass == BENCH_BACKWARD || pass == BENCH_FORWARD_BACKWARD))
        st = P(gated_backward)(T, g->B, g->W, m, g->W + din, m, g->dy, n,
                               NULL, 0, 0, g->dW, m, g->dW + din, m, g->db,
                               g->db + Gn, g->dx, din, NULL, 0, NULL, 0, algo,
                               g->ws);
    return st;
}

void BX(gated_keep_reference)(void *vg)
{
    gated *g = vg;
    memcpy(g->ref_h, g->h, g->Tc * g->B * g->n * sizeof(R));
    memcpy(g->ref_dW, g->dW, g->G * g->n * g->m * sizeof(R));
    memcpy(g->ref_dx, g->dx, g->Tc * g->B * g->din * sizeof(R));
}

/* Normwise relative difference max|a − r| / max|r| of k elements; +Inf
 * on a NaN. */
static double relerr(const R *a, const R *r, size_t k)
{
    double d = 0, mx = 0;
    for (size_t i = 0; i < k; i++) {
        if (isnan(a[i]) || isnan(r[i]))
            return INFINITY;
        d = fmax(d, fabs((double)a[i] - (double)r[i]));
        mx = fmax(mx, fabs((double)r[i]));
    }
    return mx > 0 ? d / mx : d;
}

double BX(gated_check)(const void *vg, unsigned what, const char **worst)
{
    const gated *g = vg;
    const size_t TcB = g->Tc * g->B;
    const struct {
        unsigned flag;
        const char *name;
        const R *a, *r;
        size_t k;
    } arr[3] = {
        {BENCH_CHECK_Y, "h", g->h, g->ref_h, TcB * g->n},
        {BENCH_CHECK_DW, "dL/dW", g->dW, g->ref_dW, g->G * g->n * g->m},
        {BENCH_CHECK_DX, "dL/dx", g->dx, g->ref_dx, TcB * g->din},
    };
    double e = 0;
    for (int i = 0; i < 3; i++) {
        if (!(what & arr[i].flag))
            continue;
        const double ei = relerr(arr[i].a, arr[i].r, arr[i].k);
        if (!(ei <= e)) {
            e = ei;
            *worst = arr[i].name;
        }
    }
    return e;
}

void BX(gated_corrupt)(void *vg)
{
    gated *g = vg;
    g->dW[0] += (R)(1 + 2 * fabs((double)g->dW[0]));
}

void BX(gated_io)(void *vg, bench_io *io)
{
    gated *g = vg;
    *io = (bench_io){g->W, g->x, g->dy, g->h, g->dW, g->dx, g->b};
}

size_t BX(gated_workspace_bytes)(const void *vg)
{
    const gated *g = vg;
    size_t bytes = 0;
    return P(gated_workspace_size)(g->cell, g->din, g->n, g->T, g->B, &bytes)
                   == BPTT_OK ? bytes : 0;
}

/* The deferred forward's products as bare CBLAS calls: every gate's input
 * projection for all T·B rows as one GEMM, then T sequential (B x n)·(n x
 * G·n) recurrent products (the gate non-linearities are not in it). */
void BX(gated_floor_forward)(void *vg)
{
    gated *g = vg;
    const int n = (int)g->n, din = (int)g->din, m = (int)g->m,
              Gn = (int)(g->G * g->n), B = (int)g->B, TB = (int)(g->T * g->B);
    CBLAS(gemm)(CblasRowMajor, CblasNoTrans, CblasTrans, TB, Gn, din, 1, g->x,
                din, g->W, m, 0, g->Z, Gn);
    for (size_t t = 0; t < g->T; t++)
        CBLAS(gemm)(CblasRowMajor, CblasNoTrans, CblasTrans, B, Gn, n, 1,
                    g->H + t * (size_t)B * n, n, g->W + din, m, 1,
                    g->Z + t * (size_t)B * Gn, Gn);
}

/* The deferred backward's products as bare CBLAS calls: T sequential
 * (B x G·n)·(G·n x n) products for the recurrence, then dW = Dᵀ X,
 * dU = Dᵀ H and dx = D W as one GEMM each (values do not matter to the
 * time). */
void BX(gated_floor_backward)(void *vg)
{
    gated *g = vg;
    const int n = (int)g->n, din = (int)g->din, m = (int)g->m,
              Gn = (int)(g->G * g->n), B = (int)g->B, TB = (int)(g->T * g->B);
    for (size_t t = 0; t < g->T; t++)
        CBLAS(gemm)(CblasRowMajor, CblasNoTrans, CblasNoTrans, B, n, Gn, 1,
                    g->D + t * (size_t)B * Gn, Gn, g->W + din, m, 1, g->Gs, n);
    CBLAS(gemm)(CblasRowMajor, CblasTrans, CblasNoTrans, Gn, din, TB, 1, g->D,
                Gn, g->x, din, 0, g->dW, m);
    CBLAS(gemm)(CblasRowMajor, CblasTrans, CblasNoTrans, Gn, n, TB, 1, g->D,
                Gn, g->H, n, 0, g->dW + din, m);
    CBLAS(gemm)(CblasRowMajor, CblasNoTrans, CblasNoTrans, TB, din, Gn, 1,
                g->D, Gn, g->W, m, 0, g->dx, din);
}
