/*
 * Gated cells (LSTM, GRU; bptt/gated.h): reference (deferred against the
 * naive loop form, block by block, beta 0 and 1, threads bitwise), gradcheck
 * (central differences on every parameter block and on x, h0, c0),
 * identities (a saturated forget gate carries c unchanged, a saturated
 * update gate carries h), traps (each refusal writes nothing), precision
 * (float against double).
 *
 * The loss is linear in the outputs, L = Σ Rh ⊙ h + Σ Rc ⊙ c(T), so that
 * dL/dh = Rh and dL/dc(T) = Rc exactly.
 */
#include <check.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

/* A random gated problem; every matrix has a leading dimension pad larger
 * than minimal. */
typedef struct gp {
    bptt_cell cell;
    size_t din, n, G, T, B, pad;
    size_t ldw, ldu, ldx, ldh, lds; /* lds: h0, c0, cT */
    double *W, *U, *bx, *bh, *x, *h0, *c0, *Rh, *Rc;
    bptt_algo algo;     /* of tu's loss */
} gp;

static gp *gp_new(bptt_cell cell, size_t din, size_t n, size_t T, size_t B,
                  size_t pad, unsigned long long seed)
{
    gp *p = calloc(1, sizeof *p);
    tu_rng r = {seed};
    const int lstm = cell == BPTT_CELL_LSTM;
    p->cell = cell, p->din = din, p->n = n, p->G = bptt_gated_gates(cell);
    p->T = T, p->B = B, p->pad = pad, p->algo = BPTT_ALGO_DEFERRED;
    const size_t Gn = p->G * n, TB = T * B;
    p->ldw = din + pad, p->ldu = n + pad, p->ldx = din + pad;
    p->ldh = n + pad, p->lds = n + pad;
    p->W = tu_random(Gn * p->ldw, 0.5, &r);
    p->U = tu_random(Gn * p->ldu, 0.5, &r);
    p->bx = tu_random(Gn, 0.3, &r);
    p->bh = tu_random(Gn, 0.3, &r);
    p->x = tu_random(TB * p->ldx, 1.0, &r);
    p->h0 = tu_random(B * p->lds, 0.5, &r);
    p->c0 = lstm ? tu_random(B * p->lds, 0.5, &r) : NULL;
    p->Rh = tu_random(TB * p->ldh, 1.0, &r);
    p->Rc = lstm ? tu_random(B * p->lds, 1.0, &r) : NULL;
    return p;
}

static void gp_free(gp *p)
{
    free(p->W), free(p->U), free(p->bx), free(p->bh), free(p->x);
    free(p->h0), free(p->c0), free(p->Rh), free(p->Rc), free(p);
}

typedef struct gg {
    double *h, *cT, *dW, *dU, *dbx, *dbh, *dx, *dh0, *dc0;
} gg;

static void gg_alloc(const gp *p, gg *g, double fill)
{
    const size_t Gn = p->G * p->n, TB = p->T * p->B;
    const int lstm = p->cell == BPTT_CELL_LSTM;
    size_t sz[9] = {TB * p->ldh, lstm ? p->B * p->lds : 0, Gn * p->ldw,
                    Gn * p->ldu, Gn, Gn, TB * p->ldx, p->B * p->lds,
                    lstm ? p->B * p->lds : 0};
    double **a[9] = {&g->h, &g->cT, &g->dW, &g->dU, &g->dbx, &g->dbh, &g->dx,
                     &g->dh0, &g->dc0};
    for (int k = 0; k < 9; k++) {
        *a[k] = NULL;
        if (!sz[k])
            continue;
        *a[k] = malloc(sz[k] * sizeof(double));
        for (size_t i = 0; i < sz[k]; i++)
            (*a[k])[i] = fill;
    }
}

static void gg_free(gg *g)
{
    free(g->h), free(g->cT), free(g->dW), free(g->dU), free(g->dbx);
    free(g->dbh), free(g->dx), free(g->dh0), free(g->dc0);
}

/* Forward with falgo and backward with balgo on a fresh workspace of
 * nthreads threads, every output requested, with beta. */
static bptt_status run(const gp *p, bptt_algo falgo, bptt_algo balgo,
                       int nthreads, double beta, gg *g)
{
    bptt_gated_workspace *ws;
    bptt_status st = bptt_gated_workspace_alloc(p->cell, p->din, p->n, p->T,
                                                p->B, &ws);
    if (st != BPTT_OK)
        return st;
    st = bptt_gated_workspace_set_threads(ws, nthreads);
    if (st == BPTT_OK)
        st = bptt_gated_forward(p->T, p->B, p->W, p->ldw, p->U, p->ldu, p->bx,
                                p->bh, p->x, p->ldx, p->h0, p->lds, p->c0,
                                p->lds, g->h, p->ldh, g->cT, p->lds, falgo, ws);
    if (st == BPTT_OK)
        st = bptt_gated_backward(p->T, p->B, p->W, p->ldw, p->U, p->ldu, p->Rh,
                                 p->ldh, p->Rc, p->lds, beta, g->dW, p->ldw,
                                 g->dU, p->ldu, g->dbx, g->dbh, g->dx, p->ldx,
                                 g->dh0, p->lds, g->dc0, p->lds, balgo, ws);
    bptt_gated_workspace_free(ws);
    return st;
}

/* Every output block of a against b (the reference), by name. */
static void compare(const gp *p, const gg *a, const gg *b, double tol,
                    const char *what)
{
    const size_t Gn = p->G * p->n, TB = p->T * p->B;
    struct {
        const char *name;
        const double *x, *y;
        size_t rows, cols, ld;
    } blk[] = {
        {"h", a->h, b->h, TB, p->n, p->ldh},
        {"cT", a->cT, b->cT, p->B, p->n, p->lds},
        {"dW", a->dW, b->dW, Gn, p->din, p->ldw},
        {"dU", a->dU, b->dU, Gn, p->n, p->ldu},
        {"dbx", a->dbx, b->dbx, 1, Gn, Gn},
        {"dbh", a->dbh, b->dbh, 1, Gn, Gn},
        {"dx", a->dx, b->dx, TB, p->din, p->ldx},
        {"dh0", a->dh0, b->dh0, p->B, p->n, p->lds},
        {"dc0", a->dc0, b->dc0, p->B, p->n, p->lds},
    };
    for (size_t k = 0; k < sizeof blk / sizeof blk[0]; k++) {
        if (!blk[k].x)
            continue;
        double e = tu_relerr(blk[k].rows, blk[k].cols, blk[k].x, blk[k].ld,
                             blk[k].y, blk[k].ld);
        ck_assert_msg(e <= tol, "%s %s: %s relerr %g > %g",
                      bptt_cell_name(p->cell), what, blk[k].name, e, tol);
    }
}

