/* rtrl-bench.c — time RTRL (naive and gemm) beside BPTT on the same shape,
 * through the public API only, as a user would.
 *
 * For each dout (din = dout unless --din is given) it measures, in the
 * same run: DGEMM GFLOP/s (512^3, and at RTRL's own GEMM shape
 * n x n x n(m+1)); gemm and
 * naive RTRL per step and per sequence; BPTT (bptt_forward +
 * bptt_loss_squared + bptt_backward, BPTT_ALGO_AUTO) per sequence; the
 * memory of each (bptt_rtrl_size against bptt_workspace_size); the T above
 * which BPTT's workspace exceeds RTRL's state; and the cost ratio.
 * Times are medians of --reps runs of the process's CPU time (the machine
 * may be shared and noisy; --wall uses the wall clock instead).
 *
 * Usage: OPENBLAS_NUM_THREADS=1 bptt-rtrl-bench [--dout N]... [--din N]
 *          [--B N] [--T N] [--reps N] [--naive-reps N] [--naive-T N]
 *          [--wall]
 * Defaults: --dout 64 --dout 128, din = dout, B = 1, T = 16, reps = 7,
 * naive-reps = 3, naive-T = 4. */
#define _POSIX_C_SOURCE 199309L /* clock_gettime */
#include <bptt.h>
#include <cblas.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef struct opts {
    size_t dout[8], ndout, din, B, T, reps, naive_reps, naive_T;
} opts;

/* The clock: the process's CPU time by default — on a shared machine it
 * does not count the time other processes hold the core, and with one
 * BLAS thread it is the time the work took — or the wall clock (--wall). */
static clockid_t clock_id = CLOCK_PROCESS_CPUTIME_ID;

static double now(void)
{
    struct timespec ts;
    clock_gettime(clock_id, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double median(double *t, size_t n)
{
    qsort(t, n, sizeof *t, cmp_double);
    return n % 2 ? t[n / 2] : 0.5 * (t[n / 2 - 1] + t[n / 2]);
}

static double *random_array(size_t n, double scale, unsigned long long *s)
{
    double *a = malloc(n * sizeof *a);
    for (size_t i = 0; i < n; i++) {
        *s = *s * 6364136223846793005ULL + 1442695040888963407ULL;
        a[i] = scale * ((double)(*s >> 11) / 9007199254740992.0 * 2 - 1);
    }
    return a;
}

#define TRY(call)                                                             \
    do {                                                                      \
        bptt_status st_ = (call);                                             \
        if (st_ != BPTT_OK) {                                                 \
            fprintf(stderr, "%s\n", bptt_error_detail());                     \
            exit(1);                                                          \
        }                                                                     \
    } while (0)

/* A rows x inner x cols DGEMM on fixed random matrices. */
typedef struct gemm_probe {
    size_t rows, inner, cols;
    double *A, *B, *C;
} gemm_probe;

static gemm_probe probe_make(size_t rows, size_t inner, size_t cols)
{
    unsigned long long s = 5;
    gemm_probe g = {rows, inner, cols, random_array(rows * inner, 1, &s),
                    random_array(inner * cols, 1, &s),
                    calloc(rows * cols, sizeof(double))};
    return g;
}

static void probe_free(gemm_probe *g)
{
    free(g->A);
    free(g->B);
    free(g->C);
}

/* Seconds of one run of the probe's GEMM. */
static double probe_run(const gemm_probe *g)
{
    double t0 = now();
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)g->rows,
                (int)g->cols, (int)g->inner, 1, g->A, (int)g->inner, g->B,
                (int)g->cols, 0, g->C, (int)g->cols);
    return now() - t0;
}

static double probe_gflops(const gemm_probe *g, double seconds)
{
    return 2.0 * (double)g->rows * (double)g->inner * (double)g->cols /
           seconds * 1e-9;
}

