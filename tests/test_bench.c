/*
 * The benchmark harness's own arithmetic and writers: quantiles against
 * values worked by hand (R's type 7), flop counts against DESIGN.md §3
 * multiplied out by hand, CSV read back field by field, JSON escaping and
 * a record checked to the byte, the whole JSON document run through a
 * small validating parser, and the table's shape; the BLAS floors compute
 * the products they stand for (against plain loops).
 */
#include <check.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "prec.h"
#include "problem.h" /* double: the floors' operands, for their test */
#include "report.h"
#include "stats.h"

/* ------------------------------------------------------------------------ */
/* Statistics                                                                */
/* ------------------------------------------------------------------------ */

START_TEST(quantiles_odd_count)
{
    const double x[] = {1, 2, 3, 4, 5};
    ck_assert_double_eq(bench_quantile(x, 5, 0.5), 3);
    ck_assert_double_eq(bench_quantile(x, 5, 0.25), 2);
    ck_assert_double_eq(bench_quantile(x, 5, 0.75), 4);
    ck_assert_double_eq(bench_quantile(x, 5, 0), 1);
    ck_assert_double_eq(bench_quantile(x, 5, 1), 5);
}
END_TEST

START_TEST(quantiles_interpolate)
{
    /* n = 4: h = 3p; q1 at h = 0.75 is 1 + 0.75·(2 − 1), the median at
     * h = 1.5 is halfway between 2 and 4, q3 at h = 2.25 is 4 + 0.25·4. */
    const double x[] = {1, 2, 4, 8};
    ck_assert_double_eq_tol(bench_quantile(x, 4, 0.25), 1.75, 1e-15);
    ck_assert_double_eq_tol(bench_quantile(x, 4, 0.5), 3.0, 1e-15);
    ck_assert_double_eq_tol(bench_quantile(x, 4, 0.75), 5.0, 1e-15);
    ck_assert(isnan(bench_quantile(x, 0, 0.5)));
}
END_TEST

START_TEST(summary_sorts_and_summarises)
{
    double x[] = {9, 1, 7, 3, 5, 11};
    const bench_summary s = bench_summarize(x, 6);
    ck_assert_uint_eq(s.n, 6);
    ck_assert_double_eq(s.min, 1);
    ck_assert_double_eq(s.max, 11);
    ck_assert_double_eq_tol(s.median, 6, 1e-15);  /* (5 + 7) / 2 */
    ck_assert_double_eq_tol(s.q1, 3.5, 1e-15);    /* h = 1.25: 3 + 0.25·2 */
    ck_assert_double_eq_tol(s.q3, 8.5, 1e-15);    /* h = 3.75: 7 + 0.75·2 */
    for (int i = 1; i < 6; i++)
        ck_assert(x[i - 1] <= x[i]);
}
END_TEST

START_TEST(summary_of_one_and_none)
{
    double one[] = {0.25};
    const bench_summary s = bench_summarize(one, 1);
    ck_assert_uint_eq(s.n, 1);
    ck_assert(s.min == 0.25 && s.q1 == 0.25 && s.median == 0.25 &&
              s.q3 == 0.25 && s.max == 0.25);
    const bench_summary e = bench_summarize(one, 0);
    ck_assert_uint_eq(e.n, 0);
    ck_assert(isnan(e.median) && isnan(e.min) && isnan(e.max));
}
END_TEST

