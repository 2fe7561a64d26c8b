/*
 * The BLAS report (bptt/blas.h) and the instruction-set levels (bptt/cpu.h):
 * a NULL argument is trapped; every string comes back NUL-terminated; the
 * report agrees with bptt_cpu_isa, bptt_kernel_isa and, when the build is
 * against OpenBLAS, with OpenBLAS's own calls; "weaker" and the remedy
 * follow from the levels; the kernel-set table on names from every family,
 * whatever the machine; BPTT_MAX_ISA caps the kernels' level, in a fresh
 * process each (the level is read once per process).
 */
#define _POSIX_C_SOURCE 200809L /* posix_spawn, setenv */
#include <check.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "blas/cores.h" /* bptt__blas_core_isa, linked from its own lib */
#include "testutil.h"

#ifdef TEST_HAVE_OPENBLAS
#include <cblas.h>
#endif

extern char **environ;

START_TEST(null_is_trapped)
{
    ck_assert_int_eq(bptt_blas_info_get(NULL), BPTT_ENULL);
    ck_assert_ptr_nonnull(strstr(bptt_error_detail(), "bptt_blas_info_get"));
}
END_TEST

/* A string field holds a NUL within its array. */
#define TERMINATED(field) (memchr((field), '\0', sizeof(field)) != NULL)

START_TEST(report_is_consistent)
{
    bptt_blas_info info;
    memset(&info, 0xA5, sizeof info); /* no NUL anywhere to start with */
    ck_assert_int_eq(bptt_blas_info_get(&info), BPTT_OK);
    ck_assert(TERMINATED(info.vendor) && TERMINATED(info.version));
    ck_assert(TERMINATED(info.core) && TERMINATED(info.config));
    ck_assert(TERMINATED(info.remedy));
    ck_assert_int_eq(info.cpu_isa, bptt_cpu_isa());
    ck_assert_int_eq(info.kernel_isa, bptt_kernel_isa());
    ck_assert_int_eq(info.blas_isa, bptt__blas_core_isa(info.core));
    ck_assert_int_ge(info.threads, 0);
    const int weaker = info.blas_isa != BPTT_ISA_UNKNOWN
                       && info.blas_isa < info.cpu_isa;
    ck_assert_int_eq(info.weaker, weaker);
    ck_assert_int_eq(info.remedy[0] != '\0', weaker);
    if (weaker) {
        /* names what runs, on what, and the variable or the rebuild */
        ck_assert_ptr_nonnull(strstr(info.remedy, info.core));
        ck_assert_ptr_nonnull(strstr(info.remedy,
                                     bptt_isa_name(info.cpu_isa)));
        ck_assert(strstr(info.remedy, "OPENBLAS_CORETYPE")
                  || strstr(info.remedy, "DYNAMIC_ARCH"));
    }
}
END_TEST

#ifdef TEST_HAVE_OPENBLAS
/* Against OpenBLAS's own report, called directly. */
START_TEST(report_matches_openblas)
{
    bptt_blas_info info;
    ck_assert_int_eq(bptt_blas_info_get(&info), BPTT_OK);
    ck_assert_str_eq(info.vendor, "OpenBLAS");
    char core[sizeof info.core];
    snprintf(core, sizeof core, "%s", openblas_get_corename());
    for (size_t n = strlen(core); n > 0 && core[n - 1] == ' '; n--)
        core[n - 1] = '\0';
    ck_assert_str_eq(info.core, core);
    ck_assert_int_eq(info.threads, openblas_get_num_threads());
    const char *config = openblas_get_config();
    ck_assert(strncmp(info.config, config, strlen(info.config)) == 0);
    /* "OpenBLAS 0.3.21 ...": the version is the second word */
    char version[64] = "";
    sscanf(config, "OpenBLAS %63s", version);
    ck_assert_str_eq(info.version, version);
    ck_assert(strchr("0123456789", info.version[0]));
}
END_TEST
#endif

START_TEST(isa_names)
{
    ck_assert_str_eq(bptt_isa_name(BPTT_ISA_UNKNOWN), "unknown");
    ck_assert_str_eq(bptt_isa_name(BPTT_ISA_SSE), "sse");
    ck_assert_str_eq(bptt_isa_name(BPTT_ISA_AVX), "avx");
    ck_assert_str_eq(bptt_isa_name(BPTT_ISA_AVX2), "avx2");
    ck_assert_str_eq(bptt_isa_name(BPTT_ISA_AVX512), "avx512");
    ck_assert_str_eq(bptt_isa_name(BPTT_NISA), "invalid");
    ck_assert_str_eq(bptt_isa_name((bptt_isa)-1), "invalid");
    ck_assert(BPTT_ISA_SSE < BPTT_ISA_AVX && BPTT_ISA_AVX < BPTT_ISA_AVX2
              && BPTT_ISA_AVX2 < BPTT_ISA_AVX512);
}
END_TEST

/* The table, whatever the machine: names as dynamic builds report them
 * and as single-target builds do (upper case). */
