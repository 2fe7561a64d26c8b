/*
 * ops_network.c — the fuzz ops of Network A: the descriptor, the
 * workspace, forward and backward (every algorithm, both precisions), the
 * loss and the SGD step (fuzz/README.md).
 */
#include "fuzz.h"

/* ------------------------------------------------------------------------ */
/* op: forward and backward of Network A, every algorithm                    */
/* ------------------------------------------------------------------------ */

/* A run of 1 to 3 rounds, each a forward and a backward with fresh
 * arguments on one workspace: a rejected call must leave the forward kept
 * by an earlier round intact, and any backward may follow any forward. */
static void train(bytes *r, const api *A)
{
    char fnf[64], fnb[64];
    fname(A, "forward", fnf);
    fname(A, "backward", fnb);
    arena a = {0}, ref = {0};

    /* A valid network and workspace, the workspace in a buffer of exactly
     * its size at any alignment. */
    const size_t din = 1 + u8(r) % 8, dout = 1 + u8(r) % 8, m = din + dout;
    bptt_activation act[8];
    for (size_t i = 0; i < dout; i++)
        act[i] = (bptt_activation)(u8(r) % BPTT_NACTIVATION);
    const int is_wild = (u8(r) & 7) == 7;
    int wild_units = 0;
    for (size_t i = 0; i < dout; i++)
        wild_units |= is_wild && act[i] == BPTT_ACT_CUSTOM;
    const bptt_custom_activation *cu = is_wild ? &wild : &custom;
    bptt_net *net = NULL, *other = NULL;
    REQUIRE(bptt_net_create(din, dout, act, cu, &net) == BPTT_OK, "net");
    REQUIRE(bptt_net_create(din, dout, act, cu, &other) == BPTT_OK, "net");
    const size_t Tmax = 1 + u8(r) % 6, Bmax = 1 + u8(r) % 5;
    size_t bytes_ws = 0;
    REQUIRE(A->size(net, Tmax, Bmax, &bytes_ws) == BPTT_OK, "size");
    const size_t off = u8(r) % 64;
    unsigned char *wsbuf = arena_new(&a, bytes_ws + off);
    void *ws = NULL, *rws = NULL;
    REQUIRE(A->init(net, Tmax, Bmax, wsbuf + off, bytes_ws, &ws) == BPTT_OK,
            "init");
    REQUIRE(A->alloc(net, Tmax, Bmax, &rws) == BPTT_OK, "alloc");
    /* 1-3 threads of the workspace's own, from bytes already read (the
     * corpus keeps its meaning): results must not depend on the count
     * (the reference workspace keeps one); a bad count changes nothing */
    REQUIRE(A->set_threads(ws, 0) == BPTT_EINVAL, "threads");
    REQUIRE(A->set_threads(ws, 1 + (int)((Tmax + Bmax + off) % 3)) == BPTT_OK,
            "threads");
    kept k = {0};
    const unsigned rounds = 1 + u8(r) % 3;

    for (unsigned round = 0; round < rounds; round++) {
    const unsigned flags = u8(r);
    const int hostile = (flags & F_HOSTILE) != 0;
    /* results are held to the naive algorithm's only when all is tame */
    const int tame = !hostile && !wild_units;
    REQUIRE(A->check_finite(ws, flags & F_CHECK) == BPTT_OK, "check");
    const unsigned nulls = (u8(r) & 0xE0) == 0xE0 ? u8(r) : 0;

    /* ---- forward ---- */
    const size_t T = pick_count(r, Tmax), B = pick_count(r, Bmax);
    const size_t Ta = T < 1 ? 1 : T > Tmax ? Tmax : T;
    const size_t Ba = B < 1 ? 1 : B > Bmax ? Bmax : B;
    const size_t ldw = pick_ld(r, dout, m), ldx = pick_ld(r, Ta * Ba, din);
    const size_t ldy0 = pick_ld(r, Ba, dout), ldy = pick_ld(r, Ta * Ba, dout);
    const bptt_algo fa = pick_algo(r);
    mat W = mat_new(&a, A, r, dout, m, ldw, 1.0 / (double)m, hostile);
    mat b = {0}, y0 = {0};
    if (flags & F_BIAS)
        b = mat_new(&a, A, r, 1, dout, dout, 1, hostile);
    mat x = mat_new(&a, A, r, Ta * Ba, din, ldx, 1, hostile);
    if (flags & F_Y0)
        y0 = mat_new(&a, A, r, Ba, dout, ldy0, 1, hostile);
    mat y = mat_new(&a, A, r, Ta * Ba, dout, ldy, 1, 1);

    const bptt_net *cnet = nulls & 1 ? NULL : flags & F_MISMATCH_F ? other : net;
    void *cws = nulls & 2 ? NULL : ws;
    const void *cW = nulls & 4 ? NULL : W.p, *cx = nulls & 8 ? NULL : x.p;
    void *cy = nulls & 16 ? NULL : y.p;
    unsigned faults = 0;
    if (!cnet || !cws)
        faults |= BIT(BPTT_ENULL);
    else if (cnet != net)
        faults |= BIT(BPTT_EMISMATCH);
    if (T == 0 || B == 0)
        faults |= BIT(BPTT_ESIZE);
    else if (T > Tmax || B > Bmax)
        faults |= BIT(BPTT_ECAPACITY);
    if (!algo_ok(fa))
        faults |= BIT(BPTT_EALGO);
    faults |= cW ? ld_fault(ldw, m) : BIT(BPTT_ENULL);
    faults |= cx ? ld_fault(ldx, din) : BIT(BPTT_ENULL);
    faults |= cy ? ld_fault(ldy, dout) : BIT(BPTT_ENULL);
    if (y0.p)
        faults |= ld_fault(ldy0, dout);
    const int finite_in = mat_finite(A, W) && mat_finite(A, b) &&
                          mat_finite(A, x) && mat_finite(A, y0);

    trace("round %u %s: net din %zu dout %zu, ws Tmax %zu Bmax %zu, flags "
          "0x%x, nulls 0x%x\n  T %zu B %zu ldw %zu ldx %zu ldy0 %zu ldy %zu "
          "algo %d\n", round, fnf, din, dout, Tmax, Bmax, flags, nulls, T, B,
          ldw, ldx, ldy0, ldy, (int)fa);
    arena_snapshot(&a);
    mark_detail();
    bptt_status st = A->forward(cnet, T, B, cW, ldw, b.p, cx, ldx, y0.p, ldy0,
                                cy, ldy, fa, cws);
    if (faults) {
        require_rejected(st, faults, fnf, &a);
        HIT(H_FWD_REJECTED);
    } else if ((flags & F_CHECK) && !finite_in) {
        require_rejected(st, BIT(BPTT_ENONFINITE), fnf, &a);
        HIT(H_FWD_NONFINITE_IN);
    } else {
        HIT(st == BPTT_OK ? H_FWD_ACCEPTED : H_FWD_NONFINITE_OUT);
        REQUIRE(st == BPTT_OK || ((flags & F_CHECK) && st == BPTT_ENONFINITE),
                "%s: valid call gave %s", fnf, bptt_strerror(st));
        int i = arena_changed(&a, y.p, wsbuf);
        REQUIRE(i < 0, "%s wrote input buffer %d", fnf, i);
        REQUIRE(padding_kept(A, &a, y), "%s wrote y's padding", fnf);
        if (flags & F_CHECK)
            REQUIRE((st == BPTT_OK) == mat_finite(A, y),
                    "%s: status %s but y %s finite", fnf, bptt_strerror(st),
                    mat_finite(A, y) ? "is" : "is not");
        if (tame) {
            REQUIRE(st == BPTT_OK && mat_finite(A, y),
                    "%s: bounded inputs, status %s, y finite %d", fnf,
                    bptt_strerror(st), mat_finite(A, y));
            mat yr = mat_copy(&ref, A, y);
            REQUIRE(A->forward(net, T, B, W.p, ldw, b.p, x.p, ldx, y0.p, ldy0,
                               yr.p, ldy, BPTT_ALGO_NAIVE, rws) == BPTT_OK,
                    "naive forward");
            if (fa == BPTT_ALGO_NAIVE)
                REQUIRE(memcmp(yr.p, y.p, ((Ta * Ba - 1) * ldy + dout) * A->r)
                            == 0, "naive forward is not deterministic");
            REQUIRE(mat_close(A, y, yr, A->tol),
                    "%s (%s) y%s", fnf, bptt_algo_name(fa), why);
            HIT(H_FWD_COMPARED);
        }
        k = (kept){1, tame, T, B, ldw, ldx, ldy0, W, b, x, y0, y};
    }

    /* ---- backward, after the forward kept in ws (or none) ---- */
    const unsigned bflags = u8(r);
    REQUIRE(A->check_finite(ws, (bflags & F_CHECK_B) != 0) == BPTT_OK, "check");
    const unsigned same = u8(r) % 4;
    const size_t Tb = same ? T : pick_count(r, Tmax);
    const size_t Bb = same ? B : pick_count(r, Bmax);
    const size_t Tba = Tb < 1 ? 1 : Tb > Tmax ? Tmax : Tb;
    const size_t Bba = Bb < 1 ? 1 : Bb > Bmax ? Bmax : Bb;
    const size_t lddy = pick_ld(r, Tba * Bba, dout);
    const size_t lddw = pick_ld(r, dout, m);
    const size_t lddx = pick_ld(r, Tba * Bba, din);
    const size_t lddy0 = pick_ld(r, Bba, dout);
    const bptt_algo ba = pick_algo(r);
    const unsigned opt = u8(r), bsel = u8(r), bnulls = nulls >> 5;
    static const double betas[] = {0, 1, 0.5, -1.5, 0, 2, 0, 1};
    double beta = betas[bsel % 8];
    if (hostile && bsel >= 224)
        beta = A->special[(bsel - 224) % 10];
    mat dy = mat_new(&a, A, r, Tba * Bba, dout, lddy, 1, hostile);
    /* outputs: bounded starting values, or NaN/Inf garbage */
    const int garbage = (bflags & F_GARBAGE) != 0;
    mat dW = {0}, db = {0}, dx = {0}, dy0 = {0};
    if (!(opt & 1))
        dW = mat_new(&a, A, r, dout, m, lddw, 1, garbage);
    if (!(opt & 2))
        db = mat_new(&a, A, r, 1, dout, dout, 1, garbage);
    if (!(opt & 4))
        dx = mat_new(&a, A, r, Tba * Bba, din, lddx, 1, garbage);
    if (!(opt & 8))
        dy0 = mat_new(&a, A, r, Bba, dout, lddy0, 1, garbage);

    cnet = bnulls & 1 ? NULL : bflags & F_MISMATCH_B ? other : net;
    cws = bnulls & 2 ? NULL : ws;
    cW = bnulls & 4 ? NULL : W.p;
    const void *cdy = nulls & 32 ? NULL : dy.p;
    faults = 0;
    if (!cnet || !cws)
        faults |= BIT(BPTT_ENULL);
    else if (cnet != net)
        faults |= BIT(BPTT_EMISMATCH);
    if (Tb == 0 || Bb == 0)
        faults |= BIT(BPTT_ESIZE);
    else if (Tb > Tmax || Bb > Bmax)
        faults |= BIT(BPTT_ECAPACITY);
    if (!algo_ok(ba))
        faults |= BIT(BPTT_EALGO);
    faults |= cW ? ld_fault(ldw, m) : BIT(BPTT_ENULL);
    faults |= cdy ? ld_fault(lddy, dout) : BIT(BPTT_ENULL);
    if (dW.p)
        faults |= ld_fault(lddw, m);
    if (dx.p)
        faults |= ld_fault(lddx, din);
    if (dy0.p)
        faults |= ld_fault(lddy0, dout);
    if (!k.have || Tb != k.T || Bb != k.B)
        faults |= BIT(BPTT_ENOFORWARD);
    if (!isfinite(beta))
        faults |= BIT(BPTT_EINVAL);
    const int finite_bin = mat_finite(A, W) && mat_finite(A, dy);

    trace("round %u %s: T %zu B %zu lddy %zu lddw %zu lddx %zu lddy0 %zu "
          "algo %d beta %g, flags 0x%x, outputs%s%s%s%s\n", round, fnb, Tb, Bb,
          lddy, lddw, lddx, lddy0, (int)ba, beta, bflags, dW.p ? " dW" : "",
          db.p ? " db" : "", dx.p ? " dx" : "", dy0.p ? " dy0" : "");
    arena_snapshot(&a);
    mark_detail();
    st = A->backward(cnet, Tb, Bb, cW, ldw, cdy, lddy, beta, dW.p, lddw, db.p,
                     dx.p, lddx, dy0.p, lddy0, ba, cws);
    if (faults) {
        require_rejected(st, faults, fnb, &a);
        HIT(H_BWD_REJECTED);
    } else if ((bflags & F_CHECK_B) && !finite_bin) {
        require_rejected(st, BIT(BPTT_ENONFINITE), fnb, &a);
        HIT(H_BWD_NONFINITE_IN);
    } else {
        HIT(st == BPTT_OK ? H_BWD_ACCEPTED : H_BWD_NONFINITE_OUT);
        const int fin = mat_finite(A, dW) && mat_finite(A, db) &&
                        mat_finite(A, dx) && mat_finite(A, dy0);
        REQUIRE(st == BPTT_OK ||
                    ((bflags & F_CHECK_B) && st == BPTT_ENONFINITE && !fin),
                "%s: valid call gave %s", fnb, bptt_strerror(st));
        if (bflags & F_CHECK_B)
            REQUIRE(st != BPTT_OK || fin, "%s: OK with non-finite results",
                    fnb);
        /* only the outputs and the workspace may change */
        for (int i = 0; i < a.k; i++) {
            void *p = a.p[i];
            if (p == dW.p || p == db.p || p == dx.p || p == dy0.p ||
                p == wsbuf)
                continue;
            REQUIRE(memcmp(a.snap[i], p, a.n[i]) == 0,
                    "%s wrote input buffer %d", fnb, i);
        }
        REQUIRE(padding_kept(A, &a, dW) && padding_kept(A, &a, dx) &&
                    padding_kept(A, &a, dy0),
                "%s wrote an output's padding", fnb);
        const int bounded = k.bounded && tame && (!garbage || beta == 0);
        /* the kept forward's ReLU kinks (relu_kink) make gradients of two
         * correct algorithms differ */
        const int kink = bounded && relu_kink(A, act, din, dout, k.T, k.B,
                                              k.W, k.b, k.x, k.y0, k.y);
        if (bounded)
            REQUIRE(st == BPTT_OK && fin, "%s: bounded inputs, status %s, "
                    "results finite %d", fnb, bptt_strerror(st), fin);
        if (kink)
            HIT(H_BWD_KINK);
        if (bounded && !kink) {
            HIT(H_BWD_COMPARED);
            /* the naive forward of the kept inputs, then the naive backward
             * from the same starting outputs */
            mat ry = mat_copy(&ref, A, k.y);
            REQUIRE(A->forward(net, k.T, k.B, k.W.p, k.ldw, k.b.p, k.x.p,
                               k.ldx, k.y0.p, k.ldy0, ry.p, k.y.ld,
                               BPTT_ALGO_NAIVE, rws) == BPTT_OK,
                    "naive forward");
            mat rdW = mat_copy(&ref, A, dW), rdb = mat_copy(&ref, A, db);
            mat rdx = mat_copy(&ref, A, dx), rdy0 = mat_copy(&ref, A, dy0);
            const unsigned char *s;
            if (rdW.p && (s = arena_snap_of(&a, dW.p)))
                memcpy(rdW.p, s, ((dout - 1) * lddw + m) * A->r);
            if (rdb.p && (s = arena_snap_of(&a, db.p)))
                memcpy(rdb.p, s, dout * A->r);
            if (rdx.p && (s = arena_snap_of(&a, dx.p)))
                memcpy(rdx.p, s, ((Tb * Bb - 1) * lddx + din) * A->r);
            if (rdy0.p && (s = arena_snap_of(&a, dy0.p)))
                memcpy(rdy0.p, s, ((Bb - 1) * lddy0 + dout) * A->r);
            REQUIRE(A->backward(net, Tb, Bb, W.p, ldw, dy.p, lddy, beta,
                                rdW.p, lddw, rdb.p, rdx.p, lddx, rdy0.p, lddy0,
                                BPTT_ALGO_NAIVE, rws) == BPTT_OK,
                    "naive backward: %s", bptt_error_detail());
            if (dW.p)
                REQUIRE(mat_close(A, dW, rdW, A->tol), "%s (%s) dW%s", fnb,
                        bptt_algo_name(ba), why);
            if (db.p)
                REQUIRE(mat_close(A, db, rdb, A->tol), "%s (%s) db%s", fnb,
                        bptt_algo_name(ba), why);
            if (dx.p)
                REQUIRE(mat_close(A, dx, rdx, A->tol), "%s (%s) dx%s", fnb,
                        bptt_algo_name(ba), why);
            if (dy0.p)
                REQUIRE(mat_close(A, dy0, rdy0, A->tol), "%s (%s) dy0%s", fnb,
                        bptt_algo_name(ba), why);
        }
    }
    }

    A->free(ws); /* placed in wsbuf: stops its threads, frees no memory */
    A->free(rws);
    bptt_net_free(net);
    bptt_net_free(other);
    arena_free(&a);
    arena_free(&ref);
}

