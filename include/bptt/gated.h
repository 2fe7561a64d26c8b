/*
 * bptt/gated.h — the gated cells, LSTM and GRU, on the same matrix-form
 * BPTT as Network A (docs/gated.md, equations (G1)-(G20)).  Include
 * <bptt.h> rather than this file.
 *
 * Every function exists in double precision as bptt_<name> and in single
 * precision as bpttf_<name>, with float in place of double and
 * bpttf_gated_workspace in place of bptt_gated_workspace; both are built
 * from one source.  The documentation below is written once, for double.
 *
 * A cell with din inputs and n units has G gates (G = 4 for BPTT_CELL_LSTM,
 * 3 for BPTT_CELL_GRU), stacked in blocks of n rows in the order
 *
 *   LSTM: i, f, g, o  (input, forget, candidate, output; PyTorch nn.LSTM,
 *                      oneDNN's i, f, c~, o)                  (G1)-(G6)
 *   GRU:  r, z, n     (reset, update, new; PyTorch nn.GRU, oneDNN
 *                      lbr_gru: the reset gate multiplies the recurrent
 *                      product after it is taken)              (G11)-(G14)
 *
 * Shapes, for T steps of B sequences (time-major, row t*B + b):
 *
 *   W    (G*n) x din, ldw >= din: the input weights of all gates (W_ih).
 *   U    (G*n) x n, ldu >= n: the recurrent weights of all gates (W_hh).
 *   bx   G*n, the input-side bias (b_ih); NULL means 0.
 *   bh   G*n, the recurrent-side bias (b_hh); NULL means 0.  For the LSTM
 *        only bx + bh matters; the GRU's n-block of bh sits inside the
 *        reset product (G13), so it is not interchangeable with bx's.
 *   x    (T*B) x din, ldx >= din: row t*B+b is x(t) of sequence b.
 *   h0   B x n, ldh0 >= n: the initial hidden state h(0); NULL means 0.
 *   c0   B x n, ldc0 >= n: the LSTM's initial cell state c(0); NULL means
 *        0.  Must be NULL for the GRU.
 *   h    (T*B) x n, ldh >= n: row t*B+b is h(t+1).  Its last B rows are
 *        the final state h(T), to pass as h0 of the next chunk.
 *   cT   B x n, ldcT >= n: the LSTM's final cell state c(T) (optional;
 *        NULL for the GRU).
 *   dh   (T*B) x n, lddh >= n: row t*B+b is dL/dh(t+1), from any loss.
 *   dcT  B x n: dL/dc(T) from a later chunk (LSTM, optional: NULL is 0).
 *   dW, dU, dbx, dbh, dx, dh0, dc0: shaped as W, U, bx, bh, x, h0, c0;
 *        gradients of L.
 *
 * Arrays must not overlap unless stated.  Sizes and leading dimensions are
 * counted in elements.  On any error nothing is written (the conventions
 * of <bptt.h>).
 */
#ifndef BPTT_GATED_H
#define BPTT_GATED_H

#include "bptt/common.h"
#include "bptt/network.h"
#include "bptt/plan.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Opaque workspaces, one type per precision so that they cannot be mixed.
 * A gated workspace carries its cell, din and n: the forward and backward
 * calls take them from it. */
typedef struct bptt_gated_workspace bptt_gated_workspace;
typedef struct bpttf_gated_workspace bpttf_gated_workspace;

/* The gate count G of a cell: 4 (LSTM), 3 (GRU), 0 for any other code. */
BPTT_API size_t bptt_gated_gates(bptt_cell cell);

