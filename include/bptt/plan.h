/*
 * bptt/plan.h — the plan layer: the common case in a few arguments.
 * Include <bptt.h> rather than this file.
 *
 * A plan is made once from a network descriptor, the largest T and B it
 * will run, the layout of the caller's arrays (their leading dimensions)
 * and the algorithm; all of that is checked when the plan is made, and the
 * plan owns the workspace it allocates.  forward and backward on the plan
 * then take only what changes from call to call — T, B and the arrays — the
 * way an FFTW plan or a cuDNN descriptor is used.  Each call forwards to
 * the BLAS-style call of bptt/network.h, bptt/elman.h or bptt/rtrl.h (the
 * expert layer, which stays for sub-matrices of other shapes, buffers the
 * caller places, and everything the plan does not cover) and gives exactly
 * its results, bit for bit.
 *
 * Three plans:
 *   bptt_plan       Network A (bptt/network.h): forward, loss, backward;
 *   bptt_elman_plan Network B (bptt/elman.h): forward with loss, backward;
 *   bptt_rtrl_plan  RTRL on Network A (bptt/rtrl.h): reset, advance,
 *                   accumulate, step, sequence.
 *
 * Parameters and gradients travel in small structs whose members mirror
 * each other ({W, b} beside {dW, db, dx, dy0}).  In a gradient struct a
 * NULL member is a gradient not wanted, where the expert call allows that.
 *
 * Every function exists in double precision as bptt_<name> and in single
 * precision as bpttf_<name> with float (loss values stay double), built
 * from one source; documented once below for double.  The status and
 * bptt_error_detail() conventions of <bptt.h> hold: on an error nothing is
 * written.  Errors raised by the expert call a plan forwards to carry that
 * call's name in the detail (e.g. "bptt_backward: dy is NULL").
 */
#ifndef BPTT_PLAN_H
#define BPTT_PLAN_H

#include "bptt/common.h"
#include "bptt/elman.h"
#include "bptt/network.h"
#include "bptt/rtrl.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The recurrent cell a plan runs.  Network A's core, the fully recurrent
 * net of the seed, is the first; the gated cells follow, each as one more
 * code, one more file and one more size table in lib/plan/. */
typedef enum bptt_cell {
    BPTT_CELL_VANILLA = 0, /* z = W [x; y] + b, y = f(z): bptt/network.h */
    BPTT_CELL_LSTM,        /* gates i, f, g, o and a cell state: bptt/gated.h */
    BPTT_CELL_GRU,         /* PyTorch nn.GRU (linear before reset): gated.h */
    BPTT_NCELL             /* number of codes; not a cell */
} bptt_cell;

/* The cell's name ("vanilla", "lstm", "gru"), or NULL for an unknown
 * code. */
BPTT_API const char *bptt_cell_name(bptt_cell cell);

/* ------------------------------------------------------------------------ */
/* Layouts: the leading dimensions of the caller's arrays                    */
/* ------------------------------------------------------------------------ */

/* The leading dimensions (in elements) of Network A's arrays, as in
 * bptt/network.h.  A member 0 means dense: the row length (din+dout for ldw
 * and lddw, din for ldx and lddx, dout for the others).  A NULL layout is
 * all dense.  ldt is the targets' (bptt_plan_loss and the RTRL plan). */
typedef struct bptt_layout {
    size_t ldw, ldx, ldy0, ldy, ldt, lddy, lddw, lddx, lddy0;
} bptt_layout;

/* The same for Network B (bptt/elman.h): 0 is dense (din+dh for ldw and
 * lddw, dh for ldwo, lddwo, ldh0, lddh0 and ldh, din for ldx and lddx,
 * nout for ldy and ldl). */
typedef struct bptt_elman_layout {
    size_t ldw, ldwo, ldx, ldh0, ldl, ldh, ldy, lddw, lddwo, lddx, lddh0;
} bptt_elman_layout;

/* ------------------------------------------------------------------------ */
/* Parameters, gradients and targets                                         */
/* ------------------------------------------------------------------------ */

/* Network A's parameters: W (dout x (din+dout), ldw) and the bias b (dout
 * entries; NULL: none).  The plan reads them, never keeps them. */
