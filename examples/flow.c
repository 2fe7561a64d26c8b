/* flow.c — bptt-flow: Hochreiter & Schmidhuber (1997), §3.1.1, measured.
 *
 * The error of a loss at the last step T reaches step T−τ through τ
 * factors Wyᵀ·diag(f'(z)) (eq. (7)), so it vanishes or explodes
 * exponentially with the lag τ.  For Wy rescaled to spectral radius
 * ρ ∈ {0.5, 0.9, 1.0, 1.1, 1.5}, with tanh and with logistic units, this
 * program measures ‖∂L(T)/∂y(T−τ)‖ for τ = 0..T−1 (bptt_flow_lag_profile),
 * fits the per-step rate r of ‖·‖ ∝ r^τ, and prints it beside
 * ρ·max|f'| (the rate of linear units, max|f'| = 1 for tanh and 1/4 for the
 * logistic) and ‖Wy‖₂·max|f'| (a strict per-step bound).  It writes
 *
 *     DIR/flow.dat  the profiles (geometric mean over B sequences)
 *     DIR/flow.gp   a gnuplot script that plots them
 *     DIR/flow.svg  the plot (runs gnuplot unless --no-plot is given)
 *
 * Usage: bptt-flow DIR [--input SIGMA] [--no-plot]     (DIR must exist)
 *   --input SIGMA  standard deviation of the inputs x(t) (default 0.1): small
 *                  inputs keep tanh units near their linear regime, large
 *                  ones saturate them and shrink f'.
 * Uses only the public API, as a user would. */
#define _POSIX_C_SOURCE 200809L /* popen, pclose */
#include <bptt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum {
    DIN = 8,    /* inputs                                     */
    DOUT = 64,  /* recurrent units                            */
    M = DIN + DOUT,
    T = 100,    /* steps: lags 0..T-1                         */
    B = 16,     /* sequences, averaged in the log             */
    FIT0 = 10,  /* the fit starts at this lag: past the transient */
    NRHO = 5,
    NACT = 2
};

static const double rhos[NRHO] = {0.5, 0.9, 1.0, 1.1, 1.5};
static const bptt_activation acts[NACT] = {BPTT_ACT_TANH, BPTT_ACT_LOGISTIC};
static const double max_df[NACT] = {1.0, 0.25}; /* max|f'| */

#define TRY(call)                                                             \
    do {                                                                      \
        bptt_status st_ = (call);                                             \
        if (st_ != BPTT_OK) {                                                 \
            fprintf(stderr, "bptt-flow: %s\n", bptt_error_detail());          \
            exit(1);                                                          \
        }                                                                     \
    } while (0)

/* One experiment's results. */
typedef struct result {
    double radius, norm2, mean_df, rate;
    double logprof[T]; /* mean over sequences of ln ‖∂L(T)/∂y(T−τ)‖ */
} result;

/* Least-squares slope of ln‖·‖ against τ over τ = FIT0..T-1: the log of
 * the per-step rate. */
static double fit_rate(const double *logprof)
{
    double st = 0, sy = 0, stt = 0, sty = 0;
    const double n = T - FIT0;
    for (int tau = FIT0; tau < T; tau++) {
        st += tau;
        sy += logprof[tau];
        stt += (double)tau * tau;
        sty += tau * logprof[tau];
    }
    return exp((n * sty - st * sy) / (n * stt - st * st));
}