void op_train_double(bytes *r) { train(r, &apis[0]); }
void op_train_float(bytes *r) { train(r, &apis[1]); }

/* ------------------------------------------------------------------------ */
/* op: the network descriptor                                                */
/* ------------------------------------------------------------------------ */

void op_net_create(bytes *r)
{
    const size_t din = pick_dim(r), dout = pick_dim(r);
    const bptt_custom_activation *cu = pick_custom(r);
    const unsigned nulls = u8(r);
    /* the codes: a pattern of up to 8 repeated over dout */
    bptt_activation pat[8];
    const size_t np = 1 + u8(r) % 8;
    for (size_t i = 0; i < np; i++)
        pat[i] = pick_act(r);
    const int sizes_ok = din && dout && din <= (size_t)INT_MAX &&
                         dout <= (size_t)INT_MAX - din;
    /* A valid dout beyond MAXACT would need that many codes: pass none. */
    const int have_act = !(nulls & 2) && (!sizes_ok || dout <= MAXACT);
    const size_t nact = dout < MAXACT ? dout : MAXACT;
    bptt_activation *act = have_act ? malloc((nact ? nact : 1) * sizeof *act)
                                    : NULL;
    int codes_ok = 1, needs_custom = 0;
    for (size_t i = 0; act && i < nact; i++) {
        act[i] = pat[i % np];
        codes_ok &= (unsigned)act[i] < BPTT_NACTIVATION;
        needs_custom |= act[i] == BPTT_ACT_CUSTOM;
    }
    unsigned faults = 0;
    if ((nulls & 1) || !act)
        faults |= BIT(BPTT_ENULL);
    if (!din || !dout)
        faults |= BIT(BPTT_ESIZE);
    else if (!sizes_ok)
        faults |= BIT(BPTT_EOVERFLOW);
    /* codes are read only once the sizes are known to be sane */
    if (sizes_ok && (!codes_ok || (needs_custom &&
                                   (!cu || !cu->f || !cu->df))))
        faults |= BIT(BPTT_EACTIVATION);

    bptt_net *sentinel = (bptt_net *)&faults, *net = sentinel;
    mark_detail();
    bptt_status st = bptt_net_create(din, dout, act, cu,
                                     nulls & 1 ? NULL : &net);
    if (faults) {
        REQUIRE(st != BPTT_OK && (faults >> st & 1u),
                "bptt_net_create: status %s, faults 0x%x", bptt_strerror(st),
                faults);
        REQUIRE(strncmp(bptt_error_detail(), "bptt_net_create", 15) == 0,
                "detail");
        REQUIRE(net == sentinel, "bptt_net_create wrote *net on error");
    } else {
        REQUIRE(st == BPTT_OK, "bptt_net_create: %s", bptt_strerror(st));
        REQUIRE(bptt_net_din(net) == din && bptt_net_dout(net) == dout,
                "sizes");
        /* the codes were copied */
        for (size_t i = 0; i < nact; i++)
            act[i] = BPTT_ACT_RELU;
        for (size_t i = 0; i < dout; i++)
            REQUIRE(bptt_net_activation(net, i) == pat[i % np], "act[%zu]", i);
        REQUIRE(bptt_net_activation(net, dout) == BPTT_NACTIVATION, "range");
        bptt_net_free(net);
    }
    free(act);
}

