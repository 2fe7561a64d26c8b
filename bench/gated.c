/*
 * gated.c — bptt-bench-gated: the gated cells (bptt/gated.h) at the
 * reference shapes, correctness before speed.
 *
 *   usage: bptt-bench-gated [--cell lstm|gru] [--shape din,n,T,B]...
 *                           [--precision double|float|all] [--budget-ms MS]
 *                           [--check-steps K]
 *                           [--peers none|onednn|torch|all]
 *
 * For each shape and precision it first checks the deferred form against
 * the naive loop form on the shape's din, n and B over the first K steps
 * (K = 8 by default; the naive form of the largest shapes takes seconds per
 * step), then times the deferred forward and backward (medians within the
 * budget, one thread: set OPENBLAS_NUM_THREADS=1 for the GEMMs) and the
 * backward's BLAS floor — the same products as bare CBLAS calls: T
 * sequential (B x G·n)·(G·n x n) products for the recurrence, then dW, dU
 * and dx as one GEMM each.  With oneDNN (f32 only) it runs oneDNN's LSTM or
 * lbr_gru primitive on the same data, checks it against bptt's naive form
 * over the first K steps, and only then times it (gated_onednn.c); the
 * same for PyTorch's nn.LSTM / nn.GRU in both precisions, through
 * gated_torch.py run by the first of $BENCH_PYTHON, python3,
 * /usr/bin/python3 that imports torch (default peers: all available).
 *
 * Exit status 1 if any result was refused (differed from naive).
 * It uses only the public API, as a user would.  Not yet folded into
 * bptt-bench (bench/main.c): no JSON/CSV, no environment report.
 */
#define _POSIX_C_SOURCE 200809L
#include <bptt.h>
#include <cblas.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "gated_peer.h"

#ifndef GATED_TORCH_SCRIPT
#define GATED_TORCH_SCRIPT "gated_torch.py"
#endif

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec * 1e-6;
}

