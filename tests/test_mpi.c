/*
 * test_mpi.c — the data-parallel module (bptt/mpi.h) under mpirun, in
 * double, or in single precision when built with -DTEST_SINGLE.  Run by
 * tests/mpi-run.sh with 2 and 3 ranks (meson suite 'mpi').
 *
 * Not a Check suite: a Check assertion leaves its test at once, and a rank
 * that leaves while the others enter a collective hangs the job.  Here
 * every rank runs every case to its end, counting failures, and the counts
 * are summed over the ranks at the end; rank 0 prints them.
 *
 * Every rank builds the same global problem (fixed seed) and its shard of
 * it, so that each can compare with the one-process gradient over all the
 * sequences:
 *   reference  the module's sums against bptt_backward over the whole
 *              batch (≤ 1e-13 relative in double, 1e-5 in single), for
 *              Network A and Network B, uneven shards, an empty shard;
 *   identity   bitwise: two calls, every rank's result, any panel count,
 *              no overlap; the fixed-order mode on every rank count
 *              against itself on MPI_COMM_SELF with the whole batch;
 *              beta applied as BLAS does;
 *   trap       a bad argument or a NaN on one rank makes every rank fail
 *              with that rank's status, named in the detail, and nothing
 *              written to any rank's outputs.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bptt/mpi.h>

#ifdef TEST_SINGLE
typedef float R;
#define F(name) bpttf_##name
#define TOL 1e-5
#define PREC "single"
#else
typedef double R;
#define F(name) bptt_##name
#define TOL 1e-13
#define PREC "double"
#endif
typedef F(mpi) ctx_t;

static int rank, size, failures;

#define EXPECT(cond, ...)                                                      \
    do {                                                                       \
        if (!(cond)) {                                                         \
            failures++;                                                        \
            fprintf(stderr, "[%s rank %d] %s:%d: ", PREC, rank, __func__,      \
                    __LINE__);                                                 \
            fprintf(stderr, __VA_ARGS__);                                      \
            fputc('\n', stderr);                                               \
        }                                                                      \
    } while (0)

/* A fixed pseudo-random sequence in [-1, 1), the same on every rank. */
static unsigned long long seed;
static R rnd(void)
{
    seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
    return (R)((double)(seed >> 11) / 9007199254740992.0 * 2 - 1);
}
static R *rand_array(size_t n, double scale)
{
    R *a = malloc((n ? n : 1) * sizeof(R));
    for (size_t i = 0; i < n; i++)
        a[i] = (R)(scale * rnd());
    return a;
}

/* max |a - b| / max |b| */
static double rel(size_t n, const R *a, const R *b)
{
    double d = 0, s = 0;
    for (size_t i = 0; i < n; i++) {
        d = fmax(d, fabs((double)a[i] - (double)b[i]));
        s = fmax(s, fabs((double)b[i]));
    }
    return s > 0 ? d / s : d;
}

/* Rows t*Bg + b, lo <= b < hi, of a time-major (T*Bg) x cols array: the
 * shard's own time-major (T*(hi-lo)) x cols array. */
static R *shard_rows(const R *a, size_t T, size_t Bg, size_t lo, size_t hi,
                     size_t cols)
{
    size_t Bl = hi - lo;
    R *s = malloc((T * Bl * cols + 1) * sizeof(R));
    for (size_t t = 0; t < T; t++)
        for (size_t b = 0; b < Bl; b++)
            memcpy(s + (t * Bl + b) * cols, a + (t * Bg + lo + b) * cols,
                   cols * sizeof(R));
    return s;
}
static int *shard_labels(const int *a, size_t T, size_t Bg, size_t lo,
                         size_t hi)
{
    size_t Bl = hi - lo;
    int *s = malloc((T * Bl + 1) * sizeof(int));
    for (size_t t = 0; t < T; t++)
        for (size_t b = 0; b < Bl; b++)
            s[t * Bl + b] = a[t * Bg + lo + b];
    return s;
}

/* The same on every rank: is a bitwise rank 0's? */
static int same_everywhere(size_t n, const R *a)
{
    R *r0 = malloc(n * sizeof(R));
    memcpy(r0, a, n * sizeof(R));
    MPI_Bcast(r0, (int)(n * sizeof(R)), MPI_BYTE, 0, MPI_COMM_WORLD);
    int same = memcmp(r0, a, n * sizeof(R)) == 0, all = 0;
    MPI_Allreduce(&same, &all, 1, MPI_INT, MPI_MIN, MPI_COMM_WORLD);
    free(r0);
    return all;
}

