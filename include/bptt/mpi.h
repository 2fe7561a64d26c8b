/*
 * bptt/mpi.h — data-parallel gradients over MPI: every process (rank) of a
 * communicator holds a shard of the batch's sequences; one collective call
 * computes the gradient of this rank's shard and returns on every rank the
 * sum over all ranks, reduced in buckets that start while the backward
 * pass still runs.
 *
 * Not included by <bptt.h>: it needs <mpi.h>.  Link with -lbptt_mpi
 * (pkg-config bptt-mpi) and the MPI library, start with mpirun.
 *
 * How the overlap works: the parameters' gradients live in one contiguous
 * buffer of the context, [dW | db] for Network A and [dWo | dbo | dW | dbh]
 * for Network B, reduced in buckets posted (MPI_Iallreduce) as soon as each
 * part is final (bptt/hook.h).  Network B's dWo and dbo are final before
 * the core's backward starts, so their reduction overlaps all of it.  dW
 * is one bucket by default; bptt_mpi_set_panels splits its GEMM into
 * panels of rows, each panel's reduction travelling while the next is
 * computed (the call tests the outstanding requests between panels so
 * that MPI progresses them).  The bias gradients and the loss go last.
 *
 * Results:
 *   - equal to the gradient of one process over the union of the shards to
 *     rounding (summation order), bitwise the same on every call for a
 *     fixed number of ranks;
 *   - with BPTT_MPI_FIXED_ORDER, bitwise the same for ANY number of ranks
 *     (1 included): each sequence's gradient is computed alone, and the
 *     sequences' gradients are added in global sequence order, rank 0's
 *     shard first, then rank 1's, ...  It costs a backward per sequence
 *     (B = 1 products instead of B-wide ones), memory for the shard's
 *     per-sequence gradients, and a reduction that is a chain through the
 *     ranks with no overlap (docs/mpi.md gives the measured cost).
 *
 * Errors never hang and always agree: before any gradient is reduced, the
 * ranks agree on the status of their local work (argument checks, forward,
 * loss, the non-finite scans).  If a rank failed, every rank returns the
 * status of the lowest failing rank, and bptt_mpi_error_detail() names it
 * with its own detail, e.g. "bptt_mpi_gradient: rank 1 of 3 failed:
 * bptt_forward: x(3) of sequence 1, element 0, is NaN".  Nothing is written
 * to the caller's gradients or loss on any error: the reduced sums reach
 * them only once every rank is known to have succeeded.  A NULL context is
 * the one error that cannot be agreed on (there is no communicator): never
 * pass NULL on some ranks only.  Failures of MPI itself follow the
 * communicator's error handler (by default MPI aborts the job).
 *
 * Every call on a context is collective over its communicator: every rank
 * makes the same calls in the same order.  Every function exists in double
 * precision as bptt_mpi_<name> and in single precision as bpttf_mpi_<name>
 * from one source, documented once below for double.  Losses are double in
 * both precisions.  One thread at a time may use a context.
 */
#ifndef BPTT_MPI_H
#define BPTT_MPI_H

#include <mpi.h>

#include "bptt.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Options of a context (bitwise or; 0: the defaults). */
enum {
    /* Sum in global sequence order, bitwise the same for every rank count
     * (see above).  Without it, each rank's shard is one batched backward
     * and the sums go through MPI_Iallreduce. */
    BPTT_MPI_FIXED_ORDER = 1u << 0,
    /* Do not overlap: one reduction of the whole buffer after the
     * backward, Network B's dWo included (for measuring what the overlap
     * hides). */
    BPTT_MPI_NO_OVERLAP = 1u << 1
};

/* A data-parallel context: the communicator (duplicated), the network,
 * a workspace for the local shard, the contiguous gradient buffer. */
typedef struct bptt_mpi bptt_mpi;
typedef struct bpttf_mpi bpttf_mpi;

/* Make a context for Network A (net) on comm, for local shards of at most
 * Tmax steps and Bmax sequences per call.  Collective over comm (it
 * duplicates it).  The context refers to net, which must outlive it, and
 * owns a workspace of bptt_workspace_size(net, Tmax, Bmax) bytes, the
 * forward's y and dL/dy for Tmax*Bmax rows, and the gradient buffer of
 * dout*(din+dout) + dout elements (times Bmax + 1 with
 * BPTT_MPI_FIXED_ORDER).  Ranks may give different Bmax.
 *
 * Every rank must pass the same flags and a network of the same shape.
 *
 * Errors (agreed between the ranks, as every call's): BPTT_ENULL (net or
 * ctx NULL), BPTT_EINVAL (unknown flags, flags or network shapes that
 * differ between the ranks, or comm is MPI_COMM_NULL: not agreed),
 * BPTT_ESIZE, BPTT_EOVERFLOW, BPTT_ENOMEM.  On error *ctx is not
 * written. */