static int cmp(const void *a, const void *b)
{
    const double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static void *xcalloc(size_t n, size_t size)
{
    void *p = calloc(n ? n : 1, size);
    if (!p) {
        fprintf(stderr, "bptt-bench-gated: out of memory\n");
        exit(1);
    }
    return p;
}

#define TRY(call)                                                              \
    do {                                                                       \
        bptt_status st_ = (call);                                              \
        if (st_ != BPTT_OK) {                                                  \
            fprintf(stderr, "bptt-bench-gated: %s\n", bptt_error_detail());    \
            exit(1);                                                           \
        }                                                                      \
    } while (0)

/* ------------------------------------------------------------------------ */
/* One problem in both precisions                                            */
/* ------------------------------------------------------------------------ */

typedef struct problem {
    bptt_cell cell;
    size_t din, n, G, T, B;
    double *W, *U, *bx, *bh, *x, *dh; /* dense */
    float *fW, *fU, *fbx, *fbh, *fx, *fdh;
} problem;

static float *to_float(const double *a, size_t k)
{
    float *f = xcalloc(k, sizeof *f);
    for (size_t i = 0; i < k; i++)
        f[i] = (float)a[i];
    return f;
}

static void problem_make(problem *p)
{
    unsigned long long s = 12345;
    const size_t Gn = p->G * p->n, TB = p->T * p->B;
    const double ws = 1 / sqrt((double)p->n);
    double *arr[6];
    size_t cnt[6] = {Gn * p->din, Gn * p->n, Gn, Gn, TB * p->din, TB * p->n};
    double scale[6] = {ws, ws, 0.1, 0.1, 1, 1};
    for (int a = 0; a < 6; a++) {
        arr[a] = xcalloc(cnt[a], sizeof(double));
        for (size_t i = 0; i < cnt[a]; i++) {
            s = s * 6364136223846793005ULL + 1442695040888963407ULL;
            arr[a][i] = scale[a] * (2 * ((double)(s >> 11) / 9007199254740992.0) - 1);
        }
    }
    p->W = arr[0], p->U = arr[1], p->bx = arr[2], p->bh = arr[3];
    p->x = arr[4], p->dh = arr[5];
    p->fW = to_float(p->W, cnt[0]), p->fU = to_float(p->U, cnt[1]);
    p->fbx = to_float(p->bx, cnt[2]), p->fbh = to_float(p->bh, cnt[3]);
    p->fx = to_float(p->x, cnt[4]), p->fdh = to_float(p->dh, cnt[5]);
}

static void problem_free(problem *p)
{
    free(p->W), free(p->U), free(p->bx), free(p->bh), free(p->x), free(p->dh);
    free(p->fW), free(p->fU), free(p->fbx), free(p->fbh), free(p->fx);
    free(p->fdh);
}

/* The outputs of one run (dense, in the run's precision). */
typedef struct outs {
    void *h, *dW, *dU, *dx;
} outs;

static void outs_alloc(const problem *p, size_t T, size_t r, outs *o)
{
    const size_t Gn = p->G * p->n, TB = T * p->B;
    o->h = xcalloc(TB * p->n, r), o->dW = xcalloc(Gn * p->din, r);
    o->dU = xcalloc(Gn * p->n, r), o->dx = xcalloc(TB * p->din, r);
}

static void outs_free(outs *o)
{
    free(o->h), free(o->dW), free(o->dU), free(o->dx);
}

/* Forward then backward over the first T steps with algo, into o; the
 * biases in, h0 = 0, every gradient but the biases' and dh0 out. */
static double run(const problem *p, int single, size_t T, bptt_algo algo,
                  void *ws, outs *o, double *t_fwd, double *t_bwd)
{
    const size_t din = p->din, n = p->n, B = p->B;
    double t0 = now_ms(), t1, t2;
    if (single) {
        TRY(bpttf_gated_forward(T, B, p->fW, din, p->fU, n, p->fbx, p->fbh,
                                p->fx, din, NULL, 0, NULL, 0, o->h, n, NULL, 0,
                                algo, ws));
        t1 = now_ms();
        TRY(bpttf_gated_backward(T, B, p->fW, din, p->fU, n, p->fdh, n, NULL, 0,
                                 0, o->dW, din, o->dU, n, NULL, NULL, o->dx,
                                 din, NULL, 0, NULL, 0, algo, ws));
    } else {
        TRY(bptt_gated_forward(T, B, p->W, din, p->U, n, p->bx, p->bh, p->x,
                               din, NULL, 0, NULL, 0, o->h, n, NULL, 0, algo,
                               ws));
        t1 = now_ms();
        TRY(bptt_gated_backward(T, B, p->W, din, p->U, n, p->dh, n, NULL, 0, 0,
                                o->dW, din, o->dU, n, NULL, NULL, o->dx, din,
                                NULL, 0, NULL, 0, algo, ws));
    }
    t2 = now_ms();
    if (t_fwd)
        *t_fwd = t1 - t0;
    if (t_bwd)
        *t_bwd = t2 - t1;
    return t2 - t0;
}

/* Normwise relative difference max|a − b| / max|b| of k elements. */
static double relerr(int single, const void *a, const void *b, size_t k)
{
    double d = 0, m = 0;
    for (size_t i = 0; i < k; i++) {
        const double x = single ? ((const float *)a)[i] : ((const double *)a)[i];
        const double y = single ? ((const float *)b)[i] : ((const double *)b)[i];
        d = fmax(d, fabs(x - y));
        m = fmax(m, fabs(y));
        if (isnan(x) || isnan(y))
            return INFINITY;
    }
    return m > 0 ? d / m : d;
}

double gated_outs_err(int single, const problem_view *v, const void *h,
                      const void *dW, const void *dU, const void *dx,
                      const void *rh, const void *rdW, const void *rdU,
                      const void *rdx)
{
    const size_t Gn = v->G * v->n, TB = v->T * v->B;
    double e = relerr(single, h, rh, TB * v->n);
    e = fmax(e, relerr(single, dW, rdW, Gn * v->din));
    e = fmax(e, relerr(single, dU, rdU, Gn * v->n));
    return fmax(e, relerr(single, dx, rdx, TB * v->din));
}

/* ------------------------------------------------------------------------ */
/* The backward's BLAS floor                                                 */
/* ------------------------------------------------------------------------ */

/* One repetition of the deferred backward's products as bare CBLAS calls:
 * the recurrence's T products (B x Gn)(Gn x n), then dW = Dᵀ X, dU = Dᵀ H,
 * dx = D W.  D, H are scratch of the right sizes (their values do not
 * matter to the time). */
static double floor_once(const problem *p, int single, void *D, void *H,
                         void *G, void *dW, void *dU, void *dx)
{
    const int n = (int)p->n, din = (int)p->din, Gn = (int)(p->G * p->n),
              B = (int)p->B, TB = (int)(p->T * p->B);
    const double t0 = now_ms();
    for (size_t t = 0; t < p->T; t++) {
        if (single)
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, B, n, Gn, 1,
                        (float *)D + t * (size_t)B * Gn, Gn, p->fU, n, 1,
                        (float *)G, n);
        else
            cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, B, n, Gn, 1,
                        (double *)D + t * (size_t)B * Gn, Gn, p->U, n, 1,
                        (double *)G, n);
    }
    if (single) {
        cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, Gn, din, TB, 1, D,
                    Gn, p->fx, din, 0, dW, din);
        cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, Gn, n, TB, 1, D,
                    Gn, H, n, 0, dU, n);
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, TB, din, Gn, 1,
                    D, Gn, p->fW, din, 0, dx, din);
    } else {
        cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, Gn, din, TB, 1, D,
                    Gn, p->x, din, 0, dW, din);
        cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, Gn, n, TB, 1, D,
                    Gn, H, n, 0, dU, n);
        cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, TB, din, Gn, 1,
                    D, Gn, p->W, din, 0, dx, din);
    }
    return now_ms() - t0;
}