/* Median seconds of the probe's GEMM (after one warm-up run). */
static double probe_median(const gemm_probe *g, size_t reps)
{
    double t[64];
    probe_run(g);
    for (size_t r = 0; r < reps; r++)
        t[r] = probe_run(g);
    return median(t, reps);
}

typedef struct problem {
    bptt_net *net;
    size_t din, dout, m, T, B;
    double *W, *b, *x, *target, *y, *dy, *dW, *db;
} problem;

static problem make(size_t din, size_t dout, size_t T, size_t B)
{
    problem p = {0};
    p.din = din;
    p.dout = dout;
    p.m = din + dout;
    p.T = T;
    p.B = B;
    TRY(bptt_net_create_uniform(din, dout, BPTT_ACT_TANH, NULL, &p.net));
    unsigned long long s = 42;
    p.W = random_array(dout * p.m, 1.0 / (double)p.m, &s);
    p.b = random_array(dout, 0.1, &s);
    p.x = random_array(T * B * din, 1, &s);
    p.target = random_array(T * B * dout, 0.5, &s);
    p.y = calloc(T * B * dout, sizeof(double));
    p.dy = calloc(T * B * dout, sizeof(double));
    p.dW = calloc(dout * p.m, sizeof(double));
    p.db = calloc(dout, sizeof(double));
    return p;
}

static void unmake(problem *p)
{
    bptt_net_free(p->net);
    free(p->W);
    free(p->b);
    free(p->x);
    free(p->target);
    free(p->y);
    free(p->dy);
    free(p->dW);
    free(p->db);
}

/* Median seconds of one RTRL step (the steps of one stream, after one
 * warm-up step). */
static double time_rtrl_step(const problem *p, bptt_rtrl_algo algo,
                             size_t reps, bptt_rtrl *st)
{
    double t[64], loss;
    const size_t B = p->B;
    TRY(bptt_rtrl_reset(p->net, B, NULL, 0, st));
    for (size_t r = 0; r <= reps; r++) {
        const size_t k = (r % p->T) * B;
        double t0 = now();
        TRY(bptt_rtrl_step(p->net, B, p->W, p->m, p->b, p->x + k * p->din,
                           p->din, p->target + k * p->dout, p->dout, NULL,
                           p->y, p->dout, &loss, 1.0, p->dW, p->m, p->db,
                           algo, st));
        if (r)
            t[r - 1] = now() - t0;
    }
    return median(t, reps);
}

/* Median seconds of one RTRL sequence of T steps. */
static double time_rtrl_seq(const problem *p, size_t T, bptt_rtrl_algo algo,
                            size_t reps, bptt_rtrl *st)
{
    double t[64], loss;
    for (size_t r = 0; r < reps; r++) {
        double t0 = now();
        TRY(bptt_rtrl_sequence(p->net, T, p->B, p->W, p->m, p->b, p->x,
                               p->din, NULL, 0, p->target, p->dout, NULL,
                               p->y, p->dout, &loss, 0.0, p->dW, p->m, p->db,
                               algo, st));
        t[r] = now() - t0;
    }
    return median(t, reps);
}

/* Median seconds of BPTT's forward, loss and backward over T steps. */
static double time_bptt_seq(const problem *p, size_t reps, bptt_workspace *ws)
{
    double t[64], loss;
    const size_t T = p->T, B = p->B;
    for (size_t r = 0; r <= reps; r++) {
        double t0 = now();
        TRY(bptt_forward(p->net, T, B, p->W, p->m, p->b, p->x, p->din, NULL,
                         0, p->y, p->dout, BPTT_ALGO_AUTO, ws));
        TRY(bptt_loss_squared(T, B, p->dout, p->y, p->dout, p->target,
                              p->dout, NULL, &loss, p->dy, p->dout));
        TRY(bptt_backward(p->net, T, B, p->W, p->m, p->dy, p->dout, 0.0,
                          p->dW, p->m, p->db, NULL, 0, NULL, 0,
                          BPTT_ALGO_AUTO, ws));
        if (r)
            t[r - 1] = now() - t0;
    }
    return median(t, reps);
}