/* Bytes of a workspace for a gated cell with din inputs and n units, at
 * most Tmax steps and Bmax sequences per call.  A pure query; the same
 * size serves forward and backward and every algorithm.  With r =
 * sizeof(double) (sizeof(float) for bpttf_), R = Tmax·Bmax, up(k) rounding
 * k bytes up to a multiple of 64, p = 128/r and kc = min(512, max(din,
 * G·n, R)):
 *
 *   bytes = 256                             the header (the struct, alignment)
 *         + up(r·R·din)                     x(t), kept for dL/dW
 *         + up(r·(R+Bmax)·n)                h(0..T)
 *         + up(r·(R+Bmax)·n)  [LSTM only]   c(0..T)
 *         + up(r·R·n)                       LSTM: tanh c(t); GRU: U_n h + b_hn
 *         + 2·up(r·R·G·n)                   the gates, their deltas
 *         + up(r·R·n)         [GRU only]    the n gate's input-side delta
 *         + 2·up(r·Bmax·n)                  the carried dL/dh, dL/dc
 *         + up(r·G·n·p·ceil(n/p))           U packed for the time loop
 *         + up(r·kc·(p·ceil(max(din, G·n)/p) + G·n))  bptt's own GEMM
 *
 * Errors: BPTT_ENULL (bytes NULL), BPTT_EINVAL (cell is not
 * BPTT_CELL_LSTM or BPTT_CELL_GRU), BPTT_ESIZE (din, n, Tmax or Bmax is
 * 0), BPTT_EOVERFLOW (a count does not fit in size_t, or Tmax·Bmax·G·n or
 * G·n·max(din, n) exceeds INT_MAX, the BLAS's dimension). */
BPTT_API bptt_status bptt_gated_workspace_size(bptt_cell cell, size_t din,
                                               size_t n, size_t Tmax,
                                               size_t Bmax, size_t *bytes);

/* Allocate a workspace of bptt_gated_workspace_size() bytes.  It is used
 * by one thread at a time.  Free it with bptt_gated_workspace_free().
 *
 * Errors: those of bptt_gated_workspace_size, BPTT_ENULL (ws NULL),
 * BPTT_ENOMEM. */
BPTT_API bptt_status bptt_gated_workspace_alloc(bptt_cell cell, size_t din,
                                                size_t n, size_t Tmax,
                                                size_t Bmax,
                                                bptt_gated_workspace **ws);

/* Make a workspace inside the caller's buffer buf of the given bytes (any
 * alignment; at least bptt_gated_workspace_size() bytes).  The caller
 * keeps ownership of buf, which must outlive the workspace;
 * bptt_gated_workspace_free() then frees nothing but its threads.
 *
 * Errors: those of bptt_gated_workspace_size, BPTT_ENULL (buf or ws NULL),
 * BPTT_EBUFFER (bytes too small). */
BPTT_API bptt_status bptt_gated_workspace_init(bptt_cell cell, size_t din,
                                               size_t n, size_t Tmax,
                                               size_t Bmax, void *buf,
                                               size_t bytes,
                                               bptt_gated_workspace **ws);

/* Release a workspace (NULL is a no-op): stop its threads and, if
 * bptt_gated_workspace_alloc made it, free its memory. */
BPTT_API void bptt_gated_workspace_free(bptt_gated_workspace *ws);

/* Run the time loops of calls made with ws on nthreads threads (1 ..
 * BPTT_MAX_THREADS), exactly as bptt_workspace_set_threads does for Network
 * A: the units are split between the threads, each packs and keeps its
 * share of U (all G gates of its units) for all T steps, one barrier per
 * step; results are bitwise identical for every thread count; the
 * whole-sequence GEMMs run on the BLAS's threads (or bptt's own GEMM on
 * these).
 *
 * Errors: BPTT_ENULL (ws NULL), BPTT_EINVAL (nthreads out of range),
 * BPTT_ETHREAD or BPTT_ENOMEM; on error ws keeps its previous threads. */
BPTT_API bptt_status bptt_gated_workspace_set_threads(bptt_gated_workspace *ws,
                                                      int nthreads);

/* The thread count of ws (0 for NULL). */
BPTT_API int bptt_gated_workspace_threads(const bptt_gated_workspace *ws);

/* What ws was made for: its cell (BPTT_NCELL for NULL), din, n, Tmax and
 * Bmax (0 for NULL). */
BPTT_API bptt_cell bptt_gated_workspace_cell(const bptt_gated_workspace *ws);
BPTT_API size_t bptt_gated_workspace_din(const bptt_gated_workspace *ws);
BPTT_API size_t bptt_gated_workspace_n(const bptt_gated_workspace *ws);

/* Turn the non-finite check of forward and backward on (on != 0) or off
 * (the default).  With it on, forward scans W, U, bx, bh, x, h0, c0 before
 * it writes anything, then its results h, cT; backward scans W, U, dh, dcT
 * before it writes anything, then dx, dh0, dc0, dW, dU, dbx, dbh.  The
 * first NaN or ±Inf gives BPTT_ENONFINITE with a detail naming the array,
 * row and column (e.g. "bptt_gated_forward: x[3][0] is NaN").  As for
 * Network A, a failed input scan wrote nothing; a failed result scan
 * reports outputs already written.
 *
 * Errors: BPTT_ENULL (ws NULL). */
