/*
 * plan.c — the plans of Network A and of RTRL: made once (layout and
 * algorithm checked, workspace or state allocated by the expert layer's own
 * query), then each call forwards to the expert call with the plan's
 * leading dimensions.  The checks here are the plan's own (plan present, T
 * and B within Tmax and Bmax) before anything is written; the expert call
 * checks the arrays.
 */
#include <stdlib.h>

#include "plan/cell.h"

/* The cells a plan can run, by bptt_cell code. */
static const XI(cell) *const cells[BPTT_NCELL] = {
    &XI(cell_vanilla), &XI(cell_lstm), &XI(cell_gru)};

/* Tmax·Bmax, the rows of the largest call, or BPTT_EOVERFLOW. */
static bptt_status max_rows(const char *fn, size_t Tmax, size_t Bmax,
                            size_t *TB)
{
    int ok = 1;
    *TB = bptt__mul(Tmax, Bmax, &ok);
    if (!ok)
        return bptt__fail(BPTT_EOVERFLOW, fn, "Tmax (%zu) x Bmax (%zu) "
                          "overflows", Tmax, Bmax);
    return BPTT_OK;
}

/* ------------------------------------------------------------------------ */
/* Network A                                                                 */
/* ------------------------------------------------------------------------ */

/* A plan of the cell kind for net (a valid code, checked by the caller). */
static bptt_status create(const char *fn, bptt_cell kind, const bptt_net *net,
                          size_t Tmax, size_t Bmax, const bptt_layout *layout,
                          bptt_algo algo, X(plan) **plan)
{
    if (!net)
        return bptt__fail(BPTT_ENULL, fn, "net is NULL");
    if (!plan)
        return bptt__fail(BPTT_ENULL, fn, "plan is NULL");
    CHECK(bptt__check_capacity(fn, Tmax, Bmax, (unsigned)algo, BPTT_NALGO));
    if (kind != BPTT_CELL_VANILLA && algo == BPTT_ALGO_GEMV_GER)
        return bptt__fail(BPTT_EALGO, fn, "algo = gemv-ger: the %s cell runs "
                          "naive or deferred", bptt_cell_name(kind));
    const XI(cell) *ops = cells[kind];
    size_t TB;
    CHECK(max_rows(fn, Tmax, Bmax, &TB));
    bptt__ld_field f[16];
    const size_t nf = ops->fields(net, TB, Bmax, f);
    bptt_layout ld;
    CHECK(bptt__layout_resolve(fn, layout, &ld, sizeof ld, f, nf, sizeof(R)));

    X(plan) *p = malloc(sizeof *p);
    if (!p)
        return bptt__fail(BPTT_ENOMEM, fn, "plan of %zu bytes", sizeof *p);
    *p = (X(plan)){ops, kind, net, Tmax, Bmax, algo, ld, NULL};
    bptt_status st = ops->ws_alloc(net, Tmax, Bmax, &p->ws);
    if (st != BPTT_OK) {
        free(p);
        return st;
    }
    *plan = p;
    return BPTT_OK;
}

bptt_status X(plan_create)(const bptt_net *net, size_t Tmax, size_t Bmax,
                           const bptt_layout *layout, bptt_algo algo,
                           X(plan) **plan)
{
    return create(PREFIX "plan_create", BPTT_CELL_VANILLA, net, Tmax, Bmax,
                  layout, algo, plan);
}

bptt_status X(plan_create_cell)(bptt_cell cell, const bptt_net *net,
                                size_t Tmax, size_t Bmax,
                                const bptt_layout *layout, bptt_algo algo,
                                X(plan) **plan)
{
    static const char fn[] = PREFIX "plan_create_cell";
    if ((unsigned)cell >= BPTT_NCELL)
        return bptt__fail(BPTT_EINVAL, fn, "cell = %d is not a cell",
                          (int)cell);
    return create(fn, cell, net, Tmax, Bmax, layout, algo, plan);
}

void X(plan_destroy)(X(plan) *plan)
{
    if (!plan)
        return;
    plan->ops->ws_free(plan->ws);
    free(plan);
}

/* The checks every call on a plan starts with. */
static bptt_status check_plan(const char *fn, const X(plan) *p, size_t T,
                              size_t B)
{
    if (!p)
        return bptt__fail(BPTT_ENULL, fn, "plan is NULL");
    return bptt__check_shape(fn, T, B, p->Tmax, p->Bmax, p->algo);
}

bptt_status X(plan_forward)(X(plan) *plan, size_t T, size_t B,
                            const X(params) *prm, const R *x, const R *y0,
                            R *y)
{
    static const char fn[] = PREFIX "plan_forward";
    CHECK(check_plan(fn, plan, T, B));
    if (!prm)
        return bptt__fail(BPTT_ENULL, fn, "prm is NULL");
    return plan->ops->forward(plan, T, B, prm, x, y0, y);
}

