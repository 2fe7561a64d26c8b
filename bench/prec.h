/*
 * prec.h — what the precision-independent driver sees of one precision:
 * a table of functions over an opaque problem (the arrays of one case),
 * built once for double (bench_prec_double, bptt_*) and once for float
 * (bench_prec_float, bpttf_*) from the same sources (breal.h).
 */
#ifndef BENCH_PREC_H
#define BENCH_PREC_H

#include <bptt.h>
#include <stddef.h>

/* The passes a record can be of.
 *   forward, backward     every algorithm (backward with ∂L/∂W and ∂L/∂x);
 *   backward_data         the recurrence and ∂L/∂x alone (bptt_backward
 *                         with dW = NULL), every algorithm but naive;
 *   backward_weights      ∂L/∂W alone: the public API cannot run it apart,
 *                         so the driver reports backward − backward_data,
 *                         marked derived (never a measured time);
 *   backward_recurrence   the recurrence alone: δ(t) for every step, no
 *                         gradient written (bptt_backward with dW, db, dx
 *                         and dy0 NULL), every algorithm but naive; at
 *                         B = 1 a stream of Wy from cache every step;
 *   forward_backward      forward then backward in one timed region, the
 *                         unit the peers time (bptt's default algorithm
 *                         and the peers only);
 *   sequence, step        RTRL: a whole sequence (forward and the summed
 *                         gradient), and one step of it. */
typedef enum bench_pass {
    BENCH_FORWARD,
    BENCH_BACKWARD,
    BENCH_BACKWARD_DATA,
    BENCH_BACKWARD_WEIGHTS,
    BENCH_BACKWARD_RECURRENCE,
    BENCH_FORWARD_BACKWARD,
    BENCH_SEQUENCE,
    BENCH_STEP,
    BENCH_NPASS
} bench_pass;

/* "forward", "backward", "backward_data", "backward_weights",
 * "backward_recurrence", "forward_backward", "sequence", "step"; NULL past
 * the last. */
const char *bench_pass_name(bench_pass pass);

/* The bare BLAS calls of one pass of one algorithm on a problem's arrays. */
typedef void (*bench_floor_fn)(void *problem);

/* Which outputs a check compares (bit flags). */
enum { BENCH_CHECK_Y = 1, BENCH_CHECK_DW = 2, BENCH_CHECK_DX = 4,
       BENCH_CHECK_ALL = 7 };

/* A problem's arrays as the peers take them: dense (minimal leading
 * dimensions), elements of bench_prec.elem bytes.  The outputs are where
 * check() looks. */
typedef struct bench_io {
    const void *W, *x, *dy;
    void *y, *dW, *dx;
    const void *b;      /* a gated cell's biases, 2 x G·n (bx, bh); NULL */
} bench_io;

typedef struct bench_prec {
    const char *name;   /* "double" or "float" */
    double tol;         /* relative tolerance of the gradient check */

    /* The arrays of one case for the network net (din, dout from it): W,
     * x and ∂L/∂y random (fixed seed), outputs, a workspace for T, B, the
     * naive reference and the floors' operands.  NULL if the sizes do not
     * fit or memory runs out (bptt_error_detail() or errno tells). */
    void *(*problem_new)(const bptt_net *net, size_t T, size_t B,
                         unsigned long long seed);
    void (*problem_free)(void *problem);

    /* One pass of algo through the public API, the arrays of the problem;
     * backward passes use the last forward kept in the workspace. */
    bptt_status (*run)(void *problem, bptt_algo algo, bench_pass pass);
    int (*has_pass)(bptt_algo algo, bench_pass pass);

    /* Keep the outputs of the last forward + backward (y, ∂L/∂W, ∂L/∂x) as
     * the reference (and the targets ŷ = y − ∂L/∂y under which RTRL's
     * squared-error gradient is the same ∂L/∂W); check returns the largest
     * normwise relative difference (max|a − r| / max|r|) of the outputs
     * named in what (BENCH_CHECK_*) from it and names the array in *worst;
     * corrupt perturbs ∂L/∂W well beyond any tolerance (the test hook that
     * proves a wrong gradient is refused). */
    void (*keep_reference)(void *problem);
    double (*check)(const void *problem, unsigned what, const char **worst);
    void (*corrupt)(void *problem);
    void (*io)(void *problem, bench_io *io);

    /* RTRL on the problem (rtrl.c): allocate its state (once; BPTT_OK or
     * the library's status), then run a pass, BENCH_SEQUENCE (reset and T
     * steps with the targets, the gradient into the problem's ∂L/∂W) or
     * BENCH_STEP (one more step of the stream, the gradient accumulated). */
    bptt_status (*rtrl_prepare)(void *problem);
    bptt_status (*rtrl_run)(void *problem, bptt_rtrl_algo algo,
                            bench_pass pass);

    /* Memory of BPTT's workspace for T, B and of RTRL's state for B, by
     * the public size queries; 0 where the query fails. */
    size_t (*workspace_bytes)(const bptt_net *net, size_t T, size_t B);
    size_t (*rtrl_bytes)(const bptt_net *net, size_t B);

    /* The floor of the pass of the algorithm of this name, or NULL if it
     * has none (naive makes no BLAS calls). */
    bench_floor_fn (*floor_of)(const char *algo_name, bench_pass pass);

    /* The GEMM limit, measured: GFLOP/s on n x n x n, the best of the
     * calls made in budget_ms.  (The read limit is precision-independent:
     * bandwidth.h.) */
    double (*gemm_gflops)(size_t n, double budget_ms);
    size_t elem;        /* bytes of one element */

    /* A gated cell's case (gated_problem.c): W = [W | U] ((G·n) x
     * (din+n)), the biases 2 x G·n (bx, bh), x and dL/dh random (fixed
     * seed), the outputs h, [dW | dU], dx and the biases' gradients, a
     * gated workspace for T, B, the naive reference over the first Tc
     * steps and the floors' operands; NULL as problem_new. */
    void *(*gated_new)(bptt_cell cell, size_t din, size_t n, size_t T,
                       size_t B, size_t Tc, unsigned long long seed);
    void (*gated_free)(void *g);
    /* BENCH_FORWARD, BENCH_BACKWARD (every gradient, on the forward kept)
     * or BENCH_FORWARD_BACKWARD with algo, over the first Tc steps if
     * check, else over T. */
    bptt_status (*gated_run)(void *g, bptt_algo algo, bench_pass pass,
                             int check);
    /* As keep_reference, check, corrupt and io, over the first Tc steps. */
    void (*gated_keep_reference)(void *g);
    double (*gated_check)(const void *g, unsigned what, const char **worst);
    void (*gated_corrupt)(void *g);
    void (*gated_io)(void *g, bench_io *io);
    /* The bare BLAS calls of the deferred forward or backward at T. */
    bench_floor_fn gated_floor_forward, gated_floor_backward;
    size_t (*gated_workspace_bytes)(const void *g);
} bench_prec;

extern const bench_prec bench_prec_double, bench_prec_float;

#endif
