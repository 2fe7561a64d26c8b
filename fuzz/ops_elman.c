/*
 * ops_elman.c — the fuzz ops of Network B: its descriptor and workspace,
 * forward and backward (both heads, every algorithm, both precisions)
 * (fuzz/README.md).
 */
#include "fuzz.h"

/* ------------------------------------------------------------------------ */
/* op: Network B's descriptor and workspace                                  */
/* ------------------------------------------------------------------------ */

/* The documented size (bptt/elman.h) in 128 bits, 0 if it overflows. */
static size_t elman_formula(size_t r, size_t T, size_t B, size_t m, size_t dh,
                            size_t nout)
{
    const size_t core = formula(r, T, B, m, dh);
    if (!core)
        return 0;
    const u128 rows = (u128)T * B;
    const u128 total = (u128)core + 256 + 2 * up64(rows * nout * r) +
                       2 * up64(rows * dh * r);
    return total > (u128)SIZE_MAX ? 0 : (size_t)total;
}

void op_elman_ws(bytes *r)
{
    const api *A = &apis[u8(r) & 1];
    /* a small core, or one with din + dh up to INT_MAX */
    const unsigned v = u8(r);
    const size_t dh = 1 + u8(r) % 16;
    const size_t din = v & 1 ? (size_t)INT_MAX - dh - u8(r) : 1 + u8(r) % 16;
    bptt_net *net = NULL;
    REQUIRE(bptt_net_create_uniform(din, dh, BPTT_ACT_TANH, NULL, &net) ==
                BPTT_OK, "net");
    const size_t nout = pick_dim(r);
    const unsigned hv = u8(r) % 8, nulls = u8(r);
    static const int bad_head[] = {BPTT_NHEAD, -1};
    const bptt_head head = hv < 6 ? (bptt_head)(hv % BPTT_NHEAD)
                                  : (bptt_head)bad_head[hv - 6];
    unsigned faults = 0;
    if ((nulls & 0x0F) == 0x0F)
        faults |= BIT(BPTT_ENULL);
    if (nout == 0)
        faults |= BIT(BPTT_ESIZE);
    else if (nout > (size_t)INT_MAX)
        faults |= BIT(BPTT_EOVERFLOW);
    if ((unsigned)head >= BPTT_NHEAD)
        faults |= BIT(BPTT_EINVAL);
    bptt_elman *sentinel = (bptt_elman *)&faults, *el = sentinel;
    mark_detail();
    bptt_status st = bptt_elman_create((nulls & 0x1F) == 0x0F ? NULL : net,
                                       nout, head,
                                       (nulls & 0x1F) == 0x1F ? NULL : &el);
    if (faults) {
        REQUIRE(st != BPTT_OK && (faults >> st & 1u),
                "bptt_elman_create: %s, faults 0x%x", bptt_strerror(st),
                faults);
        REQUIRE(strncmp(bptt_error_detail(), "bptt_elman_create", 17) == 0,
                "bptt_elman_create: detail \"%s\"", bptt_error_detail());
        REQUIRE(el == sentinel, "bptt_elman_create wrote *el on error");
        HIT(H_LATER_REJECTED);
        bptt_net_free(net);
        return;
    }
    REQUIRE(st == BPTT_OK, "bptt_elman_create: %s", bptt_strerror(st));
    REQUIRE(bptt_elman_net(el) == net && bptt_elman_nout(el) == nout &&
                bptt_elman_head(el) == head, "bptt_elman accessors");
    /* the workspace of the descriptor, through the family check */
    const size_t Tmax = pick_count(r, 8), Bmax = pick_count(r, 8);
    const bptt_elman *cel = (u8(r) & 0x0F) == 0x0F ? NULL : el;
    faults = 0;
    if (!cel)
        faults |= BIT(BPTT_ENULL);
    if (!Tmax || !Bmax)
        faults |= BIT(BPTT_ESIZE);
    const size_t want = elman_formula(A->r, Tmax, Bmax, din + dh, dh, nout);
    if (Tmax && Bmax && !want)
        faults |= BIT(BPTT_EOVERFLOW);
    const family F = {{"elman_workspace_size", "elman_workspace_alloc",
                       "elman_workspace_init"},
                      A->el_size, A->el_alloc, A->el_init, A->el_free};
    check_family(r, A, &F, cel, Tmax, Bmax, want, faults);
    bptt_elman_free(el);
    bptt_net_free(net);
}

