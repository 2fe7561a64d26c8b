/*
 * bptt/network.h — Network A of docs/derivation.md (eqs. (1)-(13)):
 * workspace, forward, squared-error loss, backward (BPTT) and SGD.
 * Include <bptt.h> rather than this file.
 *
 * Every function exists in double precision as bptt_<name> and in single
 * precision as bpttf_<name>, with float in place of double and
 * bpttf_workspace in place of bptt_workspace; both are built from one
 * source.  The documentation below is written once, for double.
 *
 * Shapes, for T steps of B sequences (time-major, row t*B + b):
 *
 *   W    dout x (din+dout), leading dimension ldw >= din+dout; columns
 *        0..din-1 act on x(t) (Wx), columns din..din+dout-1 on y(t) (Wy).
 *   b    dout, the bias; NULL means no bias (b = 0).
 *   x    (T*B) x din, ldx >= din: row t*B+b is x(t) of sequence b, t=0..T-1.
 *   y0   B x dout, ldy0 >= dout: the initial state y(0); NULL means 0 as in
 *        docs/derivation.md §1.
 *   y    (T*B) x dout, ldy >= dout: row t*B+b is y(t+1), t=0..T-1.  Its last
 *        B rows are the final state y(T), to pass as y0 of the next chunk.
 *   dy   (T*B) x dout, lddy >= dout: row t*B+b is dL/dy(t+1), from any loss.
 *   dW, db, dx, dy0: shaped as W, b, x, y0; gradients of L.
 *
 * Arrays must not overlap unless stated: a call whose output shares an
 * element with an input or another output is refused with BPTT_EOVERLAP,
 * the detail naming both (e.g. "bptt_backward: dW overlaps W"), nothing
 * written.  The test is O(1) per pair of arrays, from their address
 * ranges; two arrays with the same leading dimension (or a single row
 * within the other's row pitch) are compared exactly, so column blocks of
 * one buffer may sit side by side; arrays with different leading
 * dimensions whose ranges interleave are refused even if no element is
 * shared.  A workspace is used by one call at a time: a second call on it
 * while one runs (another thread, or a custom activation calling back)
 * gets BPTT_EBUSY at once, nothing written (docs/misuse.md).  Sizes and
 * leading dimensions are counted in elements.
 */
#ifndef BPTT_NETWORK_H
#define BPTT_NETWORK_H

#include <stdint.h>

#include "bptt/common.h"
#include "bptt/hook.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Opaque workspaces, one type per precision so that they cannot be mixed. */
typedef struct bptt_workspace bptt_workspace;
typedef struct bpttf_workspace bpttf_workspace;

/* ------------------------------------------------------------------------ */
/* Workspace                                                                 */
/* ------------------------------------------------------------------------ */

/* Bytes of a workspace for the network net, at most Tmax steps and Bmax
 * sequences per call.  A pure query; the same size serves forward and
 * backward and every algorithm:
 *
 *   bytes = 256 + up(r·Tmax·Bmax·(din+dout)) + 2·up(r·Tmax·Bmax·dout)
 *               + r·dout·p·ceil(dout/p) + up(r·kc·(p·ceil((din+dout)/p) + dout))
 *
 * where r = sizeof(double) (sizeof(float) for bpttf_), p = 128/r (16 or
 * 32), kc = min(512, max(din, dout, Tmax·Bmax)) and up(n) rounds n up to a
 * multiple of 64.  The arrays hold the stacked inputs s(t) = [x(t); y(t)],
 * the derivatives f'(z(t+1)), the deltas of eq. (5)/(8), the recurrent
 * weights Wy packed for bptt's recurrence kernel (zero-padded to whole
 * panels of 128 bytes) and the blocks bptt's own GEMM packs
 * (bptt_own_gemm).
 *
 * Errors: BPTT_ENULL (net or bytes NULL), BPTT_ESIZE (Tmax or Bmax is 0),
 * BPTT_EOVERFLOW (the count does not fit in size_t). */
BPTT_API bptt_status bptt_workspace_size(const bptt_net *net, size_t Tmax,
                                         size_t Bmax, size_t *bytes);

/* Allocate a workspace of bptt_workspace_size() bytes for net.  The
 * workspace refers to net, which must outlive it; it is used by one thread
 * at a time.  Free it with bptt_workspace_free().
 *
 * Errors: those of bptt_workspace_size, BPTT_ENULL (ws NULL), BPTT_ENOMEM. */
