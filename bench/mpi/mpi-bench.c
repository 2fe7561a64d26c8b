/*
 * mpi-bench.c — bptt-mpi-bench: what the data-parallel module (bptt/mpi.h)
 * costs and hides, and the MPI link it runs on.  Public API only.
 *
 *   mpirun -np P bptt-mpi-bench [--shape din,dout,T,B] [--weak] [--reps N]
 *                               [--fixed] [--no-overlap] [--panels K]
 *       one data-parallel gradient of Network A (tanh), B sequences split
 *       over the P ranks (strong scaling) or B per rank (--weak).  Prints,
 *       medians over N calls, each the slowest rank's time:
 *         call      the module's call (forward, loss, backward, reduction)
 *         local     the same call on a context made on MPI_COMM_SELF: the
 *                   same work, panels and tests, no communication
 *         compute   the same local work with the expert calls, no MPI
 *         gemm      the dW = Δᵀ S product alone (backward with dW minus
 *                   backward without)
 *         reduce    one blocking MPI_Allreduce of the gradient buffer
 *         call − local, per rep then the median: what communication adds
 *                   to the call, rank imbalance included (noisy: two
 *                   timings of tens of ms whose difference is ~1 ms)
 *         tail      per call, the time from the moment the LAST rank's
 *                   backward ended to the moment the last rank returned:
 *                   the reduction's time not hidden behind the backward,
 *                   without the imbalance between ranks (each rank's
 *                   backward end is its return time less the exposed time
 *                   bptt_mpi_last_times reports, on the node's
 *                   CLOCK_MONOTONIC; only defined when every rank is on one
 *                   node, and printed as n/a otherwise)
 *         hidden    1 − tail / reduce
 *         seq/s     sequences per second of the whole job
 *       The four are timed in turn within each rep, so that a machine
 *       whose load drifts affects them alike.
 *   mpirun -np P bptt-mpi-bench --comm
 *       ping-pong between ranks 0 and 1 and MPI_Allreduce over all ranks,
 *       8 B to 32 MiB, the fastest of N runs each (a shared machine adds
 *       others' load to the median), and the α–β fit of each (least
 *       squares in relative error on
 *       t = α + n/β for the ping-pong, t = 2(P−1)α + 2(P−1)/P · n/β for
 *       the all-reduce).
 *
 * Built in double; bptt-mpi-bench-f is the same in single precision.
 */
#define _POSIX_C_SOURCE 199309L /* clock_gettime */

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <bptt/mpi.h>

#ifdef BENCH_SINGLE
typedef float R;
#define F(name) bpttf_##name
#define MPI_R MPI_FLOAT
#define PREC "f32"
#else
typedef double R;
#define F(name) bptt_##name
#define MPI_R MPI_DOUBLE
#define PREC "f64"
#endif

static int rank, size;

#define TRY(call)                                                              \
    do {                                                                       \
        bptt_status st_ = (call);                                              \
        if (st_ != BPTT_OK) {                                                  \
            fprintf(stderr, "rank %d: %s%s\n", rank, bptt_mpi_error_detail(),  \
                    bptt_error_detail());                                      \
            MPI_Abort(MPI_COMM_WORLD, 1);                                      \
        }                                                                      \
    } while (0)

static int cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof *v, cmp);
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

/* The slowest rank's time of one run of what, started together. */
#define TIMED(out, what)                                                       \
    do {                                                                       \
        MPI_Barrier(MPI_COMM_WORLD);                                           \
        double t0_ = MPI_Wtime();                                              \
        what;                                                                  \
        double t_ = MPI_Wtime() - t0_;                                         \
        MPI_Allreduce(&t_, &(out), 1, MPI_DOUBLE, MPI_MAX, MPI_COMM_WORLD);    \
    } while (0)

