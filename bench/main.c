/*
 * main.c — bptt-bench: the command line, the run over the grid, and the
 * reports.  Times Network A's forward and backward for every algorithm of
 * the library, after checking each against the naive form, beside the
 * machine's GEMM and GEMV limits and each algorithm's BLAS floor.
 *
 * Exit status: 0; 1 if an algorithm was refused (its gradient disagreed
 * with naive's or a call failed) or a case or an output file failed; 2 for
 * a bad command line.
 *
 * --test-corrupt ALGO, left out of the usage on purpose, is the test suite's
 * hook: it perturbs ALGO's dL/dW before the check, to prove that a wrong
 * gradient is refused.
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cases.h"
#include "env.h"

enum {
    DEFAULT_BUDGET_MS = 200,
    QUICK_BUDGET_MS = 40,
    GEMM_N = 1024,           /* a GEMM large enough to run at peak */
    GEMV_ROWS = 512,         /* W of the largest reference shape */
    GEMV_COLS = 1024,
    LIMIT_MIN_BUDGET_MS = 100, /* at the start: enough calls for a best */
    LIMIT_CASE_BUDGET_MS = 50, /* again before each case */
};

static void usage(FILE *f)
{
    fputs("usage: bptt-bench [options]\n"
          "Check every algorithm's gradient of Network A against the naive "
          "form, then time\nforward and backward, beside this machine's GEMM "
          "and GEMV limits and each\nalgorithm's BLAS floor.\n\n"
          "  --shape din,dout,T,B  a case (repeatable; replaces the default "
          "grid)\n"
          "  --quick               a reduced grid and a 40 ms budget (under a "
          "minute)\n"
          "  --algo NAME           time only these algorithms (repeatable); "
          "naive, the\n"
          "                        reference and baseline, always runs.  "
          "NAME is one of:\n                       ", f);
    for (bptt_algo a = BPTT_ALGO_NAIVE; a < BPTT_NALGO; a++)
        fprintf(f, " %s", bptt_algo_name(a));
    fputs("\n"
          "  --precision P         double, float or all (default all); the "
          "check's\n"
          "                        tolerance is 1e-10 in double, 1e-4 in "
          "float\n"
          "  --budget-ms MS        time per case, algorithm and pass (default "
          "200)\n"
          "  --threads N           BLAS threads (default 1)\n"
          "  --csv FILE            one row per case, algorithm and pass\n"
          "  --json FILE           the same records, the environment and the "
          "limits\n"
          "  --list-algos          print the algorithms' names and exit\n"
          "  -h, --help            this text\n"
          "Exit status: 0; 1 if an algorithm was refused or a case failed; 2 "
          "for a bad\ncommand line.\n", f);
}

static int bad(const char *fmt, const char *arg)
{
    fputs("bptt-bench: ", stderr);
    fprintf(stderr, fmt, arg);
    fputs("\n", stderr);
    usage(stderr);
    return 2;
}

/* A whole decimal number in 1..max, or 0. */
static size_t parse_size(const char *s, const char **end, size_t max)
{
    if (*s < '0' || *s > '9')
        return 0;
    char *e;
    errno = 0;
    unsigned long long v = strtoull(s, &e, 10);
    *end = e;
    return errno || v > max ? 0 : (size_t)v;
}

static int parse_shape(const char *arg, bench_shape *s)
{
    size_t v[4];
    const char *p = arg;
    for (int i = 0; i < 4; i++) {
        const char *e;
        v[i] = parse_size(p, &e, (size_t)1 << 31);
        if (v[i] == 0 || *e != (i < 3 ? ',' : '\0'))
            return -1;
        p = e + 1;
    }
    *s = (bench_shape){v[0], v[1], v[2], v[3]};
    return 0;
}

static int algo_by_name(const char *name)
{
    for (bptt_algo a = BPTT_ALGO_NAIVE; a < BPTT_NALGO; a++)
        if (strcmp(bptt_algo_name(a), name) == 0)
            return (int)a;
    return -1;
}

typedef struct options {
    bench_shape *shapes;
    size_t nshapes;
    int quick, any_algo, list;
    int algo_on[BPTT_NALGO];
    const bench_prec *prec[2];
    size_t nprec;
    double budget_ms;
    int threads;
    const char *csv, *json, *corrupt;
} options;

