/*
 * bptt/train.h — the training kit: one flat parameter buffer with named
 * views (Network A and B), optimizers over it (SGD with momentum or
 * Nesterov, Adam, AdamW), checkpoints saved and loaded safely, and a
 * public finite-difference gradient check.  Include <bptt.h> rather than
 * this file.  docs/training.md shows them together in a training loop.
 *
 * The precision-dependent calls exist in double (bptt_) and float
 * (bpttf_), from one source; they are documented once, for double.
 */
#ifndef BPTT_TRAIN_H
#define BPTT_TRAIN_H

#include <stdint.h>

#include "bptt/common.h"
#include "bptt/elman.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------------ */
/* One parameter buffer                                                      */
/* ------------------------------------------------------------------------ */

/* Most views a layout has. */
#define BPTT_PARAMS_MAX 8

/* One named matrix inside a flat buffer: element (i, j) is
 * buf[offset + i·ld + j].  Views are packed (ld = cols) and in order, so
 * the buffer has no gaps and its count is the sum of rows·cols. */
typedef struct bptt_param_view {
    const char *name; /* static storage: "W", "b", "bh", "Wo", "bo" */
    size_t offset, rows, cols, ld;
} bptt_param_view;

/* The layout of a net's parameters in one contiguous buffer of count
 * elements; the gradient buffer has the same layout, so one layout serves
 * parameters and gradients, and clipping, an optimizer or a checkpoint can
 * act on each as a single array. */
typedef struct bptt_param_layout {
    size_t count;  /* elements of the buffer */
    size_t nviews; /* views in view[] */
    bptt_param_view view[BPTT_PARAMS_MAX];
} bptt_param_layout;

/* Network A: "W" (dout x (din+dout), [Wx | Wy] as bptt_forward's W, at
 * offset 0), then "b" (1 x dout).  count = dout·(din+dout) + dout.  Pass
 * buf + view.offset with ld = view.ld to bptt_forward / bptt_backward.
 *
 * Errors: BPTT_ENULL (net or p NULL), BPTT_EOVERFLOW (count does not fit
 * in size_t).  On error *p is not written. */
BPTT_API bptt_status bptt_net_param_layout(const bptt_net *net,
                                           bptt_param_layout *p);

/* Network B: "W" (dh x (din+dh), [Wi | Wh]), "bh" (1 x dh), "Wo" (nout x
 * dh), "bo" (1 x nout), in this order.
 * Errors: as bptt_net_param_layout (el NULL: BPTT_ENULL). */
BPTT_API bptt_status bptt_elman_param_layout(const bptt_elman *el,
                                             bptt_param_layout *p);

/* The index (0 .. nviews-1) of the view named name in p, or -1 if p or
 * name is NULL or no view has that name. */
BPTT_API int bptt_param_layout_find(const bptt_param_layout *p,
                                    const char *name);

/* ------------------------------------------------------------------------ */
/* Optimizers                                                                */
/* ------------------------------------------------------------------------ */

typedef enum bptt_optim_kind {
    BPTT_OPTIM_SGD = 0, /* SGD, optionally with momentum or Nesterov      */
    BPTT_OPTIM_ADAM,    /* Adam (Kingma & Ba 2015), L2 decay in the grad  */
    BPTT_OPTIM_ADAMW,   /* AdamW (Loshchilov & Hutter 2019), decoupled    */
    BPTT_NOPTIM         /* number of codes; not an optimizer */
} bptt_optim_kind;

/* The optimizer's name ("sgd", "adam", "adamw"), or NULL. */
BPTT_API const char *bptt_optim_name(bptt_optim_kind kind);

/* The hyper-parameters (the learning rate is an argument of every step, so
 * that a schedule may change it).  With g the gradient, p the parameters,
 * lr the step's rate and t the step's number (1 for the first):
 *
 *   SGD:   g ← g + λ p;  v ← μ v + g;  p ← p − lr·(nesterov ? g + μ v : v)
 *          (v ← g itself when μ = 0, and no state is kept)
 *   Adam:  g ← g + λ p;  m ← β1 m + (1−β1) g;  v ← β2 v + (1−β2) g²;
 *          p ← p − (lr / (1−β1^t)) · m / (sqrt(v) / sqrt(1−β2^t) + ε)
 *   AdamW: p ← p (1 − lr λ), then Adam's update without λ in g
 *
 * These are the updates of PyTorch's torch.optim.SGD (dampening 0), Adam
 * and AdamW, rounded in the same order, so a twin program gives the same
 * parameters to rounding.  bptt_optim_defaults gives μ = 0, β1 = 0.9,
 * β2 = 0.999, ε = 1e-8, λ = 0 (AdamW: 0.01). */
