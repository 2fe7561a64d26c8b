/*
 * bptt/elman.h — Network B: the Elman network of the second seed
 * (rnn-backprop-ja.md) with a readout layer and an output head:
 *
 *     h̄_t = Wi x_t + Wh h_{t−1} + bh,   h_t = f1(h̄_t)      (the core)
 *     ȳ_t = Wo h_t + bo                                    (the readout)
 *     softmax head:  y_t = softmax(ȳ_t),  E = −Σ_t l_tᵀ log y_t
 *     linear head:   y_t = ȳ_t,           E = ½ Σ_t ‖y_t − l_t‖²
 *
 * The recurrent core IS Network A (bptt/network.h) with W = [Wi | Wh] over
 * [x_t; h_{t−1}]: din = inputs, dout = hidden units, one activation per
 * unit.  The Elman calls run Network A's forward and backward on it and put
 * the head on top; the head's backward feeds Woᵀ ∂E/∂ȳ_t to the core as
 * its dL/dy(t).  With either head ∂E/∂ȳ_t = y_t − l_t (for the softmax
 * head whenever the row l_t sums to 1), so the softmax Jacobian is never
 * formed.  Include <bptt.h> rather than this file.
 *
 * Every function but the descriptor's exists in double precision as
 * bptt_elman_<verb> and in single precision as bpttf_elman_<verb>, from one
 * source, documented once below for double.
 *
 * Shapes, for T steps of B sequences (time-major, row t*B + b), with
 * din inputs, dh = dout of the core hidden units and nout outputs:
 *
 *   W      dh x (din+dh), ldw >= din+dh: [Wi | Wh], Wi in columns 0..din-1.
 *   bh     dh, the hidden bias; NULL means none.
 *   Wo     nout x dh, ldwo >= dh.
 *   bo     nout, the output bias; NULL means none.
 *   x      (T*B) x din, ldx >= din: row t*B+b is x_t of sequence b.
 *   h0     B x dh, ldh0 >= dh: the state h_{−1} before step 0 (NULL: 0).
 *   h      (T*B) x dh, ldh >= dh: row t*B+b is h_t.  Its last B rows are the
 *          final state, to pass as h0 of the next chunk (truncated BPTT).
 *   y      (T*B) x nout, ldy >= nout: y_t (probabilities or linear outputs).
 *   labels T*B class indices in [0, nout), or BPTT_IGNORE_LABEL for a step
 *          without a target (softmax head only).
 *   L      (T*B) x nout, ldl >= nout: target rows l_t — soft labels for the
 *          softmax head (each entry finite and >= 0; a row need not sum to
 *          1: the loss is −lᵀ log y as written, its gradient (Σ_i l_i) y − l,
 *          and a row of zeros is a step without a target), regression
 *          targets for the linear head (every row has a target).
 *   dW, dbh, dWo, dbo, dx, dh0: shaped as W, bh, Wo, bo, x, h0.
 *
 * Arrays must not overlap: an output sharing an element with an input or
 * another output (E included) is refused with BPTT_EOVERLAP, and a call
 * on a workspace in use with BPTT_EBUSY, as for Network A
 * (bptt/network.h, docs/misuse.md).  Sizes and leading dimensions are
 * counted in elements.
 */
#ifndef BPTT_ELMAN_H
#define BPTT_ELMAN_H

#include <stdint.h>

#include "bptt/common.h"
#include "bptt/hook.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The class index of a step without a target. */
#define BPTT_IGNORE_LABEL (-1)

/* The output head: the nonlinearity on ȳ_t and the loss. */
typedef enum bptt_head {
    BPTT_HEAD_SOFTMAX = 0, /* y = softmax(ȳ), cross-entropy, labels or L  */
    BPTT_HEAD_LINEAR,      /* y = ȳ, squared error against L              */
    BPTT_NHEAD             /* number of codes; not a head */
} bptt_head;

/* The head's name ("softmax", "linear"), or NULL for an unknown code. */
BPTT_API const char *bptt_head_name(bptt_head head);

/* ------------------------------------------------------------------------ */
/* The descriptor                                                            */
/* ------------------------------------------------------------------------ */

/* Opaque, immutable once created, shareable between threads like bptt_net. */
typedef struct bptt_elman bptt_elman;

