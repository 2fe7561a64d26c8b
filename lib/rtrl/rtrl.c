/*
 * rtrl.c — real-time recurrent learning (eqs. (9)-(11)) in matrix form and
 * its public entry points: the state's size and placement, argument
 * checks, the step (the forward half, then eq. (10) with eq. (11) fused
 * into its GEMM panels when the targets are known, or eq. (11) alone in
 * accumulate) and the whole sequence.  The naive loop form lives in
 * rtrl_naive.c and is dispatched from here.
 */
#include <assert.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "arena.h"
#include "rtrl/rtrl_kernels.h"

/* ------------------------------------------------------------------------ */
/* State: size and placement                                                 */
/* ------------------------------------------------------------------------ */

/* The state's struct lives in its arena's slot (arena.h). */
static_assert(sizeof(struct X(rtrl)) <= BPTT_ARENA_SLOT,
              "rtrl header exceeds its slot");

enum { NARR = 9 }; /* P, S, D, Z, G, Y, A, C, V */

/* Rows of P and of the panel C are padded by 64 bytes: a row length that
 * is a multiple of 4 KiB (a panel of 512 doubles, say) maps every row to
 * the same cache sets, and the GEMM then runs about 10% slower. */
#define PAD (64 / sizeof(R))

/* The GEMM panel width of eq. (10), for n rows and cols columns of P:
 * about 64·1024 entries (512 KiB in double), so that the panel stays in
 * cache between the GEMM, eq. (11)'s GEMV and the copy back, while the
 * GEMM has at least 64 columns. */
static size_t panel_width(size_t n, size_t cols)
{
    size_t c = 64 * (n < 1024 ? 1024 / n : 1);
    return c < cols ? c : cols;
}

/* The arrays in one arena: the formula documented at bptt_rtrl_size. */
static bptt_status layout(const char *fn, const bptt_net *net, size_t Bmax,
                          bptt__arena *a, size_t *ldp_out)
{
    if (!net)
        return bptt__fail(BPTT_ENULL, fn, "net is NULL");
    if (Bmax == 0)
        return bptt__fail(BPTT_ESIZE, fn, "Bmax must be > 0");
    const size_t n = net->dout, m = net->m;
    int ok = 1;
    const size_t cols = bptt__mul(n, m + 1, &ok); /* m + 1 <= INT_MAX + 1 */
    const size_t rows = bptt__mul(Bmax, n, &ok);
    const size_t ldp = bptt__add(cols, PAD, &ok), c = panel_width(n, cols);
    const size_t len[NARR] = {
        bptt__mul(rows, ldp, &ok),              /* P */
        bptt__mul(Bmax, m, &ok),               /* S */
        rows, rows, rows, rows,                 /* D, Z, G, Y */
        bptt__mul(n, n, &ok),                   /* A */
        bptt__mul(n, c + PAD, &ok),             /* C */
        c                                       /* V */
    };
    size_t bytes[NARR];
    for (int i = 0; i < NARR; i++)
        bytes[i] = bptt__mul(len[i], sizeof(R), &ok);
    bptt__arena_layout(a, NARR, bytes, &ok);
    /* Bmax·n rows and n(m+1) columns of P are BLAS dimensions (eq. (11)). */
    if (!ok || rows > BPTT_INT_MAX || ldp > BPTT_INT_MAX)
        return bptt__fail(BPTT_EOVERFLOW, fn,
                          "the state for Bmax = %zu, dout = %zu, din + dout = "
                          "%zu does not fit", Bmax, n, m);
    *ldp_out = ldp;
    return BPTT_OK;
}

bptt_status X(rtrl_size)(const bptt_net *net, size_t Bmax, size_t *bytes)
{
    static const char fn[] = PREFIX "rtrl_size";
    bptt__arena a;
    size_t ldp;
    if (!bytes)
        return bptt__fail(BPTT_ENULL, fn, "bytes is NULL");
    CHECK(layout(fn, net, Bmax, &a, &ldp));
    *bytes = a.total;
    return BPTT_OK;
}