typedef struct bptt_params {
    const double *W, *b;
} bptt_params;
typedef struct bpttf_params {
    const float *W, *b;
} bpttf_params;

/* Network A's gradients, shaped as W, b, x and y0 (lddw, -, lddx, lddy0).
 * NULL members are not computed. */
typedef struct bptt_grads {
    double *dW, *db, *dx, *dy0;
} bptt_grads;
typedef struct bpttf_grads {
    float *dW, *db, *dx, *dy0;
} bpttf_grads;

/* Network B's parameters: W = [Wi | Wh] (ldw), bh, Wo (ldwo), bo; bh and
 * bo may be NULL (no bias). */
typedef struct bptt_elman_params {
    const double *W, *bh, *Wo, *bo;
} bptt_elman_params;
typedef struct bpttf_elman_params {
    const float *W, *bh, *Wo, *bo;
} bpttf_elman_params;

/* Network B's gradients, shaped as W, bh, Wo, bo, x and h0.  dW and dWo
 * are required (bptt_elman_backward); the others may be NULL. */
typedef struct bptt_elman_grads {
    double *dW, *dbh, *dWo, *dbo, *dx, *dh0;
} bptt_elman_grads;
typedef struct bpttf_elman_grads {
    float *dW, *dbh, *dWo, *dbo, *dx, *dh0;
} bpttf_elman_grads;

/* Network B's targets: class indices (labels, T*B of them) or target rows
 * L ((T*B) x nout, ldl), as bptt_elman_forward takes them: exactly one for
 * the softmax head, L for the linear head. */
typedef struct bptt_elman_targets {
    const int *labels;
    const double *L;
} bptt_elman_targets;
typedef struct bpttf_elman_targets {
    const int *labels;
    const float *L;
} bpttf_elman_targets;

/* Squared-error targets of Network A and RTRL: target rows ((T*B) x dout,
 * or B x dout for one RTRL step; ldt) and an optional mask (a byte per
 * row, NULL: every row has a target), as bptt_loss_squared takes them. */
typedef struct bptt_targets {
    const double *target;
    const unsigned char *mask;
} bptt_targets;
typedef struct bpttf_targets {
    const float *target;
    const unsigned char *mask;
} bpttf_targets;

/* ------------------------------------------------------------------------ */
/* Network A                                                                 */
/* ------------------------------------------------------------------------ */

typedef struct bptt_plan bptt_plan;
typedef struct bpttf_plan bpttf_plan;

/* Make a plan for net (the vanilla cell), at most Tmax steps and Bmax
 * sequences per call, the arrays laid out as layout says (NULL: dense;
 * copied), running algo (BPTT_ALGO_AUTO is resolved per call, as the
 * expert calls do).  The plan allocates and owns a workspace of
 * bptt_workspace_size(net, Tmax, Bmax) bytes; it refers to net, which must
 * outlive it.  One thread at a time may use a plan.
 *
 * Every leading dimension is checked here, once, against its row length
 * and against an extent of Tmax*Bmax rows, so that a call within Tmax and
 * Bmax cannot fail on a layout.
 *
 * Errors: BPTT_ENULL (net or plan NULL), BPTT_ESIZE (Tmax or Bmax is 0),
 * BPTT_EALGO, BPTT_ELD (a member of layout smaller than its row length; the
 * detail names it, e.g. "bptt_plan_create: layout->ldx (2) < din (3)"),
 * BPTT_EOVERFLOW (a leading dimension above INT_MAX, or an extent or the
 * workspace's size not addressable), BPTT_ENOMEM.  On error *plan is not
 * written. */
BPTT_API bptt_status bptt_plan_create(const bptt_net *net, size_t Tmax,
                                      size_t Bmax, const bptt_layout *layout,
                                      bptt_algo algo, bptt_plan **plan);

