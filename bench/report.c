/*
 * report.c — the table, CSV and JSON forms of a run's records.  CSV and
 * JSON list the same fields in the same order, from one table (fields()).
 */
#include "report.h"

#include <math.h>
#include <string.h>

const char bench_csv_columns[] =
    "algo,precision,din,dout,T,B,threads,pass,median_ms,min_ms,max_ms,"
    "q1_ms,q3_ms,reps,flops,gflops,speedup_vs_naive,default,limit,"
    "limit_gflops,fraction_of_limit,floor_ms,ratio_to_floor,activations,"
    "derived,memory_bytes,cell";

enum { NFIELDS = 27 };

typedef struct field {
    enum { F_STR, F_SIZE, F_NUM, F_COUNT, F_BOOL } kind;
    const char *s;
    size_t z;
    double d;
} field;

/* The record's fields in the order of bench_csv_columns. */
static void fields(const bench_record *r, field f[NFIELDS])
{
    const field all[NFIELDS] = {
        {F_STR, r->algo, 0, 0},
        {F_STR, r->precision, 0, 0},
        {F_SIZE, NULL, r->din, 0},
        {F_SIZE, NULL, r->dout, 0},
        {F_SIZE, NULL, r->T, 0},
        {F_SIZE, NULL, r->B, 0},
        {F_SIZE, NULL, (size_t)r->threads, 0},
        {F_STR, r->pass, 0, 0},
        {F_NUM, NULL, 0, r->time.median},
        {F_NUM, NULL, 0, r->time.min},
        {F_NUM, NULL, 0, r->time.max},
        {F_NUM, NULL, 0, r->time.q1},
        {F_NUM, NULL, 0, r->time.q3},
        {F_SIZE, NULL, r->time.n, 0},
        {F_COUNT, NULL, 0, r->flops},
        {F_NUM, NULL, 0, r->gflops},
        {F_NUM, NULL, 0, r->speedup},
        {F_BOOL, NULL, (size_t)(r->is_default != 0), 0},
        {F_STR, r->limit, 0, 0},
        {F_NUM, NULL, 0, r->limit_gflops},
        {F_NUM, NULL, 0, r->fraction},
        {F_NUM, NULL, 0, r->floor_ms},
        {F_NUM, NULL, 0, r->floor_ratio},
        {F_STR, r->activations, 0, 0},
        {F_BOOL, NULL, (size_t)(r->derived != 0), 0},
        {F_COUNT, NULL, 0, r->memory_bytes},
        {F_STR, r->cell ? r->cell : "vanilla", 0, 0},
    };
    memcpy(f, all, sizeof all);
}

/* 6 significant digits are more than any timing deserves; flop counts,
 * whole numbers, print in full. */
#define NUM_FMT "%.6g"
#define COUNT_FMT "%.0f"

static void csv_string(FILE *f, const char *s)
{
    if (!s)
        return;
    if (!strpbrk(s, ",\"\r\n")) {
        fputs(s, f);
        return;
    }
    fputc('"', f);
    for (; *s; s++) {
        if (*s == '"')
            fputc('"', f);
        fputc(*s, f);
    }
    fputc('"', f);
}

int bench_csv_write(FILE *f, const bench_record *rec, size_t n)
{
    fprintf(f, "%s\n", bench_csv_columns);
    for (size_t i = 0; i < n; i++) {
        field fl[NFIELDS];
        fields(&rec[i], fl);
        for (int k = 0; k < NFIELDS; k++) {
            if (k)
                fputc(',', f);
            switch (fl[k].kind) {
            case F_STR:
                csv_string(f, fl[k].s);
                break;
            case F_SIZE:
            case F_BOOL:
                fprintf(f, "%zu", fl[k].z);
                break;
            case F_NUM:
            case F_COUNT:
                if (isfinite(fl[k].d))
                    fprintf(f, fl[k].kind == F_NUM ? NUM_FMT : COUNT_FMT,
                            fl[k].d);
                break;
            }
        }
        fputc('\n', f);
    }
    return ferror(f) ? -1 : 0;
}

