/*
 * bptt-bench-tokens — the token path of Network B against the one-hot path
 * on a char-rnn step (issue 16): forward + backward of an Elman network
 * whose input is a vocabulary (din = vocab) and whose softmax head predicts
 * the next id (nout = vocab), with
 *
 *   one-hot: bptt_tokens_onehot, then bptt_elman_forward / _backward (no
 *            dx): the input term X Wiᵀ and dWi = ΔᵀX are GEMMs over a
 *            T·B x vocab matrix of zeros and ones;
 *   tokens:  bptt_elman_forward_tokens / _backward_tokens: a gather of Wi's
 *            columns and a scatter-add into dWi (docs/derivation.md,
 *            "Token inputs").
 *
 * Every case's two paths are checked to agree first (the largest normwise
 * difference of dW, dWo and the loss is printed), then timed in one run,
 * interleaved: each repetition times every case's two paths back to back,
 * in alternating order, each sample a batch of passes of about --sample-ms.
 * Each sample is timed by the thread's CPU time (CLOCK_THREAD_CPUTIME_ID)
 * and by the wall clock: on a shared machine the wall clock also counts
 * the time the thread waited for a core, in slices as long as a sample, so
 * its samples are bimodal; the CPU time is the work done (one BLAS thread,
 * no workspace threads, so the thread does all of it).  Reported per case:
 * by CPU time, the median time per pass of each path with its quartiles,
 * the ratio of the medians, and the median and quartiles of the
 * per-repetition ratios; by wall time, the per-repetition ratio's median
 * and quartiles.  The CPU model and the load average before and after are
 * printed with the figures.
 *
 *   bptt-bench-tokens [--vocab V]... [--hidden H] [--T T] [--B B]
 *                     [--precision double|float|all] [--reps N]
 *                     [--sample-ms MS]
 *
 * Defaults: vocabularies 90 and 256, hidden 128, T 32, B 8, both
 * precisions, 21 repetitions, 20 ms samples.  Exit status 0; 1 if a call
 * failed or the paths disagree (beyond 1e-10 in double, 1e-3 in float);
 * 2 for a bad command line.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "env.h"
#include "stats.h"
#include "tokens_bench.h"

enum { MAXV = 8, MAXREPS = 201 };

typedef struct run {
    tok_case c;
    int single, iters;
    void *st;
    double diff;
    /* ms per pass [clock: wall, cpu][path][rep]; onehot/tokens by clock */
    double t[2][2][MAXREPS], ratio[2][MAXREPS];
} run;

static int setup(run *r)
{
    return r->single ? bench_f_tokens_setup(&r->c, &r->st, &r->diff)
                     : bench_d_tokens_setup(&r->c, &r->st, &r->diff);
}

static int timed(run *r, int path, int iters, double ms[2])
{
    return r->single ? bench_f_tokens_time(r->st, path, iters, ms)
                     : bench_d_tokens_time(r->st, path, iters, ms);
}

static void release(run *r)
{
    if (r->single)
        bench_f_tokens_free(r->st);
    else
        bench_d_tokens_free(r->st);
}

static void print_file_line(const char *path, const char *key,
                            const char *label)
{
    char line[512];
    FILE *f = fopen(path, "r");
    while (f && fgets(line, sizeof line, f)) {
        if (key && strncmp(line, key, strlen(key)) != 0)
            continue;
        const char *v = key ? strchr(line, ':') : line;
        printf("# %s: %s", label, v ? v + (key ? 2 : 0) : line);
        break;
    }
    if (f)
        fclose(f);
}

static int usage(const char *prog)
{
    fprintf(stderr, "usage: %s [--vocab V]... [--hidden H] [--T T] [--B B] "
            "[--precision double|float|all] [--reps N] [--sample-ms MS]\n",
            prog);
    return 2;
}

