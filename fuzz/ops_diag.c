/*
 * ops_diag.c — the fuzz ops of the diagnostics: initial weights, spectral
 * radius and norm (LAPACKE), the error-flow recording and the lag profile
 * (fuzz/README.md).
 */
#include "fuzz.h"

/* ------------------------------------------------------------------------ */
/* op: initial weights (random, Glorot, orthogonal, rescaled radius)         */
/* ------------------------------------------------------------------------ */

static double r_max(const api *A)
{
    return A->r == sizeof(float) ? FLT_MAX : DBL_MAX;
}

/* Gram rows x rows of the rows of M (by_rows) or of its columns, divided
 * by g², against the identity: the orthogonal block's defining fact. */
static int orthonormal(const api *A, mat M, int by_rows, double g, double tol)
{
    const size_t q = by_rows ? M.rows : M.cols, n = by_rows ? M.cols : M.rows;
    for (size_t i = 0; i < q; i++)
        for (size_t j = 0; j < q; j++) {
            long double s = 0;
            for (size_t k = 0; k < n; k++)
                s += (long double)(by_rows ? mat_get(A, M, i, k)
                                           : mat_get(A, M, k, i)) *
                     (by_rows ? mat_get(A, M, j, k) : mat_get(A, M, k, j));
            s /= (long double)g * g;
            if (!(fabsl(s - (i == j)) <= tol)) {
                snprintf(why, sizeof why, ": Gram[%zu][%zu]/g² = %.17Lg", i,
                         j, s);
                return 0;
            }
        }
    return 1;
}