/* Parse argv into o; 0, 1 for --help/--list-algos done, or 2. */
static int parse(int argc, char **argv, options *o)
{
    o->prec[0] = &bench_prec_double;
    o->prec[1] = &bench_prec_float;
    o->nprec = 2;
    o->threads = 1;
    o->budget_ms = -1;
    for (int i = 1; i < argc; i++) {
        const char *opt = argv[i], *val = NULL;
        char name[32];
        /* --name=value or --name value */
        const char *eq = strchr(opt, '=');
        size_t len = eq ? (size_t)(eq - opt) : strlen(opt);
        if (len >= sizeof name)
            return bad("unknown option %s", opt);
        memcpy(name, opt, len);
        name[len] = '\0';
        const int takes = !strcmp(name, "--shape") || !strcmp(name, "--algo") ||
                          !strcmp(name, "--precision") ||
                          !strcmp(name, "--budget-ms") ||
                          !strcmp(name, "--threads") || !strcmp(name, "--csv") ||
                          !strcmp(name, "--json") ||
                          !strcmp(name, "--test-corrupt");
        if (takes) {
            val = eq ? eq + 1 : (i + 1 < argc ? argv[++i] : NULL);
            if (!val)
                return bad("%s needs a value", name);
        } else if (eq) {
            return bad("%s takes no value", name);
        }
        if (!strcmp(name, "-h") || !strcmp(name, "--help")) {
            usage(stdout);
            return 1;
        } else if (!strcmp(name, "--list-algos")) {
            o->list = 1;
        } else if (!strcmp(name, "--quick")) {
            o->quick = 1;
        } else if (!strcmp(name, "--shape")) {
            bench_shape *s = realloc(o->shapes, (o->nshapes + 1) * sizeof *s);
            if (!s)
                return bad("%s: out of memory", val);
            o->shapes = s;
            if (parse_shape(val, &o->shapes[o->nshapes++]))
                return bad("--shape %s: want din,dout,T,B, each a whole "
                           "number > 0", val);
        } else if (!strcmp(name, "--algo")) {
            const int a = algo_by_name(val);
            if (a < 0)
                return bad("--algo %s: no such algorithm", val);
            o->algo_on[a] = 1;
            o->any_algo = 1;
        } else if (!strcmp(name, "--precision")) {
            if (!strcmp(val, "double") || !strcmp(val, "float")) {
                o->prec[0] = val[0] == 'd' ? &bench_prec_double
                                           : &bench_prec_float;
                o->nprec = 1;
            } else if (!strcmp(val, "all")) {
                o->nprec = 2;
            } else {
                return bad("--precision %s: want double, float or all", val);
            }
        } else if (!strcmp(name, "--budget-ms")) {
            char *e;
            errno = 0;
            o->budget_ms = strtod(val, &e);
            if (errno || *e || e == val || !(o->budget_ms > 0) ||
                o->budget_ms > 1e7)
                return bad("--budget-ms %s: want milliseconds > 0", val);
        } else if (!strcmp(name, "--threads")) {
            const char *e;
            o->threads = (int)parse_size(val, &e, 1024);
            if (o->threads == 0 || *e)
                return bad("--threads %s: want a whole number 1..1024", val);
        } else if (!strcmp(name, "--csv")) {
            o->csv = val;
        } else if (!strcmp(name, "--json")) {
            o->json = val;
        } else if (!strcmp(name, "--test-corrupt")) {
            if (algo_by_name(val) < 0)
                return bad("--test-corrupt %s: no such algorithm", val);
            o->corrupt = val;
        } else {
            return bad("unknown argument %s", opt);
        }
    }
    if (!o->any_algo)
        for (int a = 0; a < BPTT_NALGO; a++)
            o->algo_on[a] = 1;
    if (o->budget_ms < 0)
        o->budget_ms = o->quick ? QUICK_BUDGET_MS : DEFAULT_BUDGET_MS;
    return 0;
}

/* Measure the limits of p over budget_ms into lim, keeping the best seen
 * in the run: other load on the machine only ever lowers a measurement,
 * and a limit is what the machine can do.  Measured at the start and again
 * before each case, so that a busy moment at the start does not make a
 * case look faster than the machine. */
static void measure_limits(const bench_prec *p, double budget_ms,
                           bench_limits *lim)
{
    const double gemm = p->gemm_gflops(lim->gemm_n, budget_ms);
    const double gbs = p->gemv_gbs(lim->gemv_rows, lim->gemv_cols, budget_ms);
    if (gemm > lim->gemm_gflops)
        lim->gemm_gflops = gemm;
    if (gbs > lim->gemv_gbs) {
        lim->gemv_gbs = gbs;
        /* a GEMV does 2 flops per matrix element read */
        lim->gemv_gflops = gbs * 2 / (double)p->elem;
    }
}