typedef struct bptt_optim_config {
    bptt_optim_kind kind;
    double momentum;     /* μ in [0, 1) (SGD)                        */
    int nesterov;        /* SGD: Nesterov's momentum (needs μ > 0)   */
    double beta1, beta2; /* in [0, 1) (Adam, AdamW)                  */
    double eps;          /* ε > 0, finite (Adam, AdamW)              */
    double weight_decay; /* λ >= 0, finite                           */
} bptt_optim_config;

/* The defaults of kind into *cfg (nothing written for an unknown kind or a
 * NULL cfg). */
BPTT_API void bptt_optim_defaults(bptt_optim_kind kind, bptt_optim_config *cfg);

/* Opaque, immutable once created: a validated configuration for a buffer
 * of n parameters; shareable between threads. */
typedef struct bptt_optim bptt_optim;

/* Make an optimizer for n parameters from cfg (copied).
 * Errors: BPTT_ENULL (cfg or opt NULL), BPTT_ESIZE (n is 0), BPTT_EINVAL
 * (unknown kind, or a hyper-parameter out of its range: the detail names
 * it), BPTT_ENOMEM.  On error *opt is not written. */
BPTT_API bptt_status bptt_optim_create(const bptt_optim_config *cfg, size_t n,
                                       bptt_optim **opt);
BPTT_API void bptt_optim_free(bptt_optim *opt); /* NULL is a no-op */

/* Bytes of the optimizer's state in one precision: a 64-byte header (the
 * kind, n, the precision and the step count) and the moment arrays —
 *
 *   bytes = 64 + k·n·r,   k = 0 (SGD, μ = 0), 1 (SGD, μ > 0), 2 (Adam[W]),
 *
 * r = sizeof(double) (bptt_) or sizeof(float) (bpttf_).  A pure query.
 * Errors: BPTT_ENULL (opt or bytes NULL), BPTT_EOVERFLOW. */
BPTT_API bptt_status bptt_optim_state_size(const bptt_optim *opt,
                                           size_t *bytes);

/* Make a fresh state (step count 0, moments 0) in the caller's buffer
 * state of the given bytes, which must be aligned to r bytes (malloc's
 * are).  The caller owns the buffer; it may be saved with a checkpoint
 * (bptt_checkpoint_save) and is portable between processes.
 * Errors: BPTT_ENULL, BPTT_EBUFFER (bytes smaller than the query's),
 * BPTT_EINVAL (state misaligned). */
BPTT_API bptt_status bptt_optim_state_init(const bptt_optim *opt, void *state,
                                           size_t bytes);

/* The number of steps the state has taken (0 for NULL or a buffer that is
 * not a state). */
BPTT_API unsigned long long bptt_optim_state_steps(const void *state);

/* One step over the n parameters p with the gradient g (both n elements,
 * contiguous, not overlapping each other or state) at learning rate lr.
 * The gradient is scanned first: a NaN or ±Inf in g is refused with
 * BPTT_ENONFINITE (the detail names the index) and p and the state are
 * untouched, so one bad batch cannot poison the model.
 *
 * Errors: BPTT_ENULL (opt, p, g or state NULL), BPTT_EINVAL (lr not finite
 * or negative; state misaligned), BPTT_EMISMATCH (state made for another
 * optimizer, size or precision, or not a state), BPTT_EOVERLAP (p, g and
 * the state share memory), BPTT_ENONFINITE.  On error nothing is
 * written. */
BPTT_API bptt_status bptt_optim_step(const bptt_optim *opt, double lr,
                                     double *p, const double *g, void *state);

BPTT_API bptt_status bpttf_optim_state_size(const bptt_optim *opt,
                                            size_t *bytes);
BPTT_API bptt_status bpttf_optim_state_init(const bptt_optim *opt,
                                            void *state, size_t bytes);
BPTT_API bptt_status bpttf_optim_step(const bptt_optim *opt, double lr,
                                      float *p, const float *g, void *state);

