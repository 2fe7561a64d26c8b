/*
 * status.c — status texts, the thread-local error detail, names and version.
 */
#include <stdarg.h>
#include <stdio.h>

#include "internal.h"

#define STR2(x) #x
#define STR(x) STR2(x)

const char *bptt_version(void)
{
    return STR(BPTT_VERSION_MAJOR) "." STR(BPTT_VERSION_MINOR) "." STR(
        BPTT_VERSION_PATCH);
}

const char *bptt_strerror(bptt_status status)
{
    static const char *const text[BPTT_NSTATUS] = {
        [BPTT_OK] = "success",
        [BPTT_ENULL] = "a required pointer argument is NULL",
        [BPTT_ESIZE] = "a size argument is zero",
        [BPTT_ELD] = "a leading dimension is smaller than its row length",
        [BPTT_ECAPACITY] = "T or B exceeds the workspace capacity",
        [BPTT_EOVERFLOW] = "an element or byte count overflows",
        [BPTT_EACTIVATION] = "unknown or incomplete activation",
        [BPTT_EALGO] = "unknown algorithm",
        [BPTT_ENOMEM] = "out of memory",
        [BPTT_ENOFORWARD] = "backward without a matching forward in the workspace",
        [BPTT_EMISMATCH] = "workspace belongs to another network descriptor",
        [BPTT_EBUFFER] = "workspace buffer is too small",
        [BPTT_EINVAL] = "invalid argument value",
        [BPTT_ENONFINITE] = "a value is NaN or infinite",
        [BPTT_ELAPACK] = "a LAPACK routine failed",
        [BPTT_ETHREAD] = "a thread could not be started",
        [BPTT_EOVERLAP] = "an output overlaps an input or another output",
        [BPTT_EBUSY] = "the workspace is in use by another call",
        [BPTT_EIO] = "the file system refused a read or write",
        [BPTT_EFORMAT] = "not a bptt checkpoint, or of the other byte order",
        [BPTT_EVERSION] = "a checkpoint of another format version",
        [BPTT_ECORRUPT] = "a checkpoint is truncated or fails its CRC-32C",
    };
    if ((unsigned)status >= BPTT_NSTATUS)
        return "unknown status";
    return text[status];
}

static _Thread_local char detail[256];

const char *bptt_error_detail(void)
{
    return detail;
}

bptt_status bptt__fail(bptt_status status, const char *fn, const char *fmt,
                       ...)
{
    int n = snprintf(detail, sizeof detail, "%s: ", fn);
    if (n < 0 || (size_t)n >= sizeof detail)
        return status;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(detail + n, sizeof detail - (size_t)n, fmt, ap);
    va_end(ap);
    return status;
}

const char *bptt_activation_name(bptt_activation act)
{
    static const char *const name[BPTT_NACTIVATION] = {
        [BPTT_ACT_IDENTITY] = "identity", [BPTT_ACT_TANH] = "tanh",
        [BPTT_ACT_LOGISTIC] = "logistic", [BPTT_ACT_RELU] = "relu",
        [BPTT_ACT_SOFTPLUS] = "softplus", [BPTT_ACT_CUSTOM] = "custom",
    };
    return (unsigned)act < BPTT_NACTIVATION ? name[act] : NULL;
}

const char *bptt_algo_name(bptt_algo algo)
{
    static const char *const name[BPTT_NALGO] = {
        [BPTT_ALGO_AUTO] = "auto",
        [BPTT_ALGO_NAIVE] = "naive",
        [BPTT_ALGO_GEMV_GER] = "gemv-ger",
        [BPTT_ALGO_DEFERRED] = "deferred",
    };
    return (unsigned)algo < BPTT_NALGO ? name[algo] : NULL;
}

const char *bptt_rtrl_algo_name(bptt_rtrl_algo algo)
{
    static const char *const name[BPTT_RTRL_NALGO] = {
        [BPTT_RTRL_AUTO] = "auto",
        [BPTT_RTRL_NAIVE] = "naive",
        [BPTT_RTRL_GEMM] = "gemm",
    };
    return (unsigned)algo < BPTT_RTRL_NALGO ? name[algo] : NULL;
}
