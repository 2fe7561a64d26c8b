/*
 * gradcheck.c — the public gradient check (bptt/train.h): the library's
 * gradient on the caller's problem against central differences, entry by
 * entry, and the worst relative error with its place.  Double only: a
 * central difference in float has too few digits to judge a derivative.
 * Not a hot path: it allocates its workspace and gradient here.
 */
#include <math.h>
#include <stdlib.h>

#include "internal.h"

/* The problem of one check: which network, its data, and the loss at the
 * parameters' current values. */
typedef struct problem {
    const bptt_net *net;
    const bptt_elman *el;
    size_t T, B;
    const double *x, *s0, *target;
    const int *labels;
    bptt_workspace *ws;
    bptt_elman_workspace *ews;
    double *y, *dy; /* Network A's outputs and dL/dy, (T*B) x dout */
} problem;

static bptt_status loss_at(const problem *pb, const bptt_param_layout *lay,
                           const double *theta, double *L, double *grad)
{
    if (pb->el) {
        const bptt_net *net = pb->el->net;
        const size_t m = net->m, dh = net->dout;
        const double *W = theta + lay->view[0].offset;
        const double *bh = theta + lay->view[1].offset;
        const double *Wo = theta + lay->view[2].offset;
        const double *bo = theta + lay->view[3].offset;
        const size_t ldl = pb->target ? pb->el->nout : 0;
        CHECK(bptt_elman_forward(pb->el, pb->T, pb->B, W, m, bh, Wo, dh, bo,
                                 pb->x, net->din, pb->s0, dh, pb->labels,
                                 pb->target, ldl, L, NULL, 0, NULL, 0,
                                 BPTT_ALGO_AUTO, pb->ews));
        if (!grad)
            return BPTT_OK;
        return bptt_elman_backward(
            pb->el, pb->T, pb->B, W, m, Wo, dh, pb->labels, pb->target, ldl, 0,
            grad + lay->view[0].offset, m, grad + lay->view[1].offset,
            grad + lay->view[2].offset, dh, grad + lay->view[3].offset, NULL, 0,
            NULL, 0, BPTT_ALGO_AUTO, pb->ews);
    }
    const bptt_net *net = pb->net;
    const size_t m = net->m, dout = net->dout;
    const double *W = theta + lay->view[0].offset;
    const double *b = theta + lay->view[1].offset;
    CHECK(bptt_forward(net, pb->T, pb->B, W, m, b, pb->x, net->din, pb->s0,
                       dout, pb->y, dout, BPTT_ALGO_AUTO, pb->ws));
    double *dy = grad ? pb->dy : NULL;
    CHECK(bptt_loss_squared(pb->T, pb->B, dout, pb->y, dout, pb->target, dout,
                            NULL, L, dy, dout));
    if (!grad)
        return BPTT_OK;
    return bptt_backward(net, pb->T, pb->B, W, m, dy, dout, 0,
                         grad + lay->view[0].offset, m,
                         grad + lay->view[1].offset, NULL, 0, NULL, 0,
                         BPTT_ALGO_AUTO, pb->ws);
}

static bptt_status check(const char *fn, const problem *pb,
                         const bptt_param_layout *lay, double *theta, double h,
                         bptt_gradcheck_result *res)
{
    const size_t n = lay->count;
    double *grad = malloc(n * sizeof *grad);
    if (!grad)
        return bptt__fail(BPTT_ENOMEM, fn, "allocating %zu doubles", n);
    double L0;
    bptt_status st = loss_at(pb, lay, theta, &L0, grad);
    double gmax = 0;
    for (size_t i = 0; st == BPTT_OK && i < n; i++) {
        if (!isfinite(grad[i]))
            st = bptt__fail(BPTT_ENONFINITE, fn, "the gradient's entry %zu "
                                                 "is not finite", i);
        gmax = fmax(gmax, fabs(grad[i]));
    }
    if (st == BPTT_OK && !isfinite(L0))
        st = bptt__fail(BPTT_ENONFINITE, fn, "the loss is not finite");
    const double floor = 1e-6 * gmax;
    bptt_gradcheck_result r = {0};
    for (size_t i = 0; st == BPTT_OK && i < n; i++) {
        const double t = theta[i], hi = h * fmax(1, fabs(t));
        double Lp, Lm;
        theta[i] = t + hi;
        st = loss_at(pb, lay, theta, &Lp, NULL);
        theta[i] = t - hi;
        if (st == BPTT_OK)
            st = loss_at(pb, lay, theta, &Lm, NULL);
        theta[i] = t; /* bitwise: t was kept */
        if (st != BPTT_OK)
            break;
        /* the step actually taken, (t + hi) − (t − hi), not 2 hi */
        const double num = (Lp - Lm) / ((t + hi) - (t - hi));
        if (!isfinite(num)) {
            st = bptt__fail(BPTT_ENONFINITE, fn,
                            "the central difference of entry %zu is not "
                            "finite", i);
            break;
        }
        const double den = fmax(fmax(fabs(grad[i]), fabs(num)), floor);
        const double rel = den > 0 ? fabs(grad[i] - num) / den : 0;
        if (i == 0 || rel > r.max_relerr)
            r = (bptt_gradcheck_result){.max_relerr = rel, .index = i,
                                        .analytic = grad[i], .numeric = num};
    }
    free(grad);
    if (st != BPTT_OK)
        return st;
    for (size_t v = 0; v < lay->nviews; v++) {
        const bptt_param_view *pv = &lay->view[v];
        if (r.index >= pv->offset &&
            r.index - pv->offset < pv->rows * pv->cols) {
            r.view = pv->name;
            r.row = (r.index - pv->offset) / pv->cols;
            r.col = (r.index - pv->offset) % pv->cols;
        }
    }
    *res = r;
    return BPTT_OK;
}