START_TEST(core_table)
{
    static const struct {
        const char *name;
        bptt_isa isa;
    } want[] = {
        {"Prescott", BPTT_ISA_SSE},       {"Core2", BPTT_ISA_SSE},
        {"Penryn", BPTT_ISA_SSE},         {"Dunnington", BPTT_ISA_SSE},
        {"Nehalem", BPTT_ISA_SSE},        {"Atom", BPTT_ISA_SSE},
        {"Opteron", BPTT_ISA_SSE},        {"Opteron_SSE3", BPTT_ISA_SSE},
        {"Barcelona", BPTT_ISA_SSE},      {"Bobcat", BPTT_ISA_SSE},
        {"Nano", BPTT_ISA_SSE},           {"Katmai", BPTT_ISA_SSE},
        {"Sandybridge", BPTT_ISA_AVX},    {"Bulldozer", BPTT_ISA_AVX},
        {"Piledriver", BPTT_ISA_AVX},     {"Steamroller", BPTT_ISA_AVX},
        {"Excavator", BPTT_ISA_AVX},      {"Haswell", BPTT_ISA_AVX2},
        {"Zen", BPTT_ISA_AVX2},           {"SkylakeX", BPTT_ISA_AVX512},
        {"Cooperlake", BPTT_ISA_AVX512},  {"SapphireRapids", BPTT_ISA_AVX512},
        {"PRESCOTT", BPTT_ISA_SSE},       {"HASWELL", BPTT_ISA_AVX2},
        {"SKYLAKEX", BPTT_ISA_AVX512},    {"OPTERON_SSE3", BPTT_ISA_SSE},
        {"Unknown", BPTT_ISA_UNKNOWN},    {"ARMV8", BPTT_ISA_UNKNOWN},
        {"NEOVERSEN1", BPTT_ISA_UNKNOWN}, {"POWER9", BPTT_ISA_UNKNOWN},
        {"Haswel", BPTT_ISA_UNKNOWN},     {"Haswellx", BPTT_ISA_UNKNOWN},
        {"", BPTT_ISA_UNKNOWN},
    };
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++)
        ck_assert_msg(bptt__blas_core_isa(want[i].name) == want[i].isa,
                      "%s: %s, want %s", want[i].name,
                      bptt_isa_name(bptt__blas_core_isa(want[i].name)),
                      bptt_isa_name(want[i].isa));
    ck_assert_int_eq(bptt__blas_core_isa(NULL), BPTT_ISA_UNKNOWN);
}
END_TEST

/* The program itself (argv[0]: under valgrind /proc/self/exe is valgrind),
 * run as "test_blas kernel-isa" with BPTT_MAX_ISA set to cap (NULL:
 * unset): the exit status is 8·bptt_kernel_isa() + bptt_cpu_isa() in that
 * fresh process, which runs natively even when this one runs under a tool
 * that emulates a narrower CPU. */
static const char *self = "/proc/self/exe";

static int kernel_isa_with(const char *cap, bptt_isa *cpu)
{
    char var[64];
    size_t n = 0, k = 0;
    while (environ[n])
        n++;
    char **env = malloc((n + 2) * sizeof *env);
    ck_assert_ptr_nonnull(env);
    for (size_t i = 0; i < n; i++)
        if (strncmp(environ[i], "BPTT_MAX_ISA=", 13) != 0)
            env[k++] = environ[i];
    if (cap) {
        snprintf(var, sizeof var, "BPTT_MAX_ISA=%s", cap);
        env[k++] = var;
    }
    env[k] = NULL;
    char *argv[] = {(char *)self, "kernel-isa", NULL};
    pid_t pid;
    ck_assert_int_eq(posix_spawn(&pid, self, NULL, NULL, argv, env), 0);
    free(env);
    int status;
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    ck_assert(WIFEXITED(status));
    *cpu = (bptt_isa)(WEXITSTATUS(status) % 8);
    return WEXITSTATUS(status) / 8;
}

/* The level of bptt's kernels on this CPU: the widest of sse, avx2 and
 * avx512 it runs (there are no avx kernels). */
static bptt_isa rounded(bptt_isa cpu)
{
    return cpu >= BPTT_ISA_AVX512 ? BPTT_ISA_AVX512
           : cpu >= BPTT_ISA_AVX2 ? BPTT_ISA_AVX2
                                  : BPTT_ISA_SSE;
}

START_TEST(max_isa_caps_the_kernels)
{
    static const struct {
        const char *cap;
        bptt_isa max;
    } cases[] = {
        {NULL, BPTT_NISA},      {"sse", BPTT_ISA_SSE},
        {"avx2", BPTT_ISA_AVX2}, {"avx512", BPTT_ISA_AVX512},
        {"avx", BPTT_NISA},     /* not a kernel level: ignored */
        {"bogus", BPTT_NISA},   {"", BPTT_NISA},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        bptt_isa child_cpu;
        const int got = kernel_isa_with(cases[i].cap, &child_cpu);
        const bptt_isa cpu = rounded(child_cpu);
        const int want = (int)(cpu < cases[i].max ? cpu : cases[i].max);
        ck_assert_msg(got == want, "BPTT_MAX_ISA=%s: %s, want %s",
                      cases[i].cap ? cases[i].cap : "(unset)",
                      bptt_isa_name((bptt_isa)got),
                      bptt_isa_name((bptt_isa)want));
        ck_assert_int_le(got, child_cpu);
    }
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("blas");
    TCase *tc = tcase_create("report");
    tcase_add_test(tc, null_is_trapped);
    tcase_add_test(tc, report_is_consistent);
#ifdef TEST_HAVE_OPENBLAS
    tcase_add_test(tc, report_matches_openblas);
#endif
    suite_add_tcase(s, tc);
    TCase *isa = tcase_create("isa");
    tcase_add_test(isa, isa_names);
    tcase_add_test(isa, core_table);
    tcase_add_test(isa, max_isa_caps_the_kernels);
    suite_add_tcase(s, isa);
    return s;
}

int main(int argc, char **argv)
{
    if (argc == 2 && strcmp(argv[1], "kernel-isa") == 0)
        return 8 * (int)bptt_kernel_isa() + (int)bptt_cpu_isa();
    if (argc > 0 && strchr(argv[0], '/'))
        self = argv[0];
    return tu_run_suite(suite());
}
