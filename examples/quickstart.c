/* quickstart.c — Network A in a few calls: make a plan, forward, loss,
 * backward, one SGD step; the loss before and after the step.
 * Build:  cc quickstart.c $(pkg-config --cflags --libs bptt) -o quickstart */
#include <bptt.h>
#include <stdio.h>

enum { DIN = 2, DOUT = 4, M = DIN + DOUT, T = 10, B = 1 };

#define TRY(call)                                                             \
    do {                                                                      \
        if ((call) != BPTT_OK) {                                              \
            fprintf(stderr, "%s\n", bptt_error_detail());                     \
            return 1;                                                         \
        }                                                                     \
    } while (0)

int main(void)
{
    double W[DOUT * M], b[DOUT] = {0}, dW[DOUT * M], db[DOUT];
    double x[T * DIN], target[T * DOUT], y[T * DOUT], dy[T * DOUT];
    for (int i = 0; i < DOUT * M; i++)  /* small fixed weights */
        W[i] = 0.1 * ((i * 7) % 11 - 5);
    for (int i = 0; i < T * DIN; i++)   /* an input and a target to fit */
        x[i] = (i % 3) - 1.0;
    for (int i = 0; i < T * DOUT; i++)
        target[i] = 0.5 * ((i % 5) - 2) / 2.0;

    /* The network: DIN inputs, DOUT tanh units.  The plan: up to T steps
     * of B sequences, dense arrays (NULL layout), the library's algorithm. */
    bptt_net *net;
    bptt_plan *plan;
    TRY(bptt_net_create_uniform(DIN, DOUT, BPTT_ACT_TANH, NULL, &net));
    TRY(bptt_plan_create(net, T, B, NULL, BPTT_ALGO_AUTO, &plan));

    const bptt_params prm = {W, b};
    const bptt_targets tg = {target, NULL};
    const bptt_grads g = {dW, db, NULL, NULL}; /* no dx, dy0 wanted */
    double before, after;
    TRY(bptt_plan_forward(plan, T, B, &prm, x, NULL, y));     /* y0 = 0 */
    TRY(bptt_plan_loss(plan, T, B, y, &tg, &before, dy));     /* dy = y - t */
    TRY(bptt_plan_backward(plan, T, B, &prm, dy, 0.0, &g));   /* dW, db */
    TRY(bptt_sgd_step(DOUT, M, 0.1, dW, M, W, M));            /* eq. (13) */
    TRY(bptt_sgd_step(1, DOUT, 0.1, db, DOUT, b, DOUT));

    TRY(bptt_plan_forward(plan, T, B, &prm, x, NULL, y));
    TRY(bptt_plan_loss(plan, T, B, y, &tg, &after, NULL));
    printf("loss before %.6f  after one SGD step %.6f\n", before, after);

    bptt_plan_destroy(plan);
    bptt_net_free(net);
    return 0;
}