static void run(bptt_activation act, double rho, double input_sigma,
                result *res)
{
    static double W[DOUT * M], x[T * B * DIN], y[T * B * DOUT];
    static double dyT[B * DOUT], gnorm[T * B];
    bptt_net *net;
    bptt_plan *plan;
    TRY(bptt_net_create_uniform(DIN, DOUT, act, NULL, &net));
    TRY(bptt_plan_create(net, T, B, NULL, BPTT_ALGO_AUTO, &plan));

    /* Wx: Glorot on its dout x din block.  Wy: a random Gaussian matrix
     * (the same for every ρ: same seed), rescaled to spectral radius ρ.
     * It is not normal, so ‖Wy‖₂ exceeds ρ (by about 2x for large n). */
    TRY(bptt_init_glorot(DOUT, DIN, BPTT_DIST_UNIFORM, 1.0, 1, W, M));
    TRY(bptt_init_random(DOUT, DOUT, BPTT_DIST_GAUSSIAN,
                         1 / sqrt((double)DOUT), 2, W + DIN, M));
    TRY(bptt_init_rescale_radius(DOUT, rho, W + DIN, M, NULL));
    TRY(bptt_spectral_radius(DOUT, W + DIN, M, &res->radius));
    TRY(bptt_spectral_norm(DOUT, DOUT, W + DIN, M, &res->norm2));

    /* Inputs N(0, σ²); the loss at step T gets a random unit gradient per
     * sequence (rows of N(0, 1), normalised). */
    TRY(bptt_init_random(T * B, DIN, BPTT_DIST_GAUSSIAN, input_sigma, 3, x,
                         DIN));
    TRY(bptt_init_random(B, DOUT, BPTT_DIST_GAUSSIAN, 1.0, 4, dyT, DOUT));
    for (int b = 0; b < B; b++) {
        double s = 0;
        for (int j = 0; j < DOUT; j++)
            s += dyT[b * DOUT + j] * dyT[b * DOUT + j];
        for (int j = 0; j < DOUT; j++)
            dyT[b * DOUT + j] /= sqrt(s);
    }
    const bptt_params prm = {W, NULL};
    TRY(bptt_plan_forward(plan, T, B, &prm, x, NULL, y));
    /* The profile is an expert call: it runs on the plan's workspace,
     * after the plan's forward. */
    TRY(bptt_flow_lag_profile(net, T, B, W, M, dyT, DOUT, gnorm, NULL,
                              bptt_plan_workspace(plan)));

    /* mean f'(z(t)) over all units and steps, from y = f(z) */
    double sdf = 0;
    for (int k = 0; k < T * B * DOUT; k++)
        sdf += act == BPTT_ACT_TANH ? 1 - y[k] * y[k] : y[k] * (1 - y[k]);
    res->mean_df = sdf / (T * B * DOUT);
    for (int tau = 0; tau < T; tau++) {
        double s = 0;
        for (int b = 0; b < B; b++)
            s += log(gnorm[tau * B + b]);
        res->logprof[tau] = s / B;
    }
    res->rate = fit_rate(res->logprof);
    bptt_plan_destroy(plan);
    bptt_net_free(net);
}

static FILE *open_in(const char *dir, const char *name)
{
    char path[4096];
    if (snprintf(path, sizeof path, "%s/%s", dir, name) >= (int)sizeof path) {
        fprintf(stderr, "bptt-flow: directory name too long\n");
        exit(1);
    }
    FILE *f = fopen(path, "w");
    if (!f) {
        perror(path);
        exit(1);
    }
    return f;
}

static void write_data(const char *dir, result res[NACT][NRHO])
{
    FILE *f = open_in(dir, "flow.dat");
    fprintf(f, "# bptt-flow: geometric mean over %d sequences of "
               "||dL(T)/dy(T-tau)||, din %d, dout %d, T %d\n# tau", B, DIN,
            DOUT, T);
    for (int a = 0; a < NACT; a++)
        for (int r = 0; r < NRHO; r++)
            fprintf(f, " %s_%.1f", bptt_activation_name(acts[a]), rhos[r]);
    fprintf(f, "\n");
    for (int tau = 0; tau < T; tau++) {
        fprintf(f, "%d", tau);
        for (int a = 0; a < NACT; a++)
            for (int r = 0; r < NRHO; r++)
                fprintf(f, " %.6e", exp(res[a][r].logprof[tau]));
        fprintf(f, "\n");
    }
    fclose(f);
}

/* Two panels, tanh and logistic: measured profiles (solid) and the rate
 * (ρ·max|f'|)^τ of linear units (dashed), one colour per ρ. */
