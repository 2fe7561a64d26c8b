/*
 * bptt/hook.h — being told when parts of a weight gradient are final, so
 * that a caller can use them (e.g. start sending them to other processes)
 * while the backward pass goes on computing the rest.  This is the hook the
 * data-parallel module (bptt/mpi.h) overlaps its reduction with.
 * Include <bptt.h> rather than this file.
 */
#ifndef BPTT_HOOK_H
#define BPTT_HOOK_H

#include <stddef.h>

#include "bptt/common.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Which gradient a call of the hook is about. */
typedef enum bptt_grad_part {
    BPTT_GRAD_W = 0, /* rows r0..r1-1 of dW (Network A, or Network B's core) */
    BPTT_GRAD_WO,    /* all of Network B's dWo and dbo (r0 = 0, r1 = nout)  */
    BPTT_NGRAD_PART  /* number of codes; not a part */
} bptt_grad_part;

/* A gradient-ready hook, installed in a workspace by
 * bptt_workspace_set_grad_hook or bptt_elman_workspace_set_grad_hook (and
 * the bpttf_ versions: the struct serves both precisions).
 *
 * ready(user, part, r0, r1) is called on the thread making the backward
 * call, each time the rows r0..r1-1 of the gradient part hold their final
 * values (beta applied).  The call does not read or write those rows again
 * (save the result scan of bptt_workspace_check_finite, if on), so the
 * hook may hand them to something that reads them or overwrites them in
 * place while the backward goes on, e.g. a non-blocking reduction.  It
 * must not call bptt on the workspace, and must return.
 *
 * panel_rows: with the deferred algorithm, dL/dW = Δᵀ S is computed in
 * panels of panel_rows rows of dW (0: all rows at once), ready being
 * called after each, in increasing r0, so that what the hook starts runs
 * while the next panel is computed.  panel_rows is read before each panel,
 * so ready may change it for the next (e.g. panels that shrink towards the
 * end, leaving little to wait for after the last).  Each panel's product
 * reads all of S (T·B rows): many thin panels cost more than one GEMM.
 * Every panel is the same product as the whole, row for row: with bptt's
 * own GEMM (bptt_own_gemm) each element is summed in the same order
 * whatever the panels, so the result is bitwise independent of
 * panel_rows; a BLAS's GEMM need not promise that (OpenBLAS 0.3.21 gave
 * bitwise equal rows in tests/test_hook.c).  The naive and gemv-ger
 * algorithms finish dW only at their last step and call ready once, for
 * all rows.  dL/dx, db and dy0 are computed after the last panel of dW, so
 * db is final only when the call returns. */
typedef struct bptt_grad_hook {
    void (*ready)(void *user, bptt_grad_part part, size_t r0, size_t r1);
    void *user;
    size_t panel_rows;
} bptt_grad_hook;

#ifdef __cplusplus
}
#endif

#endif /* BPTT_HOOK_H */