BPTT_API bptt_status bptt_gated_workspace_check_finite(bptt_gated_workspace *ws,
                                                       int on);

/* Ask every later bptt_gated_backward on ws to record, for each step
 * t = 1..T and sequence b, the error flow
 *
 *     gnorm[(t−1)·B + b] = ‖∂L/∂h(t)‖₂   (the total ḡ(t) of (G7)/(G15))
 *     dnorm[(t−1)·B + b] = ‖δ(t)‖₂       (the G·n deltas of the gates'
 *                                         recurrent-side sums)
 *
 * as bptt_workspace_record_flow does for Network A: norms in double,
 * overflow-safe; either array may be NULL; both NULL switch recording off;
 * each array holds Tmax·Bmax doubles, is the caller's and must outlive the
 * recording.  Every algorithm records the same norms (to rounding); the
 * deferred backward's time loop runs on one thread meanwhile.
 *
 * Errors: BPTT_ENULL (ws NULL). */
BPTT_API bptt_status bptt_gated_workspace_record_flow(bptt_gated_workspace *ws,
                                                      double *gnorm,
                                                      double *dnorm);

/* The error-flow profile of one loss at the last step against the lag,
 * bptt_flow_lag_profile's analogue for a gated cell (which that call, made
 * for Network A's workspace, cannot read): for the forward kept in ws (T
 * steps of B sequences), the backward of a loss L(T) of h(T) alone, with
 * ∂L(T)/∂h(T) = dhT, giving
 *
 *     gnorm[τ·B + b] = ‖∂L(T)/∂h(T−τ)‖₂   τ = 0..T−1, sequence b (the
 *                                        total ḡ of (G7)/(G15)),
 *     dnorm[τ·B + b] = ‖δ(T−τ)‖₂          the G·n deltas of the gates'
 *                                        recurrent-side sums (optional).
 *
 * gnorm (required) and dnorm (NULL: not wanted) hold T·B doubles each.
 * dhT is B x n (leading dimension lddhT); NULL means (1, ..., 1)/√n for
 * every sequence.  W and U must be those of the forward.  The LSTM's
 * dL/dc(T) is 0.  Error that survives τ steps: gnorm[τ·B + b] / gnorm[b];
 * e.g. a GRU whose update gate is saturated at z = 1 carries it unchanged
 * (ratio 1), an LSTM with f = 1, i = 0 and o saturated passes none of it
 * back to h (ratio 0 for τ >= 1; it stays on the cell state).
 *
 * It runs bptt_gated_backward (BPTT_ALGO_AUTO, no gradient written) with
 * the recorder on and the non-finite check off (a NaN or Inf gives NaN or
 * Inf norms); the forward is kept (another backward may follow), the
 * backward scratch is overwritten, and the recording set by
 * bptt_gated_workspace_record_flow and the check set by
 * bptt_gated_workspace_check_finite are left as they were.  An error the
 * backward finds (W, U, ldw, ldu) is reported under bptt_gated_backward's
 * name.
 *
 * Memory: allocates T·B·n elements for the call; a diagnostic, not a hot
 * path.
 *
 * Errors: BPTT_ENULL (gnorm, ws, W or U), BPTT_ESIZE (T or B is 0),
 * BPTT_ELD (lddhT < n, ldw, ldu), BPTT_ECAPACITY, BPTT_ENOFORWARD (no
 * forward of this T and B in ws), BPTT_ENOMEM, BPTT_EBUSY.  On error
 * gnorm, dnorm and ws are not written. */
BPTT_API bptt_status bptt_gated_flow_lag_profile(size_t T, size_t B,
                                                 const double *W, size_t ldw,
                                                 const double *U, size_t ldu,
                                                 const double *dhT,
                                                 size_t lddhT, double *gnorm,
                                                 double *dnorm,
                                                 bptt_gated_workspace *ws);

