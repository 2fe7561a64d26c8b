/*
 * peer_time.c — bptt-peer-time: time one peer, or bptt itself the same
 * way, on one shape, outside bptt-bench (to try a runner, or to compare by
 * hand).  One repetition is a forward then a backward giving dL/dW and
 * dL/dx, on random data (W uniform in ±1/√(din+dout), x and dy in ±1);
 * "bptt" runs the library's BPTT_ALGO_AUTO in this process with the same
 * warm-up, budget and cap (OpenBLAS takes its thread count from
 * OPENBLAS_NUM_THREADS at start-up, so set it to -t's value).  The outputs are compared with bptt's (AUTO,
 * itself checked against the naive form by the test suite).
 *
 *     usage: bptt-peer-time [-b budget_ms] [-t threads] PEER f32|f64
 *                           din dout T B
 *            PEER = onednn | torch | bptt
 */
#define _POSIX_C_SOURCE 200809L
#include "peer.h"
#include "protocol.h"

#include <bptt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

enum { WARMUP = 1, CAP = 100000 };

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec * 1e-6;
}

static double uniform(unsigned long long *s)
{
    *s = *s * 6364136223846793005ULL + 1442695040888963407ULL;
    return (double)(*s >> 11) / 9007199254740992.0 * 2 - 1;
}

static double get(const void *a, size_t el, size_t i)
{
    return el == 8 ? ((const double *)a)[i] : ((const float *)a)[i];
}

static void set(void *a, size_t el, size_t i, double v)
{
    if (el == 8)
        ((double *)a)[i] = v;
    else
        ((float *)a)[i] = (float)v;
}

static double relerr(size_t n, size_t el, const void *a, const void *b)
{
    double num = 0, den = 0;
    for (size_t i = 0; i < n; i++) {
        num = fmax(num, fabs(get(a, el, i) - get(b, el, i)));
        den = fmax(den, fabs(get(b, el, i)));
    }
    return den > 0 ? num / den : num;
}

/* bptt's forward + backward (dW, dx) with algo, timed as the runners
 * time theirs; returns 0 or a bptt_status. */
static int run_bptt(const peer_input *in, bptt_algo algo, peer_output *out)
{
    const size_t din = in->din, dout = in->dout, m = din + dout;
    const int dbl = in->elsize == 8;
    bptt_net *net;
    void *ws;
    int st = bptt_net_create_uniform(din, dout, BPTT_ACT_TANH, NULL, &net);
    if (st)
        return st;
    st = dbl ? bptt_workspace_alloc(net, in->T, in->B, (bptt_workspace **)&ws)
             : bpttf_workspace_alloc(net, in->T, in->B,
                                     (bpttf_workspace **)&ws);
    if (st) {
        bptt_net_free(net);
        return st;
    }
    double spent = 0, *scratch = malloc(in->cap * sizeof *scratch);
    size_t reps = 0;
    if (!scratch)
        st = BPTT_ENOMEM;
    for (unsigned r = 0; reps < in->cap && st == 0; r++) {
        const double t0 = now_ms();
        st = dbl ? bptt_forward(net, in->T, in->B, in->W, m, NULL, in->x, din,
                                NULL, 0, out->y, dout, algo, ws)
                 : bpttf_forward(net, in->T, in->B, in->W, m, NULL, in->x,
                                 din, NULL, 0, out->y, dout, algo, ws);
        const double t1 = now_ms();
        if (st == 0)
            st = dbl ? bptt_backward(net, in->T, in->B, in->W, m, in->dy, dout,
                                     0.0, out->dW, m, NULL, out->dx, din,
                                     NULL, 0, algo, ws)
                     : bpttf_backward(net, in->T, in->B, in->W, m, in->dy,
                                      dout, 0.0f, out->dW, m, NULL, out->dx,
                                      din, NULL, 0, algo, ws);
        const double t2 = now_ms();
        if (r < in->warmup)
            continue;
        out->samples[PEER_FWD][reps] = t1 - t0;
        out->samples[PEER_BWD][reps] = t2 - t1;
        out->samples[PEER_FWDBWD][reps] = t2 - t0;
        spent += t2 - t0;
        reps++;
        if (spent >= in->budget_ms)
            break;
    }
    out->reps = reps;
    for (int p = 0; p < PEER_NPASS && st == 0; p++) {
        double s[3];
        peer_summary(out->samples[p], reps, scratch, s);
        out->time[p] = (peer_timing){s[0], s[1], s[2]};
    }
    free(scratch);
    snprintf(out->version, sizeof out->version, "bptt %s (%s)", bptt_version(),
             bptt_algo_name(bptt_algo_resolve(net, in->T, in->B)));
    if (dbl)
        bptt_workspace_free(ws);
    else
        bpttf_workspace_free(ws);
    bptt_net_free(net);
    return st;
}