/* ------------------------------------------------------------------------ */
/* Network A                                                                 */
/* ------------------------------------------------------------------------ */

enum { DIN = 5, DOUT = 7, T = 6, BG = 11, M = DIN + DOUT };

typedef struct problem {
    R *W, *b, *x, *y0, *tg;
    unsigned char *mask;
    R dW[DOUT * M], db[DOUT];
    double loss;
} problem;

static void problem_make(problem *p)
{
    seed = 2024;
    p->W = rand_array(DOUT * M, 0.5);
    p->b = rand_array(DOUT, 0.1);
    p->x = rand_array(T * BG * DIN, 1);
    p->y0 = rand_array(BG * DOUT, 0.5);
    p->tg = rand_array(T * BG * DOUT, 1);
    p->mask = malloc(T * BG);
    for (size_t k = 0; k < T * BG; k++)
        p->mask[k] = k % 5 != 3;
    /* The one-process reference over all BG sequences. */
    bptt_net *net = NULL;
    F(workspace) *ws = NULL;
    bptt_net_create_uniform(DIN, DOUT, BPTT_ACT_TANH, NULL, &net);
    F(workspace_alloc)(net, T, BG, &ws);
    R *y = malloc(T * BG * DOUT * sizeof(R)), *dy = malloc(T * BG * DOUT * sizeof(R));
    int st = F(forward)(net, T, BG, p->W, M, p->b, p->x, DIN, p->y0, DOUT, y,
                        DOUT, BPTT_ALGO_AUTO, ws);
    st |= F(loss_squared)(T, BG, DOUT, y, DOUT, p->tg, DOUT, p->mask, &p->loss,
                          dy, DOUT);
    st |= F(backward)(net, T, BG, p->W, M, dy, DOUT, 0, p->dW, M, p->db, NULL,
                      0, NULL, 0, BPTT_ALGO_AUTO, ws);
    EXPECT(st == 0, "reference failed: %s", bptt_error_detail());
    free(y);
    free(dy);
    F(workspace_free)(ws);
    bptt_net_free(net);
}

static void problem_free(problem *p)
{
    free(p->W);
    free(p->b);
    free(p->x);
    free(p->y0);
    free(p->tg);
    free(p->mask);
}

/* This rank's shard [lo, hi) of the batch (contiguous, in rank order):
 * the split of BG over size, or everything on the last rank (skew). */
static void shard(int skew, size_t *lo, size_t *hi)
{
    if (skew) {
        *lo = rank == size - 1 ? 0 : BG;
        *hi = BG;
        if (rank < size - 1)
            *lo = *hi = 0;
        return;
    }
    *lo = (size_t)rank * BG / (size_t)size;
    *hi = (size_t)(rank + 1) * BG / (size_t)size;
}

typedef struct local {
    size_t B;
    R *x, *y0, *tg;
    unsigned char *mask;
} local;

static local local_make(const problem *p, size_t lo, size_t hi)
{
    local l = {.B = hi - lo};
    l.x = shard_rows(p->x, T, BG, lo, hi, DIN);
    l.y0 = shard_rows(p->y0, 1, BG, lo, hi, DOUT);
    l.tg = shard_rows(p->tg, T, BG, lo, hi, DOUT);
    l.mask = malloc(T * BG);
    for (size_t t = 0; t < T; t++)
        for (size_t b = lo; b < hi; b++)
            l.mask[t * (hi - lo) + b - lo] = p->mask[t * BG + b];
    return l;
}

static void local_free(local *l)
{
    free(l->x);
    free(l->y0);
    free(l->tg);
    free(l->mask);
}

static bptt_status grad(ctx_t *c, const problem *p, const local *l,
                        double *loss, R beta, R *dW, R *db)
{
    return F(mpi_gradient)(c, T, l->B, p->W, M, p->b, l->x, DIN, l->y0, DOUT,
                           l->tg, DOUT, l->mask, loss, beta, dW, M, db);
}