static const bptt_cell cells[2] = {BPTT_CELL_LSTM, BPTT_CELL_GRU};

/* ------------------------------------------------------------------------ */
/* reference                                                                 */
/* ------------------------------------------------------------------------ */

START_TEST(deferred_matches_naive)
{
    const size_t Bs[3] = {1, 3, 8};
    for (int c = 0; c < 2; c++)
        for (int k = 0; k < 3; k++) {
            gp *p = gp_new(cells[c], 5, 19, 7, Bs[k], 2, 11 + k);
            gg ref, got, mix;
            gg_alloc(p, &ref, NAN), gg_alloc(p, &got, NAN);
            gg_alloc(p, &mix, NAN);
            ck_assert_int_eq(run(p, BPTT_ALGO_NAIVE, BPTT_ALGO_NAIVE, 1, 0,
                                 &ref), BPTT_OK);
            ck_assert_int_eq(run(p, BPTT_ALGO_DEFERRED, BPTT_ALGO_DEFERRED, 1,
                                 0, &got), BPTT_OK);
            compare(p, &got, &ref, TOL_REFERENCE, "deferred");
            /* either backward after either forward */
            ck_assert_int_eq(run(p, BPTT_ALGO_NAIVE, BPTT_ALGO_AUTO, 1, 0,
                                 &mix), BPTT_OK);
            compare(p, &mix, &ref, TOL_REFERENCE, "naive+auto");
            gg_free(&ref), gg_free(&got), gg_free(&mix), gp_free(p);
        }
}
END_TEST

/* The GRU's dL/dW is one product whose rows come from two arrays, its
 * r, z rows from the deltas D and its n rows from DN (lib/kernels/gemm.h,
 * gemm_split): every n from 1 to 9 puts the 6-row groups of bptt's own
 * GEMM on every side of 2n (a group across it) and of 3n (a last partial
 * group, past 2n or not); deferred against naive, both betas. */
START_TEST(gru_dw_split_matches_naive)
{
    for (size_t n = 1; n <= 9; n++) {
        gp *p = gp_new(BPTT_CELL_GRU, 4, n, 3, 2, 1, 40 + n);
        gg ref, got;
        gg_alloc(p, &ref, NAN), gg_alloc(p, &got, NAN);
        ck_assert_int_eq(run(p, BPTT_ALGO_NAIVE, BPTT_ALGO_NAIVE, 1, 0, &ref),
                         BPTT_OK);
        ck_assert_int_eq(run(p, BPTT_ALGO_DEFERRED, BPTT_ALGO_DEFERRED, 1, 0,
                             &got), BPTT_OK);
        compare(p, &got, &ref, TOL_REFERENCE, "split dW");
        gg_free(&ref), gg_free(&got), gp_free(p);
    }
}
END_TEST

/* beta = 1 adds to what is there, beta = 0.5 scales it, for both
 * algorithms; beta = 0 ignored the NaN fill above. */
START_TEST(beta_accumulates)
{
    for (int c = 0; c < 2; c++)
        for (int a = 0; a < 2; a++) {
            const bptt_algo algo = a ? BPTT_ALGO_DEFERRED : BPTT_ALGO_NAIVE;
            gp *p = gp_new(cells[c], 3, 6, 4, 2, 1, 21);
            gg once, acc;
            gg_alloc(p, &once, NAN), gg_alloc(p, &acc, 0.25);
            ck_assert_int_eq(run(p, algo, algo, 1, 0, &once), BPTT_OK);
            ck_assert_int_eq(run(p, algo, algo, 1, 2.0, &acc), BPTT_OK);
            /* acc = 2·0.25 + once, on every gradient (h is not a gradient) */
            double *o[7] = {once.dW, once.dU, once.dbx, once.dbh, once.dx,
                            once.dh0, once.dc0};
            double *g[7] = {acc.dW, acc.dU, acc.dbx, acc.dbh, acc.dx, acc.dh0,
                            acc.dc0};
            const size_t Gn = p->G * p->n;
            size_t sz[7] = {Gn * p->ldw, Gn * p->ldu, Gn, Gn,
                            p->T * p->B * p->ldx, p->B * p->lds,
                            p->B * p->lds};
            for (int k = 0; k < 7; k++) {
                if (!o[k])
                    continue;
                for (size_t i = 0; i < sz[k]; i++) {
                    if (isnan(o[k][i])) /* padding the call did not touch */
                        continue;
                    ck_assert_double_eq_tol(g[k][i], 0.5 + o[k][i], 1e-12);
                }
            }
            gg_free(&once), gg_free(&acc), gp_free(p);
        }
}
END_TEST

/* Thread counts 1, 2 and 3 give bitwise the same results. */
START_TEST(threads_bitwise)
{
    for (int c = 0; c < 2; c++) {
        gp *p = gp_new(cells[c], 8, 96, 5, 4, 0, 31);
        gg one, many;
        gg_alloc(p, &one, 0);
        ck_assert_int_eq(run(p, BPTT_ALGO_DEFERRED, BPTT_ALGO_DEFERRED, 1, 0,
                             &one), BPTT_OK);
        for (int nth = 2; nth <= 3; nth++) {
            gg_alloc(p, &many, 0);
            ck_assert_int_eq(run(p, BPTT_ALGO_DEFERRED, BPTT_ALGO_DEFERRED,
                                 nth, 0, &many), BPTT_OK);
            compare(p, &many, &one, 0.0, "threads");
            gg_free(&many);
        }
        gg_free(&one), gp_free(p);
    }
}
END_TEST