static X(rtrl) *place(const bptt_net *net, size_t Bmax, size_t ldp,
                      const bptt__arena *a, unsigned char *base, int owned)
{
    X(rtrl) *st = (X(rtrl) *)base;
    R *p[NARR];
    for (int i = 0; i < NARR; i++)
        p[i] = bptt__arena_at(base, a, (size_t)i);
    memset(st, 0, sizeof *st);
    st->net = net;
    st->gen = net->gen;
    atomic_init(&st->busy, 0);
    st->Bmax = Bmax;
    st->ldp = ldp;
    st->panel = panel_width(net->dout, ldp - PAD);
    st->P = p[0];
    st->S = p[1];
    st->D = p[2];
    st->Z = p[3];
    st->G = p[4];
    st->Y = p[5];
    st->A = p[6];
    st->C = p[7];
    st->V = p[8];
    st->owned = owned;
    return st;
}

bptt_status X(rtrl_alloc)(const bptt_net *net, size_t Bmax, X(rtrl) **st)
{
    static const char fn[] = PREFIX "rtrl_alloc";
    bptt__arena a;
    size_t ldp;
    unsigned char *base;
    if (!st)
        return bptt__fail(BPTT_ENULL, fn, "st is NULL");
    CHECK(layout(fn, net, Bmax, &a, &ldp));
    CHECK(bptt__arena_alloc(fn, &a, &base));
    *st = place(net, Bmax, ldp, &a, base, 1);
    return BPTT_OK;
}

bptt_status X(rtrl_init)(const bptt_net *net, size_t Bmax, void *buf,
                         size_t bytes, X(rtrl) **st)
{
    static const char fn[] = PREFIX "rtrl_init";
    bptt__arena a;
    size_t ldp;
    unsigned char *base;
    if (!st)
        return bptt__fail(BPTT_ENULL, fn, "st is NULL");
    if (!buf)
        return bptt__fail(BPTT_ENULL, fn, "buf is NULL");
    CHECK(layout(fn, net, Bmax, &a, &ldp));
    CHECK(bptt__arena_init(fn, &a, buf, bytes, &base));
    *st = place(net, Bmax, ldp, &a, base, 0);
    return BPTT_OK;
}

void X(rtrl_free)(X(rtrl) *st)
{
    /* alloc placed the struct at the start of its 64-aligned block. */
    if (st && st->owned)
        free(st);
}

/* ------------------------------------------------------------------------ */
/* Argument checks                                                           */
/* ------------------------------------------------------------------------ */

/* What every call on a state checks first. */
static bptt_status check_call(const char *fn, const bptt_net *net, size_t B,
                              bptt_rtrl_algo algo, const X(rtrl) *st)
{
    if (!net)
        return bptt__fail(BPTT_ENULL, fn, "net is NULL");
    if (!st)
        return bptt__fail(BPTT_ENULL, fn, "st is NULL");
    if (st->net != net)
        return bptt__fail(BPTT_EMISMATCH, fn,
                          "st was made for another network descriptor");
    if (st->gen != net->gen)
        return bptt__fail(BPTT_EMISMATCH, fn,
                          "st was made for a freed network descriptor whose "
                          "address net now reuses");
    if (B == 0)
        return bptt__fail(BPTT_ESIZE, fn, "B must be > 0");
    if (B > st->Bmax)
        return bptt__fail(BPTT_ECAPACITY, fn, "B = %zu exceeds Bmax = %zu", B,
                          st->Bmax);
    if ((unsigned)algo >= BPTT_RTRL_NALGO)
        return bptt__fail(BPTT_EALGO, fn, "algo = %d is not an RTRL algorithm",
                          (int)algo);
    return BPTT_OK;
}

/* One matrix argument: rows x cols with leading dimension ld. */
typedef struct mat_arg {
    const char *name;
    const void *p;
    int required;
    size_t rows, cols, ld;
} mat_arg;

/* Each present matrix has ld >= cols, ld small enough for BLAS and an
 * addressable extent; each required one is present. */
static bptt_status check_mats(const char *fn, const mat_arg *a, size_t count)
{
    for (size_t i = 0; i < count; i++)
        CHECK(XI(check_arg)(fn, a[i].name, a[i].p, a[i].required, a[i].rows,
                            a[i].cols, a[i].ld));
    return BPTT_OK;
}

/* beta scales dW and db as in bptt_backward: finite, or the gradient is
 * silently NaN. */
static bptt_status check_beta(const char *fn, R beta)
{
    if (!isfinite(beta))
        return bptt__fail(BPTT_EINVAL, fn, "beta is not finite");
    return BPTT_OK;
}

