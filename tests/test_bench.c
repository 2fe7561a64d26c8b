/*
 * The benchmark harness's own arithmetic and writers: quantiles against
 * values worked by hand (R's type 7), flop counts against docs/algorithms.md
 * and bptt/rtrl.h multiplied out by hand, CSV read back field by field, JSON
 * escaping and a record checked to the byte, the whole JSON document run
 * through a small validating parser, the table's shape, its derived-time
 * footnote and its ratio lines; every BLAS floor (each algorithm, each
 * pass) computes the products it stands for (against plain loops); the
 * backward_data pass is backward without ∂L/∂W; RTRL with the harness's
 * targets gives naive BPTT's gradient, and a corrupted one fails the
 * check.
 */
#include <check.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "bandwidth.h"
#include "cases.h"
#include "prec.h"
#include "problem.h" /* double: the floors' operands, for their test */
#include "report.h"
#include "stats.h"
#include "testutil.h"
#include "timing.h"

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

/* A call that takes at least ms milliseconds of wall time. */
static int busy(void *ctx)
{
    const double ms = *(const double *)ctx, t0 = bench_now_ms();
    while (bench_now_ms() - t0 < ms)
        ;
    return 0;
}

/* The repetition loop: a call slower than the budget is timed several
 * times while that fits in BENCH_MIN_FACTOR budgets, once when it does
 * not; a fast call fills the budget. */
START_TEST(repeat_takes_enough_samples)
{
    double ms = 1, samples[64];
    size_t n;
    ck_assert_int_eq(bench_repeat(busy, &ms, 0, 1, samples, 64, &n), 0);
    ck_assert_uint_ge(n, 2); /* 1 ms calls, 10 ms allowed: up to 5 */
    ck_assert_uint_le(n, BENCH_MIN_SAMPLES);
    ck_assert_int_eq(bench_repeat(busy, &ms, 0, 0.05, samples, 64, &n), 0);
    ck_assert_uint_eq(n, 1); /* one call already exceeds 10 budgets */
    ms = 0.01;
    ck_assert_int_eq(bench_repeat(busy, &ms, 0, 1, samples, 64, &n), 0);
    ck_assert_uint_ge(n, BENCH_MIN_SAMPLES);
    for (size_t i = 0; i < n; i++)
        ck_assert(samples[i] >= ms);
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

START_TEST(rtrl_and_pass_flop_counts)
{
    /* (3, 5, 7, 2): n = 5, m = 8, P has n(m+1) = 45 columns.  Per step and
     * sequence: forward 2·5·8 = 80, eq. (11) 2·5·45 = 450, eq. (10)
     * 2·5·5·45 = 2250.  A sequence: 14 steps of 80 + 450 = 7420, and
     * eq. (10) on all but the first step of each: 12 · 2250 = 27000. */
    ck_assert_double_eq(bench_flops_rtrl(3, 5, 7, 2, 1), 34420);
    /* one step after the first, 2 sequences: 2 · (80 + 450 + 2250) */
    ck_assert_double_eq(bench_flops_rtrl(3, 5, 1, 2, 0), 5560);
    /* the passes of a case: forward 1120, backward with ∂L/∂x 2240 */
    const bench_shape s = {3, 5, 7, 2, 0, BPTT_CELL_VANILLA};
    ck_assert_double_eq(bench_pass_flops(BENCH_FORWARD, s), 1120);
    ck_assert_double_eq(bench_pass_flops(BENCH_BACKWARD, s), 2240);
    ck_assert_double_eq(bench_pass_flops(BENCH_BACKWARD_DATA, s), 1120);
    ck_assert_double_eq(bench_pass_flops(BENCH_BACKWARD_WEIGHTS, s), 1120);
    ck_assert_double_eq(bench_pass_flops(BENCH_FORWARD_BACKWARD, s), 3360);
    ck_assert_double_eq(bench_pass_flops(BENCH_SEQUENCE, s), 34420);
    ck_assert_double_eq(bench_pass_flops(BENCH_STEP, s), 5560);
    ck_assert_str_eq(bench_pass_name(BENCH_FORWARD_BACKWARD),
                     "forward_backward");
    ck_assert(bench_pass_name(BENCH_NPASS) == NULL);
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
        .floor_ms = NAN, .floor_ratio = NAN, .activations = "tanh",
        .derived = 0, .memory_bytes = 4096};
}

/* The BLAS report as bptt_blas_info_get gives it for OpenBLAS 0.3.21's
 * Prescott kernels on an AVX-512 CPU. */
