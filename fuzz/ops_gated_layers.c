/*
 * ops_gated_layers.c — the fuzz ops of the gated cells' higher layers
 * (fuzz/README.md), double precision:
 *   plan_gated   bptt_plan_create_cell with LSTM, GRU or a bad cell code,
 *                a padded, dense or short ldw, every algorithm code; then
 *                1-2 rounds of bptt_plan_forward and bptt_plan_backward
 *                with T and B within and past the capacity, optional b,
 *                y0, dW, db, dx, dy0 and beta 0 or 1.  A refused call
 *                names its function and wrote nothing; an accepted one
 *                equals bptt_gated_forward / _backward with
 *                BPTT_ALGO_NAIVE on a workspace of the harness's, the
 *                plan's W read as [W | U] (docs/gated.md).
 *   elman_gated  bptt_elman_create_cell (linear head) and its workspace,
 *                bptt_elman_workspace_set_gated_bias and _set_cell_state
 *                with their arrays present or not, a short leading
 *                dimension, a cell state given to a GRU; then 1-2 rounds
 *                of bptt_elman_forward and _backward with T and B within
 *                and past the capacity.  A refused call wrote nothing; an
 *                accepted one equals the same calls with BPTT_ALGO_NAIVE
 *                on a mirror workspace with the same options, c(T),
 *                dL/dc(0) and b_hh's gradient included.
 */
#include "fuzz.h"

static const api *const A = &apis[0];

/* Whether every element of the rows x cols blocks agrees (mat_close). */
#define CLOSE(what, X, Ref)                                                    \
    REQUIRE(mat_close(A, (X), (Ref), A->tol), "%s: %s", (what), why)

/* A rows x cols matrix of leading dimension ld, bounded values (|v| <=
 * scale), or an absent one (p NULL) when !present. */
static mat mat_opt(arena *a, bytes *r, int present, size_t rows, size_t cols,
                   size_t ld, double scale)
{
    if (!present)
        return (mat){NULL, rows, cols, ld, ld};
    return mat_new(a, A, r, rows, cols, ld, scale, 0);
}

/* ------------------------------------------------------------------------ */
/* op: the plan's gated cells                                                */
/* ------------------------------------------------------------------------ */