void op_net_create_uniform(bytes *r)
{
    const size_t din = pick_dim(r), dout = pick_dim(r);
    const bptt_activation act = pick_act(r);
    const bptt_custom_activation *cu = pick_custom(r);
    const unsigned nulls = u8(r);
    const int sizes_ok = din && dout && din <= (size_t)INT_MAX &&
                         dout <= (size_t)INT_MAX - din;
    /* A valid network of 2^31 units is legal but needs gigabytes: the
     * harness does not ask for one (libFuzzer's malloc limit). */
    if (sizes_ok && dout > MAXACT)
        return;
    unsigned faults = 0;
    if (nulls & 1)
        faults |= BIT(BPTT_ENULL);
    if (!din || !dout)
        faults |= BIT(BPTT_ESIZE);
    else if (!sizes_ok)
        faults |= BIT(BPTT_EOVERFLOW);
    if (sizes_ok && ((unsigned)act >= BPTT_NACTIVATION ||
                     (act == BPTT_ACT_CUSTOM && (!cu || !cu->f || !cu->df))))
        faults |= BIT(BPTT_EACTIVATION);
    bptt_net *sentinel = (bptt_net *)&faults, *net = sentinel;
    mark_detail();
    bptt_status st = bptt_net_create_uniform(din, dout, act, cu,
                                             nulls & 1 ? NULL : &net);
    if (faults) {
        REQUIRE(st != BPTT_OK && (faults >> st & 1u),
                "bptt_net_create_uniform: status %s, faults 0x%x",
                bptt_strerror(st), faults);
        REQUIRE(strncmp(bptt_error_detail(), "bptt_net_create", 15) == 0,
                "detail");
        REQUIRE(net == sentinel, "wrote *net on error");
    } else {
        REQUIRE(st == BPTT_OK, "bptt_net_create_uniform: %s",
                bptt_strerror(st));
        REQUIRE(bptt_net_activation(net, dout - 1) == act, "act");
        bptt_net_free(net);
    }
}