/* ------------------------------------------------------------------------ */
/* Timing                                                                    */
/* ------------------------------------------------------------------------ */

enum { MAXREP = 64 };

/* Medians of the forward and backward over repetitions within budget
 * (at least 3, at most MAXREP), after one warm-up. */
static void time_bptt(const problem *p, int single, void *ws, double budget,
                      double *fwd, double *bwd)
{
    outs o;
    outs_alloc(p, p->T, single ? 4 : 8, &o);
    double tf[MAXREP], tb[MAXREP], spent = 0;
    int k = 0;
    run(p, single, p->T, BPTT_ALGO_DEFERRED, ws, &o, NULL, NULL);
    while (k < MAXREP && (k < 3 || spent < budget)) {
        spent += run(p, single, p->T, BPTT_ALGO_DEFERRED, ws, &o, &tf[k],
                     &tb[k]);
        k++;
    }
    qsort(tf, (size_t)k, sizeof *tf, cmp);
    qsort(tb, (size_t)k, sizeof *tb, cmp);
    *fwd = tf[k / 2], *bwd = tb[k / 2];
    outs_free(&o);
}

static double time_floor(const problem *p, int single, double budget)
{
    const size_t r = single ? 4 : 8, Gn = p->G * p->n, TB = p->T * p->B;
    void *D = xcalloc(TB * Gn, r), *H = xcalloc(TB * p->n, r);
    void *G = xcalloc(p->B * p->n, r), *dW = xcalloc(Gn * p->din, r);
    void *dU = xcalloc(Gn * p->n, r), *dx = xcalloc(TB * p->din, r);
    double t[MAXREP], spent = 0;
    int k = 0;
    floor_once(p, single, D, H, G, dW, dU, dx);
    while (k < MAXREP && (k < 3 || spent < budget)) {
        t[k] = floor_once(p, single, D, H, G, dW, dU, dx);
        spent += t[k++];
    }
    qsort(t, (size_t)k, sizeof *t, cmp);
    free(D), free(H), free(G), free(dW), free(dU), free(dx);
    return t[k / 2];
}

/* ------------------------------------------------------------------------ */
/* The PyTorch peer: gated_torch.py in a child process                       */
/* ------------------------------------------------------------------------ */

/* The first of $BENCH_PYTHON, python3, /usr/bin/python3 that imports
 * torch, or NULL. */
static const char *torch_python(void)
{
    static const char *found;
    static int looked;
    if (looked)
        return found;
    looked = 1;
    const char *env = getenv("BENCH_PYTHON");
    const char *cand[3] = {env, "python3", "/usr/bin/python3"};
    for (int i = 0; i < 3; i++) {
        char cmd[512];
        if (!cand[i] || strlen(cand[i]) > 200)
            continue;
        snprintf(cmd, sizeof cmd,
                 "'%s' -c 'import torch, numpy' >/dev/null 2>&1", cand[i]);
        if (system(cmd) == 0)
            return found = cand[i];
    }
    return NULL;
}

static void write_doubles(FILE *f, int single, const void *a, size_t k)
{
    for (size_t i = 0; i < k; i++) {
        const double v = single ? ((const float *)a)[i] : ((const double *)a)[i];
        fwrite(&v, sizeof v, 1, f);
    }
}

/* Run the script on p (the precision of single) against the naive results
 * ref over Tc steps; 0 and r filled, or -1 (no python with torch, or the
 * script failed). */
