/*
 * Network B (the Elman network with a softmax or linear head): every
 * gradient block against central differences, the library against a naive
 * element-wise implementation written here from docs/derivation.md §9, the
 * exact identities of the head (∂E/∂ȳ = y − l, ignored steps, soft labels
 * as their definition), extreme logits, the core shared with Network A, trap
 * tests (status, nothing written) and single against double precision.
 */
#include <check.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

/* ------------------------------------------------------------------------ */
/* Problems                                                                  */
/* ------------------------------------------------------------------------ */

/* Targets: class indices, soft-label rows, or regression rows (linear). */
enum { K_LABELS, K_SOFT, K_LINEAR };
/* flags */
enum { E_BIAS = 1, E_H0 = 2, E_IGNORE = 4 };

typedef struct eprob {
    bptt_net *net;
    bptt_elman *el;
    int kind;
    size_t din, dh, m, nout, T, B, pad;
    size_t ldw, ldwo, ldx, ldh0, ldl;
    double *W, *bh, *Wo, *bo, *x, *h0, *L;
    int *labels;
} eprob;

static eprob *eprob_new(size_t din, size_t dh, size_t nout, size_t T,
                        size_t B, size_t pad, int kind, int flags,
                        unsigned long long seed)
{
    eprob *p = calloc(1, sizeof *p);
    tu_rng r = {seed};
    p->net = tu_mixed_net(din, dh);
    p->kind = kind;
    ck_assert_int_eq(bptt_elman_create(p->net, nout,
                                       kind == K_LINEAR ? BPTT_HEAD_LINEAR
                                                        : BPTT_HEAD_SOFTMAX,
                                       &p->el), BPTT_OK);
    p->din = din, p->dh = dh, p->m = din + dh, p->nout = nout;
    p->T = T, p->B = B, p->pad = pad;
    p->ldw = p->m + pad, p->ldwo = dh + pad, p->ldx = din + pad;
    p->ldh0 = dh + pad, p->ldl = nout + pad;
    const size_t TB = T * B;
    p->W = tu_random(dh * p->ldw, 1.5 / sqrt((double)p->m), &r);
    p->Wo = tu_random(nout * p->ldwo, 2.0 / sqrt((double)dh), &r);
    if (flags & E_BIAS) {
        p->bh = tu_random(dh, 0.5, &r);
        p->bo = tu_random(nout, 0.5, &r);
    }
    p->x = tu_random(TB * p->ldx, 1.0, &r);
    if (flags & E_H0)
        p->h0 = tu_random(B * p->ldh0, 0.8, &r);
    if (kind == K_LABELS) {
        p->labels = malloc(TB * sizeof *p->labels);
        for (size_t k = 0; k < TB; k++) {
            p->labels[k] = (int)((tu_uniform(&r) + 1) / 2 * (double)nout);
            if ((flags & E_IGNORE) && tu_uniform(&r) < -0.4)
                p->labels[k] = BPTT_IGNORE_LABEL;
        }
        if (flags & E_IGNORE)
            p->labels[TB - 1] = BPTT_IGNORE_LABEL;
    } else if (kind == K_SOFT) {
        /* Probability rows, some scaled off 1, some zero (ignored). */
        p->L = calloc(TB * p->ldl, sizeof *p->L);
        for (size_t k = 0; k < TB; k++) {
            double *l = p->L + k * p->ldl, s = 0;
            for (size_t j = 0; j < nout; j++)
                s += l[j] = tu_uniform(&r) + 1;
            double scale = k % 3 == 1 ? 1.7 : 1.0;
            for (size_t j = 0; j < nout; j++)
                l[j] *= scale / s;
            if ((flags & E_IGNORE) && k % 4 == 2)
                for (size_t j = 0; j < nout; j++)
                    l[j] = 0;
        }
    } else {
        p->L = tu_random(TB * p->ldl, 0.8, &r);
    }
    return p;
}

static void eprob_free(eprob *p)
{
    bptt_elman_free(p->el);
    bptt_net_free(p->net);
    free(p->W), free(p->bh), free(p->Wo), free(p->bo), free(p->x);
    free(p->h0), free(p->L), free(p->labels);
    free(p);
}

/* The outputs of one forward + backward, in the problem's padded leading
 * dimensions (h ld dh, y ld nout). */
typedef struct egrads {
    double E;
    double *h, *y, *dW, *dbh, *dWo, *dbo, *dx, *dh0;
} egrads;

static void egrads_alloc(const eprob *p, egrads *g)
{
    const size_t TB = p->T * p->B;
    g->h = calloc(TB * p->dh, sizeof(double));
    g->y = calloc(TB * p->nout, sizeof(double));
    g->dW = calloc(p->dh * p->ldw, sizeof(double));
    g->dbh = calloc(p->dh, sizeof(double));
    g->dWo = calloc(p->nout * p->ldwo, sizeof(double));
    g->dbo = calloc(p->nout, sizeof(double));
    g->dx = calloc(TB * p->ldx, sizeof(double));
    g->dh0 = calloc(p->B * p->ldh0, sizeof(double));
}

static void egrads_free(egrads *g)
{
    free(g->h), free(g->y), free(g->dW), free(g->dbh), free(g->dWo);
    free(g->dbo), free(g->dx), free(g->dh0);
    memset(g, 0, sizeof *g);
}

/* Through the library: forward with E, backward with beta = 0. */
static bptt_status lib_grads(const eprob *p, bptt_algo algo, egrads *g)
{
    bptt_elman_workspace *ws;
    bptt_status st = bptt_elman_workspace_alloc(p->el, p->T, p->B, &ws);
    if (st != BPTT_OK)
        return st;
    egrads_alloc(p, g);
    st = bptt_elman_forward(p->el, p->T, p->B, p->W, p->ldw, p->bh, p->Wo,
                            p->ldwo, p->bo, p->x, p->ldx, p->h0, p->ldh0,
                            p->labels, p->L, p->ldl, &g->E, g->h, p->dh, g->y,
                            p->nout, algo, ws);
    if (st == BPTT_OK)
        st = bptt_elman_backward(p->el, p->T, p->B, p->W, p->ldw, p->Wo,
                                 p->ldwo, p->labels, p->L, p->ldl, 0.0, g->dW,
                                 p->ldw, p->bh ? g->dbh : NULL, g->dWo,
                                 p->ldwo, p->bo ? g->dbo : NULL, g->dx,
                                 p->ldx, p->h0 ? g->dh0 : NULL, p->ldh0, algo,
                                 ws);
    bptt_elman_workspace_free(ws);
    return st;
}

static double lib_loss(const eprob *p)
{
    bptt_elman_workspace *ws;
    double E = NAN;
    ck_assert_int_eq(bptt_elman_workspace_alloc(p->el, p->T, p->B, &ws),
                     BPTT_OK);
    ck_assert_int_eq(bptt_elman_forward(p->el, p->T, p->B, p->W, p->ldw, p->bh,
                                        p->Wo, p->ldwo, p->bo, p->x, p->ldx,
                                        p->h0, p->ldh0, p->labels, p->L,
                                        p->ldl, &E, NULL, 0, NULL, 0,
                                        BPTT_ALGO_AUTO, ws), BPTT_OK);
    bptt_elman_workspace_free(ws);
    return E;
}

/* ------------------------------------------------------------------------ */
/* The naive element-wise form, from docs/derivation.md §9 (not the library) */
/* ------------------------------------------------------------------------ */

/* l_t of row k as a dense vector (one-hot, zero when ignored, or L's row). */
static void target_row(const eprob *p, size_t k, double *l)
{
    for (size_t j = 0; j < p->nout; j++)
        l[j] = p->L ? p->L[k * p->ldl + j] : 0;
    if (p->labels && p->labels[k] != BPTT_IGNORE_LABEL)
        l[p->labels[k]] = 1;
}

