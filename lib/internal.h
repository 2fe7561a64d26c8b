/*
 * internal.h — what the library's sources share and users never see: the
 * network descriptor's layout, error reporting and checked size arithmetic.
 * Precision-independent.
 */
#ifndef BPTT_INTERNAL_H
#define BPTT_INTERNAL_H

#include <limits.h>
#include <stddef.h>
#include <stdint.h>

#include "bptt.h"

#if defined(__GNUC__)
#define BPTT_HIDDEN __attribute__((visibility("hidden")))
#define BPTT_PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
#define BPTT_HIDDEN
#define BPTT_PRINTF(a, b)
#endif

/* A maximal run of consecutive units with the same activation.  Forward and
 * backward apply activations run by run, so the kind is decided once per
 * run and not once per element. */
typedef struct bptt_run {
    size_t start, len;
    bptt_activation act;
} bptt_run;

struct bptt_net {
    size_t din, dout, m;        /* m = din + dout, the length of s(t) */
    bptt_activation *act;       /* dout codes */
    bptt_run *runs;             /* nruns runs covering 0..dout-1 */
    size_t nruns;
    /* The units grouped by activation, for nets whose runs are short
     * (interleaved kinds): order[group[k] .. group[k+1]) are the units of
     * kind k, ascending.  NULL when the runs are long enough to use. */
    size_t *order;
    size_t group[BPTT_NACTIVATION + 1];
    bptt_custom_activation custom;
};

/* Network B (elman_net.c): the core is a Network A descriptor, referred to,
 * not owned; or, with cell a gated kind, the LSTM or GRU of bptt/gated.h
 * with net's din and dout (its activations unused) and G gates. */
struct bptt_elman {
    const bptt_net *net;
    size_t nout;
    bptt_head head;
    bptt_cell cell;
    size_t G; /* rows of W per hidden unit: 1 (vanilla), 4 or 3 */
};

/* Record the detail of an error for bptt_error_detail() and return status.
 * fn is the public function's name. */
BPTT_HIDDEN bptt_status bptt__fail(bptt_status status, const char *fn,
                                   const char *fmt, ...) BPTT_PRINTF(3, 4);

/* Check a rows x cols matrix argument p with leading dimension ld and
 * elements of elem bytes (rows, cols > 0, checked by the caller): present
 * if required (NULL and not required: BPTT_OK), ld >= cols (BPTT_ELD), ld
 * within BLAS's int and the extent addressable (BPTT_EOVERFLOW).  The
 * detail names fn and the argument name. */
BPTT_HIDDEN bptt_status bptt__check_mat(const char *fn, const char *name,
                                        const void *p, int required,
                                        size_t rows, size_t cols, size_t ld,
                                        size_t elem);

/* Return the status of a check unless it is BPTT_OK. */
#define CHECK(call)                                                            \
    do {                                                                       \
        bptt_status st_ = (call);                                              \
        if (st_ != BPTT_OK)                                                    \
            return st_;                                                        \
    } while (0)

/* A call's T and B (> 0, within the workspace's Tmax and Bmax: BPTT_ESIZE,
 * BPTT_ECAPACITY) and its algorithm code (BPTT_EALGO). */
BPTT_HIDDEN bptt_status bptt__check_shape(const char *fn, size_t T, size_t B,
                                          size_t Tmax, size_t Bmax,
                                          bptt_algo algo);

/* a*b and a+b, or 0 with *ok cleared on overflow (ok is sticky, so a chain
 * of operations needs one test at the end). */
static inline size_t bptt__mul(size_t a, size_t b, int *ok)
{
    if (a != 0 && b > SIZE_MAX / a) {
        *ok = 0;
        return 0;
    }
    return a * b;
}

static inline size_t bptt__add(size_t a, size_t b, int *ok)
{
    if (b > SIZE_MAX - a) {
        *ok = 0;
        return 0;
    }
    return a + b;
}

/* Round n up to a multiple of 64 bytes (cache line, AVX-512 vector). */
static inline size_t bptt__up64(size_t n, int *ok)
{
    return bptt__add(n, 63, ok) & ~(size_t)63;
}

/* Largest size or leading dimension the BLAS interface (32-bit int) takes. */
#define BPTT_INT_MAX ((size_t)INT_MAX)

#endif /* BPTT_INTERNAL_H */
