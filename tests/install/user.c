/* user.c — a program as a new user writes it from the README: built against
 * the installed library with `cc user.c $(pkg-config --cflags --libs bptt)`.
 * It computes the gradient with the default algorithm and with the naive
 * loop form and exits non-zero unless they agree to 1e-12. */
#include <bptt.h>
#include <math.h>
#include <stdio.h>

enum { DIN = 4, DOUT = 6, M = DIN + DOUT, T = 12 };

int main(void)
{
    bptt_net *net;
    bptt_workspace *ws;
    if (bptt_net_create_uniform(DIN, DOUT, BPTT_ACT_TANH, NULL, &net) ||
        bptt_workspace_alloc(net, T, 1, &ws)) {
        fprintf(stderr, "%s\n", bptt_error_detail());
        return 1;
    }
    double W[DOUT * M], x[T * DIN], y[T * DOUT], target[T * DOUT], dy[T * DOUT];
    double dW[2][DOUT * M], loss;
    for (int i = 0; i < DOUT * M; i++)
        W[i] = 0.3 * sin(1.0 + i);
    for (int i = 0; i < T * DIN; i++)
        x[i] = cos(0.5 * i);
    for (int i = 0; i < T * DOUT; i++)
        target[i] = 0.5 * sin(0.3 * i);
    const bptt_algo algo[2] = {BPTT_ALGO_AUTO, BPTT_ALGO_NAIVE};
    for (int a = 0; a < 2; a++) {
        if (bptt_forward(net, T, 1, W, M, NULL, x, DIN, NULL, 0, y, DOUT,
                         algo[a], ws) ||
            bptt_loss_squared(T, 1, DOUT, y, DOUT, target, DOUT, NULL, &loss,
                              dy, DOUT) ||
            bptt_backward(net, T, 1, W, M, dy, DOUT, 0.0, dW[a], M, NULL, NULL,
                          0, NULL, 0, algo[a], ws)) {
            fprintf(stderr, "%s\n", bptt_error_detail());
            return 1;
        }
    }
    double diff = 0, ref = 0;
    for (int i = 0; i < DOUT * M; i++) {
        diff = fmax(diff, fabs(dW[0][i] - dW[1][i]));
        ref = fmax(ref, fabs(dW[1][i]));
    }
    printf("bptt %s: loss %.6f, |auto - naive| / |naive| = %.3g\n",
           bptt_version(), loss, diff / ref);
    bptt_workspace_free(ws);
    bptt_net_free(net);
    return diff <= 1e-12 * ref ? 0 : 1;
}
