/*
 * cases.c — the grids and one case's run: correctness before speed.
 */
#include "cases.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "stats.h"
#include "timing.h"

static const bench_shape default_grid[] = {
    /* DESIGN.md's reference shapes */
    {32, 32, 100, 1},
    {128, 128, 100, 1},
    {512, 512, 100, 1},
    {256, 256, 100, 32},
    {512, 512, 50, 64},
    /* the dout sweep at din = dout, T = 100, B = 1, less 32, 128, 512
     * above */
    {16, 16, 100, 1},
    {64, 64, 100, 1},
    {256, 256, 100, 1},
    {1024, 1024, 100, 1},
};

/* Four of the reference shapes, without the one where naive alone takes
 * about 10 s a run: some 15 s in all on the development machine. */
static const bench_shape quick_grid[] = {
    {32, 32, 100, 1},
    {128, 128, 100, 1},
    {512, 512, 100, 1},
    {256, 256, 100, 32},
};

const bench_shape *bench_default_grid(size_t *n)
{
    *n = sizeof default_grid / sizeof default_grid[0];
    return default_grid;
}

const bench_shape *bench_quick_grid(size_t *n)
{
    *n = sizeof quick_grid / sizeof quick_grid[0];
    return quick_grid;
}

const char *bench_pass_name(bench_pass pass)
{
    static const char *const names[BENCH_NPASS] = {
        "forward", "backward", "backward_data", "backward_weights"};
    return (unsigned)pass < BENCH_NPASS ? names[pass] : NULL;
}

void bench_results_free(bench_results *r)
{
    free(r->rec);
    free(r->ref);
    memset(r, 0, sizeof *r);
}

/* Append one element to a growing array; 0, or -1 when memory runs out. */
static int grow(void **arr, size_t *cap, size_t n, size_t elem)
{
    if (n < *cap)
        return 0;
    size_t ncap = *cap ? 2 * *cap : 64;
    void *p = realloc(*arr, ncap * elem);
    if (!p)
        return -1;
    *arr = p;
    *cap = ncap;
    return 0;
}

/* Flops of a pass (DESIGN.md §3, ∂L/∂x included in backward).  The weight
 * gradient δ sᵀ costs what the forward W s does, 2·B·n·m per step; the
 * rest of backward is the recurrence and ∂L/∂x. */
static double pass_flops(bench_pass pass, bench_shape s)
{
    const double fwd = bench_flops_forward(s.din, s.dout, s.T, s.B);
    const double bwd = bench_flops_backward(s.din, s.dout, s.T, s.B, 1);
    switch (pass) {
    case BENCH_FORWARD:
    case BENCH_BACKWARD_WEIGHTS:
        return fwd;
    case BENCH_BACKWARD:
        return bwd;
    default:
        return bwd - fwd;
    }
}

enum { MAX_SAMPLES = 100000, SEED = 20240601 };

typedef struct timed {
    const bench_prec *prec;
    void *problem;
    bptt_algo algo;
    bench_pass pass;
    bench_floor_fn floor;
} timed;

static int call_pass(void *ctx)
{
    const timed *c = ctx;
    return c->prec->run(c->problem, c->algo, c->pass) != BPTT_OK;
}

static int call_floor(void *ctx)
{
    const timed *c = ctx;
    c->floor(c->problem);
    return 0;
}

/* The progress line is rewritten in place; anything else printed on stderr
 * first clears it. */
static void progress(const bench_config *cfg, const bench_prec *prec,
                     bench_shape s, const char *algo, const char *what)
{
    if (cfg->progress)
        fprintf(stderr, "\r\033[K[%zu/%zu] %s (%zu,%zu,%zu,%zu) %s %s",
                cfg->case_no, cfg->ncases, prec->name, s.din, s.dout, s.T,
                s.B, algo, what);
}

static void clear_progress(const bench_config *cfg)
{
    if (cfg->progress)
        fputs("\r\033[K", stderr);
}

