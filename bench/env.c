/*
 * env.c — what the figures depend on, read from the machine, the BLAS and
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

/* "OpenBLAS 0.3.21 ..." has trailing blanks in some builds. */
static void copy_trimmed(char *buf, size_t size, const char *s)
{
    snprintf(buf, size, "%s", s ? s : "unknown");
    for (size_t n = strlen(buf); n > 0 && buf[n - 1] == ' '; n--)
        buf[n - 1] = '\0';
}

void bench_env_collect(bench_env *env, const char *command, double budget_ms)
{
    memset(env, 0, sizeof *env);
    cpu_model(env->cpu, sizeof env->cpu);
    env->ncpu = sysconf(_SC_NPROCESSORS_ONLN);
#ifdef BENCH_HAVE_OPENBLAS
    copy_trimmed(env->blas_vendor, sizeof env->blas_vendor, "OpenBLAS");
    copy_trimmed(env->blas_config, sizeof env->blas_config,
                 openblas_get_config());
    copy_trimmed(env->blas_core, sizeof env->blas_core,
                 openblas_get_corename());
#else
    copy_trimmed(env->blas_vendor, sizeof env->blas_vendor, BENCH_BLAS_NAME);
    copy_trimmed(env->blas_config, sizeof env->blas_config, "unknown");
    copy_trimmed(env->blas_core, sizeof env->blas_core, "unknown");
#endif
    env->blas_threads = bench_threads();
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