/* Make a plan of the cell kind cell: BPTT_CELL_VANILLA is
 * bptt_plan_create; BPTT_CELL_LSTM and BPTT_CELL_GRU run the gated cells
 * of bptt/gated.h on the same calls below, with these meanings:
 *
 *   - net gives din and n (its dout); its activations are not used;
 *   - prm->W is (G·n) x (din+n), [W_ih | W_hh] (layout->ldw >= din+n), the
 *     gated call's W and U side by side, as Network A's W = [Wx | Wy];
 *     g->dW alike (lddw); prm->b is the input-side bias bx (G·n entries)
 *     and g->db its gradient; the recurrent-side bias bh is 0;
 *   - y0, y, dy and g->dy0 are h(0), h(1..T), dL/dh and dL/dh(0) (n
 *     wide); the LSTM's c(0) and dL/dc(T) are 0 (for a carried cell state,
 *     or a GRU with a recurrent-side bias, use bptt_gated_forward and
 *     bptt_gated_backward on bptt_plan_gated_workspace(plan));
 *   - bptt_plan_workspace() gives NULL; bptt_plan_gated_workspace() the
 *     gated workspace.
 *
 * Errors: those of bptt_plan_create, BPTT_EINVAL (cell not a cell code),
 * BPTT_EALGO (BPTT_ALGO_GEMV_GER for a gated cell). */
BPTT_API bptt_status bptt_plan_create_cell(bptt_cell cell, const bptt_net *net,
                                           size_t Tmax, size_t Bmax,
                                           const bptt_layout *layout,
                                           bptt_algo algo, bptt_plan **plan);

/* Free a plan and its workspace (NULL is a no-op). */
BPTT_API void bptt_plan_destroy(bptt_plan *plan);

/* Forward over T <= Tmax steps of B <= Bmax sequences: bptt_forward with
 * the plan's net, layout, algorithm and workspace.  prm->W and x are
 * required, prm->b and y0 optional (NULL: no bias, y(0) = 0); y receives
 * y(1..T) ((T*B) x dout, ldy).  What backward needs stays in the plan.
 *
 * Errors: BPTT_ENULL (plan or prm NULL, and those of bptt_forward),
 * BPTT_ESIZE, BPTT_ECAPACITY (T > Tmax or B > Bmax: nothing written),
 * BPTT_ENONFINITE (only if the finite check is on, see bptt_plan_workspace),
 * and the others of bptt_forward. */
BPTT_API bptt_status bptt_plan_forward(bptt_plan *plan, size_t T, size_t B,
                                       const bptt_params *prm,
                                       const double *x, const double *y0,
                                       double *y);

/* Squared-error loss and its gradient dy = ∂L/∂y of the rows y of a
 * forward (bptt_loss_squared with the layout's ldy, ldt and lddy):
 * loss = Σ ½‖y − target‖² over the rows tg->mask selects.  dy may be NULL.
 *
 * Errors: BPTT_ENULL (plan, tg or loss NULL, tg->target or y NULL),
 * BPTT_ESIZE, BPTT_ECAPACITY, and those of bptt_loss_squared. */
BPTT_API bptt_status bptt_plan_loss(bptt_plan *plan, size_t T, size_t B,
                                    const double *y, const bptt_targets *tg,
                                    double *loss, double *dy);

/* Backward for the plan's last forward, given dy = ∂L/∂y(1..T) ((T*B) x
 * dout, lddy): bptt_backward with the plan's net, layout, algorithm and
 * workspace, writing the members of g that are not NULL (g itself may be
 * NULL: the recurrence alone).  beta = 0 overwrites, 1 accumulates.  prm->W
 * must be the forward's; prm->b is not read.  T and B must be the
 * forward's.
 *
 * Errors: BPTT_ENULL (plan or prm NULL, and those of bptt_backward),
 * BPTT_ESIZE, BPTT_ECAPACITY, BPTT_ENOFORWARD, BPTT_EINVAL (beta not
 * finite), and the others of bptt_backward. */
BPTT_API bptt_status bptt_plan_backward(bptt_plan *plan, size_t T, size_t B,
                                        const bptt_params *prm,
                                        const double *dy, double beta,
                                        const bptt_grads *g);

/* What a plan was made with: its cell, Tmax, Bmax and algorithm (as
 * given, BPTT_ALGO_AUTO unresolved); BPTT_NCELL, 0, 0 and BPTT_NALGO for a
 * NULL plan. */