/* One clock for every process of a node (MPI_Wtime need not be). */
static double node_clock(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* Whether every rank runs on this rank's node. */
static int one_node(void)
{
    MPI_Comm node;
    int n = 0;
    MPI_Comm_split_type(MPI_COMM_WORLD, MPI_COMM_TYPE_SHARED, rank,
                        MPI_INFO_NULL, &node);
    MPI_Comm_size(node, &n);
    MPI_Comm_free(&node);
    int all = n == size, every = 0;
    MPI_Allreduce(&all, &every, 1, MPI_INT, MPI_MIN, MPI_COMM_WORLD);
    return every;
}

static unsigned long long seed = 7;
static R rnd(void)
{
    seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
    return (R)((double)(seed >> 11) / 9007199254740992.0 * 2 - 1);
}

static void fill(R *a, size_t n, double s)
{
    for (size_t i = 0; i < n; i++)
        a[i] = (R)(s * rnd());
}

static int gradient_bench(size_t din, size_t dout, size_t T, size_t B,
                          int weak, int reps, unsigned flags, size_t panels)
{
    const size_t m = din + dout;
    /* This rank's shard: B/P (the first B mod P ranks one more), or B. */
    size_t Bl = weak ? B : B / (size_t)size + ((size_t)rank < B % (size_t)size);
    size_t Bg = weak ? B * (size_t)size : B;
    size_t TB = T * (Bl ? Bl : 1);
    R *W = malloc(dout * m * sizeof(R)), *dW = malloc(dout * m * sizeof(R));
    R *db = malloc(dout * sizeof(R));
    R *x = malloc(TB * din * sizeof(R)), *tg = malloc(TB * dout * sizeof(R));
    R *y = malloc(TB * dout * sizeof(R)), *dy = malloc(TB * dout * sizeof(R));
    fill(W, dout * m, 1 / sqrt((double)m));
    seed += (unsigned long long)rank;
    fill(x, TB * din, 1);
    fill(tg, TB * dout, 0.5);

    bptt_net *net = NULL;
    TRY(bptt_net_create_uniform(din, dout, BPTT_ACT_TANH, NULL, &net));
    F(mpi) *c = NULL;
    TRY(F(mpi_create)(MPI_COMM_WORLD, net, T, Bl ? Bl : 1, flags, &c));
    if (panels != (size_t)-1)
        TRY(F(mpi_set_panels)(c, panels));
    F(mpi) *self = NULL; /* the same work, no communication */
    TRY(F(mpi_create)(MPI_COMM_SELF, net, T, Bl ? Bl : 1, flags, &self));
    if (panels != (size_t)-1)
        TRY(F(mpi_set_panels)(self, panels));
    F(workspace) *ws = NULL;
    TRY(F(workspace_alloc)(net, T, Bl ? Bl : 1, &ws));

    const int node = one_node();
    double *tc = malloc((size_t)reps * sizeof(double) * 8);
    double *tcall = tc, *tcomp = tc + reps, *tgemm = tc + 2 * reps;
    double *tred = tc + 3 * reps, *texp = tc + 4 * reps, *tnod = tc + 5 * reps;
    double *tself = tc + 6 * reps, *tdiff = tnod, *ttail = tc + 7 * reps;
    double loss = 0;
    const size_t npar = dout * m + dout;
    R *buf = malloc(npar * sizeof(R));
    fill(buf, npar, 1);
    /* one warm-up of each */
    TRY(F(mpi_gradient)(c, T, Bl, W, m, NULL, x, din, NULL, 0, tg, dout,
                        NULL, &loss, 0, dW, m, db));
    for (int r = 0; r < reps; r++) {
        MPI_Barrier(MPI_COMM_WORLD);
        double t0 = node_clock();
        TRY(F(mpi_gradient)(c, T, Bl, W, m, NULL, x, din, NULL, 0, tg, dout,
                            NULL, &loss, 0, dW, m, db));
        double e = 0, tr = node_clock();
        F(mpi_last_times)(c, NULL, NULL, &e);
        /* the slowest call, the last return, the last backward's end */
        double mark[4] = {tr - t0, tr, tr - e, e}, most[4];
        MPI_Allreduce(mark, most, 4, MPI_DOUBLE, MPI_MAX, MPI_COMM_WORLD);
        tcall[r] = most[0];
        ttail[r] = most[1] - most[2];
        texp[r] = most[3];
        double with = 0, without = 0;
        TIMED(tcomp[r], if (Bl) {
            TRY(F(forward)(net, T, Bl, W, m, NULL, x, din, NULL, 0, y, dout,
                           BPTT_ALGO_AUTO, ws));
            TRY(F(loss_squared)(T, Bl, dout, y, dout, tg, dout, NULL, &loss,
                                dy, dout));
            double t1 = MPI_Wtime();
            TRY(F(backward)(net, T, Bl, W, m, dy, dout, 0, dW, m, db, NULL, 0,
                            NULL, 0, BPTT_ALGO_AUTO, ws));
            with = MPI_Wtime() - t1;
            t1 = MPI_Wtime();
            TRY(F(backward)(net, T, Bl, W, m, dy, dout, 0, NULL, m, NULL,
                            NULL, 0, NULL, 0, BPTT_ALGO_AUTO, ws));
            without = MPI_Wtime() - t1;
        });
        tcomp[r] -= without; /* the second backward is not part of it */
        double g = with - without;
        MPI_Allreduce(&g, &tgemm[r], 1, MPI_DOUBLE, MPI_MAX, MPI_COMM_WORLD);
        TIMED(tred[r], MPI_Allreduce(MPI_IN_PLACE, buf, (int)npar, MPI_R,
                                     MPI_SUM, MPI_COMM_WORLD));
        TIMED(tself[r], TRY(F(mpi_gradient)(self, T, Bl, W, m, NULL, x, din,
                                            NULL, 0, tg, dout, NULL, &loss, 0,
                                            dW, m, db)));
        tdiff[r] = tcall[r] - tself[r];
    }
    double call = median(tcall, reps), comp = median(tcomp, reps);
    double gemm = median(tgemm, reps), red = median(tred, reps);
    double exposed = median(tdiff, reps), wait = median(texp, reps);
    double tail = median(ttail, reps);
    double local = median(tself, reps);
    if (rank == 0) {
        char how[32] = "";
        if (panels != (size_t)-1)
            snprintf(how, sizeof how, " panels %zu", panels);
        printf("%s P=%d shape (%zu,%zu,%zu,%zu) %s%s%s, %zu sequences per "
               "call, %d reps (medians, slowest rank):\n",
               PREC, size, din, dout, T, B, weak ? "weak" : "strong",
               flags & BPTT_MPI_FIXED_ORDER  ? " fixed-order"
               : flags & BPTT_MPI_NO_OVERLAP ? " no-overlap"
                                             : "",
               how, Bg, reps);
        printf("  call %.2f ms  local %.2f ms  compute %.2f ms  gemm %.2f ms"
               "  reduce %.3f ms (%.1f MB)\n",
               1e3 * call, 1e3 * local, 1e3 * comp, 1e3 * gemm, 1e3 * red,
               1e-6 * (double)(npar * sizeof(R)));
        printf("  call - local %.3f ms, wait after own backward %.3f ms\n",
               1e3 * exposed, 1e3 * wait);
        if (size == 1)
            printf("  one rank: nothing to reduce\n");
        else if (node)
            printf("  tail after the last backward %.3f ms, hidden %.0f%%\n",
                   1e3 * tail, 100 * (1 - fmax(0, tail) / red));
        else
            printf("  tail after the last backward n/a (ranks on several "
                   "nodes)\n");
        printf("  %.1f sequences/s\n", (double)Bg / call);
    }
    free(tc);
    free(buf);
    F(workspace_free)(ws);
    F(mpi_free)(c);
    F(mpi_free)(self);
    bptt_net_free(net);
    free(W), free(dW), free(db), free(x), free(tg), free(y), free(dy);
    return 0;
}

/* Least squares t = a + b·n over k points, in relative error (weights
 * 1/t²), so that the 8-byte points fix a as much as the 64 MiB ones fix
 * b. */
static void fit(int k, const double *n, const double *t, double *a, double *b)
{
    double sw = 0, sn = 0, st = 0, snn = 0, snt = 0;
    for (int i = 0; i < k; i++) {
        double w = 1 / (t[i] * t[i]);
        sw += w;
        sn += w * n[i];
        st += w * t[i];
        snn += w * n[i] * n[i];
        snt += w * n[i] * t[i];
    }
    *b = (sw * snt - sn * st) / (sw * snn - sn * sn);
    *a = (st - *b * sn) / sw;
}

static double minimum(const double *v, int n)
{
    double m = v[0];
    for (int i = 1; i < n; i++)
        m = v[i] < m ? v[i] : m;
    return m;
}

static int comm_bench(int reps)
{
    enum { NS = 24 };
    double bytes[NS], pp[NS], ar[NS], v[64];
    size_t maxb = (size_t)64 << 20;
    char *buf = malloc(maxb);
    double *dbuf = malloc(maxb);
    memset(buf, 1, maxb);
    for (size_t i = 0; i < maxb / sizeof(double); i++)
        dbuf[i] = 1;
    int k = 0;
    if (rank == 0)
        printf("bytes        ping-pong(us, one way)  allreduce(us, P=%d)\n",
               size);
    for (size_t nb = 8; nb <= maxb && k < NS; nb *= 4, k++) {
        int rr = nb > ((size_t)1 << 22) ? 5 : reps;
        for (int r = 0; r < rr; r++) {
            MPI_Barrier(MPI_COMM_WORLD);
            double t0 = MPI_Wtime();
            if (rank == 0) {
                MPI_Send(buf, (int)nb, MPI_BYTE, 1, 0, MPI_COMM_WORLD);
                MPI_Recv(buf, (int)nb, MPI_BYTE, 1, 0, MPI_COMM_WORLD,
                         MPI_STATUS_IGNORE);
            } else if (rank == 1) {
                MPI_Recv(buf, (int)nb, MPI_BYTE, 0, 0, MPI_COMM_WORLD,
                         MPI_STATUS_IGNORE);
                MPI_Send(buf, (int)nb, MPI_BYTE, 0, 0, MPI_COMM_WORLD);
            }
            v[r] = (MPI_Wtime() - t0) / 2;
        }
        pp[k] = minimum(v, rr); /* the link's best: others share it */
        for (int r = 0; r < rr; r++) {
            double t = 0;
            TIMED(t, MPI_Allreduce(MPI_IN_PLACE, dbuf,
                                   (int)(nb / sizeof(double) ? nb / sizeof(double) : 1),
                                   MPI_DOUBLE, MPI_SUM, MPI_COMM_WORLD));
            v[r] = t;
        }
        ar[k] = minimum(v, rr);
        bytes[k] = (double)nb;
        if (rank == 0)
            printf("%-12zu %12.2f %22.2f\n", nb, 1e6 * pp[k], 1e6 * ar[k]);
    }
    if (rank == 0) {
        double a, b;
        fit(k, bytes, pp, &a, &b);
        printf("ping-pong fit: alpha %.2f us, beta %.2f GB/s\n", 1e6 * a,
               1e-9 / b);
        fit(k, bytes, ar, &a, &b);
        double p = size;
        printf("allreduce fit (ring model, P=%d): alpha %.2f us, beta %.2f "
               "GB/s\n",
               size, 1e6 * a / (2 * (p - 1)), 1e-9 * 2 * (p - 1) / p / b);
    }
    free(buf);
    free(dbuf);
    return 0;
}

int main(int argc, char **argv)
{
    MPI_Init(&argc, &argv);
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    size_t din = 256, dout = 256, T = 100, B = 32, panels = (size_t)-1;
    int weak = 0, reps = 5, comm = 0;
    unsigned flags = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--shape") && i + 1 < argc) {
            if (sscanf(argv[++i], "%zu,%zu,%zu,%zu", &din, &dout, &T, &B) != 4)
                goto usage;
        } else if (!strcmp(argv[i], "--weak")) {
            weak = 1;
        } else if (!strcmp(argv[i], "--fixed")) {
            flags |= BPTT_MPI_FIXED_ORDER;
        } else if (!strcmp(argv[i], "--no-overlap")) {
            flags |= BPTT_MPI_NO_OVERLAP;
        } else if (!strcmp(argv[i], "--comm")) {
            comm = 1;
        } else if (!strcmp(argv[i], "--reps") && i + 1 < argc) {
            reps = atoi(argv[++i]);
        } else if (!strcmp(argv[i], "--panels") && i + 1 < argc) {
            panels = (size_t)atol(argv[++i]);
        } else {
            goto usage;
        }
    }
    if (reps < 1 || reps > 64 || (comm && size < 2))
        goto usage;
    int rc = comm ? comm_bench(reps)
                  : gradient_bench(din, dout, T, B, weak, reps, flags, panels);
    MPI_Finalize();
    return rc;
usage:
    if (rank == 0)
        fprintf(stderr,
                "usage: mpirun -np P %s [--shape din,dout,T,B] [--weak] "
                "[--fixed] [--no-overlap] [--panels K] [--reps N (1..64)]\n"
                "       mpirun -np P>=2 %s --comm [--reps N]\n",
                argv[0], argv[0]);
    MPI_Finalize();
    return 2;
}
