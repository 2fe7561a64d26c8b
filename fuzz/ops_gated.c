/*
 * ops_gated.c — the fuzz op of the gated cells (bptt/gated.h;
 * fuzz/README.md): the workspace's size query (against the documented
 * formula) and alloc, then 1-3 rounds of forward and backward on it, every
 * algorithm code, optional arrays present or not, leading dimensions valid
 * or not, T and B within and past the capacity, the non-finite check on or
 * off, hostile values; the LSTM's c0, cT, dcT, dc0 also given to a GRU.
 * A refused call names its function and wrote nothing; an accepted one
 * wrote only its outputs (not their padding) and, on finite inputs, equals
 * the same call with BPTT_ALGO_NAIVE on a mirror workspace.
 */
#include "fuzz.h"

/* ------------------------------------------------------------------------ */
/* Both precisions behind one signature                                      */
/* ------------------------------------------------------------------------ */

static bptt_status g_size(const api *A, bptt_cell cell, size_t din, size_t n,
                          size_t T, size_t B, size_t *bytes)
{
    return A->r == sizeof(float)
               ? bpttf_gated_workspace_size(cell, din, n, T, B, bytes)
               : bptt_gated_workspace_size(cell, din, n, T, B, bytes);
}

static bptt_status g_alloc(const api *A, bptt_cell cell, size_t din,
                           size_t n, size_t T, size_t B, void **ws)
{
    if (A->r == sizeof(float)) {
        bpttf_gated_workspace *w = NULL;
        bptt_status st = bpttf_gated_workspace_alloc(cell, din, n, T, B, &w);
        *ws = w;
        return st;
    }
    bptt_gated_workspace *w = NULL;
    bptt_status st = bptt_gated_workspace_alloc(cell, din, n, T, B, &w);
    *ws = w;
    return st;
}

static void g_free(const api *A, void *ws)
{
    if (A->r == sizeof(float))
        bpttf_gated_workspace_free(ws);
    else
        bptt_gated_workspace_free(ws);
}

static void g_record(const api *A, void *ws, double *g, double *d)
{
    bptt_status st = A->r == sizeof(float)
                         ? bpttf_gated_workspace_record_flow(ws, g, d)
                         : bptt_gated_workspace_record_flow(ws, g, d);
    REQUIRE(st == BPTT_OK, "gated record_flow");
}

static void g_check(const api *A, void *ws, int on)
{
    bptt_status st = A->r == sizeof(float)
                         ? bpttf_gated_workspace_check_finite(ws, on)
                         : bptt_gated_workspace_check_finite(ws, on);
    REQUIRE(st == BPTT_OK, "gated check_finite");
}

/* The arrays of one forward and one backward. */
typedef struct fwd {
    size_t T, B;
    mat W, U, bx, bh, x, h0, c0, h, cT;
    bptt_algo algo;
} fwd;
typedef struct bwd {
    mat dh, dcT, dW, dU, dbx, dbh, dx, dh0, dc0;
    double beta;
    bptt_algo algo;
} bwd;

static bptt_status g_forward(const api *A, const fwd *f, void *ws)
{
    if (A->r == sizeof(float))
        return bpttf_gated_forward(f->T, f->B, f->W.p, f->W.ld, f->U.p,
                                   f->U.ld, f->bx.p, f->bh.p, f->x.p, f->x.ld,
                                   f->h0.p, f->h0.ld, f->c0.p, f->c0.ld,
                                   f->h.p, f->h.ld, f->cT.p, f->cT.ld,
                                   f->algo, ws);
    return bptt_gated_forward(f->T, f->B, f->W.p, f->W.ld, f->U.p, f->U.ld,
                              f->bx.p, f->bh.p, f->x.p, f->x.ld, f->h0.p,
                              f->h0.ld, f->c0.p, f->c0.ld, f->h.p, f->h.ld,
                              f->cT.p, f->cT.ld, f->algo, ws);
}

static bptt_status g_backward(const api *A, const fwd *f, const bwd *b,
                              void *ws)
{
    if (A->r == sizeof(float))
        return bpttf_gated_backward(
            f->T, f->B, f->W.p, f->W.ld, f->U.p, f->U.ld, b->dh.p, b->dh.ld,
            b->dcT.p, b->dcT.ld, (float)b->beta, b->dW.p, b->dW.ld, b->dU.p,
            b->dU.ld, b->dbx.p, b->dbh.p, b->dx.p, b->dx.ld, b->dh0.p,
            b->dh0.ld, b->dc0.p, b->dc0.ld, b->algo, ws);
    return bptt_gated_backward(
        f->T, f->B, f->W.p, f->W.ld, f->U.p, f->U.ld, b->dh.p, b->dh.ld,
        b->dcT.p, b->dcT.ld, b->beta, b->dW.p, b->dW.ld, b->dU.p, b->dU.ld,
        b->dbx.p, b->dbh.p, b->dx.p, b->dx.ld, b->dh0.p, b->dh0.ld, b->dc0.p,
        b->dc0.ld, b->algo, ws);
}