static int torch_run(const problem *p, int single, size_t Tc, const outs *ref,
                     double budget, gated_peer_result *r)
{
    const char *py = torch_python();
    if (!py)
        return -1;
    char in[] = "/tmp/bptt-gated-XXXXXX", out[64], cmd[1024];
    const int fd = mkstemp(in);
    if (fd < 0)
        return -1;
    FILE *f = fdopen(fd, "wb");
    const size_t Gn = p->G * p->n, TB = p->T * p->B, TcB = Tc * p->B;
    fprintf(f, "%s %zu %zu %zu %zu %zu %d %g\n", bptt_cell_name(p->cell),
            p->din, p->n, p->T, p->B, Tc, single, budget);
    write_doubles(f, 0, p->W, Gn * p->din);
    write_doubles(f, 0, p->U, Gn * p->n);
    write_doubles(f, 0, p->bx, Gn);
    write_doubles(f, 0, p->bh, Gn);
    write_doubles(f, 0, p->x, TB * p->din);
    write_doubles(f, 0, p->dh, TB * p->n);
    write_doubles(f, single, ref->h, TcB * p->n);
    write_doubles(f, single, ref->dW, Gn * p->din);
    write_doubles(f, single, ref->dU, Gn * p->n);
    write_doubles(f, single, ref->dx, TcB * p->din);
    fclose(f);
    snprintf(out, sizeof out, "%s.out", in);
    snprintf(cmd, sizeof cmd, "'%s' '%s' '%s' '%s'", py, GATED_TORCH_SCRIPT,
             in, out);
    int ok = system(cmd) == 0;
    f = ok ? fopen(out, "r") : NULL;
    ok = f && fscanf(f, "%lf %lf %lf", &r->err, &r->fwd, &r->bwd) == 3;
    if (f)
        fclose(f);
    remove(in);
    remove(out);
    r->ran = ok;
    return ok ? 0 : -1;
}

/* ------------------------------------------------------------------------ */
/* main                                                                      */
/* ------------------------------------------------------------------------ */

static const size_t reference[5][4] = {
    {32, 32, 100, 1},   {128, 128, 100, 1}, {512, 512, 100, 1},
    {256, 256, 100, 32}, {512, 512, 50, 64},
};

static int usage(void)
{
    fprintf(stderr,
            "usage: bptt-bench-gated [--cell lstm|gru] [--shape din,n,T,B]...\n"
            "                        [--precision double|float|all] "
            "[--budget-ms MS]\n"
            "                        [--check-steps K] "
            "[--peers none|onednn|torch|all]\n");
    return 2;
}