/* ------------------------------------------------------------------------ */
/* op: workspace size, alloc, init                                           */
/* ------------------------------------------------------------------------ */

void op_workspace(bytes *r)
{
    const api *A = &apis[u8(r) & 1];
    char fn[64];
    /* a small net, or one with m = din + dout up to INT_MAX */
    const unsigned v = u8(r);
    const size_t dout = 1 + u8(r) % 16;
    const size_t din = v & 1 ? (size_t)INT_MAX - dout - u8(r) : 1 + u8(r) % 16;
    bptt_net *net = NULL;
    REQUIRE(bptt_net_create_uniform(din, dout, BPTT_ACT_TANH, NULL, &net) ==
                BPTT_OK, "net");
    const size_t Tmax = pick_count(r, 8), Bmax = pick_count(r, 8);
    const unsigned nulls = (u8(r) & 0xF0) == 0xF0 ? u8(r) : 0;
    const bptt_net *cnet = nulls & 1 ? NULL : net;

    unsigned faults = 0;
    if (!cnet)
        faults |= BIT(BPTT_ENULL);
    if (!Tmax || !Bmax)
        faults |= BIT(BPTT_ESIZE);
    const size_t want = formula(A->r, Tmax, Bmax, din + dout, dout);
    if (Tmax && Bmax && !want)
        faults |= BIT(BPTT_EOVERFLOW);

    size_t bytes = 12345;
    mark_detail();
    bptt_status st = A->size(cnet, Tmax, Bmax, nulls & 2 ? NULL : &bytes);
    fname(A, "workspace_size", fn);
    if (faults || (nulls & 2)) {
        REQUIRE(st != BPTT_OK && ((faults | BIT(BPTT_ENULL)) >> st & 1u),
                "%s: %s, faults 0x%x", fn, bptt_strerror(st), faults);
        REQUIRE(strncmp(bptt_error_detail(), fn, strlen(fn)) == 0, "detail");
        REQUIRE(bytes == 12345, "%s wrote bytes on error", fn);
    } else {
        REQUIRE(st == BPTT_OK && bytes == want,
                "%s: %s, %zu bytes, formula %zu", fn, bptt_strerror(st), bytes,
                want);
    }

    /* alloc and init agree with the size query */
    void *sentinel = &bytes, *ws = sentinel;
    if (faults || want > ((size_t)64 << 20)) {
        if (faults) {
            st = A->alloc(cnet, Tmax, Bmax, &ws);
            REQUIRE(st != BPTT_OK && ws == sentinel, "alloc on error");
            unsigned char small[64];
            memset(small, 0x33, sizeof small);
            st = A->init(cnet, Tmax, Bmax, small, sizeof small, &ws);
            REQUIRE(st != BPTT_OK && ws == sentinel, "init on error");
            for (size_t i = 0; i < sizeof small; i++)
                REQUIRE(small[i] == 0x33, "init wrote the buffer on error");
        }
        bptt_net_free(net);
        return;
    }
    REQUIRE(A->alloc(cnet, Tmax, Bmax, nulls & 4 ? NULL : &ws) ==
                (nulls & 4 ? BPTT_ENULL : BPTT_OK), "alloc");
    if (!(nulls & 4)) {
        REQUIRE(ws != sentinel && ws != NULL, "alloc gave no workspace");
        A->free(ws);
    }
    /* the caller's buffer at any alignment, exactly big enough; one byte
     * short is refused without a write */
    const size_t off = u8(r) % 64;
    arena a = {0};
    unsigned char *buf = arena_new(&a, want + off);
    arena_snapshot(&a);
    ws = sentinel;
    mark_detail();
    st = A->init(cnet, Tmax, Bmax, buf + off, want - 1, &ws);
    fname(A, "workspace_init", fn);
    require_rejected(st, BIT(BPTT_EBUFFER), fn, &a);
    REQUIRE(ws == sentinel, "init wrote *ws on error");
    REQUIRE(A->init(cnet, Tmax, Bmax, buf + off, want, &ws) == BPTT_OK,
            "init: %s", bptt_error_detail());
    REQUIRE((unsigned char *)ws >= buf + off &&
                (unsigned char *)ws < buf + off + want, "ws outside buf");
    A->free(ws);
    arena_free(&a);
    bptt_net_free(net);
}