/* Forward pass of the cell over T steps of B sequences from h(0) = h0 and
 * (LSTM) c(0) = c0, or 0:
 *
 *   LSTM (G1)-(G6):  [i; f; g; o] = act(W x(t) + bx + U h(t) + bh),
 *                    c(t+1) = f ⊙ c(t) + i ⊙ g,  h(t+1) = o ⊙ tanh c(t+1)
 *   GRU (G11)-(G14): r, z = σ(W_{r,z} x(t) + bx + U_{r,z} h(t) + bh),
 *                    n = tanh(W_n x(t) + bx_n + r ⊙ (U_n h(t) + bh_n)),
 *                    h(t+1) = (1 − z) ⊙ n + z ⊙ h(t)
 *
 * (σ the logistic function on i, f, o, r, z; tanh on g and n.)  Writes h,
 * and cT if given; keeps in ws what bptt_gated_backward needs, replacing
 * what an earlier forward kept.  algo: BPTT_ALGO_NAIVE (the element-wise
 * sums, no BLAS: the reference), BPTT_ALGO_DEFERRED (all gates' input
 * projections for all T·B rows as one GEMM, only U·h(t) in the time loop)
 * or BPTT_ALGO_AUTO (deferred).  BPTT_ALGO_GEMV_GER is refused.
 *
 * Errors: BPTT_ENULL (W, U, x, h or ws NULL), BPTT_ESIZE (T or B is 0),
 * BPTT_ELD, BPTT_ECAPACITY (T > Tmax or B > Bmax of ws), BPTT_EALGO,
 * BPTT_EINVAL (c0 or cT given to a GRU), BPTT_EOVERFLOW, BPTT_ENONFINITE
 * (only with the check on). */
BPTT_API bptt_status bptt_gated_forward(size_t T, size_t B,
                                        const double *W, size_t ldw,
                                        const double *U, size_t ldu,
                                        const double *bx, const double *bh,
                                        const double *x, size_t ldx,
                                        const double *h0, size_t ldh0,
                                        const double *c0, size_t ldc0,
                                        double *h, size_t ldh,
                                        double *cT, size_t ldcT,
                                        bptt_algo algo,
                                        bptt_gated_workspace *ws);

/* Backward pass (BPTT) for the last forward in ws, given dL/dh(t) for
 * t = 1..T in dh and, for the LSTM, dL/dc(T) in dcT (NULL: 0):
 *
 *   every step, from t = T down to 1, the gate deltas of (G7)-(G10)
 *   (LSTM) or (G15)-(G19) (GRU), with the recurrent term U^T·δ(t+1)
 *   carried back; then
 *   dW  = β dW  + Σ_t δx(t) x(t)ᵀ          one GEMM over all T·B rows
 *   dU  = β dU  + Σ_t δh(t) h(t)ᵀ          one GEMM
 *   dbx = β dbx + Σ_t δx(t),   dbh = β dbh + Σ_t δh(t)
 *   dx  = β dx  + δx W                     one GEMM
 *   dh0 = β dh0 + dL/dh(0),    dc0 = β dc0 + dL/dc(0)
 *
 * where δx is the delta of the gates' input-side sums and δh that of their
 * recurrent-side sums (equal for the LSTM; for the GRU they differ in the
 * n block by the reset gate, (G17)).  Sums run over all steps and
 * sequences.  beta = 0 overwrites (old contents are not read, NaN
 * included), beta = 1 accumulates, any other finite value scales.  Every
 * output is optional (NULL: not computed); dc0 and dcT must be NULL for
 * the GRU.  W and U must hold the values the forward used; T and B must
 * equal the forward's.  Any algorithm may follow a forward of any
 * algorithm.
 *
 * Errors: BPTT_ENULL (W, U, dh or ws NULL), BPTT_ESIZE, BPTT_ELD,
 * BPTT_ECAPACITY, BPTT_EALGO, BPTT_ENOFORWARD (no forward in ws, or one
 * with another T or B), BPTT_EINVAL (beta not finite; dcT or dc0 given to
 * a GRU), BPTT_EOVERFLOW, BPTT_ENONFINITE (only with the check on). */