static bptt_blas_info weak_blas(void)
{
    bptt_blas_info b = {.threads = 1, .blas_isa = BPTT_ISA_SSE,
                        .cpu_isa = BPTT_ISA_AVX512,
                        .kernel_isa = BPTT_ISA_AVX512, .weaker = 1};
    strcpy(b.vendor, "OpenBLAS");
    strcpy(b.version, "0.3.21");
    strcpy(b.core, "Prescott");
    strcpy(b.config, "OpenBLAS 0.3.21\tPrescott");
    strcpy(b.remedy, "use SkylakeX");
    return b;
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
        {"activations", "tanh"}, {"derived", "0"}, {"memory_bytes", "4096"},
        {"cell", "vanilla"},
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
        "0.0125, \"floor_ms\": null, \"ratio_to_floor\": null, "
        "\"activations\": \"tanh\", \"derived\": false, \"memory_bytes\": "
        "4096, \"cell\": \"vanilla\"}");
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
    bench_env env = {.ncpu = 2, .compiler = "cc 1",
                     .cflags = "-O2 \"quoted\"", .bptt_version = "0.1.0",
                     .command = "bptt-bench --shape 3,5,7,2", .budget_ms = 5};
    strcpy(env.cpu, "CPU with \\ and \"quotes\"");
    env.blas = weak_blas();
    strcpy(env.date, "2024-01-01T00:00:00Z");
    bench_limits lim[2] = {{.precision = "double", .gemm_n = 64,
                            .gemm_gflops = 30},
                           {.precision = "float", .gemm_n = 64,
                            .gemm_gflops = NAN}};
    bench_read_limit_keep(&lim[0], 8192, 120.5);
    bench_read_limit_keep(&lim[0], 2097152, 40);
    bench_record rec[3] = {sample_record(), sample_record(), sample_record()};
    rec[1].pass = "forward";
    rec[2].speedup = INFINITY;
    rec[1].memory_bytes = NAN; /* a peer's: null */
    bench_refusal ref = {"deferred", "float", 3, 5, 7, 2, "dL/dW differs",
                         "tanh"};
    bench_refusal notes[2] = {
        {"onednn", "double", 3, 5, 7, 2, "skipped: f32 only", "tanh"},
        {"rtrl", "double", 3, 5, 7, 2, "a \"quoted\" note", "mixed"}};
    strcpy(env.peers, "torch (PyTorch 1.13)");
    FILE *f = tmpfile();
    ck_assert_int_eq(bench_json_write(f, &env, lim, 2, rec, 3, &ref, 1, notes,
                                      2), 0);
    char *text = slurp(f);
    json j = {text, 1};
    value(&j);
    ws(&j);
    ck_assert_msg(j.ok && *j.p == '\0', "invalid JSON near: %.40s", j.p);
    ck_assert_int_eq(array_length(text, "\"limits\""), 2);
    ck_assert_int_eq(array_length(text, "\"records\""), 3);
    ck_assert_int_eq(array_length(text, "\"refused\""), 1);
    ck_assert_int_eq(array_length(text, "\"notes\""), 2);
    ck_assert_ptr_nonnull(strstr(text, "\"memory_bytes\": null"));
    ck_assert_ptr_nonnull(strstr(text, "\"peers\": \"torch (PyTorch 1.13)\""));
    ck_assert_ptr_nonnull(strstr(text, "\"activations\": \"mixed\", "
                                       "\"note\": \"a \\\"quoted\\\" note\""));
    ck_assert_ptr_nonnull(strstr(text, "\"cpu\": \"CPU with \\\\ and "
                                       "\\\"quotes\\\"\""));
    ck_assert_ptr_nonnull(strstr(text, "\"gemm_gflops\": null"));
    ck_assert_ptr_nonnull(strstr(text, "\"read\": [{\"bytes\": 8192, \"gbs\": "
                                       "120.5}, {\"bytes\": 2097152, \"gbs\": "
                                       "40}]"));
    ck_assert_ptr_nonnull(strstr(text, "\"read\": []"));
    /* the BLAS report first, with its verdict */
    const char first[] = "{\n  \"blas\": {\n    \"vendor\": \"OpenBLAS\"";
    ck_assert(strncmp(text, first, strlen(first)) == 0);
    ck_assert_ptr_nonnull(strstr(text, "\"config\": \"OpenBLAS 0.3.21\\tPrescott\""));
    ck_assert_ptr_nonnull(strstr(text, "\"blas_isa\": \"sse\""));
    ck_assert_ptr_nonnull(strstr(text, "\"cpu_isa\": \"avx512\""));
    ck_assert_ptr_nonnull(strstr(text, "\"weaker\": true"));
    ck_assert_ptr_nonnull(strstr(text, "\"representative\": false"));
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

/* A weaker BLAS is called out on the first line, the report follows; a
 * BLAS as good as the CPU gets no warning. */