static int refuse(const bench_config *cfg, bench_results *out,
                  const bench_prec *prec, bench_shape s, const char *algo,
                  const char *reason)
{
    clear_progress(cfg);
    fprintf(stderr, "bptt-bench: refused %s (%s, din=%zu dout=%zu T=%zu B=%zu):"
                    " %s; no time reported\n",
            algo, prec->name, s.din, s.dout, s.T, s.B, reason);
    if (grow((void **)&out->ref, &out->capref, out->nref, sizeof *out->ref))
        return -1;
    bench_refusal *r = &out->ref[out->nref++];
    *r = (bench_refusal){algo, prec->name, s.din, s.dout, s.T, s.B, {0}};
    snprintf(r->reason, sizeof r->reason, "%s", reason);
    return 0;
}

/* Forward and backward of algo once, as the check needs them; the time of
 * each call goes to est[] (it decides on a warm-up later).  The reason of
 * a failure goes to reason. */
static void run_once(const bench_prec *prec, void *p, bptt_algo algo,
                     double est[BENCH_NPASS], char *reason, size_t size)
{
    for (bench_pass pass = BENCH_FORWARD; pass <= BENCH_BACKWARD; pass++) {
        const double t0 = bench_now_ms();
        if (prec->run(p, algo, pass) != BPTT_OK) {
            snprintf(reason, size, "%s failed: %s", bench_pass_name(pass),
                     bptt_error_detail());
            return;
        }
        est[pass] = bench_now_ms() - t0;
    }
}

/* Time every pass of one algorithm that agreed with naive, with its floor,
 * into out->rec; naive_ms[pass] holds naive's medians (NaN where none).
 * Returns 0, or the reason of a failing call in reason. */
static int time_algo(const bench_config *cfg, const bench_prec *prec,
                     const bench_limits *lim, bench_shape s, void *p,
                     bptt_algo algo, int is_default, const double *est,
                     double *naive_ms, double *samples, bench_results *out,
                     char *reason, size_t size)
{
    const char *name = bptt_algo_name(algo);
    for (bench_pass pass = 0; pass < BENCH_NPASS; pass++) {
        if (!prec->has_pass(algo, pass))
            continue;
        progress(cfg, prec, s, name, bench_pass_name(pass));
        timed c = {prec, p, algo, pass, prec->floor_of(name, pass)};
        /* A backward pass is timed alone, on the forward kept in the
         * workspace. */
        if (pass != BENCH_FORWARD && prec->run(p, algo, BENCH_FORWARD)) {
            snprintf(reason, size, "forward failed: %s", bptt_error_detail());
            return -1;
        }
        /* The check's call warmed up a call slower than the budget. */
        const int warmup = est[pass] < cfg->budget_ms;
        size_t n = 0;
        if (bench_repeat(call_pass, &c, warmup, cfg->budget_ms, samples,
                         MAX_SAMPLES, &n)) {
            snprintf(reason, size, "%s failed: %s", bench_pass_name(pass),
                     bptt_error_detail());
            return -1;
        }
        const bench_summary t = bench_summarize(samples, n);
        double floor_ms = NAN;
        if (c.floor) {
            bench_repeat(call_floor, &c, 1, cfg->budget_ms, samples,
                         MAX_SAMPLES, &n);
            floor_ms = bench_summarize(samples, n).median;
        }
        if (algo == BPTT_ALGO_NAIVE)
            naive_ms[pass] = t.median;
        const double flops = pass_flops(pass, s);
        const double gflops = flops / (t.median * 1e6);
        const int gemv = s.B == 1;
        const double limit = gemv ? lim->gemv_gflops : lim->gemm_gflops;
        if (grow((void **)&out->rec, &out->cap, out->n, sizeof *out->rec)) {
            snprintf(reason, size, "out of memory");
            return -1;
        }
        out->rec[out->n++] = (bench_record){
            .algo = name,
            .precision = prec->name,
            .pass = bench_pass_name(pass),
            .din = s.din,
            .dout = s.dout,
            .T = s.T,
            .B = s.B,
            .threads = cfg->threads,
            .time = t,
            .flops = flops,
            .gflops = gflops,
            .speedup = naive_ms[pass] / t.median,
            .is_default = is_default,
            .limit = gemv ? "gemv" : "gemm",
            .limit_gflops = limit,
            .fraction = gflops / limit,
            .floor_ms = floor_ms,
            .floor_ratio = t.median / floor_ms,
        };
    }
    return 0;
}

