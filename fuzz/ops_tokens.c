/*
 * ops_tokens.c — the token-input calls (bptt_forward_tokens and the calls
 * beside it, bptt/network.h, bptt/elman.h, bptt/schedule.h), both
 * precisions.  Each op drives the token call and holds it to the dense call
 * on the one-hot rows of the same ids, made by the harness on a reference
 * workspace or stream: bitwise where the headers promise it (the forward of
 * the naive and deferred algorithms; everything with the naive one), to the
 * precision's tolerance elsewhere.  Ids are mostly in range, sometimes -1,
 * the vocabulary, INT32_MIN or INT32_MAX; tokens NULL; a backward of the
 * other kind after a forward; a gated Elman core; a stream that changes
 * kind without a reset.  A refused call writes nothing.
 */
#include "fuzz.h"

/* n ids in [0, vocab), or (one input in four) some out of range; returns
 * whether one is out. */
static int pick_ids(bytes *r, int32_t *tok, size_t n, size_t vocab)
{
    const int wild = (u8(r) & 3) == 3;
    int bad = 0;
    for (size_t k = 0; k < n; k++) {
        const unsigned v = u8(r);
        if (wild && v >= 240) {
            const int32_t out[] = {-1, (int32_t)vocab, INT32_MIN, INT32_MAX};
            tok[k] = out[v % 4];
            bad = 1;
        } else {
            tok[k] = (int32_t)(v % vocab);
        }
    }
    return bad;
}

/* The one-hot rows of n ids (n x vocab, dense) in the reference arena. */
static mat onehot(arena *ref, const api *A, const int32_t *tok, size_t n,
                  size_t vocab)
{
    mat X = mat_dense(ref, A, n, vocab);
    for (size_t k = 0; k < n; k++)
        A->set(X.p, k * vocab + (size_t)tok[k], 1);
    return X;
}

/* X against the reference's Ref: bitwise if exact, else normwise. */
static void require_match(const api *A, mat X, mat Ref, int exact,
                          const char *fn, const char *name)
{
    if (!X.p)
        return;
    for (size_t i = 0; exact && i < X.rows; i++)
        for (size_t j = 0; j < X.cols; j++)
            REQUIRE(same_value(mat_get(A, X, i, j), mat_get(A, Ref, i, j)),
                    "%s: %s[%zu][%zu] = %.17g, dense %.17g", fn, name, i, j,
                    mat_get(A, X, i, j), mat_get(A, Ref, i, j));
    REQUIRE(exact || mat_close(A, X, Ref, A->tol), "%s: %s %s", fn, name,
            why);
}

static const bptt_activation smooth[] = {BPTT_ACT_IDENTITY, BPTT_ACT_TANH,
                                         BPTT_ACT_LOGISTIC, BPTT_ACT_SOFTPLUS};

static mat none(void)
{
    return (mat){0};
}

/* The names of an op's calls: its forward, its backward and the dense
 * backward, e.g. stem "elman_" gives bptt_elman_forward_tokens, ... */
static void names(const api *A, const char *stem, char fnf[64], char fnb[64],
                  char fnd[64])
{
    char s[64];
    snprintf(s, sizeof s, "%sforward_tokens", stem);
    fname(A, s, fnf);
    snprintf(s, sizeof s, "%sbackward_tokens", stem);
    fname(A, s, fnb);
    snprintf(s, sizeof s, "%sbackward", stem);
    fname(A, s, fnd);
}

/* The outcome of a call: refused for one of the faults with nothing
 * written (0), or accepted having written only its n outputs outs (1). */
static int settle(bptt_status st, unsigned faults, const char *fn,
                  const arena *a, void *const *outs, int n)
{
    if (faults) {
        require_rejected(st, faults, fn, a);
        HIT(H_LATER_REJECTED);
        return 0;
    }
    REQUIRE(st == BPTT_OK, "%s: %s", fn, bptt_error_detail());
    HIT(H_LATER_ACCEPTED);
    require_only(a, outs, n, fn);
    return 1;
}

/* ------------------------------------------------------------------------ */
/* op: Network A's forward and backward on token ids                         */
/* ------------------------------------------------------------------------ */