static int usage(void)
{
    fprintf(stderr, "usage: bptt-peer-time [-b budget_ms] [-t threads] "
            "onednn|torch|bptt f32|f64 din dout T B\n");
    return 2;
}

int main(int argc, char **argv)
{
    double budget = 1000;
    unsigned threads = 1;
    int opt;
    while ((opt = getopt(argc, argv, "b:t:")) != -1) {
        if (opt == 'b')
            budget = atof(optarg);
        else if (opt == 't')
            threads = (unsigned)atoi(optarg);
        else
            return usage();
    }
    if (argc - optind != 6 || threads < 1)
        return usage();
    const char *peer = argv[optind];
    const size_t el = strcmp(argv[optind + 1], "f64") == 0 ? 8 : 4;
    const size_t din = strtoul(argv[optind + 2], NULL, 10),
                 dout = strtoul(argv[optind + 3], NULL, 10),
                 T = strtoul(argv[optind + 4], NULL, 10),
                 B = strtoul(argv[optind + 5], NULL, 10), m = din + dout;
    if (!din || !dout || !T || !B)
        return usage();

    const size_t nw = dout * m, nx = T * B * din, ny = T * B * dout;
    void *W = malloc(nw * el), *x = malloc(nx * el), *dy = malloc(ny * el);
    void *arrays[6];
    double *samples = malloc(3 * CAP * sizeof *samples);
    for (int i = 0; i < 6; i++)
        arrays[i] = malloc((i % 3 == 0 ? ny : i % 3 == 1 ? nw : nx) * el);
    if (!W || !x || !dy || !samples)
        return 1;
    unsigned long long s = 1;
    for (size_t i = 0; i < nw; i++)
        set(W, el, i, uniform(&s) / sqrt((double)m));
    for (size_t i = 0; i < nx; i++)
        set(x, el, i, uniform(&s));
    for (size_t i = 0; i < ny; i++)
        set(dy, el, i, uniform(&s));

    peer_input in = {din, dout, T, B, el, W, x, dy, budget, threads, WARMUP,
                     CAP, 0, NULL};
    peer_output out = {arrays[0], arrays[1], arrays[2],
                       {samples, samples + CAP, samples + 2 * CAP}, 0,
                       {{0, 0, 0}}, ""};
    peer_output ref = out;
    ref.y = arrays[3];
    ref.dW = arrays[4];
    ref.dx = arrays[5];

    /* The reference first, untimed in effect (budget 0: one repetition). */
    peer_input once = in;
    once.budget_ms = 0;
    if (run_bptt(&once, BPTT_ALGO_AUTO, &ref)) {
        fprintf(stderr, "bptt: %s\n", bptt_error_detail());
        return 1;
    }
    int st;
    char err[512] = "";
    const char *blas_threads = getenv("OPENBLAS_NUM_THREADS");
    if (strcmp(peer, "bptt") == 0
        && (!blas_threads || (unsigned)atoi(blas_threads) != threads))
        fprintf(stderr, "note: OpenBLAS reads its thread count at start-up: "
                "run with OPENBLAS_NUM_THREADS=%u for bptt on %u thread%s\n",
                threads, threads, threads > 1 ? "s" : "");
    if (strcmp(peer, "bptt") == 0) {
        st = run_bptt(&in, BPTT_ALGO_AUTO, &out) ? PEER_FAILED : PEER_OK;
    } else {
        st = bptt_peer_run(peer, &in, &out, err, sizeof err);
    }
    if (st != PEER_OK) {
        fprintf(stderr, "%s\n", err);
        return st == PEER_UNSUPPORTED ? 3 : 1;
    }
    /* Flops as docs/algorithms.md counts them, with dL/dx: forward 2·B·n·m
     * per step, backward 2·B·n·n + 2·B·n·m + 2·B·n·din per step. */
    const double ff = 2.0 * (double)(T * B * dout * m),
                 fb = 2.0 * (double)(T * B * dout) * (double)(dout + m + din);
    printf("%-24s %s (%zu,%zu,%zu,%zu) threads %u reps %zu\n", out.version,
           el == 8 ? "f64" : "f32", din, dout, T, B, threads, out.reps);
    const char *pass[] = {"forward", "backward", "fwd+bwd"};
    const double flops[] = {ff, fb, ff + fb};
    for (int p = 0; p < PEER_NPASS; p++)
        printf("  %-8s median %9.3f ms  min %9.3f  max %9.3f  %7.2f GFLOP/s\n",
               pass[p], out.time[p].median, out.time[p].min, out.time[p].max,
               flops[p] / out.time[p].median * 1e-6);
    printf("  relative difference from bptt: y %.1e  dW %.1e  dx %.1e\n",
           relerr(ny, el, out.y, ref.y), relerr(nw, el, out.dW, ref.dW),
           relerr(nx, el, out.dx, ref.dx));
    return 0;
}
