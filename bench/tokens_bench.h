/*
 * tokens_bench.h — bptt-bench-tokens' case (Network B on token ids, a
 * char-rnn step: vocabulary in, softmax over the vocabulary out) and the
 * runner of each precision (tokens_run.c).
 */
#ifndef BENCH_TOKENS_H
#define BENCH_TOKENS_H

#include <stddef.h>

typedef struct tok_case {
    size_t vocab, hidden, T, B;
} tok_case;

/* Make a case's network, weights, ids and workspace, run both paths once
 * and put the normwise relative difference of their dW, dWo and loss
 * (max |a − b| / max |b|, the largest of the three) in *diff.  0, or -1 if
 * a call failed. */
int bench_d_tokens_setup(const tok_case *c, void **state, double *diff);
int bench_f_tokens_setup(const tok_case *c, void **state, double *diff);

/* Time iters forward + backward passes of one path: 0 the one-hot path
 * (bptt_tokens_onehot, bptt_elman_forward, bptt_elman_backward without
 * dx), 1 the token path (bptt_elman_forward_tokens,
 * bptt_elman_backward_tokens); ms[0] the wall time, ms[1] the thread's CPU
 * time, in milliseconds.  0, or -1 if a call failed. */
int bench_d_tokens_time(void *state, int path, int iters, double ms[2]);
int bench_f_tokens_time(void *state, int path, int iters, double ms[2]);

void bench_d_tokens_free(void *state);
void bench_f_tokens_free(void *state);

#endif