void bench_json_string(FILE *f, const char *s)
{
    if (!s) {
        fputs("null", f);
        return;
    }
    fputc('"', f);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        switch (*p) {
        case '"':
            fputs("\\\"", f);
            break;
        case '\\':
            fputs("\\\\", f);
            break;
        case '\n':
            fputs("\\n", f);
            break;
        case '\t':
            fputs("\\t", f);
            break;
        case '\r':
            fputs("\\r", f);
            break;
        default:
            if (*p < 0x20)
                fprintf(f, "\\u%04x", *p);
            else
                fputc(*p, f);
        }
    }
    fputc('"', f);
}

static void json_num(FILE *f, double d)
{
    if (isfinite(d))
        fprintf(f, NUM_FMT, d);
    else
        fputs("null", f);
}

void bench_json_record(FILE *f, const bench_record *r)
{
    field fl[NFIELDS];
    fields(r, fl);
    const char *name = bench_csv_columns;
    fputc('{', f);
    for (int k = 0; k < NFIELDS; k++) {
        const size_t len = strcspn(name, ",");
        fprintf(f, "%s\"%.*s\": ", k ? ", " : "", (int)len, name);
        name += len + (name[len] == ',');
        switch (fl[k].kind) {
        case F_STR:
            bench_json_string(f, fl[k].s);
            break;
        case F_SIZE:
            fprintf(f, "%zu", fl[k].z);
            break;
        case F_BOOL:
            fputs(fl[k].z ? "true" : "false", f);
            break;
        case F_NUM:
            json_num(f, fl[k].d);
            break;
        case F_COUNT:
            if (isfinite(fl[k].d))
                fprintf(f, COUNT_FMT, fl[k].d);
            else
                fputs("null", f);
            break;
        }
    }
    fputc('}', f);
}

static void str_member(FILE *f, const char *sep, const char *key,
                       const char *value)
{
    fprintf(f, "%s\"%s\": ", sep, key);
    bench_json_string(f, value);
}

/* Refusals or notes: an array of objects with the case and the text under
 * key. */
static void json_case_texts(FILE *f, const bench_refusal *r, size_t n,
                            const char *subject, const char *key)
{
    for (size_t i = 0; i < n; i++) {
        fputs(i ? ",\n    {" : "\n    {", f);
        str_member(f, "", subject, r[i].algo);
        str_member(f, ", ", "precision", r[i].precision);
        fprintf(f, ", \"din\": %zu, \"dout\": %zu, \"T\": %zu, \"B\": %zu",
                r[i].din, r[i].dout, r[i].T, r[i].B);
        str_member(f, ", ", "activations",
                   r[i].activations ? r[i].activations : "tanh");
        str_member(f, ", ", key, r[i].reason);
        fputc('}', f);
    }
}

void bench_json_blas(FILE *f, const bptt_blas_info *b)
{
    const char *sep = ",\n    ";
    fputc('{', f);
    str_member(f, "\n    ", "vendor", b->vendor);
    str_member(f, sep, "version", b->version);
    str_member(f, sep, "core", b->core);
    str_member(f, sep, "config", b->config);
    fprintf(f, "%s\"threads\": %d", sep, b->threads);
    str_member(f, sep, "blas_isa", bptt_isa_name(b->blas_isa));
    str_member(f, sep, "cpu_isa", bptt_isa_name(b->cpu_isa));
    str_member(f, sep, "kernel_isa", bptt_isa_name(b->kernel_isa));
    fprintf(f, "%s\"own_gemm\": %s", sep, bptt_own_gemm() ? "true" : "false");
    fprintf(f, "%s\"weaker\": %s", sep, b->weaker ? "true" : "false");
    str_member(f, sep, "remedy", b->remedy);
    fprintf(f, "%s\"representative\": %s\n  }", sep,
            b->weaker ? "false" : "true");
}