BPTT_API bptt_status bptt_workspace_alloc(const bptt_net *net, size_t Tmax,
                                          size_t Bmax, bptt_workspace **ws);

/* Make a workspace inside the caller's buffer buf of the given bytes (any
 * alignment; at least bptt_workspace_size() bytes).  The caller keeps
 * ownership of buf, which must outlive the workspace and not be used for
 * anything else meanwhile; bptt_workspace_free() then frees nothing.
 *
 * Errors: those of bptt_workspace_size, BPTT_ENULL (buf or ws NULL),
 * BPTT_EBUFFER (bytes too small). */
BPTT_API bptt_status bptt_workspace_init(const bptt_net *net, size_t Tmax,
                                         size_t Bmax, void *buf, size_t bytes,
                                         bptt_workspace **ws);

/* Release a workspace (NULL is a no-op): stop its threads (see
 * bptt_workspace_set_threads) and, if bptt_workspace_alloc made it, free
 * its memory.  A workspace made by bptt_workspace_init in the caller's
 * buffer must be released with this too if it was given threads. */
BPTT_API void bptt_workspace_free(bptt_workspace *ws);

/* Most threads a workspace may run. */
#define BPTT_MAX_THREADS 64

/* Run the time loops of calls made with ws on nthreads threads (1 ..
 * BPTT_MAX_THREADS; a new workspace has 1).  The workspace starts and owns
 * nthreads - 1 threads of its own, which sleep between calls; the thread
 * making a call is the first.  The recurrent weights are split by columns
 * between the threads, so that each keeps its share in its own core's
 * cache for all T steps, with one barrier per step.  Shapes too small to
 * gain run on the calling thread alone.
 *
 * Results are bitwise identical for every thread count.  No process-wide
 * setting changes: the BLAS's own thread count (OpenBLAS's
 * OPENBLAS_NUM_THREADS or openblas_set_num_threads) still governs the
 * whole-sequence GEMMs, which run on the BLAS's threads.  With the error
 * flow recorded (bptt_workspace_record_flow), backward's loop runs on one
 * thread.
 *
 * Errors: BPTT_ENULL (ws NULL), BPTT_EINVAL (nthreads out of range),
 * BPTT_ETHREAD (the system refused a thread) or BPTT_ENOMEM, BPTT_EBUSY (a
 * call is running on ws); on error the workspace keeps its previous
 * threads. */
BPTT_API bptt_status bptt_workspace_set_threads(bptt_workspace *ws,
                                                int nthreads);

/* The thread count of ws (0 for NULL). */
BPTT_API int bptt_workspace_threads(const bptt_workspace *ws);

/* Turn the non-finite check of forward and backward on (on != 0) or off
 * (on = 0, the default of a new workspace) for calls made with ws.
 *
 * With the check on, a call scans, in this order,
 *   bptt_forward:  its inputs W, b, y0, x (x from step 0 up), before it
 *                  writes anything; then its result y (from y(1) up);
 *   bptt_backward: its inputs W, dy (from dL/dy(T) down), before it writes
 *                  anything; then its results dx (from dL/dx(T-1) down),
 *                  dy0, dW, db;
 * and returns BPTT_ENONFINITE at the first NaN or ±Inf, with a detail
 * naming the array, step, sequence and element, e.g. "bptt_forward: x(3) of
 * sequence 1, element 0, is NaN" or "bptt_backward: dW[2][5] is +Inf".  A
 * step is the derivation's time index: x(t) and dL/dx(t) are row block t,
 * y(t+1) and dL/dy(t+1) row block t.
 *
 * What the status means depends on which scan failed:
 *   - an input scan: nothing was written, as for every other error;
 *   - a result scan: the call ran to the end and its outputs HOLD the
 *     non-finite values (overflow inside the computation, e.g. huge
 *     weights); a forward's state is kept in ws as usual, so a backward may
 *     follow it.
 * The built-in activations carry a NaN argument through to y (ReLU too), so
 * a NaN born inside forward reaches the result scan; a custom activation
 * that maps NaN to a finite value hides it.  The scans cost one read of
 * each input and output and no memory.
 *
 * Errors: BPTT_ENULL (ws NULL), BPTT_EBUSY (a call is running on ws). */
BPTT_API bptt_status bptt_workspace_check_finite(bptt_workspace *ws, int on);

