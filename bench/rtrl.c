/*
 * rtrl.c — RTRL (forward mode, eqs. (9)-(11)) on a case's arrays through
 * the public API, as a user would run it beside BPTT: the whole sequence
 * with targets (bptt_rtrl_sequence) and one step of a stream
 * (bptt_rtrl_step).  The targets ŷ = y − ∂L/∂y (problem.c) make RTRL's
 * squared-error gradient the ∂L/∂W of the harness's ∂L/∂y, so the driver
 * checks it against naive BPTT's like any other algorithm.  Compiled once
 * per precision.
 */
#include "problem.h"

typedef struct BX(problem) problem;

bptt_status BX(rtrl_prepare)(void *vp)
{
    problem *p = vp;
    if (p->rtrl)
        return BPTT_OK;
    return P(rtrl_alloc)(p->net, p->B, &p->rtrl);
}

bptt_status BX(rtrl_run)(void *vp, bptt_rtrl_algo algo, bench_pass pass)
{
    problem *p = vp;
    const size_t din = p->din, dout = p->dout, m = p->m, B = p->B;
    double loss;
    if (pass == BENCH_SEQUENCE) {
        /* reset, T steps, the steps' gradients summed (eq. (12)); the
         * stream of BENCH_STEP continues from step T */
        const bptt_status st = P(rtrl_sequence)(
            p->net, p->T, B, p->W, m, NULL, p->x, din, NULL, 0, p->target,
            dout, NULL, p->y, dout, &loss, 0, p->dW, m, NULL, algo, p->rtrl);
        p->step = st == BPTT_OK ? p->T : 0;
        return st;
    }
    if (pass != BENCH_STEP)
        return BPTT_EINVAL;
    /* One more step of the stream (eq. (10)), the inputs of the
     * sequence's steps in turn; the gradient accumulates (beta = 1) as in
     * a stream.  Without a sequence before, the stream starts here. */
    if (p->step == 0) {
        const bptt_status st = P(rtrl_reset)(p->net, B, NULL, 0, p->rtrl);
        if (st != BPTT_OK)
            return st;
    }
    const size_t k = (p->step++ % p->T) * B;
    return P(rtrl_step)(p->net, B, p->W, m, NULL, p->x + k * din, din,
                        p->target + k * dout, dout, NULL, p->y + k * dout,
                        dout, &loss, 1, p->dW, m, NULL, algo, p->rtrl);
}

size_t BX(rtrl_bytes)(const bptt_net *net, size_t B)
{
    size_t bytes = 0;
    return P(rtrl_size)(net, B, &bytes) == BPTT_OK ? bytes : 0;
}