/* ------------------------------------------------------------------------ */
/* Checkpoints                                                               */
/* ------------------------------------------------------------------------ */

/* The version of the checkpoint format this library writes and reads. */
#define BPTT_CHECKPOINT_VERSION 1

/* Save a model to the file path: its description (Network A: give net
 * and el = NULL; Network B: give el and net = NULL), its parameters params
 * (the layout of bptt_net_param_layout / bptt_elman_param_layout, count
 * elements) and,
 * optionally, an optimizer state of state_bytes bytes (state NULL: none).
 * The format is documented in docs/training.md ("Checkpoint format"):
 * a header recording the version, byte order and precision, then
 * sections, each with its CRC-32C.
 *
 * The file is written under a temporary name in path's directory
 * (path.tmp.XXXXXX), flushed to disk (fsync), then renamed to path and the
 * directory flushed, so that a crash or a kill at any moment leaves under
 * path either the old file or the new one, never a part of one (a
 * temporary file may be left behind).
 *
 * Errors: BPTT_ENULL (path, params, or both net and el NULL), BPTT_EINVAL
 * (both net and el given; state given with state_bytes 0, or not a state
 * of this precision), BPTT_EIO (the file system refused: the detail names
 * the operation and errno's text; the old file under path, if any, is
 * intact), BPTT_ENOMEM. */
BPTT_API bptt_status bptt_checkpoint_save(const char *path,
                                          const bptt_net *net,
                                          const bptt_elman *el,
                                          const double *params,
                                          const void *state,
                                          size_t state_bytes);

/* Load a checkpoint saved for the same kind of model into params (and into
 * state, if state is not NULL and the file has one).  The whole file is
 * read and checked before anything is written:
 *
 *   BPTT_EIO        the file cannot be opened or read;
 *   BPTT_EFORMAT    not a bptt checkpoint (magic), or saved on a machine
 *                   of the other byte order;
 *   BPTT_EVERSION   a version other than BPTT_CHECKPOINT_VERSION;
 *   BPTT_ECORRUPT   truncated, trailing bytes, a section's length or CRC-32C
 *                   wrong, the header's CRC-32C wrong;
 *   BPTT_EMISMATCH  saved for another network (sizes, activations, head,
 *                   Network A vs B), in the other precision, or its
 *                   optimizer state is not one for the state given (kind,
 *                   n or bytes differ; the state must come from
 *                   bptt_optim_state_init of the optimizer to resume).
 *
 * has_state (may be NULL) receives 1 if the file's optimizer state was
 * loaded into state, 0 otherwise (no state in the file: state untouched).
 * Errors also: BPTT_ENULL (path or params NULL, or both net and el),
 * BPTT_EINVAL (both net and el), BPTT_ENOMEM.  On error nothing is
 * written (params, state, has_state). */
BPTT_API bptt_status bptt_checkpoint_load(const char *path,
                                          const bptt_net *net,
                                          const bptt_elman *el,
                                          double *params, void *state,
                                          size_t state_bytes, int *has_state);

/* The same in memory: check a checkpoint image of `bytes` bytes as
 * bptt_checkpoint_load would and copy it out (what the loader's fuzzer
 * drives).  Same errors but BPTT_EIO. */
BPTT_API bptt_status bptt_checkpoint_parse(const void *image, size_t bytes,
                                           const bptt_net *net,
                                           const bptt_elman *el,
                                           double *params, void *state,
                                           size_t state_bytes,
                                           int *has_state);

BPTT_API bptt_status bpttf_checkpoint_save(const char *path,
                                           const bptt_net *net,
                                           const bptt_elman *el,
                                           const float *params,
                                           const void *state,
                                           size_t state_bytes);
BPTT_API bptt_status bpttf_checkpoint_load(const char *path,
                                           const bptt_net *net,
                                           const bptt_elman *el,
                                           float *params, void *state,
                                           size_t state_bytes, int *has_state);
BPTT_API bptt_status bpttf_checkpoint_parse(const void *image, size_t bytes,
                                            const bptt_net *net,
                                            const bptt_elman *el,
                                            float *params, void *state,
                                            size_t state_bytes,
                                            int *has_state);

/* CRC-32C (Castagnoli, reflected polynomial 0x82F63B78, initial value and
 * final xor 0xFFFFFFFF) of n bytes: crc32c("123456789") = 0xE3069283.
 * Pass crc = 0 to start; pass a previous result to continue over more
 * bytes.  data may be NULL when n is 0. */