/* Install a gradient-ready hook (bptt/hook.h) in ws, or remove it (hook
 * NULL; a new workspace has none).  The workspace keeps the pointer, not a
 * copy: *hook must stay valid, and may be changed between calls, while it
 * is installed.  bptt_backward then calls hook->ready as parts of dW become
 * final, and computes dW in panels of hook->panel_rows rows with the
 * deferred algorithm.  Results are those of a workspace without the hook
 * (bitwise with bptt's own GEMM; see bptt/hook.h).
 *
 * Errors: BPTT_ENULL (ws NULL), BPTT_EINVAL (hook->ready NULL). */
BPTT_API bptt_status bptt_workspace_set_grad_hook(bptt_workspace *ws,
                                                  const bptt_grad_hook *hook);

/* ------------------------------------------------------------------------ */
/* Forward and backward                                                      */
/* ------------------------------------------------------------------------ */

/* Forward pass over T steps of B sequences, from y(0) = y0 (or 0):
 *
 *     z(t+1) = W [x(t); y(t)] + b,   y(t+1) = f(z(t+1)),   t = 0..T-1.
 *
 * Writes y and keeps in ws what bptt_backward needs (the stacked s(t) and
 * f'(z(t+1))), replacing what an earlier forward kept.  algo selects the
 * loop form (BPTT_ALGO_NAIVE), one GEMV/GEMM per step (BPTT_ALGO_GEMV_GER)
 * or the input half for all steps as one GEMM (BPTT_ALGO_DEFERRED).
 *
 * Errors: BPTT_ENULL (net, W, x, y or ws NULL), BPTT_ESIZE (T or B is 0),
 * BPTT_ELD (ldw, ldx, ldy0 or ldy too small), BPTT_ECAPACITY (T > Tmax or
 * B > Bmax of ws), BPTT_EMISMATCH (ws made for another descriptor, or for
 * a freed one whose address net reuses), BPTT_EALGO, BPTT_EOVERLAP (y
 * overlapping W, b, x or y0), BPTT_EBUSY (ws in use by another call),
 * BPTT_ENONFINITE (only with bptt_workspace_check_finite on). */
BPTT_API bptt_status bptt_forward(const bptt_net *net, size_t T, size_t B,
                                  const double *W, size_t ldw, const double *b,
                                  const double *x, size_t ldx,
                                  const double *y0, size_t ldy0,
                                  double *y, size_t ldy,
                                  bptt_algo algo, bptt_workspace *ws);

/* Backward pass (BPTT) for the last forward in ws, given dL/dy(t) for
 * t = 1..T in dy.  With δ(T+1) = 0 and t going down from T to 1:
 *
 *     g(t) = dL/dy(t) + Wyᵀ δ(t+1)                  eq. (3)+(7)
 *     δ(t) = g(t) ⊙ f'(z(t))                         eq. (5)/(8)
 *     dW   = β dW + Σ_t Σ_b δ(t) [x(t-1); y(t-1)]ᵀ   eq. (9)/(11)/(12)
 *     db   = β db + Σ_t Σ_b δ(t)
 *     dx(t-1) = β dx(t-1) + Wxᵀ δ(t),   dy0 = β dy0 + Wyᵀ δ(1)
 *
 * The weight and bias gradients are sums over all steps and all sequences.
 * beta = 0 overwrites (the old contents are not read, NaN included);
 * beta = 1 accumulates; any other finite value scales, as BLAS's beta does.
 * dW, db, dx and dy0 are each optional (NULL: not computed; with dW NULL
 * only the recurrence and the requested input gradients are done, which is
 * how bptt-bench times the data part alone).  W must hold the values the
 * forward used.  T and B must equal the forward's.  Any algorithm may follow
 * a forward of any algorithm.
 *
 * Errors: BPTT_ENULL (net, W, dy or ws NULL), BPTT_ESIZE, BPTT_ELD,
 * BPTT_ECAPACITY, BPTT_EMISMATCH, BPTT_EALGO, BPTT_ENOFORWARD (no forward
 * in ws, or one with another T or B), BPTT_EINVAL (beta NaN or ±Inf),
 * BPTT_EOVERLAP (dW, db, dx, dy0 or the error-flow arrays overlapping each
 * other, W or dy), BPTT_EBUSY, BPTT_ENONFINITE (only with
 * bptt_workspace_check_finite on). */