void op_tokens_net(bytes *r)
{
    const int fl = u8(r) & 1;
    const api *A = &apis[fl];
    char fnf[64], fnb[64], fnd[64];
    names(A, "", fnf, fnb, fnd);
    arena a = {0}, ref = {0};
    const size_t din = 1 + u8(r) % 5, dout = 1 + u8(r) % 4, m = din + dout;
    bptt_net *net;
    REQUIRE(bptt_net_create_uniform(din, dout, smooth[u8(r) % 4], NULL,
                                    &net) == BPTT_OK, "net");
    const size_t Tmax = 1 + u8(r) % 3, Bmax = 1 + u8(r) % 3;
    size_t bytes_ws = 0;
    REQUIRE(A->size(net, Tmax, Bmax, &bytes_ws) == BPTT_OK, "size");
    unsigned char *wsbuf = arena_new(&a, bytes_ws);
    void *ws = NULL, *rws = NULL;
    REQUIRE(A->init(net, Tmax, Bmax, wsbuf, bytes_ws, &ws) == BPTT_OK, "init");
    REQUIRE(A->alloc(net, Tmax, Bmax, &rws) == BPTT_OK, "alloc");

    /* ---- forward ---- */
    const size_t T = pick_count(r, Tmax), B = pick_count(r, Bmax);
    const size_t TB = clampc(T, Tmax) * clampc(B, Bmax), Bc = clampc(B, Bmax);
    const bptt_algo algo = pick_algo(r);
    const unsigned opt = u8(r);
    mat W = mat_new(&a, A, r, dout, m, m + u8(r) % 2, 0.7, 0);
    mat b = opt & 1 ? mat_new(&a, A, r, 1, dout, dout, 0.3, 0) : none();
    mat y0 = opt & 2 ? mat_new(&a, A, r, Bc, dout, dout, 0.5, 0) : none();
    mat y = mat_new(&a, A, r, TB, dout, dout + u8(r) % 2, 1, 0);
    int32_t *tok = arena_new(&a, TB * sizeof *tok);
    const int bad = pick_ids(r, tok, TB, din);
    const int32_t *ct = opt & 4 ? NULL : tok;
    unsigned faults = count_fault(T, B, Tmax, Bmax);
    if (!algo_ok(algo))
        faults |= BIT(BPTT_EALGO);
    if (!ct)
        faults |= BIT(BPTT_ENULL);
    if (bad)
        faults |= BIT(BPTT_EINVAL);
    trace("tokens_net %s din %zu dout %zu T %zu B %zu algo %d faults 0x%x\n",
          fnf, din, dout, T, B, (int)algo, faults);
    arena_snapshot(&a);
    mark_detail();
    bptt_status st =
        fl ? bpttf_forward_tokens(net, T, B, W.p, W.ld, b.p, ct, y0.p, y0.ld,
                                  y.p, y.ld, algo, ws)
           : bptt_forward_tokens(net, T, B, W.p, W.ld, b.p, ct, y0.p, y0.ld,
                                 y.p, y.ld, algo, ws);
    void *fouts[] = {y.p, wsbuf};
    if (!settle(st, faults, fnf, &a, fouts, 2))
        goto out;
    REQUIRE(padding_kept(A, &a, y), "%s: y padding written", fnf);
    const mat X = onehot(&ref, A, tok, TB, din);
    mat yr = mat_dense(&ref, A, TB, dout);
    REQUIRE(A->forward(net, T, B, W.p, W.ld, b.p, X.p, din, y0.p, y0.ld, yr.p,
                       dout, algo, rws) == BPTT_OK, "dense forward");
    /* the gather is exact; gemv-ger splits its per-step sum */
    require_match(A, y, yr, algo != BPTT_ALGO_GEMV_GER, fnf, "y");
    HIT(H_LATER_COMPARED);

    /* ---- backward: the token one, or the dense one (refused) ---- */
    const unsigned bopt = u8(r);
    const int dense = (bopt & 7) == 7;
    mat dy = mat_new(&a, A, r, TB, dout, dout, 1, 0);
    mat dW = bopt & 8 ? none() : mat_new(&a, A, r, dout, m, m + u8(r) % 2, 1, 0);
    mat db = bopt & 16 ? mat_new(&a, A, r, 1, dout, dout, 1, 0) : none();
    mat dy0 = bopt & 32 ? mat_new(&a, A, r, Bc, dout, dout, 1, 0) : none();
    const double beta = pick_beta(r, A, bopt & 64);
    const mat dWr = mat_copy(&ref, A, dW), dbr = mat_copy(&ref, A, db),
              dy0r = mat_copy(&ref, A, dy0);
    faults = dense ? BIT(BPTT_ENOFORWARD) : 0;
    if (!isfinite(beta))
        faults |= BIT(BPTT_EINVAL);
    arena_snapshot(&a);
    mark_detail();
    if (dense)
        st = A->backward(net, T, B, W.p, W.ld, dy.p, dy.ld, beta, dW.p, dW.ld,
                         db.p, NULL, 0, dy0.p, dy0.ld, algo, ws);
    else
        st = fl ? bpttf_backward_tokens(net, T, B, W.p, W.ld, dy.p, dy.ld,
                                        (float)beta, dW.p, dW.ld, db.p, dy0.p,
                                        dy0.ld, algo, ws)
                : bptt_backward_tokens(net, T, B, W.p, W.ld, dy.p, dy.ld, beta,
                                       dW.p, dW.ld, db.p, dy0.p, dy0.ld, algo,
                                       ws);
    void *bouts[] = {dW.p, db.p, dy0.p, wsbuf};
    if (!settle(st, faults, dense ? fnd : fnb, &a, bouts, 4))
        goto out;
    REQUIRE(padding_kept(A, &a, dW), "%s: dW padding written", fnb);
    REQUIRE(A->backward(net, T, B, W.p, W.ld, dy.p, dy.ld, beta, dWr.p,
                        dWr.ld, dbr.p, NULL, 0, dy0r.p, dy0r.ld, algo,
                        rws) == BPTT_OK, "dense backward");
    /* naive: the same sums in the same order */
    const int exact = algo == BPTT_ALGO_NAIVE;
    require_match(A, dW, dWr, exact, fnb, "dW");
    require_match(A, db, dbr, exact, fnb, "db");
    require_match(A, dy0, dy0r, exact, fnb, "dy0");
    HIT(H_LATER_COMPARED);
out:
    A->free(ws);
    A->free(rws);
    arena_free(&a);
    arena_free(&ref);
    bptt_net_free(net);
}

