/*
 * main.c — bptt-bench: the command line, the run over the grid, and the
 * reports.  Times Network A's forward and backward for every algorithm of
 * the library, RTRL and the peers (oneDNN, PyTorch) where present, after
 * checking each against the naive form, beside the machine's limits (the
 * GEMM rate and the read bandwidth of each case's Wy) and each algorithm's
 * BLAS floor.  With --cell lstm|gru the same for a gated cell
 * (gated_case.c): its deferred algorithm and the peers' LSTM / GRU.
 *
 * Exit status: 0; 1 if an algorithm was refused (its gradient disagreed
 * with naive's or a call failed) or a case or an output file failed; 2 for
 * a bad command line.
 *
 * --test-corrupt NAME, left out of the usage on purpose, is the test suite's
 * hook: it perturbs the dL/dW of NAME (a bptt or RTRL algorithm, or a peer)
 * before the check, to prove that a wrong gradient is refused.
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bandwidth.h"
#include "cases.h"
#include "env.h"
#include "peer.h"

enum {
    DEFAULT_BUDGET_MS = 200,
    QUICK_BUDGET_MS = 40,
    LIMIT_MIN_BUDGET_MS = 100, /* at the start: enough calls for a best */
    LIMIT_CASE_BUDGET_MS = 50, /* again before each case */
    /* RTRL costs ~n²(m+1)/(2m+n) times BPTT per step: by default only up
     * to these dout (gemm, naive; naive runs ~10x slower than gemm, some
     * 35 s a sequence of T = 100 at dout = 128).  --quick: both at 32. */
    RTRL_GEMM_MAX_DOUT = 128,
    RTRL_NAIVE_MAX_DOUT = 64,
    RTRL_QUICK_MAX_DOUT = 32,
    /* gated cells: the naive reference over this many steps by default */
    DEFAULT_CHECK_STEPS = 8,
};

