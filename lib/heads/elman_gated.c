/*
 * elman_gated.c — Network B on a gated core (bptt_elman_create_cell): the
 * gated cell's options that the bptt_elman_ calls, made for Network A's
 * core, have no argument for — the recurrent-side bias b_hh (not redundant
 * for the GRU's linear-before-reset candidate, docs/gated.md (G13)) and
 * the LSTM's cell state c(0), c(T) and dL/dc(0) for a state carried across
 * calls.  They are set on the workspace, as the error-flow recording is,
 * and elman.c passes them to the gated forward and backward.
 */
#include "heads/elman_impl.h"

/* Hold ws (NULL, busy, or not a gated core refused) for a setter. */
static bptt_status enter(const char *fn, X(elman_workspace) *ws)
{
    if (!ws)
        return bptt__fail(BPTT_ENULL, fn, "ws is NULL");
    if (!ws->gcore)
        return bptt__fail(BPTT_EINVAL, fn, "the Elman descriptor's core is "
                          "the vanilla cell: its bias is bh");
    return bptt__enter(fn, "ws", &ws->busy);
}

/* bptt_elman_workspace_set_gated_bias, bpttf_elman_workspace_set_gated_bias
 * (gated.h) */
bptt_status X(elman_workspace_set_gated_bias)(X(elman_workspace) *ws,
                                              const R *bhh, R *dbhh)
{
    static const char fn[] = PREFIX "elman_workspace_set_gated_bias";
    CHECK(enter(fn, ws));
    ws->bhh = bhh;
    ws->dbhh = dbhh;
    bptt__leave(&ws->busy);
    return BPTT_OK;
}

/* bptt_elman_workspace_set_cell_state, bpttf_elman_workspace_set_cell_state
 * (gated.h) */
bptt_status X(elman_workspace_set_cell_state)(X(elman_workspace) *ws,
                                              const R *c0, size_t ldc0, R *cT,
                                              size_t ldcT, R *dc0,
                                              size_t lddc0)
{
    static const char fn[] = PREFIX "elman_workspace_set_cell_state";
    CHECK(enter(fn, ws));
    const size_t dh = ws->el->net->dout;
    bptt_status st = BPTT_OK;
    if (ws->el->cell != BPTT_CELL_LSTM && (c0 || cT || dc0))
        st = bptt__fail(BPTT_EINVAL, fn, "the %s cell has no cell state",
                        bptt_cell_name(ws->el->cell));
    else if ((c0 && ldc0 < dh) || (cT && ldcT < dh) || (dc0 && lddc0 < dh))
        st = bptt__fail(BPTT_ELD, fn, "%s = %zu < dh = %zu",
                        c0 && ldc0 < dh   ? "ldc0"
                        : cT && ldcT < dh ? "ldcT" : "lddc0",
                        c0 && ldc0 < dh   ? ldc0
                        : cT && ldcT < dh ? ldcT : lddc0, dh);
    if (st == BPTT_OK) {
        ws->c0 = c0;
        ws->ldc0 = c0 ? ldc0 : 0;
        ws->cT = cT;
        ws->ldcT = cT ? ldcT : 0;
        ws->dc0 = dc0;
        ws->lddc0 = dc0 ? lddc0 : 0;
    }
    bptt__leave(&ws->busy);
    return st;
}
