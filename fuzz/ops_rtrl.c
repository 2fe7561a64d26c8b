/*
 * ops_rtrl.c — the fuzz ops of RTRL: the state's size, alloc and init; its
 * calls against the naive form and against BPTT (fuzz/README.md).
 */
#include "fuzz.h"

/* ------------------------------------------------------------------------ */
/* op: the RTRL state's size, alloc and init                                 */
/* ------------------------------------------------------------------------ */

/* The documented size (bptt/rtrl.h) in 128 bits, 0 if it overflows or a
 * BLAS dimension (Bmax·n, n(m+1) + p) exceeds INT_MAX. */
static size_t rtrl_formula(size_t r, size_t Bmax, size_t n, size_t m)
{
    const u128 p = 64 / r, cols = (u128)n * (m + 1);
    const u128 cw = 64 * (n < 1024 ? 1024 / n : 1), c = cw < cols ? cw : cols;
    if ((u128)Bmax * n > (u128)INT_MAX || cols + p > (u128)INT_MAX)
        return 0;
    const u128 total = 256 + up64(r * Bmax * n * (cols + p)) +
                       up64(r * Bmax * m) + 4 * up64(r * Bmax * n) +
                       up64(r * n * n) + up64(r * n * (c + p)) + up64(r * c);
    return total > (u128)SIZE_MAX ? 0 : (size_t)total;
}

void op_rtrl_state(bytes *r)
{
    const api *A = &apis[u8(r) & 1];
    /* a small net, one with n(m+1) about INT_MAX, or din + dout = INT_MAX */
    const unsigned v = u8(r);
    const size_t dout = 1 + u8(r) % 16;
    size_t din = 1 + u8(r) % 16;
    if (v % 4 == 1)
        din = (size_t)INT_MAX / dout - dout - u8(r) % 32;
    else if (v % 4 == 2)
        din = (size_t)INT_MAX - dout - u8(r);
    bptt_net *net = NULL;
    REQUIRE(bptt_net_create_uniform(din, dout, BPTT_ACT_TANH, NULL, &net) ==
                BPTT_OK, "net");
    const size_t Bmax = pick_count(r, 8);
    const bptt_net *cnet = (u8(r) & 0x0F) == 0x0F ? NULL : net;
    unsigned faults = 0;
    if (!cnet)
        faults |= BIT(BPTT_ENULL);
    if (!Bmax)
        faults |= BIT(BPTT_ESIZE);
    const size_t want = rtrl_formula(A->r, Bmax, dout, din + dout);
    if (Bmax && !want)
        faults |= BIT(BPTT_EOVERFLOW);
    const family F = {{"rtrl_size", "rtrl_alloc", "rtrl_init"},
                      A->rt_size, A->rt_alloc, A->rt_init, A->rt_free};
    check_family(r, A, &F, cnet, 1, Bmax, want, faults);
    bptt_net_free(net);
}

/* ------------------------------------------------------------------------ */
/* op: RTRL's calls against the naive form and against BPTT                  */
/* ------------------------------------------------------------------------ */

/* What the harness knows of an RTRL state: what the library must accept
 * next, and whether its results can be compared. */
typedef struct rmodel {
    size_t B, steps; /* of the last reset (0: none); advances since */
    int tame;        /* every input since the reset finite and bounded */
    int kink;        /* a ReLU z within rounding of 0 since the reset */
} rmodel;

enum { R_RESET, R_ADVANCE, R_ACCUMULATE, R_STEP, R_SEQUENCE, R_NKIND };

/* Option bits of an RTRL call. */
enum {
    RO_BIAS = 1, RO_Y0 = 2, RO_Y = 4, RO_LOSS = 8, RO_DB = 16, RO_MASK = 32,
    RO_HOSTILE = 64, RO_GARBAGE = 128
};

