/*
 * elman_finite.c — Network B on par with A: the opt-in non-finite check
 * and the error-flow recording of the Elman workspace.  Both are the core's
 * (diag/finite.c, diag/flow.c), switched on the Network A workspace inside;
 * the head's own arrays (Wo, bo; y, E; dWo, dbo) are scanned here.
 */
#include <math.h>

#include "cells/gated/gated.h"
#include "diag/finite.h"
#include "heads/elman_impl.h"

bptt_status X(elman_workspace_check_finite)(X(elman_workspace) *ws, int on)
{
    if (!ws)
        return bptt__fail(BPTT_ENULL, PREFIX "elman_workspace_check_finite",
                          "ws is NULL");
    return ws->core ? X(workspace_check_finite)(ws->core, on)
                    : X(gated_workspace_check_finite)(ws->gcore, on);
}

bptt_status X(elman_workspace_record_flow)(X(elman_workspace) *ws,
                                           double *gnorm, double *dnorm)
{
    if (!ws)
        return bptt__fail(BPTT_ENULL, PREFIX "elman_workspace_record_flow",
                          "ws is NULL");
    return ws->core ? X(workspace_record_flow)(ws->core, gnorm, dnorm)
                    : X(gated_workspace_record_flow)(ws->gcore, gnorm, dnorm);
}

/* The core's switch, whichever cell it is. */
static int checking(const X(elman_workspace) *ws)
{
    return ws->core ? ws->core->check_finite : ws->gcore->check_finite;
}

bptt_status XI(elman_finite_inputs)(const char *fn,
                                    const X(elman_workspace) *ws, const R *W,
                                    size_t ldw, const R *Wo, size_t ldwo,
                                    const R *bo)
{
    if (!checking(ws))
        return BPTT_OK;
    const bptt_net *net = ws->el->net;
    const size_t dh = net->dout, nout = ws->el->nout;
    if (W) /* backward: the core scans W only after the head has written */
        CHECK(XI(finite_block)(fn, "W", W, ws->el->G * dh, net->m, ldw));
    CHECK(XI(finite_block)(fn, "Wo", Wo, nout, dh, ldwo));
    return XI(finite_block)(fn, "bo", bo, 1, nout, nout);
}

bptt_status XI(elman_finite_results)(const char *fn,
                                     const X(elman_workspace) *ws, size_t TB,
                                     const double *E, const R *dWo,
                                     size_t lddwo, const R *dbo)
{
    if (!checking(ws))
        return BPTT_OK;
    const size_t dh = ws->el->net->dout, nout = ws->el->nout;
    if (E && !isfinite(*E))
        return bptt__fail(BPTT_ENONFINITE, fn, "the loss E is %s",
                          isnan(*E) ? "NaN" : "+Inf");
    if (!dWo)
        return XI(finite_block)(fn, "y", ws->Y, TB, nout, nout);
    CHECK(XI(finite_block)(fn, "dWo", dWo, nout, dh, lddwo));
    return XI(finite_block)(fn, "dbo", dbo, 1, nout, nout);
}
