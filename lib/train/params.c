/*
 * params.c — one parameter buffer: the named views of Network A's and
 * Network B's parameters in one packed array (bptt/train.h).  The gradient
 * buffer has the same layout.  Precision-independent: offsets count
 * elements.
 */
#include <string.h>

#include "internal.h"

/* Append a packed rows x cols view; *ok cleared on overflow. */
static void add_view(bptt_param_layout *p, const char *name, size_t rows,
                     size_t cols, int *ok)
{
    bptt_param_view *v = &p->view[p->nviews++];
    *v = (bptt_param_view){.name = name, .offset = p->count, .rows = rows,
                           .cols = cols, .ld = cols};
    p->count = bptt__add(p->count, bptt__mul(rows, cols, ok), ok);
}

bptt_status bptt_net_param_layout(const bptt_net *net, bptt_param_layout *p)
{
    static const char fn[] = "bptt_net_param_layout";
    if (!net)
        return bptt__fail(BPTT_ENULL, fn, "net is NULL");
    if (!p)
        return bptt__fail(BPTT_ENULL, fn, "p is NULL");
    bptt_param_layout q = {0};
    int ok = 1;
    add_view(&q, "W", net->dout, net->m, &ok);
    add_view(&q, "b", 1, net->dout, &ok);
    if (!ok)
        return bptt__fail(BPTT_EOVERFLOW, fn, "the parameter count overflows");
    *p = q;
    return BPTT_OK;
}

bptt_status bptt_elman_param_layout(const bptt_elman *el,
                                    bptt_param_layout *p)
{
    static const char fn[] = "bptt_elman_param_layout";
    if (!el)
        return bptt__fail(BPTT_ENULL, fn, "el is NULL");
    if (!p)
        return bptt__fail(BPTT_ENULL, fn, "p is NULL");
    const bptt_net *net = el->net;
    bptt_param_layout q = {0};
    int ok = 1;
    /* A gated core stacks its G gates' rows (docs/gated.md): W is
     * G·dh x (din+dh) and bh the input-side bias of G·dh (G = 1: tanh). */
    const size_t gdh = bptt__mul(el->G, net->dout, &ok);
    add_view(&q, "W", gdh, net->m, &ok);
    add_view(&q, "bh", 1, gdh, &ok);
    add_view(&q, "Wo", el->nout, net->dout, &ok);
    add_view(&q, "bo", 1, el->nout, &ok);
    if (!ok)
        return bptt__fail(BPTT_EOVERFLOW, fn, "the parameter count overflows");
    *p = q;
    return BPTT_OK;
}

int bptt_param_layout_find(const bptt_param_layout *p, const char *name)
{
    if (!p || !name)
        return -1;
    for (size_t i = 0; i < p->nviews && i < BPTT_PARAMS_MAX; i++)
        if (p->view[i].name && strcmp(p->view[i].name, name) == 0)
            return (int)i;
    return -1;
}
