/*
 * problem.h — the arrays of one benchmark case in one precision, shared by
 * problem.c (the public-API passes and the check) and floors.c (the bare
 * BLAS calls on the same operands).  Compiled once per precision.
 */
#ifndef BENCH_PROBLEM_H
#define BENCH_PROBLEM_H

#include "breal.h"
#include "prec.h"

/* Every matrix has its minimal leading dimension; sequences are
 * time-major (row t*B + b), as the library takes them. */
struct BX(problem) {
    const bptt_net *net;
    size_t din, dout, m, T, B;
    R *W;                    /* dout x m: [Wx | Wy] */
    R *x, *dy;               /* TB x din inputs, TB x dout ∂L/∂y(t+1) */
    R *y, *dW, *dx;          /* outputs of the last forward / backward */
    R *ref_y, *ref_dW, *ref_dx; /* the naive form's outputs */
    R *S, *Delta, *Z;        /* floors: TB x m [x;y], TB x dout δ and z */
    R *target;               /* RTRL: ŷ = naive's y − ∂L/∂y (TB x dout) */
    WS *ws;
    RS *rtrl;                /* RTRL's state, made by rtrl_prepare */
    size_t step;             /* RTRL: steps taken in the timed stream */
};

/* The floor of the pass of the algorithm of this name (floors.c). */
bench_floor_fn BX(floor_of)(const char *algo_name, bench_pass pass);

/* RTRL on the problem (rtrl.c), documented at bench_prec. */
bptt_status BX(rtrl_prepare)(void *problem);
bptt_status BX(rtrl_run)(void *problem, bptt_rtrl_algo algo, bench_pass pass);
size_t BX(rtrl_bytes)(const bptt_net *net, size_t B);

/* A gated cell's case (gated_problem.c), documented at bench_prec. */
void *BX(gated_new)(bptt_cell cell, size_t din, size_t n, size_t T, size_t B,
                    size_t Tc, unsigned long long seed);
void BX(gated_free)(void *g);
bptt_status BX(gated_run)(void *g, bptt_algo algo, bench_pass pass,
                          int check);
void BX(gated_keep_reference)(void *g);
double BX(gated_check)(const void *g, unsigned what, const char **worst);
void BX(gated_corrupt)(void *g);
void BX(gated_io)(void *g, bench_io *io);
void BX(gated_floor_forward)(void *g);
void BX(gated_floor_backward)(void *g);
size_t BX(gated_workspace_bytes)(const void *g);

/* The limits (limits.c), documented at bench_prec. */
double BX(gemm_gflops)(size_t n, double budget_ms);

#endif