int bench_json_write(FILE *f, const bench_env *env, const bench_limits *lim,
                     size_t nlim, const bench_record *rec, size_t n,
                     const bench_refusal *ref, size_t nref,
                     const bench_refusal *note, size_t nnote)
{
    const char *sep = ",\n    ";
    fputs("{\n  \"blas\": ", f);
    bench_json_blas(f, &env->blas);
    fputs(",\n  \"environment\": {", f);
    str_member(f, "\n    ", "cpu", env->cpu);
    fprintf(f, "%s\"cpus_online\": %ld", sep, env->ncpu);
    str_member(f, sep, "compiler", env->compiler);
    str_member(f, sep, "cflags", env->cflags);
    str_member(f, sep, "date", env->date);
    str_member(f, sep, "bptt_version", env->bptt_version);
    str_member(f, sep, "command", env->command);
    fprintf(f, "%s\"budget_ms\": ", sep);
    json_num(f, env->budget_ms);
    str_member(f, sep, "peers", env->peers);
    fputs("\n  },\n  \"limits\": [", f);
    for (size_t i = 0; i < nlim; i++) {
        fprintf(f, "%s\n    {\"precision\": ", i ? "," : "");
        bench_json_string(f, lim[i].precision);
        fprintf(f, ", \"gemm_n\": %zu, \"gemm_gflops\": ", lim[i].gemm_n);
        json_num(f, lim[i].gemm_gflops);
        fputs(", \"read\": [", f);
        for (size_t j = 0; j < lim[i].nread; j++) {
            fprintf(f, "%s{\"bytes\": %zu, \"gbs\": ", j ? ", " : "",
                    lim[i].read[j].bytes);
            json_num(f, lim[i].read[j].gbs);
            fputc('}', f);
        }
        fputc(']', f);
        fputc('}', f);
    }
    fputs("\n  ],\n  \"records\": [", f);
    for (size_t i = 0; i < n; i++) {
        fputs(i ? ",\n    " : "\n    ", f);
        bench_json_record(f, &rec[i]);
    }
    fputs("\n  ],\n  \"refused\": [", f);
    json_case_texts(f, ref, nref, "algo", "reason");
    fputs("\n  ],\n  \"notes\": [", f);
    json_case_texts(f, note, nnote, "subject", "note");
    fputs("\n  ]\n}\n", f);
    return ferror(f) ? -1 : 0;
}

void bench_table_warning(FILE *f, const bptt_blas_info *b)
{
    if (b->weaker)
        fprintf(f, "NOT REPRESENTATIVE: %s\n", b->remedy);
}

void bench_table_env(FILE *f, const bench_env *env)
{
    const bptt_blas_info *b = &env->blas;
    bench_table_warning(f, b);
    fprintf(f, "BLAS      %s%s%s, core %s (%s kernels), %d thread(s); CPU %s, "
               "bptt's kernels %s, its GEMMs on %s\n",
            b->vendor, b->version[0] ? " " : "", b->version,
            b->core[0] ? b->core : "unknown", bptt_isa_name(b->blas_isa),
            b->threads, bptt_isa_name(b->cpu_isa),
            bptt_isa_name(b->kernel_isa),
            bptt_own_gemm() ? "bptt's own kernels" : "the BLAS");
    if (b->config[0])
        fprintf(f, "          %s\n", b->config);
    fprintf(f, "bptt %s, %s, budget %g ms per case and pass\n",
            env->bptt_version, env->date, env->budget_ms);
    fprintf(f, "CPU       %s (%ld online)\n", env->cpu, env->ncpu);
    fprintf(f, "compiler  %s: %s\n", env->compiler, env->cflags);
    if (env->peers[0])
        fprintf(f, "peers     %s\n", env->peers);
}

/* Bytes as KiB, MiB or GiB. */
static void bytes_str(char *buf, size_t size, double bytes)
{
    if (!isfinite(bytes))
        snprintf(buf, size, "-");
    else if (bytes < 1024.0 * 1024)
        snprintf(buf, size, "%.1f KiB", bytes / 1024);
    else if (bytes < 1024.0 * 1024 * 1024)
        snprintf(buf, size, "%.1f MiB", bytes / (1024.0 * 1024));
    else
        snprintf(buf, size, "%.2f GiB", bytes / (1024.0 * 1024 * 1024));
}