void op_init(bytes *r)
{
    const api *A = &apis[u8(r) & 1];
    static const char *const names[4] = {"init_random", "init_glorot",
                                         "init_orthogonal",
                                         "init_rescale_radius"};
    const unsigned which = u8(r) % 4;
    char fn[64];
    fname(A, names[which], fn);
    const size_t rows = pick_small(r, 7);
    const size_t cols = which == 3 ? rows : pick_small(r, 7);
    const size_t ld = pick_small_ld(r, cols);
    const unsigned flags = u8(r), psel = u8(r);
    const unsigned nulls = (u8(r) & 0xE0) == 0xE0 ? u8(r) : 0;
    const int hostile = flags & 1;
    static const int bad_dist[] = {BPTT_NDIST, -1};
    const bptt_dist dist = (flags & 0x70) == 0x70
                               ? (bptt_dist)bad_dist[flags >> 7]
                               : (bptt_dist)((flags >> 1) & 1);
    /* sigma, gain or radius */
    static const double params[] = {1, 0.5, 2, 0, 1e-3, 10, 0.9, 1.5};
    static const double wild[] = {NAN, -1, INFINITY, -INFINITY, DBL_MAX,
                                  -0.0, 1e300, 1e39, DBL_TRUE_MIN, 1e-300,
                                  FLT_MAX, 1e-40};
    const double param = psel >= 224 ? wild[(psel - 224) % 12]
                                     : params[psel % 8];
    uint64_t seed = 0;
    for (int i = 0; i < 8; i++)
        seed = seed << 8 | u8(r);
    const int small = rows <= 7 && cols <= 7;
    const size_t rr = small && rows ? rows : 1, cc = small && cols ? cols : 1;
    arena a = {0}, ref = {0};
    mat W = mat_new(&a, A, r, rr, cc, ld, 1, hostile);
    double *before = arena_new(&a, sizeof(double));
    *before = 4321;
    void *cW = nulls & 1 ? NULL : W.p;
    double *cb = nulls & 2 ? NULL : before;
    const double rmax = r_max(A);

    unsigned faults = 0;
    if (!cW)
        faults |= BIT(BPTT_ENULL);
    if (!rows || !cols)
        faults |= BIT(BPTT_ESIZE);
    else
        faults |= ld_fault(ld, cols) |
                  (extent_ok(A, rows, ld) ? 0 : BIT(BPTT_EOVERFLOW));
    if (which <= 1 && (unsigned)dist >= BPTT_NDIST)
        faults |= BIT(BPTT_EINVAL);
    if (!(param >= 0 && param <= (which == 3 ? DBL_MAX : rmax)))
        faults |= BIT(BPTT_EINVAL);
    /* a σ whose largest draw (√3σ uniform, 12.01σ Gaussian) overflows */
    const double sigma_of = which == 1 && rows && cols
                                ? param * sqrt(2.0 / ((double)rows +
                                                      (double)cols))
                                : param;
    const double bound = dist == BPTT_DIST_UNIFORM ? 1.7321 : 12.1;
    if (which <= 1 && (unsigned)dist < BPTT_NDIST && param >= 0 &&
        param <= rmax && !(sigma_of <= rmax / bound))
        faults |= BIT(BPTT_EOVERFLOW);
    /* rescale: what ρ(Wy) (bptt_spectral_radius) makes of it */
    double rho = 0, F0 = 0;
    if (which == 3 && !faults) {
        if (!mat_finite(A, W)) {
            faults |= BIT(BPTT_ENONFINITE);
        } else {
            F0 = (double)frob(A, W, 0, rows);
            REQUIRE(A->radius(rows, W.p, ld, &rho) == BPTT_OK, "radius: %s",
                    bptt_error_detail());
            /* radius/ρ when it is a normal double, else (a/ρ)·radius */
            const double c = param / rho, amax = mat_amax(A, W);
            const int direct = c >= DBL_MIN && c <= DBL_MAX;
            if (rho == 0)
                faults |= BIT(BPTT_EINVAL);
            else if (isinf(rho) ||
                     !((direct ? c * amax : amax / rho * param) <= rmax))
                faults |= BIT(BPTT_EOVERFLOW);
        }
    }

    trace("%s: %zu x %zu ld %zu dist %d param %g seed %llu nulls 0x%x\n", fn,
          rows, cols, ld, (int)dist, param, (unsigned long long)seed, nulls);
    arena_snapshot(&a);
    mark_detail();
    bptt_status st;
    switch (which) {
    case 0:
        st = A->init_random(rows, cols, dist, param, seed, cW, ld);
        break;
    case 1:
        st = A->init_glorot(rows, cols, dist, param, seed, cW, ld);
        break;
    case 2:
        st = A->init_orthogonal(rows, cols, param, seed, cW, ld);
        break;
    default:
        st = A->init_rescale(rows, param, cW, ld, cb);
    }
    if (faults) {
        require_rejected(st, faults, fn, &a);
        HIT(H_LATER_REJECTED);
        arena_free(&a);
        return;
    }
    HIT(H_LATER_ACCEPTED);
    REQUIRE(st == BPTT_OK, "%s: valid call gave %s", fn, bptt_strerror(st));
    void *const outs[] = {W.p, cb};
    require_only(&a, outs, 2, fn);
    REQUIRE(padding_kept(A, &a, W), "%s wrote W's padding", fn);

    if (which == 3) {
        /* Wy ← (radius/ρ)·Wy, rounded once (or (Wy/ρ)·radius when
         * radius/ρ is not a normal double); ρ as bptt_spectral_radius */
        REQUIRE(isfinite(rho), "%s: ρ(Wy) = %g for a finite Wy", fn, rho);
        REQUIRE(!cb || same_value(*before, rho), "%s: before %.17g, ρ %.17g",
                fn, *before, rho);
        const unsigned char *w0 = arena_snap_of(&a, W.p);
        const double c = param / rho;
        const int direct = c >= DBL_MIN && c <= DBL_MAX;
        for (size_t i = 0; i < rows; i++)
            for (size_t j = 0; j < rows; j++) {
                const double old = A->get(w0, i * ld + j);
                const double v = direct ? c * old : old / rho * param;
                const double want =
                    A->r == sizeof(float) ? (double)(float)v : v;
                REQUIRE(same_value(mat_get(A, W, i, j), want),
                        "%s: Wy[%zu][%zu] = %g, want %g", fn, i, j,
                        mat_get(A, W, i, j), want);
            }
        /* and the new radius is the one asked for.  A defective Wy moves
         * its eigenvalues by up to (ε‖Wy‖)^(1/n): small n, and ρ not small
         * next to ‖Wy‖ (a nilpotent Wy has ρ = 0 but a computed ρ of
         * rounding size, which the library cannot tell from a true one) */
        const int fl = A->r == sizeof(float);
        double now = 0;
        if (!hostile && rows <= 3 && param >= 1e-3 && param <= 1e3 &&
            rho >= (fl ? 0.2 : 1e-2) * F0) {
            REQUIRE(A->radius(rows, W.p, ld, &now) == BPTT_OK, "radius");
            REQUIRE(fabs(now - param) <= (fl ? 5e-2 : 1e-3) * param,
                    "%s: ρ is %.17g, asked %.17g", fn, now, param);
            HIT(H_LATER_COMPARED);
        }
        arena_free(&a);
        return;
    }
    /* the same seed gives the same block, whatever ld */
    mat W2 = mat_dense(&ref, A, rows, cols);
    switch (which) {
    case 0:
        st = A->init_random(rows, cols, dist, param, seed, W2.p, cols);
        break;
    case 1:
        st = A->init_glorot(rows, cols, dist, param, seed, W2.p, cols);
        break;
    default:
        st = A->init_orthogonal(rows, cols, param, seed, W2.p, cols);
    }
    REQUIRE(st == BPTT_OK, "%s again", fn);
    for (size_t i = 0; i < rows; i++)
        for (size_t j = 0; j < cols; j++)
            REQUIRE(same_value(mat_get(A, W, i, j), mat_get(A, W2, i, j)),
                    "%s: not determined by the seed at [%zu][%zu]", fn, i, j);
    if (which <= 1) {
        if (!(sigma_of <= FLT_MAX / bound)) /* not a float sigma */
            goto done;
        /* float draws are the double draws rounded */
        mat Wd = mat_dense(&ref, &apis[0], rows, cols);
        mat Wf = mat_dense(&ref, &apis[1], rows, cols);
        REQUIRE((which ? apis[0].init_glorot : apis[0].init_random)(
                    rows, cols, dist, param, seed, Wd.p, cols) == BPTT_OK &&
                    (which ? apis[1].init_glorot : apis[1].init_random)(
                        rows, cols, dist, param, seed, Wf.p, cols) == BPTT_OK,
                "%s in both precisions", fn);
        const double sigma = sigma_of;
        for (size_t i = 0; i < rows * cols; i++) {
            const double d = ((double *)Wd.p)[i];
            REQUIRE(same_value(((float *)Wf.p)[i], (float)d),
                    "%s: float %g is not double %.17g rounded", fn,
                    ((float *)Wf.p)[i], d);
            REQUIRE(dist != BPTT_DIST_UNIFORM ||
                        fabs(d) <= sqrt(3.0) * sigma * (1 + 1e-15),
                    "%s: uniform %g outside ±√3·%g", fn, d, sigma);
            REQUIRE(isfinite(d), "%s: %g from σ = %g", fn, d, sigma);
        }
        HIT(H_LATER_COMPARED);
    } else if (param == 0) {
        for (size_t i = 0; i < rows; i++)
            for (size_t j = 0; j < cols; j++)
                REQUIRE(mat_get(A, W, i, j) == 0, "%s: gain 0", fn);
    } else if (A->r == sizeof(float) ? param >= 1e-15 && param <= 1e15
                                     : param >= 1e-100 && param <= 1e100) {
        /* WᵀW = g²I (rows >= cols) or WWᵀ = g²I */
        REQUIRE(orthonormal(A, W, rows < cols, param,
                            A->r == sizeof(float) ? 1e-5 : 1e-10),
                "%s: %zu x %zu, gain %g%s", fn, rows, cols, param, why);
        HIT(H_LATER_COMPARED);
    }
done:
    arena_free(&a);
    arena_free(&ref);
}