/* ------------------------------------------------------------------------ */
/* The size formula of bptt_gated_workspace_size, header aside               */
/* ------------------------------------------------------------------------ */

/* The bytes after the header, in 128 bits; 0 where the call must report
 * BPTT_EOVERFLOW (a count past size_t or a BLAS dimension past INT_MAX). */
static u128 gated_formula(size_t r, int lstm, size_t G, size_t din, size_t n,
                          size_t Tmax, size_t Bmax)
{
    const u128 R = (u128)Tmax * Bmax, Gn = (u128)G * n, p = 128 / r;
    const u128 wide = din > Gn ? din : Gn;
    u128 kc = wide > R ? wide : R;
    kc = kc < 512 ? kc : 512;
    if (R * Gn > INT_MAX || Gn * wide > INT_MAX)
        return 0;
    u128 b = up64(r * R * din) + up64(r * (R + Bmax) * n) * (lstm ? 2 : 1) +
             up64(r * R * n) * (lstm ? 1 : 2) + 2 * up64(r * R * Gn) +
             2 * up64(r * Bmax * n) + up64(r * Gn * p * ((n + p - 1) / p)) +
             up64(r * kc * (p * ((wide + p - 1) / p) + Gn));
    return b > (u128)SIZE_MAX / 2 ? 0 : b;
}

/* ------------------------------------------------------------------------ */
/* op                                                                        */
/* ------------------------------------------------------------------------ */

/* An optional rows x cols array: absent when off, else at a picked ld;
 * its fault if present. */
static mat opt_mat(arena *a, const api *A, bytes *r, int on, size_t rows,
                   size_t cols, int hostile, double scale, unsigned *faults)
{
    if (!on)
        return (mat){0};
    const size_t ld = pick_small_ld(r, cols);
    *faults |= ld_fault(ld, cols) |
               (extent_ok(A, rows, ld) ? 0 : BIT(BPTT_EOVERFLOW));
    return mat_new(a, A, r, rows, cols, ld, scale, hostile);
}

static int finite_all(const api *A, const mat *m, int k)
{
    for (int i = 0; i < k; i++)
        if (!mat_finite(A, m[i]))
            return 0;
    return 1;
}

/* Finite and bounded by 1e6: the inputs whose results are compared. */
static int tame_all(const api *A, const mat *m, int k)
{
    for (int i = 0; i < k; i++)
        if (!mat_tame(A, m[i]))
            return 0;
    return 1;
}