BPTT_API unsigned long bptt_crc32c(unsigned long crc, const void *data,
                                   size_t n);

/* ------------------------------------------------------------------------ */
/* Token inputs                                                              */
/* ------------------------------------------------------------------------ */

/* The one-hot rows of n token ids for the x of Network A or B (din =
 * vocab): row k of x (ld ldx >= vocab) becomes e_{tokens[k]}, the padding
 * past vocab untouched.  For T steps of B sequences, n = T·B and
 * tokens[t·B + b] is step t of sequence b.  Every id is checked before any
 * row is written.
 *
 * Errors: BPTT_ENULL (tokens or x NULL), BPTT_ESIZE (n or vocab 0),
 * BPTT_ELD (ldx < vocab), BPTT_EOVERFLOW (the extent of x), BPTT_EINVAL
 * (an id outside [0, vocab): the detail names its position k and value).
 * On error nothing is written. */
BPTT_API bptt_status bptt_tokens_onehot(size_t n, size_t vocab,
                                        const int32_t *tokens, double *x,
                                        size_t ldx);
BPTT_API bptt_status bpttf_tokens_onehot(size_t n, size_t vocab,
                                         const int32_t *tokens, float *x,
                                         size_t ldx);

/* ------------------------------------------------------------------------ */
/* Gradient check (double only: central differences need its digits)        */
/* ------------------------------------------------------------------------ */

/* The worst disagreement between the library's gradient and central
 * differences, and where it is. */
typedef struct bptt_gradcheck_result {
    double max_relerr;  /* max over entries of the relative error below   */
    size_t index;       /* its element of the flat parameter buffer       */
    const char *view;   /* its view's name ("W", "b", "bh", "Wo", "bo")   */
    size_t row, col;    /* and position in that view                      */
    double analytic;    /* the library's derivative there                 */
    double numeric;     /* the central difference there                   */
} bptt_gradcheck_result;

/* Check Network A's gradient on the caller's problem: T steps of B
 * sequences, x ((T*B) x din, packed), y0 (B x dout, packed, or NULL for 0)
 * and targets ((T*B) x dout, packed) under the squared-error loss of
 * bptt_loss_squared, at the parameters params (the layout of
 * bptt_net_param_layout).  Every parameter θ_i is moved by ±h_i, h_i =
 * h·max(1, |θ_i|), and
 *
 *     numeric_i = (L(θ + h_i e_i) − L(θ − h_i e_i)) / (2 h_i),
 *     relerr_i  = |analytic_i − numeric_i| / max(|analytic_i|, |numeric_i|,
 *                                                 1e-6·max_j |analytic_j|),
 *
 * so entries far below the gradient's scale are judged against that scale.
 * Costs 2·count + 1 forward passes: meant for small problems.  Users of a
 * custom activation (bptt_custom_activation) verify their f' with it.
 * params is restored bitwise before returning.  h = 0 picks 1e-5.
 *
 * Errors: BPTT_ENULL (net, params, x, target or res NULL), BPTT_ESIZE (T
 * or B 0), BPTT_EINVAL (h negative or not finite), BPTT_ENONFINITE (a loss
 * or a derivative is not finite), those of bptt_workspace_alloc.  On error
 * *res is not written. */
BPTT_API bptt_status bptt_gradcheck_net(const bptt_net *net, size_t T,
                                        size_t B, double *params,
                                        const double *x, const double *y0,
                                        const double *target, double h,
                                        bptt_gradcheck_result *res);

/* The same for Network B, with the loss of bptt_elman_forward against
 * labels (T*B class indices, softmax head) or L ((T*B) x nout, packed):
 * exactly one for the softmax head, L for the linear head; h0 (B x dh,
 * packed) or NULL.  params has the layout of bptt_elman_param_layout.
 * Errors: as bptt_gradcheck_net, and those of bptt_elman_forward (labels
 * out of range, both targets given ...). */
BPTT_API bptt_status bptt_gradcheck_elman(const bptt_elman *el, size_t T,
                                          size_t B, double *params,
                                          const double *x, const double *h0,
                                          const int *labels, const double *L,
                                          double h,
                                          bptt_gradcheck_result *res);

#ifdef __cplusplus
}
#endif

#endif /* BPTT_TRAIN_H */