void bench_table_limits_legend(FILE *f)
{
    fputs("%limit: the least time a pass can take here over its median, "
          "from the roof in\ncolumn \"of\": gemm (its flops at the GEMM "
          "limit) or read (Wy read once per step\nof a recurrence at the "
          "read limit of Wy's size, measured before each case)\n", f);
}

void bench_table_limits(FILE *f, const bench_limits *lim, size_t nlim)
{
    for (size_t i = 0; i < nlim; i++) {
        fprintf(f, "limits    %-6s GEMM %zu^3: %.1f GFLOP/s", lim[i].precision,
                lim[i].gemm_n, lim[i].gemm_gflops);
        for (size_t j = 0; j < lim[i].nread; j++) {
            char b[32];
            bytes_str(b, sizeof b, (double)lim[i].read[j].bytes);
            fprintf(f, "%s %s %.1f GB/s", j ? "," : "; read", b,
                    lim[i].read[j].gbs);
        }
        fputc('\n', f);
    }
}

/* A number in a column of width w by the printf format fmt (one double),
 * or "-" where it does not apply. */
static void cell(FILE *f, int w, const char *fmt, double d)
{
    char buf[64] = "-";
    if (isfinite(d))
        snprintf(buf, sizeof buf, fmt, d);
    fprintf(f, " %*s", w, buf);
}

void bench_table_case(FILE *f, const bench_record *rec, size_t n)
{
    if (n == 0)
        return;
    const bench_record *c = &rec[0];
    if (c->cell && strcmp(c->cell, "vanilla") != 0)
        fprintf(f, "\n%s  %s cell  din=%zu n=%zu T=%zu B=%zu", c->precision,
                c->cell, c->din, c->dout, c->T, c->B);
    else
        fprintf(f, "\n%s  din=%zu dout=%zu T=%zu B=%zu  %s units",
                c->precision, c->din, c->dout, c->T, c->B,
                c->activations ? c->activations : "tanh");
    for (size_t i = 0; i < n; i++)
        if (rec[i].is_default && strcmp(rec[i].pass, "forward") == 0) {
            fprintf(f, "   auto -> %s; speedup of the default:", rec[i].algo);
            for (size_t j = 0; j < n; j++)
                if (rec[j].is_default && isfinite(rec[j].speedup))
                    fprintf(f, " %s %.1fx", rec[j].pass, rec[j].speedup);
            break;
        }
    fprintf(f, "\n  %-10s %-17s %10s %10s %10s %10s %10s %6s %8s %7s %-4s "
               "%10s %7s %8s\n",
            "algo", "pass", "median ms", "q1", "q3", "min", "max", "reps",
            "GFLOP/s", "%limit", "of", "floor ms", "xfloor", "vs naive");
    int derived = 0;
    for (size_t i = 0; i < n; i++) {
        const bench_record *r = &rec[i];
        char pass[32];
        snprintf(pass, sizeof pass, "%s%s", r->pass, r->derived ? "*" : "");
        derived |= r->derived;
        fprintf(f, "  %-10s %-17s", r->algo, pass);
        /* 4 significant digits: µs-scale and second-scale times alike */
        cell(f, 10, "%.4g", r->time.median);
        cell(f, 10, "%.4g", r->time.q1);
        cell(f, 10, "%.4g", r->time.q3);
        cell(f, 10, "%.4g", r->time.min);
        cell(f, 10, "%.4g", r->time.max);
        fprintf(f, " %6zu", r->time.n);
        cell(f, 8, "%.2f", r->gflops);
        cell(f, 7, "%.1f", 100 * r->fraction);
        fprintf(f, " %-4s", r->limit ? r->limit : "-");
        cell(f, 10, "%.4g", r->floor_ms);
        cell(f, 7, "%.2f", r->floor_ratio);
        cell(f, 8, "%.1fx", r->speedup);
        fputc('\n', f);
    }
    if (derived)
        fputs("  * derived, not measured: the backward median minus the "
              "backward_data median\n    (the public API cannot run the "
              "weight gradient alone); 0 reps, no quartiles\n", f);
}

/* The record of (algo, pass) among rec[0..n-1], or of the default
 * algorithm for algo NULL; NULL if there is none. */