BPTT_API bptt_status bptt_gated_backward(size_t T, size_t B,
                                         const double *W, size_t ldw,
                                         const double *U, size_t ldu,
                                         const double *dh, size_t lddh,
                                         const double *dcT, size_t lddcT,
                                         double beta,
                                         double *dW, size_t lddw,
                                         double *dU, size_t lddu,
                                         double *dbx, double *dbh,
                                         double *dx, size_t lddx,
                                         double *dh0, size_t lddh0,
                                         double *dc0, size_t lddc0,
                                         bptt_algo algo,
                                         bptt_gated_workspace *ws);

/* Network B (bptt/elman.h) on a gated core: describe an Elman network
 * whose hidden layer is the cell cell (BPTT_CELL_VANILLA is
 * bptt_elman_create).  net gives din and dh = bptt_net_dout(net); for a
 * gated cell its activations are not used.  Every bptt_elman_ call and the
 * Elman plan then take, in place of the core's W = [Wi | Wh] (dh rows):
 *
 *   W   (G·dh) x (din+dh), ldw >= din+dh: [W_ih | W_hh], this header's W
 *       and U side by side (dW alike);
 *   bh  G·dh, the input-side bias bx (dbh its gradient);
 *
 * h0 and dh0 are h(0) and dL/dh(0), and BPTT_ALGO_GEMV_GER is refused
 * (BPTT_EALGO).  The recurrent-side bias b_hh of this header's calls (0
 * unless set) and, for the LSTM, c(0) (0 unless set), c(T) and dL/dc(0)
 * are set on the workspace: bptt_elman_workspace_set_gated_bias and
 * bptt_elman_workspace_set_cell_state below.  dL/dc(T) is always 0: the
 * loss is the head's, on h alone.  The workspace's size is
 * bptt_elman_workspace_size's formula with core =
 * bptt_gated_workspace_size.
 *
 * Errors: those of bptt_elman_create, BPTT_EINVAL (cell not a cell code).
 * bptt_elman_cell: the descriptor's cell (BPTT_NCELL for NULL). */
BPTT_API bptt_status bptt_elman_create_cell(bptt_cell cell,
                                            const bptt_net *net, size_t nout,
                                            bptt_head head, bptt_elman **el);
BPTT_API bptt_cell bptt_elman_cell(const bptt_elman *el);

/* Network B on a gated core: the recurrent-side bias b_hh (G·dh, the bh
 * of bptt_gated_forward) that every later bptt_elman_forward on ws adds,
 * and the array dbhh (G·dh) where every later bptt_elman_backward writes
 * its gradient with the call's beta, as dbh.  Either may be NULL (b_hh =
 * 0; gradient not wanted).  For the LSTM only bx + b_hh matters (G1), so
 * b_hh is there for a model that keeps both (PyTorch's nn.LSTM); for the
 * GRU its n block sits inside the reset product r ⊙ (U_n h + bh_n) (G13)
 * and is not redundant.  The arrays stay the caller's and must outlive
 * the setting, which stays until changed (a new forward does not clear
 * it); the calls check them against their other arrays for overlap.
 *
 * Errors: BPTT_ENULL (ws), BPTT_EINVAL (ws of a vanilla-core Elman, whose
 * bias is bh), BPTT_EBUSY.  On error nothing is changed. */
BPTT_API bptt_status
bptt_elman_workspace_set_gated_bias(bptt_elman_workspace *ws,
                                    const double *bhh, double *dbhh);

/* Network B on an LSTM core: the cell state of every later call on ws —
 * c0 (B x dh, ld ldc0) is c(0) of every later bptt_elman_forward (NULL:
 * 0), cT (B x dh, ld ldcT) receives its c(T), so that a sequence cut into
 * calls carries (h(T), c(T)) into the next call's (h0, c0), and dc0 (B x
 * dh, ld lddc0) receives dL/dc(0) from every later bptt_elman_backward
 * (with the call's beta, as dh0).  Any may be NULL; all NULL switch them
 * off.  The arrays hold Bmax rows of the workspace, stay the caller's and
 * must outlive the setting; B is the call's.
 *
 * Errors: BPTT_ENULL (ws), BPTT_EINVAL (ws of a vanilla-core or GRU Elman
 * with any array given: no cell state), BPTT_ELD (a leading dimension <
 * dh for an array given), BPTT_EBUSY.  On error nothing is changed. */
BPTT_API bptt_status
bptt_elman_workspace_set_cell_state(bptt_elman_workspace *ws,
                                    const double *c0, size_t ldc0, double *cT,
                                    size_t ldcT, double *dc0, size_t lddc0);