static bptt_status check_common(const char *fn, size_t T, size_t B,
                                const double *params, const double *x,
                                double *h, const bptt_gradcheck_result *res)
{
    if (!params)
        return bptt__fail(BPTT_ENULL, fn, "params is NULL");
    if (!x)
        return bptt__fail(BPTT_ENULL, fn, "x is NULL");
    if (!res)
        return bptt__fail(BPTT_ENULL, fn, "res is NULL");
    if (T == 0 || B == 0)
        return bptt__fail(BPTT_ESIZE, fn, "T (%zu) and B (%zu) must be > 0", T,
                          B);
    if (!isfinite(*h) || *h < 0)
        return bptt__fail(BPTT_EINVAL, fn, "h (%g) must be finite and >= 0",
                          *h);
    if (*h == 0)
        *h = 1e-5;
    return BPTT_OK;
}

bptt_status bptt_gradcheck_net(const bptt_net *net, size_t T, size_t B,
                               double *params, const double *x,
                               const double *y0, const double *target,
                               double h, bptt_gradcheck_result *res)
{
    static const char fn[] = "bptt_gradcheck_net";
    if (!net)
        return bptt__fail(BPTT_ENULL, fn, "net is NULL");
    CHECK(check_common(fn, T, B, params, x, &h, res));
    if (!target)
        return bptt__fail(BPTT_ENULL, fn, "target is NULL");
    bptt_param_layout lay;
    CHECK(bptt_net_param_layout(net, &lay));
    int ok = 1;
    const size_t ny = bptt__mul(bptt__mul(T, B, &ok), net->dout, &ok);
    if (!ok || ny > SIZE_MAX / 2 / sizeof(double))
        return bptt__fail(BPTT_EOVERFLOW, fn, "T*B*dout overflows");
    problem pb = {.net = net, .T = T, .B = B, .x = x, .s0 = y0,
                  .target = target};
    CHECK(bptt_workspace_alloc(net, T, B, &pb.ws));
    pb.y = malloc(2 * ny * sizeof *pb.y);
    pb.dy = pb.y ? pb.y + ny : NULL;
    bptt_status st = pb.y ? check(fn, &pb, &lay, params, h, res)
                          : bptt__fail(BPTT_ENOMEM, fn, "allocating y");
    free(pb.y);
    bptt_workspace_free(pb.ws);
    return st;
}

bptt_status bptt_gradcheck_elman(const bptt_elman *el, size_t T, size_t B,
                                 double *params, const double *x,
                                 const double *h0, const int *labels,
                                 const double *L, double h,
                                 bptt_gradcheck_result *res)
{
    static const char fn[] = "bptt_gradcheck_elman";
    if (!el)
        return bptt__fail(BPTT_ENULL, fn, "el is NULL");
    CHECK(check_common(fn, T, B, params, x, &h, res));
    if (!labels && !L)
        return bptt__fail(BPTT_ENULL, fn, "labels and L are both NULL");
    bptt_param_layout lay;
    CHECK(bptt_elman_param_layout(el, &lay));
    problem pb = {.el = el, .T = T, .B = B, .x = x, .s0 = h0, .target = L,
                  .labels = labels};
    CHECK(bptt_elman_workspace_alloc(el, T, B, &pb.ews));
    bptt_status st = check(fn, &pb, &lay, params, h, res);
    bptt_elman_workspace_free(pb.ews);
    return st;
}