/* ------------------------------------------------------------------------ */
/* op: Network B's forward and backward on token ids                         */
/* ------------------------------------------------------------------------ */

void op_tokens_elman(bytes *r)
{
    const int fl = u8(r) & 1;
    const api *A = &apis[fl];
    char fnf[64], fnb[64], fnd[64];
    names(A, "elman_", fnf, fnb, fnd);
    arena a = {0}, ref = {0};
    const size_t din = 1 + u8(r) % 5, dh = 1 + u8(r) % 4, m = din + dh;
    const size_t nout = 1 + u8(r) % 4;
    const int lstm = (u8(r) & 7) == 7;
    const size_t G = lstm ? 4 : 1;
    bptt_net *net;
    REQUIRE(bptt_net_create_uniform(din, dh, smooth[u8(r) % 4], NULL, &net) ==
                BPTT_OK, "net");
    bptt_elman *el;
    REQUIRE(bptt_elman_create_cell(lstm ? BPTT_CELL_LSTM : BPTT_CELL_VANILLA,
                                   net, nout, BPTT_HEAD_SOFTMAX, &el) ==
                BPTT_OK, "elman");
    const size_t Tmax = 1 + u8(r) % 3, Bmax = 1 + u8(r) % 3;
    size_t bytes_ws = 0;
    REQUIRE(A->el_size(el, Tmax, Bmax, &bytes_ws) == BPTT_OK, "size");
    unsigned char *wsbuf = arena_new(&a, bytes_ws);
    void *ws = NULL, *rws = NULL;
    REQUIRE(A->el_init(el, Tmax, Bmax, wsbuf, bytes_ws, &ws) == BPTT_OK,
            "init");
    REQUIRE(A->el_alloc(el, Tmax, Bmax, &rws) == BPTT_OK, "alloc");

    /* ---- forward ---- */
    const size_t T = pick_count(r, Tmax), B = pick_count(r, Bmax);
    const size_t TB = clampc(T, Tmax) * clampc(B, Bmax), Bc = clampc(B, Bmax);
    const bptt_algo algo = pick_algo(r);
    const unsigned opt = u8(r);
    mat W = mat_new(&a, A, r, G * dh, m, m + u8(r) % 2, 0.7, 0);
    mat bh = opt & 1 ? mat_new(&a, A, r, 1, G * dh, G * dh, 0.3, 0) : none();
    mat Wo = mat_new(&a, A, r, nout, dh, dh, 0.7, 0);
    mat bo = opt & 2 ? mat_new(&a, A, r, 1, nout, nout, 0.3, 0) : none();
    mat h0 = opt & 4 ? mat_new(&a, A, r, Bc, dh, dh, 0.5, 0) : none();
    mat h = opt & 8 ? mat_new(&a, A, r, TB, dh, dh + 1, 1, 0) : none();
    mat y = opt & 16 ? mat_new(&a, A, r, TB, nout, nout, 1, 0) : none();
    double *E = opt & 32 ? arena_new(&a, sizeof *E) : NULL;
    int *lab = arena_new(&a, TB * sizeof *lab);
    for (size_t k = 0; k < TB; k++)
        lab[k] = (int)(u8(r) % nout);
    int32_t *tok = arena_new(&a, TB * sizeof *tok);
    const int bad = pick_ids(r, tok, TB, din);
    const int32_t *ct = opt & 64 ? NULL : tok;
    unsigned faults = count_fault(T, B, Tmax, Bmax);
    if (!algo_ok(algo) || (lstm && algo == BPTT_ALGO_GEMV_GER))
        faults |= BIT(BPTT_EALGO);
    if (!ct)
        faults |= BIT(BPTT_ENULL);
    if (bad)
        faults |= BIT(BPTT_EINVAL);
    trace("tokens_elman %s din %zu dh %zu nout %zu lstm %d T %zu B %zu algo "
          "%d faults 0x%x\n", fnf, din, dh, nout, lstm, T, B, (int)algo,
          faults);
    arena_snapshot(&a);
    mark_detail();
    bptt_status st =
        fl ? bpttf_elman_forward_tokens(el, T, B, W.p, W.ld, bh.p, Wo.p, Wo.ld,
                                        bo.p, ct, h0.p, h0.ld, lab, NULL, 0, E,
                                        h.p, h.ld, y.p, y.ld, algo, ws)
           : bptt_elman_forward_tokens(el, T, B, W.p, W.ld, bh.p, Wo.p, Wo.ld,
                                       bo.p, ct, h0.p, h0.ld, lab, NULL, 0, E,
                                       h.p, h.ld, y.p, y.ld, algo, ws);
    void *fouts[] = {h.p, y.p, E, wsbuf};
    if (!settle(st, faults, fnf, &a, fouts, 4))
        goto out;
    REQUIRE(padding_kept(A, &a, h), "%s: h padding written", fnf);
    const mat X = onehot(&ref, A, tok, TB, din);
    mat hr = mat_dense(&ref, A, TB, dh), yr = mat_dense(&ref, A, TB, nout);
    double Er = 0;
    REQUIRE(A->el_forward(el, T, B, W.p, W.ld, bh.p, Wo.p, Wo.ld, bo.p, X.p,
                          din, h0.p, h0.ld, lab, NULL, 0, &Er, hr.p, dh, yr.p,
                          nout, algo, rws) == BPTT_OK, "dense forward");
    const int fexact = algo != BPTT_ALGO_GEMV_GER;
    require_match(A, h, hr, fexact, fnf, "h");
    require_match(A, y, yr, fexact, fnf, "y");
    REQUIRE(!E || (fexact ? *E == Er
                          : fabs(*E - Er) <= A->tol * (1 + fabs(Er))),
            "%s: E %.17g, dense %.17g", fnf, E ? *E : 0, Er);
    HIT(H_LATER_COMPARED);

    /* ---- backward: the token one, or the dense one (refused) ---- */
    const unsigned bopt = u8(r);
    const int dense = (bopt & 7) == 7;
    mat dW = mat_new(&a, A, r, G * dh, m, m + u8(r) % 2, 1, 0);
    mat dbh = bopt & 8 ? mat_new(&a, A, r, 1, G * dh, G * dh, 1, 0) : none();
    mat dWo = mat_new(&a, A, r, nout, dh, dh, 1, 0);
    mat dbo = bopt & 16 ? mat_new(&a, A, r, 1, nout, nout, 1, 0) : none();
    mat dh0 = bopt & 32 ? mat_new(&a, A, r, Bc, dh, dh, 1, 0) : none();
    const double beta = pick_beta(r, A, bopt & 64);
    const mat dWr = mat_copy(&ref, A, dW), dbhr = mat_copy(&ref, A, dbh),
              dWor = mat_copy(&ref, A, dWo), dbor = mat_copy(&ref, A, dbo),
              dh0r = mat_copy(&ref, A, dh0);
    faults = dense ? BIT(BPTT_ENOFORWARD) : 0;
    if (!isfinite(beta))
        faults |= BIT(BPTT_EINVAL);
    arena_snapshot(&a);
    mark_detail();
    if (dense)
        st = A->el_backward(el, T, B, W.p, W.ld, Wo.p, Wo.ld, lab, NULL, 0,
                            beta, dW.p, dW.ld, dbh.p, dWo.p, dWo.ld, dbo.p,
                            NULL, 0, dh0.p, dh0.ld, algo, ws);
    else
        st = fl ? bpttf_elman_backward_tokens(
                      el, T, B, W.p, W.ld, Wo.p, Wo.ld, lab, NULL, 0,
                      (float)beta, dW.p, dW.ld, dbh.p, dWo.p, dWo.ld, dbo.p,
                      dh0.p, dh0.ld, algo, ws)
                : bptt_elman_backward_tokens(
                      el, T, B, W.p, W.ld, Wo.p, Wo.ld, lab, NULL, 0, beta,
                      dW.p, dW.ld, dbh.p, dWo.p, dWo.ld, dbo.p, dh0.p, dh0.ld,
                      algo, ws);
    void *bouts[] = {dW.p, dbh.p, dWo.p, dbo.p, dh0.p, wsbuf};
    if (!settle(st, faults, dense ? fnd : fnb, &a, bouts, 6))
        goto out;
    REQUIRE(padding_kept(A, &a, dW), "%s: dW padding written", fnb);
    REQUIRE(A->el_backward(el, T, B, W.p, W.ld, Wo.p, Wo.ld, lab, NULL, 0,
                           beta, dWr.p, dWr.ld, dbhr.p, dWor.p, dWor.ld,
                           dbor.p, NULL, 0, dh0r.p, dh0r.ld, algo,
                           rws) == BPTT_OK, "dense backward");
    const int exact = algo == BPTT_ALGO_NAIVE;
    require_match(A, dW, dWr, exact, fnb, "dW");
    require_match(A, dbh, dbhr, exact, fnb, "dbh");
    require_match(A, dWo, dWor, exact, fnb, "dWo");
    require_match(A, dbo, dbor, exact, fnb, "dbo");
    require_match(A, dh0, dh0r, exact, fnb, "dh0");
    HIT(H_LATER_COMPARED);
out:
    A->el_free(ws);
    A->el_free(rws);
    arena_free(&a);
    arena_free(&ref);
    bptt_elman_free(el);
    bptt_net_free(net);
}