/* The gated workspace of a plan made by bptt_plan_create_cell for
 * BPTT_CELL_LSTM or BPTT_CELL_GRU (NULL for any other plan, or NULL):
 * for bptt_gated_workspace_set_threads, _check_finite, and the expert
 * calls with a carried cell state.  Owned by the plan: do not free it. */
BPTT_API bptt_gated_workspace *bptt_plan_gated_workspace(bptt_plan *plan);

/* ------------------------------------------------------------------------ */
/* Single precision: the same functions with float (documented above).      */
/* ------------------------------------------------------------------------ */

BPTT_API bptt_status bpttf_gated_workspace_size(bptt_cell cell, size_t din,
                                                size_t n, size_t Tmax,
                                                size_t Bmax, size_t *bytes);
BPTT_API bptt_status bpttf_gated_workspace_alloc(bptt_cell cell, size_t din,
                                                 size_t n, size_t Tmax,
                                                 size_t Bmax,
                                                 bpttf_gated_workspace **ws);
BPTT_API bptt_status bpttf_gated_workspace_init(bptt_cell cell, size_t din,
                                                size_t n, size_t Tmax,
                                                size_t Bmax, void *buf,
                                                size_t bytes,
                                                bpttf_gated_workspace **ws);
BPTT_API void bpttf_gated_workspace_free(bpttf_gated_workspace *ws);
BPTT_API bptt_status
bpttf_gated_workspace_set_threads(bpttf_gated_workspace *ws, int nthreads);
BPTT_API int bpttf_gated_workspace_threads(const bpttf_gated_workspace *ws);
BPTT_API bptt_cell bpttf_gated_workspace_cell(const bpttf_gated_workspace *ws);
BPTT_API size_t bpttf_gated_workspace_din(const bpttf_gated_workspace *ws);
BPTT_API size_t bpttf_gated_workspace_n(const bpttf_gated_workspace *ws);
BPTT_API bptt_status
bpttf_gated_workspace_check_finite(bpttf_gated_workspace *ws, int on);
BPTT_API bptt_status
bpttf_gated_workspace_record_flow(bpttf_gated_workspace *ws, double *gnorm,
                                  double *dnorm);
BPTT_API bpttf_gated_workspace *bpttf_plan_gated_workspace(bpttf_plan *plan);
BPTT_API bptt_status
bpttf_elman_workspace_set_gated_bias(bpttf_elman_workspace *ws,
                                     const float *bhh, float *dbhh);
BPTT_API bptt_status
bpttf_elman_workspace_set_cell_state(bpttf_elman_workspace *ws,
                                     const float *c0, size_t ldc0, float *cT,
                                     size_t ldcT, float *dc0, size_t lddc0);
BPTT_API bptt_status bpttf_gated_flow_lag_profile(size_t T, size_t B,
                                                  const float *W, size_t ldw,
                                                  const float *U, size_t ldu,
                                                  const float *dhT,
                                                  size_t lddhT, double *gnorm,
                                                  double *dnorm,
                                                  bpttf_gated_workspace *ws);
BPTT_API bptt_status bpttf_gated_forward(size_t T, size_t B,
                                         const float *W, size_t ldw,
                                         const float *U, size_t ldu,
                                         const float *bx, const float *bh,
                                         const float *x, size_t ldx,
                                         const float *h0, size_t ldh0,
                                         const float *c0, size_t ldc0,
                                         float *h, size_t ldh,
                                         float *cT, size_t ldcT,
                                         bptt_algo algo,
                                         bpttf_gated_workspace *ws);
BPTT_API bptt_status bpttf_gated_backward(size_t T, size_t B,
                                          const float *W, size_t ldw,
                                          const float *U, size_t ldu,
                                          const float *dh, size_t lddh,
                                          const float *dcT, size_t lddcT,
                                          float beta,
                                          float *dW, size_t lddw,
                                          float *dU, size_t lddu,
                                          float *dbx, float *dbh,
                                          float *dx, size_t lddx,
                                          float *dh0, size_t lddh0,
                                          float *dc0, size_t lddc0,
                                          bptt_algo algo,
                                          bpttf_gated_workspace *ws);

#ifdef __cplusplus
}
#endif

#endif /* BPTT_GATED_H */