void op_gated(bytes *r)
{
    const api *A = &apis[u8(r) & 1];
    char fn[64];
    static const int odd_cells[4] = {BPTT_CELL_VANILLA, BPTT_NCELL, -1, 99};
    const unsigned csel = u8(r);
    const bptt_cell cell = csel < 240 ? (csel & 1 ? BPTT_CELL_GRU
                                                  : BPTT_CELL_LSTM)
                                      : (bptt_cell)odd_cells[csel % 4];
    const int lstm = cell == BPTT_CELL_LSTM;
    const size_t G = bptt_gated_gates(cell);
    const size_t din = pick_small(r, 4), n = pick_small(r, 5);
    const size_t Tmax = pick_small(r, 4), Bmax = pick_small(r, 3);

    /* the size query against the formula */
    unsigned faults = 0;
    if (!G)
        faults |= BIT(BPTT_EINVAL);
    if (!din || !n || !Tmax || !Bmax)
        faults |= BIT(BPTT_ESIZE);
    const u128 want = faults ? 0
                             : gated_formula(A->r, lstm, G, din, n, Tmax,
                                             Bmax);
    if (!faults && !want)
        faults |= BIT(BPTT_EOVERFLOW);
    fname(A, "gated_workspace_size", fn);
    size_t bytes = 12345;
    mark_detail();
    bptt_status st = g_size(A, cell, din, n, Tmax, Bmax, &bytes);
    trace("%s(%d, %zu, %zu, %zu, %zu) = %s\n", fn, (int)cell, din, n, Tmax,
          Bmax, bptt_strerror(st));
    if (faults) {
        arena none = {0};
        require_rejected(st, faults, fn, &none);
        REQUIRE(bytes == 12345, "%s wrote bytes on error", fn);
        void *ws = (void *)1;
        fname(A, "gated_workspace_alloc", fn);
        mark_detail();
        st = g_alloc(A, cell, din, n, Tmax, Bmax, &ws);
        require_rejected(st, faults, fn, &none);
        HIT(H_OTHER_REJECTED);
        return;
    }
    /* 64 for alignment and the struct's slot: a multiple of 64 up to 512 */
    REQUIRE(st == BPTT_OK && bytes >= want + 128 && bytes <= want + 576 &&
                (bytes - want) % 64 == 0,
            "%s = %zu, formula %zu + header", fn, bytes, (size_t)want);
    void *ws = NULL, *mirror = NULL;
    REQUIRE(g_alloc(A, cell, din, n, Tmax, Bmax, &ws) == BPTT_OK &&
                g_alloc(A, cell, din, n, Tmax, Bmax, &mirror) == BPTT_OK,
            "gated alloc of %zu bytes", bytes);
    HIT(H_OTHER_CHECKED);

    const size_t Gn = G * n;
    fwd kept = {0};   /* the last accepted forward; T = 0: none */
    int kept_tame = 0; /* its inputs were finite */
    arena a = {0}, ref = {0};
    const int rounds = 1 + u8(r) % 3;
    for (int round = 0; round < rounds; round++) {
        /* ---- forward ---- */
        const unsigned fl = u8(r);
        const int hostile = fl & F_HOSTILE, check = fl & F_CHECK;
        fwd f = {0};
        f.T = pick_count(r, Tmax), f.B = pick_count(r, Bmax);
        f.algo = pick_algo(r);
        unsigned ff = count_fault(f.T, f.B, Tmax, Bmax);
        if (!algo_ok(f.algo) || f.algo == BPTT_ALGO_GEMV_GER)
            ff |= BIT(BPTT_EALGO);
        const size_t T = clampc(f.T, Tmax), B = clampc(f.B, Bmax);
        const size_t TB = T * B;
        const unsigned nulls = (u8(r) & 0xF0) == 0xF0 ? u8(r) : 0;
        f.W = opt_mat(&a, A, r, 1, Gn, din, hostile, 0.6, &ff);
        f.U = opt_mat(&a, A, r, 1, Gn, n, hostile, 0.6, &ff);
        f.bx = fl & F_BIAS ? mat_new(&a, A, r, 1, Gn, Gn, 0.3, hostile)
                           : (mat){0};
        f.bh = fl & 32 ? mat_new(&a, A, r, 1, Gn, Gn, 0.3, hostile) : (mat){0};
        f.x = opt_mat(&a, A, r, 1, TB, din, hostile, 1, &ff);
        f.h0 = opt_mat(&a, A, r, fl & F_Y0, B, n, hostile, 0.5, &ff);
        f.c0 = opt_mat(&a, A, r, fl & 64, B, n, hostile, 0.5, &ff);
        f.h = opt_mat(&a, A, r, 1, TB, n, 0, 1, &ff);
        f.cT = opt_mat(&a, A, r, fl & 128, B, n, 0, 1, &ff);
        if (nulls & 1)
            f.W.p = NULL;
        if (nulls & 2)
            f.U.p = NULL;
        if (nulls & 4)
            f.x.p = NULL;
        if (nulls & 8)
            f.h.p = NULL;
        if (nulls & 15)
            ff |= BIT(BPTT_ENULL);
        if (!lstm && (f.c0.p || f.cT.p))
            ff |= BIT(BPTT_EINVAL);
        const mat fin[7] = {f.W, f.U, f.bx, f.bh, f.x, f.h0, f.c0};
        const int tame = tame_all(A, fin, 7);
        if (check && !finite_all(A, fin, 7))
            ff |= BIT(BPTT_ENONFINITE);
        g_check(A, ws, check);
        fname(A, "gated_forward", fn);
        trace("%s T %zu B %zu algo %d flags 0x%x nulls 0x%x\n", fn, f.T, f.B,
              (int)f.algo, fl, nulls);
        arena_snapshot(&a);
        mark_detail();
        st = g_forward(A, &f, ws);
        if (ff) {
            require_rejected(st, ff, fn, &a);
            HIT(H_FWD_REJECTED);
        } else {
            REQUIRE(st == BPTT_OK || (check && st == BPTT_ENONFINITE),
                    "%s: valid call gave %s (%s)", fn, bptt_strerror(st),
                    bptt_error_detail());
            HIT(H_FWD_ACCEPTED);
            void *outs[2] = {f.h.p, f.cT.p};
            require_only(&a, outs, 2, fn);
            REQUIRE(padding_kept(A, &a, f.h) && padding_kept(A, &a, f.cT),
                    "%s wrote padding", fn);
            /* bounded gates: finite inputs give finite h and c(T) */
            REQUIRE(!tame || (mat_finite(A, f.h) && mat_finite(A, f.cT)),
                    "%s: finite inputs, non-finite result", fn);
            kept = f, kept_tame = tame;
            /* the mirror runs naive on the same inputs */
            fwd m = f;
            m.algo = BPTT_ALGO_NAIVE;
            m.h = mat_copy(&ref, A, f.h);
            m.cT = mat_copy(&ref, A, f.cT);
            g_check(A, mirror, 0);
            REQUIRE(g_forward(A, &m, mirror) == BPTT_OK, "mirror forward");
            if (tame) {
                REQUIRE(mat_close(A, f.h, m.h, A->tol), "%s h: %s", fn, why);
                REQUIRE(!f.cT.p || mat_close(A, f.cT, m.cT, A->tol),
                        "%s cT: %s", fn, why);
                HIT(H_FWD_COMPARED);
            }
        }

        /* ---- backward ---- */
        const unsigned bl = u8(r);
        const int bhostile = bl & 4, bcheck = bl & F_CHECK_B;
        bwd b = {0};
        b.algo = pick_algo(r);
        b.beta = pick_beta(r, A, bhostile);
        const size_t bT = u8(r) % 8 == 0 ? pick_count(r, Tmax)
                                          : (kept.T ? kept.T : f.T);
        const size_t bB = kept.T ? kept.B : f.B;
        unsigned bf = count_fault(bT, bB, Tmax, Bmax);
        if (!algo_ok(b.algo) || b.algo == BPTT_ALGO_GEMV_GER)
            bf |= BIT(BPTT_EALGO);
        if (!kept.T || kept.T != bT || kept.B != bB)
            bf |= BIT(BPTT_ENOFORWARD);
        if (!isfinite(b.beta))
            bf |= BIT(BPTT_EINVAL);
        const size_t T2 = clampc(bT, Tmax), B2 = clampc(bB, Bmax);
        const unsigned outs_on = u8(r); /* one bit per optional output */
        fwd bfw = kept.T ? kept : f; /* W and U of the kept forward */
        bfw.T = bT, bfw.B = bB;
        if (!kept.T) {
            bfw.W = opt_mat(&a, A, r, 1, Gn, din, 0, 0.6, &bf);
            bfw.U = opt_mat(&a, A, r, 1, Gn, n, 0, 0.6, &bf);
        }
        b.dh = opt_mat(&a, A, r, 1, T2 * B2, n, bhostile, 1, &bf);
        b.dcT = opt_mat(&a, A, r, outs_on & 1, B2, n, bhostile, 1, &bf);
        const double fill = bl & F_GARBAGE ? NAN : 0.25;
        b.dW = opt_mat(&a, A, r, outs_on & 2, Gn, din, 0, 1, &bf);
        b.dU = opt_mat(&a, A, r, outs_on & 4, Gn, n, 0, 1, &bf);
        b.dbx = outs_on & 8 ? mat_new(&a, A, r, 1, Gn, Gn, 1, 0) : (mat){0};
        b.dbh = outs_on & 16 ? mat_new(&a, A, r, 1, Gn, Gn, 1, 0) : (mat){0};
        b.dx = opt_mat(&a, A, r, outs_on & 32, T2 * B2, din, 0, 1, &bf);
        b.dh0 = opt_mat(&a, A, r, outs_on & 64, B2, n, 0, 1, &bf);
        b.dc0 = opt_mat(&a, A, r, outs_on & 128, B2, n, 0, 1, &bf);
        mat outs[7] = {b.dW, b.dU, b.dbx, b.dbh, b.dx, b.dh0, b.dc0};
        if (bl & F_GARBAGE && b.beta == 0)
            for (int k = 0; k < 7; k++)
                for (size_t i = 0; outs[k].p && i < outs[k].rows; i++)
                    for (size_t j = 0; j < outs[k].cols; j++)
                        A->set(outs[k].p, i * outs[k].sld + j, fill);
        if (bl & 128)
            b.dh.p = NULL, bf |= BIT(BPTT_ENULL);
        if (!lstm && (b.dcT.p || b.dc0.p))
            bf |= BIT(BPTT_EINVAL);
        const mat bin[4] = {bfw.W, bfw.U, b.dh, b.dcT};
        const int btame = tame_all(A, bin, 4) && kept_tame;
        if (bcheck && !finite_all(A, bin, 4))
            bf |= BIT(BPTT_ENONFINITE);
        g_check(A, ws, bcheck);
        /* the error flow, sometimes: the caller's arrays, outside the
         * arena (a refused call must not write them either) */
        const int rec = (bl & 0x18) == 0x18;
        double *fg = NULL, *fd = NULL;
        if (rec) {
            fg = malloc(Tmax * Bmax * sizeof *fg);
            fd = malloc(Tmax * Bmax * sizeof *fd);
            for (size_t i = 0; i < Tmax * Bmax; i++)
                fg[i] = fd[i] = -1;
        }
        g_record(A, ws, fg, fd);
        fname(A, "gated_backward", fn);
        trace("%s T %zu B %zu algo %d beta %g flags 0x%x outs 0x%x\n", fn, bT,
              bB, (int)b.algo, b.beta, bl, outs_on);
        arena_snapshot(&a);
        mark_detail();
        st = g_backward(A, &bfw, &b, ws);
        if (bf) {
            require_rejected(st, bf, fn, &a);
            for (size_t i = 0; rec && i < Tmax * Bmax; i++)
                REQUIRE(fg[i] == -1 && fd[i] == -1, "%s wrote the flow", fn);
            free(fg), free(fd);
            HIT(H_BWD_REJECTED);
            continue;
        }
        REQUIRE(st == BPTT_OK || (bcheck && st == BPTT_ENONFINITE),
                "%s: valid call gave %s (%s)", fn, bptt_strerror(st),
                bptt_error_detail());
        HIT(H_BWD_ACCEPTED);
        void *op[7];
        for (int k = 0; k < 7; k++)
            op[k] = outs[k].p;
        require_only(&a, op, 7, fn);
        for (int k = 0; k < 7; k++)
            REQUIRE(padding_kept(A, &a, outs[k]), "%s wrote padding", fn);
        if (!btame || bcheck || !isfinite(b.beta) || fabs(b.beta) > 2) {
            free(fg), free(fd);
            continue;
        }
        /* the naive backward on the mirror, from the same starting values */
        bwd m = b;
        m.algo = BPTT_ALGO_NAIVE;
        mat *mo[7] = {&m.dW, &m.dU, &m.dbx, &m.dbh, &m.dx, &m.dh0, &m.dc0};
        for (int k = 0; k < 7; k++)
            *mo[k] = mat_snap_copy(&ref, A, &a, outs[k]);
        double *mg = rec ? malloc(Tmax * Bmax * sizeof *mg) : NULL;
        double *md = rec ? malloc(Tmax * Bmax * sizeof *md) : NULL;
        g_record(A, mirror, mg, md);
        REQUIRE(g_backward(A, &bfw, &m, mirror) == BPTT_OK, "mirror backward");
        g_record(A, mirror, NULL, NULL);
        for (int k = 0; k < 7; k++)
            REQUIRE(!outs[k].p || mat_close(A, outs[k], *mo[k], A->tol),
                    "%s output %d: %s", fn, k, why);
        /* the recorded norms: every row of the call, as naive's */
        for (size_t i = 0; rec && i < bT * bB; i++)
            REQUIRE(fabs(fg[i] - mg[i]) <= A->tol * (1 + mg[i]) &&
                        fabs(fd[i] - md[i]) <= A->tol * (1 + md[i]),
                    "%s: flow row %zu: %g, %g; naive %g, %g", fn, i, fg[i],
                    fd[i], mg[i], md[i]);
        free(fg), free(fd), free(mg), free(md);
        HIT(H_BWD_COMPARED);
    }
    arena_free(&a);
    arena_free(&ref);
    g_record(A, ws, NULL, NULL);
    g_free(A, ws);
    g_free(A, mirror);
    /* the accessors and frees of NULL */
    REQUIRE(bptt_gated_workspace_cell(NULL) == BPTT_NCELL &&
                bpttf_gated_workspace_cell(NULL) == BPTT_NCELL &&
                bptt_gated_workspace_din(NULL) == 0 &&
                bptt_gated_workspace_n(NULL) == 0 &&
                bptt_gated_workspace_threads(NULL) == 0 &&
                bptt_plan_gated_workspace(NULL) == NULL &&
                bptt_elman_cell(NULL) == BPTT_NCELL,
            "gated NULL accessors");
    REQUIRE(bptt_gated_workspace_record_flow(NULL, NULL, NULL) == BPTT_ENULL &&
                bptt_gated_workspace_check_finite(NULL, 1) == BPTT_ENULL &&
                bptt_gated_workspace_set_threads(NULL, 1) == BPTT_ENULL,
            "gated NULL workspace");
    bptt_gated_workspace_free(NULL);
    bpttf_gated_workspace_free(NULL);
}