/* ------------------------------------------------------------------------ */
/* op: Network B, forward and backward (both heads, every algorithm)         */
/* ------------------------------------------------------------------------ */

/* The targets of an Elman call over rows steps — class labels, soft or
 * regression labels L, both or none, valid or not — and the statuses they
 * earn with the head (bptt/elman.h). */
typedef struct targets {
    int *labels;
    mat L;
    size_t ldl;
    unsigned faults;
    int tame; /* valid, finite and bounded */
} targets;

static targets pick_targets(bytes *r, arena *a, const api *A, bptt_head head,
                            size_t rows, size_t nout)
{
    targets tg = {0};
    const unsigned kind = u8(r), k = kind % 8;
    const int soft = head == BPTT_HEAD_SOFTMAX, hostile = (kind & 0x30) == 0x30;
    const int bad = (kind & 0xC0) == 0xC0;
    const int with_labels = soft ? k < 3 || k == 6 : k == 6;
    const int with_L = soft ? (k >= 3 && k < 6) || k == 6 : k < 6;
    tg.ldl = pick_ld(r, rows, nout);
    int labels_ok = 1;
    if (with_labels) {
        tg.labels = arena_new(a, rows * sizeof(int));
        for (size_t i = 0; i < rows; i++) {
            const unsigned v = u8(r);
            static const int wrong[] = {-2, INT_MIN, INT_MAX, 0};
            int lab = v % 8 == 7 ? BPTT_IGNORE_LABEL : (int)(v % nout);
            if (bad && v >= 224)
                lab = v % 4 == 3 ? (int)nout : wrong[v % 4];
            tg.labels[i] = lab;
            labels_ok &= lab == BPTT_IGNORE_LABEL ||
                         (lab >= 0 && (size_t)lab < nout);
        }
    }
    if (with_L) {
        tg.L = mat_new(a, A, r, rows, nout, tg.ldl, 1, hostile);
        /* soft labels: the bounded values made >= 0 (the hostile ones
         * keep their sign: −Inf, −max, NaN must be refused) */
        const size_t n = (tg.L.rows - 1) * tg.L.sld + tg.L.cols;
        for (size_t i = 0; soft && i < n; i++)
            if (fabs(A->get(tg.L.p, i)) <= 1)
                A->set(tg.L.p, i, fabs(A->get(tg.L.p, i)));
    }
    if (!soft) {
        tg.faults = tg.labels ? BIT(BPTT_EINVAL)
                    : !with_L ? BIT(BPTT_ENULL)
                              : ld_fault(tg.ldl, nout);
    } else if (tg.labels && tg.L.p) {
        tg.faults = BIT(BPTT_EINVAL);
    } else if (!tg.labels && !tg.L.p) {
        tg.faults = BIT(BPTT_ENULL);
    } else if (tg.labels) {
        tg.faults = labels_ok ? 0 : BIT(BPTT_EINVAL);
    } else if (!(tg.faults = ld_fault(tg.ldl, nout))) {
        for (size_t i = 0; i < rows; i++)
            for (size_t j = 0; j < nout; j++) {
                const double v = mat_get(A, tg.L, i, j);
                if (!(v >= 0) || isinf(v))
                    tg.faults = BIT(BPTT_EINVAL);
            }
    }
    tg.tame = !tg.faults && (!tg.L.p || mat_amax(A, tg.L) <= 1) &&
              mat_finite(A, tg.L);
    return tg;
}

/* The loss of the head from y (bptt/elman.h), by the harness in long
 * double: −Σ lᵀ log y (softmax, labels or L) or ½ Σ ‖y − l‖² (linear). */
static double head_loss(const api *A, bptt_head head, size_t rows,
                        size_t nout, mat y, const targets *tg)
{
    long double E = 0;
    for (size_t k = 0; k < rows; k++)
        for (size_t j = 0; j < nout; j++) {
            const long double yj = mat_get(A, y, k, j);
            if (head == BPTT_HEAD_LINEAR) {
                const long double e = yj - mat_get(A, tg->L, k, j);
                E += e * e / 2;
            } else if (tg->labels) {
                E -= tg->labels[k] == (int)j ? logl(yj) : 0;
            } else {
                const long double l = mat_get(A, tg->L, k, j);
                E -= l != 0 ? l * logl(yj) : 0;
            }
        }
    return (double)E;
}