/* ------------------------------------------------------------------------ */
/* gradcheck                                                                 */
/* ------------------------------------------------------------------------ */

static double gp_loss(const void *problem)
{
    const gp *p = problem;
    gg g;
    gg_alloc(p, &g, 0);
    bptt_gated_workspace *ws;
    ck_assert_int_eq(bptt_gated_workspace_alloc(p->cell, p->din, p->n, p->T,
                                                p->B, &ws), BPTT_OK);
    ck_assert_int_eq(bptt_gated_forward(p->T, p->B, p->W, p->ldw, p->U,
                                        p->ldu, p->bx, p->bh, p->x, p->ldx,
                                        p->h0, p->lds, p->c0, p->lds, g.h,
                                        p->ldh, g.cT, p->lds, p->algo, ws),
                     BPTT_OK);
    bptt_gated_workspace_free(ws);
    double L = 0;
    for (size_t k = 0; k < p->T * p->B; k++)
        for (size_t j = 0; j < p->n; j++)
            L += p->Rh[k * p->ldh + j] * g.h[k * p->ldh + j];
    if (g.cT)
        for (size_t b = 0; b < p->B; b++)
            for (size_t j = 0; j < p->n; j++)
                L += p->Rc[b * p->lds + j] * g.cT[b * p->lds + j];
    gg_free(&g);
    return L;
}

START_TEST(finite_differences)
{
    for (int c = 0; c < 2; c++)
        for (int a = 0; a < 2; a++) {
            gp *p = gp_new(cells[c], 3, 5, 6, 2, 1, 41 + a);
            p->algo = a ? BPTT_ALGO_DEFERRED : BPTT_ALGO_NAIVE;
            gg g;
            gg_alloc(p, &g, 0);
            ck_assert_int_eq(run(p, p->algo, p->algo, 1, 0, &g), BPTT_OK);
            const size_t Gn = p->G * p->n, TB = p->T * p->B;
            struct {
                const char *name;
                double *a;
                const double *g;
                size_t rows, cols, ld;
            } blk[] = {
                {"W", p->W, g.dW, Gn, p->din, p->ldw},
                {"U", p->U, g.dU, Gn, p->n, p->ldu},
                {"bx", p->bx, g.dbx, 1, Gn, Gn},
                {"bh", p->bh, g.dbh, 1, Gn, Gn},
                {"x", p->x, g.dx, TB, p->din, p->ldx},
                {"h0", p->h0, g.dh0, p->B, p->n, p->lds},
                {"c0", p->c0, g.dc0, p->B, p->n, p->lds},
            };
            for (size_t k = 0; k < sizeof blk / sizeof blk[0]; k++) {
                if (!blk[k].a)
                    continue;
                double e = tu_fd_block(gp_loss, p, blk[k].a, blk[k].rows,
                                       blk[k].cols, blk[k].ld, blk[k].g,
                                       blk[k].ld);
                ck_assert_msg(e <= TOL_GRADCHECK, "%s %s d%s: relerr %g",
                              bptt_cell_name(p->cell),
                              bptt_algo_name(p->algo), blk[k].name, e);
            }
            gg_free(&g), gp_free(p);
        }
}
END_TEST

/* The error-flow recording: naive and deferred (on 2 threads) record the
 * same norms; at the last step ḡ(T) = dL/dh(T), so its norm is that of the
 * row of dh (G7)/(G15); recording off writes nothing more. */
