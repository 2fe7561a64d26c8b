/*
 * info.c — bptt_blas_info_get: which BLAS runs and whether its kernels are
 * weaker than the CPU (bptt/blas.h).
 *
 * OpenBLAS's report functions are looked up with dlsym at run time rather
 * than called, so that a build against another CBLAS still links; the
 * lookup finds them in whichever loaded library defines them, which is the
 * BLAS the library's own cblas_* calls go to.
 */
#define _GNU_SOURCE /* RTLD_DEFAULT */
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "blas/cores.h"

static const char FN[] = "bptt_blas_info_get";

/* Call the process's function name() if there is one.  dlsym's void * is
 * copied into the function pointer, not cast: ISO C has no conversion
 * from an object pointer to a function pointer. */
static const char *call_string(const char *name)
{
    const char *(*fn)(void) = NULL;
    void *sym = dlsym(RTLD_DEFAULT, name);
    if (!sym)
        return NULL;
    memcpy(&fn, &sym, sizeof fn);
    return fn();
}

static int call_int(const char *name, int fallback)
{
    int (*fn)(void) = NULL;
    void *sym = dlsym(RTLD_DEFAULT, name);
    if (!sym)
        return fallback;
    memcpy(&fn, &sym, sizeof fn);
    return fn();
}

/* s into buf (size bytes), truncated, without trailing blanks (some
 * OpenBLAS builds pad their config string). */
static void copy_trimmed(char *buf, size_t size, const char *s)
{
    snprintf(buf, size, "%s", s ? s : "");
    for (size_t n = strlen(buf); n > 0 && (buf[n - 1] == ' ' ||
                                           buf[n - 1] == '\n'); n--)
        buf[n - 1] = '\0';
}

/* The version from a config of the form "OpenBLAS 0.3.21 DYNAMIC_ARCH
 * ..."; "" for any other form. */
static void parse_version(char *buf, size_t size, const char *config)
{
    static const char prefix[] = "OpenBLAS ";
    buf[0] = '\0';
    if (strncmp(config, prefix, sizeof prefix - 1) != 0)
        return;
    const char *v = config + sizeof prefix - 1;
    const size_t len = strcspn(v, " ");
    if (len > 0 && v[0] >= '0' && v[0] <= '9')
        snprintf(buf, size, "%.*s", (int)len, v);
}

/* OpenBLAS's name of the kernel set that runs an ISA level best. */
static const char *core_for(bptt_isa isa)
{
    return isa >= BPTT_ISA_AVX512 ? "SkylakeX"
           : isa >= BPTT_ISA_AVX2 ? "Haswell"
                                  : "Sandybridge";
}

/* The remedy sentence of a weaker BLAS.  OPENBLAS_CORETYPE takes effect
 * only in a DYNAMIC_ARCH build and only when set before OpenBLAS loads; a
 * variable already set may itself be the cause. */
static void remedy(bptt_blas_info *in)
{
    const char *set = getenv("OPENBLAS_CORETYPE");
    const char *want = core_for(in->cpu_isa);
    /* Precisions bound every part, so the sentence always fits. */
    char what[96];
    snprintf(what, sizeof what,
             "%.12s%s%.12s runs its %.16s (%s) kernels on an %s CPU",
             in->vendor, in->version[0] ? " " : "", in->version, in->core,
             bptt_isa_name(in->blas_isa), bptt_isa_name(in->cpu_isa));
    if (!strstr(in->config, "DYNAMIC_ARCH"))
        snprintf(in->remedy, sizeof in->remedy,
                 "%s: this build has one kernel set; use an OpenBLAS built "
                 "with DYNAMIC_ARCH=1 or TARGET=%s", what, want);
    else if (set && *set)
        snprintf(in->remedy, sizeof in->remedy,
                 "%s: OPENBLAS_CORETYPE (%.24s) in the environment chose "
                 "them; give it %s, or unset it, before the program starts",
                 what, set, want);
    else
        snprintf(in->remedy, sizeof in->remedy,
                 "%s: set the environment variable OPENBLAS_CORETYPE to %s "
                 "before the program starts, or use OpenBLAS >= 0.3.25",
                 what, want);
}

bptt_status bptt_blas_info_get(bptt_blas_info *info)
{
    if (!info)
        return bptt__fail(BPTT_ENULL, FN, "info is NULL");
    /* Built aside and copied at the end: nothing is written on error, and
     * every byte of the result is defined. */
    bptt_blas_info in;
    memset(&in, 0, sizeof in);
    const char *config = call_string("openblas_get_config");
    copy_trimmed(in.vendor, sizeof in.vendor, config ? "OpenBLAS" : "unknown");
    copy_trimmed(in.config, sizeof in.config, config);
    parse_version(in.version, sizeof in.version, in.config);
    copy_trimmed(in.core, sizeof in.core, call_string("openblas_get_corename"));
    const int threads = call_int("openblas_get_num_threads", 0);
    in.threads = threads > 0 ? threads : 0;
    in.blas_isa = bptt__blas_core_isa(in.core);
    in.cpu_isa = bptt_cpu_isa();
    in.kernel_isa = bptt_kernel_isa();
    in.weaker = in.blas_isa != BPTT_ISA_UNKNOWN && in.blas_isa < in.cpu_isa;
    if (in.weaker)
        remedy(&in);
    *info = in;
    return BPTT_OK;
}