/* advance and step need a reset for the same B. */
static bptt_status check_reset(const char *fn, size_t B, const X(rtrl) *st)
{
    if (st->B == 0)
        return bptt__fail(BPTT_EINVAL, fn,
                          "st has not been reset (call " PREFIX "rtrl_reset)");
    if (B != st->B)
        return bptt__fail(BPTT_EINVAL, fn,
                          "B = %zu differs from the reset's B = %zu", B, st->B);
    return BPTT_OK;
}

/* ------------------------------------------------------------------------ */
/* The matrix form                                                           */
/* ------------------------------------------------------------------------ */

/* dW/db += v, v holding eq. (11)'s entries for columns c0 .. c0+w-1 of P
 * (column k·m+j is W_kj, column n·m+k is b_k). */
static void scatter_add(size_t n, size_t m, size_t c0, size_t w, const R *v,
                        R *dW, size_t lddw, R *db)
{
    size_t c = c0, end = c0 + w;
    for (; c < end && c < n * m; c++)
        dW[(c / m) * lddw + c % m] += v[c - c0];
    if (db)
        for (; c < end; c++)
            db[c - n * m] += v[c - c0];
}

void XI(rtrl_gemm_sens)(const bptt_net *net, size_t B, const R *W, size_t ldw,
                        int first, R *dW, size_t lddw, R *db,
                        struct X(rtrl) *st)
{
    const size_t din = net->din, n = net->dout, m = net->m, ldp = st->ldp;
    const size_t cols = n * (m + 1), panel = st->panel, ldc = panel + PAD;
    R *A = st->A, *C = st->C, *v = st->V;
    for (size_t b = 0; b < B; b++) {
        R *P = st->P + b * n * ldp;
        const R *s = st->S + b * m, *d = st->D + b * n, *g = st->G + b * n;
        if (first) {
            /* eq. (9): P(1) = E(s(0)) */
            memset(P, 0, n * ldp * sizeof(R));
        } else {
            /* A = Wy·diag(f'(z(t))) */
            for (size_t i = 0; i < n; i++)
                for (size_t l = 0; l < n; l++)
                    A[i * n + l] = W[i * ldw + din + l] * d[l];
            /* eq. (10): P ← A·P, panel by panel through C (in place) */
            for (size_t c0 = 0; c0 < cols; c0 += panel) {
                const size_t w = cols - c0 < panel ? cols - c0 : panel;
                CBLAS(gemm)(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)n,
                            (int)w, (int)n, 1, A, (int)n, P + c0, (int)ldp, 0,
                            C, (int)ldc);
                /* eq. (11)'s second term, (A·P(t))ᵀ g, while the panel is
                 * in cache: this saves a pass over P */
                if (dW) {
                    CBLAS(gemv)(CblasRowMajor, CblasTrans, (int)n, (int)w, 1,
                                C, (int)ldc, g, 1, 0, v, 1);
                    scatter_add(n, m, c0, w, v, dW, lddw, db);
                }
                for (size_t i = 0; i < n; i++)
                    memcpy(P + i * ldp + c0, C + i * ldc, w * sizeof(R));
            }
        }
        /* ... + E(s(t)): s(t)ᵀ in row k, block k; 1 in bias column k */
        for (size_t k = 0; k < n; k++) {
            R *row = P + k * ldp;
            for (size_t j = 0; j < m; j++)
                row[k * m + j] += s[j];
            row[n * m + k] += 1;
        }
        /* eq. (11)'s first term, E(s(t))ᵀ g: dW_kj += g_k s_j(t), db_k += g_k */
        if (dW) {
            for (size_t k = 0; k < n; k++)
                for (size_t j = 0; j < m; j++)
                    dW[k * lddw + j] += g[k] * s[j];
            if (db)
                for (size_t k = 0; k < n; k++)
                    db[k] += g[k];
        }
    }
}