int main(int argc, char **argv)
{
    bptt_cell cell = BPTT_CELL_LSTM;
    size_t shapes[16][4], nshapes = 0, check_steps = 8;
    int precs = 3, peers = gated_onednn_available(), torch = 1;
    double budget = 300;
    int refused = 0; /* a result differed from naive: exit status 1 */
    for (int i = 1; i < argc; i++) {
        const char *o = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!v)
            return usage();
        i++;
        if (!strcmp(o, "--cell")) {
            if (!strcmp(v, "lstm"))
                cell = BPTT_CELL_LSTM;
            else if (!strcmp(v, "gru"))
                cell = BPTT_CELL_GRU;
            else
                return usage();
        } else if (!strcmp(o, "--shape") && nshapes < 16) {
            size_t *s = shapes[nshapes++];
            if (sscanf(v, "%zu,%zu,%zu,%zu", &s[0], &s[1], &s[2], &s[3]) != 4 ||
                !s[0] || !s[1] || !s[2] || !s[3])
                return usage();
        } else if (!strcmp(o, "--precision")) {
            precs = !strcmp(v, "double") ? 1 : !strcmp(v, "float") ? 2
                    : !strcmp(v, "all")  ? 3 : 0;
            if (!precs)
                return usage();
        } else if (!strcmp(o, "--budget-ms")) {
            budget = atof(v);
            if (!(budget > 0))
                return usage();
        } else if (!strcmp(o, "--check-steps")) {
            check_steps = (size_t)atol(v);
            if (!check_steps)
                return usage();
        } else if (!strcmp(o, "--peers")) {
            peers = torch = 0;
            if (!strcmp(v, "onednn") || !strcmp(v, "all"))
                peers = gated_onednn_available();
            if (!strcmp(v, "torch") || !strcmp(v, "all"))
                torch = 1;
            if (strcmp(v, "none") && strcmp(v, "onednn") && strcmp(v, "torch")
                && strcmp(v, "all"))
                return usage();
        } else {
            return usage();
        }
    }
    if (!nshapes) {
        memcpy(shapes, reference, sizeof reference);
        nshapes = 5;
    }

    printf("bptt-bench-gated: %s, kernels %s, budget %g ms, check over the "
           "first %zu steps; times are medians in ms\n",
           bptt_cell_name(cell), bptt_isa_name(bptt_kernel_isa()), budget,
           check_steps);
    printf("%-18s %-4s %8s %8s %8s %8s %6s | %8s %8s %8s %6s %6s | %8s "
           "%8s %8s %6s\n", "shape", "prec", "check", "fwd", "bwd", "floor",
           "bwd/fl", "dnn.chk", "dnn.fwd", "dnn.bwd", "dnn/bw", "dnn/fb",
           "tch.chk", "tch.fwd", "tch.bwd", "tch/fb");
    for (size_t s = 0; s < nshapes; s++) {
        problem p = {.cell = cell, .din = shapes[s][0], .n = shapes[s][1],
                     .G = bptt_gated_gates(cell), .T = shapes[s][2],
                     .B = shapes[s][3]};
        problem_make(&p);
        for (int single = 0; single < 2; single++) {
            if (!(precs & (1 << single)))
                continue;
            const size_t r = single ? 4 : 8;
            const size_t Tc = check_steps < p.T ? check_steps : p.T;
            void *ws;
            if (single)
                TRY(bpttf_gated_workspace_alloc(cell, p.din, p.n, p.T, p.B,
                                                (bpttf_gated_workspace **)&ws));
            else
                TRY(bptt_gated_workspace_alloc(cell, p.din, p.n, p.T, p.B,
                                               (bptt_gated_workspace **)&ws));
            /* correctness first: deferred against naive, T = Tc */
            outs ref, got;
            outs_alloc(&p, Tc, r, &ref), outs_alloc(&p, Tc, r, &got);
            run(&p, single, Tc, BPTT_ALGO_NAIVE, ws, &ref, NULL, NULL);
            run(&p, single, Tc, BPTT_ALGO_DEFERRED, ws, &got, NULL, NULL);
            const problem_view view = {p.din, p.n, p.G, Tc, p.B};
            const double err = gated_outs_err(single, &view, got.h, got.dW,
                                              got.dU, got.dx, ref.h, ref.dW,
                                              ref.dU, ref.dx);
            const double tol = single ? 1e-3 : 1e-10;
            char name[64];
            snprintf(name, sizeof name, "(%zu,%zu,%zu,%zu)", p.din, p.n, p.T,
                     p.B);
            if (!(err <= tol)) {
                refused = 1;
                printf("%-20s %-6s %9.1e REFUSED: deferred differs from naive "
                       "(tolerance %g)\n", name, single ? "f32" : "f64", err,
                       tol);
            } else {
                double fwd, bwd;
                time_bptt(&p, single, ws, budget, &fwd, &bwd);
                const double fl = time_floor(&p, single, budget);
                printf("%-18s %-4s %8.1e %8.3f %8.3f %8.3f %6.2f |", name,
                       single ? "f32" : "f64", err, fwd, bwd, fl, bwd / fl);
                gated_peer_result d = {0};
                if (peers && single) {
                    const gated_peer_problem pp = {
                        cell, p.din, p.n, p.T, p.B, Tc, p.fW, p.fU, p.fbx,
                        p.fbh, p.fx, p.fdh, ref.h, ref.dW, ref.dU, ref.dx,
                        budget};
                    gated_onednn_run(&pp, &d);
                }
                if (d.ran && d.err <= tol)
                    printf(" %8.1e %8.3f %8.3f %6.2f %6.2f |", d.err, d.fwd,
                           d.bwd, d.bwd / bwd, (d.fwd + d.bwd) / (fwd + bwd));
                else if (d.ran && (refused = 1))
                    printf(" %8.1e %-33s |", d.err, "REFUSED: differs");
                else
                    printf(" %8s %8s %8s %6s %6s |", "-", "-", "-", "-", "-");
                gated_peer_result t = {0};
                if (torch && torch_run(&p, single, Tc, &ref, budget, &t) == 0 &&
                    t.err <= tol)
                    printf(" %8.1e %8.3f %8.3f %6.2f\n", t.err, t.fwd, t.bwd,
                           (t.fwd + t.bwd) / (fwd + bwd));
                else if (t.ran && (refused = 1))
                    printf(" %8.1e REFUSED: differs from naive\n", t.err);
                else
                    printf(" %8s\n", "-");
            }
            fflush(stdout);
            outs_free(&ref), outs_free(&got);
            if (single)
                bpttf_gated_workspace_free(ws);
            else
                bptt_gated_workspace_free(ws);
        }
        problem_free(&p);
    }
    return refused;
}