static void naive_grads(const eprob *p, egrads *g)
{
    const size_t din = p->din, dh = p->dh, nout = p->nout, T = p->T, B = p->B;
    const size_t TB = T * B;
    egrads_alloc(p, g);
    double *hbar = calloc(TB * dh, sizeof *hbar), *fp = calloc(TB * dh, sizeof *fp);
    double *l = calloc(nout, sizeof *l), *dyb = calloc(nout, sizeof *dyb);
    double *dh_ = calloc(dh, sizeof *dh_);
    double *dhb = calloc(B * dh, sizeof *dhb), *dhb_next = calloc(B * dh, sizeof *dhb);
    g->E = 0;
    for (size_t t = 0; t < T; t++)
        for (size_t b = 0; b < B; b++) {
            const size_t k = t * B + b;
            for (size_t i = 0; i < dh; i++) {
                /* h̄_t = Wi x_t + Wh h_{t−1} + bh,  h_t = f1(h̄_t) */
                double a = p->bh ? p->bh[i] : 0;
                for (size_t j = 0; j < din; j++)
                    a += p->W[i * p->ldw + j] * p->x[k * p->ldx + j];
                for (size_t j = 0; j < dh; j++) {
                    double hp = t ? g->h[(k - B) * dh + j]
                                  : p->h0 ? p->h0[b * p->ldh0 + j] : 0;
                    a += p->W[i * p->ldw + din + j] * hp;
                }
                hbar[k * dh + i] = a;
                g->h[k * dh + i] = tu_activation(bptt_net_activation(p->net, i),
                                                 a, &fp[k * dh + i]);
            }
            double *y = g->y + k * nout, z = 0;
            for (size_t i = 0; i < nout; i++) {
                /* ȳ_t = Wo h_t + bo */
                double a = p->bo ? p->bo[i] : 0;
                for (size_t j = 0; j < dh; j++)
                    a += p->Wo[i * p->ldwo + j] * g->h[k * dh + j];
                y[i] = p->kind == K_LINEAR ? a : exp(a);
                z += y[i];
            }
            target_row(p, k, l);
            for (size_t i = 0; i < nout; i++) {
                if (p->kind == K_LINEAR) {
                    g->E += 0.5 * (y[i] - l[i]) * (y[i] - l[i]);
                } else {
                    /* y_t = softmax(ȳ_t),  E −= l_tᵀ log y_t */
                    y[i] /= z;
                    if (l[i] != 0)
                        g->E -= l[i] * log(y[i]);
                }
            }
        }
    for (size_t t = T; t-- > 0;) {
        for (size_t b = 0; b < B; b++) {
            const size_t k = t * B + b;
            const double *y = g->y + k * nout;
            target_row(p, k, l);
            double s = 0;
            for (size_t i = 0; i < nout; i++)
                s += l[i];
            for (size_t i = 0; i < nout; i++) {
                /* ∂E/∂ȳ = y − l (linear); (Σl) y − l (softmax) */
                dyb[i] = p->kind == K_LINEAR ? y[i] - l[i] : s * y[i] - l[i];
                g->dbo[i] += dyb[i];
                for (size_t j = 0; j < dh; j++)
                    g->dWo[i * p->ldwo + j] += dyb[i] * g->h[k * dh + j];
            }
            for (size_t j = 0; j < dh; j++) {
                /* ∂E/∂h_t = Woᵀ ∂E/∂ȳ_t + Whᵀ ∂E/∂h̄_{t+1} */
                double a = 0;
                for (size_t i = 0; i < nout; i++)
                    a += p->Wo[i * p->ldwo + j] * dyb[i];
                if (t + 1 < T)
                    for (size_t i = 0; i < dh; i++)
                        a += p->W[i * p->ldw + din + j] * dhb_next[b * dh + i];
                dh_[j] = a;
            }
            for (size_t i = 0; i < dh; i++) {
                /* ∂E/∂h̄_t = ∂E/∂h_t ⊙ f1'(h̄_t) */
                double d = dh_[i] * fp[k * dh + i];
                dhb[b * dh + i] = d;
                g->dbh[i] += d;
                for (size_t j = 0; j < din; j++)
                    g->dW[i * p->ldw + j] += d * p->x[k * p->ldx + j];
                for (size_t j = 0; j < dh; j++) {
                    double hp = t ? g->h[(k - B) * dh + j]
                                  : p->h0 ? p->h0[b * p->ldh0 + j] : 0;
                    g->dW[i * p->ldw + din + j] += d * hp;
                }
            }
            for (size_t j = 0; j < din; j++)
                for (size_t i = 0; i < dh; i++)
                    g->dx[k * p->ldx + j] += p->W[i * p->ldw + j] * dhb[b * dh + i];
            if (t == 0)
                for (size_t j = 0; j < dh; j++)
                    for (size_t i = 0; i < dh; i++)
                        g->dh0[b * p->ldh0 + j] +=
                            p->W[i * p->ldw + din + j] * dhb[b * dh + i];
        }
        double *tmp = dhb_next;
        dhb_next = dhb;
        dhb = tmp;
    }
    free(hbar), free(fp), free(l), free(dyb), free(dh_), free(dhb), free(dhb_next);
}

/* Every block of two sets of outputs within tol. */
static void compare(const eprob *p, const egrads *a, const egrads *ref,
                    double tol, const char *what)
{
    const size_t TB = p->T * p->B;
    struct {
        const char *name;
        size_t rows, cols, ld;
        const double *x, *r;
        int on;
    } blk[] = {
        {"h", TB, p->dh, p->dh, a->h, ref->h, 1},
        {"y", TB, p->nout, p->nout, a->y, ref->y, 1},
        {"dWi", p->dh, p->din, p->ldw, a->dW, ref->dW, 1},
        {"dWh", p->dh, p->dh, p->ldw, a->dW + p->din, ref->dW + p->din, 1},
        {"dbh", 1, p->dh, p->dh, a->dbh, ref->dbh, p->bh != NULL},
        {"dWo", p->nout, p->dh, p->ldwo, a->dWo, ref->dWo, 1},
        {"dbo", 1, p->nout, p->nout, a->dbo, ref->dbo, p->bo != NULL},
        {"dx", TB, p->din, p->ldx, a->dx, ref->dx, 1},
        {"dh0", p->B, p->dh, p->ldh0, a->dh0, ref->dh0, p->h0 != NULL},
    };
    for (size_t i = 0; i < sizeof blk / sizeof blk[0]; i++) {
        if (!blk[i].on)
            continue;
        double e = tu_relerr(blk[i].rows, blk[i].cols, blk[i].x, blk[i].ld,
                             blk[i].r, blk[i].ld);
        ck_assert_msg(e <= tol, "%s: %s relerr %g", what, blk[i].name, e);
    }
    ck_assert_msg(fabs(a->E - ref->E) <= tol * (1 + fabs(ref->E)),
                  "%s: E %.17g vs %.17g", what, a->E, ref->E);
}

/* ------------------------------------------------------------------------ */
/* Reference: the library against the naive form                             */
/* ------------------------------------------------------------------------ */

typedef struct eshape {
    size_t din, dh, nout, T, B, pad;
    int kind, flags;
} eshape;

static const eshape shapes[] = {
    {1, 1, 1, 1, 1, 0, K_LABELS, 0},
    {1, 1, 2, 5, 1, 1, K_LABELS, E_IGNORE},
    {3, 6, 5, 7, 1, 2, K_LABELS, E_BIAS | E_H0 | E_IGNORE},
    {5, 7, 11, 9, 3, 1, K_LABELS, E_BIAS | E_H0 | E_IGNORE},
    {4, 13, 3, 6, 2, 0, K_SOFT, E_BIAS | E_H0 | E_IGNORE},
    {2, 5, 9, 8, 4, 3, K_SOFT, E_H0},
    {3, 8, 4, 7, 2, 1, K_LINEAR, E_BIAS | E_H0},
    {6, 3, 1, 5, 1, 0, K_LINEAR, 0},
    {17, 31, 29, 13, 5, 2, K_LABELS, E_BIAS | E_H0 | E_IGNORE},
};
#define NSHAPES (sizeof shapes / sizeof shapes[0])

static eprob *shape_problem(int i)
{
    const eshape *s = &shapes[i];
    return eprob_new(s->din, s->dh, s->nout, s->T, s->B, s->pad, s->kind,
                     s->flags, 300 + (unsigned long long)i);
}

