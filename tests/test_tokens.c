/*
 * Token inputs: the one-hot rows of ids, padding untouched, both
 * precisions; the forward of the rows equals the forward of a dense x
 * built here; an id out of range refused with its position, nothing
 * written; traps.
 *
 * The token calls (bptt_forward_tokens, bptt_backward_tokens, their
 * Network B and truncated-BPTT twins) against the dense calls on the
 * one-hot x of the same ids — an independent route to the same numbers:
 * every output, both precisions, every algorithm, B = 1 and B > 1; bitwise
 * where the header says so, to 1e-13 (double) elsewhere; beta = 0 (NaN in
 * the outputs not read), 1 and 0.5; and every trap of the new calls.
 */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

START_TEST(onehot_rows)
{
    enum { N = 5, V = 4, LD = 6 };
    const int32_t tok[N] = {0, 3, 3, 1, 2};
    double x[N * LD];
    float xf[N * LD];
    for (int i = 0; i < N * LD; i++)
        x[i] = xf[i] = 7;
    ck_assert_int_eq(bptt_tokens_onehot(N, V, tok, x, LD), BPTT_OK);
    ck_assert_int_eq(bpttf_tokens_onehot(N, V, tok, xf, LD), BPTT_OK);
    for (int k = 0; k < N; k++)
        for (int j = 0; j < LD; j++) {
            const double want = j >= V ? 7 : j == tok[k] ? 1 : 0;
            ck_assert(x[k * LD + j] == want);
            ck_assert(xf[k * LD + j] == (float)want);
        }
}
END_TEST

START_TEST(out_of_range_is_refused)
{
    enum { N = 6, V = 3 };
    int32_t tok[N] = {0, 1, 2, 0, 1, 2};
    double x[N * V] = {0};
    tu_snap s = {0};
    tu_snap_add(&s, x, sizeof x);
    tok[4] = 3;
    TU_REFUSED(bptt_tokens_onehot(N, V, tok, x, V), BPTT_EINVAL, &s);
    ck_assert_ptr_nonnull(strstr(bptt_error_detail(), "tokens[4] = 3"));
    tok[4] = -1;
    TU_REFUSED(bptt_tokens_onehot(N, V, tok, x, V), BPTT_EINVAL, &s);
    ck_assert_ptr_nonnull(strstr(bptt_error_detail(), "tokens[4] = -1"));
    tok[4] = INT32_MIN;
    TU_REFUSED(bptt_tokens_onehot(N, V, tok, x, V), BPTT_EINVAL, &s);
    tok[4] = 1;
    TU_REFUSED(bptt_tokens_onehot(N, V, NULL, x, V), BPTT_ENULL, &s);
    TU_REFUSED(bptt_tokens_onehot(N, V, tok, NULL, V), BPTT_ENULL, &s);
    TU_REFUSED(bptt_tokens_onehot(0, V, tok, x, V), BPTT_ESIZE, &s);
    TU_REFUSED(bptt_tokens_onehot(N, 0, tok, x, V), BPTT_ESIZE, &s);
    TU_REFUSED(bptt_tokens_onehot(N, V, tok, x, V - 1), BPTT_ELD, &s);
    TU_REFUSED(bptt_tokens_onehot(N, V, tok, x, SIZE_MAX), BPTT_EOVERFLOW, &s);
    float xf[N * V] = {0};
    TU_REFUSED_REGION(bpttf_tokens_onehot(N, 2, tok, xf, V), BPTT_EINVAL, xf,
                      sizeof xf);
    tu_snap_free(&s);
}
END_TEST