static void test_network_a(bptt_net *net, const problem *p, int skew)
{
    size_t lo, hi;
    shard(skew, &lo, &hi);
    local l = local_make(p, lo, hi);
    ctx_t *c = NULL;
    EXPECT(F(mpi_create)(MPI_COMM_WORLD, net, T, BG, 0, &c) == BPTT_OK,
           "create: %s", bptt_mpi_error_detail());
    EXPECT(F(mpi_size)(c) == size && F(mpi_rank)(c) == rank, "rank/size");

    R dW[DOUT * M], db[DOUT], dW2[DOUT * M], db2[DOUT];
    double loss = -1, loss2 = -1;
    bptt_status st = grad(c, p, &l, &loss, 0, dW, db);
    EXPECT(st == BPTT_OK, "gradient: %s", bptt_mpi_error_detail());
    EXPECT(rel(DOUT * M, dW, p->dW) <= TOL, "dW off by %g (skew %d)",
           rel(DOUT * M, dW, p->dW), skew);
    EXPECT(rel(DOUT, db, p->db) <= TOL, "db off by %g", rel(DOUT, db, p->db));
    EXPECT(fabs(loss - p->loss) <= 1e-12 * fabs(p->loss) + (TOL > 1e-10 ? 1e-5 * fabs(p->loss) : 0),
           "loss %.17g, reference %.17g", loss, p->loss);
    EXPECT(same_everywhere(DOUT * M, dW), "dW differs between ranks");

    /* run to run, any panel count, without the overlap: bitwise */
    for (size_t np = 1; np <= DOUT + 1; np += 3) { /* 1, 4, 7, then 0 */
        np = np > DOUT ? 0 : np;
        EXPECT(F(mpi_set_panels)(c, np) == BPTT_OK, "set_panels");
        st = grad(c, p, &l, &loss2, 0, dW2, db2);
        EXPECT(st == BPTT_OK && !memcmp(dW, dW2, sizeof dW) &&
                   !memcmp(db, db2, sizeof db) && loss == loss2,
               "not bitwise with %zu panels", np);
        if (np == 0)
            break;
    }
    EXPECT(F(mpi_set_panels)(c, DOUT + 1) == BPTT_EINVAL, "too many panels");
    ctx_t *nov = NULL;
    F(mpi_create)(MPI_COMM_WORLD, net, T, BG, BPTT_MPI_NO_OVERLAP, &nov);
    st = grad(nov, p, &l, &loss2, 0, dW2, db2);
    EXPECT(st == BPTT_OK && !memcmp(dW, dW2, sizeof dW) && loss == loss2,
           "NO_OVERLAP not bitwise the same");
    F(mpi_free)(nov);

    /* beta as BLAS: dW = beta dW + sum */
    for (size_t i = 0; i < DOUT * M; i++)
        dW2[i] = (R)i;
    st = grad(c, p, &l, NULL, (R)0.5, dW2, NULL);
    int ok = st == BPTT_OK;
    for (size_t i = 0; i < DOUT * M; i++)
        ok &= dW2[i] == (R)0.5 * (R)i + dW[i];
    EXPECT(ok, "beta = 0.5 not applied as beta*dW + sum");

    double total = -1, compute = -1, exposed = -1;
    EXPECT(F(mpi_last_times)(c, &total, &compute, &exposed) == BPTT_OK &&
               total >= 0 && compute >= 0 && exposed >= 0,
           "last_times");
    F(mpi_free)(c);
    local_free(&l);
}