/* argv joined by spaces, for the record (malloc'd). */
static char *command_line(int argc, char **argv)
{
    size_t len = 1;
    for (int i = 0; i < argc; i++)
        len += strlen(argv[i]) + 1;
    char *s = malloc(len), *p = s;
    if (!s)
        return NULL;
    for (int i = 0; i < argc; i++)
        p += sprintf(p, "%s%s", i ? " " : "", argv[i]);
    *p = '\0';
    return s;
}

typedef int (*writer)(FILE *f, const void *ctx);

/* Write a file through w; 0, or -1 with the reason on stderr. */
static int write_file(const char *path, writer w, const void *ctx)
{
    FILE *f = fopen(path, "w");
    if (!f) {
        fprintf(stderr, "bptt-bench: %s: %s\n", path, strerror(errno));
        return -1;
    }
    int rc = w(f, ctx);
    if (fclose(f) != 0 || rc != 0) {
        fprintf(stderr, "bptt-bench: writing %s failed\n", path);
        return -1;
    }
    return 0;
}

typedef struct run {
    const bench_env *env;
    const bench_limits *lim;
    size_t nlim;
    const bench_results *res;
} run;

static int csv_writer(FILE *f, const void *ctx)
{
    const run *r = ctx;
    return bench_csv_write(f, r->res->rec, r->res->n);
}

static int json_writer(FILE *f, const void *ctx)
{
    const run *r = ctx;
    return bench_json_write(f, r->env, r->lim, r->nlim, r->res->rec,
                            r->res->n, r->res->ref, r->res->nref);
}

int main(int argc, char **argv)
{
    options o = {0};
    int rc = parse(argc, argv, &o);
    if (rc || o.list) {
        if (o.list)
            for (bptt_algo a = BPTT_ALGO_NAIVE; a < BPTT_NALGO; a++)
                printf("%s\n", bptt_algo_name(a));
        free(o.shapes);
        return rc == 1 ? 0 : rc;
    }
    if (bench_set_threads(o.threads) != 0 && o.threads != 1)
        fprintf(stderr, "bptt-bench: this BLAS cannot set its threads; "
                        "--threads ignored\n");

    size_t nshapes = o.nshapes;
    const bench_shape *shapes = o.shapes;
    if (!shapes)
        shapes = o.quick ? bench_quick_grid(&nshapes)
                         : bench_default_grid(&nshapes);

    char *command = command_line(argc, argv);
    bench_env env;
    bench_env_collect(&env, command, o.budget_ms);
    const int progress = isatty(STDERR_FILENO);

    bench_limits lim[2];
    for (size_t k = 0; k < o.nprec; k++) {
        if (progress)
            fprintf(stderr, "\r\033[Kmeasuring the %s limits", o.prec[k]->name);
        lim[k] = (bench_limits){o.prec[k]->name, GEMM_N, 0, GEMV_ROWS,
                                GEMV_COLS, 0, 0};
        measure_limits(o.prec[k], o.budget_ms > LIMIT_MIN_BUDGET_MS
                                      ? o.budget_ms : LIMIT_MIN_BUDGET_MS,
                       &lim[k]);
    }
    if (progress)
        fputs("\r\033[K", stderr);
    bench_table_env(stdout, &env);
    bench_table_limits(stdout, lim, o.nprec);
    fflush(stdout);

    bench_config cfg = {.budget_ms = o.budget_ms,
                        .corrupt = o.corrupt,
                        .threads = env.blas_threads,
                        .progress = progress,
                        .ncases = nshapes * o.nprec};
    memcpy(cfg.algo_on, o.algo_on, sizeof cfg.algo_on);
    bench_results res = {0};
    int failed = 0;
    for (size_t k = 0; k < o.nprec; k++)
        for (size_t i = 0; i < nshapes; i++) {
            cfg.case_no++;
            const size_t first = res.n;
            measure_limits(o.prec[k], o.budget_ms < LIMIT_CASE_BUDGET_MS
                                          ? o.budget_ms : LIMIT_CASE_BUDGET_MS,
                           &lim[k]);
            if (bench_run_case(&cfg, o.prec[k], &lim[k], shapes[i], &res))
                failed = 1;
            bench_table_case(stdout, res.rec + first, res.n - first);
            fflush(stdout);
        }
    printf("\nThe best limits of the run (each case used the best measured "
           "up to it):\n");
    bench_table_limits(stdout, lim, o.nprec);
    if (res.nref)
        fprintf(stderr, "bptt-bench: %zu algorithm(s) refused; see above\n",
                res.nref);

    const run r = {&env, lim, o.nprec, &res};
    if (o.csv && write_file(o.csv, csv_writer, &r))
        failed = 1;
    if (o.json && write_file(o.json, json_writer, &r))
        failed = 1;
    bench_results_free(&res);
    free(command);
    free(o.shapes);
    return failed;
}
