/*
 * cases.c — the grids and one case's run: correctness before speed.  bptt's
 * algorithms, then the peers (peer_case.c), then RTRL, each checked
 * against the naive form before any time of it is reported.  The records
 * both write go through records.c, so that peer_case.c and this file do
 * not call each other.
 */
#include "cases.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "stats.h"
#include "timing.h"

static const bench_shape default_grid[] = {
    /* the reference shapes (docs/benchmark.md) */
    {32, 32, 100, 1, 0, BPTT_CELL_VANILLA},
    {128, 128, 100, 1, 0, BPTT_CELL_VANILLA},
    {512, 512, 100, 1, 0, BPTT_CELL_VANILLA},
    {256, 256, 100, 32, 0, BPTT_CELL_VANILLA},
    {512, 512, 50, 64, 0, BPTT_CELL_VANILLA},
    /* the dout sweep at din = dout, T = 100, B = 1, less 32, 128, 512
     * above */
    {16, 16, 100, 1, 0, BPTT_CELL_VANILLA},
    {64, 64, 100, 1, 0, BPTT_CELL_VANILLA},
    {256, 256, 100, 1, 0, BPTT_CELL_VANILLA},
    {1024, 1024, 100, 1, 0, BPTT_CELL_VANILLA},
    /* mixed activations against the all-tanh (256,256,100,32) above */
    {256, 256, 100, 32, 1, BPTT_CELL_VANILLA},
};

/* Four of the reference shapes, without the one where naive alone takes
 * about 10 s a run. */
