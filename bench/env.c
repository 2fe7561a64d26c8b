/*
 * env.c — what the figures depend on, read from the machine, the BLAS (by
 * the library's bptt_blas_info_get, the one place that asks OpenBLAS) and
 * this build (benchconfig.h, written by meson).
 */
#define _POSIX_C_SOURCE 200809L
#include "env.h"

#include <bptt.h>
#include <cblas.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "benchconfig.h"

int bench_set_threads(int n)
{
#ifdef BENCH_HAVE_OPENBLAS
    openblas_set_num_threads(n);
    return 0;
#else
    (void)n;
    return -1;
#endif
}

int bench_threads(void)
{
#ifdef BENCH_HAVE_OPENBLAS
    return openblas_get_num_threads();
#else
    return 1;
#endif
}

/* The first "model name" of /proc/cpuinfo, or "unknown". */
static void cpu_model(char *buf, size_t size)
{
    snprintf(buf, size, "unknown");
    FILE *f = fopen("/proc/cpuinfo", "r");
    if (!f)
        return;
    char line[512];
    while (fgets(line, sizeof line, f)) {
        const char *colon = strchr(line, ':');
        if (strncmp(line, "model name", 10) == 0 && colon) {
            colon += 1 + (colon[1] == ' ');
            snprintf(buf, size, "%.*s", (int)strcspn(colon, "\n"), colon);
            break;
        }
    }
    fclose(f);
}

void bench_env_collect(bench_env *env, const char *command, double budget_ms)
{
    memset(env, 0, sizeof *env);
    cpu_model(env->cpu, sizeof env->cpu);
    env->ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    bptt_blas_info_get(&env->blas); /* cannot fail on a non-NULL pointer */
    env->compiler = BENCH_COMPILER;
    env->cflags = BENCH_CFLAGS;
    const time_t now = time(NULL);
    struct tm tm;
    if (gmtime_r(&now, &tm))
        strftime(env->date, sizeof env->date, "%Y-%m-%dT%H:%M:%SZ", &tm);
    env->bptt_version = bptt_version();
    env->command = command;
    env->budget_ms = budget_ms;
}
