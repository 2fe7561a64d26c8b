/*
 * plan_wrap.h — the harness's typeless entry points of the plan layer
 * (bptt/plan.h) for one precision, so that one op body drives both through
 * ops_plan.c's plan_api table.  Included twice by ops_plan.c, with
 *
 *   FR          the real type (double, float)
 *   FW(name)    the wrapper's name (d_name, f_name)
 *   FL(name)    the library's name (bptt_name, bpttf_name), which also
 *               names the plan and struct types (FL(plan), FL(params), ...)
 *
 * Each wrapper only converts pointers, packs the structs of bptt/plan.h
 * from them and calls the library; a NULL struct is passed on as NULL.
 */

static bptt_status FW(p_create)(const bptt_net *net, size_t Tmax, size_t Bmax,
                                const bptt_layout *lay, bptt_algo algo,
                                void **p)
{
    FL(plan) *q = p ? (FL(plan) *)*p : NULL;
    bptt_status st = FL(plan_create)(net, Tmax, Bmax, lay, algo, p ? &q : NULL);
    if (p)
        *p = q;
    return st;
}
static void FW(p_destroy)(void *p) { FL(plan_destroy)(p); }
static void *FW(p_workspace)(void *p) { return FL(plan_workspace)(p); }
static bptt_status FW(p_forward)(void *p, size_t T, size_t B, int no_prm,
                                 const void *W, const void *b, const void *x,
                                 const void *y0, void *y)
{
    const FL(params) prm = {W, b};
    return FL(plan_forward)(p, T, B, no_prm ? NULL : &prm, x, y0, y);
}
static bptt_status FW(p_loss)(void *p, size_t T, size_t B, const void *y,
                              int no_tg, const void *target,
                              const unsigned char *mask, double *loss,
                              void *dy)
{
    const FL(targets) tg = {target, mask};
    return FL(plan_loss)(p, T, B, y, no_tg ? NULL : &tg, loss, dy);
}
static bptt_status FW(p_backward)(void *p, size_t T, size_t B, const void *W,
                                  const void *dy, double beta, int no_g,
                                  void *dW, void *db, void *dx, void *dy0)
{
    const FL(params) prm = {W, NULL};
    const FL(grads) g = {dW, db, dx, dy0};
    return FL(plan_backward)(p, T, B, &prm, dy, (FR)beta, no_g ? NULL : &g);
}

static bptt_status FW(pe_create)(const bptt_elman *el, size_t Tmax,
                                 size_t Bmax, const bptt_elman_layout *lay,
                                 bptt_algo algo, void **p)
{
    FL(elman_plan) *q = p ? (FL(elman_plan) *)*p : NULL;
    bptt_status st = FL(elman_plan_create)(el, Tmax, Bmax, lay, algo,
                                           p ? &q : NULL);
    if (p)
        *p = q;
    return st;
}
static void FW(pe_destroy)(void *p) { FL(elman_plan_destroy)(p); }
static void *FW(pe_workspace)(void *p) { return FL(elman_plan_workspace)(p); }
static bptt_status FW(pe_forward)(void *p, size_t T, size_t B, const void *W,
                                  const void *bh, const void *Wo,
                                  const void *bo, const void *x,
                                  const void *h0, const int *labels,
                                  const void *L, double *E, void *h, void *y)
{
    const FL(elman_params) prm = {W, bh, Wo, bo};
    const FL(elman_targets) tg = {labels, L};
    return FL(elman_plan_forward)(p, T, B, &prm, x, h0,
                                  labels || L ? &tg : NULL, E, h, y);
}
static bptt_status FW(pe_backward)(void *p, size_t T, size_t B, const void *W,
                                   const void *Wo, const int *labels,
                                   const void *L, double beta, void *dW,
                                   void *dbh, void *dWo, void *dbo, void *dx,
                                   void *dh0)
{
    const FL(elman_params) prm = {W, NULL, Wo, NULL};
    const FL(elman_targets) tg = {labels, L};
    const FL(elman_grads) g = {dW, dbh, dWo, dbo, dx, dh0};
    return FL(elman_plan_backward)(p, T, B, &prm, &tg, (FR)beta, &g);
}

static bptt_status FW(pr_create)(const bptt_net *net, size_t Bmax,
                                 const bptt_layout *lay, bptt_rtrl_algo algo,
                                 void **p)
{
    FL(rtrl_plan) *q = p ? (FL(rtrl_plan) *)*p : NULL;
    bptt_status st = FL(rtrl_plan_create)(net, Bmax, lay, algo, p ? &q : NULL);
    if (p)
        *p = q;
    return st;
}
static void FW(pr_destroy)(void *p) { FL(rtrl_plan_destroy)(p); }
static void *FW(pr_state)(void *p) { return FL(rtrl_plan_state)(p); }
static bptt_status FW(pr_reset)(void *p, size_t B, const void *y0)
{
    return FL(rtrl_plan_reset)(p, B, y0);
}
static bptt_status FW(pr_step)(void *p, const void *W, const void *b,
                               const void *x, const void *target,
                               const unsigned char *mask, void *y,
                               double *loss, double beta, void *dW, void *db,
                               void *dx)
{
    const FL(params) prm = {W, b};
    const FL(targets) tg = {target, mask};
    const FL(grads) g = {dW, db, dx, NULL};
    return FL(rtrl_plan_step)(p, &prm, x, &tg, y, loss, (FR)beta, &g);
}
static bptt_status FW(pr_sequence)(void *p, size_t T, size_t B,
                                   const void *W, const void *b,
                                   const void *x, const void *y0,
                                   const void *target,
                                   const unsigned char *mask, void *y,
                                   double *loss, double beta, void *dW,
                                   void *db, void *dx)
{
    const FL(params) prm = {W, b};
    const FL(targets) tg = {target, mask};
    const FL(grads) g = {dW, db, dx, NULL};
    return FL(rtrl_plan_sequence)(p, T, B, &prm, x, y0, &tg, y, loss,
                                  (FR)beta, &g);
}
