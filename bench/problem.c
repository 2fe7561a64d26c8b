/*
 * problem.c — one case's arrays in one precision and what the driver does
 * with them through the public API: run a pass, keep the naive reference,
 * check another algorithm (or a peer's outputs) against it.  Compiled once
 * per precision.
 */
#include "env.h"
#include "problem.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

typedef struct BX(problem) problem;

static double uniform(unsigned long long *s) /* deterministic, in [-1, 1) */
{
    *s = *s * 6364136223846793005ULL + 1442695040888963407ULL;
    return (double)(*s >> 11) / 9007199254740992.0 * 2 - 1;
}

/* rows x cols elements, or NULL when the count overflows or malloc fails. */
static R *alloc_mat(size_t rows, size_t cols)
{
    if (cols != 0 && rows > SIZE_MAX / sizeof(R) / cols)
        return NULL;
    return malloc(rows * cols * sizeof(R) + (rows * cols == 0));
}

static void fill(R *a, size_t n, double scale, unsigned long long *s)
{
    for (size_t i = 0; i < n; i++)
        a[i] = (R)(scale * uniform(s));
}

enum { NARRAYS = 13 };

typedef struct array {
    R **a;
    size_t rows, cols;
} array;

/* Every array of p with its shape, for allocation and release alike. */
static void arrays(problem *p, array out[NARRAYS])
{
    const size_t TB = p->T * p->B, din = p->din, dout = p->dout, m = p->m;
    const array all[NARRAYS] = {
        {&p->W, dout, m},     {&p->dW, dout, m},    {&p->ref_dW, dout, m},
        {&p->x, TB, din},     {&p->dx, TB, din},    {&p->ref_dx, TB, din},
        {&p->dy, TB, dout},   {&p->y, TB, dout},    {&p->ref_y, TB, dout},
        {&p->S, TB, m},       {&p->Delta, TB, dout}, {&p->Z, TB, dout},
        {&p->target, TB, dout},
    };
    memcpy(out, all, sizeof all);
}

static void problem_free(void *vp)
{
    problem *p = vp;
    if (!p)
        return;
    array a[NARRAYS];
    arrays(p, a);
    for (int i = 0; i < NARRAYS; i++)
        free(*a[i].a);
    P(workspace_free)(p->ws);
    P(rtrl_free)(p->rtrl);
    free(p);
}

static void *problem_new(const bptt_net *net, size_t T, size_t B,
                         unsigned long long seed)
{
    problem *p = calloc(1, sizeof *p);
    if (!p)
        return NULL;
    p->net = net;
    p->din = bptt_net_din(net);
    p->dout = bptt_net_dout(net);
    p->m = p->din + p->dout;
    p->T = T;
    p->B = B;
    /* The library checks T·B against its limits; an overflow here fails
     * the workspace first. */
    if (P(workspace_alloc)(net, T, B, &p->ws) != BPTT_OK) {
        free(p);
        return NULL;
    }
    /* bptt's time loops on as many threads as the BLAS has (--threads). */
    if (P(workspace_set_threads)(p->ws, bench_threads()) != BPTT_OK) {
        P(workspace_free)(p->ws);
        free(p);
        return NULL;
    }
    array a[NARRAYS];
    arrays(p, a);
    for (int i = 0; i < NARRAYS; i++)
        if (!(*a[i].a = alloc_mat(a[i].rows, a[i].cols))) {
            problem_free(p);
            return NULL;
        }
    const size_t TB = T * B, din = p->din, dout = p->dout, m = p->m;
    /* Weights of about 1/sqrt(m) keep tanh units away from saturation and
     * the recurrence contracting, as a trained network's would. */
    unsigned long long s = seed;
    fill(p->W, dout * m, 1.5 / sqrt((double)m), &s);
    fill(p->x, TB * din, 1.0, &s);
    fill(p->dy, TB * dout, 1.0, &s);
    fill(p->S, TB * m, 1.0, &s);
    fill(p->Delta, TB * dout, 0.1, &s);
    /* S = [x; y] as the library stages it: the floors then multiply the
     * inputs the library multiplies. */
    for (size_t k = 0; k < TB; k++)
        memcpy(p->S + k * m, p->x + k * din, din * sizeof(R));
    return p;
}

static bptt_status run(void *vp, bptt_algo algo, bench_pass pass)
{
    problem *p = vp;
    const size_t din = p->din, dout = p->dout, m = p->m;
    switch (pass) {
    case BENCH_FORWARD:
        return P(forward)(p->net, p->T, p->B, p->W, m, NULL, p->x, din, NULL,
                          0, p->y, dout, algo, p->ws);
    case BENCH_BACKWARD:
        /* What a user stacking layers asks for: ∂L/∂W and ∂L/∂x. */
        return P(backward)(p->net, p->T, p->B, p->W, m, p->dy, dout, 0, p->dW,
                           m, NULL, p->dx, din, NULL, 0, algo, p->ws);
    case BENCH_BACKWARD_DATA:
        /* dW = NULL: the recurrence and ∂L/∂x only. */
        return P(backward)(p->net, p->T, p->B, p->W, m, p->dy, dout, 0, NULL,
                           m, NULL, p->dx, din, NULL, 0, algo, p->ws);
    case BENCH_BACKWARD_RECURRENCE:
        /* No gradient asked for: δ(t) for every step, nothing else. */
        return P(backward)(p->net, p->T, p->B, p->W, m, p->dy, dout, 0, NULL,
                           m, NULL, NULL, din, NULL, 0, algo, p->ws);
    case BENCH_FORWARD_BACKWARD: {
        const bptt_status st = run(p, algo, BENCH_FORWARD);
        return st != BPTT_OK ? st : run(p, algo, BENCH_BACKWARD);
    }
    default:
        /* Not reached while has_pass() says no (see there). */
        return BPTT_EINVAL;
    }
}