static void test_fixed_order(bptt_net *net, const problem *p)
{
    size_t lo, hi;
    shard(0, &lo, &hi);
    local l = local_make(p, lo, hi);
    local all = local_make(p, 0, BG);
    ctx_t *c = NULL, *one = NULL;
    F(mpi_create)(MPI_COMM_WORLD, net, T, BG, BPTT_MPI_FIXED_ORDER, &c);
    F(mpi_create)(MPI_COMM_SELF, net, T, BG, BPTT_MPI_FIXED_ORDER, &one);
    R dW[DOUT * M], db[DOUT], dW1[DOUT * M], db1[DOUT];
    double loss = 0, loss1 = 0;
    bptt_status st = grad(c, p, &l, &loss, 0, dW, db);
    bptt_status st1 = grad(one, p, &all, &loss1, 0, dW1, db1);
    EXPECT(st == BPTT_OK && st1 == BPTT_OK, "fixed order: %s",
           bptt_mpi_error_detail());
    EXPECT(!memcmp(dW, dW1, sizeof dW) && !memcmp(db, db1, sizeof db) &&
               loss == loss1,
           "fixed order on %d ranks is not bitwise the 1-rank result", size);
    EXPECT(rel(DOUT * M, dW, p->dW) <= TOL, "fixed order dW off by %g",
           rel(DOUT * M, dW, p->dW));
    /* skewed shards (all on the last rank): still bitwise */
    local_free(&l);
    shard(1, &lo, &hi);
    l = local_make(p, lo, hi);
    st = grad(c, p, &l, &loss, 0, dW, db);
    EXPECT(st == BPTT_OK && !memcmp(dW, dW1, sizeof dW) && loss == loss1,
           "fixed order, skewed shards, not bitwise");
    F(mpi_free)(c);
    F(mpi_free)(one);
    local_free(&l);
    local_free(&all);
}

/* One rank (bad) spoils its call; every rank must fail alike, outputs
 * untouched. */
static void expect_agreed(bptt_status st, bptt_status want, int bad,
                          const R *dW, const char *what)
{
    char name[32];
    snprintf(name, sizeof name, "rank %d of %d", bad, size);
    EXPECT(st == want, "%s: status %d, expected %d (%s)", what, (int)st,
           (int)want, bptt_mpi_error_detail());
    EXPECT(strstr(bptt_mpi_error_detail(), name) != NULL,
           "%s: detail does not name %s: \"%s\"", what, name,
           bptt_mpi_error_detail());
    int untouched = 1;
    for (size_t i = 0; i < DOUT * M; i++)
        untouched &= dW[i] == (R)42;
    EXPECT(untouched, "%s: dW written on error", what);
}

static void test_errors(bptt_net *net, const problem *p)
{
    size_t lo, hi;
    shard(0, &lo, &hi);
    local l = local_make(p, lo, hi);
    const int bad = size - 1;
    for (unsigned flags = 0; flags <= BPTT_MPI_FIXED_ORDER; flags++) {
        ctx_t *c = NULL;
        F(mpi_create)(MPI_COMM_WORLD, net, T, BG, flags, &c);
        R dW[DOUT * M], db[DOUT];
        double loss = 42;
        for (size_t i = 0; i < DOUT * M; i++)
            dW[i] = 42;

        /* a bad leading dimension on the last rank */
        bptt_status st = F(mpi_gradient)(c, T, l.B, p->W, M, p->b, l.x,
                                         rank == bad ? DIN - 1 : DIN, l.y0,
                                         DOUT, l.tg, DOUT, l.mask, &loss, 0,
                                         dW, M, db);
        expect_agreed(st, BPTT_ELD, bad, dW, "ldx");
        EXPECT(loss == 42, "loss written on error");

        for (size_t i = 0; i < DOUT * M; i++)
            dW[i] = 42;
        /* B beyond Bmax on the last rank */
        st = F(mpi_gradient)(c, T, rank == bad ? BG + 1 : l.B, p->W, M, p->b,
                             l.x, DIN, l.y0, DOUT, l.tg, DOUT, l.mask, &loss,
                             0, dW, M, db);
        expect_agreed(st, BPTT_ECAPACITY, bad, dW, "B > Bmax");

        /* a NaN in x, check on */
        F(mpi_check_finite)(c, 1);
        R keep = l.x[DIN + 1];
        if (rank == bad && l.B > 0)
            l.x[DIN + 1] = (R)NAN;
        st = grad(c, p, &l, &loss, 0, dW, db);
        expect_agreed(st, BPTT_ENONFINITE, bad, dW, "NaN in x");
        l.x[DIN + 1] = keep;

        /* an infinite target, check on */
        keep = l.tg[2];
        if (rank == bad && l.B > 0)
            l.tg[2] = (R)INFINITY;
        st = grad(c, p, &l, &loss, 0, dW, db);
        expect_agreed(st, BPTT_ENONFINITE, bad, dW, "Inf target");
        l.tg[2] = keep;

        /* and the same context works again */
        st = grad(c, p, &l, &loss, 0, dW, db);
        EXPECT(st == BPTT_OK && rel(DOUT * M, dW, p->dW) <= TOL,
               "after the errors (flags %u): %s", flags,
               bptt_mpi_error_detail());
        F(mpi_free)(c);
    }
    /* a create that fails on one rank fails on all */
    ctx_t *c = (ctx_t *)&l; /* must stay as it was */
    bptt_status st = F(mpi_create)(MPI_COMM_WORLD, net, rank == bad ? 0 : T,
                                   BG, 0, &c);
    EXPECT(st == BPTT_ESIZE && c == (ctx_t *)&l &&
               strstr(bptt_mpi_error_detail(), "failed") != NULL,
           "create with Tmax = 0 on one rank: %d (%s)", (int)st,
           bptt_mpi_error_detail());
    /* flags that differ between the ranks: refused on every rank */
    c = (ctx_t *)&l;
    st = F(mpi_create)(MPI_COMM_WORLD, net, T, BG,
                       rank == bad ? BPTT_MPI_NO_OVERLAP : 0, &c);
    EXPECT(st == BPTT_EINVAL && c == (ctx_t *)&l &&
               strstr(bptt_mpi_error_detail(), "flags differ") != NULL,
           "flags differing between ranks: %d (%s)", (int)st,
           bptt_mpi_error_detail());
    EXPECT(F(mpi_gradient)(NULL, T, 1, p->W, M, NULL, l.x, DIN, NULL, 0, l.tg,
                           DOUT, NULL, NULL, 0, NULL, M, NULL) == BPTT_ENULL,
           "NULL ctx");
    local_free(&l);
}

