/* train.c — train Network A (teacher-student) and print the loss falling.
 *
 * A random "teacher" net of the same shape produces the targets; a student
 * starting from other random weights learns them by BPTT and SGD (eq. 13),
 * through one plan made for the shape (bptt/plan.h).
 * Build:  cc train.c $(pkg-config --cflags --libs bptt) -o train        */
#include <bptt.h>
#include <stdio.h>
#include <stdlib.h>

enum { DIN = 3, DOUT = 8, M = DIN + DOUT, T = 40, STEPS = 400 };

static double uniform(unsigned long long *s) /* deterministic, in [-1, 1) */
{
    *s = *s * 6364136223846793005ULL + 1442695040888963407ULL;
    return (double)(*s >> 11) / 9007199254740992.0 * 2 - 1;
}

#define TRY(call)                                                             \
    do {                                                                      \
        bptt_status st_ = (call);                                             \
        if (st_ != BPTT_OK) {                                                 \
            fprintf(stderr, "%s\n", bptt_error_detail());                     \
            return 1;                                                         \
        }                                                                     \
    } while (0)

int main(void)
{
    /* Half the units tanh, half logistic: each unit its own f_i. */
    bptt_activation act[DOUT];
    for (int i = 0; i < DOUT; i++)
        act[i] = i < DOUT / 2 ? BPTT_ACT_TANH : BPTT_ACT_LOGISTIC;
    bptt_net *net;
    bptt_plan *plan; /* T steps of one sequence, dense arrays */
    TRY(bptt_net_create(DIN, DOUT, act, NULL, &net));
    TRY(bptt_plan_create(net, T, 1, NULL, BPTT_ALGO_AUTO, &plan));

    static double Wt[DOUT * M], W[DOUT * M], dW[DOUT * M];
    static double x[T * DIN], target[T * DOUT], y[T * DOUT], dy[T * DOUT];
    unsigned long long seed = 42;
    for (int i = 0; i < DOUT * M; i++) {
        Wt[i] = uniform(&seed);       /* teacher */
        W[i] = 0.3 * uniform(&seed);  /* student */
    }
    for (int i = 0; i < T * DIN; i++)
        x[i] = uniform(&seed);
    const bptt_params teacher = {Wt, NULL}, student = {W, NULL};
    const bptt_targets tg = {target, NULL};
    const bptt_grads g = {dW, NULL, NULL, NULL}; /* dL/dW only */
    TRY(bptt_plan_forward(plan, T, 1, &teacher, x, NULL, target));

    for (int step = 0; step <= STEPS; step++) {
        double loss;
        TRY(bptt_plan_forward(plan, T, 1, &student, x, NULL, y));
        TRY(bptt_plan_loss(plan, T, 1, y, &tg, &loss, dy));
        TRY(bptt_plan_backward(plan, T, 1, &student, dy, 0.0, &g));
        TRY(bptt_sgd_step(DOUT, M, 0.02, dW, M, W, M));
        if (step % 50 == 0)
            printf("step %3d  loss %.6f\n", step, loss);
    }
    bptt_plan_destroy(plan);
    bptt_net_free(net);
    return 0;
}
