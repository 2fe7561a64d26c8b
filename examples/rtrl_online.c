/* rtrl_online.c — learn from an endless stream, online, by RTRL.
 *
 * A random "teacher" net of the same shape turns a stream of random inputs
 * into targets; a student starting from other random weights learns them
 * as Williams and Zipser do: after every step, the step's gradient from
 * an RTRL plan's step (beta = 0) goes straight into an SGD step (eq. 13).  No
 * sequence is stored: memory is the RTRL state, whatever the length of
 * the stream.  Prints the mean loss per step over windows of the stream.
 * Build:  cc rtrl_online.c $(pkg-config --cflags --libs bptt) -o rtrl_online */
#include <bptt.h>
#include <stdio.h>
#include <stdlib.h>

enum { DIN = 2, DOUT = 6, M = DIN + DOUT, STEPS = 30000, WINDOW = 3000 };

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
    bptt_net *net;
    bptt_rtrl_plan *student;
    bptt_plan *teacher; /* the teacher runs one step at a time */
    TRY(bptt_net_create_uniform(DIN, DOUT, BPTT_ACT_TANH, NULL, &net));
    TRY(bptt_rtrl_plan_create(net, 1, NULL, BPTT_RTRL_AUTO, &student));
    TRY(bptt_plan_create(net, 1, 1, NULL, BPTT_ALGO_AUTO, &teacher));
    size_t bytes;
    TRY(bptt_rtrl_size(net, 1, &bytes));
    printf("RTRL state: %zu bytes, for a stream of any length\n", bytes);

    static double Wt[DOUT * M], W[DOUT * M], dW[DOUT * M], b[DOUT], db[DOUT];
    double x[DIN], yt[2][DOUT] = {{0}}, y[DOUT];
    unsigned long long seed = 7;
    for (int i = 0; i < DOUT * M; i++) {
        Wt[i] = 0.9 * uniform(&seed); /* teacher */
        W[i] = 0.1 * uniform(&seed);  /* student */
    }
    const bptt_params pt = {Wt, NULL}, ps = {W, b};
    const bptt_grads g = {dW, db, NULL, NULL};
    TRY(bptt_rtrl_plan_reset(student, 1, NULL)); /* y(0) = 0, P = 0 */

    double sum = 0;
    for (int t = 0; t < STEPS; t++) {
        for (int j = 0; j < DIN; j++)
            x[j] = uniform(&seed);
        /* the teacher's next output is the target: y0 = its last state */
        const double *prev = yt[t % 2];
        double *target = yt[(t + 1) % 2];
        TRY(bptt_plan_forward(teacher, 1, 1, &pt, x, prev, target));
        double loss;
        const bptt_targets tg = {target, NULL};
        TRY(bptt_rtrl_plan_step(student, &ps, x, &tg, y, &loss, 0.0, &g));
        /* online: update at once; the next step's gradient is then the
         * usual RTRL approximation (exact only for fixed W) */
        TRY(bptt_sgd_step(DOUT, M, 0.01, dW, M, W, M));
        TRY(bptt_sgd_step(1, DOUT, 0.01, db, DOUT, b, DOUT));
        sum += loss;
        if ((t + 1) % WINDOW == 0) {
            printf("steps %5d-%5d  mean loss per step %.6f\n", t + 1 - WINDOW,
                   t, sum / WINDOW);
            sum = 0;
        }
    }
    bptt_plan_destroy(teacher);
    bptt_rtrl_plan_destroy(student);
    bptt_net_free(net);
    return 0;
}
