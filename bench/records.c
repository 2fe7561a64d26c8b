/*
 * records.c — what a run produces, below both of its producers (cases.c for
 * bptt's algorithms and RTRL, peer_case.c for the peers): the names of
 * passes and activations, the growing arrays of records, refusals and
 * notes, the progress line, and a record's figures against the limits.
 */
#include "cases.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "stats.h"

const char *bench_activations_name(int mixed)
{
    return mixed ? "mixed" : "tanh";
}

/* A record's activations: a gated cell's are its gates' (σ, tanh). */
static const char *units(bench_shape s)
{
    return s.cell != BPTT_CELL_VANILLA ? "gates"
                                       : bench_activations_name(s.mixed);
}

size_t bench_shape_gates(bench_shape s)
{
    return s.cell == BPTT_CELL_VANILLA ? 1 : bptt_gated_gates(s.cell);
}

const char *bench_pass_name(bench_pass pass)
{
    static const char *const names[BENCH_NPASS] = {
        "forward",          "backward", "backward_data", "backward_weights",
        "backward_recurrence", "forward_backward", "sequence", "step"};
    return (unsigned)pass < BENCH_NPASS ? names[pass] : NULL;
}

const char *bench_rtrl_name(size_t i)
{
    static const char *const names[BENCH_NRTRL] = {"rtrl-naive", "rtrl-gemm"};
    return i < BENCH_NRTRL ? names[i] : NULL;
}

void bench_results_free(bench_results *r)
{
    free(r->rec);
    free(r->ref);
    free(r->note);
    memset(r, 0, sizeof *r);
}

/* Make room for one more element of a growing array; 0, or -1 when memory
 * runs out. */
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

int bench_add_record(bench_results *out, const bench_record *r)
{
    if (grow((void **)&out->rec, &out->cap, out->n, sizeof *out->rec))
        return -1;
    out->rec[out->n++] = *r;
    return 0;
}

/* The progress line is rewritten in place; anything else printed on stderr
 * first clears it. */
void bench_progress(const bench_config *cfg, const bench_prec *prec,
                    bench_shape s, const char *algo, const char *what)
{
    if (cfg->progress)
        fprintf(stderr, "\r\033[K[%zu/%zu] %s (%zu,%zu,%zu,%zu)%s %s %s",
                cfg->case_no, cfg->ncases, prec->name, s.din, s.dout, s.T,
                s.B, s.mixed ? " mixed" : "", algo, what);
}

void bench_clear_progress(const bench_config *cfg)
{
    if (cfg->progress)
        fputs("\r\033[K", stderr);
}

/* A refusal or a note of this case into a growing array. */
static int case_text(bench_refusal **arr, size_t *cap, size_t *n,
                     const bench_prec *prec, bench_shape s, const char *algo,
                     const char *text)
{
    if (grow((void **)arr, cap, *n, sizeof **arr))
        return -1;
    bench_refusal *r = &(*arr)[(*n)++];
    *r = (bench_refusal){algo, prec->name, s.din, s.dout, s.T, s.B, {0},
                         units(s)};
    snprintf(r->reason, sizeof r->reason, "%s", text);
    return 0;
}

int bench_refuse(const bench_config *cfg, bench_results *out, size_t first,
                 const bench_prec *prec, bench_shape s, const char *algo,
                 const char *reason)
{
    out->n = first;
    bench_clear_progress(cfg);
    fprintf(stderr, "bptt-bench: refused %s (%s%s%s, din=%zu dout=%zu T=%zu "
                    "B=%zu%s): %s; no time reported\n",
            algo, prec->name, s.cell ? " " : "",
            s.cell ? bptt_cell_name(s.cell) : "", s.din, s.dout, s.T, s.B,
            s.mixed ? ", mixed units" : "", reason);
    return case_text(&out->ref, &out->capref, &out->nref, prec, s, algo,
                     reason);
}

void bench_check_by(const bench_config *cfg, const bench_prec *prec,
                    double (*check)(const void *, unsigned, const char **),
                    void (*corrupt)(void *), void *p, const char *algo,
                    unsigned what, char *reason, size_t size)
{
    if (cfg->corrupt && strcmp(cfg->corrupt, algo) == 0)
        corrupt(p);
    const char *worst = "";
    const double err = check(p, what, &worst);
    if (!(err <= prec->tol))
        snprintf(reason, size, "%s differs from naive's by %.3g (normwise "
                 "relative; tolerance %g)", worst, err, prec->tol);
}

void bench_check(const bench_config *cfg, const bench_prec *prec, void *p,
                 const char *algo, unsigned what, char *reason, size_t size)
{
    bench_check_by(cfg, prec, prec->check, prec->corrupt, p, algo, what,
                   reason, size);
}

int bench_note(bench_results *out, const bench_prec *prec, bench_shape s,
               const char *subject, const char *text)
{
    return case_text(&out->note, &out->capnote, &out->nnote, prec, s, subject,
                     text);
}