/* ------------------------------------------------------------------------ */
/* op: a stream of token ids through truncated BPTT (Network B)              */
/* ------------------------------------------------------------------------ */

/* One call of the stream step, typed by precision: tokens, or (dense) the
 * rows X. */
static bptt_status tb_step(int fl, int dense, void *tb, const bptt_elman *el,
                           size_t n, mat W, mat bh, mat Wo, mat bo,
                           const int32_t *tok, mat X, const int *lab,
                           double beta, mat dW, mat dbh, mat dWo, mat dbo,
                           mat h, double *E)
{
    if (fl)
        return !dense ? bpttf_tbptt_elman_step_tokens(
                         tb, el, n, W.p, W.ld, bh.p, Wo.p, Wo.ld, bo.p, tok,
                         lab, NULL, 0, (float)beta, dW.p, dW.ld, dbh.p, dWo.p,
                         dWo.ld, dbo.p, h.p, h.ld, E)
                   : bpttf_tbptt_elman_step(
                         tb, el, n, W.p, W.ld, bh.p, Wo.p, Wo.ld, bo.p, X.p,
                         X.ld, lab, NULL, 0, (float)beta, dW.p, dW.ld, dbh.p,
                         dWo.p, dWo.ld, dbo.p, h.p, h.ld, E);
    return !dense ? bptt_tbptt_elman_step_tokens(
                     tb, el, n, W.p, W.ld, bh.p, Wo.p, Wo.ld, bo.p, tok, lab,
                     NULL, 0, beta, dW.p, dW.ld, dbh.p, dWo.p, dWo.ld, dbo.p,
                     h.p, h.ld, E)
               : bptt_tbptt_elman_step(tb, el, n, W.p, W.ld, bh.p, Wo.p,
                                       Wo.ld, bo.p, X.p, X.ld, lab, NULL, 0,
                                       beta, dW.p, dW.ld, dbh.p, dWo.p, dWo.ld,
                                       dbo.p, h.p, h.ld, E);
}