START_TEST(table_warns_of_a_weaker_blas)
{
    bench_env env = {.ncpu = 2, .compiler = "cc", .cflags = "-O2",
                     .bptt_version = "0.1.0", .budget_ms = 5};
    env.blas = weak_blas();
    FILE *f = tmpfile();
    bench_table_env(f, &env);
    char *text = slurp(f);
    char want[256];
    snprintf(want, sizeof want,
             "NOT REPRESENTATIVE: use SkylakeX\nBLAS      OpenBLAS "
             "0.3.21, core Prescott (sse kernels), 1 thread(s); "
             "CPU avx512, bptt's kernels avx512, its GEMMs on %s\n",
             bptt_own_gemm() ? "bptt's own kernels" : "the BLAS");
    ck_assert_msg(strncmp(text, want, strlen(want)) == 0, "%s", text);
    free(text);
    env.blas.weaker = 0;
    env.blas.blas_isa = BPTT_ISA_AVX512;
    f = tmpfile();
    bench_table_env(f, &env);
    bench_table_warning(f, &env.blas);
    text = slurp(f);
    ck_assert(strncmp(text, "BLAS      ", 10) == 0);
    ck_assert_ptr_null(strstr(text, "NOT REPRESENTATIVE"));
    free(text);
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

/* A derived time is marked in its row and explained under the table, and
 * shows no quartiles. */
START_TEST(table_marks_a_derived_time)
{
    bench_record rec[2] = {sample_record(), sample_record()};
    rec[1].pass = "backward_weights";
    rec[1].derived = 1;
    rec[1].time = (bench_summary){0, NAN, NAN, 0.5, NAN, NAN};
    FILE *f = tmpfile();
    bench_table_case(f, rec, 2);
    char *text = slurp(f);
    ck_assert_ptr_nonnull(strstr(text, "backward_weights* "));
    ck_assert_ptr_nonnull(strstr(text, "\n  * derived, not measured"));
    /* median 0.5, then "-" for q1 and q3 */
    ck_assert_ptr_nonnull(strstr(text, "0.5          -          -"));
    free(text);
    /* without a derived row, no footnote */
    f = tmpfile();
    bench_table_case(f, rec, 1);
    text = slurp(f);
    ck_assert_ptr_null(strstr(text, "derived"));
    free(text);
}
END_TEST

static bench_record timed_record(const char *algo, const char *pass,
                                 const char *act, double median, int dflt)
{
    bench_record r = sample_record();
    r.algo = algo;
    r.pass = pass;
    r.activations = act;
    r.time.median = median;
    r.is_default = dflt;
    return r;
}

/* The ratio lines: a peer over the default, a mixed case over its
 * all-tanh twin found among earlier records, RTRL over forward+backward. */
START_TEST(table_prints_the_ratios)
{
    bench_record rec[] = {
        /* the all-tanh case */
        timed_record("deferred", "forward", "tanh", 2, 1),
        timed_record("deferred", "backward", "tanh", 4, 1),
        timed_record("deferred", "forward_backward", "tanh", 6, 1),
        timed_record("torch", "forward", "tanh", 3, 0),
        timed_record("torch", "backward", "tanh", 8, 0),
        timed_record("torch", "forward_backward", "tanh", 18, 0),
        timed_record("rtrl-gemm", "sequence", "tanh", 600, 0),
        timed_record("rtrl-gemm", "step", "tanh", 6, 0),
        /* the mixed case of the same shape */
        timed_record("deferred", "forward", "mixed", 3, 1),
        timed_record("deferred", "backward", "mixed", 5, 1),
    };
    rec[6].memory_bytes = 2 * 1024 * 1024;
    rec[6].fraction = 0.75;
    FILE *f = tmpfile();
    bench_table_ratios(f, rec, 0, 8);
    char *text = slurp(f);
    ck_assert_str_eq(text,
        "  torch / bptt (deferred), median time: backward 2.00x (bptt "
        "faster), forward+backward 3.00x (bptt faster)\n"
        "  rtrl-gemm / bptt (deferred) forward+backward: time 100x, memory "
        "2.0 MiB / 4.0 KiB; 75.0% of the GEMM limit\n");
    free(text);
    f = tmpfile();
    bench_table_ratios(f, rec, 8, 10);
    text = slurp(f);
    ck_assert_str_eq(text, "  mixed / all-tanh (deferred), median time: "
                           "forward 1.50x, backward 1.25x\n");
    free(text);
    /* a mixed case without a twin, and no case: nothing */
    f = tmpfile();
    bench_table_ratios(f, rec + 8, 0, 2);
    bench_table_ratios(f, rec, 3, 3);
    text = slurp(f);
    ck_assert_str_eq(text, "");
    free(text);
}
END_TEST

/* Each ratio's word follows that ratio: a peer faster on backward but
 * slower on forward+backward gets one word of each (the table once printed
 * "(bptt faster)" beside a backward ratio of 0.69). */
START_TEST(table_verdict_follows_each_ratio)
{
    bench_record rec[] = {
        timed_record("deferred", "backward", "tanh", 10, 1),
        timed_record("deferred", "forward_backward", "tanh", 10, 1),
        timed_record("onednn", "backward", "tanh", 6.9, 0),
        timed_record("onednn", "forward_backward", "tanh", 12, 0),
        timed_record("torch", "backward", "tanh", 20, 0),
        timed_record("torch", "forward_backward", "tanh", 9, 0),
    };
    FILE *f = tmpfile();
    bench_table_ratios(f, rec, 0, 6);
    char *text = slurp(f);
    ck_assert_str_eq(text,
        "  onednn / bptt (deferred), median time: backward 0.69x (onednn "
        "faster), forward+backward 1.20x (bptt faster)\n"
        "  torch / bptt (deferred), median time: backward 2.00x (bptt "
        "faster), forward+backward 0.90x (torch faster)\n");
    free(text);
    /* equal, and a peer without a backward of its own */
    bench_record eq[] = {
        timed_record("deferred", "backward", "tanh", 10, 1),
        timed_record("deferred", "forward_backward", "tanh", 10, 1),
        timed_record("torch", "forward_backward", "tanh", 10, 0),
    };
    f = tmpfile();
    bench_table_ratios(f, eq, 0, 3);
    text = slurp(f);
    ck_assert_str_eq(text, "  torch / bptt (deferred), median time: backward "
                           "-, forward+backward 1.00x (same)\n");
    free(text);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* Limits                                                                    */
/* ------------------------------------------------------------------------ */

/* Bytes of Wy read in sequence, by pass: dout² elements per step, T − 1
 * steps per recurrence. */
START_TEST(read_bytes_per_pass)
{
    const bench_shape s = {128, 128, 100, 1, 0, BPTT_CELL_VANILLA};
    const double step = 128.0 * 128 * 8;
    ck_assert_double_eq(bench_pass_read_bytes(BENCH_FORWARD, s, 8), 99 * step);
    ck_assert_double_eq(bench_pass_read_bytes(BENCH_BACKWARD, s, 8), 99 * step);
    ck_assert_double_eq(bench_pass_read_bytes(BENCH_BACKWARD_DATA, s, 8),
                        99 * step);
    ck_assert_double_eq(bench_pass_read_bytes(BENCH_FORWARD_BACKWARD, s, 8),
                        198 * step);
    ck_assert_double_eq(bench_pass_read_bytes(BENCH_BACKWARD_WEIGHTS, s, 8), 0);
    ck_assert_double_eq(bench_pass_read_bytes(BENCH_SEQUENCE, s, 8), 0);
    ck_assert_double_eq(bench_pass_read_bytes(BENCH_STEP, s, 8), 0);
    /* B does not change it: Wy is read whole at every step */
    const bench_shape b = {128, 128, 100, 32, 0, BPTT_CELL_VANILLA};
    ck_assert_double_eq(bench_pass_read_bytes(BENCH_BACKWARD, b, 4),
                        99 * step / 2);
}
END_TEST

/* The property the %limit column guarantees by construction: a pass's
 * least time is the longer of its flops at the GEMM limit and its reads of
 * Wy at the read limit, so a pass timed at the binding roof shows exactly
 * 100% and any pass that beats neither roof at most 100%: above 100% only
 * if the pass outran a measured limit.  The old column divided
 * every B = 1 pass by a GEMV rate, so GEMM-bound work (deferred's weight
 * gradient, its forward's input product) showed 190-890%. */
START_TEST(limit_fraction_cannot_exceed_one)
{
    const bench_shape shapes[] = {
#define V BPTT_CELL_VANILLA
        {32, 32, 100, 1, 0, V},     {128, 128, 100, 1, 0, V},
        {512, 512, 100, 1, 0, V},   {1024, 1024, 100, 1, 0, V},
        {256, 256, 100, 32, 0, V},  {512, 512, 50, 64, 0, V},
        {3, 5, 7, 2, 0, V},         {8, 8, 1, 1, 0, V},
#undef V
    };
    const bench_prec *precs[] = {&bench_prec_double, &bench_prec_float};
    for (int threads = 1; threads <= 2; threads++)
        for (size_t q = 0; q < 2; q++) {
            const bench_prec *prec = precs[q];
            const bench_config cfg = {.threads = threads};
            bench_limits lim = {.precision = prec->name, .gemm_gflops = 97};
            for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; i++) {
                const bench_shape s = shapes[i];
                const size_t wy = s.dout * s.dout * prec->elem;
                /* a smaller Wy sits in a faster cache */
                bench_read_limit_keep(&lim, wy, wy < 65536 ? 300 : 40);
                const double gbs =
                    bench_read_limit_gbs(&lim, wy) * threads;
                for (bench_pass pass = BENCH_FORWARD; pass < BENCH_NPASS;
                     pass++) {
                    const double flops = bench_pass_flops(pass, s);
                    const double t_gemm = flops / (97 * 1e6);
                    const double t_read =
                        bench_pass_read_bytes(pass, s, prec->elem)
                        / (gbs * 1e6);
                    const double t_bound = t_gemm > t_read ? t_gemm : t_read;
                    /* any time that beats neither roof */
                    const double times[] = {t_bound, 1.25 * t_bound,
                                            2 * t_bound, 1e3 * t_bound};
                    for (size_t k = 0; k < 4; k++) {
                        const bench_summary t = {1, times[k], times[k],
                                                 times[k], times[k], times[k]};
                        const bench_record r = bench_make_record(
                            &cfg, prec, &lim, s, "x", pass, t, flops, NAN);
                        if (t_bound == 0) { /* no work (T = 1): no limit */
                            ck_assert(isnan(r.fraction));
                            continue;
                        }
                        ck_assert_msg(r.fraction <= 1 + 1e-12,
                                      "%s (%zu,%zu,%zu,%zu) %s: %.3f",
                                      prec->name, s.din, s.dout, s.T, s.B,
                                      r.pass, r.fraction);
                        ck_assert_double_eq_tol(r.fraction,
                                                t_bound / times[k], 1e-12);
                        ck_assert_str_eq(r.limit,
                                         t_read > t_gemm ? "read" : "gemm");
                    }
                }
            }
        }
}
END_TEST

/* The regression of the old column, by hand: deferred's weight gradient at
 * (128,128,100,1) in double is one GEMM of 2·128·256·100 flops; at the
 * GEMM limit (50 GFLOP/s) it takes 0.131072 ms and is 100% of its limit,
 * not 50/8 = 625% of a GEMV's 8 GFLOP/s.  Its backward streams Wy 99
 * times: 99·128 KiB at 20 GB/s take 0.6488 ms, longer than its 13.1072
 * MFLOP at 50 GFLOP/s (0.262 ms), so the read roof binds. */
START_TEST(limit_by_hand)
{
    const bench_config cfg = {.threads = 1};
    bench_limits lim = {.precision = "double", .gemm_gflops = 50};
    bench_read_limit_keep(&lim, 128 * 128 * 8, 20);
    const bench_shape s = {128, 128, 100, 1, 0, BPTT_CELL_VANILLA};
    const double wflops = bench_pass_flops(BENCH_BACKWARD_WEIGHTS, s);
    ck_assert_double_eq(wflops, 2.0 * 128 * 256 * 100);
    bench_summary t = {0, NAN, NAN, wflops / 50e6, NAN, NAN};
    bench_record r = bench_make_record(&cfg, &bench_prec_double, &lim, s,
                                       "deferred", BENCH_BACKWARD_WEIGHTS, t,
                                       wflops, NAN);
    ck_assert_str_eq(r.limit, "gemm");
    ck_assert_double_eq_tol(r.limit_gflops, 50, 1e-9);
    ck_assert_double_eq_tol(r.fraction, 1, 1e-12);
    const double bflops = bench_pass_flops(BENCH_BACKWARD, s);
    const double t_read = 99.0 * 128 * 128 * 8 / 20e6;
    t = (bench_summary){1, 2 * t_read, 2 * t_read, 2 * t_read, 2 * t_read,
                        2 * t_read};
    r = bench_make_record(&cfg, &bench_prec_double, &lim, s, "deferred",
                          BENCH_BACKWARD, t, bflops, NAN);
    ck_assert_str_eq(r.limit, "read");
    ck_assert_double_eq_tol(r.limit_gflops, bflops / (t_read * 1e6), 1e-9);
    ck_assert_double_eq_tol(r.fraction, 0.5, 1e-12);
    /* no read limit measured for this size: the GEMM roof alone */
    bench_limits none = {.precision = "double", .gemm_gflops = 50};
    r = bench_make_record(&cfg, &bench_prec_double, &none, s, "deferred",
                          BENCH_BACKWARD, t, bflops, NAN);
    ck_assert_str_eq(r.limit, "gemm");
    ck_assert_double_eq_tol(r.limit_gflops, 50, 1e-9);
}
END_TEST

/* The best of the run per size; sizes apart; a full table keeps what it
 * has. */
START_TEST(read_limits_keep_the_best)
{
    bench_limits lim = {.precision = "float"};
    ck_assert(isnan(bench_read_limit_gbs(&lim, 64)));
    bench_read_limit_keep(&lim, 64, 10);
    bench_read_limit_keep(&lim, 64, 5);
    bench_read_limit_keep(&lim, 128, 7);
    bench_read_limit_keep(&lim, 64, 12);
    bench_read_limit_keep(&lim, 256, NAN);
    ck_assert_double_eq(bench_read_limit_gbs(&lim, 64), 12);
    ck_assert_double_eq(bench_read_limit_gbs(&lim, 128), 7);
    ck_assert(isnan(bench_read_limit_gbs(&lim, 256)));
    ck_assert_uint_eq(lim.nread, 2);
    for (size_t b = 1000; lim.nread < BENCH_MAX_READS; b++)
        bench_read_limit_keep(&lim, b, 1);
    bench_read_limit_keep(&lim, 1, 99);
    ck_assert_uint_eq(lim.nread, BENCH_MAX_READS);
    ck_assert(isnan(bench_read_limit_gbs(&lim, 1)));
}
END_TEST

/* The probe's vector sums against a plain loop, on lengths around the
 * vector and unroll widths and on an unaligned start; its rate is a
 * positive number, and NaN for an empty array. */
START_TEST(read_probe_sums_and_measures)
{
    enum { N = 1100 };
    uint64_t *a = malloc((N + 1) * sizeof *a);
    ck_assert_ptr_nonnull(a);
    for (size_t i = 0; i <= N; i++)
        a[i] = 0x9E3779B97F4A7C15ull * (i + 1);
    const size_t len[] = {0, 1, 3, 4, 7, 8, 15, 16, 17, 31, 32, 33, 63, 64,
                          65, 100, 1000, N};
    for (size_t k = 0; k < sizeof len / sizeof len[0]; k++)
        for (size_t off = 0; off <= 1; off++) {
            if (len[k] + off > N + 1)
                continue;
            uint64_t want = 0;
            for (size_t i = 0; i < len[k]; i++)
                want += a[off + i];
            ck_assert_msg(bench_read_sum(a + off, len[k]) == want,
                          "n = %zu, offset %zu", len[k], off);
        }
    free(a);
    const double gbs = bench_read_gbs(4096, 1);
    ck_assert_msg(isfinite(gbs) && gbs > 0, "%g GB/s", gbs);
    ck_assert(isnan(bench_read_gbs(0, 1)));
}
END_TEST

/* ------------------------------------------------------------------------ */
/* Floors                                                                    */
/* ------------------------------------------------------------------------ */

typedef struct bench_d_problem dproblem;

/* What the floor of pass computes, by loops, from the operands as they
 * were (Z, Delta as the problem holds them, dW = dx = 0):
 *   forward           Z = S Wᵀ (S = [x; y], so X Wxᵀ + Y Wyᵀ alike);
 *   the recurrence    δ(t) += Wyᵀ δ(t+1) for t = T-1..1;
 *   weights           dW = Δᵀ S;
 *   data              dx = Δ Wx;
 * backward is the recurrence, weights and data; backward_data the
 * recurrence and data; backward_weights weights alone (on Δ as it was);
 * forward_backward all.  What a pass does not compute stays as it was. */
static void floor_by_loops(const dproblem *p, bench_pass pass, double *Z,
                           double *Delta, double *dW, double *dx)
{
    const size_t n = p->dout, m = p->m, din = p->din, B = p->B;
    const size_t TB = p->T * B;
    const int fwd = pass == BENCH_FORWARD || pass == BENCH_FORWARD_BACKWARD;
    const int bwd = pass == BENCH_BACKWARD || pass == BENCH_FORWARD_BACKWARD;
    const int rec = bwd || pass == BENCH_BACKWARD_DATA;
    const int weights = bwd || pass == BENCH_BACKWARD_WEIGHTS;
    const int data = bwd || pass == BENCH_BACKWARD_DATA;
    memcpy(Z, p->Z, TB * n * sizeof *Z);
    memcpy(Delta, p->Delta, TB * n * sizeof *Delta);
    memset(dW, 0, n * m * sizeof *dW);
    memset(dx, 0, TB * din * sizeof *dx);
    for (size_t k = 0; fwd && k < TB; k++)
        for (size_t i = 0; i < n; i++) {
            double z = 0;
            for (size_t j = 0; j < m; j++)
                z += p->W[i * m + j] * p->S[k * m + j];
            Z[k * n + i] = z;
        }
    for (size_t t = p->T - 1; rec && t >= 1; t--)
        for (size_t b = 0; b < B; b++)
            for (size_t j = 0; j < n; j++) {
                double g = 0;
                for (size_t i = 0; i < n; i++)
                    g += p->W[i * m + din + j] * Delta[(t * B + b) * n + i];
                Delta[((t - 1) * B + b) * n + j] += g;
            }
    for (size_t i = 0; weights && i < n; i++)
        for (size_t j = 0; j < m; j++) {
            double w = 0;
            for (size_t k = 0; k < TB; k++)
                w += Delta[k * n + i] * p->S[k * m + j];
            dW[i * m + j] = w;
        }
    for (size_t k = 0; data && k < TB; k++)
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

/* Every floor of both BLAS algorithms (gemv-ger's per-step calls,
 * deferred's GEMMs over all steps), each pass on a fresh problem, at B = 1
 * (GEMV/GER) and B = 3 (GEMM), against the loops.  gemv-ger's accumulates
 * into dW and dx, so they start at 0. */
START_TEST(floors_compute_their_products)
{
    const size_t B = _i ? 3 : 1, T = 6;
    const char *algo[] = {"gemv-ger", "deferred"};
    const bench_pass passes[] = {BENCH_FORWARD, BENCH_BACKWARD,
                                 BENCH_BACKWARD_DATA, BENCH_BACKWARD_WEIGHTS,
                                 BENCH_FORWARD_BACKWARD};
    const bench_prec *prec = &bench_prec_double;
    bptt_net *net = NULL;
    ck_assert_int_eq(bptt_net_create_uniform(4, 5, BPTT_ACT_TANH, NULL, &net),
                     BPTT_OK);
    for (int a = 0; a < 2; a++)
        for (size_t q = 0; q < sizeof passes / sizeof passes[0]; q++) {
            const char *pass = bench_pass_name(passes[q]);
            dproblem *p = prec->problem_new(net, T, B, 7);
            ck_assert_ptr_nonnull(p);
            const size_t TB = T * B, n = p->dout, m = p->m, din = p->din;
            /* zeroed: a pass leaves some arrays alone on both sides, and
             * those are compared too (valgrind: no uninitialised reads) */
            double *Z = calloc(TB * n, sizeof *Z);
            double *D = calloc(TB * n, sizeof *D);
            double *dW = calloc(n * m, sizeof *dW);
            double *dx = calloc(TB * din, sizeof *dx);
            memset(p->Z, 0, TB * n * sizeof *p->Z);
            memset(p->Delta, 0, TB * n * sizeof *p->Delta);
            /* the floors multiply what the library stages: S = [x; y] */
            for (size_t k = 0; k < TB; k++)
                ck_assert(memcmp(p->S + k * m, p->x + k * din,
                                 din * sizeof *p->x) == 0);
            floor_by_loops(p, passes[q], Z, D, dW, dx);
            memset(p->dW, 0, n * m * sizeof *p->dW);
            memset(p->dx, 0, TB * din * sizeof *p->dx);
            bench_floor_fn fn = prec->floor_of(algo[a], passes[q]);
            ck_assert_msg(fn != NULL, "%s %s has no floor", algo[a], pass);
            fn(p);
            ck_assert_msg(maxdiff(p->Z, Z, TB * n) < 1e-12, "%s %s Z",
                          algo[a], pass);
            ck_assert_msg(maxdiff(p->Delta, D, TB * n) < 1e-12,
                          "%s %s Delta", algo[a], pass);
            ck_assert_msg(maxdiff(p->dW, dW, n * m) < 1e-12, "%s %s dW",
                          algo[a], pass);
            ck_assert_msg(maxdiff(p->dx, dx, TB * din) < 1e-12, "%s %s dx",
                          algo[a], pass);
            free(Z);
            free(D);
            free(dW);
            free(dx);
            prec->problem_free(p);
        }
    /* naive calls no BLAS: no floor; RTRL's passes have none */
    ck_assert(prec->floor_of("naive", BENCH_BACKWARD) == NULL);
    ck_assert(prec->floor_of("deferred", BENCH_SEQUENCE) == NULL);
    bptt_net_free(net);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* The passes through the public API                                         */
/* ------------------------------------------------------------------------ */

/* backward_data is backward with dW = NULL: the same ∂L/∂x (bitwise, the
 * same calls), ∂L/∂W untouched; every algorithm but naive has it. */
START_TEST(backward_data_is_backward_without_dW)
{
    const bench_prec *prec = _i ? &bench_prec_float : &bench_prec_double;
    bptt_net *net = NULL;
    ck_assert_int_eq(bptt_net_create_uniform(4, 5, BPTT_ACT_TANH, NULL, &net),
                     BPTT_OK);
    void *p = prec->problem_new(net, 6, 3, 11);
    ck_assert_ptr_nonnull(p);
    bench_io io;
    prec->io(p, &io);
    const size_t nx = 6 * 3 * 4 * prec->elem, nw = 5 * 9 * prec->elem;
    unsigned char *dx = malloc(nx);
    for (bptt_algo a = BPTT_ALGO_GEMV_GER; a < BPTT_NALGO; a++) {
        ck_assert(prec->has_pass(a, BENCH_BACKWARD_DATA));
        ck_assert_int_eq(prec->run(p, a, BENCH_FORWARD), BPTT_OK);
        ck_assert_int_eq(prec->run(p, a, BENCH_BACKWARD), BPTT_OK);
        memcpy(dx, io.dx, nx);
        memset(io.dx, 0x7f, nx);
        memset(io.dW, 0x5a, nw);
        tu_snap snap = {0};
        tu_snap_add(&snap, io.dW, nw);
        ck_assert_int_eq(prec->run(p, a, BENCH_BACKWARD_DATA), BPTT_OK);
        ck_assert_msg(memcmp(dx, io.dx, nx) == 0, "%s dx", bptt_algo_name(a));
        tu_assert_unwritten(&snap, bptt_algo_name(a));
        tu_snap_free(&snap);
    }
    ck_assert(!prec->has_pass(BPTT_ALGO_NAIVE, BENCH_BACKWARD_DATA));
    ck_assert(!prec->has_pass(BPTT_ALGO_DEFERRED, BENCH_BACKWARD_WEIGHTS));
    free(dx);
    prec->problem_free(p);
    bptt_net_free(net);
}
END_TEST

/* RTRL's sequence with the targets ŷ = y − ∂L/∂y gives the harness's naive
 * BPTT gradient (eq. (12)) and y, within the check's tolerance, for both
 * RTRL algorithms and precisions and mixed activations; a corrupted
 * gradient fails the same check; steps then continue the stream. */
START_TEST(rtrl_with_the_targets_matches_naive_bptt)
{
    const bench_prec *prec = _i ? &bench_prec_float : &bench_prec_double;
    const bptt_activation act[5] = {BPTT_ACT_IDENTITY, BPTT_ACT_TANH,
                                    BPTT_ACT_LOGISTIC, BPTT_ACT_RELU,
                                    BPTT_ACT_SOFTPLUS};
    bptt_net *net = NULL;
    ck_assert_int_eq(bptt_net_create(3, 5, act, NULL, &net), BPTT_OK);
    void *p = prec->problem_new(net, 7, 2, 5);
    ck_assert_ptr_nonnull(p);
    ck_assert_int_eq(prec->run(p, BPTT_ALGO_NAIVE, BENCH_FORWARD), BPTT_OK);
    ck_assert_int_eq(prec->run(p, BPTT_ALGO_NAIVE, BENCH_BACKWARD), BPTT_OK);
    prec->keep_reference(p);
    ck_assert_int_eq(prec->rtrl_prepare(p), BPTT_OK);
    const bptt_rtrl_algo algo[] = {BPTT_RTRL_NAIVE, BPTT_RTRL_GEMM};
    for (int a = 0; a < 2; a++) {
        const char *worst;
        ck_assert_int_eq(prec->rtrl_run(p, algo[a], BENCH_SEQUENCE), BPTT_OK);
        const double err = prec->check(p, BENCH_CHECK_Y | BENCH_CHECK_DW,
                                       &worst);
        ck_assert_msg(err <= prec->tol, "%s %s: %g", prec->name, worst, err);
        prec->corrupt(p);
        ck_assert(prec->check(p, BENCH_CHECK_DW, &worst) > prec->tol);
        ck_assert_str_eq(worst, "dL/dW");
        for (int k = 0; k < 9; k++) /* past T: the inputs wrap around */
            ck_assert_int_eq(prec->rtrl_run(p, algo[a], BENCH_STEP), BPTT_OK);
    }
    ck_assert_int_eq(prec->rtrl_run(p, BPTT_RTRL_GEMM, BENCH_FORWARD),
                     BPTT_EINVAL);
    size_t ws = 0, st = 0;
    ck_assert_int_eq(bptt_workspace_size(net, 7, 2, &ws), BPTT_OK);
    ck_assert_int_eq(bptt_rtrl_size(net, 2, &st), BPTT_OK);
    if (prec == &bench_prec_float) {
        ck_assert_int_eq(bpttf_workspace_size(net, 7, 2, &ws), BPTT_OK);
        ck_assert_int_eq(bpttf_rtrl_size(net, 2, &st), BPTT_OK);
    }
    ck_assert_uint_eq(prec->workspace_bytes(net, 7, 2), ws);
    ck_assert_uint_eq(prec->rtrl_bytes(net, 2), st);
    ck_assert_uint_eq(prec->workspace_bytes(net, 0, 2), 0); /* query fails */
    prec->problem_free(p);
    bptt_net_free(net);
}
END_TEST

/* A gated cell's products are Network A's with G·n rows: forward
 * 2·T·B·(G·n)·(din+n), backward 2·T·B·(G·n)·(n + din+n + din); its
 * recurrent weights read per step are U, G·n x n. */
START_TEST(gated_counts_have_G_rows)
{
    const bench_shape v = {3, 5, 7, 2, 0, BPTT_CELL_VANILLA};
    bench_shape l = v, g = v;
    l.cell = BPTT_CELL_LSTM;
    g.cell = BPTT_CELL_GRU;
    ck_assert_uint_eq(bench_shape_gates(v), 1);
    ck_assert_uint_eq(bench_shape_gates(l), 4);
    ck_assert_uint_eq(bench_shape_gates(g), 3);
    ck_assert_double_eq(bench_pass_flops(BENCH_FORWARD, l),
                        2.0 * 7 * 2 * 4 * 5 * 8);
    ck_assert_double_eq(bench_pass_flops(BENCH_BACKWARD, g),
                        2.0 * 7 * 2 * 3 * 5 * (5 + 8 + 3));
    ck_assert_double_eq(bench_pass_flops(BENCH_FORWARD_BACKWARD, l),
                        4 * bench_pass_flops(BENCH_FORWARD_BACKWARD, v));
    ck_assert_double_eq(bench_pass_read_bytes(BENCH_BACKWARD, g, 8),
                        3 * bench_pass_read_bytes(BENCH_BACKWARD, v, 8));
    ck_assert_double_eq(bench_pass_read_bytes(BENCH_FORWARD, l, 4),
                        (7 - 1) * 4.0 * 5 * 5 * 4);
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
    tcase_add_test(stats, repeat_takes_enough_samples);
    tcase_add_test(stats, rtrl_and_pass_flop_counts);
    tcase_add_test(stats, gated_counts_have_G_rows);
    suite_add_tcase(s, stats);
    TCase *report = tcase_create("report");
    tcase_add_test(report, csv_header_and_row);
    tcase_add_test(report, csv_quotes_what_needs_it);
    tcase_add_test(report, json_string_escapes);
    tcase_add_test(report, json_record_exact);
    tcase_add_test(report, json_document_is_valid);
    tcase_add_test(report, table_warns_of_a_weaker_blas);
    tcase_add_test(report, table_has_a_line_per_record);
    tcase_add_test(report, table_marks_a_derived_time);
    tcase_add_test(report, table_prints_the_ratios);
    tcase_add_test(report, table_verdict_follows_each_ratio);
    suite_add_tcase(s, report);
    TCase *limits = tcase_create("limits");
    tcase_add_test(limits, read_bytes_per_pass);
    tcase_add_test(limits, limit_fraction_cannot_exceed_one);
    tcase_add_test(limits, limit_by_hand);
    tcase_add_test(limits, read_limits_keep_the_best);
    tcase_add_test(limits, read_probe_sums_and_measures);
    suite_add_tcase(s, limits);
    TCase *floors = tcase_create("floors");
    tcase_add_loop_test(floors, floors_compute_their_products, 0, 2);
    suite_add_tcase(s, floors);
    TCase *passes = tcase_create("passes");
    tcase_add_loop_test(passes, backward_data_is_backward_without_dW, 0, 2);
    tcase_add_loop_test(passes, rtrl_with_the_targets_matches_naive_bptt, 0,
                        2);
    suite_add_tcase(s, passes);
    return s;
}

int main(void)
{
    return tu_run_suite(suite());
}