BPTT_API bptt_status bptt_mpi_create(MPI_Comm comm, const bptt_net *net,
                                     size_t Tmax, size_t Bmax, unsigned flags,
                                     bptt_mpi **ctx);

/* The same for Network B (el, bptt/elman.h); the buffer holds nout*dh +
 * nout + dh*(din+dh) + dh elements.  The context refers to el. */
BPTT_API bptt_status bptt_mpi_create_elman(MPI_Comm comm, const bptt_elman *el,
                                           size_t Tmax, size_t Bmax,
                                           unsigned flags, bptt_mpi **ctx);

/* Free a context (NULL is a no-op).  Collective (it frees the duplicated
 * communicator). */
BPTT_API void bptt_mpi_free(bptt_mpi *ctx);

/* This rank and the number of ranks of the context's communicator (-1 and
 * 0 for a NULL ctx). */
BPTT_API int bptt_mpi_rank(const bptt_mpi *ctx);
BPTT_API int bptt_mpi_size(const bptt_mpi *ctx);

/* Turn the non-finite check on (on != 0) or off (the default).  With it on,
 * a gradient call fails with BPTT_ENONFINITE on every rank when a rank's
 * inputs (weights, biases, x, the initial state, targets) or its loss
 * gradient hold a NaN or ±Inf — checked before anything is reduced — or
 * when the reduced gradient does (then no rank writes it).  Local, not
 * collective, but give every rank the same setting.
 *
 * Errors: BPTT_ENULL (ctx NULL). */
BPTT_API bptt_status bptt_mpi_check_finite(bptt_mpi *ctx, int on);

/* How dW is split into panels of rows, each reduced as soon as it is
 * computed while the next is computed.  npanels = 1, the default: dW is
 * one GEMM and one bucket (what overlaps the backward is then Network B's
 * [dWo | dbo], reduced during the whole core backward).  npanels = k (2 ..
 * dout): k equal panels.  npanels = 0: halving panels — half of dW's rows,
 * then half of the rest, ..., none thinner than 64 rows — large panels
 * first, a small last one whose reduction nothing hides.
 *
 * Each panel's product reads all of the shard's S again, so splitting
 * costs compute: on the machine measured in docs/mpi.md, 2–3 panels added
 * ~15% to a (256,256,100,32) call whose whole reduction cost 1–2%.  Split
 * only where the reduction is large beside the backward (many ranks, a
 * slow link, a small T·B per rank; docs/mpi.md has the α–β model).  Give
 * every rank the same setting.
 *
 * Errors: BPTT_ENULL (ctx NULL), BPTT_EINVAL (npanels > dout). */
BPTT_API bptt_status bptt_mpi_set_panels(bptt_mpi *ctx, size_t npanels);

/* Network A: the squared-error loss and its gradient, summed over every
 * rank's shard.  Each rank passes its own T steps of B sequences (B may
 * differ between ranks, and may be 0 on a rank with nothing to do; T must be
 * the same on every rank): W, b, x, y0 as bptt_forward takes them, the
 * targets and mask as bptt_loss_squared takes them.  On every rank:
 *
 *     loss = Σ_ranks Σ_{t,b} ½‖y(t+1) − ŷ(t+1)‖²            (if loss not NULL)
 *     dW   = β dW + Σ_ranks Σ_{t,b} δ(t) [x(t−1); y(t−1)]ᵀ   eq. (12)
 *     db   = β db + Σ_ranks Σ_{t,b} δ(t)                     (if db not NULL)
 *
 * with beta as in bptt_backward (0 overwrites).  W must be the same on
 * every rank (it is not checked).  Only the parameters' gradients are
 * reduced; the forward's y of the shard is not returned.
 *
 * Errors, the same on every rank (see above): BPTT_ENULL (W, x, target or
 * dW NULL), BPTT_ESIZE (T is 0 with B > 0), BPTT_ELD, BPTT_ECAPACITY (T >
 * Tmax or B > Bmax), BPTT_EINVAL (beta not finite), BPTT_ENONFINITE (with
 * bptt_mpi_check_finite on), BPTT_EMISMATCH (a Network B context), and
 * every error of bptt_forward, bptt_loss_squared and bptt_backward. */