static int has_pass(bptt_algo algo, bench_pass pass)
{
    switch (pass) {
    case BENCH_FORWARD:
    case BENCH_BACKWARD:
    case BENCH_FORWARD_BACKWARD:
        return 1;
    case BENCH_BACKWARD_DATA:
    case BENCH_BACKWARD_RECURRENCE:
        /* Naive's data part is not what anyone would run alone: it is the
         * baseline of whole passes only. */
        return algo != BPTT_ALGO_NAIVE;
    default:
        /* backward_weights cannot run apart through the public API (a
         * backward without the recurrence has no δ to multiply); the
         * driver derives it.  sequence and step are RTRL's (rtrl.c). */
        return 0;
    }
}

static void copy(R *dst, const R *src, size_t n)
{
    for (size_t i = 0; i < n; i++)
        dst[i] = src[i];
}

static void keep_reference(void *vp)
{
    problem *p = vp;
    const size_t TB = p->T * p->B;
    copy(p->ref_y, p->y, TB * p->dout);
    copy(p->ref_dW, p->dW, p->dout * p->m);
    copy(p->ref_dx, p->dx, TB * p->din);
    /* With ŷ = y − ∂L/∂y the squared error's ∂L/∂y(t) = y − ŷ is the
     * harness's ∂L/∂y (to one rounding), so RTRL with these targets must
     * give naive BPTT's ∂L/∂W. */
    for (size_t i = 0; i < TB * p->dout; i++)
        p->target[i] = p->ref_y[i] - p->dy[i];
}

/* max|a − r| / max|r| (max|a − r| if r is zero); a NaN anywhere gives
 * infinity, so it cannot pass. */
static double relerr(const R *a, const R *r, size_t n)
{
    double diff = 0, ref = 0;
    for (size_t i = 0; i < n; i++) {
        const double d = fabs((double)a[i] - (double)r[i]);
        if (isnan(d))
            return INFINITY;
        if (d > diff)
            diff = d;
        if (fabs((double)r[i]) > ref)
            ref = fabs((double)r[i]);
    }
    return ref > 0 ? diff / ref : diff;
}

static double check(const void *vp, unsigned what, const char **worst)
{
    const problem *p = vp;
    const size_t TB = p->T * p->B;
    const struct {
        unsigned flag;
        const char *name;
        double err;
    } e[] = {
        {BENCH_CHECK_Y, "y", relerr(p->y, p->ref_y, TB * p->dout)},
        {BENCH_CHECK_DW, "dL/dW", relerr(p->dW, p->ref_dW, p->dout * p->m)},
        {BENCH_CHECK_DX, "dL/dx", relerr(p->dx, p->ref_dx, TB * p->din)},
    };
    double worst_err = -1;
    *worst = "";
    for (size_t i = 0; i < sizeof e / sizeof e[0]; i++)
        if ((what & e[i].flag) && !(e[i].err <= worst_err)) {
            worst_err = e[i].err;
            *worst = e[i].name;
        }
    return worst_err < 0 ? 0 : worst_err;
}

static void corrupt(void *vp)
{
    problem *p = vp;
    double big = 0;
    for (size_t i = 0; i < p->dout * p->m; i++)
        if (fabs((double)p->ref_dW[i]) > big)
            big = fabs((double)p->ref_dW[i]);
    /* 1% of the largest entry: far beyond either precision's tolerance. */
    p->dW[0] += (R)(0.01 * (big + 1));
}

static void io(void *vp, bench_io *out)
{
    problem *p = vp;
    *out = (bench_io){p->W, p->x, p->dy, p->y, p->dW, p->dx, NULL};
}

static size_t workspace_bytes(const bptt_net *net, size_t T, size_t B)
{
    size_t bytes = 0;
    return P(workspace_size)(net, T, B, &bytes) == BPTT_OK ? bytes : 0;
}

#ifdef BENCH_SINGLE
#define BENCH_PREC bench_prec_float
#define NAME "float"
#define TOL 1e-4 /* float rounding over T steps and m-term sums */
#else
#define BENCH_PREC bench_prec_double
#define NAME "double"
#define TOL 1e-10
#endif

const bench_prec BENCH_PREC = {
    .name = NAME,
    .tol = TOL,
    .problem_new = problem_new,
    .problem_free = problem_free,
    .run = run,
    .has_pass = has_pass,
    .keep_reference = keep_reference,
    .check = check,
    .corrupt = corrupt,
    .io = io,
    .rtrl_prepare = BX(rtrl_prepare),
    .rtrl_run = BX(rtrl_run),
    .workspace_bytes = workspace_bytes,
    .rtrl_bytes = BX(rtrl_bytes),
    .floor_of = BX(floor_of),
    .gemm_gflops = BX(gemm_gflops),
    .elem = sizeof(R),
    .gated_new = BX(gated_new),
    .gated_free = BX(gated_free),
    .gated_run = BX(gated_run),
    .gated_keep_reference = BX(gated_keep_reference),
    .gated_check = BX(gated_check),
    .gated_corrupt = BX(gated_corrupt),
    .gated_io = BX(gated_io),
    .gated_floor_forward = BX(gated_floor_forward),
    .gated_floor_backward = BX(gated_floor_backward),
    .gated_workspace_bytes = BX(gated_workspace_bytes),
};