/* ------------------------------------------------------------------------ */
/* op: the squared-error loss                                                */
/* ------------------------------------------------------------------------ */

void op_loss(bytes *r)
{
    const api *A = &apis[u8(r) & 1];
    char fn[64];
    fname(A, "loss_squared", fn);
    const size_t T = pick_small(r, 6), B = pick_small(r, 4);
    const size_t dout = pick_small(r, 9);
    const size_t ldy = pick_small_ld(r, dout), ldt = pick_small_ld(r, dout);
    const size_t lddy = pick_small_ld(r, dout);
    const unsigned flags = u8(r), nulls = (u8(r) & 0xE0) == 0xE0 ? u8(r) : 0;
    const int hostile = flags & 1, with_dy = !(flags & 2),
              with_mask = flags & 4;
    /* arrays for the call's shape when it is small, else a token 1 x 1 */
    const int small = T <= 6 && B <= 4 && dout <= 9;
    const size_t rows = small && T * B != 0 ? T * B : 1;
    const size_t cols = small && dout ? dout : 1;
    arena a = {0};
    mat y = mat_new(&a, A, r, rows, cols, ldy, 1, hostile);
    mat t = mat_new(&a, A, r, rows, cols, ldt, 1, hostile);
    mat dy = {0};
    if (with_dy)
        dy = mat_new(&a, A, r, rows, cols, lddy, 1, 1);
    unsigned char *mask = NULL;
    if (with_mask) {
        mask = arena_new(&a, rows);
        for (size_t k = 0; k < rows; k++)
            mask[k] = (unsigned char)(u8(r) & 1);
    }
    double *loss = arena_new(&a, sizeof(double));
    *loss = 4321;
    const void *cy = nulls & 1 ? NULL : y.p, *ct = nulls & 2 ? NULL : t.p;
    double *cl = nulls & 4 ? NULL : loss;

    unsigned faults = 0;
    if (!cy || !ct || !cl)
        faults |= BIT(BPTT_ENULL);
    if (!T || !B || !dout)
        faults |= BIT(BPTT_ESIZE);
    else if (ldy < dout || ldt < dout || (with_dy && lddy < dout))
        faults |= BIT(BPTT_ELD);
    else if ((u128)T * B > (u128)SIZE_MAX || !extent_ok(A, T * B, ldy) ||
             !extent_ok(A, T * B, ldt) ||
             (with_dy && !extent_ok(A, T * B, lddy)))
        faults |= BIT(BPTT_EOVERFLOW);
    REQUIRE(faults || small, "harness: a large valid loss call");

    arena_snapshot(&a);
    mark_detail();
    bptt_status st = A->loss(T, B, dout, cy, ldy, ct, ldt, mask, cl, dy.p,
                             lddy);
    if (faults) {
        require_rejected(st, faults, fn, &a);
        HIT(H_OTHER_REJECTED);
        arena_free(&a);
        return;
    }
    HIT(H_OTHER_CHECKED);
    REQUIRE(st == BPTT_OK, "%s: %s", fn, bptt_strerror(st));
    REQUIRE(arena_changed(&a, dy.p, loss) < 0, "%s wrote an input", fn);
    REQUIRE(padding_kept(A, &a, dy), "%s wrote dy's padding", fn);
    /* eqs. (1)-(3) by the harness: dy = y − ŷ rounded to R (bitwise), the
     * loss summed in double in the same order */
    double sum = 0;
    for (size_t k = 0; k < T * B; k++)
        for (size_t i = 0; i < dout; i++) {
            double e = 0;
            if (!mask || mask[k]) {
                double yi = A->get(y.p, k * ldy + i);
                double ti = A->get(t.p, k * ldt + i);
                e = A->r == sizeof(float) ? (double)((float)yi - (float)ti)
                                          : yi - ti;
            }
            sum += 0.5 * e * e;
            if (dy.p)
                REQUIRE(same_value(A->get(dy.p, k * lddy + i), e),
                        "%s: dy[%zu][%zu] = %g, want %g", fn, k, i,
                        A->get(dy.p, k * lddy + i), e);
        }
    REQUIRE(same_value(*loss, sum) || fabs(*loss - sum) <= 1e-12 * fabs(sum),
            "%s: loss %.17g, want %.17g", fn, *loss, sum);
    arena_free(&a);
}