static void usage(FILE *f)
{
    fputs("usage: bptt-bench [options]\n"
          "Check every algorithm's gradient of Network A against the naive "
          "form, then time\nforward and backward, beside this machine's GEMM "
          "and read-bandwidth limits and\neach algorithm's BLAS floor.\n\n"
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
    for (size_t i = 0; i < BENCH_NRTRL; i++)
        fprintf(f, " %s", bench_rtrl_name(i));
    fputs("\n"
          "  --precision P         double, float or all (default all); the "
          "check's\n"
          "                        tolerance is 1e-10 in double, 1e-4 in "
          "float\n"
          "  --activations A       tanh (every unit), mixed (identity, tanh, "
          "logistic,\n"
          "                        relu, softplus in turn) or all (each case "
          "both ways);\n"
          "                        default: tanh, and the full grid adds "
          "one mixed case\n"
          "  --peers LIST          none, all (default: those available) or "
          "a comma-\n"
          "                        separated list of onednn, torch: time "
          "them beside bptt\n"
          "  --rtrl, --no-rtrl     RTRL on every shape / on none (default: "
          "rtrl-gemm where\n"
          "                        dout <= 128, rtrl-naive where dout <= 64; "
          "32 with --quick)\n"
          "  --budget-ms MS        time per case, algorithm and pass (default "
          "200)\n"
          "  --threads N           BLAS threads, and the peers' (default 1); "
          "for one thread\n"
          "                        OPENBLAS_NUM_THREADS=1 in the environment "
          "is the surest\n"
          "  --csv FILE            one row per case, algorithm and pass\n"
          "  --json FILE           the same records, the environment and the "
          "limits\n"
          "  --cell C              vanilla (Network A, default), lstm or gru: "
          "a gated cell\n"
          "                        (--shape din,n,T,B; default: the five "
          "reference shapes),\n"
          "                        its deferred algorithm checked against "
          "naive, then timed,\n"
          "                        and the peers' LSTM / GRU (--algo, "
          "--activations and\n"
          "                        RTRL do not apply)\n"
          "  --check-steps K       gated cells: check over the first K steps "
          "(default 8;\n"
          "                        the naive form is slow at large shapes)\n"
          "  --list-algos          print the algorithms' names and exit\n"
          "  --list-peers          print the peers available here and exit\n"
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
    *s = (bench_shape){v[0], v[1], v[2], v[3], 0, BPTT_CELL_VANILLA};
    return 0;
}

static int algo_by_name(const char *name)
{
    for (bptt_algo a = BPTT_ALGO_NAIVE; a < BPTT_NALGO; a++)
        if (strcmp(bptt_algo_name(a), name) == 0)
            return (int)a;
    return -1;
}

static int rtrl_by_name(const char *name)
{
    for (size_t i = 0; i < BENCH_NRTRL; i++)
        if (strcmp(bench_rtrl_name(i), name) == 0)
            return (int)i;
    return -1;
}

static int peer_by_name(const char *name)
{
    const char *p;
    for (size_t i = 0; (p = bptt_peer_name(i)); i++)
        if (strcmp(p, name) == 0)
            return (int)i;
    return -1;
}

enum { ACT_DEFAULT, ACT_TANH, ACT_MIXED, ACT_ALL };

typedef struct options {
    bench_shape *shapes;
    size_t nshapes;
    int quick, any_algo, list, list_peers;
    int algo_on[BPTT_NALGO];
    int rtrl_on[BENCH_NRTRL];
    int rtrl;                 /* 1 --rtrl, -1 --no-rtrl, 0 by dout */
    int activations;          /* ACT_* */
    int peers_named;          /* --peers given */
    int peer_on[8];           /* by bptt_peer_name index */
    const bench_prec *prec[2];
    size_t nprec;
    double budget_ms;
    int threads;
    bptt_cell cell;
    size_t check_steps;
    const char *csv, *json, *corrupt;
} options;

/* --peers none|all|NAME[,NAME...] into o->peer_on; 0 or -1. */
static int parse_peers(const char *val, options *o)
{
    memset(o->peer_on, 0, sizeof o->peer_on);
    o->peers_named = 1;
    if (!strcmp(val, "none"))
        return 0;
    if (!strcmp(val, "all")) {
        o->peers_named = 0; /* all available, no complaint about others */
        for (size_t i = 0; bptt_peer_name(i); i++)
            o->peer_on[i] = 1;
        return 0;
    }
    for (const char *p = val;;) {
        const size_t len = strcspn(p, ",");
        char name[32];
        if (len == 0 || len >= sizeof name)
            return -1;
        memcpy(name, p, len);
        name[len] = '\0';
        const int k = peer_by_name(name);
        if (k < 0)
            return -1;
        o->peer_on[k] = 1;
        if (!p[len])
            return 0;
        p += len + 1;
    }
}

/* Parse argv into o; 0, 1 for --help/--list-algos done, or 2. */
static int parse(int argc, char **argv, options *o)
{
    o->prec[0] = &bench_prec_double;
    o->prec[1] = &bench_prec_float;
    o->nprec = 2;
    o->threads = 1;
    o->budget_ms = -1;
    o->check_steps = DEFAULT_CHECK_STEPS;
    for (size_t i = 0; bptt_peer_name(i); i++)
        o->peer_on[i] = 1;
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
                          !strcmp(name, "--test-corrupt") ||
                          !strcmp(name, "--peers") ||
                          !strcmp(name, "--activations") ||
                          !strcmp(name, "--cell") ||
                          !strcmp(name, "--check-steps");
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
        } else if (!strcmp(name, "--list-peers")) {
            o->list_peers = 1;
        } else if (!strcmp(name, "--rtrl") || !strcmp(name, "--no-rtrl")) {
            o->rtrl = name[2] == 'r' ? 1 : -1;
        } else if (!strcmp(name, "--peers")) {
            if (parse_peers(val, o))
                return bad("--peers %s: want none, all, or a comma-separated "
                           "list of onednn, torch", val);
        } else if (!strcmp(name, "--activations")) {
            if (!strcmp(val, "tanh"))
                o->activations = ACT_TANH;
            else if (!strcmp(val, "mixed"))
                o->activations = ACT_MIXED;
            else if (!strcmp(val, "all"))
                o->activations = ACT_ALL;
            else
                return bad("--activations %s: want tanh, mixed or all", val);
        } else if (!strcmp(name, "--cell")) {
            if (!strcmp(val, "vanilla"))
                o->cell = BPTT_CELL_VANILLA;
            else if (!strcmp(val, "lstm"))
                o->cell = BPTT_CELL_LSTM;
            else if (!strcmp(val, "gru"))
                o->cell = BPTT_CELL_GRU;
            else
                return bad("--cell %s: want vanilla, lstm or gru", val);
        } else if (!strcmp(name, "--check-steps")) {
            const char *e;
            o->check_steps = parse_size(val, &e, (size_t)1 << 31);
            if (o->check_steps == 0 || *e)
                return bad("--check-steps %s: want a whole number > 0", val);
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
            const int a = algo_by_name(val), r = rtrl_by_name(val);
            if (a < 0 && r < 0)
                return bad("--algo %s: no such algorithm", val);
            if (a >= 0)
                o->algo_on[a] = 1;
            else
                o->rtrl_on[r] = 1;
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
            if (algo_by_name(val) < 0 && rtrl_by_name(val) < 0
                && peer_by_name(val) < 0)
                return bad("--test-corrupt %s: no such algorithm or peer",
                           val);
            o->corrupt = val;
        } else {
            return bad("unknown argument %s", opt);
        }
    }
    if (!o->any_algo) {
        for (int a = 0; a < BPTT_NALGO; a++)
            o->algo_on[a] = 1;
        for (int r = 0; r < BENCH_NRTRL; r++)
            o->rtrl_on[r] = 1;
    }
    if (o->rtrl < 0)
        memset(o->rtrl_on, 0, sizeof o->rtrl_on);
    if (o->rtrl > 0 && !o->rtrl_on[0] && !o->rtrl_on[1])
        for (int r = 0; r < BENCH_NRTRL; r++)
            o->rtrl_on[r] = 1;
    if (o->budget_ms < 0)
        o->budget_ms = o->quick ? QUICK_BUDGET_MS : DEFAULT_BUDGET_MS;
    return 0;
}

