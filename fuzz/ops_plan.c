/*
 * ops_plan.c — the fuzz ops of the plan layer (bptt/plan.h): Network A's,
 * Network B's and RTRL's plans in both precisions (fuzz/README.md).
 *
 * A plan is made from a random layout — members 0 (dense), padded, one
 * short of the row length, above INT_MAX — and a random Tmax, Bmax and
 * algorithm; a refused creation must name its fault and leave *plan as it
 * was.  A plan made is then called with T and B within, at and past its
 * capacity, and every accepted call is held to the expert call it forwards
 * to, made by the harness with the same arguments, the resolved leading
 * dimensions and a workspace of its own: the results must be bitwise
 * equal (same algorithm, same BLAS calls), as must every output buffer,
 * padding included.  A refused call writes nothing.
 */
#include "fuzz.h"

/* ------------------------------------------------------------------------ */
/* One precision's plan calls, typeless (plan_wrap.h)                        */
/* ------------------------------------------------------------------------ */

#define FR double
#define FW(name) d_##name
#define FL(name) bptt_##name
#include "plan_wrap.h"
#undef FR
#undef FW
#undef FL
#define FR float
#define FW(name) f_##name
#define FL(name) bpttf_##name
#include "plan_wrap.h"
#undef FR
#undef FW
#undef FL

typedef struct plan_api {
    bptt_status (*create)(const bptt_net *, size_t, size_t,
                          const bptt_layout *, bptt_algo, void **);
    void (*destroy)(void *);
    void *(*workspace)(void *);
    bptt_status (*forward)(void *, size_t, size_t, int, const void *,
                           const void *, const void *, const void *, void *);
    bptt_status (*loss)(void *, size_t, size_t, const void *, int,
                        const void *, const unsigned char *, double *, void *);
    bptt_status (*backward)(void *, size_t, size_t, const void *,
                            const void *, double, int, void *, void *, void *,
                            void *);
    bptt_status (*e_create)(const bptt_elman *, size_t, size_t,
                            const bptt_elman_layout *, bptt_algo, void **);
    void (*e_destroy)(void *);
    void *(*e_workspace)(void *);
    bptt_status (*e_forward)(void *, size_t, size_t, const void *,
                             const void *, const void *, const void *,
                             const void *, const void *, const int *,
                             const void *, double *, void *, void *);
    bptt_status (*e_backward)(void *, size_t, size_t, const void *,
                              const void *, const int *, const void *, double,
                              void *, void *, void *, void *, void *, void *);
    bptt_status (*r_create)(const bptt_net *, size_t, const bptt_layout *,
                            bptt_rtrl_algo, void **);
    void (*r_destroy)(void *);
    void *(*r_state)(void *);
    bptt_status (*r_reset)(void *, size_t, const void *);
    bptt_status (*r_step)(void *, const void *, const void *, const void *,
                          const void *, const unsigned char *, void *,
                          double *, double, void *, void *, void *);
    bptt_status (*r_sequence)(void *, size_t, size_t, const void *,
                              const void *, const void *, const void *,
                              const void *, const unsigned char *, void *,
                              double *, double, void *, void *, void *);
} plan_api;

