/*
 * check_cost.c — what a call costs where the argument checks are largest
 * relative to the work: T = 1, B = 1, n = din = dout = 32 (issue 15's
 * point), forward and backward on one workspace.  Prints the minimum over
 * many batches of the time per call, in nanoseconds, so that two builds of
 * the library (with and without a check) can be compared by running this
 * one program against each.  Public API only.
 *
 *     build/bench/check-cost [batches [calls per batch]]
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include <bptt.h>

enum { N = 32 };

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

int main(int argc, char **argv)
{
    const int batches = argc > 1 ? atoi(argv[1]) : 400;
    const int calls = argc > 2 ? atoi(argv[2]) : 2000;
    bptt_net *net;
    bptt_workspace *ws;
    if (bptt_net_create_uniform(N, N, BPTT_ACT_TANH, NULL, &net) != BPTT_OK ||
        bptt_workspace_alloc(net, 1, 1, &ws) != BPTT_OK)
        return 1;
    static double W[N * 2 * N], b[N], x[N], y[N], dy[N], dW[N * 2 * N],
        db[N], dx[N], dy0[N];
    for (int i = 0; i < N * 2 * N; i++)
        W[i] = (double)((i * 37) % 101 - 50) / 500;
    for (int i = 0; i < N; i++)
        x[i] = dy[i] = (double)(i % 7 - 3) / 3;
    const bptt_algo algos[2] = {BPTT_ALGO_GEMV_GER, BPTT_ALGO_DEFERRED};
    for (int k = 0; k < 2; k++) {
        double fmin = 1e300, bmin = 1e300;
        for (int r = 0; r < batches; r++) {
            double t0 = now();
            for (int c = 0; c < calls; c++)
                if (bptt_forward(net, 1, 1, W, 2 * N, b, x, N, NULL, 0, y, N,
                                 algos[k], ws) != BPTT_OK)
                    return 2;
            double t1 = now();
            for (int c = 0; c < calls; c++)
                if (bptt_backward(net, 1, 1, W, 2 * N, dy, N, 0, dW, 2 * N, db,
                                  dx, N, dy0, N, algos[k], ws) != BPTT_OK)
                    return 3;
            double t2 = now();
            fmin = (t1 - t0) / calls < fmin ? (t1 - t0) / calls : fmin;
            bmin = (t2 - t1) / calls < bmin ? (t2 - t1) / calls : bmin;
        }
        printf("%-9s T=1 B=1 n=%d  forward %7.1f ns  backward %7.1f ns  "
               "(min of %d x %d calls)\n", bptt_algo_name(algos[k]), N, fmin,
               bmin, batches, calls);
    }
    bptt_workspace_free(ws);
    bptt_net_free(net);
    return 0;
}