START_TEST(flop_counts)
{
    /* (32, 32, 100, 1): n = 32, m = 64.
     * forward  100·2·32·64                         = 409 600
     * backward 100·(2·32·32 + 2·32·64)              = 614 400
     *          + ∂L/∂x 100·2·32·32                  = 819 200 */
    ck_assert_double_eq(bench_flops_forward(32, 32, 100, 1), 409600);
    ck_assert_double_eq(bench_flops_backward(32, 32, 100, 1, 0), 614400);
    ck_assert_double_eq(bench_flops_backward(32, 32, 100, 1, 1), 819200);
    /* (3, 5, 7, 2): n = 5, m = 8.
     * forward  7·2·2·5·8                            = 1 120
     * backward 7·(2·2·5·5 + 2·2·5·8 + 2·2·5·3)       = 7·320 = 2 240 */
    ck_assert_double_eq(bench_flops_forward(3, 5, 7, 2), 1120);
    ck_assert_double_eq(bench_flops_backward(3, 5, 7, 2, 0), 1820);
    ck_assert_double_eq(bench_flops_backward(3, 5, 7, 2, 1), 2240);
    /* (512, 512, 50, 64): 50·2·64·512·1024 and 50·2·64·512·(512+1024+512),
     * beyond 2^32 — the counts must not wrap. */
    ck_assert_double_eq(bench_flops_forward(512, 512, 50, 64), 3355443200.0);
    ck_assert_double_eq(bench_flops_backward(512, 512, 50, 64, 1),
                        6710886400.0);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* Writers                                                                   */
/* ------------------------------------------------------------------------ */

static bench_record sample_record(void)
{
    return (bench_record){
        .algo = "gemv-ger", .precision = "double", .pass = "backward",
        .din = 3, .dout = 5, .T = 7, .B = 2, .threads = 1,
        .time = {4, 1.0, 1.25, 1.5, 2.0, 4.0},
        .flops = 2240, .gflops = 0.5, .speedup = 12.5, .is_default = 1,
        .limit = "gemm", .limit_gflops = 40, .fraction = 0.0125,
        .floor_ms = NAN, .floor_ratio = NAN};
}

/* Everything written to f, from the start (malloc'd). */
static char *slurp(FILE *f)
{
    long n = ftell(f);
    char *s = malloc((size_t)n + 1);
    rewind(f);
    ck_assert_uint_eq(fread(s, 1, (size_t)n, f), (size_t)n);
    s[n] = '\0';
    fclose(f);
    return s;
}

/* The fields of one CSV line without quotes (split at every comma). */
static int split(char *line, char **field, int max)
{
    int n = 0;
    for (char *p = line;; p++) {
        field[n++] = p;
        p += strcspn(p, ",");
        if (*p != ',' || n == max)
            break;
        *p = '\0';
    }
    return n;
}

START_TEST(csv_header_and_row)
{
    const bench_record r = sample_record();
    FILE *f = tmpfile();
    ck_assert_int_eq(bench_csv_write(f, &r, 1), 0);
    char *text = slurp(f);
    char *nl = strchr(text, '\n');
    ck_assert_ptr_nonnull(nl);
    *nl = '\0';
    /* The required columns, first and in order. */
    ck_assert_str_eq(text, bench_csv_columns);
    const char required[] = "algo,precision,din,dout,T,B,threads,pass,"
                            "median_ms,min_ms,max_ms,";
    ck_assert(strncmp(text, required, strlen(required)) == 0);
    ck_assert_ptr_nonnull(strstr(text, ",gflops,speedup_vs_naive,"));
    char *head[64], *row[64];
    const int nh = split(text, head, 64);
    char *line = nl + 1;
    char *end = strchr(line, '\n');
    ck_assert_ptr_nonnull(end);
    ck_assert_str_eq(end, "\n"); /* exactly one row */
    *end = '\0';
    ck_assert_int_eq(split(line, row, 64), nh);
    const char *want[][2] = {
        {"algo", "gemv-ger"}, {"precision", "double"}, {"din", "3"},
        {"dout", "5"},        {"T", "7"},              {"B", "2"},
        {"threads", "1"},     {"pass", "backward"},    {"median_ms", "1.5"},
        {"min_ms", "1"},      {"max_ms", "4"},         {"q1_ms", "1.25"},
        {"q3_ms", "2"},       {"reps", "4"},           {"flops", "2240"},
        {"gflops", "0.5"},    {"speedup_vs_naive", "12.5"},
        {"default", "1"},     {"limit", "gemm"},       {"limit_gflops", "40"},
        {"fraction_of_limit", "0.0125"},
        {"floor_ms", ""},     {"ratio_to_floor", ""}, /* NaN: empty */
    };
    ck_assert_int_eq(nh, (int)(sizeof want / sizeof want[0]));
    for (int i = 0; i < nh; i++) {
        ck_assert_str_eq(head[i], want[i][0]);
        ck_assert_msg(strcmp(row[i], want[i][1]) == 0, "%s: '%s', want '%s'",
                      head[i], row[i], want[i][1]);
    }
    free(text);
}
END_TEST

START_TEST(csv_quotes_what_needs_it)
{
    bench_record r = sample_record();
    r.algo = "a,\"b\"";
    FILE *f = tmpfile();
    ck_assert_int_eq(bench_csv_write(f, &r, 1), 0);
    char *text = slurp(f);
    const char *row = strchr(text, '\n') + 1;
    const char want[] = "\"a,\"\"b\"\"\",double,";
    ck_assert(strncmp(row, want, strlen(want)) == 0);
    free(text);
}
END_TEST

START_TEST(json_string_escapes)
{
    FILE *f = tmpfile();
    bench_json_string(f, "q\"b\\n\nt\tc\x01z");
    bench_json_string(f, NULL);
    char *text = slurp(f);
    ck_assert_str_eq(text, "\"q\\\"b\\\\n\\nt\\tc\\u0001z\"null");
    free(text);
}
END_TEST

START_TEST(json_record_exact)
{
    const bench_record r = sample_record();
    FILE *f = tmpfile();
    bench_json_record(f, &r);
    char *text = slurp(f);
    ck_assert_str_eq(text,
        "{\"algo\": \"gemv-ger\", \"precision\": \"double\", \"din\": 3, "
        "\"dout\": 5, \"T\": 7, \"B\": 2, \"threads\": 1, \"pass\": "
        "\"backward\", \"median_ms\": 1.5, \"min_ms\": 1, \"max_ms\": 4, "
        "\"q1_ms\": 1.25, \"q3_ms\": 2, \"reps\": 4, \"flops\": 2240, "
        "\"gflops\": 0.5, \"speedup_vs_naive\": 12.5, \"default\": true, "
        "\"limit\": \"gemm\", \"limit_gflops\": 40, \"fraction_of_limit\": "
        "0.0125, \"floor_ms\": null, \"ratio_to_floor\": null}");
    free(text);
}
END_TEST

/* A validating JSON parser, just enough to say whether a document is
 * well formed and to count the members of the top-level arrays. */
typedef struct json {
    const char *p;
    int ok;
} json;

static void ws(json *j)
{
    while (*j->p == ' ' || *j->p == '\n' || *j->p == '\t' || *j->p == '\r')
        j->p++;
}

static void value(json *j);

static void string(json *j)
{
    if (*j->p != '"') {
        j->ok = 0;
        return;
    }
    for (j->p++; *j->p != '"'; j->p++) {
        if (*j->p == '\0' || (unsigned char)*j->p < 0x20) {
            j->ok = 0;
            return;
        }
        if (*j->p == '\\') {
            j->p++;
            if (*j->p == 'u') {
                for (int i = 0; i < 4; i++) {
                    const char c = *++j->p;
                    if (!c || !strchr("0123456789abcdefABCDEF", c)) {
                        j->ok = 0;
                        return;
                    }
                }
            } else if (!*j->p || !strchr("\"\\/bfnrt", *j->p)) {
                j->ok = 0;
                return;
            }
        }
    }
    j->p++;
}

/* Elements of an array or members of an object up to close; returns how
 * many. */
static int items(json *j, char close, int members)
{
    int n = 0;
    j->p++;
    ws(j);
    if (*j->p == close) {
        j->p++;
        return 0;
    }
    while (j->ok) {
        ws(j);
        if (members) {
            string(j);
            ws(j);
            if (*j->p != ':') { /* never step past the terminating NUL */
                j->ok = 0;
                break;
            }
            j->p++;
        }
        value(j);
        n++;
        ws(j);
        if (*j->p == close) {
            j->p++;
            break;
        }
        if (*j->p != ',') {
            j->ok = 0;
            break;
        }
        j->p++;
    }
    return n;
}

static void value(json *j)
{
    ws(j);
    if (*j->p == '{') {
        items(j, '}', 1);
    } else if (*j->p == '[') {
        items(j, ']', 0);
    } else if (*j->p == '"') {
        string(j);
    } else if (!strncmp(j->p, "true", 4) || !strncmp(j->p, "null", 4)) {
        j->p += 4;
    } else if (!strncmp(j->p, "false", 5)) {
        j->p += 5;
    } else {
        char *end;
        strtod(j->p, &end);
        /* JSON has no nan, inf or hex numbers */
        if (end == j->p || strpbrk(j->p, "nN") == j->p ||
            strncmp(j->p, "inf", 3) == 0)
            j->ok = 0;
        j->p = end;
    }
}

/* Members of the array under key in text (the first such key), or -1. */
static int array_length(const char *text, const char *key)
{
    const char *at = strstr(text, key);
    if (!at)
        return -1;
    json j = {strchr(at, '['), 1};
    const int n = items(&j, ']', 0);
    return j.ok ? n : -1;
}

START_TEST(json_document_is_valid)
{
    bench_env env = {.ncpu = 2, .blas_threads = 1, .compiler = "cc 1",
                     .cflags = "-O2 \"quoted\"", .bptt_version = "0.1.0",
                     .command = "bptt-bench --shape 3,5,7,2", .budget_ms = 5};
    strcpy(env.cpu, "CPU with \\ and \"quotes\"");
    strcpy(env.blas_vendor, "OpenBLAS");
    strcpy(env.blas_config, "OpenBLAS 0.3.21\tZen");
    strcpy(env.blas_core, "Zen");
    strcpy(env.date, "2024-01-01T00:00:00Z");
    const bench_limits lim[2] = {{"double", 64, 30, 8, 16, 50, 12.5},
                                 {"float", 64, NAN, 8, 16, 50, 25}};
    bench_record rec[3] = {sample_record(), sample_record(), sample_record()};
    rec[1].pass = "forward";
    rec[2].speedup = INFINITY;
    bench_refusal ref = {"deferred", "float", 3, 5, 7, 2, "dL/dW differs"};
    FILE *f = tmpfile();
    ck_assert_int_eq(bench_json_write(f, &env, lim, 2, rec, 3, &ref, 1), 0);
    char *text = slurp(f);
    json j = {text, 1};
    value(&j);
    ws(&j);
    ck_assert_msg(j.ok && *j.p == '\0', "invalid JSON near: %.40s", j.p);
    ck_assert_int_eq(array_length(text, "\"limits\""), 2);
    ck_assert_int_eq(array_length(text, "\"records\""), 3);
    ck_assert_int_eq(array_length(text, "\"refused\""), 1);
    ck_assert_ptr_nonnull(strstr(text, "\"cpu\": \"CPU with \\\\ and "
                                       "\\\"quotes\\\"\""));
    ck_assert_ptr_nonnull(strstr(text, "\"gemm_gflops\": null"));
    ck_assert_ptr_nonnull(strstr(text, "\"speedup_vs_naive\": null"));
    free(text);

    /* the validator itself rejects what the writer must never produce */
    const char *bad[] = {"{\"a\": nan}", "{\"a\": 1,}", "[1 2]",
                         "{\"a\": \"x\ty\"}", "{\"a\" 1}"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        json b = {bad[i], 1};
        value(&b);
        ws(&b);
        ck_assert_msg(!b.ok || *b.p != '\0', "accepted %s", bad[i]);
    }
}
END_TEST

START_TEST(table_has_a_line_per_record)
{
    bench_record rec[2] = {sample_record(), sample_record()};
    rec[0].pass = "forward";
    FILE *f = tmpfile();
    bench_table_case(f, rec, 2);
    char *text = slurp(f);
    int lines = 0;
    for (const char *p = text; *p; p++)
        lines += *p == '\n';
    /* a blank line, the case, the column heads, two records */
    ck_assert_int_eq(lines, 5);
    ck_assert_ptr_nonnull(strstr(text, "auto -> gemv-ger"));
    ck_assert_ptr_nonnull(strstr(text, "backward 12.5x"));
    ck_assert_ptr_nonnull(strstr(text, "12.5x\n"));
    free(text);
}
END_TEST


/* ------------------------------------------------------------------------ */
/* Floors                                                                    */
/* ------------------------------------------------------------------------ */

typedef struct bench_d_problem dproblem;

/* What the floors of every algorithm compute, by loops, from the operands
 * as they were: Z = S Wᵀ (forward); then the recurrence δ(t) += Wyᵀ δ(t+1)
 * for t = T-1..1, dW = Δᵀ S and dx = Δ Wx (backward). */
static void floor_by_loops(const dproblem *p, double *Z, double *Delta,
                           double *dW, double *dx)
{
    const size_t n = p->dout, m = p->m, din = p->din, B = p->B;
    const size_t TB = p->T * B;
    for (size_t k = 0; k < TB; k++)
        for (size_t i = 0; i < n; i++) {
            double z = 0;
            for (size_t j = 0; j < m; j++)
                z += p->W[i * m + j] * p->S[k * m + j];
            Z[k * n + i] = z;
        }
    memcpy(Delta, p->Delta, TB * n * sizeof *Delta);
    for (size_t t = p->T - 1; t >= 1; t--)
        for (size_t b = 0; b < B; b++)
            for (size_t j = 0; j < n; j++) {
                double g = 0;
                for (size_t i = 0; i < n; i++)
                    g += p->W[i * m + din + j] * Delta[(t * B + b) * n + i];
                Delta[((t - 1) * B + b) * n + j] += g;
            }
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < m; j++) {
            double w = 0;
            for (size_t k = 0; k < TB; k++)
                w += Delta[k * n + i] * p->S[k * m + j];
            dW[i * m + j] = w;
        }
    for (size_t k = 0; k < TB; k++)
        for (size_t j = 0; j < din; j++) {
            double x = 0;
            for (size_t i = 0; i < n; i++)
                x += Delta[k * n + i] * p->W[i * m + j];
            dx[k * din + j] = x;
        }
}