void op_plan_gated(bytes *r)
{
    static const char fn_create[] = "bptt_plan_create_cell";
    const unsigned v = u8(r);
    const bptt_cell cell = v % 8 == 7 ? BPTT_NCELL
                           : v & 1    ? BPTT_CELL_GRU : BPTT_CELL_LSTM;
    const size_t din = 1 + u8(r) % 4, n = 1 + u8(r) % 4, m = din + n;
    const size_t Tmax = 1 + u8(r) % 4, Bmax = 1 + u8(r) % 3;
    const bptt_algo algo = pick_algo(r);
    const unsigned lv = u8(r) % 4;
    bptt_layout lay = {0};
    lay.ldw = lv == 0 ? 0 : lv == 1 ? m : lv == 2 ? m + 2 : m - 1;
    unsigned faults = 0;
    if (cell == BPTT_NCELL)
        faults |= BIT(BPTT_EINVAL);
    if (!algo_ok(algo) || (cell != BPTT_NCELL && algo == BPTT_ALGO_GEMV_GER))
        faults |= BIT(BPTT_EALGO);
    if (lv == 3)
        faults |= BIT(BPTT_ELD);
    bptt_net *net = NULL;
    REQUIRE(bptt_net_create_uniform(din, n, BPTT_ACT_TANH, NULL, &net)
                == BPTT_OK, "net");
    arena a = {0};
    bptt_plan **slot = arena_new(&a, sizeof *slot);
    *slot = (bptt_plan *)slot; /* a sentinel: a refusal must leave it */
    arena_snapshot(&a);
    mark_detail();
    bptt_status st = bptt_plan_create_cell(cell, net, Tmax, Bmax, &lay, algo,
                                           slot);
    if (faults) {
        require_rejected(st, faults, fn_create, &a);
        arena_free(&a);
        bptt_net_free(net);
        return;
    }
    REQUIRE(st == BPTT_OK, "%s: %s (%s)", fn_create, bptt_strerror(st),
            bptt_error_detail());
    bptt_plan *plan = *slot;
    arena_free(&a);
    REQUIRE(bptt_plan_gated_workspace(plan) != NULL, "no gated workspace");
    const size_t G = bptt_gated_gates(cell), Gn = G * n;
    const size_t ldw = lay.ldw ? lay.ldw : m;
    bptt_gated_workspace *gw = NULL;
    REQUIRE(bptt_gated_workspace_alloc(cell, din, n, Tmax, Bmax, &gw)
                == BPTT_OK, "expert workspace");

    const int rounds = 1 + u8(r) % 2;
    for (int round = 0; round < rounds; round++) {
        const size_t T = 1 + u8(r) % (Tmax + 1), B = 1 + u8(r) % (Bmax + 1),
                     TB = T * B;
        const unsigned f = u8(r);
        arena c = {0}, ref = {0};
        const mat W = mat_new(&c, A, r, Gn, m, ldw, 0.6, 0);
        const mat b = mat_opt(&c, r, f & 1, 1, Gn, Gn, 0.3);
        const mat x = mat_new(&c, A, r, TB, din, din, 1, 0);
        const mat y0 = mat_opt(&c, r, f & 2, B, n, n, 0.5);
        const mat y = mat_new(&c, A, r, TB, n, n, 1, 0);
        const bptt_params prm = {W.p, b.p};
        arena_snapshot(&c);
        mark_detail();
        st = bptt_plan_forward(plan, T, B, &prm, x.p, y0.p, y.p);
        if (T > Tmax || B > Bmax) {
            require_rejected(st, BIT(BPTT_ECAPACITY), "bptt_plan_forward",
                             &c);
            arena_free(&c);
            continue;
        }
        REQUIRE(st == BPTT_OK, "bptt_plan_forward: %s (%s)",
                bptt_strerror(st), bptt_error_detail());
        const mat yr = mat_dense(&ref, A, TB, n);
        const double *Wp = W.p;
        REQUIRE(bptt_gated_forward(T, B, Wp, ldw, Wp + din, ldw, b.p, NULL,
                                   x.p, din, y0.p, n, NULL, 0, yr.p, n,
                                   NULL, 0, BPTT_ALGO_NAIVE, gw) == BPTT_OK,
                "reference forward: %s", bptt_error_detail());
        CLOSE("plan forward against the gated cell's", y, yr);
        HIT(H_LATER_COMPARED);

        /* backward: each gradient present or not, beta 0 or 1 */
        const mat dy = mat_new(&c, A, r, TB, n, n, 1, 0);
        const mat dW = mat_opt(&c, r, f & 4, Gn, m, m, 0.5);
        const mat db = mat_opt(&c, r, f & 8, 1, Gn, Gn, 0.5);
        const mat dx = mat_opt(&c, r, f & 16, TB, din, din, 0.5);
        const mat dy0 = mat_opt(&c, r, f & 32, B, n, n, 0.5);
        const double beta = f & 64 ? 1 : 0;
        const mat dWr = mat_copy(&ref, A, dW), dbr = mat_copy(&ref, A, db),
                  dxr = mat_copy(&ref, A, dx), dy0r = mat_copy(&ref, A, dy0);
        const bptt_grads g = {dW.p, db.p, dx.p, dy0.p};
        st = bptt_plan_backward(plan, T, B, &prm, dy.p, beta, &g);
        REQUIRE(st == BPTT_OK, "bptt_plan_backward: %s (%s)",
                bptt_strerror(st), bptt_error_detail());
        double *dWp = dWr.p;
        REQUIRE(bptt_gated_backward(T, B, Wp, ldw, Wp + din, ldw, dy.p, n,
                                    NULL, 0, beta, dWp, m,
                                    dWp ? dWp + din : NULL, m, dbr.p, NULL,
                                    dxr.p, din, dy0r.p, n, NULL, 0,
                                    BPTT_ALGO_NAIVE, gw) == BPTT_OK,
                "reference backward: %s", bptt_error_detail());
        if (dW.p)
            CLOSE("plan dW", dW, dWr);
        if (db.p)
            CLOSE("plan db", db, dbr);
        if (dx.p)
            CLOSE("plan dx", dx, dxr);
        if (dy0.p)
            CLOSE("plan dy0", dy0, dy0r);
        HIT(H_BWD_COMPARED);
        arena_free(&c);
        arena_free(&ref);
    }
    bptt_gated_workspace_free(gw);
    bptt_plan_destroy(plan);
    bptt_net_free(net);
}

/* ------------------------------------------------------------------------ */
/* op: Network B on a gated core with the cell's options                     */
/* ------------------------------------------------------------------------ */

/* The options' arrays of one workspace (its own outputs). */
typedef struct opts {
    mat bhh, dbhh, c0, cT, dc0;
} opts;

/* Set the options on ws; the status of the cell-state setter (the bias
 * setter cannot fail on a gated core). */