/* Describe an Elman network: the recurrent core net (din inputs, dh =
 * bptt_net_dout(net) hidden units with their activations f1), nout outputs
 * and the head.  The descriptor refers to net, which must outlive it.
 *
 * Errors: BPTT_ENULL (net or el NULL), BPTT_ESIZE (nout is 0),
 * BPTT_EOVERFLOW (nout exceeds INT_MAX), BPTT_EINVAL (head unknown),
 * BPTT_ENOMEM.  On error *el is not written. */
BPTT_API bptt_status bptt_elman_create(const bptt_net *net, size_t nout,
                                       bptt_head head, bptt_elman **el);

/* Free a descriptor (NULL is a no-op); its workspaces must not be used
 * afterwards.  The core net is not freed. */
BPTT_API void bptt_elman_free(bptt_elman *el);

/* The core, the number of outputs and the head of a descriptor (NULL, 0 and
 * BPTT_NHEAD for a NULL el). */
BPTT_API const bptt_net *bptt_elman_net(const bptt_elman *el);
BPTT_API size_t bptt_elman_nout(const bptt_elman *el);
BPTT_API bptt_head bptt_elman_head(const bptt_elman *el);

/* ------------------------------------------------------------------------ */
/* Workspace                                                                 */
/* ------------------------------------------------------------------------ */

typedef struct bptt_elman_workspace bptt_elman_workspace;
typedef struct bpttf_elman_workspace bpttf_elman_workspace;

/* Bytes of an Elman workspace for el, at most Tmax steps and Bmax
 * sequences per call.  A pure query:
 *
 *   bytes = 256 + 2·up(r·Tmax·Bmax·nout) + 2·up(r·Tmax·Bmax·dh) + core
 *
 * where r = sizeof(double) (sizeof(float) for bpttf_), up(n) rounds n up to
 * a multiple of 64, and core = bptt_workspace_size(net, Tmax, Bmax) (the
 * workspace of Network A that the Elman workspace contains).  The arrays
 * hold y_t, ∂E/∂ȳ_t, h_t and the core's dL/dh_t.
 *
 * Errors: BPTT_ENULL (el or bytes NULL), BPTT_ESIZE (Tmax or Bmax is 0),
 * BPTT_EOVERFLOW. */
BPTT_API bptt_status bptt_elman_workspace_size(const bptt_elman *el,
                                               size_t Tmax, size_t Bmax,
                                               size_t *bytes);

/* Allocate (alloc) or place in the caller's buffer of the given bytes, any
 * alignment (init), a workspace for el; as bptt_workspace_alloc/init.  The
 * workspace refers to el, which must outlive it; one thread at a time.
 *
 * Errors: those of bptt_elman_workspace_size, BPTT_ENULL (ws, or buf of
 * init, NULL), BPTT_ENOMEM (alloc), BPTT_EBUFFER (init: bytes too small). */
BPTT_API bptt_status bptt_elman_workspace_alloc(const bptt_elman *el,
                                                size_t Tmax, size_t Bmax,
                                                bptt_elman_workspace **ws);
BPTT_API bptt_status bptt_elman_workspace_init(const bptt_elman *el,
                                               size_t Tmax, size_t Bmax,
                                               void *buf, size_t bytes,
                                               bptt_elman_workspace **ws);

/* Release a workspace (NULL is a no-op). */
BPTT_API void bptt_elman_workspace_free(bptt_elman_workspace *ws);

/* The core's time loops on nthreads threads of the workspace's own, as
 * bptt_workspace_set_threads (same range, guarantees and errors; the
 * detail names bptt_workspace_set_threads for a bad count).  Release a
 * workspace given threads with bptt_elman_workspace_free, even one made in
 * the caller's buffer.  bptt_elman_workspace_threads: the count (0 for
 * NULL). */
BPTT_API bptt_status bptt_elman_workspace_set_threads(bptt_elman_workspace *ws,
                                                      int nthreads);
BPTT_API int bptt_elman_workspace_threads(const bptt_elman_workspace *ws);

/* Install a gradient-ready hook (bptt/hook.h) in ws, or remove it (hook
 * NULL), as bptt_workspace_set_grad_hook does for Network A (the pointer
 * is kept; results as without it, see bptt/hook.h).  bptt_elman_backward calls
 * hook->ready(user, BPTT_GRAD_WO, 0, nout) once dWo and dbo are final,
 * before the core's backward starts, then for the panels of dW as Network
 * A's backward does.
 *
 * Errors: BPTT_ENULL (ws NULL), BPTT_EINVAL (hook->ready NULL). */