BPTT_API bptt_status bptt_mpi_gradient(bptt_mpi *ctx, size_t T, size_t B,
                                       const double *W, size_t ldw,
                                       const double *b,
                                       const double *x, size_t ldx,
                                       const double *y0, size_t ldy0,
                                       const double *target, size_t ldt,
                                       const unsigned char *mask,
                                       double *loss, double beta,
                                       double *dW, size_t lddw, double *db);

/* Network B: bptt_elman_forward's loss E and bptt_elman_backward's
 * parameter gradients, summed over every rank's shard (each rank its own B
 * sequences, possibly 0; the same T): on every rank
 *
 *     E = Σ_ranks E_rank,   dW = β dW + Σ_ranks dW_rank,  and likewise
 *     dbh, dWo, dbo (dbh, dbo and E optional; dW and dWo required).
 *
 * Arguments as bptt_elman_forward / bptt_elman_backward take them.
 * Errors as bptt_mpi_gradient, with those of the Elman calls;
 * BPTT_EMISMATCH for a Network A context. */
BPTT_API bptt_status bptt_mpi_elman_gradient(bptt_mpi *ctx, size_t T,
                                             size_t B,
                                             const double *W, size_t ldw,
                                             const double *bh,
                                             const double *Wo, size_t ldwo,
                                             const double *bo,
                                             const double *x, size_t ldx,
                                             const double *h0, size_t ldh0,
                                             const int *labels,
                                             const double *L, size_t ldl,
                                             double *E, double beta,
                                             double *dW, size_t lddw,
                                             double *dbh,
                                             double *dWo, size_t lddwo,
                                             double *dbo);

/* Seconds spent by this rank in the last gradient call: in all (total), in
 * the local forward, loss and backward (compute), and waiting for the
 * reduction after the backward returned (exposed: the part of the
 * communication not hidden behind the backward).  Any pointer may be NULL.
 *
 * Errors: BPTT_ENULL (ctx NULL). */
BPTT_API bptt_status bptt_mpi_last_times(const bptt_mpi *ctx, double *total,
                                         double *compute, double *exposed);

/* The detail of the last error a bptt_mpi_ or bpttf_mpi_ call returned to
 * the calling thread, naming the failing rank (thread-local, static
 * storage, valid until the thread's next failing call; "" if none).
 * bptt_error_detail() keeps reporting the library's own calls. */
BPTT_API const char *bptt_mpi_error_detail(void);

/* ------------------------------------------------------------------------ */
/* Single precision: the same functions with float (documented above).      */
/* ------------------------------------------------------------------------ */

BPTT_API bptt_status bpttf_mpi_create(MPI_Comm comm, const bptt_net *net,
                                      size_t Tmax, size_t Bmax, unsigned flags,
                                      bpttf_mpi **ctx);
BPTT_API bptt_status bpttf_mpi_create_elman(MPI_Comm comm,
                                            const bptt_elman *el, size_t Tmax,
                                            size_t Bmax, unsigned flags,
                                            bpttf_mpi **ctx);
BPTT_API void bpttf_mpi_free(bpttf_mpi *ctx);
BPTT_API int bpttf_mpi_rank(const bpttf_mpi *ctx);
BPTT_API int bpttf_mpi_size(const bpttf_mpi *ctx);
BPTT_API bptt_status bpttf_mpi_check_finite(bpttf_mpi *ctx, int on);
BPTT_API bptt_status bpttf_mpi_set_panels(bpttf_mpi *ctx, size_t npanels);
BPTT_API bptt_status bpttf_mpi_gradient(bpttf_mpi *ctx, size_t T, size_t B,
                                        const float *W, size_t ldw,
                                        const float *b,
                                        const float *x, size_t ldx,
                                        const float *y0, size_t ldy0,
                                        const float *target, size_t ldt,
                                        const unsigned char *mask,
                                        double *loss, float beta,
                                        float *dW, size_t lddw, float *db);
BPTT_API bptt_status bpttf_mpi_elman_gradient(bpttf_mpi *ctx, size_t T,
                                              size_t B,
                                              const float *W, size_t ldw,
                                              const float *bh,
                                              const float *Wo, size_t ldwo,
                                              const float *bo,
                                              const float *x, size_t ldx,
                                              const float *h0, size_t ldh0,
                                              const int *labels,
                                              const float *L, size_t ldl,
                                              double *E, float beta,
                                              float *dW, size_t lddw,
                                              float *dbh,
                                              float *dWo, size_t lddwo,
                                              float *dbo);
BPTT_API bptt_status bpttf_mpi_last_times(const bpttf_mpi *ctx, double *total,
                                          double *compute, double *exposed);

#ifdef __cplusplus
}
#endif

#endif /* BPTT_MPI_H */