#define PLAN_API(p)                                                            \
    {p##_p_create,   p##_p_destroy,   p##_p_workspace, p##_p_forward,          \
     p##_p_loss,     p##_p_backward,  p##_pe_create,   p##_pe_destroy,         \
     p##_pe_workspace, p##_pe_forward, p##_pe_backward, p##_pr_create,         \
     p##_pr_destroy, p##_pr_state,    p##_pr_reset,    p##_pr_step,            \
     p##_pr_sequence}

static const plan_api plan_apis[2] = {PLAN_API(d), PLAN_API(f)};

/* ------------------------------------------------------------------------ */
/* Layouts and what they earn                                                */
/* ------------------------------------------------------------------------ */

enum { MAXLD = 16 };

/* n leading dimensions for rows of cols[i]: mostly 0 (dense) or padded,
 * sometimes one short, above INT_MAX or huge.  ld[i] receives the member,
 * res[i] what it resolves to (the row length for 0); the return value is
 * the statuses the members earn. */
static unsigned pick_layout(bytes *r, int n, const size_t *cols, size_t *ld,
                            size_t *res)
{
    unsigned faults = 0;
    for (int i = 0; i < n; i++) {
        const unsigned v = u8(r) % 32;
        ld[i] = v < 16 ? 0
                : v < 28 ? cols[i] + (v - 16) % 3
                : v < 30 ? cols[i] - 1 /* 0, dense, when cols is 1 */
                : v == 30 ? (size_t)INT_MAX + 1
                          : huge_sizes[1 + u8(r) % (NHUGE - 1)];
        res[i] = ld[i] ? ld[i] : cols[i];
        if (ld[i])
            faults |= ld_fault(ld[i], cols[i]);
    }
    return faults;
}

/* A refused creation: a status the faults allow, a detail naming fn (and
 * naming the layout member if only the layout was at fault), *plan and
 * every buffer of the arena as they were. */
static void require_refused_create(bptt_status st, unsigned faults,
                                   int layout_only, const char *fn,
                                   const arena *a)
{
    require_rejected(st, faults, fn, a);
    REQUIRE(!layout_only || strstr(bptt_error_detail(), "layout->"),
            "%s: detail \"%s\" does not name the layout member", fn,
            bptt_error_detail());
    HIT(H_LATER_REJECTED);
}

/* A refused call named either by the plan (its own checks) or by the
 * expert call it forwards to. */
static void require_refused_call(bptt_status st, unsigned allowed,
                                 const char *plan_fn, const char *expert_fn,
                                 const arena *a)
{
    const char *d = bptt_error_detail();
    const char *fn = strncmp(d, plan_fn, strlen(plan_fn)) == 0 ? plan_fn
                                                                : expert_fn;
    require_rejected(st, allowed, fn, a);
    HIT(H_LATER_REJECTED);
}

/* Two buffers of the same size hold the same bytes. */
static void require_same(const api *A, mat got, mat want, const char *what)
{
    if (!got.p && !want.p)
        return;
    REQUIRE(got.p && want.p, "%s: one of the pair is absent", what);
    const size_t n = ((got.rows - 1) * got.sld + got.cols) * A->r;
    REQUIRE(memcmp(got.p, want.p, n) == 0, "%s: plan and expert call differ",
            what);
}

/* A matrix in an arena, or none (p NULL) when absent. */
static mat opt_mat(int present, arena *a, const api *A, bytes *r, size_t rows,
                   size_t cols, size_t ld, double scale)
{
    if (!present) {
        mat M = {NULL, rows, cols, ld, ld};
        return M;
    }
    return mat_new(a, A, r, rows, cols, ld, scale, 0);
}

/* ------------------------------------------------------------------------ */
/* op: Network A's plan                                                      */
/* ------------------------------------------------------------------------ */

/* bptt_layout's members, in order: ldw, ldx, ldy0, ldy, ldt, lddy, lddw,
 * lddx, lddy0. */
enum { LW, LX, LY0, LY, LT, LDY, LDW, LDX, LDY0, NLAY };

void op_plan(bytes *r)
{
    const int prec = u8(r) & 1;
    const api *A = &apis[prec];
    const plan_api *P = &plan_apis[prec];
    char fn[64], fx[64];
    static const bptt_activation acts[] = {
        BPTT_ACT_IDENTITY, BPTT_ACT_TANH,     BPTT_ACT_LOGISTIC,
        BPTT_ACT_RELU,     BPTT_ACT_SOFTPLUS, BPTT_ACT_CUSTOM};
    const size_t din = 1 + u8(r) % 4, dout = 1 + u8(r) % 5, m = din + dout;
    bptt_activation act[5];
    for (size_t i = 0; i < dout; i++)
        act[i] = acts[u8(r) % 6];
    bptt_net *net = NULL;
    REQUIRE(bptt_net_create(din, dout, act, &custom, &net) == BPTT_OK, "net");

    const size_t Tmax = u8(r) % 5, Bmax = u8(r) % 4;
    const bptt_algo algo = pick_algo(r);
    const size_t cols[NLAY] = {m, din, dout, dout, dout, dout, m, din, dout};
    size_t ld[NLAY], res[NLAY];
    const int dense = u8(r) < 64; /* a NULL layout */
    unsigned lay_faults = dense ? 0 : pick_layout(r, NLAY, cols, ld, res);
    if (dense)
        for (int i = 0; i < NLAY; i++)
            res[i] = cols[i];
    unsigned faults = lay_faults;
    if (!Tmax || !Bmax)
        faults |= BIT(BPTT_ESIZE);
    if (!algo_ok(algo))
        faults |= BIT(BPTT_EALGO);
    bptt_layout lay;
    memcpy(&lay, ld, sizeof lay);

    arena a = {0};
    void **slot = arena_new(&a, sizeof(void *));
    *slot = slot; /* a sentinel: a refusal must leave it */
    arena_snapshot(&a);
    mark_detail();
    fname(A, "plan_create", fn);
    bptt_status st = P->create(net, Tmax, Bmax, dense ? NULL : &lay, algo,
                               slot);
    if (faults) {
        require_refused_create(st, faults, faults == lay_faults, fn, &a);
        arena_free(&a);
        bptt_net_free(net);
        return;
    }
    REQUIRE(st == BPTT_OK, "%s: %s (%s)", fn, bptt_strerror(st),
            bptt_error_detail());
    void *plan = *slot;
    REQUIRE(P->workspace(plan) != NULL, "%s: no workspace", fn);
    void *ws = NULL;
    REQUIRE(A->alloc(net, Tmax, Bmax, &ws) == BPTT_OK, "expert workspace");
    HIT(H_LATER_ACCEPTED);

    /* 1 to 3 rounds of forward, loss and backward with fresh arguments.
     * fT, fB: the shape of the last accepted forward (0: none). */
    size_t fT = 0, fB = 0;
    const int rounds = 1 + u8(r) % 3;
    for (int round = 0; round < rounds; round++) {
        arena c = {0}, ref = {0};
        size_t T = u8(r) % (Tmax + 2), B = u8(r) % (Bmax + 2);
        if (u8(r) < 160 && fT) /* mostly the forward's shape for backward */
            T = fT, B = fB;
        const unsigned opt = u8(r);
        const size_t rows = clampc(T, Tmax + 1) * clampc(B, Bmax + 1);
        const size_t Bc = clampc(B, Bmax + 1);
        mat W = mat_new(&c, A, r, dout, m, res[LW], 1.0, 0);
        mat b = opt_mat(opt & 1, &c, A, r, 1, dout, dout, 0.5);
        mat x = mat_new(&c, A, r, rows, din, res[LX], 1.0, 0);
        mat y0 = opt_mat(opt & 2, &c, A, r, Bc, dout, res[LY0], 0.8);
        mat y = mat_new(&c, A, r, rows, dout, res[LY], 1.0, 0);
        mat tg = mat_new(&c, A, r, rows, dout, res[LT], 1.0, 0);
        unsigned char *mask = NULL;
        if (opt & 4) {
            mask = arena_new(&c, rows);
            for (size_t k = 0; k < rows; k++)
                mask[k] = u8(r) & 1;
        }
        mat dy = mat_new(&c, A, r, rows, dout, res[LDY], 1.0, 0);
        mat dW = opt_mat(!(opt & 8), &c, A, r, dout, m, res[LDW], 1.0);
        mat db = opt_mat(opt & 16, &c, A, r, 1, dout, dout, 1.0);
        mat dx = opt_mat(opt & 32, &c, A, r, rows, din, res[LDX], 1.0);
        mat dy0 = opt_mat(opt & 64, &c, A, r, Bc, dout, res[LDY0], 1.0);
        const int no_g = (opt & 128) && u8(r) < 32;
        const double beta = pick_beta(r, A, 1);
        double loss[2] = {-1, -1};
        /* the expert's copies of the outputs, with the same contents */
        mat ry = mat_copy(&ref, A, y), rdy = mat_copy(&ref, A, dy);
        mat rdW = mat_copy(&ref, A, dW), rdb = mat_copy(&ref, A, db);
        mat rdx = mat_copy(&ref, A, dx), rdy0 = mat_copy(&ref, A, dy0);
        const unsigned cap = count_fault(T, B, Tmax, Bmax);

        /* forward */
        arena_snapshot(&c);
        mark_detail();
        fname(A, "plan_forward", fn);
        st = P->forward(plan, T, B, 0, W.p, b.p, x.p, y0.p, y.p);
        if (cap) {
            require_refused_call(st, cap, fn, fn, &c);
        } else {
            REQUIRE(st == BPTT_OK, "%s: %s (%s)", fn, bptt_strerror(st),
                    bptt_error_detail());
            st = A->forward(net, T, B, W.p, res[LW], b.p, x.p, res[LX], y0.p,
                            res[LY0], ry.p, res[LY], algo, ws);
            REQUIRE(st == BPTT_OK, "expert forward: %s", bptt_error_detail());
            require_same(A, y, ry, fn);
            void *outs[] = {y.p};
            require_only(&c, outs, 1, fn);
            fT = T, fB = B;
            HIT(H_LATER_COMPARED);
        }

        /* loss */
        arena_snapshot(&c);
        mark_detail();
        fname(A, "plan_loss", fn);
        st = P->loss(plan, T, B, y.p, 0, tg.p, mask, &loss[0], dy.p);
        if (cap) {
            require_refused_call(st, cap, fn, fn, &c);
        } else {
            REQUIRE(st == BPTT_OK, "%s: %s", fn, bptt_error_detail());
            REQUIRE(A->loss(T, B, dout, y.p, res[LY], tg.p, res[LT], mask,
                            &loss[1], rdy.p, res[LDY]) == BPTT_OK,
                    "expert loss");
            REQUIRE(memcmp(&loss[0], &loss[1], sizeof loss[0]) == 0,
                    "%s: %.17g, expert %.17g", fn, loss[0], loss[1]);
            require_same(A, dy, rdy, fn);
            HIT(H_LATER_COMPARED);
        }

        /* backward: the plan's capacity first; then the expert's own
         * refusals (no forward of this shape, beta not finite) */
        unsigned allowed = cap;
        if (!cap && (T != fT || B != fB))
            allowed |= BIT(BPTT_ENOFORWARD);
        if (!cap && !isfinite(beta))
            allowed |= BIT(BPTT_EINVAL);
        arena_snapshot(&c);
        mark_detail();
        fname(A, "plan_backward", fn);
        fname(A, "backward", fx);
        st = P->backward(plan, T, B, W.p, dy.p, beta, no_g, dW.p, db.p, dx.p,
                         dy0.p);
        if (allowed) {
            require_refused_call(st, allowed, fn, fx, &c);
        } else {
            REQUIRE(st == BPTT_OK, "%s: %s (%s)", fn, bptt_strerror(st),
                    bptt_error_detail());
            st = A->backward(net, T, B, W.p, res[LW], dy.p, res[LDY], beta,
                             no_g ? NULL : rdW.p, res[LDW],
                             no_g ? NULL : rdb.p, no_g ? NULL : rdx.p,
                             res[LDX], no_g ? NULL : rdy0.p, res[LDY0], algo,
                             ws);
            REQUIRE(st == BPTT_OK, "expert backward: %s", bptt_error_detail());
            require_same(A, dW, rdW, "dW");
            require_same(A, db, rdb, "db");
            require_same(A, dx, rdx, "dx");
            require_same(A, dy0, rdy0, "dy0");
            void *outs[] = {dW.p, db.p, dx.p, dy0.p};
            require_only(&c, outs, 4, fn);
            HIT(H_LATER_COMPARED);
        }
        arena_free(&ref);
        arena_free(&c);
    }
    /* NULL plan and NULL parameters are refused by name */
    mark_detail();
    fname(A, "plan_forward", fn);
    REQUIRE(P->forward(NULL, 1, 1, 0, NULL, NULL, NULL, NULL, NULL) ==
                BPTT_ENULL && strstr(bptt_error_detail(), "plan"), "%s", fn);
    REQUIRE(P->forward(plan, 1, 1, 1, NULL, NULL, NULL, NULL, NULL) ==
                BPTT_ENULL && strstr(bptt_error_detail(), "prm"), "%s", fn);
    P->destroy(plan);
    P->destroy(NULL);
    A->free(ws);
    arena_free(&a);
    bptt_net_free(net);
}

/* ------------------------------------------------------------------------ */
/* op: Network B's plan                                                      */
/* ------------------------------------------------------------------------ */

/* bptt_elman_layout's members: ldw, ldwo, ldx, ldh0, ldl, ldh, ldy, lddw,
 * lddwo, lddx, lddh0. */
enum { EW, EWO, EX, EH0, EL, EH, EY, EDW, EDWO, EDX, EDH0, NELAY };

void op_plan_elman(bytes *r)
{
    const int prec = u8(r) & 1;
    const api *A = &apis[prec];
    const plan_api *P = &plan_apis[prec];
    char fn[64], fx[64];
    const size_t din = 1 + u8(r) % 3, dh = 1 + u8(r) % 4, m = din + dh;
    const size_t nout = 1 + u8(r) % 4;
    const bptt_head head = u8(r) & 1 ? BPTT_HEAD_LINEAR : BPTT_HEAD_SOFTMAX;
    bptt_net *net = NULL;
    bptt_elman *el = NULL;
    REQUIRE(bptt_net_create_uniform(din, dh, BPTT_ACT_TANH, NULL, &net) ==
                BPTT_OK && bptt_elman_create(net, nout, head, &el) == BPTT_OK,
            "elman");
    const size_t Tmax = u8(r) % 4, Bmax = u8(r) % 3;
    const bptt_algo algo = pick_algo(r);
    const size_t cols[NELAY] = {m, dh, din, dh, nout, dh, nout, m, dh, din, dh};
    size_t ld[NELAY], res[NELAY];
    const unsigned lay_faults = pick_layout(r, NELAY, cols, ld, res);
    unsigned faults = lay_faults;
    if (!Tmax || !Bmax)
        faults |= BIT(BPTT_ESIZE);
    if (!algo_ok(algo))
        faults |= BIT(BPTT_EALGO);
    bptt_elman_layout lay;
    memcpy(&lay, ld, sizeof lay);

    arena a = {0};
    void **slot = arena_new(&a, sizeof(void *));
    *slot = slot;
    arena_snapshot(&a);
    mark_detail();
    fname(A, "elman_plan_create", fn);
    bptt_status st = P->e_create(el, Tmax, Bmax, &lay, algo, slot);
    if (faults) {
        require_refused_create(st, faults, faults == lay_faults, fn, &a);
        goto out;
    }
    REQUIRE(st == BPTT_OK, "%s: %s (%s)", fn, bptt_strerror(st),
            bptt_error_detail());
    void *plan = *slot, *ws = NULL;
    REQUIRE(P->e_workspace(plan) != NULL, "%s: no workspace", fn);
    REQUIRE(A->el_alloc(el, Tmax, Bmax, &ws) == BPTT_OK, "expert workspace");
    HIT(H_LATER_ACCEPTED);

    /* one forward and one backward, at or past the capacity */
    arena c = {0}, ref = {0};
    const size_t T = u8(r) % (Tmax + 2), B = u8(r) % (Bmax + 2);
    const size_t rows = clampc(T, Tmax + 1) * clampc(B, Bmax + 1);
    const unsigned opt = u8(r);
    mat W = mat_new(&c, A, r, dh, m, res[EW], 1.0, 0);
    mat bh = opt_mat(opt & 1, &c, A, r, 1, dh, dh, 0.5);
    mat Wo = mat_new(&c, A, r, nout, dh, res[EWO], 1.0, 0);
    mat bo = opt_mat(opt & 1, &c, A, r, 1, nout, nout, 0.5);
    mat x = mat_new(&c, A, r, rows, din, res[EX], 1.0, 0);
    mat h0 = opt_mat(opt & 2, &c, A, r, clampc(B, Bmax + 1), dh, res[EH0],
                     0.8);
    int *labels = NULL;
    mat L = {NULL, rows, nout, res[EL], res[EL]};
    if (head == BPTT_HEAD_SOFTMAX) {
        labels = arena_new(&c, rows * sizeof *labels);
        for (size_t k = 0; k < rows; k++)
            labels[k] = u8(r) % 8 == 0 ? BPTT_IGNORE_LABEL
                                       : (int)(u8(r) % nout);
    } else {
        L = mat_new(&c, A, r, rows, nout, res[EL], 1.0, 0);
    }
    mat h = opt_mat(opt & 4, &c, A, r, rows, dh, res[EH], 1.0);
    mat y = opt_mat(opt & 8, &c, A, r, rows, nout, res[EY], 1.0);
    mat dW = mat_new(&c, A, r, dh, m, res[EDW], 1.0, 0);
    mat dbh = opt_mat(opt & 16, &c, A, r, 1, dh, dh, 1.0);
    mat dWo = mat_new(&c, A, r, nout, dh, res[EDWO], 1.0, 0);
    mat dbo = opt_mat(opt & 16, &c, A, r, 1, nout, nout, 1.0);
    mat dx = opt_mat(opt & 32, &c, A, r, rows, din, res[EDX], 1.0);
    mat dh0 = opt_mat(opt & 64, &c, A, r, clampc(B, Bmax + 1), dh, res[EDH0],
                      1.0);
    const double beta = pick_beta(r, A, 0);
    mat rh = mat_copy(&ref, A, h), ry = mat_copy(&ref, A, y);
    mat rdW = mat_copy(&ref, A, dW), rdbh = mat_copy(&ref, A, dbh);
    mat rdWo = mat_copy(&ref, A, dWo), rdbo = mat_copy(&ref, A, dbo);
    mat rdx = mat_copy(&ref, A, dx), rdh0 = mat_copy(&ref, A, dh0);
    const unsigned cap = count_fault(T, B, Tmax, Bmax);
    double E[2] = {-1, -1};

    arena_snapshot(&c);
    mark_detail();
    fname(A, "elman_plan_forward", fn);
    st = P->e_forward(plan, T, B, W.p, bh.p, Wo.p, bo.p, x.p, h0.p, labels,
                      L.p, &E[0], h.p, y.p);
    if (cap) {
        require_refused_call(st, cap, fn, fn, &c);
    } else {
        REQUIRE(st == BPTT_OK, "%s: %s (%s)", fn, bptt_strerror(st),
                bptt_error_detail());
        st = A->el_forward(el, T, B, W.p, res[EW], bh.p, Wo.p, res[EWO], bo.p,
                           x.p, res[EX], h0.p, res[EH0], labels, L.p, res[EL],
                           &E[1], rh.p, res[EH], ry.p, res[EY], algo, ws);
        REQUIRE(st == BPTT_OK, "expert elman forward: %s",
                bptt_error_detail());
        REQUIRE(memcmp(&E[0], &E[1], sizeof E[0]) == 0, "%s: E %.17g, "
                "expert %.17g", fn, E[0], E[1]);
        require_same(A, h, rh, "h");
        require_same(A, y, ry, "y");
        HIT(H_LATER_COMPARED);
    }
    arena_snapshot(&c);
    mark_detail();
    fname(A, "elman_plan_backward", fn);
    fname(A, "elman_backward", fx);
    st = P->e_backward(plan, T, B, W.p, Wo.p, labels, L.p, beta, dW.p, dbh.p,
                       dWo.p, dbo.p, dx.p, dh0.p);
    if (cap) {
        require_refused_call(st, cap, fn, fx, &c);
    } else {
        REQUIRE(st == BPTT_OK, "%s: %s (%s)", fn, bptt_strerror(st),
                bptt_error_detail());
        st = A->el_backward(el, T, B, W.p, res[EW], Wo.p, res[EWO], labels,
                            L.p, res[EL], beta, rdW.p, res[EDW], rdbh.p,
                            rdWo.p, res[EDWO], rdbo.p, rdx.p, res[EDX],
                            rdh0.p, res[EDH0], algo, ws);
        REQUIRE(st == BPTT_OK, "expert elman backward: %s",
                bptt_error_detail());
        require_same(A, dW, rdW, "dW");
        require_same(A, dbh, rdbh, "dbh");
        require_same(A, dWo, rdWo, "dWo");
        require_same(A, dbo, rdbo, "dbo");
        require_same(A, dx, rdx, "dx");
        require_same(A, dh0, rdh0, "dh0");
        HIT(H_LATER_COMPARED);
    }
    arena_free(&ref);
    arena_free(&c);
    P->e_destroy(plan);
    A->el_free(ws);
out:
    arena_free(&a);
    bptt_elman_free(el);
    bptt_net_free(net);
}

/* ------------------------------------------------------------------------ */
/* op: RTRL's plan                                                           */
/* ------------------------------------------------------------------------ */

void op_plan_rtrl(bytes *r)
{
    const int prec = u8(r) & 1;
    const api *A = &apis[prec];
    const plan_api *P = &plan_apis[prec];
    char fn[64], fx[64];
    const size_t din = 1 + u8(r) % 3, dout = 1 + u8(r) % 4, m = din + dout;
    bptt_net *net = NULL;
    REQUIRE(bptt_net_create_uniform(din, dout, BPTT_ACT_TANH, NULL, &net) ==
                BPTT_OK, "net");
    const size_t Bmax = u8(r) % 3;
    const bptt_rtrl_algo algo = pick_ralgo(r);
    const size_t cols[NLAY] = {m, din, dout, dout, dout, dout, m, din, dout};
    size_t ld[NLAY], res[NLAY];
    const unsigned lay_faults = pick_layout(r, NLAY, cols, ld, res);
    unsigned faults = lay_faults;
    if (!Bmax)
        faults |= BIT(BPTT_ESIZE);
    if (!ralgo_ok(algo))
        faults |= BIT(BPTT_EALGO);
    bptt_layout lay;
    memcpy(&lay, ld, sizeof lay);

    arena a = {0};
    void **slot = arena_new(&a, sizeof(void *));
    *slot = slot;
    arena_snapshot(&a);
    mark_detail();
    fname(A, "rtrl_plan_create", fn);
    bptt_status st = P->r_create(net, Bmax, &lay, algo, slot);
    if (faults) {
        require_refused_create(st, faults, faults == lay_faults, fn, &a);
        arena_free(&a);
        bptt_net_free(net);
        return;
    }
    REQUIRE(st == BPTT_OK, "%s: %s (%s)", fn, bptt_strerror(st),
            bptt_error_detail());
    void *plan = *slot, *rs = NULL;
    REQUIRE(P->r_state(plan) != NULL, "%s: no state", fn);
    REQUIRE(A->rt_alloc(net, 0, Bmax, &rs) == BPTT_OK, "expert state");
    HIT(H_LATER_ACCEPTED);

    /* a sequence of T steps, then 1 or 2 steps continuing it */
    arena c = {0}, ref = {0};
    const size_t T = 1 + u8(r) % 3, B = u8(r) % (Bmax + 2);
    const size_t Bc = clampc(B, Bmax + 1), rows = T * Bc;
    const unsigned opt = u8(r);
    mat W = mat_new(&c, A, r, dout, m, res[LW], 1.0, 0);
    mat b = opt_mat(opt & 1, &c, A, r, 1, dout, dout, 0.5);
    mat x = mat_new(&c, A, r, rows, din, res[LX], 1.0, 0);
    mat y0 = opt_mat(opt & 2, &c, A, r, Bc, dout, res[LY0], 0.8);
    mat tg = mat_new(&c, A, r, rows, dout, res[LT], 1.0, 0);
    unsigned char *mask = NULL;
    if (opt & 4) {
        mask = arena_new(&c, rows);
        for (size_t k = 0; k < rows; k++)
            mask[k] = u8(r) & 1;
    }
    mat y = opt_mat(opt & 8, &c, A, r, rows, dout, res[LY], 1.0);
    mat dW = mat_new(&c, A, r, dout, m, res[LDW], 1.0, 0);
    mat db = opt_mat(opt & 16, &c, A, r, 1, dout, dout, 1.0);
    mat dx = opt_mat((opt & 96) == 96, &c, A, r, rows, din, din, 1.0);
    const double beta = pick_beta(r, A, 0);
    mat ry = mat_copy(&ref, A, y), rdW = mat_copy(&ref, A, dW);
    mat rdb = mat_copy(&ref, A, db);
    double loss[2] = {-1, -1};
    /* the plan's checks (B > Bmax; dx, which forward mode has not) and the
     * expert's (B = 0), in whichever order */
    unsigned allowed = B > Bmax ? BIT(BPTT_ECAPACITY) : 0;
    if (!allowed && !B)
        allowed |= BIT(BPTT_ESIZE);
    if (B <= Bmax && dx.p)
        allowed |= BIT(BPTT_EINVAL);

    arena_snapshot(&c);
    mark_detail();
    fname(A, "rtrl_plan_sequence", fn);
    fname(A, "rtrl_sequence", fx);
    st = P->r_sequence(plan, T, B, W.p, b.p, x.p, y0.p, tg.p, mask, y.p,
                       &loss[0], beta, dW.p, db.p, dx.p);
    if (allowed) {
        require_refused_call(st, allowed, fn, fx, &c);
    } else {
        REQUIRE(st == BPTT_OK, "%s: %s (%s)", fn, bptt_strerror(st),
                bptt_error_detail());
        st = A->rt_sequence(net, T, B, W.p, res[LW], b.p, x.p, res[LX], y0.p,
                            res[LY0], tg.p, res[LT], mask, ry.p, res[LY],
                            &loss[1], beta, rdW.p, res[LDW], rdb.p, algo, rs);
        REQUIRE(st == BPTT_OK, "expert sequence: %s", bptt_error_detail());
        REQUIRE(memcmp(&loss[0], &loss[1], sizeof loss[0]) == 0,
                "%s: loss %.17g, expert %.17g", fn, loss[0], loss[1]);
        require_same(A, y, ry, "y");
        require_same(A, dW, rdW, "dW");
        require_same(A, db, rdb, "db");
        HIT(H_LATER_COMPARED);
        /* continue the sequences step by step, the first B rows again */
        const int steps = 1 + u8(r) % 2;
        for (int s = 0; s < steps; s++) {
            fname(A, "rtrl_plan_step", fn);
            st = P->r_step(plan, W.p, b.p, x.p, tg.p, mask, y.p, &loss[0],
                           1.0, dW.p, db.p, NULL);
            REQUIRE(st == BPTT_OK, "%s: %s", fn, bptt_error_detail());
            st = A->rt_step(net, B, W.p, res[LW], b.p, x.p, res[LX], tg.p,
                            res[LT], mask, ry.p, res[LY], &loss[1], 1.0,
                            rdW.p, res[LDW], rdb.p, algo, rs);
            REQUIRE(st == BPTT_OK, "expert step: %s", bptt_error_detail());
            REQUIRE(memcmp(&loss[0], &loss[1], sizeof loss[0]) == 0,
                    "%s: loss %.17g, expert %.17g", fn, loss[0], loss[1]);
            require_same(A, y, ry, "y");
            require_same(A, dW, rdW, "dW");
            require_same(A, db, rdb, "db");
        }
    }
    /* a reset past the capacity writes nothing, and a step needs a reset */
    arena_snapshot(&c);
    mark_detail();
    fname(A, "rtrl_plan_reset", fn);
    st = P->r_reset(plan, Bmax + 1, y0.p);
    require_refused_call(st, BIT(BPTT_ECAPACITY), fn, fn, &c);
    arena_free(&ref);
    arena_free(&c);
    P->r_destroy(plan);
    A->rt_free(rs);
    arena_free(&a);
    bptt_net_free(net);
}