static const bench_record *find(const bench_record *rec, size_t n,
                                const char *algo, const char *pass)
{
    for (size_t i = 0; i < n; i++)
        if ((algo ? strcmp(rec[i].algo, algo) == 0 : rec[i].is_default)
            && strcmp(rec[i].pass, pass) == 0)
            return &rec[i];
    return NULL;
}

/* a / b of two records' medians, NaN where either is missing. */
static double ratio(const bench_record *a, const bench_record *b)
{
    return a && b ? a->time.median / b->time.median : NAN;
}

/* A peer's time over bptt's and, beside it, which of the two that ratio
 * says is faster: each pass's word follows that pass's own ratio. */
static void ratio_verdict(char *buf, size_t size, double r, const char *peer)
{
    if (!isfinite(r))
        snprintf(buf, size, "-");
    else if (r > 1)
        snprintf(buf, size, "%.2fx (bptt faster)", r);
    else if (r < 1)
        snprintf(buf, size, "%.2fx (%s faster)", r, peer);
    else
        snprintf(buf, size, "%.2fx (same)", r);
}

static int same_case(const bench_record *a, const bench_record *b)
{
    return strcmp(a->precision, b->precision) == 0
           && strcmp(a->cell ? a->cell : "vanilla",
                     b->cell ? b->cell : "vanilla") == 0
           && a->din == b->din
           && a->dout == b->dout && a->T == b->T && a->B == b->B;
}

void bench_table_ratios(FILE *f, const bench_record *all, size_t first,
                        size_t n)
{
    if (first >= n)
        return;
    const bench_record *rec = all + first;
    const size_t k = n - first;
    const bench_record *dflt_fb = find(rec, k, NULL, "forward_backward");
    const bench_record *dflt_b = find(rec, k, NULL, "backward");
    const char *dflt = dflt_b ? dflt_b->algo : "?";

    /* Peers: any algo timed with a forward_backward pass but not the
     * default. */
    for (size_t i = 0; i < k; i++) {
        const bench_record *r = &rec[i];
        if (r->is_default || strcmp(r->pass, "forward_backward") != 0)
            continue;
        char b[64], fb[64];
        ratio_verdict(b, sizeof b,
                      ratio(find(rec, k, r->algo, "backward"), dflt_b),
                      r->algo);
        ratio_verdict(fb, sizeof fb, ratio(r, dflt_fb), r->algo);
        fprintf(f, "  %s / bptt (%s), median time: backward %s, "
                   "forward+backward %s\n", r->algo, dflt, b, fb);
    }

    /* A mixed case against its all-tanh twin. */
    if (rec[0].activations && strcmp(rec[0].activations, "mixed") == 0) {
        const bench_record *tf = NULL, *tb = NULL;
        for (size_t i = 0; i < first; i++)
            if (all[i].is_default && same_case(&all[i], &rec[0])
                && all[i].activations
                && strcmp(all[i].activations, "tanh") == 0) {
                if (strcmp(all[i].pass, "forward") == 0)
                    tf = &all[i];
                else if (strcmp(all[i].pass, "backward") == 0)
                    tb = &all[i];
            }
        if (tf && tb)
            fprintf(f, "  mixed / all-tanh (%s), median time: forward %.2fx, "
                       "backward %.2fx\n",
                    dflt, ratio(find(rec, k, NULL, "forward"), tf),
                    ratio(dflt_b, tb));
    }

    /* RTRL against BPTT's default, per sequence of T steps. */
    for (size_t i = 0; i < k; i++) {
        const bench_record *r = &rec[i];
        if (strncmp(r->algo, "rtrl-", 5) != 0 || strcmp(r->pass, "sequence"))
            continue;
        char rb[32], wb[32];
        bytes_str(rb, sizeof rb, r->memory_bytes);
        bytes_str(wb, sizeof wb, dflt_fb ? dflt_fb->memory_bytes : NAN);
        fprintf(f, "  %s / bptt (%s) forward+backward: time %.0fx, memory "
                   "%s / %s; %.1f%% of the GEMM limit\n",
                r->algo, dflt, ratio(r, dflt_fb), rb, wb, 100 * r->fraction);
    }
}