void XI(rtrl_gemm_grad)(const bptt_net *net, size_t B, R *dW, size_t lddw,
                        R *db, const struct X(rtrl) *st)
{
    const size_t n = net->dout, m = net->m;
    const int rows = (int)(B * n), ldp = (int)st->ldp;
    /* eq. (11) for all sequences at once: vec(dW) += P[:, W-part]ᵀ G,
     * P being the B matrices P_b stacked and G the B vectors e ⊙ f'. */
    if (lddw == m)
        CBLAS(gemv)(CblasRowMajor, CblasTrans, rows, (int)(n * m), 1, st->P,
                    ldp, st->G, 1, 1, dW, 1);
    else /* rows of dW apart: one GEMV per row k (block k of P) */
        for (size_t k = 0; k < n; k++)
            CBLAS(gemv)(CblasRowMajor, CblasTrans, rows, (int)m, 1,
                        st->P + k * m, ldp, st->G, 1, 1, dW + k * lddw, 1);
    if (db)
        CBLAS(gemv)(CblasRowMajor, CblasTrans, rows, (int)n, 1,
                    st->P + n * m, ldp, st->G, 1, 1, db, 1);
}

/* ------------------------------------------------------------------------ */
/* Steps (arguments checked)                                                 */
/* ------------------------------------------------------------------------ */

/* The forward half of a step, which does not need P: z(t+1) = W s(t) + b
 * and y(t+1) = f(z(t+1)) into Y; Z becomes f'(z(t+1)).  S and D still
 * hold s(t) and f'(z(t)) for eq. (10). */
static void forward(const bptt_net *net, size_t B, const R *W, size_t ldw,
                    const R *b, const R *x, size_t ldx, bptt_rtrl_algo algo,
                    X(rtrl) *st)
{
    const size_t din = net->din, n = net->dout, m = net->m;
    R *S = st->S, *Z = st->Z;
    for (size_t bb = 0; bb < B; bb++)
        memcpy(S + bb * m, x + bb * ldx, din * sizeof(R));
    /* z(t+1) = W s(t) (+ b) */
    if (algo == BPTT_RTRL_NAIVE)
        XI(naive_affine)(net, B, W, ldw, S, 0, Z);
    else
        XI(rows_times)(1, B, n, m, S, m, W, ldw, 0, Z, n);
    if (b)
        XI(add_bias)(B, n, b, Z, n);
    XI(activate)(net, B, Z, st->Y, n);
}

/* After eq. (10): y(t+1) becomes the next step's y(t) (and goes to y if
 * not NULL), f'(z(t+1)) the next step's f'(z(t)). */
static void finish(const bptt_net *net, size_t B, R *y, size_t ldy,
                   X(rtrl) *st)
{
    const size_t din = net->din, n = net->dout, m = net->m;
    for (size_t bb = 0; bb < B; bb++) {
        memcpy(st->S + bb * m + din, st->Y + bb * n, n * sizeof(R));
        if (y)
            memcpy(y + bb * ldy, st->Y + bb * n, n * sizeof(R));
    }
    R *Z = st->Z;
    st->Z = st->D;
    st->D = Z;
    st->steps++;
}

/* G = (y(t+1) − ŷ) ⊙ f'(z(t+1)) on the masked sequences (eqs. (3), (5)),
 * from Y and Z after forward(); returns the loss of eqs. (1)-(2),
 * accumulated in double. */
static double squared_error(const bptt_net *net, size_t B, const R *target,
                            size_t ldt, const unsigned char *mask, X(rtrl) *st)
{
    const size_t n = net->dout;
    double sum = 0;
    for (size_t bb = 0; bb < B; bb++) {
        const int on = !mask || mask[bb];
        const R *yr = st->Y + bb * n, *tr = target + bb * ldt;
        const R *d = st->Z + bb * n;
        R *g = st->G + bb * n;
        for (size_t i = 0; i < n; i++) {
            R e = on ? yr[i] - tr[i] : 0;
            sum += 0.5 * (double)e * (double)e;
            g[i] = e * d[i];
        }
    }
    return sum;
}

/* One step with targets, its gradient added to dW and db (already scaled
 * by beta).  The GEMM form knows e(t+1) before it updates P, so eq. (11)
 * rides along with eq. (10) panel by panel; the naive form updates P,
 * then sums eq. (11) over it, as the equation is written. */