START_TEST(library_matches_naive)
{
    eprob *p = shape_problem(_i);
    egrads ref = {0};
    naive_grads(p, &ref);
    static const bptt_algo algos[] = {BPTT_ALGO_NAIVE, BPTT_ALGO_GEMV_GER,
                                      BPTT_ALGO_AUTO};
    for (size_t a = 0; a < 3; a++) {
        egrads g = {0};
        ck_assert_int_eq(lib_grads(p, algos[a], &g), BPTT_OK);
        compare(p, &g, &ref, TOL_REFERENCE, bptt_algo_name(algos[a]));
        egrads_free(&g);
    }
    egrads_free(&ref);
    eprob_free(p);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* Gradient checks: central differences on every block                       */
/* ------------------------------------------------------------------------ */

static double loss_of(const void *p)
{
    return lib_loss(p);
}

static void fd_check(eprob *p, double *a, size_t rows, size_t cols, size_t ld,
                     const double *grad, size_t ldg, const char *what)
{
    const double e = tu_fd_block(loss_of, p, a, rows, cols, ld, grad, ldg);
    ck_assert_msg(e <= TOL_GRADCHECK, "%s: relerr %g against differences",
                  what, e);
}

static void gradcheck(eprob *p, bptt_algo algo)
{
    egrads g = {0};
    ck_assert_int_eq(lib_grads(p, algo, &g), BPTT_OK);
    fd_check(p, p->W, p->dh, p->din, p->ldw, g.dW, p->ldw, "dWi");
    fd_check(p, p->W + p->din, p->dh, p->dh, p->ldw, g.dW + p->din, p->ldw,
             "dWh");
    fd_check(p, p->Wo, p->nout, p->dh, p->ldwo, g.dWo, p->ldwo, "dWo");
    fd_check(p, p->x, p->T * p->B, p->din, p->ldx, g.dx, p->ldx, "dx");
    if (p->bh) {
        fd_check(p, p->bh, 1, p->dh, p->dh, g.dbh, p->dh, "dbh");
        fd_check(p, p->bo, 1, p->nout, p->nout, g.dbo, p->nout, "dbo");
    }
    if (p->h0)
        fd_check(p, p->h0, p->B, p->dh, p->ldh0, g.dh0, p->ldh0, "dh0");
    egrads_free(&g);
}

START_TEST(gradcheck_labels)
{
    /* Mixed activations (identity, tanh, logistic, relu, softplus, custom),
     * biases, h0, ignored steps, two sequences. */
    eprob *p = eprob_new(3, 7, 5, 6, 2, 1, K_LABELS,
                         E_BIAS | E_H0 | E_IGNORE, 21);
    gradcheck(p, _i ? BPTT_ALGO_GEMV_GER : BPTT_ALGO_NAIVE);
    eprob_free(p);
}
END_TEST

START_TEST(gradcheck_soft_labels)
{
    /* Rows summing to 1, to 1.7 and to 0: E = −lᵀ log y as written. */
    eprob *p = eprob_new(2, 6, 4, 7, 2, 2, K_SOFT, E_BIAS | E_H0 | E_IGNORE,
                         22);
    gradcheck(p, BPTT_ALGO_GEMV_GER);
    eprob_free(p);
}
END_TEST

START_TEST(gradcheck_linear_head)
{
    eprob *p = eprob_new(4, 6, 3, 8, 1, 0, K_LINEAR, E_BIAS | E_H0, 23);
    gradcheck(p, BPTT_ALGO_GEMV_GER);
    eprob_free(p);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* Identities of the head                                                    */
/* ------------------------------------------------------------------------ */

/* With T = B = 1 and beta = 0, dbo is ∂E/∂ȳ itself: 0 + ∂E/∂ȳ, no sum. */
static void one_step(const eprob *p, egrads *g)
{
    ck_assert_uint_eq(p->T * p->B, 1);
    ck_assert_int_eq(lib_grads(p, BPTT_ALGO_AUTO, g), BPTT_OK);
}

START_TEST(dlogits_is_y_minus_onehot)
{
    eprob *p = eprob_new(3, 5, 7, 1, 1, 0, K_LABELS, E_BIAS | E_H0, 40 + _i);
    for (int c = 0; c < 7; c++) {
        p->labels[0] = c;
        egrads g = {0};
        one_step(p, &g);
        for (int j = 0; j < 7; j++)
            ck_assert_msg(g.dbo[j] == g.y[j] - (j == c),
                          "class %d: dE/dybar[%d] = %.17g, y - l = %.17g", c, j,
                          g.dbo[j], g.y[j] - (j == c));
        /* the same one-hot row as a soft label: the same bits */
        free(p->L);
        p->L = calloc(7, sizeof *p->L);
        p->L[c] = 1;
        int *keep = p->labels;
        p->labels = NULL;
        egrads s = {0};
        one_step(p, &s);
        ck_assert_mem_eq(s.dbo, g.dbo, 7 * sizeof(double));
        ck_assert(s.E == g.E);
        p->labels = keep;
        free(p->L);
        p->L = NULL;
        egrads_free(&s);
        egrads_free(&g);
    }
    eprob_free(p);
}
END_TEST

START_TEST(linear_dlogits_is_y_minus_target)
{
    eprob *p = eprob_new(3, 5, 4, 1, 1, 1, K_LINEAR, E_BIAS | E_H0, 45);
    egrads g = {0};
    one_step(p, &g);
    double E = 0;
    for (int j = 0; j < 4; j++) {
        double e = g.y[j] - p->L[j];
        ck_assert(g.dbo[j] == e);
        E += 0.5 * e * e;
    }
    ck_assert_double_eq_tol(g.E, E, 1e-15 * E);
    egrads_free(&g);
    eprob_free(p);
}
END_TEST

START_TEST(ignored_steps_contribute_nothing)
{
    /* All steps ignored: E = 0 and every gradient exactly 0. */
    eprob *p = eprob_new(3, 6, 5, 5, 2, 1, K_LABELS, E_BIAS | E_H0, 50);
    for (size_t k = 0; k < p->T * p->B; k++)
        p->labels[k] = BPTT_IGNORE_LABEL;
    egrads g = {0};
    ck_assert_int_eq(lib_grads(p, BPTT_ALGO_GEMV_GER, &g), BPTT_OK);
    ck_assert(g.E == 0);
    for (size_t i = 0; i < p->dh * p->ldw; i++)
        ck_assert(g.dW[i] == 0);
    for (size_t i = 0; i < p->nout * p->ldwo; i++)
        ck_assert(g.dWo[i] == 0);
    for (size_t i = 0; i < p->B * p->ldh0; i++)
        ck_assert(g.dh0[i] == 0);
    egrads_free(&g);

    /* Steps 0..T-2 ignored, the last one labelled: E and every gradient as
     * for the one-step sequence problem that ends there — x of the ignored
     * steps still matters through h, so compare with the loss of the last
     * step computed by the naive form. */
    for (size_t b = 0; b < p->B; b++)
        p->labels[(p->T - 1) * p->B + b] = (int)b;
    egrads ref = {0};
    naive_grads(p, &ref);
    ck_assert_int_eq(lib_grads(p, BPTT_ALGO_GEMV_GER, &g), BPTT_OK);
    compare(p, &g, &ref, TOL_REFERENCE, "last step only");
    double E = 0;
    for (size_t b = 0; b < p->B; b++)
        E -= log(g.y[((p->T - 1) * p->B + b) * p->nout + b]);
    ck_assert_double_eq_tol(g.E, E, 1e-14 * E);
    /* and dbo is the sum of y − l over the labelled rows only */
    for (size_t j = 0; j < p->nout; j++) {
        double s = 0;
        for (size_t b = 0; b < p->B; b++)
            s += g.y[((p->T - 1) * p->B + b) * p->nout + j] - (j == b);
        ck_assert_double_eq_tol(g.dbo[j], s, 1e-15);
    }
    egrads_free(&g);
    egrads_free(&ref);

    /* An ignored label and a zero soft-label row are the same thing. */
    for (size_t k = 0; k < p->T * p->B; k++)
        p->labels[k] = k % 3 ? (int)(k % p->nout) : BPTT_IGNORE_LABEL;
    egrads lab = {0}, soft = {0};
    ck_assert_int_eq(lib_grads(p, BPTT_ALGO_GEMV_GER, &lab), BPTT_OK);
    p->L = calloc(p->T * p->B * p->ldl, sizeof *p->L);
    for (size_t k = 0; k < p->T * p->B; k++)
        if (p->labels[k] != BPTT_IGNORE_LABEL)
            p->L[k * p->ldl + p->labels[k]] = 1;
    free(p->labels);
    p->labels = NULL;
    ck_assert_int_eq(lib_grads(p, BPTT_ALGO_GEMV_GER, &soft), BPTT_OK);
    compare(p, &soft, &lab, TOL_REFERENCE, "zero rows vs ignored");
    egrads_free(&lab);
    egrads_free(&soft);
    eprob_free(p);
}
END_TEST

START_TEST(soft_labels_are_their_definition)
{
    eprob *p = eprob_new(3, 6, 5, 6, 2, 1, K_SOFT, E_BIAS | E_H0 | E_IGNORE,
                         60);
    const size_t TB = p->T * p->B, n = p->nout;
    egrads g = {0};
    ck_assert_int_eq(lib_grads(p, BPTT_ALGO_GEMV_GER, &g), BPTT_OK);
    /* E = −Σ_t l_tᵀ log y_t from the library's own y */
    double E = 0;
    for (size_t k = 0; k < TB; k++)
        for (size_t j = 0; j < n; j++)
            E -= p->L[k * p->ldl + j] * log(g.y[k * n + j]);
    ck_assert_double_eq_tol(g.E, E, 1e-13 * E);

    /* E and every gradient are linear in l: a soft row α e_a + (1−α) e_b
     * gives α·(label a) + (1−α)·(label b). */
    eprob *q = eprob_new(3, 6, 5, 6, 2, 1, K_LABELS, E_BIAS | E_H0, 61);
    const double alpha = 0.3;
    int *la = malloc(TB * sizeof *la), *lb = malloc(TB * sizeof *lb);
    for (size_t k = 0; k < TB; k++) {
        la[k] = (int)(k % n);
        lb[k] = (int)((k * 7 + 2) % n);
    }
    egrads ga = {0}, gb = {0}, gs = {0};
    memcpy(q->labels, la, TB * sizeof *la);
    ck_assert_int_eq(lib_grads(q, BPTT_ALGO_GEMV_GER, &ga), BPTT_OK);
    memcpy(q->labels, lb, TB * sizeof *lb);
    ck_assert_int_eq(lib_grads(q, BPTT_ALGO_GEMV_GER, &gb), BPTT_OK);
    q->L = calloc(TB * q->ldl, sizeof *q->L);
    for (size_t k = 0; k < TB; k++) {
        q->L[k * q->ldl + la[k]] += alpha;
        q->L[k * q->ldl + lb[k]] += 1 - alpha;
    }
    free(q->labels);
    q->labels = NULL;
    ck_assert_int_eq(lib_grads(q, BPTT_ALGO_GEMV_GER, &gs), BPTT_OK);
    egrads mix = {0};
    egrads_alloc(q, &mix);
    mix.E = alpha * ga.E + (1 - alpha) * gb.E;
    memcpy(mix.h, ga.h, TB * q->dh * sizeof(double));
    memcpy(mix.y, ga.y, TB * q->nout * sizeof(double));
#define MIX(f, count)                                                          \
    for (size_t i = 0; i < (count); i++)                                       \
        mix.f[i] = alpha * ga.f[i] + (1 - alpha) * gb.f[i];
    MIX(dW, q->dh * q->ldw)
    MIX(dbh, q->dh)
    MIX(dWo, q->nout * q->ldwo)
    MIX(dbo, q->nout)
    MIX(dx, TB * q->ldx)
    MIX(dh0, q->B * q->ldh0)
#undef MIX
    compare(q, &gs, &mix, TOL_REFERENCE, "soft = mix of hard");
    egrads_free(&mix), egrads_free(&ga), egrads_free(&gb), egrads_free(&gs);
    free(la), free(lb);
    eprob_free(q);
    egrads_free(&g);
    eprob_free(p);
}
END_TEST

START_TEST(huge_logits_stay_finite)
{
    /* bo = (1e4, −1e4, 0) swamps Wo h: y = (1, 0, 0) to the last bit. */
    eprob *p = eprob_new(3, 4, 3, 5, 2, 0, K_LABELS, E_BIAS | E_H0, 70);
    const size_t TB = p->T * p->B;
    p->bo[0] = 1e4, p->bo[1] = -1e4, p->bo[2] = 0;
    for (size_t k = 0; k < TB; k++)
        p->labels[k] = 1; /* the least likely class */
    egrads g = {0};
    ck_assert_int_eq(lib_grads(p, BPTT_ALGO_GEMV_GER, &g), BPTT_OK);
    ck_assert(isfinite(g.E));
    /* −log y_1 = lse − ȳ_1 ≈ 1e4 − (−1e4) per step, give or take Wo h */
    ck_assert_double_eq_tol(g.E, 2e4 * (double)TB, 10.0 * (double)TB);
    /* ∂E/∂ȳ = y − e_1 = (1, −1, 0) exactly on every row */
    ck_assert(g.dbo[0] == (double)TB && g.dbo[1] == -(double)TB &&
              g.dbo[2] == 0);
    double *all[] = {g.dW, g.dbh, g.dWo, g.dx, g.dh0};
    size_t cnt[] = {p->dh * p->ldw, p->dh, p->nout * p->ldwo, TB * p->ldx,
                    p->B * p->ldh0};
    for (int a = 0; a < 5; a++)
        for (size_t i = 0; i < cnt[a]; i++)
            ck_assert_msg(isfinite(all[a][i]), "block %d entry %zu", a, i);
    egrads_free(&g);

    /* Logits of ±1e4 through Wo too, in float as well: finite. */
    for (size_t i = 0; i < p->nout * p->ldwo; i++)
        p->Wo[i] = i % 2 ? 1e4 : -1e4;
    p->bo[0] = p->bo[1] = 0;
    ck_assert_int_eq(lib_grads(p, BPTT_ALGO_GEMV_GER, &g), BPTT_OK);
    ck_assert(isfinite(g.E) && g.E > 0);
    for (size_t i = 0; i < p->dh * p->ldw; i++)
        ck_assert(isfinite(g.dW[i]));
    egrads_free(&g);

    bptt_net *net = tu_mixed_net(1, 1);
    bptt_elman *el;
    bpttf_elman_workspace *ws;
    ck_assert_int_eq(bptt_elman_create(net, 3, BPTT_HEAD_SOFTMAX, &el), BPTT_OK);
    ck_assert_int_eq(bpttf_elman_workspace_alloc(el, 1, 1, &ws), BPTT_OK);
    float W[2] = {0.5f, 0.5f}, Wo[3] = {0, 0, 0}, bo[3] = {1e4f, -1e4f, 0};
    float x[1] = {1}, y[3], dW[2], dWo[3], dbo[3];
    int lab[1] = {1};
    double E;
    ck_assert_int_eq(bpttf_elman_forward(el, 1, 1, W, 2, NULL, Wo, 1, bo, x, 1,
                                         NULL, 0, lab, NULL, 0, &E, NULL, 0, y,
                                         3, BPTT_ALGO_AUTO, ws), BPTT_OK);
    ck_assert_double_eq_tol(E, 2e4, 1e-6 * 2e4);
    ck_assert_int_eq(bpttf_elman_backward(el, 1, 1, W, 2, Wo, 1, lab, NULL, 0,
                                          0.0f, dW, 2, NULL, dWo, 1, dbo, NULL,
                                          0, NULL, 0, BPTT_ALGO_AUTO, ws),
                     BPTT_OK);
    ck_assert(dbo[0] == 1 && dbo[1] == -1 && dbo[2] == 0);
    ck_assert(isfinite(dW[0]) && isfinite(dW[1]) && isfinite(dWo[0]));
    bpttf_elman_workspace_free(ws);
    bptt_elman_free(el);
    bptt_net_free(net);
    eprob_free(p);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* The shared core                                                           */
/* ------------------------------------------------------------------------ */

START_TEST(linear_identity_readout_is_network_a)
{
    /* Wo = I, bo = 0, linear head: E and the core's gradients are Network
     * A's with the squared-error loss of the same targets. */
    const size_t din = 3, dh = 6, T = 7, B = 2, TB = T * B;
    tu_problem *a = tu_problem_new(tu_mixed_net(din, dh), T, B, 1,
                                   TU_BIAS | TU_Y0, 80);
    tu_grads ga = {0};
    ck_assert_int_eq(tu_gradients(a, BPTT_ALGO_GEMV_GER, &ga), BPTT_OK);
    bptt_elman *el;
    ck_assert_int_eq(bptt_elman_create(a->net, dh, BPTT_HEAD_LINEAR, &el),
                     BPTT_OK);
    double *Wo = calloc(dh * dh, sizeof *Wo), *dWo = calloc(dh * dh, sizeof *dWo);
    for (size_t i = 0; i < dh; i++)
        Wo[i * dh + i] = 1;
    double *h = calloc(TB * a->ldy, sizeof *h), *dW = calloc(dh * a->ldw, sizeof *dW);
    double *db = calloc(dh, sizeof *db), *dx = calloc(TB * a->ldx, sizeof *dx);
    double *dh0 = calloc(B * a->ldy0, sizeof *dh0), E;
    bptt_elman_workspace *ws;
    ck_assert_int_eq(bptt_elman_workspace_alloc(el, T, B, &ws), BPTT_OK);
    ck_assert_int_eq(bptt_elman_forward(el, T, B, a->W, a->ldw, a->b, Wo, dh,
                                        NULL, a->x, a->ldx, a->y0, a->ldy0,
                                        NULL, a->target, a->ldy, &E, h, a->ldy,
                                        NULL, 0, BPTT_ALGO_GEMV_GER, ws),
                     BPTT_OK);
    ck_assert_int_eq(bptt_elman_backward(el, T, B, a->W, a->ldw, Wo, dh, NULL,
                                         a->target, a->ldy, 0.0, dW, a->ldw,
                                         db, dWo, dh, NULL, dx, a->ldx, dh0,
                                         a->ldy0, BPTT_ALGO_GEMV_GER, ws),
                     BPTT_OK);
    ck_assert_double_eq_tol(E, ga.loss, TOL_REFERENCE * ga.loss);
    ck_assert(tu_relerr(TB, dh, h, a->ldy, ga.y, a->ldy) <= TOL_REFERENCE);
    ck_assert(tu_relerr(dh, a->m, dW, a->ldw, ga.dW, a->ldw) <= TOL_REFERENCE);
    ck_assert(tu_relerr(1, dh, db, dh, ga.db, dh) <= TOL_REFERENCE);
    ck_assert(tu_relerr(TB, din, dx, a->ldx, ga.dx, a->ldx) <= TOL_REFERENCE);
    ck_assert(tu_relerr(B, dh, dh0, a->ldy0, ga.dy0, a->ldy0) <= TOL_REFERENCE);
    bptt_elman_workspace_free(ws);
    bptt_elman_free(el);
    free(Wo), free(dWo), free(h), free(dW), free(db), free(dx), free(dh0);
    tu_grads_free(&ga);
    tu_problem_free(a);
}
END_TEST

START_TEST(chunks_carry_the_state)
{
    /* One forward over T steps = two forwards of T1 and T − T1 steps, the
     * second starting from the last B rows of the first's h. */
    eprob *p = eprob_new(3, 6, 5, 9, 2, 0, K_LABELS, E_BIAS | E_H0, 90);
    const size_t T = p->T, B = p->B, T1 = 4, dh = p->dh, n = p->nout;
    bptt_elman_workspace *ws;
    ck_assert_int_eq(bptt_elman_workspace_alloc(p->el, T, B, &ws), BPTT_OK);
    double *h = calloc(T * B * dh, sizeof *h), *y = calloc(T * B * n, sizeof *y);
    double *h2 = calloc(T * B * dh, sizeof *h2), *y2 = calloc(T * B * n, sizeof *y2);
    double E, E1, E2;
    ck_assert_int_eq(bptt_elman_forward(p->el, T, B, p->W, p->ldw, p->bh,
                                        p->Wo, p->ldwo, p->bo, p->x, p->ldx,
                                        p->h0, p->ldh0, p->labels, NULL, 0, &E,
                                        h, dh, y, n, BPTT_ALGO_AUTO, ws),
                     BPTT_OK);
    ck_assert_int_eq(bptt_elman_forward(p->el, T1, B, p->W, p->ldw, p->bh,
                                        p->Wo, p->ldwo, p->bo, p->x, p->ldx,
                                        p->h0, p->ldh0, p->labels, NULL, 0,
                                        &E1, h2, dh, y2, n, BPTT_ALGO_AUTO, ws),
                     BPTT_OK);
    ck_assert_int_eq(bptt_elman_forward(p->el, T - T1, B, p->W, p->ldw, p->bh,
                                        p->Wo, p->ldwo, p->bo,
                                        p->x + T1 * B * p->ldx, p->ldx,
                                        h2 + (T1 - 1) * B * dh, dh,
                                        p->labels + T1 * B, NULL, 0, &E2,
                                        h2 + T1 * B * dh, dh, y2 + T1 * B * n,
                                        n, BPTT_ALGO_AUTO, ws), BPTT_OK);
    ck_assert_mem_eq(h2, h, T * B * dh * sizeof *h);
    ck_assert_mem_eq(y2, y, T * B * n * sizeof *y);
    ck_assert_double_eq_tol(E1 + E2, E, 1e-14 * E);
    bptt_elman_workspace_free(ws);
    free(h), free(y), free(h2), free(y2);
    eprob_free(p);
}
END_TEST

START_TEST(beta_accumulates)
{
    eprob *p = eprob_new(3, 5, 4, 6, 2, 1, K_LABELS, E_BIAS | E_H0, 95);
    egrads g = {0};
    ck_assert_int_eq(lib_grads(p, BPTT_ALGO_GEMV_GER, &g), BPTT_OK);
    bptt_elman_workspace *ws;
    ck_assert_int_eq(bptt_elman_workspace_alloc(p->el, p->T, p->B, &ws),
                     BPTT_OK);
    egrads a = {0};
    egrads_alloc(p, &a);
    /* beta = 0 must not read the old contents, NaN included */
    for (size_t i = 0; i < p->nout * p->ldwo; i++)
        a.dWo[i] = NAN;
    for (size_t i = 0; i < p->nout; i++)
        a.dbo[i] = NAN;
    ck_assert_int_eq(bptt_elman_forward(p->el, p->T, p->B, p->W, p->ldw, p->bh,
                                        p->Wo, p->ldwo, p->bo, p->x, p->ldx,
                                        p->h0, p->ldh0, NULL, NULL, 0, NULL,
                                        NULL, 0, NULL, 0, BPTT_ALGO_AUTO, ws),
                     BPTT_OK);
    for (int rep = 0; rep < 2; rep++)
        ck_assert_int_eq(bptt_elman_backward(p->el, p->T, p->B, p->W, p->ldw,
                                             p->Wo, p->ldwo, p->labels, NULL, 0,
                                             rep ? 1.0 : 0.0, a.dW, p->ldw,
                                             a.dbh, a.dWo, p->ldwo, a.dbo,
                                             a.dx, p->ldx, a.dh0, p->ldh0,
                                             BPTT_ALGO_AUTO, ws), BPTT_OK);
    for (size_t i = 0; i < p->nout * p->ldwo; i++)
        g.dWo[i] *= 2;
    for (size_t i = 0; i < p->nout; i++)
        g.dbo[i] *= 2;
    for (size_t i = 0; i < p->dh * p->ldw; i++)
        g.dW[i] *= 2;
    ck_assert(tu_relerr(p->nout, p->dh, a.dWo, p->ldwo, g.dWo, p->ldwo) <=
              TOL_REFERENCE);
    ck_assert(tu_relerr(1, p->nout, a.dbo, p->nout, g.dbo, p->nout) <=
              TOL_REFERENCE);
    ck_assert(tu_relerr(p->dh, p->m, a.dW, p->ldw, g.dW, p->ldw) <=
              TOL_REFERENCE);
    bptt_elman_workspace_free(ws);
    egrads_free(&a);
    egrads_free(&g);
    eprob_free(p);
}
END_TEST

START_TEST(workspace_in_a_misaligned_buffer)
{
    /* A workspace placed at an odd address of the caller's buffer gives the
     * bits of an allocated one (its arrays are laid out without overlap). */
    eprob *p = eprob_new(4, 7, 6, 5, 3, 1, K_LABELS, E_BIAS | E_H0, 99);
    egrads ref = {0}, g = {0};
    ck_assert_int_eq(lib_grads(p, BPTT_ALGO_GEMV_GER, &ref), BPTT_OK);
    egrads_alloc(p, &g);
    size_t bytes;
    ck_assert_int_eq(bptt_elman_workspace_size(p->el, p->T, p->B, &bytes),
                     BPTT_OK);
    unsigned char *buf = malloc(bytes + 3);
    bptt_elman_workspace *ws;
    ck_assert_int_eq(bptt_elman_workspace_init(p->el, p->T, p->B, buf + 3,
                                               bytes, &ws), BPTT_OK);
    ck_assert_int_eq(bptt_elman_forward(p->el, p->T, p->B, p->W, p->ldw, p->bh,
                                        p->Wo, p->ldwo, p->bo, p->x, p->ldx,
                                        p->h0, p->ldh0, p->labels, NULL, 0,
                                        &g.E, g.h, p->dh, g.y, p->nout,
                                        BPTT_ALGO_GEMV_GER, ws), BPTT_OK);
    ck_assert_int_eq(bptt_elman_backward(p->el, p->T, p->B, p->W, p->ldw,
                                         p->Wo, p->ldwo, p->labels, NULL, 0,
                                         0.0, g.dW, p->ldw, g.dbh, g.dWo,
                                         p->ldwo, g.dbo, g.dx, p->ldx, g.dh0,
                                         p->ldh0, BPTT_ALGO_GEMV_GER, ws),
                     BPTT_OK);
    bptt_elman_workspace_free(ws); /* frees nothing: the buffer is ours */
    compare(p, &g, &ref, 0.0, "misaligned");
    free(buf);
    egrads_free(&ref), egrads_free(&g);
    eprob_free(p);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* Single precision against double                                           */
/* ------------------------------------------------------------------------ */

START_TEST(float_matches_double)
{
    static const int kinds[] = {K_LABELS, K_SOFT, K_LINEAR};
    eprob *p = eprob_new(5, 9, 7, 8, 3, 1, kinds[_i],
                         E_BIAS | E_H0 | E_IGNORE, 110 + _i);
    const size_t TB = p->T * p->B;
    egrads ref = {0}, g = {0};
    ck_assert_int_eq(lib_grads(p, BPTT_ALGO_GEMV_GER, &ref), BPTT_OK);
    egrads_alloc(p, &g);
    const size_t nW = p->dh * p->ldw, nWo = p->nout * p->ldwo;
    const size_t nx = TB * p->ldx, nh0 = p->B * p->ldh0, nL = TB * p->ldl;
    float *W = tu_to_float(p->W, nW), *bh = tu_to_float(p->bh, p->dh);
    float *Wo = tu_to_float(p->Wo, nWo), *bo = tu_to_float(p->bo, p->nout);
    float *x = tu_to_float(p->x, nx), *h0 = tu_to_float(p->h0, nh0);
    float *L = p->L ? tu_to_float(p->L, nL) : NULL;
    float *h = malloc(TB * p->dh * sizeof *h), *y = malloc(TB * p->nout * sizeof *y);
    float *dW = malloc(nW * sizeof *dW), *dbh = malloc(p->dh * sizeof *dbh);
    float *dWo = malloc(nWo * sizeof *dWo), *dbo = malloc(p->nout * sizeof *dbo);
    float *dx = malloc(nx * sizeof *dx), *dh0 = malloc(nh0 * sizeof *dh0);
    memset(dW, 0, nW * sizeof *dW), memset(dWo, 0, nWo * sizeof *dWo);
    memset(dx, 0, nx * sizeof *dx), memset(dh0, 0, nh0 * sizeof *dh0);
    bpttf_elman_workspace *ws;
    ck_assert_int_eq(bpttf_elman_workspace_alloc(p->el, p->T, p->B, &ws),
                     BPTT_OK);
    ck_assert_int_eq(bpttf_elman_forward(p->el, p->T, p->B, W, p->ldw, bh, Wo,
                                         p->ldwo, bo, x, p->ldx, h0, p->ldh0,
                                         p->labels, L, p->ldl, &g.E, h, p->dh,
                                         y, p->nout, BPTT_ALGO_AUTO, ws),
                     BPTT_OK);
    ck_assert_int_eq(bpttf_elman_backward(p->el, p->T, p->B, W, p->ldw, Wo,
                                          p->ldwo, p->labels, L, p->ldl, 0.0f,
                                          dW, p->ldw, dbh, dWo, p->ldwo, dbo,
                                          dx, p->ldx, dh0, p->ldh0,
                                          BPTT_ALGO_AUTO, ws), BPTT_OK);
    tu_from_float(h, TB * p->dh, g.h), tu_from_float(y, TB * p->nout, g.y);
    tu_from_float(dW, nW, g.dW), tu_from_float(dbh, p->dh, g.dbh);
    tu_from_float(dWo, nWo, g.dWo), tu_from_float(dbo, p->nout, g.dbo);
    tu_from_float(dx, nx, g.dx), tu_from_float(dh0, nh0, g.dh0);
    compare(p, &g, &ref, TOL_FLOAT, "float");
    bpttf_elman_workspace_free(ws);
    free(W), free(bh), free(Wo), free(bo), free(x), free(h0), free(L);
    free(h), free(y), free(dW), free(dbh), free(dWo), free(dbo), free(dx);
    free(dh0);
    egrads_free(&ref), egrads_free(&g);
    eprob_free(p);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* Traps: status, detail, nothing written                                    */
/* ------------------------------------------------------------------------ */

enum { DIN = 3, DH = 4, M = DIN + DH, NOUT = 5, T = 4, B = 2, TB = T * B };

/* Every array a call may touch, in one block, so one snapshot proves that
 * nothing was written. */
typedef struct arena {
    double W[DH * M], bh[DH], Wo[NOUT * DH], bo[NOUT], x[TB * DIN];
    double h0[B * DH], L[TB * NOUT], h[TB * DH], y[TB * NOUT];
    double dW[DH * M], dbh[DH], dWo[NOUT * DH], dbo[NOUT], dx[TB * DIN];
    double dh0[B * DH], E;
    int labels[TB];
    unsigned char wsbuf[16384];
} arena;

static bptt_net *tnet;
static bptt_elman *tel, *tother, *tlin;
static arena *ar;
static tu_snap snap; /* of the whole arena, taken before each trap */
static bptt_elman_workspace *tws, *tlinws;

static void setup(void)
{
    tu_rng r = {5};
    tnet = tu_mixed_net(DIN, DH);
    ck_assert_int_eq(bptt_elman_create(tnet, NOUT, BPTT_HEAD_SOFTMAX, &tel),
                     BPTT_OK);
    ck_assert_int_eq(bptt_elman_create(tnet, NOUT, BPTT_HEAD_SOFTMAX, &tother),
                     BPTT_OK);
    ck_assert_int_eq(bptt_elman_create(tnet, NOUT, BPTT_HEAD_LINEAR, &tlin),
                     BPTT_OK);
    ar = malloc(sizeof *ar);
    double *d = (double *)ar;
    for (size_t i = 0; i < offsetof(arena, labels) / sizeof(double); i++)
        d[i] = tu_uniform(&r);
    for (size_t i = 0; i < TB * NOUT; i++)
        ar->L[i] = 1.0 / NOUT;
    for (int k = 0; k < TB; k++)
        ar->labels[k] = k % NOUT;
    memset(ar->wsbuf, 0xA5, sizeof ar->wsbuf);
    size_t bytes;
    ck_assert_int_eq(bptt_elman_workspace_size(tel, T, B, &bytes), BPTT_OK);
    ck_assert_uint_le(bytes, sizeof ar->wsbuf / 2);
    ck_assert_int_eq(bptt_elman_workspace_init(tel, T, B, ar->wsbuf, bytes,
                                               &tws), BPTT_OK);
    ck_assert_int_eq(bptt_elman_workspace_init(tlin, T, B, ar->wsbuf + bytes,
                                               bytes, &tlinws), BPTT_OK);
}

static void teardown(void)
{
    bptt_elman_free(tel), bptt_elman_free(tother), bptt_elman_free(tlin);
    bptt_net_free(tnet);
    free(ar);
    tu_snap_free(&snap);
}

static void take_snapshot(void)
{
    tu_snap_free(&snap);
    tu_snap_add(&snap, ar, sizeof *ar);
}

static void assert_untouched(bptt_status got, bptt_status want,
                             const char *what)
{
    tu_assert_refused(got, want, &snap, what);
}

typedef struct fargs {
    const bptt_elman *el;
    size_t T, B;
    const double *W;
    size_t ldw;
    const double *bh, *Wo;
    size_t ldwo;
    const double *bo, *x;
    size_t ldx;
    const double *h0;
    size_t ldh0;
    const int *labels;
    const double *L;
    size_t ldl;
    double *E, *h;
    size_t ldh;
    double *y;
    size_t ldy;
    bptt_algo algo;
    bptt_elman_workspace *ws;
} fargs;

static fargs fvalid(void)
{
    return (fargs){tel, T, B, ar->W, M, ar->bh, ar->Wo, DH, ar->bo, ar->x,
                   DIN, ar->h0, DH, ar->labels, NULL, NOUT, &ar->E, ar->h, DH,
                   ar->y, NOUT, BPTT_ALGO_AUTO, tws};
}

static bptt_status fcall(fargs f)
{
    return bptt_elman_forward(f.el, f.T, f.B, f.W, f.ldw, f.bh, f.Wo, f.ldwo,
                              f.bo, f.x, f.ldx, f.h0, f.ldh0, f.labels, f.L,
                              f.ldl, f.E, f.h, f.ldh, f.y, f.ldy, f.algo, f.ws);
}

/* Run each case on a fresh snapshot; then the valid call succeeds, so each
 * case failed for its one fault. */
#define RUN_CASES(c, n, call, valid)                                           \
    do {                                                                       \
        for (int k_ = 0; k_ < (n); k_++) {                                     \
            take_snapshot();                                                   \
            assert_untouched(call(c[k_].a), c[k_].want, c[k_].what);           \
        }                                                                      \
        ck_assert_int_eq(call(valid()), BPTT_OK);                              \
    } while (0)

START_TEST(forward_traps)
{
    struct {
        const char *what;
        bptt_status want;
        fargs a;
    } c[40];
    int n = 0;
#define CASE(w, st, field, val)                                                \
    do {                                                                       \
        c[n].what = w;                                                         \
        c[n].want = st;                                                        \
        c[n].a = fvalid();                                                     \
        c[n].a.field = val;                                                    \
        n++;                                                                   \
    } while (0)
    static const int bad_hi[TB] = {0, 1, 2, 3, 4, NOUT, 0, 0};
    static const int bad_lo[TB] = {0, 1, -2, 3, 4, 0, 0, 0};
    static double negL[TB * NOUT], nanL[TB * NOUT], infL[TB * NOUT];
    for (int i = 0; i < TB * NOUT; i++)
        negL[i] = nanL[i] = infL[i] = 0.2;
    negL[7] = -1e-300;
    nanL[13] = NAN;
    infL[21] = INFINITY;
    CASE("el NULL", BPTT_ENULL, el, NULL);
    CASE("W NULL", BPTT_ENULL, W, NULL);
    CASE("Wo NULL", BPTT_ENULL, Wo, NULL);
    CASE("x NULL", BPTT_ENULL, x, NULL);
    CASE("ws NULL", BPTT_ENULL, ws, NULL);
    CASE("no targets with E", BPTT_ENULL, labels, NULL);
    CASE("T zero", BPTT_ESIZE, T, 0);
    CASE("B zero", BPTT_ESIZE, B, 0);
    CASE("ldw small", BPTT_ELD, ldw, M - 1);
    CASE("ldwo small", BPTT_ELD, ldwo, DH - 1);
    CASE("ldx small", BPTT_ELD, ldx, DIN - 1);
    CASE("ldh0 small", BPTT_ELD, ldh0, DH - 1);
    CASE("ldh small", BPTT_ELD, ldh, DH - 1);
    CASE("ldy small", BPTT_ELD, ldy, NOUT - 1);
    CASE("T over capacity", BPTT_ECAPACITY, T, T + 1);
    CASE("B over capacity", BPTT_ECAPACITY, B, B + 1);
    CASE("other descriptor", BPTT_EMISMATCH, el, tother);
    CASE("algo unknown", BPTT_EALGO, algo, BPTT_NALGO);
    CASE("ldx beyond INT_MAX", BPTT_EOVERFLOW, ldx, (size_t)INT32_MAX + 1);
    CASE("ldy overflows", BPTT_EOVERFLOW, ldy, SIZE_MAX / 2);
    CASE("label = nout", BPTT_EINVAL, labels, bad_hi);
    CASE("label = -2", BPTT_EINVAL, labels, bad_lo);
    CASE("labels and L", BPTT_EINVAL, L, ar->L);
    int base = n; /* from here on, L instead of labels */
    CASE("negative soft label", BPTT_EINVAL, L, negL);
    CASE("NaN soft label", BPTT_EINVAL, L, nanL);
    CASE("infinite soft label", BPTT_EINVAL, L, infL);
    CASE("ldl small", BPTT_ELD, L, ar->L);
    for (int k = base; k < n; k++)
        c[k].a.labels = NULL;
    c[n - 1].a.ldl = NOUT - 1;
    CASE("linear head with labels", BPTT_EINVAL, el, tlin);
    c[n - 1].a.ws = tlinws;
    CASE("linear head without L", BPTT_ENULL, el, tlin);
    c[n - 1].a.ws = tlinws;
    c[n - 1].a.labels = NULL;
#undef CASE
    RUN_CASES(c, n, fcall, fvalid);
    /* Without E the targets are not read: invalid labels pass. */
    fargs f = fvalid();
    f.E = NULL;
    f.labels = bad_hi;
    ck_assert_int_eq(fcall(f), BPTT_OK);
}
END_TEST

typedef struct bargs {
    const bptt_elman *el;
    size_t T, B;
    const double *W;
    size_t ldw;
    const double *Wo;
    size_t ldwo;
    const int *labels;
    const double *L;
    size_t ldl;
    double beta, *dW;
    size_t lddw;
    double *dbh, *dWo;
    size_t lddwo;
    double *dbo, *dx;
    size_t lddx;
    double *dh0;
    size_t lddh0;
    bptt_algo algo;
    bptt_elman_workspace *ws;
} bargs;

static bargs bvalid(void)
{
    return (bargs){tel, T, B, ar->W, M, ar->Wo, DH, ar->labels, NULL, NOUT,
                   0.0, ar->dW, M, ar->dbh, ar->dWo, DH, ar->dbo, ar->dx,
                   DIN, ar->dh0, DH, BPTT_ALGO_AUTO, tws};
}

static bptt_status bcall(bargs g)
{
    return bptt_elman_backward(g.el, g.T, g.B, g.W, g.ldw, g.Wo, g.ldwo,
                               g.labels, g.L, g.ldl, g.beta, g.dW, g.lddw,
                               g.dbh, g.dWo, g.lddwo, g.dbo, g.dx, g.lddx,
                               g.dh0, g.lddh0, g.algo, g.ws);
}

START_TEST(backward_traps)
{
    take_snapshot();
    assert_untouched(bcall(bvalid()), BPTT_ENOFORWARD, "no forward");
    ck_assert_int_eq(fcall(fvalid()), BPTT_OK);
    struct {
        const char *what;
        bptt_status want;
        bargs a;
    } c[30];
    int n = 0;
#define CASE(w, st, field, val)                                                \
    do {                                                                       \
        c[n].what = w;                                                         \
        c[n].want = st;                                                        \
        c[n].a = bvalid();                                                     \
        c[n].a.field = val;                                                    \
        n++;                                                                   \
    } while (0)
    static const int bad[TB] = {0, 1, 2, 3, 4, 0, 0, 99};
    CASE("el NULL", BPTT_ENULL, el, NULL);
    CASE("W NULL", BPTT_ENULL, W, NULL);
    CASE("Wo NULL", BPTT_ENULL, Wo, NULL);
    CASE("dW NULL", BPTT_ENULL, dW, NULL);
    CASE("dWo NULL", BPTT_ENULL, dWo, NULL);
    CASE("targets NULL", BPTT_ENULL, labels, NULL);
    CASE("ws NULL", BPTT_ENULL, ws, NULL);
    CASE("T zero", BPTT_ESIZE, T, 0);
    CASE("ldw small", BPTT_ELD, ldw, 1);
    CASE("ldwo small", BPTT_ELD, ldwo, DH - 1);
    CASE("lddw small", BPTT_ELD, lddw, M - 1);
    CASE("lddwo small", BPTT_ELD, lddwo, DH - 1);
    CASE("lddx small", BPTT_ELD, lddx, DIN - 1);
    CASE("lddh0 small", BPTT_ELD, lddh0, 0);
    CASE("B over capacity", BPTT_ECAPACITY, B, B + 1);
    CASE("other descriptor", BPTT_EMISMATCH, el, tother);
    CASE("algo unknown", BPTT_EALGO, algo, (bptt_algo)-1);
    CASE("T differs from forward", BPTT_ENOFORWARD, T, T - 1);
    CASE("B differs from forward", BPTT_ENOFORWARD, B, 1);
    CASE("lddx overflow", BPTT_EOVERFLOW, lddx, SIZE_MAX / 4);
    CASE("label out of range", BPTT_EINVAL, labels, bad);
    CASE("labels and L", BPTT_EINVAL, L, ar->L);
    /* refused before the head scales dWo and dbo by it */
    CASE("beta NaN", BPTT_EINVAL, beta, NAN);
    CASE("beta Inf", BPTT_EINVAL, beta, -INFINITY);
#undef CASE
    RUN_CASES(c, n, bcall, bvalid);
}
END_TEST

START_TEST(create_and_workspace_traps)
{
    bptt_elman *sentinel = (bptt_elman *)&tnet, *out = sentinel;
    ck_assert_int_eq(bptt_elman_create(NULL, NOUT, BPTT_HEAD_SOFTMAX, &out),
                     BPTT_ENULL);
    ck_assert_int_eq(bptt_elman_create(tnet, NOUT, BPTT_HEAD_SOFTMAX, NULL),
                     BPTT_ENULL);
    ck_assert_int_eq(bptt_elman_create(tnet, 0, BPTT_HEAD_SOFTMAX, &out),
                     BPTT_ESIZE);
    ck_assert_int_eq(bptt_elman_create(tnet, (size_t)INT32_MAX + 1,
                                       BPTT_HEAD_SOFTMAX, &out),
                     BPTT_EOVERFLOW);
    ck_assert_int_eq(bptt_elman_create(tnet, NOUT, BPTT_NHEAD, &out),
                     BPTT_EINVAL);
    ck_assert_int_eq(bptt_elman_create(tnet, NOUT, (bptt_head)-1, &out),
                     BPTT_EINVAL);
    ck_assert_ptr_eq(out, sentinel);
    ck_assert_ptr_eq(bptt_elman_net(tel), tnet);
    ck_assert_uint_eq(bptt_elman_nout(tel), NOUT);
    ck_assert_int_eq(bptt_elman_head(tlin), BPTT_HEAD_LINEAR);
    ck_assert_int_eq(bptt_elman_head(NULL), BPTT_NHEAD);
    ck_assert_str_eq(bptt_head_name(BPTT_HEAD_SOFTMAX), "softmax");
    ck_assert_ptr_null(bptt_head_name(BPTT_NHEAD));

    size_t bytes = 12345;
    bptt_elman_workspace *ws = (bptt_elman_workspace *)&bytes;
    ck_assert_int_eq(bptt_elman_workspace_size(NULL, T, B, &bytes), BPTT_ENULL);
    ck_assert_int_eq(bptt_elman_workspace_size(tel, T, B, NULL), BPTT_ENULL);
    ck_assert_int_eq(bptt_elman_workspace_size(tel, 0, B, &bytes), BPTT_ESIZE);
    ck_assert_int_eq(bptt_elman_workspace_size(tel, T, 0, &bytes), BPTT_ESIZE);
    ck_assert_int_eq(bptt_elman_workspace_size(tel, SIZE_MAX, 2, &bytes),
                     BPTT_EOVERFLOW);
    ck_assert_int_eq(bpttf_elman_workspace_size(tel, (size_t)1 << 16,
                                                (size_t)1 << 16, &bytes),
                     BPTT_EOVERFLOW);
    ck_assert_uint_eq(bytes, 12345);
    ck_assert_int_eq(bptt_elman_workspace_alloc(tel, T, B, NULL), BPTT_ENULL);
    ck_assert_int_eq(bptt_elman_workspace_alloc(tel, 0, B, &ws), BPTT_ESIZE);
    ck_assert_int_eq(bptt_elman_workspace_init(tel, T, B, NULL, 100, &ws),
                     BPTT_ENULL);
    /* The size is the documented formula. */
    size_t core;
    ck_assert_int_eq(bptt_workspace_size(tnet, T, B, &core), BPTT_OK);
    ck_assert_int_eq(bptt_elman_workspace_size(tel, T, B, &bytes), BPTT_OK);
#define UP(n) (((n) + 63) / 64 * 64)
    ck_assert_uint_eq(bytes, 256 + 2 * UP(8 * TB * NOUT) + 2 * UP(8 * TB * DH)
                                 + core);
    ck_assert_int_eq(bpttf_workspace_size(tnet, T, B, &core), BPTT_OK);
    size_t fbytes;
    ck_assert_int_eq(bpttf_elman_workspace_size(tel, T, B, &fbytes), BPTT_OK);
    ck_assert_uint_eq(fbytes, 256 + 2 * UP(4 * TB * NOUT) + 2 * UP(4 * TB * DH)
                                  + core);
#undef UP
    take_snapshot();
    bptt_elman_workspace *out2 = (bptt_elman_workspace *)&bytes;
    assert_untouched(bptt_elman_workspace_init(tel, T, B, ar->wsbuf,
                                               bytes - 1, &out2),
                     BPTT_EBUFFER, "buffer one byte short");
    ck_assert_ptr_eq(out2, (bptt_elman_workspace *)&bytes);
}
END_TEST

/* ------------------------------------------------------------------------ */

static Suite *suite(void)
{
    Suite *s = suite_create("elman");
    TCase *tc = tcase_create("reference");
    tcase_set_timeout(tc, 120);
    tcase_add_loop_test(tc, library_matches_naive, 0, (int)NSHAPES);
    tcase_add_loop_test(tc, float_matches_double, 0, 3);
    suite_add_tcase(s, tc);

    tc = tcase_create("gradcheck");
    tcase_set_timeout(tc, 120);
    tcase_add_loop_test(tc, gradcheck_labels, 0, 2);
    tcase_add_test(tc, gradcheck_soft_labels);
    tcase_add_test(tc, gradcheck_linear_head);
    suite_add_tcase(s, tc);

    tc = tcase_create("identity");
    tcase_add_loop_test(tc, dlogits_is_y_minus_onehot, 0, 3);
    tcase_add_test(tc, linear_dlogits_is_y_minus_target);
    tcase_add_test(tc, ignored_steps_contribute_nothing);
    tcase_add_test(tc, soft_labels_are_their_definition);
    tcase_add_test(tc, huge_logits_stay_finite);
    tcase_add_test(tc, linear_identity_readout_is_network_a);
    tcase_add_test(tc, chunks_carry_the_state);
    tcase_add_test(tc, beta_accumulates);
    tcase_add_test(tc, workspace_in_a_misaligned_buffer);
    suite_add_tcase(s, tc);

    tc = tcase_create("traps");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, forward_traps);
    tcase_add_test(tc, backward_traps);
    tcase_add_test(tc, create_and_workspace_traps);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return tu_run_suite(suite());
}