/* Measure the GEMM limit of p over budget_ms into lim, and the read limit
 * over read_bytes (a case's Wy; 0: none), keeping the best seen in the
 * run: other load on the machine only ever lowers a measurement, and a
 * limit is what the machine can do.  Measured at the start and again
 * before each case, so that a busy moment at the start does not make a
 * case look faster than the machine. */
static void measure_limits(const bench_prec *p, double budget_ms,
                           size_t read_bytes, bench_limits *lim)
{
    /* GEMM's peak is the best over sizes, not at one size: on a shared or
     * small-cache machine a 1024^3 GEMM ran at half the rate of one that
     * fits in L2 (24 against 52 GFLOP/s in double, 1 thread), and a
     * limit below what a case's smaller GEMMs reach is no limit. */
    static const size_t sizes[] = {64, 128, 256, 512, 1024};
    const size_t nsizes = sizeof sizes / sizeof sizes[0];
    for (size_t i = 0; i < nsizes; i++) {
        const double gemm = p->gemm_gflops(sizes[i], budget_ms / nsizes);
        if (gemm > lim->gemm_gflops) {
            lim->gemm_gflops = gemm;
            lim->gemm_n = sizes[i];
        }
    }
    if (read_bytes)
        bench_read_limit_keep(lim, read_bytes,
                              bench_read_gbs(read_bytes, budget_ms));
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
                            r->res->n, r->res->ref, r->res->nref,
                            r->res->note, r->res->nnote);
}

/* The cases: the shapes given (tanh units) or the grid, with their units
 * as --activations says (then without duplicates); malloc'd, count in *n. */