/* ------------------------------------------------------------------------ */
/* op: spectral radius and spectral norm (LAPACKE)                           */
/* ------------------------------------------------------------------------ */

void op_spectral(bytes *r)
{
    const api *A = &apis[u8(r) & 1];
    const int is_norm = u8(r) & 1;
    char fn[64];
    fname(A, is_norm ? "spectral_norm" : "spectral_radius", fn);
    const size_t rows = pick_small(r, 6);
    const size_t cols = is_norm ? pick_small(r, 6) : rows;
    const size_t ld = pick_small_ld(r, cols);
    const unsigned flags = u8(r);
    const unsigned nulls = (u8(r) & 0xE0) == 0xE0 ? u8(r) : 0;
    const int hostile = flags & 1;
    const double big = A->r == sizeof(float) ? 1e30 : 1e300;
    const double scales[8] = {1, 1, 1, 1e-3, 1e3, big, 1 / big, 2};
    const int small = rows <= 6 && cols <= 6;
    const size_t rr = small && rows ? rows : 1, cc = small && cols ? cols : 1;
    arena a = {0};
    mat M = mat_new(&a, A, r, rr, cc, ld, scales[(flags >> 1) % 8], hostile);
    double *out = arena_new(&a, sizeof(double));
    *out = 4321;
    const void *cA = nulls & 1 ? NULL : M.p;
    double *co = nulls & 2 ? NULL : out;
    unsigned faults = 0;
    if (!co || !cA)
        faults |= BIT(BPTT_ENULL);
    if (!rows || !cols)
        faults |= BIT(BPTT_ESIZE);
    else
        faults |= ld_fault(ld, cols) |
                  (extent_ok(A, rows, ld) ? 0 : BIT(BPTT_EOVERFLOW));
    if (!faults && !mat_finite(A, M))
        faults |= BIT(BPTT_ENONFINITE);

    arena_snapshot(&a);
    mark_detail();
    const bptt_status st = is_norm ? A->norm(rows, cols, cA, ld, co)
                                   : A->radius(rows, cA, ld, co);
    if (faults) {
        require_rejected(st, faults, fn, &a);
        HIT(H_LATER_REJECTED);
        arena_free(&a);
        return;
    }
    HIT(H_LATER_ACCEPTED);
    REQUIRE(st == BPTT_OK, "%s: valid call gave %s (%s)", fn,
            bptt_strerror(st), bptt_error_detail());
    void *const outs[] = {out};
    require_only(&a, outs, 1, fn);
    /* bounds by the harness: max row and column 2-norms <= ‖A‖₂ <= ‖A‖_F;
     * ρ <= ‖A‖₂, ‖A‖₁, ‖A‖_∞ (to a backward error of n·ε·‖A‖) and
     * ρ >= |tr A|/n; ρ exactly for n <= 2 */
    const double v = *out;
    const long double F = frob(A, M, 0, rows);
    REQUIRE(v >= 0 && (F >= (long double)DBL_MAX * (1 - 1e-12L) ||
                       isfinite(v)),
            "%s: %g for a finite matrix of norm %Lg", fn, v, F);
    const double tiny = A->r == sizeof(float) ? 1e-30 : 1e-290;
    if (F < tiny || !isfinite(v))
        goto out;
    const double tol = A->r == sizeof(float) ? 1e-5 : 1e-12;
    long double rmax = 0, cmax = 0, r1 = 0, rinf = 0, tr = 0;
    for (size_t i = 0; i < rows; i++) {
        long double s = 0, s1 = 0;
        for (size_t j = 0; j < cols; j++) {
            const long double e = mat_get(A, M, i, j);
            s += e * e;
            s1 += fabsl(e);
        }
        rmax = fmaxl(rmax, sqrtl(s));
        rinf = fmaxl(rinf, s1);
        tr += i < cols ? (long double)mat_get(A, M, i, i) : 0;
    }
    for (size_t j = 0; j < cols; j++) {
        long double s = 0, s1 = 0;
        for (size_t i = 0; i < rows; i++) {
            const long double e = mat_get(A, M, i, j);
            s += e * e;
            s1 += fabsl(e);
        }
        cmax = fmaxl(cmax, sqrtl(s));
        r1 = fmaxl(r1, s1);
    }
    if (is_norm) {
        REQUIRE(v >= fmaxl(rmax, cmax) * (1 - tol) && v <= F * (1 + tol),
                "%s: %.17g outside [%.17Lg, %.17Lg]", fn, v, fmaxl(rmax, cmax),
                F);
    } else {
        const size_t n = rows;
        double sigma = 0;
        REQUIRE(A->norm(n, n, M.p, ld, &sigma) == BPTT_OK, "norm");
        REQUIRE(v <= fminl(fminl(r1, rinf), sigma) + tol * F,
                "%s: %.17g above ‖A‖₁ %.17Lg, ‖A‖_∞ %.17Lg or ‖A‖₂ %.17g", fn,
                v, r1, rinf, sigma);
        /* a defective A moves ρ by up to (ε‖A‖)^(1/n) */
        const double slack = n <= 2 ? (A->r == sizeof(float) ? 3e-3 : 1e-6)
                                    : (A->r == sizeof(float) ? 0.2 : 1e-2);
        REQUIRE(v >= fabsl(tr) / n - slack * F, "%s: %.17g below |tr|/n = "
                "%.17Lg", fn, v, fabsl(tr) / n);
        long double exact = -1;
        if (n == 1) {
            exact = fabsl(tr);
        } else if (n == 2) {
            const long double det = (long double)mat_get(A, M, 0, 0) *
                                         mat_get(A, M, 1, 1) -
                                     (long double)mat_get(A, M, 0, 1) *
                                         mat_get(A, M, 1, 0);
            const long double disc = tr * tr / 4 - det;
            exact = disc >= 0 ? fabsl(tr) / 2 + sqrtl(disc) : sqrtl(det);
        }
        REQUIRE(exact < 0 || fabsl(v - exact) <= slack * F,
                "%s: %.17g, exactly %.17Lg", fn, v, exact);
    }
    HIT(H_LATER_COMPARED);
out:
    arena_free(&a);
}