/* The smallest T whose BPTT workspace exceeds the RTRL state (a search
 * on the public size queries; both grow monotonically). */
static size_t crossover(const bptt_net *net, size_t B, size_t rtrl_bytes)
{
    size_t lo = 1, hi = 1, bytes;
    for (;;) {
        TRY(bptt_workspace_size(net, hi, B, &bytes));
        if (bytes > rtrl_bytes)
            break;
        lo = hi;
        hi *= 2;
    }
    while (hi - lo > 1) { /* ws(lo) <= rtrl < ws(hi) */
        size_t mid = lo + (hi - lo) / 2;
        TRY(bptt_workspace_size(net, mid, B, &bytes));
        if (bytes > rtrl_bytes)
            hi = mid;
        else
            lo = mid;
    }
    return hi;
}

static void bench(size_t din, size_t dout, const opts *o,
                  const gemm_probe *probe)
{
    const size_t B = o->B, T = o->T, n = dout, m = din + dout;
    problem p = make(din, dout, T, B);
    const double ncols = (double)n * (double)(m + 1);
    /* flops per step and sequence: eq. (10) GEMM, eq. (11) GEMV, forward */
    const double f10 = 2.0 * (double)n * (double)n * ncols;
    const double f11 = 2.0 * (double)n * ncols;
    const double step_flops = (f10 + f11 + 2.0 * (double)n * (double)m) * (double)B;
    gemm_probe here = probe_make(n, n, n * (m + 1));
    const double gemm_here = probe_gflops(&here, probe_median(&here, o->reps));
    probe_free(&here);

    size_t rbytes, wbytes;
    TRY(bptt_rtrl_size(p.net, B, &rbytes));
    TRY(bptt_workspace_size(p.net, T, B, &wbytes));
    bptt_rtrl *st;
    bptt_workspace *ws;
    TRY(bptt_rtrl_alloc(p.net, B, &st));
    TRY(bptt_workspace_alloc(p.net, T, B, &ws));

    const double gemm512 = probe_gflops(probe, probe_median(probe, o->reps));
    const double g_step = time_rtrl_step(&p, BPTT_RTRL_GEMM, o->reps, st);
    const double g_seq = time_rtrl_seq(&p, T, BPTT_RTRL_GEMM, o->reps, st);
    const double n_step = time_rtrl_step(&p, BPTT_RTRL_NAIVE, o->naive_reps,
                                         st);
    const size_t nT = o->naive_T < T ? o->naive_T : T;
    const double n_seq = time_rtrl_seq(&p, nT, BPTT_RTRL_NAIVE, 1, st);
    const double b_seq = time_bptt_seq(&p, o->reps, ws);
    const size_t Tx = crossover(p.net, B, rbytes);

    printf("\n== din %zu, dout %zu, B %zu (double, tanh) ==\n", din, dout, B);
    printf("DGEMM: %.1f GFLOP/s at 512^3, %.1f GFLOP/s at RTRL's shape %zu x "
           "%zu x %zu\n", gemm512, gemm_here, n, n, n * (m + 1));
    const double b_step = b_seq / (double)T; /* BPTT has no single step */
    printf("%-12s %13s %5s %13s %9s %8s %13s\n", "method", "per step [ms]",
           "T", "per seq [ms]", "GFLOP/s", "of GEMM", "memory [KiB]");
    printf("%-12s %13.4f %5zu %13.3f %9.2f %7.0f%% %13.1f\n", "rtrl-gemm",
           1e3 * g_step, T, 1e3 * g_seq, step_flops / g_step * 1e-9,
           100 * step_flops / g_step * 1e-9 / gemm512, (double)rbytes / 1024);
    printf("%-12s %13.4f %5zu %13.3f %9.2f %7.0f%% %13.1f\n", "rtrl-naive",
           1e3 * n_step, nT, 1e3 * n_seq, step_flops / n_step * 1e-9,
           100 * step_flops / n_step * 1e-9 / gemm512, (double)rbytes / 1024);
    printf("%-12s %13.4f %5zu %13.3f %9s %8s %13.1f\n", "bptt (auto)",
           1e3 * b_step, T, 1e3 * b_seq, "-", "-", (double)wbytes / 1024);
    printf("RTRL per step: a step after the first (eq. (10)); per seq: reset "
           "and T steps; BPTT per step = per seq / T; memory: RTRL state, "
           "BPTT workspace for this T\n");
    printf("where each wins: BPTT's workspace exceeds RTRL's state for T >= "
           "%zu; a step of RTRL costs %.0fx one of BPTT (gemm; naive %.0fx); "
           "gemm is %.1fx naive\n", Tx, g_step / b_step, n_step / b_step,
           n_step / g_step);
    bptt_rtrl_free(st);
    bptt_workspace_free(ws);
    unmake(&p);
}