BPTT_API bptt_cell bptt_plan_cell(const bptt_plan *plan);
BPTT_API size_t bptt_plan_tmax(const bptt_plan *plan);
BPTT_API size_t bptt_plan_bmax(const bptt_plan *plan);
BPTT_API bptt_algo bptt_plan_algo(const bptt_plan *plan);

/* The plan's workspace, for the expert calls that take one (e.g.
 * bptt_workspace_check_finite, bptt_flow_lag_profile).  Owned by the
 * plan: do not free it.  NULL for a NULL plan, and for a plan of a gated
 * cell (its workspace: bptt_plan_gated_workspace, bptt/gated.h). */
BPTT_API bptt_workspace *bptt_plan_workspace(bptt_plan *plan);

/* Run the plan's calls on nthreads threads of its workspace's own, of
 * whichever cell: bptt_workspace_set_threads (or
 * bptt_gated_workspace_set_threads) on the plan's workspace, with their
 * range, guarantees (bitwise the same results for every count) and
 * errors; BPTT_ENULL for a NULL plan. */
BPTT_API bptt_status bptt_plan_set_threads(bptt_plan *plan, int nthreads);

/* ------------------------------------------------------------------------ */
/* Network B                                                                 */
/* ------------------------------------------------------------------------ */

typedef struct bptt_elman_plan bptt_elman_plan;
typedef struct bpttf_elman_plan bpttf_elman_plan;

/* Make a plan for the Elman network el as bptt_plan_create does for
 * Network A: Tmax, Bmax, the layout (NULL: dense; copied, checked here,
 * the detail naming a bad member) and the core's algorithm.  The plan owns
 * a workspace of bptt_elman_workspace_size(el, Tmax, Bmax) bytes and
 * refers to el, which must outlive it.
 *
 * Errors: BPTT_ENULL (el or plan NULL), BPTT_ESIZE, BPTT_EALGO, BPTT_ELD,
 * BPTT_EOVERFLOW, BPTT_ENOMEM.  On error *plan is not written. */
BPTT_API bptt_status bptt_elman_plan_create(const bptt_elman *el, size_t Tmax,
                                            size_t Bmax,
                                            const bptt_elman_layout *layout,
                                            bptt_algo algo,
                                            bptt_elman_plan **plan);

/* Free a plan and its workspace (NULL is a no-op). */
BPTT_API void bptt_elman_plan_destroy(bptt_elman_plan *plan);

/* Forward: bptt_elman_forward with the plan's layout, algorithm and
 * workspace.  prm->W, prm->Wo and x required; h0 optional (0).  With E not
 * NULL the targets tg are required and *E receives the loss; with E NULL
 * tg may be NULL (inference).  h and y are optional copies of h_t and y_t.
 *
 * Errors: BPTT_ENULL (plan or prm NULL), BPTT_ECAPACITY (T > Tmax or B >
 * Bmax: nothing written), and those of bptt_elman_forward. */
BPTT_API bptt_status bptt_elman_plan_forward(bptt_elman_plan *plan, size_t T,
                                             size_t B,
                                             const bptt_elman_params *prm,
                                             const double *x, const double *h0,
                                             const bptt_elman_targets *tg,
                                             double *E, double *h, double *y);

/* Backward for the plan's last forward: bptt_elman_backward against the
 * targets tg (required), writing g's members (g->dW and g->dWo required).
 *
 * Errors: BPTT_ENULL (plan, prm, tg or g NULL), BPTT_ECAPACITY, and those of
 * bptt_elman_backward. */
BPTT_API bptt_status bptt_elman_plan_backward(bptt_elman_plan *plan, size_t T,
                                              size_t B,
                                              const bptt_elman_params *prm,
                                              const bptt_elman_targets *tg,
                                              double beta,
                                              const bptt_elman_grads *g);

/* The plan's workspace, owned by the plan (NULL for a NULL plan). */
BPTT_API bptt_elman_workspace *bptt_elman_plan_workspace(bptt_elman_plan *plan);

/* ------------------------------------------------------------------------ */
/* RTRL                                                                      */
/* ------------------------------------------------------------------------ */

typedef struct bptt_rtrl_plan bptt_rtrl_plan;
typedef struct bpttf_rtrl_plan bpttf_rtrl_plan;