static bptt_status set_opts(bptt_elman_workspace *ws, const opts *o,
                            size_t ldc)
{
    REQUIRE(bptt_elman_workspace_set_gated_bias(ws, o->bhh.p, o->dbhh.p)
                == BPTT_OK, "set_gated_bias: %s", bptt_error_detail());
    return bptt_elman_workspace_set_cell_state(ws, o->c0.p, ldc, o->cT.p,
                                               ldc, o->dc0.p, ldc);
}

void op_elman_gated(bytes *r)
{
    const bptt_cell cell = u8(r) & 1 ? BPTT_CELL_GRU : BPTT_CELL_LSTM;
    const size_t din = 1 + u8(r) % 4, dh = 1 + u8(r) % 4, m = din + dh;
    const size_t nout = 1 + u8(r) % 3, Tmax = 1 + u8(r) % 4,
                 Bmax = 1 + u8(r) % 3;
    const size_t G = bptt_gated_gates(cell), Gdh = G * dh;
    const bptt_algo algo = u8(r) & 1 ? BPTT_ALGO_DEFERRED : BPTT_ALGO_NAIVE;
    bptt_net *net = NULL;
    bptt_elman *el = NULL;
    bptt_elman_workspace *ws = NULL, *mirror = NULL;
    REQUIRE(bptt_net_create_uniform(din, dh, BPTT_ACT_TANH, NULL, &net)
                == BPTT_OK, "net");
    REQUIRE(bptt_elman_create_cell(cell, net, nout, BPTT_HEAD_LINEAR, &el)
                == BPTT_OK, "bptt_elman_create_cell: %s", bptt_error_detail());
    REQUIRE(bptt_elman_workspace_alloc(el, Tmax, Bmax, &ws) == BPTT_OK &&
                bptt_elman_workspace_alloc(el, Tmax, Bmax, &mirror)
                    == BPTT_OK, "elman workspaces");

    /* The options: each array present or not; a leading dimension one
     * short of dh; a cell state given to a GRU. */
    const unsigned o = u8(r);
    const int state = o & (4 | 8 | 16);
    const size_t ldc = o & 32 ? dh - 1 : dh + (o >> 6) % 2;
    arena oa = {0};
    opts mine = {mat_opt(&oa, r, o & 1, 1, Gdh, Gdh, 0.5),
                 mat_opt(&oa, r, o & 2, 1, Gdh, Gdh, 0),
                 mat_opt(&oa, r, o & 4, Bmax, dh, ldc ? ldc : 1, 0.8),
                 mat_opt(&oa, r, o & 8, Bmax, dh, ldc ? ldc : 1, 0),
                 mat_opt(&oa, r, o & 16, Bmax, dh, ldc ? ldc : 1, 0)};
    opts theirs = mine; /* the mirror's outputs are its own */
    arena ma = {0};
    theirs.dbhh = mat_copy(&ma, A, mine.dbhh);
    theirs.cT = mat_copy(&ma, A, mine.cT);
    theirs.dc0 = mat_copy(&ma, A, mine.dc0);
    unsigned faults = 0;
    if (state && cell == BPTT_CELL_GRU)
        faults |= BIT(BPTT_EINVAL);
    else if (state && ldc < dh)
        faults |= BIT(BPTT_ELD);
    arena_snapshot(&oa);
    mark_detail();
    bptt_status st = set_opts(ws, &mine, ldc);
    if (faults) {
        require_rejected(st, faults, "bptt_elman_workspace_set_cell_state",
                         &oa);
        /* refused: no cell state on either workspace */
        mine.c0.p = mine.cT.p = mine.dc0.p = NULL;
        theirs.c0.p = theirs.cT.p = theirs.dc0.p = NULL;
        REQUIRE(set_opts(ws, &mine, dh) == BPTT_OK, "options off");
    } else {
        REQUIRE(st == BPTT_OK, "set_cell_state: %s (%s)", bptt_strerror(st),
                bptt_error_detail());
    }
    REQUIRE(set_opts(mirror, &theirs, faults ? dh : ldc) == BPTT_OK,
            "mirror options: %s", bptt_error_detail());

    const int rounds = 1 + u8(r) % 2;
    for (int round = 0; round < rounds; round++) {
        const size_t T = 1 + u8(r) % (Tmax + 1), B = 1 + u8(r) % (Bmax + 1),
                     TB = T * B;
        const unsigned f = u8(r);
        arena c = {0}, ref = {0};
        const mat W = mat_new(&c, A, r, Gdh, m, m, 0.6, 0);
        const mat bh = mat_opt(&c, r, f & 1, 1, Gdh, Gdh, 0.3);
        const mat Wo = mat_new(&c, A, r, nout, dh, dh, 0.6, 0);
        const mat bo = mat_opt(&c, r, f & 2, 1, nout, nout, 0.3);
        const mat x = mat_new(&c, A, r, TB, din, din, 1, 0);
        const mat h0 = mat_opt(&c, r, f & 4, B, dh, dh, 0.5);
        const mat L = mat_new(&c, A, r, TB, nout, nout, 1, 0);
        const mat h = mat_new(&c, A, r, TB, dh, dh, 1, 0);
        double *E = arena_new(&c, sizeof *E);
        *E = -1;
        arena_snapshot(&c);
        arena_snapshot(&oa);
        mark_detail();
        st = bptt_elman_forward(el, T, B, W.p, m, bh.p, Wo.p, dh, bo.p, x.p,
                                din, h0.p, dh, NULL, L.p, nout, E, h.p, dh,
                                NULL, 0, algo, ws);
        if (T > Tmax || B > Bmax) {
            require_rejected(st, BIT(BPTT_ECAPACITY), "bptt_elman_forward",
                             &c);
            REQUIRE(arena_changed(&oa, NULL, NULL) < 0,
                    "a refused forward wrote an option's array");
            arena_free(&c);
            continue;
        }
        REQUIRE(st == BPTT_OK, "bptt_elman_forward: %s (%s)",
                bptt_strerror(st), bptt_error_detail());
        const mat hr = mat_dense(&ref, A, TB, dh);
        double Er = -1;
        REQUIRE(bptt_elman_forward(el, T, B, W.p, m, bh.p, Wo.p, dh, bo.p,
                                   x.p, din, h0.p, dh, NULL, L.p, nout, &Er,
                                   hr.p, dh, NULL, 0, BPTT_ALGO_NAIVE, mirror)
                    == BPTT_OK, "mirror forward: %s", bptt_error_detail());
        CLOSE("elman h", h, hr);
        REQUIRE(fabs(*E - Er) <= A->tol * (1 + fabs(Er)), "E %g against %g",
                *E, Er);
        if (mine.cT.p) {
            mat a1 = mine.cT, a2 = theirs.cT;
            a1.rows = a2.rows = B;
            CLOSE("elman c(T)", a1, a2);
        }
        HIT(H_LATER_COMPARED);

        const mat dW = mat_new(&c, A, r, Gdh, m, m, 0, 0);
        const mat dbh = mat_opt(&c, r, f & 8, 1, Gdh, Gdh, 0);
        const mat dWo = mat_new(&c, A, r, nout, dh, dh, 0, 0);
        const mat dx = mat_opt(&c, r, f & 16, TB, din, din, 0);
        const mat dh0 = mat_opt(&c, r, f & 32, B, dh, dh, 0);
        const mat dWr = mat_dense(&ref, A, Gdh, m),
                  dbhr = mat_copy(&ref, A, dbh),
                  dWor = mat_dense(&ref, A, nout, dh),
                  dxr = mat_copy(&ref, A, dx), dh0r = mat_copy(&ref, A, dh0);
        st = bptt_elman_backward(el, T, B, W.p, m, Wo.p, dh, NULL, L.p, nout,
                                 0, dW.p, m, dbh.p, dWo.p, dh, NULL, dx.p, din,
                                 dh0.p, dh, algo, ws);
        REQUIRE(st == BPTT_OK, "bptt_elman_backward: %s (%s)",
                bptt_strerror(st), bptt_error_detail());
        REQUIRE(bptt_elman_backward(el, T, B, W.p, m, Wo.p, dh, NULL, L.p,
                                    nout, 0, dWr.p, m, dbhr.p, dWor.p, dh,
                                    NULL, dxr.p, din, dh0r.p, dh,
                                    BPTT_ALGO_NAIVE, mirror) == BPTT_OK,
                "mirror backward: %s", bptt_error_detail());
        CLOSE("elman dW", dW, dWr);
        CLOSE("elman dWo", dWo, dWor);
        if (dbh.p)
            CLOSE("elman dbh", dbh, dbhr);
        if (dx.p)
            CLOSE("elman dx", dx, dxr);
        if (dh0.p)
            CLOSE("elman dh0", dh0, dh0r);
        if (mine.dbhh.p)
            CLOSE("elman dbhh", mine.dbhh, theirs.dbhh);
        if (mine.dc0.p) {
            mat a1 = mine.dc0, a2 = theirs.dc0;
            a1.rows = a2.rows = B;
            CLOSE("elman dc0", a1, a2);
        }
        HIT(H_BWD_COMPARED);
        arena_free(&c);
        arena_free(&ref);
    }
    arena_free(&oa);
    arena_free(&ma);
    bptt_elman_workspace_free(ws);
    bptt_elman_workspace_free(mirror);
    bptt_elman_free(el);
    bptt_net_free(net);
}