BPTT_API bptt_status
bptt_elman_workspace_set_grad_hook(bptt_elman_workspace *ws,
                                   const bptt_grad_hook *hook);

/* ------------------------------------------------------------------------ */
/* Forward and backward                                                      */
/* ------------------------------------------------------------------------ */

/* Forward pass over T steps of B sequences from h0 (or 0): the core's
 * forward (bptt_forward with W, bh), then ȳ = H Woᵀ + bo over all T*B rows
 * at once, then the head.  The softmax is computed stably, from ȳ − max ȳ,
 * and log y_t as ȳ_t − logsumexp(ȳ_t), so logits of any finite size give a
 * finite loss.  Keeps h_t and y_t in ws for bptt_elman_backward,
 * replacing what an earlier forward kept.
 *
 * Targets and loss: if E is not NULL, the targets are required — for the
 * softmax head exactly one of labels and L, for the linear head L (labels
 * must be NULL) — and *E receives the loss, summed over all steps and
 * sequences in double in both precisions.  If E is NULL the targets are not
 * read and may be NULL (inference, sampling).
 *
 * h and y are optional copies of h_t and y_t (NULL: not written).
 * algo selects the core's algorithm; BPTT_ALGO_NAIVE also computes the
 * readout by plain loops, no BLAS.
 *
 * Errors: BPTT_ENULL (el, W, Wo, x or ws NULL; targets missing with E),
 * BPTT_ESIZE (T or B is 0), BPTT_ELD, BPTT_ECAPACITY, BPTT_EMISMATCH (ws
 * made for another descriptor), BPTT_EALGO, BPTT_EOVERFLOW, BPTT_EINVAL
 * (both labels and L given, labels with the linear head, a label outside
 * [0, nout) and not BPTT_IGNORE_LABEL, a soft label negative or not
 * finite; the detail names the row). */
BPTT_API bptt_status bptt_elman_forward(const bptt_elman *el, size_t T,
                                        size_t B,
                                        const double *W, size_t ldw,
                                        const double *bh,
                                        const double *Wo, size_t ldwo,
                                        const double *bo,
                                        const double *x, size_t ldx,
                                        const double *h0, size_t ldh0,
                                        const int *labels,
                                        const double *L, size_t ldl,
                                        double *E,
                                        double *h, size_t ldh,
                                        double *y, size_t ldy,
                                        bptt_algo algo,
                                        bptt_elman_workspace *ws);

/* Backward pass for the last forward in ws, against the targets (required,
 * as in forward):
 *
 *     dȲ_t = ∂E/∂ȳ_t = y_t − l_t   (softmax head: (Σ_i l_ti) y_t − l_t,
 *                                     0 on ignored steps; never the Jacobian)
 *     dWo  = β dWo + Σ_t dȲ_tᵀ h_t      one GEMM over all T*B rows
 *     dbo  = β dbo + Σ_t dȲ_t
 *     dL/dh_t = Woᵀ dȲ_t                one GEMM, then Network A's backward
 *                                       on it gives dW = [dWi | dWh], dbh,
 *                                       dx and dh0 as in bptt_backward.
 *
 * beta = 0 overwrites (old contents not read), 1 accumulates, as in
 * bptt_backward.  dW and dWo are required; dbh, dbo, dx, dh0 optional.
 * W and Wo must hold the values the forward used; T and B must equal the
 * forward's.  Backward may be called again on the same forward.
 *
 * Errors: those of forward (targets always required), BPTT_ENOFORWARD (no
 * forward in ws, or one with another T or B), BPTT_EINVAL (beta NaN or
 * ±Inf). */
BPTT_API bptt_status bptt_elman_backward(const bptt_elman *el, size_t T,
                                         size_t B,
                                         const double *W, size_t ldw,
                                         const double *Wo, size_t ldwo,
                                         const int *labels,
                                         const double *L, size_t ldl,
                                         double beta,
                                         double *dW, size_t lddw, double *dbh,
                                         double *dWo, size_t lddwo,
                                         double *dbo,
                                         double *dx, size_t lddx,
                                         double *dh0, size_t lddh0,
                                         bptt_algo algo,
                                         bptt_elman_workspace *ws);