/* Make an RTRL plan for net and at most Bmax sequences (there is no Tmax:
 * RTRL's memory does not grow with T) with the layout's ldw, ldx, ldy0,
 * ldy, ldt, lddy and lddw (others ignored; NULL: dense; checked here for
 * Bmax rows per step) and algo.  The plan owns an RTRL state of
 * bptt_rtrl_size(net, Bmax) bytes; it refers to net.  A sequence's rows
 * (bptt_rtrl_plan_sequence) are addressed through the same layout.
 *
 * Errors: BPTT_ENULL (net or plan NULL), BPTT_ESIZE (Bmax is 0),
 * BPTT_EALGO, BPTT_ELD, BPTT_EOVERFLOW, BPTT_ENOMEM.  On error *plan is not
 * written. */
BPTT_API bptt_status bptt_rtrl_plan_create(const bptt_net *net, size_t Bmax,
                                           const bptt_layout *layout,
                                           bptt_rtrl_algo algo,
                                           bptt_rtrl_plan **plan);

/* Free a plan and its state (NULL is a no-op). */
BPTT_API void bptt_rtrl_plan_destroy(bptt_rtrl_plan *plan);

/* Start B <= Bmax sequences at y0 (NULL: 0): bptt_rtrl_reset.
 * Errors: BPTT_ENULL (plan NULL), BPTT_ECAPACITY, those of the reset. */
BPTT_API bptt_status bptt_rtrl_plan_reset(bptt_rtrl_plan *plan, size_t B,
                                          const double *y0);

/* One step of the B sequences of the last reset: bptt_rtrl_advance
 * (x: B x din, y: B x dout). */
BPTT_API bptt_status bptt_rtrl_plan_advance(bptt_rtrl_plan *plan,
                                            const bptt_params *prm,
                                            const double *x, double *y);

/* The last advance's gradient for dy = ∂L/∂y(t+1): bptt_rtrl_accumulate
 * into g->dW (required) and g->db (optional); g->dx and g->dy0 must be NULL
 * (forward mode has no input gradients: BPTT_EINVAL). */
BPTT_API bptt_status bptt_rtrl_plan_accumulate(bptt_rtrl_plan *plan,
                                               const double *dy, double beta,
                                               const bptt_grads *g);

/* advance, squared error against tg, accumulate: bptt_rtrl_step (y and
 * loss optional, g as in accumulate). */
BPTT_API bptt_status bptt_rtrl_plan_step(bptt_rtrl_plan *plan,
                                         const bptt_params *prm,
                                         const double *x,
                                         const bptt_targets *tg, double *y,
                                         double *loss, double beta,
                                         const bptt_grads *g);

/* A whole sequence offline from y0 (NULL: 0): bptt_rtrl_sequence with T
 * steps of B <= Bmax sequences (x, tg->target and y have T*B rows; y and
 * loss optional; g as in accumulate).
 *
 * Errors (all RTRL plan calls): BPTT_ENULL (plan, prm, tg or g NULL),
 * BPTT_ECAPACITY (B > Bmax), BPTT_EINVAL (g->dx or g->dy0 given), and those
 * of the expert call. */
BPTT_API bptt_status bptt_rtrl_plan_sequence(bptt_rtrl_plan *plan, size_t T,
                                             size_t B, const bptt_params *prm,
                                             const double *x, const double *y0,
                                             const bptt_targets *tg, double *y,
                                             double *loss, double beta,
                                             const bptt_grads *g);

/* The plan's RTRL state, owned by the plan (NULL for a NULL plan). */
BPTT_API bptt_rtrl *bptt_rtrl_plan_state(bptt_rtrl_plan *plan);

/* ------------------------------------------------------------------------ */
/* Single precision: the same functions with float (documented above).      */
/* ------------------------------------------------------------------------ */

BPTT_API bptt_status bpttf_plan_create(const bptt_net *net, size_t Tmax,
                                       size_t Bmax, const bptt_layout *layout,
                                       bptt_algo algo, bpttf_plan **plan);
BPTT_API bptt_status bpttf_plan_create_cell(bptt_cell cell,
                                            const bptt_net *net, size_t Tmax,
                                            size_t Bmax,
                                            const bptt_layout *layout,
                                            bptt_algo algo, bpttf_plan **plan);