void op_tokens_tbptt(bytes *r)
{
    const int fl = u8(r) & 1;
    const api *A = &apis[fl];
    char fnt[64], fnd[64];
    fname(A, "tbptt_elman_step_tokens", fnt);
    fname(A, "tbptt_elman_step", fnd);
    const size_t din = 1 + u8(r) % 5, dh = 1 + u8(r) % 4, m = din + dh;
    const size_t nout = 1 + u8(r) % 3;
    const size_t h = 1 + u8(r) % 3, hp = 1 + u8(r) % h, B = 1 + u8(r) % 2;
    bptt_net *net;
    REQUIRE(bptt_net_create_uniform(din, dh, smooth[u8(r) % 4], NULL, &net) ==
                BPTT_OK, "net");
    bptt_elman *el;
    REQUIRE(bptt_elman_create(net, nout, BPTT_HEAD_SOFTMAX, &el) == BPTT_OK,
            "elman");
    void *tb = NULL, *rtb = NULL; /* the token stream, its dense reference */
    REQUIRE((fl ? bpttf_tbptt_elman_alloc(el, h, hp, B, (bpttf_tbptt **)&tb)
                : bptt_tbptt_elman_alloc(el, h, hp, B, (bptt_tbptt **)&tb)) ==
                    BPTT_OK &&
                (fl ? bpttf_tbptt_elman_alloc(el, h, hp, B,
                                              (bpttf_tbptt **)&rtb)
                    : bptt_tbptt_elman_alloc(el, h, hp, B,
                                             (bptt_tbptt **)&rtb)) == BPTT_OK,
            "tbptt");
    arena w = {0}; /* the weights, for every call */
    mat W = mat_new(&w, A, r, dh, m, m + u8(r) % 2, 0.7, 0);
    mat bh = mat_new(&w, A, r, 1, dh, dh, 0.3, 0);
    mat Wo = mat_new(&w, A, r, nout, dh, dh, 0.7, 0);
    mat bo = mat_new(&w, A, r, 1, nout, nout, 0.3, 0);
    int len = 0, kind_tokens = 0; /* the stream's history, as the harness
                                     knows it */
    const unsigned calls = 1 + u8(r) % 4;
    for (unsigned c = 0; c < calls; c++) {
        arena a = {0}, ref = {0};
        const unsigned opt = u8(r);
        if ((opt & 15) == 15) { /* a new stream, both */
            REQUIRE((fl ? bpttf_tbptt_reset(tb, NULL, 0)
                        : bptt_tbptt_reset(tb, NULL, 0)) == BPTT_OK &&
                        (fl ? bpttf_tbptt_reset(rtb, NULL, 0)
                            : bptt_tbptt_reset(rtb, NULL, 0)) == BPTT_OK,
                    "reset");
            len = 0;
        }
        const int dense = (opt & 0x30) == 0x30; /* a dense step on tb */
        const unsigned nv = u8(r) % 8;
        const size_t n = nv < 6 ? 1 + nv % hp : nv == 6 ? 0 : hp + 1;
        const size_t rows = clampc(n, hp) * B;
        int32_t *tok = arena_new(&a, rows * sizeof *tok);
        const int bad = pick_ids(r, tok, rows, din);
        int *lab = arena_new(&a, rows * sizeof *lab);
        for (size_t k = 0; k < rows; k++)
            lab[k] = (int)(u8(r) % nout);
        const mat X = onehot(&ref, A, bad ? NULL : tok, bad ? 0 : rows, din);
        mat Xa = dense && !bad ? mat_copy(&a, A, X) : none();
        const double beta = (opt & 64) ? 1 : 0;
        mat dW = mat_new(&a, A, r, dh, m, m, 1, 0);
        mat dbh = mat_new(&a, A, r, 1, dh, dh, 1, 0);
        mat dWo = mat_new(&a, A, r, nout, dh, dh, 1, 0);
        mat dbo = mat_new(&a, A, r, 1, nout, nout, 1, 0);
        mat hs = mat_new(&a, A, r, rows, dh, dh, 1, 0);
        double *E = arena_new(&a, sizeof *E);
        const mat dWr = mat_copy(&ref, A, dW), dbhr = mat_copy(&ref, A, dbh),
                  dWor = mat_copy(&ref, A, dWo), dbor = mat_copy(&ref, A, dbo);
        mat hr = mat_dense(&ref, A, rows, dh);
        const int32_t *ct = (opt & 0x80) && !dense ? NULL : tok;
        unsigned faults = 0;
        if (n == 0)
            faults |= BIT(BPTT_ESIZE);
        if (n > hp)
            faults |= BIT(BPTT_ECAPACITY);
        if (!ct)
            faults |= BIT(BPTT_ENULL);
        if ((bad && !dense) || (len > 0 && kind_tokens == dense))
            faults |= BIT(BPTT_EINVAL);
        if (dense && bad) /* no rows for ids out of range: skip the call */
            goto next;
        trace("tokens_tbptt %s n %zu dense %d len %d faults 0x%x\n", fnt, n,
              dense, len, faults);
        arena_snapshot(&a);
        mark_detail();
        bptt_status st = tb_step(fl, dense, tb, el, n, W, bh, Wo, bo, ct, Xa,
                                 lab, beta, dW, dbh, dWo, dbo, hs, E);
        void *outs[] = {dW.p, dbh.p, dWo.p, dbo.p, hs.p, E};
        if (!settle(st, faults, dense ? fnd : fnt, &a, outs, 6))
            goto next;
        double Er = 0;
        REQUIRE(tb_step(fl, 1, rtb, el, n, W, bh, Wo, bo, NULL, X, lab, beta,
                        dWr, dbhr, dWor, dbor, hr, &Er) == BPTT_OK,
                "dense stream");
        /* the forward runs deferred: the gather is exact */
        require_match(A, hs, hr, 1, fnt, "h");
        REQUIRE(*E == Er, "%s: E %.17g, dense %.17g", fnt, *E, Er);
        require_match(A, dW, dWr, 0, fnt, "dW");
        require_match(A, dbh, dbhr, 0, fnt, "dbh");
        require_match(A, dWo, dWor, 0, fnt, "dWo");
        require_match(A, dbo, dbor, 0, fnt, "dbo");
        HIT(H_LATER_COMPARED);
        len = 1;
        kind_tokens = !dense;
    next:
        arena_free(&a);
        arena_free(&ref);
    }
    if (fl) {
        bpttf_tbptt_free(tb);
        bpttf_tbptt_free(rtb);
    } else {
        bptt_tbptt_free(tb);
        bptt_tbptt_free(rtb);
    }
    arena_free(&w);
    bptt_elman_free(el);
    bptt_net_free(net);
}