static double step(const bptt_net *net, size_t B, const R *W, size_t ldw,
                   const R *b, const R *x, size_t ldx, const R *target,
                   size_t ldt, const unsigned char *mask, R *y, size_t ldy,
                   R *dW, size_t lddw, R *db, bptt_rtrl_algo algo,
                   X(rtrl) *st)
{
    const int first = st->steps == 0;
    forward(net, B, W, ldw, b, x, ldx, algo, st);
    const double loss = squared_error(net, B, target, ldt, mask, st);
    if (algo == BPTT_RTRL_NAIVE) {
        XI(rtrl_naive_sens)(net, B, W, ldw, first, st);
        XI(rtrl_naive_grad)(net, B, dW, lddw, db, st);
    } else {
        XI(rtrl_gemm_sens)(net, B, W, ldw, first, dW, lddw, db, st);
    }
    finish(net, B, y, ldy, st);
    return loss;
}

static void reset(const bptt_net *net, size_t B, const R *y0, size_t ldy0,
                  X(rtrl) *st)
{
    const size_t din = net->din, n = net->dout, m = net->m;
    for (size_t bb = 0; bb < B; bb++) {
        R *s = st->S + bb * m + din;
        if (y0)
            memcpy(s, y0 + bb * ldy0, n * sizeof(R));
        else
            memset(s, 0, n * sizeof(R));
    }
    st->B = B;
    st->steps = 0;
}

/* ------------------------------------------------------------------------ */
/* Public entry points                                                       */
/* ------------------------------------------------------------------------ */

/* reset once st is held (check_call passed). */
static bptt_status reset_held(const char *fn, const bptt_net *net, size_t B,
                              const R *y0, size_t ldy0, X(rtrl) *st)
{
    const mat_arg a[] = {{"y0", y0, 0, B, net->dout, ldy0}};
    CHECK(check_mats(fn, a, 1));
    reset(net, B, y0, ldy0, st);
    return BPTT_OK;
}

bptt_status X(rtrl_reset)(const bptt_net *net, size_t B, const R *y0,
                          size_t ldy0, X(rtrl) *st)
{
    static const char fn[] = PREFIX "rtrl_reset";
    CHECK(check_call(fn, net, B, BPTT_RTRL_AUTO, st));
    CHECK(bptt__enter(fn, "st", &st->busy));
    bptt_status s_ = reset_held(fn, net, B, y0, ldy0, st);
    bptt__leave(&st->busy);
    return s_;
}

/* advance once st is held (check_call passed). */
static bptt_status advance_held(const char *fn, const bptt_net *net, size_t B,
                                const R *W, size_t ldw, const R *b, const R *x,
                                size_t ldx, R *y, size_t ldy,
                                bptt_rtrl_algo algo, X(rtrl) *st)
{
    const mat_arg a[] = {{"W", W, 1, net->dout, net->m, ldw},
                         {"x", x, 1, B, net->din, ldx},
                         {"y", y, 1, B, net->dout, ldy}};
    CHECK(check_mats(fn, a, 3));
    const bptt__region out[] = {RREG("y", y, B, net->dout, ldy)};
    const bptt__region in[] = {RREG("W", W, net->dout, net->m, ldw),
                               RREG("b", b, 1, net->dout, net->dout),
                               RREG("x", x, B, net->din, ldx)};
    CHECK(bptt__check_overlap(fn, out, 1, in, 3));
    CHECK(check_reset(fn, B, st));
    const int first = st->steps == 0;
    forward(net, B, W, ldw, b, x, ldx, algo, st);
    /* P(t+1) from s(t) and f'(z(t)), before finish() replaces them */
    if (algo == BPTT_RTRL_NAIVE)
        XI(rtrl_naive_sens)(net, B, W, ldw, first, st);
    else
        XI(rtrl_gemm_sens)(net, B, W, ldw, first, NULL, 0, NULL, st);
    finish(net, B, y, ldy, st);
    return BPTT_OK;
}

bptt_status X(rtrl_advance)(const bptt_net *net, size_t B, const R *W,
                            size_t ldw, const R *b, const R *x, size_t ldx,
                            R *y, size_t ldy, bptt_rtrl_algo algo,
                            X(rtrl) *st)
{
    static const char fn[] = PREFIX "rtrl_advance";
    CHECK(check_call(fn, net, B, algo, st));
    CHECK(bptt__enter(fn, "st", &st->busy));
    bptt_status s_ = advance_held(fn, net, B, W, ldw, b, x, ldx, y, ldy, algo,
                                  st);
    bptt__leave(&st->busy);
    return s_;
}