/* The inputs of the forward kept in the Elman workspace. */
typedef struct ekept {
    int have, bounded;
    size_t T, B;
    mat W, bh, Wo, bo, x, h0;
} ekept;

/* Option bits of an Elman forward round, and of its backward. */
enum {
    E_BH = 1, E_BO = 2, E_H0 = 4, E_H = 8, E_Y = 16, E_LOSS = 32,
    E_HOSTILE = 64, E_MISMATCH = 128,
    EB_NEW_TB = 3, EB_GARBAGE = 4, EB_MISMATCH = 8, EB_NO_DBH = 16,
    EB_NO_DBO = 32, EB_NO_DX = 64, EB_NO_DH0 = 128
};

/* A run of 1 to 3 rounds of Elman forward and backward on one workspace,
 * against BPTT_ALGO_NAIVE (whose readout and head are loops too), the
 * softmax's rows summing to 1 and the loss recomputed from y. */
static void elman(bytes *r, const api *A)
{
    char fnf[64], fnb[64];
    fname(A, "elman_forward", fnf);
    fname(A, "elman_backward", fnb);
    arena a = {0}, ref = {0};
    const size_t din = 1 + u8(r) % 6, dh = 1 + u8(r) % 6, m = din + dh;
    const size_t nout = 1 + u8(r) % 6;
    bptt_activation act[6];
    for (size_t i = 0; i < dh; i++)
        act[i] = (bptt_activation)(u8(r) % BPTT_NACTIVATION);
    const bptt_head head = (bptt_head)(u8(r) % BPTT_NHEAD);
    bptt_net *net = NULL;
    bptt_elman *el = NULL, *other = NULL;
    REQUIRE(bptt_net_create(din, dh, act, &custom, &net) == BPTT_OK, "net");
    REQUIRE(bptt_elman_create(net, nout, head, &el) == BPTT_OK &&
                bptt_elman_create(net, nout, head, &other) == BPTT_OK,
            "elman");
    const size_t Tmax = 1 + u8(r) % 5, Bmax = 1 + u8(r) % 4;
    size_t bytes_ws = 0;
    REQUIRE(A->el_size(el, Tmax, Bmax, &bytes_ws) == BPTT_OK, "size");
    const size_t off = u8(r) % 64;
    unsigned char *wsbuf = arena_new(&a, bytes_ws + off);
    void *ws = NULL, *rws = NULL;
    REQUIRE(A->el_init(el, Tmax, Bmax, wsbuf + off, bytes_ws, &ws) == BPTT_OK,
            "init");
    REQUIRE(A->el_alloc(el, Tmax, Bmax, &rws) == BPTT_OK, "alloc");
    const double sum_tol = A->r == sizeof(float) ? 1e-5 : 1e-13;
    ekept k = {0};
    const unsigned rounds = 1 + u8(r) % 3;

    for (unsigned round = 0; round < rounds; round++) {
    /* ---- forward ---- */
    const unsigned opt = u8(r);
    const unsigned nulls = (u8(r) & 0xE0) == 0xE0 ? u8(r) : 0;
    const int hostile = (opt & E_HOSTILE) != 0;
    const size_t T = pick_count(r, Tmax), B = pick_count(r, Bmax);
    const size_t TB = clampc(T, Tmax) * clampc(B, Bmax);
    const size_t ldw = pick_ld(r, dh, m), ldwo = pick_ld(r, nout, dh);
    const size_t ldx = pick_ld(r, TB, din), ldh0 = pick_ld(r, clampc(B, Bmax), dh);
    const size_t ldh = pick_ld(r, TB, dh), ldy = pick_ld(r, TB, nout);
    const bptt_algo fa = pick_algo(r);
    mat W = mat_new(&a, A, r, dh, m, ldw, 1.0 / (double)m, hostile);
    mat Wo = mat_new(&a, A, r, nout, dh, ldwo, 1, hostile);
    mat bh = {0}, bo = {0}, h0 = {0}, h = {0}, y = {0};
    if (opt & E_BH)
        bh = mat_new(&a, A, r, 1, dh, dh, 1, hostile);
    if (opt & E_BO)
        bo = mat_new(&a, A, r, 1, nout, nout, 1, hostile);
    mat x = mat_new(&a, A, r, TB, din, ldx, 1, hostile);
    if (opt & E_H0)
        h0 = mat_new(&a, A, r, clampc(B, Bmax), dh, ldh0, 1, hostile);
    if (opt & E_H)
        h = mat_new(&a, A, r, TB, dh, ldh, 1, 1);
    if (opt & E_Y)
        y = mat_new(&a, A, r, TB, nout, ldy, 1, 1);
    const targets tg = pick_targets(r, &a, A, head, TB, nout);
    double *E = opt & E_LOSS ? arena_new(&a, sizeof(double)) : NULL;
    if (E)
        *E = 4321;

    const bptt_elman *cel = nulls & 1 ? NULL : opt & E_MISMATCH ? other : el;
    void *cws = nulls & 2 ? NULL : ws;
    const void *cW = nulls & 4 ? NULL : W.p, *cWo = nulls & 8 ? NULL : Wo.p;
    const void *cx = nulls & 16 ? NULL : x.p;
    unsigned faults = count_fault(T, B, Tmax, Bmax);
    if (!cel || !cws)
        faults |= BIT(BPTT_ENULL);
    else if (cel != el)
        faults |= BIT(BPTT_EMISMATCH);
    if (!algo_ok(fa))
        faults |= BIT(BPTT_EALGO);
    faults |= cW ? ld_fault(ldw, m) : BIT(BPTT_ENULL);
    faults |= cWo ? ld_fault(ldwo, dh) : BIT(BPTT_ENULL);
    faults |= cx ? ld_fault(ldx, din) : BIT(BPTT_ENULL);
    if (h0.p)
        faults |= ld_fault(ldh0, dh);
    if (h.p)
        faults |= ld_fault(ldh, dh);
    if (y.p)
        faults |= ld_fault(ldy, nout);
    if (E)
        faults |= tg.faults;

    trace("round %u %s: din %zu dh %zu nout %zu head %d, ws %zu x %zu, "
          "opt 0x%x nulls 0x%x, T %zu B %zu algo %d, targets faults 0x%x\n",
          round, fnf, din, dh, nout, (int)head, Tmax, Bmax, opt, nulls, T, B,
          (int)fa, tg.faults);
    arena_snapshot(&a);
    mark_detail();
    bptt_status st = A->el_forward(cel, T, B, cW, ldw, bh.p, cWo, ldwo, bo.p,
                                   cx, ldx, h0.p, ldh0, tg.labels, tg.L.p,
                                   tg.ldl, E, h.p, ldh, y.p, ldy, fa, cws);
    if (faults) {
        require_rejected(st, faults, fnf, &a);
        HIT(H_LATER_REJECTED);
    } else {
        HIT(H_LATER_ACCEPTED);
        REQUIRE(st == BPTT_OK, "%s: valid call gave %s", fnf,
                bptt_strerror(st));
        void *const outs[] = {h.p, y.p, E, wsbuf};
        require_only(&a, outs, 4, fnf);
        REQUIRE(padding_kept(A, &a, h) && padding_kept(A, &a, y),
                "%s wrote an output's padding", fnf);
        if (!hostile && (!E || tg.tame)) {
            REQUIRE(mat_finite(A, h) && mat_finite(A, y) &&
                        (!E || isfinite(*E)), "%s: bounded inputs, results "
                    "not finite", fnf);
            mat hr = mat_dense(&ref, A, TB, dh), yr = mat_dense(&ref, A, TB, nout);
            double Er = 0;
            REQUIRE(A->el_forward(el, T, B, W.p, ldw, bh.p, Wo.p, ldwo, bo.p,
                                  x.p, ldx, h0.p, ldh0, tg.labels, tg.L.p,
                                  tg.ldl, E ? &Er : NULL, hr.p, dh, yr.p,
                                  nout, BPTT_ALGO_NAIVE, rws) == BPTT_OK,
                    "naive forward: %s", bptt_error_detail());
            if (h.p)
                REQUIRE(mat_close(A, h, hr, A->tol), "%s (%s) h%s", fnf,
                        bptt_algo_name(fa), why);
            if (y.p)
                REQUIRE(mat_close(A, y, yr, A->tol), "%s (%s) y%s", fnf,
                        bptt_algo_name(fa), why);
            if (E) {
                REQUIRE(fabs(*E - Er) <= A->tol * (1 + fabs(Er)),
                        "%s (%s): E %.17g, naive %.17g", fnf,
                        bptt_algo_name(fa), *E, Er);
                const double Eh = head_loss(A, head, TB, nout, yr, &tg);
                REQUIRE(fabs(Er - Eh) <= A->tol * (1 + fabs(Eh)),
                        "%s: E %.17g, from y %.17g", fnf, Er, Eh);
            }
            /* a softmax row is a distribution */
            for (size_t i = 0; head == BPTT_HEAD_SOFTMAX && i < TB; i++) {
                double s = 0;
                for (size_t j = 0; j < nout; j++) {
                    const double p = mat_get(A, yr, i, j);
                    REQUIRE(p >= 0 && p <= 1, "%s: y[%zu][%zu] = %g", fnf, i,
                            j, p);
                    s += p;
                }
                REQUIRE(fabs(s - 1) <= sum_tol * (double)nout,
                        "%s: row %zu of y sums to %.17g", fnf, i, s);
            }
            HIT(H_LATER_COMPARED);
        }
        k = (ekept){1, !hostile, T, B, W, bh, Wo, bo, x, h0};
    }

    /* ---- backward, after the forward kept in ws (or none) ---- */
    const unsigned bopt = u8(r);
    const unsigned bnulls = (u8(r) & 0xE0) == 0xE0 ? u8(r) : 0;
    const size_t Tb = bopt & EB_NEW_TB ? T : pick_count(r, Tmax);
    const size_t Bb = bopt & EB_NEW_TB ? B : pick_count(r, Bmax);
    const size_t TBb = clampc(Tb, Tmax) * clampc(Bb, Bmax);
    const size_t lddw = pick_ld(r, dh, m), lddwo = pick_ld(r, nout, dh);
    const size_t lddx = pick_ld(r, TBb, din);
    const size_t lddh0 = pick_ld(r, clampc(Bb, Bmax), dh);
    const bptt_algo ba = pick_algo(r);
    const double beta = pick_beta(r, A, hostile);
    const targets tb = pick_targets(r, &a, A, head, TBb, nout);
    const int garbage = (bopt & EB_GARBAGE) != 0;
    mat dW = mat_new(&a, A, r, dh, m, lddw, 1, garbage);
    mat dWo = mat_new(&a, A, r, nout, dh, lddwo, 1, garbage);
    mat dbh = {0}, dbo = {0}, dx = {0}, dh0 = {0};
    if (!(bopt & EB_NO_DBH))
        dbh = mat_new(&a, A, r, 1, dh, dh, 1, garbage);
    if (!(bopt & EB_NO_DBO))
        dbo = mat_new(&a, A, r, 1, nout, nout, 1, garbage);
    if (!(bopt & EB_NO_DX))
        dx = mat_new(&a, A, r, TBb, din, lddx, 1, garbage);
    if (!(bopt & EB_NO_DH0))
        dh0 = mat_new(&a, A, r, clampc(Bb, Bmax), dh, lddh0, 1, garbage);

    cel = bnulls & 1 ? NULL : bopt & EB_MISMATCH ? other : el;
    cws = bnulls & 2 ? NULL : ws;
    cW = bnulls & 4 ? NULL : W.p;
    cWo = bnulls & 8 ? NULL : Wo.p;
    void *cdW = bnulls & 16 ? NULL : dW.p, *cdWo = bnulls & 32 ? NULL : dWo.p;
    faults = count_fault(Tb, Bb, Tmax, Bmax) | tb.faults;
    if (!cel || !cws)
        faults |= BIT(BPTT_ENULL);
    else if (cel != el)
        faults |= BIT(BPTT_EMISMATCH);
    if (!algo_ok(ba))
        faults |= BIT(BPTT_EALGO);
    faults |= cW ? ld_fault(ldw, m) : BIT(BPTT_ENULL);
    faults |= cWo ? ld_fault(ldwo, dh) : BIT(BPTT_ENULL);
    faults |= cdW ? ld_fault(lddw, m) : BIT(BPTT_ENULL);
    faults |= cdWo ? ld_fault(lddwo, dh) : BIT(BPTT_ENULL);
    if (dx.p)
        faults |= ld_fault(lddx, din);
    if (dh0.p)
        faults |= ld_fault(lddh0, dh);
    if (!k.have || Tb != k.T || Bb != k.B)
        faults |= BIT(BPTT_ENOFORWARD);
    if (!isfinite(beta))
        faults |= BIT(BPTT_EINVAL);

    trace("round %u %s: T %zu B %zu algo %d beta %g, opt 0x%x nulls 0x%x, "
          "targets faults 0x%x\n", round, fnb, Tb, Bb, (int)ba, beta, bopt,
          bnulls, tb.faults);
    arena_snapshot(&a);
    mark_detail();
    st = A->el_backward(cel, Tb, Bb, cW, ldw, cWo, ldwo, tb.labels, tb.L.p,
                        tb.ldl, beta, cdW, lddw, dbh.p, cdWo, lddwo, dbo.p,
                        dx.p, lddx, dh0.p, lddh0, ba, cws);
    if (faults) {
        require_rejected(st, faults, fnb, &a);
        HIT(H_LATER_REJECTED);
        continue;
    }
    HIT(H_LATER_ACCEPTED);
    REQUIRE(st == BPTT_OK, "%s: valid call gave %s", fnb, bptt_strerror(st));
    void *const bouts[] = {dW.p, dWo.p, dbh.p, dbo.p, dx.p, dh0.p, wsbuf};
    require_only(&a, bouts, 7, fnb);
    REQUIRE(padding_kept(A, &a, dW) && padding_kept(A, &a, dWo) &&
                padding_kept(A, &a, dx) && padding_kept(A, &a, dh0),
            "%s wrote an output's padding", fnb);
    if (!(k.bounded && !hostile && tb.tame && (!garbage || beta == 0)))
        continue;
    REQUIRE(mat_finite(A, dW) && mat_finite(A, dWo) && mat_finite(A, dbh) &&
                mat_finite(A, dbo) && mat_finite(A, dx) && mat_finite(A, dh0),
            "%s: bounded inputs, results not finite", fnb);
    /* the naive forward of the kept inputs (its h shows the ReLU kinks),
     * then the naive backward from the same starting outputs */
    mat hr = mat_dense(&ref, A, k.T * k.B, dh);
    REQUIRE(A->el_forward(el, k.T, k.B, k.W.p, k.W.ld, k.bh.p, k.Wo.p, k.Wo.ld,
                          k.bo.p, k.x.p, k.x.ld, k.h0.p, k.h0.ld, NULL, NULL,
                          0, NULL, hr.p, dh, NULL, 0, BPTT_ALGO_NAIVE, rws) ==
                BPTT_OK, "naive forward: %s", bptt_error_detail());
    if (relu_kink(A, act, din, dh, k.T, k.B, k.W, k.bh, k.x, k.h0, hr)) {
        HIT(H_LATER_KINK);
        continue;
    }
    mat rdW = mat_snap_copy(&ref, A, &a, dW), rdWo = mat_snap_copy(&ref, A, &a, dWo);
    mat rdbh = mat_snap_copy(&ref, A, &a, dbh), rdbo = mat_snap_copy(&ref, A, &a, dbo);
    mat rdx = mat_snap_copy(&ref, A, &a, dx), rdh0 = mat_snap_copy(&ref, A, &a, dh0);
    REQUIRE(A->el_backward(el, Tb, Bb, W.p, ldw, Wo.p, ldwo, tb.labels, tb.L.p,
                           tb.ldl, beta, rdW.p, lddw, rdbh.p, rdWo.p, lddwo,
                           rdbo.p, rdx.p, lddx, rdh0.p, lddh0,
                           BPTT_ALGO_NAIVE, rws) == BPTT_OK,
            "naive backward: %s", bptt_error_detail());
    const mat got[] = {dW, dWo, dbh, dbo, dx, dh0};
    const mat want[] = {rdW, rdWo, rdbh, rdbo, rdx, rdh0};
    static const char *const names[] = {"dW", "dWo", "dbh", "dbo", "dx", "dh0"};
    for (int i = 0; i < 6; i++)
        REQUIRE(!got[i].p || mat_close(A, got[i], want[i], A->tol),
                "%s (%s) %s%s", fnb, bptt_algo_name(ba), names[i], why);
    HIT(H_LATER_COMPARED);
    }

    A->el_free(ws); /* placed in wsbuf: frees nothing */
    A->el_free(rws);
    bptt_elman_free(el);
    bptt_elman_free(other);
    bptt_net_free(net);
    arena_free(&a);
    arena_free(&ref);
}

void op_elman_double(bytes *r) { elman(r, &apis[0]); }
void op_elman_float(bytes *r) { elman(r, &apis[1]); }