static bench_shape *make_cases(const options *o, size_t *n)
{
    size_t ng = o->nshapes;
    const bench_shape *given = o->shapes;
    if (!given)
        given = o->quick ? bench_quick_grid(&ng) : bench_default_grid(&ng);
    if (o->cell != BPTT_CELL_VANILLA) {
        /* a gated cell: its units are its gates; the default grid's
         * reference shapes only (its first five, docs/benchmark.md) */
        if (!o->nshapes && !o->quick && ng > 5)
            ng = 5;
        bench_shape *c = malloc((ng ? ng : 1) * sizeof *c);
        for (size_t i = 0; c && i < ng; i++) {
            c[i] = given[i];
            c[i].mixed = 0;
            c[i].cell = o->cell;
        }
        *n = ng;
        return c;
    }
    bench_shape *c = malloc((2 * ng + 1) * sizeof *c);
    if (!c)
        return NULL;
    *n = 0;
    for (size_t i = 0; i < ng; i++)
        for (int mixed = 0; mixed <= 1; mixed++) {
            bench_shape s = given[i];
            if (o->activations == ACT_DEFAULT) {
                if (mixed)
                    continue; /* as listed */
            } else if ((o->activations == ACT_TANH && mixed)
                       || (o->activations == ACT_MIXED && !mixed)) {
                continue;
            } else {
                s.mixed = mixed;
            }
            int dup = 0;
            for (size_t j = 0; j < *n && !dup; j++)
                dup = !memcmp(&c[j], &s, sizeof s);
            if (!dup)
                c[(*n)++] = s;
        }
    return c;
}

/* The peers to run: those asked for that are available here; env->peers
 * names them (and those asked for by name that are not). */
static void choose_peers(const options *o, bench_config *cfg, bench_env *env)
{
    size_t k = 0, len = 0;
    const char *name;
    env->peers[0] = '\0';
    for (size_t i = 0; (name = bptt_peer_name(i)); i++) {
        if (!o->peer_on[i])
            continue;
        const int here = bptt_peer_available(name);
        if (here && k + 1 < sizeof cfg->peers / sizeof cfg->peers[0])
            cfg->peers[k++] = name;
        else if (!here && o->peers_named)
            fprintf(stderr, "bptt-bench: peer %s is not available here, "
                            "skipped: %s\n", name, bptt_peer_why(name));
        if (here || o->peers_named)
            len += (size_t)snprintf(env->peers + len, sizeof env->peers - len,
                                    "%s%s%s", len ? ", " : "", name,
                                    here ? "" : " (not available)");
        if (len >= sizeof env->peers)
            len = sizeof env->peers - 1;
    }
    cfg->peers[k] = NULL;
}

/* After the run: the peers with the versions they reported. */
static void peer_versions(const bench_config *cfg, bench_env *env)
{
    size_t len = 0;
    env->peers[0] = '\0';
    for (size_t i = 0; cfg->peers[i]; i++) {
        const char *v = bench_peer_version(cfg->peers[i]);
        len += (size_t)snprintf(env->peers + len, sizeof env->peers - len,
                                "%s%s%s%s%s", len ? ", " : "", cfg->peers[i],
                                v[0] ? " (" : " (not run)", v, v[0] ? ")" : "");
        if (len >= sizeof env->peers)
            len = sizeof env->peers - 1;
    }
    /* Fairness: each peer's child gets the thread count bptt runs with
     * (OMP_NUM_THREADS and the runner's own setting, peer.h). */
    if (len)
        snprintf(env->peers + len, sizeof env->peers - len,
                 "; each on %d thread(s), as bptt", cfg->threads);
}