static double maxdiff(const double *a, const double *b, size_t n)
{
    double d = 0;
    for (size_t i = 0; i < n; i++)
        d = fmax(d, fabs(a[i] - b[i]));
    return d;
}

/* Both backward floors (gemv-ger's per-step calls, deferred's two GEMMs)
 * and the forward floor, at B = 1 (GEMV/GER) and B = 3 (GEMM), against the
 * loops.  gemv-ger's accumulates into dW and dx, so they start at 0. */
START_TEST(floors_compute_their_products)
{
    const size_t B = _i ? 3 : 1, T = 6;
    const char *algo[] = {"gemv-ger", "deferred"};
    const bench_prec *prec = &bench_prec_double;
    bptt_net *net = NULL;
    ck_assert_int_eq(bptt_net_create_uniform(4, 5, BPTT_ACT_TANH, NULL, &net),
                     BPTT_OK);
    for (int a = 0; a < 2; a++) {
        dproblem *p = prec->problem_new(net, T, B, 7);
        ck_assert_ptr_nonnull(p);
        const size_t TB = T * B, n = p->dout, m = p->m, din = p->din;
        double *Z = malloc(TB * n * sizeof *Z), *D = malloc(TB * n * sizeof *D);
        double *dW = malloc(n * m * sizeof *dW), *dx = malloc(TB * din * sizeof *dx);
        floor_by_loops(p, Z, D, dW, dx);
        memset(p->dW, 0, n * m * sizeof *p->dW);
        memset(p->dx, 0, TB * din * sizeof *p->dx);
        bench_floor_fn fwd = prec->floor_of(algo[a], BENCH_FORWARD);
        bench_floor_fn bwd = prec->floor_of(algo[a], BENCH_BACKWARD);
        ck_assert(fwd && bwd);
        fwd(p);
        bwd(p);
        ck_assert_msg(maxdiff(p->Z, Z, TB * n) < 1e-12, "%s Z", algo[a]);
        ck_assert_msg(maxdiff(p->Delta, D, TB * n) < 1e-12, "%s Delta", algo[a]);
        ck_assert_msg(maxdiff(p->dW, dW, n * m) < 1e-12, "%s dW", algo[a]);
        ck_assert_msg(maxdiff(p->dx, dx, TB * din) < 1e-12, "%s dx", algo[a]);
        free(Z);
        free(D);
        free(dW);
        free(dx);
        prec->problem_free(p);
    }
    /* naive calls no BLAS: no floor */
    ck_assert(prec->floor_of("naive", BENCH_BACKWARD) == NULL);
    bptt_net_free(net);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("bench");
    TCase *stats = tcase_create("stats");
    tcase_add_test(stats, quantiles_odd_count);
    tcase_add_test(stats, quantiles_interpolate);
    tcase_add_test(stats, summary_sorts_and_summarises);
    tcase_add_test(stats, summary_of_one_and_none);
    tcase_add_test(stats, flop_counts);
    suite_add_tcase(s, stats);
    TCase *report = tcase_create("report");
    tcase_add_test(report, csv_header_and_row);
    tcase_add_test(report, csv_quotes_what_needs_it);
    tcase_add_test(report, json_string_escapes);
    tcase_add_test(report, json_record_exact);
    tcase_add_test(report, json_document_is_valid);
    tcase_add_test(report, table_has_a_line_per_record);
    suite_add_tcase(s, report);
    TCase *floors = tcase_create("floors");
    tcase_add_loop_test(floors, floors_compute_their_products, 0, 2);
    suite_add_tcase(s, floors);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
