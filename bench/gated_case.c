/*
 * gated_case.c — `bptt-bench --cell lstm|gru`: one gated cell's case
 * (bptt/gated.h), correctness before speed, reported like Network A's.
 *
 * The deferred algorithm (what BPTT_ALGO_AUTO runs) is checked against the
 * naive loop form over the first cfg->check_steps steps — the naive form
 * at the largest reference shape takes some 40 s for all T = 50 steps —
 * then its forward, backward (every gradient: weights, biases, inputs) and
 * forward_backward are timed at T, with the bare BLAS calls of the forward
 * and of the backward as their floors.  The naive form is not timed, so
 * there is no speedup over it.  Then the peers (oneDNN's LSTM / lbr_gru,
 * PyTorch's nn.LSTM / nn.GRU) on the same data, each checked against the
 * same naive reference in a run of its own before it is timed
 * (peer_case.c).  Precision-independent (through bench_prec).
 */
#include "cases.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "stats.h"
#include "timing.h"

enum { MAX_SAMPLES = 100000, SEED = 20240601 };

typedef struct call {
    const bench_prec *prec;
    void *g;
    bptt_algo algo;
    bench_pass pass;
} call;

static int call_pass(void *ctx)
{
    const call *c = ctx;
    return c->prec->gated_run(c->g, c->algo, c->pass, 0) != BPTT_OK;
}

static int call_floor(void *ctx)
{
    const call *c = ctx;
    (c->pass == BENCH_FORWARD ? c->prec->gated_floor_forward
                              : c->prec->gated_floor_backward)(c->g);
    return 0;
}

/* Forward then backward of algo over the check's steps; the reason of a
 * failure in reason. */
static void run_check(const bench_prec *prec, void *g, bptt_algo algo,
                      char *reason, size_t size)
{
    for (bench_pass pass = BENCH_FORWARD; pass <= BENCH_BACKWARD; pass++)
        if (prec->gated_run(g, algo, pass, 1) != BPTT_OK) {
            snprintf(reason, size, "%s failed: %s", bench_pass_name(pass),
                     bptt_error_detail());
            return;
        }
}

/* Time the deferred algorithm's three passes with their floors into out;
 * 0, or -1 with the reason of a failing call. */
static int time_deferred(const bench_config *cfg, const bench_prec *prec,
                         const bench_limits *lim, bench_shape s, void *g,
                         double *samples, bench_results *out, char *reason,
                         size_t size)
{
    static const bench_pass passes[] = {BENCH_FORWARD, BENCH_BACKWARD,
                                        BENCH_FORWARD_BACKWARD};
    const bptt_algo algo = BPTT_ALGO_DEFERRED;
    for (size_t i = 0; i < sizeof passes / sizeof *passes; i++) {
        const bench_pass pass = passes[i];
        bench_progress(cfg, prec, s, bptt_algo_name(algo),
                       bench_pass_name(pass));
        /* a backward is timed alone, on the forward kept in the
         * workspace */
        if (pass == BENCH_BACKWARD
            && prec->gated_run(g, algo, BENCH_FORWARD, 0) != BPTT_OK) {
            snprintf(reason, size, "forward failed: %s", bptt_error_detail());
            return -1;
        }
        call c = {prec, g, algo, pass};
        size_t k = 0;
        if (bench_repeat(call_pass, &c, 1, cfg->budget_ms, samples,
                         MAX_SAMPLES, &k)) {
            snprintf(reason, size, "%s failed: %s", bench_pass_name(pass),
                     bptt_error_detail());
            return -1;
        }
        const bench_summary t = bench_summarize(samples, k);
        double floor_ms = NAN;
        if (pass != BENCH_FORWARD_BACKWARD) {
            bench_repeat(call_floor, &c, 1, cfg->budget_ms, samples,
                         MAX_SAMPLES, &k);
            floor_ms = bench_summarize(samples, k).median;
        }
        bench_record r = bench_make_record(cfg, prec, lim, s,
                                           bptt_algo_name(algo), pass, t,
                                           bench_pass_flops(pass, s), NAN);
        r.is_default = 1;
        r.floor_ms = floor_ms;
        r.floor_ratio = t.median > 0 ? t.median / floor_ms : NAN;
        r.memory_bytes = (double)prec->gated_workspace_bytes(g);
        if (bench_add_record(out, &r)) {
            snprintf(reason, size, "out of memory");
            return -1;
        }
    }
    return 0;
}

int bench_run_gated_case(const bench_config *cfg, const bench_prec *prec,
                         const bench_limits *lim, bench_shape s,
                         bench_results *out)
{
    const size_t Tc = cfg->check_steps && cfg->check_steps < s.T
                          ? cfg->check_steps : s.T;
    double *samples = malloc(MAX_SAMPLES * sizeof *samples);
    void *g = prec->gated_new(s.cell, s.din, s.dout, s.T, s.B, Tc, SEED);
    if (!samples || !g) {
        bench_clear_progress(cfg);
        fprintf(stderr, "bptt-bench: cannot set up %s %s (%zu,%zu,%zu,%zu): "
                        "out of memory or sizes too large\n",
                prec->name, bptt_cell_name(s.cell), s.din, s.dout, s.T, s.B);
        free(samples);
        prec->gated_free(g);
        return -1;
    }

    /* Correctness before speed: naive, the reference, then deferred
     * against it on the same inputs over the first Tc steps. */
    int nref = 0;
    char reason[256] = "";
    const char *name = bptt_algo_name(BPTT_ALGO_NAIVE);
    bench_progress(cfg, prec, s, name, "reference");
    run_check(prec, g, BPTT_ALGO_NAIVE, reason, sizeof reason);
    const int have_reference = !reason[0];
    if (have_reference) {
        prec->gated_keep_reference(g);
        name = bptt_algo_name(BPTT_ALGO_DEFERRED);
        bench_progress(cfg, prec, s, name, "check");
        run_check(prec, g, BPTT_ALGO_DEFERRED, reason, sizeof reason);
        if (!reason[0])
            bench_check_by(cfg, prec, prec->gated_check, prec->gated_corrupt,
                           g, name, BENCH_CHECK_ALL, reason, sizeof reason);
    }
    const size_t first = out->n;
    if (!reason[0])
        time_deferred(cfg, prec, lim, s, g, samples, out, reason,
                      sizeof reason);
    if (reason[0]) {
        nref++;
        bench_refuse(cfg, out, first, prec, s, name, reason);
    }

    if (have_reference && cfg->peers[0]) {
        double naive_ms[BENCH_NPASS];
        for (int i = 0; i < BENCH_NPASS; i++)
            naive_ms[i] = NAN;
        const bench_peer_case pc = {g, (unsigned)s.cell, Tc, prec->gated_io,
                                    prec->gated_check, prec->gated_corrupt};
        nref += bench_run_peers(cfg, prec, lim, s, &pc, naive_ms, out);
    }

    bench_clear_progress(cfg);
    prec->gated_free(g);
    free(samples);
    return nref;
}