int main(int argc, char **argv)
{
    size_t vocab[MAXV], nv = 0, hidden = 128, T = 32, B = 8;
    int prec = 3, reps = 21; /* prec: bit 0 double, bit 1 float */
    double sample_ms = 20;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!v)
            return usage(argv[0]);
        i++;
        if (!strcmp(a, "--vocab") && nv < MAXV)
            vocab[nv++] = strtoul(v, NULL, 10);
        else if (!strcmp(a, "--hidden"))
            hidden = strtoul(v, NULL, 10);
        else if (!strcmp(a, "--T"))
            T = strtoul(v, NULL, 10);
        else if (!strcmp(a, "--B"))
            B = strtoul(v, NULL, 10);
        else if (!strcmp(a, "--reps"))
            reps = atoi(v);
        else if (!strcmp(a, "--sample-ms"))
            sample_ms = atof(v);
        else if (!strcmp(a, "--precision"))
            prec = !strcmp(v, "double") ? 1 : !strcmp(v, "float") ? 2
                   : !strcmp(v, "all")  ? 3 : 0;
        else
            return usage(argv[0]);
    }
    if (!nv) {
        vocab[nv++] = 90;
        vocab[nv++] = 256;
    }
    for (size_t k = 0; k < nv; k++)
        if (!vocab[k] || vocab[k] > 1u << 20)
            return usage(argv[0]);
    if (!prec || !hidden || !T || !B || reps < 1 || reps > MAXREPS ||
        !(sample_ms > 0))
        return usage(argv[0]);

    bench_set_threads(1);
    print_file_line("/proc/cpuinfo", "model name", "cpu");
    print_file_line("/proc/loadavg", NULL, "loadavg before");
    printf("# %s; BLAS threads %d; %d repetitions, samples of ~%g ms, "
           "interleaved\n", bptt_version(), bench_threads(), reps, sample_ms);

    run *runs = calloc(2 * nv, sizeof *runs);
    size_t n = 0;
    int rc = 0;
    for (int single = 0; single < 2; single++)
        for (size_t k = 0; k < nv; k++) {
            if (!(prec >> single & 1))
                continue;
            run *r = &runs[n];
            r->c = (tok_case){vocab[k], hidden, T, B};
            r->single = single;
            if (setup(r)) {
                fprintf(stderr, "%s: a call failed (vocab %zu)\n", argv[0],
                        vocab[k]);
                return 1;
            }
            n++;
            if (r->diff > (single ? 1e-3 : 1e-10)) {
                fprintf(stderr, "%s: the paths differ by %g (vocab %zu, %s)\n",
                        argv[0], r->diff, vocab[k], single ? "float" : "double");
                rc = 1;
            }
            /* a batch of the slower path of about sample_ms of CPU */
            double ms[2];
            timed(r, 0, 1, ms);
            timed(r, 0, 3, ms);
            const double one = ms[1] / 3;
            r->iters = one > 0 && one < sample_ms ? (int)(sample_ms / one) : 1;
        }
    for (int rep = 0; rep < reps; rep++)
        for (size_t i = 0; i < n; i++)
            for (int j = 0; j < 2; j++) {
                const int path = (rep + j) % 2; /* ABBA... by repetition */
                double ms[2];
                if (timed(&runs[i], path, runs[i].iters, ms)) {
                    fprintf(stderr, "%s: a call failed\n", argv[0]);
                    return 1;
                }
                for (int c = 0; c < 2; c++)
                    runs[i].t[c][path][rep] = ms[c] / runs[i].iters;
            }
    print_file_line("/proc/loadavg", NULL, "loadavg after");
    printf("# prec vocab hidden T B passes/sample | CPU time: one-hot "
           "ms/pass median [q1 q3] | tokens ms/pass median [q1 q3] | "
           "speed-up (ratio of medians) | per-repetition ratio median "
           "[q1 q3] | wall time: per-repetition ratio median [q1 q3] | max "
           "rel diff\n");
    for (size_t i = 0; i < n; i++) {
        run *r = &runs[i];
        for (int c = 0; c < 2; c++)
            for (int rep = 0; rep < reps; rep++)
                r->ratio[c][rep] = r->t[c][0][rep] / r->t[c][1][rep];
        bench_summary a = bench_summarize(r->t[1][0], (size_t)reps),
                      b = bench_summarize(r->t[1][1], (size_t)reps),
                      q = bench_summarize(r->ratio[1], (size_t)reps),
                      w = bench_summarize(r->ratio[0], (size_t)reps);
        printf("%s %zu %zu %zu %zu %d | %.4f [%.4f %.4f] | %.4f [%.4f %.4f] "
               "| %.2f | %.2f [%.2f %.2f] | %.2f [%.2f %.2f] | %.1e\n",
               r->single ? "float" : "double", r->c.vocab, r->c.hidden,
               r->c.T, r->c.B, r->iters, a.median, a.q1, a.q3, b.median, b.q1,
               b.q3, a.median / b.median, q.median, q.q1, q.q3, w.median,
               w.q1, w.q3, r->diff);
        release(r);
    }
    free(runs);
    return rc;
}