BPTT_API bptt_status bptt_backward(const bptt_net *net, size_t T, size_t B,
                                   const double *W, size_t ldw,
                                   const double *dy, size_t lddy, double beta,
                                   double *dW, size_t lddw, double *db,
                                   double *dx, size_t lddx,
                                   double *dy0, size_t lddy0,
                                   bptt_algo algo, bptt_workspace *ws);

/* ------------------------------------------------------------------------ */
/* Token inputs                                                              */
/* ------------------------------------------------------------------------ */

/* bptt_forward for inputs that are token ids: din is the vocabulary and
 * x(t) of sequence b is the one-hot vector e_k of k = tokens[t*B + b]
 * (int32, T*B ids, 0 <= k < din, t = 0..T-1), which is never formed.  The
 * input term W_x x(t) = W_x e_k is column k of W_x, so
 *
 *     z(t+1) = W[:, k] + Wy y(t) + b,   y(t+1) = f(z(t+1)),
 *
 * a gather of dout elements per row in place of a (T*B) x din x dout GEMM
 * (docs/derivation.md, "Token inputs").  Arguments as bptt_forward's, with
 * tokens in place of x and ldx; the ids are copied into ws (the caller may
 * reuse tokens at once), and the forward kept there is for
 * bptt_backward_tokens.
 *
 * Results: y equals bptt_forward's on the one-hot x (bptt_tokens_onehot)
 * bitwise with BPTT_ALGO_NAIVE and BPTT_ALGO_DEFERRED (the one-hot product
 * has one non-zero term, so the gather is exact); with BPTT_ALGO_GEMV_GER
 * the per-step sum is split in two and agrees to rounding.
 *
 * Errors: those of bptt_forward, and BPTT_ENULL (tokens NULL), BPTT_EINVAL
 * (an id outside [0, din): the detail names its index, step, sequence and
 * value, e.g. "bptt_forward_tokens: tokens[5] = 90 (step 2, sequence 1) is
 * outside [0, 90)"); every id is checked before anything is written. */
BPTT_API bptt_status bptt_forward_tokens(const bptt_net *net, size_t T,
                                         size_t B, const double *W,
                                         size_t ldw, const double *b,
                                         const int32_t *tokens,
                                         const double *y0, size_t ldy0,
                                         double *y, size_t ldy,
                                         bptt_algo algo, bptt_workspace *ws);

/* bptt_backward for the last forward in ws when it was a token forward
 * (bptt_forward_tokens); the same arguments without dx and lddx, since an
 * id has no gradient.  The x-columns of dW get the scatter-add
 *
 *     dW[:, k] += δ(t)   for every step t and sequence b, k = tokens[(t-1)*B + b],
 *
 * (eq. (12) for x(t-1) = e_k), the y-columns, db and dy0 are computed as
 * by bptt_backward, with the same beta.  Results agree with bptt_backward's
 * after bptt_forward on the one-hot x to rounding (bitwise with
 * BPTT_ALGO_NAIVE, whose sums run in the same order).
 *
 * Errors: those of bptt_backward; BPTT_ENOFORWARD also when the forward in
 * ws took a dense x (and bptt_backward gives it when the forward took ids:
 * each backward needs a forward of its kind). */
BPTT_API bptt_status bptt_backward_tokens(const bptt_net *net, size_t T,
                                          size_t B, const double *W,
                                          size_t ldw, const double *dy,
                                          size_t lddy, double beta,
                                          double *dW, size_t lddw, double *db,
                                          double *dy0, size_t lddy0,
                                          bptt_algo algo, bptt_workspace *ws);

/* ------------------------------------------------------------------------ */
/* Loss and update                                                           */
/* ------------------------------------------------------------------------ */

/* Squared error of eqs. (1)-(2) over T steps of B sequences of width dout:
 *
 *     loss = Σ_{t,b: mask} ½ ‖y(t+1) − ŷ(t+1)‖²,
 *     dy   = y − ŷ where mask is set, 0 elsewhere                eq. (3)
 *
 * y and target are (T*B) x dout with leading dimensions ldy and ldt; mask
 * has T*B bytes (row t*B+b has a target iff mask[t*B+b] != 0) or is NULL
 * (every row has a target).  dy (ldd >= dout) is optional; it may be y
 * itself (dy == y, lddy == ldy: y is replaced by the error), the one
 * overlap allowed.  The loss is accumulated in double in both precisions.
 *
 * Errors: BPTT_ENULL (y, target or loss NULL), BPTT_ESIZE, BPTT_ELD,
 * BPTT_EOVERFLOW, BPTT_EOVERLAP (dy or loss overlapping an input other
 * than y as stated, or each other). */
