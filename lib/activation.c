/*
 * activation.c — per-unit activations f_i and their derivatives f_i'
 * (eq. (4)), applied run by run: the kind is decided once per run of equal
 * activations and the inner loop is branch-free over the run.
 */
#include <math.h>

#include "kernels.h"

#ifdef BPTT_SINGLE
#define TANH tanhf
#define EXP expf
#define LOG1P log1pf
#define FABS fabsf
#else
#define TANH tanh
#define EXP exp
#define LOG1P log1p
#define FABS fabs
#endif

/* Logistic without overflow: for z < 0 use e^z/(1+e^z). */
static inline R logistic(R z)
{
    if (z >= 0)
        return 1 / (1 + EXP(-z));
    R e = EXP(z);
    return e / (1 + e);
}

/* Softplus log(1+e^z) = max(z,0) + log1p(e^-|z|), exact and overflow-free. */
static inline R softplus(R z)
{
    return (z > 0 ? z : 0) + LOG1P(EXP(-FABS(z)));
}

/* One run of n units of one row: z[i] -> y[i] = f(z[i]), z[i] = f'(z[i]). */
static void run_apply(const bptt_net *net, bptt_activation act, size_t n,
                      R *restrict z, R *restrict y)
{
    switch (act) {
    case BPTT_ACT_IDENTITY:
        for (size_t i = 0; i < n; i++) {
            y[i] = z[i];
            z[i] = 1;
        }
        break;
    case BPTT_ACT_TANH:
        /* f' from f: 1 - tanh² (no second transcendental call). */
        for (size_t i = 0; i < n; i++) {
            R f = TANH(z[i]);
            y[i] = f;
            z[i] = 1 - f * f;
        }
        break;
    case BPTT_ACT_LOGISTIC:
        for (size_t i = 0; i < n; i++) {
            R f = logistic(z[i]);
            y[i] = f;
            z[i] = f * (1 - f);
        }
        break;
    case BPTT_ACT_RELU:
        /* f'(0) = 0: the subgradient the tests and finite differences use.
         * y = v unless v < 0, so that a NaN z (Inf − Inf from huge weights)
         * stays NaN in y, where the non-finite check can see it. */
        for (size_t i = 0; i < n; i++) {
            R v = z[i];
            y[i] = v < 0 ? 0 : v;
            z[i] = v > 0 ? 1 : 0;
        }
        break;
    case BPTT_ACT_SOFTPLUS:
        for (size_t i = 0; i < n; i++) {
            R v = z[i];
            y[i] = softplus(v);
            z[i] = logistic(v);
        }
        break;
    case BPTT_ACT_CUSTOM:
        for (size_t i = 0; i < n; i++) {
            double v = (double)z[i];
            y[i] = (R)net->custom.f(v, net->custom.user);
            z[i] = (R)net->custom.df(v, net->custom.user);
        }
        break;
    case BPTT_NACTIVATION:
        break; /* excluded by bptt_net_create */
    }
}

void XI(activate)(const bptt_net *net, size_t B, R *zd, R *y, size_t ldy)
{
    for (size_t b = 0; b < B; b++) {
        R *zrow = zd + b * net->dout;
        R *yrow = y + b * ldy;
        for (size_t r = 0; r < net->nruns; r++) {
            const bptt_run *run = &net->runs[r];
            run_apply(net, run->act, run->len, zrow + run->start,
                      yrow + run->start);
        }
    }
}

void XI(scale)(size_t rows, size_t cols, R beta, R *A, size_t lda)
{
    if (beta == 1)
        return;
    for (size_t i = 0; i < rows; i++) {
        R *a = A + i * lda;
        if (beta == 0) {
            for (size_t j = 0; j < cols; j++)
                a[j] = 0;
        } else {
            for (size_t j = 0; j < cols; j++)
                a[j] *= beta;
        }
    }
}