START_TEST(error_flow_recorded)
{
    for (int c = 0; c < 2; c++) {
        gp *p = gp_new(cells[c], 4, 40, 6, 3, 0, 33);
        const size_t TB = p->T * p->B;
        double *g[2], *d[2];
        for (int a = 0; a < 2; a++) {
            const bptt_algo algo = a ? BPTT_ALGO_DEFERRED : BPTT_ALGO_NAIVE;
            g[a] = calloc(TB, sizeof(double)), d[a] = calloc(TB, sizeof(double));
            gg o;
            gg_alloc(p, &o, 0);
            bptt_gated_workspace *ws;
            ck_assert_int_eq(bptt_gated_workspace_alloc(p->cell, p->din, p->n,
                                                        p->T, p->B, &ws),
                             BPTT_OK);
            ck_assert_int_eq(bptt_gated_workspace_set_threads(ws, 2), BPTT_OK);
            ck_assert_int_eq(bptt_gated_workspace_record_flow(ws, g[a], d[a]),
                             BPTT_OK);
            ck_assert_int_eq(bptt_gated_forward(p->T, p->B, p->W, p->ldw, p->U,
                                                p->ldu, p->bx, p->bh, p->x,
                                                p->ldx, p->h0, p->lds, p->c0,
                                                p->lds, o.h, p->ldh, o.cT,
                                                p->lds, algo, ws), BPTT_OK);
            ck_assert_int_eq(bptt_gated_backward(p->T, p->B, p->W, p->ldw,
                                                 p->U, p->ldu, p->Rh, p->ldh,
                                                 NULL, 0, 0, o.dW, p->ldw,
                                                 NULL, 0, NULL, NULL, NULL, 0,
                                                 NULL, 0, NULL, 0, algo, ws),
                             BPTT_OK);
            /* off: a later backward leaves the arrays alone */
            ck_assert_int_eq(bptt_gated_workspace_record_flow(ws, NULL, NULL),
                             BPTT_OK);
            const double keep = g[a][0];
            g[a][0] = -1;
            ck_assert_int_eq(bptt_gated_backward(p->T, p->B, p->W, p->ldw,
                                                 p->U, p->ldu, p->Rh, p->ldh,
                                                 NULL, 0, 0, o.dW, p->ldw,
                                                 NULL, 0, NULL, NULL, NULL, 0,
                                                 NULL, 0, NULL, 0, algo, ws),
                             BPTT_OK);
            ck_assert(g[a][0] == -1);
            g[a][0] = keep;
            bptt_gated_workspace_free(ws);
            gg_free(&o);
            for (size_t b = 0; b < p->B; b++) {
                const size_t row = (p->T - 1) * p->B + b;
                double ss = 0;
                for (size_t j = 0; j < p->n; j++)
                    ss += p->Rh[row * p->ldh + j] * p->Rh[row * p->ldh + j];
                ck_assert_double_eq_tol(g[a][row], sqrt(ss), 1e-14);
            }
        }
        ck_assert(tu_relerr(1, TB, g[1], TB, g[0], TB) <= TOL_REFERENCE);
        ck_assert(tu_relerr(1, TB, d[1], TB, d[0], TB) <= TOL_REFERENCE);
        for (size_t k = 0; k < TB; k++)
            ck_assert(g[0][k] > 0 && d[0][k] > 0);
        free(g[0]), free(g[1]), free(d[0]), free(d[1]);
        gp_free(p);
    }
    ck_assert_int_eq(bptt_gated_workspace_record_flow(NULL, NULL, NULL),
                     BPTT_ENULL);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* identity                                                                  */
/* ------------------------------------------------------------------------ */

/* LSTM with the forget gate saturated at 1 (bias +100) and the input gate
 * at 0 (bias −100): c(t) = 1·c(t−1) + ~4e-44·g rounds to c(t−1), so c(T)
 * is c(0) bitwise (G4), and backward carries dL/dc(T) to dL/dc(0)
 * unchanged when dL/dh = 0 (G9). */
START_TEST(lstm_saturated_forget_carries_c)
{
    for (int a = 0; a < 2; a++) {
        const bptt_algo algo = a ? BPTT_ALGO_DEFERRED : BPTT_ALGO_NAIVE;
        gp *p = gp_new(BPTT_CELL_LSTM, 4, 7, 9, 3, 1, 51);
        for (size_t j = 0; j < p->n; j++) {
            p->bx[j] = -100;        /* i */
            p->bx[p->n + j] = 100;  /* f */
        }
        memset(p->Rh, 0, p->T * p->B * p->ldh * sizeof(double));
        gg g;
        gg_alloc(p, &g, 0);
        ck_assert_int_eq(run(p, algo, algo, 1, 0, &g), BPTT_OK);
        for (size_t b = 0; b < p->B; b++)
            for (size_t j = 0; j < p->n; j++) {
                ck_assert(g.cT[b * p->lds + j] == p->c0[b * p->lds + j]);
                ck_assert(g.dc0[b * p->lds + j] == p->Rc[b * p->lds + j]);
            }
        gg_free(&g), gp_free(p);
    }
}
END_TEST

/* GRU with the update gate saturated at 1: h(t) = h(t−1) bitwise (G14). */
START_TEST(gru_saturated_update_carries_h)
{
    gp *p = gp_new(BPTT_CELL_GRU, 4, 7, 9, 3, 1, 52);
    for (size_t j = 0; j < p->n; j++)
        p->bx[p->n + j] = 100; /* z */
    gg g;
    gg_alloc(p, &g, 0);
    ck_assert_int_eq(run(p, BPTT_ALGO_DEFERRED, BPTT_ALGO_DEFERRED, 1, 0, &g),
                     BPTT_OK);
    for (size_t k = 0; k < p->T * p->B; k++)
        for (size_t j = 0; j < p->n; j++)
            ck_assert(g.h[k * p->ldh + j] == p->h0[(k % p->B) * p->lds + j]);
    gg_free(&g), gp_free(p);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* traps                                                                     */
/* ------------------------------------------------------------------------ */

START_TEST(traps_write_nothing)
{
    for (int c = 0; c < 2; c++) {
        const bptt_cell cell = cells[c];
        const int lstm = cell == BPTT_CELL_LSTM;
        gp *p = gp_new(cell, 3, 4, 3, 2, 0, 61);
        gg g;
        gg_alloc(p, &g, 7);
        const size_t Gn = p->G * p->n, TB = p->T * p->B;
        size_t bytes = 0;
        bptt_gated_workspace *ws = NULL, *ws2 = NULL;
        TU_REFUSED(bptt_gated_workspace_size(BPTT_CELL_VANILLA, 3, 4, 3, 2,
                                             &bytes), BPTT_EINVAL, NULL);
        TU_REFUSED(bptt_gated_workspace_size(cell, 0, 4, 3, 2, &bytes),
                   BPTT_ESIZE, NULL);
        TU_REFUSED(bptt_gated_workspace_size(cell, 3, 4, 0, 2, &bytes),
                   BPTT_ESIZE, NULL);
        TU_REFUSED(bptt_gated_workspace_size(cell, 3, 4, 3, 2, NULL),
                   BPTT_ENULL, NULL);
        TU_REFUSED(bptt_gated_workspace_size(cell, 3, (size_t)1 << 40,
                                             (size_t)1 << 20, 2, &bytes),
                   BPTT_EOVERFLOW, NULL);
        ck_assert_int_eq(bptt_gated_workspace_size(cell, 3, 4, 3, 2, &bytes),
                         BPTT_OK);
        unsigned char *buf = malloc(bytes);
        TU_REFUSED(bptt_gated_workspace_init(cell, 3, 4, 3, 2, buf, bytes - 1,
                                             &ws2), BPTT_EBUFFER, NULL);
        ck_assert_int_eq(bptt_gated_workspace_init(cell, 3, 4, 3, 2, buf,
                                                   bytes, &ws), BPTT_OK);
        ck_assert_int_eq(bptt_gated_workspace_cell(ws), cell);
        ck_assert_uint_eq(bptt_gated_workspace_n(ws), 4);
        ck_assert_uint_eq(bptt_gated_workspace_din(ws), 3);
        TU_REFUSED(bptt_gated_workspace_set_threads(ws, 0), BPTT_EINVAL, NULL);

        tu_snap s = {0};
        tu_snap_add(&s, g.h, TB * p->ldh * sizeof(double));
        tu_snap_add(&s, g.cT, lstm ? p->B * p->lds * sizeof(double) : 0);
        tu_snap_add(&s, g.dW, Gn * p->ldw * sizeof(double));
        tu_snap_add(&s, g.dU, Gn * p->ldu * sizeof(double));
        tu_snap_add(&s, g.dbx, Gn * sizeof(double));
        tu_snap_add(&s, g.dx, TB * p->ldx * sizeof(double));
        tu_snap_add(&s, g.dh0, p->B * p->lds * sizeof(double));
#define FWD(T, B, W, ldw, x, h0, c0, h, cT, algo, w)                           \
    bptt_gated_forward(T, B, W, ldw, p->U, p->ldu, p->bx, p->bh, x, p->ldx,    \
                       h0, p->lds, c0, p->lds, h, p->ldh, cT, p->lds, algo, w)
        TU_REFUSED(FWD(3, 2, p->W, p->ldw, p->x, p->h0, p->c0, g.h, g.cT,
                       BPTT_ALGO_AUTO, NULL), BPTT_ENULL, &s);
        TU_REFUSED(FWD(0, 2, p->W, p->ldw, p->x, p->h0, p->c0, g.h, g.cT,
                       BPTT_ALGO_AUTO, ws), BPTT_ESIZE, &s);
        TU_REFUSED(FWD(4, 2, p->W, p->ldw, p->x, p->h0, p->c0, g.h, g.cT,
                       BPTT_ALGO_AUTO, ws), BPTT_ECAPACITY, &s);
        TU_REFUSED(FWD(3, 2, p->W, p->ldw, p->x, p->h0, p->c0, g.h, g.cT,
                       BPTT_ALGO_GEMV_GER, ws), BPTT_EALGO, &s);
        TU_REFUSED(FWD(3, 2, p->W, p->ldw, p->x, p->h0, p->c0, g.h, g.cT,
                       BPTT_NALGO, ws), BPTT_EALGO, &s);
        TU_REFUSED(FWD(3, 2, NULL, p->ldw, p->x, p->h0, p->c0, g.h, g.cT,
                       BPTT_ALGO_AUTO, ws), BPTT_ENULL, &s);
        TU_REFUSED(FWD(3, 2, p->W, 2, p->x, p->h0, p->c0, g.h, g.cT,
                       BPTT_ALGO_AUTO, ws), BPTT_ELD, &s);
        TU_REFUSED(FWD(3, 2, p->W, p->ldw, NULL, p->h0, p->c0, g.h, g.cT,
                       BPTT_ALGO_AUTO, ws), BPTT_ENULL, &s);
        TU_REFUSED(FWD(3, 2, p->W, p->ldw, p->x, p->h0, p->c0, NULL, g.cT,
                       BPTT_ALGO_AUTO, ws), BPTT_ENULL, &s);
        if (!lstm) {
            double c0[8] = {0}, cT[8];
            TU_REFUSED(FWD(3, 2, p->W, p->ldw, p->x, p->h0, c0, g.h, NULL,
                           BPTT_ALGO_AUTO, ws), BPTT_EINVAL, &s);
            TU_REFUSED(FWD(3, 2, p->W, p->ldw, p->x, p->h0, NULL, g.h, cT,
                           BPTT_ALGO_AUTO, ws), BPTT_EINVAL, &s);
        }
#define BWD(T, B, dh, beta, dcT, dc0, algo)                                    \
    bptt_gated_backward(T, B, p->W, p->ldw, p->U, p->ldu, dh, p->ldh, dcT,     \
                        p->lds, beta, g.dW, p->ldw, g.dU, p->ldu, g.dbx,       \
                        g.dbh, g.dx, p->ldx, g.dh0, p->lds, dc0, p->lds, algo, \
                        ws)
        TU_REFUSED(BWD(3, 2, p->Rh, 0.0, p->Rc, g.dc0, BPTT_ALGO_AUTO),
                   BPTT_ENOFORWARD, &s);
        /* the non-finite check: a NaN in x is refused before anything */
        ck_assert_int_eq(bptt_gated_workspace_check_finite(ws, 1), BPTT_OK);
        p->x[p->ldx + 1] = NAN;
        TU_REFUSED(FWD(3, 2, p->W, p->ldw, p->x, p->h0, p->c0, g.h, g.cT,
                       BPTT_ALGO_AUTO, ws), BPTT_ENONFINITE, &s);
        ck_assert_str_eq(bptt_error_detail(),
                         "bptt_gated_forward: x[1][1] is NaN");
        p->x[p->ldx + 1] = 0.5;
        ck_assert_int_eq(FWD(3, 2, p->W, p->ldw, p->x, p->h0, p->c0, g.h, g.cT,
                             BPTT_ALGO_AUTO, ws), BPTT_OK);
        tu_snap_retake(&s);
        TU_REFUSED(BWD(2, 2, p->Rh, 0.0, p->Rc, g.dc0, BPTT_ALGO_AUTO),
                   BPTT_ENOFORWARD, &s);
        TU_REFUSED(BWD(3, 2, NULL, 0.0, p->Rc, g.dc0, BPTT_ALGO_AUTO),
                   BPTT_ENULL, &s);
        TU_REFUSED(BWD(3, 2, p->Rh, INFINITY, p->Rc, g.dc0, BPTT_ALGO_AUTO),
                   BPTT_EINVAL, &s);
        if (!lstm) {
            double d[8] = {0};
            TU_REFUSED(BWD(3, 2, p->Rh, 0.0, d, NULL, BPTT_ALGO_AUTO),
                       BPTT_EINVAL, &s);
            TU_REFUSED(BWD(3, 2, p->Rh, 0.0, NULL, d, BPTT_ALGO_AUTO),
                       BPTT_EINVAL, &s);
        }
        p->Rh[0] = INFINITY;
        TU_REFUSED(BWD(3, 2, p->Rh, 0.0, p->Rc, g.dc0, BPTT_ALGO_AUTO),
                   BPTT_ENONFINITE, &s);
        p->Rh[0] = 0.25;
        ck_assert_int_eq(BWD(3, 2, p->Rh, 0.0, p->Rc, g.dc0,
                             BPTT_ALGO_AUTO), BPTT_OK);
#undef FWD
#undef BWD
        tu_snap_free(&s);
        bptt_gated_workspace_free(ws);
        free(buf);
        gg_free(&g), gp_free(p);
    }
    ck_assert_uint_eq(bptt_gated_gates(BPTT_CELL_VANILLA), 0);
    ck_assert_int_eq(bptt_gated_workspace_cell(NULL), BPTT_NCELL);
    ck_assert_int_eq(bptt_gated_workspace_threads(NULL), 0);
    bptt_gated_workspace_free(NULL);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* precision                                                                 */
/* ------------------------------------------------------------------------ */

START_TEST(float_matches_double)
{
    for (int c = 0; c < 2; c++) {
        gp *p = gp_new(cells[c], 6, 10, 8, 3, 1, 71);
        const int lstm = p->cell == BPTT_CELL_LSTM;
        const size_t Gn = p->G * p->n, TB = p->T * p->B;
        gg d, f;
        gg_alloc(p, &d, 0), gg_alloc(p, &f, 0);
        ck_assert_int_eq(run(p, BPTT_ALGO_DEFERRED, BPTT_ALGO_DEFERRED, 1, 0,
                             &d), BPTT_OK);
        float *W = tu_to_float(p->W, Gn * p->ldw);
        float *U = tu_to_float(p->U, Gn * p->ldu);
        float *bx = tu_to_float(p->bx, Gn), *bh = tu_to_float(p->bh, Gn);
        float *x = tu_to_float(p->x, TB * p->ldx);
        float *h0 = tu_to_float(p->h0, p->B * p->lds);
        float *c0 = tu_to_float(p->c0, p->B * p->lds);
        float *Rh = tu_to_float(p->Rh, TB * p->ldh);
        float *Rc = tu_to_float(p->Rc, p->B * p->lds);
        float *h = tu_to_float(d.h, TB * p->ldh);
        float *cT = tu_to_float(d.cT, p->B * p->lds);
        float *dW = tu_to_float(d.dW, Gn * p->ldw);
        float *dU = tu_to_float(d.dU, Gn * p->ldu);
        float *dbx = tu_to_float(d.dbx, Gn), *dbh = tu_to_float(d.dbh, Gn);
        float *dx = tu_to_float(d.dx, TB * p->ldx);
        float *dh0 = tu_to_float(d.dh0, p->B * p->lds);
        float *dc0 = tu_to_float(d.dc0, p->B * p->lds);
        bpttf_gated_workspace *ws;
        ck_assert_int_eq(bpttf_gated_workspace_alloc(p->cell, p->din, p->n,
                                                     p->T, p->B, &ws),
                         BPTT_OK);
        ck_assert_int_eq(bpttf_gated_forward(p->T, p->B, W, p->ldw, U, p->ldu,
                                             bx, bh, x, p->ldx, h0, p->lds, c0,
                                             p->lds, h, p->ldh, cT, p->lds,
                                             BPTT_ALGO_DEFERRED, ws),
                         BPTT_OK);
        ck_assert_int_eq(bpttf_gated_backward(p->T, p->B, W, p->ldw, U,
                                              p->ldu, Rh, p->ldh, Rc, p->lds,
                                              0.0f, dW, p->ldw, dU, p->ldu,
                                              dbx, dbh, dx, p->ldx, dh0,
                                              p->lds, dc0, p->lds,
                                              BPTT_ALGO_DEFERRED, ws),
                         BPTT_OK);
        bpttf_gated_workspace_free(ws);
        tu_from_float(h, TB * p->ldh, f.h);
        if (lstm) {
            tu_from_float(cT, p->B * p->lds, f.cT);
            tu_from_float(dc0, p->B * p->lds, f.dc0);
        }
        tu_from_float(dW, Gn * p->ldw, f.dW);
        tu_from_float(dU, Gn * p->ldu, f.dU);
        tu_from_float(dbx, Gn, f.dbx);
        tu_from_float(dbh, Gn, f.dbh);
        tu_from_float(dx, TB * p->ldx, f.dx);
        tu_from_float(dh0, p->B * p->lds, f.dh0);
        compare(p, &f, &d, TOL_FLOAT, "float");
        free(W), free(U), free(bx), free(bh), free(x), free(h0), free(c0);
        free(Rh), free(Rc), free(h), free(cT), free(dW), free(dU), free(dbx);
        free(dbh), free(dx), free(dh0), free(dc0);
        gg_free(&d), gg_free(&f), gp_free(p);
    }
}
END_TEST

/* ------------------------------------------------------------------------ */
/* plan                                                                      */
/* ------------------------------------------------------------------------ */

/* A plan of a gated cell gives bit for bit the expert calls' results, with
 * W = [W_ih | W_hh] in one padded array, b = bx, bh = 0, c(0) = 0. */
START_TEST(plan_matches_expert)
{
    for (int c = 0; c < 2; c++) {
        const size_t din = 3, n = 5, T = 4, B = 2, m = din + n;
        gp *p = gp_new(cells[c], din, n, T, B, 1, 81);
        const size_t Gn = p->G * n, TB = T * B, ldw = m + 2;
        double *Wf = calloc(Gn * ldw, sizeof(double));
        for (size_t r = 0; r < Gn; r++)
            for (size_t j = 0; j < m; j++)
                Wf[r * ldw + j] = j < din ? p->W[r * p->ldw + j]
                                          : p->U[r * p->ldu + j - din];
        bptt_net *net;
        ck_assert_int_eq(bptt_net_create_uniform(din, n, BPTT_ACT_TANH, NULL,
                                                 &net), BPTT_OK);
        const bptt_layout lay = {.ldw = ldw, .ldx = p->ldx, .ldy0 = p->lds,
                                 .ldy = p->ldh, .ldt = p->ldh,
                                 .lddy = p->ldh, .lddw = ldw,
                                 .lddx = p->ldx, .lddy0 = p->lds};
        bptt_plan *plan = NULL;
        bptt_layout bad = lay;
        bad.ldw = m - 1;
        TU_REFUSED(bptt_plan_create_cell(cells[c], net, T, B, &bad,
                                         BPTT_ALGO_AUTO, &plan), BPTT_ELD,
                   NULL);
        TU_REFUSED(bptt_plan_create_cell(cells[c], net, T, B, &lay,
                                         BPTT_ALGO_GEMV_GER, &plan),
                   BPTT_EALGO, NULL);
        TU_REFUSED(bptt_plan_create_cell(BPTT_NCELL, net, T, B, &lay,
                                         BPTT_ALGO_AUTO, &plan), BPTT_EINVAL,
                   NULL);
        ck_assert_ptr_null(plan);
        ck_assert_int_eq(bptt_plan_create_cell(cells[c], net, T, B, &lay,
                                               BPTT_ALGO_AUTO, &plan),
                         BPTT_OK);
        ck_assert_int_eq(bptt_plan_cell(plan), cells[c]);
        ck_assert_ptr_null(bptt_plan_workspace(plan));
        ck_assert_ptr_nonnull(bptt_plan_gated_workspace(plan));

        double *h = calloc(TB * p->ldh, sizeof(double));
        double *dWf = calloc(Gn * ldw, sizeof(double));
        double *db = calloc(Gn, sizeof(double));
        double *dx = calloc(TB * p->ldx, sizeof(double));
        double *dh0 = calloc(B * p->lds, sizeof(double));
        const bptt_params prm = {Wf, p->bx};
        const bptt_grads g = {dWf, db, dx, dh0};
        ck_assert_int_eq(bptt_plan_forward(plan, T, B, &prm, p->x, p->h0, h),
                         BPTT_OK);
        ck_assert_int_eq(bptt_plan_backward(plan, T, B, &prm, p->Rh, 0, &g),
                         BPTT_OK);

        /* the expert calls on the same arrays */
        gg e;
        gg_alloc(p, &e, 0);
        bptt_gated_workspace *ws;
        ck_assert_int_eq(bptt_gated_workspace_alloc(cells[c], din, n, T, B,
                                                    &ws), BPTT_OK);
        ck_assert_int_eq(bptt_gated_forward(T, B, p->W, p->ldw, p->U, p->ldu,
                                            p->bx, NULL, p->x, p->ldx, p->h0,
                                            p->lds, NULL, 0, e.h, p->ldh,
                                            NULL, 0, BPTT_ALGO_AUTO, ws),
                         BPTT_OK);
        ck_assert_int_eq(bptt_gated_backward(T, B, p->W, p->ldw, p->U,
                                             p->ldu, p->Rh, p->ldh, NULL, 0,
                                             0, e.dW, p->ldw, e.dU, p->ldu,
                                             e.dbx, NULL, e.dx, p->ldx, e.dh0,
                                             p->lds, NULL, 0, BPTT_ALGO_AUTO,
                                             ws), BPTT_OK);
        bptt_gated_workspace_free(ws);
        for (size_t k = 0; k < TB; k++)
            for (size_t j = 0; j < n; j++)
                ck_assert(h[k * p->ldh + j] == e.h[k * p->ldh + j]);
        for (size_t r = 0; r < Gn; r++) {
            for (size_t j = 0; j < din; j++)
                ck_assert(dWf[r * ldw + j] == e.dW[r * p->ldw + j]);
            for (size_t j = 0; j < n; j++)
                ck_assert(dWf[r * ldw + din + j] == e.dU[r * p->ldu + j]);
            ck_assert(db[r] == e.dbx[r]);
        }
        ck_assert(tu_relerr(TB, din, dx, p->ldx, e.dx, p->ldx) == 0);
        ck_assert(tu_relerr(B, n, dh0, p->lds, e.dh0, p->lds) == 0);
        /* the squared-error loss of the plan is n wide */
        double loss = -1;
        const bptt_targets tg = {p->Rh, NULL};
        ck_assert_int_eq(bptt_plan_loss(plan, T, B, h, &tg, &loss, NULL),
                         BPTT_OK);
        ck_assert(loss > 0);
        gg_free(&e);
        free(h), free(dWf), free(db), free(dx), free(dh0), free(Wf);
        bptt_plan_destroy(plan);
        bptt_net_free(net);
        gp_free(p);
    }
    ck_assert_ptr_null(bptt_plan_gated_workspace(NULL));
}
END_TEST

/* ------------------------------------------------------------------------ */
/* Network B on a gated core                                                 */
/* ------------------------------------------------------------------------ */

typedef struct ep {
    bptt_elman *el;
    size_t din, dh, nout, G, T, B, ldw;
    double *W, *bh, *Wo, *bo, *x, *h0;
    int *labels;
    bptt_algo algo;
} ep;

static double ep_loss(const void *problem)
{
    const ep *p = problem;
    bptt_elman_workspace *ws;
    double E = -1;
    ck_assert_int_eq(bptt_elman_workspace_alloc(p->el, p->T, p->B, &ws),
                     BPTT_OK);
    ck_assert_int_eq(bptt_elman_forward(p->el, p->T, p->B, p->W, p->ldw,
                                        p->bh, p->Wo, p->dh, p->bo, p->x,
                                        p->din, p->h0, p->dh, p->labels, NULL,
                                        0, &E, NULL, 0, NULL, 0, p->algo, ws),
                     BPTT_OK);
    bptt_elman_workspace_free(ws);
    return E;
}

/* The softmax head over an LSTM or GRU hidden layer: central differences
 * on W = [W_ih | W_hh], bh, Wo, bo, x and h0; deferred against naive. */
START_TEST(elman_on_gated_core)
{
    for (int c = 0; c < 2; c++) {
        ep p = {.din = 3, .dh = 4, .nout = 5, .T = 5, .B = 2};
        tu_rng r = {91};
        bptt_net *net;
        ck_assert_int_eq(bptt_net_create_uniform(p.din, p.dh, BPTT_ACT_TANH,
                                                 NULL, &net), BPTT_OK);
        bptt_elman *none = NULL;
        TU_REFUSED(bptt_elman_create_cell(BPTT_NCELL, net, p.nout,
                                          BPTT_HEAD_SOFTMAX, &none),
                   BPTT_EINVAL, NULL);
        ck_assert_int_eq(bptt_elman_create_cell(cells[c], net, p.nout,
                                                BPTT_HEAD_SOFTMAX, &p.el),
                         BPTT_OK);
        ck_assert_int_eq(bptt_elman_cell(p.el), cells[c]);
        p.G = bptt_gated_gates(cells[c]);
        const size_t Gh = p.G * p.dh, m = p.din + p.dh, TB = p.T * p.B;
        p.ldw = m + 1;
        p.W = tu_random(Gh * p.ldw, 0.6, &r);
        p.bh = tu_random(Gh, 0.3, &r);
        p.Wo = tu_random(p.nout * p.dh, 0.6, &r);
        p.bo = tu_random(p.nout, 0.3, &r);
        p.x = tu_random(TB * p.din, 1, &r);
        p.h0 = tu_random(p.B * p.dh, 0.5, &r);
        p.labels = malloc(TB * sizeof(int));
        for (size_t k = 0; k < TB; k++)
            p.labels[k] = (int)(k * 7 % p.nout);
        p.labels[3] = BPTT_IGNORE_LABEL;

        double *g[2][6];
        for (int a = 0; a < 2; a++) {
            p.algo = a ? BPTT_ALGO_DEFERRED : BPTT_ALGO_NAIVE;
            double *dW = calloc(Gh * p.ldw, sizeof(double));
            double *dbh = calloc(Gh, sizeof(double));
            double *dWo = calloc(p.nout * p.dh, sizeof(double));
            double *dbo = calloc(p.nout, sizeof(double));
            double *dx = calloc(TB * p.din, sizeof(double));
            double *dh0 = calloc(p.B * p.dh, sizeof(double));
            bptt_elman_workspace *ws;
            double E;
            ck_assert_int_eq(bptt_elman_workspace_alloc(p.el, p.T, p.B, &ws),
                             BPTT_OK);
            TU_REFUSED(bptt_elman_forward(p.el, p.T, p.B, p.W, p.ldw, p.bh,
                                          p.Wo, p.dh, p.bo, p.x, p.din, p.h0,
                                          p.dh, p.labels, NULL, 0, &E, NULL,
                                          0, NULL, 0, BPTT_ALGO_GEMV_GER, ws),
                       BPTT_EALGO, NULL);
            ck_assert_int_eq(bptt_elman_forward(p.el, p.T, p.B, p.W, p.ldw,
                                                p.bh, p.Wo, p.dh, p.bo, p.x,
                                                p.din, p.h0, p.dh, p.labels,
                                                NULL, 0, &E, NULL, 0, NULL, 0,
                                                p.algo, ws), BPTT_OK);
            ck_assert_int_eq(bptt_elman_backward(p.el, p.T, p.B, p.W, p.ldw,
                                                 p.Wo, p.dh, p.labels, NULL,
                                                 0, 0, dW, p.ldw, dbh, dWo,
                                                 p.dh, dbo, dx, p.din, dh0,
                                                 p.dh, p.algo, ws), BPTT_OK);
            bptt_elman_workspace_free(ws);
            g[a][0] = dW, g[a][1] = dbh, g[a][2] = dWo, g[a][3] = dbo;
            g[a][4] = dx, g[a][5] = dh0;
        }
        struct {
            const char *name;
            double *a;
            size_t rows, cols, ld;
        } blk[6] = {
            {"W", p.W, Gh, m, p.ldw},       {"bh", p.bh, 1, Gh, Gh},
            {"Wo", p.Wo, p.nout, p.dh, p.dh}, {"bo", p.bo, 1, p.nout, p.nout},
            {"x", p.x, TB, p.din, p.din},   {"h0", p.h0, p.B, p.dh, p.dh},
        };
        p.algo = BPTT_ALGO_DEFERRED;
        for (int k = 0; k < 6; k++) {
            double e = tu_relerr(blk[k].rows, blk[k].cols, g[1][k],
                                 blk[k].ld, g[0][k], blk[k].ld);
            ck_assert_msg(e <= TOL_REFERENCE, "%s elman d%s: deferred vs "
                          "naive %g", bptt_cell_name(cells[c]), blk[k].name,
                          e);
            e = tu_fd_block(ep_loss, &p, blk[k].a, blk[k].rows, blk[k].cols,
                            blk[k].ld, g[1][k], blk[k].ld);
            ck_assert_msg(e <= TOL_GRADCHECK, "%s elman d%s: relerr %g",
                          bptt_cell_name(cells[c]), blk[k].name, e);
        }
        for (int a = 0; a < 2; a++)
            for (int k = 0; k < 6; k++)
                free(g[a][k]);
        free(p.W), free(p.bh), free(p.Wo), free(p.bo), free(p.x), free(p.h0);
        free(p.labels);
        bptt_elman_free(p.el);
        bptt_net_free(net);
    }
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("gated");
    TCase *ref = tcase_create("reference");
    tcase_add_test(ref, deferred_matches_naive);
    tcase_add_test(ref, gru_dw_split_matches_naive);
    tcase_add_test(ref, beta_accumulates);
    tcase_add_test(ref, threads_bitwise);
    tcase_add_test(ref, error_flow_recorded);
    suite_add_tcase(s, ref);
    TCase *grad = tcase_create("gradcheck");
    tcase_set_timeout(grad, 120);
    tcase_add_test(grad, finite_differences);
    suite_add_tcase(s, grad);
    TCase *id = tcase_create("identity");
    tcase_add_test(id, lstm_saturated_forget_carries_c);
    tcase_add_test(id, gru_saturated_update_carries_h);
    suite_add_tcase(s, id);
    TCase *trap = tcase_create("trap");
    tcase_add_test(trap, traps_write_nothing);
    suite_add_tcase(s, trap);
    TCase *prec = tcase_create("precision");
    tcase_add_test(prec, float_matches_double);
    suite_add_tcase(s, prec);
    TCase *plan = tcase_create("plan");
    tcase_add_test(plan, plan_matches_expert);
    suite_add_tcase(s, plan);
    TCase *elman = tcase_create("elman");
    tcase_set_timeout(elman, 120);
    tcase_add_test(elman, elman_on_gated_core);
    suite_add_tcase(s, elman);
    return s;
}

int main(void)
{
    return tu_run_suite(suite());
}