/* ------------------------------------------------------------------------ */
/* Network B                                                                 */
/* ------------------------------------------------------------------------ */

enum { NOUT = 4 };

static void test_network_b(bptt_net *net, int fixed)
{
    seed = 77;
    R *W = rand_array(DOUT * M, 0.5), *bh = rand_array(DOUT, 0.1);
    R *Wo = rand_array(NOUT * DOUT, 0.5), *bo = rand_array(NOUT, 0.1);
    R *x = rand_array(T * BG * DIN, 1), *h0 = rand_array(BG * DOUT, 0.5);
    int *labels = malloc(T * BG * sizeof(int));
    for (size_t k = 0; k < T * BG; k++)
        labels[k] = k % 7 == 2 ? BPTT_IGNORE_LABEL : (int)(k * 5 % NOUT);
    bptt_elman *el = NULL;
    bptt_elman_create(net, NOUT, BPTT_HEAD_SOFTMAX, &el);

    /* reference: one process, all BG sequences */
    F(elman_workspace) *ws = NULL;
    F(elman_workspace_alloc)(el, T, BG, &ws);
    R rW[DOUT * M], rbh[DOUT], rWo[NOUT * DOUT], rbo[NOUT];
    double rE = 0;
    int st = F(elman_forward)(el, T, BG, W, M, bh, Wo, DOUT, bo, x, DIN, h0,
                              DOUT, labels, NULL, 0, &rE, NULL, 0, NULL, 0,
                              BPTT_ALGO_AUTO, ws);
    st |= F(elman_backward)(el, T, BG, W, M, Wo, DOUT, labels, NULL, 0, 0, rW,
                            M, rbh, rWo, DOUT, rbo, NULL, 0, NULL, 0,
                            BPTT_ALGO_AUTO, ws);
    EXPECT(st == 0, "Elman reference: %s", bptt_error_detail());
    F(elman_workspace_free)(ws);

    size_t lo, hi;
    shard(0, &lo, &hi);
    R *lx = shard_rows(x, T, BG, lo, hi, DIN);
    R *lh0 = shard_rows(h0, 1, BG, lo, hi, DOUT);
    int *ll = shard_labels(labels, T, BG, lo, hi);
    ctx_t *c = NULL;
    EXPECT(F(mpi_create_elman)(MPI_COMM_WORLD, el, T, BG,
                               fixed ? BPTT_MPI_FIXED_ORDER : 0,
                               &c) == BPTT_OK,
           "create_elman: %s", bptt_mpi_error_detail());
    /* [dWo | dbo], three panels of dW, dbh: five buckets */
    EXPECT(F(mpi_set_panels)(c, 3) == BPTT_OK, "set_panels");
    R dW[DOUT * M], dbh[DOUT], dWo[NOUT * DOUT], dbo[NOUT];
    double E = 0;
    bptt_status s = F(mpi_elman_gradient)(c, T, hi - lo, W, M, bh, Wo, DOUT,
                                          bo, lx, DIN, lh0, DOUT, ll, NULL, 0,
                                          &E, 0, dW, M, dbh, dWo, DOUT, dbo);
    EXPECT(s == BPTT_OK, "elman gradient: %s", bptt_mpi_error_detail());
    EXPECT(rel(DOUT * M, dW, rW) <= TOL && rel(DOUT, dbh, rbh) <= TOL &&
               rel(NOUT * DOUT, dWo, rWo) <= TOL && rel(NOUT, dbo, rbo) <= TOL,
           "Network B off: dW %g dbh %g dWo %g dbo %g (fixed %d)",
           rel(DOUT * M, dW, rW), rel(DOUT, dbh, rbh),
           rel(NOUT * DOUT, dWo, rWo), rel(NOUT, dbo, rbo), fixed);
    EXPECT(fabs(E - rE) <= (TOL > 1e-10 ? 1e-5 : 1e-12) * fabs(rE),
           "E %.17g, reference %.17g", E, rE);
    EXPECT(same_everywhere(NOUT * DOUT, dWo), "dWo differs between ranks");
    if (fixed) {
        ctx_t *one = NULL;
        F(mpi_create_elman)(MPI_COMM_SELF, el, T, BG, BPTT_MPI_FIXED_ORDER,
                            &one);
        R dW1[DOUT * M], dWo1[NOUT * DOUT];
        double E1 = 0;
        s = F(mpi_elman_gradient)(one, T, BG, W, M, bh, Wo, DOUT, bo, x, DIN,
                                  h0, DOUT, labels, NULL, 0, &E1, 0, dW1, M,
                                  NULL, dWo1, DOUT, NULL);
        EXPECT(s == BPTT_OK && !memcmp(dW, dW1, sizeof dW) &&
                   !memcmp(dWo, dWo1, sizeof dWo) && E == E1,
               "Network B fixed order not bitwise the 1-rank result");
        F(mpi_free)(one);
    }
    /* a Network A call on a Network B context: agreed EMISMATCH */
    EXPECT(F(mpi_gradient)(c, T, 1, W, M, NULL, lx, DIN, NULL, 0, lx, DOUT,
                           NULL, NULL, 0, dW, M, NULL) == BPTT_EMISMATCH,
           "Network A call on a Network B context");
    /* a bad label on rank 0: every rank fails, rank 0 named */
    int keep = ll[0];
    if (rank == 0 && hi > lo)
        ll[0] = NOUT;
    for (size_t i = 0; i < DOUT * M; i++)
        dW[i] = 42;
    s = F(mpi_elman_gradient)(c, T, hi - lo, W, M, bh, Wo, DOUT, bo, lx, DIN,
                              lh0, DOUT, ll, NULL, 0, &E, 0, dW, M, dbh, dWo,
                              DOUT, dbo);
    expect_agreed(s, BPTT_EINVAL, 0, dW, "bad label");
    ll[0] = keep;
    F(mpi_free)(c);
    bptt_elman_free(el);
    free(W), free(bh), free(Wo), free(bo), free(x), free(h0), free(labels);
    free(lx), free(lh0), free(ll);
}

int main(int argc, char **argv)
{
    MPI_Init(&argc, &argv);
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    bptt_net *net = NULL;
    bptt_net_create_uniform(DIN, DOUT, BPTT_ACT_TANH, NULL, &net);
    problem p;
    problem_make(&p);

    test_network_a(net, &p, 0);
    test_network_a(net, &p, 1);
    test_fixed_order(net, &p);
    test_errors(net, &p);
    test_network_b(net, 0);
    test_network_b(net, 1);

    problem_free(&p);
    bptt_net_free(net);
    int total = 0;
    MPI_Allreduce(&failures, &total, 1, MPI_INT, MPI_SUM, MPI_COMM_WORLD);
    if (rank == 0)
        printf("test_mpi (%s, %d ranks): %s, %d failure(s)\n", PREC, size,
               total ? "FAILED" : "passed", total);
    MPI_Finalize();
    return total ? 1 : 0;
}