/* The rows drive Network B exactly as a one-hot x written by hand. */
START_TEST(forward_of_the_rows)
{
    enum { V = 5, DH = 4, T = 3, B = 2 };
    bptt_net *net;
    bptt_elman *el;
    bptt_net_create_uniform(V, DH, BPTT_ACT_TANH, NULL, &net);
    bptt_elman_create(net, V, BPTT_HEAD_SOFTMAX, &el);
    bptt_param_layout lay;
    bptt_elman_param_layout(el, &lay);
    tu_rng r = {4};
    double *p = tu_random(lay.count, 0.5, &r);
    const int32_t tok[T * B] = {1, 4, 0, 0, 3, 2};
    const int labels[T * B] = {4, 0, 0, 3, 2, 1};
    double x[T * B * V], xh[T * B * V] = {0};
    for (int k = 0; k < T * B; k++)
        xh[k * V + tok[k]] = 1;
    ck_assert_int_eq(bptt_tokens_onehot(T * B, V, tok, x, V), BPTT_OK);
    bptt_elman_workspace *ws;
    bptt_elman_workspace_alloc(el, T, B, &ws);
    double E1, E2;
    const bptt_param_view *v = lay.view;
    for (int pass = 0; pass < 2; pass++)
        ck_assert_int_eq(
            bptt_elman_forward(el, T, B, p + v[0].offset, v[0].ld,
                               p + v[1].offset, p + v[2].offset, v[2].ld,
                               p + v[3].offset, pass ? xh : x, V, NULL, DH,
                               labels, NULL, 0, pass ? &E2 : &E1, NULL, 0,
                               NULL, 0, BPTT_ALGO_AUTO, ws), BPTT_OK);
    ck_assert(E1 == E2);
    bptt_elman_workspace_free(ws);
    free(p);
    bptt_elman_free(el);
    bptt_net_free(net);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* Token calls against the dense calls on one-hot rows                      */
/* ------------------------------------------------------------------------ */

/* A Network B problem (and Network A's, on the same core): W is
 * DH x (V+DH) with a padded ld, tokens and their one-hot rows, labels,
 * dL/dy for Network A, and the prior contents of every gradient output. */
typedef struct tprob {
    size_t V, DH, NO, T, B, ldw, ldwo;
    bptt_net *net;
    bptt_elman *el;
    double *W, *bh, *Wo, *bo, *h0, *dy, *x;
    double *dW0, *db0, *dWo0, *dbo0, *dh00;
    int32_t *tok;
    int *lab;
} tprob;

static tprob *tprob_new(size_t V, size_t DH, size_t T, size_t B,
                        unsigned long long seed)
{
    tprob *p = calloc(1, sizeof *p);
    tu_rng r = {seed};
    *p = (tprob){.V = V, .DH = DH, .NO = V, .T = T, .B = B,
                 .ldw = V + DH + 3, .ldwo = DH + 1};
    ck_assert_int_eq(bptt_net_create_uniform(V, DH, BPTT_ACT_TANH, NULL,
                                             &p->net), BPTT_OK);
    ck_assert_int_eq(bptt_elman_create(p->net, p->NO, BPTT_HEAD_SOFTMAX,
                                       &p->el), BPTT_OK);
    const size_t TB = T * B;
    p->W = tu_random(DH * p->ldw, 0.6, &r);
    p->bh = tu_random(DH, 0.3, &r);
    p->Wo = tu_random(p->NO * p->ldwo, 0.6, &r);
    p->bo = tu_random(p->NO, 0.3, &r);
    p->h0 = tu_random(B * DH, 0.5, &r);
    p->dy = tu_random(TB * DH, 1.0, &r);
    p->dW0 = tu_random(DH * p->ldw, 1.0, &r);
    p->db0 = tu_random(DH, 1.0, &r);
    p->dWo0 = tu_random(p->NO * p->ldwo, 1.0, &r);
    p->dbo0 = tu_random(p->NO, 1.0, &r);
    p->dh00 = tu_random(B * DH, 1.0, &r);
    p->tok = malloc(TB * sizeof *p->tok);
    p->lab = malloc(TB * sizeof *p->lab);
    p->x = malloc(TB * V * sizeof *p->x);
    for (size_t k = 0; k < TB; k++) {
        /* every id, the last and repeats included */
        p->tok[k] = (int32_t)((k * 7 + (size_t)(tu_uniform(&r) > 0)) % V);
        p->lab[k] = (int)((k * 3 + 1) % p->NO);
    }
    ck_assert_int_eq(bptt_tokens_onehot(TB, V, p->tok, p->x, V), BPTT_OK);
    return p;
}

static void tprob_free(tprob *p)
{
    double *a[] = {p->W, p->bh, p->Wo, p->bo, p->h0, p->dy, p->x, p->dW0,
                   p->db0, p->dWo0, p->dbo0, p->dh00};
    for (size_t i = 0; i < sizeof a / sizeof a[0]; i++)
        free(a[i]);
    free(p->tok);
    free(p->lab);
    bptt_elman_free(p->el);
    bptt_net_free(p->net);
    free(p);
}

/* Outputs of one forward + backward, in double whatever the precision;
 * Network A: h = y, dbh = db, dh0 = dy0 (y and dWo, dbo unused). */
typedef struct tout {
    double E;
    double *h, *y, *dW, *dbh, *dWo, *dbo, *dh0;
} tout;

static double *dup(const double *a, size_t n)
{
    double *c = malloc(n * sizeof *c);
    memcpy(c, a, n * sizeof *c);
    return c;
}

/* o's outputs hold the priors of p, or NaN (nan: for beta = 0, which must
 * not read them) but in dW's padding. */
static void tout_init(const tprob *p, int nan, tout *o)
{
    const size_t TB = p->T * p->B;
    o->E = 0;
    o->h = calloc(TB * p->DH, sizeof(double));
    o->y = calloc(TB * p->NO, sizeof(double));
    o->dW = dup(p->dW0, p->DH * p->ldw);
    o->dbh = dup(p->db0, p->DH);
    o->dWo = dup(p->dWo0, p->NO * p->ldwo);
    o->dbo = dup(p->dbo0, p->NO);
    o->dh0 = dup(p->dh00, p->B * p->DH);
    for (size_t i = 0; nan && i < p->DH; i++)
        for (size_t j = 0; j < p->V + p->DH; j++)
            o->dW[i * p->ldw + j] = NAN;
    for (size_t i = 0; nan && i < p->DH; i++)
        o->dbh[i] = NAN;
    for (size_t i = 0; nan && i < p->NO * p->ldwo; i++)
        o->dWo[i] = NAN;
    for (size_t i = 0; nan && i < p->NO; i++)
        o->dbo[i] = NAN;
    for (size_t i = 0; nan && i < p->B * p->DH; i++)
        o->dh0[i] = NAN;
}

static void tout_free(tout *o)
{
    double *a[] = {o->h, o->y, o->dW, o->dbh, o->dWo, o->dbo, o->dh0};
    for (size_t i = 0; i < sizeof a / sizeof a[0]; i++)
        free(a[i]);
}

/* Network A, double: forward (tok: the ids; else the one-hot x), then
 * backward of p->dy with beta into o's prior contents. */
static void net_double(const tprob *p, int tok, bptt_algo algo, double beta,
                       tout *o)
{
    const size_t T = p->T, B = p->B, DH = p->DH;
    bptt_workspace *ws;
    ck_assert_int_eq(bptt_workspace_alloc(p->net, T, B, &ws), BPTT_OK);
    if (tok) {
        ck_assert_int_eq(bptt_forward_tokens(p->net, T, B, p->W, p->ldw,
                                             p->bh, p->tok, p->h0, DH, o->h,
                                             DH, algo, ws), BPTT_OK);
        ck_assert_int_eq(bptt_backward_tokens(p->net, T, B, p->W, p->ldw,
                                              p->dy, DH, beta, o->dW, p->ldw,
                                              o->dbh, o->dh0, DH, algo, ws),
                         BPTT_OK);
    } else {
        ck_assert_int_eq(bptt_forward(p->net, T, B, p->W, p->ldw, p->bh, p->x,
                                      p->V, p->h0, DH, o->h, DH, algo, ws),
                         BPTT_OK);
        ck_assert_int_eq(bptt_backward(p->net, T, B, p->W, p->ldw, p->dy, DH,
                                       beta, o->dW, p->ldw, o->dbh, NULL, 0,
                                       o->dh0, DH, algo, ws), BPTT_OK);
    }
    bptt_workspace_free(ws);
}

/* Copies of o's arrays in float, and back. */
typedef struct fout {
    float *h, *y, *dW, *dbh, *dWo, *dbo, *dh0;
} fout;

static void fout_from(const tprob *p, const tout *o, fout *f)
{
    const size_t TB = p->T * p->B;
    f->h = tu_to_float(o->h, TB * p->DH);
    f->y = tu_to_float(o->y, TB * p->NO);
    f->dW = tu_to_float(o->dW, p->DH * p->ldw);
    f->dbh = tu_to_float(o->dbh, p->DH);
    f->dWo = tu_to_float(o->dWo, p->NO * p->ldwo);
    f->dbo = tu_to_float(o->dbo, p->NO);
    f->dh0 = tu_to_float(o->dh0, p->B * p->DH);
}

static void fout_back(const tprob *p, fout *f, tout *o)
{
    const size_t TB = p->T * p->B;
    tu_from_float(f->h, TB * p->DH, o->h);
    tu_from_float(f->y, TB * p->NO, o->y);
    tu_from_float(f->dW, p->DH * p->ldw, o->dW);
    tu_from_float(f->dbh, p->DH, o->dbh);
    tu_from_float(f->dWo, p->NO * p->ldwo, o->dWo);
    tu_from_float(f->dbo, p->NO, o->dbo);
    tu_from_float(f->dh0, p->B * p->DH, o->dh0);
    float *a[] = {f->h, f->y, f->dW, f->dbh, f->dWo, f->dbo, f->dh0};
    for (size_t i = 0; i < sizeof a / sizeof a[0]; i++)
        free(a[i]);
}

/* The inputs in float. */
typedef struct fin {
    float *W, *bh, *Wo, *bo, *h0, *dy, *x;
} fin;

static void fin_new(const tprob *p, fin *f)
{
    const size_t TB = p->T * p->B;
    f->W = tu_to_float(p->W, p->DH * p->ldw);
    f->bh = tu_to_float(p->bh, p->DH);
    f->Wo = tu_to_float(p->Wo, p->NO * p->ldwo);
    f->bo = tu_to_float(p->bo, p->NO);
    f->h0 = tu_to_float(p->h0, p->B * p->DH);
    f->dy = tu_to_float(p->dy, TB * p->DH);
    f->x = tu_to_float(p->x, TB * p->V);
}

static void fin_free(fin *f)
{
    float *a[] = {f->W, f->bh, f->Wo, f->bo, f->h0, f->dy, f->x};
    for (size_t i = 0; i < sizeof a / sizeof a[0]; i++)
        free(a[i]);
}

static void net_float(const tprob *p, int tok, bptt_algo algo, double beta,
                      tout *o)
{
    const size_t T = p->T, B = p->B, DH = p->DH;
    fin in;
    fout f;
    fin_new(p, &in);
    fout_from(p, o, &f);
    bpttf_workspace *ws;
    ck_assert_int_eq(bpttf_workspace_alloc(p->net, T, B, &ws), BPTT_OK);
    if (tok) {
        ck_assert_int_eq(bpttf_forward_tokens(p->net, T, B, in.W, p->ldw,
                                              in.bh, p->tok, in.h0, DH, f.h,
                                              DH, algo, ws), BPTT_OK);
        ck_assert_int_eq(bpttf_backward_tokens(p->net, T, B, in.W, p->ldw,
                                               in.dy, DH, (float)beta, f.dW,
                                               p->ldw, f.dbh, f.dh0, DH, algo,
                                               ws), BPTT_OK);
    } else {
        ck_assert_int_eq(bpttf_forward(p->net, T, B, in.W, p->ldw, in.bh,
                                       in.x, p->V, in.h0, DH, f.h, DH, algo,
                                       ws), BPTT_OK);
        ck_assert_int_eq(bpttf_backward(p->net, T, B, in.W, p->ldw, in.dy, DH,
                                        (float)beta, f.dW, p->ldw, f.dbh,
                                        NULL, 0, f.dh0, DH, algo, ws),
                         BPTT_OK);
    }
    bpttf_workspace_free(ws);
    fout_back(p, &f, o);
    fin_free(&in);
}

static void elman_double(const tprob *p, int tok, bptt_algo algo, double beta,
                         tout *o)
{
    const size_t T = p->T, B = p->B, DH = p->DH, NO = p->NO;
    bptt_elman_workspace *ws;
    ck_assert_int_eq(bptt_elman_workspace_alloc(p->el, T, B, &ws), BPTT_OK);
    if (tok) {
        ck_assert_int_eq(bptt_elman_forward_tokens(
                             p->el, T, B, p->W, p->ldw, p->bh, p->Wo, p->ldwo,
                             p->bo, p->tok, p->h0, DH, p->lab, NULL, 0, &o->E,
                             o->h, DH, o->y, NO, algo, ws), BPTT_OK);
        ck_assert_int_eq(bptt_elman_backward_tokens(
                             p->el, T, B, p->W, p->ldw, p->Wo, p->ldwo, p->lab,
                             NULL, 0, beta, o->dW, p->ldw, o->dbh, o->dWo,
                             p->ldwo, o->dbo, o->dh0, DH, algo, ws), BPTT_OK);
    } else {
        ck_assert_int_eq(bptt_elman_forward(
                             p->el, T, B, p->W, p->ldw, p->bh, p->Wo, p->ldwo,
                             p->bo, p->x, p->V, p->h0, DH, p->lab, NULL, 0,
                             &o->E, o->h, DH, o->y, NO, algo, ws), BPTT_OK);
        ck_assert_int_eq(bptt_elman_backward(
                             p->el, T, B, p->W, p->ldw, p->Wo, p->ldwo, p->lab,
                             NULL, 0, beta, o->dW, p->ldw, o->dbh, o->dWo,
                             p->ldwo, o->dbo, NULL, 0, o->dh0, DH, algo, ws),
                         BPTT_OK);
    }
    bptt_elman_workspace_free(ws);
}

static void elman_float(const tprob *p, int tok, bptt_algo algo, double beta,
                        tout *o)
{
    const size_t T = p->T, B = p->B, DH = p->DH, NO = p->NO;
    fin in;
    fout f;
    fin_new(p, &in);
    fout_from(p, o, &f);
    bpttf_elman_workspace *ws;
    ck_assert_int_eq(bpttf_elman_workspace_alloc(p->el, T, B, &ws), BPTT_OK);
    if (tok) {
        ck_assert_int_eq(bpttf_elman_forward_tokens(
                             p->el, T, B, in.W, p->ldw, in.bh, in.Wo, p->ldwo,
                             in.bo, p->tok, in.h0, DH, p->lab, NULL, 0, &o->E,
                             f.h, DH, f.y, NO, algo, ws), BPTT_OK);
        ck_assert_int_eq(bpttf_elman_backward_tokens(
                             p->el, T, B, in.W, p->ldw, in.Wo, p->ldwo, p->lab,
                             NULL, 0, (float)beta, f.dW, p->ldw, f.dbh, f.dWo,
                             p->ldwo, f.dbo, f.dh0, DH, algo, ws), BPTT_OK);
    } else {
        ck_assert_int_eq(bpttf_elman_forward(
                             p->el, T, B, in.W, p->ldw, in.bh, in.Wo, p->ldwo,
                             in.bo, in.x, p->V, in.h0, DH, p->lab, NULL, 0,
                             &o->E, f.h, DH, f.y, NO, algo, ws), BPTT_OK);
        ck_assert_int_eq(bpttf_elman_backward(
                             p->el, T, B, in.W, p->ldw, in.Wo, p->ldwo, p->lab,
                             NULL, 0, (float)beta, f.dW, p->ldw, f.dbh, f.dWo,
                             p->ldwo, f.dbo, NULL, 0, f.dh0, DH, algo, ws),
                         BPTT_OK);
    }
    bpttf_elman_workspace_free(ws);
    fout_back(p, &f, o);
    fin_free(&in);
}

typedef void (*runner)(const tprob *, int, bptt_algo, double, tout *);

/* Token outputs a against the dense ones b: bitwise for the arrays the
 * headers promise bitwise (fwd_exact: h, y, E; grad_exact: the gradients
 * too), else normwise relative within tol.  elman: dWo, dbo and y exist. */
static void compare(const tprob *p, const tout *a, const tout *b, int elman,
                    int single, int fwd_exact, int grad_exact, double tol,
                    const char *what)
{
    const size_t TB = p->T * p->B;
    struct {
        const char *name;
        const double *a, *b;
        size_t rows, cols, ld;
        int exact;
    } arr[] = {
        {"h", a->h, b->h, TB, p->DH, p->DH, fwd_exact},
        {"y", a->y, b->y, TB, p->NO, p->NO, fwd_exact},
        {"dW", a->dW, b->dW, p->DH, p->V + p->DH, p->ldw, grad_exact},
        {"dbh", a->dbh, b->dbh, 1, p->DH, p->DH, grad_exact},
        {"dWo", a->dWo, b->dWo, p->NO, p->DH, p->ldwo, grad_exact},
        {"dbo", a->dbo, b->dbo, 1, p->NO, p->NO, grad_exact},
        {"dh0", a->dh0, b->dh0, p->B, p->DH, p->DH, grad_exact},
    };
    for (size_t i = 0; i < sizeof arr / sizeof arr[0]; i++) {
        if (!elman && (i == 1 || i == 4 || i == 5))
            continue;
        if (arr[i].exact) {
            ck_assert_msg(memcmp(arr[i].a, arr[i].b,
                                 ((arr[i].rows - 1) * arr[i].ld + arr[i].cols) *
                                     sizeof(double)) == 0,
                          "%s: %s is not bitwise the dense one", what,
                          arr[i].name);
        } else {
            const double e = tu_relerr(arr[i].rows, arr[i].cols, arr[i].a,
                                       arr[i].ld, arr[i].b, arr[i].ld);
            ck_assert_msg(e <= tol, "%s: %s differs by %g > %g", what,
                          arr[i].name, e, tol);
        }
    }
    if (elman) {
        if (fwd_exact)
            ck_assert_msg(a->E == b->E, "%s: E %.17g vs %.17g", what, a->E,
                          b->E);
        else
            ck_assert_msg(fabs(a->E - b->E) <= tol * fabs(b->E),
                          "%s: E %.17g vs %.17g", what, a->E, b->E);
    }
    /* dW's padding columns: not written by either (the priors, rounded
     * to float and back in single precision) */
    for (size_t i = 0; i < p->DH; i++)
        for (size_t j = p->V + p->DH; j < p->ldw; j++) {
            const double v = p->dW0[i * p->ldw + j],
                         want = single ? (double)(float)v : v;
            ck_assert_msg(a->dW[i * p->ldw + j] == want &&
                              b->dW[i * p->ldw + j] == want,
                          "%s: dW padding written (%zu, %zu)", what, i, j);
        }
}

/* Both networks, both precisions, the three algorithms, B = 1, 3 and a
 * char-rnn-like shape (vocabulary 90, B = 8, GEMMs large enough to be
 * blocked), beta = 0 with NaN in the outputs (not read), 1 and 0.5. */
START_TEST(token_calls_equal_onehot_calls)
{
    static const bptt_algo algos[] = {BPTT_ALGO_NAIVE, BPTT_ALGO_GEMV_GER,
                                      BPTT_ALGO_DEFERRED};
    static const double betas[] = {0, 1, 0.5};
    static const size_t Vs[] = {11, 11, 90}, DHs[] = {6, 6, 33},
                        Ts[] = {5, 5, 12}, Bs[] = {1, 3, 8};
    for (int elman = 0; elman < 2; elman++)
        for (int single = 0; single < 2; single++)
            for (size_t ib = 0; ib < 3; ib++) {
                tprob *p = tprob_new(Vs[ib], DHs[ib], Ts[ib], Bs[ib],
                                     300 + ib);
                for (size_t ia = 0; ia < 3; ia++)
                    for (size_t ie = 0; ie < 3; ie++) {
                        const bptt_algo algo = algos[ia];
                        const double beta = betas[ie];
                        runner run = elman ? (single ? elman_float
                                                     : elman_double)
                                           : (single ? net_float : net_double);
                        tout t, d;
                        tout_init(p, beta == 0, &t);
                        tout_init(p, beta == 0, &d);
                        run(p, 1, algo, beta, &t);
                        run(p, 0, algo, beta, &d);
                        char what[96];
                        snprintf(what, sizeof what, "%s %s algo %d B %zu "
                                 "beta %g", elman ? "elman" : "net",
                                 single ? "float" : "double", (int)algo,
                                 Bs[ib], beta);
                        /* naive: the same sums in the same order; deferred:
                         * forward exact (one non-zero term per product) */
                        compare(p, &t, &d, elman, single,
                                algo != BPTT_ALGO_GEMV_GER,
                                algo == BPTT_ALGO_NAIVE,
                                single ? 1e-5 : 1e-13, what);
                        tout_free(&t);
                        tout_free(&d);
                    }
                tprob_free(p);
            }
}
END_TEST

/* A stream of ids through truncated BPTT equals the stream of their
 * one-hot rows, call after call (windows shorter and as long as h), in
 * both precisions. */
START_TEST(tbptt_token_stream_equals_onehot_stream)
{
    enum { H = 4, HP = 2, CALLS = 5 };
    tprob *p = tprob_new(13, 7, HP * CALLS, 3, 77);
    const size_t B = p->B, DH = p->DH, NO = p->NO, V = p->V, nW = DH * p->ldw;
    for (int single = 0; single < 2; single++) {
        double out[2][4][64 * 64];
        for (int tok = 0; tok < 2; tok++) {
            double *dW = calloc(nW, sizeof *dW), *dbh = calloc(DH, sizeof *dbh);
            double *dWo = calloc(NO * p->ldwo, sizeof *dWo);
            double *h = calloc(HP * B * DH, sizeof *h), E = 0, Esum = 0;
            ck_assert(nW <= 64 * 64 && NO * p->ldwo <= 64 * 64);
            if (!single) {
                bptt_tbptt *tb;
                ck_assert_int_eq(bptt_tbptt_elman_alloc(p->el, H, HP, B, &tb),
                                 BPTT_OK);
                for (size_t c = 0; c < CALLS; c++) {
                    const size_t k = c * HP * B; /* first row of the call */
                    const bptt_status st =
                        tok ? bptt_tbptt_elman_step_tokens(
                                  tb, p->el, HP, p->W, p->ldw, p->bh, p->Wo,
                                  p->ldwo, p->bo, p->tok + k, p->lab + k, NULL,
                                  0, 1, dW, p->ldw, dbh, dWo, p->ldwo, NULL, h,
                                  DH, &E)
                            : bptt_tbptt_elman_step(
                                  tb, p->el, HP, p->W, p->ldw, p->bh, p->Wo,
                                  p->ldwo, p->bo, p->x + k * V, V, p->lab + k,
                                  NULL, 0, 1, dW, p->ldw, dbh, dWo, p->ldwo,
                                  NULL, h, DH, &E);
                    ck_assert_int_eq(st, BPTT_OK);
                    Esum += E;
                }
                bptt_tbptt_free(tb);
            } else {
                fin in;
                fin_new(p, &in);
                float *fdW = calloc(nW, sizeof *fdW);
                float *fdbh = calloc(DH, sizeof *fdbh);
                float *fdWo = calloc(NO * p->ldwo, sizeof *fdWo);
                float *fh = calloc(HP * B * DH, sizeof *fh);
                bpttf_tbptt *tb;
                ck_assert_int_eq(bpttf_tbptt_elman_alloc(p->el, H, HP, B, &tb),
                                 BPTT_OK);
                for (size_t c = 0; c < CALLS; c++) {
                    const size_t k = c * HP * B;
                    const bptt_status st =
                        tok ? bpttf_tbptt_elman_step_tokens(
                                  tb, p->el, HP, in.W, p->ldw, in.bh, in.Wo,
                                  p->ldwo, in.bo, p->tok + k, p->lab + k, NULL,
                                  0, 1, fdW, p->ldw, fdbh, fdWo, p->ldwo, NULL,
                                  fh, DH, &E)
                            : bpttf_tbptt_elman_step(
                                  tb, p->el, HP, in.W, p->ldw, in.bh, in.Wo,
                                  p->ldwo, in.bo, in.x + k * V, V, p->lab + k,
                                  NULL, 0, 1, fdW, p->ldw, fdbh, fdWo, p->ldwo,
                                  NULL, fh, DH, &E);
                    ck_assert_int_eq(st, BPTT_OK);
                    Esum += E;
                }
                bpttf_tbptt_free(tb);
                tu_from_float(fdW, nW, dW);
                tu_from_float(fdbh, DH, dbh);
                tu_from_float(fdWo, NO * p->ldwo, dWo);
                tu_from_float(fh, HP * B * DH, h);
                free(fdW), free(fdbh), free(fdWo), free(fh);
                fin_free(&in);
            }
            memcpy(out[tok][0], dW, nW * sizeof *dW);
            memcpy(out[tok][1], dbh, DH * sizeof *dbh);
            memcpy(out[tok][2], dWo, NO * p->ldwo * sizeof *dWo);
            memcpy(out[tok][3], h, HP * B * DH * sizeof *h);
            out[tok][3][HP * B * DH] = Esum;
            free(dW), free(dbh), free(dWo), free(h);
        }
        const double tol = single ? 1e-5 : 1e-13;
        ck_assert(tu_relerr(DH, V + DH, out[1][0], p->ldw, out[0][0],
                            p->ldw) <= tol);
        ck_assert(tu_relerr(1, DH, out[1][1], DH, out[0][1], DH) <= tol);
        ck_assert(tu_relerr(NO, DH, out[1][2], p->ldwo, out[0][2],
                            p->ldwo) <= tol);
        /* the states and the loss: the forward's gather is exact */
        ck_assert(memcmp(out[1][3], out[0][3],
                         (HP * B * DH + 1) * sizeof(double)) == 0);
    }
    tprob_free(p);
}
END_TEST

/* Every trap of the token calls: the status, a detail naming the position
 * of a bad id, and nothing written. */
START_TEST(token_traps)
{
    tprob *p = tprob_new(5, 4, 3, 2, 9);
    const size_t T = p->T, B = p->B, DH = p->DH, NO = p->NO, TB = T * B;
    int32_t *tok = p->tok;
    double y[64], dW[64], db[8], dy0[16], dWo[64], dbo[8], E = 42;
    for (size_t i = 0; i < 64; i++)
        y[i] = dW[i] = dWo[i] = -7;
    for (size_t i = 0; i < 8; i++)
        db[i] = dbo[i] = -7;
    for (size_t i = 0; i < 16; i++)
        dy0[i] = -7;
    ck_assert(TB * DH <= 64 && DH * p->ldw <= 64 && NO * p->ldwo <= 64);
    tu_snap s = {0};
    tu_snap_add(&s, y, sizeof y);
    tu_snap_add(&s, dW, sizeof dW);
    tu_snap_add(&s, db, sizeof db);
    tu_snap_add(&s, dy0, sizeof dy0);
    tu_snap_add(&s, dWo, sizeof dWo);
    tu_snap_add(&s, dbo, sizeof dbo);
    tu_snap_add(&s, &E, sizeof E);

    /* Network A */
    bptt_workspace *ws;
    ck_assert_int_eq(bptt_workspace_alloc(p->net, T, B, &ws), BPTT_OK);
    TU_REFUSED(bptt_forward_tokens(p->net, T, B, p->W, p->ldw, p->bh, NULL,
                                   NULL, 0, y, DH, BPTT_ALGO_AUTO, ws),
               BPTT_ENULL, &s);
    const int32_t saved = tok[3];
    tok[3] = (int32_t)p->V; /* step 1, sequence 1 */
    TU_REFUSED(bptt_forward_tokens(p->net, T, B, p->W, p->ldw, p->bh, tok,
                                   NULL, 0, y, DH, BPTT_ALGO_NAIVE, ws),
               BPTT_EINVAL, &s);
    ck_assert_str_eq(bptt_error_detail(),
                     "bptt_forward_tokens: tokens[3] = 5 (step 1, sequence 1) "
                     "is outside [0, 5)");
    tok[3] = -1;
    TU_REFUSED(bptt_forward_tokens(p->net, T, B, p->W, p->ldw, p->bh, tok,
                                   NULL, 0, y, DH, BPTT_ALGO_DEFERRED, ws),
               BPTT_EINVAL, &s);
    ck_assert_ptr_nonnull(strstr(bptt_error_detail(), "tokens[3] = -1"));
    tok[3] = INT32_MIN;
    float yf[64] = {0};
    TU_REFUSED_REGION(bpttf_forward_tokens(p->net, T, B, (const float *)NULL,
                                           p->ldw, NULL, tok, NULL, 0, yf, DH,
                                           BPTT_ALGO_AUTO, NULL),
                      BPTT_ENULL, yf, sizeof yf);
    tok[3] = saved;
    /* the ids inside y: an output overlapping an input */
    TU_REFUSED(bptt_forward_tokens(p->net, T, B, p->W, p->ldw, p->bh,
                                   (const int32_t *)(void *)y, NULL, 0, y, DH,
                                   BPTT_ALGO_AUTO, ws), BPTT_EOVERLAP, &s);
    /* no forward yet, then a backward of the other kind */
    TU_REFUSED(bptt_backward_tokens(p->net, T, B, p->W, p->ldw, p->dy, DH, 0,
                                    dW, p->ldw, db, dy0, DH, BPTT_ALGO_AUTO,
                                    ws), BPTT_ENOFORWARD, &s);
    double yd[64];
    ck_assert_int_eq(bptt_forward(p->net, T, B, p->W, p->ldw, p->bh, p->x,
                                  p->V, NULL, 0, yd, DH, BPTT_ALGO_AUTO, ws),
                     BPTT_OK);
    TU_REFUSED(bptt_backward_tokens(p->net, T, B, p->W, p->ldw, p->dy, DH, 0,
                                    dW, p->ldw, db, dy0, DH, BPTT_ALGO_AUTO,
                                    ws), BPTT_ENOFORWARD, &s);
    ck_assert_ptr_nonnull(strstr(bptt_error_detail(), "bptt_backward"));
    ck_assert_int_eq(bptt_forward_tokens(p->net, T, B, p->W, p->ldw, p->bh,
                                         tok, NULL, 0, yd, DH, BPTT_ALGO_AUTO,
                                         ws), BPTT_OK);
    TU_REFUSED(bptt_backward(p->net, T, B, p->W, p->ldw, p->dy, DH, 0, dW,
                             p->ldw, db, NULL, 0, dy0, DH, BPTT_ALGO_AUTO, ws),
               BPTT_ENOFORWARD, &s);
    ck_assert_ptr_nonnull(strstr(bptt_error_detail(), "backward_tokens"));
    TU_REFUSED(bptt_backward_tokens(p->net, T, B, p->W, p->ldw, p->dy, DH, NAN,
                                    dW, p->ldw, db, dy0, DH, BPTT_ALGO_AUTO,
                                    ws), BPTT_EINVAL, &s);
    TU_REFUSED(bptt_backward_tokens(p->net, T, B - 1, p->W, p->ldw, p->dy, DH,
                                    0, dW, p->ldw, db, dy0, DH, BPTT_ALGO_AUTO,
                                    ws), BPTT_ENOFORWARD, &s);
    bptt_workspace_free(ws);

    /* Network B */
    bptt_elman_workspace *ew;
    ck_assert_int_eq(bptt_elman_workspace_alloc(p->el, T, B, &ew), BPTT_OK);
    TU_REFUSED(bptt_elman_forward_tokens(p->el, T, B, p->W, p->ldw, p->bh,
                                         p->Wo, p->ldwo, p->bo, NULL, NULL, 0,
                                         p->lab, NULL, 0, &E, y, DH, NULL, 0,
                                         BPTT_ALGO_AUTO, ew), BPTT_ENULL, &s);
    tok[TB - 1] = 1 << 30; /* the last: step T-1, sequence B-1 */
    TU_REFUSED(bptt_elman_forward_tokens(p->el, T, B, p->W, p->ldw, p->bh,
                                         p->Wo, p->ldwo, p->bo, tok, NULL, 0,
                                         p->lab, NULL, 0, &E, y, DH, NULL, 0,
                                         BPTT_ALGO_AUTO, ew), BPTT_EINVAL, &s);
    ck_assert_str_eq(bptt_error_detail(),
                     "bptt_elman_forward_tokens: tokens[5] = 1073741824 "
                     "(step 2, sequence 1) is outside [0, 5)");
    tok[TB - 1] = 0;
    ck_assert_int_eq(bptt_elman_forward(p->el, T, B, p->W, p->ldw, p->bh,
                                        p->Wo, p->ldwo, p->bo, p->x, p->V,
                                        NULL, 0, p->lab, NULL, 0, NULL, NULL, 0,
                                        NULL, 0, BPTT_ALGO_AUTO, ew), BPTT_OK);
    /* the head would write dWo and dbo before the core refused */
    TU_REFUSED(bptt_elman_backward_tokens(p->el, T, B, p->W, p->ldw, p->Wo,
                                          p->ldwo, p->lab, NULL, 0, 0, dW,
                                          p->ldw, db, dWo, p->ldwo, dbo, dy0,
                                          DH, BPTT_ALGO_AUTO, ew),
               BPTT_ENOFORWARD, &s);
    ck_assert_int_eq(bptt_elman_forward_tokens(p->el, T, B, p->W, p->ldw,
                                               p->bh, p->Wo, p->ldwo, p->bo,
                                               tok, NULL, 0, p->lab, NULL, 0,
                                               NULL, NULL, 0, NULL, 0,
                                               BPTT_ALGO_AUTO, ew), BPTT_OK);
    TU_REFUSED(bptt_elman_backward(p->el, T, B, p->W, p->ldw, p->Wo, p->ldwo,
                                   p->lab, NULL, 0, 0, dW, p->ldw, db, dWo,
                                   p->ldwo, dbo, NULL, 0, dy0, DH,
                                   BPTT_ALGO_AUTO, ew), BPTT_ENOFORWARD, &s);
    bptt_elman_workspace_free(ew);

    /* truncated BPTT: ids checked, and a stream of one kind */
    bptt_tbptt *tb;
    ck_assert_int_eq(bptt_tbptt_elman_alloc(p->el, 2, 1, B, &tb), BPTT_OK);
    TU_REFUSED(bptt_tbptt_elman_step_tokens(tb, p->el, 1, p->W, p->ldw, p->bh,
                                            p->Wo, p->ldwo, p->bo, NULL,
                                            p->lab, NULL, 0, 0, dW, p->ldw, db,
                                            dWo, p->ldwo, dbo, y, DH, &E),
               BPTT_ENULL, &s);
    tok[1] = 5;
    TU_REFUSED(bptt_tbptt_elman_step_tokens(tb, p->el, 1, p->W, p->ldw, p->bh,
                                            p->Wo, p->ldwo, p->bo, tok, p->lab,
                                            NULL, 0, 0, dW, p->ldw, db, dWo,
                                            p->ldwo, dbo, y, DH, &E),
               BPTT_EINVAL, &s);
    ck_assert_ptr_nonnull(strstr(bptt_error_detail(),
                                 "tokens[1] = 5 (step 0, sequence 1)"));
    tok[1] = 0;
    double hd[16];
    ck_assert_int_eq(bptt_tbptt_elman_step(tb, p->el, 1, p->W, p->ldw, p->bh,
                                           p->Wo, p->ldwo, p->bo, p->x, p->V,
                                           p->lab, NULL, 0, 0, NULL, 0, NULL,
                                           NULL, 0, NULL, hd, DH, NULL),
                     BPTT_OK);
    TU_REFUSED(bptt_tbptt_elman_step_tokens(tb, p->el, 1, p->W, p->ldw, p->bh,
                                            p->Wo, p->ldwo, p->bo, tok, p->lab,
                                            NULL, 0, 0, dW, p->ldw, db, dWo,
                                            p->ldwo, dbo, y, DH, &E),
               BPTT_EINVAL, &s);
    ck_assert_ptr_nonnull(strstr(bptt_error_detail(), "reset"));
    ck_assert_int_eq(bptt_tbptt_reset(tb, NULL, 0), BPTT_OK);
    ck_assert_int_eq(bptt_tbptt_elman_step_tokens(tb, p->el, 1, p->W, p->ldw,
                                                  p->bh, p->Wo, p->ldwo, p->bo,
                                                  tok, p->lab, NULL, 0, 0,
                                                  NULL, 0, NULL, NULL, 0, NULL,
                                                  hd, DH, NULL), BPTT_OK);
    TU_REFUSED(bptt_tbptt_elman_step(tb, p->el, 1, p->W, p->ldw, p->bh, p->Wo,
                                     p->ldwo, p->bo, p->x, p->V, p->lab, NULL,
                                     0, 0, dW, p->ldw, db, dWo, p->ldwo, dbo, y,
                                     DH, &E), BPTT_EINVAL, &s);
    bptt_tbptt_free(tb);
    tu_snap_free(&s);
    tprob_free(p);
}
END_TEST

/* Rows reported ready by the hook, in order. */
typedef struct panels {
    size_t n, r0[64], r1[64];
} panels;

static void ready(void *user, bptt_grad_part part, size_t r0, size_t r1)
{
    panels *p = user;
    (void)part;
    if (p->n < 64) {
        p->r0[p->n] = r0;
        p->r1[p->n] = r1;
        p->n++;
    }
}

/* The workspace's other users see a token forward as a forward: the
 * gradient-ready hook (deferred: dW in panels, the scatter-add per panel)
 * gives the hook-free gradient bitwise, panel by panel; the lag profile
 * (bptt/flow.h) after a token forward is the one after the dense forward
 * on the one-hot rows, bitwise (the same δ(t)). */
/* A gated core (LSTM, GRU) takes ids too, staged as their one-hot rows:
 * every output bitwise the dense calls' on bptt_tokens_onehot's rows, with
 * b_hh and (LSTM) c(0), c(T), dL/dc(0) set on the workspaces; the kinds
 * must match; a bad id writes nothing. */
START_TEST(gated_core_tokens_equal_onehot)
{
    enum { V = 7, H = 5, NO = 7, T = 4, B = 3, TB = T * B };
    const bptt_cell cell = _i ? BPTT_CELL_GRU : BPTT_CELL_LSTM;
    const size_t G = cell == BPTT_CELL_LSTM ? 4 : 3, m = V + H;
    tu_rng r = {11 + (unsigned)_i};
    bptt_net *net;
    bptt_elman *el;
    ck_assert_int_eq(bptt_net_create_uniform(V, H, BPTT_ACT_TANH, NULL, &net),
                     BPTT_OK);
    ck_assert_int_eq(bptt_elman_create_cell(cell, net, NO, BPTT_HEAD_SOFTMAX,
                                            &el), BPTT_OK);
    double *W = tu_random(G * H * m, 0.4, &r), *bh = tu_random(G * H, 0.2, &r);
    double *bhh = tu_random(G * H, 0.2, &r), *Wo = tu_random(NO * H, 0.5, &r);
    double *bo = tu_random(NO, 0.2, &r), *h0 = tu_random(B * H, 0.5, &r);
    double *c0 = tu_random(B * H, 0.5, &r), *x = calloc(TB * V, sizeof *x);
    int32_t tok[TB];
    int lab[TB];
    for (int k = 0; k < TB; k++)
        tok[k] = (int32_t)((k * 5 + 2) % V), lab[k] = (k * 3 + 1) % NO;
    ck_assert_int_eq(bptt_tokens_onehot(TB, V, tok, x, V), BPTT_OK);
    /* [0]: dense, [1]: tokens */
    double E[2], h[2][TB * H], y[2][TB * NO], cT[2][B * H], dc0[2][B * H];
    double dW[2][G * H * m], dbh[2][G * H], dbhh[2][G * H], dWo[2][NO * H];
    double dbo[2][NO], dh0[2][B * H];
    memset(dW, 0, sizeof dW), memset(dWo, 0, sizeof dWo); /* snapshots */
    const int lstm = cell == BPTT_CELL_LSTM;
    for (int algo = 0; algo < 2; algo++) {
        const bptt_algo a = algo ? BPTT_ALGO_DEFERRED : BPTT_ALGO_NAIVE;
        for (int k = 0; k < 2; k++) {
            bptt_elman_workspace *ws;
            ck_assert_int_eq(bptt_elman_workspace_alloc(el, T, B, &ws),
                             BPTT_OK);
            ck_assert_int_eq(bptt_elman_workspace_set_gated_bias(ws, bhh,
                                                                 dbhh[k]),
                             BPTT_OK);
            if (lstm)
                ck_assert_int_eq(bptt_elman_workspace_set_cell_state(
                                     ws, c0, H, cT[k], H, dc0[k], H),
                                 BPTT_OK);
            ck_assert_int_eq(
                k ? bptt_elman_forward_tokens(el, T, B, W, m, bh, Wo, H, bo,
                                              tok, h0, H, lab, NULL, 0, &E[k],
                                              h[k], H, y[k], NO, a, ws)
                  : bptt_elman_forward(el, T, B, W, m, bh, Wo, H, bo, x, V,
                                       h0, H, lab, NULL, 0, &E[k], h[k], H,
                                       y[k], NO, a, ws),
                BPTT_OK);
            if (k) { /* the dense backward after a token forward: refused */
                tu_snap s = {0};
                tu_snap_add(&s, dW[k], sizeof dW[k]);
                tu_snap_add(&s, dWo[k], sizeof dWo[k]);
                TU_REFUSED(bptt_elman_backward(el, T, B, W, m, Wo, H, lab,
                                               NULL, 0, 0, dW[k], m, dbh[k],
                                               dWo[k], H, dbo[k], NULL, 0,
                                               dh0[k], H, a, ws),
                           BPTT_ENOFORWARD, &s);
                tu_snap_free(&s);
            }
            ck_assert_int_eq(
                k ? bptt_elman_backward_tokens(el, T, B, W, m, Wo, H, lab,
                                               NULL, 0, 0, dW[k], m, dbh[k],
                                               dWo[k], H, dbo[k], dh0[k], H, a,
                                               ws)
                  : bptt_elman_backward(el, T, B, W, m, Wo, H, lab, NULL, 0, 0,
                                        dW[k], m, dbh[k], dWo[k], H, dbo[k],
                                        NULL, 0, dh0[k], H, a, ws),
                BPTT_OK);
            bptt_elman_workspace_free(ws);
        }
        ck_assert(E[0] == E[1]);
        ck_assert(!memcmp(h[0], h[1], sizeof h[0]));
        ck_assert(!memcmp(y[0], y[1], sizeof y[0]));
        ck_assert(!memcmp(dW[0], dW[1], sizeof dW[0]));
        ck_assert(!memcmp(dbh[0], dbh[1], sizeof dbh[0]));
        ck_assert(!memcmp(dbhh[0], dbhh[1], sizeof dbhh[0]));
        ck_assert(!memcmp(dWo[0], dWo[1], sizeof dWo[0]));
        ck_assert(!memcmp(dbo[0], dbo[1], sizeof dbo[0]));
        ck_assert(!memcmp(dh0[0], dh0[1], sizeof dh0[0]));
        if (lstm) {
            ck_assert(!memcmp(cT[0], cT[1], sizeof cT[0]));
            ck_assert(!memcmp(dc0[0], dc0[1], sizeof dc0[0]));
        }
    }
    /* a bad id: refused by name, nothing written */
    bptt_elman_workspace *ws;
    ck_assert_int_eq(bptt_elman_workspace_alloc(el, T, B, &ws), BPTT_OK);
    tok[5] = V;
    tu_snap s = {0};
    tu_snap_add(&s, h[1], sizeof h[1]);
    tu_snap_add(&s, y[1], sizeof y[1]);
    tu_snap_add(&s, &E[1], sizeof E[1]);
    TU_REFUSED(bptt_elman_forward_tokens(el, T, B, W, m, bh, Wo, H, bo, tok,
                                         h0, H, lab, NULL, 0, &E[1], h[1], H,
                                         y[1], NO, BPTT_ALGO_AUTO, ws),
               BPTT_EINVAL, &s);
    ck_assert_ptr_nonnull(strstr(bptt_error_detail(), "tokens[5] = 7"));
    tu_snap_free(&s);
    bptt_elman_workspace_free(ws);
    free(W), free(bh), free(bhh), free(Wo), free(bo), free(h0), free(c0);
    free(x);
    bptt_elman_free(el);
    bptt_net_free(net);
}
END_TEST

START_TEST(hook_and_flow_after_token_forward)
{
    tprob *p = tprob_new(9, 7, 4, 3, 55);
    const size_t T = p->T, B = p->B, DH = p->DH, nW = DH * p->ldw;
    bptt_workspace *ws;
    ck_assert_int_eq(bptt_workspace_alloc(p->net, T, B, &ws), BPTT_OK);
    double *y = malloc(T * B * DH * sizeof *y);
    double *dW1 = calloc(nW, sizeof *dW1), *dW2 = calloc(nW, sizeof *dW2);
    ck_assert_int_eq(bptt_forward_tokens(p->net, T, B, p->W, p->ldw, p->bh,
                                         p->tok, NULL, 0, y, DH,
                                         BPTT_ALGO_DEFERRED, ws), BPTT_OK);
    ck_assert_int_eq(bptt_backward_tokens(p->net, T, B, p->W, p->ldw, p->dy,
                                          DH, 0, dW1, p->ldw, NULL, NULL, 0,
                                          BPTT_ALGO_DEFERRED, ws), BPTT_OK);
    panels got = {0};
    const bptt_grad_hook hook = {ready, &got, 2};
    ck_assert_int_eq(bptt_workspace_set_grad_hook(ws, &hook), BPTT_OK);
    ck_assert_int_eq(bptt_backward_tokens(p->net, T, B, p->W, p->ldw, p->dy,
                                          DH, 0, dW2, p->ldw, NULL, NULL, 0,
                                          BPTT_ALGO_DEFERRED, ws), BPTT_OK);
    ck_assert(memcmp(dW1, dW2, nW * sizeof *dW1) == 0);
    ck_assert_uint_eq(got.n, (DH + 1) / 2); /* panels of 2 rows, in order */
    for (size_t i = 0; i < got.n; i++) {
        const size_t end = 2 * i + 2 < DH ? 2 * i + 2 : DH;
        ck_assert(got.r0[i] == 2 * i && got.r1[i] == end);
    }
    ck_assert_int_eq(bptt_workspace_set_grad_hook(ws, NULL), BPTT_OK);

    double gt[64], gd[64];
    ck_assert(T * B <= 64);
    ck_assert_int_eq(bptt_flow_lag_profile(p->net, T, B, p->W, p->ldw, NULL, 0,
                                           gt, NULL, ws), BPTT_OK);
    ck_assert_int_eq(bptt_forward(p->net, T, B, p->W, p->ldw, p->bh, p->x,
                                  p->V, NULL, 0, y, DH, BPTT_ALGO_DEFERRED,
                                  ws), BPTT_OK);
    ck_assert_int_eq(bptt_flow_lag_profile(p->net, T, B, p->W, p->ldw, NULL, 0,
                                           gd, NULL, ws), BPTT_OK);
    ck_assert(memcmp(gt, gd, T * B * sizeof *gt) == 0);
    ck_assert(gt[0] > 0);
    bptt_workspace_free(ws);
    free(y), free(dW1), free(dW2);
    tprob_free(p);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("tokens");
    TCase *tc = tcase_create("tokens");
    tcase_add_test(tc, onehot_rows);
    tcase_add_test(tc, out_of_range_is_refused);
    tcase_add_test(tc, forward_of_the_rows);
    tcase_add_test(tc, token_calls_equal_onehot_calls);
    tcase_add_test(tc, tbptt_token_stream_equals_onehot_stream);
    tcase_add_test(tc, token_traps);
    tcase_add_test(tc, hook_and_flow_after_token_forward);
    tcase_add_loop_test(tc, gated_core_tokens_equal_onehot, 0, 2);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return tu_run_suite(suite());
}