static size_t arg(int argc, char **argv, int *i)
{
    if (*i + 1 >= argc) {
        fprintf(stderr, "%s needs a value\n", argv[*i]);
        exit(2);
    }
    long v = strtol(argv[++*i], NULL, 10);
    if (v <= 0) {
        fprintf(stderr, "%s: positive number expected\n", argv[*i - 1]);
        exit(2);
    }
    return (size_t)v;
}

int main(int argc, char **argv)
{
    opts o = {.din = 0, .B = 1, .T = 16, .reps = 7, .naive_reps = 3,
              .naive_T = 4};
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--dout") && o.ndout < 8)
            o.dout[o.ndout++] = arg(argc, argv, &i);
        else if (!strcmp(argv[i], "--din"))
            o.din = arg(argc, argv, &i);
        else if (!strcmp(argv[i], "--B"))
            o.B = arg(argc, argv, &i);
        else if (!strcmp(argv[i], "--T"))
            o.T = arg(argc, argv, &i);
        else if (!strcmp(argv[i], "--reps"))
            o.reps = arg(argc, argv, &i);
        else if (!strcmp(argv[i], "--naive-reps"))
            o.naive_reps = arg(argc, argv, &i);
        else if (!strcmp(argv[i], "--naive-T"))
            o.naive_T = arg(argc, argv, &i);
        else if (!strcmp(argv[i], "--wall"))
            clock_id = CLOCK_MONOTONIC;
        else {
            fprintf(stderr, "usage: %s [--dout N]... [--din N] [--B N] "
                            "[--T N] [--reps N] [--naive-reps N] "
                            "[--naive-T N] [--wall]\n", argv[0]);
            return 2;
        }
    }
    if (o.reps > 63 || o.naive_reps > 63) {
        fprintf(stderr, "at most 63 repetitions\n");
        return 2;
    }
    if (o.ndout == 0) {
        o.dout[o.ndout++] = 64;
        o.dout[o.ndout++] = 128;
    }
    const char *thr = getenv("OPENBLAS_NUM_THREADS");
    printf("bptt %s RTRL benchmark; OPENBLAS_NUM_THREADS=%s; %s; medians of "
           "%zu runs (naive: %zu)\n", bptt_version(), thr ? thr : "(unset)",
           clock_id == CLOCK_MONOTONIC ? "wall clock" : "process CPU time",
           o.reps, o.naive_reps);
    if (!thr || strcmp(thr, "1"))
        printf("note: set OPENBLAS_NUM_THREADS=1; CPU time sums all threads\n");
    gemm_probe probe = probe_make(512, 512, 512);
    probe_run(&probe); /* warm-up */
    for (size_t k = 0; k < o.ndout; k++)
        bench(o.din ? o.din : o.dout[k], o.dout[k], &o, &probe);
    probe_free(&probe);
    return 0;
}