BPTT_API void bpttf_plan_destroy(bpttf_plan *plan);
BPTT_API bptt_status bpttf_plan_forward(bpttf_plan *plan, size_t T, size_t B,
                                        const bpttf_params *prm,
                                        const float *x, const float *y0,
                                        float *y);
BPTT_API bptt_status bpttf_plan_loss(bpttf_plan *plan, size_t T, size_t B,
                                     const float *y, const bpttf_targets *tg,
                                     double *loss, float *dy);
BPTT_API bptt_status bpttf_plan_backward(bpttf_plan *plan, size_t T, size_t B,
                                         const bpttf_params *prm,
                                         const float *dy, float beta,
                                         const bpttf_grads *g);
BPTT_API bptt_cell bpttf_plan_cell(const bpttf_plan *plan);
BPTT_API size_t bpttf_plan_tmax(const bpttf_plan *plan);
BPTT_API size_t bpttf_plan_bmax(const bpttf_plan *plan);
BPTT_API bptt_algo bpttf_plan_algo(const bpttf_plan *plan);
BPTT_API bpttf_workspace *bpttf_plan_workspace(bpttf_plan *plan);
BPTT_API bptt_status bpttf_plan_set_threads(bpttf_plan *plan, int nthreads);

BPTT_API bptt_status bpttf_elman_plan_create(const bptt_elman *el,
                                             size_t Tmax, size_t Bmax,
                                             const bptt_elman_layout *layout,
                                             bptt_algo algo,
                                             bpttf_elman_plan **plan);
BPTT_API void bpttf_elman_plan_destroy(bpttf_elman_plan *plan);
BPTT_API bptt_status bpttf_elman_plan_forward(bpttf_elman_plan *plan,
                                              size_t T, size_t B,
                                              const bpttf_elman_params *prm,
                                              const float *x, const float *h0,
                                              const bpttf_elman_targets *tg,
                                              double *E, float *h, float *y);
BPTT_API bptt_status bpttf_elman_plan_backward(bpttf_elman_plan *plan,
                                               size_t T, size_t B,
                                               const bpttf_elman_params *prm,
                                               const bpttf_elman_targets *tg,
                                               float beta,
                                               const bpttf_elman_grads *g);
BPTT_API bpttf_elman_workspace *
bpttf_elman_plan_workspace(bpttf_elman_plan *plan);

BPTT_API bptt_status bpttf_rtrl_plan_create(const bptt_net *net, size_t Bmax,
                                            const bptt_layout *layout,
                                            bptt_rtrl_algo algo,
                                            bpttf_rtrl_plan **plan);
BPTT_API void bpttf_rtrl_plan_destroy(bpttf_rtrl_plan *plan);
BPTT_API bptt_status bpttf_rtrl_plan_reset(bpttf_rtrl_plan *plan, size_t B,
                                           const float *y0);
BPTT_API bptt_status bpttf_rtrl_plan_advance(bpttf_rtrl_plan *plan,
                                             const bpttf_params *prm,
                                             const float *x, float *y);
BPTT_API bptt_status bpttf_rtrl_plan_accumulate(bpttf_rtrl_plan *plan,
                                                const float *dy, float beta,
                                                const bpttf_grads *g);
BPTT_API bptt_status bpttf_rtrl_plan_step(bpttf_rtrl_plan *plan,
                                          const bpttf_params *prm,
                                          const float *x,
                                          const bpttf_targets *tg, float *y,
                                          double *loss, float beta,
                                          const bpttf_grads *g);
BPTT_API bptt_status bpttf_rtrl_plan_sequence(bpttf_rtrl_plan *plan,
                                              size_t T, size_t B,
                                              const bpttf_params *prm,
                                              const float *x, const float *y0,
                                              const bpttf_targets *tg,
                                              float *y, double *loss,
                                              float beta,
                                              const bpttf_grads *g);
BPTT_API bpttf_rtrl *bpttf_rtrl_plan_state(bpttf_rtrl_plan *plan);

#ifdef __cplusplus
}
#endif

#endif /* BPTT_PLAN_H */