bptt_status X(plan_loss)(X(plan) *plan, size_t T, size_t B, const R *y,
                         const X(targets) *tg, double *loss, R *dy)
{
    static const char fn[] = PREFIX "plan_loss";
    CHECK(check_plan(fn, plan, T, B));
    if (!tg)
        return bptt__fail(BPTT_ENULL, fn, "tg is NULL");
    const bptt_layout *ld = &plan->ld;
    return X(loss_squared)(T, B, plan->net->dout, y, ld->ldy, tg->target,
                           ld->ldt, tg->mask, loss, dy, ld->lddy);
}

bptt_status X(plan_backward)(X(plan) *plan, size_t T, size_t B,
                             const X(params) *prm, const R *dy, R beta,
                             const X(grads) *g)
{
    static const char fn[] = PREFIX "plan_backward";
    CHECK(check_plan(fn, plan, T, B));
    if (!prm)
        return bptt__fail(BPTT_ENULL, fn, "prm is NULL");
    return plan->ops->backward(plan, T, B, prm, dy, beta, g);
}

bptt_cell X(plan_cell)(const X(plan) *plan)
{
    return plan ? plan->cell : BPTT_NCELL;
}

size_t X(plan_tmax)(const X(plan) *plan)
{
    return plan ? plan->Tmax : 0;
}

size_t X(plan_bmax)(const X(plan) *plan)
{
    return plan ? plan->Bmax : 0;
}

bptt_algo X(plan_algo)(const X(plan) *plan)
{
    return plan ? plan->algo : BPTT_NALGO;
}

X(workspace) *X(plan_workspace)(X(plan) *plan)
{
    return plan && plan->cell == BPTT_CELL_VANILLA ? plan->ws : NULL;
}

X(gated_workspace) *X(plan_gated_workspace)(X(plan) *plan)
{
    return plan && plan->cell != BPTT_CELL_VANILLA ? plan->ws : NULL;
}

bptt_status X(plan_set_threads)(X(plan) *plan, int nthreads)
{
    if (!plan)
        return bptt__fail(BPTT_ENULL, PREFIX "plan_set_threads",
                          "plan is NULL");
    return plan->cell == BPTT_CELL_VANILLA
               ? X(workspace_set_threads)(plan->ws, nthreads)
               : X(gated_workspace_set_threads)(plan->ws, nthreads);
}

/* ------------------------------------------------------------------------ */
/* RTRL                                                                      */
/* ------------------------------------------------------------------------ */

struct X(rtrl_plan) {
    const bptt_net *net;
    size_t Bmax;
    size_t B;               /* the last reset's B; 0: not reset */
    bptt_rtrl_algo algo;
    bptt_layout ld;
    X(rtrl) *st;
};

bptt_status X(rtrl_plan_create)(const bptt_net *net, size_t Bmax,
                                const bptt_layout *layout,
                                bptt_rtrl_algo algo, X(rtrl_plan) **plan)
{
    static const char fn[] = PREFIX "rtrl_plan_create";
    if (!net)
        return bptt__fail(BPTT_ENULL, fn, "net is NULL");
    if (!plan)
        return bptt__fail(BPTT_ENULL, fn, "plan is NULL");
    if (Bmax == 0)
        return bptt__fail(BPTT_ESIZE, fn, "Bmax must be > 0");
    if ((unsigned)algo >= BPTT_RTRL_NALGO)
        return bptt__fail(BPTT_EALGO, fn, "algo = %d is not an RTRL algorithm",
                          (int)algo);
    /* One step's rows: a sequence's T·B rows are checked by the expert
     * call, T being unbounded. */
    bptt__ld_field f[16];
    const size_t nf = XI(cell_vanilla).fields(net, Bmax, Bmax, f);
    bptt_layout ld;
    CHECK(bptt__layout_resolve(fn, layout, &ld, sizeof ld, f, nf, sizeof(R)));

    X(rtrl_plan) *p = malloc(sizeof *p);
    if (!p)
        return bptt__fail(BPTT_ENOMEM, fn, "plan of %zu bytes", sizeof *p);
    *p = (X(rtrl_plan)){net, Bmax, 0, algo, ld, NULL};
    bptt_status st = X(rtrl_alloc)(net, Bmax, &p->st);
    if (st != BPTT_OK) {
        free(p);
        return st;
    }
    *plan = p;
    return BPTT_OK;
}

void X(rtrl_plan_destroy)(X(rtrl_plan) *plan)
{
    if (!plan)
        return;
    X(rtrl_free)(plan->st);
    free(plan);
}

X(rtrl) *X(rtrl_plan_state)(X(rtrl_plan) *plan)
{
    return plan ? plan->st : NULL;
}