/* 1 to 6 calls of any kind on one state, each with fresh arguments.  Every
 * accepted call is repeated with BPTT_RTRL_NAIVE on a mirror state from the
 * same starting outputs, and a whole sequence is also done by BPTT
 * (forward, squared-error loss, backward): the same y, loss, dW, db. */
static void rtrl(bytes *r, const api *A)
{
    static const char *const kind_name[R_NKIND] = {
        "rtrl_reset", "rtrl_advance", "rtrl_accumulate", "rtrl_step",
        "rtrl_sequence"};
    arena a = {0}, ref = {0};
    const size_t din = 1 + u8(r) % 5, dout = 1 + u8(r) % 5, m = din + dout;
    bptt_activation act[5];
    for (size_t i = 0; i < dout; i++)
        act[i] = (bptt_activation)(u8(r) % BPTT_NACTIVATION);
    bptt_net *net = NULL, *other = NULL;
    REQUIRE(bptt_net_create(din, dout, act, &custom, &net) == BPTT_OK &&
                bptt_net_create(din, dout, act, &custom, &other) == BPTT_OK,
            "net");
    const size_t Bmax = 1 + u8(r) % 4;
    size_t bytes_st = 0;
    REQUIRE(A->rt_size(net, 1, Bmax, &bytes_st) == BPTT_OK, "size");
    const size_t off = u8(r) % 64;
    unsigned char *stbuf = arena_new(&a, bytes_st + off);
    void *st = NULL, *rst = NULL;
    REQUIRE(A->rt_init(net, 1, Bmax, stbuf + off, bytes_st, &st) == BPTT_OK,
            "init");
    REQUIRE(A->rt_alloc(net, 1, Bmax, &rst) == BPTT_OK, "alloc");
    /* y(t) of the mirror, for the ReLU kinks of the next step */
    mat yprev = mat_dense(&ref, A, Bmax, dout);
    rmodel M = {0};
    const unsigned calls = 1 + u8(r) % 6;

    for (unsigned c = 0; c < calls; c++) {
    const unsigned kind = u8(r) % R_NKIND, opt = u8(r);
    const unsigned nulls = (u8(r) & 0xE0) == 0xE0 ? u8(r) : 0;
    const int hostile = (opt & RO_HOSTILE) != 0;
    const int garbage = (opt & RO_GARBAGE) != 0;
    char fn[64];
    fname(A, kind_name[kind], fn);
    const bptt_net *cnet = nulls & 1 ? NULL : (nulls & 0x81) == 0x80 ? other : net;
    void *cst = nulls & 2 ? NULL : st;
    const size_t B = pick_count(r, Bmax), Ba = clampc(B, Bmax);
    const bptt_rtrl_algo algo = kind == R_RESET ? BPTT_RTRL_AUTO : pick_ralgo(r);
    const size_t T = kind == R_SEQUENCE ? pick_small(r, 5) : 1;
    const size_t Ta = T && T <= 5 ? T : 1, rows = Ta * Ba;
    const size_t ldw = pick_ld(r, dout, m), ldx = pick_ld(r, rows, din);
    const size_t ldy = pick_ld(r, rows, dout), ldt = pick_ld(r, rows, dout);
    const size_t lddw = pick_ld(r, dout, m), ldy0 = pick_ld(r, Ba, dout);
    const double beta = pick_beta(r, A, hostile);
    mat W = {0}, b = {0}, x = {0}, y0 = {0}, t = {0}, y = {0}, dW = {0},
        db = {0};
    unsigned char *mask = NULL;
    double *loss = NULL;
    if (kind == R_ADVANCE || kind == R_STEP || kind == R_SEQUENCE) {
        W = mat_new(&a, A, r, dout, m, ldw, 1.0 / (double)m, hostile);
        if (opt & RO_BIAS)
            b = mat_new(&a, A, r, 1, dout, dout, 1, hostile);
        x = mat_new(&a, A, r, rows, din, ldx, 1, hostile);
    }
    if ((kind == R_RESET || kind == R_SEQUENCE) && (opt & RO_Y0))
        y0 = mat_new(&a, A, r, Ba, dout, ldy0, 1, hostile);
    if (kind >= R_ACCUMULATE) /* dy of accumulate, or the targets */
        t = mat_new(&a, A, r, kind == R_ACCUMULATE ? Ba : rows, dout, ldt, 1,
                    hostile);
    if (kind == R_ADVANCE || (kind >= R_STEP && (opt & RO_Y)))
        y = mat_new(&a, A, r, rows, dout, ldy, 1, 1);
    if (kind >= R_ACCUMULATE) {
        dW = mat_new(&a, A, r, dout, m, lddw, 1, garbage);
        if (opt & RO_DB)
            db = mat_new(&a, A, r, 1, dout, dout, 1, garbage);
    }
    if (kind >= R_STEP && (opt & RO_MASK)) {
        mask = arena_new(&a, rows);
        for (size_t i = 0; i < rows; i++)
            mask[i] = (unsigned char)(u8(r) & 1);
    }
    if (kind >= R_STEP && (opt & RO_LOSS)) {
        loss = arena_new(&a, sizeof(double));
        *loss = 4321;
    }
    const void *cW = nulls & 4 ? NULL : W.p, *cx = nulls & 8 ? NULL : x.p;
    const void *ct = nulls & 16 ? NULL : t.p;
    void *cy = kind == R_ADVANCE && (nulls & 32) ? NULL : y.p;
    void *cdW = nulls & 64 ? NULL : dW.p;

    unsigned faults = 0;
    if (!cnet || !cst)
        faults |= BIT(BPTT_ENULL);
    else if (cnet != net)
        faults |= BIT(BPTT_EMISMATCH);
    if (!B)
        faults |= BIT(BPTT_ESIZE);
    else if (B > Bmax)
        faults |= BIT(BPTT_ECAPACITY);
    if (!ralgo_ok(algo))
        faults |= BIT(BPTT_EALGO);
    if (W.p)
        faults |= cW ? ld_fault(ldw, m) : BIT(BPTT_ENULL);
    if (x.p)
        faults |= cx ? ld_fault(ldx, din) : BIT(BPTT_ENULL);
    if (y0.p)
        faults |= ld_fault(ldy0, dout);
    if (t.p)
        faults |= ct ? ld_fault(ldt, dout) : BIT(BPTT_ENULL);
    if (y.p)
        faults |= cy ? ld_fault(ldy, dout) : BIT(BPTT_ENULL);
    if (dW.p)
        faults |= cdW ? ld_fault(lddw, m) : BIT(BPTT_ENULL);
    if ((kind == R_ADVANCE || kind == R_STEP) && (!M.B || B != M.B))
        faults |= BIT(BPTT_EINVAL); /* not reset, or for another B */
    if (kind == R_ACCUMULATE && (!M.steps || B != M.B))
        faults |= BIT(BPTT_ENOFORWARD);
    if (kind != R_ADVANCE && kind != R_RESET && !isfinite(beta))
        faults |= BIT(BPTT_EINVAL); /* beta must be finite */
    if (kind == R_SEQUENCE && !T)
        faults |= BIT(BPTT_ESIZE);
    else if (kind == R_SEQUENCE && T > 5) /* T·B rows overflow */
        faults |= BIT(BPTT_EOVERFLOW);

    trace("call %u %s: din %zu dout %zu Bmax %zu, B %zu T %zu algo %d beta %g"
          ", opt 0x%x nulls 0x%x, model B %zu steps %zu\n", c, fn, din, dout,
          Bmax, B, T, (int)algo, beta, opt, nulls, M.B, M.steps);
    arena_snapshot(&a);
    mark_detail();
    bptt_status s = BPTT_OK;
    switch (kind) {
    case R_RESET:
        s = A->rt_reset(cnet, B, y0.p, ldy0, cst);
        break;
    case R_ADVANCE:
        s = A->rt_advance(cnet, B, cW, ldw, b.p, cx, ldx, cy, ldy, algo, cst);
        break;
    case R_ACCUMULATE:
        s = A->rt_accumulate(cnet, B, ct, ldt, beta, cdW, lddw, db.p, algo,
                             cst);
        break;
    case R_STEP:
        s = A->rt_step(cnet, B, cW, ldw, b.p, cx, ldx, ct, ldt, mask, cy, ldy,
                       loss, beta, cdW, lddw, db.p, algo, cst);
        break;
    default:
        s = A->rt_sequence(cnet, T, B, cW, ldw, b.p, cx, ldx, y0.p, ldy0, ct,
                           ldt, mask, cy, ldy, loss, beta, cdW, lddw, db.p,
                           algo, cst);
    }
    if (faults) {
        require_rejected(s, faults, fn, &a);
        HIT(H_LATER_REJECTED);
        continue;
    }
    HIT(H_LATER_ACCEPTED);
    REQUIRE(s == BPTT_OK, "%s: valid call gave %s", fn, bptt_strerror(s));
    void *const outs[] = {y.p, dW.p, db.p, loss, stbuf};
    require_only(&a, outs, 5, fn);
    REQUIRE(padding_kept(A, &a, y) && padding_kept(A, &a, dW),
            "%s wrote an output's padding", fn);

    /* the model, and the mirror's same call in the naive form */
    if (kind == R_RESET || kind == R_SEQUENCE)
        M = (rmodel){B, 0, 1, 0};
    if (kind != R_ACCUMULATE) /* dy is not part of the state */
        M.tame &= !hostile;
    const int tame = M.tame && !hostile;
    if (kind == R_ADVANCE || kind == R_STEP)
        M.kink |= relu_kink(A, act, din, dout, 1, B, W, b, x, yprev, yprev);
    mat ry = mat_dense(&ref, A, rows, dout), rdW = mat_snap_copy(&ref, A, &a, dW);
    mat rdb = mat_snap_copy(&ref, A, &a, db);
    double rloss = 0;
    bptt_status rs = BPTT_OK;
    switch (kind) {
    case R_RESET:
        rs = A->rt_reset(net, B, y0.p, ldy0, rst);
        break;
    case R_ADVANCE:
        rs = A->rt_advance(net, B, W.p, ldw, b.p, x.p, ldx, ry.p, dout,
                           BPTT_RTRL_NAIVE, rst);
        break;
    case R_ACCUMULATE:
        rs = A->rt_accumulate(net, B, t.p, ldt, beta, rdW.p, lddw, rdb.p,
                              BPTT_RTRL_NAIVE, rst);
        break;
    case R_STEP:
        rs = A->rt_step(net, B, W.p, ldw, b.p, x.p, ldx, t.p, ldt, mask, ry.p,
                        dout, &rloss, beta, rdW.p, lddw, rdb.p,
                        BPTT_RTRL_NAIVE, rst);
        break;
    default:
        rs = A->rt_sequence(net, T, B, W.p, ldw, b.p, x.p, ldx, y0.p, ldy0,
                            t.p, ldt, mask, ry.p, dout, &rloss, beta, rdW.p,
                            lddw, rdb.p, BPTT_RTRL_NAIVE, rst);
        M.kink = relu_kink(A, act, din, dout, T, B, W, b, x, y0, ry);
    }
    REQUIRE(rs == BPTT_OK, "mirror %s: %s", fn, bptt_error_detail());
    if (kind == R_ADVANCE || kind == R_STEP)
        M.steps++;
    if (kind == R_SEQUENCE)
        M.steps = T;
    /* y(t) for the next step's kinks: y0 (or 0) after a reset, else the
     * mirror's last y */
    for (size_t i = 0; kind != R_ACCUMULATE && i < B; i++)
        for (size_t j = 0; j < dout; j++)
            A->set(yprev.p, i * dout + j,
                   kind != R_RESET ? mat_get(A, ry, rows - B + i, j)
                   : y0.p          ? mat_get(A, y0, i, j)
                                   : 0);
    if (kind == R_RESET || !tame)
        continue;
    /* y depends on the forward only: compared even past a kink */
    if (y.p)
        REQUIRE(mat_finite(A, y) && mat_close(A, y, ry, A->tol),
                "%s (%s) y%s", fn, bptt_rtrl_algo_name(algo), why);
    if (loss && kind >= R_STEP)
        REQUIRE(isfinite(*loss) &&
                    fabs(*loss - rloss) <= A->tol * (1 + fabs(rloss)),
                "%s (%s): loss %.17g, naive %.17g", fn,
                bptt_rtrl_algo_name(algo), *loss, rloss);
    if (kind == R_ADVANCE || !isfinite(beta) || (garbage && beta != 0))
        continue;
    if (M.kink) {
        HIT(H_LATER_KINK);
        continue;
    }
    REQUIRE(mat_finite(A, dW) && mat_finite(A, db), "%s: bounded inputs, "
            "gradient not finite", fn);
    REQUIRE(mat_close(A, dW, rdW, A->tol), "%s (%s) dW%s", fn,
            bptt_rtrl_algo_name(algo), why);
    REQUIRE(!db.p || mat_close(A, db, rdb, A->tol), "%s (%s) db%s", fn,
            bptt_rtrl_algo_name(algo), why);
    HIT(H_LATER_COMPARED);
    if (kind != R_SEQUENCE)
        continue;
    /* eq. (12): the summed RTRL gradient is BPTT's on the same loss */
    void *bws = NULL;
    REQUIRE(A->alloc(net, T, B, &bws) == BPTT_OK, "bptt workspace");
    mat by = mat_dense(&ref, A, T * B, dout), bdy = mat_dense(&ref, A, T * B, dout);
    mat bdW = mat_snap_copy(&ref, A, &a, dW), bdb = mat_snap_copy(&ref, A, &a, db);
    double bloss = 0;
    REQUIRE(A->forward(net, T, B, W.p, ldw, b.p, x.p, ldx, y0.p, ldy0, by.p,
                       dout, BPTT_ALGO_AUTO, bws) == BPTT_OK &&
                A->loss(T, B, dout, by.p, dout, t.p, ldt, mask, &bloss, bdy.p,
                        dout) == BPTT_OK &&
                A->backward(net, T, B, W.p, ldw, bdy.p, dout, beta, bdW.p,
                            lddw, bdb.p, NULL, 0, NULL, 0, BPTT_ALGO_AUTO,
                            bws) == BPTT_OK,
            "bptt: %s", bptt_error_detail());
    A->free(bws);
    REQUIRE(mat_close(A, dW, bdW, A->tol), "%s (%s) dW against BPTT%s", fn,
            bptt_rtrl_algo_name(algo), why);
    REQUIRE(!db.p || mat_close(A, db, bdb, A->tol), "%s (%s) db against "
            "BPTT%s", fn, bptt_rtrl_algo_name(algo), why);
    REQUIRE(!loss || fabs(*loss - bloss) <= A->tol * (1 + fabs(bloss)),
            "%s: loss %.17g, BPTT %.17g", fn, *loss, bloss);
    REQUIRE(!y.p || mat_close(A, y, by, A->tol), "%s: y against BPTT%s", fn,
            why);
    HIT(H_RTRL_BPTT);
    }

    A->rt_free(st); /* placed in stbuf: frees nothing */
    A->rt_free(rst);
    bptt_net_free(net);
    bptt_net_free(other);
    arena_free(&a);
    arena_free(&ref);
}

void op_rtrl_double(bytes *r) { rtrl(r, &apis[0]); }
void op_rtrl_float(bytes *r) { rtrl(r, &apis[1]); }
