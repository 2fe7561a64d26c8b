/*
 * elman_plan.c — Network B's plan: made once (layout and algorithm checked,
 * the Elman workspace allocated by the expert layer's query), then forward
 * and backward forward to bptt_elman_forward/_backward with the plan's
 * leading dimensions and the parameters, targets and gradients unpacked
 * from their structs.
 */
#include <stddef.h>
#include <stdlib.h>

#include "plan/layout.h"
#include "real.h"

struct X(elman_plan) {
    const bptt_elman *el;
    size_t Tmax, Bmax;
    bptt_algo algo;
    bptt_elman_layout ld;  /* resolved: no member 0 */
    X(elman_workspace) *ws;
};

#define FIELD(member, c, cname, r)                                             \
    (bptt__ld_field) { #member, offsetof(bptt_elman_layout, member), c, cname, \
                       r }

bptt_status X(elman_plan_create)(const bptt_elman *el, size_t Tmax,
                                 size_t Bmax, const bptt_elman_layout *layout,
                                 bptt_algo algo, X(elman_plan) **plan)
{
    static const char fn[] = PREFIX "elman_plan_create";
    if (!el)
        return bptt__fail(BPTT_ENULL, fn, "el is NULL");
    if (!plan)
        return bptt__fail(BPTT_ENULL, fn, "plan is NULL");
    CHECK(bptt__check_capacity(fn, Tmax, Bmax, (unsigned)algo, BPTT_NALGO));
    int ok = 1;
    const size_t TB = bptt__mul(Tmax, Bmax, &ok);
    if (!ok)
        return bptt__fail(BPTT_EOVERFLOW, fn, "Tmax (%zu) x Bmax (%zu) "
                          "overflows", Tmax, Bmax);
    /* The size table of bptt/elman.h's shapes. */
    const size_t din = el->net->din, dh = el->net->dout, m = el->net->m;
    const size_t nout = el->nout, Gdh = el->G * dh; /* rows of W */
    const bptt__ld_field f[] = {
        FIELD(ldw, m, "din+dh", Gdh),      FIELD(ldwo, dh, "dh", nout),
        FIELD(ldx, din, "din", TB),        FIELD(ldh0, dh, "dh", Bmax),
        FIELD(ldl, nout, "nout", TB),      FIELD(ldh, dh, "dh", TB),
        FIELD(ldy, nout, "nout", TB),      FIELD(lddw, m, "din+dh", Gdh),
        FIELD(lddwo, dh, "dh", nout),      FIELD(lddx, din, "din", TB),
        FIELD(lddh0, dh, "dh", Bmax),
    };
    bptt_elman_layout ld;
    CHECK(bptt__layout_resolve(fn, layout, &ld, sizeof ld, f,
                               sizeof f / sizeof f[0], sizeof(R)));

    X(elman_plan) *p = malloc(sizeof *p);
    if (!p)
        return bptt__fail(BPTT_ENOMEM, fn, "plan of %zu bytes", sizeof *p);
    *p = (X(elman_plan)){el, Tmax, Bmax, algo, ld, NULL};
    bptt_status st = X(elman_workspace_alloc)(el, Tmax, Bmax, &p->ws);
    if (st != BPTT_OK) {
        free(p);
        return st;
    }
    *plan = p;
    return BPTT_OK;
}

void X(elman_plan_destroy)(X(elman_plan) *plan)
{
    if (!plan)
        return;
    X(elman_workspace_free)(plan->ws);
    free(plan);
}

X(elman_workspace) *X(elman_plan_workspace)(X(elman_plan) *plan)
{
    return plan ? plan->ws : NULL;
}

static bptt_status check_plan(const char *fn, const X(elman_plan) *p,
                              size_t T, size_t B, const X(elman_params) *prm)
{
    if (!p)
        return bptt__fail(BPTT_ENULL, fn, "plan is NULL");
    CHECK(bptt__check_shape(fn, T, B, p->Tmax, p->Bmax, p->algo));
    if (!prm)
        return bptt__fail(BPTT_ENULL, fn, "prm is NULL");
    return BPTT_OK;
}

bptt_status X(elman_plan_forward)(X(elman_plan) *plan, size_t T, size_t B,
                                  const X(elman_params) *prm, const R *x,
                                  const R *h0, const X(elman_targets) *tg,
                                  double *E, R *h, R *y)
{
    static const char fn[] = PREFIX "elman_plan_forward";
    CHECK(check_plan(fn, plan, T, B, prm));
    if (E && !tg)
        return bptt__fail(BPTT_ENULL, fn, "tg is NULL (E given)");
    const bptt_elman_layout *ld = &plan->ld;
    return X(elman_forward)(plan->el, T, B, prm->W, ld->ldw, prm->bh, prm->Wo,
                            ld->ldwo, prm->bo, x, ld->ldx, h0, ld->ldh0,
                            tg ? tg->labels : NULL, tg ? tg->L : NULL,
                            ld->ldl, E, h, ld->ldh, y, ld->ldy, plan->algo,
                            plan->ws);
}

bptt_status X(elman_plan_backward)(X(elman_plan) *plan, size_t T, size_t B,
                                   const X(elman_params) *prm,
                                   const X(elman_targets) *tg, R beta,
                                   const X(elman_grads) *g)
{
    static const char fn[] = PREFIX "elman_plan_backward";
    CHECK(check_plan(fn, plan, T, B, prm));
    if (!tg || !g)
        return bptt__fail(BPTT_ENULL, fn, "%s is NULL", tg ? "g" : "tg");
    const bptt_elman_layout *ld = &plan->ld;
    return X(elman_backward)(plan->el, T, B, prm->W, ld->ldw, prm->Wo,
                             ld->ldwo, tg->labels, tg->L, ld->ldl, beta,
                             g->dW, ld->lddw, g->dbh, g->dWo, ld->lddwo,
                             g->dbo, g->dx, ld->lddx, g->dh0, ld->lddh0,
                             plan->algo, plan->ws);
}