int main(int argc, char **argv)
{
    options o = {0};
    int rc = parse(argc, argv, &o);
    if (rc || o.list || o.list_peers) {
        if (!rc && o.list) {
            for (bptt_algo a = BPTT_ALGO_NAIVE; a < BPTT_NALGO; a++)
                printf("%s\n", bptt_algo_name(a));
            for (size_t i = 0; i < BENCH_NRTRL; i++)
                printf("%s\n", bench_rtrl_name(i));
        }
        /* The peers here on stdout, one a line; why any other is not, on
         * stderr. */
        const char *name;
        for (size_t i = 0; !rc && o.list_peers && (name = bptt_peer_name(i));
             i++)
            if (bptt_peer_available(name))
                printf("%s\n", name);
            else
                fprintf(stderr, "bptt-bench: peer %s is not available: %s\n",
                        name, bptt_peer_why(name));
        free(o.shapes);
        return rc == 1 ? 0 : rc;
    }
    if (bench_set_threads(o.threads) != 0 && o.threads != 1)
        fprintf(stderr, "bptt-bench: this BLAS cannot set its threads; "
                        "--threads ignored\n");

    size_t nshapes = 0;
    bench_shape *shapes = make_cases(&o, &nshapes);
    if (!shapes) {
        fprintf(stderr, "bptt-bench: out of memory\n");
        free(o.shapes);
        return 1;
    }

    char *command = command_line(argc, argv);
    bench_env env;
    bench_env_collect(&env, command, o.budget_ms);
    const int progress = isatty(STDERR_FILENO);
    bench_config cfg = {.budget_ms = o.budget_ms,
                        .corrupt = o.corrupt,
                        .threads = bench_threads(),
                        .progress = progress,
                        .check_steps = o.check_steps,
                        .rtrl_all_shapes = o.rtrl > 0,
                        .ncases = nshapes * o.nprec};
    memcpy(cfg.algo_on, o.algo_on, sizeof cfg.algo_on);
    memcpy(cfg.rtrl_on, o.rtrl_on, sizeof cfg.rtrl_on);
    cfg.rtrl_max_dout[BENCH_RTRL_NAIVE] =
        o.quick ? RTRL_QUICK_MAX_DOUT : RTRL_NAIVE_MAX_DOUT;
    cfg.rtrl_max_dout[BENCH_RTRL_GEMM] =
        o.quick ? RTRL_QUICK_MAX_DOUT : RTRL_GEMM_MAX_DOUT;
    choose_peers(&o, &cfg, &env);
    /* The BLAS report first, before anything is measured: a weaker BLAS
     * makes every BLAS-bound figure below unrepresentative. */
    bench_table_env(stdout, &env);
    fflush(stdout);

    bench_limits lim[2];
    for (size_t k = 0; k < o.nprec; k++) {
        if (progress)
            fprintf(stderr, "\r\033[Kmeasuring the %s limits", o.prec[k]->name);
        lim[k] = (bench_limits){.precision = o.prec[k]->name};
        measure_limits(o.prec[k], o.budget_ms > LIMIT_MIN_BUDGET_MS
                                      ? o.budget_ms : LIMIT_MIN_BUDGET_MS,
                       0, &lim[k]);
    }
    if (progress)
        fputs("\r\033[K", stderr);
    bench_table_limits(stdout, lim, o.nprec);
    bench_table_limits_legend(stdout);
    fflush(stdout);

    bench_results res = {0};
    int failed = 0;
    for (size_t k = 0; k < o.nprec; k++)
        for (size_t i = 0; i < nshapes; i++) {
            cfg.case_no++;
            const size_t first = res.n, first_note = res.nnote;
            /* the read limit of the recurrent weights: Wy, or a gated
             * cell's U of G·n x n */
            measure_limits(o.prec[k], o.budget_ms < LIMIT_CASE_BUDGET_MS
                                          ? o.budget_ms : LIMIT_CASE_BUDGET_MS,
                           bench_shape_gates(shapes[i]) * shapes[i].dout
                               * shapes[i].dout * o.prec[k]->elem,
                           &lim[k]);
            if ((o.cell == BPTT_CELL_VANILLA
                     ? bench_run_case(&cfg, o.prec[k], &lim[k], shapes[i],
                                      &res)
                     : bench_run_gated_case(&cfg, o.prec[k], &lim[k],
                                            shapes[i], &res)) != 0)
                failed = 1;
            bench_table_case(stdout, res.rec + first, res.n - first);
            bench_table_ratios(stdout, res.rec, first, res.n);
            for (size_t j = first_note; j < res.nnote; j++)
                printf("  note (%s): %s\n", res.note[j].algo,
                       res.note[j].reason);
            fflush(stdout);
        }
    printf("\nThe best limits of the run (each case used the best measured "
           "up to it):\n");
    bench_table_limits(stdout, lim, o.nprec);
    peer_versions(&cfg, &env);
    if (env.peers[0])
        printf("peers     %s\n", env.peers);
    bench_table_warning(stdout, &env.blas);
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
    free(shapes);
    free(o.shapes);
    return failed;
}