BPTT_API bptt_status bptt_loss_squared(size_t T, size_t B, size_t dout,
                                       const double *y, size_t ldy,
                                       const double *target, size_t ldt,
                                       const unsigned char *mask,
                                       double *loss, double *dy, size_t lddy);

/* Gradient-descent step of eq. (13) on a rows x cols block:
 *
 *     W ← W − alpha·dW.
 *
 * Use it for W (rows = dout, cols = din+dout) and for b (rows = 1).
 * Errors: BPTT_ENULL, BPTT_ESIZE, BPTT_ELD, BPTT_EINVAL (alpha not finite),
 * BPTT_EOVERLAP (W overlapping dW). */
BPTT_API bptt_status bptt_sgd_step(size_t rows, size_t cols, double alpha,
                                   const double *dW, size_t lddw,
                                   double *W, size_t ldw);

/* ------------------------------------------------------------------------ */
/* Single precision: the same functions with float (documented above).      */
/* ------------------------------------------------------------------------ */

BPTT_API bptt_status bpttf_workspace_size(const bptt_net *net, size_t Tmax,
                                          size_t Bmax, size_t *bytes);
BPTT_API bptt_status bpttf_workspace_alloc(const bptt_net *net, size_t Tmax,
                                           size_t Bmax, bpttf_workspace **ws);
BPTT_API bptt_status bpttf_workspace_init(const bptt_net *net, size_t Tmax,
                                          size_t Bmax, void *buf, size_t bytes,
                                          bpttf_workspace **ws);
BPTT_API void bpttf_workspace_free(bpttf_workspace *ws);
BPTT_API bptt_status bpttf_workspace_set_threads(bpttf_workspace *ws,
                                                 int nthreads);
BPTT_API int bpttf_workspace_threads(const bpttf_workspace *ws);
BPTT_API bptt_status bpttf_workspace_check_finite(bpttf_workspace *ws, int on);
BPTT_API bptt_status bpttf_workspace_set_grad_hook(bpttf_workspace *ws,
                                                   const bptt_grad_hook *hook);
BPTT_API bptt_status bpttf_forward(const bptt_net *net, size_t T, size_t B,
                                   const float *W, size_t ldw, const float *b,
                                   const float *x, size_t ldx,
                                   const float *y0, size_t ldy0,
                                   float *y, size_t ldy,
                                   bptt_algo algo, bpttf_workspace *ws);
BPTT_API bptt_status bpttf_backward(const bptt_net *net, size_t T, size_t B,
                                    const float *W, size_t ldw,
                                    const float *dy, size_t lddy, float beta,
                                    float *dW, size_t lddw, float *db,
                                    float *dx, size_t lddx,
                                    float *dy0, size_t lddy0,
                                    bptt_algo algo, bpttf_workspace *ws);
BPTT_API bptt_status bpttf_forward_tokens(const bptt_net *net, size_t T,
                                          size_t B, const float *W,
                                          size_t ldw, const float *b,
                                          const int32_t *tokens,
                                          const float *y0, size_t ldy0,
                                          float *y, size_t ldy,
                                          bptt_algo algo, bpttf_workspace *ws);
BPTT_API bptt_status bpttf_backward_tokens(const bptt_net *net, size_t T,
                                           size_t B, const float *W,
                                           size_t ldw, const float *dy,
                                           size_t lddy, float beta,
                                           float *dW, size_t lddw, float *db,
                                           float *dy0, size_t lddy0,
                                           bptt_algo algo,
                                           bpttf_workspace *ws);
BPTT_API bptt_status bpttf_loss_squared(size_t T, size_t B, size_t dout,
                                        const float *y, size_t ldy,
                                        const float *target, size_t ldt,
                                        const unsigned char *mask,
                                        double *loss, float *dy, size_t lddy);
BPTT_API bptt_status bpttf_sgd_step(size_t rows, size_t cols, float alpha,
                                    const float *dW, size_t lddw,
                                    float *W, size_t ldw);

#ifdef __cplusplus
}
#endif

#endif /* BPTT_NETWORK_H */
