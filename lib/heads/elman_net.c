/*
 * elman_net.c — Network B's descriptor: the core (a Network A descriptor),
 * the number of outputs and the head, validated once here.
 */
#include <stdlib.h>

#include "internal.h"

static bptt_status create(const char *fn, bptt_cell cell, const bptt_net *net,
                          size_t nout, bptt_head head, bptt_elman **el)
{
    if (!el)
        return bptt__fail(BPTT_ENULL, fn, "el is NULL");
    if (!net)
        return bptt__fail(BPTT_ENULL, fn, "net is NULL");
    if (nout == 0)
        return bptt__fail(BPTT_ESIZE, fn, "nout must be > 0");
    /* nout is a BLAS dimension and labels are ints below it. */
    if (nout > BPTT_INT_MAX)
        return bptt__fail(BPTT_EOVERFLOW, fn, "nout (%zu) exceeds INT_MAX",
                          nout);
    if ((unsigned)head >= BPTT_NHEAD)
        return bptt__fail(BPTT_EINVAL, fn, "head = %d is not a head",
                          (int)head);
    bptt_elman *e = malloc(sizeof *e);
    if (!e)
        return bptt__fail(BPTT_ENOMEM, fn, "allocating the descriptor");
    *e = (bptt_elman){.net = net, .nout = nout, .head = head, .cell = cell,
                      .G = cell == BPTT_CELL_VANILLA ? 1
                                                     : bptt_gated_gates(cell),
                      .gen = bptt__generation()};
    *el = e;
    return BPTT_OK;
}

bptt_status bptt_elman_create(const bptt_net *net, size_t nout, bptt_head head,
                              bptt_elman **el)
{
    return create("bptt_elman_create", BPTT_CELL_VANILLA, net, nout, head, el);
}

bptt_status bptt_elman_create_cell(bptt_cell cell, const bptt_net *net,
                                   size_t nout, bptt_head head,
                                   bptt_elman **el)
{
    static const char fn[] = "bptt_elman_create_cell";
    if ((unsigned)cell >= BPTT_NCELL)
        return bptt__fail(BPTT_EINVAL, fn, "cell = %d is not a cell",
                          (int)cell);
    return create(fn, cell, net, nout, head, el);
}

bptt_cell bptt_elman_cell(const bptt_elman *el)
{
    return el ? el->cell : BPTT_NCELL;
}

void bptt_elman_free(bptt_elman *el)
{
    free(el);
}

const bptt_net *bptt_elman_net(const bptt_elman *el)
{
    return el ? el->net : NULL;
}

size_t bptt_elman_nout(const bptt_elman *el)
{
    return el ? el->nout : 0;
}

bptt_head bptt_elman_head(const bptt_elman *el)
{
    return el ? el->head : BPTT_NHEAD;
}

const char *bptt_head_name(bptt_head head)
{
    static const char *const name[BPTT_NHEAD] = {
        [BPTT_HEAD_SOFTMAX] = "softmax",
        [BPTT_HEAD_LINEAR] = "linear",
    };
    return (unsigned)head < BPTT_NHEAD ? name[head] : NULL;
}
