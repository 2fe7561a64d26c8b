/*
 * testutil.h — what every suite shares: a fixed-seed generator, random
 * Network A problems with padded leading dimensions, gradients through the
 * public API, and array comparison with a named tolerance.
 */
#ifndef BPTT_TESTUTIL_H
#define BPTT_TESTUTIL_H

#include <bptt.h>
#include <check.h>
#include <stddef.h>

/* Tolerances, named once so each test states which one it holds to. */
#define TOL_REFERENCE 1e-12   /* two exact algorithms in double */
#define TOL_GRADCHECK 1e-6    /* central differences, step TU_FD_STEP */
#define TOL_FLOAT 1e-4        /* single against double */
#define TOL_RTRL 1e-11        /* RTRL against BPTT: eq. (12), long sums */
#define TU_FD_STEP 1e-5       /* central-difference step, relative to 1 */

typedef struct tu_rng {
    unsigned long long s;
} tu_rng;

/* Uniform in [-1, 1), deterministic for a seed. */
double tu_uniform(tu_rng *r);

/* n doubles uniform in [-scale, scale) (malloc'd). */
double *tu_random(size_t n, double scale, tu_rng *r);

/* The activation pattern of mixed tests: unit i gets
 * {identity, tanh, logistic, relu, softplus, custom(sin)}[i % 6]. */
bptt_net *tu_mixed_net(size_t din, size_t dout);

/* f(z) of the activation act, and f'(z) in *df, written here in plain C
 * apart from the library's activation.c (custom: the mixed net's pair). */
double tu_activation(bptt_activation act, double z, double *df);

/* A random problem: weights, bias, inputs, initial state, targets, a mask,
 * every matrix with a leading dimension `pad` larger than minimal. */
typedef struct tu_problem {
    bptt_net *net;
    size_t din, dout, m, T, B, pad;
    size_t ldw, ldx, ldy, ldy0;
    double *W, *b, *x, *y0, *target;
    unsigned char *mask;
} tu_problem;

/* flags for tu_problem_new */
enum { TU_BIAS = 1, TU_Y0 = 2, TU_MASK = 4 };

tu_problem *tu_problem_new(bptt_net *net, size_t T, size_t B, size_t pad,
                           int flags, unsigned long long seed);
void tu_problem_free(tu_problem *p); /* frees p->net too */

/* The gradients of one forward/loss/backward; the arrays have the
 * problem's padded leading dimensions (ldw, 1, ldx, ldy0). */
typedef struct tu_grads {
    double loss;
    double *y, *dW, *db, *dx, *dy0;
} tu_grads;

/* Forward with the squared-error loss of the problem's targets and mask,
 * then backward, both with algo; returns the status of the first failing
 * call. */
bptt_status tu_gradients(const tu_problem *p, bptt_algo algo, tu_grads *g);
/* The same on a workspace given nthreads threads. */
bptt_status tu_gradients_threads(const tu_problem *p, bptt_algo algo,
                                 int nthreads, tu_grads *g);
void tu_grads_free(tu_grads *g);

/* The same loss, y, dW and db by RTRL (bptt_rtrl_sequence with algo) in a
 * state of capacity Bmax >= p->B; dx and dy0 stay NULL (forward mode has
 * none). */
bptt_status tu_rtrl_gradients(const tu_problem *p, bptt_rtrl_algo algo,
                              size_t Bmax, tu_grads *g);

/* Loss of the problem at its current weights (forward + loss only). */
double tu_loss(const tu_problem *p);

/* Finite differences — the one helper of every gradient check (Network A,
 * Network B, RTRL).  loss(problem) is the loss at the problem's current
 * arrays; the helpers perturb an array in place and restore it bitwise.
 *
 * tu_fd_block: dL/dθ for every θ of the rows x cols block a (leading
 * dimension ld) by central differences (L(θ + h) − L(θ − h)) / 2h, h =
 * TU_FD_STEP·max(1, |θ|), compared with grad (ldg): returns the normwise
 * relative error tu_relerr(grad, differences). */
typedef double (*tu_loss_fn)(const void *problem);
double tu_fd_block(tu_loss_fn loss, const void *problem, double *a,
                   size_t rows, size_t cols, size_t ld, const double *grad,
                   size_t ldg);

/* One block of a direction: the array a (rows x cols, ld), its gradient
 * grad (same ld) and the direction's entries v (same ld). */
typedef struct tu_fd_dir {
    double *a;
    const double *grad, *v;
    size_t rows, cols, ld;
} tu_fd_dir;

/* KANN's check: the derivative of the loss along the direction V (the
 * blocks' v) by one central difference with h = TU_FD_STEP — two extra
 * losses in all — against <grad, V>: returns |fd − <grad, V>| / |<grad, V>|
 * and the two values in *fd and *dot (either may be NULL). */
double tu_fd_direction(tu_loss_fn loss, const void *problem,
                       const tu_fd_dir *blocks, size_t nblocks, double *fd,
                       double *dot);

/* tu_loss as a tu_loss_fn over a tu_problem. */
double tu_loss_fn_problem(const void *problem);

/* n floats converted from a (malloc'd; NULL for a NULL a), and n doubles
 * converted back from f into a. */
float *tu_to_float(const double *a, size_t n);
void tu_from_float(const float *f, size_t n, double *a);

/* Normwise relative difference of two rows x cols blocks:
 * max|a − b| / max|b| (max|a − b| if b is all zero). */
double tu_relerr(size_t rows, size_t cols, const double *a, size_t lda,
                 const double *b, size_t ldb);

/* Run a Check suite, print its report and return main's exit status. */
int tu_run_suite(Suite *s);

/* "Nothing was written" — the one way every suite asserts it.  A
 * snapshot holds copies of the buffers a refused call could touch: add
 * each buffer (NULL is skipped) before the call, assert the refusal with
 * TU_REFUSED, and tu_snap_retake() after a call that was meant to write
 * (the snapshot then holds the new contents).  Up to 16 buffers. */
typedef struct tu_snap {
    int n;
    const void *p[16];
    size_t bytes[16];
    unsigned char *copy[16];
} tu_snap;

void tu_snap_add(tu_snap *s, const void *p, size_t bytes);
void tu_snap_retake(tu_snap *s);
/* The index (in order of adding) of the first buffer that differs from its
 * copy, or -1. */
int tu_snap_changed(const tu_snap *s);
void tu_snap_free(tu_snap *s);

/* Assert that none of the buffers of s changed since they were taken (a
 * call that succeeded left an output it was told not to compute). */
void tu_assert_unwritten(const tu_snap *s, const char *what);

/* Assert that a call was refused: it returned want (not BPTT_OK), left a
 * detail for bptt_error_detail() and wrote none of the buffers of s (s may
 * be NULL: no buffer).  what names the call in a failure. */
void tu_assert_refused(bptt_status got, bptt_status want, const tu_snap *s,
                       const char *what);
#define TU_REFUSED(call, want, snap)                                           \
    tu_assert_refused((call), (want), (snap), #call)

/* The same for one region of `bytes` bytes, snapshotted right before the
 * call (for traps between which the region changes). */
#define TU_REFUSED_REGION(call, want, region, bytes)                           \
    do {                                                                       \
        tu_snap s_ = {0};                                                      \
        tu_snap_add(&s_, (region), (bytes));                                   \
        tu_assert_refused((call), (want), &s_, #call);                         \
        tu_snap_free(&s_);                                                     \
    } while (0)

#endif