static const bench_shape quick_grid[] = {
    {32, 32, 100, 1, 0, BPTT_CELL_VANILLA},
    {128, 128, 100, 1, 0, BPTT_CELL_VANILLA},
    {512, 512, 100, 1, 0, BPTT_CELL_VANILLA},
    {256, 256, 100, 32, 0, BPTT_CELL_VANILLA},
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

enum { MAX_SAMPLES = 100000, SEED = 20240601 };

/* One timed call: a pass of a bptt algorithm or of an RTRL one. */
typedef struct timed {
    const bench_prec *prec;
    void *problem;
    int rtrl;          /* algo is a bptt_rtrl_algo, not a bptt_algo */
    int algo;
    bench_pass pass;
    bench_floor_fn floor;
} timed;

static int call_pass(void *ctx)
{
    const timed *c = ctx;
    const bptt_status st =
        c->rtrl ? c->prec->rtrl_run(c->problem, (bptt_rtrl_algo)c->algo,
                                    c->pass)
                : c->prec->run(c->problem, (bptt_algo)c->algo, c->pass);
    return st != BPTT_OK;
}

static int call_floor(void *ctx)
{
    const timed *c = ctx;
    c->floor(c->problem);
    return 0;
}

/* Time c's pass over the budget — after one warm-up call unless est_ms,
 * the time of a call already made, exceeds the budget — into *t, and its
 * floor (if any) into *floor_ms (NaN if none).  0, or -1 with the reason
 * of a failing call. */
static int time_pass(const bench_config *cfg, timed *c, double est_ms,
                     double *samples, bench_summary *t, double *floor_ms,
                     char *reason, size_t size)
{
    size_t n = 0;
    if (bench_repeat(call_pass, c, est_ms < cfg->budget_ms, cfg->budget_ms,
                     samples, MAX_SAMPLES, &n)) {
        snprintf(reason, size, "%s failed: %s", bench_pass_name(c->pass),
                 bptt_error_detail());
        return -1;
    }
    *t = bench_summarize(samples, n);
    *floor_ms = NAN;
    if (c->floor) {
        bench_repeat(call_floor, c, 1, cfg->budget_ms, samples, MAX_SAMPLES,
                     &n);
        *floor_ms = bench_summarize(samples, n).median;
    }
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
    est[BENCH_BACKWARD_DATA] = est[BENCH_BACKWARD];
    est[BENCH_BACKWARD_RECURRENCE] = est[BENCH_BACKWARD];
    est[BENCH_FORWARD_BACKWARD] = est[BENCH_FORWARD] + est[BENCH_BACKWARD];
}

/* What every bptt algorithm's timing shares. */
typedef struct case_ctx {
    const bench_config *cfg;
    const bench_prec *prec;
    const bench_limits *lim;
    bench_shape s;
    void *p;
    double *samples;
    double ws_bytes;   /* bptt_workspace_size(T, B) */
    double naive_ms[BENCH_NPASS];
} case_ctx;

/* Time every pass of one bptt algorithm that agreed with naive, with its
 * floor, into out->rec: forward, backward, backward_data where the API
 * runs it, backward_weights derived from the two, and forward_backward
 * for the default.  Returns 0, or the reason of a failing call in
 * reason. */
static int time_algo(case_ctx *k, bptt_algo algo, int is_default,
                     const double *est, bench_results *out, char *reason,
                     size_t size)
{
    const bench_prec *prec = k->prec;
    const char *name = bptt_algo_name(algo);
    double median[BENCH_NPASS];
    for (int i = 0; i < BENCH_NPASS; i++)
        median[i] = NAN;
    for (bench_pass pass = 0; pass < BENCH_NPASS; pass++) {
        const int derived = pass == BENCH_BACKWARD_WEIGHTS
                            && isfinite(median[BENCH_BACKWARD_DATA]);
        if (!derived && !prec->has_pass(algo, pass))
            continue;
        if (pass == BENCH_FORWARD_BACKWARD && !is_default)
            continue;
        bench_progress(k->cfg, prec, k->s, name, bench_pass_name(pass));
        timed c = {prec, k->p, 0, (int)algo, pass, prec->floor_of(name, pass)};
        bench_summary t;
        double floor_ms = NAN;
        if (derived) {
            /* Not a measurement: the difference of two measured medians,
             * with no quartiles and no repetitions of its own.  Its floor
             * (the bare weight-gradient BLAS calls) is measured. */
            const double nan = NAN;
            t = (bench_summary){0, nan, nan, median[BENCH_BACKWARD]
                                - median[BENCH_BACKWARD_DATA], nan, nan};
            if (c.floor) {
                size_t n = 0;
                bench_repeat(call_floor, &c, 1, k->cfg->budget_ms, k->samples,
                             MAX_SAMPLES, &n);
                floor_ms = bench_summarize(k->samples, n).median;
            }
        } else {
            /* A backward pass is timed alone, on the forward kept in the
             * workspace. */
            if (pass != BENCH_FORWARD && pass != BENCH_FORWARD_BACKWARD
                && prec->run(k->p, algo, BENCH_FORWARD)) {
                snprintf(reason, size, "forward failed: %s",
                         bptt_error_detail());
                return -1;
            }
            if (time_pass(k->cfg, &c, est[pass], k->samples, &t, &floor_ms,
                          reason, size))
                return -1;
        }
        median[pass] = t.median;
        if (algo == BPTT_ALGO_NAIVE)
            k->naive_ms[pass] = t.median;
        bench_record r = bench_make_record(k->cfg, prec, k->lim, k->s, name,
                                           pass, t, bench_pass_flops(pass, k->s),
                                           k->naive_ms[pass]);
        r.is_default = is_default;
        r.floor_ms = floor_ms;
        r.floor_ratio = t.median > 0 ? t.median / floor_ms : NAN;
        r.derived = derived;
        /* A difference of two medians carries the noise of both: on a tiny
         * case it can come out below any roof.  It is no time the pass
         * took, so it is held against no limit. */
        if (derived)
            r.fraction = NAN;
        r.memory_bytes = k->ws_bytes;
        if (bench_add_record(out, &r)) {
            snprintf(reason, size, "out of memory");
            return -1;
        }
    }
    return 0;
}

/* The smallest T at which BPTT's workspace for B sequences exceeds RTRL's
 * state of rtrl_bytes, by the public size queries (both monotone in T);
 * 0 if it does not happen before the queries fail. */
static size_t memory_crossover(const bench_prec *prec, const bptt_net *net,
                               size_t B, size_t rtrl_bytes)
{
    size_t lo = 0, hi = 1, bytes;
    while ((bytes = prec->workspace_bytes(net, hi, B)) <= rtrl_bytes) {
        if (bytes == 0 || hi > ((size_t)1 << 40))
            return 0;
        lo = hi;
        hi *= 2;
    }
    while (hi - lo > 1) { /* ws(lo) <= rtrl < ws(hi) */
        const size_t mid = lo + (hi - lo) / 2;
        if (prec->workspace_bytes(net, mid, B) > rtrl_bytes)
            hi = mid;
        else
            lo = mid;
    }
    return hi;
}

/* RTRL on this case: each algorithm selected (and affordable here) checked
 * against naive BPTT's y and ∂L/∂W, then its sequence and step timed; a
 * note with the T above which BPTT needs more memory.  Returns the number
 * of algorithms refused. */
static int run_rtrl(case_ctx *k, const bptt_net *net, bench_results *out)
{
    const bench_config *cfg = k->cfg;
    const bench_prec *prec = k->prec;
    const bench_shape s = k->s;
    static const bptt_rtrl_algo code[BENCH_NRTRL] = {BPTT_RTRL_NAIVE,
                                                     BPTT_RTRL_GEMM};
    int nref = 0, ran = 0;
    for (size_t i = 0; i < BENCH_NRTRL; i++) {
        if (!cfg->rtrl_on[i]
            || (!cfg->rtrl_all_shapes && s.dout > cfg->rtrl_max_dout[i]))
            continue;
        const char *name = bench_rtrl_name(i);
        char reason[256] = "";
        bench_progress(cfg, prec, s, name, "check");
        double est = 0;
        if (prec->rtrl_prepare(k->p) != BPTT_OK) {
            snprintf(reason, sizeof reason, "no RTRL state: %s",
                     bptt_error_detail());
        } else {
            const double t0 = bench_now_ms();
            if (prec->rtrl_run(k->p, code[i], BENCH_SEQUENCE) != BPTT_OK)
                snprintf(reason, sizeof reason, "sequence failed: %s",
                         bptt_error_detail());
            est = bench_now_ms() - t0;
        }
        if (!reason[0]) /* RTRL has no ∂L/∂x */
            bench_check(cfg, prec, k->p, name, BENCH_CHECK_Y | BENCH_CHECK_DW,
                        reason, sizeof reason);
        const size_t first = out->n;
        const double bytes = (double)prec->rtrl_bytes(net, s.B);
        for (bench_pass pass = BENCH_SEQUENCE; !reason[0] && pass <= BENCH_STEP;
             pass++) {
            bench_progress(cfg, prec, s, name, bench_pass_name(pass));
            timed c = {prec, k->p, 1, (int)code[i], pass, NULL};
            bench_summary t;
            double floor_ms;
            if (time_pass(cfg, &c, pass == BENCH_SEQUENCE ? est
                                                         : est / (double)s.T,
                          k->samples, &t, &floor_ms, reason, sizeof reason))
                break;
            /* eq. (10) is a GEMM whatever B: its limit is GEMM's */
            bench_record r = bench_make_record(cfg, prec, k->lim, s, name,
                                               pass, t,
                                               bench_pass_flops(pass, s), NAN);
            r.memory_bytes = bytes;
            if (bench_add_record(out, &r))
                snprintf(reason, sizeof reason, "out of memory");
        }
        if (reason[0]) {
            nref++;
            if (bench_refuse(cfg, out, first, prec, s, name, reason))
                break;
        } else {
            ran = 1;
        }
    }
    if (ran) {
        const size_t rb = prec->rtrl_bytes(net, s.B);
        const size_t Tx = memory_crossover(prec, net, s.B, rb);
        char text[256];
        if (Tx)
            snprintf(text, sizeof text, "RTRL's state is %.0f bytes for B = "
                     "%zu whatever T; BPTT's workspace is %.0f bytes at T = "
                     "%zu and exceeds RTRL's from T = %zu", (double)rb, s.B,
                     k->ws_bytes, s.T, Tx);
        else
            snprintf(text, sizeof text, "RTRL's state is %.0f bytes for B = "
                     "%zu; BPTT's workspace stays below it", (double)rb, s.B);
        bench_note(out, prec, s, "rtrl", text);
    }
    return nref;
}

/* identity, tanh, logistic, relu, softplus over the units in turn. */
static bptt_status make_net(bench_shape s, bptt_net **net)
{
    if (!s.mixed)
        /* tanh units: the network of torch.nn.RNN(nonlinearity='tanh'). */
        return bptt_net_create_uniform(s.din, s.dout, BPTT_ACT_TANH, NULL, net);
    static const bptt_activation cycle[] = {
        BPTT_ACT_IDENTITY, BPTT_ACT_TANH, BPTT_ACT_LOGISTIC, BPTT_ACT_RELU,
        BPTT_ACT_SOFTPLUS};
    bptt_activation *act = malloc(s.dout * sizeof *act);
    if (!act)
        return BPTT_ENOMEM;
    for (size_t i = 0; i < s.dout; i++)
        act[i] = cycle[i % (sizeof cycle / sizeof cycle[0])];
    const bptt_status st = bptt_net_create(s.din, s.dout, act, NULL, net);
    free(act);
    return st;
}

int bench_run_case(const bench_config *cfg, const bench_prec *prec,
                   const bench_limits *lim, bench_shape s, bench_results *out)
{
    bptt_net *net = NULL;
    void *p = NULL;
    double *samples = malloc(MAX_SAMPLES * sizeof *samples);
    if (make_net(s, &net) == BPTT_OK)
        p = prec->problem_new(net, s.T, s.B, SEED);
    if (!samples || !p) {
        bench_clear_progress(cfg);
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
        bench_progress(cfg, prec, s, name, "check");
        run_once(prec, p, a, est[a], reason, sizeof reason);
        if (!reason[0] && a == BPTT_ALGO_NAIVE) {
            prec->keep_reference(p);
            have_reference = 1;
        }
        if (!reason[0] && !have_reference)
            snprintf(reason, sizeof reason, "no naive reference to check it");
        if (!reason[0])
            bench_check(cfg, prec, p, name, BENCH_CHECK_ALL, reason,
                        sizeof reason);
        if (reason[0]) {
            nref++;
            if (bench_refuse(cfg, out, out->n, prec, s, name, reason))
                break;
        } else {
            agrees[a] = 1;
        }
    }

    case_ctx k = {cfg, prec, lim, s, p, samples,
                  (double)prec->workspace_bytes(net, s.T, s.B), {0}};
    for (int i = 0; i < BENCH_NPASS; i++)
        k.naive_ms[i] = NAN;
    const bptt_algo dflt = bptt_algo_resolve(net, s.T, s.B);
    for (bptt_algo a = BPTT_ALGO_NAIVE; a < BPTT_NALGO; a++) {
        if (!agrees[a])
            continue;
        const size_t first = out->n;
        char reason[256] = "";
        if (time_algo(&k, a, a == dflt, est[a], out, reason, sizeof reason)) {
            nref++; /* and no row for it */
            bench_refuse(cfg, out, first, prec, s, bptt_algo_name(a), reason);
        }
    }

    /* Peers and RTRL are checked against the naive reference too. */
    if (have_reference && cfg->peers[0]) {
        if (s.mixed) {
            bench_note(out, prec, s, "peers",
                       "not run: the peers implement all-tanh units only");
        } else {
            /* Network A's naive ran at the full T: the timed run's
             * outputs are checked */
            const bench_peer_case pc = {p, 0, 0, prec->io, prec->check,
                                        prec->corrupt};
            nref += bench_run_peers(cfg, prec, lim, s, &pc, k.naive_ms, out);
        }
    }
    if (have_reference)
        nref += run_rtrl(&k, net, out);

    bench_clear_progress(cfg);
    prec->problem_free(p);
    bptt_net_free(net);
    free(samples);
    return nref;
}