/* Token inputs (char-rnn and other vocabularies): bptt_elman_forward and
 * bptt_elman_backward with x(t) of sequence b the one-hot vector e_k of
 * k = tokens[t*B + b] (int32, T*B ids, 0 <= k < din), never formed.  The
 * core runs bptt_forward_tokens and bptt_backward_tokens (bptt/network.h):
 * the input term Wi x_t is column k of Wi, a gather, and dWi gets the
 * scatter-add dWi[:, k] += ∂E/∂h̄_t; there is no dx.  Arguments as the dense
 * calls', tokens in place of x and ldx, dx and lddx dropped; the ids are
 * kept in ws, and the backward needs a token forward (and the dense
 * backward a dense one: BPTT_ENOFORWARD otherwise, nothing written).
 * Results equal the dense calls' on the one-hot x (bptt_tokens_onehot):
 * h, y and E bitwise with BPTT_ALGO_NAIVE and BPTT_ALGO_DEFERRED, the
 * gradients to rounding (bitwise with BPTT_ALGO_NAIVE).
 *
 * An LSTM or GRU core (bptt_elman_create_cell) takes the ids too: it
 * stages their one-hot rows in its workspace, where it keeps the dense x
 * anyway, and runs the dense path on them — results bitwise the dense
 * calls' on bptt_tokens_onehot's rows, at the dense calls' cost (no
 * gather), with no x for the caller to build.
 *
 * Errors: those of the dense calls, and BPTT_ENULL (tokens NULL),
 * BPTT_EINVAL (an id outside [0, din), the detail naming its index, step,
 * sequence and value), every id checked before anything is written. */
BPTT_API bptt_status bptt_elman_forward_tokens(const bptt_elman *el, size_t T,
                                               size_t B,
                                               const double *W, size_t ldw,
                                               const double *bh,
                                               const double *Wo, size_t ldwo,
                                               const double *bo,
                                               const int32_t *tokens,
                                               const double *h0, size_t ldh0,
                                               const int *labels,
                                               const double *L, size_t ldl,
                                               double *E,
                                               double *h, size_t ldh,
                                               double *y, size_t ldy,
                                               bptt_algo algo,
                                               bptt_elman_workspace *ws);
BPTT_API bptt_status bptt_elman_backward_tokens(const bptt_elman *el,
                                                size_t T, size_t B,
                                                const double *W, size_t ldw,
                                                const double *Wo, size_t ldwo,
                                                const int *labels,
                                                const double *L, size_t ldl,
                                                double beta,
                                                double *dW, size_t lddw,
                                                double *dbh,
                                                double *dWo, size_t lddwo,
                                                double *dbo,
                                                double *dh0, size_t lddh0,
                                                bptt_algo algo,
                                                bptt_elman_workspace *ws);

/* ------------------------------------------------------------------------ */
/* Single precision: the same functions with float (documented above).      */
/* ------------------------------------------------------------------------ */

BPTT_API bptt_status bpttf_elman_workspace_size(const bptt_elman *el,
                                                size_t Tmax, size_t Bmax,
                                                size_t *bytes);
BPTT_API bptt_status bpttf_elman_workspace_alloc(const bptt_elman *el,
                                                 size_t Tmax, size_t Bmax,
                                                 bpttf_elman_workspace **ws);
BPTT_API bptt_status bpttf_elman_workspace_init(const bptt_elman *el,
                                                size_t Tmax, size_t Bmax,
                                                void *buf, size_t bytes,
                                                bpttf_elman_workspace **ws);
BPTT_API void bpttf_elman_workspace_free(bpttf_elman_workspace *ws);
BPTT_API bptt_status bpttf_elman_workspace_set_threads(
    bpttf_elman_workspace *ws, int nthreads);
BPTT_API int bpttf_elman_workspace_threads(const bpttf_elman_workspace *ws);
BPTT_API bptt_status
bpttf_elman_workspace_set_grad_hook(bpttf_elman_workspace *ws,
                                    const bptt_grad_hook *hook);
BPTT_API bptt_status bpttf_elman_forward(const bptt_elman *el, size_t T,
                                         size_t B,
                                         const float *W, size_t ldw,
                                         const float *bh,
                                         const float *Wo, size_t ldwo,
                                         const float *bo,
                                         const float *x, size_t ldx,
                                         const float *h0, size_t ldh0,
                                         const int *labels,
                                         const float *L, size_t ldl,
                                         double *E,
                                         float *h, size_t ldh,
                                         float *y, size_t ldy,
                                         bptt_algo algo,
                                         bpttf_elman_workspace *ws);
