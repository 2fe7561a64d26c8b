/*
 * overlap_cost.c — the argument checks issue 15 added, timed alone at the
 * shape where they weigh most (T = 1, B = 1, din = dout = 32): the overlap
 * test of bptt_forward's arrays (1 output, 4 inputs) and of bptt_backward's
 * (4 outputs and the 2 error-flow arrays, 2 inputs), with arrays apart (the
 * normal case) and with dW aliasing W; and the busy flag's enter and
 * leave.  Built from lib/check.c and lib/status.c themselves (the checks
 * are hidden in the shared library); the minimum over many batches, in
 * nanoseconds per call.  bench/check-cost times whole calls.
 *
 *     build/bench/overlap-cost [batches [calls per batch]]
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "internal.h"

enum { N = 32, M = 2 * N };

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

#define REG(nm, p, r, c, ld) {nm, p, r, c, ld, sizeof(double)}

static double W[N * M], b[N], x[N], y0[N], y[N], dy[N], dW[N * M], db[N],
    dx[N], dy0[N];

int main(int argc, char **argv)
{
    const int batches = argc > 1 ? atoi(argv[1]) : 400;
    const int calls = argc > 2 ? atoi(argv[2]) : 20000;
    const bptt__region fout[] = {REG("y", y, 1, N, N)};
    const bptt__region fin[] = {REG("W", W, N, M, M), REG("b", b, 1, N, N),
                                REG("x", x, 1, N, N), REG("y0", y0, 1, N, N)};
    bptt__region bout[] = {REG("dW", dW, N, M, M),  REG("db", db, 1, N, N),
                           REG("dx", dx, 1, N, N),  REG("dy0", dy0, 1, N, N),
                           REG("gnorm", NULL, 1, 1, 1),
                           REG("dnorm", NULL, 1, 1, 1)};
    const bptt__region bin[] = {REG("W", W, N, M, M), REG("dy", dy, 1, N, N)};
    bptt__busy busy;
    atomic_init(&busy, 0);
    double best[4] = {1e300, 1e300, 1e300, 1e300};
    for (int r = 0; r < batches; r++) {
        double t[5];
        int bad = 0;
        t[0] = now();
        for (int c = 0; c < calls; c++)
            bad += bptt__check_overlap("f", fout, 1, fin, 4) != BPTT_OK;
        t[1] = now();
        bout[0].p = dW;
        for (int c = 0; c < calls; c++)
            bad += bptt__check_overlap("b", bout, 6, bin, 2) != BPTT_OK;
        t[2] = now();
        bout[0].p = W; /* dW == W: refused, detail written */
        for (int c = 0; c < calls; c++)
            bad += bptt__check_overlap("b", bout, 6, bin, 2) == BPTT_OK;
        t[3] = now();
        for (int c = 0; c < calls; c++) {
            bad += bptt__enter("e", "ws", &busy) != BPTT_OK;
            bptt__leave(&busy);
        }
        t[4] = now();
        if (bad)
            return 1;
        for (int k = 0; k < 4; k++)
            if ((t[k + 1] - t[k]) / calls < best[k])
                best[k] = (t[k + 1] - t[k]) / calls;
    }
    printf("overlap check, forward's 5 arrays:          %6.2f ns\n", best[0]);
    printf("overlap check, backward's 8 arrays:         %6.2f ns\n", best[1]);
    printf("overlap check, backward, dW == W (refused): %6.2f ns\n", best[2]);
    printf("busy flag, enter + leave:                   %6.2f ns\n", best[3]);
    printf("(min of %d x %d calls, T = 1, B = 1, din = dout = %d)\n", batches,
           calls, N);
    return 0;
}