double bench_pass_flops(bench_pass pass, bench_shape s)
{
    /* A gated cell's products are Network A's with G·dout rows: forward
     * 2·B·(G·n)·(din+n) per step, backward U^T δ, δ xᵀ, δ hᵀ and W^T δ
     * (docs/gated.md); its element-wise gate work is not counted. */
    const double G = (double)bench_shape_gates(s);
    const double fwd = G * bench_flops_forward(s.din, s.dout, s.T, s.B);
    const double bwd = G * bench_flops_backward(s.din, s.dout, s.T, s.B, 1);
    switch (pass) {
    case BENCH_FORWARD:
        return fwd;
    case BENCH_BACKWARD:
        return bwd;
    case BENCH_BACKWARD_DATA: /* the recurrence and ∂L/∂x */
        return bwd - fwd;
    case BENCH_BACKWARD_WEIGHTS: /* δ sᵀ costs what the forward's W s does */
        return fwd;
    case BENCH_BACKWARD_RECURRENCE: /* Wyᵀ δ(t+1) for t < T */
        return 2.0 * G * (double)s.B * (double)s.dout * (double)s.dout *
               (s.T > 0 ? (double)(s.T - 1) : 0);
    case BENCH_FORWARD_BACKWARD:
        return fwd + bwd;
    case BENCH_SEQUENCE:
        return bench_flops_rtrl(s.din, s.dout, s.T, s.B, 1);
    case BENCH_STEP:
        return bench_flops_rtrl(s.din, s.dout, 1, s.B, 0);
    default:
        return NAN;
    }
}

double bench_pass_read_bytes(bench_pass pass, bench_shape s, size_t elem)
{
    const double step = (double)bench_shape_gates(s) * (double)s.dout
                        * (double)s.dout * (double)elem; /* Wy, or U */
    const double steps = s.T > 0 ? (double)(s.T - 1) : 0;
    switch (pass) {
    case BENCH_FORWARD:
    case BENCH_BACKWARD:
    case BENCH_BACKWARD_DATA:
    case BENCH_BACKWARD_RECURRENCE:
        return steps * step;
    case BENCH_FORWARD_BACKWARD:
        return 2 * steps * step;
    default:
        return 0;
    }
}

double bench_bound_ms(double flops, double read_bytes, double gemm_gflops,
                      double read_gbs, const char **roof)
{
    const double compute = gemm_gflops > 0 && flops > 0
                               ? flops / (gemm_gflops * 1e6) : 0;
    const double reads = read_gbs > 0 && read_bytes > 0
                             ? read_bytes / (read_gbs * 1e6) : 0;
    *roof = reads > compute ? "read" : "gemm";
    return reads > compute ? reads : compute;
}

double bench_read_limit_gbs(const bench_limits *lim, size_t bytes)
{
    for (size_t i = 0; i < lim->nread; i++)
        if (lim->read[i].bytes == bytes)
            return lim->read[i].gbs;
    return NAN;
}

void bench_read_limit_keep(bench_limits *lim, size_t bytes, double gbs)
{
    if (!(gbs > 0))
        return;
    for (size_t i = 0; i < lim->nread; i++)
        if (lim->read[i].bytes == bytes) {
            if (gbs > lim->read[i].gbs)
                lim->read[i].gbs = gbs;
            return;
        }
    if (lim->nread < BENCH_MAX_READS)
        lim->read[lim->nread++] = (bench_read_limit){bytes, gbs};
}

bench_record bench_make_record(const bench_config *cfg,
                               const bench_prec *prec, const bench_limits *lim,
                               bench_shape s, const char *algo,
                               bench_pass pass, bench_summary t, double flops,
                               double naive_ms)
{
    /* A derived difference of medians may come out <= 0 in the noise of a
     * tiny case: it has no rate. */
    const double gflops = t.median > 0 ? flops / (t.median * 1e6) : NAN;
    const size_t wy = bench_shape_gates(s) * s.dout * s.dout * prec->elem;
    const double read_gbs = bench_read_limit_gbs(lim, wy)
                            * (cfg->threads > 1 ? cfg->threads : 1);
    const char *roof;
    const double bound = bench_bound_ms(
        flops, bench_pass_read_bytes(pass, s, prec->elem), lim->gemm_gflops,
        read_gbs, &roof);
    const double limit = bound > 0 ? flops / (bound * 1e6) : NAN;
    return (bench_record){
        .algo = algo,
        .precision = prec->name,
        .pass = bench_pass_name(pass),
        .activations = units(s),
        .din = s.din,
        .dout = s.dout,
        .T = s.T,
        .B = s.B,
        .threads = cfg->threads,
        .time = t,
        .flops = flops,
        .gflops = gflops,
        .speedup = naive_ms / t.median,
        .is_default = 0,
        .limit = roof,
        .limit_gflops = limit,
        .fraction = gflops / limit,
        .floor_ms = NAN,
        .floor_ratio = NAN,
        .derived = 0,
        .memory_bytes = NAN,
        .cell = bptt_cell_name(s.cell),
    };
}