BPTT_API bptt_status bpttf_elman_backward(const bptt_elman *el, size_t T,
                                          size_t B,
                                          const float *W, size_t ldw,
                                          const float *Wo, size_t ldwo,
                                          const int *labels,
                                          const float *L, size_t ldl,
                                          float beta,
                                          float *dW, size_t lddw, float *dbh,
                                          float *dWo, size_t lddwo,
                                          float *dbo,
                                          float *dx, size_t lddx,
                                          float *dh0, size_t lddh0,
                                          bptt_algo algo,
                                          bpttf_elman_workspace *ws);
BPTT_API bptt_status bpttf_elman_forward_tokens(const bptt_elman *el,
                                                size_t T, size_t B,
                                                const float *W, size_t ldw,
                                                const float *bh,
                                                const float *Wo, size_t ldwo,
                                                const float *bo,
                                                const int32_t *tokens,
                                                const float *h0, size_t ldh0,
                                                const int *labels,
                                                const float *L, size_t ldl,
                                                double *E,
                                                float *h, size_t ldh,
                                                float *y, size_t ldy,
                                                bptt_algo algo,
                                                bpttf_elman_workspace *ws);
BPTT_API bptt_status bpttf_elman_backward_tokens(const bptt_elman *el,
                                                 size_t T, size_t B,
                                                 const float *W, size_t ldw,
                                                 const float *Wo, size_t ldwo,
                                                 const int *labels,
                                                 const float *L, size_t ldl,
                                                 float beta,
                                                 float *dW, size_t lddw,
                                                 float *dbh,
                                                 float *dWo, size_t lddwo,
                                                 float *dbo,
                                                 float *dh0, size_t lddh0,
                                                 bptt_algo algo,
                                                 bpttf_elman_workspace *ws);

/* ------------------------------------------------------------------------ */
/* Non-finite check and error flow, as for Network A                        */
/* ------------------------------------------------------------------------ */

/* Turn the non-finite check of bptt_elman_forward and bptt_elman_backward
 * on (on != 0) or off (the default) for calls made with ws: the scans of
 * bptt_workspace_check_finite on the core, plus the head's arrays.  In
 * order, a call scans
 *
 *   forward:  Wo, bo, then the core's W, bh, h0, x, before it writes
 *             anything; then its results: the core's h_t, the loss E (if
 *             asked for) and y;
 *   backward: W, Wo before it writes anything; then the core's dL/dh_t
 *             (Woᵀ ∂E/∂ȳ_t, formed by the head: a non-finite one means an
 *             overflow inside the call, and dWo and dbo are already
 *             written), its results dx, dh0, dW, dbh, then dWo, dbo;
 *
 * and returns BPTT_ENONFINITE at the first NaN or ±Inf, with a detail
 * naming it.  The core's scans name the arrays by Network A's names (the
 * detail names bptt_forward or bptt_backward): y0 is h0, y(t+1) is h_t, dy
 * is dL/dh_t, dy0 is dh0 and db is dbh.  As for Network A, an input scan
 * means nothing was written; a result scan means the call ran to the end
 * and its outputs hold the non-finite values.
 *
 * Errors: BPTT_ENULL (ws NULL). */
BPTT_API bptt_status bptt_elman_workspace_check_finite(bptt_elman_workspace *ws,
                                                       int on);

/* Record the error flow of later bptt_elman_backward calls on ws, as
 * bptt_workspace_record_flow on the core: gnorm[t·B + b] = ‖∂E/∂h_t‖₂ (the
 * head's Woᵀ ∂E/∂ȳ_t plus the recurrent term) and dnorm[t·B + b] =
 * ‖∂E/∂h̄_t‖₂, for t = 0..T−1; each array (or NULL) of Tmax·Bmax doubles
 * owned by the caller; both NULL switch recording off.
 * Errors: BPTT_ENULL (ws NULL). */
BPTT_API bptt_status bptt_elman_workspace_record_flow(bptt_elman_workspace *ws,
                                                      double *gnorm,
                                                      double *dnorm);

BPTT_API bptt_status bpttf_elman_workspace_check_finite(
    bpttf_elman_workspace *ws, int on);
BPTT_API bptt_status bpttf_elman_workspace_record_flow(
    bpttf_elman_workspace *ws, double *gnorm, double *dnorm);

#ifdef __cplusplus
}
#endif

#endif /* BPTT_ELMAN_H */