/* accumulate once st is held (check_call passed). */
static bptt_status accumulate_held(const char *fn, const bptt_net *net,
                                   size_t B, const R *dy, size_t lddy, R beta,
                                   R *dW, size_t lddw, R *db,
                                   bptt_rtrl_algo algo, X(rtrl) *st)
{
    const size_t n = net->dout;
    const mat_arg a[] = {{"dy", dy, 1, B, n, lddy},
                         {"dW", dW, 1, n, net->m, lddw}};
    CHECK(check_mats(fn, a, 2));
    const bptt__region out[] = {RREG("dW", dW, n, net->m, lddw),
                                RREG("db", db, 1, n, n)};
    const bptt__region in[] = {RREG("dy", dy, B, n, lddy)};
    CHECK(bptt__check_overlap(fn, out, 2, in, 1));
    CHECK(check_beta(fn, beta));
    if (st->steps == 0)
        return bptt__fail(BPTT_ENOFORWARD, fn,
                          "no advance since the last reset");
    if (B != st->B)
        return bptt__fail(BPTT_ENOFORWARD, fn,
                          "B = %zu differs from the advanced B = %zu", B,
                          st->B);
    /* eq. (5): e ⊙ f'(z(t+1)) */
    for (size_t bb = 0; bb < B; bb++)
        for (size_t i = 0; i < n; i++)
            st->G[bb * n + i] = dy[bb * lddy + i] * st->D[bb * n + i];
    XI(scale)(n, net->m, beta, dW, lddw);
    if (db)
        XI(scale)(1, n, beta, db, n);
    if (algo == BPTT_RTRL_NAIVE)
        XI(rtrl_naive_grad)(net, B, dW, lddw, db, st);
    else
        XI(rtrl_gemm_grad)(net, B, dW, lddw, db, st);
    return BPTT_OK;
}

bptt_status X(rtrl_accumulate)(const bptt_net *net, size_t B, const R *dy,
                               size_t lddy, R beta, R *dW, size_t lddw, R *db,
                               bptt_rtrl_algo algo, X(rtrl) *st)
{
    static const char fn[] = PREFIX "rtrl_accumulate";
    CHECK(check_call(fn, net, B, algo, st));
    CHECK(bptt__enter(fn, "st", &st->busy));
    bptt_status s_ = accumulate_held(fn, net, B, dy, lddy, beta, dW, lddw, db,
                                     algo, st);
    bptt__leave(&st->busy);
    return s_;
}

/* step once st is held (check_call passed). */
static bptt_status step_held(const char *fn, const bptt_net *net, size_t B,
                             const R *W, size_t ldw, const R *b, const R *x,
                             size_t ldx, const R *target, size_t ldt,
                             const unsigned char *mask, R *y, size_t ldy,
                             double *loss, R beta, R *dW, size_t lddw, R *db,
                             bptt_rtrl_algo algo, X(rtrl) *st)
{
    const size_t n = net->dout, m = net->m;
    const mat_arg a[] = {{"W", W, 1, n, m, ldw},
                         {"x", x, 1, B, net->din, ldx},
                         {"target", target, 1, B, n, ldt},
                         {"y", y, 0, B, n, ldy},
                         {"dW", dW, 1, n, m, lddw}};
    CHECK(check_mats(fn, a, 5));
    const bptt__region out[] = {RREG("y", y, B, n, ldy),
                                {"loss", loss, 1, 1, 1, sizeof(double)},
                                RREG("dW", dW, n, m, lddw),
                                RREG("db", db, 1, n, n)};
    const bptt__region in[] = {
        RREG("W", W, n, m, ldw),        RREG("b", b, 1, n, n),
        RREG("x", x, B, net->din, ldx), RREG("target", target, B, n, ldt),
        {"mask", mask, 1, B, B, 1}};
    CHECK(bptt__check_overlap(fn, out, 4, in, 5));
    CHECK(check_beta(fn, beta));
    CHECK(check_reset(fn, B, st));
    XI(scale)(n, m, beta, dW, lddw);
    if (db)
        XI(scale)(1, n, beta, db, n);
    const double sum = step(net, B, W, ldw, b, x, ldx, target, ldt, mask, y,
                            ldy, dW, lddw, db, algo, st);
    if (loss)
        *loss = sum;
    return BPTT_OK;
}