int bench_run_case(const bench_config *cfg, const bench_prec *prec,
                   const bench_limits *lim, bench_shape s, bench_results *out)
{
    bptt_net *net = NULL;
    void *p = NULL;
    double *samples = malloc(MAX_SAMPLES * sizeof *samples);
    /* tanh units: the network of torch.nn.RNN(nonlinearity='tanh'). */
    if (bptt_net_create_uniform(s.din, s.dout, BPTT_ACT_TANH, NULL, &net) ==
        BPTT_OK)
        p = prec->problem_new(net, s.T, s.B, SEED);
    if (!samples || !p) {
        clear_progress(cfg);
        fprintf(stderr, "bptt-bench: cannot set up %s (%zu,%zu,%zu,%zu): %s\n",
                prec->name, s.din, s.dout, s.T, s.B,
                bptt_error_detail()[0] ? bptt_error_detail() : "out of memory");
        free(samples);
        bptt_net_free(net);
        return -1;
    }

    /* Correctness before speed: every algorithm against naive, on the same
     * inputs, before anything is timed. */
    double est[BPTT_NALGO][BENCH_NPASS] = {{0}};
    int agrees[BPTT_NALGO] = {0}, nref = 0, have_reference = 0;
    for (bptt_algo a = BPTT_ALGO_NAIVE; a < BPTT_NALGO; a++) {
        if (a != BPTT_ALGO_NAIVE && !cfg->algo_on[a])
            continue;
        const char *name = bptt_algo_name(a);
        char reason[256] = "";
        progress(cfg, prec, s, name, "check");
        run_once(prec, p, a, est[a], reason, sizeof reason);
        if (!reason[0] && a == BPTT_ALGO_NAIVE) {
            prec->keep_reference(p);
            have_reference = 1;
        }
        if (!reason[0] && !have_reference)
            snprintf(reason, sizeof reason, "no naive reference to check it");
        if (!reason[0]) {
            if (cfg->corrupt && strcmp(cfg->corrupt, name) == 0)
                prec->corrupt(p);
            const char *worst = "";
            const double err = prec->check(p, &worst);
            if (!(err <= prec->tol))
                snprintf(reason, sizeof reason,
                         "%s differs from naive's by %.3g (normwise relative;"
                         " tolerance %g)", worst, err, prec->tol);
        }
        if (reason[0]) {
            nref++;
            if (refuse(cfg, out, prec, s, name, reason))
                break;
        } else {
            agrees[a] = 1;
        }
    }

    const bptt_algo dflt = bptt_algo_resolve(net, s.T, s.B);
    double naive_ms[BENCH_NPASS] = {NAN, NAN, NAN, NAN};
    for (bptt_algo a = BPTT_ALGO_NAIVE; a < BPTT_NALGO; a++) {
        if (!agrees[a])
            continue;
        const size_t first = out->n;
        char reason[256] = "";
        if (time_algo(cfg, prec, lim, s, p, a, a == dflt, est[a], naive_ms,
                      samples, out, reason, sizeof reason)) {
            out->n = first; /* no row for an algorithm refused */
            nref++;
            refuse(cfg, out, prec, s, bptt_algo_name(a), reason);
        }
    }
    clear_progress(cfg);
    prec->problem_free(p);
    bptt_net_free(net);
    free(samples);
    return nref;
}
