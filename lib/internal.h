/*
 * internal.h — what the library's sources share and users never see: the
 * network descriptor's layout, error reporting and checked size arithmetic.
 * Precision-independent.
 */
#ifndef BPTT_INTERNAL_H
#define BPTT_INTERNAL_H

#include <limits.h>
#include <stdatomic.h>
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
    uint64_t gen;               /* bptt__generation(): workspaces keep it */
};

/* Network B (elman_net.c): the core is a Network A descriptor, referred to,
 * not owned; or, with cell a gated kind, the LSTM or GRU of bptt/gated.h
 * with net's din and dout (its activations unused) and G gates. */
struct bptt_elman {
    const bptt_net *net;
    size_t nout;
    bptt_head head;
    uint64_t gen;               /* bptt__generation(): workspaces keep it */
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

/* Token ids as inputs (bptt/train.h, bptt_forward_tokens): T·B ids, id
 * t*B + b step t of sequence b, each in [0, vocab).  tokens NULL:
 * BPTT_ENULL; an id out of range: BPTT_EINVAL, the detail naming its index,
 * step t, sequence b and value.  Reads every id; writes nothing.  Callers
 * check the ids before they write anything. */
BPTT_HIDDEN bptt_status bptt__check_tokens(const char *fn,
                                           const int32_t *tokens, size_t T,
                                           size_t B, size_t vocab);

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

/* ------------------------------------------------------------------------ */
/* Misuse the library detects: overlap, stale and busy workspaces            */
/* ------------------------------------------------------------------------ */

/* One array argument: rows x cols elements of elem bytes, rows ld apart
 * (a scalar output is 1 x 1).  p NULL: absent, never overlaps. */
typedef struct bptt__region {
    const char *name;
    const void *p;
    size_t rows, cols, ld, elem;
} bptt__region;

/* Whether a and b share a byte.  O(1): their address ranges first; two
 * arrays with rows equally far apart (or a single row within the other's
 * row pitch) are then tested exactly, so that column blocks interleaved in
 * one buffer do not overlap; any other pair whose ranges intersect does.
 * The extents have been checked (bptt__check_mat). */
BPTT_HIDDEN int bptt__overlaps(const bptt__region *a, const bptt__region *b);

/* Bytes from an array's first element to one past its last. */
static inline size_t bptt__extent(const bptt__region *r)
{
    return ((r->rows - 1) * r->ld + r->cols) * r->elem;
}

/* bptt__check_overlap's exact pass (check.c): every pair of out x (out,
 * in) through bptt__overlaps, the first that shares a byte refused. */
BPTT_HIDDEN bptt_status bptt__check_overlap_exact(const char *fn,
                                                  const bptt__region *out,
                                                  size_t nout,
                                                  const bptt__region *in,
                                                  size_t nin);

/* BPTT_EOVERLAP, naming both arrays, if an output of out[0..nout) overlaps
 * another output or an input of in[0..nin); BPTT_OK otherwise.  Inputs
 * may overlap each other (both are only read).  Inline, with the callers'
 * constant counts: the normal case (every pair's address ranges apart) is
 * a handful of multiplications and branch-free comparisons in registers;
 * only ranges that meet go to the exact pass. */
static inline bptt_status bptt__check_overlap(const char *fn,
                                              const bptt__region *out,
                                              size_t nout,
                                              const bptt__region *in,
                                              size_t nin)
{
    /* the present arrays' ranges, outputs first (no caller has more than
     * 16 arrays; more would only be tested exactly) */
    uintptr_t lo[16], hi[16];
    size_t po = 0, pn = 0;
    if (nout + nin > 16)
        return bptt__check_overlap_exact(fn, out, nout, in, nin);
    for (size_t k = 0; k < nout + nin; k++) {
        const bptt__region *r = k < nout ? &out[k] : &in[k - nout];
        if (r->p) {
            lo[pn] = (uintptr_t)r->p;
            hi[pn++] = (uintptr_t)r->p + bptt__extent(r);
        }
        if (k + 1 == nout)
            po = pn;
    }
    unsigned any = 0;
    for (size_t i = 0; i < po; i++)
        for (size_t j = i + 1; j < pn; j++)
            any |= (unsigned)(lo[i] < hi[j]) & (unsigned)(lo[j] < hi[i]);
    return any ? bptt__check_overlap_exact(fn, out, nout, in, nin) : BPTT_OK;
}

/* A process-wide unique, never-zero generation number for a new descriptor
 * (one atomic increment).  A workspace keeps its descriptor's; a freed
 * descriptor's address may be reused, its number never is. */
BPTT_HIDDEN uint64_t bptt__generation(void);

/* The busy flag of a workspace or state: one atomic exchange to enter,
 * one store to leave; no lock, no waiting.  A second call while the flag
 * is set (another thread, or a custom activation calling back into bptt)
 * gets BPTT_EBUSY at once and writes nothing. */
typedef atomic_int bptt__busy;

static inline bptt_status bptt__enter(const char *fn, const char *name,
                                      bptt__busy *flag);

static inline void bptt__leave(bptt__busy *flag)
{
    atomic_store_explicit(flag, 0, memory_order_release);
}

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

BPTT_HIDDEN bptt_status bptt__fail_busy(const char *fn, const char *name);

static inline bptt_status bptt__enter(const char *fn, const char *name,
                                      bptt__busy *flag)
{
    if (atomic_exchange_explicit(flag, 1, memory_order_acquire))
        return bptt__fail_busy(fn, name);
    return BPTT_OK;
}

/* Largest size or leading dimension the BLAS interface (32-bit int) takes. */
#define BPTT_INT_MAX ((size_t)INT_MAX)

#endif /* BPTT_INTERNAL_H */