bptt_status X(rtrl_step)(const bptt_net *net, size_t B, const R *W,
                         size_t ldw, const R *b, const R *x, size_t ldx,
                         const R *target, size_t ldt,
                         const unsigned char *mask, R *y, size_t ldy,
                         double *loss, R beta, R *dW, size_t lddw, R *db,
                         bptt_rtrl_algo algo, X(rtrl) *st)
{
    static const char fn[] = PREFIX "rtrl_step";
    CHECK(check_call(fn, net, B, algo, st));
    CHECK(bptt__enter(fn, "st", &st->busy));
    bptt_status s_ = step_held(fn, net, B, W, ldw, b, x, ldx, target, ldt,
                               mask, y, ldy, loss, beta, dW, lddw, db, algo,
                               st);
    bptt__leave(&st->busy);
    return s_;
}

/* sequence once st is held (check_call passed). */
static bptt_status sequence_held(const char *fn, const bptt_net *net, size_t T,
                                 size_t B, const R *W, size_t ldw, const R *b,
                                 const R *x, size_t ldx, const R *y0,
                                 size_t ldy0, const R *target, size_t ldt,
                                 const unsigned char *mask, R *y, size_t ldy,
                                 double *loss, R beta, R *dW, size_t lddw,
                                 R *db, bptt_rtrl_algo algo, X(rtrl) *st)
{
    if (T == 0)
        return bptt__fail(BPTT_ESIZE, fn, "T must be > 0");
    int ok = 1;
    const size_t TB = bptt__mul(T, B, &ok), n = net->dout, m = net->m;
    if (!ok)
        return bptt__fail(BPTT_EOVERFLOW, fn, "T (%zu) x B (%zu) overflows", T,
                          B);
    const mat_arg a[] = {{"W", W, 1, n, m, ldw},
                         {"x", x, 1, TB, net->din, ldx},
                         {"y0", y0, 0, B, n, ldy0},
                         {"target", target, 1, TB, n, ldt},
                         {"y", y, 0, TB, n, ldy},
                         {"dW", dW, 1, n, m, lddw}};
    CHECK(check_mats(fn, a, 6));
    const bptt__region out[] = {RREG("y", y, TB, n, ldy),
                                {"loss", loss, 1, 1, 1, sizeof(double)},
                                RREG("dW", dW, n, m, lddw),
                                RREG("db", db, 1, n, n)};
    const bptt__region in[] = {
        RREG("W", W, n, m, ldw),         RREG("b", b, 1, n, n),
        RREG("x", x, TB, net->din, ldx), RREG("y0", y0, B, n, ldy0),
        RREG("target", target, TB, n, ldt), {"mask", mask, 1, TB, TB, 1}};
    CHECK(bptt__check_overlap(fn, out, 4, in, 6));
    CHECK(check_beta(fn, beta));

    /* eq. (12): scale once, then every step adds its eq. (11) */
    XI(scale)(n, m, beta, dW, lddw);
    if (db)
        XI(scale)(1, n, beta, db, n);
    reset(net, B, y0, ldy0, st);
    double sum = 0;
    for (size_t t = 0; t < T; t++) {
        const size_t k = t * B;
        sum += step(net, B, W, ldw, b, x + k * ldx, ldx, target + k * ldt,
                    ldt, mask ? mask + k : NULL, y ? y + k * ldy : NULL, ldy,
                    dW, lddw, db, algo, st);
    }
    if (loss)
        *loss = sum;
    return BPTT_OK;
}

bptt_status X(rtrl_sequence)(const bptt_net *net, size_t T, size_t B,
                             const R *W, size_t ldw, const R *b, const R *x,
                             size_t ldx, const R *y0, size_t ldy0,
                             const R *target, size_t ldt,
                             const unsigned char *mask, R *y, size_t ldy,
                             double *loss, R beta, R *dW, size_t lddw, R *db,
                             bptt_rtrl_algo algo, X(rtrl) *st)
{
    static const char fn[] = PREFIX "rtrl_sequence";
    CHECK(check_call(fn, net, B, algo, st));
    CHECK(bptt__enter(fn, "st", &st->busy));
    bptt_status s_ = sequence_held(fn, net, T, B, W, ldw, b, x, ldx, y0, ldy0,
                                   target, ldt, mask, y, ldy, loss, beta, dW,
                                   lddw, db, algo, st);
    bptt__leave(&st->busy);
    return s_;
}