/* Plan present, B within Bmax (B = 0 is left to the expert call). */
static bptt_status check_rtrl(const char *fn, const X(rtrl_plan) *p, size_t B)
{
    if (!p)
        return bptt__fail(BPTT_ENULL, fn, "plan is NULL");
    if (B > p->Bmax)
        return bptt__fail(BPTT_ECAPACITY, fn, "B = %zu exceeds the plan's "
                          "Bmax = %zu", B, p->Bmax);
    return BPTT_OK;
}

/* The gradients forward mode computes: g present, dW required by the
 * expert call, no input gradients. */
static bptt_status check_rtrl_grads(const char *fn, const X(grads) *g)
{
    if (!g)
        return bptt__fail(BPTT_ENULL, fn, "g is NULL");
    if (g->dx || g->dy0)
        return bptt__fail(BPTT_EINVAL, fn, "g->%s given: forward mode has no "
                          "input gradients", g->dx ? "dx" : "dy0");
    return BPTT_OK;
}

/* The B of the last reset, for the per-step calls. */
static bptt_status check_reset(const char *fn, const X(rtrl_plan) *p)
{
    CHECK(check_rtrl(fn, p, 0));
    if (p->B == 0)
        return bptt__fail(BPTT_EINVAL, fn, "the plan has not been reset");
    return BPTT_OK;
}

bptt_status X(rtrl_plan_reset)(X(rtrl_plan) *plan, size_t B, const R *y0)
{
    static const char fn[] = PREFIX "rtrl_plan_reset";
    CHECK(check_rtrl(fn, plan, B));
    CHECK(X(rtrl_reset)(plan->net, B, y0, plan->ld.ldy0, plan->st));
    plan->B = B;
    return BPTT_OK;
}

bptt_status X(rtrl_plan_advance)(X(rtrl_plan) *plan, const X(params) *prm,
                                 const R *x, R *y)
{
    static const char fn[] = PREFIX "rtrl_plan_advance";
    CHECK(check_reset(fn, plan));
    if (!prm)
        return bptt__fail(BPTT_ENULL, fn, "prm is NULL");
    const bptt_layout *ld = &plan->ld;
    return X(rtrl_advance)(plan->net, plan->B, prm->W, ld->ldw, prm->b, x,
                           ld->ldx, y, ld->ldy, plan->algo, plan->st);
}

bptt_status X(rtrl_plan_accumulate)(X(rtrl_plan) *plan, const R *dy, R beta,
                                    const X(grads) *g)
{
    static const char fn[] = PREFIX "rtrl_plan_accumulate";
    CHECK(check_reset(fn, plan));
    CHECK(check_rtrl_grads(fn, g));
    const bptt_layout *ld = &plan->ld;
    return X(rtrl_accumulate)(plan->net, plan->B, dy, ld->lddy, beta, g->dW,
                              ld->lddw, g->db, plan->algo, plan->st);
}

bptt_status X(rtrl_plan_step)(X(rtrl_plan) *plan, const X(params) *prm,
                              const R *x, const X(targets) *tg, R *y,
                              double *loss, R beta, const X(grads) *g)
{
    static const char fn[] = PREFIX "rtrl_plan_step";
    CHECK(check_reset(fn, plan));
    if (!prm || !tg)
        return bptt__fail(BPTT_ENULL, fn, "%s is NULL", prm ? "tg" : "prm");
    CHECK(check_rtrl_grads(fn, g));
    const bptt_layout *ld = &plan->ld;
    return X(rtrl_step)(plan->net, plan->B, prm->W, ld->ldw, prm->b, x,
                        ld->ldx, tg->target, ld->ldt, tg->mask, y, ld->ldy,
                        loss, beta, g->dW, ld->lddw, g->db, plan->algo,
                        plan->st);
}

bptt_status X(rtrl_plan_sequence)(X(rtrl_plan) *plan, size_t T, size_t B,
                                  const X(params) *prm, const R *x,
                                  const R *y0, const X(targets) *tg, R *y,
                                  double *loss, R beta, const X(grads) *g)
{
    static const char fn[] = PREFIX "rtrl_plan_sequence";
    CHECK(check_rtrl(fn, plan, B));
    if (!prm || !tg)
        return bptt__fail(BPTT_ENULL, fn, "%s is NULL", prm ? "tg" : "prm");
    CHECK(check_rtrl_grads(fn, g));
    const bptt_layout *ld = &plan->ld;
    CHECK(X(rtrl_sequence)(plan->net, T, B, prm->W, ld->ldw, prm->b, x,
                           ld->ldx, y0, ld->ldy0, tg->target, ld->ldt,
                           tg->mask, y, ld->ldy, loss, beta, g->dW, ld->lddw,
                           g->db, plan->algo, plan->st));
    plan->B = B; /* the sequence reset the state: step may continue it */
    return BPTT_OK;
}
