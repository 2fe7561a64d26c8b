/*
 * bptt — exact gradients of recurrent networks by back-propagation through
 * time, in matrix form, on top of CBLAS.
 *
 * This is the one header a user includes.  It declares
 *
 *   - the status codes and their messages              (bptt/common.h)
 *   - the CPU's vector instruction set and the one bptt's kernels run
 *                                                       (bptt/cpu.h)
 *   - the BLAS in use, and whether its kernels are weaker than the CPU
 *                                                       (bptt/blas.h)
 *   - the network descriptor and per-unit activations  (bptt/common.h)
 *   - Network A: workspace, forward, loss, backward, SGD, in double
 *     (bptt_*) and in single precision (bpttf_*)        (bptt/network.h)
 *   - Network B: the Elman network with a softmax or linear output head
 *     on Network A's core, in both precisions           (bptt/elman.h)
 *   - initial weights: Glorot, orthogonal, spectral radius (bptt/init.h)
 *   - gradient-flow diagnostics: spectral radius and norm of Wy, the
 *     error-flow profile against the lag                (bptt/flow.h)
 *   - global-norm gradient clipping                     (bptt/clip.h)
 *   - forward-mode gradients, real-time recurrent learning (RTRL), for
 *     online learning and long streams, in both precisions (bptt/rtrl.h)
 *   - the training kit: one parameter buffer with named views, SGD with
 *     momentum, Adam and AdamW over it, checkpoints saved and loaded
 *     safely, a public gradient check                   (bptt/train.h)
 *   - plans: Network A, Network B and RTRL made once from the descriptor,
 *     the largest T and B and the arrays' layout, then run with a few
 *     arguments; the calls above are the expert layer they forward to
 *                                                       (bptt/plan.h)
 *   - the gated cells, LSTM and GRU (PyTorch's gate order and equations),
 *     on the same matrix-form BPTT, in both precisions   (bptt/gated.h)
 *
 * Conventions shared by every function:
 *
 *   - Every function returns a bptt_status; BPTT_OK is 0.  On any other
 *     status nothing was written: every output array, every input array and
 *     the workspace are bytewise as they were — save one case, opted into:
 *     BPTT_ENONFINITE from the scan of a call's results, which reports
 *     outputs already written (bptt_workspace_check_finite).
 *     bptt_strerror() maps a status to a fixed text; bptt_error_detail()
 *     gives the text of the last error raised in the calling thread,
 *     naming the argument at fault.  Nothing is ever printed and nothing
 *     aborts.
 *   - Matrices are row-major with an explicit leading dimension (the
 *     distance in elements between the starts of two rows), as in CBLAS, so
 *     a caller may pass sub-matrices.
 *   - Sequences are time-major: for T steps of B sequences the row of step
 *     t and sequence b is row t*B + b of a (T*B)-row matrix.
 *   - The caller owns weights, data and gradients; the library owns only
 *     the scratch memory of a workspace, sized once by a query.  forward and
 *     backward never allocate.
 */
#ifndef BPTT_H
#define BPTT_H

#include "bptt/common.h"
#include "bptt/cpu.h"
#include "bptt/blas.h"
#include "bptt/network.h"
#include "bptt/elman.h"
#include "bptt/init.h"
#include "bptt/flow.h"
#include "bptt/clip.h"
#include "bptt/rtrl.h"
#include "bptt/plan.h"
#include "bptt/gated.h"
#include "bptt/train.h"
#include "bptt/schedule.h"

#endif /* BPTT_H */