/* ------------------------------------------------------------------------ */
/* op: the error-flow recording and the lag profile                          */
/* ------------------------------------------------------------------------ */

/* The norms backward recorded for its last step: g(T) = dL/dy(T), so
 * gnorm[(T−1)·B + b] is the norm of dy's row. */
static void require_last_norms(const api *A, const char *fn, const double *gn,
                               mat dy, size_t T, size_t B)
{
    for (size_t b = 0; b < B; b++) {
        const size_t k = (T - 1) * B + b;
        REQUIRE(norm_close(gn[k], frob(A, dy, k, 1), 1e-13),
                "%s: gnorm[%zu] = %.17g, ‖dy row‖ = %.17Lg", fn, k, gn[k],
                frob(A, dy, k, 1));
    }
}

void op_flow(bytes *r)
{
    const api *A = &apis[u8(r) & 1];
    char fnr[64], fnp[64];
    fname(A, "workspace_record_flow", fnr);
    fname(A, "flow_lag_profile", fnp);
    const size_t din = 1 + u8(r) % 5, dout = 1 + u8(r) % 5, m = din + dout;
    bptt_activation act[5];
    for (size_t i = 0; i < dout; i++)
        act[i] = (bptt_activation)(u8(r) % BPTT_NACTIVATION);
    bptt_net *net = NULL, *other = NULL;
    REQUIRE(bptt_net_create(din, dout, act, &custom, &net) == BPTT_OK &&
                bptt_net_create(din, dout, act, &custom, &other) == BPTT_OK,
            "net");
    const size_t Tmax = 1 + u8(r) % 5, Bmax = 1 + u8(r) % 4, cap = Tmax * Bmax;
    arena a = {0}, ref = {0};
    size_t bytes_ws = 0;
    REQUIRE(A->size(net, Tmax, Bmax, &bytes_ws) == BPTT_OK, "size");
    const size_t off = u8(r) % 64;
    unsigned char *wsbuf = arena_new(&a, bytes_ws + off);
    void *ws = NULL, *rws = NULL;
    REQUIRE(A->init(net, Tmax, Bmax, wsbuf + off, bytes_ws, &ws) == BPTT_OK,
            "init");
    REQUIRE(A->alloc(net, Tmax, Bmax, &rws) == BPTT_OK, "alloc");
    const unsigned flags = u8(r);
    const unsigned nulls = (u8(r) & 0xE0) == 0xE0 ? u8(r) : 0;
    const int hostile = flags & 1, check = (flags & 2) != 0;
    REQUIRE(A->check_finite(ws, check) == BPTT_OK, "check");

    /* recording into the caller's arrays (either may be NULL) */
    double *gn = flags & 4 ? NULL : arena_new(&a, cap * sizeof(double));
    double *dn = flags & 8 ? arena_new(&a, cap * sizeof(double)) : NULL;
    arena_snapshot(&a);
    mark_detail();
    require_rejected(A->record_flow(NULL, gn, dn), BIT(BPTT_ENULL), fnr, &a);
    REQUIRE(A->record_flow(ws, gn, dn) == BPTT_OK, "%s", fnr);

    /* a forward, and a backward that records */
    const size_t T = 1 + u8(r) % Tmax, B = 1 + u8(r) % Bmax, TB = T * B;
    mat W = mat_new(&a, A, r, dout, m, m, 1.0 / (double)m, hostile);
    mat b = {0}, y0 = {0};
    if (flags & 16)
        b = mat_new(&a, A, r, 1, dout, dout, 1, hostile);
    mat x = mat_new(&a, A, r, TB, din, din, 1, hostile);
    if (flags & 32)
        y0 = mat_new(&a, A, r, B, dout, dout, 1, hostile);
    mat y = mat_dense(&a, A, TB, dout), dy = mat_new(&a, A, r, TB, dout, dout,
                                                     1, hostile);
    mat dW = mat_dense(&ref, A, dout, m);
    const bptt_algo fa = (bptt_algo)(u8(r) % BPTT_NALGO);
    const bptt_algo ba = (bptt_algo)(u8(r) % BPTT_NALGO);
    const int finite_in = mat_finite(A, W) && mat_finite(A, b) &&
                          mat_finite(A, x) && mat_finite(A, y0);
    bptt_status st = A->forward(net, T, B, W.p, m, b.p, x.p, din, y0.p, dout,
                                y.p, dout, fa, ws);
    REQUIRE(st == BPTT_OK || (check && st == BPTT_ENONFINITE), "forward");
    /* a refused input leaves no forward; a non-finite result keeps it */
    const int have = !check || finite_in;
    const int tame = !hostile && !relu_kink(A, act, din, dout, T, B, W, b, x,
                                            y0, y);
    const int ran = have && (!check || (mat_finite(A, W) && mat_finite(A, dy)));
    if (have) {
        arena_snapshot(&a);
        st = A->backward(net, T, B, W.p, m, dy.p, dout, 0, dW.p, m, NULL, NULL,
                         0, NULL, 0, ba, ws);
        REQUIRE(st == BPTT_OK || (check && st == BPTT_ENONFINITE), "backward");
        /* rows T·B.. of the arrays are not written */
        const double *g0 = (const double *)(const void *)arena_snap_of(&a, gn);
        const double *d0 = (const double *)(const void *)arena_snap_of(&a, dn);
        for (size_t k = TB; k < cap; k++)
            REQUIRE((!gn || !memcmp(gn + k, g0 + k, sizeof *gn)) &&
                        (!dn || !memcmp(dn + k, d0 + k, sizeof *dn)),
                    "%s: backward recorded past T·B", fnr);
        if (ran && gn)
            require_last_norms(A, fnr, gn, dy, T, B);
        if (ran && tame) {
            /* every algorithm records the same norms: naive's on rws */
            double *rg = arena_new(&ref, TB * sizeof(double));
            double *rd = arena_new(&ref, TB * sizeof(double));
            mat ry = mat_dense(&ref, A, TB, dout);
            REQUIRE(A->record_flow(rws, rg, rd) == BPTT_OK &&
                        A->forward(net, T, B, W.p, m, b.p, x.p, din, y0.p,
                                   dout, ry.p, dout, BPTT_ALGO_NAIVE,
                                   rws) == BPTT_OK &&
                        A->backward(net, T, B, W.p, m, dy.p, dout, 0, dW.p, m,
                                    NULL, NULL, 0, NULL, 0, BPTT_ALGO_NAIVE,
                                    rws) == BPTT_OK &&
                        A->record_flow(rws, NULL, NULL) == BPTT_OK,
                    "naive recording");
            for (size_t k = 0; k < TB; k++) {
                REQUIRE(!gn || fabs(gn[k] - rg[k]) <= A->tol * (1 + rg[k]),
                        "%s (%s): gnorm[%zu] %.17g, naive %.17g", fnr,
                        bptt_algo_name(ba), k, gn[k], rg[k]);
                REQUIRE(!dn || fabs(dn[k] - rd[k]) <= A->tol * (1 + rd[k]),
                        "%s (%s): dnorm[%zu] %.17g, naive %.17g", fnr,
                        bptt_algo_name(ba), k, dn[k], rd[k]);
            }
            HIT(H_LATER_COMPARED);
        }
    }

    /* the profile of a loss at the last step */
    const unsigned popt = u8(r);
    const size_t Tp = popt & 3 ? T : pick_count(r, Tmax);
    const size_t Bp = popt & 3 ? B : pick_count(r, Bmax);
    const size_t Tpa = clampc(Tp, Tmax), Bpa = clampc(Bp, Bmax);
    const unsigned lv = u8(r) % 8; /* W is stored with ld m: no other valid */
    const size_t ldw = lv == 0 ? m - 1 : lv == 1 ? huge_sizes[0] : m;
    mat dyT = {0};
    size_t lddyT = 0;
    if (popt & 4) {
        lddyT = pick_ld(r, Bpa, dout);
        dyT = mat_new(&a, A, r, Bpa, dout, lddyT, 1, hostile);
    }
    double *pg = arena_new(&a, Tpa * Bpa * sizeof(double));
    double *pd = popt & 8 ? arena_new(&a, Tpa * Bpa * sizeof(double)) : NULL;
    const bptt_net *cnet = nulls & 1 ? NULL : popt & 16 ? other : net;
    void *cws = nulls & 2 ? NULL : ws;
    const void *cW = nulls & 4 ? NULL : W.p;
    double *cpg = nulls & 8 ? NULL : pg;
    unsigned faults = count_fault(Tp, Bp, Tmax, Bmax);
    if (!cnet || !cws || !cpg)
        faults |= BIT(BPTT_ENULL);
    else if (cnet != net)
        faults |= BIT(BPTT_EMISMATCH);
    faults |= cW ? ld_fault(ldw, m) : BIT(BPTT_ENULL);
    if (dyT.p)
        faults |= ld_fault(lddyT, dout);
    if (!have || Tp != T || Bp != B)
        faults |= BIT(BPTT_ENOFORWARD);
    trace("%s: din %zu dout %zu T %zu B %zu, check %d hostile %d; profile T "
          "%zu B %zu ldw %zu dyT %d, nulls 0x%x\n", fnp, din, dout, T, B, check,
          hostile, Tp, Bp, ldw, dyT.p != NULL, nulls);
    arena_snapshot(&a);
    mark_detail();
    st = A->lag_profile(cnet, Tp, Bp, cW, ldw, dyT.p, lddyT, cpg, pd, cws);
    if (faults) {
        require_rejected(st, faults, fnp, &a);
        HIT(H_LATER_REJECTED);
        goto out;
    }
    HIT(H_LATER_ACCEPTED);
    REQUIRE(st == BPTT_OK, "%s: valid call gave %s", fnp, bptt_strerror(st));
    void *const outs[] = {pg, pd, wsbuf};
    require_only(&a, outs, 3, fnp);
    /* lag 0: the norm of dyT's rows ((1, ..., 1)/√dout rounded: 1) */
    for (size_t bb = 0; bb < B; bb++)
        REQUIRE(dyT.p ? norm_close(pg[bb], frob(A, dyT, bb, 1), 1e-13)
                      : fabs(pg[bb] - 1) <= (A->r == sizeof(float) ? 1e-6
                                                                 : 1e-15),
                "%s: gnorm[%zu] = %.17g", fnp, bb, pg[bb]);
    if (tame && mat_tame(A, dyT)) {
        /* the naive backward of dy = (0, ..., 0, dyT), recorded on rws and
         * read backwards */
        double *rg = arena_new(&ref, TB * sizeof(double));
        double *rd = arena_new(&ref, TB * sizeof(double));
        mat ry = mat_dense(&ref, A, TB, dout), rdy = mat_dense(&ref, A, TB, dout);
        for (size_t bb = 0; bb < B; bb++)
            for (size_t j = 0; j < dout; j++)
                A->set(rdy.p, ((T - 1) * B + bb) * dout + j,
                       dyT.p ? mat_get(A, dyT, bb, j) : 1 / sqrt((double)dout));
        REQUIRE(A->record_flow(rws, rg, rd) == BPTT_OK &&
                    A->forward(net, T, B, W.p, m, b.p, x.p, din, y0.p, dout,
                               ry.p, dout, BPTT_ALGO_NAIVE, rws) == BPTT_OK &&
                    A->backward(net, T, B, W.p, m, rdy.p, dout, 0, dW.p, m,
                                NULL, NULL, 0, NULL, 0, BPTT_ALGO_NAIVE,
                                rws) == BPTT_OK &&
                    A->record_flow(rws, NULL, NULL) == BPTT_OK,
                "naive profile");
        for (size_t tau = 0; tau < T; tau++)
            for (size_t bb = 0; bb < B; bb++) {
                const size_t k = tau * B + bb, kr = (T - 1 - tau) * B + bb;
                REQUIRE(fabs(pg[k] - rg[kr]) <= A->tol * (1 + rg[kr]) &&
                            (!pd || fabs(pd[k] - rd[kr]) <= A->tol * (1 + rd[kr])),
                        "%s: lag %zu sequence %zu: %.17g, %.17g; naive %.17g, "
                        "%.17g", fnp, tau, bb, pg[k], pd ? pd[k] : 0, rg[kr],
                        rd[kr]);
            }
        HIT(H_LATER_COMPARED);
    }
    /* the forward is kept and the recording is back: another backward
     * records into gn again */
    if (gn) {
        memset(gn, 0x5A, cap * sizeof(double));
        st = A->backward(net, T, B, W.p, m, dy.p, dout, 0, dW.p, m, NULL, NULL,
                         0, NULL, 0, ba, ws);
        REQUIRE(st == BPTT_OK || (check && st == BPTT_ENONFINITE),
                "backward after %s: %s", fnp, bptt_strerror(st));
        if (ran)
            require_last_norms(A, fnp, gn, dy, T, B);
    }
out:
    A->free(ws);
    A->free(rws);
    bptt_net_free(net);
    bptt_net_free(other);
    arena_free(&a);
    arena_free(&ref);
}