/* ------------------------------------------------------------------------ */
/* op: the SGD step of eq. (13)                                              */
/* ------------------------------------------------------------------------ */

void op_sgd(bytes *r)
{
    const api *A = &apis[u8(r) & 1];
    char fn[64];
    fname(A, "sgd_step", fn);
    const size_t rows = pick_small(r, 8), cols = pick_small(r, 12);
    const size_t lddw = pick_small_ld(r, cols), ldw = pick_small_ld(r, cols);
    const unsigned flags = u8(r), asel = u8(r);
    const unsigned nulls = (u8(r) & 0xE0) == 0xE0 ? u8(r) : 0;
    const int hostile = flags & 1;
    static const double alphas[] = {0.1, 0, 1, -0.5, 1e-3, 3};
    double alpha = alphas[asel % 6];
    if (asel >= 224)
        alpha = A->special[(asel - 224) % 10];
    const int small = rows <= 8 && cols <= 12;
    const size_t rr = small && rows ? rows : 1, cc = small && cols ? cols : 1;
    arena a = {0};
    mat dW = mat_new(&a, A, r, rr, cc, lddw, 1, hostile);
    mat W = mat_new(&a, A, r, rr, cc, ldw, 1, hostile);
    const void *cdW = nulls & 1 ? NULL : dW.p;
    void *cW = nulls & 2 ? NULL : W.p;
    unsigned faults = 0;
    if (!cdW || !cW)
        faults |= BIT(BPTT_ENULL);
    if (!rows || !cols)
        faults |= BIT(BPTT_ESIZE);
    else if (lddw < cols || ldw < cols)
        faults |= BIT(BPTT_ELD);
    else if (!extent_ok(A, rows, lddw) || !extent_ok(A, rows, ldw))
        faults |= BIT(BPTT_EOVERFLOW);
    if (!isfinite(alpha))
        faults |= BIT(BPTT_EINVAL);
    REQUIRE(faults || small, "harness: a large valid sgd call");

    arena_snapshot(&a);
    mark_detail();
    bptt_status st = A->sgd(rows, cols, alpha, cdW, lddw, cW, ldw);
    if (faults) {
        require_rejected(st, faults, fn, &a);
        HIT(H_OTHER_REJECTED);
        arena_free(&a);
        return;
    }
    HIT(H_OTHER_CHECKED);
    REQUIRE(st == BPTT_OK, "%s: %s", fn, bptt_strerror(st));
    REQUIRE(arena_changed(&a, W.p, NULL) < 0, "%s wrote dW", fn);
    REQUIRE(padding_kept(A, &a, W), "%s wrote W's padding", fn);
    /* eq. (13) by the harness, in R: W − α·dW, bitwise */
    const unsigned char *w0 = arena_snap_of(&a, W.p);
    for (size_t i = 0; i < rows; i++)
        for (size_t j = 0; j < cols; j++) {
            double w = A->get(w0, i * ldw + j), d = A->get(dW.p, i * lddw + j);
            double want = A->r == sizeof(float)
                              ? (double)((float)w - (float)alpha * (float)d)
                              : w - alpha * d;
            double got = A->get(W.p, i * ldw + j);
            REQUIRE(same_value(got, want), "%s: W[%zu][%zu] = %g, want %g", fn,
                    i, j, got, want);
        }
    arena_free(&a);
}