static void write_script(const char *dir, double input_sigma,
                         result res[NACT][NRHO])
{
    static const char *colour[NRHO] = {"#1b9e77", "#d95f02", "#7570b3",
                                       "#e7298a", "#66a61e"};
    FILE *f = open_in(dir, "flow.gp");
    /* Text in double quotes (f' has an apostrophe), none of it enhanced. */
    fprintf(f,
            "# gnuplot script written by bptt-flow; run it in its directory\n"
            "set terminal svg size 1000,460 dynamic font 'sans,12'\n"
            "set output 'flow.svg'\n"
            "set multiplot layout 1,2 title \"Error flow back from a loss at "
            "the last step T: measured (solid) and (rho*max|f'|)^tau (dashed)"
            "\\n%d units, T = %d, inputs N(0, %g), geometric mean of %d "
            "sequences\" noenhanced\n"
            "set logscale y\nset format y '1e%%T'\nset grid\n"
            "set xlabel 'lag tau = T - t' noenhanced\n"
            "set ylabel '||dL(T)/dy(t)||' noenhanced\n"
            "set key bottom left noenhanced\nset xrange [0:%d]\n",
            DOUT, T, input_sigma, B, T - 1);
    for (int a = 0; a < NACT; a++) {
        fprintf(f, "set title \"%s units, max|f'| = %g\" noenhanced\nplot ",
                bptt_activation_name(acts[a]), max_df[a]);
        for (int r = 0; r < NRHO; r++) {
            const result *q = &res[a][r];
            fprintf(f,
                    "'flow.dat' using 1:%d with lines lw 2 lc rgb '%s' "
                    "title 'rho %.1f: fitted rate %.3f', \\\n     "
                    "(%.6g)**x with lines dt 2 lc rgb '%s' notitle%s",
                    2 + a * NRHO + r, colour[r], rhos[r], q->rate,
                    rhos[r] * max_df[a], colour[r],
                    r + 1 < NRHO ? ", \\\n     " : "\n");
        }
    }
    fprintf(f, "unset multiplot\n");
    fclose(f);
}

/* Run gnuplot on the script through a pipe (no shell sees the path). */
static int plot(const char *dir)
{
    if (strchr(dir, '\'') || strchr(dir, '\n')) {
        fprintf(stderr, "bptt-flow: cannot pass %s to gnuplot\n", dir);
        return 1;
    }
    FILE *p = popen("gnuplot", "w");
    if (!p) {
        perror("gnuplot");
        return 1;
    }
    fprintf(p, "cd '%s'\nload 'flow.gp'\n", dir);
    int rc = pclose(p);
    if (rc != 0)
        fprintf(stderr, "bptt-flow: gnuplot failed (status %d); the data and "
                        "script are in %s\n", rc, dir);
    return rc != 0;
}

static void usage(const char *argv0)
{
    fprintf(stderr, "usage: %s DIR [--input SIGMA] [--no-plot]\n", argv0);
    exit(2);
}

int main(int argc, char **argv)
{
    const char *dir = NULL;
    double input_sigma = 0.1;
    int draw = 1;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--no-plot")) {
            draw = 0;
        } else if (!strcmp(argv[i], "--input") && i + 1 < argc) {
            char *end;
            input_sigma = strtod(argv[++i], &end);
            if (*end || !(input_sigma >= 0))
                usage(argv[0]);
        } else if (!dir && argv[i][0] != '-') {
            dir = argv[i];
        } else {
            usage(argv[0]);
        }
    }
    if (!dir)
        usage(argv[0]);
    static result res[NACT][NRHO];
    printf("bptt-flow: din %d, dout %d, T %d, B %d, inputs N(0, %g); rate "
           "fitted over lags %d..%d\n\n", DIN, DOUT, T, B, input_sigma, FIT0,
           T - 1);
    printf("%-9s %5s %8s %8s %8s | %9s %12s %16s\n", "units", "rho",
           "||Wy||2", "max|f'|", "mean f'", "fit rate", "rho*max|f'|",
           "||Wy||2*max|f'|");
    for (int a = 0; a < NACT; a++)
        for (int r = 0; r < NRHO; r++) {
            result *q = &res[a][r];
            run(acts[a], rhos[r], input_sigma, q);
            printf("%-9s %5.2f %8.4f %8.2f %8.4f | %9.4f %12.4f %16.4f\n",
                   bptt_activation_name(acts[a]), q->radius, q->norm2,
                   max_df[a], q->mean_df, q->rate, rhos[r] * max_df[a],
                   q->norm2 * max_df[a]);
        }
    write_data(dir, res);
    write_script(dir, input_sigma, res);
    return draw ? plot(dir) : 0;
}
